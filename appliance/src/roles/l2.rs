//! The L2 gateway role as the daemon wires it: the control side that turns an
//! [`L2Model`] plus the MACs the workers learn into `l2gw::Tables` snapshots, and the
//! worker side that adopts them.
//!
//! - Snapshots: [`L2Plane::publish`] builds a new `Tables` (generation + 1), stores it
//!   in an `ArcSwap` and then bumps a generation `AtomicU64`. A worker reads that
//!   atomic once per poll round; only when it changed does it load the new `Arc`
//!   (between bursts, never inside one). No lock on the fast path.
//! - Slots: each logical switch name keeps the same slot across rebuilds
//!   ([`SlotAllocator`]), so per-switch counters (indexed by slot) survive.
//! - Learning: each worker has its own `LearnRing`; [`L2Plane::poll`] (a tokio task,
//!   every 50 ms) drains them, records new and moved local MACs, ages idle ones and
//!   republishes when anything changed. The learned set is also published as a
//!   `watch` of `BTreeSet<LocalMac>` for the hardware_vtep agent (`Ucast_Macs_Local`).
//! - Ageing is by hits: a worker reports a MAC at once when the snapshot lacks it on
//!   that binding (new or moved), and reports a known one again once per ageing epoch
//!   (a quarter of `mac_ageing_s`; it checks one in `REFRESH_SAMPLE` frames from known
//!   sources). Each report restarts the MAC's ageing, so a MAC is removed
//!   `mac_ageing_s` after its station was last heard, within an epoch.
//! - Next hops: each locator's VXLAN template gets its static `next_hops` MAC, else
//!   the MAC the [`Resolver`](crate::neighbor::Resolver) learned by ARP (of the locator
//!   on the underlay subnet, or of the gateway); a change republishes.

use crate::config::{Config, L2GatewayConfig};
use crate::l2model::{L2Model, LocalMac, Mac as ModelMac, Replication, format_mac};
use crate::neighbor::{ArpObserver, Resolver, WorkerArp};
use arc_swap::ArcSwap;
use l2gw::dataplane::wire::EthernetAddress;
use l2gw::{
    BuildError, L2Counters, L2Gateway, LearnEvent, LearnRing, Mac, ReplicationMode, Tables,
    TablesBuilder, UnderlayConfig,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Learn events each worker's ring holds before it refuses more (counted).
pub const LEARN_RING_EVENTS: usize = 4096;

/// Stable logical switch slots by name.
#[derive(Debug, Default, Clone)]
pub struct SlotAllocator {
    slots: BTreeMap<String, u16>,
    free: Vec<u16>,
    next: u16,
}

impl SlotAllocator {
    /// Gives every switch of `names` a slot (keeping existing ones) and frees the slots
    /// of names no longer present. None when more than `l2gw::MAX_SWITCHES` are needed.
    pub fn assign<'a>(&mut self, names: impl IntoIterator<Item = &'a String>) -> Option<()> {
        let wanted: BTreeSet<&String> = names.into_iter().collect();
        let gone: Vec<String> = self
            .slots
            .keys()
            .filter(|k| !wanted.contains(k))
            .cloned()
            .collect();
        for name in gone {
            if let Some(s) = self.slots.remove(&name) {
                self.free.push(s);
            }
        }
        for name in wanted {
            if self.slots.contains_key(name) {
                continue;
            }
            let slot = match self.free.pop() {
                Some(s) => s,
                None if usize::from(self.next) < l2gw::MAX_SWITCHES => {
                    self.next += 1;
                    self.next - 1
                }
                None => return None,
            };
            self.slots.insert(name.clone(), slot);
        }
        Some(())
    }

    /// The slot of a switch.
    pub fn get(&self, name: &str) -> Option<u16> {
        self.slots.get(name).copied()
    }

    /// Every (name, slot).
    pub fn iter(&self) -> impl Iterator<Item = (&String, u16)> {
        self.slots.iter().map(|(n, &s)| (n, s))
    }
}

/// What workers read: the current snapshot and its generation.
#[derive(Debug)]
pub struct L2Shared {
    generation: AtomicU64,
    tables: ArcSwap<Tables>,
}

/// Names for the metrics of one publication.
#[derive(Debug, Clone, Default)]
pub struct L2Labels {
    /// (port name, port id, VLAN, switch name).
    pub bindings: Vec<(String, u16, u16, String)>,
    /// (switch name, slot, VNI).
    pub switches: Vec<(String, u16, u32)>,
}

/// What `/metrics` reads of the L2 gateway.
#[derive(Debug, Clone)]
pub struct L2Observer {
    /// Per worker lcore counters.
    pub counters: Vec<Arc<L2Counters>>,
    /// Per worker lcore learn rings (for their refused-event counts).
    pub rings: Vec<Arc<LearnRing>>,
    /// Labels of the current snapshot.
    pub labels: Arc<Mutex<L2Labels>>,
    /// The learned local MACs.
    pub learned: watch::Receiver<BTreeSet<LocalMac>>,
    /// ARP resolution of next hops.
    pub arp: ArpObserver,
}

impl L2Observer {
    /// Each binding of the current snapshot with its counters summed over the
    /// workers, keyed by (port name, VLAN): the hardware_vtep agent's
    /// `Logical_Binding_Stats` input.
    pub fn binding_counts(&self) -> crate::vtep::BindingCountsMap {
        let labels = self
            .labels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        labels
            .bindings
            .iter()
            .map(|(port, id, vlan, _)| {
                let s = L2Counters::sum_binding(self.counters.iter().map(|c| &**c), *id, *vlan);
                let counts = crate::vtep::BindingCounts {
                    packets_from_local: s.from_local_packets,
                    bytes_from_local: s.from_local_bytes,
                    packets_to_local: s.to_local_packets,
                    bytes_to_local: s.to_local_bytes,
                };
                ((port.clone(), *vlan), counts)
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
struct Learned {
    port: String,
    vlan: u16,
    since: Instant,
}

/// The control side of the L2 gateway; see the module docs.
pub struct L2Plane {
    config: L2GatewayConfig,
    underlay: UnderlayConfig,
    /// Port name -> DPDK port id.
    ports: BTreeMap<String, u16>,
    port_names: BTreeMap<u16, String>,
    slots: SlotAllocator,
    learned: BTreeMap<(String, ModelMac), Learned>,
    generation: u64,
    shared: Arc<L2Shared>,
    counters: Vec<Arc<L2Counters>>,
    rings: Vec<Arc<LearnRing>>,
    labels: Arc<Mutex<L2Labels>>,
    learned_tx: watch::Sender<BTreeSet<LocalMac>>,
    /// ARP resolution of locator next hops.
    resolver: Resolver,
    /// When the current ageing epoch began (see the module docs on ageing).
    epoch_started: Option<Instant>,
}

impl std::fmt::Debug for L2Plane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L2Plane")
            .field("generation", &self.generation)
            .field("learned", &self.learned.len())
            .finish_non_exhaustive()
    }
}

/// Why the L2 tables could not be built.
#[derive(Debug, thiserror::Error)]
pub enum L2Error {
    /// The builder refused the model.
    #[error("building the L2 tables: {0}")]
    Build(#[from] BuildError),
    /// More logical switches than slots.
    #[error("more than {} logical switches", l2gw::MAX_SWITCHES)]
    TooManySwitches,
}

impl L2Plane {
    /// The control side for `config.l2_gateway` over ports `(name, id)` with the
    /// underlay port's MAC, for `workers` worker lcores; publishes the first snapshot.
    pub fn new(
        config: &Config,
        port_ids: &[(String, u16)],
        underlay_mac: [u8; 6],
        workers: usize,
    ) -> Result<L2Plane, L2Error> {
        let l2 = config
            .l2_gateway
            .clone()
            .expect("the L2 plane needs roles.l2_gateway");
        let ports: BTreeMap<String, u16> = port_ids.iter().cloned().collect();
        let port_names = port_ids.iter().map(|(n, i)| (*i, n.clone())).collect();
        let underlay = UnderlayConfig {
            port: port_ids[l2.underlay_port].1,
            mac: EthernetAddress(underlay_mac),
            tunnel_ip: l2.tunnel_ip,
            vlan: l2.vlan,
            mtu: l2.mtu,
            ttl: 64,
        };
        let max_port = port_ids.iter().map(|p| p.1).max().unwrap_or(0);
        let (learned_tx, _) = watch::channel(BTreeSet::new());
        let mut resolver = Resolver::new(&l2, underlay_mac, workers);
        resolver.set_locators(&model_locators(&l2.model), Instant::now());
        let mut plane = L2Plane {
            config: l2,
            underlay,
            ports,
            port_names,
            slots: SlotAllocator::default(),
            learned: BTreeMap::new(),
            generation: 0,
            shared: Arc::new(L2Shared {
                generation: AtomicU64::new(0),
                // Replaced by the first publish below.
                tables: ArcSwap::from_pointee(TablesBuilder::new(0, underlay, 0, 0).build()?),
            }),
            counters: (0..workers)
                .map(|_| Arc::new(L2Counters::new(max_port + 1)))
                .collect(),
            rings: (0..workers)
                .map(|_| Arc::new(LearnRing::new(LEARN_RING_EVENTS)))
                .collect(),
            labels: Arc::default(),
            learned_tx,
            resolver,
            epoch_started: None,
        };
        plane.publish()?;
        Ok(plane)
    }

    /// The model in use.
    pub fn model(&self) -> &L2Model {
        &self.config.model
    }

    /// Replaces the logical model (from the hardware_vtep agent) and republishes.
    pub fn set_model(&mut self, model: L2Model) -> Result<(), L2Error> {
        self.resolver
            .set_locators(&model_locators(&model), Instant::now());
        self.config.model = model;
        self.publish()
    }

    /// The learned local MACs, as a `watch` (for writing `Ucast_Macs_Local`).
    pub fn subscribe_learned(&self) -> watch::Receiver<BTreeSet<LocalMac>> {
        self.learned_tx.subscribe()
    }

    /// What `/metrics` reads.
    pub fn observer(&self) -> L2Observer {
        L2Observer {
            counters: self.counters.clone(),
            rings: self.rings.clone(),
            labels: self.labels.clone(),
            learned: self.learned_tx.subscribe(),
            arp: self.resolver.observer(),
        }
    }

    /// ARP resolution of next hops (tests, diagnostics).
    pub fn resolver(&mut self) -> &mut Resolver {
        &mut self.resolver
    }

    /// The generation of the last published snapshot.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The node for worker `i`, on the current snapshot.
    pub fn worker(&self, i: usize) -> L2Worker {
        let tables = self.shared.tables.load_full();
        L2Worker {
            seen: tables.generation(),
            node: L2Gateway::new(tables, self.counters[i].clone(), self.rings[i].clone()),
            shared: self.shared.clone(),
            mac: self.underlay.mac.0,
            tunnel_ip: self.underlay.tunnel_ip,
            underlay_port: self.underlay.port,
            arp: self.resolver.worker(i),
        }
    }

    /// Records a learned MAC as if a worker had reported it (benchmarks, tests); call
    /// [`publish`](Self::publish) after.
    pub fn learn(&mut self, mac: LocalMac) {
        self.learned.insert(
            (mac.switch, mac.mac),
            Learned {
                port: mac.port,
                vlan: mac.vlan,
                since: Instant::now(),
            },
        );
    }

    fn build(&mut self, generation: u64) -> Result<(Tables, L2Labels), L2Error> {
        let model = &self.config.model;
        self.slots
            .assign(model.switches.keys())
            .ok_or(L2Error::TooManySwitches)?;
        let mut b = TablesBuilder::new(
            generation,
            self.underlay,
            model.remote_macs.len(),
            self.learned.len().max(1024),
        );
        let mut labels = L2Labels::default();
        for (name, ls) in &model.switches {
            let slot = self.slots.get(name).expect("assigned");
            let mode = match ls.replication {
                Replication::SourceNode => ReplicationMode::SourceNode,
                Replication::ServiceNode => ReplicationMode::ServiceNode,
            };
            b.logical_switch(slot, ls.vni, mode)?;
            labels.switches.push((name.clone(), slot, ls.vni));
        }
        for ((port, vlan), switch) in &model.bindings {
            // Validated names; a model from elsewhere may name ports we do not have.
            let (Some(&id), Some(slot)) = (self.ports.get(port), self.slots.get(switch)) else {
                continue;
            };
            b.binding(id, *vlan, slot)?;
            labels
                .bindings
                .push((port.clone(), id, *vlan, switch.clone()));
        }
        for (&ip, &mac) in &self.config.next_hops {
            b.locator(ip, Some(EthernetAddress(mac)));
        }
        // ARP-resolved next hops; the rest stay unresolved (`next_hop_unresolved`).
        for ip in model_locators(model) {
            if let Some(mac) = self.resolver.next_hop(ip) {
                b.locator(ip, Some(EthernetAddress(mac)));
            }
        }
        for ((switch, mac), &ip) in &model.remote_macs {
            if let Some(slot) = self.slots.get(switch) {
                b.remote_mac(slot, Mac::new(*mac), ip)?;
            }
        }
        for (switch, locators) in &model.unknown_dst {
            if let Some(slot) = self.slots.get(switch) {
                for &ip in locators {
                    b.unknown_dst(slot, ip)?;
                }
            }
        }
        for ((switch, mac), l) in &self.learned {
            if let (Some(slot), Some(&id)) = (self.slots.get(switch), self.ports.get(&l.port)) {
                b.local_mac(slot, Mac::new(*mac), id, l.vlan)?;
            }
        }
        Ok((b.build()?, labels))
    }

    /// Builds a snapshot from the model and the learned MACs and hands it to the
    /// workers (they adopt it at their next poll round).
    pub fn publish(&mut self) -> Result<(), L2Error> {
        let generation = self.generation + 1;
        let (tables, labels) = self.build(generation)?;
        self.generation = generation;
        self.shared.tables.store(Arc::new(tables));
        self.shared.generation.store(generation, Ordering::Release);
        *self.labels.lock().unwrap_or_else(|e| e.into_inner()) = labels;
        let set: BTreeSet<LocalMac> = self
            .learned
            .iter()
            .map(|((switch, mac), l)| LocalMac {
                switch: switch.clone(),
                mac: *mac,
                port: l.port.clone(),
                vlan: l.vlan,
            })
            .collect();
        self.learned_tx.send_if_modified(|old| {
            if *old == set {
                false
            } else {
                *old = set;
                true
            }
        });
        Ok(())
    }

    /// Drains the learn rings, ages idle MACs, and republishes when something changed.
    /// Returns whether it republished.
    pub fn poll(&mut self, now: Instant) -> Result<bool, L2Error> {
        let mut changed = false;
        let vni_switch: BTreeMap<u32, String> = self
            .config
            .model
            .switches
            .iter()
            .filter(|(_, ls)| ls.vni != 0)
            .map(|(n, ls)| (ls.vni, n.clone()))
            .collect();
        for ring in &self.rings {
            for event in ring.drain() {
                let LearnEvent::Local {
                    vni,
                    mac,
                    port,
                    vlan,
                } = event
                else {
                    continue;
                };
                let (Some(switch), Some(port)) = (vni_switch.get(&vni), self.port_names.get(&port))
                else {
                    continue;
                };
                let key = (switch.clone(), mac.octets());
                let known = self.learned.get(&key);
                let moved = known.is_none_or(|l| l.port != *port || l.vlan != vlan);
                // A full table refuses new MACs (their frames keep being flooded, and
                // the vtep agent reports mac_table_exhaustion); moves still apply.
                if known.is_none() && self.learned.len() >= self.config.limits.local_macs {
                    continue;
                }
                if !moved {
                    // A worker's once-per-epoch report of a station it still hears.
                    if let Some(l) = self.learned.get_mut(&key) {
                        l.since = now;
                    }
                    continue;
                }
                tracing::debug!(switch, mac = %format_mac(&mac.octets()), port, vlan, "learned");
                self.learned.insert(
                    key,
                    Learned {
                        port: port.clone(),
                        vlan,
                        since: now,
                    },
                );
                changed = true;
            }
        }
        let ageing = self.config.mac_ageing;
        // Four epochs per ageing period: a station heard at least once in each is
        // refreshed long before it would age out.
        let started = *self.epoch_started.get_or_insert(now);
        if now.saturating_duration_since(started) >= ageing / 4 {
            self.epoch_started = Some(now);
            for ring in &self.rings {
                ring.advance_epoch();
            }
        }
        let before = self.learned.len();
        self.learned
            .retain(|_, l| now.saturating_duration_since(l.since) < ageing);
        changed |= self.learned.len() != before;
        changed |= self.resolver.poll(now);
        if changed {
            self.publish()?;
        }
        Ok(changed)
    }
}

/// Every locator the model sends to: remote MACs' and `unknown-dst` members.
fn model_locators(model: &L2Model) -> BTreeSet<std::net::Ipv4Addr> {
    model
        .remote_macs
        .values()
        .chain(model.unknown_dst.values().flatten())
        .copied()
        .collect()
}

/// Runs [`L2Plane::poll`] every `period` until the task is dropped.
pub async fn control_loop(plane: Arc<Mutex<L2Plane>>, period: Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let result = plane
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .poll(Instant::now());
        if let Err(e) = result {
            tracing::warn!("L2 gateway: {e}; keeping the previous tables");
        }
    }
}

/// One worker lcore's L2 gateway: the node plus what it needs to adopt snapshots and
/// answer punts.
#[derive(Debug)]
pub struct L2Worker {
    /// The pipeline node.
    pub node: L2Gateway,
    shared: Arc<L2Shared>,
    seen: u64,
    /// Our MAC on the underlay port.
    pub mac: [u8; 6],
    /// Our tunnel IP.
    pub tunnel_ip: std::net::Ipv4Addr,
    /// The underlay port id.
    pub underlay_port: u16,
    /// ARP reports to the control plane and (worker 0) requests from it.
    pub arp: WorkerArp,
}

impl L2Worker {
    /// Adopts a newer snapshot if the control plane published one (one atomic load
    /// when nothing changed).
    #[inline]
    pub fn adopt(&mut self) {
        let g = self.shared.generation.load(Ordering::Acquire);
        if g != self.seen {
            self.seen = g;
            self.node.set_tables(self.shared.tables.load_full());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_stable_across_rebuilds_and_reused_after_removal() {
        let mut a = SlotAllocator::default();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        a.assign(&names(&["b", "a"])).unwrap();
        let (sa, sb) = (a.get("a").unwrap(), a.get("b").unwrap());
        a.assign(&names(&["c", "b", "a"])).unwrap();
        assert_eq!((a.get("a"), a.get("b")), (Some(sa), Some(sb)));
        a.assign(&names(&["c", "b"])).unwrap();
        assert_eq!(a.get("a"), None);
        a.assign(&names(&["c", "b", "d"])).unwrap();
        assert_eq!(a.get("d"), Some(sa), "freed slot reused");
        assert_eq!(a.get("b"), Some(sb));
    }

    fn plane() -> L2Plane {
        let config = crate::config::parse(
            std::path::Path::new("t.yaml"),
            "identity: {name: t}\ndpdk: {eal_args: []}\nports:\n  - {name: phys, devargs: net_null0}\n  \
             - {name: up, devargs: net_null1}\nroles:\n  l2_gateway:\n    underlay: {port: up, tunnel_ip: 192.0.2.1, \
             next_hops: {192.0.2.2: '02:00:00:00:00:02'}}\n    mac_ageing_s: 10\n    logical:\n      \
             switches: [{name: web, vni: 5000}]\n      bindings: [{port: phys, vlan: 100, switch: web}]\n      \
             unknown_dst: [{switch: web, locators: [192.0.2.2]}]\n",
        )
        .unwrap();
        L2Plane::new(
            &config,
            &[("phys".into(), 0), ("up".into(), 1)],
            [2, 0, 0, 0, 0, 1],
            2,
        )
        .unwrap()
    }

    #[test]
    fn a_full_learned_table_refuses_new_macs_but_not_moves() {
        let mut p = plane();
        p.config.limits.local_macs = 1;
        let (m1, m2) = (Mac::new([2, 0, 0, 0, 0, 1]), Mac::new([2, 0, 0, 0, 0, 2]));
        for mac in [m1, m2] {
            p.rings[0].push(LearnEvent::Local {
                vni: 5000,
                mac,
                port: 0,
                vlan: 100,
            });
        }
        let t0 = Instant::now();
        assert!(p.poll(t0).unwrap());
        let macs: Vec<_> = p
            .subscribe_learned()
            .borrow()
            .iter()
            .map(|m| m.mac)
            .collect();
        assert_eq!(macs, [m1.octets()]);
        // m1 moving to another VLAN of the port is still followed.
        p.rings[0].push(LearnEvent::Local {
            vni: 5000,
            mac: m1,
            port: 0,
            vlan: 7,
        });
        assert!(p.poll(t0).unwrap());
        assert_eq!(p.subscribe_learned().borrow().first().unwrap().vlan, 7);
        // Once m1 ages out there is room for m2.
        assert!(p.poll(t0 + Duration::from_secs(11)).unwrap());
        p.rings[1].push(LearnEvent::Local {
            vni: 5000,
            mac: m2,
            port: 0,
            vlan: 100,
        });
        assert!(p.poll(t0 + Duration::from_secs(11)).unwrap());
        let macs: Vec<_> = p
            .subscribe_learned()
            .borrow()
            .iter()
            .map(|m| m.mac)
            .collect();
        assert_eq!(macs, [m2.octets()]);
    }

    /// A tagged frame from a station on (phys, VLAN 100) to remote MAC ...:0a.
    fn to_remote() -> dataplane::HeapPacket {
        let mut f = vec![2, 0, 0, 0, 0, 0x0a, 2, 0, 0, 0, 0, 0x10, 0x81, 0, 0, 100];
        f.extend([0x08, 0x00, 0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 253, 0, 0]);
        f.extend([10, 0, 0, 1, 10, 0, 0, 2]);
        f.resize(60, 0);
        let mut p = dataplane::HeapPacket::from_frame(&f);
        p.set_input_port(0);
        p
    }

    fn forward(w: &mut L2Worker) -> l2gw::dataplane::Verdict {
        use dataplane::node::Node;
        let mut v = [l2gw::dataplane::Verdict::Punt];
        w.node.process(&mut [to_remote()], &mut v);
        v[0]
    }

    #[test]
    fn arp_resolved_next_hops_are_published_and_followed() {
        use l2gw::dataplane::{DropReason, Verdict};
        let config = crate::config::parse(
            std::path::Path::new("t.yaml"),
            "identity: {name: t}\ndpdk: {eal_args: []}\nports:\n  - {name: phys, devargs: net_null0}\n  \
             - {name: up, devargs: net_null1}\nroles:\n  l2_gateway:\n    underlay: {port: up, tunnel_ip: 192.0.2.1/24}\n    \
             logical:\n      switches: [{name: web, vni: 5000}]\n      bindings: [{port: phys, vlan: 100, switch: web}]\n      \
             remote_macs: [{switch: web, mac: '02:00:00:00:00:0a', locator: 192.0.2.2}]\n",
        )
        .unwrap();
        let mut p = L2Plane::new(
            &config,
            &[("phys".into(), 0), ("up".into(), 1)],
            [2, 0, 0, 0, 0, 1],
            2,
        )
        .unwrap();
        let w0 = p.worker(0);
        let mut w1 = p.worker(1);
        assert_eq!(
            forward(&mut w1),
            Verdict::Drop(DropReason::NextHopUnresolved)
        );
        // The first poll queues a broadcast request for worker 0 to send (and learns
        // the station that sent the frame).
        let t0 = Instant::now();
        p.poll(t0).unwrap();
        assert_eq!(p.resolver().next_hop("192.0.2.2".parse().unwrap()), None);
        let mut req = [0u8; dataplane::responder::ARP_REQUEST_LEN];
        assert!(w0.arp.next_request(&mut req).is_some());
        assert_eq!(&req[0..6], &[0xff; 6]);
        // Worker 1 sees the reply; the next poll republishes with the template.
        let hv = [2, 0, 0, 0, 0, 0x22];
        let mut reply = [0u8; dataplane::responder::ARP_REQUEST_LEN];
        dataplane::responder::arp_request(
            &mut reply,
            hv,
            "192.0.2.2".parse().unwrap(),
            None,
            [2, 0, 0, 0, 0, 1],
            "192.0.2.1".parse().unwrap(),
        );
        reply[21] = 2;
        assert!(w1.arp.observe(&reply));
        assert!(p.poll(t0).unwrap());
        w1.adopt();
        assert_eq!(forward(&mut w1), Verdict::Tx { port: 1 });
        let mut out = to_remote();
        {
            use dataplane::node::Node;
            let mut v = [Verdict::Punt];
            w1.node.process(std::slice::from_mut(&mut out), &mut v);
        }
        assert_eq!(
            &dataplane::Packet::data(&out)[0..6],
            &hv,
            "outer: the resolved MAC"
        );
        // The locator leaving the model forgets the entry.
        let mut model = p.model().clone();
        model.remote_macs.clear();
        p.set_model(model).unwrap();
        assert_eq!(
            p.resolver()
                .table()
                .count(crate::neighbor::State::Reachable),
            0
        );
    }

    #[test]
    fn learned_macs_are_published_moved_and_aged() {
        let mut p = plane();
        let mut rx = p.subscribe_learned();
        let mut w = p.worker(1);
        assert_eq!(w.node.tables().generation(), 1);
        let mac = Mac::new([2, 0, 0, 0, 0, 0x10]);
        p.rings[1].push(LearnEvent::Local {
            vni: 5000,
            mac,
            port: 0,
            vlan: 100,
        });
        let t0 = Instant::now();
        assert!(p.poll(t0).unwrap());
        assert!(rx.has_changed().unwrap());
        let set = rx.borrow_and_update().clone();
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            vec![LocalMac {
                switch: "web".into(),
                mac: mac.octets(),
                port: "phys".into(),
                vlan: 100
            }]
        );
        w.adopt();
        let slot = w.node.tables().switch_for_vni(5000).unwrap();
        assert_eq!(w.node.tables().local_mac(slot, mac), Some((0, 100)));
        // The same report again changes nothing; nothing to publish.
        p.rings[0].push(LearnEvent::Local {
            vni: 5000,
            mac,
            port: 0,
            vlan: 100,
        });
        assert!(!p.poll(t0 + Duration::from_secs(1)).unwrap());
        // Aged out after 10 s.
        assert!(p.poll(t0 + Duration::from_secs(11)).unwrap());
        assert!(rx.borrow_and_update().is_empty());
        w.adopt();
        assert_eq!(w.node.tables().local_mac(slot, mac), None);
        assert_eq!(w.node.tables().generation(), p.generation());
    }

    /// Runs one frame from `src` on (phys, VLAN 100) through worker `w`'s node.
    fn hear(w: &mut L2Worker, src: [u8; 6]) {
        use l2gw::dataplane::node::Node;
        let mut frame = vec![0xff; 6];
        frame.extend(src);
        frame.extend([0x81, 0x00, 0x00, 100, 0x88, 0xb5]);
        frame.extend([0u8; 46]);
        let mut pkt = l2gw::dataplane::HeapPacket::from_frame(&frame);
        pkt.set_input_port(0);
        let mut verdicts = [l2gw::dataplane::Verdict::Drop(
            l2gw::dataplane::DropReason::RuntFrame,
        )];
        w.node
            .process(std::slice::from_mut(&mut pkt), &mut verdicts);
    }

    #[test]
    fn stations_still_heard_are_refreshed_and_silent_ones_age() {
        let mut p = plane();
        let mut w = p.worker(0);
        let (busy, quiet) = ([2, 0, 0, 0, 0, 0x21], [2, 0, 0, 0, 0, 0x22]);
        hear(&mut w, busy);
        hear(&mut w, quiet);
        let t0 = Instant::now();
        assert!(p.poll(t0).unwrap());
        w.adopt();
        let slot = w.node.tables().switch_for_vni(5000).unwrap();
        assert!(w.node.tables().local_mac(slot, Mac::new(busy)).is_some());
        // A known source is reported at most once an epoch, however often it is heard.
        for _ in 0..4 * l2gw::REFRESH_SAMPLE {
            hear(&mut w, busy);
        }
        assert!(p.rings[0].len() <= 1);
        assert!(!p.poll(t0 + Duration::from_secs(1)).unwrap());
        for _ in 0..4 * l2gw::REFRESH_SAMPLE {
            hear(&mut w, busy);
        }
        assert!(p.rings[0].is_empty());
        // 3 s in, a new epoch (ageing 10 s / 4): the busy station is reported once.
        assert!(!p.poll(t0 + Duration::from_secs(3)).unwrap());
        for _ in 0..4 * l2gw::REFRESH_SAMPLE {
            hear(&mut w, busy);
        }
        assert_eq!(p.rings[0].len(), 1);
        assert!(!p.poll(t0 + Duration::from_secs(9)).unwrap());
        // At 12 s the quiet one has aged; the busy one was refreshed at 9 s.
        assert!(p.poll(t0 + Duration::from_secs(12)).unwrap());
        let macs: Vec<_> = p
            .subscribe_learned()
            .borrow()
            .iter()
            .map(|l| l.mac)
            .collect();
        assert_eq!(macs, vec![busy]);
        // Silent from now on, it goes too.
        assert!(p.poll(t0 + Duration::from_secs(20)).unwrap());
        assert!(p.subscribe_learned().borrow().is_empty());
    }
}
