//! Answers for our own address, written in place: ARP replies for ARP requests and ICMP
//! echo replies for echo requests (RFC 826, RFC 792).
//!
//! This module owns the one host function the fast path performs itself: a tunnel
//! endpoint must answer ARP (or hypervisors cannot send it VXLAN) and ping (operators
//! check it with ping). The request is turned into its reply in the same buffer and goes
//! back out of the port it came in on; the frame keeps its VLAN tags. Anything else
//! handed here is refused with [`DropReason::PuntNotAnswered`], so the caller can count
//! it. No allocation; the ICMP checksum is recomputed over the message (punted traffic
//! is rare, and the sum is one pass over a few dozen bytes).
//!
//! It also owns the two other ARP frame shapes a tunnel endpoint needs for its own next
//! hops: [`arp_sender`] reads who an ARP packet came from (the gateway resolves locator
//! next hops with it) and [`arp_request`] writes the request the gateway sends.

use crate::Packet;
use crate::drop::DropReason;
use crate::ingress::{L3, classify};
use crate::wire::checksum;
use std::net::Ipv4Addr;

const IPPROTO_ICMP: u8 = 1;
const ICMP_ECHO_REPLY: u8 = 0;
const ICMP_ECHO_REQUEST: u8 = 8;
const ARP_REQUEST: u16 = 1;
const ARP_REPLY: u16 = 2;
/// TTL of echo replies.
const REPLY_TTL: u8 = 64;

/// What [`respond`] made of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// An ARP request for our address, now the reply.
    Arp,
    /// An ICMP echo request to our address, now the echo reply.
    Echo,
}

/// Turns an ARP request for `ip`, or an ICMP echo request to `ip`, into its reply from
/// `mac` in place; the caller sends the frame back out of its input port.
pub fn respond<P: Packet>(pkt: &mut P, mac: [u8; 6], ip: Ipv4Addr) -> Result<Answer, DropReason> {
    let c = classify(pkt.data())?;
    let l3 = usize::from(c.l3_offset);
    let frame = pkt.data_mut();
    match c.l3 {
        L3::Arp => {
            let a = &frame[l3..];
            let oper = u16::from_be_bytes([a[6], a[7]]);
            // Ethernet (1) / IPv4 (0x0800), 6-byte hardware and 4-byte protocol addresses.
            if a[0..6] != [0, 1, 8, 0, 6, 4] || oper != ARP_REQUEST || a[24..28] != ip.octets() {
                return Err(DropReason::PuntNotAnswered);
            }
            let mut sender = [0u8; 10];
            sender.copy_from_slice(&a[8..18]);
            let a = &mut frame[l3..];
            a[6..8].copy_from_slice(&ARP_REPLY.to_be_bytes());
            a[18..28].copy_from_slice(&sender); // target = the requester
            a[8..14].copy_from_slice(&mac);
            a[14..18].copy_from_slice(&ip.octets());
            frame[0..6].copy_from_slice(&sender[0..6]);
            frame[6..12].copy_from_slice(&mac);
            Ok(Answer::Arp)
        }
        L3::Ipv4 if c.ip_proto == IPPROTO_ICMP && !c.ip_fragment => {
            let Some(l4) = c.l4() else {
                return Err(DropReason::PuntNotAnswered);
            };
            let end = c.l3_end();
            if frame[l3 + 16..l3 + 20] != ip.octets()
                || end < l4 + 8
                || frame[l4] != ICMP_ECHO_REQUEST
                || frame[l4 + 1] != 0
            {
                return Err(DropReason::PuntNotAnswered);
            }
            // ICMP: type, then the checksum over the whole message.
            frame[l4] = ICMP_ECHO_REPLY;
            frame[l4 + 2..l4 + 4].fill(0);
            let sum = checksum::finish(checksum::sum(&frame[l4..end]));
            frame[l4 + 2..l4 + 4].copy_from_slice(&sum.to_be_bytes());
            // IPv4: swap addresses, fresh TTL, header checksum.
            let mut src = [0u8; 4];
            src.copy_from_slice(&frame[l3 + 12..l3 + 16]);
            frame[l3 + 12..l3 + 16].copy_from_slice(&ip.octets());
            frame[l3 + 16..l3 + 20].copy_from_slice(&src);
            frame[l3 + 8] = REPLY_TTL;
            let ihl = usize::from(frame[l3] & 0x0f) * 4;
            let sum = checksum::ipv4_header(&frame[l3..l3 + ihl]);
            frame[l3 + 10..l3 + 12].copy_from_slice(&sum.to_be_bytes());
            // Ethernet: back to the sender.
            frame.copy_within(6..12, 0);
            frame[6..12].copy_from_slice(&mac);
            Ok(Answer::Echo)
        }
        _ => Err(DropReason::PuntNotAnswered),
    }
}

/// What an Ethernet/IPv4 ARP packet says about its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpSender {
    /// Sender protocol address.
    pub ip: Ipv4Addr,
    /// Sender hardware address.
    pub mac: [u8; 6],
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
    /// True for a reply, false for a request (gratuitous ARP included).
    pub reply: bool,
}

/// The sender of an Ethernet/IPv4 ARP request or reply in `frame`, if it names one:
/// probes (sender address 0.0.0.0, RFC 5227) and group or zero sender MACs reveal no
/// neighbour and give None. Read-only.
pub fn arp_sender(frame: &[u8]) -> Option<ArpSender> {
    let c = classify(frame).ok()?;
    if c.l3 != L3::Arp {
        return None;
    }
    let a = frame.get(usize::from(c.l3_offset)..)?.get(..28)?;
    let oper = u16::from_be_bytes([a[6], a[7]]);
    if a[0..6] != [0, 1, 8, 0, 6, 4] || !(oper == ARP_REQUEST || oper == ARP_REPLY) {
        return None;
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&a[8..14]);
    let ip = Ipv4Addr::new(a[14], a[15], a[16], a[17]);
    if mac[0] & 1 != 0 || mac == [0; 6] || ip.is_unspecified() {
        return None;
    }
    Some(ArpSender {
        ip,
        mac,
        target_ip: Ipv4Addr::new(a[24], a[25], a[26], a[27]),
        reply: oper == ARP_REPLY,
    })
}

/// Length of the frames [`arp_request`] writes: the Ethernet minimum without FCS.
pub const ARP_REQUEST_LEN: usize = 60;

/// Writes an ARP request "who has `target`? tell `ip`" from `mac` into `buf` (802.1Q
/// tagged with `vlan` when given), to `dst` (broadcast for a fresh resolution, the
/// cached MAC for a unicast refresh as RFC 1122 2.3.2.1 suggests), zero-padded to
/// [`ARP_REQUEST_LEN`] bytes, which it returns.
pub fn arp_request(
    buf: &mut [u8; ARP_REQUEST_LEN],
    mac: [u8; 6],
    ip: Ipv4Addr,
    vlan: Option<u16>,
    dst: [u8; 6],
    target: Ipv4Addr,
) -> usize {
    buf.fill(0);
    buf[0..6].copy_from_slice(&dst);
    buf[6..12].copy_from_slice(&mac);
    let mut at = 12;
    if let Some(vid) = vlan {
        buf[12..14].copy_from_slice(&[0x81, 0x00]);
        buf[14..16].copy_from_slice(&(vid & 0x0fff).to_be_bytes());
        at = 16;
    }
    buf[at..at + 2].copy_from_slice(&[0x08, 0x06]);
    let a = &mut buf[at + 2..at + 30];
    a[0..6].copy_from_slice(&[0, 1, 8, 0, 6, 4]);
    a[6..8].copy_from_slice(&ARP_REQUEST.to_be_bytes());
    a[8..14].copy_from_slice(&mac);
    a[14..18].copy_from_slice(&ip.octets());
    // Target hardware address stays zero: unknown, as in any request.
    a[24..28].copy_from_slice(&target.octets());
    ARP_REQUEST_LEN
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeapPacket;

    // `arp_request` below is the test helper; the writer is `super::arp_request`.
    #[test]
    fn arp_requests_are_written_tagged_or_not_and_read_back() {
        let mut buf = [0xaa; ARP_REQUEST_LEN];
        let target = Ipv4Addr::new(192, 0, 2, 2);
        assert_eq!(
            super::arp_request(&mut buf, OUR_MAC, OUR_IP, None, [0xff; 6], target),
            60
        );
        let mut want = vec![0xff; 6];
        want.extend(OUR_MAC);
        want.extend([0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
        want.extend(OUR_MAC);
        want.extend([192, 0, 2, 1]);
        want.extend([0; 6]);
        want.extend([192, 0, 2, 2]);
        want.resize(60, 0);
        assert_eq!(&buf[..], &want[..]);
        let s = arp_sender(&buf).expect("a request names its sender");
        assert_eq!(
            (s.ip, s.mac, s.target_ip, s.reply),
            (OUR_IP, OUR_MAC, target, false)
        );

        super::arp_request(&mut buf, OUR_MAC, OUR_IP, Some(20), HV_MAC, target);
        assert_eq!(&buf[0..6], &HV_MAC);
        assert_eq!(&buf[12..18], &[0x81, 0x00, 0x00, 20, 0x08, 0x06]);
        assert_eq!(&buf[18..46], &want[14..42]);
        assert!(buf[46..].iter().all(|&b| b == 0));
        assert_eq!(arp_sender(&buf).map(|s| s.target_ip), Some(target));
    }

    #[test]
    fn replies_and_announcements_name_their_sender_probes_do_not() {
        let mut reply = arp_request([192, 0, 2, 1]);
        reply[21] = 2;
        assert_eq!(
            arp_sender(&reply),
            Some(ArpSender {
                ip: Ipv4Addr::new(192, 0, 2, 2),
                mac: HV_MAC,
                target_ip: OUR_IP,
                reply: true
            })
        );
        // RFC 5227 probe: sender address 0.0.0.0.
        let mut probe = arp_request([192, 0, 2, 2]);
        probe[28..32].fill(0);
        assert_eq!(arp_sender(&probe), None);
        let mut group = arp_request([192, 0, 2, 1]);
        group[22] |= 1;
        assert_eq!(arp_sender(&group), None);
        assert_eq!(arp_sender(&echo_request(false)), None);
        assert_eq!(arp_sender(&[0u8; 10]), None);
    }

    const OUR_MAC: [u8; 6] = [0x02, 0xca, 0xfe, 0, 0, 1];
    const OUR_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const HV_MAC: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    /// `arping`-style request from 192.0.2.2 for 192.0.2.1, as captured, padded to 60.
    fn arp_request(target: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend(HV_MAC);
        f.extend([0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
        f.extend(HV_MAC);
        f.extend([192, 0, 2, 2]);
        f.extend([0; 6]);
        f.extend(target);
        f.resize(60, 0);
        f
    }

    #[test]
    fn an_arp_request_for_us_becomes_the_reply() {
        let mut p = HeapPacket::from_frame(&arp_request([192, 0, 2, 1]));
        assert_eq!(respond(&mut p, OUR_MAC, OUR_IP), Ok(Answer::Arp));
        let mut want = Vec::new();
        want.extend(HV_MAC);
        want.extend(OUR_MAC);
        want.extend([0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2]);
        want.extend(OUR_MAC);
        want.extend([192, 0, 2, 1]);
        want.extend(HV_MAC);
        want.extend([192, 0, 2, 2]);
        want.resize(60, 0);
        assert_eq!(p.data(), &want[..]);
    }

    #[test]
    fn other_arp_is_not_answered() {
        let mut p = HeapPacket::from_frame(&arp_request([192, 0, 2, 9]));
        assert_eq!(
            respond(&mut p, OUR_MAC, OUR_IP),
            Err(DropReason::PuntNotAnswered)
        );
        let mut reply = arp_request([192, 0, 2, 1]);
        reply[21] = 2;
        let mut p = HeapPacket::from_frame(&reply);
        assert_eq!(
            respond(&mut p, OUR_MAC, OUR_IP),
            Err(DropReason::PuntNotAnswered)
        );
        assert_eq!(p.data(), &reply[..], "a refused frame is left alone");
    }

    /// `ping -c1 -s 8 192.0.2.1` from 192.0.2.2 on VLAN 7 (id 0x1234, seq 1), with its
    /// real checksums (verified with Wireshark's algorithm: RFC 1071).
    fn echo_request(tagged: bool) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend(OUR_MAC);
        f.extend(HV_MAC);
        if tagged {
            f.extend([0x81, 0x00, 0x00, 0x07]);
        }
        f.extend([0x08, 0x00]);
        let mut ip = vec![0x45, 0, 0, 36, 0xab, 0xcd, 0x40, 0, 63, 1, 0, 0];
        ip.extend([192, 0, 2, 2, 192, 0, 2, 1]);
        let s = checksum::ipv4_header(&ip);
        ip[10..12].copy_from_slice(&s.to_be_bytes());
        f.extend(ip);
        let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8];
        let s = checksum::finish(checksum::sum(&icmp));
        icmp[2..4].copy_from_slice(&s.to_be_bytes());
        f.extend(icmp);
        f.resize(f.len().max(60), 0);
        f
    }

    fn verify_checksums(frame: &[u8], l3: usize) {
        assert_eq!(
            checksum::sum(&frame[l3..l3 + 20]),
            0xffff,
            "IPv4 header checksum"
        );
        assert_eq!(
            checksum::sum(&frame[l3 + 20..l3 + 36]),
            0xffff,
            "ICMP checksum"
        );
    }

    #[test]
    fn an_echo_request_to_us_becomes_the_reply_tagged_or_not() {
        for tagged in [false, true] {
            let req = echo_request(tagged);
            let l3 = if tagged { 18 } else { 14 };
            let mut p = HeapPacket::from_frame(&req);
            assert_eq!(respond(&mut p, OUR_MAC, OUR_IP), Ok(Answer::Echo));
            let r = p.data();
            assert_eq!(r.len(), req.len());
            assert_eq!(&r[0..6], &HV_MAC);
            assert_eq!(&r[6..12], &OUR_MAC);
            assert_eq!(&r[12..l3], &req[12..l3], "tags and ethertype kept");
            assert_eq!(&r[l3 + 12..l3 + 16], &[192, 0, 2, 1]);
            assert_eq!(&r[l3 + 16..l3 + 20], &[192, 0, 2, 2]);
            assert_eq!(r[l3 + 8], 64);
            assert_eq!(r[l3 + 20], 0, "echo reply");
            assert_eq!(
                &r[l3 + 24..l3 + 36],
                &req[l3 + 24..l3 + 36],
                "id, seq, data kept"
            );
            verify_checksums(r, l3);
        }
    }

    #[test]
    fn other_icmp_and_other_addresses_are_not_answered() {
        let mut to_other = echo_request(false);
        to_other[14 + 19] = 9;
        let mut p = HeapPacket::from_frame(&to_other);
        assert_eq!(
            respond(&mut p, OUR_MAC, OUR_IP),
            Err(DropReason::PuntNotAnswered)
        );
        let mut reply = echo_request(false);
        reply[34] = 0;
        let mut p = HeapPacket::from_frame(&reply);
        assert_eq!(
            respond(&mut p, OUR_MAC, OUR_IP),
            Err(DropReason::PuntNotAnswered)
        );
        let mut p = HeapPacket::from_frame(&[0u8; 10]);
        assert_eq!(respond(&mut p, OUR_MAC, OUR_IP), Err(DropReason::RuntFrame));
    }
}
