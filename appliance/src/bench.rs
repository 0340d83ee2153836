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
}

impl Pipeline {
    fn name(self) -> &'static str {
        match self {
            Pipeline::Patch => "patch",
            Pipeline::Io => "io",
        }
    }
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
        },
        patch: vec![(0, 1)],
        underlay: Vec::new(),
        metrics_listen: "127.0.0.1:0".parse().expect("literal address"),
        log_level: "warn".into(),
    };

    let stop = dpdk::Stop::new();
    let mut dp = Dataplane::init(&config)?;
    if matches!(args.pipeline, Pipeline::Io) {
        dp.skip_ingress_check();
    }
    prefill(dp.pool(), &udp_frame(usize::from(size)));
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
}
