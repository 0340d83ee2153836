//! Unit tests on replicas built with `Replica::apply` of `update2` JSON under the
//! real hardware_vtep schema (the tests in `appliance/tests/vtep_*.rs` use a real
//! `ovsdb-server`).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use ovsdb::{DatabaseSchema, Operation, Replica, Snapshot, TableUpdates};
use serde_json::{Value, json};

use super::*;
use crate::l2model::{L2Model, LocalMac, LogicalSwitch, Replication};

const SCHEMA: &str = "/usr/share/openvswitch/vtep.ovsschema";

fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn r(n: u32) -> Value {
    json!(["uuid", uuid(n)])
}

fn replica(updates: Value) -> Replica {
    let text = std::fs::read_to_string(SCHEMA).expect("openvswitch-vtep installed");
    let schema = DatabaseSchema::parse(&serde_json::from_str(&text).unwrap()).unwrap();
    let mut rep = Replica::new();
    rep.set_schema(Arc::new(schema));
    rep.apply(&TableUpdates::parse(&updates).unwrap()).unwrap();
    rep
}

/// gw1 with ports p0 (100 -> ls0, 0 -> ls1, 200 -> missing) and p9 (7 -> ls0);
/// ls0 VNI 5000 service_node, ls1 without tunnel_key; remote MACs, locators.
fn lab() -> Snapshot {
    replica(json!({
        "Global": {uuid(1): {"initial": {"switches": r(2)}}},
        "Physical_Switch": {uuid(2): {"initial": {
            "name": "gw1", "tunnel_ips": "192.0.2.50",
            "ports": ["set", [r(3), r(4)]]}}},
        "Physical_Port": {
            uuid(3): {"initial": {"name": "p0", "vlan_bindings":
                ["map", [[100, r(10)], [0, r(11)], [200, r(99)]]]}},
            uuid(4): {"initial": {"name": "p9", "vlan_bindings": ["map", [[7, r(10)]]]}}
        },
        "Logical_Switch": {
            uuid(10): {"initial": {"name": "ls0", "tunnel_key": 5000,
                                   "replication_mode": "service_node"}},
            uuid(11): {"initial": {"name": "ls1"}},
            uuid(12): {"initial": {"name": "other", "tunnel_key": 7}}
        },
        "Physical_Locator": {
            uuid(20): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "192.0.2.11"}},
            uuid(21): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "192.0.2.12"}},
            uuid(22): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "not-an-ip"}}
        },
        "Physical_Locator_Set": {
            uuid(30): {"initial": {"locators": ["set", [r(20), r(21)]]}},
            uuid(31): {"initial": {"locators": r(21)}}
        },
        "Ucast_Macs_Remote": {
            uuid(40): {"initial": {"MAC": "F0:00:00:00:00:01", "logical_switch": r(10), "locator": r(20)}},
            uuid(41): {"initial": {"MAC": "f0:00:00:00:00:02", "logical_switch": r(11), "locator": r(21)}},
            uuid(42): {"initial": {"MAC": "f0:00:00:00:00:zz", "logical_switch": r(10), "locator": r(20)}},
            uuid(43): {"initial": {"MAC": "f0:00:00:00:00:03", "logical_switch": r(10), "locator": r(22)}},
            uuid(44): {"initial": {"MAC": "f0:00:00:00:00:04", "logical_switch": r(12), "locator": r(20)}}
        },
        "Mcast_Macs_Remote": {
            uuid(50): {"initial": {"MAC": "unknown-dst", "logical_switch": r(10), "locator_set": r(30)}},
            uuid(51): {"initial": {"MAC": "01:00:5e:00:00:01", "logical_switch": r(10), "locator_set": r(31)}}
        }
    }))
    .snapshot()
}

const fn mac(last: u8) -> [u8; 6] {
    [0xf0, 0, 0, 0, 0, last]
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn model_follows_bindings_by_name() {
    let snap = lab();
    let (m, faults) = model_from_snapshot(&snap, "gw1");
    assert_eq!(
        m.switches.get("ls0"),
        Some(&LogicalSwitch {
            vni: 5000,
            replication: Replication::ServiceNode
        })
    );
    assert_eq!(
        m.switches.get("ls1"),
        Some(&LogicalSwitch {
            vni: 0,
            replication: Replication::SourceNode
        })
    );
    // `other` is not bound here: not in the model, nor its MACs.
    assert_eq!(m.switches.len(), 2);
    let b: Vec<_> = m
        .bindings
        .iter()
        .map(|((p, v), s)| (p.as_str(), *v, s.as_str()))
        .collect();
    assert_eq!(b, [("p0", 0, "ls1"), ("p0", 100, "ls0"), ("p9", 7, "ls0")]);
    let rm: Vec<_> = m.remote_macs.iter().collect();
    assert_eq!(
        rm,
        [
            (&("ls0".to_string(), mac(1)), &ip("192.0.2.11")),
            (&("ls1".to_string(), mac(2)), &ip("192.0.2.12")),
        ]
    );
    assert_eq!(
        m.unknown_dst.get("ls0"),
        Some(&BTreeSet::from([ip("192.0.2.11"), ip("192.0.2.12")]))
    );
    assert!(!m.unknown_dst.contains_key("ls1"));
    assert!(faults.contains(&Fault::BindingToMissingSwitch {
        port: "p0".into(),
        vlan: 200
    }));
    assert!(faults.contains(&Fault::MalformedMac {
        table: "Ucast_Macs_Remote",
        switch: "ls0".into(),
        mac: "f0:00:00:00:00:zz".into()
    }));
    assert!(faults.iter().any(|f| matches!(f,
        Fault::BadLocator { mac, detail, .. } if mac == "f0:00:00:00:00:03" && detail.contains("not-an-ip"))));
    assert!(faults.contains(&Fault::UnsupportedMulticast {
        switch: "ls0".into(),
        mac: "01:00:5e:00:00:01".into(),
        locators: BTreeSet::from([ip("192.0.2.12")])
    }));
    assert_eq!(faults.len(), 4, "{faults:#?}");
    // Every fault reads as names, never row UUIDs.
    for f in &faults {
        assert!(!f.to_string().contains("0000-4000"), "{f}");
    }
}

#[test]
fn unknown_ports_and_missing_switch() {
    let snap = lab();
    let ports = BTreeSet::from(["p0".to_string()]);
    let (m, faults) = build_model(&snap, "gw1", Some(&ports));
    assert!(m.bindings.keys().all(|(p, _)| p == "p0"));
    assert!(faults.contains(&Fault::UnknownPort {
        port: "p9".into(),
        vlans: vec![7]
    }));
    let (m, faults) = model_from_snapshot(&snap, "gw2");
    assert_eq!(m, L2Model::default());
    assert_eq!(
        faults,
        [Fault::PhysicalSwitchMissing { name: "gw2".into() }]
    );
    // An empty replica: no panic, no model.
    let (m, _) = model_from_snapshot(&Snapshot::default(), "gw1");
    assert_eq!(m, L2Model::default());
}

#[test]
fn invalid_tunnel_key_does_not_forward() {
    let rep = replica(json!({
        "Physical_Switch": {uuid(2): {"initial": {"name": "gw1", "ports": r(3)}}},
        "Physical_Port": {uuid(3): {"initial": {"name": "p0", "vlan_bindings": ["map", [[5, r(10)]]]}}},
        "Logical_Switch": {uuid(10): {"initial": {"name": "ls0", "tunnel_key": 1 << 24}}}
    }));
    let (m, faults) = model_from_snapshot(&rep.snapshot(), "gw1");
    assert_eq!(m.switches["ls0"].vni, 0);
    assert_eq!(
        faults,
        [Fault::InvalidTunnelKey {
            switch: "ls0".into(),
            key: 1 << 24
        }]
    );
}

#[test]
fn parse_macs() {
    assert_eq!(parse_mac("f0:00:00:00:00:01"), Some(mac(1)));
    assert_eq!(parse_mac("F0:00:00:00:00:0A"), Some(mac(10)));
    for bad in [
        "",
        "f0:00:00:00:00",
        "f0:00:00:00:00:01:02",
        "f0-00-00-00-00-01",
        "f:0:0:0:0:1",
    ] {
        assert_eq!(parse_mac(bad), None, "{bad}");
    }
}

fn ops_json(ops: &[Operation]) -> Vec<Value> {
    ops.iter().map(Operation::to_json).collect()
}

#[test]
fn writer_creates_switch_ports_locator_and_rows() {
    // Empty database: create Global, the switch and its ports.
    let empty = replica(json!({})).snapshot();
    let macs = BTreeSet::new();
    let model = L2Model::default();
    let ports = vec!["p0".to_string(), "p1".to_string()];
    let counts = BindingCountsMap::new();
    let side = LocalSide {
        physical_switch: "gw1",
        tunnel_ip: ip("192.0.2.50"),
        ports: &ports,
        local_macs: &macs,
        model: &model,
        binding_stats: &counts,
        write_stats: true,
        faults: &[],
        local_mac_table_full: false,
        held_tunnels: &BTreeSet::new(),
    };
    let ops = ops_json(&hsc_ops(&empty, &side));
    assert_eq!(ops[0]["op"], "comment");
    let inserts: Vec<_> = ops
        .iter()
        .filter(|o| o["op"] == "insert")
        .map(|o| o["table"].as_str().unwrap())
        .collect();
    assert_eq!(
        inserts,
        [
            "Physical_Port",
            "Physical_Port",
            "Physical_Switch",
            "Global"
        ]
    );

    // The lab database: gw1 exists with p0 and p9; p1 is missing; no own locator.
    let snap = lab();
    let (model, _) = model_from_snapshot(&snap, "gw1");
    let macs = BTreeSet::from([
        LocalMac {
            switch: "ls0".into(),
            mac: [2, 0, 0, 0, 0, 1],
            port: "p0".into(),
            vlan: 100,
        },
        // The same MAC seen on another port while moving: one row.
        LocalMac {
            switch: "ls0".into(),
            mac: [2, 0, 0, 0, 0, 1],
            port: "p1".into(),
            vlan: 100,
        },
        // A switch the database does not have: skipped.
        LocalMac {
            switch: "nope".into(),
            mac: [2, 0, 0, 0, 0, 2],
            port: "p0".into(),
            vlan: 300,
        },
    ]);
    let side = LocalSide {
        local_macs: &macs,
        model: &model,
        ..side
    };
    let ops = ops_json(&hsc_ops(&snap, &side));
    let count = |table: &str, op: &str| {
        ops.iter()
            .filter(|o| o["table"] == table && o["op"] == op)
            .count()
    };
    assert_eq!(count("Physical_Port", "insert"), 1);
    assert_eq!(
        count("Physical_Switch", "mutate"),
        2,
        "ports and tunnels: the IP is there"
    );
    // Tunnels to the two remote locators, reusing the controller's locator rows.
    assert_eq!(count("Tunnel", "insert"), 2);
    // Stats for the three bindings of the model (p0/0, p0/100, p9/7).
    assert_eq!(count("Logical_Binding_Stats", "insert"), 3);
    assert_eq!(count("Physical_Locator", "insert"), 1);
    assert_eq!(count("Ucast_Macs_Local", "insert"), 1);
    assert_eq!(count("Physical_Locator_Set", "insert"), 1);
    assert_eq!(count("Mcast_Macs_Local", "insert"), 2, "ls0 and ls1");
    let ucast = ops
        .iter()
        .find(|o| o["table"] == "Ucast_Macs_Local")
        .unwrap();
    assert_eq!(ucast["row"]["MAC"], "02:00:00:00:00:01");
    assert_eq!(
        ucast["row"]["locator"],
        json!(["named-uuid", "own_locator"])
    );
}

#[test]
fn writer_is_idempotent_and_keyed_by_content() {
    // The database already holds what we want, under arbitrary UUIDs, plus a stale
    // local MAC, a duplicate and another gateway's row.
    let snap = replica(json!({
        "Global": {uuid(1): {"initial": {"switches": r(2)}}},
        "Physical_Switch": {uuid(2): {"initial": {
            "name": "gw1", "tunnel_ips": "192.0.2.50", "ports": r(3)}}},
        "Physical_Port": {uuid(3): {"initial": {"name": "p0",
            "vlan_bindings": ["map", [[100, r(10)]]], "vlan_stats": ["map", [[100, r(60)]]]}}},
        "Logical_Binding_Stats": {uuid(60): {"initial": {}}},
        "Logical_Switch": {uuid(10): {"initial": {"name": "ls0", "tunnel_key": 5000}}},
        "Physical_Locator": {
            uuid(20): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "192.0.2.50"}},
            uuid(21): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "192.0.2.51"}}
        },
        "Physical_Locator_Set": {uuid(30): {"initial": {"locators": r(20)}}},
        "Ucast_Macs_Local": {
            uuid(40): {"initial": {"MAC": "02:00:00:00:00:01", "logical_switch": r(10), "locator": r(20)}},
            uuid(41): {"initial": {"MAC": "02:00:00:00:00:01", "logical_switch": r(10), "locator": r(20)}},
            uuid(42): {"initial": {"MAC": "02:00:00:00:00:09", "logical_switch": r(10), "locator": r(20)}},
            uuid(43): {"initial": {"MAC": "02:00:00:00:00:07", "logical_switch": r(10), "locator": r(21)}}
        },
        "Mcast_Macs_Local": {
            uuid(50): {"initial": {"MAC": "unknown-dst", "logical_switch": r(10), "locator_set": r(30)}}
        }
    }))
    .snapshot();
    let (model, _) = model_from_snapshot(&snap, "gw1");
    let macs = BTreeSet::from([LocalMac {
        switch: "ls0".into(),
        mac: [2, 0, 0, 0, 0, 1],
        port: "p0".into(),
        vlan: 100,
    }]);
    let ports = vec!["p0".to_string()];
    let counts = BindingCountsMap::new();
    let side = LocalSide {
        physical_switch: "gw1",
        tunnel_ip: ip("192.0.2.50"),
        ports: &ports,
        local_macs: &macs,
        model: &model,
        binding_stats: &counts,
        write_stats: true,
        faults: &[],
        local_mac_table_full: false,
        held_tunnels: &BTreeSet::new(),
    };
    let ops = ops_json(&hsc_ops(&snap, &side));
    // Exactly: comment, delete the duplicate, delete the stale MAC. The other
    // gateway's row (192.0.2.51) is untouched.
    let deletes: Vec<_> = ops
        .iter()
        .filter(|o| o["op"] == "delete")
        .map(|o| o["where"][0][2][1].as_str().unwrap().to_string())
        .collect();
    assert_eq!(deletes, [uuid(41), uuid(42)], "{ops:#?}");
    assert_eq!(ops.len(), 3, "{ops:#?}");

    // With the same MAC set but the move to another port: nothing more.
    let moved = BTreeSet::from([LocalMac {
        port: "p7".into(),
        ..macs.iter().next().unwrap().clone()
    }]);
    let ops2 = ops_json(&hsc_ops(
        &snap,
        &LocalSide {
            local_macs: &moved,
            ..side
        },
    ));
    assert_eq!(ops2, ops);
}

/// gw1 (tunnel IP .50) with ports p0 (100 -> ls0, 0 -> ls0) and p9; locators .50
/// (own), .11, .12 and .13; tunnels: to .11 (no BFD columns yet) and to .13; p0's
/// stats: VLAN 100 (old counts) and VLAN 300 (no longer bound); fault columns set.
fn hsc_db() -> Snapshot {
    replica(json!({
        "Physical_Switch": {uuid(2): {"initial": {
            "name": "gw1", "tunnel_ips": "192.0.2.50", "ports": ["set", [r(3), r(4)]],
            "tunnels": ["set", [r(70), r(71)]],
            "switch_fault_status": ["set", ["tunnel_exhaustion"]]}}},
        "Physical_Port": {
            uuid(3): {"initial": {"name": "p0",
                "vlan_bindings": ["map", [[100, r(10)], [0, r(10)]]],
                "vlan_stats": ["map", [[100, r(60)], [300, r(61)]]]}},
            uuid(4): {"initial": {"name": "p9", "port_fault_status": ["set", ["invalid_vlan_map"]]}}
        },
        "Logical_Binding_Stats": {
            uuid(60): {"initial": {"packets_from_local": 1, "bytes_from_local": 64}},
            uuid(61): {"initial": {}}
        },
        "Logical_Switch": {uuid(10): {"initial": {"name": "ls0", "tunnel_key": 5000}}},
        "Physical_Locator": {
            uuid(20): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "192.0.2.50"}},
            uuid(21): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "192.0.2.11"}},
            uuid(22): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "192.0.2.12"}},
            uuid(23): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "192.0.2.13"}}
        },
        "Tunnel": {
            uuid(70): {"initial": {"local": r(20), "remote": r(21)}},
            uuid(71): {"initial": {"local": r(20), "remote": r(23)}}
        }
    }))
    .snapshot()
}

fn hsc_model() -> L2Model {
    let mut m = L2Model::default();
    m.switches.insert(
        "ls0".into(),
        LogicalSwitch {
            vni: 5000,
            replication: Replication::SourceNode,
        },
    );
    m.bindings.insert(("p0".into(), 100), "ls0".into());
    m.bindings.insert(("p0".into(), 0), "ls0".into());
    m.remote_macs
        .insert(("ls0".into(), mac(1)), ip("192.0.2.11"));
    // Our own address in a flood list gets no tunnel.
    m.unknown_dst.insert(
        "ls0".into(),
        BTreeSet::from([ip("192.0.2.11"), ip("192.0.2.12"), ip("192.0.2.50")]),
    );
    m
}

fn ops_on<'a>(ops: &'a [Value], table: &str, op: &str) -> Vec<&'a Value> {
    ops.iter()
        .filter(|o| o["table"] == table && o["op"] == op)
        .collect()
}

#[test]
fn writer_keeps_one_tunnel_per_remote_locator() {
    let snap = hsc_db();
    let model = hsc_model();
    let (macs, counts, ports) = (BTreeSet::new(), BindingCountsMap::new(), vec![]);
    let side = LocalSide {
        physical_switch: "gw1",
        tunnel_ip: ip("192.0.2.50"),
        ports: &ports,
        local_macs: &macs,
        model: &model,
        binding_stats: &counts,
        write_stats: false,
        faults: &[],
        local_mac_table_full: false,
        held_tunnels: &BTreeSet::new(),
    };
    let ops = ops_json(&hsc_ops(&snap, &side));
    let bfd_local = json!([
        "map",
        [
            ["bfd_dst_ip", "169.254.1.0"],
            ["bfd_dst_mac", "00:23:20:00:00:01"]
        ]
    ]);
    let bfd_status = json!(["map", [["enabled", "false"]]]);
    // The tunnel to .11 gets its BFD columns.
    let upd = ops_on(&ops, "Tunnel", "update");
    assert_eq!(upd.len(), 1, "{ops:#?}");
    assert_eq!(upd[0]["where"][0][2], r(70));
    assert_eq!(upd[0]["row"]["bfd_config_local"], bfd_local);
    assert_eq!(upd[0]["row"]["bfd_status"], bfd_status);
    // A new one to .12, between the existing locators, with the BFD columns.
    let ins = ops_on(&ops, "Tunnel", "insert");
    assert_eq!(ins.len(), 1, "{ops:#?}");
    assert_eq!(ins[0]["row"]["local"], r(20));
    assert_eq!(ins[0]["row"]["remote"], r(22));
    assert_eq!(ins[0]["row"]["bfd_config_local"], bfd_local);
    assert_eq!(ins[0]["row"]["bfd_status"], bfd_status);
    assert!(ops_on(&ops, "Physical_Locator", "insert").is_empty());
    // The tunnel to .13 (no longer used) leaves Physical_Switch.tunnels; the new one
    // joins it by name.
    let muts: Vec<_> = ops_on(&ops, "Physical_Switch", "mutate")
        .into_iter()
        .map(|o| o["mutations"][0].clone())
        .collect();
    assert_eq!(
        muts,
        [
            json!(["tunnels", "delete", r(71)]),
            json!(["tunnels", "insert", ["named-uuid", "tunnel0"]])
        ]
    );

    // A locator nobody has a row for yet: inserted with the tunnel that uses it.
    let mut m2 = model.clone();
    m2.remote_macs
        .insert(("ls0".into(), mac(2)), ip("192.0.2.99"));
    let ops = ops_json(&hsc_ops(&snap, &LocalSide { model: &m2, ..side }));
    let loc = ops_on(&ops, "Physical_Locator", "insert");
    assert_eq!(loc.len(), 1);
    assert_eq!(loc[0]["row"]["dst_ip"], "192.0.2.99");
    assert_eq!(ops_on(&ops, "Tunnel", "insert").len(), 2);

    // The database as wanted: no tunnel ops at all.
    let done = replica(json!({
        "Physical_Switch": {uuid(2): {"initial": {
            "name": "gw1", "tunnel_ips": "192.0.2.50", "tunnels": ["set", [r(70), r(72)]]}}},
        "Physical_Locator": {
            uuid(20): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "192.0.2.50"}},
            uuid(21): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "192.0.2.11"}},
            uuid(22): {"initial": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "192.0.2.12"}}
        },
        "Tunnel": {
            uuid(70): {"initial": {"local": r(20), "remote": r(21),
                "bfd_config_local": bfd_local, "bfd_status": bfd_status}},
            uuid(72): {"initial": {"local": r(20), "remote": r(22),
                "bfd_config_local": bfd_local, "bfd_status": bfd_status,
                "bfd_params": ["map", [["enable", "true"]]]}}
        }
    }))
    .snapshot();
    let mut m3 = model.clone();
    m3.bindings.clear();
    let ops = ops_json(&hsc_ops(&done, &LocalSide { model: &m3, ..side }));
    assert!(
        ops.iter()
            .all(|o| o["table"] != "Tunnel" && o["table"] != "Physical_Switch"),
        "{ops:#?}"
    );

    // A locator that just left the model keeps its tunnel while held (our tunnel may
    // be what keeps the controller's locator row alive), and goes once released.
    let mut m4 = model.clone();
    m4.unknown_dst.clear();
    m4.remote_macs.retain(|_, l| *l != ip("192.0.2.12"));
    assert!(!remote_locators(&m4, ip("192.0.2.50")).contains(&ip("192.0.2.12")));
    let held = BTreeSet::from([ip("192.0.2.12")]);
    let held_side = LocalSide {
        model: &m4,
        held_tunnels: &held,
        ..side
    };
    let ops = ops_json(&hsc_ops(&done, &held_side));
    assert!(
        ops_on(&ops, "Physical_Switch", "mutate").is_empty(),
        "{ops:#?}"
    );
    let ops = ops_json(&hsc_ops(&done, &LocalSide { model: &m4, ..side }));
    let deleted: Vec<_> = ops
        .iter()
        .filter(|o| o["op"] == "mutate" && o["table"] == "Physical_Switch")
        .collect();
    assert_eq!(deleted.len(), 1, "{ops:#?}");
    assert_eq!(deleted[0]["mutations"][0][1], "delete");
    // Held never creates: a held locator without a tunnel gets none.
    let held_new = BTreeSet::from([ip("192.0.2.77")]);
    let ops = ops_json(&hsc_ops(
        &done,
        &LocalSide {
            held_tunnels: &held_new,
            ..side
        },
    ));
    assert!(ops_on(&ops, "Tunnel", "insert").is_empty(), "{ops:#?}");
}

#[test]
fn writer_keeps_binding_stats_per_vlan_binding() {
    let snap = hsc_db();
    let model = hsc_model();
    let counts = BindingCountsMap::from([
        (
            ("p0".to_string(), 100),
            BindingCounts {
                packets_from_local: 10,
                bytes_from_local: 1000,
                packets_to_local: 20,
                bytes_to_local: 2000,
            },
        ),
        (
            ("p0".to_string(), 0),
            BindingCounts {
                packets_from_local: 3,
                bytes_from_local: 300,
                packets_to_local: 4,
                bytes_to_local: 400,
            },
        ),
    ]);
    let (macs, ports) = (BTreeSet::new(), vec![]);
    let side = LocalSide {
        physical_switch: "gw1",
        tunnel_ip: ip("192.0.2.50"),
        ports: &ports,
        local_macs: &macs,
        model: &model,
        binding_stats: &counts,
        write_stats: true,
        faults: &[],
        local_mac_table_full: false,
        held_tunnels: &BTreeSet::new(),
    };
    let plan = hsc_plan(&snap, &side);
    assert_eq!(plan.stats_written, 2);
    let ops = ops_json(&plan.ops);
    // VLAN 100's row gets the new counts.
    let upd = ops_on(&ops, "Logical_Binding_Stats", "update");
    assert_eq!(upd.len(), 1);
    assert_eq!(upd[0]["where"][0][2], r(60));
    assert_eq!(
        upd[0]["row"],
        json!({"packets_from_local": 10, "bytes_from_local": 1000,
               "packets_to_local": 20, "bytes_to_local": 2000})
    );
    // VLAN 0 (untagged) gets a new row with its counts, referenced by name.
    let ins = ops_on(&ops, "Logical_Binding_Stats", "insert");
    assert_eq!(ins.len(), 1);
    assert_eq!(ins[0]["row"]["packets_to_local"], 4);
    let name = ins[0]["uuid-name"].as_str().unwrap();
    let muts: Vec<_> = ops_on(&ops, "Physical_Port", "mutate")
        .into_iter()
        .map(|o| (o["where"][0][2].clone(), o["mutations"][0].clone()))
        .collect();
    assert_eq!(
        muts,
        [
            // VLAN 300 is no longer bound: its row goes.
            (r(3), json!(["vlan_stats", "delete", 300])),
            (
                r(3),
                json!(["vlan_stats", "insert", ["map", [[0, ["named-uuid", name]]]]])
            ),
        ]
    );

    // Not due: existing rows keep their counts, new rows still appear.
    let plan = hsc_plan(
        &snap,
        &LocalSide {
            write_stats: false,
            ..side
        },
    );
    assert_eq!(plan.stats_written, 1);
    let ops = ops_json(&plan.ops);
    assert!(ops_on(&ops, "Logical_Binding_Stats", "update").is_empty());
    assert_eq!(ops_on(&ops, "Logical_Binding_Stats", "insert").len(), 1);
}

#[test]
fn writer_sets_and_clears_fault_columns() {
    let snap = hsc_db();
    let model = hsc_model();
    let (macs, counts, ports) = (BTreeSet::new(), BindingCountsMap::new(), vec![]);
    let faults = [
        Fault::BindingToMissingSwitch {
            port: "p0".into(),
            vlan: 5,
        },
        Fault::RemoteMacLimit {
            limit: 1,
            requested: 2,
        },
    ];
    let side = LocalSide {
        physical_switch: "gw1",
        tunnel_ip: ip("192.0.2.50"),
        ports: &ports,
        local_macs: &macs,
        model: &model,
        binding_stats: &counts,
        write_stats: false,
        faults: &faults,
        local_mac_table_full: false,
        held_tunnels: &BTreeSet::new(),
    };
    let ops = ops_json(&hsc_ops(&snap, &side));
    let port_faults: Vec<_> = ops_on(&ops, "Physical_Port", "update")
        .into_iter()
        .map(|o| {
            (
                o["where"][0][2].clone(),
                o["row"]["port_fault_status"].clone(),
            )
        })
        .collect();
    // p0 gets invalid_vlan_map; p9's stale one is cleared.
    assert_eq!(
        port_faults,
        [
            (r(3), json!("invalid_vlan_map")),
            (r(4), json!(["set", []]))
        ]
    );
    // tunnel_exhaustion (no longer true) replaced by mac_table_exhaustion.
    let sw = ops_on(&ops, "Physical_Switch", "update");
    assert_eq!(sw.len(), 1);
    assert_eq!(
        sw[0]["row"]["switch_fault_status"],
        json!("mac_table_exhaustion")
    );

    // The learned table full and the tunnels over the limit: both.
    let faults = [Fault::TunnelLimit {
        limit: 1,
        requested: 2,
    }];
    let ops = ops_json(&hsc_ops(
        &snap,
        &LocalSide {
            faults: &faults,
            local_mac_table_full: true,
            held_tunnels: &BTreeSet::new(),
            ..side
        },
    ));
    let sw = ops_on(&ops, "Physical_Switch", "update");
    assert_eq!(
        sw[0]["row"]["switch_fault_status"],
        json!(["set", ["mac_table_exhaustion", "tunnel_exhaustion"]])
    );

    // Nothing wrong and the switch column says tunnel_exhaustion: cleared.
    let ops = ops_json(&hsc_ops(
        &snap,
        &LocalSide {
            faults: &[],
            ..side
        },
    ));
    let sw = ops_on(&ops, "Physical_Switch", "update");
    assert_eq!(sw[0]["row"]["switch_fault_status"], json!(["set", []]));
}

#[test]
fn limits_cut_the_model_deterministically() {
    let mut m = hsc_model();
    m.remote_macs
        .insert(("ls0".into(), mac(2)), ip("192.0.2.12"));
    m.remote_macs
        .insert(("ls0".into(), mac(3)), ip("192.0.2.11"));
    let own = ip("192.0.2.50");
    assert_eq!(
        remote_locators(&m, own),
        BTreeSet::from([ip("192.0.2.11"), ip("192.0.2.12")])
    );
    // Within the limits: untouched.
    let mut same = m.clone();
    assert!(apply_limits(&mut same, own, &Limits::default()).is_empty());
    assert_eq!(same, m);
    // One tunnel: .11 stays (lowest IP), .12's MAC and flood membership go; our own
    // address is not a tunnel.
    let mut cut = m.clone();
    let faults = apply_limits(
        &mut cut,
        own,
        &Limits {
            tunnels: 1,
            remote_macs: 1,
            ..Limits::default()
        },
    );
    assert_eq!(
        faults,
        [
            Fault::TunnelLimit {
                limit: 1,
                requested: 2
            },
            Fault::RemoteMacLimit {
                limit: 1,
                requested: 2
            }
        ]
    );
    assert_eq!(
        cut.unknown_dst["ls0"],
        BTreeSet::from([ip("192.0.2.11"), own])
    );
    // Then one remote MAC: the first by (switch, MAC).
    assert_eq!(
        cut.remote_macs.into_iter().collect::<Vec<_>>(),
        [(("ls0".to_string(), mac(1)), ip("192.0.2.11"))]
    );
    for f in &faults {
        assert!(f.switch_fault().is_some(), "{f}");
    }
}
