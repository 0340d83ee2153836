//! Lab (root): the real controller chain causeway's L2 gateway role will join, proven
//! to work on this machine with real parts and no kernel openvswitch module:
//! OVN (NB, SB, northd), hypervisors running userspace Open vSwitch and
//! ovn-controller over VXLAN, ovn-controller-vtep driving a hardware_vtep database,
//! and a userspace Open vSwitch VLAN top-of-rack switch.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use tests::ovn::{ControllerVtep, Hypervisor, OvnCentral, Underlay, VlanSwitch, VtepDb};
use tests::{Capture, Netns, TempDir, wait_for};

/// Skips the test (returns) unless running as root; fails instead under CI.
macro_rules! need_root {
    () => {
        if let Err(skip) = tests::require_root() {
            eprintln!("{skip}");
            return;
        }
    };
}

/// Convergence timeout (controller-lab.md: OVN backoffs need >= 20 s).
const T: Duration = Duration::from_secs(30);

const VM1_MAC: &str = "f0:00:00:00:00:01";
const VM2_MAC: &str = "f0:00:00:00:00:02";
const VM1_IP: &str = "10.99.0.11";
const VM2_IP: &str = "10.99.0.12";
const HV1_TUN: &str = "192.0.2.11";
const HV2_TUN: &str = "192.0.2.12";
const GW_TUN: &str = "192.0.2.50";

/// OVN with two hypervisors, one VM each on logical switch `lsw0`, both ports up.
struct TwoHv {
    hv2: Hypervisor,
    hv1: Hypervisor,
    underlay: Underlay,
    central: OvnCentral,
}

/// Builds [`TwoHv`]; with `tcp`, NB and SB also listen on 127.0.0.1.
fn two_hypervisors(dir: &TempDir, tcp: bool) -> TwoHv {
    let central = OvnCentral::start(dir.path(), tcp).unwrap();
    let underlay = Underlay::new().unwrap();
    let mut hv1 = Hypervisor::start(
        dir.path(),
        "hv1",
        &central,
        &underlay,
        &format!("{HV1_TUN}/24"),
    )
    .unwrap();
    let mut hv2 = Hypervisor::start(
        dir.path(),
        "hv2",
        &central,
        &underlay,
        &format!("{HV2_TUN}/24"),
    )
    .unwrap();
    central.nbctl(&["ls-add", "lsw0"]).unwrap();
    for (lsp, mac, ip) in [("vm1", VM1_MAC, VM1_IP), ("vm2", VM2_MAC, VM2_IP)] {
        central
            .nbctl(&[
                "lsp-add",
                "lsw0",
                lsp,
                "--",
                "lsp-set-addresses",
                lsp,
                &format!("{mac} {ip}"),
            ])
            .unwrap();
    }
    hv1.add_vm("vm1", VM1_MAC, &format!("{VM1_IP}/24")).unwrap();
    hv2.add_vm("vm2", VM2_MAC, &format!("{VM2_IP}/24")).unwrap();
    for lsp in ["vm1", "vm2"] {
        central
            .nbctl(&["wait-until", "Logical_Switch_Port", lsp, "up=true"])
            .unwrap();
    }
    TwoHv {
        hv2,
        hv1,
        underlay,
        central,
    }
}

/// A VXLAN (UDP 4789) frame on the underlay between the two hypervisors' tunnel IPs?
fn is_vxlan_between(frame: &[u8], a: [u8; 4], b: [u8; 4]) -> bool {
    if frame.len() < 42 || frame[12..14] != [0x08, 0x00] || frame[23] != 17 {
        return false;
    }
    let ihl = usize::from(frame[14] & 0x0f) * 4;
    let (src, dst) = (&frame[26..30], &frame[30..34]);
    let udp = 14 + ihl;
    let dport = frame
        .get(udp + 2..udp + 4)
        .map(|p| u16::from_be_bytes([p[0], p[1]]));
    ((src == a && dst == b) || (src == b && dst == a)) && dport == Some(4789)
}

#[test]
fn two_hypervisors_ping_through_ovn_over_vxlan() {
    need_root!();
    let dir = TempDir::new("ovnping").unwrap();
    let lab = two_hypervisors(&dir, false);
    let cap = Capture::start(
        Some(lab.underlay.ns()),
        lab.underlay.bridge(),
        "udp port 4789",
        dir.path(),
    )
    .unwrap();
    let vm1 = lab.hv1.vm("vm1").unwrap();
    let vm2 = lab.hv2.vm("vm2").unwrap();
    // The first echoes may be lost while ovn-controller installs tunnels and flows.
    let mut last = String::new();
    wait_for("vm1 to reach vm2", T, || match vm1.ping(VM2_IP, 1) {
        Ok(_) => true,
        Err(e) => {
            last = e.0;
            false
        }
    })
    .unwrap_or_else(|e| panic!("{e}; last ping: {last}"));
    let out = vm1.ping(VM2_IP, 5).unwrap();
    assert!(out.contains("5 received, 0% packet loss"), "{out}");
    let out = vm2.ping(VM1_IP, 5).unwrap();
    assert!(out.contains("5 received, 0% packet loss"), "{out}");

    // It crossed the underlay as VXLAN between the tunnel IPs.
    let frames = cap.frames().unwrap();
    let tun = |s: &str| s.parse::<std::net::Ipv4Addr>().unwrap().octets();
    let vxlan = frames
        .iter()
        .filter(|f| is_vxlan_between(f, tun(HV1_TUN), tun(HV2_TUN)))
        .count();
    assert!(vxlan >= 20, "only {vxlan} VXLAN frames on the underlay");
    // The control sockets answer: ovn-controller is connected to the SB and has
    // programmed br-int.
    for hv in [&lab.hv1, &lab.hv2] {
        let status = hv.appctl("ovn-controller", &["connection-status"]).unwrap();
        assert_eq!(status.trim(), "connected", "{}", hv.name());
        let flows = hv.dump_flows("br-int").unwrap();
        assert!(flows.lines().count() > 50, "{}: {flows}", hv.name());
    }
    // Both ports are bound to the chassis that hosts them.
    for (lsp, hv) in [("vm1", "hv1"), ("vm2", "hv2")] {
        let chassis = lab
            .central
            .sbctl(&[
                "--bare",
                "--columns=chassis",
                "find",
                "Port_Binding",
                &format!("logical_port={lsp}"),
            ])
            .unwrap();
        let name = lab
            .central
            .sbctl(&[
                "--bare",
                "--columns=name",
                "list",
                "Chassis",
                chassis.trim(),
            ])
            .unwrap();
        assert_eq!(name.trim(), hv, "{lsp} bound to {name}");
    }
}

/// `vtep-ctl list-remote-macs LS`, parsed: unicast MAC -> locator IPs, and the
/// locator IPs of `unknown-dst`.
fn remote_macs(vtep: &VtepDb, ls: &str) -> (BTreeMap<String, Vec<String>>, Vec<String>) {
    let out = vtep.vtepctl(&["list-remote-macs", ls]).unwrap_or_default();
    let (mut ucast, mut unknown) = (BTreeMap::<String, Vec<String>>::new(), Vec::new());
    let mut mcast = false;
    for line in out.lines() {
        let line = line.trim();
        if line.starts_with("ucast-mac-remote") {
            mcast = false;
        } else if line.starts_with("mcast-mac-remote") {
            mcast = true;
        } else if let Some((mac, loc)) = line.split_once(" -> ") {
            let ip = loc.rsplit('/').next().unwrap_or(loc).to_string();
            if mcast {
                if mac == "unknown-dst" {
                    unknown.push(ip);
                }
            } else {
                ucast.entry(mac.to_string()).or_default().push(ip);
            }
        }
    }
    unknown.sort();
    (ucast, unknown)
}

#[test]
fn controller_vtep_publishes_vm_macs_to_the_vtep_db() {
    need_root!();
    let dir = TempDir::new("ovnvtep").unwrap();
    let lab = two_hypervisors(&dir, true);
    let vtep = VtepDb::start(dir.path(), "gw1", GW_TUN, &["p0"], true).unwrap();
    // The TCP remotes (what a causeway agent may use) serve the same databases.
    for (remote, db) in [
        (vtep.tcp_remote().unwrap(), "hardware_vtep"),
        (
            format!("tcp:{}", lab.central.nb_tcp().unwrap()),
            "OVN_Northbound",
        ),
        (
            format!("tcp:{}", lab.central.sb_tcp().unwrap()),
            "OVN_Southbound",
        ),
    ] {
        let out = Command::new("ovsdb-client")
            .args(["--timeout=10", "list-dbs", &remote])
            .output()
            .unwrap();
        let dbs = String::from_utf8_lossy(&out.stdout);
        assert!(dbs.lines().any(|l| l == db), "{remote}: {dbs}");
    }
    vtep.vtepctl(&["add-ls", "ls0"]).unwrap();
    vtep.vtepctl(&["bind-ls", "gw1", "p0", "100", "ls0"])
        .unwrap();
    let _cv = ControllerVtep::start(dir.path(), &vtep, &lab.central).unwrap();

    lab.central
        .add_vtep_port("lsw0", "gw1-ls0", "gw1", "ls0")
        .unwrap();

    // The VNI is the OVN datapath's tunnel key.
    let dp_key = lab
        .central
        .sbctl(&[
            "--bare",
            "--columns=tunnel_key",
            "find",
            "Datapath_Binding",
            "external_ids:name=lsw0",
        ])
        .unwrap()
        .trim()
        .to_string();
    let mut key = String::new();
    wait_for("Logical_Switch ls0 tunnel_key != 0", T, || {
        key = vtep
            .get("Logical_Switch", "ls0", "tunnel_key")
            .unwrap_or_default();
        !key.is_empty() && key != "0" && key != "[]"
    })
    .unwrap_or_else(|e| panic!("{e}; tunnel_key {key:?}"));
    assert_eq!(key, dp_key, "VNI is the datapath key");

    let want_ucast: BTreeMap<String, Vec<String>> = [
        (VM1_MAC.to_string(), vec![HV1_TUN.to_string()]),
        (VM2_MAC.to_string(), vec![HV2_TUN.to_string()]),
    ]
    .into();
    let want_unknown = vec![HV1_TUN.to_string(), HV2_TUN.to_string()];
    let mut last = Default::default();
    wait_for("remote MACs of both VMs and unknown-dst", T, || {
        last = remote_macs(&vtep, "ls0");
        last.0 == want_ucast && last.1 == want_unknown
    })
    .unwrap_or_else(|e| {
        panic!(
            "{e}; last: {last:?}\n{}",
            vtep.vtepctl(&["list-remote-macs", "ls0"])
                .unwrap_or_default()
        )
    });
    let mode = vtep
        .get("Logical_Switch", "ls0", "replication_mode")
        .unwrap();
    assert_eq!(mode.trim_matches('"'), "source_node");

    // Without a vtep port referencing it, the logical switch stops forwarding.
    lab.central.nbctl(&["lsp-del", "gw1-ls0"]).unwrap();
    wait_for("Logical_Switch ls0 tunnel_key back to 0", T, || {
        key = vtep
            .get("Logical_Switch", "ls0", "tunnel_key")
            .unwrap_or_default();
        key == "0" || key == "[]"
    })
    .unwrap_or_else(|e| panic!("{e}; tunnel_key {key:?}"));
}

/// `aa:bb:cc:dd:ee:ff` as bytes.
fn mac_bytes(mac: &str) -> [u8; 6] {
    let mut out = [0; 6];
    for (o, part) in out.iter_mut().zip(mac.split(':')) {
        *o = u8::from_str_radix(part, 16).unwrap();
    }
    out
}

/// The VLAN ID of an 802.1Q-tagged Ethernet frame.
fn vlan_id(frame: &[u8]) -> Option<u16> {
    (frame.len() >= 18 && frame[12..14] == [0x81, 0x00])
        .then(|| u16::from_be_bytes([frame[14], frame[15]]) & 0x0fff)
}

#[test]
fn vlan_switch_bridges_an_access_vlan_and_tags_it_on_the_trunk() {
    need_root!();
    let dir = TempDir::new("ovnvlan").unwrap();
    let gw = Netns::new("gw").unwrap();
    let mut tor = VlanSwitch::start(dir.path()).unwrap();
    tor.add_access_port("ph1", 100, "10.100.0.1/24").unwrap();
    tor.add_access_port("ph2", 100, "10.100.0.2/24").unwrap();
    tor.add_access_port("ph3", 200, "10.100.0.3/24").unwrap();
    let trunk = tor.add_trunk_port(&gw, "dpdk0").unwrap();
    assert_eq!(trunk.netns(), gw.name());
    let cap = Capture::start(Some(&gw), trunk.name(), "", dir.path()).unwrap();

    let hosts = tor.hosts();
    let out = hosts[0].ping(hosts[1].ip(), 3).unwrap();
    assert!(out.contains("3 received, 0% packet loss"), "{out}");
    // VLAN 200 is another broadcast domain.
    assert!(hosts[0].ping(hosts[2].ip(), 1).is_err());

    // The trunk carries every VLAN, each frame tagged with its host's VLAN: host 1's
    // ARP (broadcast) arrived with VID 100, and no frame of a host came untagged or
    // with another host's VLAN.
    let frames = cap
        .wait_for_frames(1, Duration::from_secs(10), |f| {
            vlan_id(f) == Some(100) && f.len() >= 18 && f[16..18] == [0x08, 0x06]
        })
        .unwrap();
    let mut from_hosts = 0;
    for host in hosts {
        let mac = mac_bytes(&host.iface().mac().unwrap());
        for f in frames.iter().filter(|f| f.len() >= 12 && f[6..12] == mac) {
            assert_eq!(
                vlan_id(f),
                Some(host.vlan()),
                "frame from {mac:02x?}: {f:02x?}"
            );
            from_hosts += 1;
        }
    }
    assert!(
        from_hosts >= 1,
        "no host frames among {} on the trunk",
        frames.len()
    );
    drop(cap);
}
