//! Fuzz target (bolero): the node and the replicate function never panic on any frame
//! on any port, and what they emit stays sane. Under plain `cargo test` it runs for
//! about a second on random inputs; `BOLERO_RANDOM_TEST_TIME_MS=600000 cargo test -p
//! l2gw --release --test fuzz` runs longer, `cargo +nightly bolero test` coverage-guided.

mod common;

use common::*;
use l2gw::dataplane::{HeapPacket, Packet, Verdict};
use l2gw::{Tables, replicate};

/// Well-formed frames to steer from: each forwarding case once.
fn seeds() -> Vec<(u16, Vec<u8>)> {
    let mut s = vec![
        (1, inner(R, H, Some((10, 0)), 0)),
        (2, inner(L3, L2, None, 0)),
        (3, inner(BCAST, L3, Some((20, 0)), 0)),
        (4, inner(BCAST, [2, 0, 0, 0, 4, 4], None, 0)),
        (1, inner(BCAST, H, Some((30, 0)), 0)),
        (
            UNDERLAY_PORT,
            from_tunnel(HV1, VNI1, &inner(L3, R, None, 0)),
        ),
        (
            UNDERLAY_PORT,
            from_tunnel(HV1, VNI1, &inner(BCAST, R, None, 0)),
        ),
        (
            UNDERLAY_PORT,
            from_tunnel(HV1, VNI1, &inner(L2, R, Some((7, 0)), 0)),
        ),
    ];
    let mut qinq = inner(R, H, Some((10, 0)), 0);
    qinq.splice(16..16, [0x81, 0x00, 0x00, 0x05]);
    s.push((1, qinq));
    s
}

#[test]
fn node_and_replicate_never_panic() {
    let seeds = seeds();
    let mut lab = Lab::new();
    bolero::check!().for_each(|input: &[u8]| {
        let Some((&pick, rest)) = input.split_first() else {
            return;
        };
        let (port, frame) = if pick & 0x80 != 0 {
            // Raw bytes on a port chosen by the low bits.
            let port = [1, 2, 3, 4, 5, UNDERLAY_PORT][usize::from(pick & 7) % 6];
            (port, rest.to_vec())
        } else {
            let (port, seed) = &seeds[usize::from(pick) % seeds.len()];
            let mut f = seed.clone();
            let (cut, edits) = rest.split_first().map_or((0, &[][..]), |(c, e)| (*c, e));
            if cut & 0x80 != 0 {
                f.truncate(usize::from(cut & 0x7f));
            }
            if !f.is_empty() {
                for pair in edits.chunks_exact(2) {
                    let at = usize::from(pair[0]) % f.len();
                    f[at] = pair[1];
                }
            }
            (*port, f)
        };
        let (v, p) = lab.run(port, &frame);
        match v {
            Verdict::Tx { .. } => assert!(p.len() >= 14),
            Verdict::Replicate { set } => {
                let tables: &Tables = lab.gw.tables();
                let n = tables
                    .flood_set(set)
                    .expect("the node names real sets")
                    .len();
                assert!(n > 0);
                for i in 0..=n {
                    let mut dst = HeapPacket::with_room(&[], 128, 2048);
                    let r = replicate(tables, set, i, &p, &mut dst);
                    if i == n {
                        assert!(r.is_err());
                    }
                    if let Ok((_, Verdict::Tx { port })) = r {
                        assert_ne!(
                            (port == UNDERLAY_PORT, set & (1 << 31) != 0),
                            (true, true),
                            "split horizon"
                        );
                    }
                }
            }
            Verdict::Punt | Verdict::Drop(_) => {}
        }
        lab.ring.drain().for_each(drop);
    });
}
