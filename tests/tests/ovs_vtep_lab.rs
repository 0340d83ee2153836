//! Lab (root): causeway side by side with Open vSwitch's reference software VTEP,
//! `ovs-vtep`, both driven by the same OVN through their own hardware_vtep databases.
//!
//! ```text
//!  [ph1] VLAN 100 ─ [tor] ─ trunk ─ [gw: causeway, ps gw1, 192.0.2.50] ─┐
//!  [ph2] VLAN 100 ─ [tor] ─ trunk ─ [ovsvtep: ovs-vtep, ps gw2, 192.0.2.51] ─ [und] ─ [hv1] vm1
//! ```
//!
//! Each gateway has its own database and `ovn-controller-vtep`, ls0 bound on VLAN 100
//! of its physical port, and its own `vtep` logical switch port on `lsw0`. Each
//! physical host and the VM ping each other and move 10 MB intact; then the test
//! reads back what each gateway wrote into its database (`Ucast_Macs_Local`,
//! `Mcast_Macs_Local`, `Tunnel`, `Physical_Port` and `Logical_Binding_Stats`), prints
//! both side by side, and asserts what both must agree on: the host's MAC at the
//! gateway's own locator, `unknown-dst` at the own locator, one tunnel from the own
//! to the hypervisor's locator with the vtep(5) `bfd_config_local` defaults, and the
//! binding's stats row under VLAN 100 (causeway's counting the transfer).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tests::labs::VtepGateway;
use tests::ovn::{ControllerVtep, Hypervisor, OvnCentral, OvsVtep, Underlay, VM_MTU, VlanSwitch};
use tests::{Netns, TempDir, wait_for};

const T: Duration = Duration::from_secs(30);

const VM_MAC: &str = "f0:00:00:00:00:01";
const VM_IP: &str = "10.99.0.11";
const HOST1_IP: &str = "10.99.0.21";
const HOST2_IP: &str = "10.99.0.23";
const HV_TUN: &str = "192.0.2.11";
const CW_TUN: &str = "192.0.2.50";
const OVT_TUN: &str = "192.0.2.51";
const TEN_MB: usize = 10 * 1024 * 1024;

fn ping_ok(ns: &Netns, ip: &str, count: u32) {
    let c = count.to_string();
    let out = ns
        .run(&["ping", "-n", "-c", &c, "-i", "0.2", "-W", "2", ip])
        .unwrap_or_else(|e| panic!("ping {ip}: {e}"));
    assert!(out.contains(" 0% packet loss"), "ping {ip}:\n{out}");
}

/// One table as JSON rows (column name -> OVSDB JSON value), from
/// `vtep-ctl --format=json --data=json list TABLE`.
fn table(
    ctl: &dyn Fn(&[&str]) -> tests::Result<String>,
    name: &str,
) -> Vec<BTreeMap<String, Value>> {
    let text = ctl(&["--format=json", "--data=json", "list", name]).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}: {text}"));
    let heads: Vec<String> = v["headings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            heads
                .iter()
                .cloned()
                .zip(row.as_array().unwrap().iter().cloned())
                .collect()
        })
        .collect()
}

/// The UUID of an OVSDB `["uuid", "..."]` value.
fn uuid(v: &Value) -> Option<String> {
    match v.as_array()?.as_slice() {
        [t, u] if t == "uuid" => u.as_str().map(str::to_string),
        _ => None,
    }
}

/// The atoms of an OVSDB set (a single atom is a one-element set).
fn set(v: &Value) -> Vec<Value> {
    match v.as_array().map(Vec::as_slice) {
        Some([t, items]) if t == "set" => items.as_array().cloned().unwrap_or_default(),
        _ => vec![v.clone()],
    }
}

/// An OVSDB map as (key, value) pairs.
fn map(v: &Value) -> Vec<(Value, Value)> {
    match v.as_array().map(Vec::as_slice) {
        Some([t, items]) if t == "map" => items
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| (kv[0].clone(), kv[1].clone()))
            .collect(),
        _ => Vec::new(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a gateway wrote into its database, with UUIDs resolved to names and IPs.
#[derive(Debug, Default)]
struct Written {
    /// (logical switch, MAC, locator IP).
    ucast_local: Vec<(String, String, String)>,
    /// (logical switch, MAC, locator IPs).
    mcast_local: Vec<(String, String, Vec<String>)>,
    /// (local IP, remote IP, bfd_config_local, bfd_status).
    tunnels: Vec<(String, String, String, String)>,
    /// (port, VLAN -> logical switch, VLAN -> stats).
    ports: Vec<(String, String, String)>,
    /// `packets_from_local` summed over every `Logical_Binding_Stats` row.
    packets_from_local: u64,
}

fn written(ctl: &dyn Fn(&[&str]) -> tests::Result<String>) -> Written {
    let by_uuid = |t: &str| -> BTreeMap<String, BTreeMap<String, Value>> {
        table(ctl, t)
            .into_iter()
            .filter_map(|r| Some((uuid(&r["_uuid"])?, r)))
            .collect()
    };
    let locators = by_uuid("Physical_Locator");
    let sets = by_uuid("Physical_Locator_Set");
    let switches = by_uuid("Logical_Switch");
    let stats = by_uuid("Logical_Binding_Stats");
    let ip = |v: &Value| {
        uuid(v)
            .and_then(|u| locators.get(&u))
            .map_or("?".to_string(), |r| text(&r["dst_ip"]))
    };
    let ls = |v: &Value| {
        uuid(v)
            .and_then(|u| switches.get(&u))
            .map_or("?".to_string(), |r| text(&r["name"]))
    };
    let mut w = Written::default();
    for r in table(ctl, "Ucast_Macs_Local") {
        w.ucast_local
            .push((ls(&r["logical_switch"]), text(&r["MAC"]), ip(&r["locator"])));
    }
    for r in table(ctl, "Mcast_Macs_Local") {
        let ips = uuid(&r["locator_set"])
            .and_then(|u| sets.get(&u))
            .map(|s| set(&s["locators"]).iter().map(&ip).collect())
            .unwrap_or_default();
        w.mcast_local
            .push((ls(&r["logical_switch"]), text(&r["MAC"]), ips));
    }
    for r in table(ctl, "Tunnel") {
        let kv = |v: &Value| {
            map(v)
                .iter()
                .map(|(k, v)| format!("{}={}", text(k), text(v)))
                .collect::<Vec<_>>()
                .join(",")
        };
        w.tunnels.push((
            ip(&r["local"]),
            ip(&r["remote"]),
            kv(&r["bfd_config_local"]),
            kv(&r["bfd_status"]),
        ));
    }
    w.packets_from_local = stats
        .values()
        .filter_map(|r| r["packets_from_local"].as_u64())
        .sum();
    for r in table(ctl, "Physical_Port") {
        let bindings = map(&r["vlan_bindings"])
            .iter()
            .map(|(k, v)| format!("{}={}", text(k), ls(v)))
            .collect::<Vec<_>>()
            .join(",");
        let st = map(&r["vlan_stats"])
            .iter()
            .map(|(k, v)| {
                let row = uuid(v).and_then(|u| stats.get(&u));
                let n = |c: &str| row.map_or("?".to_string(), |r| text(&r[c]));
                format!(
                    "{}={{from_local {} pkts, to_local {} pkts}}",
                    text(k),
                    n("packets_from_local"),
                    n("packets_to_local")
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        w.ports.push((text(&r["name"]), bindings, st));
    }
    w.ucast_local.sort();
    w.mcast_local.sort();
    w.tunnels.sort();
    w.ports.sort();
    w
}

#[test]
fn ovs_vtep_lab_compares_causeway_with_the_reference_vtep() {
    if let Err(skip) = tests::require_root() {
        eprintln!("{skip}");
        return;
    }
    let dir = TempDir::new("ovsvtep").unwrap();

    let central = OvnCentral::start(dir.path(), false).unwrap();
    let underlay = Underlay::new().unwrap();
    let mut hv = Hypervisor::start(
        dir.path(),
        "hv1",
        &central,
        &underlay,
        &format!("{HV_TUN}/24"),
    )
    .unwrap();
    central.nbctl(&["ls-add", "lsw0"]).unwrap();
    central
        .add_vm_port(&mut hv, "lsw0", "vm1", VM_MAC, VM_IP)
        .unwrap();

    // causeway as gw1.
    let (vtep, _cv1) = central
        .attach_vtep_gateway(dir.path(), "gw1", CW_TUN, ("phys", 100, "ls0"), "lsw0")
        .unwrap();
    let gw = VtepGateway::start(
        &dir,
        &underlay,
        &[&hv],
        &[(100, &format!("{HOST1_IP}/24"))],
        &[vtep.remote()],
        "gw1",
        CW_TUN,
    )
    .unwrap();

    // ovs-vtep as gw2.
    let mut ovt = OvsVtep::start(dir.path(), "gw2", &format!("{OVT_TUN}/24"), &underlay).unwrap();
    let mut tor2 = VlanSwitch::start(dir.path()).unwrap();
    tor2.add_access_port("ph", 100, &format!("{HOST2_IP}/24"))
        .unwrap();
    tor2.hosts()[0].iface().set_mtu(VM_MTU).unwrap();
    tor2.add_trunk_port(ovt.ns(), "phys0").unwrap();
    ovt.add_port("phys0").unwrap();
    ovt.run().unwrap_or_else(|e| {
        ovt.dump_logs();
        panic!("{e}")
    });
    ovt.vtepctl(&["add-ls", "ls0"]).unwrap();
    ovt.vtepctl(&["bind-ls", "gw2", "phys0", "100", "ls0"])
        .unwrap();
    let _cv2 = ControllerVtep::start_with(dir.path(), &ovt.remote(), "gw2", &central).unwrap();
    central
        .add_vtep_port("lsw0", "gw2-ls0", "gw2", "ls0")
        .unwrap();

    // Reachability through each gateway, both ways, and 10 MB intact.
    let vm = hv.vm("vm1").unwrap();
    let host1 = gw.host(0);
    let host2 = &tor2.hosts()[0];
    for (name, host, ip) in [
        ("causeway", host1.ns(), HOST1_IP),
        ("ovs-vtep", host2.ns(), HOST2_IP),
    ] {
        wait_for(
            &format!("the host behind {name} to reach the VM"),
            T,
            || {
                host.run(&["ping", "-n", "-c", "1", "-W", "1", VM_IP])
                    .is_ok()
            },
        )
        .unwrap_or_else(|e| {
            ovt.dump_logs();
            panic!(
                "{e}\ncauseway:\n{}\novs-vtep flows:\n{}",
                gw.causeway().daemon().stderr(),
                ovt.dump_flows("gw2").unwrap_or_default()
            )
        });
        ping_ok(host, VM_IP, 3);
        vm.ns().run(&["ip", "neigh", "flush", "all"]).unwrap();
        ping_ok(vm.ns(), ip, 3);
        let t = tests::labs::transfer(&dir, host, vm.ns(), VM_IP, TEN_MB).unwrap();
        assert!(t.intact(), "{name}: host -> VM {t:?}");
        eprintln!("{name}: 10 MB host -> VM in {:.2} s", t.seconds);
    }

    // What each wrote, once both have published their host's MAC and tunnel.
    let host1_mac = host1.iface().mac().unwrap();
    let host2_mac = host2.iface().mac().unwrap();
    let cw_ctl = |a: &[&str]| vtep.vtepctl(a);
    let ovt_ctl = |a: &[&str]| ovt.vtepctl(a);
    let ready = |w: &Written, mac: &str, own: &str| {
        w.ucast_local
            .iter()
            .any(|(l, m, i)| l == "ls0" && m == mac && i == own)
            && w.tunnels.iter().any(|(l, r, _, _)| l == own && r == HV_TUN)
    };
    let (mut cw, mut ov) = (Written::default(), Written::default());
    wait_for("both gateways to publish their host and tunnel", T, || {
        cw = written(&cw_ctl);
        ov = written(&ovt_ctl);
        ready(&cw, &host1_mac, CW_TUN) && ready(&ov, &host2_mac, OVT_TUN)
    })
    .unwrap_or_else(|e| panic!("{e}\ncauseway: {cw:#?}\novs-vtep: {ov:#?}"));

    // causeway reports its binding counters (at most every few seconds): the
    // transfer above crossed VLAN 100 of `phys`.
    wait_for(
        "causeway's Logical_Binding_Stats to count the transfer",
        T,
        || {
            cw = written(&cw_ctl);
            cw.packets_from_local > 1000
        },
    )
    .unwrap_or_else(|e| panic!("{e}\ncauseway: {cw:#?}"));
    ov = written(&ovt_ctl);

    eprintln!("===== what each gateway wrote into its hardware_vtep database =====");
    for (what, a, b) in [
        (
            "Ucast_Macs_Local",
            format!("{:?}", cw.ucast_local),
            format!("{:?}", ov.ucast_local),
        ),
        (
            "Mcast_Macs_Local",
            format!("{:?}", cw.mcast_local),
            format!("{:?}", ov.mcast_local),
        ),
        (
            "Tunnel",
            format!("{:?}", cw.tunnels),
            format!("{:?}", ov.tunnels),
        ),
        (
            "Physical_Port",
            format!("{:?}", cw.ports),
            format!("{:?}", ov.ports),
        ),
    ] {
        eprintln!("{what}\n  causeway: {a}\n  ovs-vtep: {b}");
    }

    // What both must agree on, each with its own host and locator.
    for (name, w, mac, own, port) in [
        ("causeway", &cw, &host1_mac, CW_TUN, "phys"),
        ("ovs-vtep", &ov, &host2_mac, OVT_TUN, "phys0"),
    ] {
        assert!(
            w.ucast_local.iter().all(|(l, _, i)| l == "ls0" && i == own),
            "{name}: Ucast_Macs_Local rows at another locator: {:?}",
            w.ucast_local
        );
        assert!(
            w.ucast_local.iter().any(|(_, m, _)| m == mac),
            "{name}: host MAC {mac} not published"
        );
        assert_eq!(
            w.mcast_local,
            vec![("ls0".into(), "unknown-dst".into(), vec![own.to_string()])],
            "{name}: Mcast_Macs_Local"
        );
        let tunnel = w
            .tunnels
            .iter()
            .find(|(l, r, _, _)| l == own && r == HV_TUN)
            .unwrap_or_else(|| panic!("{name}: no tunnel {own} -> {HV_TUN}"));
        assert!(
            tunnel.2.contains("bfd_dst_ip=169.254.1.0")
                && tunnel.2.contains("bfd_dst_mac=00:23:20:00:00:01"),
            "{name}: bfd_config_local {}",
            tunnel.2
        );
        let p = w
            .ports
            .iter()
            .find(|(n, _, _)| n == port)
            .unwrap_or_else(|| panic!("{name}: no Physical_Port {port}"));
        assert_eq!(p.1, "100=ls0", "{name}: vlan_bindings of {port}");
        assert!(
            p.2.starts_with("100="),
            "{name}: vlan_stats of {port}: {}",
            p.2
        );
    }

    let status = gw.stop().unwrap();
    assert!(status.success(), "causeway exited with {status}");
}
