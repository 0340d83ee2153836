//! EAL scenario: `--in-memory` on 2 MB hugepages (no hugetlbfs mount needed), run only
//! when /proc/meminfo shows enough free hugepages; skipped with a note otherwise.
//! (`--in-memory` is rejected together with `--no-huge` in DPDK 22.11.)

mod common;

use std::time::Duration;

use dataplane::Packet;
use dpdk::{Burst, Eal, Mbuf, Mempool, Port, PortConfig};

const NEEDED_PAGES: u64 = 64; // -m 128

fn free_2mb_hugepages() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let field = |name: &str| {
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
    };
    match (field("Hugepagesize:"), field("HugePages_Free:")) {
        (Some(2048), Some(free)) => free,
        _ => 0,
    }
}

#[test]
fn in_memory_on_hugepages() {
    let free = free_2mb_hugepages();
    if free < NEEDED_PAGES {
        println!(
            "SKIPPED in_memory_on_hugepages: {free} free 2 MB hugepages, {NEEDED_PAGES} needed \
             (echo 256 > /proc/sys/vm/nr_hugepages to run it)"
        );
        return;
    }
    let scratch = common::Scratch::new("huge");
    let args: Vec<String> = [
        "-l",
        "0-1",
        "--in-memory",
        "-m",
        "128",
        "--no-pci",
        "--no-telemetry",
        "--log-level=lib.eal:error",
        "--vdev=net_ring0",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--file-prefix={}", scratch.prefix)])
    .collect();
    let eal = Eal::init(&args).expect("EAL init on hugepages");
    assert!(eal.has_hugepages());

    let pool = Mempool::pktmbuf("huge_pool", 1023, 32, 2176, -1).unwrap();
    let id = Port::probe("net_ring0").unwrap();
    let mut port = Port::configure(id, &PortConfig::default(), &pool).unwrap();
    port.start().unwrap();
    let mut rxq = port.rx_queue(0);
    let mut txq = port.tx_queue(0);
    let mut burst: Burst = Burst::new();
    for i in 0..32u8 {
        burst
            .push(Mbuf::from_slice(&pool, &common::frame(i, 60 + usize::from(i))).unwrap())
            .unwrap();
    }
    assert_eq!(txq.tx(&mut burst), 32);
    assert!(common::poll_until(Duration::from_secs(2), || {
        rxq.rx(&mut burst);
        burst.is_full()
    }));
    for (i, m) in burst.iter().enumerate() {
        assert_eq!(m.data(), common::frame(i as u8, 60 + i).as_slice());
    }
    burst.clear();
    assert_eq!(port.stats().unwrap().rx_packets, 32);
    drop((rxq, txq));
    port.close().unwrap();
    // SAFETY: every DPDK object of this test is gone and no lcore runs.
    unsafe { eal.cleanup() }.unwrap();
}
