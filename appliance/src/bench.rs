//! `causeway bench PIPELINE`: one pipeline on one worker lcore over DPDK virtual
//! devices, measured by the same worker loop the daemon runs.
//!
//! `patch`: frames come from `net_null0` and leave on `net_null1`. net_null hands out
//! mbufs from our pool without writing them, so the pool is pre-filled with a real
//! Ethernet/IPv4/UDP frame of the requested size: the ingress check parses real headers.
//! Hugepages are used when enough are free (and reported), else `--no-huge`.

use crate::config::{Config, PortConfig};
use crate::runtime::{Dataplane, RuntimeError};
use std::time::{Duration, Instant};

/// Arguments of `causeway bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Pipeline to measure.
    #[arg(value_enum)]
    pipeline: Pipeline,
    /// Frame size in bytes, Ethernet header to payload end, without FCS (60..=1514).
    #[arg(long, default_value_t = 64)]
    frame_bytes: u16,
    /// Measured seconds (after a half-second warm-up).
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    json: bool,
    /// Run without hugepages even when they are reserved.
    #[arg(long)]
    no_hugepages: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Pipeline {
    /// The diagnostic patch role: ingress check, then out of the patched port.
    Patch,
    /// The runtime's I/O floor: the same worker loop and ports as `patch`, no ingress
    /// check. The difference to `patch` is what the pipeline itself costs.
    Io,
    /// L2 gateway, physical to tunnel: 802.1Q-tagged frames of `--frame-bytes` to a
    /// spread of 100,000 remote MACs in 1,000 logical switches, out as VXLAN.
    L2Encap,
    /// L2 gateway, tunnel to physical: VXLAN carrying inner frames of `--frame-bytes`
    /// to a spread of 10,000 local MACs in 1,000 logical switches, out tagged.
    L2Decap,
}

impl Pipeline {
    fn name(self) -> &'static str {
        match self {
            Pipeline::Patch => "patch",
            Pipeline::Io => "io",
            Pipeline::L2Encap => "l2-encap",
            Pipeline::L2Decap => "l2-decap",
        }
    }
}

/// Logical switches in the L2 benchmarks.
const L2_SWITCHES: usize = 1000;
/// Remote MACs per switch (100,000 in all).
const L2_REMOTE_PER_SWITCH: usize = 100;
/// Learned local MACs per switch (10,000 in all) for `l2-decap`.
const L2_LOCAL_PER_SWITCH: usize = 10;
/// Remote tunnel endpoints the remote MACs spread over.
const L2_LOCATORS: usize = 250;
/// Distinct frames the generator stage rotates through.
const L2_VARIANTS: usize = 4096;
const L2_TUNNEL_IP: [u8; 4] = [192, 0, 2, 1];

fn remote_mac(k: usize) -> [u8; 6] {
    [0x02, 0x10, 0, (k >> 16) as u8, (k >> 8) as u8, k as u8]
}
fn local_mac(k: usize) -> [u8; 6] {
    [0x02, 0x20, 0, (k >> 16) as u8, (k >> 8) as u8, k as u8]
}
fn locator(k: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(10, 1, 0, (k % L2_LOCATORS) as u8 + 1)
}

/// The L2 benchmark's logical model: switch `ls<i>` has VNI 1000 + i, binding (phys,
/// VLAN i + 1), 100 remote MACs over 250 locators, all with static next hops.
fn l2_config(phys: usize, underlay: usize) -> crate::config::L2GatewayConfig {
    use crate::l2model::{L2Model, LogicalSwitch, Replication};
    let mut model = L2Model::default();
    let mut next_hops = std::collections::BTreeMap::new();
    for k in 0..L2_LOCATORS {
        next_hops.insert(locator(k), [0x02, 0x30, 0, 0, 0, k as u8]);
    }
    for i in 0..L2_SWITCHES {
        let name = format!("ls{i}");
        model.switches.insert(
            name.clone(),
            LogicalSwitch {
                vni: 1000 + i as u32,
                replication: Replication::SourceNode,
            },
        );
        model
            .bindings
            .insert(("phys".to_owned(), i as u16 + 1), name.clone());
        for j in 0..L2_REMOTE_PER_SWITCH {
            let k = i * L2_REMOTE_PER_SWITCH + j;
            model
                .remote_macs
                .insert((name.clone(), remote_mac(k)), locator(k));
        }
    }
    let _ = phys;
    crate::config::L2GatewayConfig {
        underlay_port: underlay,
        tunnel_ip: L2_TUNNEL_IP.into(),
        // Room for 1514-byte frames once encapsulated.
        mtu: 9000,
        vlan: None,
        next_hops,
        // Every locator has a static next hop: nothing to ARP for.
        next_hop: Default::default(),
        mac_ageing: Duration::from_secs(3600),
        limits: Default::default(),
        model,
        standalone: None,
        controller: None,
    }
}

/// A tagged Ethernet/IPv4/UDP frame of `len` bytes (VLAN 1; the generator sets it).
fn tagged_frame(len: usize) -> Vec<u8> {
    let mut f = udp_frame(len - 4);
    f.splice(12..12, [0x81, 0x00, 0x00, 0x01]);
    f
}

/// VXLAN over IPv4 to our tunnel IP carrying an untagged `inner_len`-byte frame.
fn vxlan_frame(inner_len: usize) -> Vec<u8> {
    let inner = udp_frame(inner_len);
    let mut f = vec![0x02, 0, 0, 0, 0, 0x99, 0x02, 0x30, 0, 0, 0, 1, 0x08, 0x00];
    let ip_len = (20 + 8 + 8 + inner.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 1, 0, 1];
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    ip.extend(L2_TUNNEL_IP);
    let sum = dataplane::wire::checksum::ipv4_header(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend(ip);
    f.extend(49152u16.to_be_bytes());
    f.extend(4789u16.to_be_bytes());
    f.extend((ip_len - 20).to_be_bytes());
    f.extend([0, 0]);
    f.extend([0x08, 0, 0, 0, 0, 0, 0, 0]);
    f.extend(inner);
    f
}

/// A spread of `L2_VARIANTS` indices over `n` (a multiplicative walk, no repeats
/// while n is coprime to the step).
fn spread(n: usize) -> impl Iterator<Item = usize> {
    (0..L2_VARIANTS).map(move |v| (v * 7919 + 13) % n)
}

/// net_null hands out the same few mbufs again and again, and the L2 pipelines rewrite
/// frames in place (tag pop and push move the Ethernet addresses). This stage, run on
/// each burst before the node, restores the bytes the pipeline changed from a rotating
/// set of `L2_VARIANTS` headers, which also spreads the destinations: encap rewrites
/// bytes 0..16 (addresses and tag), decap bytes 42..64 (VXLAN header and inner
/// addresses). It costs a 16- or 22-byte copy per packet, included in the figures.
fn l2_generator(pipeline: Pipeline) -> crate::runtime::PreStageFactory {
    let (at, variants): (usize, Vec<Vec<u8>>) = match pipeline {
        Pipeline::L2Encap => (
            0,
            spread(L2_SWITCHES * L2_REMOTE_PER_SWITCH)
                .map(|k| {
                    let i = k / L2_REMOTE_PER_SWITCH;
                    let mut h = remote_mac(k).to_vec();
                    h.extend(local_mac(i * L2_LOCAL_PER_SWITCH));
                    h.extend([0x81, 0x00]);
                    h.extend((i as u16 + 1).to_be_bytes());
                    h
                })
                .collect(),
        ),
        _ => (
            42,
            spread(L2_SWITCHES * L2_LOCAL_PER_SWITCH)
                .map(|k| {
                    let i = k / L2_LOCAL_PER_SWITCH;
                    let vni = (1000 + i as u32).to_be_bytes();
                    let mut h = vec![0x08, 0, 0, 0, vni[1], vni[2], vni[3], 0];
                    h.extend(local_mac(k));
                    h.extend(remote_mac(i * L2_REMOTE_PER_SWITCH));
                    h.extend([0x08, 0x00]);
                    h
                })
                .collect(),
        ),
    };
    let variants = std::sync::Arc::new(variants);
    Box::new(move || {
        let variants = variants.clone();
        let mut next = 0usize;
        Box::new(move |burst: &mut [dpdk::Mbuf]| {
            use dataplane::Packet;
            for m in burst {
                let h = &variants[next];
                next = (next + 1) % L2_VARIANTS;
                if let Some(dst) = m.data_mut().get_mut(at..at + h.len()) {
                    dst.copy_from_slice(h);
                }
            }
        })
    })
}

/// Free 2 MB hugepages according to /proc/meminfo.
fn free_hugepages() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("HugePages_Free:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Enough for the pool (16 k mbufs of ~2.3 kB) plus DPDK's own allocations.
const HUGEPAGES_NEEDED: u64 = 128;

/// An Ethernet/IPv4/UDP frame of `len` bytes with valid lengths and IPv4 checksum.
pub fn udp_frame(len: usize) -> Vec<u8> {
    let len = len.max(60);
    let mut f = vec![0u8; len];
    f[0..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02]);
    f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip_len = (len - 14) as u16;
    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&[198, 51, 100, 1]);
    ip[16..20].copy_from_slice(&[198, 51, 100, 2]);
    let mut sum: u32 = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    let udp = &mut f[34..42];
    udp[0..2].copy_from_slice(&1024u16.to_be_bytes());
    udp[2..4].copy_from_slice(&4789u16.to_be_bytes());
    udp[4..6].copy_from_slice(&(ip_len - 20).to_be_bytes());
    f
}

/// Writes `frame` at the data offset of every mbuf in the pool, so that net_null's
/// receive path hands out real frames.
fn prefill(pool: &dpdk::Mempool, frame: &[u8]) {
    let all: Vec<dpdk::Mbuf> = std::iter::from_fn(|| dpdk::Mbuf::from_slice(pool, frame)).collect();
    drop(all);
}

/// Runs the benchmark and prints its result.
pub fn run(args: &BenchArgs) -> Result<(), RuntimeError> {
    if !(60..=1514).contains(&args.frame_bytes) {
        return Err(RuntimeError::Setup(format!(
            "--frame-bytes {} is outside 60..=1514",
            args.frame_bytes
        )));
    }
    let hugepages = !args.no_hugepages && free_hugepages() >= HUGEPAGES_NEEDED;
    let prefix = format!("cw-bench-{}", std::process::id());
    let mut eal_args: Vec<String> = ["-l", "0-1", "--no-pci", "--no-shconf", "--file-prefix"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    eal_args.push(prefix.clone());
    eal_args.push("--no-telemetry".into());
    eal_args.push("--log-level=*:error".into());
    if hugepages {
        eal_args.push("--in-memory".into());
    } else {
        eal_args.extend(["--no-huge".to_owned(), "-m".to_owned(), "1024".to_owned()]);
    }
    let size = args.frame_bytes;
    let l2 = matches!(args.pipeline, Pipeline::L2Encap | Pipeline::L2Decap);
    let port = |name: &str, devargs: String| PortConfig {
        name: name.to_owned(),
        devargs,
        mtu: None,
        mac: None,
        promiscuous: false,
    };
    let config = Config {
        name: "bench".into(),
        failure_zone: None,
        eal_args,
        mbufs: 16 * 1024 - 1,
        mbuf_cache: 256,
        rx_descriptors: 1024,
        tx_descriptors: 1024,
        idle_sleep_us: 0,
        ports: match args.pipeline {
            Pipeline::Patch | Pipeline::Io => vec![
                port("in", format!("net_null0,size={size}")),
                port("out", format!("net_null1,size={size}")),
            ],
            Pipeline::L2Encap => vec![
                port("phys", format!("net_null0,size={size}")),
                port("underlay", "net_null1".to_owned()),
            ],
            Pipeline::L2Decap => vec![
                port("phys", "net_null0".to_owned()),
                port(
                    "underlay",
                    format!("net_null1,size={}", vxlan_frame(usize::from(size)).len()),
                ),
            ],
        },
        patch: if l2 { Vec::new() } else { vec![(0, 1)] },
        underlay: Vec::new(),
        metrics_listen: "127.0.0.1:0".parse().expect("literal address"),
        log_level: "warn".into(),
        l2_gateway: l2.then(|| l2_config(0, 1)),
    };

    let stop = dpdk::Stop::new();
    let mut dp = Dataplane::init(&config)?;
    if matches!(args.pipeline, Pipeline::Io) {
        dp.skip_ingress_check();
    }
    match args.pipeline {
        Pipeline::Patch | Pipeline::Io => prefill(dp.pool(), &udp_frame(usize::from(size))),
        Pipeline::L2Encap | Pipeline::L2Decap => {
            let decap = matches!(args.pipeline, Pipeline::L2Decap);
            let plane = dp.l2().expect("l2 configured").clone();
            {
                let mut plane = plane.lock().unwrap_or_else(|e| e.into_inner());
                for i in 0..L2_SWITCHES {
                    for j in 0..L2_LOCAL_PER_SWITCH {
                        plane.learn(crate::l2model::LocalMac {
                            switch: format!("ls{i}"),
                            mac: local_mac(i * L2_LOCAL_PER_SWITCH + j),
                            port: "phys".into(),
                            vlan: i as u16 + 1,
                        });
                    }
                }
                plane.publish()?;
            }
            // Read only the port the pipeline's traffic comes from.
            dp.set_rx_ports(vec![usize::from(decap)]);
            dp.set_pre_stage(l2_generator(args.pipeline));
            if decap {
                prefill(dp.pool(), &vxlan_frame(usize::from(size)));
            } else {
                prefill(dp.pool(), &tagged_frame(usize::from(size)));
            }
        }
    }
    let counters = dp.workers()[0].1.clone();
    dp.start(&stop)?;

    std::thread::sleep(Duration::from_millis(500));
    let before = counters.snapshot();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(args.seconds));
    let after = counters.snapshot();
    let elapsed = t0.elapsed().as_secs_f64();
    let used_hugepages = dp.has_hugepages();
    dp.shutdown(&stop);
    // --in-memory leaves nothing behind; --no-huge still creates the runtime dir.
    let _ = std::fs::remove_dir_all(format!("/var/run/dpdk/{prefix}"));

    let packets = after.tx_packets - before.tx_packets;
    let dropped: u64 = after.drops.iter().sum::<u64>() - before.drops.iter().sum::<u64>();
    let drops_by_reason: serde_json::Map<String, serde_json::Value> = dataplane::DropReason::ALL
        .iter()
        .map(|r| (r, after.drops_for(*r) - before.drops_for(*r)))
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| (r.label().to_owned(), n.into()))
        .collect();
    if packets == 0 {
        return Err(RuntimeError::Setup(format!(
            "no packet went through ({dropped} dropped); the pipeline is broken"
        )));
    }
    let mpps = packets as f64 / elapsed / 1e6;
    let ns_per_packet = elapsed * 1e9 / packets as f64;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "pipeline": args.pipeline.name(),
                "frame_bytes": size,
                "mpps": (mpps * 100.0).round() / 100.0,
                "ns_per_packet": (ns_per_packet * 100.0).round() / 100.0,
                "packets": packets,
                "dropped": dropped,
                "drops_by_reason": drops_by_reason,
                "seconds": (elapsed * 1000.0).round() / 1000.0,
                "hugepages": used_hugepages,
                "logical_switches": if l2 { L2_SWITCHES } else { 0 },
                "remote_macs": if l2 { L2_SWITCHES * L2_REMOTE_PER_SWITCH } else { 0 },
                "local_macs": if l2 { L2_SWITCHES * L2_LOCAL_PER_SWITCH } else { 0 },
            })
        );
    } else {
        println!(
            "{}: {size}-byte frames, {mpps:.2} Mpps, {ns_per_packet:.2} ns/packet on one lcore \
             ({packets} packets in {elapsed:.2} s, {dropped} dropped, {})",
            args.pipeline.name(),
            if used_hugepages {
                "hugepages"
            } else {
                "no hugepages"
            }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_frame_passes_the_ingress_check_at_every_size() {
        for len in [60, 64, 128, 512, 1514] {
            let f = udp_frame(len);
            assert_eq!(f.len(), len);
            let c = dataplane::ingress::classify(&f).expect("well-formed");
            assert_eq!(c.ethertype, 0x0800);
        }
    }

    #[test]
    fn the_l2_bench_frames_go_through_the_l2_pipeline() {
        use crate::roles::l2::L2Plane;
        use dataplane::node::Node;
        use dataplane::{HeapPacket, Packet, Verdict};
        let mut config = crate::config::parse(
            std::path::Path::new("t.yaml"),
            "identity: {name: t}\ndpdk: {eal_args: []}\n",
        )
        .unwrap();
        config.l2_gateway = Some(l2_config(0, 1));
        let mut plane = L2Plane::new(
            &config,
            &[("phys".into(), 0), ("underlay".into(), 1)],
            [2, 0, 0, 0, 0, 1],
            1,
        )
        .unwrap();
        for i in [0, 999] {
            for j in 0..L2_LOCAL_PER_SWITCH {
                plane.learn(crate::l2model::LocalMac {
                    switch: format!("ls{i}"),
                    mac: local_mac(i * L2_LOCAL_PER_SWITCH + j),
                    port: "phys".into(),
                    vlan: i as u16 + 1,
                });
            }
        }
        plane.publish().unwrap();
        let mut w = plane.worker(0);
        // Encap: a frame to remote MAC 99,950 (switch 999), tagged VLAN 1000.
        let mut f = tagged_frame(64);
        f[0..6].copy_from_slice(&remote_mac(99_950));
        f[6..12].copy_from_slice(&local_mac(9990));
        f[14..16].copy_from_slice(&1000u16.to_be_bytes());
        let mut p = vec![HeapPacket::from_frame(&f)];
        p[0].set_input_port(0);
        let mut v = [Verdict::Punt];
        w.node.process(&mut p, &mut v);
        assert_eq!(v[0], Verdict::Tx { port: 1 });
        assert_eq!(p[0].len(), 64 - 4 + 50);
        // Decap: VNI 1999 to local MAC 9995 -> phys, VLAN 1000.
        let mut f = vxlan_frame(64);
        f[46..49].copy_from_slice(&1999u32.to_be_bytes()[1..]);
        f[50..56].copy_from_slice(&local_mac(9995));
        let mut p = vec![HeapPacket::from_frame(&f)];
        p[0].set_input_port(1);
        w.node.process(&mut p, &mut v);
        assert_eq!(v[0], Verdict::Tx { port: 0 });
        assert_eq!(&p[0].data()[12..16], &[0x81, 0, 0x03, 0xe8]);
    }
}
