//! `lab`: the demonstration behind README's first command.
//!
//! - `lab patch`: two host namespaces joined only by causeway (the `patch` role over
//!   `net_af_packet` ports): ping, 10 MB over TCP with a checksum check, counters.
//! - `lab l2gw`: causeway as a standalone L2 gateway between a physical host on VLAN
//!   100 (behind an Open vSwitch VLAN switch) and two kernel VXLAN hypervisors, one
//!   on the underlay subnet and one behind a router, every next hop found by ARP:
//!   pings and 10 MB TCP transfers both ways, the L2 counters and the learned MACs.
//! - `lab` alone runs both in turn.
//!
//! Every check prints one line; the exit status is non-zero when any check failed.
//! Everything the lab creates (namespaces, links, daemons, files) is removed at the
//! end of each scenario.

use std::process::ExitCode;
use std::time::{Duration, Instant};
use tests::Netns;
use tests::labs::{
    HOST_A, HOST_B, L2_HOST, L2_HV_OVERLAY, L2_HV_UNDERLAY, L2_HV2_OVERLAY, L2_HV2_UNDERLAY,
    L2_TUNNEL_IP, L2_UNDERLAY_GATEWAY, L2_VNI, L2gwArpLab, PatchLab, Transfer,
};

const TRANSFER_BYTES: usize = 10 * 1024 * 1024;
const PINGS: u32 = 5;
/// How long causeway keeps an ARP answer before refreshing it (Linux's default too).
const ARP_REACHABLE_S: u32 = 30;

const USAGE: &str = "usage: lab [patch | l2gw]\n\
    \x20 patch  causeway in the patch role between two hosts\n\
    \x20 l2gw   causeway as an L2 gateway: VLAN 100 <-> VXLAN 5000, next hops by ARP\n\
    \x20 (none) both, patch first";

#[derive(Clone, Copy)]
enum Scenario {
    Patch,
    L2gw,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Patch => "patch",
            Scenario::L2gw => "l2gw",
        }
    }

    fn run(self, checks: &mut Checks) -> tests::Result<()> {
        match self {
            Scenario::Patch => patch(checks),
            Scenario::L2gw => l2gw(checks),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenarios = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["all"] => vec![Scenario::Patch, Scenario::L2gw],
        ["patch"] => vec![Scenario::Patch],
        ["l2gw"] => vec![Scenario::L2gw],
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(skip) = tests::require_root() {
        eprintln!("lab: {skip}");
        return ExitCode::FAILURE;
    }

    let mut results = Vec::new();
    for scenario in scenarios {
        println!("\n######## lab {} ########", scenario.name());
        let mut checks = Checks::default();
        if let Err(e) = scenario.run(&mut checks) {
            checks.check(false, format!("scenario aborted: {e}"));
        }
        // The scenario's lab is dropped by now: nothing it made may be left.
        heading("cleanup");
        let left = our_namespaces();
        checks.check(
            left.is_empty(),
            if left.is_empty() {
                "causeway stopped, namespaces, links and files removed".to_owned()
            } else {
                format!("namespaces left behind: {}", left.join(" "))
            },
        );
        results.push((scenario, checks));
    }

    println!("\n######## summary ########");
    let mut failed = 0;
    for (scenario, checks) in &results {
        if checks.failed.is_empty() {
            println!("  {:<6} ok ({} checks)", scenario.name(), checks.passed);
        } else {
            failed += checks.failed.len();
            println!(
                "  {:<6} FAILED ({} of {} checks)",
                scenario.name(),
                checks.failed.len(),
                checks.passed + checks.failed.len()
            );
            for f in &checks.failed {
                println!("           - {f}");
            }
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        println!("  (CAUSEWAY_KEEP_LAB=1 keeps the logs under /tmp/causeway-lab-*)");
        ExitCode::FAILURE
    }
}

/// Check results of one scenario; each check prints one line.
#[derive(Default)]
struct Checks {
    passed: usize,
    failed: Vec<String>,
}

impl Checks {
    fn check(&mut self, ok: bool, what: impl Into<String>) -> bool {
        let what = what.into();
        if ok {
            println!("  ok    {what}");
            self.passed += 1;
        } else {
            println!("  FAIL  {what}");
            self.failed.push(what);
        }
        ok
    }

    /// `count` pings from `ns`; `label` names both ends.
    fn ping(&mut self, ns: &Netns, ip: &str, count: u32, label: &str) {
        let p = Ping::run(ns, ip, count);
        let avg = p
            .avg_ms
            .map(|ms| format!(", avg {ms:.2} ms"))
            .unwrap_or_default();
        let ok = p.received == p.transmitted && p.transmitted == count;
        if !self.check(
            ok,
            format!("ping {label}: {}/{}{avg}", p.received, p.transmitted),
        ) {
            indent(&p.output);
        }
    }

    /// One TCP transfer's outcome.
    fn transfer(&mut self, label: &str, t: tests::Result<Transfer>) {
        match t {
            Ok(t) => {
                let mb = t.bytes as f64 / (1024.0 * 1024.0);
                let rate = t.bytes as f64 * 8.0 / t.seconds / 1e6;
                let sums = if t.intact() {
                    format!("sha256 ok ({}…)", &t.sent_sha256[..16])
                } else {
                    format!(
                        "sha256 MISMATCH: sent {} received {}",
                        t.sent_sha256, t.received_sha256
                    )
                };
                self.check(
                    t.intact(),
                    format!(
                        "{mb:.0} MB {label} in {:.2} s ({rate:.0} Mbit/s), {sums}",
                        t.seconds
                    ),
                );
            }
            Err(e) => {
                self.check(false, format!("TCP {label}: {e}"));
            }
        }
    }
}

/// What `ping -c` reported.
struct Ping {
    transmitted: u32,
    received: u32,
    avg_ms: Option<f64>,
    output: String,
}

impl Ping {
    fn run(ns: &Netns, ip: &str, count: u32) -> Ping {
        let count = count.to_string();
        let out = ns.exec(&["ping", "-n", "-c", &count, "-i", "0.2", "-W", "2", ip]);
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let summary = output
            .lines()
            .find(|l| l.contains("packets transmitted"))
            .unwrap_or("");
        let num = |after: &str| -> u32 {
            summary
                .find(after)
                .and_then(|i| summary[..i].split_whitespace().last()?.parse().ok())
                .unwrap_or(0)
        };
        // rtt min/avg/max/mdev = 0.061/0.089/0.124/0.021 ms
        let avg_ms = output
            .lines()
            .find(|l| l.starts_with("rtt") || l.starts_with("round-trip"))
            .and_then(|l| l.split('=').nth(1)?.trim().split('/').nth(1)?.parse().ok());
        Ping {
            transmitted: num(" packets transmitted"),
            received: num(" received"),
            avg_ms,
            output,
        }
    }
}

fn heading(title: &str) {
    println!("\n== {title}");
}

fn indent(text: &str) {
    for line in text.lines() {
        println!("        {line}");
    }
}

/// Lab namespaces (`cw-<tag>-<pid36>-<n36>`) created by this process that still exist.
fn our_namespaces() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| {
            let parts: Vec<&str> = name.split('-').collect();
            matches!(parts[..], ["cw", _, pid36, _]
                if u32::from_str_radix(pid36, 36) == Ok(std::process::id()))
        })
        .map(str::to_owned)
        .collect()
}

/// `/sys/class/net/IFACE/address` inside `ns`.
fn mac_of(ns: &Netns, iface: &str) -> String {
    ns.run(&["cat", &format!("/sys/class/net/{iface}/address")])
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|e| format!("? ({e})"))
}

/// The value of `key="..."` in a series' label set.
fn label<'a>(series: &'a str, key: &str) -> Option<&'a str> {
    let start = series.find(&format!("{key}=\""))? + key.len() + 2;
    let len = series[start..].find('"')?;
    Some(&series[start..start + len])
}

/// `key=value` in a log line (tracing's fmt layout).
fn log_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

/// Series lines (no `#` comments) of `text` whose name starts with `prefix`.
fn series<'a>(text: &'a str, prefix: &'a str) -> impl Iterator<Item = (&'a str, f64)> + 'a {
    text.lines()
        .filter(move |l| l.starts_with(prefix))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name, value.parse().ok()?))
        })
}

/// Per-port counters as a table, drops by reason (non-zero only).
fn print_ports_and_drops(metrics: &str) {
    heading("ports (causeway_port_*)");
    let mut ports: Vec<&str> = Vec::new();
    for (name, _) in series(metrics, "causeway_port_rx_packets_total") {
        if let Some(p) = label(name, "port")
            && !ports.contains(&p)
        {
            ports.push(p);
        }
    }
    let counter = |what: &str, port: &str| -> String {
        let want = format!("causeway_port_{what}{{port=\"{port}\"}}");
        series(metrics, &want)
            .find(|(n, _)| *n == want)
            .map(|(_, v)| format!("{v:.0}"))
            .unwrap_or_else(|| "-".to_owned())
    };
    println!(
        "  {:<10} {:>10} {:>13} {:>10} {:>13} {:>7} {:>7} {:>7}",
        "port", "rx pkts", "rx bytes", "tx pkts", "tx bytes", "rx err", "missed", "tx err"
    );
    for p in ports {
        println!(
            "  {:<10} {:>10} {:>13} {:>10} {:>13} {:>7} {:>7} {:>7}",
            p,
            counter("rx_packets_total", p),
            counter("rx_bytes_total", p),
            counter("tx_packets_total", p),
            counter("tx_bytes_total", p),
            counter("rx_errors_total", p),
            counter("rx_missed_total", p),
            counter("tx_errors_total", p),
        );
    }

    heading("drops by reason (causeway_drops_total, non-zero)");
    let drops: Vec<_> = series(metrics, "causeway_drops_total")
        .filter(|(_, v)| *v != 0.0)
        .collect();
    if drops.is_empty() {
        println!("  none");
    }
    for (name, v) in drops {
        let reason = label(name, "reason").unwrap_or(name);
        let why = DROP_REASONS
            .iter()
            .find(|(r, _)| *r == reason)
            .map_or("", |(_, why)| why);
        println!("  {reason:<22} {v:>8}  {why}");
    }
}

/// What the drop reasons an L2 lab shows mean (from `dataplane::drop`).
const DROP_REASONS: &[(&str, &str)] = &[
    ("no_egress", "no output configured for the input port"),
    ("no_binding", "no VLAN binding for this port and VLAN"),
    ("unknown_vni", "VXLAN packet for an unknown VNI"),
    (
        "underlay_mtu_exceeded",
        "frame exceeds the underlay MTU once encapsulated",
    ),
    ("invalid_source_mac", "source MAC is multicast or zero"),
    ("same_binding", "destination is on the input binding"),
    ("empty_flood_set", "nothing to flood to"),
    ("next_hop_unresolved", "underlay next hop not resolved"),
    (
        "not_for_us",
        "underlay packet not addressed to the tunnel endpoint",
    ),
    ("tx_queue_full", "transmit queue full"),
];

fn patch(checks: &mut Checks) -> tests::Result<()> {
    println!(
        "\n  [ns A] {HOST_A}/24 ──veth── left [ns gw: causeway, patch role] right ──veth── {HOST_B}/24 [ns B]\n\
         \n  causeway owns `left` and `right` through DPDK (net_af_packet) and forwards every\n  \
         well-formed frame from one to the other unchanged: it is A's and B's only link."
    );
    let started = Instant::now();
    let mut lab = PatchLab::start()?;
    println!(
        "\n  causeway pid {} in {} up in {:.1} s, /metrics at {}",
        lab.causeway().daemon().pid(),
        lab.gw.name(),
        started.elapsed().as_secs_f64(),
        lab.causeway().metrics_addr()
    );

    heading("traffic through causeway");
    checks.ping(&lab.a, HOST_B, PINGS, &format!("A {HOST_A} -> B {HOST_B}"));
    checks.ping(&lab.b, HOST_A, PINGS, &format!("B {HOST_B} -> A {HOST_A}"));
    checks.transfer("A -> B", lab.transfer(TRANSFER_BYTES));
    checks.transfer(
        "B -> A",
        tests::labs::transfer(&lab.dir, &lab.b, &lab.a, HOST_A, TRANSFER_BYTES),
    );

    let metrics = lab.causeway().metrics()?;
    print_ports_and_drops(&metrics);

    heading("stop");
    let status = lab.stop()?;
    checks.check(
        status.success(),
        format!("causeway stopped on SIGTERM ({status})"),
    );
    Ok(())
}

fn l2gw(checks: &mut Checks) -> tests::Result<()> {
    println!(
        r#"
  physical side (VLAN 100)                         underlay 192.0.2.0/24 (Linux bridge)
  [ns ph] host {L2_HOST}/24                        ┌─ [ns hv1] eth0 {L2_HV_UNDERLAY}
     │ access VLAN 100                             │     vx0 VXLAN {L2_VNI}: vm1 {L2_HV_OVERLAY}/24
  [ns tor] Open vSwitch (userspace)                │
     │ 802.1Q trunk                                ├─ [ns rt] router eth0 {L2_UNDERLAY_GATEWAY}
  [ns gw] causeway  phys ══ L2 gateway ══ underlay ┤        eth1 198.51.100.1
                    tunnel_ip {L2_TUNNEL_IP}/24         │          └─ [ns hv2] eth0 {L2_HV2_UNDERLAY}
                                                   │              vx0 VXLAN {L2_VNI}: vm2 {L2_HV2_OVERLAY}/24

  causeway (standalone: logical switch `web` from a YAML file) binds (phys, VLAN 100)
  to VNI {L2_VNI}: frames from the host leave as VXLAN to the hypervisor that owns the
  destination MAC (BUM: head-end replication to both), VXLAN from the hypervisors
  leaves tagged VLAN 100. No next hop is configured: causeway ARPs for hv1 (on its
  subnet) and for the router {L2_UNDERLAY_GATEWAY} (its gateway, in front of hv2)."#
    );
    let started = Instant::now();
    let mut lab = L2gwArpLab::start(ARP_REACHABLE_S)?;
    println!(
        "\n  causeway pid {} in {} up in {:.1} s, /metrics at {}",
        lab.causeway().daemon().pid(),
        lab.gw.name(),
        started.elapsed().as_secs_f64(),
        lab.causeway().metrics_addr()
    );

    heading("underlay next hops, resolved by ARP");
    let c = lab.causeway();
    let t0 = Instant::now();
    let settled = c.wait_for_metric(
        "causeway_l2_neighbor_entries{state=\"incomplete\"}",
        Duration::from_secs(20),
        |v| v == 0.0,
    );
    let waited = t0.elapsed().as_secs_f64();
    let log = c.daemon().stderr();
    let resolved: Vec<(String, String)> = log
        .lines()
        .filter(|l| l.contains("underlay next hop resolved"))
        .filter_map(|l| {
            Some((
                log_field(l, "next_hop")?.into(),
                log_field(l, "mac")?.into(),
            ))
        })
        .collect();
    for (ip, who, ns) in [
        (L2_HV_UNDERLAY, "hv1, on the subnet", &lab.hv),
        (L2_UNDERLAY_GATEWAY, "router, the way to hv2", &lab.rt),
    ] {
        let real = mac_of(ns, "eth0");
        let got = resolved
            .iter()
            .find(|(i, _)| i == ip)
            .map(|(_, m)| m.as_str());
        checks.check(
            got == Some(real.as_str()),
            match got {
                Some(m) => format!(
                    "ARP {ip} ({who}) -> {m}{}",
                    if m == real {
                        String::new()
                    } else {
                        format!(", but its eth0 is {real}")
                    }
                ),
                None => format!("ARP {ip} ({who}): not resolved"),
            },
        );
    }
    checks.check(
        settled.is_ok(),
        match &settled {
            Ok(_) => format!("no next hop left unresolved after {waited:.1} s"),
            Err(e) => format!("next hops unresolved: {e}"),
        },
    );

    heading("ping");
    let host = lab.host().ns();
    checks.ping(
        &lab.hv,
        L2_TUNNEL_IP,
        3,
        &format!("hv1 {L2_HV_UNDERLAY} -> causeway tunnel IP {L2_TUNNEL_IP}"),
    );
    checks.ping(
        host,
        L2_HV_OVERLAY,
        PINGS,
        &format!("host {L2_HOST} -> vm1 {L2_HV_OVERLAY}"),
    );
    checks.ping(
        &lab.hv,
        L2_HOST,
        PINGS,
        &format!("vm1 {L2_HV_OVERLAY} -> host {L2_HOST}"),
    );
    checks.ping(
        host,
        L2_HV2_OVERLAY,
        PINGS,
        &format!("host {L2_HOST} -> vm2 {L2_HV2_OVERLAY} (via router)"),
    );
    checks.ping(
        &lab.hv2,
        L2_HOST,
        PINGS,
        &format!("vm2 {L2_HV2_OVERLAY} -> host {L2_HOST} (via router)"),
    );

    heading("TCP, checked by SHA-256");
    for (from, to, to_ip, what) in [
        (host, &lab.hv, L2_HV_OVERLAY, "host -> vm1"),
        (&lab.hv, host, L2_HOST, "vm1 -> host"),
        (host, &lab.hv2, L2_HV2_OVERLAY, "host -> vm2"),
        (&lab.hv2, host, L2_HOST, "vm2 -> host"),
    ] {
        checks.transfer(what, lab.transfer(from, to, to_ip, TRANSFER_BYTES));
    }

    let metrics = c.metrics()?;
    heading("learned MACs (causeway_l2_local_mac: Ucast_Macs_Local)");
    let host_mac = lab.host().iface().mac()?;
    let mut host_learned = false;
    for (name, _) in series(&metrics, "causeway_l2_local_mac{") {
        let mac = label(name, "mac").unwrap_or("?");
        let whose = if mac == host_mac {
            host_learned = true;
            format!("  = host {L2_HOST}")
        } else {
            String::new()
        };
        println!(
            "  {mac}  switch {} port {} VLAN {}{whose}",
            label(name, "switch").unwrap_or("?"),
            label(name, "port").unwrap_or("?"),
            label(name, "vlan").unwrap_or("?"),
        );
    }
    checks.check(
        host_learned,
        format!("host MAC {host_mac} learned on (phys, VLAN 100)"),
    );

    heading("L2 gateway counters (causeway_l2_*, non-zero)");
    for (name, v) in series(&metrics, "causeway_l2_")
        .filter(|(n, v)| *v != 0.0 && !n.starts_with("causeway_l2_local_mac{"))
    {
        println!("  {name:<80} {v}");
    }
    for ring in [
        "causeway_l2_learn_ring_drops_total",
        "causeway_l2_arp_ring_drops_total",
    ] {
        let v = tests::causeway::metric_value(&metrics, ring);
        checks.check(v == Some(0.0), format!("{ring} = {}", show(v)));
    }
    print_ports_and_drops(&metrics);

    heading("stop");
    let status = lab.stop()?;
    checks.check(
        status.success(),
        format!("causeway stopped on SIGTERM ({status})"),
    );
    Ok(())
}

fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "missing".to_owned(), |v| v.to_string())
}
