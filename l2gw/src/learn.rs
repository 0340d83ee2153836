//! MAC learning on the fast path: a per-lcore event ring to the control plane and the
//! per-lcore cache that keeps it quiet.
//!
//! This module owns how a worker tells the control plane about MACs. The worker never
//! writes a table: when a source MAC is not in the snapshot's local table on the binding
//! it arrived on (new, or moved), it pushes one [`LearnEvent`] into its own
//! fixed-capacity single-producer single-consumer [`LearnRing`] and remembers in its
//! [`LearnCache`] that it did, so the same MAC is not reported again until the control
//! plane publishes a new snapshot (then a MAC still missing is reported once more, which
//! also recovers events lost to a full ring). No allocation, no lock: the ring is a
//! power-of-two array of atomic words with a release/acquire head and tail.
//!
//! Events carry stable keys only (VNI, MAC, port, VLAN, locator IP), never snapshot
//! indices, so they stay meaningful when the control plane drains them after a swap.

use crate::mac::Mac;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// A MAC the control plane should know about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnEvent {
    /// Seen as a source on a local binding (new there, or moved there).
    Local {
        /// The logical switch's VNI.
        vni: u32,
        /// The station.
        mac: Mac,
        /// Input port.
        port: u16,
        /// Input VLAN (0 = untagged).
        vlan: u16,
    },
    /// Seen as an inner source arriving from a tunnel endpoint other than the one the
    /// remote table names (optional, see `L2Gateway::learn_remote`).
    Remote {
        /// The logical switch's VNI.
        vni: u32,
        /// The station.
        mac: Mac,
        /// The outer source address.
        locator: Ipv4Addr,
    },
    /// An ARP packet on the underlay revealed (or asks for) a neighbour's MAC; the
    /// control plane resolves locator next hops with it. The same shape also carries
    /// the control plane's ARP requests to a worker (see `appliance::neighbor`).
    Neighbor {
        /// The neighbour's (ARP sender's, or the request target's) IPv4 address.
        ip: Ipv4Addr,
        /// Its MAC (for a request to send: the Ethernet destination).
        mac: Mac,
        /// True for an ARP reply, false for a request or announcement.
        reply: bool,
    },
}

const REMOTE_BIT: u64 = 1 << 63;
const NEIGHBOR_BIT: u64 = 1 << 62;
const REPLY_BIT: u64 = 1 << 61;
const MAC_MASK: u64 = 0xffff_ffff_ffff;

impl LearnEvent {
    #[inline]
    fn encode(self) -> (u64, u64) {
        match self {
            LearnEvent::Local {
                vni,
                mac,
                port,
                vlan,
            } => (
                (u64::from(vlan & 0x0fff) << 48) | (mac.0 & MAC_MASK),
                (u64::from(vni) << 32) | u64::from(port),
            ),
            LearnEvent::Remote { vni, mac, locator } => (
                REMOTE_BIT | (mac.0 & MAC_MASK),
                (u64::from(vni) << 32) | u64::from(u32::from(locator)),
            ),
            LearnEvent::Neighbor { ip, mac, reply } => (
                NEIGHBOR_BIT | if reply { REPLY_BIT } else { 0 } | (mac.0 & MAC_MASK),
                u64::from(u32::from(ip)),
            ),
        }
    }

    #[inline]
    fn decode(w0: u64, w1: u64) -> Self {
        let mac = Mac(w0 & MAC_MASK);
        let vni = (w1 >> 32) as u32;
        if w0 & NEIGHBOR_BIT != 0 {
            LearnEvent::Neighbor {
                ip: Ipv4Addr::from(w1 as u32),
                mac,
                reply: w0 & REPLY_BIT != 0,
            }
        } else if w0 & REMOTE_BIT != 0 {
            LearnEvent::Remote {
                vni,
                mac,
                locator: Ipv4Addr::from(w1 as u32),
            }
        } else {
            LearnEvent::Local {
                vni,
                mac,
                port: w1 as u16,
                vlan: ((w0 >> 48) & 0x0fff) as u16,
            }
        }
    }
}

#[repr(align(128))]
#[derive(Debug, Default)]
struct Padded(AtomicUsize);

/// A bounded SPSC ring of [`LearnEvent`]s: the worker lcore pushes, one control-plane
/// task pops. Share it as an `Arc`; exactly one thread may push and one may pop (more
/// would not be unsound, only lose or duplicate events).
#[derive(Debug)]
pub struct LearnRing {
    slots: Box<[[AtomicU64; 2]]>,
    mask: usize,
    /// Next slot to read; written by the consumer.
    head: Padded,
    /// Next slot to write; written by the producer.
    tail: Padded,
    dropped: AtomicU64,
    /// The control plane's ageing epoch; a worker re-reports each MAC it still sees
    /// once per epoch ([`L2Gateway`](crate::L2Gateway) samples known sources), which
    /// is what keeps an active station from ageing out.
    epoch: AtomicU32,
}

impl LearnRing {
    /// A ring for `capacity` events, rounded up to a power of two (at least 2).
    pub fn new(capacity: usize) -> Self {
        let n = capacity.max(2).next_power_of_two();
        LearnRing {
            slots: (0..n)
                .map(|_| [AtomicU64::new(0), AtomicU64::new(0)])
                .collect(),
            mask: n - 1,
            head: Padded::default(),
            tail: Padded::default(),
            dropped: AtomicU64::new(0),
            epoch: AtomicU32::new(0),
        }
    }

    /// The current ageing epoch (one relaxed load; the worker reads it once a burst).
    #[inline]
    pub fn epoch(&self) -> u32 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// Control side: starts a new ageing epoch, asking the worker to report every
    /// source MAC it still sees once more.
    pub fn advance_epoch(&self) {
        self.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// Capacity in events.
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// Producer side: queues an event; false (and counted) when the ring is full.
    #[inline]
    pub fn push(&self, event: LearnEvent) -> bool {
        let tail = self.tail.0.load(Ordering::Relaxed);
        let head = self.head.0.load(Ordering::Acquire);
        if tail.wrapping_sub(head) > self.mask {
            let d = self.dropped.load(Ordering::Relaxed);
            self.dropped.store(d + 1, Ordering::Relaxed);
            return false;
        }
        let (w0, w1) = event.encode();
        let slot = &self.slots[tail & self.mask];
        slot[0].store(w0, Ordering::Relaxed);
        slot[1].store(w1, Ordering::Relaxed);
        self.tail.0.store(tail.wrapping_add(1), Ordering::Release);
        true
    }

    /// Consumer side: the oldest event, if any.
    #[inline]
    pub fn pop(&self) -> Option<LearnEvent> {
        let head = self.head.0.load(Ordering::Relaxed);
        let tail = self.tail.0.load(Ordering::Acquire);
        if head == tail {
            return None;
        }
        let slot = &self.slots[head & self.mask];
        let e = LearnEvent::decode(
            slot[0].load(Ordering::Relaxed),
            slot[1].load(Ordering::Relaxed),
        );
        self.head.0.store(head.wrapping_add(1), Ordering::Release);
        Some(e)
    }

    /// Consumer side: pops everything queued now.
    pub fn drain(&self) -> impl Iterator<Item = LearnEvent> + '_ {
        std::iter::from_fn(|| self.pop())
    }

    /// Events queued now.
    pub fn len(&self) -> usize {
        let tail = self.tail.0.load(Ordering::Acquire);
        tail.wrapping_sub(self.head.0.load(Ordering::Acquire))
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events refused because the ring was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone, Copy)]
struct CacheSlot {
    key: u64,
    value: u32,
    generation: u32,
}

const EMPTY: CacheSlot = CacheSlot {
    key: u64::MAX,
    value: 0,
    generation: 0,
};

/// A direct-mapped cache of what this lcore already reported, keyed on (switch slot,
/// MAC); a collision only costs a repeated event. Owned by one lcore.
#[derive(Debug, Clone)]
pub struct LearnCache {
    slots: Box<[CacheSlot]>,
    shift: u32,
}

impl LearnCache {
    /// A cache of `entries` slots, rounded up to a power of two.
    pub fn new(entries: usize) -> Self {
        let n = entries.max(2).next_power_of_two();
        LearnCache {
            slots: vec![EMPTY; n].into_boxed_slice(),
            shift: 64 - n.trailing_zeros(),
        }
    }

    #[inline(always)]
    fn index(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// True if `key` was already reported with `value` under `generation`.
    #[inline]
    pub(crate) fn seen(&self, key: u64, value: u32, generation: u32) -> bool {
        let s = &self.slots[self.index(key)];
        s.key == key && s.value == value && s.generation == generation
    }

    /// Records that `key` was reported with `value` under `generation`.
    #[inline]
    pub(crate) fn record(&mut self, key: u64, value: u32, generation: u32) {
        let i = self.index(key);
        self.slots[i] = CacheSlot {
            key,
            value,
            generation,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_the_ring() {
        let r = LearnRing::new(3);
        assert_eq!(r.capacity(), 4);
        let a = LearnEvent::Local {
            vni: 0xabcdef,
            mac: Mac(0x0200_0000_0001),
            port: 65535,
            vlan: 4095,
        };
        let b = LearnEvent::Remote {
            vni: 1,
            mac: Mac(0xfeff_ffff_ffff),
            locator: Ipv4Addr::new(192, 0, 2, 9),
        };
        for _ in 0..2 {
            assert!(r.push(a));
            assert!(r.push(b));
        }
        assert!(!r.push(a));
        assert_eq!(r.dropped(), 1);
        assert_eq!(r.len(), 4);
        assert_eq!(r.drain().collect::<Vec<_>>(), vec![a, b, a, b]);
        for reply in [false, true] {
            let n = LearnEvent::Neighbor {
                ip: Ipv4Addr::new(198, 51, 100, 255),
                mac: Mac(0xffff_ffff_ffff),
                reply,
            };
            assert!(r.push(n));
            assert_eq!(r.pop(), Some(n));
        }
        assert!(r.is_empty());
        assert!(r.push(b));
        assert_eq!(r.pop(), Some(b));
        assert_eq!(r.pop(), None);
    }

    #[test]
    fn ring_works_across_threads() {
        let r = std::sync::Arc::new(LearnRing::new(64));
        let producer = {
            let r = r.clone();
            std::thread::spawn(move || {
                let mut i = 0u64;
                while i < 10_000 {
                    let e = LearnEvent::Local {
                        vni: 1,
                        mac: Mac(i),
                        port: 0,
                        vlan: 0,
                    };
                    if r.push(e) {
                        i += 1;
                    } else {
                        std::thread::yield_now();
                    }
                }
            })
        };
        let mut next = 0u64;
        while next < 10_000 {
            match r.pop() {
                Some(LearnEvent::Local { mac, .. }) => {
                    assert_eq!(mac.0, next);
                    next += 1;
                }
                Some(e) => panic!("unexpected {e:?}"),
                None => std::thread::yield_now(),
            }
        }
        producer.join().unwrap();
    }

    #[test]
    fn cache_remembers_value_and_generation() {
        let mut c = LearnCache::new(16);
        assert!(!c.seen(7, 1, 1));
        c.record(7, 1, 1);
        assert!(c.seen(7, 1, 1));
        assert!(!c.seen(7, 2, 1), "moved");
        assert!(!c.seen(7, 1, 2), "new snapshot");
    }
}
