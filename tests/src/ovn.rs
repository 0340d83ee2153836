//! Real OVN, Open vSwitch and hardware_vtep parts for labs, each started by hand
//! (never the packaged services) with every file inside a per-test directory.
//!
//! This module owns:
//!
//! - [`OvnCentral`]: the OVN northbound and southbound `ovsdb-server`s (unix sockets,
//!   optionally TCP on 127.0.0.1) and `ovn-northd`, with [`OvnCentral::nbctl`] and
//!   [`OvnCentral::sbctl`].
//! - [`VtepDb`]: a stock `ovsdb-server` holding the `hardware_vtep` schema for one
//!   physical switch, with [`VtepDb::vtepctl`]; the database a gateway hosts.
//! - [`VtepCluster`]: the same database as a 3-member Raft cluster.
//! - [`ControllerVtep`]: `ovn-controller-vtep` connecting a [`VtepDb`] (or a
//!   [`VtepCluster`]) to the SB.
//! - [`Underlay`]: a Linux bridge in its own namespace that hypervisors (and later
//!   causeway's underlay port) attach to with veths.
//! - [`Hypervisor`]: a namespace running its own `ovsdb-server`, `ovs-vswitchd`
//!   (userspace datapath: the kernel has no openvswitch module) and `ovn-controller`,
//!   tunnelling VXLAN over its `br-phy`; [`Hypervisor::add_vm`] plugs a [`Vm`]
//!   namespace into `br-int`.
//! - [`OvsVtep`]: Open vSwitch's reference software VTEP (`ovs-vtep`) in its own
//!   namespace, to compare a gateway with.
//! - [`VlanSwitch`]: userspace Open vSwitch in its own namespace as a top-of-rack VLAN
//!   switch with access ports ([`PhysicalHost`]s) and trunk ports (the kernel has no
//!   802.1Q devices).
//!
//! Daemons run in the foreground under [`Daemon`] (killed by PID on drop, their
//! console logs printed when a test panics) with their own `--pidfile`, `--log-file`,
//! `--unixctl` and `OVS_RUNDIR`/`OVN_RUNDIR` under the directory passed in, so nothing
//! touches `/var/run/openvswitch`, `/var/run/ovn` or a packaged instance. Declare the
//! [`crate::TempDir`] before these values so it is dropped (removed) after them.
//!
//! ```no_run
//! use tests::TempDir;
//! use tests::ovn::{Hypervisor, OvnCentral, Underlay};
//!
//! let dir = TempDir::new("ovn").unwrap();
//! let central = OvnCentral::start(dir.path(), false).unwrap();
//! let underlay = Underlay::new().unwrap();
//! let mut hv1 = Hypervisor::start(dir.path(), "hv1", &central, &underlay, "192.0.2.11/24").unwrap();
//! central.nbctl(&["ls-add", "lsw0"]).unwrap();
//! central.nbctl(&["lsp-add", "lsw0", "vm1"]).unwrap();
//! central.nbctl(&["lsp-set-addresses", "vm1", "f0:00:00:00:00:01 10.99.0.11"]).unwrap();
//! hv1.add_vm("vm1", "f0:00:00:00:00:01", "10.99.0.11/24").unwrap();
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{Daemon, Netns, Result, VethEnd, VethPair, check_output, lab_err, show_cmd};

/// How long daemons get to come up and controllers to converge. Generous:
/// ovn-northd's and ovn-controller's reconnect backoff can take seconds, and the
/// lab tests run in parallel on two cores.
pub const CONVERGE: Duration = Duration::from_secs(30);

/// `--timeout` of every ctl tool run (seconds).
const CTL_TIMEOUT: &str = "--timeout=30";

/// Endpoint MTU on a 1500-byte underlay (VXLAN adds 50 bytes).
pub const VM_MTU: u32 = 1450;

/// Schemas of the Debian packages.
const VSWITCH_SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";
const VTEP_SCHEMA: &str = "/usr/share/openvswitch/vtep.ovsschema";
const NB_SCHEMA: &str = "/usr/share/ovn/ovn-nb.ovsschema";
const SB_SCHEMA: &str = "/usr/share/ovn/ovn-sb.ovsschema";

/// A [`Command`] for `argv`, inside `ns` if given, with every OVS/OVN directory
/// variable pointing at `rundir` (so a tool never falls back to the system paths).
fn ovs_command(ns: Option<&Netns>, rundir: &Path, argv: &[&str]) -> Command {
    let mut cmd = match ns {
        Some(ns) => ns.command(argv),
        None => {
            let mut c = Command::new(argv[0]);
            c.args(&argv[1..]);
            c
        }
    };
    for var in [
        "OVS_RUNDIR",
        "OVS_DBDIR",
        "OVS_LOGDIR",
        "OVS_SYSCONFDIR",
        "OVN_RUNDIR",
        "OVN_DBDIR",
        "OVN_LOGDIR",
        "OVN_SYSCONFDIR",
    ] {
        cmd.env(var, rundir);
    }
    // ovn-nbctl/ovn-sbctl would talk to a daemon instead of the database.
    cmd.env_remove("OVN_NB_DAEMON").env_remove("OVN_SB_DAEMON");
    cmd
}

/// Runs an OVS/OVN tool to completion; its stdout, or an error with its stderr.
fn run_tool(ns: Option<&Netns>, rundir: &Path, argv: &[&str]) -> Result<String> {
    let out = ovs_command(ns, rundir, argv)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| lab_err!("cannot run `{}`: {e}", show_cmd(argv)))?;
    check_output(argv, out)
}

/// A path as a `&str` (lab paths are ASCII).
fn s(path: &Path) -> &str {
    path.to_str().expect("lab paths are UTF-8")
}

/// Creates `dir` (absolute: unix socket paths must be) and returns it.
fn make_dir(dir: PathBuf) -> Result<PathBuf> {
    std::fs::create_dir_all(&dir).map_err(|e| lab_err!("cannot create {}: {e}", dir.display()))?;
    if dir.is_absolute() {
        Ok(dir)
    } else {
        Ok(std::env::current_dir()?.join(dir))
    }
}

/// Whether a daemon takes `--unixctl` (ovn-controller and ovn-controller-vtep 23.03 do
/// not: they put `<name>.<pid>.ctl` in `OVN_RUNDIR`, which is `rundir` here; nor does
/// the `ovs-vtep` script, whose socket goes to `OVS_RUNDIR`).
fn takes_unixctl(name: &str) -> bool {
    !matches!(name, "ovn-controller" | "ovn-controller-vtep" | "ovs-vtep")
}

/// Starts an OVS/OVN daemon `name` in the foreground with `--pidfile`, `--log-file`
/// and (where it takes one) `--unixctl` under `rundir`; returns it and its unixctl
/// socket path (`None` where the daemon picks `<rundir>/<name>.<pid>.ctl` itself).
fn start_daemon(
    name: &str,
    ns: Option<&Netns>,
    rundir: &Path,
    argv: &[&str],
) -> Result<(Daemon, Option<PathBuf>)> {
    let pidfile = format!("--pidfile={}", s(&rundir.join(format!("{name}.pid"))));
    let logfile = format!("--log-file={}", s(&rundir.join(format!("{name}.log"))));
    let ctl = takes_unixctl(name).then(|| rundir.join(format!("{name}.ctl")));
    let unixctl = ctl.as_ref().map(|c| format!("--unixctl={}", s(c)));
    let mut full: Vec<&str> = argv.to_vec();
    full.extend([pidfile.as_str(), &logfile, "--no-chdir"]);
    full.extend(unixctl.as_deref());
    let daemon = Daemon::start_command(name, ovs_command(ns, rundir, &full), rundir)?;
    Ok((daemon, ctl))
}

/// A standalone `ovsdb-server` with one database.
#[derive(Debug)]
struct DbServer {
    daemon: Daemon,
    sock: PathBuf,
    ctl: PathBuf,
    tcp: Option<SocketAddr>,
}

impl DbServer {
    /// Creates `<rundir>/<name>.db` from `schema` and serves it on
    /// `punix:<rundir>/<name>.sock`, on `ptcp:0:127.0.0.1` (a free port, read
    /// back from the log) if `tcp`, and on `extra_remotes`.
    fn start(
        name: &str,
        ns: Option<&Netns>,
        rundir: &Path,
        schema: &str,
        tcp: bool,
        extra_remotes: &[&str],
    ) -> Result<DbServer> {
        let db = rundir.join(format!("{name}.db"));
        run_tool(ns, rundir, &["ovsdb-tool", "create", s(&db), schema])?;
        let sock = rundir.join(format!("{name}.sock"));
        let punix = format!("--remote=punix:{}", s(&sock));
        let mut argv = vec!["ovsdb-server", s(&db), &punix];
        if tcp {
            argv.push("--remote=ptcp:0:127.0.0.1");
        }
        let extra: Vec<String> = extra_remotes
            .iter()
            .map(|r| format!("--remote={r}"))
            .collect();
        argv.extend(extra.iter().map(String::as_str));
        let (daemon, ctl) = start_daemon(name, ns, rundir, &argv)?;
        let ctl = ctl.expect("ovsdb-server takes --unixctl");
        let log = rundir.join(format!("{name}.log"));
        let mut port = None;
        daemon.wait_for(&format!("{name} to listen"), CONVERGE, || {
            if tcp && port.is_none() {
                port = listening_port(&log);
            }
            (!tcp || port.is_some())
                && run_tool(
                    ns,
                    rundir,
                    &[
                        "ovsdb-client",
                        "--timeout=5",
                        "list-dbs",
                        &format!("unix:{}", s(&sock)),
                    ],
                )
                .is_ok()
        })?;
        Ok(DbServer {
            daemon,
            sock,
            ctl,
            tcp: port.map(|p| SocketAddr::from((Ipv4Addr::LOCALHOST, p))),
        })
    }

    fn remote(&self) -> String {
        format!("unix:{}", s(&self.sock))
    }
}

/// The port from ovsdb-server's "0:127.0.0.1: listening on port N" log line.
fn listening_port(log: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .find_map(|l| l.split("listening on port ").nth(1))
        .and_then(|p| p.trim().parse().ok())
}

/// OVN's central part: the northbound and southbound databases (standalone
/// `ovsdb-server`s in the caller's namespace) and `ovn-northd`, all under
/// `<dir>/central`.
///
/// Unix sockets are reachable from every namespace (they are paths), so
/// hypervisors in their own namespaces use [`OvnCentral::sb_remote`]. The optional
/// TCP remotes listen on 127.0.0.1 of the caller's namespace only.
#[derive(Debug)]
pub struct OvnCentral {
    // Field order is drop order: northd before the databases.
    northd: Daemon,
    nb: DbServer,
    sb: DbServer,
    rundir: PathBuf,
}

impl OvnCentral {
    /// Starts NB, SB and northd under `<dir>/central`; with `tcp`, each database also
    /// listens on a free TCP port of 127.0.0.1. Returns once northd has connected to
    /// both (`ovn-nbctl --wait=sb sync` succeeded).
    pub fn start(dir: &Path, tcp: bool) -> Result<OvnCentral> {
        let rundir = make_dir(dir.join("central"))?;
        let nb = DbServer::start("ovnnb", None, &rundir, NB_SCHEMA, tcp, &[])?;
        let sb = DbServer::start("ovnsb", None, &rundir, SB_SCHEMA, tcp, &[])?;
        let nb_db = format!("--ovnnb-db={}", nb.remote());
        let sb_db = format!("--ovnsb-db={}", sb.remote());
        let (northd, _) =
            start_daemon("ovn-northd", None, &rundir, &["ovn-northd", &nb_db, &sb_db])?;
        let central = OvnCentral {
            northd,
            nb,
            sb,
            rundir,
        };
        central
            .nbctl(&["--wait=sb", "sync"])
            .map_err(|e| lab_err!("ovn-northd did not come up: {e}"))?;
        Ok(central)
    }

    /// The NB database remote, `unix:<absolute path>`.
    pub fn nb_remote(&self) -> String {
        self.nb.remote()
    }

    /// The SB database remote, `unix:<absolute path>`.
    pub fn sb_remote(&self) -> String {
        self.sb.remote()
    }

    /// The NB database's TCP address on 127.0.0.1, if started with `tcp`.
    pub fn nb_tcp(&self) -> Option<SocketAddr> {
        self.nb.tcp
    }

    /// The SB database's TCP address on 127.0.0.1, if started with `tcp`.
    pub fn sb_tcp(&self) -> Option<SocketAddr> {
        self.sb.tcp
    }

    /// The directory holding the databases, sockets, pidfiles and logs.
    pub fn rundir(&self) -> &Path {
        &self.rundir
    }

    /// `ovn-northd`.
    pub fn northd(&self) -> &Daemon {
        &self.northd
    }

    /// The hardware_vtep side of one gateway, wired to this OVN: a vtep database for
    /// physical switch `ps` (tunnel IP `tunnel_ip`) with logical switch `ls` bound on
    /// `(port, vlan)`, ovn-controller-vtep connecting it, and the `vtep` port
    /// `<ps>-<ls>` on NB logical switch `lswitch`.
    pub fn attach_vtep_gateway(
        &self,
        dir: &Path,
        ps: &str,
        tunnel_ip: &str,
        (port, vlan, ls): (&str, u16, &str),
        lswitch: &str,
    ) -> Result<(VtepDb, ControllerVtep)> {
        let vtep = VtepDb::start(dir, ps, tunnel_ip, &[port], false)?;
        vtep.vtepctl(&["add-ls", ls])?;
        vtep.vtepctl(&["bind-ls", ps, port, &vlan.to_string(), ls])?;
        let cv = ControllerVtep::start(dir, &vtep, self)?;
        self.add_vtep_port(lswitch, &format!("{ps}-{ls}"), ps, ls)?;
        Ok((vtep, cv))
    }

    /// Adds logical switch port `lsp` with addresses `mac ip` on NB logical switch
    /// `lswitch`, plugs a VM for it into `hv` (as `ip/24`) and waits until OVN reports
    /// the port up.
    pub fn add_vm_port(
        &self,
        hv: &mut Hypervisor,
        lswitch: &str,
        lsp: &str,
        mac: &str,
        ip: &str,
    ) -> Result<()> {
        self.nbctl(&[
            "lsp-add",
            lswitch,
            lsp,
            "--",
            "lsp-set-addresses",
            lsp,
            &format!("{mac} {ip}"),
        ])?;
        hv.add_vm(lsp, mac, &format!("{ip}/24"))?;
        self.nbctl(&["wait-until", "Logical_Switch_Port", lsp, "up=true"])?;
        Ok(())
    }

    /// Adds a `vtep` logical switch port `lsp` on NB logical switch `lswitch` for the
    /// hardware_vtep physical switch `physical_switch` and its logical switch
    /// `vtep_switch`, with addresses `unknown` (OVN floods unknown MACs to it).
    pub fn add_vtep_port(
        &self,
        lswitch: &str,
        lsp: &str,
        physical_switch: &str,
        vtep_switch: &str,
    ) -> Result<String> {
        let ps = format!("vtep-physical-switch={physical_switch}");
        let ls = format!("vtep-logical-switch={vtep_switch}");
        self.nbctl(&[
            "lsp-add",
            lswitch,
            lsp,
            "--",
            "lsp-set-type",
            lsp,
            "vtep",
            "--",
            "lsp-set-options",
            lsp,
            &ps,
            &ls,
            "--",
            "lsp-set-addresses",
            lsp,
            "unknown",
        ])
    }

    /// Runs `ovn-nbctl --db=<nb> --timeout=30 ARGS...` (options such as
    /// `--wait=hv` may lead `args`); returns its stdout.
    pub fn nbctl(&self, args: &[&str]) -> Result<String> {
        let db = format!("--db={}", self.nb.remote());
        let mut argv = vec!["ovn-nbctl", &db, CTL_TIMEOUT];
        argv.extend_from_slice(args);
        run_tool(None, &self.rundir, &argv)
    }

    /// Runs `ovn-sbctl --db=<sb> --timeout=30 ARGS...`; returns its stdout.
    pub fn sbctl(&self, args: &[&str]) -> Result<String> {
        let db = format!("--db={}", self.sb.remote());
        let mut argv = vec!["ovn-sbctl", &db, CTL_TIMEOUT];
        argv.extend_from_slice(args);
        run_tool(None, &self.rundir, &argv)
    }

    /// Names of the chassis registered in the SB.
    pub fn chassis(&self) -> Result<Vec<String>> {
        let out = self.sbctl(&["--bare", "--columns=name", "list", "Chassis"])?;
        Ok(out
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>())
    }

    /// Waits until chassis `name` is registered in the SB.
    pub fn wait_for_chassis(&self, name: &str, timeout: Duration) -> Result<()> {
        let mut last = Ok(Vec::new());
        crate::wait_for(&format!("chassis {name} in the SB"), timeout, || {
            last = self.chassis();
            last.as_ref().is_ok_and(|c| c.iter().any(|n| n == name))
        })
        .map_err(|e| lab_err!("{e}; last answer: {last:?}"))
    }

    /// Prints the tails of the databases' and northd's log files to stderr.
    pub fn dump_logs(&self) {
        for name in ["ovnnb", "ovnsb", "ovn-northd"] {
            dump_log(&self.rundir.join(format!("{name}.log")));
        }
    }
}

/// Prints the last 16 kB of a log file to stderr.
fn dump_log(path: &Path) {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let start = text.len().saturating_sub(16 * 1024);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    eprintln!("===== {} =====\n{}", path.display(), &text[start..]);
}

/// A stock `ovsdb-server` holding the `hardware_vtep` schema (1.7.0) for one physical
/// switch, under `<dir>/vtep-<ps>`: what a gateway hosts (or follows) and
/// `ovn-controller-vtep` drives.
///
/// It serves `punix:<dir>/vtep-<ps>/vtep.sock`, optionally `ptcp:0:127.0.0.1`, and
/// `db:hardware_vtep,Global,managers` (so `vtep-ctl set-manager` makes it dial out,
/// NSX style). Created with the `Physical_Switch` (its `tunnel_ips`) and
/// its `Physical_Port`s; logical switches and bindings are the test's to add.
#[derive(Debug)]
pub struct VtepDb {
    db: DbServer,
    ps: String,
    tunnel_ip: String,
    rundir: PathBuf,
}

impl VtepDb {
    /// Starts the database for physical switch `ps` with tunnel IP `tunnel_ip` and
    /// physical ports `ports`; with `tcp` it also listens on a free port of 127.0.0.1.
    pub fn start(
        dir: &Path,
        ps: &str,
        tunnel_ip: &str,
        ports: &[&str],
        tcp: bool,
    ) -> Result<VtepDb> {
        let rundir = make_dir(dir.join(format!("vtep-{ps}")))?;
        let db = DbServer::start(
            "vtep",
            None,
            &rundir,
            VTEP_SCHEMA,
            tcp,
            &["db:hardware_vtep,Global,managers"],
        )?;
        let vtep = VtepDb {
            db,
            ps: ps.to_string(),
            tunnel_ip: tunnel_ip.to_string(),
            rundir,
        };
        vtep.vtepctl(&["add-ps", ps])?;
        vtep.vtepctl(&[
            "set",
            "Physical_Switch",
            ps,
            &format!("tunnel_ips={tunnel_ip}"),
        ])?;
        for port in ports {
            vtep.vtepctl(&["add-port", ps, port])?;
        }
        Ok(vtep)
    }

    /// Runs `vtep-ctl --db=<this db> --timeout=30 ARGS...`; returns its stdout.
    pub fn vtepctl(&self, args: &[&str]) -> Result<String> {
        let db = format!("--db={}", self.db.remote());
        let mut argv = vec!["vtep-ctl", &db, CTL_TIMEOUT];
        argv.extend_from_slice(args);
        run_tool(None, &self.rundir, &argv)
    }

    /// `vtep-ctl get TABLE RECORD COLUMN`, trimmed (e.g. `0`, `[]`, `"x"`).
    pub fn get(&self, table: &str, record: &str, column: &str) -> Result<String> {
        Ok(self
            .vtepctl(&["get", table, record, column])?
            .trim()
            .to_string())
    }

    /// The database's unix socket (absolute path).
    pub fn socket(&self) -> &Path {
        &self.db.sock
    }

    /// `unix:<socket>`, the remote for clients such as the causeway agent.
    pub fn remote(&self) -> String {
        self.db.remote()
    }

    /// The TCP address on 127.0.0.1, if started with `tcp`.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.db.tcp
    }

    /// `tcp:127.0.0.1:<port>`, if started with `tcp`.
    pub fn tcp_remote(&self) -> Option<String> {
        self.db.tcp.map(|a| format!("tcp:{a}"))
    }

    /// The physical switch's name.
    pub fn ps_name(&self) -> &str {
        &self.ps
    }

    /// The physical switch's tunnel IP.
    pub fn tunnel_ip(&self) -> &str {
        &self.tunnel_ip
    }

    /// The directory holding the database, socket, pidfile and log.
    pub fn rundir(&self) -> &Path {
        &self.rundir
    }

    /// The `ovsdb-server` process.
    pub fn daemon(&self) -> &Daemon {
        &self.db.daemon
    }

    /// The server's unixctl socket (for `ovs-appctl -t`).
    pub fn unixctl(&self) -> &Path {
        &self.db.ctl
    }
}

/// One member of a [`VtepCluster`].
#[derive(Debug)]
struct ClusterMember {
    daemon: Daemon,
    sock: PathBuf,
    ctl: PathBuf,
}

/// The `hardware_vtep` database as a Raft cluster of stock `ovsdb-server`s
/// (controller-lab.md "Clustering"), one physical switch, files under
/// `<dir>/vtepc-<ps>`: what a controller cluster serves to a pool of gateways.
///
/// Members talk Raft on free TCP ports of 127.0.0.1 and serve clients on
/// `punix:<dir>/vtepc-<ps>/sN.sock`; clients take [`VtepCluster::remotes`] (all
/// members) and must move to another member when one dies.
#[derive(Debug)]
pub struct VtepCluster {
    members: Vec<ClusterMember>,
    ps: String,
    tunnel_ip: String,
    rundir: PathBuf,
}

/// A TCP port of 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

impl VtepCluster {
    /// Creates an `n`-member cluster (n >= 1), waits until every member has joined
    /// and one leads, and creates the `Physical_Switch` `ps` (tunnel IP `tunnel_ip`)
    /// with `ports`.
    pub fn start(
        dir: &Path,
        ps: &str,
        tunnel_ip: &str,
        ports: &[&str],
        n: usize,
    ) -> Result<VtepCluster> {
        let rundir = make_dir(dir.join(format!("vtepc-{ps}")))?;
        let mut raft = Vec::new();
        for _ in 0..n {
            raft.push(format!("tcp:127.0.0.1:{}", free_port()?));
        }
        let mut members = Vec::new();
        for (i, addr) in raft.iter().enumerate() {
            let db = rundir.join(format!("s{i}.db"));
            if i == 0 {
                run_tool(
                    None,
                    &rundir,
                    &["ovsdb-tool", "create-cluster", s(&db), VTEP_SCHEMA, addr],
                )?;
            } else {
                run_tool(
                    None,
                    &rundir,
                    &[
                        "ovsdb-tool",
                        "join-cluster",
                        s(&db),
                        "hardware_vtep",
                        addr,
                        &raft[0],
                    ],
                )?;
            }
            let sock = rundir.join(format!("s{i}.sock"));
            let punix = format!("--remote=punix:{}", s(&sock));
            let (daemon, ctl) = start_daemon(
                &format!("vtep{i}"),
                None,
                &rundir,
                &["ovsdb-server", s(&db), &punix],
            )?;
            members.push(ClusterMember {
                daemon,
                sock,
                ctl: ctl.expect("ovsdb-server takes --unixctl"),
            });
        }
        let cluster = VtepCluster {
            members,
            ps: ps.to_string(),
            tunnel_ip: tunnel_ip.to_string(),
            rundir,
        };
        let mut last = String::new();
        crate::wait_for("every vtep cluster member to join", CONVERGE, || {
            let all = (0..n).all(|i| {
                cluster.status(i).is_ok_and(|st| {
                    last = st.clone();
                    st.contains("Status: cluster member")
                })
            });
            all && cluster.leader().is_some()
        })
        .map_err(|e| lab_err!("{e}; last status:\n{last}"))?;
        cluster.vtepctl(&["add-ps", ps])?;
        cluster.vtepctl(&[
            "set",
            "Physical_Switch",
            ps,
            &format!("tunnel_ips={tunnel_ip}"),
        ])?;
        for port in ports {
            cluster.vtepctl(&["add-port", ps, port])?;
        }
        Ok(cluster)
    }

    /// `ovs-appctl cluster/status hardware_vtep` of member `i`.
    pub fn status(&self, i: usize) -> Result<String> {
        let ctl = s(&self.members[i].ctl);
        run_tool(
            None,
            &self.rundir,
            &[
                "ovs-appctl",
                "-t",
                ctl,
                "--timeout=5",
                "cluster/status",
                "hardware_vtep",
            ],
        )
    }

    /// The index of the member that says it leads, among those still running.
    pub fn leader(&self) -> Option<usize> {
        (0..self.members.len()).find(|&i| {
            self.members[i].daemon.is_running()
                && self.status(i).is_ok_and(|st| st.contains("Role: leader"))
        })
    }

    /// Member `i`'s `ovsdb-server`.
    pub fn member(&self, i: usize) -> &Daemon {
        &self.members[i].daemon
    }

    /// Every member's `unix:` remote.
    pub fn remotes(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|m| format!("unix:{}", s(&m.sock)))
            .collect()
    }

    /// The remotes comma-separated, as OVS/OVN tools take them.
    pub fn remote_list(&self) -> String {
        self.remotes().join(",")
    }

    /// Runs `vtep-ctl --db=<all members> --timeout=30 ARGS...` (the tool finds the
    /// leader); returns its stdout.
    pub fn vtepctl(&self, args: &[&str]) -> Result<String> {
        let db = format!("--db={}", self.remote_list());
        let mut argv = vec!["vtep-ctl", &db, CTL_TIMEOUT];
        argv.extend_from_slice(args);
        run_tool(None, &self.rundir, &argv)
    }

    /// The physical switch's name.
    pub fn ps_name(&self) -> &str {
        &self.ps
    }

    /// The physical switch's tunnel IP.
    pub fn tunnel_ip(&self) -> &str {
        &self.tunnel_ip
    }

    /// The directory holding the databases, sockets, pidfiles and logs.
    pub fn rundir(&self) -> &Path {
        &self.rundir
    }
}

/// `ovn-controller-vtep` connecting a [`VtepDb`] to the OVN SB, with
/// `OVS_RUNDIR`/`OVN_RUNDIR` in `<dir>/cv-<ps>`.
#[derive(Debug)]
pub struct ControllerVtep {
    daemon: Daemon,
    rundir: PathBuf,
}

impl ControllerVtep {
    /// Starts it and waits until the physical switch is registered as a chassis in
    /// the SB.
    pub fn start(dir: &Path, vtep: &VtepDb, central: &OvnCentral) -> Result<ControllerVtep> {
        Self::start_with(dir, &vtep.remote(), vtep.ps_name(), central)
    }

    /// Starts it on `vtep_db` (one remote, or a comma-separated list of Raft
    /// members) for physical switch `ps`, and waits until `ps` is a chassis in the
    /// SB. Files go to `<dir>/cv-<ps>`; starting again there after the previous
    /// process died is a restart (new log files, same directory).
    pub fn start_with(
        dir: &Path,
        vtep_db: &str,
        ps: &str,
        central: &OvnCentral,
    ) -> Result<ControllerVtep> {
        let rundir = make_dir(dir.join(format!("cv-{ps}")))?;
        let vtep_db = format!("--vtep-db={vtep_db}");
        let sb_db = format!("--ovnsb-db={}", central.sb_remote());
        let (daemon, _) = start_daemon(
            "ovn-controller-vtep",
            None,
            &rundir,
            &["ovn-controller-vtep", &vtep_db, &sb_db],
        )?;
        let cv = ControllerVtep { daemon, rundir };
        let mut last = Ok(Vec::new());
        cv.daemon
            .wait_for(&format!("chassis {ps} in the SB"), CONVERGE, || {
                last = central.chassis();
                last.as_ref().is_ok_and(|c| c.iter().any(|n| n == ps))
            })
            .map_err(|e| lab_err!("{e}; last answer: {last:?}"))?;
        Ok(cv)
    }

    /// The process.
    pub fn daemon(&self) -> &Daemon {
        &self.daemon
    }

    /// Its directory (pidfile, log, unixctl socket).
    pub fn rundir(&self) -> &Path {
        &self.rundir
    }
}

/// The shared underlay: a Linux bridge `br0` in its own namespace. Each
/// [`Underlay::attach`] adds a veth from another namespace into the bridge.
#[derive(Debug)]
pub struct Underlay {
    ns: Netns,
    next: std::sync::atomic::AtomicU32,
}

impl Underlay {
    /// Creates the namespace and the bridge (no STP, so ports forward at once).
    pub fn new() -> Result<Underlay> {
        let ns = Netns::new("und")?;
        ns.run(&[
            "ip",
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
        ])?;
        ns.run(&["ip", "link", "set", "br0", "up"])?;
        Ok(Underlay {
            ns,
            next: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// The namespace holding the bridge.
    pub fn ns(&self) -> &Netns {
        &self.ns
    }

    /// The bridge's name inside [`Underlay::ns`] (for captures).
    pub fn bridge(&self) -> &str {
        "br0"
    }

    /// Connects `ns` to the bridge: a veth whose end `a` is `ifname` in `ns` and end
    /// `b` a bridge port. Both ends are up with checksum offload off, MTU 1500;
    /// `a` has no address (the caller adds one, or adds it to a bridge of its own).
    pub fn attach(&self, ns: &Netns, ifname: &str) -> Result<VethPair> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pair = VethPair::with_names(ns, ifname, &self.ns, &format!("port{n}"))?;
        self.ns
            .run(&["ip", "link", "set", pair.b().name(), "master", "br0"])?;
        pair.set_mtu(1500)?;
        tx_off(ns, pair.a().name())?;
        tx_off(&self.ns, pair.b().name())?;
        pair.up()?;
        Ok(pair)
    }
}

/// `ethtool -K IF tx off`: veth checksum offload would hand userspace OVS frames with
/// partial checksums (TCP then fails while ping works).
fn tx_off(ns: &Netns, iface: &str) -> Result<()> {
    ns.run(&["ethtool", "-K", iface, "tx", "off"]).map(drop)
}

/// `ovs-appctl` for the daemon named `target` started by [`start_daemon`] in `rundir`:
/// `-t <rundir>/<target>.ctl` where it took `--unixctl`, otherwise `-t <target>`,
/// which ovs-appctl resolves through `<OVS_RUNDIR>/<target>.pid` to
/// `<target>.<pid>.ctl`.
fn appctl(ns: Option<&Netns>, rundir: &Path, target: &str, args: &[&str]) -> Result<String> {
    let ctl = rundir.join(format!("{target}.ctl"));
    let t = if ctl.exists() { s(&ctl) } else { target };
    let mut argv = vec!["ovs-appctl", "-t", t, CTL_TIMEOUT];
    argv.extend_from_slice(args);
    run_tool(ns, rundir, &argv)
}

/// `ovsdb-server` (conf.db) plus `ovs-vswitchd` inside a namespace.
#[derive(Debug)]
struct Vswitch {
    // Drop order: vswitchd before its database.
    vswitchd: Daemon,
    db: DbServer,
    rundir: PathBuf,
}

impl Vswitch {
    fn start(ns: &Netns, rundir: &Path) -> Result<Vswitch> {
        let db = DbServer::start("conf", Some(ns), rundir, VSWITCH_SCHEMA, false, &[])?;
        let conf = format!("--db={}", db.remote());
        run_tool(
            Some(ns),
            rundir,
            &["ovs-vsctl", &conf, CTL_TIMEOUT, "--no-wait", "init"],
        )?;
        let remote = db.remote();
        let (vswitchd, _) =
            start_daemon("ovs-vswitchd", Some(ns), rundir, &["ovs-vswitchd", &remote])?;
        Ok(Vswitch {
            vswitchd,
            db,
            rundir: rundir.to_path_buf(),
        })
    }

    /// `ovs-vsctl` (waiting for ovs-vswitchd to apply the change).
    fn vsctl(&self, ns: &Netns, args: &[&str]) -> Result<String> {
        let conf = format!("--db={}", self.db.remote());
        let mut argv = vec!["ovs-vsctl", &conf, CTL_TIMEOUT];
        argv.extend_from_slice(args);
        run_tool(Some(ns), &self.rundir, &argv)
    }

    /// `ovs-appctl -t <daemon's unixctl> ARGS...` for the daemon named `target`.
    fn appctl(&self, ns: &Netns, target: &str, args: &[&str]) -> Result<String> {
        appctl(Some(ns), &self.rundir, target, args)
    }
}

/// A "VM": a namespace with `eth0` (MAC, address, MTU 1450, checksum offload off)
/// whose peer is a port of a hypervisor's `br-int` with `external_ids:iface-id` set to
/// the logical switch port's name.
#[derive(Debug)]
pub struct Vm {
    link: VethPair,
    ns: Netns,
    lsp: String,
    mac: String,
    ip: String,
}

impl Vm {
    /// The VM's namespace.
    pub fn ns(&self) -> &Netns {
        &self.ns
    }

    /// The logical switch port it is bound to.
    pub fn lsp(&self) -> &str {
        &self.lsp
    }

    /// Its MAC address.
    pub fn mac(&self) -> &str {
        &self.mac
    }

    /// Its IPv4 address (without prefix).
    pub fn ip(&self) -> &str {
        &self.ip
    }

    /// The VM's interface (`eth0` in [`Vm::ns`]).
    pub fn iface(&self) -> &VethEnd {
        self.link.a()
    }

    /// The `br-int` port in the hypervisor's namespace.
    pub fn vif(&self) -> &VethEnd {
        self.link.b()
    }

    /// Pings `ip` `count` times (0.2 s apart); ping's output, or an error unless all
    /// echoes came back.
    pub fn ping(&self, ip: &str, count: u32) -> Result<String> {
        ping(&self.ns, ip, count)
    }
}

/// `ping -c COUNT -i 0.2 -W 2 IP` in `ns`; an error unless 0 % loss.
fn ping(ns: &Netns, ip: &str, count: u32) -> Result<String> {
    let count = count.to_string();
    let out = ns.exec(&["ping", "-n", "-c", &count, "-i", "0.2", "-W", "2", ip]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() && text.contains(" 0% packet loss") {
        Ok(text)
    } else {
        Err(lab_err!(
            "ping {ip} from {} lost packets:\n{text}{}",
            ns.name(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// An OVN hypervisor in its own namespace: `ovsdb-server`, `ovs-vswitchd` with the
/// userspace datapath and `ovn-controller`, files under `<dir>/hv-<name>`.
///
/// ```text
///  [vm ns] eth0 ── vifN ┐
///                    br-int (netdev, OVN's)   vxlan tunnels
///                    br-phy (netdev) ── uplink ──veth── portN ┐ br0 [underlay ns]
///                      └ internal port br-phy: tunnel IP
/// ```
///
/// `external_ids`: `system-id=<name>`, `ovn-remote=<SB unix socket>`,
/// `ovn-encap-type=vxlan`, `ovn-encap-ip=<tunnel IP>`,
/// `ovn-bridge-datapath-type=netdev`.
#[derive(Debug)]
pub struct Hypervisor {
    // Field order is drop order: controller, switch, VMs, links, then the namespace.
    controller: Daemon,
    vswitch: Vswitch,
    vms: Vec<Vm>,
    // Names `vifN` are never reused (a removed VM's port name stays taken).
    next_vif: u32,
    uplink: VethPair,
    ns: Netns,
    name: String,
    tunnel_ip: String,
    rundir: PathBuf,
}

impl Hypervisor {
    /// Builds the hypervisor `name` (also its chassis name) with tunnel address
    /// `tunnel_cidr` (e.g. `192.0.2.11/24`) on `br-phy`, attached to `underlay`, and
    /// waits until its chassis is registered in `central`'s SB.
    pub fn start(
        dir: &Path,
        name: &str,
        central: &OvnCentral,
        underlay: &Underlay,
        tunnel_cidr: &str,
    ) -> Result<Hypervisor> {
        let tunnel_ip = tunnel_cidr
            .split_once('/')
            .map(|(ip, _)| ip.to_string())
            .ok_or_else(|| lab_err!("tunnel address {tunnel_cidr} needs a prefix length"))?;
        let rundir = make_dir(dir.join(format!("hv-{name}")))?;
        let ns = Netns::new(name)?;
        let uplink = underlay.attach(&ns, "uplink")?;
        let vswitch = Vswitch::start(&ns, &rundir)?;
        let sb = central.sb_remote();
        vswitch.vsctl(
            &ns,
            &[
                "add-br",
                "br-int",
                "--",
                "set",
                "Bridge",
                "br-int",
                "datapath_type=netdev",
                "fail-mode=secure",
                "other-config:disable-in-band=true",
                "--",
                "add-br",
                "br-phy",
                "--",
                "set",
                "Bridge",
                "br-phy",
                "datapath_type=netdev",
                "--",
                "add-port",
                "br-phy",
                "uplink",
                "--",
                "set",
                "Open_vSwitch",
                ".",
                &format!("external_ids:system-id={name}"),
                &format!("external_ids:hostname={name}"),
                &format!("external_ids:ovn-remote=\"{sb}\""),
                "external_ids:ovn-encap-type=vxlan",
                &format!("external_ids:ovn-encap-ip={tunnel_ip}"),
                "external_ids:ovn-bridge-datapath-type=netdev",
            ],
        )?;
        ns.run(&["ip", "addr", "add", tunnel_cidr, "dev", "br-phy"])?;
        ns.run(&["ip", "link", "set", "br-phy", "up"])?;
        let db = vswitch.db.remote();
        let (controller, _) = start_daemon(
            "ovn-controller",
            Some(&ns),
            &rundir,
            &["ovn-controller", &db],
        )?;
        let hv = Hypervisor {
            controller,
            vswitch,
            vms: Vec::new(),
            next_vif: 0,
            uplink,
            ns,
            name: name.to_string(),
            tunnel_ip,
            rundir,
        };
        let mut last = Ok(Vec::new());
        hv.controller
            .wait_for(&format!("chassis {name} in the SB"), CONVERGE, || {
                last = central.chassis();
                last.as_ref().is_ok_and(|c| c.iter().any(|n| n == name))
            })
            .map_err(|e| lab_err!("{e}; last answer: {last:?}"))?;
        Ok(hv)
    }

    /// Adds a VM bound to logical switch port `lsp`: a namespace whose `eth0` has
    /// `mac` and `cidr` (e.g. `10.99.0.11/24`), MTU 1450, checksum offload off, and a
    /// `br-int` port with `external_ids:iface-id=<lsp>`. Does not wait for OVN: use
    /// `ovn-nbctl wait-until Logical_Switch_Port <lsp> up=true` for that.
    pub fn add_vm(&mut self, lsp: &str, mac: &str, cidr: &str) -> Result<&Vm> {
        let ip = cidr
            .split_once('/')
            .map(|(ip, _)| ip.to_string())
            .ok_or_else(|| lab_err!("VM address {cidr} needs a prefix length"))?;
        let vm_ns = Netns::new("vm")?;
        let vif = format!("vif{}", self.next_vif);
        self.next_vif += 1;
        let link = VethPair::with_names(&vm_ns, "eth0", &self.ns, &vif)?;
        link.a().set_mac(mac)?;
        link.set_mtu(VM_MTU)?;
        tx_off(&vm_ns, "eth0")?;
        tx_off(&self.ns, &vif)?;
        link.a().add_addr(cidr)?;
        link.up()?;
        self.vsctl(&[
            "add-port",
            "br-int",
            &vif,
            "--",
            "set",
            "Interface",
            &vif,
            &format!("external_ids:iface-id={lsp}"),
        ])?;
        self.vms.push(Vm {
            link,
            ns: vm_ns,
            lsp: lsp.to_string(),
            mac: mac.to_string(),
            ip,
        });
        Ok(self.vms.last().expect("just pushed"))
    }

    /// Unplugs the VM bound to `lsp`: its `br-int` port is deleted (so OVN releases
    /// the logical port from this chassis), then its namespace and veth go.
    pub fn remove_vm(&mut self, lsp: &str) -> Result<()> {
        let i = self
            .vms
            .iter()
            .position(|v| v.lsp == lsp)
            .ok_or_else(|| lab_err!("hypervisor {} has no VM on {lsp}", self.name))?;
        let vif = self.vms[i].vif().name().to_string();
        self.vsctl(&["del-port", "br-int", &vif])?;
        self.vms.remove(i);
        Ok(())
    }

    /// The VM bound to `lsp`, if this hypervisor has one.
    pub fn vm(&self, lsp: &str) -> Option<&Vm> {
        self.vms.iter().find(|v| v.lsp == lsp)
    }

    /// All VMs, in the order they were added.
    pub fn vms(&self) -> &[Vm] {
        &self.vms
    }

    /// The hypervisor's (and its chassis') name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its namespace.
    pub fn ns(&self) -> &Netns {
        &self.ns
    }

    /// Its tunnel (VXLAN endpoint) IP.
    pub fn tunnel_ip(&self) -> &str {
        &self.tunnel_ip
    }

    /// The veth into the underlay (`a` = `uplink` in [`Hypervisor::ns`], a port of
    /// `br-phy`).
    pub fn uplink(&self) -> &VethPair {
        &self.uplink
    }

    /// Its directory (databases, sockets, pidfiles, logs).
    pub fn rundir(&self) -> &Path {
        &self.rundir
    }

    /// `ovn-controller`.
    pub fn controller(&self) -> &Daemon {
        &self.controller
    }

    /// `ovs-vswitchd`.
    pub fn vswitchd(&self) -> &Daemon {
        &self.vswitch.vswitchd
    }

    /// Runs `ovs-vsctl` against this hypervisor's database (waiting for
    /// `ovs-vswitchd` to apply changes).
    pub fn vsctl(&self, args: &[&str]) -> Result<String> {
        self.vswitch.vsctl(&self.ns, args)
    }

    /// Runs `ovs-appctl -t <target>` where `target` is `ovs-vswitchd`,
    /// `ovn-controller` or `conf` (the ovsdb-server).
    pub fn appctl(&self, target: &str, args: &[&str]) -> Result<String> {
        self.vswitch.appctl(&self.ns, target, args)
    }

    /// `ovs-ofctl dump-flows BRIDGE` over the bridge's management socket.
    pub fn dump_flows(&self, bridge: &str) -> Result<String> {
        let mgmt = format!("unix:{}", s(&self.rundir.join(format!("{bridge}.mgmt"))));
        run_tool(
            Some(&self.ns),
            &self.rundir,
            &["ovs-ofctl", "-O", "OpenFlow15", "dump-flows", &mgmt],
        )
    }
}

/// A "physical host" behind a [`VlanSwitch`] access port: a namespace whose `eth0`
/// (address, checksum offload off, MTU 1500) is plugged into the switch.
#[derive(Debug)]
pub struct PhysicalHost {
    link: VethPair,
    ns: Netns,
    ip: String,
    vlan: u16,
}

impl PhysicalHost {
    /// The host's namespace.
    pub fn ns(&self) -> &Netns {
        &self.ns
    }

    /// Its IPv4 address (without prefix).
    pub fn ip(&self) -> &str {
        &self.ip
    }

    /// The access VLAN it sits in.
    pub fn vlan(&self) -> u16 {
        self.vlan
    }

    /// `eth0` in [`PhysicalHost::ns`].
    pub fn iface(&self) -> &VethEnd {
        self.link.a()
    }

    /// The switch's access port.
    pub fn switch_port(&self) -> &VethEnd {
        self.link.b()
    }

    /// Pings `ip` `count` times; an error unless all echoes came back.
    pub fn ping(&self, ip: &str, count: u32) -> Result<String> {
        ping(&self.ns, ip, count)
    }
}

/// A top-of-rack VLAN switch: userspace Open vSwitch (`br0`, `datapath_type=netdev`,
/// normal L2 learning) in its own namespace, files under `<dir>/tor-<n>`.
///
/// Access ports carry one VLAN untagged (`tag=N`); trunk ports carry every VLAN
/// 802.1Q-tagged (`vlan_mode=trunk`).
#[derive(Debug)]
pub struct VlanSwitch {
    vswitch: Vswitch,
    hosts: Vec<PhysicalHost>,
    trunks: Vec<VethPair>,
    ns: Netns,
    rundir: PathBuf,
}

impl VlanSwitch {
    /// Starts the switch with an empty `br0`.
    pub fn start(dir: &Path) -> Result<VlanSwitch> {
        let rundir = (0..)
            .map(|n| dir.join(format!("tor-{n}")))
            .find(|p| !p.exists())
            .expect("some name is free");
        let rundir = make_dir(rundir)?;
        let ns = Netns::new("tor")?;
        let vswitch = Vswitch::start(&ns, &rundir)?;
        vswitch.vsctl(
            &ns,
            &[
                "add-br",
                "br0",
                "--",
                "set",
                "Bridge",
                "br0",
                "datapath_type=netdev",
                "fail-mode=standalone",
            ],
        )?;
        Ok(VlanSwitch {
            vswitch,
            hosts: Vec::new(),
            trunks: Vec::new(),
            ns,
            rundir,
        })
    }

    /// Adds a physical host (namespace tagged `host`) with address `cidr` on an access
    /// port of `vlan`.
    pub fn add_access_port(&mut self, host: &str, vlan: u16, cidr: &str) -> Result<&PhysicalHost> {
        let ip = cidr
            .split_once('/')
            .map(|(ip, _)| ip.to_string())
            .ok_or_else(|| lab_err!("host address {cidr} needs a prefix length"))?;
        let host_ns = Netns::new(host)?;
        let port = format!("acc{}", self.hosts.len());
        let link = VethPair::with_names(&host_ns, "eth0", &self.ns, &port)?;
        link.set_mtu(1500)?;
        tx_off(&host_ns, "eth0")?;
        tx_off(&self.ns, &port)?;
        link.a().add_addr(cidr)?;
        link.up()?;
        self.vsctl(&["add-port", "br0", &port, &format!("tag={vlan}")])?;
        self.hosts.push(PhysicalHost {
            link,
            ns: host_ns,
            ip,
            vlan,
        });
        Ok(self.hosts.last().expect("just pushed"))
    }

    /// Adds a trunk port (every VLAN, tagged) whose other end is `ifname` in `ns`
    /// (e.g. the namespace causeway's DPDK port will live in). Both ends are up,
    /// MTU 1500, checksum offload off; returns the end in `ns`.
    pub fn add_trunk_port(&mut self, ns: &Netns, ifname: &str) -> Result<VethEnd> {
        let port = format!("trk{}", self.trunks.len());
        let link = VethPair::with_names(ns, ifname, &self.ns, &port)?;
        link.set_mtu(1500)?;
        tx_off(ns, ifname)?;
        tx_off(&self.ns, &port)?;
        link.up()?;
        self.vsctl(&["add-port", "br0", &port, "vlan_mode=trunk"])?;
        let end = link.a().clone();
        self.trunks.push(link);
        Ok(end)
    }

    /// The physical hosts, in the order they were added.
    pub fn hosts(&self) -> &[PhysicalHost] {
        &self.hosts
    }

    /// The switch's namespace.
    pub fn ns(&self) -> &Netns {
        &self.ns
    }

    /// The bridge's name.
    pub fn bridge(&self) -> &str {
        "br0"
    }

    /// Its directory (database, sockets, pidfiles, logs).
    pub fn rundir(&self) -> &Path {
        &self.rundir
    }

    /// `ovs-vswitchd`.
    pub fn vswitchd(&self) -> &Daemon {
        &self.vswitch.vswitchd
    }

    /// Runs `ovs-vsctl` against the switch's database.
    pub fn vsctl(&self, args: &[&str]) -> Result<String> {
        self.vswitch.vsctl(&self.ns, args)
    }

    /// Runs `ovs-appctl -t <target>` (`ovs-vswitchd` or `conf`), e.g.
    /// `fdb/show br0`.
    pub fn appctl(&self, target: &str, args: &[&str]) -> Result<String> {
        self.vswitch.appctl(&self.ns, target, args)
    }
}

/// The `ovs-vtep` script of the Debian package (the reference software VTEP).
pub const OVS_VTEP: &str = "/usr/share/openvswitch/scripts/ovs-vtep";

/// Open vSwitch's reference software hardware-VTEP (controller-lab.md "Reference
/// gateway") in its own namespace, files under `<dir>/ovsvtep-<ps>`:
/// one `ovsdb-server` serving both `conf.db` and `vtep.db` on
/// `<rundir>/db.sock` (where `ovs-vsctl`, `vtep-ctl` and `ovs-ofctl` find it through
/// `OVS_RUNDIR`), `ovs-vswitchd` with netdev bridges, and [`OVS_VTEP`] for physical
/// switch `ps`.
///
/// ```text
///  phys ports ── bridge <ps> (netdev)   ovs-vtep: <ps>_vtep_lsN bridges, vxlan ports
///  uplink ──── bridge br-phy (netdev), tunnel IP on its internal port ── underlay
/// ```
///
/// Build it with [`OvsVtep::start`], plug physical ports with [`OvsVtep::add_port`]
/// (e.g. a [`VlanSwitch`] trunk into [`OvsVtep::ns`]), then [`OvsVtep::run`].
#[derive(Debug)]
pub struct OvsVtep {
    // Field order is drop order: the script, the switch, its database, links, netns.
    script: Option<Daemon>,
    vswitchd: Daemon,
    db: Daemon,
    uplink: VethPair,
    ns: Netns,
    ps: String,
    tunnel_ip: String,
    rundir: PathBuf,
}

impl OvsVtep {
    /// Creates the namespace, the database server (with `Physical_Switch` `ps`,
    /// `tunnel_ips` = the address of `tunnel_cidr`), `ovs-vswitchd`, the bridge `ps`
    /// and `br-phy` attached to `underlay`. [`OVS_VTEP`] is not started yet.
    pub fn start(dir: &Path, ps: &str, tunnel_cidr: &str, underlay: &Underlay) -> Result<OvsVtep> {
        let tunnel_ip = tunnel_cidr
            .split_once('/')
            .map(|(ip, _)| ip.to_string())
            .ok_or_else(|| lab_err!("tunnel address {tunnel_cidr} needs a prefix length"))?;
        let rundir = make_dir(dir.join(format!("ovsvtep-{ps}")))?;
        let ns = Netns::new("ovsvtep")?;
        let uplink = underlay.attach(&ns, "uplink")?;
        let conf = rundir.join("conf.db");
        let vtep_db = rundir.join("vtep.db");
        run_tool(
            Some(&ns),
            &rundir,
            &["ovsdb-tool", "create", s(&conf), VSWITCH_SCHEMA],
        )?;
        run_tool(
            Some(&ns),
            &rundir,
            &["ovsdb-tool", "create", s(&vtep_db), VTEP_SCHEMA],
        )?;
        let sock = rundir.join("db.sock");
        let punix = format!("--remote=punix:{}", s(&sock));
        let (db, _) = start_daemon(
            "ovsdb-server",
            Some(&ns),
            &rundir,
            &[
                "ovsdb-server",
                s(&conf),
                s(&vtep_db),
                &punix,
                "--remote=db:hardware_vtep,Global,managers",
            ],
        )?;
        let remote = format!("unix:{}", s(&sock));
        db.wait_for("the ovs-vtep database server to listen", CONVERGE, || {
            run_tool(
                Some(&ns),
                &rundir,
                &["ovsdb-client", "--timeout=5", "list-dbs", &remote],
            )
            .is_ok()
        })?;
        let (vswitchd, _) = start_daemon(
            "ovs-vswitchd",
            Some(&ns),
            &rundir,
            &["ovs-vswitchd", &remote],
        )?;
        let gw = OvsVtep {
            script: None,
            vswitchd,
            db,
            uplink,
            ns,
            ps: ps.to_string(),
            tunnel_ip,
            rundir,
        };
        gw.vsctl(&["--no-wait", "init"])?;
        gw.vsctl(&[
            "add-br",
            ps,
            "--",
            "set",
            "Bridge",
            ps,
            "datapath_type=netdev",
            "--",
            "add-br",
            "br-phy",
            "--",
            "set",
            "Bridge",
            "br-phy",
            "datapath_type=netdev",
            "--",
            "add-port",
            "br-phy",
            "uplink",
        ])?;
        gw.ns
            .run(&["ip", "addr", "add", tunnel_cidr, "dev", "br-phy"])?;
        gw.ns.run(&["ip", "link", "set", "br-phy", "up"])?;
        gw.vtepctl(&["add-ps", ps])?;
        gw.vtepctl(&[
            "set",
            "Physical_Switch",
            ps,
            &format!("tunnel_ips={}", gw.tunnel_ip),
        ])?;
        Ok(gw)
    }

    /// Adds interface `ifname` (already in [`OvsVtep::ns`]) to bridge `ps`: a
    /// physical port (`ovs-vtep` creates its `Physical_Port` row).
    pub fn add_port(&self, ifname: &str) -> Result<()> {
        self.vsctl(&["add-port", &self.ps, ifname]).map(drop)
    }

    /// Starts [`OVS_VTEP`] and waits until it has created the `Physical_Port` row
    /// of every port of bridge `ps`.
    pub fn run(&mut self) -> Result<()> {
        let (script, _) = start_daemon(
            "ovs-vtep",
            Some(&self.ns),
            &self.rundir,
            &[OVS_VTEP, &self.ps],
        )?;
        let want = self.vsctl(&["list-ports", &self.ps])?;
        let want: Vec<&str> = want.split_whitespace().collect();
        let mut last = String::new();
        script
            .wait_for("ovs-vtep to publish its physical ports", CONVERGE, || {
                last = self.vtepctl(&["list-ports", &self.ps]).unwrap_or_default();
                want.iter()
                    .all(|p| last.split_whitespace().any(|l| l == *p))
            })
            .map_err(|e| lab_err!("{e}; ports in the vtep db: {last:?}"))?;
        self.script = Some(script);
        Ok(())
    }

    /// `unix:<rundir>/db.sock`: the hardware_vtep database for `ovn-controller-vtep`
    /// (the same server also holds `Open_vSwitch`).
    pub fn remote(&self) -> String {
        format!("unix:{}", s(&self.rundir.join("db.sock")))
    }

    /// Runs `vtep-ctl --db=<db> --timeout=30 ARGS...` in the namespace.
    pub fn vtepctl(&self, args: &[&str]) -> Result<String> {
        let db = format!("--db={}", self.remote());
        let mut argv = vec!["vtep-ctl", &db, CTL_TIMEOUT];
        argv.extend_from_slice(args);
        run_tool(Some(&self.ns), &self.rundir, &argv)
    }

    /// Runs `ovs-vsctl --db=<db> --timeout=30 ARGS...` in the namespace.
    pub fn vsctl(&self, args: &[&str]) -> Result<String> {
        let db = format!("--db={}", self.remote());
        let mut argv = vec!["ovs-vsctl", &db, CTL_TIMEOUT];
        argv.extend_from_slice(args);
        run_tool(Some(&self.ns), &self.rundir, &argv)
    }

    /// `ovs-ofctl dump-flows BRIDGE` over the bridge's management socket.
    pub fn dump_flows(&self, bridge: &str) -> Result<String> {
        let mgmt = format!("unix:{}", s(&self.rundir.join(format!("{bridge}.mgmt"))));
        run_tool(
            Some(&self.ns),
            &self.rundir,
            &["ovs-ofctl", "dump-flows", &mgmt],
        )
    }

    /// The namespace (physical ports go here).
    pub fn ns(&self) -> &Netns {
        &self.ns
    }

    /// The physical switch's name (also the OVS bridge of the physical ports).
    pub fn ps_name(&self) -> &str {
        &self.ps
    }

    /// Its tunnel IP.
    pub fn tunnel_ip(&self) -> &str {
        &self.tunnel_ip
    }

    /// The veth into the underlay (`a` = `uplink`, a port of `br-phy`).
    pub fn uplink(&self) -> &VethPair {
        &self.uplink
    }

    /// The `ovs-vtep` process, once [`OvsVtep::run`] started it.
    pub fn script(&self) -> Option<&Daemon> {
        self.script.as_ref()
    }

    /// `ovs-vswitchd`.
    pub fn vswitchd(&self) -> &Daemon {
        &self.vswitchd
    }

    /// The `ovsdb-server` (conf.db and vtep.db).
    pub fn db(&self) -> &Daemon {
        &self.db
    }

    /// Its directory (databases, sockets, pidfiles, logs).
    pub fn rundir(&self) -> &Path {
        &self.rundir
    }

    /// Prints the tails of its log files to stderr.
    pub fn dump_logs(&self) {
        for name in ["ovs-vtep", "ovs-vswitchd", "ovsdb-server"] {
            dump_log(&self.rundir.join(format!("{name}.log")));
        }
    }
}
