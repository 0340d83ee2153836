//! The hardware_vtep agent: this box as a `Physical_Switch` of a hardware_vtep
//! database (hosted on the box by a stock `ovsdb-server`, or remote and clustered),
//! driven by a controller such as OVN's `ovn-controller-vtep` or an NSX-style one.
//!
//! This module owns:
//!
//! - [`model_from_snapshot`] / [`build_model`]: the controller-written side
//!   (`Physical_Port.vlan_bindings`, `Logical_Switch`, `Ucast_Macs_Remote`,
//!   `Mcast_Macs_Remote`, `Physical_Locator(_Set)`) of one replica snapshot turned
//!   into an [`L2Model`](crate::l2model::L2Model) keyed by names, MACs and locator IPs,
//!   with [`Fault`]s for what cannot be used;
//! - [`apply_limits`]: the model cut to this box's table sizes ([`Limits`]), with
//!   faults for what was left out;
//! - [`hsc_ops`]: the gateway-written side (its `Physical_Switch` and
//!   `Physical_Port`s, `Ucast_Macs_Local`, `Mcast_Macs_Local unknown-dst`, a `Tunnel`
//!   per remote locator, `Logical_Binding_Stats` per binding, the fault columns) as
//!   one idempotent transaction computed from a snapshot, keyed by content;
//! - [`VtepAgent`]: the tokio task over an [`ovsdb::Client`] that publishes models
//!   (only when they change, never an empty one because a connection dropped) and
//!   writes the gateway side whenever the database, the learned MACs or (at a
//!   bounded rate) the binding counters change.
//!
//! Not here yet: BFD itself (tunnels report `bfd_status:enabled=false`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod agent;
mod model;
mod writer;

pub use agent::{AgentStats, DATABASE, VtepAgent, VtepAgentConfig};
pub use model::{
    Fault, INVALID_VLAN_MAP, Limits, MAC_TABLE_EXHAUSTION, MAX_VNI, TUNNEL_EXHAUSTION, UNKNOWN_DST,
    VXLAN_OVER_IPV4, apply_limits, build_model, model_from_snapshot, parse_mac, remote_locators,
};
pub use writer::{
    BFD_DST_IP, BFD_DST_MAC, BindingCounts, BindingCountsMap, HscPlan, LocalSide, hsc_ops, hsc_plan,
};

#[cfg(test)]
mod tests;
