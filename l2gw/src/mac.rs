//! MAC addresses as integers and the (logical switch, MAC) hash table.
//!
//! This module owns the one hash table layout both MAC tables use ([`MacTable`]):
//! open addressing over 64-byte buckets, each one cache line holding five entries (an
//! 8-byte key, a 4-byte value) and an overflow count, probed linearly bucket by
//! bucket and hashed with a per-table randomly seeded foldhash (learned MACs are
//! chosen by whoever sends frames, so the layout must not be predictable). The key packs
//! the logical switch slot above the 48-bit MAC, so a lookup hashes one `u64` and reads,
//! almost always, one line that [`MacTable::prefetch`] can request ahead of time.
//! No per-entry allocation, no pointer chasing.
//!
//! Memory: at most 7/8 of the slots are used and the bucket count is a power of two,
//! so an entry costs 12.8 bytes / load, between 14.6 and 29.3 bytes depending on where
//! the count falls between two powers of two ([`MacTable::allocation_size`] reports
//! the exact figure; the crate docs list the measured ones).

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

/// Slots per bucket: five 8-byte keys and five 4-byte values fill a 64-byte line with
/// the overflow count.
const BUCKET_SLOTS: usize = 5;
/// No real key has it: slots are below `MAX_SWITCHES` (2^14), so keys stay below 2^62.
const EMPTY_KEY: u64 = u64::MAX;

/// One cache line of the table.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Bucket {
    keys: [u64; BUCKET_SLOTS],
    values: [u32; BUCKET_SLOTS],
    /// Entries that would have lived here (or in an earlier bucket of their probe run)
    /// but sit further on because this bucket was full. Zero ends a lookup here, so a
    /// miss costs one line almost always, and removal needs no tombstones (F14's
    /// scheme).
    overflow: u32,
}

const EMPTY_BUCKET: Bucket = Bucket {
    keys: [EMPTY_KEY; BUCKET_SLOTS],
    values: [0; BUCKET_SLOTS],
    overflow: 0,
};

impl Bucket {
    /// The slot holding `k`. All five keys are compared into a bit mask first: where
    /// the match sits is random, so an early-exit loop mispredicts about once a lookup.
    #[inline(always)]
    fn find(&self, k: u64) -> Option<usize> {
        let mut hits = 0u32;
        for (i, &x) in self.keys.iter().enumerate() {
            hits |= u32::from(x == k) << i;
        }
        (hits != 0).then(|| hits.trailing_zeros() as usize)
    }
}

/// A map from (logical switch slot, MAC) to a `u32` value, immutable once a snapshot
/// is published; see the module docs for its layout and memory.
#[derive(Clone)]
pub struct MacTable {
    buckets: Box<[Bucket]>,
    mask: usize,
    len: usize,
    hasher: foldhash::fast::RandomState,
}

impl core::fmt::Debug for MacTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MacTable")
            .field("len", &self.len)
            .field("buckets", &self.buckets.len())
            .finish()
    }
}

impl Default for MacTable {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

/// Buckets for `capacity` entries at no more than 7/8 load, a power of two.
fn buckets_for(capacity: usize) -> usize {
    (capacity * 8)
        .div_ceil(7 * BUCKET_SLOTS)
        .max(1)
        .next_power_of_two()
}

impl MacTable {
    /// An empty table with room for `capacity` entries without growing.
    pub fn with_capacity(capacity: usize) -> Self {
        let n = buckets_for(capacity);
        MacTable {
            buckets: vec![EMPTY_BUCKET; n].into_boxed_slice(),
            mask: n - 1,
            len: 0,
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    #[inline(always)]
    fn home(&self, key: u64) -> usize {
        self.hasher.hash_one(key) as usize & self.mask
    }

    /// Where `key` lives, as (bucket, slot).
    #[inline(always)]
    fn locate(&self, key: u64) -> Option<(usize, usize)> {
        let mut b = self.home(key);
        loop {
            let bucket = &self.buckets[b];
            if let Some(i) = bucket.find(key) {
                return Some((b, i));
            }
            if bucket.overflow == 0 {
                return None;
            }
            b = (b + 1) & self.mask;
        }
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, slot: u16, mac: Mac, value: u32) -> Option<u32> {
        let k = key(slot, mac);
        debug_assert_ne!(k, EMPTY_KEY);
        if let Some((b, i)) = self.locate(k) {
            return Some(std::mem::replace(&mut self.buckets[b].values[i], value));
        }
        if (self.len + 1) * 8 > self.buckets.len() * BUCKET_SLOTS * 7 {
            self.grow();
        }
        self.place(k, value);
        None
    }

    /// Puts a key known to be absent into the first free slot of its probe run.
    fn place(&mut self, k: u64, value: u32) {
        let mut b = self.home(k);
        loop {
            if let Some(i) = self.buckets[b].find(EMPTY_KEY) {
                self.buckets[b].keys[i] = k;
                self.buckets[b].values[i] = value;
                self.len += 1;
                return;
            }
            self.buckets[b].overflow += 1;
            b = (b + 1) & self.mask;
        }
    }

    fn grow(&mut self) {
        let n = self.buckets.len() * 2;
        let old = std::mem::replace(&mut self.buckets, vec![EMPTY_BUCKET; n].into_boxed_slice());
        self.mask = n - 1;
        self.len = 0;
        for bucket in old.iter() {
            for (&k, &v) in bucket.keys.iter().zip(&bucket.values) {
                if k != EMPTY_KEY {
                    self.place(k, v);
                }
            }
        }
    }

    /// Removes an entry; returns its value.
    pub fn remove(&mut self, slot: u16, mac: Mac) -> Option<u32> {
        let k = key(slot, mac);
        let (at, i) = self.locate(k)?;
        let value = self.buckets[at].values[i];
        self.buckets[at].keys[i] = EMPTY_KEY;
        self.len -= 1;
        let mut b = self.home(k);
        while b != at {
            self.buckets[b].overflow -= 1;
            b = (b + 1) & self.mask;
        }
        Some(value)
    }

    /// Looks an entry up (the per-packet operation).
    #[inline(always)]
    pub fn get(&self, slot: u16, mac: Mac) -> Option<u32> {
        self.locate(key(slot, mac))
            .map(|(b, i)| self.buckets[b].values[i])
    }

    /// Starts loading the line a lookup of (slot, MAC) reads first, so a burst can
    /// issue all its lookups' memory accesses before waiting on any (VPP's dual loop).
    #[inline(always)]
    pub fn prefetch(&self, slot: u16, mac: Mac) {
        dataplane::prefetch(&self.buckets[self.home(key(slot, mac))]);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of heap the table holds.
    pub fn allocation_size(&self) -> usize {
        std::mem::size_of_val(&*self.buckets)
    }

    /// Every entry as (slot, MAC, value), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, Mac, u32)> + '_ {
        self.buckets.iter().flat_map(|b| {
            b.keys
                .iter()
                .zip(&b.values)
                .filter(|(k, _)| **k != EMPTY_KEY)
                .map(|(&k, &v)| ((k >> 48) as u16, Mac(k & 0xffff_ffff_ffff), v))
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
        assert_eq!(std::mem::size_of::<Bucket>(), 64);
    }

    #[test]
    fn table_grows_and_removes_without_losing_entries() {
        // Start tiny so every insert phase grows and probe runs cross many buckets.
        let mut t = MacTable::with_capacity(1);
        let mac = |i: u64| Mac(0x0200_0000_0000 | i);
        let mut model = std::collections::BTreeMap::new();
        for i in 0..20_000u64 {
            let slot = (i % 7) as u16;
            assert_eq!(t.insert(slot, mac(i), i as u32), None);
            model.insert((slot, i), i as u32);
        }
        // Remove every third entry, then re-add half of those with new values.
        for i in (0..20_000u64).step_by(3) {
            let slot = (i % 7) as u16;
            assert_eq!(t.remove(slot, mac(i)), Some(i as u32));
            assert_eq!(t.remove(slot, mac(i)), None);
            model.remove(&(slot, i));
        }
        for i in (0..20_000u64).step_by(6) {
            let slot = (i % 7) as u16;
            assert_eq!(t.insert(slot, mac(i), 7), None);
            model.insert((slot, i), 7);
        }
        assert_eq!(t.len(), model.len());
        for i in 0..20_000u64 {
            let slot = (i % 7) as u16;
            assert_eq!(t.get(slot, mac(i)), model.get(&(slot, i)).copied(), "{i}");
            assert_eq!(t.get(slot + 1, mac(i)), None);
        }
        let mut all: Vec<_> = t.iter().map(|(s, m, v)| ((s, m.0 & 0xffff), v)).collect();
        all.sort();
        let expect: Vec<_> = model.iter().map(|(&k, &v)| (k, v)).collect();
        assert_eq!(all, expect);
        // Emptying the table leaves no overflow behind, so misses end at one bucket.
        for &(slot, i) in model.keys() {
            t.remove(slot, mac(i));
        }
        assert!(t.is_empty());
        assert!(t.buckets.iter().all(|b| b.overflow == 0));
    }
}
