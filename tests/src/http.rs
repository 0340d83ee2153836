//! A minimal blocking HTTP/1.0 GET client over `std::net::TcpStream`,
//! optionally from inside a network namespace.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::{Result, lab_err};

/// A response: status code and body.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    pub body: String,
}

/// GETs `path_and_query` from `addr`, connecting from inside the namespace
/// `ns` if given. HTTP/1.0 with `Connection: close`: the body runs to EOF and
/// is never chunked or compressed.
pub(crate) fn get(
    ns: Option<&str>,
    addr: SocketAddr,
    path_and_query: &str,
    timeout: Duration,
) -> Result<Response> {
    let stream = match ns {
        None => connect(addr, timeout)?,
        Some(ns) => crate::netns::in_netns(ns, || connect(addr, timeout))??,
    };
    request(stream, addr, path_and_query)
}

fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream> {
    let s =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| lab_err!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    Ok(s)
}

fn request(mut s: TcpStream, addr: SocketAddr, path: &str) -> Result<Response> {
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\nAccept: */*\r\n\r\n"
    )
    .map_err(|e| lab_err!("GET {addr}{path}: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| lab_err!("GET {addr}{path}: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| lab_err!("GET {addr}{path}: no end of headers in {} bytes", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| lab_err!("GET {addr}{path}: bad status line in {head:?}"))?;
    let mut body = raw[split + 4..].to_vec();
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        body = dechunk(&body).ok_or_else(|| lab_err!("GET {addr}{path}: bad chunked body"))?;
    }
    Ok(Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_s = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_s.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

/// Percent-encodes a query-string value.
pub(crate) fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn dechunks() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
        assert!(dechunk(b"5\r\nab").is_none());
    }

    #[test]
    fn encodes() {
        assert_eq!(
            encode_query(r#"up{job="a b"}"#),
            "up%7Bjob%3D%22a%20b%22%7D"
        );
    }
}
