//! Packet captures with tcpdump.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{Daemon, Netns, Result, lab_err, pcap};

/// How long tcpdump gets to start listening, and to exit when stopped.
const TCPDUMP_TIMEOUT: Duration = Duration::from_secs(10);

/// `tcpdump -i IFACE -U -w FILE FILTER` inside a namespace.
///
/// [`Capture::start`] returns only once tcpdump reports "listening on", so
/// packets sent afterwards are captured. It runs with `--immediate-mode`, so
/// each packet reaches the file without buffering delay; [`Capture::frames_so_far`]
/// reads the file while tcpdump is still writing it. Stopped (SIGTERM) on drop
/// or by [`Capture::stop`].
#[derive(Debug)]
pub struct Capture {
    daemon: Option<Daemon>,
    path: PathBuf,
}

impl Capture {
    /// Starts capturing on `iface` inside `ns` (or the caller's namespace if
    /// `None`) into `<dir>/<iface>-<n>.pcap`, with a BPF `filter` (empty for
    /// everything).
    pub fn start(ns: Option<&Netns>, iface: &str, filter: &str, dir: &Path) -> Result<Capture> {
        let name = format!("tcpdump-{iface}");
        let path = (0..)
            .map(|n| dir.join(format!("{iface}-{n}.pcap")))
            .find(|p| !p.exists())
            .expect("some name is free");
        let path_s = path.to_string_lossy().into_owned();
        let mut argv = vec![
            "tcpdump",
            "-i",
            iface,
            "-n",
            "-U",
            "--immediate-mode",
            "-s",
            "0",
            "-Z",
            "root",
            "-w",
            &path_s,
        ];
        if !filter.trim().is_empty() {
            argv.push(filter);
        }
        let daemon = Daemon::start(&name, ns, &argv, dir)?;
        daemon
            .wait_for_output("listening on", TCPDUMP_TIMEOUT)
            .map_err(|e| lab_err!("capture on {iface}: {e}"))?;
        Ok(Capture {
            daemon: Some(daemon),
            path,
        })
    }

    /// The pcap file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tcpdump process.
    pub fn daemon(&self) -> Option<&Daemon> {
        self.daemon.as_ref()
    }

    /// Frames written so far (a partially written last record is left out).
    pub fn frames_so_far(&self) -> Result<Vec<Vec<u8>>> {
        let bytes = std::fs::read(&self.path)
            .map_err(|e| lab_err!("cannot read {}: {e}", self.path.display()))?;
        if bytes.len() < 24 {
            return Ok(Vec::new()); // header not written yet
        }
        Ok(pcap::parse(&bytes, true)?.frames())
    }

    /// Polls the file until at least `n` frames matching `pred` are in it, and
    /// returns all frames read at that point.
    pub fn wait_for_frames(
        &self,
        n: usize,
        timeout: Duration,
        mut pred: impl FnMut(&[u8]) -> bool,
    ) -> Result<Vec<Vec<u8>>> {
        let mut frames = Vec::new();
        crate::wait_for(
            &format!("{n} matching frames in {}", self.path.display()),
            timeout,
            || {
                frames = self.frames_so_far().unwrap_or_default();
                frames.iter().filter(|f| pred(f)).count() >= n
            },
        )?;
        Ok(frames)
    }

    /// Stops tcpdump (SIGTERM, SIGKILL after 10 s) and returns the pcap path.
    pub fn stop(mut self) -> Result<PathBuf> {
        self.stop_inner()?;
        Ok(self.path.clone())
    }

    /// Stops tcpdump and returns every frame of the capture.
    pub fn frames(self) -> Result<Vec<Vec<u8>>> {
        let path = self.stop()?;
        pcap::read_frames(path)
    }

    fn stop_inner(&mut self) -> Result<()> {
        if let Some(d) = self.daemon.take() {
            let status = d.terminate(TCPDUMP_TIMEOUT)?;
            // tcpdump exits 0 on SIGTERM after flushing; anything else is suspect.
            if !status.success() && !std::thread::panicking() {
                return Err(lab_err!(
                    "tcpdump on {} ended with {status}: {}",
                    self.path.display(),
                    d.stderr().trim()
                ));
            }
        }
        Ok(())
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Err(e) = self.stop_inner() {
            eprintln!("lab: {e}");
        }
    }
}
