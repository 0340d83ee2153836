//! The safe DPDK runtime for causeway.
//!
//! This crate owns everything the daemon does with DPDK, over the raw `dpdk-sys`
//! bindings: EAL start and stop ([`Eal`]), packet buffer pools ([`Mempool`]), mbufs as
//! owned [`dataplane::Packet`]s ([`Mbuf`]) and fixed bursts of them ([`Burst`]), ports
//! from any devargs (PCI or vdev) with their queues, stats and link state ([`Port`],
//! [`RxQueue`], [`TxQueue`], [`TxBuffer`]), worker lcores ([`lcore`]), the time stamp
//! counter ([`tsc`]) and a signal-driven stop flag ([`Stop`]).
//!
//! It does not own packet processing (that is `dataplane` and the pipelines) nor
//! configuration (that is `appliance`).
//!
//! # Safety model
//! `unsafe` appears only in small wrappers, each with a `// SAFETY:` line. The
//! invariants that make the safe API sound:
//! - DPDK calls that need the EAL check that [`Eal::init`] succeeded (control path) or
//!   are only reachable through values that exist after it ([`Mempool`], [`Mbuf`]).
//! - An [`Mbuf`] is the unique owner of its `rte_mbuf`; there is no safe way to make
//!   two owners of one buffer, so `data_mut` never aliases.
//! - Each rx/tx queue has at most one handle ([`RxQueue`] / [`TxQueue`], `Send` but not
//!   `Sync`), so a PMD queue is never polled by two threads; a [`Port`] refuses to stop
//!   or close while any of its queue handles is alive.
//! - Mempools are never freed before [`Eal::cleanup`], which is `unsafe` because it
//!   invalidates every mbuf, pool and port still alive.
//!
//! # Threads and CPU affinity
//! `rte_eal_init` pins the calling thread to the main lcore, and threads spawned
//! afterwards inherit that single-CPU mask. Start other runtimes (tokio) before
//! [`Eal::init`], or call [`lcore::reset_thread_affinity`] first thing in every
//! thread spawned after it (for tokio: `on_thread_start`).

mod eal;
mod error;
pub mod lcore;
mod mbuf;
mod mempool;
mod port;
mod stop;
pub mod tsc;

pub use dpdk_sys as sys;

pub use eal::{Eal, version};
pub use error::{Direction, Error};
pub use mbuf::{Burst, Drain, Mbuf};
pub use mempool::Mempool;
pub use port::{
    FlushResult, LinkState, Port, PortConfig, PortMonitor, PortStats, RxQueue, TxBuffer, TxQueue,
};
pub use stop::Stop;
