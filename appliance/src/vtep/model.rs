//! Reading the controller's side of hardware_vtep into an [`L2Model`]: a pure
//! function of a replica [`Snapshot`], keyed by names, MACs and locator IPs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;

use ovsdb::{Datum, Row, Snapshot};
use uuid::Uuid;

use crate::l2model::{L2Model, LogicalSwitch, Mac, Replication, format_mac};

/// The only encapsulation hardware_vtep 1.7 defines, and the one we speak.
pub const VXLAN_OVER_IPV4: &str = "vxlan_over_ipv4";

/// The `Mcast_Macs_*` MAC that stands for broadcast, unknown unicast and multicast
/// without a more specific row.
pub const UNKNOWN_DST: &str = "unknown-dst";

/// Largest VXLAN network identifier (24 bits).
pub const MAX_VNI: i64 = (1 << 24) - 1;

/// Something in the database this box cannot act on, reported instead of panicking
/// or guessing. Everything is named (never by row UUID) so it can be logged and shown
/// to operators as is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// No `Physical_Switch` with this box's name (yet): the model is empty.
    PhysicalSwitchMissing {
        /// The name looked for.
        name: String,
    },
    /// A row referenced by another one is not in the replica.
    DanglingReference {
        /// The referenced table.
        table: &'static str,
        /// Who references it, in words (`Physical_Switch gw1 ports`, ...).
        from: String,
    },
    /// Two `Physical_Port`s of this switch with the same name: only the first (by
    /// content order) is followed.
    DuplicatePort {
        /// The port name.
        port: String,
    },
    /// `vlan_bindings` on a port this box does not have (not in its configuration):
    /// ignored.
    UnknownPort {
        /// The port name.
        port: String,
        /// The VLANs bound on it.
        vlans: Vec<u16>,
    },
    /// A VLAN outside 0..=4095 in `vlan_bindings`.
    InvalidVlan {
        /// The port name.
        port: String,
        /// The key found.
        vlan: i64,
    },
    /// A VLAN binding to a `Logical_Switch` row that does not exist.
    BindingToMissingSwitch {
        /// The port name.
        port: String,
        /// The VLAN.
        vlan: u16,
    },
    /// Two logical switches with the same name (the schema forbids it; a replica in
    /// the middle of a change might show it): bindings follow one of them.
    DuplicateSwitch {
        /// The name.
        switch: String,
    },
    /// A `tunnel_key` that is not a VXLAN VNI (1..2^24-1): the switch does not forward.
    InvalidTunnelKey {
        /// The logical switch.
        switch: String,
        /// The key found.
        key: i64,
    },
    /// A MAC column that is not `xx:xx:xx:xx:xx:xx`.
    MalformedMac {
        /// The table (`Ucast_Macs_Remote`, ...).
        table: &'static str,
        /// The logical switch of the row.
        switch: String,
        /// The MAC as found.
        mac: String,
    },
    /// A locator this box cannot send to (missing row, other encapsulation, a
    /// `dst_ip` that is not an IPv4 address): the row using it is ignored.
    BadLocator {
        /// The table of the row that uses the locator.
        table: &'static str,
        /// The logical switch of the row.
        switch: String,
        /// The row's MAC.
        mac: String,
        /// What is wrong.
        detail: String,
    },
    /// The same (switch, MAC) at two different locators: the lowest IP wins until
    /// the controller settles.
    ConflictingRemoteMac {
        /// The logical switch.
        switch: String,
        /// The MAC.
        mac: Mac,
        /// Every locator IP seen for it.
        locators: BTreeSet<Ipv4Addr>,
    },
    /// More `Ucast_Macs_Remote` MACs than [`Limits::remote_macs`]: the rest (by
    /// switch name and MAC) are left out of the model, so their frames are flooded
    /// (`mac_table_exhaustion`).
    RemoteMacLimit {
        /// The limit.
        limit: usize,
        /// How many the database asks for.
        requested: usize,
    },
    /// More remote locators than [`Limits::tunnels`]: the lowest IPs are kept, MACs
    /// and `unknown-dst` members at the others are left out (`tunnel_exhaustion`).
    TunnelLimit {
        /// The limit.
        limit: usize,
        /// How many the database asks for.
        requested: usize,
    },
    /// An `Mcast_Macs_Remote` row for a specific multicast MAC: not forwarded by yet
    /// (its traffic follows `unknown-dst`), kept visible here.
    UnsupportedMulticast {
        /// The logical switch.
        switch: String,
        /// The MAC as found.
        mac: String,
        /// Its locators.
        locators: BTreeSet<Ipv4Addr>,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::PhysicalSwitchMissing { name } => {
                write!(f, "no Physical_Switch named {name:?}")
            }
            Fault::DanglingReference { table, from } => {
                write!(f, "{from} references a missing {table} row")
            }
            Fault::DuplicatePort { port } => write!(f, "two Physical_Ports named {port:?}"),
            Fault::UnknownPort { port, vlans } => {
                write!(
                    f,
                    "VLANs {vlans:?} bound on port {port:?}, which this box does not have"
                )
            }
            Fault::InvalidVlan { port, vlan } => write!(f, "port {port:?}: invalid VLAN {vlan}"),
            Fault::BindingToMissingSwitch { port, vlan } => {
                write!(
                    f,
                    "port {port:?} VLAN {vlan} bound to a missing logical switch"
                )
            }
            Fault::DuplicateSwitch { switch } => {
                write!(f, "two Logical_Switches named {switch:?}")
            }
            Fault::InvalidTunnelKey { switch, key } => {
                write!(
                    f,
                    "logical switch {switch:?}: tunnel_key {key} is not a VNI"
                )
            }
            Fault::MalformedMac { table, switch, mac } => {
                write!(f, "{table} on {switch:?}: malformed MAC {mac:?}")
            }
            Fault::BadLocator {
                table,
                switch,
                mac,
                detail,
            } => write!(f, "{table} {mac} on {switch:?}: {detail}"),
            Fault::ConflictingRemoteMac {
                switch,
                mac,
                locators,
            } => write!(
                f,
                "remote MAC {} on {switch:?} at several locators {locators:?}",
                format_mac(mac)
            ),
            Fault::RemoteMacLimit { limit, requested } => write!(
                f,
                "{requested} remote MACs exceed the table of {limit}: the rest are not used"
            ),
            Fault::TunnelLimit { limit, requested } => write!(
                f,
                "{requested} remote locators exceed the limit of {limit} tunnels: the rest \
                 are not used"
            ),
            Fault::UnsupportedMulticast {
                switch,
                mac,
                locators,
            } => write!(
                f,
                "multicast MAC {mac} on {switch:?} -> {locators:?} not supported yet (ignored)"
            ),
        }
    }
}

/// `Physical_Port.port_fault_status`: a VLAN binding could not be instantiated.
pub const INVALID_VLAN_MAP: &str = "invalid_vlan_map";
/// `Physical_Switch.switch_fault_status`: MAC entries could not be stored.
pub const MAC_TABLE_EXHAUSTION: &str = "mac_table_exhaustion";
/// `Physical_Switch.switch_fault_status`: tunnels could not be created.
pub const TUNNEL_EXHAUSTION: &str = "tunnel_exhaustion";

impl Fault {
    /// The `Physical_Port` whose `port_fault_status` this fault sets
    /// (`invalid_vlan_map`): a binding the box cannot apply, because the VLAN is out
    /// of range, the switch is missing, or the port is not one of this box's data
    /// ports (the underlay port or one it does not have).
    pub fn vlan_map_port(&self) -> Option<&str> {
        match self {
            Fault::InvalidVlan { port, .. }
            | Fault::BindingToMissingSwitch { port, .. }
            | Fault::UnknownPort { port, .. } => Some(port),
            _ => None,
        }
    }

    /// The `Physical_Switch.switch_fault_status` value this fault sets.
    pub fn switch_fault(&self) -> Option<&'static str> {
        match self {
            Fault::RemoteMacLimit { .. } => Some(MAC_TABLE_EXHAUSTION),
            Fault::TunnelLimit { .. } => Some(TUNNEL_EXHAUSTION),
            _ => None,
        }
    }
}

/// Table sizes this box provides; what the controller asks beyond them is left out
/// of the model and reported as a fault (and in the fault columns), never half
/// applied by the dataplane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Learned local MACs (enforced by the L2 plane; the agent reports
    /// `mac_table_exhaustion` while the learned set is at this size).
    pub local_macs: usize,
    /// Remote unicast MACs used from `Ucast_Macs_Remote`.
    pub remote_macs: usize,
    /// Remote locators (one `Tunnel` each).
    pub tunnels: usize,
}

impl Default for Limits {
    /// The scale target: 100 k local MACs, 1 M remote MACs, 4,096 tunnels.
    fn default() -> Self {
        Limits {
            local_macs: 100_000,
            remote_macs: 1_000_000,
            tunnels: 4096,
        }
    }
}

/// The remote locators the model tunnels to (remote MACs and `unknown-dst`
/// members), without this box's own address.
pub fn remote_locators(model: &L2Model, own: Ipv4Addr) -> BTreeSet<Ipv4Addr> {
    model
        .remote_macs
        .values()
        .chain(model.unknown_dst.values().flatten())
        .copied()
        .filter(|ip| *ip != own)
        .collect()
}

/// Cuts `model` down to `limits`: the lowest `limits.tunnels` locator IPs are kept
/// (remote MACs at other locators and their `unknown-dst` memberships go), then the
/// first `limits.remote_macs` remote MACs by (switch, MAC). Deterministic, so the
/// same database always gives the same model. Returns the faults for what was cut.
pub fn apply_limits(model: &mut L2Model, own: Ipv4Addr, limits: &Limits) -> Vec<Fault> {
    let mut faults = Vec::new();
    let locators = remote_locators(model, own);
    if locators.len() > limits.tunnels {
        faults.push(Fault::TunnelLimit {
            limit: limits.tunnels,
            requested: locators.len(),
        });
        let keep: BTreeSet<Ipv4Addr> = locators.into_iter().take(limits.tunnels).collect();
        let usable = |ip: &Ipv4Addr| *ip == own || keep.contains(ip);
        model.remote_macs.retain(|_, ip| usable(ip));
        for set in model.unknown_dst.values_mut() {
            set.retain(usable);
        }
        model.unknown_dst.retain(|_, set| !set.is_empty());
    }
    if model.remote_macs.len() > limits.remote_macs {
        faults.push(Fault::RemoteMacLimit {
            limit: limits.remote_macs,
            requested: model.remote_macs.len(),
        });
        model.remote_macs = std::mem::take(&mut model.remote_macs)
            .into_iter()
            .take(limits.remote_macs)
            .collect();
    }
    faults
}

/// Parses `aa:bb:cc:dd:ee:ff` (either case).
pub fn parse_mac(s: &str) -> Option<Mac> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut mac {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// The UUIDs of a reference column (a scalar, an optional or a set).
pub(crate) fn uuids(d: Option<&Datum>) -> impl Iterator<Item = Uuid> + '_ {
    d.and_then(Datum::as_set)
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_uuid())
}

/// A string column (empty if absent).
pub(crate) fn string<'a>(r: &'a Row, col: &str) -> &'a str {
    r.get(col).and_then(Datum::as_str).unwrap_or_default()
}

/// A locator row resolved to its IPv4 address (VXLAN only).
pub(crate) fn locator_ip(snap: &Snapshot, uuid: Uuid) -> Result<Ipv4Addr, String> {
    let row = snap
        .row("Physical_Locator", &uuid)
        .ok_or_else(|| "missing Physical_Locator".to_string())?;
    let encap = string(row, "encapsulation_type");
    if encap != VXLAN_OVER_IPV4 {
        return Err(format!("unsupported encapsulation {encap:?}"));
    }
    let ip = string(row, "dst_ip");
    ip.parse()
        .map_err(|_| format!("locator dst_ip {ip:?} is not an IPv4 address"))
}

/// Builds the model of physical switch `physical_switch` from a replica of its
/// hardware_vtep database; see [`build_model`].
pub fn model_from_snapshot(snapshot: &Snapshot, physical_switch: &str) -> (L2Model, Vec<Fault>) {
    build_model(snapshot, physical_switch, None)
}

/// Builds the model of physical switch `physical_switch`: its ports'
/// `vlan_bindings` (VLAN 0 = untagged), the bound logical switches (`tunnel_key` =
/// VNI, absent = 0 = do not forward; `replication_mode`, default `source_node`), and
/// for those switches the remote unicast MACs (`Ucast_Macs_Remote`) and the
/// `unknown-dst` locators (`Mcast_Macs_Remote`).
///
/// Only switches bound on this box are in the model (a database may serve several
/// gateways). With `ports`, bindings on ports not in that list are reported
/// ([`Fault::UnknownPort`]) and left out. Everything questionable is reported in the
/// returned faults, sorted; nothing panics.
pub fn build_model(
    snapshot: &Snapshot,
    physical_switch: &str,
    ports: Option<&BTreeSet<String>>,
) -> (L2Model, Vec<Fault>) {
    let mut model = L2Model::default();
    let mut faults = BTreeSet::new();
    let ps_name = Datum::from(physical_switch);
    let Some((_, ps)) = snapshot.find("Physical_Switch", "name", &ps_name) else {
        faults.insert(Fault::PhysicalSwitchMissing {
            name: physical_switch.to_owned(),
        });
        return (model, faults.into_iter().collect());
    };

    // Logical switch rows this box binds, by UUID -> name.
    let mut bound: BTreeMap<Uuid, String> = BTreeMap::new();
    let mut seen_ports = BTreeSet::new();
    // Ports in a stable order (by name), whatever the UUIDs.
    let mut port_rows: Vec<(&str, &Row)> = Vec::new();
    for pu in uuids(ps.get("ports")) {
        match snapshot.row("Physical_Port", &pu) {
            Some(r) => port_rows.push((string(r, "name"), r)),
            None => {
                faults.insert(Fault::DanglingReference {
                    table: "Physical_Port",
                    from: format!("Physical_Switch {physical_switch} ports"),
                });
            }
        }
    }
    port_rows.sort_by(|a, b| a.0.cmp(b.0).then_with(|| a.1.columns.cmp(&b.1.columns)));
    for (pname, prow) in port_rows {
        if !seen_ports.insert(pname) {
            faults.insert(Fault::DuplicatePort {
                port: pname.to_owned(),
            });
            continue;
        }
        let Some(vb) = prow.get("vlan_bindings").and_then(Datum::as_map) else {
            continue;
        };
        if let Some(known) = ports
            && !known.contains(pname)
        {
            if !vb.is_empty() {
                faults.insert(Fault::UnknownPort {
                    port: pname.to_owned(),
                    vlans: vb
                        .keys()
                        .filter_map(|k| k.as_i64())
                        .filter_map(|v| u16::try_from(v).ok())
                        .collect(),
                });
            }
            continue;
        }
        for (k, v) in vb {
            let Some(vlan) = k.as_i64() else { continue };
            let Some(vlan) = u16::try_from(vlan).ok().filter(|v| *v <= 4095) else {
                faults.insert(Fault::InvalidVlan {
                    port: pname.to_owned(),
                    vlan,
                });
                continue;
            };
            let ls = v
                .as_uuid()
                .and_then(|u| snapshot.row("Logical_Switch", &u).map(|r| (u, r)));
            let Some((lu, lrow)) = ls else {
                faults.insert(Fault::BindingToMissingSwitch {
                    port: pname.to_owned(),
                    vlan,
                });
                continue;
            };
            let lname = string(lrow, "name").to_owned();
            bound.insert(lu, lname.clone());
            model.bindings.insert((pname.to_owned(), vlan), lname);
        }
    }

    // The bound switches themselves.
    for (lu, lname) in &bound {
        let Some(lrow) = snapshot.row("Logical_Switch", lu) else {
            continue;
        };
        let vni = match lrow.get("tunnel_key").and_then(Datum::as_i64) {
            None => 0,
            Some(k) if (1..=MAX_VNI).contains(&k) => k as u32,
            Some(0) => 0,
            Some(k) => {
                faults.insert(Fault::InvalidTunnelKey {
                    switch: lname.clone(),
                    key: k,
                });
                0
            }
        };
        let replication = match lrow.get("replication_mode").and_then(Datum::as_str) {
            Some("service_node") => Replication::ServiceNode,
            _ => Replication::SourceNode,
        };
        let sw = LogicalSwitch { vni, replication };
        if model
            .switches
            .insert(lname.clone(), sw)
            .is_some_and(|o| o != sw)
        {
            faults.insert(Fault::DuplicateSwitch {
                switch: lname.clone(),
            });
            // Be conservative: two rows with one name disagree, do not forward.
            model.switches.insert(
                lname.clone(),
                LogicalSwitch {
                    vni: 0,
                    replication,
                },
            );
        }
    }

    // Remote unicast MACs of bound switches.
    let mut remote: BTreeMap<(String, Mac), BTreeSet<Ipv4Addr>> = BTreeMap::new();
    for (_, r) in snapshot.rows("Ucast_Macs_Remote") {
        let Some(lname) = uuids(r.get("logical_switch")).find_map(|u| bound.get(&u)) else {
            continue;
        };
        let mac_s = string(r, "MAC");
        let Some(mac) = parse_mac(mac_s) else {
            faults.insert(Fault::MalformedMac {
                table: "Ucast_Macs_Remote",
                switch: lname.clone(),
                mac: mac_s.to_owned(),
            });
            continue;
        };
        let ip = uuids(r.get("locator"))
            .next()
            .ok_or_else(|| "no locator".to_string())
            .and_then(|u| locator_ip(snapshot, u));
        match ip {
            Ok(ip) => {
                remote.entry((lname.clone(), mac)).or_default().insert(ip);
            }
            Err(detail) => {
                faults.insert(Fault::BadLocator {
                    table: "Ucast_Macs_Remote",
                    switch: lname.clone(),
                    mac: mac_s.to_owned(),
                    detail,
                });
            }
        }
    }
    for ((switch, mac), ips) in remote {
        let Some(first) = ips.first().copied() else {
            continue;
        };
        if ips.len() > 1 {
            faults.insert(Fault::ConflictingRemoteMac {
                switch: switch.clone(),
                mac,
                locators: ips,
            });
        }
        model.remote_macs.insert((switch, mac), first);
    }

    // Multicast: `unknown-dst` into the model, others reported.
    for (_, r) in snapshot.rows("Mcast_Macs_Remote") {
        let Some(lname) = uuids(r.get("logical_switch")).find_map(|u| bound.get(&u)) else {
            continue;
        };
        let mac_s = string(r, "MAC");
        let mut ips = BTreeSet::new();
        let mut bad = None;
        match uuids(r.get("locator_set")).next() {
            None => bad = Some("no locator_set".to_string()),
            Some(su) => match snapshot.row("Physical_Locator_Set", &su) {
                None => bad = Some("missing Physical_Locator_Set".to_string()),
                Some(set) => {
                    for lu in uuids(set.get("locators")) {
                        match locator_ip(snapshot, lu) {
                            Ok(ip) => {
                                ips.insert(ip);
                            }
                            Err(d) => bad = Some(d),
                        }
                    }
                }
            },
        }
        if let Some(detail) = bad {
            // Other locators of the set are still usable.
            faults.insert(Fault::BadLocator {
                table: "Mcast_Macs_Remote",
                switch: lname.clone(),
                mac: mac_s.to_owned(),
                detail,
            });
        }
        if mac_s == UNKNOWN_DST {
            if !ips.is_empty() {
                model
                    .unknown_dst
                    .entry(lname.clone())
                    .or_default()
                    .extend(ips);
            }
        } else if parse_mac(mac_s).is_some() {
            faults.insert(Fault::UnsupportedMulticast {
                switch: lname.clone(),
                mac: mac_s.to_owned(),
                locators: ips,
            });
        } else {
            faults.insert(Fault::MalformedMac {
                table: "Mcast_Macs_Remote",
                switch: lname.clone(),
                mac: mac_s.to_owned(),
            });
        }
    }
    (model, faults.into_iter().collect())
}
