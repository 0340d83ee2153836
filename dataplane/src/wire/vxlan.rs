//! VXLAN header (RFC 7348 section 5).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |R|R|R|R|I|R|R|R|            Reserved                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                VXLAN Network Identifier (VNI) |   Reserved    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The I flag must be 1; the R bits are sent as zero and ignored on receipt.

use super::{Error, Result, read_u24, write_u24};

mod field {
    use crate::wire::{Field, Rest};
    pub const FLAGS: usize = 0;
    pub const RESERVED0: Field = 1..4;
    pub const VNI: Field = 4..7;
    pub const RESERVED1: usize = 7;
    pub const PAYLOAD: Rest = 8..;
}

/// Length of the VXLAN header.
pub const HEADER_LEN: usize = field::PAYLOAD.start;
/// IANA UDP port for VXLAN.
pub const UDP_PORT: u16 = 4789;
/// The I flag: the VNI is valid.
pub const FLAG_VNI: u8 = 0x08;
/// Largest VNI (24 bits).
pub const VNI_MAX: u32 = 0x00ff_ffff;

/// A read/write view of a VXLAN header and the inner frame after it.
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

    /// The flags byte.
    #[inline]
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// True when the I flag says the VNI is valid.
    #[inline]
    pub fn vni_valid(&self) -> bool {
        self.flags() & FLAG_VNI != 0
    }

    /// The VXLAN network identifier.
    #[inline]
    pub fn vni(&self) -> u32 {
        read_u24(self.buffer.as_ref(), field::VNI)
    }

    /// The inner Ethernet frame.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the flags byte.
    #[inline]
    pub fn set_flags(&mut self, flags: u8) {
        self.buffer.as_mut()[field::FLAGS] = flags;
    }

    /// Zeroes both reserved fields, as senders must.
    #[inline]
    pub fn clear_reserved(&mut self) {
        let data = self.buffer.as_mut();
        data[field::RESERVED0].fill(0);
        data[field::RESERVED1] = 0;
    }

    /// Sets the VNI (only its low 24 bits are representable).
    #[inline]
    pub fn set_vni(&mut self, vni: u32) {
        write_u24(self.buffer.as_mut(), field::VNI, vni & VNI_MAX)
    }

    /// The inner frame, writable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// A VXLAN header as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// The 24-bit network identifier.
    pub vni: u32,
}

impl Repr {
    /// Parses a header; the I flag must be set (RFC 7348: reserved bits are ignored).
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        if !packet.vni_valid() {
            return Err(Error::BadFlags);
        }
        Ok(Repr { vni: packet.vni() })
    }

    /// Bytes [`emit`](Self::emit) writes.
    #[inline]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header: I flag set, reserved bits zero. Fails on a VNI wider than
    /// 24 bits rather than silently truncating it.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        if self.vni > VNI_MAX {
            return Err(Error::OutOfRange);
        }
        packet.set_flags(FLAG_VNI);
        packet.clear_reserved();
        packet.set_vni(self.vni);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::hex;

    /// scapy 2.5: `VXLAN(flags=0x08, vni=0x123456)`.
    const GOLDEN: &str = "0800000012345600";

    #[test]
    fn deconstruct_golden() {
        let bytes = hex(GOLDEN);
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.flags(), 0x08);
        assert!(p.vni_valid());
        assert_eq!(p.vni(), 0x12_3456);
        assert!(p.payload().is_empty());
    }

    #[test]
    fn construct_matches_golden() {
        let mut bytes = [0xffu8; HEADER_LEN];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_flags(FLAG_VNI);
        p.clear_reserved();
        p.set_vni(0x12_3456);
        assert_eq!(&bytes[..], &hex(GOLDEN)[..]);
    }

    #[test]
    fn parse_emit_round_trip() {
        let bytes = hex(GOLDEN);
        let repr = Repr::parse(&Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        assert_eq!(repr, Repr { vni: 0x12_3456 });
        let mut out = [0xaau8; HEADER_LEN];
        repr.emit(&mut Packet::new_unchecked(&mut out[..])).unwrap();
        assert_eq!(&out[..], &bytes[..]);
    }

    #[test]
    fn reserved_bits_are_ignored_on_receipt() {
        let bytes = [0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0xff];
        let repr = Repr::parse(&Packet::new_unchecked(&bytes[..])).unwrap();
        assert_eq!(repr.vni, 1);
    }

    #[test]
    fn rejects_truncated_clear_i_flag_and_wide_vni() {
        let bytes = hex(GOLDEN);
        assert_eq!(Packet::new_checked(&bytes[..7]), Err(Error::Truncated));
        let mut clear = bytes.clone();
        clear[0] = 0xf7;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&clear[..])),
            Err(Error::BadFlags)
        );
        let mut out = [0u8; HEADER_LEN];
        assert_eq!(
            Repr { vni: 1 << 24 }.emit(&mut Packet::new_unchecked(&mut out[..])),
            Err(Error::OutOfRange)
        );
    }
}
