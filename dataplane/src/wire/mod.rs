//! Zero-copy packet views, after smoltcp's `wire` module.
//!
//! This module owns every header layout the gateway reads or writes. Per protocol there
//! is a `Packet<T: AsRef<[u8]>>` view over a buffer (`new_unchecked`, `check_len`,
//! `new_checked`, getters, and setters when `T: AsMut<[u8]>`) whose private
//! `mod field` reads like the RFC's header diagram, plus a small owned `Repr` with
//! `parse` (semantic validation) and `emit`. Errors are typed ([`Error`]), never panics:
//! every accessor of a view built with `new_checked` is in bounds.
//!
//! - Ethernet, ARP, IPv4, IPv6, UDP, TCP, ICMPv4 and ICMPv6 are smoltcp 0.14's views,
//!   re-exported here under explicit names so callers never reach into smoltcp.
//! - Our own views cover what smoltcp lacks: [`vlan`] (802.1Q / 802.1ad tags),
//!   [`vxlan`] (RFC 7348), [`geneve`] (RFC 8926, with an option iterator), [`gre`]
//!   (RFC 2784 / RFC 2890, key for NVGRE) and [`stt`] (draft-davie-stt frame header).
//! - [`checksum`] has the RFC 1071 helpers the encapsulation path uses.

pub mod checksum;
pub mod geneve;
pub mod gre;
pub mod stt;
pub mod vlan;
pub mod vxlan;

/// Which checksums smoltcp's `Repr::emit`/`parse` compute or verify.
pub use smoltcp::phy::ChecksumCapabilities;
/// smoltcp's own error for its views (it carries no detail).
pub use smoltcp::wire::Error as SmoltcpError;
pub use smoltcp::wire::{
    ArpHardware, ArpOperation, ArpPacket, ArpRepr, ETHERNET_HEADER_LEN, EthernetAddress,
    EthernetFrame, EthernetProtocol, EthernetRepr, IPV4_HEADER_LEN, IPV6_HEADER_LEN, Icmpv4Message,
    Icmpv4Packet, Icmpv4Repr, Icmpv6Message, Icmpv6Packet, Icmpv6Repr, IpAddress, IpProtocol,
    Ipv4Address, Ipv4Packet, Ipv4Repr, Ipv6Address, Ipv6Packet, Ipv6Repr, TCP_HEADER_LEN,
    TcpPacket, TcpRepr, UDP_HEADER_LEN, UdpPacket, UdpRepr,
};

pub use geneve::{Packet as GenevePacket, Repr as GeneveRepr};
pub use gre::{Packet as GrePacket, Repr as GreRepr};
pub use stt::{Packet as SttPacket, Repr as SttRepr};
pub use vlan::{Packet as VlanPacket, Repr as VlanRepr, Tci as VlanTci};
pub use vxlan::{Packet as VxlanPacket, Repr as VxlanRepr};

/// A byte range of a fixed-position header field.
pub type Field = core::ops::Range<usize>;
/// The bytes from a position to the end of the buffer.
pub type Rest = core::ops::RangeFrom<usize>;

/// Ethertypes the gateway dispatches on (values from the IEEE registry).
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// 802.1Q customer VLAN tag.
    pub const VLAN_8021Q: u16 = 0x8100;
    /// 802.1ad service VLAN tag (QinQ outer tag).
    pub const VLAN_8021AD: u16 = 0x88a8;
    /// Pre-standard QinQ outer tag still sent by some switches.
    pub const VLAN_QINQ_LEGACY: u16 = 0x9100;
    /// Transparent Ethernet Bridging: an Ethernet frame inside GRE or Geneve.
    pub const TRANSPARENT_ETHERNET: u16 = 0x6558;

    /// True for the TPIDs that introduce a VLAN tag.
    #[inline]
    pub const fn is_vlan_tpid(ethertype: u16) -> bool {
        matches!(ethertype, VLAN_8021Q | VLAN_8021AD | VLAN_QINQ_LEGACY)
    }
}

/// Why one of our own views rejected a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer ends before the header, or before what a length field announces.
    Truncated,
    /// A version field this parser does not speak (the value is carried).
    UnsupportedVersion(u8),
    /// A flag that must be set is clear, or one that must be clear is set.
    BadFlags,
    /// A length field is inconsistent with the header's own structure.
    BadLength,
    /// A value outside its field's range was asked to be emitted.
    OutOfRange,
    /// A checksum did not verify.
    BadChecksum,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Truncated => f.write_str("header cut short"),
            Error::UnsupportedVersion(v) => write!(f, "unsupported version {v}"),
            Error::BadFlags => f.write_str("invalid flags"),
            Error::BadLength => f.write_str("inconsistent length field"),
            Error::OutOfRange => f.write_str("value out of its field's range"),
            Error::BadChecksum => f.write_str("checksum mismatch"),
        }
    }
}

impl std::error::Error for Error {}

/// Result of our own views.
pub type Result<T> = core::result::Result<T, Error>;

#[inline]
pub(crate) fn read_u16(data: &[u8], field: Field) -> u16 {
    let b = &data[field];
    u16::from_be_bytes([b[0], b[1]])
}

#[inline]
pub(crate) fn read_u24(data: &[u8], field: Field) -> u32 {
    let b = &data[field];
    u32::from_be_bytes([0, b[0], b[1], b[2]])
}

#[inline]
pub(crate) fn read_u32(data: &[u8], field: Field) -> u32 {
    let b = &data[field];
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[inline]
pub(crate) fn write_u16(data: &mut [u8], field: Field, value: u16) {
    data[field].copy_from_slice(&value.to_be_bytes());
}

#[inline]
pub(crate) fn write_u24(data: &mut [u8], field: Field, value: u32) {
    data[field].copy_from_slice(&value.to_be_bytes()[1..]);
}

#[inline]
pub(crate) fn write_u32(data: &mut [u8], field: Field, value: u32) {
    data[field].copy_from_slice(&value.to_be_bytes());
}

/// Decodes a hex string into bytes, for golden vectors in tests.
#[cfg(test)]
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(s.len().is_multiple_of(2), "odd hex length");
    s.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}
