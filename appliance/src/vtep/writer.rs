//! What the gateway ("HSC") side writes into hardware_vtep, as one transaction
//! computed from a replica [`Snapshot`] and the desired state: a pure function, so
//! running it again on the snapshot that reflects its effect yields nothing to do.
//!
//! Rows are recognised by content, never by remembered UUIDs: this box's
//! `Physical_Switch` and ports by name; its own locator by (`vxlan_over_ipv4`,
//! tunnel IP); its `Ucast_Macs_Local` rows by (logical switch name, MAC, own locator
//! IP); its `Mcast_Macs_Local` rows by (logical switch name, `unknown-dst`, locator
//! set = {own locator IP}). Rows of other gateways (other locator IPs) are left alone;
//! duplicates of our own rows are removed.
//!
//! Like `ovs-vtep`, the reference HSC, it also keeps:
//!
//! - one `Tunnel` per remote locator the model sends to, keyed by (own IP, remote
//!   IP) and referenced from `Physical_Switch.tunnels` (non-root: a tunnel left out
//!   of that column is garbage-collected), with `bfd_config_local` = the schema's
//!   defaults and `bfd_status` = `{enabled=false}` until this box speaks BFD (the
//!   vtep(5) way to tell the controller BFD could not be enabled);
//! - one `Logical_Binding_Stats` per VLAN binding of a port, keyed by (port name,
//!   VLAN) in `Physical_Port.vlan_stats`, with the dataplane's counters (values are
//!   only rewritten when [`LocalSide::write_stats`] says so: the agent bounds the
//!   rate);
//! - `Physical_Port.port_fault_status` (`invalid_vlan_map`) and
//!   `Physical_Switch.switch_fault_status` (`mac_table_exhaustion`,
//!   `tunnel_exhaustion`), set and cleared from the model's [`Fault`]s.
//!
//! These columns are the HSC's alone (the controller only reads them), so they are
//! written whole rather than merged.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use ovsdb::{
    Atom, Comment, Condition, Datum, Delete, Insert, Mutate, Mutator, Operation, Row, Snapshot,
    Update, Wait, WaitUntil,
};
use uuid::Uuid;

use super::model::{
    Fault, INVALID_VLAN_MAP, MAC_TABLE_EXHAUSTION, UNKNOWN_DST, VXLAN_OVER_IPV4, locator_ip,
    parse_mac, remote_locators, string, uuids,
};
use crate::l2model::{L2Model, LocalMac, Mac, format_mac};

/// `Tunnel.bfd_config_local:bfd_dst_ip` (the vtep(5) default, written explicitly as
/// `ovs-vtep` does).
pub const BFD_DST_IP: &str = "169.254.1.0";
/// `Tunnel.bfd_config_local:bfd_dst_mac` (the vtep(5) default).
pub const BFD_DST_MAC: &str = "00:23:20:00:00:01";

/// One VLAN binding's counters, as `Logical_Binding_Stats` names them ("local" is
/// the physical side: `from_local` = received on the binding, `to_local` = sent
/// out of it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BindingCounts {
    /// Frames received on the binding and accepted into its logical switch.
    pub packets_from_local: u64,
    /// Their bytes.
    pub bytes_from_local: u64,
    /// Frames sent out of the binding.
    pub packets_to_local: u64,
    /// Their bytes.
    pub bytes_to_local: u64,
}

impl BindingCounts {
    fn columns(&self) -> [(&'static str, i64); 4] {
        // OVSDB integers are signed 64-bit: saturate rather than wrap.
        let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        [
            ("packets_from_local", i(self.packets_from_local)),
            ("bytes_from_local", i(self.bytes_from_local)),
            ("packets_to_local", i(self.packets_to_local)),
            ("bytes_to_local", i(self.bytes_to_local)),
        ]
    }

    fn matches(&self, row: &Row) -> bool {
        self.columns()
            .iter()
            .all(|(c, v)| row.get(c).and_then(Datum::as_i64) == Some(*v))
    }
}

/// Counters per (port name, VLAN) binding, as the dataplane reports them.
pub type BindingCountsMap = BTreeMap<(String, u16), BindingCounts>;

/// The gateway-owned content to maintain.
#[derive(Debug, Clone, Copy)]
pub struct LocalSide<'a> {
    /// This box's `Physical_Switch` name.
    pub physical_switch: &'a str,
    /// This box's VXLAN tunnel IP (its `tunnel_ips` and its own locator).
    pub tunnel_ip: Ipv4Addr,
    /// Port names this box has (`Physical_Port` rows to exist).
    pub ports: &'a [String],
    /// MACs learned on local bindings.
    pub local_macs: &'a BTreeSet<LocalMac>,
    /// The current model (its bound switches get an `unknown-dst` `Mcast_Macs_Local`,
    /// its bindings a `Logical_Binding_Stats`, its remote locators a `Tunnel`).
    pub model: &'a L2Model,
    /// The dataplane's counters per binding (bindings without an entry count 0).
    pub binding_stats: &'a BindingCountsMap,
    /// Rewrite the counters of existing `Logical_Binding_Stats` rows (new rows always
    /// get the current counters).
    pub write_stats: bool,
    /// The model's faults (they set the fault columns).
    pub faults: &'a [Fault],
    /// The learned MAC table is full (`mac_table_exhaustion`).
    pub local_mac_table_full: bool,
    /// Remote locators no longer in the model whose existing tunnels are kept for now
    /// (never created for them); see `VtepAgentConfig::tunnel_hold`.
    pub held_tunnels: &'a BTreeSet<Ipv4Addr>,
}

/// The transaction [`hsc_plan`] computed, and what it says about the counters.
#[derive(Debug, Clone, Default)]
pub struct HscPlan {
    /// The operations (empty: the database holds what this box owns).
    pub ops: Vec<Operation>,
    /// `Logical_Binding_Stats` rows whose counters the operations write.
    pub stats_written: usize,
}

/// A reference to a row that exists or that this transaction inserts.
#[derive(Debug, Clone)]
enum RowRef {
    Existing(Uuid),
    New(&'static str),
}

impl RowRef {
    fn datum(&self) -> Datum {
        match self {
            RowRef::Existing(u) => Datum::from(*u),
            RowRef::New(n) => Datum::named_uuid(*n),
        }
    }
}

/// Builds the operations that bring the database to `want`, or an empty vector when
/// it already holds it. The first operation is a `comment` saying what it does.
pub fn hsc_ops(snap: &Snapshot, want: &LocalSide<'_>) -> Vec<Operation> {
    hsc_plan(snap, want).ops
}

/// [`hsc_ops`] plus how many counter rows it writes (the agent's rate bound).
pub fn hsc_plan(snap: &Snapshot, want: &LocalSide<'_>) -> HscPlan {
    let mut stats_written = 0usize;
    let mut ops: Vec<Operation> = Vec::new();
    let mut what: Vec<String> = Vec::new();
    let ip_s = want.tunnel_ip.to_string();
    let ps_name = want.physical_switch;

    // 1. The Physical_Switch and its ports.
    let existing_ps = snap.find("Physical_Switch", "name", &Datum::from(ps_name));
    match existing_ps {
        None => {
            let mut port_refs = Vec::new();
            for (i, p) in want.ports.iter().enumerate() {
                let n = format!("port{i}");
                ops.push(
                    Insert::new("Physical_Port")
                        .set("name", p.as_str())
                        .uuid_name(n.clone())
                        .into(),
                );
                port_refs.push(ovsdb::Atom::NamedUuid(n));
            }
            ops.push(
                Wait::new("Physical_Switch", WaitUntil::Equal)
                    .where_(Condition::eq("name", ps_name))
                    .columns(["name"])
                    .into(),
            );
            ops.push(
                Insert::new("Physical_Switch")
                    .set("name", ps_name)
                    .set("tunnel_ips", Datum::set([ip_s.as_str()]))
                    .set("ports", Datum::set(port_refs))
                    .uuid_name("ps")
                    .into(),
            );
            match snap.rows("Global").next() {
                Some((g, _)) => ops.push(
                    Mutate::new("Global")
                        .where_(Condition::uuid(*g))
                        .mutate("switches", Mutator::Insert, Datum::named_uuid("ps"))
                        .into(),
                ),
                None => {
                    ops.push(
                        Wait::new("Global", WaitUntil::Equal)
                            .columns(["switches"])
                            .into(),
                    );
                    ops.push(
                        Insert::new("Global")
                            .set("switches", Datum::named_uuid("ps"))
                            .into(),
                    );
                }
            }
            what.push(format!(
                "create Physical_Switch {ps_name} with ports {:?}",
                want.ports
            ));
        }
        Some((pu, ps)) => {
            let has_ip = ps
                .get("tunnel_ips")
                .and_then(Datum::as_set)
                .is_some_and(|s| s.iter().any(|a| a.as_str() == Some(&ip_s)));
            if !has_ip {
                ops.push(
                    Mutate::new("Physical_Switch")
                        .where_(Condition::uuid(pu))
                        .mutate("tunnel_ips", Mutator::Insert, Datum::set([ip_s.as_str()]))
                        .into(),
                );
                what.push(format!("add tunnel IP {ip_s}"));
            }
            let have: BTreeSet<&str> = uuids(ps.get("ports"))
                .filter_map(|u| snap.row("Physical_Port", &u))
                .map(|r| string(r, "name"))
                .collect();
            let missing: Vec<&String> = want
                .ports
                .iter()
                .filter(|p| !have.contains(p.as_str()))
                .collect();
            if !missing.is_empty() {
                let current = ps.get("ports").cloned().unwrap_or_else(Datum::empty_set);
                ops.push(
                    Wait::new("Physical_Switch", WaitUntil::Equal)
                        .where_(Condition::uuid(pu))
                        .columns(["ports"])
                        .row([("ports", current)])
                        .into(),
                );
                let mut refs = Vec::new();
                for (i, p) in missing.iter().enumerate() {
                    let n = format!("port{i}");
                    ops.push(
                        Insert::new("Physical_Port")
                            .set("name", p.as_str())
                            .uuid_name(n.clone())
                            .into(),
                    );
                    refs.push(ovsdb::Atom::NamedUuid(n));
                }
                ops.push(
                    Mutate::new("Physical_Switch")
                        .where_(Condition::uuid(pu))
                        .mutate("ports", Mutator::Insert, Datum::set(refs))
                        .into(),
                );
                what.push(format!("add ports {missing:?}"));
            }
        }
    }

    // 2. Our own locator: reuse the row for (vxlan_over_ipv4, tunnel IP), or insert it
    //    (by name, in this transaction) the first time something references it.
    let existing_loc = snap
        .rows("Physical_Locator")
        .find(|(_, r)| {
            string(r, "encapsulation_type") == VXLAN_OVER_IPV4
                && string(r, "dst_ip") == ip_s
                && r.get("tunnel_key").is_none_or(Datum::is_empty)
        })
        .map(|(u, _)| *u);
    let mut loc_used = false;
    let loc = match existing_loc {
        Some(u) => RowRef::Existing(u),
        None => RowRef::New("own_locator"),
    };
    let mut body: Vec<Operation> = Vec::new();

    // Logical switch rows by name (first by UUID order if the replica shows two).
    let mut ls_by_name: BTreeMap<&str, Uuid> = BTreeMap::new();
    let mut ls_name: BTreeMap<Uuid, &str> = BTreeMap::new();
    for (u, r) in snap.rows("Logical_Switch") {
        ls_by_name.entry(string(r, "name")).or_insert(*u);
        ls_name.insert(*u, string(r, "name"));
    }
    let is_ours = |lu: Option<Uuid>| {
        lu.is_some_and(|u| locator_ip(snap, u).is_ok_and(|ip| ip == want.tunnel_ip))
    };

    // 3. Ucast_Macs_Local: (switch, MAC) at our locator.
    let desired: BTreeSet<(&str, Mac)> = want
        .local_macs
        .iter()
        .filter(|m| ls_by_name.contains_key(m.switch.as_str()))
        .map(|m| (m.switch.as_str(), m.mac))
        .collect();
    let mut present: BTreeSet<(&str, Mac)> = BTreeSet::new();
    let (mut added, mut removed) = (0usize, 0usize);
    for (u, r) in snap.rows("Ucast_Macs_Local") {
        if !is_ours(uuids(r.get("locator")).next()) {
            continue;
        }
        let key = uuids(r.get("logical_switch"))
            .next()
            .and_then(|l| ls_name.get(&l).copied())
            .zip(parse_mac(string(r, "MAC")));
        match key {
            Some(k) if desired.contains(&k) && present.insert(k) => {}
            _ => {
                body.push(
                    Delete::new("Ucast_Macs_Local")
                        .where_(Condition::uuid(*u))
                        .into(),
                );
                removed += 1;
            }
        }
    }
    for (sw, mac) in desired.difference(&present) {
        let ls = ls_by_name[sw];
        let mac_s = format_mac(mac);
        if let RowRef::Existing(l) = loc {
            body.push(
                Wait::new("Ucast_Macs_Local", WaitUntil::Equal)
                    .where_(Condition::eq("MAC", mac_s.as_str()))
                    .where_(Condition::eq("logical_switch", ls))
                    .where_(Condition::eq("locator", l))
                    .columns(["MAC"])
                    .into(),
            );
        }
        body.push(
            Insert::new("Ucast_Macs_Local")
                .set("MAC", mac_s.as_str())
                .set("logical_switch", ls)
                .set("locator", loc.datum())
                .set("ipaddr", "")
                .into(),
        );
        loc_used = true;
        added += 1;
    }
    if added + removed > 0 {
        what.push(format!("local MACs +{added} -{removed}"));
    }

    // 4. Mcast_Macs_Local unknown-dst -> {our locator} for every bound switch.
    let want_mcast: BTreeSet<&str> = want
        .model
        .switches
        .keys()
        .map(String::as_str)
        .filter(|s| ls_by_name.contains_key(s))
        .collect();
    let own_set = |su: Uuid| {
        snap.row("Physical_Locator_Set", &su).is_some_and(|s| {
            let mut locs = uuids(s.get("locators")).peekable();
            locs.peek().is_some() && locs.all(|l| is_ours(Some(l)))
        })
    };
    let mut have_mcast: BTreeSet<&str> = BTreeSet::new();
    let (mut m_added, mut m_removed) = (0usize, 0usize);
    for (u, r) in snap.rows("Mcast_Macs_Local") {
        if string(r, "MAC") != UNKNOWN_DST
            || !uuids(r.get("locator_set")).next().is_some_and(own_set)
        {
            continue;
        }
        let sw = uuids(r.get("logical_switch"))
            .next()
            .and_then(|l| ls_name.get(&l).copied());
        match sw {
            Some(s) if want_mcast.contains(s) && have_mcast.insert(s) => {}
            _ => {
                body.push(
                    Delete::new("Mcast_Macs_Local")
                        .where_(Condition::uuid(*u))
                        .into(),
                );
                m_removed += 1;
            }
        }
    }
    let missing_mcast: Vec<&str> = want_mcast.difference(&have_mcast).copied().collect();
    if !missing_mcast.is_empty() {
        // Reuse a set holding exactly our locator, or insert one.
        let existing_set = match &loc {
            RowRef::Existing(l) => snap
                .rows("Physical_Locator_Set")
                .find(|(_, s)| s.get("locators") == Some(&Datum::from(*l)))
                .map(|(u, _)| *u),
            RowRef::New(_) => None,
        };
        let set = match existing_set {
            Some(su) => {
                body.push(
                    Wait::new("Physical_Locator_Set", WaitUntil::NotEqual)
                        .where_(Condition::uuid(su))
                        .columns(["locators"])
                        .into(),
                );
                RowRef::Existing(su)
            }
            None => {
                body.push(
                    Insert::new("Physical_Locator_Set")
                        .set("locators", loc.datum())
                        .uuid_name("own_locator_set")
                        .into(),
                );
                loc_used = true;
                RowRef::New("own_locator_set")
            }
        };
        for sw in missing_mcast {
            body.push(
                Insert::new("Mcast_Macs_Local")
                    .set("MAC", UNKNOWN_DST)
                    .set("logical_switch", ls_by_name[sw])
                    .set("locator_set", set.datum())
                    .set("ipaddr", "")
                    .into(),
            );
            m_added += 1;
        }
    }
    if m_added + m_removed > 0 {
        what.push(format!(
            "unknown-dst Mcast_Macs_Local +{m_added} -{m_removed}"
        ));
    }

    // 5.-7. Tunnels, binding stats and fault columns hang off our switch row: once it
    //    exists (the first transaction only creates it; the model is empty until then).
    if let Some((pu, ps)) = existing_ps {
        loc_used |= tunnel_ops(snap, want, pu, ps, &loc, &mut body, &mut what);
        stats_written += stats_ops(snap, want, ps, &mut body, &mut what);
        fault_ops(snap, want, pu, ps, &mut body, &mut what);
    }

    if loc_used {
        match loc {
            RowRef::Existing(l) => ops.push(
                // The locator must still be there, with our address.
                Wait::new("Physical_Locator", WaitUntil::Equal)
                    .where_(Condition::uuid(l))
                    .columns(["encapsulation_type", "dst_ip"])
                    .row([
                        ("encapsulation_type", VXLAN_OVER_IPV4),
                        ("dst_ip", ip_s.as_str()),
                    ])
                    .into(),
            ),
            RowRef::New(n) => ops.push(
                Insert::new("Physical_Locator")
                    .set("encapsulation_type", VXLAN_OVER_IPV4)
                    .set("dst_ip", ip_s.as_str())
                    .uuid_name(n)
                    .into(),
            ),
        }
    }
    ops.extend(body);
    if ops.is_empty() {
        return HscPlan::default();
    }
    ops.insert(
        0,
        Comment(format!("causeway {ps_name}: {}", what.join("; "))).into(),
    );
    HscPlan { ops, stats_written }
}

/// The HSC's `bfd_config_local` and `bfd_status` for every tunnel.
fn bfd_columns() -> (Datum, Datum) {
    (
        Datum::map([("bfd_dst_ip", BFD_DST_IP), ("bfd_dst_mac", BFD_DST_MAC)]),
        // BFD is not implemented yet: vtep(5) asks for enabled=false when the VTEP
        // cannot enable it (the controller then stops monitoring the far side), and
        // no session keys.
        Datum::map([("enabled", "false")]),
    )
}

/// 5. One `Tunnel` per remote locator: (own locator, remote locator), both reused
///    by content; tunnels to locators no longer used (once no longer held), or from
///    another local address, and duplicates are removed from `Physical_Switch.tunnels`
///    (and so deleted).
///    Returns whether an insert references our own locator.
fn tunnel_ops(
    snap: &Snapshot,
    want: &LocalSide<'_>,
    pu: Uuid,
    ps: &Row,
    loc: &RowRef,
    body: &mut Vec<Operation>,
    what: &mut Vec<String>,
) -> bool {
    let wanted = remote_locators(want.model, want.tunnel_ip);
    let (bfd_local, bfd_status) = bfd_columns();
    let mut have: BTreeSet<Ipv4Addr> = BTreeSet::new();
    let mut gone: Vec<Atom> = Vec::new();
    let mut fixed = 0usize;
    for tu in uuids(ps.get("tunnels")) {
        let Some(t) = snap.row("Tunnel", &tu) else {
            continue;
        };
        let end = |c: &str| {
            uuids(t.get(c))
                .next()
                .and_then(|u| locator_ip(snap, u).ok())
        };
        match (end("local"), end("remote")) {
            (Some(l), Some(r))
                if l == want.tunnel_ip
                    && (wanted.contains(&r) || want.held_tunnels.contains(&r))
                    && have.insert(r) =>
            {
                if t.get("bfd_config_local") != Some(&bfd_local)
                    || t.get("bfd_status") != Some(&bfd_status)
                {
                    body.push(
                        Update::new("Tunnel")
                            .where_(Condition::uuid(tu))
                            .set("bfd_config_local", bfd_local.clone())
                            .set("bfd_status", bfd_status.clone())
                            .into(),
                    );
                    fixed += 1;
                }
            }
            _ => gone.push(Atom::Uuid(tu)),
        }
    }
    let removed = gone.len();
    if !gone.is_empty() {
        body.push(
            Mutate::new("Physical_Switch")
                .where_(Condition::uuid(pu))
                .mutate("tunnels", Mutator::Delete, Datum::set(gone))
                .into(),
        );
    }
    let mut refs = Vec::new();
    for (i, ip) in wanted.difference(&have).enumerate() {
        let ip_s = ip.to_string();
        // The controller's locator for this IP (the one without a tunnel_key first);
        // the index (encapsulation_type, dst_ip, tunnel_key) forbids a second one.
        let existing = snap
            .rows("Physical_Locator")
            .filter(|(_, r)| {
                string(r, "encapsulation_type") == VXLAN_OVER_IPV4 && string(r, "dst_ip") == ip_s
            })
            .min_by_key(|(u, r)| (r.get("tunnel_key").is_some_and(|k| !k.is_empty()), **u))
            .map(|(u, _)| *u);
        let remote = match existing {
            Some(u) => Datum::from(u),
            None => {
                let n = format!("tunnel_remote{i}");
                body.push(
                    Insert::new("Physical_Locator")
                        .set("encapsulation_type", VXLAN_OVER_IPV4)
                        .set("dst_ip", ip_s.as_str())
                        .uuid_name(n.clone())
                        .into(),
                );
                Datum::named_uuid(n)
            }
        };
        let n = format!("tunnel{i}");
        body.push(
            Insert::new("Tunnel")
                .set("local", loc.datum())
                .set("remote", remote)
                .set("bfd_config_local", bfd_local.clone())
                .set("bfd_status", bfd_status.clone())
                .uuid_name(n.clone())
                .into(),
        );
        refs.push(Atom::NamedUuid(n));
    }
    let added = refs.len();
    if !refs.is_empty() {
        body.push(
            Mutate::new("Physical_Switch")
                .where_(Condition::uuid(pu))
                .mutate("tunnels", Mutator::Insert, Datum::set(refs))
                .into(),
        );
    }
    if added + removed + fixed > 0 {
        what.push(format!("tunnels +{added} -{removed} ~{fixed}"));
    }
    added > 0
}

/// 6. `Physical_Port.vlan_stats`: a `Logical_Binding_Stats` per bound VLAN of each
///    of our switch's ports (the model's bindings), none for unbound ones. Returns how
///    many rows get counter values.
fn stats_ops(
    snap: &Snapshot,
    want: &LocalSide<'_>,
    ps: &Row,
    body: &mut Vec<Operation>,
    what: &mut Vec<String>,
) -> usize {
    let mut bound: BTreeMap<&str, BTreeSet<u16>> = BTreeMap::new();
    for (port, vlan) in want.model.bindings.keys() {
        bound.entry(port.as_str()).or_default().insert(*vlan);
    }
    let counts = |port: &str, vlan: u16| {
        want.binding_stats
            .get(&(port.to_owned(), vlan))
            .copied()
            .unwrap_or_default()
    };
    let none = BTreeSet::new();
    let (mut added, mut removed, mut updated) = (0usize, 0usize, 0usize);
    for pu in uuids(ps.get("ports")) {
        let Some(prow) = snap.row("Physical_Port", &pu) else {
            continue;
        };
        let pname = string(prow, "name");
        let vlans = bound.get(pname).unwrap_or(&none);
        let mut have = BTreeSet::new();
        let mut drop_keys = Vec::new();
        let current = prow.get("vlan_stats").and_then(Datum::as_map);
        for (k, v) in current.into_iter().flatten() {
            let vlan = k
                .as_i64()
                .and_then(|v| u16::try_from(v).ok())
                .filter(|v| vlans.contains(v));
            let row = v
                .as_uuid()
                .and_then(|u| snap.row("Logical_Binding_Stats", &u));
            match (vlan, row, v.as_uuid()) {
                (Some(vlan), Some(row), Some(su)) => {
                    have.insert(vlan);
                    let c = counts(pname, vlan);
                    if want.write_stats && !c.matches(row) {
                        let mut op =
                            Update::new("Logical_Binding_Stats").where_(Condition::uuid(su));
                        for (col, val) in c.columns() {
                            op = op.set(col, val);
                        }
                        body.push(op.into());
                        updated += 1;
                    }
                }
                _ => drop_keys.push(k.clone()),
            }
        }
        if !drop_keys.is_empty() {
            removed += drop_keys.len();
            body.push(
                Mutate::new("Physical_Port")
                    .where_(Condition::uuid(pu))
                    .mutate("vlan_stats", Mutator::Delete, Datum::set(drop_keys))
                    .into(),
            );
        }
        let mut pairs = Vec::new();
        for &vlan in vlans.difference(&have) {
            let n = format!("stats_{pu}_{vlan}").replace('-', "_");
            let mut op = Insert::new("Logical_Binding_Stats").uuid_name(n.clone());
            for (col, val) in counts(pname, vlan).columns() {
                op = op.set(col, val);
            }
            body.push(op.into());
            pairs.push((Atom::Integer(i64::from(vlan)), Atom::NamedUuid(n)));
            added += 1;
        }
        if !pairs.is_empty() {
            body.push(
                Mutate::new("Physical_Port")
                    .where_(Condition::uuid(pu))
                    .mutate("vlan_stats", Mutator::Insert, Datum::map(pairs))
                    .into(),
            );
        }
    }
    if added + removed + updated > 0 {
        what.push(format!("binding stats +{added} -{removed} ~{updated}"));
    }
    added + updated
}

/// 7. The fault columns: `invalid_vlan_map` on each port with a binding this box
///    cannot apply, `mac_table_exhaustion` / `tunnel_exhaustion` on the switch; the
///    columns are emptied again when the condition ends.
fn fault_ops(
    snap: &Snapshot,
    want: &LocalSide<'_>,
    pu: Uuid,
    ps: &Row,
    body: &mut Vec<Operation>,
    what: &mut Vec<String>,
) {
    let strings = |d: Option<&Datum>| -> BTreeSet<String> {
        d.and_then(Datum::as_set)
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect()
    };
    let bad_ports: BTreeSet<&str> = want
        .faults
        .iter()
        .filter_map(Fault::vlan_map_port)
        .collect();
    for port in uuids(ps.get("ports")) {
        let Some(prow) = snap.row("Physical_Port", &port) else {
            continue;
        };
        let name = string(prow, "name");
        let desired: BTreeSet<String> = bad_ports
            .contains(name)
            .then(|| INVALID_VLAN_MAP.to_owned())
            .into_iter()
            .collect();
        if strings(prow.get("port_fault_status")) != desired {
            what.push(format!("port {name} faults {desired:?}"));
            body.push(
                Update::new("Physical_Port")
                    .where_(Condition::uuid(port))
                    .set("port_fault_status", Datum::set(desired))
                    .into(),
            );
        }
    }
    let mut desired: BTreeSet<String> = want
        .faults
        .iter()
        .filter_map(Fault::switch_fault)
        .map(str::to_owned)
        .collect();
    if want.local_mac_table_full {
        desired.insert(MAC_TABLE_EXHAUSTION.to_owned());
    }
    if strings(ps.get("switch_fault_status")) != desired {
        what.push(format!("switch faults {desired:?}"));
        body.push(
            Update::new("Physical_Switch")
                .where_(Condition::uuid(pu))
                .set("switch_fault_status", Datum::set(desired))
                .into(),
        );
    }
}
