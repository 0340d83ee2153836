//! Standalone mode: the L2 gateway's logical configuration from a YAML file instead of
//! a controller (labs, and boxes that run without any controller).
//!
//! The file describes exactly what the hardware_vtep agent would otherwise build from
//! the database, an [`L2Model`]:
//!
//! ```yaml
//! switches:
//!   - {name: web, vni: 5000}                         # replication: source_node (default)
//!   - {name: db, vni: 5001, replication: service_node}
//! bindings:                                          # Physical_Port.vlan_bindings
//!   - {port: phys, vlan: 100, switch: web}           # vlan 0 = untagged
//! remote_macs:                                       # Ucast_Macs_Remote
//!   - {switch: web, mac: "02:00:00:00:00:0a", locator: 192.0.2.2}
//! unknown_dst:                                       # Mcast_Macs_Remote unknown-dst
//!   - {switch: web, locators: [192.0.2.2]}
//! ```
//!
//! Errors carry the file, line and column of the offending value: unknown switches or
//! ports, bad MACs or addresses, a VNI above 2^24-1, VLANs above 4095, duplicates.

use crate::config::{ConfigError, PortConfig, parse_mac};
use crate::l2model::{L2Model, LogicalSwitch, Replication};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};
use std::net::Ipv4Addr;
use std::path::Path;

/// The largest VNI (24 bits).
pub const MAX_VNI: u32 = 0x00ff_ffff;

/// The logical configuration as written (a standalone file or the inline `logical:`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogicalSection {
    /// Logical switches.
    #[serde(default)]
    pub switches: Vec<SwitchSection>,
    /// VLAN bindings of physical ports.
    #[serde(default)]
    pub bindings: Vec<BindingSection>,
    /// MACs behind remote tunnel endpoints.
    #[serde(default)]
    pub remote_macs: Vec<RemoteMacSection>,
    /// Per switch, the locators that receive broadcast, unknown and multicast frames.
    #[serde(default)]
    pub unknown_dst: Vec<UnknownDstSection>,
}

/// How a switch replicates BUM frames to tunnel endpoints.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicationSection {
    /// One copy per `unknown_dst` locator.
    #[default]
    SourceNode,
    /// One copy to one of the `unknown_dst` locators (service nodes).
    ServiceNode,
}

/// One logical switch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchSection {
    /// Its name (what bindings and MACs refer to).
    pub name: Spanned<String>,
    /// VXLAN network identifier; 0 = configured but not forwarded.
    pub vni: Spanned<u32>,
    /// `source_node` (default) or `service_node`.
    #[serde(default)]
    pub replication: ReplicationSection,
}

/// One VLAN binding.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingSection {
    /// A port of the bootstrap file's `ports:` (not the underlay port).
    pub port: Spanned<String>,
    /// VLAN 1..=4095, or 0 for untagged frames.
    pub vlan: Spanned<u16>,
    /// Logical switch name.
    pub switch: Spanned<String>,
}

/// One remote MAC.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteMacSection {
    /// Logical switch name.
    pub switch: Spanned<String>,
    /// The station's MAC.
    pub mac: Spanned<String>,
    /// The tunnel endpoint (IPv4) it lives behind.
    pub locator: Spanned<String>,
}

/// The `unknown-dst` locators of one switch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnknownDstSection {
    /// Logical switch name.
    pub switch: Spanned<String>,
    /// Tunnel endpoints (IPv4).
    pub locators: Vec<Spanned<String>>,
}

fn error(file: &Path, at: &Location, message: String) -> ConfigError {
    ConfigError {
        file: file.to_owned(),
        position: (*at != Location::UNKNOWN).then(|| (at.line(), at.column())),
        message,
    }
}

/// Parses an IPv4 address written as a YAML string, pointing at it when it is not one.
pub(crate) fn parse_ipv4(
    file: &Path,
    s: &Spanned<String>,
    what: &str,
) -> Result<Ipv4Addr, ConfigError> {
    s.value.trim().parse().map_err(|_| {
        error(
            file,
            &s.referenced,
            format!("`{}` is not an IPv4 address ({what})", s.value),
        )
    })
}

impl LogicalSection {
    /// Resolves names against the bootstrap's ports (the underlay port excluded) and
    /// checks every value; `file` names the source in errors.
    pub fn validate(
        self,
        file: &Path,
        ports: &[PortConfig],
        underlay_port: &str,
    ) -> Result<L2Model, ConfigError> {
        let mut model = L2Model::default();
        for s in &self.switches {
            let name = s.name.value.trim();
            if name.is_empty() {
                return Err(error(
                    file,
                    &s.name.referenced,
                    "switch name must not be empty".into(),
                ));
            }
            if model.switches.contains_key(name) {
                return Err(error(
                    file,
                    &s.name.referenced,
                    format!("logical switch `{name}` is defined twice"),
                ));
            }
            let vni = s.vni.value;
            if vni > MAX_VNI {
                return Err(error(
                    file,
                    &s.vni.referenced,
                    format!("VNI {vni} is above 2^24-1 ({MAX_VNI})"),
                ));
            }
            if vni != 0
                && let Some((other, _)) = model.switches.iter().find(|(_, ls)| ls.vni == vni)
            {
                return Err(error(
                    file,
                    &s.vni.referenced,
                    format!("VNI {vni} is already used by logical switch `{other}`"),
                ));
            }
            model.switches.insert(
                name.to_owned(),
                LogicalSwitch {
                    vni,
                    replication: match s.replication {
                        ReplicationSection::SourceNode => Replication::SourceNode,
                        ReplicationSection::ServiceNode => Replication::ServiceNode,
                    },
                },
            );
        }
        let switch = |s: &Spanned<String>| -> Result<String, ConfigError> {
            let name = s.value.trim();
            if model.switches.contains_key(name) {
                Ok(name.to_owned())
            } else {
                Err(error(
                    file,
                    &s.referenced,
                    format!("no logical switch named `{}`", s.value),
                ))
            }
        };
        let mut bindings = std::collections::BTreeMap::new();
        for b in &self.bindings {
            let port = b.port.value.trim();
            if !ports.iter().any(|p| p.name == port) {
                return Err(error(
                    file,
                    &b.port.referenced,
                    format!("no port named `{port}`"),
                ));
            }
            if port == underlay_port {
                return Err(error(
                    file,
                    &b.port.referenced,
                    format!("port `{port}` is the underlay port and cannot have VLAN bindings"),
                ));
            }
            if b.vlan.value > 4095 {
                return Err(error(
                    file,
                    &b.vlan.referenced,
                    format!("VLAN {} is above 4095", b.vlan.value),
                ));
            }
            let ls = switch(&b.switch)?;
            let key = (port.to_owned(), b.vlan.value);
            if bindings.insert(key, ls).is_some() {
                return Err(error(
                    file,
                    &b.port.referenced,
                    format!("port `{port}` VLAN {} is bound twice", b.vlan.value),
                ));
            }
        }
        model.bindings = bindings;
        let mut remote_macs = std::collections::BTreeMap::new();
        for r in &self.remote_macs {
            let ls = switch(&r.switch)?;
            let mac = parse_mac(&r.mac.value).ok_or_else(|| {
                error(
                    file,
                    &r.mac.referenced,
                    format!(
                        "`{}` is not a MAC address (expected aa:bb:cc:dd:ee:ff)",
                        r.mac.value
                    ),
                )
            })?;
            if mac[0] & 1 != 0 {
                return Err(error(
                    file,
                    &r.mac.referenced,
                    format!("`{}` is a group address, not a station", r.mac.value),
                ));
            }
            let locator = parse_ipv4(file, &r.locator, "locator")?;
            remote_macs.insert((ls, mac), locator);
        }
        model.remote_macs = remote_macs;
        for u in &self.unknown_dst {
            let ls = switch(&u.switch)?;
            let set = model.unknown_dst.entry(ls).or_default();
            for l in &u.locators {
                set.insert(parse_ipv4(file, l, "unknown_dst locator")?);
            }
        }
        Ok(model)
    }
}

/// Reads and validates a standalone logical file.
pub fn load(
    file: &Path,
    ports: &[PortConfig],
    underlay_port: &str,
) -> Result<L2Model, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|e| ConfigError {
        file: file.to_owned(),
        position: None,
        message: format!("cannot read the standalone logical file: {e}"),
    })?;
    parse(file, &text, ports, underlay_port)
}

/// Parses and validates standalone logical text; `file` only names it in errors.
pub fn parse(
    file: &Path,
    text: &str,
    ports: &[PortConfig],
    underlay_port: &str,
) -> Result<L2Model, ConfigError> {
    let section: LogicalSection = if text.trim().is_empty() {
        LogicalSection::default()
    } else {
        serde_saphyr::from_str(text).map_err(|e| crate::config::yaml_error(file, &e))?
    };
    section.validate(file, ports, underlay_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports() -> Vec<PortConfig> {
        ["phys", "phys2", "underlay"]
            .iter()
            .map(|n| PortConfig {
                name: (*n).into(),
                devargs: "net_null0".into(),
                mtu: None,
                mac: None,
                promiscuous: true,
            })
            .collect()
    }

    const GOOD: &str = "\
switches:
  - {name: web, vni: 5000}
  - {name: db, vni: 5001, replication: service_node}
bindings:
  - {port: phys, vlan: 100, switch: web}
  - {port: phys2, vlan: 0, switch: db}
remote_macs:
  - {switch: web, mac: \"02:00:00:00:00:0a\", locator: 192.0.2.2}
unknown_dst:
  - {switch: web, locators: [192.0.2.2, 192.0.2.3]}
";

    fn parse_str(text: &str) -> Result<L2Model, ConfigError> {
        parse(Path::new("logical.yaml"), text, &ports(), "underlay")
    }

    fn err(text: &str) -> ConfigError {
        parse_str(text).expect_err("should be rejected")
    }

    #[test]
    fn a_full_file_builds_the_model() {
        let m = parse_str(GOOD).unwrap();
        assert_eq!(m.switches.len(), 2);
        assert_eq!(m.switches["db"].replication, Replication::ServiceNode);
        assert_eq!(m.bindings[&("phys".to_string(), 100)], "web");
        assert_eq!(
            m.remote_macs[&("web".to_string(), [2, 0, 0, 0, 0, 0x0a])],
            Ipv4Addr::new(192, 0, 2, 2)
        );
        assert_eq!(m.unknown_dst["web"].len(), 2);
        assert_eq!(parse_str("").unwrap(), L2Model::default());
    }

    #[test]
    fn an_unknown_switch_points_at_the_reference() {
        let e = err(&GOOD.replace(
            "{port: phys, vlan: 100, switch: web}",
            "{port: phys, vlan: 100, switch: wbe}",
        ));
        assert_eq!(e.position, Some((5, 37)), "{e}");
        assert!(e.message.contains("no logical switch named `wbe`"), "{e}");
        assert!(e.to_string().starts_with("logical.yaml:5:37: "), "{e}");
    }

    #[test]
    fn an_unknown_or_underlay_port_is_rejected_with_position() {
        let e = err(&GOOD.replace("{port: phys2,", "{port: phys3,"));
        assert_eq!(e.position, Some((6, 12)), "{e}");
        assert!(e.message.contains("no port named `phys3`"), "{e}");
        let e = err(&GOOD.replace("{port: phys2,", "{port: underlay,"));
        assert_eq!(e.position, Some((6, 12)), "{e}");
        assert!(e.message.contains("underlay port"), "{e}");
    }

    #[test]
    fn bad_macs_and_addresses_are_rejected_with_position() {
        let e = err(&GOOD.replace("02:00:00:00:00:0a", "02:00:00:00:0a"));
        assert_eq!(e.position, Some((8, 24)), "{e}");
        assert!(e.message.contains("not a MAC address"), "{e}");
        let e = err(&GOOD.replace("locator: 192.0.2.2}", "locator: 192.0.2.300}"));
        assert_eq!(e.position, Some((8, 54)), "{e}");
        let e = err(&GOOD.replace("[192.0.2.2, 192.0.2.3]", "[192.0.2.2, hv2]"));
        assert_eq!(e.position, Some((10, 41)), "{e}");
        assert!(e.message.contains("`hv2` is not an IPv4 address"), "{e}");
    }

    #[test]
    fn vni_and_vlan_ranges_and_duplicates() {
        let e = err(&GOOD.replace("vni: 5000", "vni: 16777216"));
        assert_eq!(e.position, Some((2, 22)), "{e}");
        assert!(e.message.contains("above 2^24-1"), "{e}");
        let e = err(&GOOD.replace("vni: 5001", "vni: 5000"));
        assert_eq!(e.position, Some((3, 21)), "{e}");
        assert!(
            e.message.contains("already used by logical switch `web`"),
            "{e}"
        );
        let e = err(&GOOD.replace("vlan: 100", "vlan: 4096"));
        assert_eq!(e.position, Some((5, 24)), "{e}");
        let e = err(&GOOD.replace("{name: db,", "{name: web,"));
        assert!(e.message.contains("defined twice"), "{e}");
        let e = err(&GOOD.replace("replication: service_node", "replication: flood"));
        assert_eq!(e.position.map(|p| p.0), Some(3), "{e}");
        let e = err(&GOOD.replace("{name: web, vni: 5000}", "{name: web, vni: 5000, mode: x}"));
        assert_eq!(e.position.map(|p| p.0), Some(2), "{e}");
    }
}
