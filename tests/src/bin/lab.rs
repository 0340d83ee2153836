//! `lab`: the demonstration behind README's first command. It builds two host
//! namespaces joined only by causeway (the `patch` role over `net_af_packet` ports),
//! then pings, transfers 10 MB over TCP with a checksum check, shows causeway's
//! counters, and removes everything it made.

use std::process::ExitCode;
use tests::labs::{HOST_A, HOST_B, PatchLab};

const TRANSFER_BYTES: usize = 10 * 1024 * 1024;

fn main() -> ExitCode {
    if let Err(skip) = tests::require_root() {
        eprintln!("lab: {skip}");
        return ExitCode::FAILURE;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lab: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> tests::Result<()> {
    println!("lab: host A {HOST_A} <-> causeway (patch, net_af_packet) <-> host B {HOST_B}");
    let mut lab = PatchLab::start()?;
    println!(
        "lab: causeway pid {} in namespace {}, metrics at {}",
        lab.causeway().daemon().pid(),
        lab.gw.name(),
        lab.causeway().metrics_addr()
    );

    println!("\n== ping {HOST_A} -> {HOST_B} through causeway");
    print!("{}", lab.ping(5)?);

    println!("\n== 10 MB over TCP {HOST_A} -> {HOST_B}");
    let t = lab.transfer(TRANSFER_BYTES)?;
    println!(
        "sent     sha256 {}\nreceived sha256 {}\n{} bytes in {:.2} s ({:.1} Mbit/s): {}",
        t.sent_sha256,
        t.received_sha256,
        t.bytes,
        t.seconds,
        t.bytes as f64 * 8.0 / t.seconds / 1e6,
        if t.intact() { "intact" } else { "CORRUPTED" }
    );
    if !t.intact() {
        return Err(tests::Error("the transfer arrived corrupted".into()));
    }

    println!("\n== causeway /metrics (non-zero series)");
    let metrics = lab.causeway().metrics()?;
    for line in metrics.lines() {
        if line.starts_with("causeway_") && !line.ends_with(" 0") {
            println!("{line}");
        }
    }

    let status = lab.stop()?;
    println!("\nlab: causeway stopped on SIGTERM ({status}); removing namespaces");
    if !status.success() {
        return Err(tests::Error(format!("causeway exited with {status}")));
    }
    Ok(())
}
