//! EAL scenario: net_ring loopback on lcores 0-1 without hugepages.
//! Alloc, prepend/adj, tx, rx back (main lcore and a worker lcore), exact port stats.

mod common;

use std::time::Duration;

use dataplane::Packet;
use dpdk::{Burst, Eal, Error, Mbuf, Mempool, Port, PortConfig, TxBuffer, lcore, tsc};

/// Builds mbuf `i`: a 64-byte payload, then 4 bytes prepended and 2 removed again, so
/// the frame is `[0xA0 | i, 0xA0 | i] ++ frame(i, 64)`.
fn build(pool: &Mempool, i: u8) -> Mbuf {
    let mut m = Mbuf::alloc(pool).expect("pool has room");
    assert_eq!(m.len(), 0);
    let headroom = m.headroom();
    assert_eq!(headroom, 128, "RTE_PKTMBUF_HEADROOM");
    m.append(64).unwrap().copy_from_slice(&common::frame(i, 64));
    m.prepend(4).unwrap().copy_from_slice(&[0xA0 | i; 4]);
    assert_eq!(m.headroom(), headroom - 4);
    m.adj(2).unwrap();
    assert_eq!(m.headroom(), headroom - 2);
    assert_eq!(m.len(), 66);
    assert_eq!(m.pkt_len(), 66);
    m
}

fn expected(i: u8) -> Vec<u8> {
    let mut e = vec![0xA0 | i; 2];
    e.extend_from_slice(&common::frame(i, 64));
    e
}

#[test]
fn net_ring_loopback() {
    let scratch = common::Scratch::new("ring");
    let args = scratch.eal_args(&[]);

    let eal = Eal::init(&args).expect("EAL init");
    assert_eq!(Eal::init(&args).unwrap_err(), Error::AlreadyInitialized);
    assert!(!eal.has_hugepages());
    assert_eq!(eal.main_lcore(), 0);
    assert_eq!(eal.worker_lcores(), vec![1]);
    assert_eq!(lcore::current(), 0);
    assert!(
        dpdk::version().starts_with("DPDK 22.11"),
        "{}",
        dpdk::version()
    );
    assert!(tsc::hz() > 0);

    let pool = Mempool::pktmbuf("ring_pool", 1023, 32, 2176, -1).unwrap();
    assert_eq!(pool.capacity(), 1023);
    assert_eq!(pool.data_room(), 2176);

    let id = Port::probe("net_ring0").expect("probe net_ring0");
    assert_eq!(
        Port::probe("net_ring0").unwrap(),
        id,
        "an existing port is reused"
    );
    let cfg = PortConfig {
        mtu: Some(1500),
        ..PortConfig::default()
    };
    let mut port = Port::configure(id, &cfg, &pool).expect("configure");
    assert_eq!(port.name(), "net_ring0");
    assert_eq!(port.driver(), "net_ring");
    port.start().unwrap();
    assert!(port.link().up);
    let monitor = port.monitor();
    let before = port.stats().unwrap();

    let mut rxq = port.rx_queue(0);
    let mut txq = port.tx_queue(0);

    // Main lcore: 8 frames out and back.
    let mut burst: Burst = Burst::new();
    for i in 0..8 {
        burst.push(build(&pool, i)).unwrap();
    }
    assert_eq!(pool.in_use(), 8);
    assert_eq!(txq.tx(&mut burst), 8);
    assert!(burst.is_empty());
    let mut got: Burst<16> = Burst::new();
    assert!(common::poll_until(Duration::from_secs(2), || {
        rxq.rx(&mut got);
        got.len() == 8
    }));
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m.data(), expected(i as u8).as_slice(), "frame {i}");
        assert_eq!(m.input_port(), id);
        assert_eq!(m.rss_hash(), None);
    }
    // Rx appends up to the free capacity only.
    for i in 0..8 {
        assert!(txq.tx_one(build(&pool, 100 + i)).is_ok());
    }
    got.clear();
    got.alloc(&pool, 12);
    assert_eq!(rxq.rx(&mut got), 4);
    assert!(got.is_full());
    assert_eq!(got[12].data(), expected(100).as_slice());
    got.clear();
    assert_eq!(rxq.rx(&mut got), 4);
    let drained: Vec<Vec<u8>> = got.drain().map(|m| m.data().to_vec()).collect();
    assert_eq!(drained[3], expected(107));
    assert!(got.is_empty());
    assert_eq!(pool.in_use(), 0, "every mbuf went back to the pool");

    // Worker lcore: 5 frames through a TxBuffer, received on lcore 1.
    let mut txb: TxBuffer<4> = TxBuffer::new(txq);
    let mut pushed = dpdk::FlushResult::default();
    for i in 0..5 {
        pushed += txb.push(build(&pool, 20 + i));
    }
    assert_eq!(pushed.sent, 4, "a full TxBuffer sends by itself");
    let r = txb.flush(3);
    assert_eq!((r.sent, r.dropped), (1, 0));
    assert_eq!(txb.totals().sent, 5);
    let txq = txb.into_queue();

    lcore::launch(1, move || {
        assert_eq!(lcore::current(), 1);
        let mut b: Burst = Burst::new();
        let start = tsc::now();
        while b.len() < 5 && tsc::now() - start < 2 * tsc::hz() {
            rxq.rx(&mut b);
        }
        for (i, m) in b.iter().enumerate() {
            if m.data() != expected(20 + i as u8).as_slice() || m.input_port() != id {
                return -100 - i as i32;
            }
        }
        b.len() as i32
    })
    .unwrap();
    assert_eq!(lcore::wait(1), 5);

    // A second launch after the first finished works; a panic is contained (and kept
    // out of the test output).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"expected worker panic") {
            default_hook(info);
        }
    }));
    lcore::launch(1, || panic!("expected worker panic")).unwrap();
    assert_eq!(lcore::wait(1), lcore::PANICKED);
    // Launching from a non-main thread is refused.
    let err = std::thread::spawn(|| lcore::launch(1, || 0))
        .join()
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("main lcore"), "{err}");
    lcore::reset_thread_affinity().unwrap();
    lcore::wait_all();

    let after = monitor.stats().unwrap();
    assert_eq!(after.tx_packets - before.tx_packets, 8 + 8 + 5);
    assert_eq!(after.rx_packets - before.rx_packets, 8 + 8 + 5);
    assert_eq!(after.tx_errors, before.tx_errors);
    assert_eq!(pool.in_use(), 0);

    assert!(
        matches!(port.stop(), Err(Error::PortBusy { .. })),
        "txq still alive"
    );
    drop(txq);
    port.stop().unwrap();
    port.close().unwrap();
    assert!(monitor.stats().is_err(), "closed port");
    // SAFETY: every DPDK object of this test is gone and no lcore runs.
    unsafe { eal.cleanup() }.unwrap();
}
