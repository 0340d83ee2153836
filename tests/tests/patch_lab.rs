//! Lab (root): causeway in a namespace with two net_af_packet ports in the `patch` role
//! between two host namespaces. Ping and a 10 MB TCP transfer cross it intact, malformed
//! frames sent by a host are dropped and counted by reason and never reach the other host,
//! /metrics shows the packet counts, and SIGTERM stops it cleanly.

use std::time::Duration;
use tests::Capture;
use tests::labs::PatchLab;

const TEN_MB: usize = 10 * 1024 * 1024;

#[test]
fn patch_lab_carries_ping_and_tcp_and_drops_malformed_frames() {
    if let Err(skip) = tests::require_root() {
        eprintln!("{skip}");
        return;
    }
    let mut lab = PatchLab::start().unwrap();

    lab.ping(5).unwrap();
    let t = lab.transfer(TEN_MB).unwrap();
    assert!(
        t.intact(),
        "sent {} received {}",
        t.sent_sha256,
        t.received_sha256
    );

    // 10 MB at <= 1448 bytes per segment is at least 7,242 data frames A -> B, and their
    // ACKs B -> A: the ports and the lcore saw all of them.
    let c = lab.causeway();
    let min_frames = (TEN_MB / 1448) as f64;
    let left_rx = c
        .metric("causeway_port_rx_packets_total{port=\"left\"}")
        .unwrap();
    let right_tx = c
        .metric("causeway_port_tx_packets_total{port=\"right\"}")
        .unwrap();
    let right_rx = c
        .metric("causeway_port_rx_packets_total{port=\"right\"}")
        .unwrap();
    let lcore_tx = c
        .metric("causeway_lcore_tx_packets_total{lcore=\"1\"}")
        .unwrap();
    assert!(left_rx >= min_frames, "left rx {left_rx}");
    assert!(right_tx >= min_frames, "right tx {right_tx}");
    assert!(right_rx > 0.0, "ACKs came back: right rx {right_rx}");
    assert!(
        lcore_tx >= left_rx + right_rx - 10.0,
        "lcore tx {lcore_tx} vs rx {left_rx}+{right_rx}"
    );
    assert!(
        c.metric("causeway_port_rx_bytes_total{port=\"left\"}")
            .unwrap()
            >= TEN_MB as f64
    );

    // Malformed frames from A never reach B; a well-formed marker sent after them does.
    let capture = Capture::start(Some(&lab.b), lab.b_iface(), "not ip6", lab.dir.path()).unwrap();
    let mut marker = vec![0xff; 6];
    marker.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x0a, 0x88, 0xb5]);
    marker.extend_from_slice(b"causeway lab marker frame after the bad ones");
    let mut bad_ipv4_length = marker[..12].to_vec();
    bad_ipv4_length.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0x05, 0xdc]); // total length 1500
    bad_ipv4_length.resize(60, 0);
    let mut bad_ihl = bad_ipv4_length.clone();
    bad_ihl[14] = 0x42;
    bad_ihl[16..18].copy_from_slice(&46u16.to_be_bytes());
    // A UDP length of 4 (less than its own header). (A cut-short VLAN tag cannot be
    // sent here: the kernel drops it while untagging; the pcap test covers that one.)
    let mut bad_udp = bad_ipv4_length.clone();
    bad_udp[16..18].copy_from_slice(&28u16.to_be_bytes());
    bad_udp[23] = 17;
    bad_udp[38..40].copy_from_slice(&4u16.to_be_bytes());
    lab.send_raw_from_a(&[
        bad_ipv4_length.clone(),
        bad_ihl.clone(),
        bad_udp.clone(),
        marker.clone(),
    ])
    .unwrap();
    capture
        .wait_for_frames(1, Duration::from_secs(10), |f| f == marker.as_slice())
        .unwrap();
    let seen = capture.frames().unwrap();
    for bad in [&bad_ipv4_length, &bad_ihl, &bad_udp] {
        assert!(
            !seen.contains(bad),
            "a malformed frame reached B: {bad:02x?}"
        );
    }
    let c = lab.causeway();
    for reason in ["bad_ipv4_length", "malformed_ipv4_header", "bad_udp_length"] {
        let v = c
            .wait_for_metric(
                &format!("causeway_drops_total{{reason=\"{reason}\"}}"),
                Duration::from_secs(5),
                |v| v >= 1.0,
            )
            .unwrap();
        assert_eq!(v, 1.0, "{reason}");
    }

    let status = lab.stop().unwrap();
    assert!(status.success(), "causeway exited with {status}");
}
