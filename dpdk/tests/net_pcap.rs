//! EAL scenario: net_pcap golden test. Frames from a hand-written pcap are received,
//! forwarded through a TxBuffer and must come out byte for byte in the tx pcap.

mod common;

use std::time::Duration;

use dataplane::Packet;
use dpdk::{Burst, Eal, Mempool, Port, PortConfig, TxBuffer};

#[test]
fn net_pcap_forwards_byte_for_byte() {
    let scratch = common::Scratch::new("pcap");
    let input = scratch.path("in.pcap");
    let output = scratch.path("out.pcap");
    let sizes = [60usize, 64, 128, 333, 590, 1000, 1514, 61, 1280, 77];
    let frames: Vec<Vec<u8>> = (0..40)
        .map(|i| common::frame(i as u8, sizes[i % sizes.len()]))
        .collect();
    common::write_pcap(&input, &frames);
    assert_eq!(
        common::read_pcap(&input),
        frames,
        "pcap writer/reader round trip"
    );

    let eal = Eal::init(&scratch.eal_args(&[])).expect("EAL init");
    let pool = Mempool::pktmbuf("pcap_pool", 511, 32, 2176, -1).unwrap();
    let devargs = format!(
        "net_pcap0,rx_pcap={},tx_pcap={}",
        input.display(),
        output.display()
    );
    let id = Port::probe(&devargs).expect("probe net_pcap0");
    let mut port = Port::configure(id, &PortConfig::default(), &pool).expect("configure");
    assert_eq!(port.driver(), "net_pcap");
    port.start().unwrap();

    let mut rxq = port.rx_queue(0);
    let mut txb: TxBuffer = TxBuffer::new(port.tx_queue(0));
    let mut burst: Burst<8> = Burst::new();
    let mut received = Vec::new();
    assert!(common::poll_until(Duration::from_secs(5), || {
        rxq.rx(&mut burst);
        for m in burst.drain() {
            assert_eq!(m.input_port(), id);
            received.push(m.data().to_vec());
            let r = txb.push(m);
            assert_eq!(r.dropped, 0);
        }
        received.len() == frames.len()
    }));
    // Once the file is exhausted rx returns nothing more.
    assert_eq!(rxq.rx(&mut burst), 0);
    assert_eq!(received, frames);

    // Drain tx before stopping.
    let r = txb.flush(16);
    assert_eq!(r.dropped, 0);
    assert_eq!(txb.totals().sent, frames.len());
    let stats = port.stats().unwrap();
    assert_eq!(stats.rx_packets, frames.len() as u64);
    assert_eq!(stats.tx_packets, frames.len() as u64);
    let bytes: u64 = frames.iter().map(|f| f.len() as u64).sum();
    assert_eq!(stats.rx_bytes, bytes);
    assert_eq!(stats.tx_bytes, bytes);
    drop(txb);
    drop(rxq);
    drop(burst);
    port.close().expect("close flushes the tx pcap");
    assert_eq!(pool.in_use(), 0);

    let out = common::read_pcap(&output);
    assert_eq!(out.len(), frames.len());
    for (i, (got, want)) in out.iter().zip(&frames).enumerate() {
        assert_eq!(got, want, "frame {i}");
    }
    // SAFETY: every DPDK object of this test is gone and no lcore runs.
    unsafe { eal.cleanup() }.unwrap();
}
