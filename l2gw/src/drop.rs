//! The L2 gateway's own drop reasons, declared once like `dataplane::drop`.
//!
//! This module owns the reasons only the L2 gateway produces (no binding, disabled
//! logical switch, unknown VNI, underlay MTU, ...). Each has a variant of the same name
//! and label in `dataplane`'s `drop_reasons!` table ([`L2Drop::fallback`]), so
//! [`Verdict::Drop`](dataplane::Verdict) carries the exact reason and the lcore's drop
//! counters (`causeway_drops_total`) count it; the node also counts it in
//! [`L2Counters`](crate::counters::L2Counters) per lcore.

use dataplane::DropReason;

macro_rules! l2_drops {
    ($( $(#[$doc:meta])* $variant:ident => $label:literal, $fallback:ident, $text:literal; )+) => {
        /// Why the L2 gateway dropped a packet. Counted per lcore and exported as
        /// `causeway_l2gw_drops_total{reason="<label>"}`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum L2Drop {
            $( $(#[$doc])* $variant, )+
        }

        impl L2Drop {
            /// Every reason, in declaration order (the counter index order).
            pub const ALL: &'static [L2Drop] = &[$(L2Drop::$variant,)+];
            /// Number of reasons.
            pub const COUNT: usize = Self::ALL.len();

            /// The metric label value, `snake_case`.
            pub const fn label(self) -> &'static str {
                match self { $(L2Drop::$variant => $label,)+ }
            }

            /// One sentence for operators and logs.
            pub const fn text(self) -> &'static str {
                match self { $(L2Drop::$variant => $text,)+ }
            }

            /// The `dataplane` reason a [`dataplane::Verdict::Drop`] carries for it (same
            /// name and label).
            pub const fn fallback(self) -> DropReason {
                match self { $(L2Drop::$variant => DropReason::$fallback,)+ }
            }

            /// Index into per-lcore counter arrays.
            #[inline]
            pub const fn index(self) -> usize {
                self as usize
            }
        }
    };
}

l2_drops! {
    /// No VLAN binding for (input port, VLAN) (`Physical_Port.vlan_bindings`).
    NoBinding => "no_binding", NoBinding, "no VLAN binding for this port and VLAN";
    /// The logical switch has tunnel_key 0: configured but not to be forwarded.
    SwitchDisabled => "switch_disabled", SwitchDisabled, "logical switch has VNI 0 (do not forward)";
    /// A VXLAN packet for a VNI no logical switch has.
    UnknownVni => "unknown_vni", UnknownVni, "VXLAN packet for an unknown VNI";
    /// Once encapsulated the frame would exceed the underlay MTU; VTEPs must not
    /// fragment (RFC 7348 section 4.3).
    UnderlayMtuExceeded => "underlay_mtu_exceeded", UnderlayMtuExceeded, "frame exceeds the underlay MTU once encapsulated";
    /// Multicast, broadcast or all-zero source MAC: not a valid station address.
    InvalidSourceMac => "invalid_source_mac", InvalidSourceMac, "source MAC is multicast or zero";
    /// The destination is the binding the frame came from (hairpin): never sent back.
    SameBinding => "same_binding", SameBinding, "destination is on the input binding";
    /// Flooding found no member to send to (no other binding, no locator).
    EmptyFloodSet => "empty_flood_set", EmptyFloodSet, "nothing to flood to";
    /// The locator's underlay next hop is not resolved yet.
    NextHopUnresolved => "next_hop_unresolved", NextHopUnresolved, "underlay next hop not resolved";
    /// On the underlay port: neither VXLAN to our tunnel IP nor ARP/ICMP for it.
    NotForUs => "not_for_us", NotForUs, "underlay packet not addressed to the tunnel endpoint";
    /// A replication set index or member index that the current tables do not have.
    StaleFloodSet => "stale_flood_set", StaleFloodSet, "replication set not in the current tables";
    /// The replica buffer has too little room for the frame plus its headers.
    NoRoomForReplica => "no_room_for_replica", NoRoomForReplica, "replica buffer too small";
}

/// A drop by the L2 gateway: a shared reason (ingress check, decapsulation) or one of
/// its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Drop {
    /// A reason from `dataplane` (ingress check, VXLAN validation, headroom).
    Dataplane(DropReason),
    /// A reason of the L2 gateway's own.
    L2(L2Drop),
}

impl Drop {
    /// The reason [`dataplane::Verdict::Drop`] carries.
    #[inline]
    pub const fn reason(self) -> DropReason {
        match self {
            Drop::Dataplane(r) => r,
            Drop::L2(r) => r.fallback(),
        }
    }

    /// The metric label.
    pub const fn label(self) -> &'static str {
        match self {
            Drop::Dataplane(r) => r.label(),
            Drop::L2(r) => r.label(),
        }
    }
}

impl From<DropReason> for Drop {
    #[inline]
    fn from(r: DropReason) -> Self {
        Drop::Dataplane(r)
    }
}

impl From<L2Drop> for Drop {
    #[inline]
    fn from(r: L2Drop) -> Self {
        Drop::L2(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_l2_reason_is_the_dataplane_reason_of_the_same_label() {
        let mut seen = std::collections::HashSet::new();
        for (i, r) in L2Drop::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert!(seen.insert(r.label()), "duplicate label {}", r.label());
            assert_eq!(r.fallback().label(), r.label());
            assert_eq!(r.fallback().text(), r.text());
            assert!(
                r.label()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
            assert!(!r.text().is_empty());
        }
        assert_eq!(
            Drop::L2(L2Drop::UnderlayMtuExceeded).reason(),
            DropReason::UnderlayMtuExceeded
        );
    }
}
