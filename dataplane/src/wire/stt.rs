//! STT frame header (draft-davie-stt-08 section 3.1).
//!
//! STT rides in a TCP-like segment (destination port 7471); this view starts after that
//! 20-byte TCP-like header, at the STT frame header of the first segment:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Version      | Flags         |  L4 Offset    |  Reserved     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Max. Segment Size          | PCP |V|     VLAN ID           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                     Context ID (64 bits)                      +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Padding                   |    data                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
//! ```
//!
//! Flag bits follow the draft, Open vSwitch's `stt.c` and Wireshark's dissector: 0x01 checksum verified,
//! 0x02 checksum partial, 0x04 inner IP is IPv4, 0x08 inner L4 is TCP; 0xf0 are sent as
//! zero and ignored on receipt. The padding keeps the inner IP header 4-byte aligned.

use super::vlan::Tci;
use super::{Error, Result, read_u16, write_u16};

mod field {
    use crate::wire::{Field, Rest};
    pub const VERSION: usize = 0;
    pub const FLAGS: usize = 1;
    pub const L4_OFFSET: usize = 2;
    pub const RESERVED: usize = 3;
    pub const MSS: Field = 4..6;
    pub const VLAN_TCI: Field = 6..8;
    pub const CONTEXT_ID: Field = 8..16;
    pub const PADDING: Field = 16..18;
    pub const PAYLOAD: Rest = 18..;
}

/// Length of the STT frame header including its 2 bytes of padding.
pub const HEADER_LEN: usize = field::PAYLOAD.start;
/// The TCP destination port STT uses.
pub const TCP_PORT: u16 = 7471;
/// The only version defined.
pub const VERSION: u8 = 0;
/// The sender (or its NIC) verified the inner checksum.
pub const FLAG_CSUM_VERIFIED: u8 = 0x01;
/// The inner L4 checksum is partial; `l4_offset` says where the L4 header starts.
pub const FLAG_CSUM_PARTIAL: u8 = 0x02;
/// The inner IP packet is IPv4 (else IPv6).
pub const FLAG_IPV4: u8 = 0x04;
/// The inner L4 protocol is TCP.
pub const FLAG_TCP: u8 = 0x08;
const FLAGS_DEFINED: u8 = 0x0f;
/// The V bit in the PCP/V/VID word: a VLAN tag was stripped from the inner frame.
const VLAN_PRESENT: u16 = 0x1000;

/// A read/write view of an STT frame header and the inner frame after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length; accessors may panic on a short one.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Ensures every accessor stays in bounds.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Returns the underlying buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version (0).
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION]
    }

    /// The flags byte.
    #[inline]
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// Offset of the inner L4 header from the end of this header.
    #[inline]
    pub fn l4_offset(&self) -> u8 {
        self.buffer.as_ref()[field::L4_OFFSET]
    }

    /// Maximum segment size the receiver should use when resegmenting.
    #[inline]
    pub fn mss(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::MSS)
    }

    /// The raw PCP/V/VID word.
    #[inline]
    pub fn vlan_tci_raw(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::VLAN_TCI)
    }

    /// The inner frame's VLAN tag when the V bit is set (the V bit reads as DEI 0).
    #[inline]
    pub fn vlan(&self) -> Option<Tci> {
        let raw = self.vlan_tci_raw();
        (raw & VLAN_PRESENT != 0).then_some(Tci(raw & !VLAN_PRESENT))
    }

    /// The 64-bit context ID (the virtual network).
    #[inline]
    pub fn context_id(&self) -> u64 {
        let b = &self.buffer.as_ref()[field::CONTEXT_ID];
        u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    /// The inner Ethernet frame.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the version.
    #[inline]
    pub fn set_version(&mut self, version: u8) {
        self.buffer.as_mut()[field::VERSION] = version;
    }

    /// Sets the flags byte.
    #[inline]
    pub fn set_flags(&mut self, flags: u8) {
        self.buffer.as_mut()[field::FLAGS] = flags;
    }

    /// Sets the L4 offset.
    #[inline]
    pub fn set_l4_offset(&mut self, offset: u8) {
        self.buffer.as_mut()[field::L4_OFFSET] = offset;
    }

    /// Zeroes the reserved byte and the padding, as senders must.
    #[inline]
    pub fn clear_reserved(&mut self) {
        let data = self.buffer.as_mut();
        data[field::RESERVED] = 0;
        data[field::PADDING].fill(0);
    }

    /// Sets the MSS.
    #[inline]
    pub fn set_mss(&mut self, mss: u16) {
        write_u16(self.buffer.as_mut(), field::MSS, mss)
    }

    /// Sets the PCP/V/VID word from an optional tag (the tag's DEI cannot be carried).
    #[inline]
    pub fn set_vlan(&mut self, vlan: Option<Tci>) {
        let raw = vlan.map_or(0, |tci| (tci.0 & !VLAN_PRESENT) | VLAN_PRESENT);
        write_u16(self.buffer.as_mut(), field::VLAN_TCI, raw)
    }

    /// Sets the context ID.
    #[inline]
    pub fn set_context_id(&mut self, id: u64) {
        self.buffer.as_mut()[field::CONTEXT_ID].copy_from_slice(&id.to_be_bytes());
    }

    /// The inner frame, writable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// An STT frame header as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// The defined flag bits (`FLAG_*`); undefined bits are dropped on parse.
    pub flags: u8,
    /// Inner L4 header offset, meaningful with [`FLAG_CSUM_PARTIAL`].
    pub l4_offset: u8,
    /// MSS for resegmentation (0 when the frame was not segmented).
    pub mss: u16,
    /// Inner VLAN tag carried out of band (PCP and VID only).
    pub vlan: Option<Tci>,
    /// The virtual network.
    pub context_id: u64,
}

impl Repr {
    /// Parses a header: version 0; "checksum partial" and "checksum verified" are
    /// exclusive (a sender sets one or the other); a partial checksum needs an L4 offset
    /// past at least an inner Ethernet header.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        let version = packet.version();
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let flags = packet.flags() & FLAGS_DEFINED;
        if flags & (FLAG_CSUM_PARTIAL | FLAG_CSUM_VERIFIED)
            == FLAG_CSUM_PARTIAL | FLAG_CSUM_VERIFIED
        {
            return Err(Error::BadFlags);
        }
        if flags & FLAG_CSUM_PARTIAL != 0 && usize::from(packet.l4_offset()) < 14 {
            return Err(Error::BadLength);
        }
        Ok(Repr {
            flags,
            l4_offset: packet.l4_offset(),
            mss: packet.mss(),
            vlan: packet.vlan(),
            context_id: packet.context_id(),
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    #[inline]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into a buffer of at least [`HEADER_LEN`] bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        if self.flags & !FLAGS_DEFINED != 0 {
            return Err(Error::BadFlags);
        }
        packet.check_len()?;
        packet.set_version(VERSION);
        packet.set_flags(self.flags);
        packet.set_l4_offset(self.l4_offset);
        packet.clear_reserved();
        packet.set_mss(self.mss);
        packet.set_vlan(self.vlan);
        packet.set_context_id(self.context_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::hex;

    /// Assembled by hand from the draft's figure and Open vSwitch's `struct stthdr` (no
    /// scapy layer exists): version 0, flags 0x0e (partial | IPv4 | TCP), L4 offset 34
    /// (Ethernet + IPv4), reserved 0, MSS 1460, PCP 5 V=1 VID 100, context 0x1389,
    /// padding, then the first inner byte.
    const GOLDEN: &str = "000e2200 05b4b064 0000000000001389 0000 02";

    #[test]
    fn deconstruct_golden() {
        let bytes = hex(GOLDEN);
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.version(), 0);
        assert_eq!(p.flags(), FLAG_CSUM_PARTIAL | FLAG_IPV4 | FLAG_TCP);
        assert_eq!(p.l4_offset(), 34);
        assert_eq!(p.mss(), 1460);
        let tci = p.vlan().unwrap();
        assert_eq!((tci.pcp(), tci.dei(), tci.vid()), (5, false, 100));
        assert_eq!(p.context_id(), 0x1389);
        assert_eq!(p.payload(), &[0x02]);
    }

    #[test]
    fn construct_matches_golden() {
        let mut bytes = [0xffu8; 19];
        bytes[18] = 0x02;
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_version(0);
        p.set_flags(FLAG_CSUM_PARTIAL | FLAG_IPV4 | FLAG_TCP);
        p.set_l4_offset(34);
        p.clear_reserved();
        p.set_mss(1460);
        p.set_vlan(Some(Tci::new(5, false, 100).unwrap()));
        p.set_context_id(0x1389);
        assert_eq!(&bytes[..], &hex(GOLDEN)[..]);
    }

    #[test]
    fn parse_emit_round_trip() {
        let bytes = hex(GOLDEN);
        let repr = Repr::parse(&Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        let mut out = [0xaau8; HEADER_LEN];
        repr.emit(&mut Packet::new_unchecked(&mut out[..])).unwrap();
        assert_eq!(&out[..], &bytes[..HEADER_LEN]);

        let untagged = Repr {
            flags: FLAG_CSUM_VERIFIED,
            l4_offset: 0,
            mss: 0,
            vlan: None,
            context_id: u64::MAX,
        };
        untagged
            .emit(&mut Packet::new_unchecked(&mut out[..]))
            .unwrap();
        assert_eq!(Repr::parse(&Packet::new_unchecked(&out[..])), Ok(untagged));
    }

    #[test]
    fn undefined_flags_are_ignored_on_receipt() {
        let mut bytes = hex(GOLDEN);
        bytes[1] |= 0xf0;
        let repr = Repr::parse(&Packet::new_unchecked(&bytes[..])).unwrap();
        assert_eq!(repr.flags, FLAG_CSUM_PARTIAL | FLAG_IPV4 | FLAG_TCP);
    }

    #[test]
    fn rejects_truncated_version_flags_and_offset() {
        let bytes = hex(GOLDEN);
        assert_eq!(Packet::new_checked(&bytes[..17]), Err(Error::Truncated));
        let mut v1 = bytes.clone();
        v1[0] = 1;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&v1[..])),
            Err(Error::UnsupportedVersion(1))
        );
        let mut both = bytes.clone();
        both[1] |= FLAG_CSUM_VERIFIED;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&both[..])),
            Err(Error::BadFlags)
        );
        let mut no_offset = bytes.clone();
        no_offset[2] = 0;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&no_offset[..])),
            Err(Error::BadLength)
        );
        let mut out = [0u8; HEADER_LEN];
        let bad = Repr {
            flags: 0x10,
            l4_offset: 0,
            mss: 0,
            vlan: None,
            context_id: 0,
        };
        assert_eq!(
            bad.emit(&mut Packet::new_unchecked(&mut out[..])),
            Err(Error::BadFlags)
        );
        assert_eq!(
            Repr { flags: 0, ..bad }.emit(&mut Packet::new_unchecked(&mut out[..5])),
            Err(Error::Truncated)
        );
    }
}
