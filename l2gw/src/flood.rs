//! BUM replication: making one flood set member's copy of a frame.
//!
//! This module owns [`replicate`], the pure function the lcore loop calls for each
//! member of a [`Verdict::Replicate`] set, after the node ran and with the same
//! snapshot. The source frame is the one the node left (no access tag); each copy is
//! written into a fresh buffer and gets its member's egress form: a local binding's
//! tag, or VXLAN to a locator with the switch's VNI (MTU-checked like unicast). The
//! input binding is never a member (the set id names it and [`Tables::flood_set`]
//! leaves it out), and a set of a frame from a tunnel has local members only (split
//! horizon), so nothing goes back where it came from.
//!
//! A copy's outer UDP source port comes from the copy buffer's own flow entropy: a
//! fresh buffer carries no RSS hash, so it is the inner flow hash, one port per flow
//! as RFC 7348 asks (a unicast frame of the same flow may use its RSS hash instead).

use crate::drop::{Drop, L2Drop};
use crate::tables::{FloodMember, Tables};
use crate::tag;
use dataplane::encap::packet_hash;
use dataplane::{Packet, Verdict};

/// Writes member `member` of flood set `set` as a copy of `src` into `dst` (whose
/// previous contents are discarded; it needs tailroom for the frame and headroom for
/// a tag or the VXLAN headers) and returns where it goes. The caller counts the
/// copy, e.g. with [`L2Counters::to_local`](crate::counters::L2Counters::to_local).
#[inline]
pub fn replicate<S: Packet, D: Packet>(
    tables: &Tables,
    set: u32,
    member: usize,
    src: &S,
    dst: &mut D,
) -> Result<(FloodMember, Verdict), Drop> {
    let flood = tables.flood_set(set).ok_or(L2Drop::StaleFloodSet)?;
    let hash = packet_hash(src);
    let m = flood.member(member, hash).ok_or(L2Drop::StaleFloodSet)?;
    let frame = src.data();
    dst.trim(dst.len()).map_err(|_| L2Drop::NoRoomForReplica)?;
    dst.append(frame.len())
        .map_err(|_| L2Drop::NoRoomForReplica)?
        .copy_from_slice(frame);
    let verdict = match m {
        FloodMember::Local { port, vlan } => {
            if vlan != 0 {
                tag::push(dst, vlan).map_err(|_| L2Drop::NoRoomForReplica)?;
            }
            Verdict::Tx { port }
        }
        FloodMember::Remote { index, .. } => {
            tables.encap(index, flood.vni(), dst, hash)?;
            Verdict::Tx {
                port: tables.underlay().port,
            }
        }
    };
    Ok((m, verdict))
}
