//! Per-lcore L2 gateway counters: per binding, per logical switch, per L2 drop reason.
//!
//! This module owns the counters behind `Logical_Binding_Stats` and the `/metrics`
//! families of the L2 gateway. Like `dataplane::counters`, each lcore has its own
//! [`L2Counters`], written by that lcore only with relaxed `store(load + n)` (no locked
//! instruction) and read by the scraper, which sums the lcores' snapshots.
//!
//! Indexing is by stable keys, so counters survive table snapshots: bindings by
//! (port, VLAN) (a 4,096-entry block of 32 bytes per port: 128 KiB per port per lcore),
//! switches by slot ([`MAX_SWITCHES`] entries of 64 bytes: 1 MiB per lcore).

use crate::drop::L2Drop;
use crate::tables::{MAX_SWITCHES, VLANS};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[inline(always)]
fn bump(counter: &AtomicU64, n: u64) {
    // Single writer: no read-modify-write instruction is needed.
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

/// One binding's counters (`Logical_Binding_Stats`).
#[derive(Debug, Default)]
#[repr(C, align(32))]
struct BindingCell {
    from_local_packets: AtomicU64,
    from_local_bytes: AtomicU64,
    to_local_packets: AtomicU64,
    to_local_bytes: AtomicU64,
}

/// One logical switch's counters.
#[derive(Debug, Default)]
#[repr(C, align(64))]
struct SwitchCell {
    from_local_packets: AtomicU64,
    from_local_bytes: AtomicU64,
    from_tunnel_packets: AtomicU64,
    from_tunnel_bytes: AtomicU64,
    to_tunnel_packets: AtomicU64,
    to_tunnel_bytes: AtomicU64,
    flooded_packets: AtomicU64,
}

/// A binding's counters, summed over what was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BindingStats {
    /// Frames received on the binding and accepted into its switch.
    pub from_local_packets: u64,
    /// Their bytes (as received, tag included).
    pub from_local_bytes: u64,
    /// Unicast frames sent out of the binding by the node (replicas are counted by
    /// whoever makes them, with [`L2Counters::to_local`]).
    pub to_local_packets: u64,
    /// Their bytes (as sent).
    pub to_local_bytes: u64,
}

impl BindingStats {
    /// Adds another lcore's counts.
    pub fn add(&mut self, o: &BindingStats) {
        self.from_local_packets += o.from_local_packets;
        self.from_local_bytes += o.from_local_bytes;
        self.to_local_packets += o.to_local_packets;
        self.to_local_bytes += o.to_local_bytes;
    }
}

/// A logical switch's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SwitchStats {
    /// Frames into the switch from its bindings.
    pub from_local_packets: u64,
    /// Their bytes.
    pub from_local_bytes: u64,
    /// Frames into the switch from tunnels (after decapsulation).
    pub from_tunnel_packets: u64,
    /// Their inner bytes.
    pub from_tunnel_bytes: u64,
    /// Unicast frames encapsulated towards a locator.
    pub to_tunnel_packets: u64,
    /// Their bytes before encapsulation.
    pub to_tunnel_bytes: u64,
    /// Frames handed over for replication (BUM).
    pub flooded_packets: u64,
}

impl SwitchStats {
    /// Adds another lcore's counts.
    pub fn add(&mut self, o: &SwitchStats) {
        self.from_local_packets += o.from_local_packets;
        self.from_local_bytes += o.from_local_bytes;
        self.from_tunnel_packets += o.from_tunnel_packets;
        self.from_tunnel_bytes += o.from_tunnel_bytes;
        self.to_tunnel_packets += o.to_tunnel_packets;
        self.to_tunnel_bytes += o.to_tunnel_bytes;
        self.flooded_packets += o.flooded_packets;
    }
}

/// One lcore's L2 gateway counters; see the module docs.
#[derive(Debug)]
pub struct L2Counters {
    ports: usize,
    bindings: Box<[BindingCell]>,
    switches: Box<[SwitchCell]>,
    drops: [AtomicU64; L2Drop::COUNT],
    learn_events: AtomicU64,
}

impl L2Counters {
    /// Counters for ports `0..ports` and every switch slot.
    pub fn new(ports: u16) -> Self {
        let ports = usize::from(ports);
        L2Counters {
            ports,
            bindings: (0..ports * VLANS).map(|_| BindingCell::default()).collect(),
            switches: (0..MAX_SWITCHES).map(|_| SwitchCell::default()).collect(),
            drops: std::array::from_fn(|_| AtomicU64::new(0)),
            learn_events: AtomicU64::new(0),
        }
    }

    #[inline(always)]
    fn binding_cell(&self, port: u16, vlan: u16) -> Option<&BindingCell> {
        let p = usize::from(port);
        if p >= self.ports {
            return None;
        }
        self.bindings
            .get(p * VLANS + (usize::from(vlan) & (VLANS - 1)))
    }

    /// Counts a frame accepted from binding (port, VLAN) into switch `slot`.
    #[inline]
    pub fn from_local(&self, port: u16, vlan: u16, slot: u16, bytes: usize) {
        if let Some(c) = self.binding_cell(port, vlan) {
            bump(&c.from_local_packets, 1);
            bump(&c.from_local_bytes, bytes as u64);
        }
        if let Some(s) = self.switches.get(usize::from(slot)) {
            bump(&s.from_local_packets, 1);
            bump(&s.from_local_bytes, bytes as u64);
        }
    }

    /// Starts loading the counters a frame from binding (port, VLAN) into switch
    /// `slot` updates.
    #[inline(always)]
    pub fn prefetch(&self, port: u16, vlan: u16, slot: u16) {
        if let Some(c) = self.binding_cell(port, vlan) {
            dataplane::prefetch(c);
        }
        self.prefetch_switch(slot);
    }

    /// Starts loading switch `slot`'s counters.
    #[inline(always)]
    pub fn prefetch_switch(&self, slot: u16) {
        if let Some(s) = self.switches.get(usize::from(slot)) {
            dataplane::prefetch(s);
        }
    }

    /// Counts a frame sent out of binding (port, VLAN).
    #[inline]
    pub fn to_local(&self, port: u16, vlan: u16, bytes: usize) {
        if let Some(c) = self.binding_cell(port, vlan) {
            bump(&c.to_local_packets, 1);
            bump(&c.to_local_bytes, bytes as u64);
        }
    }

    /// Counts a decapsulated frame into switch `slot`.
    #[inline]
    pub fn from_tunnel(&self, slot: u16, bytes: usize) {
        if let Some(s) = self.switches.get(usize::from(slot)) {
            bump(&s.from_tunnel_packets, 1);
            bump(&s.from_tunnel_bytes, bytes as u64);
        }
    }

    /// Counts a frame of switch `slot` encapsulated towards a locator.
    #[inline]
    pub fn to_tunnel(&self, slot: u16, bytes: usize) {
        if let Some(s) = self.switches.get(usize::from(slot)) {
            bump(&s.to_tunnel_packets, 1);
            bump(&s.to_tunnel_bytes, bytes as u64);
        }
    }

    /// Counts a frame of switch `slot` handed over for replication.
    #[inline]
    pub fn flooded(&self, slot: u16) {
        if let Some(s) = self.switches.get(usize::from(slot)) {
            bump(&s.flooded_packets, 1);
        }
    }

    /// Counts an L2 drop.
    #[inline]
    pub fn dropped(&self, reason: L2Drop) {
        bump(&self.drops[reason.index()], 1);
    }

    /// Counts a learn event pushed to the ring.
    #[inline]
    pub fn learned(&self) {
        bump(&self.learn_events, 1);
    }

    /// A binding's counters.
    pub fn binding(&self, port: u16, vlan: u16) -> BindingStats {
        self.binding_cell(port, vlan)
            .map(|c| BindingStats {
                from_local_packets: c.from_local_packets.load(Relaxed),
                from_local_bytes: c.from_local_bytes.load(Relaxed),
                to_local_packets: c.to_local_packets.load(Relaxed),
                to_local_bytes: c.to_local_bytes.load(Relaxed),
            })
            .unwrap_or_default()
    }

    /// A switch's counters.
    pub fn switch(&self, slot: u16) -> SwitchStats {
        self.switches
            .get(usize::from(slot))
            .map(|s| SwitchStats {
                from_local_packets: s.from_local_packets.load(Relaxed),
                from_local_bytes: s.from_local_bytes.load(Relaxed),
                from_tunnel_packets: s.from_tunnel_packets.load(Relaxed),
                from_tunnel_bytes: s.from_tunnel_bytes.load(Relaxed),
                to_tunnel_packets: s.to_tunnel_packets.load(Relaxed),
                to_tunnel_bytes: s.to_tunnel_bytes.load(Relaxed),
                flooded_packets: s.flooded_packets.load(Relaxed),
            })
            .unwrap_or_default()
    }

    /// Drops for one L2 reason.
    pub fn drops(&self, reason: L2Drop) -> u64 {
        self.drops[reason.index()].load(Relaxed)
    }

    /// Learn events pushed.
    pub fn learn_events(&self) -> u64 {
        self.learn_events.load(Relaxed)
    }

    /// Sums a binding's counters over every lcore.
    pub fn sum_binding<'a>(
        lcores: impl IntoIterator<Item = &'a L2Counters>,
        port: u16,
        vlan: u16,
    ) -> BindingStats {
        let mut total = BindingStats::default();
        for c in lcores {
            total.add(&c.binding(port, vlan));
        }
        total
    }

    /// Sums a switch's counters over every lcore.
    pub fn sum_switch<'a>(
        lcores: impl IntoIterator<Item = &'a L2Counters>,
        slot: u16,
    ) -> SwitchStats {
        let mut total = SwitchStats::default();
        for c in lcores {
            total.add(&c.switch(slot));
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_sums() {
        let a = L2Counters::new(2);
        let b = L2Counters::new(2);
        a.from_local(1, 10, 3, 100);
        b.from_local(1, 10, 3, 50);
        b.to_local(1, 10, 60);
        a.to_tunnel(3, 100);
        a.from_tunnel(3, 70);
        a.flooded(3);
        a.from_local(9, 10, 3, 1); // port out of range: switch counted, binding ignored
        let bs = L2Counters::sum_binding([&a, &b], 1, 10);
        assert_eq!(
            bs,
            BindingStats {
                from_local_packets: 2,
                from_local_bytes: 150,
                to_local_packets: 1,
                to_local_bytes: 60
            }
        );
        let ss = L2Counters::sum_switch([&a, &b], 3);
        assert_eq!(ss.from_local_packets, 3);
        assert_eq!(
            (
                ss.to_tunnel_packets,
                ss.from_tunnel_bytes,
                ss.flooded_packets
            ),
            (1, 70, 1)
        );
        a.dropped(L2Drop::NoBinding);
        assert_eq!(a.drops(L2Drop::NoBinding), 1);
        assert_eq!(std::mem::size_of::<BindingCell>(), 32);
        assert_eq!(std::mem::size_of::<SwitchCell>(), 64);
    }
}
