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

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use ovsdb::{
    Comment, Condition, Datum, Delete, Insert, Mutate, Mutator, Operation, Snapshot, Wait,
    WaitUntil,
};
use uuid::Uuid;

use super::model::{UNKNOWN_DST, VXLAN_OVER_IPV4, locator_ip, parse_mac, string, uuids};
use crate::l2model::{L2Model, LocalMac, Mac, format_mac};

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
    /// The current model (its bound switches get an `unknown-dst` `Mcast_Macs_Local`).
    pub model: &'a L2Model,
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
    let mut ops: Vec<Operation> = Vec::new();
    let mut what: Vec<String> = Vec::new();
    let ip_s = want.tunnel_ip.to_string();
    let ps_name = want.physical_switch;

    // 1. The Physical_Switch and its ports.
    match snap.find("Physical_Switch", "name", &Datum::from(ps_name)) {
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
        return ops;
    }
    ops.insert(
        0,
        Comment(format!("causeway {ps_name}: {}", what.join("; "))).into(),
    );
    ops
}
