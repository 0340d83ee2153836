//! Lab scenarios shared by the `lab` program (README's first command) and the lab
//! tests, so the demonstration and the test are the same code.

use crate::causeway::{Causeway, CausewaySpec};
use crate::{Netns, Result, TempDir, VethPair, lab_err};
use std::path::Path;
use std::time::{Duration, Instant};

/// Host A's address (inside its own namespace only).
pub const HOST_A: &str = "10.77.0.1";
/// Host B's address (inside its own namespace only).
pub const HOST_B: &str = "10.77.0.2";

/// Two hosts whose only link is causeway in the `patch` role:
///
/// ```text
///  [ns A] a0 ──veth── left  [ns gw: causeway, net_af_packet]  right ──veth── b0 [ns B]
///  10.77.0.1/24                patch left<->right                          10.77.0.2/24
/// ```
pub struct PatchLab {
    // Field order is drop order: the daemon goes first, the directory with its logs last.
    causeway: Option<Causeway>,
    left: VethPair,
    right: VethPair,
    /// Host A.
    pub a: Netns,
    /// Host B.
    pub b: Netns,
    /// The gateway namespace causeway runs in.
    pub gw: Netns,
    /// Logs, configuration, transferred files.
    pub dir: TempDir,
}

/// What a TCP transfer measured.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// Bytes sent.
    pub bytes: usize,
    /// Seconds from connect to the receiver's exit.
    pub seconds: f64,
    /// SHA-256 of what was sent.
    pub sent_sha256: String,
    /// SHA-256 of what arrived.
    pub received_sha256: String,
}

impl Transfer {
    /// True when the received bytes hash to what was sent.
    pub fn intact(&self) -> bool {
        self.sent_sha256 == self.received_sha256
    }
}

fn disable_offloads(ns: &Netns, iface: &str) -> Result<()> {
    // Kernel segmentation offloads would hand af_packet 64 kB super-frames and frames
    // with partial checksums; a wire carries neither.
    ns.run(&[
        "ethtool", "-K", iface, "tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off",
    ])
    .map(|_| ())
}

impl PatchLab {
    /// Builds the namespaces and links and starts causeway.
    pub fn start() -> Result<PatchLab> {
        let dir = TempDir::new("patch")?;
        let gw = Netns::new("gw")?;
        let a = Netns::new("ha")?;
        let b = Netns::new("hb")?;
        let left = VethPair::new(&gw, &a)?;
        let right = VethPair::new(&gw, &b)?;
        for (ns, end) in [
            (&gw, left.a()),
            (&a, left.b()),
            (&gw, right.a()),
            (&b, right.b()),
        ] {
            end.set_mtu(1500)?;
            end.up()?;
            disable_offloads(ns, end.name())?;
        }
        left.b().add_addr(&format!("{HOST_A}/24"))?;
        right.b().add_addr(&format!("{HOST_B}/24"))?;
        let spec = CausewaySpec::default()
            .port("left", format!("net_af_packet0,iface={}", left.a().name()))
            .port(
                "right",
                format!("net_af_packet1,iface={}", right.a().name()),
            )
            .patch("left", "right")
            .patch("right", "left");
        let causeway = Causeway::start(Some(&gw), dir.path(), &spec)?;
        Ok(PatchLab {
            causeway: Some(causeway),
            left,
            right,
            a,
            b,
            gw,
            dir,
        })
    }

    /// The running daemon.
    pub fn causeway(&self) -> &Causeway {
        self.causeway.as_ref().expect("causeway runs until stop()")
    }

    /// Host A's interface (towards causeway's `left` port).
    pub fn a_iface(&self) -> &str {
        self.left.b().name()
    }

    /// Host B's interface (towards causeway's `right` port).
    pub fn b_iface(&self) -> &str {
        self.right.b().name()
    }

    /// Pings B from A; returns ping's output, or an error if any echo was lost.
    pub fn ping(&self, count: u32) -> Result<String> {
        let count = count.to_string();
        let out = self
            .a
            .run(&["ping", "-c", &count, "-i", "0.2", "-W", "2", HOST_B])?;
        if !out.contains(" 0% packet loss") {
            return Err(lab_err!("ping lost packets:\n{out}"));
        }
        Ok(out)
    }

    /// Sends `bytes` random bytes from A to B over TCP (netcat) and hashes both ends.
    pub fn transfer(&self, bytes: usize) -> Result<Transfer> {
        let sent = self.dir.join("sent.bin");
        let received = self.dir.join("received.bin");
        write_random(&sent, bytes)?;
        let recv_cmd = format!("exec nc -l 5001 > {}", received.display());
        let receiver = crate::Daemon::start(
            "nc-receiver",
            Some(&self.b),
            &["sh", "-c", &recv_cmd],
            self.dir.path(),
        )?;
        crate::wait_for("the receiver to listen", Duration::from_secs(10), || {
            self.b
                .run(&["ss", "-ltnH", "sport = :5001"])
                .is_ok_and(|o| !o.trim().is_empty())
        })?;
        let start = Instant::now();
        let send_cmd = format!("timeout 120 nc -N {HOST_B} 5001 < {}", sent.display());
        self.a.run(&["sh", "-c", &send_cmd])?;
        receiver.wait(Duration::from_secs(60))?;
        let seconds = start.elapsed().as_secs_f64();
        Ok(Transfer {
            bytes,
            seconds,
            sent_sha256: sha256(&self.a, &sent)?,
            received_sha256: sha256(&self.b, &received)?,
        })
    }

    /// Sends raw Ethernet frames out of host A's interface (AF_PACKET, from inside A).
    pub fn send_raw_from_a(&self, frames: &[Vec<u8>]) -> Result<()> {
        let hex: Vec<String> = frames
            .iter()
            .map(|f| f.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        let script = format!(
            "import socket\ns = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n\
             s.bind(('{}', 0))\nfor h in {:?}:\n    s.send(bytes.fromhex(h))\n",
            self.a_iface(),
            hex
        );
        self.a.run(&["python3", "-c", &script]).map(|_| ())
    }

    /// Stops causeway with SIGTERM and returns its exit status.
    pub fn stop(&mut self) -> Result<std::process::ExitStatus> {
        match self.causeway.take() {
            Some(c) => c.stop(),
            None => Err(lab_err!("causeway already stopped")),
        }
    }
}

fn write_random(path: &Path, bytes: usize) -> Result<()> {
    use std::io::Read;
    let mut data = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut data)?;
    std::fs::write(path, data)?;
    Ok(())
}

fn sha256(ns: &Netns, path: &Path) -> Result<String> {
    let out = ns.run(&["sha256sum", &path.to_string_lossy()])?;
    out.split_whitespace()
        .next()
        .map(str::to_owned)
        .ok_or_else(|| lab_err!("sha256sum printed nothing"))
}
