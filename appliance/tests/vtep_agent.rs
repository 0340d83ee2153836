//! Lab (root): the vtep agent against real parts: a stock `ovsdb-server` holding
//! hardware_vtep driven with `vtep-ctl`, and the real OVN chain (NB, SB, northd,
//! ovn-controller-vtep, a hypervisor with a VM).

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use appliance::l2model::{L2Model, LocalMac, LogicalSwitch, Mac, Replication};
use appliance::vtep::{BindingCounts, BindingCountsMap, Limits, VtepAgent, VtepAgentConfig};
use ovsdb::Remote;
use tests::ovn::{ControllerVtep, Hypervisor, OvnCentral, Underlay, VtepDb};
use tests::{Daemon, TempDir, wait_for};

/// Skips the test (returns) unless running as root; fails instead under CI.
macro_rules! need_root {
    () => {
        if let Err(skip) = tests::require_root() {
            eprintln!("{skip}");
            return;
        }
    };
}

/// Local convergence (agent <-> ovsdb-server on a unix socket).
const T: Duration = Duration::from_secs(15);
/// OVN convergence (controller-lab.md: backoffs need >= 20 s).
const OVN_T: Duration = Duration::from_secs(45);

const GW_TUN: &str = "192.0.2.50";
const HV1_TUN: &str = "192.0.2.11";
const VM1_MAC: &str = "f0:00:00:00:00:01";

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn mac(s: &str) -> Mac {
    appliance::vtep::parse_mac(s).unwrap()
}

fn run(argv: &[&str]) -> String {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    assert!(
        out.status.success(),
        "{argv:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A stock standalone `ovsdb-server` on a hardware_vtep database file that survives
/// restarts of the server.
struct VtepServer {
    daemon: Option<Daemon>,
    dir: PathBuf,
    db: PathBuf,
    sock: PathBuf,
    starts: u32,
}

impl VtepServer {
    fn create(dir: &Path) -> VtepServer {
        let db = dir.join("vtep.db");
        run(&[
            "ovsdb-tool",
            "create",
            db.to_str().unwrap(),
            "/usr/share/openvswitch/vtep.ovsschema",
        ]);
        let mut s = VtepServer {
            daemon: None,
            dir: dir.to_path_buf(),
            db,
            sock: dir.join("vtep.sock"),
            starts: 0,
        };
        s.start();
        s
    }

    fn start(&mut self) {
        let _ = std::fs::remove_file(&self.sock);
        self.starts += 1;
        let d = |p: &Path| p.to_str().unwrap().to_owned();
        let remote = format!("--remote=punix:{}", d(&self.sock));
        let unixctl = format!("--unixctl={}", d(&self.dir.join("vtep.ctl")));
        let log = format!(
            "--log-file={}",
            d(&self.dir.join(format!("vtep-{}.log", self.starts)))
        );
        let db = d(&self.db);
        let daemon = Daemon::start(
            &format!("ovsdb-server-{}", self.starts),
            None,
            &["ovsdb-server", &db, &remote, &unixctl, &log, "--no-chdir"],
            &self.dir,
        )
        .unwrap();
        wait_for("ovsdb-server to listen", T, || {
            Command::new("ovsdb-client")
                .args(["--timeout=5", "list-dbs", &self.remote()])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .unwrap();
        self.daemon = Some(daemon);
    }

    fn kill(&mut self) {
        if let Some(d) = self.daemon.take() {
            d.kill().unwrap();
        }
    }

    fn remote(&self) -> String {
        format!("unix:{}", self.sock.to_str().unwrap())
    }

    fn vtepctl(&self, args: &[&str]) -> String {
        let db = format!("--db={}", self.remote());
        let mut argv = vec!["vtep-ctl", &db, "--timeout=30"];
        argv.extend_from_slice(args);
        run(&argv)
    }

    /// [`vtepctl`](Self::vtepctl) that returns `None` when the command fails (e.g. a
    /// row the agent deleted since the caller listed it).
    fn try_vtepctl(&self, args: &[&str]) -> Option<String> {
        let db = format!("--db={}", self.remote());
        let out = Command::new("vtep-ctl")
            .args([db.as_str(), "--timeout=30"])
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

fn agent_config(remote: &str, ports: &[&str]) -> VtepAgentConfig {
    let mut cfg = VtepAgentConfig::new(
        Remote::parse_list(remote).unwrap(),
        "gw1",
        ip(GW_TUN),
        ports.iter().map(|p| p.to_string()).collect(),
    );
    cfg.client.backoff_min = Duration::from_millis(50);
    cfg.client.backoff_max = Duration::from_millis(500);
    cfg.retry = Duration::from_millis(200);
    cfg.tunnel_hold = Duration::from_secs(2);
    cfg
}

/// Waits until the agent's published model satisfies `pred`; panics with the last
/// model otherwise.
fn wait_model(agent: &VtepAgent, what: &str, within: Duration, pred: impl Fn(&L2Model) -> bool) {
    let r = wait_for(what, within, || pred(&agent.model()));
    if let Err(e) = r {
        panic!(
            "{e}\nlast model: {:#?}\nfaults: {:#?}\nstats: {:?}\nsession: {:?}",
            agent.model(),
            agent.faults(),
            agent.stats(),
            agent.session()
        );
    }
}

/// `vtep-ctl list-local-macs LS` lines, trimmed (`MAC -> encap/IP`).
fn local_macs(srv: &VtepServer, ls: &str) -> BTreeSet<String> {
    srv.vtepctl(&["list-local-macs", ls])
        .lines()
        .map(str::trim)
        .filter(|l| l.contains(" -> "))
        .map(str::to_owned)
        .collect()
}

fn wait_local_macs(srv: &VtepServer, agent: &VtepAgent, ls: &str, want: &[&str]) {
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    let mut last = BTreeSet::new();
    if let Err(e) = wait_for("local MACs in the database", T, || {
        last = local_macs(srv, ls);
        last == want
    }) {
        panic!(
            "{e}\nwant {want:#?}\nhave {last:#?}\nstats {:?}",
            agent.stats()
        );
    }
}

fn learned(ls: &str, m: &str, port: &str, vlan: u16) -> LocalMac {
    LocalMac {
        switch: ls.into(),
        mac: mac(m),
        port: port.into(),
        vlan,
    }
}

#[test]
fn vtep_agent_with_stock_ovsdb_server() {
    need_root!();
    let dir = TempDir::new("vtepagent").unwrap();
    let mut srv = VtepServer::create(dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let agent = VtepAgent::start(agent_config(&srv.remote(), &["p0", "p1"]));

    // 1. The agent creates its Physical_Switch (with the tunnel IP) and ports.
    wait_for("gw1 with p0 and p1", T, || {
        Command::new("vtep-ctl")
            .args([&format!("--db={}", srv.remote()), "list-ports", "gw1"])
            .output()
            .is_ok_and(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .eq(["p0", "p1"])
            })
    })
    .unwrap();
    assert_eq!(srv.vtepctl(&["list-ps"]).trim(), "gw1");
    assert_eq!(
        srv.vtepctl(&["get", "Physical_Switch", "gw1", "tunnel_ips"])
            .trim(),
        format!("[\"{GW_TUN}\"]")
    );

    // 2. A controller's writes become the model, by name.
    srv.vtepctl(&["add-ls", "ls0"]);
    srv.vtepctl(&["set", "Logical_Switch", "ls0", "tunnel_key=5000"]);
    srv.vtepctl(&["bind-ls", "gw1", "p0", "100", "ls0"]);
    srv.vtepctl(&["add-ucast-remote", "ls0", VM1_MAC, HV1_TUN]);
    srv.vtepctl(&["add-mcast-remote", "ls0", "unknown-dst", HV1_TUN]);
    let mut want = L2Model::default();
    want.switches.insert(
        "ls0".into(),
        LogicalSwitch {
            vni: 5000,
            replication: Replication::SourceNode,
        },
    );
    want.bindings.insert(("p0".into(), 100), "ls0".into());
    want.remote_macs
        .insert(("ls0".into(), mac(VM1_MAC)), ip(HV1_TUN));
    want.unknown_dst
        .insert("ls0".into(), BTreeSet::from([ip(HV1_TUN)]));
    wait_model(&agent, "the controller's model", T, |m| *m == want);
    assert!(agent.faults().is_empty(), "{:?}", agent.faults());

    // Changes that do not touch this box's model publish nothing.
    let published = agent.stats().models_published;
    let mut models = agent.models();
    models.borrow_and_update();
    srv.vtepctl(&["add-ls", "ls9"]);
    srv.vtepctl(&["set", "Logical_Switch", "ls9", "tunnel_key=9"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!models.has_changed().unwrap());
    assert_eq!(agent.stats().models_published, published);

    // 3. Learned MACs -> Ucast_Macs_Local at our locator; the bound switch gets an
    //    unknown-dst Mcast_Macs_Local with our locator.
    let gw_loc = format!("vxlan_over_ipv4/{GW_TUN}");
    let m1 = format!("02:00:00:00:00:01 -> {gw_loc}");
    let m2 = format!("02:00:00:00:00:02 -> {gw_loc}");
    let unk = format!("unknown-dst -> {gw_loc}");
    agent.set_local_macs(BTreeSet::from([
        learned("ls0", "02:00:00:00:00:01", "p0", 100),
        learned("ls0", "02:00:00:00:00:02", "p0", 100),
    ]));
    wait_local_macs(&srv, &agent, "ls0", &[&m1, &m2, &unk]);
    // Our locator row is shared, not duplicated.
    let locs = srv.vtepctl(&[
        "--bare",
        "--columns=_uuid",
        "find",
        "Physical_Locator",
        &format!("dst_ip={GW_TUN}"),
    ]);
    assert_eq!(locs.split_whitespace().count(), 1, "{locs}");

    // A MAC moving to another local port is the same row; one aged out disappears.
    agent.set_local_macs(BTreeSet::from([learned(
        "ls0",
        "02:00:00:00:00:01",
        "p1",
        100,
    )]));
    wait_local_macs(&srv, &agent, "ls0", &[&m1, &unk]);

    // The controller (or an operator) deleting our row: it comes back.
    srv.vtepctl(&["del-ucast-local", "ls0", "02:00:00:00:00:01"]);
    wait_local_macs(&srv, &agent, "ls0", &[&m1, &unk]);

    // 4. Unbinding removes the binding (and the switch) from the next model.
    srv.vtepctl(&["unbind-ls", "gw1", "p0", "100"]);
    wait_model(&agent, "the binding gone", T, |m| m.bindings.is_empty());
    assert!(agent.model().switches.is_empty());
    // ... and our unknown-dst row for it.
    wait_local_macs(&srv, &agent, "ls0", &[&m1]);
    srv.vtepctl(&["bind-ls", "gw1", "p0", "100", "ls0"]);
    wait_model(&agent, "rebound", T, |m| *m == want);
    wait_local_macs(&srv, &agent, "ls0", &[&m1, &unk]);

    // 5. The server dies: the last model stays published, nothing empty.
    let before = agent.model();
    let published = agent.stats().models_published;
    let connects = agent.session().connects;
    srv.kill();
    wait_for("the agent to notice", T, || {
        agent.session().remote.is_none()
    })
    .unwrap();
    // Meanwhile the runtime learns another MAC.
    agent.set_local_macs(BTreeSet::from([
        learned("ls0", "02:00:00:00:00:01", "p1", 100),
        learned("ls0", "02:00:00:00:00:03", "p1", 100),
    ]));
    std::thread::sleep(Duration::from_secs(1));
    assert!(Arc::ptr_eq(&before, &agent.model()) || *before == *agent.model());
    assert_eq!(*agent.model(), want);
    assert_eq!(agent.stats().models_published, published);

    // 6. Restarted on the same file: the agent reconnects and converges.
    srv.start();
    wait_for("the agent to reconnect", T, || {
        agent.session().connects > connects
    })
    .unwrap();
    let m3 = format!("02:00:00:00:00:03 -> {gw_loc}");
    wait_local_macs(&srv, &agent, "ls0", &[&m1, &m3, &unk]);
    assert_eq!(*agent.model(), want);
    srv.vtepctl(&["add-ucast-remote", "ls0", "f0:00:00:00:00:02", "192.0.2.12"]);
    wait_model(&agent, "a new remote MAC after the restart", T, |m| {
        m.remote_macs.get(&("ls0".into(), mac("f0:00:00:00:00:02"))) == Some(&ip("192.0.2.12"))
    });
    assert_eq!(agent.stats().transaction_errors, 0, "{:?}", agent.stats());
    drop(agent);
    srv.kill();
}

/// `vtep-ctl --bare --columns=COLUMN list TABLE RECORD`, trimmed: sets as
/// space-separated members, maps as `k=v` pairs.
fn bare(srv: &VtepServer, table: &str, record: &str, column: &str) -> String {
    srv.vtepctl(&[
        "--bare",
        &format!("--columns={column}"),
        "list",
        table,
        record,
    ])
    .trim()
    .to_owned()
}

/// Tunnel rows of gw1 as (local IP, remote IP) -> (bfd_config_local,
/// bfd_status), every one referenced from `Physical_Switch.tunnels`. The agent may
/// delete a tunnel between two of the reads (its hold-down expiring), so a view with
/// a row gone mid-read is read again.
fn tunnels(srv: &VtepServer) -> BTreeMap<(String, String), (String, String)> {
    for _ in 0..50 {
        if let Some(t) = read_tunnels(srv) {
            return t;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no stable view of the Tunnel table, or a Tunnel row that is not gw1's");
}

fn read_tunnels(srv: &VtepServer) -> Option<BTreeMap<(String, String), (String, String)>> {
    let bare = |table: &str, record: &str, column: &str| {
        srv.try_vtepctl(&[
            "--bare",
            &format!("--columns={column}"),
            "list",
            table,
            record,
        ])
    };
    let referenced: BTreeSet<String> = bare("Physical_Switch", "gw1", "tunnels")?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let all: BTreeSet<String> = srv
        .vtepctl(&["--bare", "--columns=_uuid", "list", "Tunnel"])
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if all != referenced {
        // Listed across one of the agent's transactions, or a Tunnel row that is not
        // gw1's; the caller reads again and gives up if it persists.
        return None;
    }
    let loc = |t: &str, end: &str| bare("Physical_Locator", &bare("Tunnel", t, end)?, "dst_ip");
    all.iter()
        .map(|t| {
            Some((
                (loc(t, "local")?, loc(t, "remote")?),
                (
                    bare("Tunnel", t, "bfd_config_local")?,
                    bare("Tunnel", t, "bfd_status")?,
                ),
            ))
        })
        .collect()
}

/// The `Logical_Binding_Stats` row of PORT's VLAN as
/// [packets_from_local, bytes_from_local, packets_to_local, bytes_to_local], if any.
fn binding_stats(srv: &VtepServer, port: &str, vlan: u16) -> Option<[u64; 4]> {
    let map = bare(srv, "Physical_Port", port, "vlan_stats");
    let row = map
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{vlan}=")))?
        .to_owned();
    let col = |c: &str| bare(srv, "Logical_Binding_Stats", &row, c).parse().unwrap();
    Some([
        col("packets_from_local"),
        col("bytes_from_local"),
        col("packets_to_local"),
        col("bytes_to_local"),
    ])
}

fn counts(n: u64) -> BindingCounts {
    BindingCounts {
        packets_from_local: n,
        bytes_from_local: n * 100,
        packets_to_local: n + 1,
        bytes_to_local: (n + 1) * 100,
    }
}

fn wait_eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    agent: &VtepAgent,
    want: T,
    f: impl Fn() -> T,
) {
    let mut last = None;
    if let Err(e) = wait_for(what, T, || {
        let v = f();
        let ok = v == want;
        last = Some(v);
        ok
    }) {
        panic!(
            "{e}\nwant {want:#?}\nhave {last:#?}\nfaults {:?}\nstats {:?}",
            agent.faults(),
            agent.stats()
        );
    }
}

#[test]
fn vtep_agent_writes_tunnels_stats_and_faults() {
    need_root!();
    let dir = TempDir::new("vtepagentrows").unwrap();
    let srv = VtepServer::create(dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let mut cfg = agent_config(&srv.remote(), &["p0", "p1"]);
    cfg.limits = Limits {
        local_macs: 2,
        remote_macs: 100,
        tunnels: 2,
    };
    cfg.stats_interval = Duration::from_secs(3);
    let agent = VtepAgent::start(cfg);
    wait_for("gw1", T, || {
        Command::new("vtep-ctl")
            .args([&format!("--db={}", srv.remote()), "list-ports", "gw1"])
            .output()
            .is_ok_and(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .eq(["p0", "p1"])
            })
    })
    .unwrap();
    srv.vtepctl(&["add-ls", "ls0"]);
    srv.vtepctl(&["set", "Logical_Switch", "ls0", "tunnel_key=5000"]);
    srv.vtepctl(&["bind-ls", "gw1", "p0", "100", "ls0"]);
    srv.vtepctl(&["bind-ls", "gw1", "p1", "0", "ls0"]);
    srv.vtepctl(&["add-ucast-remote", "ls0", VM1_MAC, HV1_TUN]);
    srv.vtepctl(&["add-mcast-remote", "ls0", "unknown-dst", HV1_TUN]);
    srv.vtepctl(&["add-mcast-remote", "ls0", "unknown-dst", "192.0.2.12"]);

    // 1. A Tunnel per remote locator, from our own, with the BFD columns as ovs-vtep
    //    writes them when BFD is not running.
    let bfd = |ip: &str| {
        (
            (GW_TUN.to_owned(), ip.to_owned()),
            (
                "bfd_dst_ip=169.254.1.0 bfd_dst_mac=00:23:20:00:00:01".to_owned(),
                "enabled=false".to_owned(),
            ),
        )
    };
    wait_eq(
        "a tunnel to each locator",
        &agent,
        BTreeMap::from([bfd(HV1_TUN), bfd("192.0.2.12")]),
        || tunnels(&srv),
    );
    // The remote locator rows are the controller's, not copies.
    let locs = srv.vtepctl(&[
        "--bare",
        "--columns=_uuid",
        "find",
        "Physical_Locator",
        "dst_ip=192.0.2.12",
    ]);
    assert_eq!(locs.split_whitespace().count(), 1, "{locs}");
    // A locator no longer used loses its tunnel, after the hold-down (2 s here) that
    // keeps the controller's locator row alive meanwhile.
    srv.vtepctl(&["del-mcast-remote", "ls0", "unknown-dst", "192.0.2.12"]);
    wait_model(
        &agent,
        ".12 out of the model",
        Duration::from_secs(10),
        |m| {
            m.unknown_dst
                .get("ls0")
                .is_some_and(|s| !s.contains(&ip("192.0.2.12")))
        },
    );
    let released = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(tunnels(&srv).len(), 2, "held for now");
    let locs = srv.vtepctl(&[
        "--bare",
        "--columns=_uuid",
        "find",
        "Physical_Locator",
        "dst_ip=192.0.2.12",
    ]);
    assert_eq!(
        locs.split_whitespace().count(),
        1,
        "the locator lives on: {locs}"
    );
    wait_eq(
        "the tunnel to .12 gone",
        &agent,
        BTreeMap::from([bfd(HV1_TUN)]),
        || tunnels(&srv),
    );
    assert!(
        released.elapsed() >= Duration::from_millis(1500),
        "not before the hold"
    );

    // 2. Binding counters: a row per binding (untagged too), referenced from
    //    vlan_stats, with the counts fed.
    agent.set_binding_stats(Arc::new(BindingCountsMap::from([
        (("p0".to_string(), 100), counts(10)),
        (("p1".to_string(), 0), counts(20)),
    ])));
    let c = |n: u64| {
        let c = counts(n);
        Some([
            c.packets_from_local,
            c.bytes_from_local,
            c.packets_to_local,
            c.bytes_to_local,
        ])
    };
    wait_eq("p0/100 stats", &agent, c(10), || {
        binding_stats(&srv, "p0", 100)
    });
    wait_eq("p1/0 stats", &agent, c(20), || binding_stats(&srv, "p1", 0));
    // New counts: written, but not sooner than stats_interval (3 s) after the last
    // write.
    agent.set_binding_stats(Arc::new(BindingCountsMap::from([
        (("p0".to_string(), 100), counts(11)),
        (("p1".to_string(), 0), counts(20)),
    ])));
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(binding_stats(&srv, "p0", 100), c(10), "rate-bounded");
    wait_eq("p0/100 updated", &agent, c(11), || {
        binding_stats(&srv, "p0", 100)
    });
    // Unbinding drops the binding's stats row.
    srv.vtepctl(&["unbind-ls", "gw1", "p1", "0"]);
    wait_eq("p1/0 stats gone", &agent, None, || {
        binding_stats(&srv, "p1", 0)
    });
    assert_eq!(
        srv.vtepctl(&["--bare", "--columns=_uuid", "list", "Logical_Binding_Stats"])
            .split_whitespace()
            .count(),
        1
    );

    // 3. Faults, set and cleared.
    let switch_faults = || bare(&srv, "Physical_Switch", "gw1", "switch_fault_status");
    assert_eq!(switch_faults(), "");
    // More locators than 2 tunnels.
    srv.vtepctl(&["add-ucast-remote", "ls0", "f0:00:00:00:00:02", "192.0.2.13"]);
    srv.vtepctl(&["add-ucast-remote", "ls0", "f0:00:00:00:00:03", "192.0.2.14"]);
    wait_eq(
        "tunnel_exhaustion",
        &agent,
        "tunnel_exhaustion".to_owned(),
        switch_faults,
    );
    assert_eq!(tunnels(&srv).len(), 2, "no more tunnels than the limit");
    // The learned table full too.
    agent.set_local_macs(BTreeSet::from([
        learned("ls0", "02:00:00:00:00:01", "p0", 100),
        learned("ls0", "02:00:00:00:00:02", "p0", 100),
    ]));
    wait_eq(
        "both faults",
        &agent,
        "mac_table_exhaustion tunnel_exhaustion".to_owned(),
        switch_faults,
    );
    srv.vtepctl(&["del-ucast-remote", "ls0", "f0:00:00:00:00:03"]);
    agent.set_local_macs(BTreeSet::from([learned(
        "ls0",
        "02:00:00:00:00:01",
        "p0",
        100,
    )]));
    wait_eq("faults cleared", &agent, String::new(), switch_faults);
    assert_eq!(tunnels(&srv).len(), 2);
    // A binding on a port this box does not have: invalid_vlan_map on that port,
    // cleared when the binding goes.
    srv.vtepctl(&["add-port", "gw1", "p7"]);
    srv.vtepctl(&["bind-ls", "gw1", "p7", "200", "ls0"]);
    let port_faults = |p: &str| bare(&srv, "Physical_Port", p, "port_fault_status");
    wait_eq(
        "invalid_vlan_map on p7",
        &agent,
        "invalid_vlan_map".to_owned(),
        || port_faults("p7"),
    );
    assert_eq!(port_faults("p0"), "");
    assert_eq!(binding_stats(&srv, "p7", 200), None, "no counters for it");
    srv.vtepctl(&["unbind-ls", "gw1", "p7", "200"]);
    wait_eq("p7 cleared", &agent, String::new(), || port_faults("p7"));
    assert_eq!(agent.stats().transaction_errors, 0, "{:?}", agent.stats());
}

#[test]
fn vtep_agent_with_ovn_controller_vtep() {
    need_root!();
    let dir = TempDir::new("vtepagentovn").unwrap();
    let central = OvnCentral::start(dir.path(), false).unwrap();
    let underlay = Underlay::new().unwrap();
    let mut hv1 = Hypervisor::start(
        dir.path(),
        "hv1",
        &central,
        &underlay,
        &format!("{HV1_TUN}/24"),
    )
    .unwrap();
    let vtep = VtepDb::start(dir.path(), "gw1", GW_TUN, &["p0"], false).unwrap();
    vtep.vtepctl(&["add-ls", "ls0"]).unwrap();
    vtep.vtepctl(&["bind-ls", "gw1", "p0", "100", "ls0"])
        .unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let agent = VtepAgent::start(agent_config(&vtep.remote(), &["p0"]));
    let _cv = ControllerVtep::start(dir.path(), &vtep, &central).unwrap();

    central.nbctl(&["ls-add", "lsw0"]).unwrap();
    central
        .nbctl(&[
            "lsp-add",
            "lsw0",
            "vm1",
            "--",
            "lsp-set-addresses",
            "vm1",
            &format!("{VM1_MAC} 10.99.0.11"),
        ])
        .unwrap();
    hv1.add_vm("vm1", VM1_MAC, "10.99.0.11/24").unwrap();
    central
        .nbctl(&["wait-until", "Logical_Switch_Port", "vm1", "up=true"])
        .unwrap();
    central
        .add_vtep_port("lsw0", "gw1-ls0", "gw1", "ls0")
        .unwrap();

    // ovn-controller-vtep writes the VNI, the VM's MAC and unknown-dst.
    let dump = |agent: &VtepAgent| {
        central.dump_logs();
        eprintln!(
            "vtep db:\n{}",
            vtep.vtepctl(&["list-remote-macs", "ls0"])
                .unwrap_or_default()
        );
        eprintln!("faults: {:?}", agent.faults());
    };
    let ok = wait_for("ovn-controller-vtep's model", OVN_T, || {
        let m = agent.model();
        m.switches.get("ls0").is_some_and(|s| s.vni != 0)
            && m.remote_macs.get(&("ls0".into(), mac(VM1_MAC))) == Some(&ip(HV1_TUN))
            && m.unknown_dst
                .get("ls0")
                .is_some_and(|s| s.contains(&ip(HV1_TUN)))
    });
    if let Err(e) = ok {
        dump(&agent);
        panic!("{e}\nmodel: {:#?}", agent.model());
    }
    let key: u32 = vtep
        .get("Logical_Switch", "ls0", "tunnel_key")
        .unwrap()
        .parse()
        .unwrap();
    let m = agent.model();
    assert_eq!(
        m.switches["ls0"],
        LogicalSwitch {
            vni: key,
            replication: Replication::SourceNode
        }
    );
    assert_eq!(
        m.bindings,
        BTreeMap::from([(("p0".to_string(), 100), "ls0".to_string())])
    );

    // Our side lives alongside the controller's: learned MACs and unknown-dst.
    agent.set_local_macs(BTreeSet::from([learned(
        "ls0",
        "02:00:00:00:00:10",
        "p0",
        100,
    )]));
    wait_for("local rows", T, || {
        let out = vtep
            .vtepctl(&["list-local-macs", "ls0"])
            .unwrap_or_default();
        out.contains(&format!("02:00:00:00:00:10 -> vxlan_over_ipv4/{GW_TUN}"))
            && out.contains(&format!("unknown-dst -> vxlan_over_ipv4/{GW_TUN}"))
    })
    .unwrap();
    // ... and a Tunnel to the hypervisor (from its unknown-dst membership) with BFD
    // reported disabled, and the binding's stats row.
    wait_for("a tunnel to hv1 and binding stats", T, || {
        let tunnels = vtep
            .vtepctl(&["--bare", "--columns=bfd_status", "list", "Tunnel"])
            .unwrap_or_default();
        let stats = vtep
            .get("Physical_Port", "p0", "vlan_stats")
            .unwrap_or_default();
        tunnels.split_whitespace().eq(["enabled=false"]) && stats.starts_with("{100=")
    })
    .unwrap();

    // The vtep port deleted: tunnel_key 0, the switch stays but does not forward.
    central.nbctl(&["lsp-del", "gw1-ls0"]).unwrap();
    let ok = wait_for("tunnel_key 0", OVN_T, || {
        agent
            .model()
            .switches
            .get("ls0")
            .is_some_and(|s| s.vni == 0)
    });
    if let Err(e) = ok {
        dump(&agent);
        panic!("{e}\nmodel: {:#?}", agent.model());
    }
    assert_eq!(agent.model().bindings.len(), 1);
    // Two writers share the database: ovn-controller-vtep may drop the last reference
    // to a locator (garbage-collecting it) between our read and our commit, and then
    // our transaction fails on referential integrity. That is the only failure
    // allowed, and the agent must recover from it by itself: in sync again.
    let stats = agent.stats();
    assert!(
        stats.transaction_errors == 0
            || stats
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("referential integrity")),
        "{stats:?}"
    );
    wait_for("the agent in sync", T, || {
        agent.stats().in_sync_generation.is_some()
    })
    .unwrap();
}
