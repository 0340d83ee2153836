//! The L3 gateway pipeline: FIB, ARP/ND, NAT sessions and ICMP between logical networks
//! and the physical network. Its issue comes later; for now this crate holds only its
//! place in the workspace and depends on `dataplane` alone.

pub use dataplane;
