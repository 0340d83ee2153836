//! Lab (root): causeway as an L2 gateway in standalone mode between a physical host on
//! VLAN 100 (behind an Open vSwitch userspace VLAN switch, trunk into causeway's `phys`
//! port) and a "hypervisor" with a kernel VXLAN device (VNI 5000) on causeway's
//! `underlay` port. causeway answers ARP and ping for its tunnel IP; the host pings the
//! hypervisor's overlay address (its ARP goes by head-end replication); 20 MB of TCP
//! cross intact both ways; /metrics shows per-switch and per-binding counters and the
//! learned local MAC; SIGTERM stops it cleanly.
//!
//! The second lab has no static next hops: causeway ARPs for the on-subnet hypervisor
//! and for the underlay router in front of a second hypervisor, forwards to both, and
//! follows the first hypervisor's MAC change.

use std::sync::Mutex;
use std::time::Duration;
use tests::labs::{L2_HOST, L2_HV_OVERLAY, L2_HV2_OVERLAY, L2_TUNNEL_IP, L2gwArpLab, L2gwLab};

/// The labs take the machine's two CPUs; one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const TWENTY_MB: usize = 20 * 1024 * 1024;

fn ping(ns: &tests::Netns, ip: &str, count: u32) -> String {
    let count = count.to_string();
    let out = ns
        .run(&["ping", "-c", &count, "-i", "0.2", "-W", "2", ip])
        .unwrap_or_else(|e| panic!("ping {ip}: {e}"));
    assert!(
        out.contains(" 0% packet loss"),
        "ping {ip} lost packets:\n{out}"
    );
    out
}

#[test]
fn l2gw_lab_bridges_a_vlan_into_vxlan_with_a_kernel_hypervisor() {
    if let Err(skip) = tests::require_root() {
        eprintln!("{skip}");
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut lab = L2gwLab::start().unwrap();
    let c = lab.causeway();

    // The tunnel endpoint answers ARP and ping from the hypervisor's underlay.
    ping(&lab.hv, L2_TUNNEL_IP, 3);
    let neigh = lab.hv.run(&["ip", "neigh", "show", L2_TUNNEL_IP]).unwrap();
    assert!(
        neigh.contains("lladdr"),
        "ARP for the tunnel IP answered: {neigh}"
    );

    // Host -> hypervisor overlay: ARP by replication, then unicast over VXLAN.
    ping(lab.host().ns(), L2_HV_OVERLAY, 5);
    ping(&lab.hv, L2_HOST, 3);

    for (from, to, to_ip) in [
        (lab.host().ns(), &lab.hv, L2_HV_OVERLAY),
        (&lab.hv, lab.host().ns(), L2_HOST),
    ] {
        let t = lab.transfer(from, to, to_ip, TWENTY_MB).unwrap();
        assert!(
            t.intact(),
            "{to_ip}: sent {} received {}",
            t.sent_sha256,
            t.received_sha256
        );
        eprintln!("20 MB to {to_ip} in {:.2} s", t.seconds);
    }

    let min_frames = (TWENTY_MB / 1448) as f64;
    let m = |s: &str| {
        c.metric(s)
            .unwrap_or_else(|e| panic!("{e}\n{}", c.metrics().unwrap_or_default()))
    };
    let binding = "{port=\"phys\",vlan=\"100\",switch=\"web\"}";
    assert!(m(&format!("causeway_l2_binding_rx_packets_total{binding}")) >= min_frames);
    assert!(m(&format!("causeway_l2_binding_tx_packets_total{binding}")) >= min_frames);
    assert!(m("causeway_l2_switch_to_tunnel_packets_total{switch=\"web\"}") >= min_frames);
    assert!(m("causeway_l2_switch_from_tunnel_packets_total{switch=\"web\"}") >= min_frames);
    assert!(m("causeway_l2_switch_flooded_packets_total{switch=\"web\"}") >= 1.0);
    let host_mac = lab.host().iface().mac().unwrap();
    let learned = format!(
        "causeway_l2_local_mac{{switch=\"web\",mac=\"{host_mac}\",port=\"phys\",vlan=\"100\"}}"
    );
    assert_eq!(m(&learned), 1.0);
    assert_eq!(m("causeway_l2_learn_ring_drops_total"), 0.0);
    assert_eq!(
        m("causeway_drops_total{reason=\"underlay_mtu_exceeded\"}"),
        0.0
    );

    let status = lab.stop().unwrap();
    assert!(status.success(), "causeway exited with {status}");
}

#[test]
fn l2gw_lab_resolves_next_hops_by_arp_and_follows_a_mac_change() {
    if let Err(skip) = tests::require_root() {
        eprintln!("{skip}");
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Reachable for 2..4 s: refreshes (and so the MAC change) within the test's patience.
    let mut lab = L2gwArpLab::start(2).unwrap();
    let c = lab.causeway();
    let m = |s: &str| {
        c.metric(s)
            .unwrap_or_else(|e| panic!("{e}\n{}", c.metrics().unwrap_or_default()))
    };
    let entries = |state: &str| format!("causeway_l2_neighbor_entries{{state=\"{state}\"}}");

    // Both next hops (the hypervisor on the subnet, the router for the other one)
    // resolve by ARP; there is no static entry.
    c.wait_for_metric(&entries("incomplete"), Duration::from_secs(20), |v| {
        v == 0.0
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", c.metrics().unwrap_or_default()));
    assert_eq!(m(&entries("reachable")) + m(&entries("probing")), 2.0);
    assert_eq!(m(&entries("static")), 0.0);

    ping(lab.host().ns(), L2_HV_OVERLAY, 5);
    ping(lab.host().ns(), L2_HV2_OVERLAY, 5);
    ping(&lab.hv, L2_HOST, 3);
    ping(&lab.hv2, L2_HOST, 3);
    for (from, to, to_ip) in [
        (lab.host().ns(), &lab.hv, L2_HV_OVERLAY),
        (&lab.hv2, lab.host().ns(), L2_HOST),
        (lab.host().ns(), &lab.hv2, L2_HV2_OVERLAY),
    ] {
        let t = lab.transfer(from, to, to_ip, 5 * 1024 * 1024).unwrap();
        assert!(
            t.intact(),
            "{to_ip}: sent {} received {}",
            t.sent_sha256,
            t.received_sha256
        );
    }
    assert!(m("causeway_l2_arp_requests_sent_total") >= 2.0);
    assert!(m("causeway_l2_arp_replies_received_total") >= 2.0);
    assert_eq!(m("causeway_l2_arp_ring_drops_total"), 0.0);

    // The hypervisor's MAC changes without an announcement (arp_notify is off): the
    // next refresh finds it, frames follow.
    let before = m("causeway_l2_neighbor_mac_changes_total");
    lab.hv
        .run(&[
            "ip",
            "link",
            "set",
            "dev",
            "eth0",
            "address",
            "02:00:00:00:be:ef",
        ])
        .unwrap();
    c.wait_for_metric(
        "causeway_l2_neighbor_mac_changes_total",
        Duration::from_secs(20),
        |v| v > before,
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", c.metrics().unwrap_or_default()));
    ping(lab.host().ns(), L2_HV_OVERLAY, 5);
    let t = lab
        .transfer(lab.host().ns(), &lab.hv, L2_HV_OVERLAY, 1024 * 1024)
        .unwrap();
    assert!(t.intact(), "after the MAC change");
    // Resolved entries are refreshed (every 2..4 s here) and the refreshes answered.
    let replies = m("causeway_l2_arp_replies_received_total");
    c.wait_for_metric(
        "causeway_l2_arp_replies_received_total",
        Duration::from_secs(15),
        |v| v >= replies + 2.0,
    )
    .unwrap();
    assert_eq!(m(&entries("incomplete")), 0.0);
    let text = c.metrics().unwrap_or_default();
    for line in text
        .lines()
        .filter(|l| l.contains("_arp_") || l.contains("neighbor"))
    {
        eprintln!("{line}");
    }

    let status = lab.stop().unwrap();
    assert!(status.success(), "causeway exited with {status}");
}
