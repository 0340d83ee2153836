//! GRE header (RFC 2784) with the key and sequence number extensions (RFC 2890).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |C| |K|S| Reserved0       | Ver |         Protocol Type         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      Checksum (optional)      |       Reserved1 (Optional)    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Key (optional)                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Sequence Number (Optional)                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Receivers must discard packets with bits 1 or 4..=5 set (RFC 1701 routing, strict
//! source route, recursion: we do not implement RFC 1701) and ignore bits 6..=12.
//! Version 1 is PPTP's enhanced GRE and is not spoken here. NVGRE (RFC 7637) is GRE
//! with the key present, protocol 0x6558, key = 24-bit VSID << 8 | 8-bit FlowID.

use super::{Error, Result, checksum, read_u16, read_u32, write_u16, write_u32};

mod field {
    use crate::wire::Field;
    pub const FLAGS_VERSION: Field = 0..2;
    pub const PROTOCOL: Field = 2..4;
    pub const OPTIONAL: usize = 4;
    /// Relative to the start of the checksum word when present.
    pub const CHECKSUM: Field = 0..2;
    pub const RESERVED1: Field = 2..4;
}

/// Length of the fixed GRE header.
pub const HEADER_LEN: usize = field::OPTIONAL;
/// Largest GRE header: checksum, key and sequence number all present.
pub const MAX_HEADER_LEN: usize = HEADER_LEN + 12;
/// C bit: checksum and reserved1 present.
pub const FLAG_CHECKSUM: u16 = 0x8000;
/// K bit: key present.
pub const FLAG_KEY: u16 = 0x2000;
/// S bit: sequence number present.
pub const FLAG_SEQUENCE: u16 = 0x1000;
/// Bits a receiver must discard on (RFC 2784 bits 1, 4 and 5, after RFC 2890 took 2-3).
pub const FLAGS_MUST_BE_ZERO: u16 = 0x4000 | 0x0800 | 0x0400;
const VERSION_MASK: u16 = 0x0007;

/// A read/write view of a GRE header and its payload.
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

    /// Ensures the fixed header and every optional field its flags announce are present.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < self.header_len() {
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

    /// The first 16 bits: flags, reserved0 and version.
    #[inline]
    pub fn flags_version(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::FLAGS_VERSION)
    }

    /// The version (0 for RFC 2784 GRE).
    #[inline]
    pub fn version(&self) -> u8 {
        (self.flags_version() & VERSION_MASK) as u8
    }

    /// C bit.
    #[inline]
    pub fn checksum_present(&self) -> bool {
        self.flags_version() & FLAG_CHECKSUM != 0
    }

    /// K bit.
    #[inline]
    pub fn key_present(&self) -> bool {
        self.flags_version() & FLAG_KEY != 0
    }

    /// S bit.
    #[inline]
    pub fn sequence_present(&self) -> bool {
        self.flags_version() & FLAG_SEQUENCE != 0
    }

    /// EtherType of the payload.
    #[inline]
    pub fn protocol_type(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::PROTOCOL)
    }

    /// Header length implied by the flags.
    #[inline]
    pub fn header_len(&self) -> usize {
        HEADER_LEN
            + 4 * (usize::from(self.checksum_present())
                + usize::from(self.key_present())
                + usize::from(self.sequence_present()))
    }

    #[inline]
    fn key_offset(&self) -> usize {
        HEADER_LEN + 4 * usize::from(self.checksum_present())
    }

    #[inline]
    fn sequence_offset(&self) -> usize {
        self.key_offset() + 4 * usize::from(self.key_present())
    }

    /// The checksum field, when present.
    #[inline]
    pub fn checksum(&self) -> Option<u16> {
        self.checksum_present().then(|| {
            let at = field::OPTIONAL;
            read_u16(&self.buffer.as_ref()[at..], field::CHECKSUM)
        })
    }

    /// The key, when present.
    #[inline]
    pub fn key(&self) -> Option<u32> {
        let at = self.key_offset();
        self.key_present()
            .then(|| read_u32(self.buffer.as_ref(), at..at + 4))
    }

    /// The sequence number, when present.
    #[inline]
    pub fn sequence(&self) -> Option<u32> {
        let at = self.sequence_offset();
        self.sequence_present()
            .then(|| read_u32(self.buffer.as_ref(), at..at + 4))
    }

    /// True when no checksum is present or it covers header and payload correctly.
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        !self.checksum_present() || checksum::sum(self.buffer.as_ref()) == 0xffff
    }

    /// The encapsulated payload.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the C, K and S bits with every other flag, reserved0 and version zero.
    #[inline]
    pub fn set_flags(&mut self, checksum: bool, key: bool, sequence: bool) {
        let mut v = 0;
        if checksum {
            v |= FLAG_CHECKSUM;
        }
        if key {
            v |= FLAG_KEY;
        }
        if sequence {
            v |= FLAG_SEQUENCE;
        }
        write_u16(self.buffer.as_mut(), field::FLAGS_VERSION, v)
    }

    /// Sets the protocol type.
    #[inline]
    pub fn set_protocol_type(&mut self, protocol: u16) {
        write_u16(self.buffer.as_mut(), field::PROTOCOL, protocol)
    }

    /// Sets the checksum field and zeroes reserved1 (the C bit must already be set).
    #[inline]
    pub fn set_checksum(&mut self, value: u16) {
        let word = &mut self.buffer.as_mut()[field::OPTIONAL..];
        write_u16(word, field::CHECKSUM, value);
        write_u16(word, field::RESERVED1, 0);
    }

    /// Sets the key (the K bit must already be set).
    #[inline]
    pub fn set_key(&mut self, key: u32) {
        let at = self.key_offset();
        write_u32(self.buffer.as_mut(), at..at + 4, key)
    }

    /// Sets the sequence number (the S bit must already be set).
    #[inline]
    pub fn set_sequence(&mut self, sequence: u32) {
        let at = self.sequence_offset();
        write_u32(self.buffer.as_mut(), at..at + 4, sequence)
    }

    /// Computes the checksum over header and payload (the C bit must already be set).
    #[inline]
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let value = checksum::finish(checksum::sum(self.buffer.as_ref()));
        self.set_checksum(value);
    }

    /// The payload, writable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let at = self.header_len();
        &mut self.buffer.as_mut()[at..]
    }
}

/// A GRE header as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// EtherType of the payload.
    pub protocol_type: u16,
    /// Whether a checksum over header and payload is carried.
    pub checksum: bool,
    /// Key (RFC 2890), e.g. an NVGRE VSID and FlowID.
    pub key: Option<u32>,
    /// Sequence number (RFC 2890).
    pub sequence: Option<u32>,
}

impl Repr {
    /// Parses a header: version 0, no RFC 1701 routing/strict-route/recursion bits, and
    /// a correct checksum when one is present.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        let version = packet.version();
        if version != 0 {
            return Err(Error::UnsupportedVersion(version));
        }
        if packet.flags_version() & FLAGS_MUST_BE_ZERO != 0 {
            return Err(Error::BadFlags);
        }
        if !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        Ok(Repr {
            protocol_type: packet.protocol_type(),
            checksum: packet.checksum_present(),
            key: packet.key(),
            sequence: packet.sequence(),
        })
    }

    /// Bytes of header [`emit`](Self::emit) writes.
    #[inline]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
            + 4 * (self.checksum as usize
                + self.key.is_some() as usize
                + self.sequence.is_some() as usize)
    }

    /// Writes the header. With `checksum`, the checksum covers whatever payload already
    /// follows the header in the buffer, so write the payload first.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        if packet.buffer.as_ref().len() < self.buffer_len() {
            return Err(Error::Truncated);
        }
        packet.set_flags(self.checksum, self.key.is_some(), self.sequence.is_some());
        packet.set_protocol_type(self.protocol_type);
        if let Some(key) = self.key {
            packet.set_key(key);
        }
        if let Some(sequence) = self.sequence {
            packet.set_sequence(sequence);
        }
        if self.checksum {
            packet.fill_checksum();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::hex;

    /// scapy 2.5: `GRE(chksum_present=1, key_present=1, seqnum_present=1,
    /// key=0x01020304, sequence_number=7, proto=0x6558)/inner`, where `inner` is the
    /// 47-byte Ethernet/IPv4/UDP "hello" frame used across the crate's tests. scapy
    /// computed the checksum (0xeeb7).
    const GOLDEN: &str = "b0006558eeb70000010203040000000702000000000202000000000108004500\
                          002100010000401166c90a0000010a00000204d20050000da2dd68656c6c6f";

    #[test]
    fn deconstruct_golden() {
        let bytes = hex(GOLDEN);
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.version(), 0);
        assert!(p.checksum_present() && p.key_present() && p.sequence_present());
        assert_eq!(p.header_len(), 16);
        assert_eq!(p.protocol_type(), 0x6558);
        assert_eq!(p.checksum(), Some(0xeeb7));
        assert_eq!(p.key(), Some(0x0102_0304));
        assert_eq!(p.sequence(), Some(7));
        assert!(p.verify_checksum());
        assert_eq!(p.payload().len(), 47);
    }

    #[test]
    fn construct_matches_golden() {
        let golden = hex(GOLDEN);
        let mut bytes = golden.clone();
        bytes[..16].fill(0xcc);
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_flags(true, true, true);
        p.set_protocol_type(0x6558);
        p.set_key(0x0102_0304);
        p.set_sequence(7);
        p.fill_checksum();
        assert_eq!(bytes, golden);
    }

    #[test]
    fn parse_emit_round_trip() {
        let golden = hex(GOLDEN);
        let repr = Repr::parse(&Packet::new_checked(&golden[..]).unwrap()).unwrap();
        assert_eq!(
            repr,
            Repr {
                protocol_type: 0x6558,
                checksum: true,
                key: Some(0x0102_0304),
                sequence: Some(7)
            }
        );
        let mut out = golden.clone();
        out[..16].fill(0);
        repr.emit(&mut Packet::new_unchecked(&mut out[..])).unwrap();
        assert_eq!(out, golden);

        // Key only (NVGRE-style): 8 bytes of header.
        let nvgre = Repr {
            protocol_type: 0x6558,
            checksum: false,
            key: Some(0x0013_8934),
            sequence: None,
        };
        let mut buf = [0u8; 8];
        nvgre
            .emit(&mut Packet::new_unchecked(&mut buf[..]))
            .unwrap();
        assert_eq!(buf, [0x20, 0x00, 0x65, 0x58, 0x00, 0x13, 0x89, 0x34]);
        assert_eq!(
            Repr::parse(&Packet::new_checked(&buf[..]).unwrap()),
            Ok(nvgre)
        );
    }

    #[test]
    fn rejects_truncated_version_flags_and_checksum() {
        let golden = hex(GOLDEN);
        assert_eq!(Packet::new_checked(&golden[..3]), Err(Error::Truncated));
        // Flags announce 16 bytes of header.
        assert_eq!(Packet::new_checked(&golden[..12]), Err(Error::Truncated));
        let mut v1 = golden.clone();
        v1[1] |= 0x01;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&v1[..])),
            Err(Error::UnsupportedVersion(1))
        );
        for bit in [0x40u8, 0x08, 0x04] {
            let mut b = golden.clone();
            b[0] |= bit;
            assert_eq!(
                Repr::parse(&Packet::new_unchecked(&b[..])),
                Err(Error::BadFlags),
                "bit {bit:#x}"
            );
        }
        // Bits 6-12 are ignored on receipt.
        let mut ignored = golden.clone();
        ignored[0] |= 0x02;
        ignored[1] |= 0x08;
        let mut p = Packet::new_unchecked(&mut ignored[..]);
        p.fill_checksum();
        assert!(Repr::parse(&p).is_ok());
        let mut corrupt = golden.clone();
        *corrupt.last_mut().unwrap() ^= 1;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&corrupt[..])),
            Err(Error::BadChecksum)
        );
        let mut short = [0u8; 4];
        assert_eq!(
            Repr {
                protocol_type: 0,
                checksum: false,
                key: Some(1),
                sequence: None
            }
            .emit(&mut Packet::new_unchecked(&mut short[..])),
            Err(Error::Truncated)
        );
    }
}
