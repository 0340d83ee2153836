//! Shared helpers for the EAL integration tests. Each test file is its own process,
//! because `rte_eal_init` runs once per process.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Removes the EAL runtime directory (`/var/run/dpdk/<file-prefix>`, created even with
/// `--no-shconf`) and the test's scratch directory when dropped.
pub struct Scratch {
    pub prefix: String,
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        let prefix = format!("cw-{test}-{}", std::process::id());
        let dir = std::env::temp_dir().join(&prefix);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { prefix, dir }
    }

    /// EAL arguments for a no-root, no-hugepage run on lcores 0-1.
    pub fn eal_args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = [
            "-l",
            "0-1",
            "--no-huge",
            "-m",
            "256",
            "--no-pci",
            "--no-shconf",
            "--no-telemetry",
            "--log-level=lib.eal:error",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--file-prefix={}", self.prefix));
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for run in ["/var/run/dpdk", "/run/dpdk"] {
            let _ = std::fs::remove_dir_all(Path::new(run).join(&self.prefix));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Polls `f` until it returns true or `timeout` passes.
pub fn poll_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::yield_now();
    }
    f()
}

/// A deterministic Ethernet frame of `len` bytes whose bytes depend on `seed`.
pub fn frame(seed: u8, len: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, seed]); // dst
    f.extend_from_slice(&[0x02, 0, 0, 0, 1, seed]); // src
    f.extend_from_slice(&[0x88, 0xb5]); // local experimental ethertype
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(1);
    while f.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        f.push(x as u8);
    }
    f.truncate(len);
    f
}

/// Writes a classic little-endian pcap file (DLT_EN10MB) holding `frames`.
pub fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    out.extend_from_slice(&65535u32.to_le_bytes()); // snaplen
    out.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    for (i, f) in frames.iter().enumerate() {
        out.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(f);
    }
    std::fs::write(path, out).unwrap();
}

/// Reads the frames of a pcap file (either byte order, micro- or nanosecond).
pub fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).unwrap();
    assert!(
        data.len() >= 24,
        "{} is too short for a pcap file",
        path.display()
    );
    let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let le = match magic {
        0xa1b2_c3d4 | 0xa1b2_3c4d => true,
        0xd4c3_b2a1 | 0x4d3c_b2a1 => false,
        other => panic!("{}: bad pcap magic {other:#x}", path.display()),
    };
    let u32_at = |o: usize| {
        let b: [u8; 4] = data[o..o + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let mut frames = Vec::new();
    let mut off = 24;
    while off + 16 <= data.len() {
        let caplen = u32_at(off + 8) as usize;
        let start = off + 16;
        frames.push(data[start..start + caplen].to_vec());
        off = start + caplen;
    }
    frames
}
