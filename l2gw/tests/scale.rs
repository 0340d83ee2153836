//! Scale: the hardware_vtep targets (16 k switches, 4,096 bindings, 1 M remote MACs,
//! 100 k local MACs) build, look up, and what they cost in memory. Run with
//! `--nocapture` to see the figures.

mod common;

use common::underlay;
use l2gw::dataplane::wire::EthernetAddress;
use l2gw::{Mac, ReplicationMode, TablesBuilder};
use std::net::Ipv4Addr;

#[test]
fn scale_targets_fit_and_memory_per_entry() {
    const SWITCHES: u16 = 16_384;
    const REMOTE: u32 = 1_000_000;
    const LOCAL: u32 = 100_000;
    const LOCATORS: u32 = 1_000;
    let t0 = std::time::Instant::now();
    let mut b = TablesBuilder::new(1, underlay(), REMOTE as usize, LOCAL as usize);
    for s in 0..SWITCHES {
        b.logical_switch(s, 10_000 + u32::from(s), ReplicationMode::SourceNode)
            .unwrap();
    }
    // 4,096 bindings: ports 1..=4, 1,024 VLANs each.
    for i in 0..4096u16 {
        b.binding(1 + i / 1024, 1 + i % 1024, i).unwrap();
    }
    let loc = |i: u32| Ipv4Addr::from(0x0a00_0000 + i);
    for i in 0..LOCATORS {
        b.locator(loc(i), Some(EthernetAddress([2, 0, 0, 0, 0, 9])));
    }
    for s in 0..SWITCHES {
        b.unknown_dst(s, loc(u32::from(s) % LOCATORS)).unwrap();
    }
    for i in 0..REMOTE {
        let slot = (i % u32::from(SWITCHES)) as u16;
        b.remote_mac(
            slot,
            Mac(0x0200_0000_0000 | u64::from(i)),
            loc(i % LOCATORS),
        )
        .unwrap();
    }
    for i in 0..LOCAL {
        let slot = (i % 4096) as u16;
        b.local_mac(
            slot,
            Mac(0x0600_0000_0000 | u64::from(i)),
            1 + slot / 1024,
            1 + slot % 1024,
        )
        .unwrap();
    }
    let t = b.build().unwrap();
    let built = t0.elapsed();
    let m = t.memory();
    assert_eq!(
        (m.remote_macs, m.local_macs, m.switches, m.bindings),
        (1_000_000, 100_000, 16_384, 4096)
    );
    for i in (0..REMOTE).step_by(9973) {
        let slot = (i % u32::from(SWITCHES)) as u16;
        assert_eq!(
            t.remote_mac(slot, Mac(0x0200_0000_0000 | u64::from(i))),
            Some(loc(i % LOCATORS))
        );
    }
    let per = |bytes: usize, n: usize| bytes as f64 / n as f64;
    println!(
        "built in {built:?}\n\
         remote MACs: {} entries, {} bytes, {:.1} B/entry\n\
         local MACs:  {} entries, {} bytes, {:.1} B/entry\n\
         switches:    {} entries, {} bytes, {:.1} B/entry\n\
         bindings:    {} entries, {} bytes (4 ports x 8 KiB)\n\
         locators:    {} entries, {} bytes, {:.1} B/entry",
        m.remote_macs,
        m.remote_mac_bytes,
        per(m.remote_mac_bytes, m.remote_macs),
        m.local_macs,
        m.local_mac_bytes,
        per(m.local_mac_bytes, m.local_macs),
        m.switches,
        m.switch_bytes,
        per(m.switch_bytes, m.switches),
        m.bindings,
        m.binding_bytes,
        m.locators,
        m.locator_bytes,
        per(m.locator_bytes, m.locators),
    );
    assert!(per(m.remote_mac_bytes, m.remote_macs) < 30.0);
    assert!(per(m.local_mac_bytes, m.local_macs) < 30.0);
}
