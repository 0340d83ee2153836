//! Golden tests: every forwarding case of the L2 gateway on plain heap buffers, with
//! expected frames built by hand in `common`.

mod common;

use common::*;
use l2gw::dataplane::{DropReason, HeapPacket, Packet, Verdict};
use l2gw::{FloodMember, L2Drop, LearnEvent, Mac, Tables, replicate};
use std::sync::Arc;

/// The outer source port of a flood copy: the copy buffer carries no RSS hash, so it
/// comes from the inner flow hash (still one port per flow).
/// Copies to tunnels take their outer source port from the original frame's RSS hash,
/// like its unicast frames do, so a flow keeps one underlay path.
fn rss_port(rss: u32) -> u16 {
    l2gw::dataplane::encap::udp_source_port(rss)
}

/// RSS hash 0x1234 gives outer source port 0xc000 | 0x1234 (RFC 7348 section 5 range).
const RSS: u32 = 0x1234;
const SPORT: u16 = 0xd234;

fn drop_of(v: Verdict) -> DropReason {
    match v {
        Verdict::Drop(r) => r,
        other => panic!("expected a drop, got {other:?}"),
    }
}

#[test]
fn tagged_in_to_known_remote_mac_is_exact_vxlan() {
    let mut lab = Lab::new();
    let (v, p) = lab.run_rss(1, &inner(R, H, Some((10, 5)), 0), RSS);
    assert_eq!(
        v,
        Verdict::Tx {
            port: UNDERLAY_PORT
        }
    );
    let expect = expected_encap(HV1_NH, HV1, SPORT, VNI1, &inner(R, H, None, 0));
    assert_eq!(p.data(), &expect[..]);
    assert!(lab.ring.is_empty(), "H is already learned on (1, 10)");
    let s = lab.counters.switch(LS1);
    assert_eq!((s.from_local_packets, s.to_tunnel_packets), (1, 1));
    assert_eq!(s.to_tunnel_bytes, inner(R, H, None, 0).len() as u64);
    let b = lab.counters.binding(1, 10);
    assert_eq!((b.from_local_packets, b.from_local_bytes), (1, 51));
}

#[test]
fn untagged_in_to_known_remote_mac_is_exact_vxlan_with_flow_hash_port() {
    let mut lab = Lab::new();
    let frame = inner(R, L2, None, 0);
    let (v, p) = lab.run(2, &frame);
    assert_eq!(
        v,
        Verdict::Tx {
            port: UNDERLAY_PORT
        }
    );
    // Without RSS the port comes from the inner flow hash, in 49152..=65535.
    let sport = u16::from_be_bytes([p.data()[34], p.data()[35]]);
    assert!(sport >= 0xc000);
    assert_eq!(
        p.data(),
        &expected_encap(HV1_NH, HV1, sport, VNI1, &frame)[..]
    );
    // Same flow, same port; another flow (source port 1235) gets its own hash.
    let (_, again) = lab.run(2, &frame);
    assert_eq!(again.data(), p.data());
}

#[test]
fn local_to_local_pushes_pops_and_rewrites_tags() {
    let mut lab = Lab::new();
    // Tagged 10 (PCP 5) -> tagged 20: rewritten in place, PCP kept.
    let (v, p) = lab.run(1, &inner(L3, H, Some((10, 5)), 0));
    assert_eq!(v, Verdict::Tx { port: 3 });
    assert_eq!(p.data(), &inner(L3, H, Some((20, 5)), 0)[..]);
    // Tagged 10 -> untagged: popped.
    let (v, p) = lab.run(1, &inner(L2, H, Some((10, 0)), 0));
    assert_eq!(v, Verdict::Tx { port: 2 });
    assert_eq!(p.data(), &inner(L2, H, None, 0)[..]);
    // Untagged -> tagged 20: pushed into headroom.
    let (v, p) = lab.run(2, &inner(L3, L2, None, 0));
    assert_eq!(v, Verdict::Tx { port: 3 });
    assert_eq!(p.data(), &inner(L3, L2, Some((20, 0)), 0)[..]);
    assert_eq!(p.headroom(), HeapPacket::DEFAULT_HEADROOM - 4);
    let b = lab.counters.binding(3, 20);
    assert_eq!((b.to_local_packets, b.to_local_bytes), (2, 2 * 51));
    assert!(lab.ring.is_empty());
}

#[test]
fn destination_on_the_input_binding_is_never_sent_back() {
    let mut lab = Lab::new();
    let (v, _) = lab.run(2, &inner(L2, Mac(0x0200_0000_0099).octets(), None, 0));
    assert_eq!(drop_of(v), DropReason::SameBinding);
    assert_eq!(lab.counters.drops(L2Drop::SameBinding), 1);
}

fn copies(tables: &Tables, set: u32, src: &HeapPacket) -> Vec<(FloodMember, Verdict, Vec<u8>)> {
    let n = tables.flood_set(set).unwrap().len();
    (0..n)
        .map(|i| {
            let mut dst = HeapPacket::with_room(&[], 128, 2048);
            let (m, v) = replicate(tables, set, i, src, &mut dst).unwrap();
            (m, v, dst.data().to_vec())
        })
        .collect()
}

#[test]
fn bum_from_a_binding_reaches_every_other_binding_and_every_locator() {
    let mut lab = Lab::new();
    for dst in [BCAST, [0x01, 0, 0x5e, 0, 0, 1], [2, 0, 0, 0, 0, 0x77]] {
        let (v, p) = lab.run_rss(1, &inner(dst, H, Some((10, 3)), 0), RSS);
        let set = Tables::flood_from_binding(1, 10);
        assert_eq!(v, Verdict::Replicate { set });
        let untagged = inner(dst, H, None, 0);
        assert_eq!(p.data(), &untagged[..], "the node pops the access tag");
        let got = copies(lab.tables(), set, &p);
        let expect = vec![
            (
                FloodMember::Local { port: 2, vlan: 0 },
                Verdict::Tx { port: 2 },
                untagged.clone(),
            ),
            (
                FloodMember::Local { port: 3, vlan: 20 },
                Verdict::Tx { port: 3 },
                inner(dst, H, Some((20, 0)), 0),
            ),
            (
                FloodMember::Remote {
                    locator: HV1,
                    index: 0,
                },
                Verdict::Tx {
                    port: UNDERLAY_PORT,
                },
                expected_encap(HV1_NH, HV1, rss_port(RSS), VNI1, &untagged),
            ),
            (
                FloodMember::Remote {
                    locator: HV2,
                    index: 1,
                },
                Verdict::Tx {
                    port: UNDERLAY_PORT,
                },
                expected_encap(HV2_NH, HV2, rss_port(RSS), VNI1, &untagged),
            ),
        ];
        assert_eq!(got.len(), expect.len());
        for (g, e) in got.iter().zip(&expect) {
            assert_eq!((g.0, g.1), (e.0, e.1));
            assert_eq!(g.2, e.2, "copy for {:?}", e.0);
        }
    }
    assert_eq!(lab.counters.switch(LS1).flooded_packets, 3);
}

#[test]
fn bum_from_the_untagged_binding_excludes_it() {
    let mut lab = Lab::new();
    let (v, p) = lab.run(2, &inner(BCAST, L2, None, 0));
    let set = Tables::flood_from_binding(2, 0);
    assert_eq!(v, Verdict::Replicate { set });
    let members: Vec<_> = copies(lab.tables(), set, &p)
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(
        members,
        vec![
            FloodMember::Local { port: 1, vlan: 10 },
            FloodMember::Local { port: 3, vlan: 20 },
            FloodMember::Remote {
                locator: HV1,
                index: 0
            },
            FloodMember::Remote {
                locator: HV2,
                index: 1
            },
        ]
    );
    // Out of range members and unknown sets are errors, not panics.
    let mut dst = HeapPacket::with_room(&[], 128, 2048);
    assert!(replicate(lab.tables(), set, 4, &p, &mut dst).is_err());
    assert!(
        replicate(
            lab.tables(),
            Tables::flood_from_binding(7, 7),
            0,
            &p,
            &mut dst
        )
        .is_err()
    );
}

#[test]
fn service_node_mode_sends_one_copy_to_one_service_node_per_flow() {
    let mut lab = Lab::new();
    let mut seen = std::collections::HashSet::new();
    for rss in 0..64u32 {
        let (v, p) = lab.run_rss(4, &inner(BCAST, [2, 0, 0, 0, 4, 4], None, 0), rss);
        let set = Tables::flood_from_binding(4, 0);
        assert_eq!(v, Verdict::Replicate { set });
        let got = copies(lab.tables(), set, &p);
        assert_eq!(got.len(), 1, "no other binding, one service node");
        let FloodMember::Remote { locator, .. } = got[0].0 else {
            panic!("expected a service node")
        };
        let frame = inner(BCAST, [2, 0, 0, 0, 4, 4], None, 0);
        assert_eq!(
            got[0].2,
            expected_encap(SN_NH, locator, rss_port(rss), VNI3, &frame)
        );
        // The same flow always picks the same service node.
        assert_eq!(copies(lab.tables(), set, &p)[0].0, got[0].0);
        seen.insert(locator);
    }
    assert_eq!(seen.len(), 2, "flows spread over both service nodes");
}

#[test]
fn tunnel_in_to_local_mac_leaves_with_the_binding_tag() {
    let mut lab = Lab::new();
    let (v, p) = lab.run(
        UNDERLAY_PORT,
        &from_tunnel(HV1, VNI1, &inner(L3, R, None, 0)),
    );
    assert_eq!(v, Verdict::Tx { port: 3 });
    assert_eq!(p.data(), &inner(L3, R, Some((20, 0)), 0)[..]);
    let (v, p) = lab.run(
        UNDERLAY_PORT,
        &from_tunnel(HV1, VNI1, &inner(L2, R, None, 0)),
    );
    assert_eq!(v, Verdict::Tx { port: 2 });
    assert_eq!(p.data(), &inner(L2, R, None, 0)[..]);
    let s = lab.counters.switch(LS1);
    assert_eq!((s.from_tunnel_packets, s.from_tunnel_bytes), (2, 2 * 47));
    assert_eq!(lab.counters.binding(3, 20).to_local_packets, 1);
    assert!(
        lab.ring.is_empty(),
        "nothing is learned from tunnels by default"
    );
}

#[test]
fn tunnel_bum_floods_to_local_bindings_only() {
    let mut lab = Lab::new();
    for dst in [BCAST, [2, 0, 0, 0, 0, 0x77]] {
        let (v, p) = lab.run(
            UNDERLAY_PORT,
            &from_tunnel(HV2, VNI1, &inner(dst, R, None, 0)),
        );
        let set = Tables::flood_from_tunnel(LS1);
        assert_eq!(v, Verdict::Replicate { set });
        let got = copies(lab.tables(), set, &p);
        let members: Vec<_> = got.iter().map(|c| c.0).collect();
        assert_eq!(
            members,
            vec![
                FloodMember::Local { port: 1, vlan: 10 },
                FloodMember::Local { port: 2, vlan: 0 },
                FloodMember::Local { port: 3, vlan: 20 },
            ],
            "split horizon: no locator"
        );
        assert_eq!(got[0].2, inner(dst, R, Some((10, 0)), 0));
        assert_eq!(got[1].2, inner(dst, R, None, 0));
    }
}

#[test]
fn tunnel_remote_learning_is_opt_in_and_reports_moves_once() {
    let tables = builder(1).build().unwrap();
    let mut lab = Lab::with_tables(tables);
    lab.gw = l2gw::L2Gateway::new(
        lab.gw.tables().clone(),
        lab.counters.clone(),
        lab.ring.clone(),
    )
    .learn_remote(true);
    // R is known behind HV1: arriving from HV1 is no news, from HV2 is a move.
    lab.run(
        UNDERLAY_PORT,
        &from_tunnel(HV1, VNI1, &inner(L2, R, None, 0)),
    );
    assert!(lab.ring.is_empty());
    for _ in 0..3 {
        lab.run(
            UNDERLAY_PORT,
            &from_tunnel(HV2, VNI1, &inner(L2, R, None, 0)),
        );
    }
    assert_eq!(
        lab.ring.drain().collect::<Vec<_>>(),
        vec![LearnEvent::Remote {
            vni: VNI1,
            mac: Mac::new(R),
            locator: HV2
        }]
    );
}

#[test]
fn unknown_vni_is_dropped_and_counted() {
    let mut lab = Lab::new();
    let (v, _) = lab.run(
        UNDERLAY_PORT,
        &from_tunnel(HV1, 4242, &inner(L2, R, None, 0)),
    );
    assert_eq!(drop_of(v), DropReason::UnknownVni);
    assert_eq!(lab.counters.drops(L2Drop::UnknownVni), 1);
    // VNI 0 never matches the disabled switch.
    let (v, _) = lab.run(UNDERLAY_PORT, &from_tunnel(HV1, 0, &inner(L2, R, None, 0)));
    assert_eq!(drop_of(v), DropReason::UnknownVni);
    assert_eq!(lab.counters.drops(L2Drop::UnknownVni), 2);
}

#[test]
fn truncated_and_malformed_vxlan_are_dropped() {
    let mut lab = Lab::new();
    let good = from_tunnel(HV1, VNI1, &inner(L2, R, None, 0));
    // Cut anywhere inside the headers: the outer length fields disagree.
    for cut in [14, 20, 33, 40, 45, 49, 60] {
        let (v, _) = lab.run(UNDERLAY_PORT, &good[..cut]);
        assert!(matches!(v, Verdict::Drop(_)), "cut at {cut}: {v:?}");
    }
    assert_eq!(
        drop_of(lab.run(UNDERLAY_PORT, &good[..40]).0),
        DropReason::BadIpv4Length
    );
    // I flag clear.
    let mut no_i = good.clone();
    no_i[42] = 0;
    assert_eq!(
        drop_of(lab.run(UNDERLAY_PORT, &no_i).0),
        DropReason::MalformedVxlan
    );
    // A UDP datagram to 4789 too short for VXLAN plus an inner Ethernet header.
    let short = vxlan(OUR_MAC, HV1_NH, HV1, TUNNEL_IP, 1, 4789, VNI1, &[0u8; 13]);
    assert_eq!(
        drop_of(lab.run(UNDERLAY_PORT, &short).0),
        DropReason::MalformedVxlan
    );
    // VXLAN to another address or port is not ours.
    let other_ip = vxlan(
        OUR_MAC,
        HV1_NH,
        HV1,
        HV2,
        1,
        4789,
        VNI1,
        &inner(L2, R, None, 0),
    );
    assert_eq!(
        drop_of(lab.run(UNDERLAY_PORT, &other_ip).0),
        DropReason::NotForUs
    );
    let other_port = vxlan(
        OUR_MAC,
        HV1_NH,
        HV1,
        TUNNEL_IP,
        1,
        4790,
        VNI1,
        &inner(L2, R, None, 0),
    );
    assert_eq!(
        drop_of(lab.run(UNDERLAY_PORT, &other_port).0),
        DropReason::NotForUs
    );
    assert_eq!(lab.counters.drops(L2Drop::NotForUs), 2);
}

#[test]
fn underlay_arp_and_ping_for_the_tunnel_ip_are_punted() {
    let mut lab = Lab::new();
    let mut arp = vec![0xff; 6];
    arp.extend(HV1_NH);
    arp.extend([0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
    arp.extend(HV1_NH);
    arp.extend(HV1.octets());
    arp.extend([0; 6]);
    arp.extend(TUNNEL_IP.octets());
    assert_eq!(lab.run(UNDERLAY_PORT, &arp).0, Verdict::Punt);
    // An ICMP echo request to the tunnel IP.
    let mut ping = OUR_MAC.to_vec();
    ping.extend(HV1_NH);
    ping.extend([0x08, 0x00]);
    let mut ip = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0];
    ip.extend(HV1.octets());
    ip.extend(TUNNEL_IP.octets());
    let c = !naive_sum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ping.extend(ip);
    ping.extend([8, 0, 0xf7, 0xff, 0, 0, 0, 0]);
    assert_eq!(lab.run(UNDERLAY_PORT, &ping).0, Verdict::Punt);
    // Plain UDP to someone else on the underlay: dropped.
    let (v, _) = lab.run(UNDERLAY_PORT, &inner(R, H, None, 0));
    assert_eq!(drop_of(v), DropReason::NotForUs);
}

#[test]
fn runts_are_dropped_on_both_sides() {
    let mut lab = Lab::new();
    for port in [1, UNDERLAY_PORT] {
        assert_eq!(drop_of(lab.run(port, &[0u8; 13]).0), DropReason::RuntFrame);
        assert_eq!(drop_of(lab.run(port, &[]).0), DropReason::RuntFrame);
    }
    // A tag announced but cut short.
    let f = inner(R, H, Some((10, 0)), 0);
    assert_eq!(
        drop_of(lab.run(1, &f[..15]).0),
        DropReason::TruncatedVlanTag
    );
}

#[test]
fn oversize_frames_are_dropped_not_fragmented() {
    let mut lab = Lab::new();
    let max = usize::from(MTU) - 36;
    // `inner` with pad p is 47 + p bytes untagged.
    let fits = inner(R, H, Some((10, 0)), max - 47);
    assert_eq!(fits.len(), max + 4);
    let (v, p) = lab.run(1, &fits);
    assert_eq!(
        v,
        Verdict::Tx {
            port: UNDERLAY_PORT
        }
    );
    assert_eq!(p.len(), max + 50);
    assert_eq!(
        usize::from(u16::from_be_bytes([p.data()[16], p.data()[17]])),
        usize::from(MTU)
    );
    let too_big = inner(R, H, Some((10, 0)), max - 46);
    let (v, _) = lab.run(1, &too_big);
    assert_eq!(drop_of(v), DropReason::UnderlayMtuExceeded);
    assert_eq!(lab.counters.drops(L2Drop::UnderlayMtuExceeded), 1);
    // The MTU applies to flood copies to locators too (local copies are not limited).
    let (v, p) = lab.run(1, &inner(BCAST, H, Some((10, 0)), max - 46));
    let Verdict::Replicate { set } = v else {
        panic!("{v:?}")
    };
    let mut dst = HeapPacket::with_room(&[], 128, 2048);
    assert!(replicate(lab.tables(), set, 0, &p, &mut dst).is_ok());
    assert_eq!(
        replicate(lab.tables(), set, 2, &p, &mut dst).unwrap_err(),
        L2Drop::UnderlayMtuExceeded.into()
    );
}

#[test]
fn vni_zero_switch_does_not_forward() {
    let mut lab = Lab::new();
    let (v, _) = lab.run(1, &inner(BCAST, H, Some((30, 0)), 0));
    assert_eq!(drop_of(v), DropReason::SwitchDisabled);
    assert_eq!(lab.counters.drops(L2Drop::SwitchDisabled), 1);
    assert!(lab.ring.is_empty(), "no learning on a disabled switch");
}

#[test]
fn frames_without_a_binding_are_dropped() {
    let mut lab = Lab::new();
    for (port, vlan) in [(1, Some((99, 0))), (1, None), (5, None), (2, Some((10, 0)))] {
        let (v, _) = lab.run(port, &inner(R, H, vlan, 0));
        assert_eq!(drop_of(v), DropReason::NoBinding, "{port} {vlan:?}");
    }
    assert_eq!(lab.counters.drops(L2Drop::NoBinding), 4);
}

#[test]
fn priority_tagged_frames_use_the_untagged_binding() {
    let mut lab = Lab::new();
    let (v, p) = lab.run(2, &inner(L3, L2, Some((0, 6)), 0));
    assert_eq!(v, Verdict::Tx { port: 3 });
    assert_eq!(p.data(), &inner(L3, L2, Some((20, 6)), 0)[..]);
}

#[test]
fn invalid_source_macs_are_dropped() {
    let mut lab = Lab::new();
    for src in [BCAST, [1, 0, 0x5e, 0, 0, 1], [0; 6]] {
        assert_eq!(
            drop_of(lab.run(2, &inner(R, src, None, 0)).0),
            DropReason::InvalidSourceMac
        );
        let t = from_tunnel(HV1, VNI1, &inner(L2, src, None, 0));
        assert_eq!(
            drop_of(lab.run(UNDERLAY_PORT, &t).0),
            DropReason::InvalidSourceMac
        );
    }
    assert_eq!(lab.counters.drops(L2Drop::InvalidSourceMac), 6);
    assert!(lab.ring.is_empty());
}

#[test]
fn a_new_or_moved_mac_is_reported_once_per_snapshot() {
    let mut lab = Lab::new();
    // H is learned on (1, 10); it shows up on (2, untagged): a move.
    for _ in 0..5 {
        lab.run(2, &inner(R, H, None, 0));
    }
    // A new MAC on (3, 20).
    let n = [2, 0, 0, 0, 0, 0x42];
    for _ in 0..5 {
        lab.run(3, &inner(BCAST, n, Some((20, 0)), 0));
    }
    assert_eq!(
        lab.ring.drain().collect::<Vec<_>>(),
        vec![
            LearnEvent::Local {
                vni: VNI1,
                mac: Mac::new(H),
                port: 2,
                vlan: 0
            },
            LearnEvent::Local {
                vni: VNI1,
                mac: Mac::new(n),
                port: 3,
                vlan: 20
            },
        ]
    );
    assert_eq!(lab.counters.learn_events(), 2);
    // It moves again: one more event.
    lab.run(3, &inner(R, H, Some((20, 0)), 0));
    lab.run(3, &inner(R, H, Some((20, 0)), 0));
    assert_eq!(lab.ring.drain().count(), 1);
    // The control plane publishes a snapshot with H on (3, 20) but not yet `n`: H is
    // quiet, `n` is reported once more.
    let mut b = builder(2);
    b.local_mac(LS1, Mac::new(H), 3, 20).unwrap();
    lab.gw.set_tables(Arc::new(b.build().unwrap()));
    for _ in 0..3 {
        lab.run(3, &inner(R, H, Some((20, 0)), 0));
        lab.run(3, &inner(R, n, Some((20, 0)), 0));
    }
    assert_eq!(
        lab.ring.drain().collect::<Vec<_>>(),
        vec![LearnEvent::Local {
            vni: VNI1,
            mac: Mac::new(n),
            port: 3,
            vlan: 20
        }]
    );
}

#[test]
fn a_full_learn_ring_loses_events_but_not_frames() {
    let tables = Arc::new(builder(1).build().unwrap());
    let ring = Arc::new(l2gw::LearnRing::new(2));
    let counters = Arc::new(l2gw::L2Counters::new(16));
    let mut gw = l2gw::L2Gateway::new(tables, counters, ring.clone());
    let mut packets: Vec<HeapPacket> = (0..5u8)
        .map(|i| {
            let mut p = HeapPacket::from_frame(&inner(R, [2, 0, 0, 0, 9, i], None, 0));
            p.set_input_port(2);
            p
        })
        .collect();
    let mut verdicts = vec![Verdict::Punt; 5];
    l2gw::dataplane::node::Node::process(&mut gw, &mut packets, &mut verdicts);
    assert!(verdicts.iter().all(|v| *v
        == Verdict::Tx {
            port: UNDERLAY_PORT
        }));
    assert_eq!((ring.len(), ring.dropped()), (2, 3));
    // Drained, the next frames of the lost MACs are reported.
    ring.drain().for_each(drop);
    let mut again: Vec<HeapPacket> = (2..4u8)
        .map(|i| {
            let mut p = HeapPacket::from_frame(&inner(R, [2, 0, 0, 0, 9, i], None, 0));
            p.set_input_port(2);
            p
        })
        .collect();
    l2gw::dataplane::node::Node::process(&mut gw, &mut again, &mut verdicts[..2]);
    assert_eq!(ring.len(), 2);
}

#[test]
fn unresolved_next_hop_is_dropped() {
    let mut b = builder(1);
    let far = std::net::Ipv4Addr::new(198, 51, 100, 7);
    let m = [2, 0, 0, 0, 0, 0x66];
    b.remote_mac(LS1, Mac::new(m), far).unwrap();
    let mut lab = Lab::with_tables(b.build().unwrap());
    let (v, _) = lab.run(2, &inner(m, L2, None, 0));
    assert_eq!(drop_of(v), DropReason::NextHopUnresolved);
    assert_eq!(lab.counters.drops(L2Drop::NextHopUnresolved), 1);
}

#[test]
fn builder_rejects_bad_configuration() {
    use l2gw::{BuildError, ReplicationMode::SourceNode, TablesBuilder};
    let mut b = TablesBuilder::new(1, underlay(), 0, 0);
    assert_eq!(
        b.logical_switch(20_000, 1, SourceNode).unwrap_err(),
        BuildError::SlotOutOfRange(20_000)
    );
    assert_eq!(
        b.logical_switch(1, 1 << 24, SourceNode).unwrap_err(),
        BuildError::VniOutOfRange(1 << 24)
    );
    assert_eq!(
        b.binding(1, 1, 5).unwrap_err(),
        BuildError::UnknownSwitch(5)
    );
    b.logical_switch(1, 10, SourceNode).unwrap();
    assert_eq!(
        b.binding(1, 4096, 1).unwrap_err(),
        BuildError::VlanOutOfRange(4096)
    );
    assert_eq!(
        b.binding(UNDERLAY_PORT, 1, 1).unwrap_err(),
        BuildError::BindingOnUnderlayPort(UNDERLAY_PORT)
    );
    b.logical_switch(2, 10, SourceNode).unwrap();
    assert_eq!(b.clone().build().unwrap_err(), BuildError::DuplicateVni(10));
    let mut small = TablesBuilder::new(
        1,
        l2gw::UnderlayConfig {
            mtu: 40,
            ..underlay()
        },
        0,
        0,
    );
    small.logical_switch(1, 1, SourceNode).unwrap();
    assert_eq!(small.build().unwrap_err(), BuildError::MtuTooSmall(40));
}
