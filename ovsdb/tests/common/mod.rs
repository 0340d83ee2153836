//! Real `ovsdb-server` processes for the integration tests: temp dirs removed and
//! processes killed (by PID) on drop.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ovsdb::{Datum, Remote, Snapshot};

pub const VTEP_SCHEMA: &str = "/usr/share/openvswitch/vtep.ovsschema";
pub const DB: &str = "hardware_vtep";

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "ovsdb-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free TCP port on 127.0.0.1 (racy but good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One ovsdb-server, in the foreground as our child.
pub struct Server {
    pub name: String,
    pub dir: PathBuf,
    pub db: PathBuf,
    pub sock: PathBuf,
    pub ctl: PathBuf,
    pub port: u16,
    /// Extra command-line arguments (TLS files, more remotes).
    pub extra: Vec<String>,
    child: Option<Child>,
}

impl Server {
    /// A standalone hardware_vtep database in `dir`.
    pub fn standalone(dir: &Path, name: &str) -> Self {
        let db = dir.join(format!("{name}.db"));
        run("ovsdb-tool", &["create", db.to_str().unwrap(), VTEP_SCHEMA]);
        Self::new(dir, name, db)
    }

    pub fn new(dir: &Path, name: &str, db: PathBuf) -> Self {
        Self::with_args(dir, name, db, Vec::new())
    }

    pub fn with_args(dir: &Path, name: &str, db: PathBuf, extra: Vec<String>) -> Self {
        let mut s = Server {
            name: name.to_owned(),
            dir: dir.to_owned(),
            db,
            sock: dir.join(format!("{name}.sock")),
            ctl: dir.join(format!("{name}.ctl")),
            port: free_port(),
            extra,
            child: None,
        };
        s.start();
        s
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new("ovsdb-server")
            .arg(&self.db)
            .arg(format!("--remote=punix:{}", self.sock.display()))
            .arg(format!("--remote=ptcp:{}:127.0.0.1", self.port))
            .arg(format!("--unixctl={}", self.ctl.display()))
            .arg(format!(
                "--log-file={}",
                self.dir.join(format!("{}.log", self.name)).display()
            ))
            .arg("--no-chdir")
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ovsdb-server");
        self.child = Some(child);
        let start = Instant::now();
        while std::os::unix::net::UnixStream::connect(&self.sock).is_err()
            || std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{} did not start",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, by PID.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn unix(&self) -> Remote {
        Remote::Unix(self.sock.clone())
    }

    pub fn tcp(&self) -> Remote {
        format!("tcp:127.0.0.1:{}", self.port).parse().unwrap()
    }

    pub fn db_arg(&self) -> String {
        format!("--db=unix:{}", self.sock.display())
    }

    pub fn vtep_ctl(&self, args: &[&str]) -> String {
        let db = self.db_arg();
        let mut a = vec![db.as_str(), "--timeout=10"];
        a.extend_from_slice(args);
        run("vtep-ctl", &a)
    }

    pub fn appctl(&self, args: &[&str]) -> String {
        let ctl = self.ctl.to_str().unwrap().to_owned();
        let mut a = vec!["-t", ctl.as_str()];
        a.extend_from_slice(args);
        run("ovs-appctl", &a)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Compares a snapshot with `ovsdb-client dump --format=json`; returns the first
/// difference.
pub fn diff_with_dump(snap: &Snapshot, dump: &str) -> Option<String> {
    let schema = snap.schema.as_ref()?;
    let mut tables = 0;
    for line in dump.lines().filter(|l| !l.trim().is_empty()) {
        let t: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = t["caption"]
            .as_str()
            .unwrap()
            .trim_end_matches(" table")
            .to_owned();
        let headings: Vec<&str> = t["headings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap())
            .collect();
        let data = t["data"].as_array().unwrap();
        if snap.len(&name) != data.len() {
            return Some(format!(
                "{name}: {} rows in replica, {} in dump",
                snap.len(&name),
                data.len()
            ));
        }
        for row in data {
            let row = row.as_array().unwrap();
            let mut uuid = None;
            for (h, cell) in headings.iter().zip(row) {
                if *h == "_uuid" {
                    uuid = Datum::from_json(cell).unwrap().as_uuid();
                }
            }
            let uuid = uuid.unwrap();
            let Some(r) = snap.row(&name, &uuid) else {
                return Some(format!("{name} {uuid} missing from the replica"));
            };
            for (h, cell) in headings.iter().zip(row) {
                if *h == "_uuid" {
                    continue;
                }
                let ty = schema.column_type(&name, h).unwrap();
                let want = Datum::from_json_typed(cell, ty).unwrap();
                if r.get(h) != Some(&want) {
                    return Some(format!(
                        "{name} {uuid} {h}: replica {:?}, dump {want}",
                        r.get(h).map(|d| d.to_string())
                    ));
                }
            }
        }
        tables += 1;
    }
    (tables == 0).then(|| "empty dump".to_owned())
}

/// A PKI made by `ovs-pki` with certificates for a server and a client.
pub struct Pki {
    pub cacert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl Pki {
    pub fn new(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let pki = dir.join("pki");
        let d = format!("--dir={}", pki.display());
        let log = format!("--log={}", dir.join("ovs-pki.log").display());
        run("ovs-pki", &[&d, &log, "init", "--force"]);
        for who in ["srv", "cli"] {
            let out = Command::new("ovs-pki")
                .args([d.as_str(), log.as_str(), "req+sign", who, "switch"])
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Pki {
            cacert: pki.join("switchca/cacert.pem"),
            server_cert: dir.join("srv-cert.pem"),
            server_key: dir.join("srv-privkey.pem"),
            client_cert: dir.join("cli-cert.pem"),
            client_key: dir.join("cli-privkey.pem"),
        }
    }
}
