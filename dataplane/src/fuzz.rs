//! Fuzz targets (bolero): none of them may panic, and round trips must be exact.
//!
//! Under plain `cargo test` each target runs for about one second on random inputs
//! (bolero's random engine, stable toolchain). Random bytes alone rarely get past an
//! Ethernet type check, so most targets are steered: the first input byte picks a
//! well-formed seed frame and the rest is applied as (offset, value) byte edits plus an
//! optional truncation, which reaches the deep checks. See the crate docs for running
//! them longer or coverage-guided.

use crate::encap::{
    GeneveEncap, GreEncap, GreKey, Underlay, VxlanEncap, geneve_decap, gre_decap, vxlan_decap,
};
use crate::ingress::{IPPROTO_UDP, L3, classify};
use crate::packet::{HeapPacket, Packet};
use crate::wire::{self, EthernetAddress, geneve, gre, hex, stt, vlan, vxlan};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// scapy 2.5: `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
/// /IP(src='10.0.0.1', dst='10.0.0.2', id=1)/UDP(sport=1234, dport=80)/b'hello'`.
const INNER: &str = "02000000000202000000000108004500002100010000401166c90a0000010a000002\
                     04d20050000da2dd68656c6c6f";
/// scapy 2.5: the same IP packet behind `Dot1AD(prio=5, vlan=100)/Dot1Q(prio=3, id=1,
/// vlan=200)`.
const QINQ: &str = "02000000000202000000000188a8a064810070c808004500002100010000401166c9\
                    0a0000010a00000204d20050000da2dd68656c6c6f";
/// scapy 2.5: IPv4/TCP SYN with an MSS option.
const V4_TCP: &str = "02000000000202000000000108004500002c00010000400666c90a0000010a000002\
                      04d200500000000100000000600220005f010000020405b4";
/// scapy 2.5: an ARP request.
const ARP: &str = "ffffffffffff020000000001080600010800060400010200000000010a000001000000\
                   0000000a000002";

fn underlays() -> [Underlay; 2] {
    let v4 = Underlay {
        src_mac: EthernetAddress([2, 0, 0, 0, 0xaa, 1]),
        dst_mac: EthernetAddress([2, 0, 0, 0, 0xbb, 2]),
        vlan: Some(wire::VlanTci(7)),
        src_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        dst_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        ttl: 64,
        dscp: 0,
    };
    let v6 = Underlay {
        vlan: None,
        src_ip: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        dst_ip: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
        ..v4
    };
    [v4, v6]
}

/// Non-critical option (class 0xffff, type 1) with 4 bytes of data.
const GENEVE_OPTIONS: [u8; 8] = [0xff, 0xff, 0x01, 0x01, 1, 2, 3, 4];

fn encapsulated(inner: &[u8], which: usize) -> Vec<u8> {
    let underlay = &underlays()[which % 2];
    let mut p = HeapPacket::with_room(inner, 512, 0);
    match which / 2 % 3 {
        0 => VxlanEncap::new(underlay, 5001).unwrap().encap(&mut p),
        1 => GeneveEncap::new(underlay, 5001, &GENEVE_OPTIONS)
            .unwrap()
            .encap(&mut p),
        _ => GreEncap::new(underlay, GreKey::Nvgre { vsid: 5001 })
            .unwrap()
            .encap(&mut p),
    }
    .unwrap();
    p.data().to_vec()
}

/// Well-formed frames the steered targets start from.
fn seeds() -> Vec<Vec<u8>> {
    let inner = hex(INNER);
    let mut seeds = vec![inner.clone(), hex(QINQ), hex(V4_TCP), hex(ARP)];
    seeds.extend((0..6).map(|which| encapsulated(&inner, which)));
    seeds
}

/// Applies `input` to a seed: byte 0 picks the seed (0 means "use the rest raw"), byte
/// 1 an optional truncation, then (offset, value) pairs overwrite bytes.
fn steer(seeds: &[Vec<u8>], input: &[u8]) -> Vec<u8> {
    let Some((&pick, rest)) = input.split_first() else {
        return Vec::new();
    };
    if pick == 0 {
        return rest.to_vec();
    }
    let mut frame = seeds[usize::from(pick) % seeds.len()].clone();
    let Some((&cut, edits)) = rest.split_first() else {
        return frame;
    };
    if cut & 0x80 != 0 {
        frame.truncate(usize::from(cut & 0x7f));
    }
    if frame.is_empty() {
        return frame;
    }
    for pair in edits.chunks_exact(2) {
        let at = usize::from(pair[0]) % frame.len();
        frame[at] = pair[1];
    }
    frame
}

#[test]
fn classify_never_panics_and_offsets_are_in_bounds() {
    let seeds = seeds();
    bolero::check!().for_each(|input: &[u8]| {
        let frame = steer(&seeds, input);
        let Ok(c) = classify(&frame) else {
            return;
        };
        assert!(usize::from(c.l3_offset) <= frame.len());
        assert!(c.l3_end() <= frame.len());
        if let Some(l4) = c.l4() {
            assert!(matches!(c.l3, L3::Ipv4 | L3::Ipv6));
            assert!(l4 <= c.l3_end());
            if c.ip_proto == IPPROTO_UDP {
                assert!(l4 + 8 <= c.l3_end());
            }
        }
        let _ = crate::encap::flow_hash(&frame);
    });
}

#[test]
fn vlan_view_round_trip() {
    bolero::check!().for_each(|input: &[u8]| {
        let Ok(p) = vlan::Packet::new_checked(input) else {
            return;
        };
        let _ = (p.tci().pcp(), p.tci().dei(), p.tci().vid(), p.payload());
        if let Ok(repr) = vlan::Repr::parse(&p) {
            let mut buf = vec![0; repr.buffer_len()];
            repr.emit(&mut vlan::Packet::new_unchecked(&mut buf[..]));
            assert_eq!(&buf[..], &input[..vlan::HEADER_LEN]);
        }
    });
}

#[test]
fn vxlan_view_round_trip() {
    bolero::check!().for_each(|input: &[u8]| {
        let Ok(p) = vxlan::Packet::new_checked(input) else {
            return;
        };
        let _ = (p.flags(), p.vni_valid(), p.vni(), p.payload());
        if let Ok(repr) = vxlan::Repr::parse(&p) {
            let mut buf = vec![0xff; repr.buffer_len()];
            repr.emit(&mut vxlan::Packet::new_unchecked(&mut buf[..]))
                .unwrap();
            let again = vxlan::Packet::new_checked(&buf[..]).unwrap();
            assert_eq!(vxlan::Repr::parse(&again), Ok(repr));
        }
    });
}

#[test]
fn geneve_view_round_trip() {
    bolero::check!().for_each(|input: &[u8]| {
        let Ok(p) = geneve::Packet::new_checked(input) else {
            return;
        };
        let _ = (
            p.oam(),
            p.critical(),
            p.protocol_type(),
            p.vni(),
            p.payload(),
        );
        let mut total = 0;
        for option in p.option_iter().flatten() {
            total += option.buffer_len();
            let _ = option.is_critical();
        }
        assert!(total <= p.options_len());
        if let Ok(repr) = geneve::Repr::parse(&p) {
            let mut buf = vec![0; repr.buffer_len()];
            repr.emit(&mut geneve::Packet::new_unchecked(&mut buf[..]))
                .unwrap();
            let again = geneve::Packet::new_checked(&buf[..]).unwrap();
            assert_eq!(geneve::Repr::parse(&again), Ok(repr));
        }
    });
}

#[test]
fn gre_view_round_trip() {
    bolero::check!().for_each(|input: &[u8]| {
        let Ok(p) = gre::Packet::new_checked(input) else {
            return;
        };
        let _ = (
            p.protocol_type(),
            p.checksum(),
            p.key(),
            p.sequence(),
            p.payload(),
        );
        if let Ok(repr) = gre::Repr::parse(&p) {
            let mut buf = vec![0; repr.buffer_len()];
            repr.emit(&mut gre::Packet::new_unchecked(&mut buf[..]))
                .unwrap();
            let again = gre::Packet::new_checked(&buf[..]).unwrap();
            assert_eq!(gre::Repr::parse(&again), Ok(repr));
        }
    });
}

#[test]
fn stt_view_round_trip() {
    bolero::check!().for_each(|input: &[u8]| {
        let Ok(p) = stt::Packet::new_checked(input) else {
            return;
        };
        let _ = (
            p.l4_offset(),
            p.mss(),
            p.vlan(),
            p.context_id(),
            p.payload(),
        );
        if let Ok(repr) = stt::Repr::parse(&p) {
            let mut buf = vec![0xff; repr.buffer_len()];
            repr.emit(&mut stt::Packet::new_unchecked(&mut buf[..]))
                .unwrap();
            let again = stt::Packet::new_checked(&buf[..]).unwrap();
            assert_eq!(stt::Repr::parse(&again), Ok(repr));
        }
    });
}

#[test]
fn decap_never_panics() {
    let seeds = seeds();
    bolero::check!().for_each(|input: &[u8]| {
        let frame = steer(&seeds, input);
        for decap in 0..3 {
            let mut p = HeapPacket::from_frame(&frame);
            let ok = match decap {
                0 => vxlan_decap(&mut p).is_ok(),
                1 => geneve_decap(&mut p).is_ok(),
                _ => gre_decap(&mut p).is_ok(),
            };
            if ok {
                assert!(p.len() >= 14, "decap returned a runt inner frame");
            } else {
                assert_eq!(p.data(), &frame[..], "a failed decap changed the packet");
            }
        }
    });
}

#[test]
fn encap_decap_round_trip() {
    bolero::check!().for_each(|input: &[u8]| {
        if input.len() < 14 {
            return;
        }
        for which in 0..6 {
            let framed = encapsulated(input, which);
            let mut p = HeapPacket::from_frame(&framed);
            let vni = match which / 2 {
                0 => vxlan_decap(&mut p).map(|d| d.vni),
                1 => geneve_decap(&mut p).map(|d| d.vni),
                _ => gre_decap(&mut p).map(|d| d.key.unwrap() >> 8),
            };
            assert_eq!(vni, Ok(5001), "tunnel {which}");
            assert_eq!(p.data(), input, "tunnel {which}");
        }
    });
}
