//! The L2 gateway pipeline: VLAN bindings on physical ports to logical switches over
//! VXLAN, MAC learning, BUM replication. A pure library over [`dataplane::Packet`]: no
//! DPDK, and no allocation, lock or atomic read-modify-write per packet.
//!
//! - [`tables`]: the immutable snapshot ([`Tables`], built by [`TablesBuilder`] from
//!   the hardware_vtep model keyed on (MAC, locator IP) and switch slots);
//! - [`mac`]: MAC addresses as integers and the (switch, MAC) hash table;
//! - [`node`]: the per-lcore node [`L2Gateway`] (burst in, verdicts out);
//! - [`flood`]: [`replicate`], one flood member's copy of a BUM frame;
//! - [`learn`]: learn events to the control plane ([`LearnRing`]) and the per-lcore
//!   cache that sends each only when a MAC is new or moved;
//! - [`counters`]: per-lcore per-binding and per-switch counters ([`L2Counters`]);
//! - [`tag`]: 802.1Q push/pop/rewrite in place;
//! - [`drop`](mod@drop): the L2 gateway's own drop reasons ([`L2Drop`]).
//!
//! # Forwarding
//!
//! Physical ingress (any port but the underlay port): ingress check
//! ([`dataplane::ingress::classify`]); (port, outer VLAN or 0) -> binding -> logical
//! switch (none: `no_binding`; VNI 0: `switch_disabled`); the source MAC is learned
//! (`invalid_source_mac` for group or zero sources); then the destination:
//! - a local MAC on another binding: out of its port with its tag (pushed, popped or
//!   rewritten in place), `Tx { port }`; on the input binding: `same_binding`;
//! - a remote MAC: access tag popped, VXLAN to its locator (VNI = tunnel_key, outer UDP
//!   source port from the inner flow hash or RSS hash), `Tx { underlay port }`; a frame
//!   longer than `mtu - 36` bytes without its tag is dropped (`underlay_mtu_exceeded`,
//!   RFC 7348 forbids fragmenting);
//! - broadcast, multicast and unknown unicast: access tag popped,
//!   `Replicate { set: Tables::flood_from_binding(port, vlan) }`: the switch's other
//!   bindings, plus every `unknown-dst` locator (source_node) or one picked by flow
//!   hash (service_node).
//!
//! Tunnel ingress (the underlay port): VXLAN to our tunnel IP and UDP 4789 is
//! decapsulated ([`dataplane::encap::vxlan_decap`]; malformed: `malformed_vxlan`), VNI
//! -> switch (`unknown_vni`), local MAC -> out of its binding with its tag, anything
//! else `Replicate { set: Tables::flood_from_tunnel(slot) }`: local bindings only (split
//! horizon). ARP, and ICMP to the tunnel IP, are punted; other traffic is `not_for_us`.
//!
//! # MTU
//!
//! VXLAN over IPv4 adds 50 bytes on the wire, 36 of them inside the underlay IP MTU
//! (IPv4 20 + UDP 8 + VXLAN 8; the outer Ethernet header, and an underlay tag, are
//! not). An inner frame (Ethernet header included, access tag removed) of up to
//! `mtu - 36` bytes is carried: 1,464 bytes for a 1,500 MTU underlay, so a 1,500-byte
//! inner IP MTU needs an underlay MTU of 1,550.
//!
//! # Drop reasons
//!
//! `Verdict::Drop` carries a `dataplane::DropReason`; every L2 reason ([`L2Drop`]) has a
//! `dataplane` reason of the same name and label ([`L2Drop::fallback`]), so the lcore's
//! drop counters count the exact reason. [`L2Counters`] counts them per lcore too.
//!
//! # Memory and speed
//!
//! Measured by `cargo test -p l2gw --release --test scale -- --nocapture` (16,384
//! switches, 4,096 bindings, 1,000 locators, 1 M remote and 100 k local MACs; builds in
//! about 0.3 s): remote MACs 16.8 B/entry (16 MiB), local MACs 21.0 B/entry (2 MiB;
//! the figure swings between 14.6 and 29.3 B with where the count falls between two
//! powers of two, see [`mac`]), switches 48 B each, bindings 8 KiB per port that has
//! any, locators 358 B each (the VXLAN template). Per lcore counters: 1 MiB for
//! switches plus 128 KiB per port.
//!
//! The node works a burst in two passes (VPP style): the first reads each frame's
//! binding or VNI and prefetches the MAC table lines, switch and counters it will
//! touch; the second forwards. Encapsulation reuses the ingress classification for the
//! flow hash and patches the IPv4 checksum from a precomputed template sum instead of
//! summing the copied header (which stalled on store forwarding). Figures:
//! `cargo bench -p l2gw --bench l2gw` and `causeway bench l2-encap|l2-decap`, recorded
//! in docs/benchmarks.md.

#![warn(missing_docs)]

pub mod counters;
pub mod drop;
pub mod flood;
pub mod learn;
pub mod mac;
pub mod node;
pub mod tables;
pub mod tag;

pub use counters::{BindingStats, L2Counters, SwitchStats};
pub use dataplane;
pub use drop::{Drop, L2Drop};
pub use flood::replicate;
pub use learn::{LearnEvent, LearnRing};
pub use mac::{Mac, MacTable};
pub use node::{L2Gateway, REFRESH_SAMPLE};
pub use tables::{
    BuildError, FloodMember, FloodSet, MAX_SWITCHES, ReplicationMode, Tables, TablesBuilder,
    TablesMemory, UnderlayConfig,
};
