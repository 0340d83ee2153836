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

/// The L2 gateway lab's physical host (VLAN 100, behind the VLAN switch).
pub const L2_HOST: &str = "10.78.0.1";
/// The hypervisor's address on its VXLAN device `vx0` (same subnet as the host).
pub const L2_HV_OVERLAY: &str = "10.78.0.2";
/// The hypervisor's underlay address (its VXLAN endpoint).
pub const L2_HV_UNDERLAY: &str = "192.0.2.2";
/// causeway's tunnel IP.
pub const L2_TUNNEL_IP: &str = "192.0.2.1";
/// The VNI of the lab's one logical switch.
pub const L2_VNI: u32 = 5000;

/// causeway as an L2 gateway between a VLAN and a kernel VXLAN "hypervisor":
///
/// ```text
///  [ns ph] eth0 ─ access VLAN 100 ─ [ns tor: OVS userspace br0] ─ trunk ─ phys0 ┐
///  10.78.0.1/24                                                                 │
///              [ns gw: causeway, net_af_packet ports `phys` and `underlay`]     │
///                                                        und0 ──veth── eth0 [ns hv]
///                                                 tunnel 192.0.2.1   192.0.2.2/24
///                                           vx0 (VXLAN 5000, remote 192.0.2.1) 10.78.0.2/24
/// ```
///
/// The standalone logical file binds (phys, VLAN 100) to switch `web` (VNI 5000) with
/// `unknown_dst` the hypervisor, and the hypervisor's vx0 MAC as a remote MAC.
pub struct L2gwLab {
    causeway: Option<Causeway>,
    underlay: VethPair,
    /// The VLAN switch with the physical host on an access port.
    pub tor: crate::ovn::VlanSwitch,
    /// The hypervisor namespace.
    pub hv: Netns,
    /// The gateway namespace causeway runs in.
    pub gw: Netns,
    /// Logs, configuration, transferred files.
    pub dir: TempDir,
}

impl L2gwLab {
    /// Builds the namespaces, the VLAN switch and the hypervisor, and starts causeway.
    pub fn start() -> Result<L2gwLab> {
        let dir = TempDir::new("l2gw")?;
        let gw = Netns::new("gw")?;
        let hv = Netns::new("hv")?;
        let mut tor = crate::ovn::VlanSwitch::start(dir.path())?;
        tor.add_access_port("ph", 100, &format!("{L2_HOST}/24"))?;
        let phys = tor.add_trunk_port(&gw, "phys0")?;
        disable_offloads(&gw, phys.name())?;
        let underlay = VethPair::with_names(&gw, "und0", &hv, "eth0")?;
        for (ns, end) in [(&gw, underlay.a()), (&hv, underlay.b())] {
            end.set_mtu(1500)?;
            end.up()?;
            disable_offloads(ns, end.name())?;
        }
        underlay.b().add_addr(&format!("{L2_HV_UNDERLAY}/24"))?;
        hv.run(&[
            "ip",
            "link",
            "add",
            "vx0",
            "type",
            "vxlan",
            "id",
            &L2_VNI.to_string(),
            "local",
            L2_HV_UNDERLAY,
            "remote",
            L2_TUNNEL_IP,
            "dstport",
            "4789",
        ])?;
        hv.run(&["ip", "link", "set", "vx0", "mtu", "1450", "up"])?;
        hv.run(&[
            "ip",
            "addr",
            "add",
            &format!("{L2_HV_OVERLAY}/24"),
            "dev",
            "vx0",
        ])?;
        disable_offloads(&hv, "vx0")?;
        let hv_mac = underlay.b().mac()?;
        let vx0_mac = mac_of(&hv, "vx0")?;
        let logical = format!(
            "switches:\n  - {{name: web, vni: {L2_VNI}}}\nbindings:\n  - {{port: phys, vlan: 100, switch: web}}\n\
             remote_macs:\n  - {{switch: web, mac: \"{vx0_mac}\", locator: {L2_HV_UNDERLAY}}}\n\
             unknown_dst:\n  - {{switch: web, locators: [{L2_HV_UNDERLAY}]}}\n"
        );
        std::fs::write(dir.join("logical.yaml"), logical)?;
        let mut spec = CausewaySpec::default()
            .port("phys", format!("net_af_packet0,iface={}", phys.name()))
            .port(
                "underlay",
                format!("net_af_packet1,iface={}", underlay.a().name()),
            );
        spec.l2_gateway = Some(format!(
            "    underlay:\n      port: underlay\n      tunnel_ip: {L2_TUNNEL_IP}\n      mtu: 1500\n      \
             next_hops:\n        {L2_HV_UNDERLAY}: \"{hv_mac}\"\n    standalone: {}\n",
            dir.join("logical.yaml").display()
        ));
        let causeway = Causeway::start(Some(&gw), dir.path(), &spec)?;
        Ok(L2gwLab {
            causeway: Some(causeway),
            underlay,
            tor,
            hv,
            gw,
            dir,
        })
    }

    /// The running daemon.
    pub fn causeway(&self) -> &Causeway {
        self.causeway.as_ref().expect("causeway runs until stop()")
    }

    /// The physical host.
    pub fn host(&self) -> &crate::ovn::PhysicalHost {
        &self.tor.hosts()[0]
    }

    /// The hypervisor's underlay interface.
    pub fn hv_underlay(&self) -> &crate::VethEnd {
        self.underlay.b()
    }

    /// Sends `bytes` random bytes over TCP from `from` to `to_ip` (in `to`) and hashes
    /// both ends.
    pub fn transfer(
        &self,
        from: &Netns,
        to: &Netns,
        to_ip: &str,
        bytes: usize,
    ) -> Result<Transfer> {
        transfer(&self.dir, from, to, to_ip, bytes)
    }

    /// Stops causeway with SIGTERM and returns its exit status.
    pub fn stop(&mut self) -> Result<std::process::ExitStatus> {
        match self.causeway.take() {
            Some(c) => c.stop(),
            None => Err(lab_err!("causeway already stopped")),
        }
    }
}

fn mac_of(ns: &Netns, iface: &str) -> Result<String> {
    let out = ns.run(&["cat", &format!("/sys/class/net/{iface}/address")])?;
    Ok(out.trim().to_owned())
}

/// Sends `bytes` random bytes from `from` to `to_ip` (listening in `to`) over TCP with
/// netcat and hashes both ends.
pub fn transfer(
    dir: &TempDir,
    from: &Netns,
    to: &Netns,
    to_ip: &str,
    bytes: usize,
) -> Result<Transfer> {
    let tag = crate::unique_id();
    let sent = dir.join(format!("sent-{tag}.bin"));
    let received = dir.join(format!("received-{tag}.bin"));
    write_random(&sent, bytes)?;
    let recv_cmd = format!("exec nc -l 5001 > {}", received.display());
    let receiver = crate::Daemon::start(
        "nc-receiver",
        Some(to),
        &["sh", "-c", &recv_cmd],
        dir.path(),
    )?;
    crate::wait_for("the receiver to listen", Duration::from_secs(10), || {
        to.run(&["ss", "-ltnH", "sport = :5001"])
            .is_ok_and(|o| !o.trim().is_empty())
    })?;
    let start = Instant::now();
    let send_cmd = format!("timeout 120 nc -N {to_ip} 5001 < {}", sent.display());
    from.run(&["sh", "-c", &send_cmd])?;
    receiver.wait(Duration::from_secs(60))?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(Transfer {
        bytes,
        seconds,
        sent_sha256: sha256(from, &sent)?,
        received_sha256: sha256(to, &received)?,
    })
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
