//! The L2 gateway's logical model, whatever its source: the hardware_vtep database
//! (through the vtep agent) or the standalone YAML file. Everything is keyed by names,
//! MACs and locator IPs, never by OVSDB row UUIDs, because controllers re-create rows
//! (a chassis that re-registers gets new locator UUIDs for the same IP).
//!
//! The runtime turns a model into an `l2gw::Tables` snapshot; the sources only build
//! models. Learned MACs flow the other way as [`LocalMac`]s.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// An Ethernet address.
pub type Mac = [u8; 6];

/// How broadcast, unknown-unicast and multicast frames reach remote endpoints
/// (hardware_vtep `Logical_Switch.replication_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Replication {
    /// One copy per `unknown-dst` locator, made by this box (head-end replication).
    #[default]
    SourceNode,
    /// One copy to one healthy service node, which replicates further.
    ServiceNode,
}

/// A logical switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogicalSwitch {
    /// VXLAN network identifier (hardware_vtep `tunnel_key`); 0 means do not forward.
    pub vni: u32,
    /// BUM handling towards remote endpoints.
    pub replication: Replication,
}

/// The logical configuration the L2 gateway forwards by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct L2Model {
    /// Logical switches by name.
    pub switches: BTreeMap<String, LogicalSwitch>,
    /// (port name, VLAN; 0 = untagged) -> logical switch name
    /// (hardware_vtep `Physical_Port.vlan_bindings`).
    pub bindings: BTreeMap<(String, u16), String>,
    /// (logical switch name, MAC) -> remote tunnel endpoint (`Ucast_Macs_Remote`).
    pub remote_macs: BTreeMap<(String, Mac), Ipv4Addr>,
    /// Logical switch name -> locators that receive BUM traffic
    /// (`Mcast_Macs_Remote` with MAC `unknown-dst`).
    pub unknown_dst: BTreeMap<String, BTreeSet<Ipv4Addr>>,
}

/// A MAC learned on a local binding, as reported back to the controller
/// (hardware_vtep `Ucast_Macs_Local`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalMac {
    /// Logical switch name.
    pub switch: String,
    /// The learned address.
    pub mac: Mac,
    /// Port it was learned on.
    pub port: String,
    /// VLAN it was learned on (0 = untagged).
    pub vlan: u16,
}

/// Formats a MAC the way OVSDB and operators write it (`aa:bb:cc:dd:ee:ff`).
pub fn format_mac(m: &Mac) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}
