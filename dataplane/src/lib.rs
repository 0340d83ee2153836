//! The DPDK-free core shared by every causeway pipeline.
//!
//! This crate owns:
//! - [`packet`]: the [`Packet`] trait that DPDK mbufs (in the `dpdk` crate) and plain
//!   heap buffers ([`HeapPacket`], for tests) both implement, so pipelines run and are
//!   tested without DPDK;
//! - [`drop`]: every reason a packet may be dropped, declared once (enum, text, metric
//!   label);
//! - [`counters`]: per-lcore counters, written by one lcore and summed at scrape time;
//! - [`node`]: the pipeline node contract (a burst in, a parallel verdict array out).
//!
//! Nothing here allocates or locks on the per-packet path.

pub mod counters;
pub mod drop;
pub mod node;
pub mod packet;

pub use counters::{LcoreCounters, LcoreStats};
pub use drop::DropReason;
pub use node::Verdict;
pub use packet::{HeapPacket, NoRoom, Packet};
