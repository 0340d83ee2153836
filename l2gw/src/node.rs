//! The L2 gateway node: a burst of received frames in, a parallel verdict array out.
//!
//! This module owns the per-packet forwarding decisions (the crate docs give the full
//! case list). The input port decides the direction: frames from the underlay port are
//! tunnel ingress, frames from any other port are physical ingress (so a host on an
//! access VLAN can never inject into a tunnel by sending VXLAN to our address).
//!
//! A frame leaving with [`Verdict::Replicate`] has no access tag (it is the frame as the
//! logical switch carries it); [`replicate`](crate::flood::replicate) makes each copy.
//!
//! One [`L2Gateway`] per worker lcore: it holds that lcore's counters, learn ring and
//! learn cache, and the current `Arc<Tables>`, swapped between bursts with
//! [`L2Gateway::set_tables`]. Nothing here allocates or locks per packet.

use crate::counters::L2Counters;
use crate::drop::{Drop, L2Drop};
use crate::learn::{LearnCache, LearnEvent, LearnRing};
use crate::mac::{Mac, key};
use crate::tables::{Tables, pack_binding, unpack_binding};
use crate::tag;
use dataplane::encap::{flow_hash_classified, vxlan_decap};
use dataplane::ingress::{IPPROTO_UDP, L3, classify};
use dataplane::node::Node;
use dataplane::wire::vxlan;
use dataplane::{DropReason, Packet, Verdict};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

const IPPROTO_ICMP: u8 = 1;
/// Entries in each lcore's learn cache.
pub const LEARN_CACHE_ENTRIES: usize = 4096;

/// The L2 gateway pipeline node for one worker lcore.
#[derive(Debug)]
struct Learner {
    ring: Arc<LearnRing>,
    cache: LearnCache,
    /// The snapshot generation mixed with the ring's ageing epoch: the cache forgets
    /// what it reported when either changes.
    generation: u32,
    snapshot: u32,
    epoch: u32,
    /// Counts known-source frames; every [`REFRESH_SAMPLE`]th one may refresh.
    sample: u32,
}

/// How many frames ahead of the one being forwarded the node prefetches.
const PREFETCH_AHEAD: usize = 4;

/// One in this many frames from an already known source checks whether its MAC was
/// refreshed this epoch: active stations send far more often than that per ageing
/// period, and the other frames pay nothing.
pub const REFRESH_SAMPLE: u32 = 16;

impl Learner {
    /// Reports `mac` on `binding` unless the snapshot or this lcore's cache has it.
    #[inline]
    fn local(
        &mut self,
        tables: &Tables,
        counters: &L2Counters,
        slot: u16,
        mac: Mac,
        binding: u32,
        vni: u32,
    ) {
        if tables.local_binding(slot, mac) == Some(binding) {
            self.sample = self.sample.wrapping_add(1);
            if self.sample.is_multiple_of(REFRESH_SAMPLE) {
                self.refresh(slot, mac, binding, vni);
            }
            return;
        }
        let k = key(slot, mac);
        if self.cache.seen(k, binding, self.generation) {
            return;
        }
        let (port, vlan) = unpack_binding(binding);
        if self.ring.push(LearnEvent::Local {
            vni,
            mac,
            port,
            vlan,
        }) {
            self.cache.record(k, binding, self.generation);
            counters.learned();
        }
    }

    /// Reports a known, active local MAC once per ageing epoch (hit-based ageing).
    #[cold]
    fn refresh(&mut self, slot: u16, mac: Mac, binding: u32, vni: u32) {
        // Tagged by the epoch alone: a new snapshot must not trigger a refresh of
        // every active station.
        let k = key(slot, mac);
        let tag = !self.epoch;
        if self.cache.seen(k, binding, tag) {
            return;
        }
        let (port, vlan) = unpack_binding(binding);
        if self.ring.push(LearnEvent::Local {
            vni,
            mac,
            port,
            vlan,
        }) {
            self.cache.record(k, binding, tag);
        }
    }

    /// Follows the snapshot generation and the ring's ageing epoch (once a burst).
    #[inline]
    fn sync(&mut self, snapshot: u32) {
        let epoch = self.ring.epoch();
        if epoch != self.epoch || snapshot != self.snapshot {
            self.epoch = epoch;
            self.snapshot = snapshot;
            self.generation = snapshot ^ epoch.rotate_left(16);
        }
    }

    /// Reports `mac` behind `locator` unless the snapshot or this lcore's cache has it.
    #[cold]
    fn remote(
        &mut self,
        tables: &Tables,
        counters: &L2Counters,
        slot: u16,
        mac: Mac,
        locator: Ipv4Addr,
        vni: u32,
    ) {
        if tables.remote_mac(slot, mac) == Some(locator) {
            return;
        }
        let k = key(slot, mac);
        let value = u32::from(locator);
        if !self.cache.seen(k, value, self.generation)
            && self.ring.push(LearnEvent::Remote { vni, mac, locator })
        {
            self.cache.record(k, value, self.generation);
            counters.learned();
        }
    }
}

/// The L2 gateway pipeline node for one worker lcore.
#[derive(Debug)]
pub struct L2Gateway {
    tables: Arc<Tables>,
    counters: Arc<L2Counters>,
    learner: Learner,
    /// VPP's "last tunnel" cache: the last VNI looked up and its slot.
    last_vni: Option<(u32, u16)>,
    learn_remote: bool,
}

impl L2Gateway {
    /// A node over `tables`, counting into `counters` and reporting learned MACs into
    /// `learn` (all three per lcore; the control plane keeps the other `Arc`s).
    pub fn new(tables: Arc<Tables>, counters: Arc<L2Counters>, learn: Arc<LearnRing>) -> Self {
        L2Gateway {
            learner: Learner {
                generation: tables.generation() as u32,
                snapshot: tables.generation() as u32,
                epoch: 0,
                sample: 0,
                ring: learn,
                cache: LearnCache::new(LEARN_CACHE_ENTRIES),
            },
            tables,
            counters,
            last_vni: None,
            learn_remote: false,
        }
    }

    /// Also report an inner source MAC arriving from a locator other than the one the
    /// remote table names ([`LearnEvent::Remote`]). Off by default: it costs a remote
    /// table lookup per decapsulated frame, and hardware_vtep gets remote MACs from
    /// the controller anyway.
    pub fn learn_remote(mut self, on: bool) -> Self {
        self.learn_remote = on;
        self
    }

    /// Adopts a new snapshot (between bursts).
    pub fn set_tables(&mut self, tables: Arc<Tables>) {
        self.learner.sync(tables.generation() as u32);
        self.tables = tables;
        self.last_vni = None;
    }

    /// The snapshot in use; [`replicate`](crate::flood::replicate) must use the same one.
    pub fn tables(&self) -> &Arc<Tables> {
        &self.tables
    }

    /// This lcore's counters.
    pub fn counters(&self) -> &Arc<L2Counters> {
        &self.counters
    }

    /// Forwards one frame: the verdict, or why it is dropped. The frame is rewritten in
    /// place (tags, encapsulation, decapsulation). Does not count drops (the caller of
    /// this, [`Node::process`], does).
    #[inline]
    pub fn forward<P: Packet>(&mut self, pkt: &mut P) -> Result<Verdict, Drop> {
        if pkt.input_port() == self.tables.underlay().port {
            self.tunnel_ingress(pkt)
        } else {
            self.physical_ingress(pkt)
        }
    }

    #[inline]
    fn physical_ingress<P: Packet>(&mut self, pkt: &mut P) -> Result<Verdict, Drop> {
        let L2Gateway {
            tables,
            counters,
            learner,
            ..
        } = self;
        let tables: &Tables = tables;
        let port = pkt.input_port();
        let frame = pkt.data();
        let c = classify(frame)?;
        let tagged = c.outer_vlan.is_some();
        let vlan = c.vid().unwrap_or(0);
        let slot = tables.binding(port, vlan).ok_or(L2Drop::NoBinding)?;
        let switch = tables.switch(slot).ok_or(L2Drop::NoBinding)?;
        let vni = switch.vni;
        if vni == 0 {
            return Err(L2Drop::SwitchDisabled.into());
        }
        let dst = Mac::read(frame, 0);
        let src = Mac::read(frame, 6);
        if !src.is_station() {
            return Err(L2Drop::InvalidSourceMac.into());
        }
        let len = frame.len();
        counters.from_local(port, vlan, slot, len);
        let input = pack_binding(port, vlan);
        learner.local(tables, counters, slot, src, input, vni);

        if !dst.is_group() {
            if let Some(locator) = tables.remote_locator(slot, dst) {
                // Hash from this classification: the inner L3/L4 fields do not move
                // relative to each other when the tag goes, and parsing again costs.
                let hash = pkt
                    .rss_hash()
                    .unwrap_or_else(|| flow_hash_classified(pkt.data(), &c));
                if tagged {
                    tag::pop(pkt).map_err(|_| DropReason::NoHeadroom)?;
                }
                let inner = pkt.len();
                tables.encap(locator, vni, pkt, hash)?;
                counters.to_tunnel(slot, inner);
                return Ok(Verdict::Tx {
                    port: tables.underlay().port,
                });
            }
            if let Some(out) = tables.local_binding(slot, dst) {
                if out == input {
                    return Err(L2Drop::SameBinding.into());
                }
                let (out_port, out_vlan) = unpack_binding(out);
                tag::retag(pkt, tagged, out_vlan).map_err(|_| DropReason::NoHeadroom)?;
                counters.to_local(out_port, out_vlan, pkt.len());
                return Ok(Verdict::Tx { port: out_port });
            }
        }
        let set = Tables::flood_from_binding(port, vlan);
        if tables.flood_set(set).is_none_or(|s| s.is_empty()) {
            return Err(L2Drop::EmptyFloodSet.into());
        }
        if tagged {
            tag::pop(pkt).map_err(|_| DropReason::NoHeadroom)?;
        }
        counters.flooded(slot);
        Ok(Verdict::Replicate { set })
    }

    #[inline]
    fn vni_slot(last_vni: &mut Option<(u32, u16)>, tables: &Tables, vni: u32) -> Option<u16> {
        if let Some((v, slot)) = *last_vni
            && v == vni
        {
            return Some(slot);
        }
        let slot = tables.switch_for_vni(vni)?;
        *last_vni = Some((vni, slot));
        Some(slot)
    }

    #[inline]
    fn tunnel_ingress<P: Packet>(&mut self, pkt: &mut P) -> Result<Verdict, Drop> {
        let tunnel_ip = self.tables.underlay().tunnel_ip;
        let d = match vxlan_decap(pkt) {
            Ok(d) => d,
            Err(e) => return self.underlay_other(pkt, e),
        };
        if d.outer.dst_port != vxlan::UDP_PORT || d.outer.dst_ip != IpAddr::V4(tunnel_ip) {
            return Err(L2Drop::NotForUs.into());
        }
        let L2Gateway {
            tables,
            counters,
            learner,
            last_vni,
            learn_remote,
        } = self;
        let tables: &Tables = tables;
        let slot = Self::vni_slot(last_vni, tables, d.vni).ok_or(L2Drop::UnknownVni)?;
        let frame = pkt.data();
        let dst = Mac::read(frame, 0);
        let src = Mac::read(frame, 6);
        if !src.is_station() {
            return Err(L2Drop::InvalidSourceMac.into());
        }
        counters.from_tunnel(slot, frame.len());
        if *learn_remote && let IpAddr::V4(locator) = d.outer.src_ip {
            learner.remote(tables, counters, slot, src, locator, d.vni);
        }
        if !dst.is_group()
            && let Some(out) = tables.local_binding(slot, dst)
        {
            let (out_port, out_vlan) = unpack_binding(out);
            if out_vlan != 0 {
                tag::push(pkt, out_vlan).map_err(|_| DropReason::NoHeadroom)?;
            }
            counters.to_local(out_port, out_vlan, pkt.len());
            return Ok(Verdict::Tx { port: out_port });
        }
        // Split horizon: flood to local bindings only.
        let set = Tables::flood_from_tunnel(slot);
        if tables.flood_set(set).is_none_or(|s| s.is_empty()) {
            return Err(L2Drop::EmptyFloodSet.into());
        }
        counters.flooded(slot);
        Ok(Verdict::Replicate { set })
    }

    /// The underlay frame was not valid VXLAN: punt what the control plane answers
    /// (ARP, ICMP to the tunnel address), report a VXLAN problem for UDP 4789 to us,
    /// drop the rest. The frame is unchanged (a failed decap leaves it alone).
    #[cold]
    fn underlay_other<P: Packet>(&self, pkt: &P, decap_error: DropReason) -> Result<Verdict, Drop> {
        let frame = pkt.data();
        let c = classify(frame)?;
        match c.l3 {
            L3::Arp => Ok(Verdict::Punt),
            L3::Ipv4 => {
                let l3 = usize::from(c.l3_offset);
                let dst = &frame[l3 + 16..l3 + 20];
                if dst != self.tables.underlay().tunnel_ip.octets() {
                    return Err(L2Drop::NotForUs.into());
                }
                match (c.ip_proto, c.l4()) {
                    (IPPROTO_ICMP, _) => Ok(Verdict::Punt),
                    (IPPROTO_UDP, Some(l4))
                        if frame[l4 + 2..l4 + 4] == vxlan::UDP_PORT.to_be_bytes() =>
                    {
                        Err(decap_error.into())
                    }
                    _ => Err(L2Drop::NotForUs.into()),
                }
            }
            _ => Err(L2Drop::NotForUs.into()),
        }
    }
}

impl L2Gateway {
    /// Issues the loads [`forward`](Self::forward) will need for `frame` without
    /// waiting for them, reading only what it can bounds-check cheaply; a guess that
    /// does not match the frame costs a wasted prefetch, never a wrong verdict.
    #[inline(always)]
    fn prefetch(&self, port: u16, frame: &[u8]) {
        let tables: &Tables = &self.tables;
        if port == tables.underlay().port {
            // The common shape: untagged outer IPv4 without options, VXLAN header at
            // 42, inner destination MAC at 50.
            if frame.len() >= 64 && frame[12..15] == [0x08, 0x00, 0x45] {
                let vni = u32::from_be_bytes([0, frame[46], frame[47], frame[48]]);
                if let Some(slot) = tables.switch_for_vni(vni) {
                    tables.prefetch_from_tunnel(slot, Mac::read(frame, 50));
                    self.counters.prefetch_switch(slot);
                }
            }
            return;
        }
        if frame.len() < 18 {
            return;
        }
        let vlan = if frame[12..14] == [0x81, 0x00] {
            u16::from_be_bytes([frame[14], frame[15]]) & 0x0fff
        } else {
            0
        };
        if let Some(slot) = tables.binding(port, vlan) {
            tables.prefetch_from_binding(slot, Mac::read(frame, 6), Mac::read(frame, 0));
            self.counters.prefetch(port, vlan, slot);
        }
    }
}

impl<P: Packet> Node<P> for L2Gateway {
    #[inline]
    fn process(&mut self, packets: &mut [P], verdicts: &mut [Verdict]) {
        // Software pipelining (VPP's quad loop, DPDK l3fwd's prefetch-ahead): while
        // frame i is forwarded, the table lines of frame i + PREFETCH_AHEAD are on
        // their way. Prefetching the whole burst up front would overflow the CPU's
        // miss buffers and drop most of the hints.
        let snapshot = self.learner.snapshot;
        self.learner.sync(snapshot);
        let n = packets.len().min(verdicts.len());
        for pkt in &packets[..n.min(PREFETCH_AHEAD)] {
            self.prefetch(pkt.input_port(), pkt.data());
        }
        for i in 0..n {
            if let Some(ahead) = packets.get(i + PREFETCH_AHEAD) {
                self.prefetch(ahead.input_port(), ahead.data());
            }
            verdicts[i] = match self.forward(&mut packets[i]) {
                Ok(v) => v,
                Err(drop) => {
                    if let Drop::L2(r) = drop {
                        self.counters.dropped(r);
                    }
                    Verdict::Drop(drop.reason())
                }
            };
        }
    }
}
