//! The L2 gateway node on 64-byte frames, one core, no DPDK: `l2-encap` (tagged frame
//! -> VXLAN) and `l2-decap` (VXLAN -> tagged), with 1,000 logical switches, 100
//! locators and 100,000 remote MACs, bursts of 32, destinations drawn at random over
//! the whole table. Criterion reports time per burst; ns/packet is that / 32 (the
//! throughput line gives packets/s directly). Each burst is refilled from a pool of
//! 8,192 received frames first; the `refill-only` lines measure that copy alone, to
//! subtract.
//!
//! `cargo bench -p l2gw --bench l2gw`

#[path = "../tests/common/mod.rs"]
mod common;

use common::{from_tunnel, inner, underlay};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use l2gw::dataplane::node::Node;
use l2gw::dataplane::wire::EthernetAddress;
use l2gw::dataplane::{NoRoom, Packet, Verdict};
use l2gw::{L2Counters, L2Gateway, LearnRing, Mac, ReplicationMode, TablesBuilder};
use std::net::Ipv4Addr;
use std::sync::Arc;

const SWITCHES: u16 = 1000;
const LOCATORS: u32 = 100;
const REMOTE: u32 = 100_000;
const BURST: usize = 32;
const POOL: usize = 8192;
const PORT: u16 = 1;

fn locator(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 + i)
}

fn remote_mac(i: u32) -> [u8; 6] {
    Mac(0x0200_0000_0000 | u64::from(i)).octets()
}

fn host_mac(slot: u16) -> [u8; 6] {
    Mac(0x0600_0000_0000 | u64::from(slot)).octets()
}

fn gateway() -> L2Gateway {
    let mut b = TablesBuilder::new(1, underlay(), REMOTE as usize, usize::from(SWITCHES));
    for s in 0..SWITCHES {
        b.logical_switch(s, 10_000 + u32::from(s), ReplicationMode::SourceNode)
            .unwrap();
        b.binding(PORT, 1 + s, s).unwrap();
        // One learned host per switch: the encap sources and decap destinations.
        b.local_mac(s, Mac::new(host_mac(s)), PORT, 1 + s).unwrap();
    }
    for i in 0..LOCATORS {
        b.locator(
            locator(i),
            Some(EthernetAddress([2, 0, 0, 0, 0xbb, i as u8])),
        );
    }
    for i in 0..REMOTE {
        let slot = (i % u32::from(SWITCHES)) as u16;
        b.remote_mac(slot, Mac::new(remote_mac(i)), locator(i % LOCATORS))
            .unwrap();
    }
    L2Gateway::new(
        Arc::new(b.build().unwrap()),
        Arc::new(L2Counters::new(16)),
        Arc::new(LearnRing::new(1024)),
    )
}

/// A small xorshift so the pools are the same on every run.
fn rng(seed: &mut u64) -> u32 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed >> 16) as u32
}

/// A fixed-buffer packet the loop refills in place (no allocation in the measured
/// loop, unlike cloning `HeapPacket`s): 128 bytes of headroom like an mbuf.
#[derive(Clone)]
struct BenchPacket {
    buf: [u8; 384],
    start: usize,
    end: usize,
    port: u16,
    rss: Option<u32>,
}

impl BenchPacket {
    fn new(frame: &[u8], port: u16, rss: u32) -> Self {
        let mut p = BenchPacket {
            buf: [0; 384],
            start: 0,
            end: 0,
            port,
            rss: Some(rss),
        };
        p.refill(frame, port, Some(rss));
        p
    }

    #[inline]
    fn refill(&mut self, frame: &[u8], port: u16, rss: Option<u32>) {
        self.start = 128;
        self.end = 128 + frame.len();
        self.buf[128..self.end].copy_from_slice(frame);
        self.port = port;
        self.rss = rss;
    }
}

impl Packet for BenchPacket {
    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }
    fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.end]
    }
    fn prepend(&mut self, len: usize) -> Result<&mut [u8], NoRoom> {
        if len > self.start {
            return Err(NoRoom);
        }
        self.start -= len;
        Ok(&mut self.buf[self.start..self.start + len])
    }
    fn adj(&mut self, len: usize) -> Result<(), NoRoom> {
        if len > self.end - self.start {
            return Err(NoRoom);
        }
        self.start += len;
        Ok(())
    }
    fn append(&mut self, len: usize) -> Result<&mut [u8], NoRoom> {
        if len > self.buf.len() - self.end {
            return Err(NoRoom);
        }
        self.end += len;
        Ok(&mut self.buf[self.end - len..self.end])
    }
    fn trim(&mut self, len: usize) -> Result<(), NoRoom> {
        if len > self.end - self.start {
            return Err(NoRoom);
        }
        self.end -= len;
        Ok(())
    }
    fn headroom(&self) -> usize {
        self.start
    }
    fn input_port(&self) -> u16 {
        self.port
    }
    fn rss_hash(&self) -> Option<u32> {
        self.rss
    }
}

/// One pool entry: the frame as received and its receive metadata.
struct Rx {
    frame: Vec<u8>,
    port: u16,
    rss: u32,
}

fn bench(c: &mut Criterion) {
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    // Tagged 64-byte frames (60 + FCS) from a switch's host to one of its remote MACs.
    let encap_pool: Vec<Rx> = (0..POOL)
        .map(|_| {
            let i = rng(&mut seed) % REMOTE;
            let slot = (i % u32::from(SWITCHES)) as u16;
            let frame = inner(remote_mac(i), host_mac(slot), Some((1 + slot, 0)), 9);
            assert_eq!(frame.len(), 60);
            Rx {
                frame,
                port: PORT,
                rss: rng(&mut seed),
            }
        })
        .collect();
    // VXLAN frames whose inner frame leaves as a tagged 64-byte frame.
    let decap_pool: Vec<Rx> = (0..POOL)
        .map(|_| {
            let i = rng(&mut seed) % REMOTE;
            let slot = (i % u32::from(SWITCHES)) as u16;
            let f = inner(host_mac(slot), remote_mac(i), None, 9);
            let frame = from_tunnel(locator(i % LOCATORS), 10_000 + u32::from(slot), &f);
            Rx {
                frame,
                port: common::UNDERLAY_PORT,
                rss: rng(&mut seed),
            }
        })
        .collect();

    let mut group = c.benchmark_group("l2gw");
    group.throughput(Throughput::Elements(BURST as u64));
    for (name, pool, expect, run) in [
        (
            "l2-encap",
            &encap_pool,
            Verdict::Tx {
                port: common::UNDERLAY_PORT,
            },
            true,
        ),
        ("l2-decap", &decap_pool, Verdict::Tx { port: PORT }, true),
        (
            "refill-only (encap frames)",
            &encap_pool,
            Verdict::Punt,
            false,
        ),
        (
            "refill-only (decap frames)",
            &decap_pool,
            Verdict::Punt,
            false,
        ),
    ] {
        let mut gw = gateway();
        let mut verdicts = [Verdict::Punt; BURST];
        let mut burst: Vec<BenchPacket> = pool[..BURST]
            .iter()
            .map(|rx| BenchPacket::new(&rx.frame, rx.port, rx.rss))
            .collect();
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut next = 0;
                let t0 = std::time::Instant::now();
                for _ in 0..iters {
                    for (p, rx) in burst.iter_mut().zip(&pool[next..next + BURST]) {
                        p.refill(&rx.frame, rx.port, Some(rx.rss));
                    }
                    next = (next + BURST) % POOL;
                    if run {
                        gw.process(&mut burst, &mut verdicts);
                    }
                    std::hint::black_box(&mut burst);
                }
                t0.elapsed()
            });
            assert!(verdicts.iter().all(|v| *v == expect), "{verdicts:?}");
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
