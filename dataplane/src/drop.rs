//! Every reason a packet may be dropped, declared once.
//!
//! The `drop_reasons!` table generates the enum, the operator-facing text and the
//! metric label, so a new reason cannot be counted without also being described.

macro_rules! drop_reasons {
    ($( $(#[$doc:meta])* $variant:ident => $label:literal, $text:literal; )+) => {
        /// Why a packet was dropped. Each variant is counted per lcore and exported as
        /// `causeway_drops_total{reason="<label>"}`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum DropReason {
            $( $(#[$doc])* $variant, )+
        }

        impl DropReason {
            /// Every reason, in declaration order (the counter index order).
            pub const ALL: &'static [DropReason] = &[$(DropReason::$variant,)+];
            /// Number of reasons.
            pub const COUNT: usize = Self::ALL.len();

            /// The metric label value, `snake_case`.
            pub const fn label(self) -> &'static str {
                match self { $(DropReason::$variant => $label,)+ }
            }

            /// One sentence for operators and logs.
            pub const fn text(self) -> &'static str {
                match self { $(DropReason::$variant => $text,)+ }
            }

            /// Index into per-lcore counter arrays.
            #[inline]
            pub const fn index(self) -> usize {
                self as usize
            }
        }
    };
}

drop_reasons! {
    /// Shorter than an Ethernet header (14 bytes).
    RuntFrame => "runt_frame", "frame shorter than an Ethernet header";
    /// An 802.1Q/802.1ad tag announced but cut short.
    TruncatedVlanTag => "truncated_vlan_tag", "VLAN tag cut short by the end of the frame";
    /// More stacked VLAN tags than the gateway parses (two: 802.1ad + 802.1Q).
    TooManyVlanTags => "too_many_vlan_tags", "more than two stacked VLAN tags";
    /// IPv4 header shorter than 20 bytes or than its IHL.
    TruncatedIpv4Header => "truncated_ipv4_header", "IPv4 header cut short";
    /// IPv4 version field is not 4 or IHL below 5.
    MalformedIpv4Header => "malformed_ipv4_header", "IPv4 version or header length invalid";
    /// IPv4 total length smaller than the header or larger than the frame.
    BadIpv4Length => "bad_ipv4_length", "IPv4 total length disagrees with the frame";
    /// IPv6 header shorter than 40 bytes or version not 6.
    TruncatedIpv6Header => "truncated_ipv6_header", "IPv6 header cut short or version not 6";
    /// IPv6 payload length larger than the frame.
    BadIpv6Length => "bad_ipv6_length", "IPv6 payload length larger than the frame";
    /// ARP packet shorter than the Ethernet/IPv4 ARP format.
    TruncatedArp => "truncated_arp", "ARP packet cut short";
    /// UDP header cut short or its length field disagrees with the IP payload.
    BadUdpLength => "bad_udp_length", "UDP header cut short or length field wrong";
    /// TCP header cut short or its data offset points past the segment.
    BadTcpHeader => "bad_tcp_header", "TCP header cut short or data offset invalid";
    /// VXLAN header cut short, or its I flag is clear (RFC 7348).
    MalformedVxlan => "malformed_vxlan", "VXLAN header cut short or VNI flag clear";
    /// Geneve header cut short, wrong version, or options past the end (RFC 8926).
    MalformedGeneve => "malformed_geneve", "Geneve header cut short or options malformed";
    /// GRE header cut short or an unsupported version (RFC 2784/2890).
    MalformedGre => "malformed_gre", "GRE header cut short or version unsupported";
    /// STT frame header cut short (draft-davie-stt).
    MalformedStt => "malformed_stt", "STT header cut short";
    /// A Geneve option marked critical that this gateway does not implement (RFC 8926
    /// section 3.5 requires the drop).
    UnsupportedGeneveOption => "unsupported_geneve_option", "Geneve critical option not understood";
    /// The frame plus outer headers would overflow the outer IP length field.
    TunnelOversize => "tunnel_oversize", "frame too large to encapsulate";
    /// Not enough headroom to write outer headers.
    NoHeadroom => "no_headroom", "no headroom left for encapsulation";
    /// The transmit queue stayed full; the frame could not be sent.
    TxQueueFull => "tx_queue_full", "transmit queue full";
    /// The role has no output for frames from this port.
    NoEgress => "no_egress", "no output configured for the input port";
    /// L2 gateway: no VLAN binding for (input port, VLAN) (`Physical_Port.vlan_bindings`).
    NoBinding => "no_binding", "no VLAN binding for this port and VLAN";
    /// L2 gateway: the logical switch has tunnel_key 0 (configured, not forwarded).
    SwitchDisabled => "switch_disabled", "logical switch has VNI 0 (do not forward)";
    /// L2 gateway: a VXLAN packet for a VNI no logical switch has.
    UnknownVni => "unknown_vni", "VXLAN packet for an unknown VNI";
    /// L2 gateway: once encapsulated the frame would exceed the underlay MTU; VTEPs
    /// must not fragment (RFC 7348 section 4.3).
    UnderlayMtuExceeded => "underlay_mtu_exceeded", "frame exceeds the underlay MTU once encapsulated";
    /// L2 gateway: multicast, broadcast or all-zero source MAC.
    InvalidSourceMac => "invalid_source_mac", "source MAC is multicast or zero";
    /// L2 gateway: the destination is on the binding the frame came from (hairpin).
    SameBinding => "same_binding", "destination is on the input binding";
    /// L2 gateway: flooding found no member to send to (no other binding, no locator).
    EmptyFloodSet => "empty_flood_set", "nothing to flood to";
    /// L2 gateway: the locator's underlay next hop is not resolved yet.
    NextHopUnresolved => "next_hop_unresolved", "underlay next hop not resolved";
    /// L2 gateway: on the underlay port, neither VXLAN to our tunnel IP nor ARP/ICMP
    /// for it.
    NotForUs => "not_for_us", "underlay packet not addressed to the tunnel endpoint";
    /// L2 gateway: a replication set or member the current tables do not have.
    StaleFloodSet => "stale_flood_set", "replication set not in the current tables";
    /// L2 gateway: the replica buffer has too little room for the frame and headers.
    NoRoomForReplica => "no_room_for_replica", "replica buffer too small";
    /// No mbuf left in the pool for a replica.
    ReplicaAllocFailed => "replica_alloc_failed", "no packet buffer left for a replica";
    /// A punted packet that the responder does not answer (not an ARP request or ICMP
    /// echo request for our address).
    PuntNotAnswered => "punt_not_answered", "punted packet not answered by the responder";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_unique_snake_case_and_indexes_dense() {
        let mut seen = std::collections::HashSet::new();
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert!(seen.insert(r.label()), "duplicate label {}", r.label());
            assert!(
                r.label()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "label {} is not snake_case",
                r.label()
            );
            assert!(!r.text().is_empty());
        }
    }
}
