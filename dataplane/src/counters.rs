//! Per-lcore counters: written by exactly one lcore, read by the metrics scraper.
//!
//! The owner updates with `store(load + n)` on relaxed atomics: on x86-64 that is a
//! plain load/add/store with no locked instruction, and readers on other threads see
//! torn-free values without a data race (a plain `u64` would be undefined behaviour).

use crate::drop::DropReason;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One lcore's counters, padded to its own cache lines so lcores never share a line.
#[repr(C, align(128))]
#[derive(Debug)]
pub struct LcoreCounters {
    rx_packets: AtomicU64,
    tx_packets: AtomicU64,
    busy_polls: AtomicU64,
    idle_polls: AtomicU64,
    drops: [AtomicU64; DropReason::COUNT],
}

impl Default for LcoreCounters {
    fn default() -> Self {
        LcoreCounters {
            rx_packets: AtomicU64::new(0),
            tx_packets: AtomicU64::new(0),
            busy_polls: AtomicU64::new(0),
            idle_polls: AtomicU64::new(0),
            drops: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

#[inline(always)]
fn bump(counter: &AtomicU64, n: u64) {
    // Single writer: no read-modify-write instruction is needed.
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

impl LcoreCounters {
    /// Counts a poll that returned `received` packets (busy if any, idle if none).
    #[inline]
    pub fn poll(&self, received: u64) {
        if received == 0 {
            bump(&self.idle_polls, 1);
        } else {
            bump(&self.busy_polls, 1);
            bump(&self.rx_packets, received);
        }
    }

    /// Counts packets handed to a transmit queue and accepted.
    #[inline]
    pub fn transmitted(&self, n: u64) {
        bump(&self.tx_packets, n);
    }

    /// Counts `n` packets dropped for `reason`.
    #[inline]
    pub fn dropped(&self, reason: DropReason, n: u64) {
        bump(&self.drops[reason.index()], n);
    }

    /// A consistent-enough copy for export (each field read once, relaxed).
    pub fn snapshot(&self) -> LcoreStats {
        LcoreStats {
            rx_packets: self.rx_packets.load(Relaxed),
            tx_packets: self.tx_packets.load(Relaxed),
            busy_polls: self.busy_polls.load(Relaxed),
            idle_polls: self.idle_polls.load(Relaxed),
            drops: std::array::from_fn(|i| self.drops[i].load(Relaxed)),
        }
    }
}

/// A snapshot of counters; several lcores' snapshots add up with [`LcoreStats::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LcoreStats {
    /// Packets received from rx queues.
    pub rx_packets: u64,
    /// Packets accepted by tx queues.
    pub tx_packets: u64,
    /// Polls that returned at least one packet.
    pub busy_polls: u64,
    /// Polls that returned nothing.
    pub idle_polls: u64,
    /// Drops, indexed by [`DropReason::index`].
    pub drops: [u64; DropReason::COUNT],
}

impl Default for LcoreStats {
    fn default() -> Self {
        LcoreStats {
            rx_packets: 0,
            tx_packets: 0,
            busy_polls: 0,
            idle_polls: 0,
            drops: [0; DropReason::COUNT],
        }
    }
}

impl LcoreStats {
    /// Adds another snapshot into this one.
    pub fn add(&mut self, other: &LcoreStats) {
        self.rx_packets += other.rx_packets;
        self.tx_packets += other.tx_packets;
        self.busy_polls += other.busy_polls;
        self.idle_polls += other.idle_polls;
        for (a, b) in self.drops.iter_mut().zip(other.drops.iter()) {
            *a += b;
        }
    }

    /// Drops counted for `reason`.
    pub fn drops_for(&self, reason: DropReason) -> u64 {
        self.drops[reason.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn owner_writes_are_seen_by_a_reader_thread() {
        let c = Arc::new(LcoreCounters::default());
        let writer = {
            let c = c.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    c.poll(32);
                    c.poll(0);
                    c.transmitted(30);
                    c.dropped(DropReason::RuntFrame, 2);
                }
            })
        };
        writer.join().unwrap();
        let s = c.snapshot();
        assert_eq!(s.rx_packets, 32_000);
        assert_eq!(s.tx_packets, 30_000);
        assert_eq!(s.busy_polls, 1000);
        assert_eq!(s.idle_polls, 1000);
        assert_eq!(s.drops_for(DropReason::RuntFrame), 2000);
        let mut total = LcoreStats::default();
        total.add(&s);
        total.add(&s);
        assert_eq!(total.rx_packets, 64_000);
        assert_eq!(total.drops_for(DropReason::RuntFrame), 4000);
    }

    #[test]
    fn counters_live_on_their_own_cache_lines() {
        assert_eq!(std::mem::align_of::<LcoreCounters>(), 128);
    }
}
