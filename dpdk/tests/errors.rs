//! EAL scenario: error paths. Calls before init, bad devargs, too many queues, queue
//! handle rules, a duplicate pool.

mod common;

use dpdk::{Direction, Eal, Error, Mempool, Port, PortConfig};

#[test]
fn error_paths_are_reported_clearly() {
    let scratch = common::Scratch::new("errors");

    // Before EAL init.
    assert_eq!(
        Mempool::pktmbuf("early", 63, 0, 2176, -1).unwrap_err(),
        Error::NotInitialized
    );
    assert_eq!(Port::probe("net_ring0").unwrap_err(), Error::NotInitialized);
    assert_eq!(dpdk::lcore::wait(1), -libc_einval());

    // Bad EAL arguments are rejected before EAL sees them (NUL byte) ...
    let bad = vec!["-l\0".to_string()];
    assert!(matches!(
        Eal::init(&bad),
        Err(Error::InvalidArgument { .. })
    ));
    // ... and do not use up the one init of the process.
    let eal = Eal::init(&scratch.eal_args(&["--vdev=net_ring0"])).expect("EAL init");
    assert_eq!(
        Eal::init(&scratch.eal_args(&[])).unwrap_err(),
        Error::AlreadyInitialized
    );

    // Bad devargs: unknown driver.
    let err = Port::probe("net_bogus0,foo=bar").unwrap_err();
    let text = err.to_string();
    println!("unknown driver: {text}");
    assert!(
        matches!(
            err,
            Error::Rte {
                call: "rte_dev_probe",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(text.contains("net_bogus0,foo=bar"), "{text}");
    assert!(err.errno().is_some_and(|e| e > 0));
    // Bad devargs: a known driver that cannot open its file.
    let err = Port::probe("net_pcap7,rx_pcap=/nonexistent/in.pcap,tx_pcap=/nonexistent/o.pcap")
        .unwrap_err();
    println!("missing pcap: {err}");
    assert!(err.to_string().contains("rte_dev_probe(net_pcap7"), "{err}");
    // No name at all.
    assert!(matches!(
        Port::probe(",iface=x"),
        Err(Error::InvalidArgument { .. })
    ));

    // The --vdev port is found by name without probing again.
    let id = Port::probe("net_ring0").unwrap();
    let pool = Mempool::pktmbuf("err_pool", 255, 16, 2176, -1).unwrap();
    let err = Mempool::pktmbuf("err_pool", 255, 16, 2176, -1).unwrap_err();
    println!("duplicate pool: {err}");
    assert!(err.to_string().contains("err_pool"), "{err}");

    // Too many queues: net_ring supports 16.
    let cfg = PortConfig {
        rx_queues: 17,
        ..PortConfig::default()
    };
    let err = Port::configure(id, &cfg, &pool).unwrap_err();
    println!("too many queues: {err}");
    assert!(
        matches!(
            err,
            Error::QueueLimit {
                direction: Direction::Rx,
                requested: 17,
                max: 16,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("net_ring0"), "{err}");
    let cfg = PortConfig {
        tx_queues: 64,
        ..PortConfig::default()
    };
    let err = Port::configure(id, &cfg, &pool).unwrap_err();
    assert!(err.to_string().contains("port 0 (net_ring0)"), "{err}");
    assert!(err.to_string().contains("tx queues"), "{err}");

    // Unknown port id.
    let err = Port::configure(31, &PortConfig::default(), &pool).unwrap_err();
    println!("unknown port: {err}");
    assert_eq!(err.errno(), Some(19));

    // An MTU the PMD cannot set is an error (net_ring has no MTU op) ...
    let cfg = PortConfig {
        mtu: Some(9000),
        ..PortConfig::default()
    };
    let err = Port::configure(id, &cfg, &pool).unwrap_err();
    println!("mtu: {err}");
    assert!(
        matches!(
            err,
            Error::Rte {
                call: "rte_eth_dev_set_mtu",
                ..
            }
        ),
        "{err:?}"
    );

    // ... and a valid configuration hands out each queue once.
    let cfg = PortConfig {
        rx_queues: 2,
        tx_queues: 2,
        ..PortConfig::default()
    };
    let mut port = Port::configure(id, &cfg, &pool).unwrap();
    let err = Port::configure(id, &cfg, &pool).unwrap_err();
    println!("configured twice: {err}");
    assert!(err.to_string().contains("already configured"), "{err}");
    port.start().unwrap();
    let q0 = port.rx_queue(0);
    assert!(matches!(
        port.try_rx_queue(0),
        Err(Error::QueueUnavailable { .. })
    ));
    let err = port.try_tx_queue(2).unwrap_err();
    println!("queue out of range: {err}");
    assert!(err.to_string().contains("tx queue 2"), "{err}");
    assert!(matches!(port.stop(), Err(Error::PortBusy { .. })));
    drop(q0);
    let q0 = port.try_rx_queue(0).expect("released on drop");
    drop(q0);
    port.close().unwrap();

    // Launching on an lcore that is not a worker.
    let err = dpdk::lcore::launch(0, || 0).unwrap_err();
    println!("launch on main: {err}");
    assert!(dpdk::lcore::launch(7, || 0).is_err());

    // SAFETY: every DPDK object of this test is gone and no lcore runs.
    unsafe { eal.cleanup() }.unwrap();
}

fn libc_einval() -> i32 {
    22
}
