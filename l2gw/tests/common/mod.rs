//! The lab every L2 gateway test runs in, and frames built by hand (independently of
//! `dataplane::encap`) to compare against.
#![allow(dead_code)]

use l2gw::dataplane::wire::EthernetAddress;
use l2gw::dataplane::{HeapPacket, Verdict};
use l2gw::{
    L2Counters, L2Gateway, LearnRing, Mac, ReplicationMode, Tables, TablesBuilder, UnderlayConfig,
};
use std::net::Ipv4Addr;
use std::sync::Arc;

pub const UNDERLAY_PORT: u16 = 9;
pub const OUR_MAC: [u8; 6] = [2, 0, 0, 0, 0xaa, 1];
pub const TUNNEL_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const HV1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
pub const HV1_NH: [u8; 6] = [2, 0, 0, 0, 0xbb, 2];
pub const HV2: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 3);
pub const HV2_NH: [u8; 6] = [2, 0, 0, 0, 0xbb, 3];
pub const SN1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
pub const SN2: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 11);
pub const SN_NH: [u8; 6] = [2, 0, 0, 0, 0xbb, 10];
pub const MTU: u16 = 1500;

/// Switch slot 1: VNI 5001, source_node, bindings (1, 10), (2, untagged), (3, 20),
/// unknown-dst HV1 and HV2.
pub const LS1: u16 = 1;
pub const VNI1: u32 = 5001;
/// Switch slot 2: tunnel_key 0, binding (1, 30).
pub const LS_OFF: u16 = 2;
/// Switch slot 3: VNI 7000, service_node, binding (4, untagged), unknown-dst SN1, SN2.
pub const LS3: u16 = 3;
pub const VNI3: u32 = 7000;

/// A host behind (1, 10), already learned there.
pub const H: [u8; 6] = [2, 0, 0, 0, 0, 1];
/// A VM behind HV1.
pub const R: [u8; 6] = [2, 0, 0, 0, 0, 2];
/// A host behind (2, untagged), learned.
pub const L2: [u8; 6] = [2, 0, 0, 0, 0, 0x20];
/// A host behind (3, 20), learned.
pub const L3: [u8; 6] = [2, 0, 0, 0, 0, 0x30];
pub const BCAST: [u8; 6] = [0xff; 6];

pub fn underlay() -> UnderlayConfig {
    UnderlayConfig {
        port: UNDERLAY_PORT,
        mac: EthernetAddress(OUR_MAC),
        tunnel_ip: TUNNEL_IP,
        vlan: None,
        mtu: MTU,
        ttl: 64,
    }
}

pub fn builder(generation: u64) -> TablesBuilder {
    let mut b = TablesBuilder::new(generation, underlay(), 16, 16);
    b.logical_switch(LS1, VNI1, ReplicationMode::SourceNode)
        .unwrap();
    b.logical_switch(LS_OFF, 0, ReplicationMode::SourceNode)
        .unwrap();
    b.logical_switch(LS3, VNI3, ReplicationMode::ServiceNode)
        .unwrap();
    b.binding(1, 10, LS1).unwrap();
    b.binding(2, 0, LS1).unwrap();
    b.binding(3, 20, LS1).unwrap();
    b.binding(1, 30, LS_OFF).unwrap();
    b.binding(4, 0, LS3).unwrap();
    b.locator(HV1, Some(EthernetAddress(HV1_NH)));
    b.locator(HV2, Some(EthernetAddress(HV2_NH)));
    b.locator(SN1, Some(EthernetAddress(SN_NH)));
    b.locator(SN2, Some(EthernetAddress(SN_NH)));
    b.unknown_dst(LS1, HV2).unwrap();
    b.unknown_dst(LS1, HV1).unwrap();
    b.unknown_dst(LS3, SN1).unwrap();
    b.unknown_dst(LS3, SN2).unwrap();
    b.remote_mac(LS1, Mac::new(R), HV1).unwrap();
    b.local_mac(LS1, Mac::new(H), 1, 10).unwrap();
    b.local_mac(LS1, Mac::new(L2), 2, 0).unwrap();
    b.local_mac(LS1, Mac::new(L3), 3, 20).unwrap();
    b
}

pub struct Lab {
    pub gw: L2Gateway,
    pub ring: Arc<LearnRing>,
    pub counters: Arc<L2Counters>,
}

impl Lab {
    pub fn new() -> Lab {
        Self::with_tables(builder(1).build().unwrap())
    }

    pub fn with_tables(tables: Tables) -> Lab {
        let ring = Arc::new(LearnRing::new(64));
        let counters = Arc::new(L2Counters::new(16));
        let gw = L2Gateway::new(Arc::new(tables), counters.clone(), ring.clone());
        Lab { gw, ring, counters }
    }

    pub fn tables(&self) -> &Tables {
        self.gw.tables()
    }

    /// Runs one frame through the node as a burst of one.
    pub fn run(&mut self, port: u16, frame: &[u8]) -> (Verdict, HeapPacket) {
        let mut p = HeapPacket::from_frame(frame);
        p.set_input_port(port);
        let mut packets = [p];
        let mut verdicts = [Verdict::Punt];
        l2gw::dataplane::node::Node::process(&mut self.gw, &mut packets, &mut verdicts);
        let [p] = packets;
        (verdicts[0], p)
    }

    /// Runs with an RSS hash, so the outer source port is predictable.
    pub fn run_rss(&mut self, port: u16, frame: &[u8], rss: u32) -> (Verdict, HeapPacket) {
        let mut p = HeapPacket::from_frame(frame);
        p.set_input_port(port).set_rss_hash(Some(rss));
        let mut packets = [p];
        let mut verdicts = [Verdict::Punt];
        l2gw::dataplane::node::Node::process(&mut self.gw, &mut packets, &mut verdicts);
        let [p] = packets;
        (verdicts[0], p)
    }
}

/// IPv4/UDP payload "hello" from 10.0.0.1:1234 to 10.0.0.2:80, as an Ethernet frame
/// with an optional 802.1Q tag (`vlan`, `pcp`) and `pad` extra payload bytes.
pub fn inner(dst: [u8; 6], src: [u8; 6], vlan: Option<(u16, u8)>, pad: usize) -> Vec<u8> {
    let payload_len = 5 + pad;
    let udp_len = 8 + payload_len;
    let ip_len = 20 + udp_len;
    let mut f = Vec::new();
    f.extend(dst);
    f.extend(src);
    if let Some((vid, pcp)) = vlan {
        f.extend([0x81, 0x00]);
        f.extend((u16::from(pcp) << 13 | vid).to_be_bytes());
    }
    f.extend([0x08, 0x00]);
    let mut ip = vec![0x45, 0];
    ip.extend((ip_len as u16).to_be_bytes());
    ip.extend([0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    let csum = !naive_sum(&ip);
    ip[10..12].copy_from_slice(&csum.to_be_bytes());
    f.extend(ip);
    f.extend(1234u16.to_be_bytes());
    f.extend(80u16.to_be_bytes());
    f.extend((udp_len as u16).to_be_bytes());
    f.extend([0, 0]);
    f.extend(b"hello");
    f.extend((0..pad).map(|i| i as u8));
    f
}

/// RFC 1071 by the book.
pub fn naive_sum(bytes: &[u8]) -> u16 {
    let mut acc: u32 = 0;
    for pair in bytes.chunks(2) {
        acc += u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Ethernet/IPv4(DF, ID 0, TTL 64)/UDP(checksum 0)/VXLAN(I flag, `vni`)/`inner`, built
/// byte by byte from RFC 791/768/7348.
#[allow(clippy::too_many_arguments)]
pub fn vxlan(
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    src_ip: Ipv4Addr,
    dst_ip: Ipv4Addr,
    src_port: u16,
    dst_port: u16,
    vni: u32,
    inner: &[u8],
) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend(dst_mac);
    f.extend(src_mac);
    f.extend([0x08, 0x00]);
    let total = 20 + 8 + 8 + inner.len();
    let mut ip = vec![0x45, 0x00];
    ip.extend((total as u16).to_be_bytes());
    ip.extend([0x00, 0x00, 0x40, 0x00, 64, 17, 0, 0]);
    ip.extend(src_ip.octets());
    ip.extend(dst_ip.octets());
    let csum = !naive_sum(&ip);
    ip[10..12].copy_from_slice(&csum.to_be_bytes());
    f.extend(ip);
    f.extend(src_port.to_be_bytes());
    f.extend(dst_port.to_be_bytes());
    f.extend(((8 + 8 + inner.len()) as u16).to_be_bytes());
    f.extend([0, 0]);
    f.extend([0x08, 0, 0, 0]);
    f.extend(&vni.to_be_bytes()[1..]);
    f.push(0);
    f.extend(inner);
    f
}

/// The VXLAN frame the gateway should send to locator `to` (next hop `nh`).
pub fn expected_encap(nh: [u8; 6], to: Ipv4Addr, src_port: u16, vni: u32, inner: &[u8]) -> Vec<u8> {
    vxlan(nh, OUR_MAC, TUNNEL_IP, to, src_port, 4789, vni, inner)
}

/// A VXLAN frame from locator `from` to us.
pub fn from_tunnel(from: Ipv4Addr, vni: u32, inner: &[u8]) -> Vec<u8> {
    vxlan(OUR_MAC, HV1_NH, from, TUNNEL_IP, 0xc001, 4789, vni, inner)
}
