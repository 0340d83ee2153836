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
//! only with `roles.l2_gateway.controller` and gets everything else from the database.
//!
//! Three tests, each with its own topology:
//!
//! - `..._bridges_a_vlan_into_ovn_through_hardware_vtep`: the host and the VM ping each
//!   other (ARP by replication both ways), TCP crosses intact, causeway writes the
//!   host's MAC into `Ucast_Macs_Local`, and after the database server is killed the
//!   last model stays in force.
//! - `..._follows_the_controller_through_its_lifecycle` (two hypervisors): nothing
//!   forwards before the first binding (`no_binding` counted); 20 MB each way intact;
//!   the VM moves to hv2 and echo requests follow it there; ovn-controller-vtep is
//!   killed and restarted under a running ping (bounded loss) and a VM added after the
//!   restart becomes reachable; unbinding stops traffic (`no_binding`), deleting the
//!   vtep logical switch port sets `tunnel_key` 0 and stops it (`switch_disabled`).
//! - `..._survives_a_raft_leader_failure`: the hardware_vtep database as a 3-member
//!   Raft cluster; the leader is killed under a running ping (bounded loss), then a new
//!   binding (VLAN 200) and a new VM reach causeway through the surviving members.

use std::time::Duration;

use tests::causeway::{Causeway, CausewaySpec};
use tests::labs::{PingRun, VtepGateway};
use tests::ovn::{
    ControllerVtep, Hypervisor, OvnCentral, Underlay, VlanSwitch, VtepCluster, VtepDb,
};
use tests::{Capture, Netns, TempDir, wait_for};

/// Convergence timeout (controller-lab.md: OVN backoffs need >= 20 s).
const T: Duration = Duration::from_secs(30);

const VM_MAC: &str = "f0:00:00:00:00:01";
const VM_IP: &str = "10.99.0.11";
const VM2_MAC: &str = "f0:00:00:00:00:02";
const VM2_IP: &str = "10.99.0.12";
const HOST_IP: &str = "10.99.0.21";
const HOST200_IP: &str = "10.99.0.22";
const HV_TUN: &str = "192.0.2.11";
const HV2_TUN: &str = "192.0.2.12";
const GW_TUN: &str = "192.0.2.50";
const TEN_MB: usize = 10 * 1024 * 1024;
const TWENTY_MB: usize = 20 * 1024 * 1024;

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

/// One echo, one second: whether it came back.
fn ping_once(ns: &Netns, ip: &str) -> bool {
    ns.run(&["ping", "-n", "-c", "1", "-W", "1", ip]).is_ok()
}

/// Pings `ip` from `ns` until one echo comes back (or panics with `context()`).
fn wait_reachable(what: &str, ns: &Netns, ip: &str, context: impl Fn() -> String) {
    wait_for(what, T, || ping_once(ns, ip)).unwrap_or_else(|e| panic!("{e}\n{}", context()));
}

/// `(MAC, locator IP)` lines of one section (`ucast-mac-local`, `mcast-mac-remote`,
/// ...) of `vtep-ctl list-local-macs` / `list-remote-macs` output.
fn vtep_macs(text: &str, section: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut macs = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("ucast-mac-") || line.starts_with("mcast-mac-") {
            inside = line == section;
        } else if let (true, Some((mac, loc))) = (inside, line.split_once(" -> ")) {
            let ip = loc.rsplit('/').next().unwrap_or(loc).to_string();
            macs.push((mac.to_string(), ip));
        }
    }
    macs
}

/// `vtep-ctl list-local-macs LS`: the `ucast-mac-local` lines as (MAC, locator IP).
fn local_macs(vtep: &VtepDb, ls: &str) -> Vec<(String, String)> {
    let out = vtep.vtepctl(&["list-local-macs", ls]).unwrap_or_default();
    vtep_macs(&out, "ucast-mac-local")
}

/// A `causeway_drops_total` series.
fn drops(reason: &str) -> String {
    format!("causeway_drops_total{{reason=\"{reason}\"}}")
}

/// Whether `frame` is VXLAN (IPv4, UDP 4789) to `dst` carrying an ICMP echo request
/// (outer and inner IPv4 headers without options).
fn vxlan_echo_request_to(frame: &[u8], dst: [u8; 4]) -> bool {
    frame.len() > 84
        && frame[12..14] == [0x08, 0x00]
        && frame[14] == 0x45
        && frame[23] == 17
        && frame[30..34] == dst
        && frame[36..38] == [0x12, 0xb5]
        && frame[62..64] == [0x08, 0x00]
        && frame[64] == 0x45
        && frame[73] == 1
        && frame[84] == 8
}

fn ip4(s: &str) -> [u8; 4] {
    s.parse::<std::net::Ipv4Addr>().unwrap().octets()
}

/// Adds logical switch port `lsp` with `mac ip` on `lsw0` and plugs a VM for it into
/// `hv`.
fn add_vm(central: &OvnCentral, hv: &mut Hypervisor, lsp: &str, mac: &str, ip: &str) {
    central.add_vm_port(hv, "lsw0", lsp, mac, ip).unwrap();
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
        .add_vm_port(&mut hv, "lsw0", "vm1", VM_MAC, VM_IP)
        .unwrap();

    // The hardware_vtep side: physical switch gw1, logical switch ls0 on (phys, 100).
    let (vtep, cv) = central
        .attach_vtep_gateway(dir.path(), "gw1", GW_TUN, ("phys", 100, "ls0"), "lsw0")
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

#[test]
fn l2gw_ovn_lab_follows_the_controller_through_its_lifecycle() {
    if let Err(skip) = tests::require_root() {
        eprintln!("{skip}");
        return;
    }
    let dir = TempDir::new("l2gwovnlc").unwrap();

    // OVN with two hypervisors; vm1 on hv1.
    let central = OvnCentral::start(dir.path(), false).unwrap();
    let underlay = Underlay::new().unwrap();
    let mut hv1 = Hypervisor::start(
        dir.path(),
        "hv1",
        &central,
        &underlay,
        &format!("{HV_TUN}/24"),
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
    add_vm(&central, &mut hv1, "vm1", VM_MAC, VM_IP);

    // The vtep database has gw1 and its port, but no logical switch, no binding.
    let vtep = VtepDb::start(dir.path(), "gw1", GW_TUN, &["phys"], false).unwrap();
    let mut cv = ControllerVtep::start(dir.path(), &vtep, &central).unwrap();
    let gw = VtepGateway::start(
        &dir,
        &underlay,
        &[&hv1, &hv2],
        &[(100, &format!("{HOST_IP}/24"))],
        &[vtep.remote()],
        "gw1",
        GW_TUN,
    )
    .unwrap();
    let host = gw.host(0);
    let dump = || {
        format!(
            "causeway:\n{}\nremote macs:\n{}",
            gw.causeway().daemon().stderr(),
            vtep.vtepctl(&["list-remote-macs", "ls0"])
                .unwrap_or_default()
        )
    };
    gw.causeway()
        .daemon()
        .wait_for_output("ovsdb session established", T)
        .unwrap();

    // --- Nothing forwards before the first controller model. ---
    let no_binding = drops("no_binding");
    let before = gw.metric(&no_binding);
    let out = host
        .ns()
        .exec(&["ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", VM_IP]);
    assert!(
        !out.status.success(),
        "the host reached the VM with no binding in the database:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let after = gw
        .causeway()
        .wait_for_metric(&no_binding, T, |v| v > before)
        .unwrap();
    eprintln!("before any binding: no_binding drops {before} -> {after}");

    // Bind: ls0 on (phys, 100), and the vtep port in OVN.
    vtep.vtepctl(&["add-ls", "ls0"]).unwrap();
    vtep.vtepctl(&["bind-ls", "gw1", "phys", "100", "ls0"])
        .unwrap();
    central
        .add_vtep_port("lsw0", "gw1-ls0", "gw1", "ls0")
        .unwrap();
    wait_reachable("the host to reach vm1 once bound", host.ns(), VM_IP, dump);
    ping_ok(host.ns(), VM_IP, 3);
    {
        let vm = hv1.vm("vm1").unwrap();
        vm.ns().run(&["ip", "neigh", "flush", "all"]).unwrap();
        ping_ok(vm.ns(), HOST_IP, 3);
    }

    // --- 20 MB each way, content checked. ---
    {
        let vm = hv1.vm("vm1").unwrap();
        let t = tests::labs::transfer(&dir, host.ns(), vm.ns(), VM_IP, TWENTY_MB).unwrap();
        assert!(t.intact(), "host -> VM: {t:?}");
        eprintln!("20 MB host -> VM in {:.2} s", t.seconds);
        let t = tests::labs::transfer(&dir, vm.ns(), host.ns(), HOST_IP, TWENTY_MB).unwrap();
        assert!(t.intact(), "VM -> host: {t:?}");
        eprintln!("20 MB VM -> host in {:.2} s", t.seconds);
    }

    // --- The VM moves from hv1 to hv2 (same logical port, same MAC). ---
    let remote = |section: &str| {
        vtep_macs(
            &vtep.vtepctl(&["list-remote-macs", "ls0"]).unwrap(),
            section,
        )
    };
    assert_eq!(
        remote("ucast-mac-remote"),
        vec![(VM_MAC.to_string(), HV_TUN.to_string())]
    );
    hv1.remove_vm("vm1").unwrap();
    hv2.add_vm("vm1", VM_MAC, &format!("{VM_IP}/24")).unwrap();
    central
        .nbctl(&["wait-until", "Logical_Switch_Port", "vm1", "up=true"])
        .unwrap();
    let mut last = Vec::new();
    wait_for("vm1's Ucast_Macs_Remote locator to become hv2", T, || {
        last = remote("ucast-mac-remote");
        last == vec![(VM_MAC.to_string(), HV2_TUN.to_string())]
    })
    .unwrap_or_else(|e| panic!("{e}; last {last:?}"));
    let to_hv2 = Capture::start(
        Some(underlay.ns()),
        hv2.uplink().b().name(),
        "udp dst port 4789",
        dir.path(),
    )
    .unwrap();
    let to_hv1 = Capture::start(
        Some(underlay.ns()),
        hv1.uplink().b().name(),
        "udp dst port 4789",
        dir.path(),
    )
    .unwrap();
    wait_reachable("the host to reach vm1 on hv2", host.ns(), VM_IP, dump);
    ping_ok(host.ns(), VM_IP, 5);
    to_hv2
        .wait_for_frames(5, T, |f| vxlan_echo_request_to(f, ip4(HV2_TUN)))
        .unwrap();
    let stray = to_hv1
        .frames()
        .unwrap()
        .iter()
        .filter(|f| vxlan_echo_request_to(f, ip4(HV_TUN)))
        .count();
    assert_eq!(
        stray, 0,
        "echo requests still tunnelled to hv1 after the move"
    );
    drop(to_hv2);
    {
        let vm = hv2.vm("vm1").unwrap();
        vm.ns().run(&["ip", "neigh", "flush", "all"]).unwrap();
        ping_ok(vm.ns(), HOST_IP, 3);
    }

    // --- ovn-controller-vtep restarts under a running ping. ---
    // hv1 has no port on lsw0 now, so OVN's flood set is hv2 alone: a VM added on
    // hv1 after the restart is reachable from the host only once the new set has
    // gone from OVN through the restarted controller into causeway.
    assert_eq!(
        remote("mcast-mac-remote"),
        vec![("unknown-dst".to_string(), HV2_TUN.to_string())]
    );
    let run = PingRun::start(dir.path(), host.ns(), VM_IP, "0.05").unwrap();
    wait_for("the background ping to get replies", T, || {
        run.replies_so_far() >= 10
    })
    .unwrap();
    let before_kill = run.replies_so_far();
    cv.daemon().kill().unwrap();
    drop(cv);
    cv = ControllerVtep::start(dir.path(), &vtep, &central).unwrap();
    add_vm(&central, &mut hv1, "vm2", VM2_MAC, VM2_IP);
    let mut last = Vec::new();
    wait_for("vm2's Ucast_Macs_Remote row after the restart", T, || {
        last = remote("ucast-mac-remote");
        last.contains(&(VM2_MAC.to_string(), HV_TUN.to_string()))
    })
    .unwrap_or_else(|e| panic!("{e}; last {last:?}"));
    wait_reachable(
        "the host to reach vm2 (added after the restart)",
        host.ns(),
        VM2_IP,
        dump,
    );
    // Echoes keep coming back after the event, not only before it.
    wait_for("replies after the event", T, || {
        run.replies_so_far() >= before_kill + 20
    })
    .unwrap();
    let stats = run.stop().unwrap();
    eprintln!(
        "ovn-controller-vtep restart: {} echoes, {} lost",
        stats.transmitted,
        stats.lost()
    );
    assert!(
        stats.lost() * 50 <= stats.transmitted,
        "more than 2% loss across the controller restart:\n{}",
        stats.output
    );
    ping_ok(host.ns(), VM2_IP, 3);

    // --- The binding goes: traffic stops, counted as no_binding. ---
    vtep.vtepctl(&["unbind-ls", "gw1", "phys", "100"]).unwrap();
    wait_for("the unbound host to lose vm1", T, || {
        !ping_once(host.ns(), VM_IP)
    })
    .unwrap();
    let before = gw.metric(&no_binding);
    assert!(!ping_once(host.ns(), VM_IP));
    let after = gw
        .causeway()
        .wait_for_metric(&no_binding, T, |v| v > before)
        .unwrap();
    eprintln!("unbound: no_binding drops {before} -> {after}");
    vtep.vtepctl(&["bind-ls", "gw1", "phys", "100", "ls0"])
        .unwrap();
    wait_reachable(
        "the host to reach vm1 once bound again",
        host.ns(),
        VM_IP,
        dump,
    );

    // --- The vtep logical switch port goes: tunnel_key 0, traffic stops. ---
    central.nbctl(&["lsp-del", "gw1-ls0"]).unwrap();
    let mut key = String::new();
    wait_for("ls0's tunnel_key to become 0", T, || {
        key = vtep
            .get("Logical_Switch", "ls0", "tunnel_key")
            .unwrap_or_default();
        key == "0"
    })
    .unwrap_or_else(|e| panic!("{e}; last {key:?}"));
    let switch_disabled = drops("switch_disabled");
    wait_for("the host to lose vm1 (tunnel_key 0)", T, || {
        !ping_once(host.ns(), VM_IP)
    })
    .unwrap();
    let before = gw.metric(&switch_disabled);
    assert!(!ping_once(host.ns(), VM_IP));
    let after = gw
        .causeway()
        .wait_for_metric(&switch_disabled, T, |v| v > before)
        .unwrap();
    eprintln!("tunnel_key 0: switch_disabled drops {before} -> {after}");

    drop(cv);
    let status = gw.stop().unwrap();
    assert!(status.success(), "causeway exited with {status}");
}

#[test]
fn l2gw_ovn_lab_survives_a_raft_leader_failure() {
    if let Err(skip) = tests::require_root() {
        eprintln!("{skip}");
        return;
    }
    let dir = TempDir::new("l2gwovnraft").unwrap();
    let central = OvnCentral::start(dir.path(), false).unwrap();
    let underlay = Underlay::new().unwrap();
    let mut hv1 = Hypervisor::start(
        dir.path(),
        "hv1",
        &central,
        &underlay,
        &format!("{HV_TUN}/24"),
    )
    .unwrap();
    central.nbctl(&["ls-add", "lsw0"]).unwrap();
    add_vm(&central, &mut hv1, "vm1", VM_MAC, VM_IP);

    // hardware_vtep as a 3-member Raft cluster; both clients get every member.
    let cluster = VtepCluster::start(dir.path(), "gw1", GW_TUN, &["phys"], 3).unwrap();
    cluster.vtepctl(&["add-ls", "ls0"]).unwrap();
    cluster
        .vtepctl(&["bind-ls", "gw1", "phys", "100", "ls0"])
        .unwrap();
    let _cv =
        ControllerVtep::start_with(dir.path(), &cluster.remote_list(), "gw1", &central).unwrap();
    central
        .add_vtep_port("lsw0", "gw1-ls0", "gw1", "ls0")
        .unwrap();
    let gw = VtepGateway::start(
        &dir,
        &underlay,
        &[&hv1],
        &[
            (100, &format!("{HOST_IP}/24")),
            (200, &format!("{HOST200_IP}/24")),
        ],
        &cluster.remotes(),
        "gw1",
        GW_TUN,
    )
    .unwrap();
    let (host, host200) = (gw.host(0), gw.host(1));
    let dump = || {
        format!(
            "causeway:\n{}\nremote macs:\n{}",
            gw.causeway().daemon().stderr(),
            cluster
                .vtepctl(&["list-remote-macs", "ls0"])
                .unwrap_or_default()
        )
    };
    wait_reachable("the host to reach vm1", host.ns(), VM_IP, dump);
    ping_ok(host.ns(), VM_IP, 3);
    // VLAN 200 is not bound yet.
    assert!(!ping_once(host200.ns(), VM_IP));

    // Kill the leader under a running ping.
    let run = PingRun::start(dir.path(), host.ns(), VM_IP, "0.05").unwrap();
    wait_for("the background ping to get replies", T, || {
        run.replies_so_far() >= 10
    })
    .unwrap();
    let leader = cluster.leader().expect("the cluster has a leader");
    let sessions = gw
        .causeway()
        .daemon()
        .stderr()
        .matches("ovsdb session established")
        .count();
    let before_kill = run.replies_so_far();
    cluster.member(leader).kill().unwrap();
    let mut new_leader = None;
    wait_for("a new Raft leader", T, || {
        new_leader = cluster.leader();
        new_leader.is_some_and(|l| l != leader)
    })
    .unwrap();
    eprintln!("killed Raft leader s{leader}; new leader s{new_leader:?}");

    // Later changes reach causeway through the surviving members: a new binding
    // written straight into the database, and a VM added through OVN.
    cluster
        .vtepctl(&["bind-ls", "gw1", "phys", "200", "ls0"])
        .unwrap();
    wait_reachable(
        "the VLAN 200 host to reach vm1 (binding made after the failover)",
        host200.ns(),
        VM_IP,
        dump,
    );
    add_vm(&central, &mut hv1, "vm2", VM2_MAC, VM2_IP);
    wait_for("vm2's Ucast_Macs_Remote row in the cluster", T, || {
        let out = cluster
            .vtepctl(&["list-remote-macs", "ls0"])
            .unwrap_or_default();
        vtep_macs(&out, "ucast-mac-remote").contains(&(VM2_MAC.to_string(), HV_TUN.to_string()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", dump()));
    gw.causeway()
        .daemon()
        .wait_for_output("remote_macs=2", T)
        .unwrap_or_else(|e| panic!("{e}\n{}", dump()));
    wait_reachable("the host to reach vm2", host.ns(), VM2_IP, dump);
    // Echoes keep coming back after the event, not only before it.
    wait_for("replies after the event", T, || {
        run.replies_so_far() >= before_kill + 20
    })
    .unwrap();
    let stats = run.stop().unwrap();
    let sessions_after = gw
        .causeway()
        .daemon()
        .stderr()
        .matches("ovsdb session established")
        .count();
    eprintln!(
        "Raft leader failover: {} echoes, {} lost; causeway sessions {sessions} -> {sessions_after}",
        stats.transmitted,
        stats.lost()
    );
    assert!(
        stats.lost() * 50 <= stats.transmitted,
        "more than 2% loss across the leader failover:\n{}",
        stats.output
    );
    ping_ok(host200.ns(), VM2_IP, 3);

    let status = gw.stop().unwrap();
    assert!(status.success(), "causeway exited with {status}");
}
