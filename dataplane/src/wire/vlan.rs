//! IEEE 802.1Q / 802.1ad VLAN tags.
//!
//! The tag protocol identifier (TPID: 0x8100, 0x88a8 or legacy 0x9100) sits where the
//! Ethernet type would, so this view starts right after it, at the tag control
//! information (TCI), and ends with the encapsulated EtherType:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | PCP |D|         VID           |           EtherType           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{Error, Result, read_u16, write_u16};

mod field {
    use crate::wire::{Field, Rest};
    pub const TCI: Field = 0..2;
    pub const ETHERTYPE: Field = 2..4;
    pub const PAYLOAD: Rest = 4..;
}

/// Length of the tag after the TPID: TCI plus the inner EtherType.
pub const HEADER_LEN: usize = field::PAYLOAD.start;
/// Largest VLAN ID; 0xfff itself is reserved by 802.1Q and never sent in a tag.
pub const VID_MAX: u16 = 0xffe;

/// Tag control information: priority code point, drop eligible indicator, VLAN ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tci(pub u16);

impl Tci {
    /// Builds a TCI, rejecting a PCP above 7 or a VID above 12 bits.
    #[inline]
    pub const fn new(pcp: u8, dei: bool, vid: u16) -> Result<Tci> {
        if pcp > 7 || vid > 0xfff {
            return Err(Error::OutOfRange);
        }
        Ok(Tci(((pcp as u16) << 13) | ((dei as u16) << 12) | vid))
    }

    /// Priority code point (802.1p), 0..=7.
    #[inline]
    pub const fn pcp(self) -> u8 {
        (self.0 >> 13) as u8
    }

    /// Drop eligible indicator (formerly CFI).
    #[inline]
    pub const fn dei(self) -> bool {
        self.0 & 0x1000 != 0
    }

    /// VLAN identifier, 0..=4095; 0 means a priority-only tag.
    #[inline]
    pub const fn vid(self) -> u16 {
        self.0 & 0x0fff
    }
}

/// A read/write view of a VLAN tag (TCI + EtherType) and what follows it.
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

    /// The tag control information.
    #[inline]
    pub fn tci(&self) -> Tci {
        Tci(read_u16(self.buffer.as_ref(), field::TCI))
    }

    /// The EtherType of what follows the tag (another TPID for stacked tags).
    #[inline]
    pub fn ethertype(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::ETHERTYPE)
    }

    /// The bytes after the tag.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the tag control information.
    #[inline]
    pub fn set_tci(&mut self, tci: Tci) {
        write_u16(self.buffer.as_mut(), field::TCI, tci.0)
    }

    /// Sets the EtherType of what follows.
    #[inline]
    pub fn set_ethertype(&mut self, ethertype: u16) {
        write_u16(self.buffer.as_mut(), field::ETHERTYPE, ethertype)
    }

    /// The bytes after the tag, writable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// A VLAN tag as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Priority, drop eligibility and VLAN ID.
    pub tci: Tci,
    /// EtherType of the payload.
    pub ethertype: u16,
}

impl Repr {
    /// Parses a tag, rejecting the reserved VID 0xfff that 802.1Q forbids on the wire.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        let tci = packet.tci();
        if tci.vid() > VID_MAX {
            return Err(Error::OutOfRange);
        }
        Ok(Repr {
            tci,
            ethertype: packet.ethertype(),
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    #[inline]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the tag into a buffer of at least [`buffer_len`](Self::buffer_len) bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_tci(self.tci);
        packet.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{EthernetFrame, ethertype, hex};

    /// scapy 2.5: `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
    /// /Dot1AD(prio=5, id=0, vlan=100)/Dot1Q(prio=3, id=1, vlan=200)
    /// /IP(src='10.0.0.1', dst='10.0.0.2', id=1)/UDP(sport=1234, dport=80)/b'hello'`.
    const QINQ: &str = "02000000000202000000000188a8a064810070c808004500002100010000401166c9\
                        0a0000010a00000204d20050000da2dd68656c6c6f";

    #[test]
    fn deconstruct_qinq_golden() {
        let bytes = hex(QINQ);
        let eth = EthernetFrame::new_checked(&bytes[..]).unwrap();
        assert_eq!(u16::from(eth.ethertype()), ethertype::VLAN_8021AD);
        let outer = Packet::new_checked(eth.payload()).unwrap();
        assert_eq!(outer.tci().pcp(), 5);
        assert!(!outer.tci().dei());
        assert_eq!(outer.tci().vid(), 100);
        assert_eq!(outer.ethertype(), ethertype::VLAN_8021Q);
        let inner = Packet::new_checked(outer.payload()).unwrap();
        assert_eq!(inner.tci(), Tci::new(3, true, 200).unwrap());
        assert_eq!(inner.ethertype(), ethertype::IPV4);
        assert_eq!(inner.payload().len(), 33);
    }

    #[test]
    fn construct_matches_golden() {
        let golden = hex(QINQ);
        let mut bytes = golden.clone();
        bytes[14..22].fill(0);
        let mut outer = Packet::new_unchecked(&mut bytes[14..18]);
        outer.set_tci(Tci::new(5, false, 100).unwrap());
        outer.set_ethertype(ethertype::VLAN_8021Q);
        let repr = Repr {
            tci: Tci::new(3, true, 200).unwrap(),
            ethertype: ethertype::IPV4,
        };
        repr.emit(&mut Packet::new_unchecked(&mut bytes[18..22]));
        assert_eq!(bytes, golden);
    }

    #[test]
    fn parse_emit_round_trip() {
        let repr = Repr {
            tci: Tci::new(7, true, VID_MAX).unwrap(),
            ethertype: ethertype::IPV6,
        };
        let mut buf = [0u8; HEADER_LEN];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, [0xff, 0xfe, 0x86, 0xdd]);
        assert_eq!(
            Repr::parse(&Packet::new_checked(&buf[..]).unwrap()),
            Ok(repr)
        );
    }

    #[test]
    fn rejects_truncated_and_reserved() {
        assert_eq!(
            Packet::new_checked(&[0x00u8, 0x64, 0x08][..]),
            Err(Error::Truncated)
        );
        let reserved = [0x0f, 0xff, 0x08, 0x00];
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&reserved[..])),
            Err(Error::OutOfRange)
        );
        assert_eq!(Tci::new(8, false, 1), Err(Error::OutOfRange));
        assert_eq!(Tci::new(0, false, 0x1000), Err(Error::OutOfRange));
    }
}
