//! Remote addresses in OVS syntax: `unix:/abs/path`, `tcp:IP:PORT`, `ssl:IP:PORT`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use crate::Error;

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    /// A unix stream socket (absolute path).
    Unix(PathBuf),
    /// Plain TCP.
    Tcp(SocketAddr),
    /// TLS over TCP (needs [`crate::TlsFiles`] in the connect options).
    Ssl(SocketAddr),
}

impl Remote {
    /// Parses a comma-separated list of remotes, as OVS tools accept them.
    pub fn parse_list(s: &str) -> Result<Vec<Remote>, Error> {
        s.split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::parse)
            .collect()
    }
}

fn parse_addr(s: &str, whole: &str) -> Result<SocketAddr, Error> {
    let bad = || Error::InvalidRemote(whole.to_owned());
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: IpAddr = host.parse().map_err(|_| bad())?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    Ok(SocketAddr::new(ip, port))
}

impl FromStr for Remote {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        if let Some(p) = s.strip_prefix("unix:") {
            if !p.starts_with('/') {
                return Err(Error::InvalidRemote(s.to_owned()));
            }
            Ok(Remote::Unix(p.into()))
        } else if let Some(a) = s.strip_prefix("tcp:") {
            Ok(Remote::Tcp(parse_addr(a, s)?))
        } else if let Some(a) = s.strip_prefix("ssl:") {
            Ok(Remote::Ssl(parse_addr(a, s)?))
        } else {
            Err(Error::InvalidRemote(s.to_owned()))
        }
    }
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ip_port = |f: &mut fmt::Formatter<'_>, a: &SocketAddr| match a {
            SocketAddr::V4(a) => write!(f, "{}:{}", a.ip(), a.port()),
            SocketAddr::V6(a) => write!(f, "[{}]:{}", a.ip(), a.port()),
        };
        match self {
            Remote::Unix(p) => write!(f, "unix:{}", p.display()),
            Remote::Tcp(a) => {
                write!(f, "tcp:")?;
                ip_port(f, a)
            }
            Remote::Ssl(a) => {
                write!(f, "ssl:")?;
                ip_port(f, a)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let l = Remote::parse_list("unix:/run/x.sock, tcp:127.0.0.1:6640,ssl:[::1]:6641").unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l[0], Remote::Unix("/run/x.sock".into()));
        assert_eq!(l[1].to_string(), "tcp:127.0.0.1:6640");
        assert_eq!(l[2].to_string(), "ssl:[::1]:6641");
        for bad in [
            "unix:rel",
            "tcp:host:1",
            "tcp:1.2.3.4",
            "udp:1.2.3.4:5",
            "tcp:1.2.3.4:99999",
        ] {
            assert!(bad.parse::<Remote>().is_err(), "{bad}");
        }
    }
}
