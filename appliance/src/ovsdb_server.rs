//! The hardware-VTEP deployment model on the box itself: a stock `ovsdb-server`
//! serving the hardware_vtep database, started and supervised by `causeway run`
//! (`roles.l2_gateway.controller.serve`).
//!
//! This module owns:
//!
//! - [`check_listen`]: the syntax of the extra `--remote` listeners (config time);
//! - [`ServeConfig`]'s files: the database (created with `ovsdb-tool create` from the
//!   vtep schema when missing) and, in the run dir, the server's unix socket
//!   ([`SOCKET`]), pidfile, unixctl socket and log file;
//! - [`OvsdbServer`]: the child process. It is started before EAL pins our threads
//!   (so the server is not confined to the main lcore), restarted with backoff when
//!   it dies (the dataplane keeps forwarding on the last model meanwhile: the agent
//!   just reconnects), and stopped (SIGTERM, then SIGKILL after a grace period) when
//!   the handle is dropped.
//!
//! The server always gets `--remote=db:hardware_vtep,Global,managers`, so a
//! controller can be reached by dialling out (`vtep-ctl set-manager`), as the stock
//! OVS vtep setup does. SSL is not offered yet: the vtep schema has no `SSL` table to
//! take keys from, and no key/certificate settings exist here.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tracing::{info, warn};

/// The server's unix socket, in the run dir; the agent connects here.
pub const SOCKET: &str = "vtep.sock";
/// The schema `ovsdb-tool create` uses when `serve.schema` is not given.
pub const DEFAULT_SCHEMA: &str = "/usr/share/openvswitch/vtep.ovsschema";
/// Always served in addition to the configured listeners: the dial-out managers.
const MANAGERS_REMOTE: &str = "db:hardware_vtep,Global,managers";
/// How long `start` waits for the socket to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a stopped server gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Restart backoff bounds; a server that stayed up this long restarts quickly again.
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
const STABLE_AFTER: Duration = Duration::from_secs(60);

/// A validated `roles.l2_gateway.controller.serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// The database file (absolute), created when missing.
    pub db: PathBuf,
    /// The schema used to create it.
    pub schema: PathBuf,
    /// Socket, pidfile, unixctl socket and log file go here (default: the db's dir).
    pub rundir: PathBuf,
    /// Extra `--remote` arguments (`ptcp:6640:0.0.0.0`, `punix:/path`, ...).
    pub listen: Vec<String>,
}

impl ServeConfig {
    /// The unix socket the agent connects to.
    pub fn socket(&self) -> PathBuf {
        self.rundir.join(SOCKET)
    }

    /// The server's pidfile.
    pub fn pidfile(&self) -> PathBuf {
        self.rundir.join("ovsdb-server.pid")
    }

    /// The server's log file.
    pub fn log_file(&self) -> PathBuf {
        self.rundir.join("ovsdb-server.log")
    }

    fn unixctl(&self) -> PathBuf {
        self.rundir.join("ovsdb-server.ctl")
    }

    /// The `ovsdb-server` argument list (without the program).
    pub fn args(&self) -> Vec<String> {
        let mut a = vec![
            self.db.display().to_string(),
            format!("--remote=punix:{}", self.socket().display()),
            format!("--remote={MANAGERS_REMOTE}"),
        ];
        a.extend(self.listen.iter().map(|l| format!("--remote={l}")));
        a.extend([
            format!("--pidfile={}", self.pidfile().display()),
            format!("--unixctl={}", self.unixctl().display()),
            format!("--log-file={}", self.log_file().display()),
        ]);
        a
    }
}

/// Checks one `serve.listen` entry: `ptcp:PORT[:IP]`, `punix:/abs/path` (passive) or
/// `tcp:IP:PORT`, `unix:/abs/path` (the server dials out). Checked here so a typo
/// fails `check-config` with a position instead of a server that exits at start.
/// `pssl:`/`ssl:` are refused: the server would have no key or certificate.
pub fn check_listen(s: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "`{s}` is not a supported ovsdb-server remote (expected ptcp:PORT[:IP], \
             punix:/absolute/path, tcp:IP:PORT or unix:/absolute/path; no SSL yet)"
        )
    };
    let (kind, rest) = s.split_once(':').ok_or_else(bad)?;
    let ip_ok = |ip: &str| {
        let ip = ip
            .strip_prefix('[')
            .and_then(|i| i.strip_suffix(']'))
            .unwrap_or(ip);
        ip.parse::<std::net::IpAddr>().is_ok()
    };
    let ok = match kind {
        "ptcp" => {
            let (port, ip) = rest.split_once(':').unwrap_or((rest, ""));
            port.parse::<u16>().is_ok() && (ip.is_empty() || ip_ok(ip))
        }
        "tcp" => rest
            .rsplit_once(':')
            .is_some_and(|(ip, port)| ip_ok(ip) && port.parse::<u16>().is_ok_and(|p| p != 0)),
        "punix" | "unix" => rest.starts_with('/'),
        _ => false,
    };
    if ok { Ok(()) } else { Err(bad()) }
}

/// Why the server could not be brought up.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A program (`ovsdb-server`, `ovsdb-tool`) is not installed.
    #[error(
        "`{0}` not found in PATH or /usr/sbin: install Open vSwitch (the openvswitch-switch \
         package) or drop roles.l2_gateway.controller.serve"
    )]
    MissingProgram(&'static str),
    /// The database is missing and so is the schema to create it from.
    #[error(
        "{db} does not exist and the schema to create it, {schema}, is missing (install \
         openvswitch-vtep or set controller.serve.schema)"
    )]
    MissingSchema {
        /// The database.
        db: PathBuf,
        /// The schema.
        schema: PathBuf,
    },
    /// `ovsdb-tool create` failed.
    #[error("creating {db} with ovsdb-tool: {message}")]
    Create {
        /// The database.
        db: PathBuf,
        /// ovsdb-tool's complaint.
        message: String,
    },
    /// The socket never accepted a connection.
    #[error("ovsdb-server did not open {socket} within {timeout:?} (see {log})")]
    NotReady {
        /// The socket.
        socket: PathBuf,
        /// How long we waited.
        timeout: Duration,
        /// The server's log file.
        log: PathBuf,
    },
    /// Something else on the file system.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

/// `name` from PATH, else from the sbin directories (where distributions install
/// `ovsdb-server`, often not in a service's PATH).
fn find_program(name: &'static str) -> Result<PathBuf, ServerError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(ServerError::MissingProgram(name))
}

/// Creates the database from the schema unless it exists.
fn ensure_db(serve: &ServeConfig) -> Result<(), ServerError> {
    if serve.db.exists() {
        return Ok(());
    }
    if !serve.schema.is_file() {
        return Err(ServerError::MissingSchema {
            db: serve.db.clone(),
            schema: serve.schema.clone(),
        });
    }
    let tool = find_program("ovsdb-tool")?;
    if let Some(dir) = serve.db.parent() {
        std::fs::create_dir_all(dir).map_err(|source| ServerError::Io {
            context: format!("creating {}", dir.display()),
            source,
        })?;
    }
    let out = Command::new(&tool)
        .arg("create")
        .arg(&serve.db)
        .arg(&serve.schema)
        .output()
        .map_err(|source| ServerError::Io {
            context: format!("running {}", tool.display()),
            source,
        })?;
    if !out.status.success() {
        return Err(ServerError::Create {
            db: serve.db.clone(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    info!(db = %serve.db.display(), schema = %serve.schema.display(), "hardware_vtep database created");
    Ok(())
}

/// A supervised `ovsdb-server`; dropping it stops the server.
pub struct OvsdbServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    socket: PathBuf,
}

impl OvsdbServer {
    /// Creates the database if needed, starts the server and waits until its unix
    /// socket accepts connections.
    pub fn start(serve: &ServeConfig) -> Result<OvsdbServer, ServerError> {
        let program = find_program("ovsdb-server")?;
        ensure_db(serve)?;
        std::fs::create_dir_all(&serve.rundir).map_err(|source| ServerError::Io {
            context: format!("creating {}", serve.rundir.display()),
            source,
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (stop, serve) = (stop.clone(), serve.clone());
            std::thread::Builder::new()
                .name("ovsdb-server".into())
                .spawn(move || supervise(&program, &serve, &stop))
                .map_err(|source| ServerError::Io {
                    context: "starting the ovsdb-server supervisor".into(),
                    source,
                })?
        };
        // From here on dropping `server` stops the child, also on the error path.
        let server = OvsdbServer {
            stop,
            thread: Some(thread),
            socket: serve.socket(),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while std::os::unix::net::UnixStream::connect(&server.socket).is_err() {
            if Instant::now() > deadline {
                return Err(ServerError::NotReady {
                    socket: server.socket.clone(),
                    timeout: START_TIMEOUT,
                    log: serve.log_file(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        info!(
            db = %serve.db.display(),
            socket = %server.socket.display(),
            listen = %serve.listen.join(","),
            "hardware_vtep ovsdb-server running"
        );
        Ok(server)
    }

    /// The unix socket the server listens on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for OvsdbServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn spawn(program: &Path, serve: &ServeConfig) -> std::io::Result<Child> {
    let mut cmd = Command::new(program);
    cmd.args(serve.args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // Its console warnings (e.g. "already running") land in our log.
        .stderr(Stdio::inherit())
        // Its own process group: a terminal's Ctrl-C reaches only causeway, which
        // then stops the server in order instead of racing it.
        .process_group(0);
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of
    // ours. It makes the kernel SIGTERM the server if this (supervisor) thread goes
    // away without stopping it, e.g. causeway is SIGKILLed, so no orphan keeps the
    // pidfile and sockets.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                .map_err(std::io::Error::from)
        });
    }
    cmd.spawn()
}

/// Runs (and re-runs) the server until `stop`.
fn supervise(program: &Path, serve: &ServeConfig, stop: &AtomicBool) {
    let mut backoff = BACKOFF_MIN;
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        let status = match spawn(program, serve) {
            Ok(mut child) => {
                info!(pid = child.id(), "ovsdb-server started");
                match watch(&mut child, stop) {
                    None => return,
                    Some(status) => Ok(status),
                }
            }
            Err(e) => Err(e),
        };
        if started.elapsed() >= STABLE_AFTER {
            backoff = BACKOFF_MIN;
        }
        match status {
            Ok(s) => warn!(
                status = %s,
                log = %serve.log_file().display(),
                "ovsdb-server exited; restarting in {backoff:?} (forwarding continues on the last model)"
            ),
            Err(e) => warn!(
                "starting {}: {e}; retrying in {backoff:?}",
                program.display()
            ),
        }
        let until = Instant::now() + backoff;
        while Instant::now() < until {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Waits for the child to exit (its status) or for `stop` (then stops it: None).
fn watch(child: &mut Child, stop: &AtomicBool) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(e) => warn!("waiting for ovsdb-server: {e}"),
        }
        if stop.load(Ordering::SeqCst) {
            terminate(child);
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM (ovsdb-server then removes its pidfile and sockets), SIGKILL after the
/// grace period.
fn terminate(child: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let deadline = Instant::now() + STOP_GRACE;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                info!(%status, "ovsdb-server stopped");
                return;
            }
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                warn!("ovsdb-server ignored SIGTERM for {STOP_GRACE:?}: killing it");
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_syntax() {
        for ok in [
            "ptcp:6640",
            "ptcp:6640:0.0.0.0",
            "ptcp:0:127.0.0.1",
            "ptcp:6640:[::1]",
            "punix:/run/x.sock",
            "tcp:192.0.2.1:6640",
            "tcp:[2001:db8::1]:6640",
            "unix:/run/y.sock",
        ] {
            assert!(check_listen(ok).is_ok(), "{ok}");
        }
        for bad in [
            "6640",
            "ptcp:66400",
            "ptcp:6640:localhost",
            "punix:rel.sock",
            "tcp:192.0.2.1",
            "tcp:host:6640",
            "udp:1:1.1.1.1",
            "pssl:6640",
            "ssl:192.0.2.1:6640",
        ] {
            let e = check_listen(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn the_command_line_serves_managers_and_the_socket() {
        let s = ServeConfig {
            db: "/var/lib/causeway/vtep.db".into(),
            schema: DEFAULT_SCHEMA.into(),
            rundir: "/run/causeway".into(),
            listen: vec!["ptcp:6640:0.0.0.0".into()],
        };
        let a = s.args();
        assert_eq!(a[0], "/var/lib/causeway/vtep.db");
        for want in [
            "--remote=punix:/run/causeway/vtep.sock",
            "--remote=db:hardware_vtep,Global,managers",
            "--remote=ptcp:6640:0.0.0.0",
            "--pidfile=/run/causeway/ovsdb-server.pid",
            "--log-file=/run/causeway/ovsdb-server.log",
        ] {
            assert!(a.iter().any(|x| x == want), "{want} in {a:?}");
        }
    }
}
