//! The `patch` role end to end on DPDK's net_pcap vdev (no root, no hugepages): the real
//! daemon reads a pcap of well-formed and malformed frames, forwards the well-formed ones
//! unchanged and in order, drops the malformed ones by reason, and exports the counts, checked
//! once over HTTP and once through a real Prometheus server.

use std::time::Duration;
use tests::causeway::{Causeway, CausewaySpec};
use tests::{Prometheus, ScrapeTarget, TempDir, pcap};

fn ipv4_udp(src_last: u8, payload: &[u8], total: usize) -> Vec<u8> {
    let mut f = vec![
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, // Ethernet
        0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, src_last, 10, 0, 0,
        2, // IPv4
        0x30, 0x39, 0x12, 0xb5, 0, 0, 0, 0, // UDP
    ];
    f.extend_from_slice(payload);
    let ip_len = (f.len() - 14) as u16;
    f[16..18].copy_from_slice(&ip_len.to_be_bytes());
    let udp_len = (f.len() - 34) as u16;
    f[38..40].copy_from_slice(&udp_len.to_be_bytes());
    let mut sum: u32 = f[14..34]
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    f[24..26].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f.resize(total.max(f.len()), 0); // Ethernet padding
    f
}

fn vlan_tagged(tpid: u16, vid: u16, inner: &[u8]) -> Vec<u8> {
    let mut f = inner[..12].to_vec();
    f.extend_from_slice(&tpid.to_be_bytes());
    f.extend_from_slice(&vid.to_be_bytes());
    f.extend_from_slice(&inner[12..]);
    f
}

fn arp_request() -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06]);
    f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01, 10, 0, 0, 1]);
    f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
    f.resize(60, 0);
    f
}

fn ipv6_udp() -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x86, 0xdd];
    f.extend_from_slice(&[0x60, 0, 0, 0, 0, 12, 17, 64]);
    f.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    f.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    f.extend_from_slice(&[0x30, 0x39, 0x12, 0xb5, 0, 12, 0, 0, b'v', b'6', b'!', b'!']);
    f
}

/// (frame, None) forwarded; (frame, Some(reason)) dropped for that reason.
fn corpus() -> Vec<(Vec<u8>, Option<&'static str>)> {
    let good_small = ipv4_udp(1, b"hello", 60);
    let mut c: Vec<(Vec<u8>, Option<&str>)> = vec![
        (good_small.clone(), None),
        (ipv4_udp(3, &[0xab; 1000], 0), None),
        (ipv4_udp(4, &[0xcd; 1472], 0), None), // 1514 bytes: a full-size frame
        (arp_request(), None),
        (ipv6_udp(), None),
        (vlan_tagged(0x8100, 100, &good_small), None),
        (
            vlan_tagged(0x88a8, 20, &vlan_tagged(0x8100, 100, &good_small)),
            None,
        ),
        (
            {
                let mut f = good_small[..14].to_vec();
                f[12..14].copy_from_slice(&0x88b5u16.to_be_bytes()); // local experimental
                f.extend_from_slice(b"unknown ethertypes pass unchanged");
                f
            },
            None,
        ),
    ];
    let mut bad_len = good_small.clone();
    bad_len[16..18].copy_from_slice(&300u16.to_be_bytes());
    let mut bad_ihl = good_small.clone();
    bad_ihl[14] = 0x44;
    let mut bad_udp = ipv4_udp(5, b"x", 60);
    bad_udp[38..40].copy_from_slice(&4u16.to_be_bytes());
    let mut bad_tcp = ipv4_udp(6, &[0; 20], 60);
    bad_tcp[23] = 6; // protocol TCP, 28 bytes of L4 ...
    bad_tcp[34 + 12] = 0x30; // ... with data offset 3 words
    let mut bad_v6 = ipv6_udp();
    bad_v6[18..20].copy_from_slice(&400u16.to_be_bytes());
    let mut short_arp = arp_request();
    short_arp.truncate(30);
    c.extend([
        (good_small[..10].to_vec(), Some("runt_frame")),
        (
            vlan_tagged(0x8100, 7, &good_small)[..16].to_vec(),
            Some("truncated_vlan_tag"),
        ),
        (
            vlan_tagged(
                0x8100,
                3,
                &vlan_tagged(0x8100, 2, &vlan_tagged(0x88a8, 1, &good_small)),
            ),
            Some("too_many_vlan_tags"),
        ),
        (bad_len, Some("bad_ipv4_length")),
        (bad_ihl, Some("malformed_ipv4_header")),
        (good_small[..30].to_vec(), Some("truncated_ipv4_header")),
        (bad_udp, Some("bad_udp_length")),
        (bad_tcp, Some("bad_tcp_header")),
        (bad_v6, Some("bad_ipv6_length")),
        (short_arp, Some("truncated_arp")),
    ]);
    c
}

struct Run {
    causeway: Causeway,
    dir: TempDir,
    total: usize,
    good: Vec<Vec<u8>>,
    bad: Vec<&'static str>,
}

fn start(tag: &str) -> Run {
    let dir = TempDir::new(tag).unwrap();
    let corpus = corpus();
    let frames: Vec<&Vec<u8>> = corpus.iter().map(|(f, _)| f).collect();
    pcap::write_frames(dir.join("in.pcap"), &frames).unwrap();
    pcap::write_frames(dir.join("empty.pcap"), &[] as &[Vec<u8>]).unwrap();
    let d = dir.path().display();
    let spec = CausewaySpec::default()
        .port(
            "in",
            format!("net_pcap0,rx_pcap={d}/in.pcap,tx_pcap={d}/in-tx.pcap"),
        )
        .port(
            "out",
            format!("net_pcap1,rx_pcap={d}/empty.pcap,tx_pcap={d}/out.pcap"),
        )
        .patch("in", "out");
    let causeway = Causeway::start(None, dir.path(), &spec).unwrap();
    let total = corpus.len();
    causeway
        .wait_for_metric(
            "causeway_lcore_rx_packets_total{lcore=\"1\"}",
            Duration::from_secs(20),
            |v| v as usize == total,
        )
        .unwrap();
    Run {
        causeway,
        dir,
        total,
        good: corpus
            .iter()
            .filter(|(_, r)| r.is_none())
            .map(|(f, _)| f.clone())
            .collect(),
        bad: corpus.iter().filter_map(|(_, r)| *r).collect(),
    }
}

#[test]
fn well_formed_frames_cross_unchanged_and_malformed_ones_are_counted_by_reason() {
    let run = start("pcap");
    let metrics = run.causeway.metrics().unwrap();
    let value = |s: &str| {
        tests::causeway::metric_value(&metrics, s).unwrap_or_else(|| panic!("no {s} in\n{metrics}"))
    };
    assert_eq!(
        value("causeway_port_rx_packets_total{port=\"in\"}") as usize,
        run.total
    );
    assert_eq!(
        value("causeway_lcore_tx_packets_total{lcore=\"1\"}") as usize,
        run.good.len()
    );
    for reason in &run.bad {
        assert_eq!(
            value(&format!("causeway_drops_total{{reason=\"{reason}\"}}")),
            1.0,
            "exactly one frame was malformed as {reason}\n{metrics}"
        );
    }
    assert_eq!(value("causeway_drops_total{reason=\"no_egress\"}"), 0.0);

    let status = run.causeway.stop().unwrap();
    assert!(status.success(), "causeway exited with {status}");
    let out = pcap::read_frames(run.dir.join("out.pcap")).unwrap();
    assert_eq!(out.len(), run.good.len(), "forwarded frame count");
    for (i, (got, want)) in out.iter().zip(&run.good).enumerate() {
        assert_eq!(got, want, "frame {i} changed on its way through");
    }
    // Nothing is patched towards `in`.
    assert!(
        pcap::read_frames(run.dir.join("in-tx.pcap"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn prometheus_scrapes_the_daemon_counters() {
    let run = start("prom");
    let prom = Prometheus::start(&[ScrapeTarget::new(
        "causeway",
        &run.causeway.metrics_addr().to_string(),
    )])
    .unwrap();
    let t = Duration::from_secs(30);
    prom.wait_for_value("up{job=\"causeway\"}", |v| v == 1.0, t)
        .unwrap();
    let total = run.total as f64;
    let good = run.good.len() as f64;
    let bad = run.bad.len() as f64;
    prom.wait_for_value(
        "causeway_port_rx_packets_total{port=\"in\"}",
        |v| v == total,
        t,
    )
    .unwrap();
    prom.wait_for_value(
        "causeway_port_tx_packets_total{port=\"out\"}",
        |v| v == good,
        t,
    )
    .unwrap();
    prom.wait_for_value("sum(causeway_drops_total)", |v| v == bad, t)
        .unwrap();
    prom.wait_for_value(
        "causeway_drops_total{reason=\"runt_frame\"}",
        |v| v == 1.0,
        t,
    )
    .unwrap();
    prom.wait_for_value("sum(causeway_lcore_busy_polls_total) > 0", |v| v > 0.0, t)
        .unwrap();
    let info = prom
        .wait_for_value("causeway_build_info", |v| v == 1.0, t)
        .unwrap();
    assert_eq!(
        info.0.get("roles").map(String::as_str),
        Some("patch"),
        "{info:?}"
    );
    assert!(
        info.0
            .get("dpdk_version")
            .is_some_and(|v| v.starts_with("DPDK 22.11")),
        "{info:?}"
    );
    let status = run.causeway.stop().unwrap();
    assert!(status.success());
}

#[test]
fn two_workers_each_own_a_queue_of_every_port() {
    // Two worker lcores (both on CPU 1 of a two-CPU machine): each port gets two rx and
    // two tx queues; net_pcap reads one file per rx queue and writes one per tx queue,
    // so each worker's path shows up as its own output file.
    let dir = TempDir::new("mq").unwrap();
    let corpus = corpus();
    let good: Vec<Vec<u8>> = corpus
        .iter()
        .filter(|(_, r)| r.is_none())
        .map(|(f, _)| f.clone())
        .collect();
    let (first, second) = good.split_at(3);
    pcap::write_frames(dir.join("q0.pcap"), first).unwrap();
    pcap::write_frames(dir.join("q1.pcap"), second).unwrap();
    pcap::write_frames(dir.join("empty.pcap"), &[] as &[Vec<u8>]).unwrap();
    let d = dir.path().display();
    let spec = CausewaySpec {
        lcores: Some("0@0,1@1,2@1".into()),
        ..CausewaySpec::default()
    }
    .port(
        "in",
        format!("net_pcap0,rx_pcap={d}/q0.pcap,rx_pcap={d}/q1.pcap,tx_pcap={d}/in0.pcap,tx_pcap={d}/in1.pcap"),
    )
    .port(
        "out",
        format!("net_pcap1,rx_pcap={d}/empty.pcap,rx_pcap={d}/empty.pcap,tx_pcap={d}/out0.pcap,tx_pcap={d}/out1.pcap"),
    )
    .patch("in", "out");
    let causeway = Causeway::start(None, dir.path(), &spec).unwrap();
    for (lcore, expected) in [(1, first.len()), (2, second.len())] {
        causeway
            .wait_for_metric(
                &format!("causeway_lcore_tx_packets_total{{lcore=\"{lcore}\"}}"),
                Duration::from_secs(20),
                |v| v as usize == expected,
            )
            .unwrap();
    }
    assert!(causeway.stop().unwrap().success());
    assert_eq!(pcap::read_frames(dir.join("out0.pcap")).unwrap(), first);
    assert_eq!(pcap::read_frames(dir.join("out1.pcap")).unwrap(), second);
}
