//! Lab (root): `roles.l2_gateway.controller.serve`: `causeway run` hosts the
//! hardware_vtep database itself with a stock `ovsdb-server` it creates, supervises
//! and stops, and a controller reaches it over TCP (here `vtep-ctl` plays the
//! controller).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tests::TempDir;
use tests::causeway::{Causeway, CausewaySpec};

/// Skips the test (returns) unless running as root; fails instead under CI.
macro_rules! need_root {
    () => {
        if let Err(skip) = tests::require_root() {
            eprintln!("{skip}");
            return;
        }
    };
}

/// Local convergence (agent <-> its own ovsdb-server).
const T: Duration = Duration::from_secs(20);

/// `vtep-ctl` against `db`; None when it failed (the server may be restarting).
fn vtep_ctl(db: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("vtep-ctl")
        .arg(format!("--db={db}"))
        .arg("--timeout=5")
        .args(args)
        .output()
        .expect("vtep-ctl");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn pid_of(pidfile: &Path) -> Option<i32> {
    std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn causeway_serves_the_vtep_database_and_cleans_up() {
    need_root!();
    let dir = TempDir::new("vtep-serve").unwrap();
    // A directory that does not exist yet: causeway creates it and the database.
    let db = dir.join("state/vtep.db");
    let port = free_port();
    let tcp = format!("tcp:127.0.0.1:{port}");

    let mut spec = CausewaySpec::default()
        .port("phys", "net_null0")
        .port("underlay", "net_null1");
    spec.l2_gateway = Some(format!(
        "    underlay: {{port: underlay, tunnel_ip: 192.0.2.50}}\n    controller:\n      \
         physical_switch: gw1\n      serve:\n        db: {}\n        \
         listen: [\"ptcp:{port}:127.0.0.1\"]\n",
        db.display()
    ));
    let causeway = Causeway::start(None, dir.path(), &spec).unwrap();
    let daemon = causeway.daemon();
    daemon
        .wait_for_output("hardware_vtep database created", T)
        .unwrap();
    assert!(db.is_file(), "ovsdb-tool create made {}", db.display());
    let pidfile = dir.join("state/ovsdb-server.pid");
    let first = pid_of(&pidfile).expect("ovsdb-server pidfile");
    assert!(alive(first));

    // The agent wrote its Physical_Switch and ports through the local socket; a
    // controller sees them over TCP.
    let mut ports = String::new();
    daemon
        .wait_for("gw1 with its port over TCP", T, || {
            ports = vtep_ctl(&tcp, &["list-ports", "gw1"]).unwrap_or_default();
            ports.lines().any(|l| l.trim() == "phys")
        })
        .unwrap();
    // The underlay port is no Physical_Port.
    assert_eq!(ports.trim(), "phys", "{ports}");
    let ps = vtep_ctl(&tcp, &["list-ps"]).unwrap();
    assert_eq!(ps.trim(), "gw1");
    let ips = vtep_ctl(&tcp, &["get", "Physical_Switch", "gw1", "tunnel_ips"]).unwrap();
    assert!(ips.contains("192.0.2.50"), "{ips}");

    // The controller's side, written over TCP, reaches causeway.
    vtep_ctl(
        &tcp,
        &[
            "add-ls",
            "ls0",
            "--",
            "set",
            "Logical_Switch",
            "ls0",
            "tunnel_key=5000",
        ],
    )
    .unwrap();
    vtep_ctl(&tcp, &["bind-ls", "gw1", "phys", "0", "ls0"]).unwrap();
    daemon
        .wait_for("the binding in causeway's model", T, || {
            daemon
                .stderr()
                .lines()
                .any(|l| l.contains("vtep model changed") && l.contains("bindings=1"))
        })
        .unwrap();
    daemon
        .wait_for_output("L2 gateway model from the controller applied", T)
        .unwrap();

    // The server dies: causeway restarts it on the same database, the binding is
    // still there and the agent is back (it rewrites its rows on reconnect).
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    daemon.wait_for_output("ovsdb-server exited", T).unwrap();
    let mut second = None;
    daemon
        .wait_for("a restarted ovsdb-server", T, || {
            second = pid_of(&pidfile).filter(|&p| p != first && alive(p));
            second.is_some()
                && vtep_ctl(&tcp, &["list-bindings", "gw1", "phys"])
                    .is_some_and(|b| b.contains("ls0"))
        })
        .unwrap();
    let second = second.unwrap();
    assert!(daemon.is_running());

    // Stopping causeway stops its server (and only after that it exits).
    let status = causeway.stop().unwrap();
    assert!(status.success(), "causeway exited with {status}");
    assert!(!alive(second), "ovsdb-server {second} outlived causeway");
    assert!(
        vtep_ctl(&tcp, &["list-ps"]).is_none(),
        "something still serves {tcp}"
    );
}
