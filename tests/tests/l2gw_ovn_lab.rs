//! Lab (root): causeway as an L2 gateway driven by real OVN through hardware_vtep.
//!
//! ```text
//!  [ns ph] eth0 10.99.0.21/24 ─ access VLAN 100 ─ [ns tor: OVS VLAN switch] ─ trunk ─ phys0 ┐
//!                       [ns gw: causeway, `phys` and `underlay` (net_af_packet)]           │
//!                       underlay0 ── [ns und: bridge br0] ── uplink [ns hv1: OVS br-phy]   │
//!                       tunnel 192.0.2.50                   192.0.2.11, br-int ─ vm1 10.99.0.11
//! ```
//!
//! OVN (NB, SB, northd), ovn-controller-vtep and a hardware_vtep database for physical
//! switch `gw1` (tunnel IP = causeway's, port `phys`); `vtep-ctl bind-ls gw1 phys 100
//! ls0` and a `vtep` logical switch port on `lsw0` for gw1/ls0. causeway is configured
//! only with `roles.l2_gateway.controller` and gets everything else from the database:
//! the host and the VM ping each other (ARP by replication both ways), TCP crosses
//! intact, causeway writes the host's MAC into `Ucast_Macs_Local`, and after the
//! database server is killed the last model stays in force.

use std::time::Duration;

use tests::causeway::{Causeway, CausewaySpec};
use tests::ovn::{ControllerVtep, Hypervisor, OvnCentral, Underlay, VlanSwitch, VtepDb};
use tests::{Netns, TempDir, wait_for};

/// Convergence timeout (controller-lab.md: OVN backoffs need >= 20 s).
const T: Duration = Duration::from_secs(30);

const VM_MAC: &str = "f0:00:00:00:00:01";
const VM_IP: &str = "10.99.0.11";
const HOST_IP: &str = "10.99.0.21";
const HV_TUN: &str = "192.0.2.11";
const GW_TUN: &str = "192.0.2.50";
const TEN_MB: usize = 10 * 1024 * 1024;

fn ethtool_off(ns: &Netns, iface: &str) {
    // Kernel offloads would hand af_packet super-frames and partial checksums.
    ns.run(&[
        "ethtool", "-K", iface, "tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off",
    ])
    .unwrap();
}

fn ping_ok(ns: &Netns, ip: &str, count: u32) -> String {
    let c = count.to_string();
    let out = ns
        .run(&["ping", "-c", &c, "-i", "0.2", "-W", "2", ip])
        .unwrap_or_else(|e| panic!("ping {ip}: {e}"));
    assert!(out.contains(" 0% packet loss"), "ping {ip}:\n{out}");
    out
}

/// `vtep-ctl list-local-macs LS`: the `ucast-mac-local` lines as (MAC, locator IP).
fn local_macs(vtep: &VtepDb, ls: &str) -> Vec<(String, String)> {
    let out = vtep.vtepctl(&["list-local-macs", ls]).unwrap_or_default();
    let mut ucast = false;
    let mut macs = Vec::new();
    for line in out.lines() {
        let line = line.trim();
        if line.starts_with("ucast-mac-local") {
            ucast = true;
        } else if line.starts_with("mcast-mac-local") {
            ucast = false;
        } else if let (true, Some((mac, loc))) = (ucast, line.split_once(" -> ")) {
            let ip = loc.rsplit('/').next().unwrap_or(loc).to_string();
            macs.push((mac.to_string(), ip));
        }
    }
    macs
}

#[test]
fn l2gw_ovn_lab_bridges_a_vlan_into_ovn_through_hardware_vtep() {
    if let Err(skip) = tests::require_root() {
        eprintln!("{skip}");
        return;
    }
    let dir = TempDir::new("l2gwovn").unwrap();

    // OVN with one hypervisor and a VM on lsw0.
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
        .nbctl(&[
            "lsp-add",
            "lsw0",
            "vm1",
            "--",
            "lsp-set-addresses",
            "vm1",
            &format!("{VM_MAC} {VM_IP}"),
        ])
        .unwrap();
    hv.add_vm("vm1", VM_MAC, &format!("{VM_IP}/24")).unwrap();
    central
        .nbctl(&["wait-until", "Logical_Switch_Port", "vm1", "up=true"])
        .unwrap();

    // The hardware_vtep side: physical switch gw1, logical switch ls0 on (phys, 100).
    let vtep = VtepDb::start(dir.path(), "gw1", GW_TUN, &["phys"], false).unwrap();
    vtep.vtepctl(&["add-ls", "ls0"]).unwrap();
    vtep.vtepctl(&["bind-ls", "gw1", "phys", "100", "ls0"])
        .unwrap();
    let cv = ControllerVtep::start(dir.path(), &vtep, &central).unwrap();
    central
        .add_vtep_port("lsw0", "gw1-ls0", "gw1", "ls0")
        .unwrap();

    // The physical host behind the VLAN switch; causeway's ports.
    let gw = Netns::new("gw").unwrap();
    let mut tor = VlanSwitch::start(dir.path()).unwrap();
    tor.add_access_port("ph", 100, &format!("{HOST_IP}/24"))
        .unwrap();
    let phys = tor.add_trunk_port(&gw, "phys0").unwrap();
    ethtool_off(&gw, phys.name());
    let uplink = underlay.attach(&gw, "underlay0").unwrap();
    ethtool_off(&gw, uplink.a().name());
    let host = &tor.hosts()[0];
    // The VM's MTU (a 1500 underlay carries 1450-byte packets).
    host.iface().set_mtu(1450).unwrap();
    let br_phy_mac = hv
        .ns()
        .run(&["cat", "/sys/class/net/br-phy/address"])
        .unwrap()
        .trim()
        .to_owned();

    let mut spec = CausewaySpec::default()
        .port("phys", format!("net_af_packet0,iface={}", phys.name()))
        .port(
            "underlay",
            format!("net_af_packet1,iface={}", uplink.a().name()),
        );
    spec.l2_gateway = Some(format!(
        "    underlay:\n      port: underlay\n      tunnel_ip: {GW_TUN}\n      mtu: 1500\n      \
         next_hops:\n        {HV_TUN}: \"{br_phy_mac}\"\n    controller:\n      \
         remotes: [\"{}\"]\n      physical_switch: gw1\n",
        vtep.remote()
    ));
    let causeway = Causeway::start(Some(&gw), dir.path(), &spec).unwrap();
    causeway
        .daemon()
        .wait_for_output("L2 gateway model from the controller applied", T)
        .unwrap();

    // Host <-> VM: the host's ARP is replicated to the hypervisor, the VM's to the
    // gateway (OVN floods unknown MACs to the vtep port).
    let mut last = String::new();
    wait_for("the host to reach the VM", T, || {
        match host.ns().run(&["ping", "-c", "1", "-W", "1", VM_IP]) {
            Ok(_) => true,
            Err(e) => {
                last = e.0;
                false
            }
        }
    })
    .unwrap_or_else(|e| {
        panic!(
            "{e}; last ping: {last}\ncauseway:\n{}\nremote macs:\n{}",
            causeway.daemon().stderr(),
            vtep.vtepctl(&["list-remote-macs", "ls0"])
                .unwrap_or_default()
        )
    });
    ping_ok(host.ns(), VM_IP, 5);
    let vm = hv.vm("vm1").unwrap();
    vm.ns().run(&["ip", "neigh", "flush", "all"]).unwrap();
    ping_ok(vm.ns(), HOST_IP, 5);

    // TCP from the host to the VM.
    let t = tests::labs::transfer(&dir, host.ns(), vm.ns(), VM_IP, TEN_MB).unwrap();
    assert!(
        t.intact(),
        "sent {} received {}",
        t.sent_sha256,
        t.received_sha256
    );
    eprintln!("10 MB host -> VM in {:.2} s", t.seconds);

    // causeway published the host's MAC with its own tunnel IP.
    let host_mac = host.iface().mac().unwrap();
    let mut macs = Vec::new();
    wait_for("the host MAC in Ucast_Macs_Local", T, || {
        macs = local_macs(&vtep, "ls0");
        macs.contains(&(host_mac.clone(), GW_TUN.to_string()))
    })
    .unwrap_or_else(|e| {
        panic!(
            "{e}; local macs {macs:?}\n{}",
            vtep.vtepctl(&["list-local-macs", "ls0"])
                .unwrap_or_default()
        )
    });

    // The data path learned it on the binding the controller configured.
    let learned = format!(
        "causeway_l2_local_mac{{switch=\"ls0\",mac=\"{host_mac}\",port=\"phys\",vlan=\"100\"}}"
    );
    assert_eq!(
        causeway
            .metric(&learned)
            .unwrap_or_else(|e| panic!("{e}\n{}", causeway.metrics().unwrap_or_default())),
        1.0
    );

    // The database goes away: the last model stays in force.
    drop(cv);
    vtep.daemon().kill().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    ping_ok(host.ns(), VM_IP, 5);
    ping_ok(vm.ns(), HOST_IP, 3);
    assert!(
        causeway.daemon().is_running(),
        "causeway survived the database"
    );

    let status = causeway.stop().unwrap();
    assert!(status.success(), "causeway exited with {status}");
}
