//! The `patch` role: every well-formed frame received on a port leaves, unchanged, on
//! the port it is patched to. It proves the runtime end to end (ports, lcores, bursts,
//! counters) and stays as a diagnostic: a patched pair is a wire with counters.
//!
//! "Well-formed" is the shared ingress check every role runs first
//! ([`dataplane::ingress::classify`]): runts, cut VLAN tags and IP/UDP/TCP headers whose
//! lengths disagree with the frame are dropped and counted by reason, never forwarded.

use dataplane::node::Node;
use dataplane::{DropReason, Packet, Verdict};

const NO_EGRESS: u16 = u16::MAX;

/// The patch table: output port indexed by input port id. Immutable once built.
#[derive(Debug, Clone)]
pub struct Patch {
    egress: Vec<u16>,
    ingress_check: bool,
}

impl Patch {
    /// A patch over `(input port id, output port id)` links.
    pub fn new(links: &[(u16, u16)]) -> Self {
        let size = links
            .iter()
            .map(|&(from, _)| usize::from(from) + 1)
            .max()
            .unwrap_or(0);
        let mut egress = vec![NO_EGRESS; size];
        for &(from, to) in links {
            egress[usize::from(from)] = to;
        }
        Patch {
            egress,
            ingress_check: true,
        }
    }

    /// The same links without the ingress check: a bare wire. Only `causeway bench io`
    /// uses it, to measure the runtime's I/O floor beside the real pipeline.
    pub fn without_ingress_check(mut self) -> Self {
        self.ingress_check = false;
        self
    }

    #[inline]
    fn verdict(&self, frame: &[u8], input_port: u16) -> Verdict {
        if self.ingress_check
            && let Err(reason) = dataplane::ingress::classify(frame)
        {
            return Verdict::Drop(reason);
        }
        match self.egress.get(usize::from(input_port)) {
            Some(&port) if port != NO_EGRESS => Verdict::Tx { port },
            _ => Verdict::Drop(DropReason::NoEgress),
        }
    }
}

impl<P: Packet> Node<P> for Patch {
    #[inline]
    fn process(&mut self, packets: &mut [P], verdicts: &mut [Verdict]) {
        for (packet, verdict) in packets.iter().zip(verdicts.iter_mut()) {
            *verdict = self.verdict(packet.data(), packet.input_port());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataplane::HeapPacket;

    /// Ethernet + IPv4 + UDP, 60 bytes with padding, as captured from a ping-sized flow.
    fn udp_frame() -> Vec<u8> {
        let mut f = vec![
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, // Ethernet
            0x45, 0, 0, 32, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
            0x30, 0x39, 0x00, 0x35, 0, 12, 0, 0, b'p', b'i', b'n', b'g', // UDP + 4 bytes
        ];
        f.resize(60, 0);
        f
    }

    fn run(patch: &mut Patch, frames: &[(&[u8], u16)]) -> Vec<Verdict> {
        let mut packets: Vec<HeapPacket> = frames
            .iter()
            .map(|(f, port)| {
                let mut p = HeapPacket::from_frame(f);
                p.set_input_port(*port);
                p
            })
            .collect();
        let mut verdicts = vec![Verdict::Punt; packets.len()];
        patch.process(&mut packets, &mut verdicts);
        // The patch role never rewrites a frame.
        for (p, (f, _)) in packets.iter().zip(frames) {
            assert_eq!(p.data(), *f);
        }
        verdicts
    }

    #[test]
    fn frames_cross_to_their_patched_port_both_ways() {
        let mut patch = Patch::new(&[(0, 1), (1, 0)]);
        let f = udp_frame();
        assert_eq!(
            run(&mut patch, &[(&f, 0), (&f, 1)]),
            vec![Verdict::Tx { port: 1 }, Verdict::Tx { port: 0 }]
        );
    }

    #[test]
    fn the_bare_wire_forwards_even_malformed_frames() {
        let mut patch = Patch::new(&[(0, 1)]).without_ingress_check();
        let runt = [0u8; 10];
        assert_eq!(
            run(&mut patch, &[(&runt, 0)]),
            vec![Verdict::Tx { port: 1 }]
        );
    }

    #[test]
    fn unpatched_ports_and_malformed_frames_are_dropped_with_a_reason() {
        let mut patch = Patch::new(&[(0, 1)]);
        let good = udp_frame();
        let runt = &good[..13];
        let mut bad_len = good.clone();
        bad_len[16..18].copy_from_slice(&200u16.to_be_bytes()); // IPv4 total length 200 > frame
        let mut bad_ihl = good.clone();
        bad_ihl[14] = 0x43; // IHL 3
        let verdicts = run(
            &mut patch,
            &[(&good, 5), (runt, 0), (&bad_len, 0), (&bad_ihl, 0)],
        );
        assert_eq!(
            verdicts,
            vec![
                Verdict::Drop(DropReason::NoEgress),
                Verdict::Drop(DropReason::RuntFrame),
                Verdict::Drop(DropReason::BadIpv4Length),
                Verdict::Drop(DropReason::MalformedIpv4Header),
            ]
        );
    }
}
