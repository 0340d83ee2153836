//! The DPDK-free core shared by every causeway pipeline.
//!
//! This crate owns:
//! - [`packet`]: the [`Packet`] trait that DPDK mbufs (in the `dpdk` crate) and plain
//!   heap buffers ([`HeapPacket`], for tests) both implement, so pipelines run and are
//!   tested without DPDK;
//! - [`drop`](mod@drop): every reason a packet may be dropped, declared once (enum, text, metric
//!   label);
//! - [`counters`]: per-lcore counters, written by one lcore and summed at scrape time;
//! - [`node`]: the pipeline node contract (a burst in, a parallel verdict array out);
//! - [`wire`]: zero-copy header views (smoltcp's for Ethernet/ARP/IP/UDP/TCP/ICMP, ours
//!   for VLAN tags, VXLAN, Geneve, GRE and STT) with owned `Repr`s, typed errors and
//!   golden-vector tests;
//! - [`ingress`]: [`ingress::classify`], the sanity check every role runs first on a
//!   received frame (runts, VLAN tags, IPv4/IPv6/ARP/UDP/TCP lengths);
//! - [`responder`]: ARP and ICMP echo replies for our own address, in place;
//! - [`encap`]: tunnel templates that write outer headers into headroom (VXLAN and
//!   Geneve over IPv4/IPv6, keyed GRE/NVGRE) and the matching decapsulation.
//!
//! Nothing here allocates or locks on the per-packet path.
//!
//! # Fuzzing
//!
//! The fuzz targets live in `src/fuzz.rs` as bolero harnesses that are also ordinary
//! tests: `cargo test -p dataplane` runs each for about a second on random inputs
//! (stable toolchain, no extra tools). To run them longer, set bolero's environment:
//!
//! ```text
//! BOLERO_RANDOM_TEST_TIME_MS=600000 cargo test -p dataplane --release fuzz::
//! BOLERO_RANDOM_ITERATIONS=10000000 cargo test -p dataplane --release fuzz::decap
//! BOLERO_RANDOM_SEED=<seed printed by a failure> cargo test -p dataplane fuzz::<target>
//! ```
//!
//! Coverage-guided (libFuzzer via `cargo install cargo-bolero`; its sanitizers need a
//! nightly toolchain, which this project does not pin):
//!
//! ```text
//! cargo +nightly bolero test -p dataplane fuzz::classify_never_panics_and_offsets_are_in_bounds
//! ```

#![warn(missing_docs)]

pub mod counters;
pub mod drop;
pub mod encap;
#[cfg(test)]
mod fuzz;
pub mod ingress;
pub mod node;
pub mod packet;
pub mod responder;
pub mod wire;

pub use counters::{LcoreCounters, LcoreStats};
pub use drop::DropReason;
pub use node::Verdict;
pub use packet::{HeapPacket, NoRoom, Packet};

/// Asks the CPU to start loading the cache line holding `value`, so a burst can issue
/// its table lookups' memory accesses before it waits on any of them. A hint only:
/// nothing is read, and on targets without the instruction it does nothing.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: prefetch never faults and reads nothing architecturally; the pointer
        // comes from a reference, and SSE is part of the x86_64 baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
