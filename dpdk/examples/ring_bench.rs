//! I/O floor on one lcore: alloc burst -> tx on net_ring -> rx -> free, no hugepages.
//! `cargo run -p dpdk --release --example ring_bench [seconds]`

use dpdk::{Burst, Eal, Mempool, Port, PortConfig, tsc};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let prefix = format!("cw-bench-{}", std::process::id());
    let args: Vec<String> = [
        "-l",
        "0",
        "--no-huge",
        "-m",
        "256",
        "--no-pci",
        "--no-shconf",
        "--no-telemetry",
        "--log-level=lib.eal:error",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--file-prefix={prefix}")])
    .collect();
    let eal = Eal::init(&args)?;
    let pool = Mempool::pktmbuf("bench", 4095, 256, 2176, -1)?;
    let mut port = Port::configure(Port::probe("net_ring0")?, &PortConfig::default(), &pool)?;
    port.start()?;
    let (mut rxq, mut txq) = (port.rx_queue(0), port.tx_queue(0));
    let mut burst: Burst = Burst::new();
    let mut packets = 0u64;
    let start = tsc::now();
    let end = start + seconds * tsc::hz();
    while tsc::now() < end {
        for _ in 0..1024 {
            burst.alloc(&pool, 32);
            txq.tx(&mut burst);
            packets += rxq.rx(&mut burst) as u64;
            burst.clear();
        }
    }
    let secs = (tsc::now() - start) as f64 / tsc::hz() as f64;
    println!(
        "{:.1} Mpps, {:.2} ns/packet (alloc+tx+rx+free, burst 32, {})",
        packets as f64 / secs / 1e6,
        secs * 1e9 / packets as f64,
        if eal.has_hugepages() {
            "hugepages"
        } else {
            "no hugepages"
        }
    );
    drop((rxq, txq));
    port.close()?;
    let _ = std::fs::remove_dir_all(format!("/var/run/dpdk/{prefix}"));
    Ok(())
}
