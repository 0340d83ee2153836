//! The ingress sanity check every role runs first on every received frame.
//!
//! [`classify`] owns the decision "is this frame structurally sound enough for a
//! pipeline to read its headers by offset": Ethernet, up to two VLAN tags, and the
//! length fields of IPv4, IPv6, ARP, UDP and TCP. It reports where things are
//! ([`Classified`]) so later stages never re-parse, and drops with a
//! [`DropReason`] otherwise. It deliberately does not verify checksums (NICs do, and
//! forwarding does not need them) nor walk IPv6 extension headers.
//!
//! Cost: a handful of bounds checks and big-endian loads, no allocation, no loop.

use crate::drop::DropReason;
use crate::wire::ethertype;
use crate::wire::vlan::Tci;

const ETH_HEADER_LEN: usize = 14;
const VLAN_TAG_LEN: usize = 4;
const IPV4_MIN_HEADER_LEN: usize = 20;
const IPV6_HEADER_LEN: usize = 40;
const ARP_FIXED_LEN: usize = 8;
/// Ethernet (htype 1) / IPv4 (ptype 0x0800) ARP: 8 fixed bytes + 2 * (6 + 4).
const ARP_ETH_IPV4_LEN: usize = 28;
const UDP_HEADER_LEN: usize = 8;
const TCP_MIN_HEADER_LEN: usize = 20;
/// IP protocol number of TCP.
pub const IPPROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const IPPROTO_UDP: u8 = 17;

/// One VLAN tag as found on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// The tag protocol identifier: 0x8100, 0x88a8 or 0x9100.
    pub tpid: u16,
    /// Priority, drop eligibility and VLAN ID.
    pub tci: Tci,
}

impl VlanTag {
    /// The VLAN ID.
    #[inline]
    pub const fn vid(self) -> u16 {
        self.tci.vid()
    }
}

/// The network layer [`classify`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum L3 {
    /// IPv4; header and lengths validated.
    Ipv4,
    /// IPv6; fixed header and payload length validated.
    Ipv6,
    /// ARP; long enough for its announced address lengths.
    Arp,
    /// Any other EtherType; passed through unexamined.
    Other,
}

/// Where the headers of a sound frame are. Offsets are from the first byte of the
/// frame; `Copy` and small so it can sit in a per-burst array next to the packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Classified {
    /// The first tag on the wire (the only one for a single-tagged frame).
    pub outer_vlan: Option<VlanTag>,
    /// The second tag of a double-tagged (QinQ) frame.
    pub inner_vlan: Option<VlanTag>,
    /// The EtherType after any tags.
    pub ethertype: u16,
    /// What `ethertype` was recognised as.
    pub l3: L3,
    /// IPv4 protocol or IPv6 next header (which may be an extension header); 0 for
    /// non-IP frames.
    pub ip_proto: u8,
    /// True for any IPv4 fragment (first or later); IPv6 fragments show up as
    /// `ip_proto == 44` instead since extension headers are not walked.
    pub ip_fragment: bool,
    /// Offset of the network header.
    pub l3_offset: u16,
    /// Offset of the IP payload (the upper-layer header), or 0 when the frame is not IP
    /// or is a non-first IPv4 fragment (no upper-layer header in it).
    pub l4_offset: u16,
    /// Length of the network-layer packet as its own header announces it (IPv4 total
    /// length, IPv6 40 + payload length), excluding Ethernet padding; for ARP and
    /// unknown EtherTypes, everything after the tags.
    pub l3_len: u32,
}

impl Classified {
    /// The VLAN ID that selects the bridge domain: the outer tag's, if tagged.
    #[inline]
    pub fn vid(&self) -> Option<u16> {
        self.outer_vlan.map(VlanTag::vid)
    }

    /// The number of VLAN tags (0, 1 or 2).
    #[inline]
    pub fn vlan_count(&self) -> usize {
        usize::from(self.outer_vlan.is_some()) + usize::from(self.inner_vlan.is_some())
    }

    /// Offset of the upper-layer header, if the frame has one.
    #[inline]
    pub fn l4(&self) -> Option<usize> {
        (self.l4_offset != 0).then_some(usize::from(self.l4_offset))
    }

    /// Offset one past the network-layer packet; bytes after it are Ethernet padding.
    #[inline]
    pub fn l3_end(&self) -> usize {
        usize::from(self.l3_offset) + self.l3_len as usize
    }
}

#[inline(always)]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Validates a received frame and locates its headers; see the module docs for what is
/// checked. Never panics, never allocates.
#[inline]
pub fn classify(frame: &[u8]) -> Result<Classified, DropReason> {
    if frame.len() < ETH_HEADER_LEN {
        return Err(DropReason::RuntFrame);
    }
    let mut ethertype = be16(frame, 12);
    let mut offset = ETH_HEADER_LEN;
    let mut outer_vlan = None;
    let mut inner_vlan = None;
    if ethertype::is_vlan_tpid(ethertype) {
        let (tag, next) = vlan_tag(frame, offset, ethertype)?;
        outer_vlan = Some(tag);
        ethertype = next;
        offset += VLAN_TAG_LEN;
        if ethertype::is_vlan_tpid(ethertype) {
            let (tag, next) = vlan_tag(frame, offset, ethertype)?;
            inner_vlan = Some(tag);
            ethertype = next;
            offset += VLAN_TAG_LEN;
            if ethertype::is_vlan_tpid(ethertype) {
                return Err(DropReason::TooManyVlanTags);
            }
        }
    }
    let l3 = &frame[offset..];
    let mut out = Classified {
        outer_vlan,
        inner_vlan,
        ethertype,
        l3: L3::Other,
        ip_proto: 0,
        ip_fragment: false,
        l3_offset: offset as u16,
        l4_offset: 0,
        l3_len: l3.len() as u32,
    };
    match ethertype {
        ethertype::IPV4 => ipv4(l3, &mut out)?,
        ethertype::IPV6 => ipv6(l3, &mut out)?,
        ethertype::ARP => {
            arp(l3)?;
            out.l3 = L3::Arp;
        }
        _ => {}
    }
    Ok(out)
}

#[inline(always)]
fn vlan_tag(frame: &[u8], at: usize, tpid: u16) -> Result<(VlanTag, u16), DropReason> {
    let Some(b) = frame.get(at..at + VLAN_TAG_LEN) else {
        return Err(DropReason::TruncatedVlanTag);
    };
    let tag = VlanTag {
        tpid,
        tci: Tci(be16(b, 0)),
    };
    Ok((tag, be16(b, 2)))
}

#[inline(always)]
fn ipv4(l3: &[u8], out: &mut Classified) -> Result<(), DropReason> {
    if l3.len() < IPV4_MIN_HEADER_LEN {
        return Err(DropReason::TruncatedIpv4Header);
    }
    let version_ihl = l3[0];
    let header_len = usize::from(version_ihl & 0x0f) * 4;
    if version_ihl >> 4 != 4 || header_len < IPV4_MIN_HEADER_LEN {
        return Err(DropReason::MalformedIpv4Header);
    }
    if header_len > l3.len() {
        return Err(DropReason::TruncatedIpv4Header);
    }
    let total_len = usize::from(be16(l3, 2));
    if total_len < header_len || total_len > l3.len() {
        return Err(DropReason::BadIpv4Length);
    }
    let frag = be16(l3, 6);
    let frag_offset = frag & 0x1fff;
    let more_fragments = frag & 0x2000 != 0;
    let proto = l3[9];
    out.l3 = L3::Ipv4;
    out.ip_proto = proto;
    out.ip_fragment = more_fragments || frag_offset != 0;
    out.l3_len = total_len as u32;
    if frag_offset == 0 {
        // A first fragment carries the L4 header but not the whole datagram the UDP
        // length describes, so only the header itself is checked there.
        l4(proto, &l3[header_len..total_len], !more_fragments)?;
        out.l4_offset = out.l3_offset + header_len as u16;
    }
    Ok(())
}

#[inline(always)]
fn ipv6(l3: &[u8], out: &mut Classified) -> Result<(), DropReason> {
    if l3.len() < IPV6_HEADER_LEN || l3[0] >> 4 != 6 {
        return Err(DropReason::TruncatedIpv6Header);
    }
    let payload_len = usize::from(be16(l3, 4));
    let end = IPV6_HEADER_LEN + payload_len;
    if end > l3.len() {
        return Err(DropReason::BadIpv6Length);
    }
    let next_header = l3[6];
    out.l3 = L3::Ipv6;
    out.ip_proto = next_header;
    out.l3_len = end as u32;
    l4(next_header, &l3[IPV6_HEADER_LEN..end], true)?;
    out.l4_offset = out.l3_offset + IPV6_HEADER_LEN as u16;
    Ok(())
}

/// Checks the UDP or TCP header at the start of an IP payload; `complete` is false for
/// a first fragment, whose payload is only part of the datagram.
#[inline(always)]
fn l4(proto: u8, payload: &[u8], complete: bool) -> Result<(), DropReason> {
    match proto {
        IPPROTO_UDP => {
            if payload.len() < UDP_HEADER_LEN {
                return Err(DropReason::BadUdpLength);
            }
            let udp_len = usize::from(be16(payload, 4));
            if complete && (udp_len < UDP_HEADER_LEN || udp_len > payload.len()) {
                return Err(DropReason::BadUdpLength);
            }
        }
        IPPROTO_TCP => {
            if payload.len() < TCP_MIN_HEADER_LEN {
                return Err(DropReason::BadTcpHeader);
            }
            let header_len = usize::from(payload[12] >> 4) * 4;
            if header_len < TCP_MIN_HEADER_LEN || header_len > payload.len() {
                return Err(DropReason::BadTcpHeader);
            }
        }
        _ => {}
    }
    Ok(())
}

#[inline(always)]
fn arp(l3: &[u8]) -> Result<(), DropReason> {
    if l3.len() < ARP_FIXED_LEN {
        return Err(DropReason::TruncatedArp);
    }
    let htype = be16(l3, 0);
    let ptype = be16(l3, 2);
    let announced = ARP_FIXED_LEN + 2 * (usize::from(l3[4]) + usize::from(l3[5]));
    let needed = if htype == 1 && ptype == ethertype::IPV4 {
        announced.max(ARP_ETH_IPV4_LEN)
    } else {
        announced
    };
    if l3.len() < needed {
        return Err(DropReason::TruncatedArp);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::hex;
    use DropReason::*;

    // Frames built with scapy 2.5; `e` is
    // `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')`.

    /// `e/IP(src='10.0.0.1', dst='10.0.0.2', id=1)/UDP(sport=1234, dport=80)/b'hello'`.
    const V4_UDP: &str = "02000000000202000000000108004500002100010000401166c90a0000010a000002\
                          04d20050000da2dd68656c6c6f";
    /// `e/Dot1AD(prio=5, id=0, vlan=100)/Dot1Q(prio=3, id=1, vlan=200)/<V4_UDP's IP>`.
    const QINQ_V4_UDP: &str = "02000000000202000000000188a8a064810070c808004500002100010000401166c9\
                               0a0000010a00000204d20050000da2dd68656c6c6f";
    /// `e/IP(src='10.0.0.1', dst='10.0.0.2', id=1)/TCP(sport=1234, dport=80,
    /// flags='S', seq=1, options=[('MSS',1460)])`.
    const V4_TCP: &str = "02000000000202000000000108004500002c00010000400666c90a0000010a000002\
                          04d200500000000100000000600220005f010000020405b4";
    /// `e/IPv6(src='2001:db8::1', dst='2001:db8::2')/UDP(sport=1234, dport=53)/b'hi'`.
    const V6_UDP: &str = "02000000000202000000000186dd60000000000a114020010db80000000000000000\
                          0000000120010db800000000000000000000000204d20035000a36f56869";
    /// `e/IPv6(src='2001:db8::1', dst='2001:db8::2')/TCP(sport=1234, dport=80,
    /// flags='S', seq=1)`.
    const V6_TCP: &str = "02000000000202000000000186dd600000000014064020010db80000000000000000\
                          0000000120010db800000000000000000000000204d20050000000010000000050022000\
                          2f4b0000";
    /// `Ether(src='02:00:00:00:00:01', dst='ff:ff:ff:ff:ff:ff')/ARP(hwsrc=...,
    /// psrc='10.0.0.1', pdst='10.0.0.2')`.
    const ARP: &str = "ffffffffffff020000000001080600010800060400010200000000010a000001000000\
                       0000000a000002";
    /// `e/Dot1Q(vlan=10)/IP(...)/ICMP(id=1, seq=1)/Padding(14 zero bytes)`: a minimum
    /// size 60-byte frame whose IP packet is shorter than the frame.
    const DOT1Q_ICMP_PADDED: &str = "0200000000020200000000018100000a08004500001c00010000400166de\
                                     0a0000010a0000020800f7fd00010001000000000000000000000000\
                                     0000";

    #[test]
    fn plain_ipv4_udp() {
        let c = classify(&hex(V4_UDP)).unwrap();
        assert_eq!(
            c,
            Classified {
                outer_vlan: None,
                inner_vlan: None,
                ethertype: 0x0800,
                l3: L3::Ipv4,
                ip_proto: IPPROTO_UDP,
                ip_fragment: false,
                l3_offset: 14,
                l4_offset: 34,
                l3_len: 33,
            }
        );
        assert_eq!(c.vid(), None);
        assert_eq!(c.l3_end(), 47);
    }

    #[test]
    fn qinq_tags_in_wire_order() {
        let c = classify(&hex(QINQ_V4_UDP)).unwrap();
        let outer = c.outer_vlan.unwrap();
        let inner = c.inner_vlan.unwrap();
        assert_eq!((outer.tpid, outer.vid(), outer.tci.pcp()), (0x88a8, 100, 5));
        assert_eq!(
            (inner.tpid, inner.vid(), inner.tci.dei()),
            (0x8100, 200, true)
        );
        assert_eq!(c.vid(), Some(100));
        assert_eq!(c.vlan_count(), 2);
        assert_eq!((c.l3_offset, c.l4_offset), (22, 42));
    }

    #[test]
    fn legacy_qinq_tpid_is_a_tag() {
        let mut f = hex(QINQ_V4_UDP);
        f[12..14].copy_from_slice(&0x9100u16.to_be_bytes());
        let c = classify(&f).unwrap();
        assert_eq!(c.outer_vlan.unwrap().tpid, 0x9100);
        assert_eq!(c.ethertype, 0x0800);
    }

    #[test]
    fn tcp_ipv6_arp_and_padding() {
        let c = classify(&hex(V4_TCP)).unwrap();
        assert_eq!((c.ip_proto, c.l4(), c.l3_len), (IPPROTO_TCP, Some(34), 44));
        let c = classify(&hex(V6_UDP)).unwrap();
        assert_eq!(
            (c.l3, c.ip_proto, c.l4(), c.l3_len),
            (L3::Ipv6, 17, Some(54), 50)
        );
        let c = classify(&hex(V6_TCP)).unwrap();
        assert_eq!((c.ip_proto, c.l4()), (IPPROTO_TCP, Some(54)));
        let c = classify(&hex(ARP)).unwrap();
        assert_eq!((c.l3, c.l4(), c.l3_len), (L3::Arp, None, 28));
        let padded = hex(DOT1Q_ICMP_PADDED);
        let c = classify(&padded).unwrap();
        assert_eq!(
            (c.vid(), c.ip_proto, c.l3_len, c.l3_end()),
            (Some(10), 1, 28, 46)
        );
        assert_eq!(padded.len(), 60);
    }

    #[test]
    fn unknown_ethertype_passes() {
        let mut f = hex(V4_UDP);
        f[12..14].copy_from_slice(&0x88ccu16.to_be_bytes()); // LLDP
        let c = classify(&f).unwrap();
        assert_eq!((c.l3, c.l3_len, c.l4()), (L3::Other, 33, None));
        assert_eq!(classify(&f[..14]).unwrap().l3_len, 0);
    }

    #[test]
    fn ethernet_and_vlan_drops() {
        let f = hex(QINQ_V4_UDP);
        assert_eq!(classify(&[]), Err(RuntFrame));
        assert_eq!(classify(&f[..13]), Err(RuntFrame));
        assert_eq!(classify(&f[..14]), Err(TruncatedVlanTag));
        assert_eq!(classify(&f[..17]), Err(TruncatedVlanTag));
        assert_eq!(classify(&f[..21]), Err(TruncatedVlanTag));
        let mut three = f.clone();
        three[20..22].copy_from_slice(&0x8100u16.to_be_bytes());
        assert_eq!(classify(&three), Err(TooManyVlanTags));
    }

    #[test]
    fn ipv4_drops() {
        let f = hex(V4_UDP);
        assert_eq!(classify(&f[..14]), Err(TruncatedIpv4Header));
        assert_eq!(classify(&f[..33]), Err(TruncatedIpv4Header));
        let mut v6 = f.clone();
        v6[14] = 0x65;
        assert_eq!(classify(&v6), Err(MalformedIpv4Header));
        let mut ihl4 = f.clone();
        ihl4[14] = 0x44;
        assert_eq!(classify(&ihl4), Err(MalformedIpv4Header));
        let mut ihl15 = f.clone();
        ihl15[14] = 0x4f; // 60-byte header in a 33-byte packet
        assert_eq!(classify(&ihl15), Err(TruncatedIpv4Header));
        let mut short_total = f.clone();
        short_total[16..18].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(classify(&short_total), Err(BadIpv4Length));
        let mut long_total = f.clone();
        long_total[16..18].copy_from_slice(&34u16.to_be_bytes());
        assert_eq!(classify(&long_total), Err(BadIpv4Length));
    }

    #[test]
    fn udp_drops_and_fragments() {
        let f = hex(V4_UDP);
        let with_udp_len = |len: u16| {
            let mut g = f.clone();
            g[38..40].copy_from_slice(&len.to_be_bytes());
            g
        };
        assert_eq!(classify(&with_udp_len(7)), Err(BadUdpLength));
        assert_eq!(classify(&with_udp_len(14)), Err(BadUdpLength));
        assert!(classify(&with_udp_len(8)).is_ok());
        // UDP header cut short by the IP total length (and the frame).
        let mut cut = f[..41].to_vec();
        cut[16..18].copy_from_slice(&27u16.to_be_bytes());
        assert_eq!(classify(&cut), Err(BadUdpLength));
        // A first fragment: UDP length describes the whole datagram, fine.
        let mut first = with_udp_len(1000);
        first[20] = 0x20; // MF
        let c = classify(&first).unwrap();
        assert!(c.ip_fragment);
        assert_eq!(c.l4(), Some(34));
        // A later fragment carries no UDP header at all: not checked, no l4 offset.
        let mut later = with_udp_len(0);
        later[21] = 0x10;
        let c = classify(&later).unwrap();
        assert!(c.ip_fragment);
        assert_eq!(c.l4(), None);
    }

    #[test]
    fn tcp_drops() {
        let f = hex(V4_TCP);
        let mut doff4 = f.clone();
        doff4[46] = 0x40;
        assert_eq!(classify(&doff4), Err(BadTcpHeader));
        let mut doff7 = f.clone();
        doff7[46] = 0x70; // 28-byte header in a 24-byte segment
        assert_eq!(classify(&doff7), Err(BadTcpHeader));
        let mut cut = f[..50].to_vec();
        cut[16..18].copy_from_slice(&36u16.to_be_bytes());
        assert_eq!(classify(&cut), Err(BadTcpHeader));
        let v6 = hex(V6_TCP);
        let mut v6_doff = v6.clone();
        v6_doff[66] = 0x60;
        assert_eq!(classify(&v6_doff), Err(BadTcpHeader));
    }

    #[test]
    fn ipv6_drops() {
        let f = hex(V6_UDP);
        assert_eq!(classify(&f[..53]), Err(TruncatedIpv6Header));
        let mut v4 = f.clone();
        v4[14] = 0x40;
        assert_eq!(classify(&v4), Err(TruncatedIpv6Header));
        assert_eq!(classify(&f[..63]), Err(BadIpv6Length));
        let mut udp_len = f.clone();
        udp_len[58..60].copy_from_slice(&11u16.to_be_bytes());
        assert_eq!(classify(&udp_len), Err(BadUdpLength));
    }

    #[test]
    fn arp_drops() {
        let f = hex(ARP);
        assert_eq!(classify(&f[..21]), Err(TruncatedArp));
        assert_eq!(classify(&f[..41]), Err(TruncatedArp));
        // Ethernet/IPv4 ARP lying about its address lengths still needs 28 bytes.
        let mut lying = f[..30].to_vec();
        lying[18] = 0;
        lying[19] = 0;
        assert_eq!(classify(&lying), Err(TruncatedArp));
        // Another hardware type is held to its own announced lengths.
        let mut other = f[..30].to_vec();
        other[15] = 6;
        other[18] = 2;
        other[19] = 2;
        assert!(classify(&other).is_ok());
    }

    #[test]
    fn classified_is_small() {
        assert!(std::mem::size_of::<Classified>() <= 32);
    }
}
