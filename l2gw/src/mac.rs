//! MAC addresses as integers and the (logical switch, MAC) hash table.
//!
//! This module owns the one hash table layout both MAC tables use ([`MacTable`]): a
//! hashbrown `HashTable` of 12-byte entries (a 62-bit key split in two `u32`s and a
//! `u32` value), hashed with a per-table randomly seeded foldhash. The key packs the
//! logical switch slot (16 bits) above the 48-bit MAC, so a lookup hashes one `u64`
//! and compares two words; no per-entry allocation, no pointer chasing.
//!
//! Memory: hashbrown keeps at most 7/8 of its buckets full and rounds the bucket count
//! up to a power of two, each bucket costing the entry (12 bytes) plus one control
//! byte. So an entry costs 13 bytes / load, between 14.9 and 29.7 bytes depending on
//! where the count falls between two powers of two ([`MacTable::allocation_size`]
//! reports the exact figure; the crate docs list the measured ones).

use hashbrown::HashTable;
use std::hash::BuildHasher;

/// A MAC address as the low 48 bits of a `u64` (network byte order: the first octet is
/// the most significant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub u64);

impl Mac {
    /// The broadcast address.
    pub const BROADCAST: Mac = Mac(0xffff_ffff_ffff);

    /// From six octets.
    #[inline]
    pub const fn new(octets: [u8; 6]) -> Mac {
        Mac(u64::from_be_bytes([
            0, 0, octets[0], octets[1], octets[2], octets[3], octets[4], octets[5],
        ]))
    }

    /// Reads the six octets at `at`; the caller checked `bytes.len() >= at + 6`.
    #[inline(always)]
    pub fn read(bytes: &[u8], at: usize) -> Mac {
        let b = &bytes[at..at + 6];
        Mac::new([b[0], b[1], b[2], b[3], b[4], b[5]])
    }

    /// The six octets.
    #[inline]
    pub const fn octets(self) -> [u8; 6] {
        let b = self.0.to_be_bytes();
        [b[2], b[3], b[4], b[5], b[6], b[7]]
    }

    /// Group (multicast or broadcast) address: the I/G bit of the first octet.
    #[inline(always)]
    pub const fn is_group(self) -> bool {
        self.0 & (1 << 40) != 0
    }

    /// A valid station (source) address: not group, not zero.
    #[inline(always)]
    pub const fn is_station(self) -> bool {
        !self.is_group() && self.0 != 0
    }
}

impl From<[u8; 6]> for Mac {
    fn from(o: [u8; 6]) -> Self {
        Mac::new(o)
    }
}

impl core::fmt::Display for Mac {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let o = self.octets();
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

/// A key of a MAC table: logical switch slot and MAC, packed.
#[inline(always)]
pub(crate) const fn key(slot: u16, mac: Mac) -> u64 {
    ((slot as u64) << 48) | mac.0
}

#[derive(Clone, Copy)]
#[repr(C)]
struct Entry {
    key_lo: u32,
    key_hi: u32,
    value: u32,
}

impl Entry {
    #[inline(always)]
    fn key(&self) -> u64 {
        (u64::from(self.key_hi) << 32) | u64::from(self.key_lo)
    }
}

/// An immutable-after-build map from (logical switch slot, MAC) to a `u32` value; see
/// the module docs for its layout and memory.
#[derive(Clone)]
pub struct MacTable {
    table: HashTable<Entry>,
    hasher: foldhash::fast::RandomState,
}

impl core::fmt::Debug for MacTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MacTable")
            .field("len", &self.table.len())
            .finish()
    }
}

impl Default for MacTable {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl MacTable {
    /// An empty table with room for `capacity` entries without growing.
    pub fn with_capacity(capacity: usize) -> Self {
        MacTable {
            table: HashTable::with_capacity(capacity),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    #[inline(always)]
    fn hash(&self, key: u64) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, slot: u16, mac: Mac, value: u32) -> Option<u32> {
        let k = key(slot, mac);
        let hash = self.hash(k);
        let hasher = &self.hasher;
        match self
            .table
            .entry(hash, |e| e.key() == k, |e| hasher.hash_one(e.key()))
        {
            hashbrown::hash_table::Entry::Occupied(mut o) => {
                Some(std::mem::replace(&mut o.get_mut().value, value))
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(Entry {
                    key_lo: k as u32,
                    key_hi: (k >> 32) as u32,
                    value,
                });
                None
            }
        }
    }

    /// Removes an entry; returns its value.
    pub fn remove(&mut self, slot: u16, mac: Mac) -> Option<u32> {
        let k = key(slot, mac);
        let hash = self.hash(k);
        self.table
            .find_entry(hash, |e| e.key() == k)
            .ok()
            .map(|o| o.remove().0.value)
    }

    /// Looks an entry up (the per-packet operation).
    #[inline(always)]
    pub fn get(&self, slot: u16, mac: Mac) -> Option<u32> {
        let k = key(slot, mac);
        self.table
            .find(self.hash(k), |e| e.key() == k)
            .map(|e| e.value)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Bytes of heap the table holds (buckets and control bytes).
    pub fn allocation_size(&self) -> usize {
        self.table.allocation_size()
    }

    /// Every entry as (slot, MAC, value), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, Mac, u32)> + '_ {
        self.table.iter().map(|e| {
            let k = e.key();
            ((k >> 48) as u16, Mac(k & 0xffff_ffff_ffff), e.value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_bits() {
        let m = Mac::new([0x02, 0, 0, 0, 0, 1]);
        assert_eq!(m.0, 0x0200_0000_0001);
        assert!(m.is_station());
        assert!(Mac::BROADCAST.is_group());
        assert!(Mac::new([0x01, 0, 0x5e, 0, 0, 1]).is_group());
        assert!(!Mac(0).is_station());
        assert_eq!(m.to_string(), "02:00:00:00:00:01");
        assert_eq!(Mac::read(&[9, 2, 0, 0, 0, 0, 1], 1), m);
        assert_eq!(m.octets(), [2, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn table_keys_on_switch_and_mac() {
        let mut t = MacTable::with_capacity(4);
        let m = Mac::new([2, 0, 0, 0, 0, 1]);
        assert_eq!(t.insert(1, m, 10), None);
        assert_eq!(t.insert(2, m, 20), None);
        assert_eq!(t.insert(1, m, 11), Some(10));
        assert_eq!(
            (t.get(1, m), t.get(2, m), t.get(3, m)),
            (Some(11), Some(20), None)
        );
        assert_eq!(t.remove(2, m), Some(20));
        assert_eq!(t.get(2, m), None);
        assert_eq!(t.len(), 1);
        assert_eq!(t.iter().collect::<Vec<_>>(), vec![(1, m, 11)]);
        assert_eq!(std::mem::size_of::<Entry>(), 12);
    }
}
