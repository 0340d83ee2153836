//! Network namespaces with unique names, deleted on drop.

use std::fs::File;
use std::io;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use nix::sched::CloneFlags;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{Result, check_output, lab_err, run_host, short_tag, unique_id};

/// A network namespace created by this test, named
/// `cw-<tag>-<pid36>-<counter36>` (at most 15 characters for the first 1296
/// namespaces of a process, so the name fits IFNAMSIZ where a test derives an
/// interface name from it), with its loopback up.
///
/// On drop (also while unwinding from a panic) every process still inside the
/// namespace (`ip netns pids`) is killed with SIGKILL and the namespace is
/// deleted, which also deletes the interfaces in it (veth ends included).
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a namespace tagged with (up to 3 alphanumerics of) `tag` and brings
    /// its loopback up.
    ///
    /// The first call in a process also removes stale lab namespaces left by
    /// test processes that died without cleaning up (see [`Netns::sweep_stale`]).
    pub fn new(tag: &str) -> Result<Netns> {
        static SWEEP: std::sync::Once = std::sync::Once::new();
        SWEEP.call_once(|| {
            for name in Self::sweep_stale() {
                eprintln!("lab: removed stale namespace {name}");
            }
        });
        let tag = short_tag(tag, 3);
        for _ in 0..16 {
            let name = format!("cw-{tag}-{}", unique_id());
            let out = Command::new("ip")
                .args(["netns", "add", &name])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| lab_err!("cannot run `ip netns add`: {e}"))?;
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                if err.contains("File exists") {
                    // A leftover of a dead process that had our pid: take the next name.
                    continue;
                }
                return Err(lab_err!("`ip netns add {name}` failed: {}", err.trim()));
            }
            let ns = Netns { name };
            ns.run(&["ip", "link", "set", "lo", "up"])?;
            return Ok(ns);
        }
        Err(lab_err!(
            "could not find a free namespace name for tag {tag}"
        ))
    }

    /// Deletes lab namespaces (`cw-<tag>-<pid36>-<n36>`) whose creating process
    /// no longer exists, killing what still runs in them; returns their names.
    /// Namespaces of live processes are never touched.
    pub fn sweep_stale() -> Vec<String> {
        let Ok(list) = run_host(&["ip", "netns", "list"]) else {
            return Vec::new();
        };
        let mut removed = Vec::new();
        for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
            let parts: Vec<&str> = name.split('-').collect();
            let ["cw", _tag, pid36, _n] = parts[..] else {
                continue;
            };
            let Ok(pid) = u32::from_str_radix(pid36, 36) else {
                continue;
            };
            if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
                continue;
            }
            let stale = Netns {
                name: name.to_string(),
            };
            drop(stale); // kills what is left in it and deletes it
            removed.push(name.to_string());
        }
        removed
    }

    /// The namespace's name (as used by `ip netns` / `ip -n`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A [`Command`] that runs `argv` inside the namespace (`ip netns exec`),
    /// for callers that want to set stdin, environment or working directory.
    /// `ip netns exec` execs the program in place, so the child's PID is the
    /// program's PID.
    pub fn command(&self, argv: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).args(argv);
        cmd
    }

    /// Runs `argv` inside the namespace to completion (stdin from /dev/null)
    /// and returns its output, whatever its exit status.
    ///
    /// # Panics
    /// If `ip` itself cannot be executed.
    pub fn exec(&self, argv: &[&str]) -> Output {
        self.command(argv)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run `ip netns exec {}`: {e}", self.name))
    }

    /// Runs `argv` inside the namespace and returns its stdout, or an error
    /// with the command line and stderr if it exited unsuccessfully.
    pub fn run(&self, argv: &[&str]) -> Result<String> {
        let out = self
            .command(argv)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| lab_err!("cannot run `ip netns exec {}`: {e}", self.name))?;
        let mut full = vec!["ip", "netns", "exec", &self.name];
        full.extend_from_slice(argv);
        check_output(&full, out)
    }

    /// Starts `argv` inside the namespace with inherited stdout/stderr and
    /// stdin from /dev/null. For long-running programs prefer [`crate::Daemon`],
    /// which logs to files and cleans up.
    pub fn spawn(&self, argv: &[&str]) -> io::Result<Child> {
        self.command(argv).stdin(Stdio::null()).spawn()
    }

    /// PIDs of the processes inside the namespace (`ip netns pids`).
    pub fn pids(&self) -> Vec<i32> {
        run_host(&["ip", "netns", "pids", &self.name])
            .map(|s| {
                s.split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Runs `f` on a dedicated thread that has entered the namespace
    /// (`setns(2)`), so sockets it opens live in the namespace (and stay there
    /// when handed back). The calling thread is unaffected.
    pub fn run_in<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T> {
        in_netns(&self.name, f)
    }

    /// Kills every process in the namespace and waits (up to 5 s) until none is left.
    pub fn kill_all(&self) -> Result<()> {
        let mut left = Vec::new();
        crate::wait_for(
            &format!("processes in {} to die", self.name),
            Duration::from_secs(5),
            || {
                left = self.pids();
                for &pid in &left {
                    // It may be gone already; that is what we want.
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
                left.is_empty()
            },
        )
        .map_err(|e| lab_err!("{e}; still there: {left:?}"))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(e) = self.kill_all() {
            eprintln!("lab: {e}");
        }
        if let Err(e) = run_host(&["ip", "netns", "delete", &self.name]) {
            eprintln!("lab: {e}");
        }
    }
}

/// Runs `f` on a fresh thread that entered the network namespace `name`.
pub(crate) fn in_netns<T: Send>(name: &str, f: impl FnOnce() -> T + Send) -> Result<T> {
    let path = format!("/run/netns/{name}");
    let file = File::open(&path).map_err(|e| lab_err!("cannot open {path}: {e}"))?;
    std::thread::scope(|s| {
        s.spawn(move || {
            nix::sched::setns(&file, CloneFlags::CLONE_NEWNET)
                .map_err(|e| lab_err!("setns({path}) failed: {e}"))?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
