//! Overlay encapsulation and decapsulation over any [`Packet`].
//!
//! This module owns the outer headers of every tunnel the gateway speaks: VXLAN
//! (RFC 7348) and Geneve (RFC 8926) over UDP on IPv4 or IPv6, and GRE with a key
//! (RFC 2784/2890, NVGRE per RFC 7637). Encapsulation never copies the inner frame:
//! outer headers go into the packet's headroom.
//!
//! Each tunnel has a template type ([`VxlanEncap`], [`GeneveEncap`], [`GreEncap`])
//! built once per remote endpoint at configuration time. It holds the outer headers as
//! bytes, so the per-packet cost is one copy of the template and patching a few fields:
//! IP length, IPv4 header checksum, UDP length and source port, the IPv6 flow label,
//! and for UDP over IPv6 the UDP checksum (RFC 8200 requires it; it is the one pass over
//! the payload). Over IPv4 the outer UDP checksum is zero, as RFC 7348 allows.
//!
//! Flow entropy (RFC 7348 section 5): the outer UDP source port, the IPv6 flow label
//! (RFC 6438) and the NVGRE FlowID come from the packet's RSS hash when the NIC gave
//! one, else from [`flow_hash`] over the inner frame, so one inner flow always takes one
//! underlay path and different flows spread across ECMP links.
//!
//! Outer IPv4 headers carry DF with ID 0 (RFC 6864 atomic datagrams): RFC 7348 forbids
//! VTEPs to fragment, so the underlay MTU must fit the inner frame plus the overhead.
//! ECN is not propagated (RFC 6040 compatibility mode: outer Not-ECT).
//!
//! Decapsulation ([`vxlan_decap`], [`geneve_decap`], [`gre_decap`]) runs
//! [`classify`] on the outer frame, validates the tunnel
//! header, strips everything up to the inner frame (and any Ethernet padding after it)
//! and returns what the caller needs for learning: the VNI or key and the outer
//! addresses.

use crate::drop::DropReason;
use crate::ingress::{Classified, IPPROTO_UDP, L3, VlanTag, classify};
use crate::packet::Packet;
use crate::wire::{self, EthernetAddress, ethertype, geneve, gre, vxlan};
use core::net::IpAddr;

const ETH_LEN: usize = 14;
const VLAN_LEN: usize = 4;
const IPV4_LEN: usize = 20;
const IPV6_LEN: usize = 40;
const UDP_LEN: usize = 8;
const IPPROTO_GRE: u8 = 47;

/// Outer Ethernet + IPv4 + UDP + VXLAN.
pub const VXLAN_IPV4_OVERHEAD: usize = ETH_LEN + IPV4_LEN + UDP_LEN + vxlan::HEADER_LEN;
/// Outer Ethernet + IPv6 + UDP + VXLAN.
pub const VXLAN_IPV6_OVERHEAD: usize = ETH_LEN + IPV6_LEN + UDP_LEN + vxlan::HEADER_LEN;
/// Outer Ethernet + IPv4 + UDP + Geneve without options.
pub const GENEVE_IPV4_OVERHEAD: usize = ETH_LEN + IPV4_LEN + UDP_LEN + geneve::HEADER_LEN;
/// Outer Ethernet + IPv6 + UDP + Geneve without options.
pub const GENEVE_IPV6_OVERHEAD: usize = ETH_LEN + IPV6_LEN + UDP_LEN + geneve::HEADER_LEN;
/// Outer Ethernet + IPv4 + GRE with key.
pub const GRE_KEY_IPV4_OVERHEAD: usize = ETH_LEN + IPV4_LEN + gre::HEADER_LEN + 4;
/// Outer Ethernet + IPv6 + GRE with key.
pub const GRE_KEY_IPV6_OVERHEAD: usize = ETH_LEN + IPV6_LEN + gre::HEADER_LEN + 4;
/// Extra bytes when the underlay itself is VLAN-tagged.
pub const UNDERLAY_VLAN_OVERHEAD: usize = VLAN_LEN;

/// The largest template: tagged Ethernet, IPv6, UDP, Geneve with 252 bytes of options.
const MAX_TEMPLATE_LEN: usize =
    ETH_LEN + VLAN_LEN + IPV6_LEN + UDP_LEN + geneve::HEADER_LEN + geneve::MAX_OPTIONS_LEN;

/// The underlay path to one remote tunnel endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Underlay {
    /// Our MAC on the underlay port.
    pub src_mac: EthernetAddress,
    /// The next hop's MAC.
    pub dst_mac: EthernetAddress,
    /// 802.1Q tag for a tagged underlay (TPID 0x8100), if any.
    pub vlan: Option<wire::VlanTci>,
    /// Our tunnel endpoint address.
    pub src_ip: IpAddr,
    /// The remote tunnel endpoint address; same family as `src_ip`.
    pub dst_ip: IpAddr,
    /// Outer TTL / hop limit.
    pub ttl: u8,
    /// Outer DSCP (0..=63).
    pub dscp: u8,
}

/// Why a tunnel template could not be built (configuration errors, not per packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncapError {
    /// Source and destination addresses are of different families.
    AddressFamilyMismatch,
    /// DSCP above 63.
    DscpOutOfRange,
    /// VNI (or NVGRE VSID) above 24 bits.
    VniOutOfRange,
    /// The Geneve options are not a well-formed options area.
    BadGeneveOptions(wire::Error),
}

impl core::fmt::Display for EncapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EncapError::AddressFamilyMismatch => {
                f.write_str("tunnel source and destination differ in address family")
            }
            EncapError::DscpOutOfRange => f.write_str("DSCP above 63"),
            EncapError::VniOutOfRange => f.write_str("VNI above 24 bits"),
            EncapError::BadGeneveOptions(e) => write!(f, "invalid Geneve options: {e}"),
        }
    }
}

impl std::error::Error for EncapError {}

/// Maps a flow hash into the dynamic port range 49152..=65535 (RFC 7348 section 5).
#[inline]
pub const fn udp_source_port(hash: u32) -> u16 {
    0xc000 | ((hash ^ (hash >> 16)) & 0x3fff) as u16
}

#[inline(always)]
const fn mix(h: u32, word: u32) -> u32 {
    (h ^ word).wrapping_mul(0x9e37_79b1).rotate_left(15)
}

#[inline(always)]
const fn finalize(mut h: u32) -> u32 {
    // murmur3's fmix32: every input bit affects every output bit, so the 14 bits the
    // source port keeps are as good as any.
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[inline(always)]
fn word(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A deterministic hash of the inner frame's flow: IP addresses, protocol and (for
/// unfragmented TCP/UDP) ports; for non-IP or malformed frames, the MAC addresses and
/// EtherType. Allocation-free; not keyed, so use it only for path entropy, never to
/// index attacker-visible tables.
#[inline]
pub fn flow_hash(frame: &[u8]) -> u32 {
    match classify(frame) {
        Ok(c) => flow_hash_classified(frame, &c),
        Err(_) => flow_hash_l2(frame),
    }
}

/// [`flow_hash`] for a frame the caller already ran [`classify`] on (`c` describes
/// `frame`): the same value without parsing the headers again.
#[inline]
pub fn flow_hash_classified(frame: &[u8], c: &Classified) -> u32 {
    if c.l3 != L3::Ipv4 && c.l3 != L3::Ipv6 {
        return flow_hash_l2(frame);
    }
    let l3 = usize::from(c.l3_offset);
    let ports = match c.l4() {
        Some(l4)
            if !c.ip_fragment
                && matches!(c.ip_proto, crate::ingress::IPPROTO_TCP | IPPROTO_UDP) =>
        {
            u64::from(word(frame, l4))
        }
        _ => 0,
    };
    let tail = (u64::from(c.ip_proto) << 32) | ports;
    // One 64x64->128 multiply per 16 bytes of addresses (foldhash's folded
    // multiply): a few cycles, where mixing 32-bit words one by one was a chain of
    // dependent multiplies.
    let h = if c.l3 == L3::Ipv4 {
        fold_mul(dword(frame, l3 + 12) ^ FOLD_K1, tail ^ FOLD_K2)
    } else {
        let a = fold_mul(
            dword(frame, l3 + 8) ^ FOLD_K1,
            dword(frame, l3 + 16) ^ FOLD_K2,
        );
        let b = fold_mul(
            dword(frame, l3 + 24) ^ FOLD_K2,
            dword(frame, l3 + 32) ^ FOLD_K1,
        );
        fold_mul(a ^ b, tail ^ FOLD_K2)
    };
    (h ^ (h >> 32)) as u32
}

const FOLD_K1: u64 = 0x243f_6a88_85a3_08d3;
const FOLD_K2: u64 = 0x1319_8a2e_0370_7344;

#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline(always)]
fn dword(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(w)
}

const FLOW_HASH_SEED: u32 = 0x2545_f491;

/// The non-IP (or malformed) case of [`flow_hash`]: addresses and EtherType.
fn flow_hash_l2(frame: &[u8]) -> u32 {
    let mut h = FLOW_HASH_SEED;
    if frame.len() >= ETH_LEN {
        h = mix(h, word(frame, 0));
        h = mix(h, word(frame, 4));
        h = mix(h, word(frame, 8));
        h = mix(h, u32::from(u16::from_be_bytes([frame[12], frame[13]])));
    } else {
        for &b in frame {
            h = mix(h, u32::from(b));
        }
    }
    finalize(h)
}

/// The entropy for a packet: its RSS hash, else [`flow_hash`] of its frame.
#[inline]
pub fn packet_hash<P: Packet>(pkt: &P) -> u32 {
    pkt.rss_hash().unwrap_or_else(|| flow_hash(pkt.data()))
}

/// What follows the outer IP header in a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// UDP: patch length and source port (and checksum over IPv6).
    Udp,
    /// GRE: patch the NVGRE FlowID (low key byte) when `nvgre_flow_id` is set.
    Gre { nvgre_flow_id: bool },
}

/// Pre-built outer headers; see the module docs.
#[derive(Clone, Copy)]
struct Template {
    bytes: [u8; MAX_TEMPLATE_LEN],
    len: u16,
    l3_offset: u8,
    l4_offset: u8,
    ipv6: bool,
    transport: Transport,
    /// Partial checksum of the IPv6 pseudo-header's addresses and next header.
    pseudo_sum: u16,
    /// Over IPv4: the header's sum with length and checksum zero, so a packet's header
    /// checksum is one add of its length (RFC 1624 style) instead of a pass over it.
    ipv4_sum: u16,
}

impl core::fmt::Debug for Template {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Template")
            .field("bytes", &&self.bytes[..usize::from(self.len)])
            .field("ipv6", &self.ipv6)
            .field("transport", &self.transport)
            .finish()
    }
}

impl Template {
    /// Writes Ethernet and IP headers for `underlay`; the caller appends the transport
    /// and tunnel headers at `l4_offset` and sets `len`.
    fn new(underlay: &Underlay, ip_proto: u8, transport: Transport) -> Result<Self, EncapError> {
        if underlay.dscp > 63 {
            return Err(EncapError::DscpOutOfRange);
        }
        let mut t = Template {
            bytes: [0; MAX_TEMPLATE_LEN],
            len: 0,
            l3_offset: 0,
            l4_offset: 0,
            ipv6: false,
            transport,
            pseudo_sum: 0,
            ipv4_sum: 0,
        };
        let b = &mut t.bytes;
        b[0..6].copy_from_slice(underlay.dst_mac.as_bytes());
        b[6..12].copy_from_slice(underlay.src_mac.as_bytes());
        let mut at = 12;
        if let Some(tci) = underlay.vlan {
            b[at..at + 2].copy_from_slice(&ethertype::VLAN_8021Q.to_be_bytes());
            b[at + 2..at + 4].copy_from_slice(&tci.0.to_be_bytes());
            at += VLAN_LEN;
        }
        let l3 = at + 2;
        t.l3_offset = l3 as u8;
        match (underlay.src_ip, underlay.dst_ip) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                b[at..at + 2].copy_from_slice(&ethertype::IPV4.to_be_bytes());
                let ip = &mut b[l3..l3 + IPV4_LEN];
                ip[0] = 0x45;
                ip[1] = underlay.dscp << 2;
                ip[6] = 0x40; // DF, ID 0: RFC 6864 atomic datagram
                ip[8] = underlay.ttl;
                ip[9] = ip_proto;
                ip[12..16].copy_from_slice(&src.octets());
                ip[16..20].copy_from_slice(&dst.octets());
                t.l4_offset = (l3 + IPV4_LEN) as u8;
                t.ipv4_sum = wire::checksum::sum(ip);
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                b[at..at + 2].copy_from_slice(&ethertype::IPV6.to_be_bytes());
                let ip = &mut b[l3..l3 + IPV6_LEN];
                let vtc_flow = (6u32 << 28) | (u32::from(underlay.dscp) << 22);
                ip[0..4].copy_from_slice(&vtc_flow.to_be_bytes());
                ip[6] = ip_proto;
                ip[7] = underlay.ttl;
                ip[8..24].copy_from_slice(&src.octets());
                ip[24..40].copy_from_slice(&dst.octets());
                t.l4_offset = (l3 + IPV6_LEN) as u8;
                t.ipv6 = true;
                t.pseudo_sum =
                    wire::checksum::ipv6_pseudo_header(&src.octets(), &dst.octets(), ip_proto, 0);
            }
            _ => return Err(EncapError::AddressFamilyMismatch),
        }
        Ok(t)
    }

    /// Builds a UDP tunnel template whose UDP payload starts with `tunnel_header`.
    fn udp(underlay: &Underlay, dst_port: u16, tunnel_header: &[u8]) -> Result<Self, EncapError> {
        let mut t = Template::new(underlay, IPPROTO_UDP, Transport::Udp)?;
        let l4 = usize::from(t.l4_offset);
        t.bytes[l4 + 2..l4 + 4].copy_from_slice(&dst_port.to_be_bytes());
        let end = l4 + UDP_LEN + tunnel_header.len();
        t.bytes[l4 + UDP_LEN..end].copy_from_slice(tunnel_header);
        t.len = end as u16;
        Ok(t)
    }

    /// Prepends the template and patches the per-packet fields.
    #[inline]
    fn push<P: Packet>(&self, pkt: &mut P) -> Result<(), DropReason> {
        self.push_hashed(pkt, packet_hash(pkt))
    }

    /// [`push`](Self::push) with the flow hash already known.
    #[inline]
    fn push_hashed<P: Packet>(&self, pkt: &mut P, hash: u32) -> Result<(), DropReason> {
        let len = usize::from(self.len);
        let l3 = usize::from(self.l3_offset);
        let l4 = usize::from(self.l4_offset);
        let total = len + pkt.len();
        let ip_len = total - l3 - if self.ipv6 { IPV6_LEN } else { 0 };
        if ip_len > usize::from(u16::MAX) {
            return Err(DropReason::TunnelOversize);
        }
        if pkt.headroom() < len {
            return Err(DropReason::NoHeadroom);
        }
        copy_header(
            pkt.prepend(len).map_err(|_| DropReason::NoHeadroom)?,
            &self.bytes[..len],
        );
        let data = pkt.data_mut();
        if self.ipv6 {
            let ip = &mut data[l3..l3 + IPV6_LEN];
            let flow = u32::from_be_bytes([ip[0], ip[1], ip[2], ip[3]]) | (hash & 0x000f_ffff);
            ip[0..4].copy_from_slice(&flow.to_be_bytes());
            ip[4..6].copy_from_slice(&(ip_len as u16).to_be_bytes());
        } else {
            let ip = &mut data[l3..l3 + IPV4_LEN];
            ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
            let csum =
                wire::checksum::finish(wire::checksum::combine(self.ipv4_sum, ip_len as u16));
            ip[10..12].copy_from_slice(&csum.to_be_bytes());
        }
        match self.transport {
            Transport::Udp => {
                let udp_len = (total - l4) as u16;
                let udp = &mut data[l4..];
                udp[0..2].copy_from_slice(&udp_source_port(hash).to_be_bytes());
                udp[4..6].copy_from_slice(&udp_len.to_be_bytes());
                if self.ipv6 {
                    // RFC 8200 section 8.1: UDP over IPv6 carries a real checksum.
                    let sum = wire::checksum::combine(
                        wire::checksum::combine(self.pseudo_sum, udp_len),
                        wire::checksum::sum(udp),
                    );
                    let csum = match wire::checksum::finish(sum) {
                        0 => 0xffff,
                        c => c,
                    };
                    udp[6..8].copy_from_slice(&csum.to_be_bytes());
                }
            }
            Transport::Gre { nvgre_flow_id } => {
                if nvgre_flow_id {
                    // RFC 7637: the key's low byte is the FlowID, for ECMP entropy.
                    data[l4 + gre::HEADER_LEN + 3] = hash as u8;
                }
            }
        }
        Ok(())
    }
}

/// Copies a template of at least 8 bytes in 8-byte words (the last word overlapping),
/// which the compiler keeps inline; `copy_from_slice` of a run-time length calls
/// `memmove`, a measurable share of a 50-byte VXLAN header's cost.
#[inline(always)]
fn copy_header(dst: &mut [u8], src: &[u8]) {
    let len = src.len();
    if len < 8 || dst.len() != len {
        dst.copy_from_slice(src);
        return;
    }
    let mut at = 0;
    while at + 8 <= len {
        dst[at..at + 8].copy_from_slice(&src[at..at + 8]);
        at += 8;
    }
    dst[len - 8..].copy_from_slice(&src[len - 8..]);
}

/// A VXLAN tunnel to one remote VTEP, ready to encapsulate.
#[derive(Debug, Clone, Copy)]
pub struct VxlanEncap {
    template: Template,
}

impl VxlanEncap {
    /// A VXLAN template to the IANA port 4789.
    pub fn new(underlay: &Underlay, vni: u32) -> Result<Self, EncapError> {
        Self::with_port(underlay, vni, vxlan::UDP_PORT)
    }

    /// A VXLAN template to a non-standard UDP port (e.g. 8472 for old Linux peers).
    pub fn with_port(underlay: &Underlay, vni: u32, dst_port: u16) -> Result<Self, EncapError> {
        let mut header = [0u8; vxlan::HEADER_LEN];
        vxlan::Repr { vni }
            .emit(&mut vxlan::Packet::new_unchecked(&mut header[..]))
            .map_err(|_| EncapError::VniOutOfRange)?;
        Ok(VxlanEncap {
            template: Template::udp(underlay, dst_port, &header)?,
        })
    }

    /// Bytes of headroom each packet needs.
    #[inline]
    pub fn overhead(&self) -> usize {
        usize::from(self.template.len)
    }

    /// Wraps the Ethernet frame in `pkt` in the outer headers, in place.
    #[inline]
    pub fn encap<P: Packet>(&self, pkt: &mut P) -> Result<(), DropReason> {
        self.template.push(pkt)
    }

    /// [`encap`](Self::encap) with the flow hash the caller already has (the RSS hash,
    /// or [`flow_hash_classified`] when it classified the frame anyway).
    #[inline]
    pub fn encap_hashed<P: Packet>(&self, pkt: &mut P, hash: u32) -> Result<(), DropReason> {
        self.template.push_hashed(pkt, hash)
    }
}

/// A Geneve tunnel to one remote endpoint, ready to encapsulate.
#[derive(Debug, Clone, Copy)]
pub struct GeneveEncap {
    template: Template,
}

impl GeneveEncap {
    /// A Geneve template carrying Ethernet (protocol 0x6558) to port 6081, with an
    /// already-encoded options area (see [`geneve::GeneveOption::emit`]); the C flag is
    /// set when any option is critical.
    pub fn new(underlay: &Underlay, vni: u32, options: &[u8]) -> Result<Self, EncapError> {
        if vni > geneve::VNI_MAX {
            return Err(EncapError::VniOutOfRange);
        }
        let mut critical = false;
        for option in geneve::Options::new(options) {
            critical |= option.map_err(EncapError::BadGeneveOptions)?.is_critical();
        }
        let repr = geneve::Repr {
            oam: false,
            critical,
            protocol_type: ethertype::TRANSPARENT_ETHERNET,
            vni,
            options,
        };
        let mut header = [0u8; geneve::HEADER_LEN + geneve::MAX_OPTIONS_LEN];
        let len = repr.buffer_len().min(header.len());
        repr.emit(&mut geneve::Packet::new_unchecked(&mut header[..len]))
            .map_err(EncapError::BadGeneveOptions)?;
        Ok(GeneveEncap {
            template: Template::udp(underlay, geneve::UDP_PORT, &header[..len])?,
        })
    }

    /// Bytes of headroom each packet needs.
    #[inline]
    pub fn overhead(&self) -> usize {
        usize::from(self.template.len)
    }

    /// Wraps the Ethernet frame in `pkt` in the outer headers, in place.
    #[inline]
    pub fn encap<P: Packet>(&self, pkt: &mut P) -> Result<(), DropReason> {
        self.template.push(pkt)
    }
}

/// How a GRE tunnel fills its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreKey {
    /// A fixed 32-bit key (RFC 2890).
    Fixed(u32),
    /// NVGRE (RFC 7637): 24-bit VSID, FlowID byte from the flow hash per packet.
    Nvgre {
        /// The virtual subnet ID.
        vsid: u32,
    },
}

/// A GRE tunnel (keyed, carrying Ethernet) to one remote endpoint.
#[derive(Debug, Clone, Copy)]
pub struct GreEncap {
    template: Template,
}

impl GreEncap {
    /// A GRE template with the key present and protocol 0x6558.
    pub fn new(underlay: &Underlay, key: GreKey) -> Result<Self, EncapError> {
        let (key, nvgre_flow_id) = match key {
            GreKey::Fixed(k) => (k, false),
            GreKey::Nvgre { vsid } if vsid <= 0x00ff_ffff => (vsid << 8, true),
            GreKey::Nvgre { .. } => return Err(EncapError::VniOutOfRange),
        };
        let mut t = Template::new(underlay, IPPROTO_GRE, Transport::Gre { nvgre_flow_id })?;
        let l4 = usize::from(t.l4_offset);
        let repr = gre::Repr {
            protocol_type: ethertype::TRANSPARENT_ETHERNET,
            checksum: false,
            key: Some(key),
            sequence: None,
        };
        let end = l4 + repr.buffer_len();
        // The template buffer always has room for 8 bytes of GRE after any IP header.
        repr.emit(&mut gre::Packet::new_unchecked(&mut t.bytes[l4..end]))
            .map_err(|_| EncapError::VniOutOfRange)?;
        t.len = end as u16;
        Ok(GreEncap { template: t })
    }

    /// Bytes of headroom each packet needs.
    #[inline]
    pub fn overhead(&self) -> usize {
        usize::from(self.template.len)
    }

    /// Wraps the Ethernet frame in `pkt` in the outer headers, in place.
    #[inline]
    pub fn encap<P: Packet>(&self, pkt: &mut P) -> Result<(), DropReason> {
        self.template.push(pkt)
    }
}

/// The outer headers of a decapsulated packet, for learning and anti-spoofing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outer {
    /// The remote tunnel endpoint.
    pub src_ip: IpAddr,
    /// Our address the packet was sent to.
    pub dst_ip: IpAddr,
    /// Outer UDP source port (0 for GRE).
    pub src_port: u16,
    /// Outer UDP destination port (0 for GRE).
    pub dst_port: u16,
    /// The underlay VLAN tag, if the outer frame was tagged.
    pub vlan: Option<VlanTag>,
}

/// Result of [`vxlan_decap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VxlanDecap {
    /// The VXLAN network identifier.
    pub vni: u32,
    /// The outer headers.
    pub outer: Outer,
}

/// Result of [`geneve_decap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneveDecap {
    /// The virtual network identifier.
    pub vni: u32,
    /// EtherType of the inner payload (0x6558 for Ethernet).
    pub protocol_type: u16,
    /// O flag: a control packet, to punt rather than forward.
    pub oam: bool,
    /// Bytes of (non-critical, ignored) options that were stripped.
    pub options_len: usize,
    /// The outer headers.
    pub outer: Outer,
}

/// Result of [`gre_decap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreDecap {
    /// The key, if present (for NVGRE, VSID << 8 | FlowID).
    pub key: Option<u32>,
    /// EtherType of the inner payload (0x6558 for Ethernet).
    pub protocol_type: u16,
    /// The outer headers.
    pub outer: Outer,
}

#[inline]
fn ip_addrs(frame: &[u8], c: &Classified) -> (IpAddr, IpAddr) {
    let l3 = usize::from(c.l3_offset);
    if c.l3 == L3::Ipv4 {
        let a = |at: usize| IpAddr::from([frame[at], frame[at + 1], frame[at + 2], frame[at + 3]]);
        (a(l3 + 12), a(l3 + 16))
    } else {
        let a = |at: usize| {
            let mut o = [0u8; 16];
            o.copy_from_slice(&frame[at..at + 16]);
            IpAddr::from(o)
        };
        (a(l3 + 8), a(l3 + 24))
    }
}

/// Locates the UDP payload of an unfragmented IP/UDP outer frame:
/// `(outer, payload start, payload end)`.
#[inline]
fn outer_udp(frame: &[u8], malformed: DropReason) -> Result<(Outer, usize, usize), DropReason> {
    let c = classify(frame)?;
    let Some(l4) = c.l4() else {
        return Err(malformed);
    };
    if !matches!(c.l3, L3::Ipv4 | L3::Ipv6) || c.ip_proto != IPPROTO_UDP || c.ip_fragment {
        return Err(malformed);
    }
    // classify checked the UDP header and its length against the IP payload.
    let udp = &frame[l4..l4 + UDP_LEN];
    let udp_len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    let (src_ip, dst_ip) = ip_addrs(frame, &c);
    let outer = Outer {
        src_ip,
        dst_ip,
        src_port: u16::from_be_bytes([udp[0], udp[1]]),
        dst_port: u16::from_be_bytes([udp[2], udp[3]]),
        vlan: c.outer_vlan,
    };
    Ok((outer, l4 + UDP_LEN, l4 + udp_len))
}

/// Strips `[..start]` and `[end..]`, leaving the inner frame, which must hold at least
/// an Ethernet header.
#[inline]
fn strip<P: Packet>(
    pkt: &mut P,
    start: usize,
    end: usize,
    malformed: DropReason,
) -> Result<(), DropReason> {
    if end < start + ETH_LEN {
        return Err(malformed);
    }
    let tail = pkt.len() - end;
    pkt.trim(tail).map_err(|_| malformed)?;
    pkt.adj(start).map_err(|_| malformed)?;
    Ok(())
}

/// Validates a VXLAN-over-UDP frame and strips it down to the inner Ethernet frame.
/// The UDP destination port is returned, not checked: the caller dispatched on it.
pub fn vxlan_decap<P: Packet>(pkt: &mut P) -> Result<VxlanDecap, DropReason> {
    const BAD: DropReason = DropReason::MalformedVxlan;
    let frame = pkt.data();
    let (outer, start, end) = outer_udp(frame, BAD)?;
    let header = vxlan::Packet::new_checked(&frame[start..end]).map_err(|_| BAD)?;
    let vni = vxlan::Repr::parse(&header).map_err(|_| BAD)?.vni;
    strip(pkt, start + vxlan::HEADER_LEN, end, BAD)?;
    Ok(VxlanDecap { vni, outer })
}

/// Validates a Geneve-over-UDP frame and strips it down to the inner payload. Drops
/// packets with a critical option, since this gateway implements none (RFC 8926 3.5).
pub fn geneve_decap<P: Packet>(pkt: &mut P) -> Result<GeneveDecap, DropReason> {
    const BAD: DropReason = DropReason::MalformedGeneve;
    let frame = pkt.data();
    let (outer, start, end) = outer_udp(frame, BAD)?;
    let header = geneve::Packet::new_checked(&frame[start..end]).map_err(|_| BAD)?;
    let repr = geneve::Repr::parse(&header).map_err(|_| BAD)?;
    for option in header.option_iter() {
        if option.map_err(|_| BAD)?.is_critical() {
            return Err(DropReason::UnsupportedGeneveOption);
        }
    }
    let result = GeneveDecap {
        vni: repr.vni,
        protocol_type: repr.protocol_type,
        oam: repr.oam,
        options_len: repr.options.len(),
        outer,
    };
    strip(pkt, start + header.header_len(), end, BAD)?;
    Ok(result)
}

/// Validates a GRE-over-IP frame (version 0, checksum if present) and strips it down
/// to the inner payload.
pub fn gre_decap<P: Packet>(pkt: &mut P) -> Result<GreDecap, DropReason> {
    const BAD: DropReason = DropReason::MalformedGre;
    let frame = pkt.data();
    let c = classify(frame)?;
    let Some(l4) = c.l4() else {
        return Err(BAD);
    };
    if !matches!(c.l3, L3::Ipv4 | L3::Ipv6) || c.ip_proto != IPPROTO_GRE || c.ip_fragment {
        return Err(BAD);
    }
    let end = c.l3_end();
    let header = gre::Packet::new_checked(&frame[l4..end]).map_err(|_| BAD)?;
    let repr = gre::Repr::parse(&header).map_err(|_| BAD)?;
    let (src_ip, dst_ip) = ip_addrs(frame, &c);
    let result = GreDecap {
        key: repr.key,
        protocol_type: repr.protocol_type,
        outer: Outer {
            src_ip,
            dst_ip,
            src_port: 0,
            dst_port: 0,
            vlan: c.outer_vlan,
        },
    };
    strip(pkt, l4 + header.header_len(), end, BAD)?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::HeapPacket;
    use crate::wire::{EthernetFrame, IpProtocol, Ipv4Packet, Ipv6Packet, UdpPacket, VlanTci, hex};
    use core::net::{Ipv4Addr, Ipv6Addr};

    // Golden frames built with scapy 2.5. `inner` is
    // `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
    //  /IP(src='10.0.0.1', dst='10.0.0.2', id=1)/UDP(sport=1234, dport=80)/b'hello'`,
    // `outer_eth` is `Ether(src='02:00:00:00:aa:01', dst='02:00:00:00:bb:02')`, and the
    // flow entropy is RSS hash 0x1234: source port 0xd234, flow label 0x01234, FlowID 0x34.
    const INNER: &str = "02000000000202000000000108004500002100010000401166c90a0000010a000002\
                         04d20050000da2dd68656c6c6f";
    /// `outer_eth/IP(src='192.0.2.1', dst='192.0.2.2', ttl=64, tos=46<<2, flags='DF',
    /// id=0)/UDP(sport=0xd234, dport=4789, chksum=0)/VXLAN(flags=0x08, vni=5001)/inner`.
    const VXLAN4: &str = "02000000bb0202000000aa01080045b80053000040004011b5dec0000201c0000202\
                          d23412b5003f0000080000000013890002000000000202000000000108004500002100\
                          010000401166c90a0000010a00000204d20050000da2dd68656c6c6f";
    /// `outer_eth/IPv6(src='2001:db8::1', dst='2001:db8::2', hlim=64, tc=46<<2,
    /// fl=0x01234)/UDP(sport=0xd234, dport=4789)/VXLAN(flags=0x08, vni=5001)/inner`
    /// (scapy computed the UDP checksum, 0x361c).
    const VXLAN6: &str = "02000000bb0202000000aa0186dd6b801234003f114020010db80000000000000000\
                          0000000120010db8000000000000000000000002d23412b5003f361c08000000001389\
                          0002000000000202000000000108004500002100010000401166c90a0000010a000002\
                          04d20050000da2dd68656c6c6f";
    /// `outer_eth/IP(src='192.0.2.1', dst='192.0.2.2', ttl=64, flags='DF', id=0)
    /// /UDP(sport=0xd234, dport=6081, chksum=0)/GENEVE(vni=5001, proto=0x6558,
    /// critical=1, options=[GeneveOptions(classid=0x0102, type=0x80,
    /// data=b'\x01\x02\x03\x04')])/inner`.
    const GENEVE4: &str = "02000000bb0202000000aa0108004500005b000040004011b68ec0000201c0000202\
                           d23417c1004700000240655800138900010280010102030402000000000202000000\
                           000108004500002100010000401166c90a0000010a00000204d20050000da2dd6865\
                           6c6c6f";
    /// `outer_eth/IP(src='192.0.2.1', dst='192.0.2.2', ttl=64, flags='DF', id=0)
    /// /GRE(key_present=1, key=0x00138934, proto=0x6558)/inner` (NVGRE VSID 5001).
    const GRE4: &str = "02000000bb0202000000aa0108004500004b00004000402fb680c0000201c0000202\
                        200065580013893402000000000202000000000108004500002100010000401166c9\
                        0a0000010a00000204d20050000da2dd68656c6c6f";
    /// `outer_eth/Dot1Q(vlan=7)/IPv6(src='2001:db8::1', dst='2001:db8::2', hlim=255,
    /// fl=0x01234)/GRE(key_present=1, key=0x00138934, proto=0x6558)/inner`.
    const GRE6_TAGGED: &str = "02000000bb0202000000aa018100000786dd6000123400372fff20010db8000000\
                               00000000000000000120010db80000000000000000000000022000655800138934\
                               02000000000202000000000108004500002100010000401166c90a0000010a0000\
                               0204d20050000da2dd68656c6c6f";

    fn underlay4(dscp: u8) -> Underlay {
        Underlay {
            src_mac: EthernetAddress([2, 0, 0, 0, 0xaa, 1]),
            dst_mac: EthernetAddress([2, 0, 0, 0, 0xbb, 2]),
            vlan: None,
            src_ip: Ipv4Addr::new(192, 0, 2, 1).into(),
            dst_ip: Ipv4Addr::new(192, 0, 2, 2).into(),
            ttl: 64,
            dscp,
        }
    }

    fn underlay6(dscp: u8, ttl: u8) -> Underlay {
        Underlay {
            src_ip: "2001:db8::1".parse::<Ipv6Addr>().unwrap().into(),
            dst_ip: "2001:db8::2".parse::<Ipv6Addr>().unwrap().into(),
            ttl,
            ..underlay4(dscp)
        }
    }

    fn inner_packet() -> HeapPacket {
        let mut p = HeapPacket::from_frame(&hex(INNER));
        p.set_rss_hash(Some(0x1234));
        p
    }

    /// RFC 1071 by the book, independent of `wire::checksum`.
    fn naive_sum(chunks: &[&[u8]]) -> u16 {
        let bytes: Vec<u8> = chunks.concat();
        let mut acc: u32 = 0;
        for pair in bytes.chunks(2) {
            acc += u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    #[test]
    fn overheads() {
        assert_eq!(VXLAN_IPV4_OVERHEAD, 50);
        assert_eq!(VXLAN_IPV6_OVERHEAD, 70);
        assert_eq!(GENEVE_IPV4_OVERHEAD, 50);
        assert_eq!(GRE_KEY_IPV4_OVERHEAD, 42);
        let e = VxlanEncap::new(&underlay4(0), 1).unwrap();
        assert_eq!(e.overhead(), VXLAN_IPV4_OVERHEAD);
        let e = VxlanEncap::new(&underlay6(0, 64), 1).unwrap();
        assert_eq!(e.overhead(), VXLAN_IPV6_OVERHEAD);
        let e = GreEncap::new(&underlay4(0), GreKey::Fixed(1)).unwrap();
        assert_eq!(e.overhead(), GRE_KEY_IPV4_OVERHEAD);
    }

    #[test]
    fn source_port_range() {
        assert_eq!(udp_source_port(0), 49152);
        assert_eq!(udp_source_port(u32::MAX), 49152); // folds to zero
        assert_eq!(udp_source_port(0x3fff), 65535);
        assert_eq!(udp_source_port(0x1234), 0xd234);
    }

    #[test]
    fn vxlan_ipv4_matches_golden_and_smoltcp() {
        let mut p = inner_packet();
        VxlanEncap::new(&underlay4(46), 5001)
            .unwrap()
            .encap(&mut p)
            .unwrap();
        assert_eq!(p.data(), &hex(VXLAN4)[..]);
        let eth = EthernetFrame::new_checked(p.data()).unwrap();
        let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!(naive_sum(&[&p.data()[14..34]]), 0xffff);
        assert_eq!(ip.total_len(), 83);
        assert!(ip.dont_frag());
        assert_eq!(ip.next_header(), IpProtocol::Udp);
        let udp = UdpPacket::new_checked(ip.payload()).unwrap();
        assert_eq!(
            (udp.src_port(), udp.dst_port(), udp.len()),
            (0xd234, 4789, 63)
        );
        assert_eq!(udp.checksum(), 0, "RFC 7348: zero UDP checksum over IPv4");
    }

    #[test]
    fn vxlan_ipv6_matches_golden_and_checksum() {
        let mut p = inner_packet();
        VxlanEncap::new(&underlay6(46, 64), 5001)
            .unwrap()
            .encap(&mut p)
            .unwrap();
        assert_eq!(p.data(), &hex(VXLAN6)[..]);
        let eth = EthernetFrame::new_checked(p.data()).unwrap();
        let ip = Ipv6Packet::new_checked(eth.payload()).unwrap();
        assert_eq!(ip.flow_label(), 0x01234);
        assert_eq!(ip.payload_len(), 63);
        let udp = UdpPacket::new_checked(ip.payload()).unwrap();
        assert!(udp.verify_checksum(&ip.src_addr().into(), &ip.dst_addr().into()));
        // Independently: pseudo-header + UDP datagram sums to all ones.
        let d = p.data();
        let len = (d.len() - 54) as u32;
        let pseudo_tail = [&len.to_be_bytes()[..], &[0, 0, 0, 17]].concat();
        assert_eq!(naive_sum(&[&d[22..54], &pseudo_tail, &d[54..]]), 0xffff);
    }

    #[test]
    fn ipv6_udp_checksum_for_odd_lengths_and_never_zero() {
        let e = VxlanEncap::new(&underlay6(0, 64), 7).unwrap();
        for extra in 0..40u8 {
            let mut frame = hex(INNER);
            frame.extend((0..extra).map(|i| i.wrapping_mul(37)));
            let mut p = HeapPacket::from_frame(&frame);
            e.encap(&mut p).unwrap();
            let ip = Ipv6Packet::new_checked(&p.data()[14..]).unwrap();
            let udp = UdpPacket::new_checked(ip.payload()).unwrap();
            assert_ne!(udp.checksum(), 0);
            assert!(udp.verify_checksum(&ip.src_addr().into(), &ip.dst_addr().into()));
        }
    }

    #[test]
    fn geneve_with_options_matches_golden() {
        let mut options = [0u8; 8];
        wire::geneve::GeneveOption {
            class: 0x0102,
            option_type: 0x80,
            data: &[1, 2, 3, 4],
        }
        .emit(&mut options)
        .unwrap();
        let e = GeneveEncap::new(&underlay4(0), 5001, &options).unwrap();
        assert_eq!(e.overhead(), GENEVE_IPV4_OVERHEAD + 8);
        let mut p = inner_packet();
        e.encap(&mut p).unwrap();
        assert_eq!(p.data(), &hex(GENEVE4)[..]);
        assert!(
            Ipv4Packet::new_checked(&p.data()[14..])
                .unwrap()
                .verify_checksum()
        );
    }

    #[test]
    fn nvgre_matches_golden() {
        let e = GreEncap::new(&underlay4(0), GreKey::Nvgre { vsid: 5001 }).unwrap();
        let mut p = inner_packet();
        e.encap(&mut p).unwrap();
        assert_eq!(p.data(), &hex(GRE4)[..]);
        let tagged = Underlay {
            vlan: Some(VlanTci::new(0, false, 7).unwrap()),
            ..underlay6(0, 255)
        };
        let e = GreEncap::new(&tagged, GreKey::Nvgre { vsid: 5001 }).unwrap();
        assert_eq!(e.overhead(), GRE_KEY_IPV6_OVERHEAD + UNDERLAY_VLAN_OVERHEAD);
        let mut p = inner_packet();
        e.encap(&mut p).unwrap();
        assert_eq!(p.data(), &hex(GRE6_TAGGED)[..]);
    }

    #[test]
    fn decap_round_trips() {
        let inner = hex(INNER);
        let tagged = Underlay {
            vlan: Some(VlanTci::new(3, false, 42).unwrap()),
            ..underlay4(10)
        };
        for underlay in [underlay4(0), underlay6(0, 64), tagged] {
            let mut p = HeapPacket::from_frame(&inner);
            VxlanEncap::new(&underlay, 0xabcdef)
                .unwrap()
                .encap(&mut p)
                .unwrap();
            let d = vxlan_decap(&mut p).unwrap();
            assert_eq!(p.data(), &inner[..]);
            assert_eq!(d.vni, 0xabcdef);
            assert_eq!(
                (d.outer.src_ip, d.outer.dst_ip),
                (underlay.src_ip, underlay.dst_ip)
            );
            assert_eq!(d.outer.dst_port, 4789);
            assert_eq!(
                d.outer.vlan.map(|t| t.vid()),
                underlay.vlan.map(|t| t.vid())
            );
            assert_eq!(d.outer.src_port, udp_source_port(flow_hash(&inner)));

            let mut p = HeapPacket::from_frame(&inner);
            let opts = [0xff, 0xff, 0x01, 0x01, 9, 9, 9, 9];
            GeneveEncap::new(&underlay, 77, &opts)
                .unwrap()
                .encap(&mut p)
                .unwrap();
            let d = geneve_decap(&mut p).unwrap();
            assert_eq!(p.data(), &inner[..]);
            assert_eq!(
                (d.vni, d.protocol_type, d.oam, d.options_len),
                (77, 0x6558, false, 8)
            );

            let mut p = HeapPacket::from_frame(&inner);
            GreEncap::new(&underlay, GreKey::Fixed(0xdead_beef))
                .unwrap()
                .encap(&mut p)
                .unwrap();
            let d = gre_decap(&mut p).unwrap();
            assert_eq!(p.data(), &inner[..]);
            assert_eq!((d.key, d.protocol_type), (Some(0xdead_beef), 0x6558));
            assert_eq!(d.outer.src_ip, underlay.src_ip);
        }
    }

    #[test]
    fn decap_strips_ethernet_padding() {
        // A tiny inner frame padded by the sender's NIC to the 60-byte minimum is not
        // possible for VXLAN (too big already), so pad the golden one explicitly.
        let mut frame = hex(VXLAN4);
        frame.extend([0u8; 6]);
        let mut p = HeapPacket::from_frame(&frame);
        assert_eq!(vxlan_decap(&mut p).unwrap().vni, 5001);
        assert_eq!(p.data(), &hex(INNER)[..]);
    }

    #[test]
    fn decap_rejects_malformed() {
        let mut clear_i = hex(VXLAN4);
        clear_i[42] = 0;
        assert_eq!(
            vxlan_decap(&mut HeapPacket::from_frame(&clear_i)),
            Err(DropReason::MalformedVxlan)
        );
        // GRE is not VXLAN, and VXLAN is not GRE.
        assert_eq!(
            vxlan_decap(&mut HeapPacket::from_frame(&hex(GRE4))),
            Err(DropReason::MalformedVxlan)
        );
        assert_eq!(
            gre_decap(&mut HeapPacket::from_frame(&hex(VXLAN4))),
            Err(DropReason::MalformedGre)
        );
        // Outer problems surface as classify's reasons.
        let golden = hex(VXLAN4);
        assert_eq!(
            vxlan_decap(&mut HeapPacket::from_frame(&golden[..40])),
            Err(DropReason::BadIpv4Length)
        );
        // A UDP datagram too short for VXLAN + inner Ethernet.
        let mut short = golden[..60].to_vec();
        short[16..18].copy_from_slice(&46u16.to_be_bytes());
        short[38..40].copy_from_slice(&26u16.to_be_bytes());
        let mut p = HeapPacket::from_frame(&short);
        assert_eq!(vxlan_decap(&mut p), Err(DropReason::MalformedVxlan));
        assert_eq!(
            p.data(),
            &short[..],
            "a failed decap leaves the packet alone"
        );

        let mut v1 = hex(GENEVE4);
        v1[42] |= 0x40;
        assert_eq!(
            geneve_decap(&mut HeapPacket::from_frame(&v1)),
            Err(DropReason::MalformedGeneve)
        );
        assert_eq!(
            geneve_decap(&mut HeapPacket::from_frame(&hex(GENEVE4))),
            Err(DropReason::UnsupportedGeneveOption),
            "type 0x80 is critical and not understood"
        );
        let mut bad_key_csum = hex(GRE4);
        bad_key_csum[34] |= 0x80; // C bit without a checksum that verifies
        assert_eq!(
            gre_decap(&mut HeapPacket::from_frame(&bad_key_csum)),
            Err(DropReason::MalformedGre)
        );
    }

    #[test]
    fn encap_failures_leave_the_packet_alone() {
        let inner = hex(INNER);
        let e = VxlanEncap::new(&underlay4(0), 1).unwrap();
        let mut p = HeapPacket::with_room(&inner, VXLAN_IPV4_OVERHEAD - 1, 0);
        assert_eq!(e.encap(&mut p), Err(DropReason::NoHeadroom));
        assert_eq!(p.data(), &inner[..]);
        // The outer IPv4 total length counts 36 bytes of outer headers plus the frame.
        let largest = vec![0u8; 65_535 - 36];
        assert!(
            e.encap(&mut HeapPacket::with_room(&largest, 128, 0))
                .is_ok()
        );
        let big = vec![0u8; largest.len() + 1];
        let mut p = HeapPacket::with_room(&big, 128, 0);
        assert_eq!(e.encap(&mut p), Err(DropReason::TunnelOversize));
        assert_eq!(p.len(), big.len());
    }

    #[test]
    fn template_configuration_errors() {
        let mixed = Underlay {
            dst_ip: "2001:db8::2".parse::<Ipv6Addr>().unwrap().into(),
            ..underlay4(0)
        };
        assert_eq!(
            VxlanEncap::new(&mixed, 1).unwrap_err(),
            EncapError::AddressFamilyMismatch
        );
        assert_eq!(
            VxlanEncap::new(&underlay4(64), 1).unwrap_err(),
            EncapError::DscpOutOfRange
        );
        assert_eq!(
            VxlanEncap::new(&underlay4(0), 1 << 24).unwrap_err(),
            EncapError::VniOutOfRange
        );
        assert_eq!(
            GreEncap::new(&underlay4(0), GreKey::Nvgre { vsid: 1 << 24 }).unwrap_err(),
            EncapError::VniOutOfRange
        );
        assert!(matches!(
            GeneveEncap::new(&underlay4(0), 1, &[0, 1, 2, 3, 4]).unwrap_err(),
            EncapError::BadGeneveOptions(_)
        ));
        assert!(matches!(
            GeneveEncap::new(&underlay4(0), 1, &[0, 1, 2, 1]).unwrap_err(),
            EncapError::BadGeneveOptions(_)
        ));
    }

    #[test]
    fn flow_hash_is_deterministic_and_flow_sensitive() {
        let a = hex(INNER);
        assert_eq!(flow_hash(&a), flow_hash(&a));
        let mut other_port = a.clone();
        other_port[34] ^= 1;
        assert_ne!(flow_hash(&a), flow_hash(&other_port));
        let mut other_payload = a.clone();
        *other_payload.last_mut().unwrap() ^= 1;
        assert_eq!(flow_hash(&a), flow_hash(&other_payload));
        // Non-IP and runt frames still hash without panicking.
        let _ = flow_hash(&a[..14]);
        let _ = flow_hash(&a[..3]);
        let _ = flow_hash(&[]);
        // Without RSS the computed hash picks the port, and the packet keeps its bytes.
        let mut p = HeapPacket::from_frame(&a);
        VxlanEncap::new(&underlay4(0), 1)
            .unwrap()
            .encap(&mut p)
            .unwrap();
        let port = u16::from_be_bytes([p.data()[34], p.data()[35]]);
        assert_eq!(port, udp_source_port(flow_hash(&a)));
        assert!(port >= 49152);
    }
}
