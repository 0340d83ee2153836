//! 802.1Q access tags: pop, push and rewrite in place.
//!
//! This module owns the one place the L2 gateway moves Ethernet addresses to add or
//! remove a tag. Push uses the packet's headroom (the 12 address bytes move 4 bytes
//! forward); pop moves them 4 bytes back and drops the front; rewrite changes the VID
//! and keeps the priority and DEI bits. A pushed tag always has TPID 0x8100 and
//! priority 0; priority is not carried across the overlay (VXLAN has no field for it).

use dataplane::{NoRoom, Packet};

/// Length of an 802.1Q tag.
pub const TAG_LEN: usize = 4;
const ADDRS: usize = 12;
const TPID_8021Q: [u8; 2] = 0x8100u16.to_be_bytes();

/// Removes the tag at bytes 12..16; the caller knows the frame is tagged.
#[inline]
pub fn pop<P: Packet>(pkt: &mut P) -> Result<(), NoRoom> {
    let data = pkt.data_mut();
    if data.len() < ADDRS + TAG_LEN {
        return Err(NoRoom);
    }
    data.copy_within(0..ADDRS, TAG_LEN);
    pkt.adj(TAG_LEN)
}

/// Inserts an 802.1Q tag with `vid` (priority 0) after the addresses.
#[inline]
pub fn push<P: Packet>(pkt: &mut P, vid: u16) -> Result<(), NoRoom> {
    if pkt.len() < ADDRS {
        return Err(NoRoom);
    }
    pkt.prepend(TAG_LEN)?;
    let data = pkt.data_mut();
    data.copy_within(TAG_LEN..TAG_LEN + ADDRS, 0);
    data[12..14].copy_from_slice(&TPID_8021Q);
    data[14..16].copy_from_slice(&(vid & 0x0fff).to_be_bytes());
    Ok(())
}

/// Sets the VID of the tag at bytes 12..16 (TPID becomes 0x8100; PCP and DEI kept).
#[inline]
pub fn rewrite<P: Packet>(pkt: &mut P, vid: u16) -> Result<(), NoRoom> {
    let data = pkt.data_mut();
    if data.len() < ADDRS + TAG_LEN {
        return Err(NoRoom);
    }
    let tci = u16::from_be_bytes([data[14], data[15]]);
    data[12..14].copy_from_slice(&TPID_8021Q);
    data[14..16].copy_from_slice(&((tci & 0xf000) | (vid & 0x0fff)).to_be_bytes());
    Ok(())
}

/// Takes a frame whose access tag state is `tagged` to the egress form of a binding on
/// VLAN `vlan` (0 = untagged).
#[inline]
pub fn retag<P: Packet>(pkt: &mut P, tagged: bool, vlan: u16) -> Result<(), NoRoom> {
    match (tagged, vlan) {
        (false, 0) => Ok(()),
        (false, v) => push(pkt, v),
        (true, 0) => pop(pkt),
        (true, v) => rewrite(pkt, v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataplane::HeapPacket;

    const UNTAGGED: [u8; 16] = [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 0x08, 0x00, 0xaa, 0xbb];
    const TAGGED_10_PCP5: [u8; 20] = [
        1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 0x81, 0x00, 0xa0, 0x0a, 0x08, 0x00, 0xaa, 0xbb,
    ];

    #[test]
    fn push_pop_rewrite() {
        let mut p = HeapPacket::from_frame(&UNTAGGED);
        push(&mut p, 10).unwrap();
        let mut expect = TAGGED_10_PCP5;
        expect[14] = 0x00;
        assert_eq!(p.data(), &expect);
        pop(&mut p).unwrap();
        assert_eq!(p.data(), &UNTAGGED);

        let mut p = HeapPacket::from_frame(&TAGGED_10_PCP5);
        rewrite(&mut p, 4095).unwrap();
        assert_eq!(&p.data()[12..16], &[0x81, 0x00, 0xaf, 0xff]);
        retag(&mut p, true, 0).unwrap();
        assert_eq!(p.data(), &UNTAGGED);
        retag(&mut p, false, 0).unwrap();
        assert_eq!(p.data(), &UNTAGGED);
    }

    #[test]
    fn no_room_leaves_the_frame() {
        let mut p = HeapPacket::with_room(&UNTAGGED, 3, 0);
        assert_eq!(push(&mut p, 1), Err(NoRoom));
        assert_eq!(p.data(), &UNTAGGED);
        let mut short = HeapPacket::from_frame(&UNTAGGED[..14]);
        assert_eq!(pop(&mut short), Err(NoRoom));
        assert_eq!(rewrite(&mut short, 1), Err(NoRoom));
    }
}
