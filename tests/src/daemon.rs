//! Long-running processes with logs in files.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::{Netns, Result, lab_err};

/// How much of each log [`Daemon`] prints when a test panics.
const LOG_TAIL: u64 = 64 * 1024;

/// A process started for a test, optionally inside a [`Netns`].
///
/// Its stdout and stderr go to `<dir>/<name>.stdout` and `<dir>/<name>.stderr`
/// (stdin is /dev/null). It runs in its own process group, and signals go to
/// the whole group, so helpers it forks (e.g. under `sh -c`) go with it.
///
/// On drop a still running daemon is killed (SIGKILL) and reaped; if the
/// thread is panicking, the tails of both logs are printed to stderr so the
/// test output shows why.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    pid: u32,
    child: Mutex<Child>,
    status: Mutex<Option<ExitStatus>>,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Daemon {
    /// Starts `argv` inside `ns` (or in the caller's namespace if `None`),
    /// logging to files in `dir` named after `name`.
    pub fn start(name: &str, ns: Option<&Netns>, argv: &[&str], dir: &Path) -> Result<Daemon> {
        if argv.is_empty() {
            return Err(lab_err!("daemon {name}: empty command"));
        }
        let cmd = match ns {
            Some(ns) => ns.command(argv),
            None => {
                let mut c = Command::new(argv[0]);
                c.args(&argv[1..]);
                c
            }
        };
        Self::start_command(name, cmd, dir)
    }

    /// Starts a prepared [`Command`] (e.g. from [`Netns::command`] with extra
    /// environment). Its stdin, stdout, stderr and process group are set here.
    pub fn start_command(name: &str, mut cmd: Command, dir: &Path) -> Result<Daemon> {
        let (stdout, out_file) = create_log(dir, name, "stdout")?;
        let (stderr, err_file) = create_log(dir, name, "stderr")?;
        cmd.stdin(Stdio::null())
            .stdout(out_file)
            .stderr(err_file)
            .process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| lab_err!("cannot start daemon {name} ({cmd:?}): {e}"))?;
        Ok(Daemon {
            name: name.to_string(),
            pid: child.id(),
            child: Mutex::new(child),
            status: Mutex::new(None),
            stdout,
            stderr,
        })
    }

    /// The name given at start (used in log file names and messages).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Path of the stdout log.
    pub fn stdout_path(&self) -> &Path {
        &self.stdout
    }

    /// Path of the stderr log.
    pub fn stderr_path(&self) -> &Path {
        &self.stderr
    }

    /// The stdout log so far (lossy UTF-8).
    pub fn stdout(&self) -> String {
        read_lossy(&self.stdout)
    }

    /// The stderr log so far (lossy UTF-8).
    pub fn stderr(&self) -> String {
        read_lossy(&self.stderr)
    }

    /// The exit status if the process has exited (non-blocking; reaps it).
    pub fn try_status(&self) -> Option<ExitStatus> {
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        if status.is_none() {
            let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
            *status = child.try_wait().ok().flatten();
        }
        *status
    }

    /// Whether the process is still running.
    pub fn is_running(&self) -> bool {
        self.try_status().is_none()
    }

    /// Polls `cond` until it is true; fails on `timeout` or as soon as the
    /// daemon exits (with its exit status and stderr tail in the error).
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut cond: impl FnMut() -> bool,
    ) -> Result<()> {
        let mut exited = None;
        let res = crate::wait_for(what, timeout, || {
            if cond() {
                return true;
            }
            exited = self.try_status();
            // One more look: the condition may have become true just before exit.
            if exited.is_some() && cond() {
                exited = None;
                return true;
            }
            exited.is_some()
        });
        match (res, exited) {
            (Ok(()), Some(status)) => Err(lab_err!(
                "daemon {} exited ({status}) while waiting for {what}; stderr:\n{}",
                self.name,
                tail(&self.stderr, 4096)
            )),
            (Ok(()), None) => Ok(()),
            (Err(e), _) => Err(lab_err!(
                "daemon {}: {e}; stderr:\n{}",
                self.name,
                tail(&self.stderr, 4096)
            )),
        }
    }

    /// Waits until `needle` appears in stdout or stderr.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> Result<()> {
        self.wait_for(&format!("{needle:?} in the output"), timeout, || {
            self.stderr().contains(needle) || self.stdout().contains(needle)
        })
    }

    /// Waits for the process to exit by itself, up to `timeout`.
    pub fn wait(&self, timeout: Duration) -> Result<ExitStatus> {
        let mut status = None;
        crate::wait_for(&format!("daemon {} to exit", self.name), timeout, || {
            status = self.try_status();
            status.is_some()
        })?;
        Ok(status.expect("set when the wait succeeded"))
    }

    /// Sends `signal` to the daemon's process group (ignored once it has exited).
    pub fn signal(&self, signal: Signal) -> Result<()> {
        if self.try_status().is_some() {
            return Ok(());
        }
        match killpg(Pid::from_raw(self.pid as i32), signal) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
            Err(e) => Err(lab_err!("kill({}, {signal}) failed: {e}", self.name)),
        }
    }

    /// Stops the daemon: SIGTERM to its process group, then SIGKILL if it has
    /// not exited after `timeout`. Returns its exit status (a signal status if
    /// it was killed).
    pub fn terminate(&self, timeout: Duration) -> Result<ExitStatus> {
        if let Some(status) = self.try_status() {
            return Ok(status);
        }
        self.signal(Signal::SIGTERM)?;
        match self.wait(timeout) {
            Ok(status) => Ok(status),
            Err(_) => {
                eprintln!(
                    "lab: daemon {} ignored SIGTERM for {timeout:?}; killing",
                    self.name
                );
                self.kill()
            }
        }
    }

    /// Kills the daemon's process group with SIGKILL and reaps it.
    pub fn kill(&self) -> Result<ExitStatus> {
        self.signal(Signal::SIGKILL)?;
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = *status {
            return Ok(s);
        }
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let s = child
            .wait()
            .unwrap_or_else(|_| ExitStatus::from_raw(Signal::SIGKILL as i32));
        *status = Some(s);
        Ok(s)
    }

    /// Prints the tails of both logs to stderr.
    pub fn dump_logs(&self) {
        eprintln!(
            "===== daemon {} (pid {}) stdout: {} =====\n{}",
            self.name,
            self.pid,
            self.stdout.display(),
            tail(&self.stdout, LOG_TAIL)
        );
        eprintln!(
            "===== daemon {} (pid {}) stderr: {} =====\n{}",
            self.name,
            self.pid,
            self.stderr.display(),
            tail(&self.stderr, LOG_TAIL)
        );
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.kill();
        } else {
            // Helpers the daemon left behind in its group.
            let _ = killpg(Pid::from_raw(self.pid as i32), Signal::SIGKILL);
        }
        if std::thread::panicking() {
            self.dump_logs();
        }
    }
}

/// Creates `<dir>/<name>.<kind>` (or `<name>-N.<kind>` if taken).
fn create_log(dir: &Path, name: &str, kind: &str) -> Result<(PathBuf, File)> {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    for n in 0..1000 {
        let path = if n == 0 {
            dir.join(format!("{safe}.{kind}"))
        } else {
            dir.join(format!("{safe}-{n}.{kind}"))
        };
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(lab_err!("cannot create {}: {e}", path.display())),
        }
    }
    Err(lab_err!("too many logs named {safe} in {}", dir.display()))
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The last `max` bytes of a file, lossy UTF-8.
fn tail(path: &Path, max: u64) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut prefix = String::new();
    if len > max {
        prefix = format!("[... {} bytes before ...]\n", len - max);
        let _ = f.seek(SeekFrom::Start(len - max));
    }
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    prefix + &String::from_utf8_lossy(&buf)
}
