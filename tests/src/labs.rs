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

/// The second hypervisor's underlay address, behind the underlay router.
pub const L2_HV2_UNDERLAY: &str = "198.51.100.2";
/// The second hypervisor's overlay address on its vx0.
pub const L2_HV2_OVERLAY: &str = "10.78.0.3";
/// The underlay router's address on causeway's segment: the configured `gateway`.
pub const L2_UNDERLAY_GATEWAY: &str = "192.0.2.254";

/// Adds `vx0` (VXLAN [`L2_VNI`] from `local` to causeway's tunnel IP, MTU 1450) with
/// `overlay_cidr` to `ns`; returns its MAC.
fn add_vxlan(ns: &Netns, local: &str, overlay_cidr: &str) -> Result<String> {
    let vni = L2_VNI.to_string();
    ns.run(&[
        "ip",
        "link",
        "add",
        "vx0",
        "type",
        "vxlan",
        "id",
        &vni,
        "local",
        local,
        "remote",
        L2_TUNNEL_IP,
        "dstport",
        "4789",
    ])?;
    ns.run(&["ip", "link", "set", "vx0", "mtu", "1450", "up"])?;
    ns.run(&["ip", "addr", "add", overlay_cidr, "dev", "vx0"])?;
    disable_offloads(ns, "vx0")?;
    mac_of(ns, "vx0")
}

/// The L2 gateway lab without static next hops ([`L2gwLab::start_arp`]): causeway
/// finds every next-hop MAC by ARP.
///
/// ```text
///  [ns ph] ─ VLAN 100 ─ [ns tor: OVS] ─ trunk ─ phys0 [ns gw: causeway] und0 ─┐
///                                          tunnel_ip 192.0.2.1/24             │
///                                          gateway 192.0.2.254    [ns sw: Linux bridge br0]
///                       [ns hv] eth0 192.0.2.2/24 ──────────────────────────┤
///                       vx0 10.78.0.2/24                                     │
///                       [ns rt] eth0 192.0.2.254/24 ─────────────────────────┘
///                               eth1 198.51.100.1/24 ── eth0 [ns hv2] 198.51.100.2/24
///                                                        vx0 10.78.0.3/24 (default via rt)
/// ```
///
/// `hv` is on the underlay subnet (ARPed directly); `hv2` is not (its frames go to the
/// router's MAC). Both are `unknown_dst` locators and their vx0 MACs remote MACs.
pub struct L2gwArpLab {
    // Field order is drop order: the daemon goes first.
    causeway: Option<Causeway>,
    _links: Vec<VethPair>,
    /// The VLAN switch with the physical host on an access port.
    pub tor: crate::ovn::VlanSwitch,
    /// The on-subnet hypervisor.
    pub hv: Netns,
    /// The hypervisor behind the router.
    pub hv2: Netns,
    /// The underlay router.
    pub rt: Netns,
    /// The underlay segment's bridge.
    pub sw: Netns,
    /// The gateway namespace causeway runs in.
    pub gw: Netns,
    /// Logs, configuration, transferred files.
    pub dir: TempDir,
}

impl L2gwArpLab {
    /// Builds everything and starts causeway with `arp_reachable_s` (short in tests,
    /// so that refreshes happen within a test's patience).
    pub fn start(arp_reachable_s: u32) -> Result<L2gwArpLab> {
        let dir = TempDir::new("l2arp")?;
        let gw = Netns::new("gw")?;
        let sw = Netns::new("sw")?;
        let hv = Netns::new("hv")?;
        let rt = Netns::new("rt")?;
        let hv2 = Netns::new("hv2")?;
        let mut tor = crate::ovn::VlanSwitch::start(dir.path())?;
        tor.add_access_port("ph", 100, &format!("{L2_HOST}/24"))?;
        let phys = tor.add_trunk_port(&gw, "phys0")?;
        disable_offloads(&gw, phys.name())?;
        sw.run(&["ip", "link", "add", "br0", "type", "bridge"])?;
        sw.run(&["ip", "link", "set", "br0", "up"])?;
        let mut links = Vec::new();
        for (ns, port, peer) in [
            (&gw, "p-gw", "und0"),
            (&hv, "p-hv", "eth0"),
            (&rt, "p-rt", "eth0"),
        ] {
            let pair = VethPair::with_names(&sw, port, ns, peer)?;
            sw.run(&["ip", "link", "set", port, "master", "br0"])?;
            for (n, end) in [(&sw, pair.a()), (ns, pair.b())] {
                end.set_mtu(1500)?;
                end.up()?;
                disable_offloads(n, end.name())?;
            }
            links.push(pair);
        }
        links[1].b().add_addr(&format!("{L2_HV_UNDERLAY}/24"))?;
        links[2]
            .b()
            .add_addr(&format!("{L2_UNDERLAY_GATEWAY}/24"))?;
        let far = VethPair::with_names(&rt, "eth1", &hv2, "eth0")?;
        for (n, end) in [(&rt, far.a()), (&hv2, far.b())] {
            end.set_mtu(1500)?;
            end.up()?;
            disable_offloads(n, end.name())?;
        }
        far.a().add_addr("198.51.100.1/24")?;
        far.b().add_addr(&format!("{L2_HV2_UNDERLAY}/24"))?;
        links.push(far);
        rt.run(&["sysctl", "-qw", "net.ipv4.ip_forward=1"])?;
        hv2.run(&["ip", "route", "add", "default", "via", "198.51.100.1"])?;
        let vx0_mac = add_vxlan(&hv, L2_HV_UNDERLAY, &format!("{L2_HV_OVERLAY}/24"))?;
        let vx0_mac2 = add_vxlan(&hv2, L2_HV2_UNDERLAY, &format!("{L2_HV2_OVERLAY}/24"))?;
        let logical = format!(
            "switches:\n  - {{name: web, vni: {L2_VNI}}}\nbindings:\n  - {{port: phys, vlan: 100, switch: web}}\n\
             remote_macs:\n  - {{switch: web, mac: \"{vx0_mac}\", locator: {L2_HV_UNDERLAY}}}\n\
             \x20 - {{switch: web, mac: \"{vx0_mac2}\", locator: {L2_HV2_UNDERLAY}}}\n\
             unknown_dst:\n  - {{switch: web, locators: [{L2_HV_UNDERLAY}, {L2_HV2_UNDERLAY}]}}\n"
        );
        std::fs::write(dir.join("logical.yaml"), logical)?;
        let mut spec = CausewaySpec::default()
            .port("phys", format!("net_af_packet0,iface={}", phys.name()))
            .port("underlay", "net_af_packet1,iface=und0");
        // No next_hops: every next-hop MAC comes from ARP.
        spec.l2_gateway = Some(format!(
            "    underlay:\n      port: underlay\n      tunnel_ip: {L2_TUNNEL_IP}/24\n      \
             gateway: {L2_UNDERLAY_GATEWAY}\n      arp_reachable_s: {arp_reachable_s}\n      \
             mtu: 1500\n    standalone: {}\n",
            dir.join("logical.yaml").display()
        ));
        let causeway = Causeway::start(Some(&gw), dir.path(), &spec)?;
        Ok(L2gwArpLab {
            causeway: Some(causeway),
            _links: links,
            tor,
            hv,
            hv2,
            rt,
            sw,
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

/// What a [`PingRun`] counted.
#[derive(Debug, Clone)]
pub struct PingStats {
    /// Echo requests sent.
    pub transmitted: u64,
    /// Echo replies received.
    pub received: u64,
    /// ping's whole output.
    pub output: String,
}

impl PingStats {
    /// Requests without a reply.
    pub fn lost(&self) -> u64 {
        self.transmitted.saturating_sub(self.received)
    }
}

/// `ping -n -i INTERVAL IP` left running in a namespace while a test does
/// something disruptive; [`PingRun::stop`] interrupts it (SIGINT, so it prints its
/// summary) and returns the counts.
pub struct PingRun {
    daemon: crate::Daemon,
    ip: String,
}

impl PingRun {
    /// Starts pinging `ip` from `ns` every `interval` (seconds, e.g. `0.05`), each
    /// echo waiting at most 1 s for its reply; logs go to `dir`.
    pub fn start(dir: &Path, ns: &Netns, ip: &str, interval: &str) -> Result<PingRun> {
        let daemon = crate::Daemon::start(
            &format!("ping-{ip}"),
            Some(ns),
            &["ping", "-n", "-W", "1", "-i", interval, ip],
            dir,
        )?;
        Ok(PingRun {
            daemon,
            ip: ip.to_owned(),
        })
    }

    /// Replies seen so far (ping's per-reply lines).
    pub fn replies_so_far(&self) -> usize {
        self.daemon
            .stdout()
            .lines()
            .filter(|l| l.contains("bytes from"))
            .count()
    }

    /// Stops the run and returns its summary.
    pub fn stop(self) -> Result<PingStats> {
        // Let the echo in flight come back before interrupting.
        std::thread::sleep(Duration::from_millis(300));
        self.daemon.signal(crate::Signal::SIGINT)?;
        self.daemon.wait(Duration::from_secs(10))?;
        let output = self.daemon.stdout();
        let line = output
            .lines()
            .find(|l| l.contains("packets transmitted"))
            .ok_or_else(|| lab_err!("ping {} printed no summary:\n{output}", self.ip))?;
        let num = |after: &str| -> Option<u64> {
            let i = line.find(after)?;
            line[..i].split_whitespace().last()?.parse().ok()
        };
        match (num(" packets transmitted"), num(" received")) {
            (Some(transmitted), Some(received)) => Ok(PingStats {
                transmitted,
                received,
                output,
            }),
            _ => Err(lab_err!("cannot read ping's summary {line:?}")),
        }
    }
}

/// causeway as an L2 gateway following a hardware_vtep database, in its own
/// namespace between a VLAN switch (trunk `phys0` = DPDK port `phys`) and an
/// [`crate::ovn::Underlay`] (`underlay0` = DPDK port `underlay`):
///
/// ```text
///  [ns phN] eth0 ─ access VLAN ─ [ns tor: OVS] ─ trunk ─ phys0 [ns gw: causeway] underlay0 ─ [und]
/// ```
///
/// The physical hosts get MTU 1450 (what VMs behind a 1500-byte underlay have).
pub struct VtepGateway {
    // Field order is drop order: the daemon before its links and namespace.
    causeway: Causeway,
    _uplink: VethPair,
    tor: crate::ovn::VlanSwitch,
    gw: Netns,
}

impl VtepGateway {
    /// Builds the VLAN switch with one host per `(vlan, cidr)` and starts causeway
    /// as physical switch `ps` with tunnel IP `tunnel_ip`, a static next hop for each
    /// hypervisor in `hvs`, following the database at `remotes` (one server, or every
    /// member of a cluster).
    pub fn start(
        dir: &TempDir,
        underlay: &crate::ovn::Underlay,
        hvs: &[&crate::ovn::Hypervisor],
        hosts: &[(u16, &str)],
        remotes: &[String],
        ps: &str,
        tunnel_ip: &str,
    ) -> Result<VtepGateway> {
        let gw = Netns::new("gw")?;
        let mut tor = crate::ovn::VlanSwitch::start(dir.path())?;
        for (i, (vlan, cidr)) in hosts.iter().enumerate() {
            tor.add_access_port(&format!("ph{i}"), *vlan, cidr)?;
        }
        let phys = tor.add_trunk_port(&gw, "phys0")?;
        disable_offloads(&gw, phys.name())?;
        let uplink = underlay.attach(&gw, "underlay0")?;
        disable_offloads(&gw, uplink.a().name())?;
        for host in tor.hosts() {
            host.iface().set_mtu(crate::ovn::VM_MTU)?;
        }
        let mut next_hops = String::new();
        for hv in hvs {
            let mac = mac_of(hv.ns(), "br-phy")?;
            next_hops += &format!("        {}: \"{mac}\"\n", hv.tunnel_ip());
        }
        let remotes = remotes
            .iter()
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let mut spec = CausewaySpec::default()
            .port("phys", format!("net_af_packet0,iface={}", phys.name()))
            .port(
                "underlay",
                format!("net_af_packet1,iface={}", uplink.a().name()),
            );
        spec.l2_gateway = Some(format!(
            "    underlay:\n      port: underlay\n      tunnel_ip: {tunnel_ip}\n      mtu: 1500\n      \
             next_hops:\n{next_hops}    controller:\n      remotes: [{remotes}]\n      \
             physical_switch: {ps}\n"
        ));
        let causeway = Causeway::start(Some(&gw), dir.path(), &spec)?;
        Ok(VtepGateway {
            causeway,
            _uplink: uplink,
            tor,
            gw,
        })
    }

    /// The running daemon.
    pub fn causeway(&self) -> &Causeway {
        &self.causeway
    }

    /// Physical host `i` (in the order given to [`VtepGateway::start`]).
    pub fn host(&self, i: usize) -> &crate::ovn::PhysicalHost {
        &self.tor.hosts()[i]
    }

    /// The VLAN switch.
    pub fn tor(&self) -> &crate::ovn::VlanSwitch {
        &self.tor
    }

    /// The namespace causeway runs in.
    pub fn ns(&self) -> &Netns {
        &self.gw
    }

    /// The value of a `/metrics` series, 0 when absent (e.g. a counter not yet
    /// incremented by any lcore).
    pub fn metric(&self, series: &str) -> f64 {
        self.causeway.metric(series).unwrap_or(0.0)
    }

    /// Stops causeway with SIGTERM and returns its exit status.
    pub fn stop(self) -> Result<std::process::ExitStatus> {
        self.causeway.stop()
    }
}
