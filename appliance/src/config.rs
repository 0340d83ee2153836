//! The bootstrap configuration (`/etc/causeway/appliance.yaml`): who this box is, which
//! roles it runs, how DPDK starts, its ports, and where metrics are served.
//!
//! Loading is two steps: YAML into the `*Section` structs (syntax and types), then
//! [`Bootstrap::validate`] into a [`Config`] (names resolved, addresses parsed). Either
//! step reports the file, line and column of the offending value; nothing is started
//! until both succeed.

use crate::l2model::L2Model;
use crate::standalone::{LogicalSection, parse_ipv4};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration error: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file that was read.
    pub file: PathBuf,
    /// 1-based line and column, when the error has a position.
    pub position: Option<(u64, u64)>,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => {
                write!(
                    f,
                    "{}:{line}:{column}: {}",
                    self.file.display(),
                    self.message
                )
            }
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

fn default_mbufs() -> u32 {
    16 * 1024 - 1
}
fn default_mbuf_cache() -> u32 {
    256
}
fn default_descriptors() -> u16 {
    1024
}
fn default_true() -> bool {
    true
}
fn default_metrics_listen() -> Spanned<String> {
    Spanned::new(
        "127.0.0.1:9417".to_owned(),
        serde_saphyr::Location::UNKNOWN,
        serde_saphyr::Location::UNKNOWN,
    )
}
fn default_underlay_mtu() -> Spanned<u16> {
    Spanned::new(
        1500,
        serde_saphyr::Location::UNKNOWN,
        serde_saphyr::Location::UNKNOWN,
    )
}
fn default_mac_ageing_s() -> u32 {
    300
}
fn default_log_level() -> String {
    "info".to_owned()
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bootstrap {
    /// Who this box is.
    pub identity: IdentitySection,
    /// How DPDK's EAL starts and how many buffers it gets.
    pub dpdk: DpdkSection,
    /// Data ports owned through DPDK.
    #[serde(default)]
    pub ports: Vec<PortSection>,
    /// The roles this box runs.
    #[serde(default)]
    pub roles: RolesSection,
    /// Underlay (tunnel endpoint) addresses of this box.
    #[serde(default)]
    pub underlay: UnderlaySection,
    /// The Prometheus endpoint.
    #[serde(default)]
    pub metrics: MetricsSection,
    /// Logging.
    #[serde(default)]
    pub log: LogSection,
}

/// `identity:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySection {
    /// The box's name; later the `Physical_Switch` name in hardware_vtep.
    pub name: Spanned<String>,
    /// The failure zone the box stands in, for HA placement.
    #[serde(default)]
    pub failure_zone: Option<String>,
}

/// `dpdk:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpdkSection {
    /// EAL arguments, as for any DPDK application (`-l 0-1`, `--no-huge`, ...).
    pub eal_args: Vec<String>,
    /// Mbufs in the packet pool.
    #[serde(default = "default_mbufs")]
    pub mbufs: u32,
    /// Per-lcore mempool cache size.
    #[serde(default = "default_mbuf_cache")]
    pub mbuf_cache: u32,
    /// Receive descriptors per queue.
    #[serde(default = "default_descriptors")]
    pub rx_descriptors: u16,
    /// Transmit descriptors per queue.
    #[serde(default = "default_descriptors")]
    pub tx_descriptors: u16,
    /// Microseconds a worker sleeps after a poll round that received nothing (0: pure
    /// busy polling, the production setting; labs on shared CPUs use a few tens).
    #[serde(default)]
    pub idle_sleep_us: u32,
}

/// One entry of `ports:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSection {
    /// The name roles refer to.
    pub name: Spanned<String>,
    /// A PCI address (`0000:3b:00.0`) or a vdev string (`net_af_packet0,iface=eth1`).
    pub devargs: Spanned<String>,
    /// MTU to set; the device's default when absent.
    #[serde(default)]
    pub mtu: Option<u16>,
    /// MAC address to set; the device's own when absent.
    #[serde(default)]
    pub mac: Option<Spanned<String>>,
    /// Receive frames for any destination MAC (default true: gateways bridge).
    #[serde(default = "default_true")]
    pub promiscuous: bool,
}

/// `roles:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesSection {
    /// The diagnostic `patch` role: one-way links between ports.
    #[serde(default)]
    pub patch: Vec<PatchLinkSection>,
    /// The L2 gateway role.
    #[serde(default)]
    pub l2_gateway: Option<L2GatewaySection>,
}

/// `roles.l2_gateway`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L2GatewaySection {
    /// Where tunnels leave and arrive.
    pub underlay: L2UnderlaySection,
    /// A standalone logical YAML file, relative to the bootstrap file.
    #[serde(default)]
    pub standalone: Option<Spanned<String>>,
    /// The logical configuration inline (the same format as a standalone file).
    #[serde(default)]
    pub logical: Option<LogicalSection>,
    /// The logical configuration from a hardware_vtep database (a controller such as
    /// `ovn-controller-vtep` drives it).
    #[serde(default)]
    pub controller: Option<Spanned<ControllerSection>>,
    /// Seconds after which a learned local MAC is forgotten unless seen again.
    #[serde(default = "default_mac_ageing_s")]
    pub mac_ageing_s: u32,
    /// Table sizes (default: the scale target).
    #[serde(default)]
    pub limits: LimitsSection,
}

/// `roles.l2_gateway.limits`: what the box holds; beyond it entries are refused and
/// the hardware_vtep fault columns say so.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Learned local MACs (`mac_table_exhaustion` when full).
    #[serde(default = "default_limit_local_macs")]
    pub local_macs: usize,
    /// Remote MACs used from the controller (`mac_table_exhaustion` beyond).
    #[serde(default = "default_limit_remote_macs")]
    pub remote_macs: usize,
    /// Remote locators, one tunnel each (`tunnel_exhaustion` beyond).
    #[serde(default = "default_limit_tunnels")]
    pub tunnels: usize,
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            local_macs: default_limit_local_macs(),
            remote_macs: default_limit_remote_macs(),
            tunnels: default_limit_tunnels(),
        }
    }
}

fn default_limit_local_macs() -> usize {
    crate::vtep::Limits::default().local_macs
}
fn default_limit_remote_macs() -> usize {
    crate::vtep::Limits::default().remote_macs
}
fn default_limit_tunnels() -> usize {
    crate::vtep::Limits::default().tunnels
}
fn default_stats_interval_s() -> u32 {
    5
}

/// `roles.l2_gateway.controller`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerSection {
    /// hardware_vtep database servers tried in turn: `unix:/abs/path`, `tcp:IP:PORT`,
    /// `ssl:IP:PORT` (may be empty with `serve`).
    #[serde(default)]
    pub remotes: Vec<Spanned<String>>,
    /// Serve the database on the box with a supervised stock `ovsdb-server`.
    #[serde(default)]
    pub serve: Option<Spanned<ServeSection>>,
    /// This box's `Physical_Switch` name (default `identity.name`).
    #[serde(default)]
    pub physical_switch: Option<Spanned<String>>,
    /// Seconds between writes of `Logical_Binding_Stats` counters (at least 1).
    #[serde(default = "default_stats_interval_s")]
    pub stats_interval_s: u32,
}

/// `roles.l2_gateway.controller.serve`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeSection {
    /// The database file (absolute), created from `schema` when missing.
    pub db: Spanned<String>,
    /// Extra `ovsdb-server --remote`s, e.g. `ptcp:6640:0.0.0.0`.
    #[serde(default)]
    pub listen: Vec<Spanned<String>>,
    /// Socket, pidfile and log directory (absolute; default: the db's directory).
    #[serde(default)]
    pub rundir: Option<Spanned<String>>,
    /// The vtep schema (default `/usr/share/openvswitch/vtep.ovsschema`).
    #[serde(default)]
    pub schema: Option<Spanned<String>>,
}

/// `roles.l2_gateway.underlay`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L2UnderlaySection {
    /// The port (from `ports:`) tunnels use.
    pub port: Spanned<String>,
    /// Our tunnel endpoint address (IPv4), optionally with the underlay subnet's
    /// prefix length (`192.0.2.1/24`); a plain address means /32 (no on-link peers).
    pub tunnel_ip: Spanned<String>,
    /// Next hop for locators outside the underlay subnet.
    #[serde(default)]
    pub gateway: Option<Spanned<String>>,
    /// Base reachable time of an ARP-resolved next hop, in seconds (default 30).
    #[serde(default)]
    pub arp_reachable_s: Option<Spanned<u32>>,
    /// Underlay IP MTU (default 1500): inner frames up to `mtu - 36` bytes are carried.
    #[serde(default = "default_underlay_mtu")]
    pub mtu: Spanned<u16>,
    /// 802.1Q VLAN of a tagged underlay.
    #[serde(default)]
    pub vlan: Option<Spanned<u16>>,
    /// Static next-hop MACs per locator IP (`192.0.2.2: 02:00:00:00:00:02`).
    #[serde(default)]
    pub next_hops: SpannedMap,
}

/// A YAML mapping of strings with each key's and value's position.
#[derive(Debug, Default)]
pub struct SpannedMap(pub Vec<(Spanned<String>, Spanned<String>)>);

impl<'de> Deserialize<'de> for SpannedMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SpannedMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of locator IP to MAC")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<SpannedMap, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = m.next_entry::<Spanned<String>, Spanned<String>>()? {
                    v.push(e);
                }
                Ok(SpannedMap(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// One `roles.patch` entry: every well-formed frame received on `from` leaves on `to`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchLinkSection {
    /// Input port name.
    pub from: Spanned<String>,
    /// Output port name.
    pub to: Spanned<String>,
}

/// `underlay:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnderlaySection {
    /// Addresses with prefix length, e.g. `192.0.2.10/24`.
    #[serde(default)]
    pub addresses: Vec<Spanned<String>>,
}

/// `metrics:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Address and port of the `/metrics` endpoint.
    #[serde(default = "default_metrics_listen")]
    pub listen: Spanned<String>,
}

impl Default for MetricsSection {
    fn default() -> Self {
        MetricsSection {
            listen: default_metrics_listen(),
        }
    }
}

/// `log:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// A tracing filter: `info`, `debug`, `causeway=debug,warn`, ...
    #[serde(default = "default_log_level")]
    pub level: String,
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            level: default_log_level(),
        }
    }
}

/// A validated configuration: every name resolved, every address parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The box's name.
    pub name: String,
    /// Its failure zone, if any.
    pub failure_zone: Option<String>,
    /// EAL arguments (without the program name).
    pub eal_args: Vec<String>,
    /// Mbufs in the pool.
    pub mbufs: u32,
    /// Mempool per-lcore cache.
    pub mbuf_cache: u32,
    /// Receive descriptors per queue.
    pub rx_descriptors: u16,
    /// Transmit descriptors per queue.
    pub tx_descriptors: u16,
    /// Worker sleep after an idle poll round, in microseconds.
    pub idle_sleep_us: u32,
    /// Ports, in file order; roles refer to them by index.
    pub ports: Vec<PortConfig>,
    /// Patch links as (input port index, output port index).
    pub patch: Vec<(usize, usize)>,
    /// Underlay addresses with prefix length.
    pub underlay: Vec<(IpAddr, u8)>,
    /// Where `/metrics` listens.
    pub metrics_listen: SocketAddr,
    /// Logging filter.
    pub log_level: String,
    /// The L2 gateway role, when configured.
    pub l2_gateway: Option<L2GatewayConfig>,
}

/// A validated `roles.l2_gateway`.
#[derive(Debug, Clone, PartialEq)]
pub struct L2GatewayConfig {
    /// Index (in `ports`) of the underlay port.
    pub underlay_port: usize,
    /// Our tunnel endpoint address.
    pub tunnel_ip: Ipv4Addr,
    /// Underlay IP MTU.
    pub mtu: u16,
    /// Underlay VLAN, if tagged.
    pub vlan: Option<u16>,
    /// Static next-hop MAC per locator (or per gateway); overrides ARP.
    pub next_hops: BTreeMap<Ipv4Addr, [u8; 6]>,
    /// The underlay subnet and gateway, for ARP resolution of the other next hops.
    pub next_hop: NextHopConfig,
    /// Idle time after which a learned local MAC is forgotten.
    pub mac_ageing: Duration,
    /// Table sizes (learned MACs enforced by the L2 plane, the rest by the agent).
    pub limits: crate::vtep::Limits,
    /// The logical configuration.
    pub model: L2Model,
    /// The standalone file it came from (None: inline or controller).
    pub standalone: Option<PathBuf>,
    /// The hardware_vtep database the model comes from (then `model` is empty until
    /// the first snapshot arrives).
    pub controller: Option<ControllerConfig>,
}

/// How locator next hops without a static entry are found: ARP on the underlay for
/// locators on the subnet around the tunnel IP, the gateway's MAC for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHopConfig {
    /// Prefix length of the underlay subnet around the tunnel IP (32: no on-link peers).
    pub prefix_len: u8,
    /// Next hop for locators outside the subnet (on-link even with /32).
    pub gateway: Option<Ipv4Addr>,
    /// Base reachable time: a resolved next hop is re-ARPed after 1x to 2x of it.
    pub arp_reachable: Duration,
}

/// Default `arp_reachable_s`: Linux's `base_reachable_time` is 30 s too.
const DEFAULT_ARP_REACHABLE_S: u32 = 30;

impl Default for NextHopConfig {
    fn default() -> Self {
        NextHopConfig {
            prefix_len: 32,
            gateway: None,
            arp_reachable: Duration::from_secs(u64::from(DEFAULT_ARP_REACHABLE_S)),
        }
    }
}

impl NextHopConfig {
    /// The subnet mask as an integer.
    fn mask(&self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix_len))
            .unwrap_or(0)
    }

    /// True when `ip` is on the underlay subnet around `tunnel_ip` (never for /32).
    pub fn on_link(&self, tunnel_ip: Ipv4Addr, ip: Ipv4Addr) -> bool {
        self.prefix_len < 32
            && ip != tunnel_ip
            && (u32::from(ip) ^ u32::from(tunnel_ip)) & self.mask() == 0
    }

    /// The network address of the subnet around `tunnel_ip`.
    pub fn network(&self, tunnel_ip: Ipv4Addr) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(tunnel_ip) & self.mask())
    }
}

/// A validated `roles.l2_gateway.controller`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerConfig {
    /// Servers to try in turn.
    pub remotes: Vec<ovsdb::Remote>,
    /// This box's `Physical_Switch` name.
    pub physical_switch: String,
    /// Shortest time between writes of binding counters.
    pub stats_interval: Duration,
    /// The on-box `ovsdb-server` to run (its socket is then the first remote).
    pub serve: Option<crate::ovsdb_server::ServeConfig>,
}

/// A validated port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConfig {
    /// Name used by roles and in metrics labels.
    pub name: String,
    /// Device arguments handed to DPDK.
    pub devargs: String,
    /// MTU to set.
    pub mtu: Option<u16>,
    /// MAC to set.
    pub mac: Option<[u8; 6]>,
    /// Promiscuous mode.
    pub promiscuous: bool,
}

/// Reads and validates a bootstrap file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_owned(),
        position: None,
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
}

/// Parses and validates bootstrap text; `path` only names the source in errors.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let bootstrap: Bootstrap = serde_saphyr::from_str(text).map_err(|e| yaml_error(path, &e))?;
    bootstrap.validate(path)
}

/// A YAML syntax or type error as a [`ConfigError`].
pub(crate) fn yaml_error(path: &Path, e: &serde_saphyr::Error) -> ConfigError {
    ConfigError {
        file: path.to_owned(),
        position: e.location().map(|l| (l.line(), l.column())),
        message: first_line(&e.to_string()),
    }
}

/// serde-saphyr renders a source snippet after the message; the first line is the
/// message itself, and we print the position in the compiler-style prefix instead.
fn first_line(rendered: &str) -> String {
    let line = rendered.lines().next().unwrap_or(rendered).trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    // Drop a trailing " at line L, column C" that some messages carry.
    match line.rfind(" at line ") {
        Some(i) => line[..i].to_owned(),
        None => line.to_owned(),
    }
}

impl Bootstrap {
    /// Resolves names and parses addresses, pointing at the first offending value.
    pub fn validate(self, path: &Path) -> Result<Config, ConfigError> {
        let err = |at: &serde_saphyr::Location, message: String| ConfigError {
            file: path.to_owned(),
            position: (*at != serde_saphyr::Location::UNKNOWN).then(|| (at.line(), at.column())),
            message,
        };

        if self.identity.name.value.trim().is_empty() {
            return Err(err(
                &self.identity.name.referenced,
                "identity.name must not be empty".into(),
            ));
        }

        let mut ports: Vec<PortConfig> = Vec::with_capacity(self.ports.len());
        for p in &self.ports {
            let name = p.name.value.trim();
            if name.is_empty() {
                return Err(err(
                    &p.name.referenced,
                    "port name must not be empty".into(),
                ));
            }
            if ports.iter().any(|q| q.name == name) {
                return Err(err(
                    &p.name.referenced,
                    format!("port `{name}` is defined twice"),
                ));
            }
            if p.devargs.value.trim().is_empty() {
                return Err(err(
                    &p.devargs.referenced,
                    format!("port `{name}` has empty devargs"),
                ));
            }
            let mac = match &p.mac {
                Some(m) => Some(parse_mac(&m.value).ok_or_else(|| {
                    err(
                        &m.referenced,
                        format!(
                            "`{}` is not a MAC address (expected aa:bb:cc:dd:ee:ff)",
                            m.value
                        ),
                    )
                })?),
                None => None,
            };
            if let Some(mtu) = p.mtu
                && !(68..=9600).contains(&mtu)
            {
                return Err(err(
                    &p.name.referenced,
                    format!("port `{name}`: mtu {mtu} is outside 68..=9600"),
                ));
            }
            ports.push(PortConfig {
                name: name.to_owned(),
                devargs: p.devargs.value.trim().to_owned(),
                mtu: p.mtu,
                mac,
                promiscuous: p.promiscuous,
            });
        }

        let port_index = |s: &Spanned<String>| {
            ports
                .iter()
                .position(|p| p.name == s.value.trim())
                .ok_or_else(|| err(&s.referenced, format!("no port named `{}`", s.value)))
        };
        let mut patch: Vec<(usize, usize)> = Vec::new();
        for link in &self.roles.patch {
            let from = port_index(&link.from)?;
            let to = port_index(&link.to)?;
            if from == to {
                return Err(err(
                    &link.to.referenced,
                    format!("patch link from `{}` back to itself", link.from.value),
                ));
            }
            if patch.iter().any(|&(f, _)| f == from) {
                return Err(err(
                    &link.from.referenced,
                    format!(
                        "port `{}` already feeds another patch link",
                        link.from.value
                    ),
                ));
            }
            patch.push((from, to));
        }

        let mut underlay = Vec::new();
        for a in &self.underlay.addresses {
            underlay.push(parse_prefix(&a.value).ok_or_else(|| {
                err(
                    &a.referenced,
                    format!("`{}` is not an address with prefix length", a.value),
                )
            })?);
        }

        let metrics_listen: SocketAddr = self.metrics.listen.value.parse().map_err(|_| {
            err(
                &self.metrics.listen.referenced,
                format!(
                    "`{}` is not an address and port (expected e.g. 127.0.0.1:9417)",
                    self.metrics.listen.value
                ),
            )
        })?;

        if self.dpdk.mbufs < 1024 {
            return Err(ConfigError {
                file: path.to_owned(),
                position: None,
                message: format!(
                    "dpdk.mbufs {} is below the minimum of 1024",
                    self.dpdk.mbufs
                ),
            });
        }

        let l2_gateway = match self.roles.l2_gateway {
            None => None,
            Some(l2) => {
                let u = &l2.underlay;
                let underlay_port = port_index(&u.port)?;
                if !patch.is_empty() {
                    return Err(err(
                        &u.port.referenced,
                        "the patch and l2_gateway roles cannot run on one box yet".into(),
                    ));
                }
                let (tunnel_ip, next_hop) = validate_underlay_subnet(u, &err)?;
                if !(68..=9600).contains(&u.mtu.value) {
                    return Err(err(
                        &u.mtu.referenced,
                        format!("underlay mtu {} is outside 68..=9600", u.mtu.value),
                    ));
                }
                let vlan = match &u.vlan {
                    Some(v) if !(1..=4094).contains(&v.value) => {
                        return Err(err(
                            &v.referenced,
                            format!("underlay VLAN {} is outside 1..=4094", v.value),
                        ));
                    }
                    v => v.as_ref().map(|v| v.value),
                };
                let mut next_hops = BTreeMap::new();
                for (ip, mac) in &u.next_hops.0 {
                    let ip = parse_ipv4(path, ip, "next_hops key")?;
                    let mac = parse_mac(&mac.value).ok_or_else(|| {
                        err(
                            &mac.referenced,
                            format!(
                                "`{}` is not a MAC address (expected aa:bb:cc:dd:ee:ff)",
                                mac.value
                            ),
                        )
                    })?;
                    next_hops.insert(ip, mac);
                }
                let underlay_name = ports[underlay_port].name.clone();
                let both = |at: &serde_saphyr::Location| {
                    err(
                        at,
                        "roles.l2_gateway takes one of `standalone:`, `logical:` or \
                         `controller:`, not several"
                            .into(),
                    )
                };
                let controller = match l2.controller {
                    None => None,
                    Some(c) => {
                        if let Some(file) = &l2.standalone {
                            return Err(both(&file.referenced));
                        }
                        if l2.logical.is_some() {
                            return Err(both(&c.referenced));
                        }
                        if c.value.remotes.is_empty() && c.value.serve.is_none() {
                            return Err(err(
                                &c.referenced,
                                "roles.l2_gateway.controller needs at least one remote \
                                 (e.g. `unix:/run/openvswitch/vtep.sock`) or `serve:`"
                                    .into(),
                            ));
                        }
                        let mut remotes = Vec::new();
                        let serve = match &c.value.serve {
                            None => None,
                            Some(s) => {
                                let abs = |v: &Spanned<String>, key: &str| {
                                    let p = PathBuf::from(v.value.trim());
                                    if p.is_absolute() && p.file_name().is_some() {
                                        Ok(p)
                                    } else {
                                        Err(err(
                                            &v.referenced,
                                            format!(
                                                "controller.serve.{key} must be an absolute \
                                                 path, not `{}`",
                                                v.value
                                            ),
                                        ))
                                    }
                                };
                                let db = abs(&s.value.db, "db")?;
                                let rundir = match &s.value.rundir {
                                    Some(r) => abs(r, "rundir")?,
                                    None => db.parent().unwrap_or(Path::new("/")).to_owned(),
                                };
                                let schema = match &s.value.schema {
                                    Some(r) => abs(r, "schema")?,
                                    None => crate::ovsdb_server::DEFAULT_SCHEMA.into(),
                                };
                                let mut listen = Vec::new();
                                for l in &s.value.listen {
                                    crate::ovsdb_server::check_listen(l.value.trim())
                                        .map_err(|m| err(&l.referenced, m))?;
                                    listen.push(l.value.trim().to_owned());
                                }
                                let serve = crate::ovsdb_server::ServeConfig {
                                    db,
                                    schema,
                                    rundir,
                                    listen,
                                };
                                // The local server first: it is always there.
                                remotes.push(ovsdb::Remote::Unix(serve.socket()));
                                Some(serve)
                            }
                        };
                        for r in &c.value.remotes {
                            let remote = r.value.trim().parse::<ovsdb::Remote>().map_err(|_| {
                                err(
                                    &r.referenced,
                                    format!(
                                        "`{}` is not an OVSDB remote (expected \
                                         unix:/absolute/path, tcp:IP:PORT or ssl:IP:PORT)",
                                        r.value
                                    ),
                                )
                            })?;
                            remotes.push(remote);
                        }
                        let physical_switch = match &c.value.physical_switch {
                            Some(n) if n.value.trim().is_empty() => {
                                return Err(err(
                                    &n.referenced,
                                    "physical_switch must not be empty".into(),
                                ));
                            }
                            Some(n) => n.value.trim().to_owned(),
                            None => self.identity.name.value.clone(),
                        };
                        Some(ControllerConfig {
                            remotes,
                            physical_switch,
                            stats_interval: Duration::from_secs(u64::from(
                                c.value.stats_interval_s.max(1),
                            )),
                            serve,
                        })
                    }
                };
                let (model, standalone) = match (l2.standalone, l2.logical) {
                    _ if controller.is_some() => (L2Model::default(), None),
                    (Some(file), None) => {
                        let file_path = path
                            .parent()
                            .unwrap_or(Path::new("."))
                            .join(file.value.trim());
                        let model = crate::standalone::load(&file_path, &ports, &underlay_name)
                            .map_err(|mut e| {
                                if e.position.is_none() {
                                    e.message = format!(
                                        "{} (named at {}:{}:{})",
                                        e.message,
                                        path.display(),
                                        file.referenced.line(),
                                        file.referenced.column()
                                    );
                                }
                                e
                            })?;
                        (model, Some(file_path))
                    }
                    (None, Some(logical)) => {
                        (logical.validate(path, &ports, &underlay_name)?, None)
                    }
                    (Some(file), Some(_)) => {
                        return Err(err(
                            &file.referenced,
                            "roles.l2_gateway takes one of `standalone:`, `logical:` or \
                             `controller:`, not several"
                                .into(),
                        ));
                    }
                    (None, None) => {
                        return Err(err(
                            &u.port.referenced,
                            "roles.l2_gateway needs its logical configuration: `standalone: \
                             <file>`, `logical:` or `controller:`"
                                .into(),
                        ));
                    }
                };
                Some(L2GatewayConfig {
                    underlay_port,
                    tunnel_ip,
                    mtu: u.mtu.value,
                    vlan,
                    next_hops,
                    next_hop,
                    mac_ageing: Duration::from_secs(u64::from(l2.mac_ageing_s.max(1))),
                    limits: crate::vtep::Limits {
                        local_macs: l2.limits.local_macs,
                        remote_macs: l2.limits.remote_macs,
                        tunnels: l2.limits.tunnels,
                    },
                    model,
                    standalone,
                    controller,
                })
            }
        };

        Ok(Config {
            l2_gateway,
            name: self.identity.name.value,
            failure_zone: self.identity.failure_zone,
            eal_args: self.dpdk.eal_args,
            mbufs: self.dpdk.mbufs,
            mbuf_cache: self.dpdk.mbuf_cache,
            rx_descriptors: self.dpdk.rx_descriptors,
            tx_descriptors: self.dpdk.tx_descriptors,
            idle_sleep_us: self.dpdk.idle_sleep_us,
            ports,
            patch,
            underlay,
            metrics_listen,
            log_level: self.log.level,
        })
    }
}

/// `tunnel_ip` (with its optional prefix length), `gateway` and `arp_reachable_s` of
/// `roles.l2_gateway.underlay`, each error pointing at its value.
fn validate_underlay_subnet(
    u: &L2UnderlaySection,
    err: &dyn Fn(&serde_saphyr::Location, String) -> ConfigError,
) -> Result<(Ipv4Addr, NextHopConfig), ConfigError> {
    let at = &u.tunnel_ip.referenced;
    let text = u.tunnel_ip.value.trim();
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let tunnel_ip: Ipv4Addr = addr.parse().map_err(|_| {
        err(
            at,
            format!(
                "`{}` is not an IPv4 address (tunnel_ip; optionally with a prefix length,                  e.g. 192.0.2.1/24)",
                u.tunnel_ip.value
            ),
        )
    })?;
    let prefix_len = match len {
        None => 32,
        Some(l) => l
            .parse::<u8>()
            .ok()
            .filter(|n| (1..=32).contains(n))
            .ok_or_else(|| {
                err(
                    at,
                    format!("tunnel_ip `{text}`: the prefix length must be 1..=32"),
                )
            })?,
    };
    let mut next_hop = NextHopConfig {
        prefix_len,
        ..NextHopConfig::default()
    };
    let network = next_hop.network(tunnel_ip);
    let broadcast = Ipv4Addr::from(u32::from(network) | !next_hop.mask());
    // /31 (RFC 3021) and /32 have no network or broadcast address.
    if prefix_len <= 30 && (tunnel_ip == network || tunnel_ip == broadcast) {
        return Err(err(
            at,
            format!("tunnel_ip `{text}` is the network or broadcast address of its subnet"),
        ));
    }
    if let Some(g) = &u.gateway {
        let gateway: Ipv4Addr = g.value.trim().parse().map_err(|_| {
            err(
                &g.referenced,
                format!("`{}` is not an IPv4 address (gateway)", g.value),
            )
        })?;
        if gateway.is_unspecified() || gateway.is_multicast() || gateway.is_broadcast() {
            return Err(err(
                &g.referenced,
                format!("gateway {gateway} is not a unicast address"),
            ));
        }
        if gateway == tunnel_ip {
            return Err(err(
                &g.referenced,
                format!("gateway {gateway} is our own tunnel_ip"),
            ));
        }
        // With a plain address (/32) the gateway is on-link by definition, as with
        // Linux's `onlink` routes; with a subnet it must be on it.
        if prefix_len < 32 && !next_hop.on_link(tunnel_ip, gateway) {
            return Err(err(
                &g.referenced,
                format!("gateway {gateway} is not on the underlay subnet {network}/{prefix_len}"),
            ));
        }
        if prefix_len <= 30 && (gateway == network || gateway == broadcast) {
            return Err(err(
                &g.referenced,
                format!("gateway {gateway} is the network or broadcast address of its subnet"),
            ));
        }
        next_hop.gateway = Some(gateway);
    }
    if let Some(r) = &u.arp_reachable_s {
        if !(1..=3600).contains(&r.value) {
            return Err(err(
                &r.referenced,
                format!("arp_reachable_s {} is outside 1..=3600", r.value),
            ));
        }
        next_hop.arp_reachable = Duration::from_secs(u64::from(r.value));
    }
    Ok((tunnel_ip, next_hop))
}

/// Parses `aa:bb:cc:dd:ee:ff` (or with `-`).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.trim().split([':', '-']);
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

fn parse_prefix(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = s.trim().split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
identity:
  name: gw1
  failure_zone: fz-a
dpdk:
  eal_args: [-l, 0-1, --no-huge]
ports:
  - name: left
    devargs: net_ring0
  - name: right
    devargs: net_ring1
    mac: 02:00:00:00:00:02
    mtu: 9000
roles:
  patch:
    - {from: left, to: right}
    - {from: right, to: left}
underlay:
  addresses: [192.0.2.10/24, 2001:db8::10/64]
metrics:
  listen: 127.0.0.1:9999
";

    fn parse_str(text: &str) -> Result<Config, ConfigError> {
        parse(Path::new("appliance.yaml"), text)
    }

    #[test]
    fn a_full_file_resolves_names_and_addresses() {
        let c = parse_str(GOOD).unwrap();
        assert_eq!(c.name, "gw1");
        assert_eq!(c.failure_zone.as_deref(), Some("fz-a"));
        assert_eq!(c.ports.len(), 2);
        assert_eq!(c.ports[1].mac, Some([2, 0, 0, 0, 0, 2]));
        assert_eq!(c.ports[1].mtu, Some(9000));
        assert!(c.ports[0].promiscuous);
        assert_eq!(c.patch, vec![(0, 1), (1, 0)]);
        assert_eq!(c.underlay.len(), 2);
        assert_eq!(c.underlay[1].1, 64);
        assert_eq!(c.metrics_listen, "127.0.0.1:9999".parse().unwrap());
        assert_eq!(c.mbufs, default_mbufs());
    }

    fn error_of(text: &str) -> ConfigError {
        parse_str(text).expect_err("the config should be rejected")
    }

    #[test]
    fn an_unknown_port_in_a_patch_link_points_at_the_reference() {
        let text = GOOD.replace("{from: right, to: left}", "{from: right, to: lfet}");
        let e = error_of(&text);
        assert_eq!(e.position, Some((16, 25)), "{e}");
        assert!(e.message.contains("no port named `lfet`"), "{e}");
        assert!(e.to_string().starts_with("appliance.yaml:16:25: "), "{e}");
    }

    #[test]
    fn a_bad_mac_names_line_and_column() {
        let e = error_of(&GOOD.replace("02:00:00:00:00:02", "02:00:00:00:00"));
        assert_eq!(e.position, Some((11, 10)), "{e}");
        assert!(e.message.contains("not a MAC address"), "{e}");
    }

    #[test]
    fn a_misspelt_key_is_an_error_with_position() {
        let e = error_of(&GOOD.replace("    devargs: net_ring1", "    devarg: net_ring1"));
        assert_eq!(e.position.map(|p| p.0), Some(10), "{e}");
        assert!(e.message.contains("devarg"), "{e}");
    }

    #[test]
    fn broken_yaml_syntax_is_an_error_with_position() {
        let e = error_of(&GOOD.replace("  name: gw1", "  name: [gw1"));
        assert!(e.position.is_some(), "{e}");
    }

    #[test]
    fn a_wrong_type_is_an_error_with_position() {
        let e = error_of(&GOOD.replace("mtu: 9000", "mtu: jumbo"));
        assert_eq!(e.position.map(|p| p.0), Some(12), "{e}");
    }

    #[test]
    fn duplicate_ports_and_self_links_are_rejected() {
        let e = error_of(&GOOD.replace("name: right", "name: left"));
        assert!(e.message.contains("defined twice"), "{e}");
        let e = error_of(&GOOD.replace("{from: left, to: right}", "{from: left, to: left}"));
        assert!(e.message.contains("back to itself"), "{e}");
        let e = error_of(&GOOD.replace("{from: right, to: left}", "{from: left, to: right}"));
        assert!(e.message.contains("already feeds"), "{e}");
    }

    #[test]
    fn bad_addresses_are_rejected() {
        let e = error_of(&GOOD.replace("192.0.2.10/24", "192.0.2.10/33"));
        assert_eq!(e.position.map(|p| p.0), Some(18), "{e}");
        let e = error_of(&GOOD.replace("127.0.0.1:9999", "localhost"));
        assert_eq!(e.position.map(|p| p.0), Some(20), "{e}");
    }

    const L2: &str = "\
identity: {name: gw1}
dpdk: {eal_args: []}
ports:
  - {name: phys, devargs: net_null0}
  - {name: uplink, devargs: net_null1}
roles:
  l2_gateway:
    underlay:
      port: uplink
      tunnel_ip: 192.0.2.1
      vlan: 20
      next_hops:
        192.0.2.2: 02:00:00:00:00:02
    mac_ageing_s: 60
    logical:
      switches: [{name: web, vni: 5000}]
      bindings: [{port: phys, vlan: 100, switch: web}]
      unknown_dst: [{switch: web, locators: [192.0.2.2]}]
";

    #[test]
    fn an_l2_gateway_with_inline_logical_configuration() {
        let c = parse_str(L2).unwrap();
        let l2 = c.l2_gateway.expect("configured");
        assert_eq!(l2.underlay_port, 1);
        assert_eq!(l2.tunnel_ip, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!((l2.mtu, l2.vlan), (1500, Some(20)));
        assert_eq!(
            l2.next_hops[&Ipv4Addr::new(192, 0, 2, 2)],
            [2, 0, 0, 0, 0, 2]
        );
        assert_eq!(l2.mac_ageing, Duration::from_secs(60));
        assert_eq!(l2.model.switches["web"].vni, 5000);
        assert_eq!(l2.standalone, None);
    }

    #[test]
    fn l2_gateway_errors_point_at_the_value() {
        let e = error_of(&L2.replace("192.0.2.2: 02", "192.0.2.256: 02"));
        assert_eq!(e.position, Some((13, 9)), "{e}");
        let e = error_of(&L2.replace("02:00:00:00:00:02", "02:00:00:00:00:0g"));
        assert_eq!(e.position, Some((13, 20)), "{e}");
        let e = error_of(&L2.replace("port: uplink", "port: uplnk"));
        assert_eq!(e.position, Some((9, 13)), "{e}");
        let e = error_of(&L2.replace("tunnel_ip: 192.0.2.1", "tunnel_ip: 2001:db8::1"));
        assert_eq!(e.position, Some((10, 18)), "{e}");
        let e = error_of(&L2.replace("vlan: 20", "vlan: 4095"));
        assert_eq!(e.position, Some((11, 13)), "{e}");
        let e = error_of(&L2.replace("vni: 5000", "vni: 99999999"));
        assert_eq!(e.position, Some((16, 35)), "{e}");
        assert!(e.message.contains("above 2^24-1"), "{e}");
        let e = error_of(&L2.replace("port: phys,", "port: uplink,"));
        assert!(e.message.contains("underlay port"), "{e}");
        let e = error_of(&L2.replace("    logical:\n", "    standalone: x.yaml\n    logical:\n"));
        assert!(e.message.contains("not several"), "{e}");
    }

    #[test]
    fn the_underlay_subnet_gateway_and_arp_timer() {
        let l2 = parse_str(L2).unwrap().l2_gateway.unwrap();
        assert_eq!(l2.next_hop, NextHopConfig::default());
        assert_eq!(l2.next_hop.prefix_len, 32, "a plain address is a /32");
        assert!(
            !l2.next_hop
                .on_link(l2.tunnel_ip, Ipv4Addr::new(192, 0, 2, 2))
        );
        assert_eq!(l2.next_hop.arp_reachable, Duration::from_secs(30));

        let text = L2.replace(
            "tunnel_ip: 192.0.2.1\n",
            "tunnel_ip: 192.0.2.1/24\n      gateway: 192.0.2.254\n      arp_reachable_s: 45\n",
        );
        let l2 = parse_str(&text).unwrap().l2_gateway.unwrap();
        assert_eq!(l2.tunnel_ip, Ipv4Addr::new(192, 0, 2, 1));
        let n = l2.next_hop;
        assert_eq!(n.prefix_len, 24);
        assert_eq!(n.gateway, Some(Ipv4Addr::new(192, 0, 2, 254)));
        assert_eq!(n.arp_reachable, Duration::from_secs(45));
        assert!(n.on_link(l2.tunnel_ip, Ipv4Addr::new(192, 0, 2, 2)));
        assert!(!n.on_link(l2.tunnel_ip, Ipv4Addr::new(192, 0, 3, 2)));
        assert!(
            !n.on_link(l2.tunnel_ip, l2.tunnel_ip),
            "not our own address"
        );
        assert_eq!(n.network(l2.tunnel_ip), Ipv4Addr::new(192, 0, 2, 0));
        // Static next hops stay as they were.
        assert_eq!(l2.next_hops.len(), 1);

        // A plain address with a gateway: the gateway is on-link.
        let text = L2.replace(
            "tunnel_ip: 192.0.2.1\n",
            "tunnel_ip: 192.0.2.1\n      gateway: 10.0.0.1\n",
        );
        let n = parse_str(&text).unwrap().l2_gateway.unwrap().next_hop;
        assert_eq!(
            (n.prefix_len, n.gateway),
            (32, Some(Ipv4Addr::new(10, 0, 0, 1)))
        );
        // /31 (RFC 3021): both addresses are hosts.
        let text = L2.replace("tunnel_ip: 192.0.2.1\n", "tunnel_ip: 192.0.2.0/31\n");
        let l2 = parse_str(&text).unwrap().l2_gateway.unwrap();
        assert!(
            l2.next_hop
                .on_link(l2.tunnel_ip, Ipv4Addr::new(192, 0, 2, 1))
        );
    }

    #[test]
    fn underlay_subnet_errors_point_at_the_value() {
        let with = |tunnel: &str, extra: &str| {
            error_of(&L2.replace(
                "tunnel_ip: 192.0.2.1\n",
                &format!("tunnel_ip: {tunnel}\n{extra}"),
            ))
        };
        for bad in ["192.0.2.1/33", "192.0.2.1/0", "192.0.2.1/", "192.0.2.1/x"] {
            let e = with(bad, "");
            assert_eq!(e.position, Some((10, 18)), "{bad}: {e}");
            assert!(e.message.contains("prefix length must be 1..=32"), "{e}");
        }
        let e = with("192.0.2.300/24", "");
        assert_eq!(e.position, Some((10, 18)), "{e}");
        assert!(e.message.contains("not an IPv4 address"), "{e}");
        for bad in ["192.0.2.0/24", "192.0.2.255/24"] {
            let e = with(bad, "");
            assert!(e.message.contains("network or broadcast"), "{bad}: {e}");
        }
        let e = with("192.0.2.1/24", "      gateway: 192.0.3.1\n");
        assert_eq!(e.position, Some((11, 16)), "{e}");
        assert!(
            e.message
                .contains("not on the underlay subnet 192.0.2.0/24"),
            "{e}"
        );
        let e = with("192.0.2.1/24", "      gateway: 192.0.2.1\n");
        assert_eq!(e.position, Some((11, 16)), "{e}");
        assert!(e.message.contains("our own tunnel_ip"), "{e}");
        let e = with("192.0.2.1/24", "      gateway: 192.0.2.255\n");
        assert!(e.message.contains("network or broadcast"), "{e}");
        let e = with("192.0.2.1/24", "      gateway: 224.0.0.1\n");
        assert!(e.message.contains("not a unicast address"), "{e}");
        let e = with("192.0.2.1/24", "      gateway: router\n");
        assert_eq!(e.position, Some((11, 16)), "{e}");
        assert!(e.message.contains("not an IPv4 address (gateway)"), "{e}");
        let e = with("192.0.2.1/24", "      arp_reachable_s: 0\n");
        assert_eq!(e.position, Some((11, 24)), "{e}");
        assert!(e.message.contains("outside 1..=3600"), "{e}");
        let e = with("192.0.2.1/24", "      arp_reachable_s: soon\n");
        assert_eq!(e.position.map(|p| p.0), Some(11), "{e}");
        assert!(e.to_string().starts_with("appliance.yaml:11:"), "{e}");
    }

    #[test]
    fn a_standalone_file_is_read_relative_to_the_bootstrap_file() {
        let dir = tempfile::tempdir().unwrap();
        let logical = "switches:\n  - {name: web, vni: 5000}\nbindings:\n  - {port: phys, vlan: 7, switch: nope}\n";
        std::fs::write(dir.path().join("logical.yaml"), logical).unwrap();
        let boot =
            L2.split("    logical:").next().unwrap().to_owned() + "    standalone: logical.yaml\n";
        let path = dir.path().join("appliance.yaml");
        std::fs::write(&path, &boot).unwrap();
        let e = load(&path).expect_err("unknown switch");
        assert_eq!(e.file, dir.path().join("logical.yaml"));
        assert_eq!(e.position, Some((4, 35)), "{e}");
        std::fs::write(
            dir.path().join("logical.yaml"),
            logical.replace("nope", "web"),
        )
        .unwrap();
        let c = load(&path).unwrap();
        let l2 = c.l2_gateway.unwrap();
        assert_eq!(l2.model.bindings[&("phys".to_string(), 7)], "web");
        assert_eq!(l2.standalone, Some(dir.path().join("logical.yaml")));
        std::fs::remove_file(dir.path().join("logical.yaml")).unwrap();
        let e = load(&path).expect_err("missing file");
        assert!(
            e.message.contains("cannot read") && e.message.contains("appliance.yaml:15:"),
            "{e}"
        );
    }

    fn with_controller(controller: &str) -> String {
        L2.split("    logical:").next().unwrap().to_owned() + controller
    }

    #[test]
    fn an_l2_gateway_with_a_controller() {
        let c = parse_str(&with_controller(
            "    controller:\n      remotes: [\"unix:/run/vtep.sock\", \"tcp:127.0.0.1:6640\"]\n",
        ))
        .unwrap();
        let l2 = c.l2_gateway.expect("configured");
        let ctl = l2.controller.expect("controller");
        assert_eq!(
            ctl.remotes,
            vec![
                ovsdb::Remote::Unix("/run/vtep.sock".into()),
                ovsdb::Remote::Tcp("127.0.0.1:6640".parse().unwrap()),
            ]
        );
        assert_eq!(ctl.physical_switch, "gw1");
        assert_eq!(l2.model, L2Model::default());
        assert_eq!(l2.standalone, None);
        let c = parse_str(&with_controller(
            "    controller: {remotes: [\"ssl:192.0.2.9:6640\"], physical_switch: tor7}\n",
        ))
        .unwrap();
        assert_eq!(
            c.l2_gateway.unwrap().controller.unwrap().physical_switch,
            "tor7"
        );
    }

    #[test]
    fn l2_limits_and_stats_interval_default_to_the_scale_target() {
        let c = parse_str(&with_controller(
            "    controller: {remotes: [\"unix:/a\"]}\n",
        ))
        .unwrap();
        let l2 = c.l2_gateway.unwrap();
        assert_eq!(l2.limits, crate::vtep::Limits::default());
        assert_eq!(l2.limits.local_macs, 100_000);
        assert_eq!(l2.limits.remote_macs, 1_000_000);
        assert_eq!(
            l2.controller.unwrap().stats_interval,
            Duration::from_secs(5)
        );
        let c = parse_str(&with_controller(
            "    limits: {local_macs: 10, tunnels: 3}\n    controller: {remotes: [\"unix:/a\"], \
             stats_interval_s: 30}\n",
        ))
        .unwrap();
        let l2 = c.l2_gateway.unwrap();
        assert_eq!(
            l2.limits,
            crate::vtep::Limits {
                local_macs: 10,
                remote_macs: 1_000_000,
                tunnels: 3
            }
        );
        assert_eq!(
            l2.controller.unwrap().stats_interval,
            Duration::from_secs(30)
        );
        let e = error_of(&with_controller(
            "    limits: {macs: 10}\n    controller: {remotes: [\"unix:/a\"]}\n",
        ));
        assert!(e.message.contains("macs"), "{e}");
    }

    #[test]
    fn controller_errors_point_at_the_value() {
        let e = error_of(&with_controller(
            "    controller:\n      remotes: [\"unix:/ok.sock\", \"unix:relative.sock\"]\n",
        ));
        assert_eq!(e.position, Some((16, 34)), "{e}");
        assert!(e.message.contains("not an OVSDB remote"), "{e}");
        let e = error_of(&with_controller(
            "    controller:\n      remotes: [tcp:localhost:6640]\n",
        ));
        assert_eq!(e.position, Some((16, 17)), "{e}");
        assert!(e.message.contains("not an OVSDB remote"), "{e}");
        let e = error_of(&with_controller("    controller: {remotes: []}\n"));
        assert_eq!(e.position.map(|p| p.0), Some(15), "{e}");
        assert!(e.message.contains("at least one remote"), "{e}");
        let e = error_of(&with_controller(
            "    controller: {remotes: [\"unix:/a\"], physical_switch: \"\"}\n",
        ));
        assert_eq!(e.position.map(|p| p.0), Some(15), "{e}");
        assert!(e.message.contains("must not be empty"), "{e}");
        let e = error_of(&with_controller(
            "    controller: {remotes: [\"unix:/a\"], switch: gw1}\n",
        ));
        assert_eq!(e.position.map(|p| p.0), Some(15), "{e}");
        assert!(e.message.contains("switch"), "{e}");
        // Exactly one source.
        let e = error_of(&format!("{L2}    controller: {{remotes: [\"unix:/a\"]}}\n"));
        assert!(e.message.contains("not several"), "{e}");
        assert_eq!(e.position.map(|p| p.0), Some(19), "{e}");
        let e = error_of(&with_controller(
            "    standalone: x.yaml\n    controller: {remotes: [\"unix:/a\"]}\n",
        ));
        assert!(e.message.contains("not several"), "{e}");
        assert_eq!(e.position, Some((15, 17)), "{e}");
        let e = error_of(L2.split("    logical:").next().unwrap());
        assert!(e.message.contains("`controller:`"), "{e}");
    }

    #[test]
    fn a_controller_served_on_the_box() {
        let c = parse_str(&with_controller(
            "    controller:\n      physical_switch: gw1\n      serve:\n        \
             db: /var/lib/causeway/vtep.db\n        listen: [\"ptcp:6640:0.0.0.0\"]\n",
        ))
        .unwrap();
        let ctl = c.l2_gateway.unwrap().controller.unwrap();
        let serve = ctl.serve.expect("serve");
        assert_eq!(serve.rundir, Path::new("/var/lib/causeway"));
        assert_eq!(serve.schema, Path::new(crate::ovsdb_server::DEFAULT_SCHEMA));
        assert_eq!(serve.listen, ["ptcp:6640:0.0.0.0"]);
        // Only the local socket when no remotes are given.
        assert_eq!(
            ctl.remotes,
            [ovsdb::Remote::Unix("/var/lib/causeway/vtep.sock".into())]
        );
        // With remotes: the local server first, then those.
        let c = parse_str(&with_controller(
            "    controller:\n      remotes: [\"tcp:192.0.2.9:6640\"]\n      serve: \
             {db: /d/vtep.db, rundir: /run/cw}\n",
        ))
        .unwrap();
        let ctl = c.l2_gateway.unwrap().controller.unwrap();
        assert_eq!(ctl.remotes.len(), 2);
        assert_eq!(
            ctl.remotes[0],
            ovsdb::Remote::Unix("/run/cw/vtep.sock".into())
        );
    }

    #[test]
    fn serve_errors_point_at_the_value() {
        let e = error_of(&with_controller(
            "    controller:\n      serve:\n        db: /d/vtep.db\n        \
             listen: [\"ptcp:6640:0.0.0.0\", \"tcp:6640\"]\n",
        ));
        assert_eq!(e.position, Some((18, 39)), "{e}");
        assert!(
            e.message.contains("not a supported ovsdb-server remote"),
            "{e}"
        );
        let e = error_of(&with_controller(
            "    controller:\n      serve: {db: vtep.db}\n",
        ));
        assert_eq!(e.position, Some((16, 19)), "{e}");
        assert!(e.message.contains("absolute"), "{e}");
        let e = error_of(&with_controller(
            "    controller:\n      serve: {db: /d/vtep.db, port: 6640}\n",
        ));
        assert!(e.message.contains("port"), "{e}");
    }

    #[test]
    fn mac_parser() {
        assert_eq!(
            parse_mac("aa-bb-cc-dd-ee-ff"),
            Some([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        );
        assert_eq!(parse_mac("aa:bb:cc:dd:ee:ff:00"), None);
        assert_eq!(parse_mac("aa:bb:cc:dd:ee:f"), None);
        assert_eq!(parse_mac("zz:bb:cc:dd:ee:ff"), None);
    }
}
