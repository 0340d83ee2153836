//! Geneve header and options (RFC 8926 section 3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        Virtual Network Identifier (VNI)       |    Reserved   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                    Variable-Length Options                    ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Each option (section 3.5):
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Option Class         |C|    Type     |R|R|R| Length  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                  Variable-Length Option Data                  ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Lengths count 4-byte words, excluding the fixed part they belong to.

use super::{Error, Result, read_u16, read_u24, write_u16, write_u24};

mod field {
    use crate::wire::Field;
    pub const VER_OPT_LEN: usize = 0;
    pub const FLAGS: usize = 1;
    pub const PROTOCOL: Field = 2..4;
    pub const VNI: Field = 4..7;
    pub const RESERVED: usize = 7;
    pub const OPTIONS: usize = 8;

    pub mod option {
        use crate::wire::Field;
        pub const CLASS: Field = 0..2;
        pub const TYPE: usize = 2;
        pub const LENGTH: usize = 3;
        pub const DATA: usize = 4;
    }
}

/// Length of the fixed Geneve header, before options.
pub const HEADER_LEN: usize = field::OPTIONS;
/// Length of an option's fixed part, before its data.
pub const OPTION_HEADER_LEN: usize = field::option::DATA;
/// Largest options area: 6-bit length in 4-byte words.
pub const MAX_OPTIONS_LEN: usize = 0x3f * 4;
/// Largest option data: 5-bit length in 4-byte words.
pub const MAX_OPTION_DATA_LEN: usize = 0x1f * 4;
/// IANA UDP port for Geneve.
pub const UDP_PORT: u16 = 6081;
/// The only version defined.
pub const VERSION: u8 = 0;
/// O flag: control (OAM) packet.
pub const FLAG_OAM: u8 = 0x80;
/// C flag: critical options present.
pub const FLAG_CRITICAL: u8 = 0x40;
/// Largest VNI (24 bits).
pub const VNI_MAX: u32 = 0x00ff_ffff;
/// Critical bit of an option's type.
pub const OPTION_TYPE_CRITICAL: u8 = 0x80;

/// A read/write view of a Geneve header, its options and the payload after them.
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

    /// Ensures the fixed header and the options area it announces are present.
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

    /// The version (must be 0).
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_OPT_LEN] >> 6
    }

    /// Length of the options area in bytes.
    #[inline]
    pub fn options_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_OPT_LEN] & 0x3f) * 4
    }

    /// Length of the header including options.
    #[inline]
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }

    /// O flag: a control packet, not to be forwarded to a tenant.
    #[inline]
    pub fn oam(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_OAM != 0
    }

    /// C flag: at least one option is critical.
    #[inline]
    pub fn critical(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_CRITICAL != 0
    }

    /// EtherType of the payload (0x6558 for an Ethernet frame).
    #[inline]
    pub fn protocol_type(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::PROTOCOL)
    }

    /// The virtual network identifier.
    #[inline]
    pub fn vni(&self) -> u32 {
        read_u24(self.buffer.as_ref(), field::VNI)
    }

    /// The raw options area.
    #[inline]
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS..self.header_len()]
    }

    /// Iterates over the options; yields an error and stops at one that does not fit.
    #[inline]
    pub fn option_iter(&self) -> Options<'_> {
        Options::new(self.options())
    }

    /// The encapsulated payload.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version and options length (in bytes; must be a multiple of 4, at most 252).
    #[inline]
    pub fn set_version_and_options_len(&mut self, version: u8, options_len: usize) {
        debug_assert!(options_len.is_multiple_of(4) && options_len <= MAX_OPTIONS_LEN);
        self.buffer.as_mut()[field::VER_OPT_LEN] =
            (version << 6) | ((options_len / 4) as u8 & 0x3f);
    }

    /// Sets the O and C flags; the reserved bits become zero.
    #[inline]
    pub fn set_flags(&mut self, oam: bool, critical: bool) {
        let mut flags = 0;
        if oam {
            flags |= FLAG_OAM;
        }
        if critical {
            flags |= FLAG_CRITICAL;
        }
        self.buffer.as_mut()[field::FLAGS] = flags;
    }

    /// Sets the protocol type.
    #[inline]
    pub fn set_protocol_type(&mut self, protocol: u16) {
        write_u16(self.buffer.as_mut(), field::PROTOCOL, protocol)
    }

    /// Sets the VNI (low 24 bits) and zeroes the reserved byte after it.
    #[inline]
    pub fn set_vni(&mut self, vni: u32) {
        let data = self.buffer.as_mut();
        write_u24(data, field::VNI, vni & VNI_MAX);
        data[field::RESERVED] = 0;
    }

    /// The options area, writable.
    #[inline]
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[field::OPTIONS..end]
    }

    /// The payload, writable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

/// One option, borrowed from the options area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneveOption<'a> {
    /// Option class (namespace of the type).
    pub class: u16,
    /// Type, including the critical bit.
    pub option_type: u8,
    /// Option data (a multiple of 4 bytes).
    pub data: &'a [u8],
}

impl GeneveOption<'_> {
    /// True when a receiver that does not understand this option must drop the packet.
    #[inline]
    pub const fn is_critical(&self) -> bool {
        self.option_type & OPTION_TYPE_CRITICAL != 0
    }

    /// Bytes this option occupies on the wire.
    #[inline]
    pub const fn buffer_len(&self) -> usize {
        OPTION_HEADER_LEN + self.data.len()
    }

    /// Writes the option at the start of `buf`, returning the bytes written. Data must be
    /// a multiple of 4 bytes and at most 124.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if !self.data.len().is_multiple_of(4) || self.data.len() > MAX_OPTION_DATA_LEN {
            return Err(Error::OutOfRange);
        }
        let len = self.buffer_len();
        let out = buf.get_mut(..len).ok_or(Error::Truncated)?;
        write_u16(out, field::option::CLASS, self.class);
        out[field::option::TYPE] = self.option_type;
        out[field::option::LENGTH] = (self.data.len() / 4) as u8;
        out[field::option::DATA..].copy_from_slice(self.data);
        Ok(len)
    }
}

/// Iterator over an options area; see [`Packet::option_iter`].
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
}

impl<'a> Options<'a> {
    /// Iterates over a raw options area (e.g. one being prepared for [`Repr::emit`]).
    #[inline]
    pub const fn new(area: &'a [u8]) -> Options<'a> {
        Options { rest: area }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<GeneveOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        if rest.len() < OPTION_HEADER_LEN {
            self.rest = &[];
            return Some(Err(Error::BadLength));
        }
        let data_len = usize::from(rest[field::option::LENGTH] & 0x1f) * 4;
        let Some(data) = rest.get(OPTION_HEADER_LEN..OPTION_HEADER_LEN + data_len) else {
            self.rest = &[];
            return Some(Err(Error::BadLength));
        };
        self.rest = &rest[OPTION_HEADER_LEN + data_len..];
        Some(Ok(GeneveOption {
            class: read_u16(rest, field::option::CLASS),
            option_type: rest[field::option::TYPE],
            data,
        }))
    }
}

/// A Geneve header as values; options stay borrowed as raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    /// O flag: control packet.
    pub oam: bool,
    /// C flag: critical options present.
    pub critical: bool,
    /// EtherType of the payload.
    pub protocol_type: u16,
    /// 24-bit virtual network identifier.
    pub vni: u32,
    /// The options area, already encoded (a sequence of well-formed options).
    pub options: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Parses a header: version 0, and every option fits exactly in the options area.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_len()?;
        let version = packet.version();
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        for option in packet.option_iter() {
            option?;
        }
        let data = packet.buffer.as_ref();
        Ok(Repr {
            oam: packet.oam(),
            critical: packet.critical(),
            protocol_type: packet.protocol_type(),
            vni: packet.vni(),
            options: &data[field::OPTIONS..packet.header_len()],
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    #[inline]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// Writes the header and options; fails on a VNI above 24 bits or an options area
    /// that is not a multiple of 4 bytes, exceeds 252 bytes or does not hold whole
    /// options, and on a buffer shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        if self.vni > VNI_MAX
            || !self.options.len().is_multiple_of(4)
            || self.options.len() > MAX_OPTIONS_LEN
        {
            return Err(Error::OutOfRange);
        }
        for option in Options::new(self.options) {
            option?;
        }
        if packet.buffer.as_ref().len() < self.buffer_len() {
            return Err(Error::Truncated);
        }
        packet.set_version_and_options_len(VERSION, self.options.len());
        packet.set_flags(self.oam, self.critical);
        packet.set_protocol_type(self.protocol_type);
        packet.set_vni(self.vni);
        packet.options_mut().copy_from_slice(self.options);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::hex;

    /// scapy 2.5: `GENEVE(vni=0xabcdef, proto=0x6558, critical=1, options=[
    /// GeneveOptions(classid=0x0102, type=0x80, data=b'\x01\x02\x03\x04'),
    /// GeneveOptions(classid=0xffff, type=0x01, data=b'')])`.
    const GOLDEN: &str = "03406558abcdef000102800101020304ffff0100";

    #[test]
    fn deconstruct_golden() {
        let bytes = hex(GOLDEN);
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.version(), 0);
        assert_eq!(p.options_len(), 12);
        assert_eq!(p.header_len(), 20);
        assert!(!p.oam());
        assert!(p.critical());
        assert_eq!(p.protocol_type(), 0x6558);
        assert_eq!(p.vni(), 0xab_cdef);
        let options: Vec<_> = p.option_iter().collect::<Result<_>>().unwrap();
        assert_eq!(
            options,
            [
                GeneveOption {
                    class: 0x0102,
                    option_type: 0x80,
                    data: &[1, 2, 3, 4]
                },
                GeneveOption {
                    class: 0xffff,
                    option_type: 0x01,
                    data: &[]
                },
            ]
        );
        assert!(options[0].is_critical());
        assert!(!options[1].is_critical());
        assert!(p.payload().is_empty());
    }

    #[test]
    fn construct_matches_golden() {
        let mut options = [0u8; 12];
        let n = GeneveOption {
            class: 0x0102,
            option_type: 0x80,
            data: &[1, 2, 3, 4],
        }
        .emit(&mut options)
        .unwrap();
        let m = GeneveOption {
            class: 0xffff,
            option_type: 0x01,
            data: &[],
        }
        .emit(&mut options[n..])
        .unwrap();
        assert_eq!(n + m, 12);
        let mut bytes = [0xeeu8; 20];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_version_and_options_len(0, 12);
        p.set_flags(false, true);
        p.set_protocol_type(0x6558);
        p.set_vni(0xab_cdef);
        p.options_mut().copy_from_slice(&options);
        assert_eq!(&bytes[..], &hex(GOLDEN)[..]);
    }

    #[test]
    fn parse_emit_round_trip() {
        let bytes = hex(GOLDEN);
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        let repr = Repr::parse(&packet).unwrap();
        assert_eq!(repr.vni, 0xab_cdef);
        assert_eq!(repr.options.len(), 12);
        assert_eq!(repr.buffer_len(), 20);
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut out[..])).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn rejects_truncated_bad_version_and_overlong_options() {
        let bytes = hex(GOLDEN);
        assert_eq!(Packet::new_checked(&bytes[..7]), Err(Error::Truncated));
        // Header announces 12 bytes of options but only 8 are present.
        assert_eq!(Packet::new_checked(&bytes[..16]), Err(Error::Truncated));
        let mut v1 = bytes.clone();
        v1[0] |= 0x40;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&v1[..])),
            Err(Error::UnsupportedVersion(1))
        );
        // First option claims 12 data bytes: it runs past the 12-byte options area.
        let mut long = bytes.clone();
        long[11] = 0x03;
        let p = Packet::new_checked(&long[..]).unwrap();
        assert_eq!(p.option_iter().last(), Some(Err(Error::BadLength)));
        assert_eq!(Repr::parse(&p), Err(Error::BadLength));
        let bad = Repr {
            oam: false,
            critical: false,
            protocol_type: 0x6558,
            vni: 1,
            options: &[0, 1, 2],
        };
        let mut out = [0u8; 16];
        assert_eq!(
            bad.emit(&mut Packet::new_unchecked(&mut out[..])),
            Err(Error::OutOfRange)
        );
        let short_buf = Repr {
            options: &[],
            ..bad
        };
        assert_eq!(
            short_buf.emit(&mut Packet::new_unchecked(&mut out[..4])),
            Err(Error::Truncated)
        );
    }
}
