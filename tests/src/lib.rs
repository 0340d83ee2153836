//! Lab harness for causeway's end-to-end tests.
//!
//! This crate owns everything a lab test needs to build a small network out of
//! Linux network namespaces and real peer programs, and to tear it down again:
//!
//! - [`Netns`]: a uniquely named network namespace (loopback up) that runs
//!   commands inside itself and is deleted on drop, killing whatever still runs in it.
//! - [`VethPair`] / [`VethEnd`]: a veth pair between two namespaces, with
//!   addresses, MTU, MAC, link state and static neighbours; deleted on drop.
//! - [`Daemon`]: a long-running process (optionally inside a namespace) whose
//!   stdout/stderr go to files; polled, terminated, killed on drop, and its logs
//!   printed when the test panics.
//! - [`Capture`]: `tcpdump` writing a pcap inside a namespace, confirmed to be
//!   listening before it returns; [`pcap`] reads and writes classic pcap files.
//! - [`TempDir`]: a per-test directory under `/tmp/causeway-lab-<unique>`,
//!   removed on drop unless `CAUSEWAY_KEEP_LAB=1`.
//! - [`Prometheus`]: the real Prometheus server (`/usr/bin/prometheus`) on
//!   127.0.0.1, optionally inside a namespace, with a small query API.
//! - [`require_root`] and [`wait_for`]: guards and polling helpers.
//!
//! Lab tests need root (namespaces, veths, raw captures). They call
//! [`require_root`] first: without root they are skipped, unless the `CI`
//! environment variable is set, in which case they fail.
//!
//! A typical lab test (declare the [`TempDir`] first: values drop in reverse
//! order, so daemons print their logs before the directory goes):
//!
//! ```no_run
//! use std::time::Duration;
//! use tests::{Capture, Daemon, Netns, TempDir, VethPair};
//!
//! if let Err(skip) = tests::require_root() {
//!     eprintln!("{skip}");
//!     return;
//! }
//! let dir = TempDir::new("example").unwrap();
//! let (a, b) = (Netns::new("a").unwrap(), Netns::new("b").unwrap());
//! let link = VethPair::connect(&a, "192.0.2.1/24", &b, "192.0.2.2/24").unwrap();
//! let cap = Capture::start(Some(&b), link.b().name(), "icmp", dir.path()).unwrap();
//! let server = Daemon::start("nc", Some(&b), &["nc", "-lk", "192.0.2.2", "7"], dir.path()).unwrap();
//! assert!(a.exec(&["ping", "-c", "1", "192.0.2.2"]).status.success());
//! server.terminate(Duration::from_secs(5)).unwrap();
//! let frames = cap.frames().unwrap();
//! assert!(!frames.is_empty());
//! ```
//!
//! Traffic in labs stays on loopback or inside namespaces the test created.
//! Addresses from 10.0.0.0/8, 192.0.2.0/24, 198.51.100.0/24 and 2001:db8::/32 are
//! to be used only on interfaces inside such namespaces.

#![warn(missing_docs)]

mod capture;
pub mod causeway;
mod daemon;
mod http;
pub mod labs;
mod netns;
pub mod ovn;
pub mod pcap;
mod prometheus;
mod tempdir;
mod veth;

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub use capture::Capture;
pub use daemon::Daemon;
pub use netns::Netns;
pub use prometheus::{Prometheus, Sample, ScrapeTarget};
pub use tempdir::TempDir;
pub use veth::{VethEnd, VethPair};

/// Signals for [`Daemon::signal`] (re-exported from `nix`).
pub use nix::sys::signal::Signal;

/// Error of a lab operation: a human-readable description of what failed,
/// including the command line and its stderr where a command failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(e.to_string())
    }
}

/// Result of a lab operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Builds an [`Error`] from a format string.
macro_rules! lab_err {
    ($($arg:tt)*) => { $crate::Error(format!($($arg)*)) };
}
pub(crate) use lab_err;

/// Checks that the lab can run: the effective user must be root.
///
/// Returns `Ok(())` as root. Otherwise returns `Err` with a skip message the
/// test should print before returning early, unless the environment variable
/// `CI` is set: then it panics with "lab tests need root", so CI never passes by
/// silently skipping every lab.
///
/// ```no_run
/// if let Err(skip) = tests::require_root() {
///     eprintln!("{skip}");
///     return;
/// }
/// ```
pub fn require_root() -> Result<(), String> {
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    if std::env::var_os("CI").is_some() {
        panic!("lab tests need root (CI is set, so this is a failure, not a skip)");
    }
    Err("skipping: lab tests need root".to_string())
}

/// Polls `cond` every few milliseconds until it returns true or `timeout`
/// passes. `what` names the condition in the error message.
///
/// The poll interval starts at 5 ms and backs off to 100 ms.
pub fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        if cond() {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            return Err(lab_err!("timed out after {timeout:?} waiting for {what}"));
        }
        std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// GETs `path_and_query` from `addr` over HTTP/1.0, from inside `ns` when given;
/// returns the status code and body.
pub fn http_get(
    ns: Option<&Netns>,
    addr: SocketAddr,
    path_and_query: &str,
) -> Result<(u16, String)> {
    let r = http::get(
        ns.map(Netns::name),
        addr,
        path_and_query,
        Duration::from_secs(5),
    )?;
    Ok((r.status, r.body))
}

/// Process-wide counter that makes names unique within this process.
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Next value of the process-wide unique counter.
pub(crate) fn next_counter() -> u32 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// Lower-case base-36 rendering of `n` (short, interface-name safe).
pub(crate) fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n == 0 {
        return "0".to_string();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).expect("base36 digits are ASCII")
}

/// The short, interface-name safe form of a test tag: at most `max` characters
/// of `[a-z0-9]` (other characters dropped, upper case folded).
pub(crate) fn short_tag(tag: &str, max: usize) -> String {
    let t: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .take(max)
        .collect();
    if t.is_empty() { "t".to_string() } else { t }
}

/// `<pid36>-<counter36>`: a short id unique among this machine's live processes
/// (base-36 pid, then this process's next counter value).
pub(crate) fn unique_id() -> String {
    format!(
        "{}-{}",
        base36(u64::from(std::process::id())),
        base36(u64::from(next_counter()))
    )
}

/// Linux's IFNAMSIZ less the terminating NUL: the longest interface name.
pub const MAX_IFNAME: usize = 15;

/// Renders a command line for error messages.
pub(crate) fn show_cmd(argv: &[&str]) -> String {
    argv.join(" ")
}

/// Runs a host command (no namespace) and returns its stdout, or an error with
/// the command line and stderr if it failed.
pub(crate) fn run_host(argv: &[&str]) -> Result<String> {
    let out = std::process::Command::new(argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| lab_err!("cannot run `{}`: {e}", show_cmd(argv)))?;
    check_output(argv, out)
}

/// Turns a finished command's output into stdout or a descriptive error.
pub(crate) fn check_output(argv: &[&str], out: std::process::Output) -> Result<String> {
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(lab_err!(
            "`{}` failed ({}): {}{}",
            show_cmd(argv),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        ))
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn base36_renders() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
        assert_eq!(base36(1_679_616), "10000");
        assert_eq!(base36(4_194_304), "2hwcg");
    }

    #[test]
    fn tags_are_sanitised() {
        assert_eq!(short_tag("Ping-Test", 3), "pin");
        assert_eq!(short_tag("--", 4), "t");
    }

    #[test]
    fn wait_for_times_out_and_succeeds() {
        let mut n = 0;
        wait_for("n to reach 3", Duration::from_secs(5), || {
            n += 1;
            n >= 3
        })
        .unwrap();
        let err = wait_for("never", Duration::from_millis(20), || false).unwrap_err();
        assert!(err.0.contains("never"), "{err}");
    }
}
