//! Classic pcap files (not pcapng): a reader for what `tcpdump -w` writes and
//! a writer for input files of DPDK's `net_pcap` PMD.
//!
//! Both byte orders and both timestamp resolutions (microseconds, magic
//! `0xa1b2c3d4`; nanoseconds, magic `0xa1b23c4d`) are read; files are written
//! little-endian with microsecond timestamps, link type Ethernet by default.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::{Result, lab_err};

/// Link type of Ethernet frames (`DLT_EN10MB`).
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Link type of Linux cooked captures v1 (`tcpdump -i any`).
pub const LINKTYPE_LINUX_SLL: u32 = 113;

const MAGIC_USEC: u32 = 0xa1b2_c3d4;
const MAGIC_NSEC: u32 = 0xa1b2_3c4d;

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Capture time since the Unix epoch.
    pub ts: Duration,
    /// Length of the packet on the wire (may exceed `data.len()` if truncated by snaplen).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: Vec<u8>,
}

/// A parsed pcap file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcap {
    /// Link type of every record (see [`LINKTYPE_ETHERNET`]).
    pub linktype: u32,
    /// Snapshot length from the header.
    pub snaplen: u32,
    /// Whether timestamps had nanosecond resolution.
    pub nanos: bool,
    /// The records in file order.
    pub records: Vec<Record>,
}

impl Pcap {
    /// The captured bytes of every record.
    pub fn frames(&self) -> Vec<Vec<u8>> {
        self.records.iter().map(|r| r.data.clone()).collect()
    }
}

/// Parses a classic pcap file. A truncated last record (a capture still being
/// written) is an error unless `allow_partial_tail`, in which case it is left out.
pub fn parse(bytes: &[u8], allow_partial_tail: bool) -> Result<Pcap> {
    if bytes.len() < 24 {
        return Err(lab_err!(
            "pcap: {} bytes is shorter than the file header",
            bytes.len()
        ));
    }
    let magic_le = u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes"));
    let magic_be = u32::from_be_bytes(bytes[0..4].try_into().expect("4 bytes"));
    let (le, nanos) = match (magic_le, magic_be) {
        (MAGIC_USEC, _) => (true, false),
        (MAGIC_NSEC, _) => (true, true),
        (_, MAGIC_USEC) => (false, false),
        (_, MAGIC_NSEC) => (false, true),
        _ => {
            return Err(lab_err!(
                "pcap: bad magic {magic_le:#010x} (pcapng is not supported)"
            ));
        }
    };
    let u32_at = |off: usize| {
        let b: [u8; 4] = bytes[off..off + 4].try_into().expect("4 bytes");
        if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let snaplen = u32_at(16);
    let linktype = u32_at(20) & 0x0fff_ffff; // upper bits: FCS info
    let mut records = Vec::new();
    let mut off = 24;
    while off < bytes.len() {
        if bytes.len() - off < 16 {
            if allow_partial_tail {
                break;
            }
            return Err(lab_err!("pcap: truncated record header at offset {off}"));
        }
        let (sec, frac, incl, orig) = (
            u32_at(off),
            u32_at(off + 4),
            u32_at(off + 8),
            u32_at(off + 12),
        );
        let start = off + 16;
        let end = start + incl as usize;
        if end > bytes.len() {
            if allow_partial_tail {
                break;
            }
            return Err(lab_err!(
                "pcap: record at offset {off} runs past the end of the file"
            ));
        }
        let sub = if nanos {
            frac
        } else {
            frac.saturating_mul(1000)
        };
        records.push(Record {
            ts: Duration::new(u64::from(sec), sub.min(999_999_999)),
            orig_len: orig,
            data: bytes[start..end].to_vec(),
        });
        off = end;
    }
    Ok(Pcap {
        linktype,
        snaplen,
        nanos,
        records,
    })
}

/// Reads and parses a complete pcap file.
pub fn read(path: impl AsRef<Path>) -> Result<Pcap> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| lab_err!("cannot read {}: {e}", path.display()))?;
    parse(&bytes, false).map_err(|e| lab_err!("{}: {e}", path.display()))
}

/// The frames (captured bytes) of a complete pcap file.
pub fn read_frames(path: impl AsRef<Path>) -> Result<Vec<Vec<u8>>> {
    Ok(read(path)?.frames())
}

/// Streams records into a classic pcap (little-endian, microsecond timestamps).
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> Writer<W> {
    /// Writes the file header.
    pub fn new(mut out: W, linktype: u32, snaplen: u32) -> Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&MAGIC_USEC.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&snaplen.to_le_bytes());
        h.extend_from_slice(&linktype.to_le_bytes());
        out.write_all(&h)?;
        Ok(Writer { out, snaplen })
    }

    /// Appends one packet captured at `ts` (since the epoch), truncated to the snaplen.
    pub fn write(&mut self, ts: Duration, data: &[u8]) -> Result<()> {
        let incl = data.len().min(self.snaplen as usize);
        let secs =
            u32::try_from(ts.as_secs()).map_err(|_| lab_err!("pcap: timestamp past 2106"))?;
        let mut h = Vec::with_capacity(16);
        h.extend_from_slice(&secs.to_le_bytes());
        h.extend_from_slice(&ts.subsec_micros().to_le_bytes());
        h.extend_from_slice(&(incl as u32).to_le_bytes());
        h.extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(&data[..incl])?;
        Ok(())
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes `frames` as an Ethernet pcap at `path` (snaplen 65535), timestamps
/// 1 µs apart starting at the epoch + 1 s, so files are reproducible.
pub fn write_frames<F: AsRef<[u8]>>(path: impl AsRef<Path>, frames: &[F]) -> Result<()> {
    let path = path.as_ref();
    let file = std::fs::File::create(path)
        .map_err(|e| lab_err!("cannot create {}: {e}", path.display()))?;
    let mut w = Writer::new(std::io::BufWriter::new(file), LINKTYPE_ETHERNET, 65535)?;
    for (i, f) in frames.iter().enumerate() {
        w.write(
            Duration::from_secs(1) + Duration::from_micros(i as u64),
            f.as_ref(),
        )?;
    }
    w.finish()?;
    Ok(())
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn round_trip() {
        let frames = vec![vec![0xffu8; 60], (0..=255u8).collect::<Vec<_>>(), vec![]];
        let mut w = Writer::new(Vec::new(), LINKTYPE_ETHERNET, 65535).unwrap();
        for (i, f) in frames.iter().enumerate() {
            w.write(Duration::new(10, i as u32 * 1000), f).unwrap();
        }
        let bytes = w.finish().unwrap();
        let p = parse(&bytes, false).unwrap();
        assert_eq!(p.linktype, LINKTYPE_ETHERNET);
        assert!(!p.nanos);
        assert_eq!(p.frames(), frames);
        assert_eq!(p.records[1].ts, Duration::new(10, 1000));
        assert_eq!(p.records[1].orig_len, 256);

        // A partial trailing record is an error, or dropped on request.
        let cut = &bytes[..bytes.len() - 10];
        assert!(parse(cut, false).is_err());
        assert_eq!(parse(cut, true).unwrap().records.len(), 2);
        let cut = &bytes[..bytes.len() - 16 - 100];
        assert_eq!(parse(cut, true).unwrap().records.len(), 1);
    }

    #[test]
    fn snaplen_truncates() {
        let mut w = Writer::new(Vec::new(), LINKTYPE_ETHERNET, 4).unwrap();
        w.write(Duration::ZERO, &[1, 2, 3, 4, 5, 6]).unwrap();
        let p = parse(&w.finish().unwrap(), false).unwrap();
        assert_eq!(p.records[0].data, vec![1, 2, 3, 4]);
        assert_eq!(p.records[0].orig_len, 6);
    }

    #[test]
    fn big_endian_nanos() {
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC_NSEC.to_be_bytes());
        b.extend_from_slice(&[0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&65535u32.to_be_bytes());
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(&7u32.to_be_bytes());
        b.extend_from_slice(&5u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        b.extend_from_slice(&[0xab, 0xcd]);
        let p = parse(&b, false).unwrap();
        assert!(p.nanos);
        assert_eq!(p.records[0].ts, Duration::new(7, 5));
        assert_eq!(p.frames(), vec![vec![0xab, 0xcd]]);
        assert!(parse(b"\x0a\x0d\x0d\x0a-pcapng-header-bytes", false).is_err());
    }
}
