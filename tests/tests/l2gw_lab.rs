//! Lab (root): causeway as an L2 gateway in standalone mode between a physical host on
//! VLAN 100 (behind an Open vSwitch userspace VLAN switch, trunk into causeway's `phys`
//! port) and a "hypervisor" with a kernel VXLAN device (VNI 5000) on causeway's
//! `underlay` port. causeway answers ARP and ping for its tunnel IP; the host pings the
//! hypervisor's overlay address (its ARP goes by head-end replication); 20 MB of TCP
//! cross intact both ways; /metrics shows per-switch and per-binding counters and the
//! learned local MAC; SIGTERM stops it cleanly.

use tests::labs::{L2_HOST, L2_HV_OVERLAY, L2_TUNNEL_IP, L2gwLab};

const TWENTY_MB: usize = 20 * 1024 * 1024;

fn ping(ns: &tests::Netns, ip: &str, count: u32) -> String {
    let count = count.to_string();
    let out = ns
        .run(&["ping", "-c", &count, "-i", "0.2", "-W", "2", ip])
        .unwrap_or_else(|e| panic!("ping {ip}: {e}"));
    assert!(
        out.contains(" 0% packet loss"),
        "ping {ip} lost packets:\n{out}"
    );
    out
}

#[test]
fn l2gw_lab_bridges_a_vlan_into_vxlan_with_a_kernel_hypervisor() {
    if let Err(skip) = tests::require_root() {
        eprintln!("{skip}");
        return;
    }
    let mut lab = L2gwLab::start().unwrap();
    let c = lab.causeway();

    // The tunnel endpoint answers ARP and ping from the hypervisor's underlay.
    ping(&lab.hv, L2_TUNNEL_IP, 3);
    let neigh = lab.hv.run(&["ip", "neigh", "show", L2_TUNNEL_IP]).unwrap();
    assert!(
        neigh.contains("lladdr"),
        "ARP for the tunnel IP answered: {neigh}"
    );

    // Host -> hypervisor overlay: ARP by replication, then unicast over VXLAN.
    ping(lab.host().ns(), L2_HV_OVERLAY, 5);
    ping(&lab.hv, L2_HOST, 3);

    for (from, to, to_ip) in [
        (lab.host().ns(), &lab.hv, L2_HV_OVERLAY),
        (&lab.hv, lab.host().ns(), L2_HOST),
    ] {
        let t = lab.transfer(from, to, to_ip, TWENTY_MB).unwrap();
        assert!(
            t.intact(),
            "{to_ip}: sent {} received {}",
            t.sent_sha256,
            t.received_sha256
        );
        eprintln!("20 MB to {to_ip} in {:.2} s", t.seconds);
    }

    let min_frames = (TWENTY_MB / 1448) as f64;
    let m = |s: &str| {
        c.metric(s)
            .unwrap_or_else(|e| panic!("{e}\n{}", c.metrics().unwrap_or_default()))
    };
    let binding = "{port=\"phys\",vlan=\"100\",switch=\"web\"}";
    assert!(m(&format!("causeway_l2_binding_rx_packets_total{binding}")) >= min_frames);
    assert!(m(&format!("causeway_l2_binding_tx_packets_total{binding}")) >= min_frames);
    assert!(m("causeway_l2_switch_to_tunnel_packets_total{switch=\"web\"}") >= min_frames);
    assert!(m("causeway_l2_switch_from_tunnel_packets_total{switch=\"web\"}") >= min_frames);
    assert!(m("causeway_l2_switch_flooded_packets_total{switch=\"web\"}") >= 1.0);
    let host_mac = lab.host().iface().mac().unwrap();
    let learned = format!(
        "causeway_l2_local_mac{{switch=\"web\",mac=\"{host_mac}\",port=\"phys\",vlan=\"100\"}}"
    );
    assert_eq!(m(&learned), 1.0);
    assert_eq!(m("causeway_l2_learn_ring_drops_total"), 0.0);
    assert_eq!(
        m("causeway_drops_total{reason=\"underlay_mtu_exceeded\"}"),
        0.0
    );

    let status = lab.stop().unwrap();
    assert!(status.success(), "causeway exited with {status}");
}
