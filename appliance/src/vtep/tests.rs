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
    let side = LocalSide {
        physical_switch: "gw1",
        tunnel_ip: ip("192.0.2.50"),
        ports: &ports,
        local_macs: &macs,
        model: &model,
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
        1,
        "ports only: the IP is there"
    );
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
        "Physical_Port": {uuid(3): {"initial": {"name": "p0", "vlan_bindings": ["map", [[100, r(10)]]]}}},
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
    let side = LocalSide {
        physical_switch: "gw1",
        tunnel_ip: ip("192.0.2.50"),
        ports: &ports,
        local_macs: &macs,
        model: &model,
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
