//! The pipeline node contract, after VPP's graph nodes: a node takes a burst of packets
//! and fills a parallel array of verdicts; the lcore loop then acts on the verdicts in
//! one pass (grouped transmit, counted drops). Errors are data, never panics.

use crate::drop::DropReason;
use crate::packet::Packet;

/// What happens to one packet after a node ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Transmit on this port (the lcore's own queue on it).
    Tx {
        /// Output port id.
        port: u16,
    },
    /// Send a copy to every member of a replication set owned by the role.
    Replicate {
        /// Index of the set in the role's current table snapshot.
        set: u32,
    },
    /// Hand to the control plane (ARP for own addresses, BFD, VRRP, ...).
    Punt,
    /// Drop and count.
    Drop(DropReason),
}

/// A pipeline stage over a burst. `verdicts.len() == packets.len()` on entry; the node
/// writes one verdict per packet and must not allocate or lock.
pub trait Node<P: Packet> {
    /// Processes a burst in place.
    fn process(&mut self, packets: &mut [P], verdicts: &mut [Verdict]);
}
