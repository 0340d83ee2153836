//! Underlay neighbours of the L2 gateway: ARP resolution of locator next hops.
//!
//! This module owns the next-hop MACs of the gateway's VXLAN templates for locators
//! without a static `next_hops` entry:
//!
//! - [`NeighborTable`]: one state machine per next-hop IP, with no I/O and the clock
//!   passed in (`now`), so its timings are unit-tested on plain values:
//!   `incomplete` (no MAC; broadcast requests, backing off from `retry_first` to
//!   `retry_max`) -> `reachable` (MAC in use for a random 1x..2x of `reachable`, the
//!   spread keeping many entries from refreshing in step) -> `probing` (MAC still in use;
//!   one unicast request to it, then broadcast ones every `probe_interval`) ->
//!   `reachable` on an answer, or `incomplete` after `probes` unanswered requests (frames
//!   to its locators then drop as `next_hop_unresolved` again). Any ARP packet from a
//!   tracked IP (reply, request, gratuitous announcement) confirms it and carries its
//!   current MAC, so a next hop that changes its MAC is followed at once if it announces
//!   the change, and at the next refresh otherwise. Only IPs the model needs get an
//!   entry; ARP from anyone else changes nothing (RFC 826 updates known entries only).
//! - [`Resolver`]: what the L2 control plane holds: which IP is the next hop of which
//!   locator (a static entry wins; else the locator itself when it is on the underlay
//!   subnet; else the gateway), the table, the rings to and from the workers and the
//!   counters `/metrics` reads.
//! - [`WorkerArp`]: a worker's end. Every worker reports the senders of ARP packets
//!   punted from the underlay port; worker 0 also sends the requests the control plane
//!   queued, between bursts (one mbuf per request, allocated there: requests come a
//!   few per second, never per forwarded packet).
//!
//! Both directions use the learn ring type (`l2gw::LearnRing`, a fixed-size
//! single-producer single-consumer ring: no lock, no allocation) carrying
//! [`LearnEvent::Neighbor`], in rings of their own so that ARP chatter on the underlay
//! cannot crowd MAC learning out of the learn rings.

use crate::config::{L2GatewayConfig, NextHopConfig};
use dataplane::responder::{ARP_REQUEST_LEN, arp_request, arp_sender};
use l2gw::{LearnEvent, LearnRing, Mac};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, Hasher};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// ARP events each worker's report ring holds (ARP on an underlay is sparse; a burst
/// beyond this is counted and its senders are asked again at the next retry).
pub const REPORT_RING_EVENTS: usize = 1024;
/// ARP requests the control plane can queue for worker 0 between two of its rounds.
pub const REQUEST_RING_EVENTS: usize = 1024;
const BROADCAST: [u8; 6] = [0xff; 6];

/// The neighbour state machine's timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// Wait after the first unanswered request of an unresolved entry; doubles per
    /// unanswered request up to `retry_max`.
    pub retry_first: Duration,
    /// Longest wait between requests of an unresolved entry (it is asked forever: a
    /// locator in the model is expected to exist).
    pub retry_max: Duration,
    /// Base reachable time: an answered entry is trusted for 1x..2x of it.
    pub reachable: Duration,
    /// Wait between refresh requests of an entry being probed.
    pub probe_interval: Duration,
    /// Unanswered refresh requests after which the MAC is withdrawn.
    pub probes: u32,
}

impl Timers {
    /// Production timings with the configured reachable time (RFC 4861's and Linux's
    /// shape: 1 s between probes, 3 probes).
    pub fn with_reachable(reachable: Duration) -> Timers {
        Timers {
            retry_first: Duration::from_secs(1),
            retry_max: Duration::from_secs(10),
            reachable,
            probe_interval: Duration::from_secs(1),
            probes: 3,
        }
    }
}

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// No MAC known: frames to its locators are dropped (`next_hop_unresolved`).
    Incomplete,
    /// Answered recently; its MAC is in use.
    Reachable,
    /// Its reachable time ran out; its MAC is still in use while it is asked again.
    Probing,
}

impl State {
    /// Every state, in metrics order.
    pub const ALL: [State; 3] = [State::Incomplete, State::Reachable, State::Probing];

    /// The `state` label of `causeway_l2_neighbor_entries`.
    pub fn name(self) -> &'static str {
        match self {
            State::Incomplete => "incomplete",
            State::Reachable => "reachable",
            State::Probing => "probing",
        }
    }
}

/// An ARP request to send: who has `target`? (to `dst`, or broadcast when None).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The address asked for.
    pub target: Ipv4Addr,
    /// Unicast destination of a refresh, or None for broadcast.
    pub dst: Option<[u8; 6]>,
}

#[derive(Debug, Clone)]
struct Entry {
    mac: Option<[u8; 6]>,
    state: State,
    /// When the entry's next action (request or expiry) is due.
    due: Instant,
    /// Requests sent in the current state without an answer.
    unanswered: u32,
}

/// Neighbour entries by IP; see the module docs.
#[derive(Debug)]
pub struct NeighborTable {
    timers: Timers,
    entries: BTreeMap<Ipv4Addr, Entry>,
    /// splitmix64 state for the reachable-time spread.
    seed: u64,
}

impl NeighborTable {
    /// An empty table.
    pub fn new(timers: Timers) -> Self {
        NeighborTable {
            timers,
            entries: BTreeMap::new(),
            seed: std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish(),
        }
    }

    /// Makes the table track exactly `ips`: new ones start unresolved with a request
    /// due at `now`; ones no longer wanted are forgotten.
    pub fn track(&mut self, ips: &BTreeSet<Ipv4Addr>, now: Instant) {
        self.entries.retain(|ip, _| ips.contains(ip));
        for &ip in ips {
            self.entries.entry(ip).or_insert(Entry {
                mac: None,
                state: State::Incomplete,
                due: now,
                unanswered: 0,
            });
        }
    }

    /// An ARP packet from `ip` with sender MAC `mac` arrived at `now`: a tracked entry
    /// becomes reachable with that MAC. Returns true when the MAC in use changed
    /// (resolved, or moved), so the tables must be rebuilt.
    pub fn observe(&mut self, ip: Ipv4Addr, mac: [u8; 6], now: Instant) -> bool {
        let until = now + self.reachable_time();
        let Some(e) = self.entries.get_mut(&ip) else {
            return false;
        };
        let changed = e.mac != Some(mac);
        *e = Entry {
            mac: Some(mac),
            state: State::Reachable,
            due: until,
            unanswered: 0,
        };
        changed
    }

    /// Runs every entry whose time has come: appends the requests to send to `out`.
    /// Returns true when a MAC was withdrawn (the tables must be rebuilt).
    pub fn poll(&mut self, now: Instant, out: &mut Vec<Request>) -> bool {
        let t = self.timers;
        let mut withdrawn = false;
        for (&ip, e) in self.entries.iter_mut().filter(|(_, e)| e.due <= now) {
            if e.state == State::Reachable {
                // Refresh: first ask the known MAC directly (RFC 1122 2.3.2.1).
                e.state = State::Probing;
                e.unanswered = 1;
                e.due = now + t.probe_interval;
                out.push(Request {
                    target: ip,
                    dst: e.mac,
                });
                continue;
            }
            if e.state == State::Probing {
                if e.unanswered < t.probes {
                    // Later probes broadcast: a next hop whose MAC changed without
                    // announcing it answers these from its new MAC.
                    e.unanswered += 1;
                    e.due = now + t.probe_interval;
                    out.push(Request {
                        target: ip,
                        dst: None,
                    });
                    continue;
                }
                tracing::warn!(next_hop = %ip, "underlay next hop stopped answering ARP; its locators are unresolved");
                e.mac = None;
                e.state = State::Incomplete;
                e.unanswered = 0;
                withdrawn = true;
            }
            // Incomplete: ask, then back off.
            let wait = t
                .retry_first
                .saturating_mul(1 << e.unanswered.min(16))
                .min(t.retry_max);
            e.unanswered = e.unanswered.saturating_add(1);
            e.due = now + wait;
            out.push(Request {
                target: ip,
                dst: None,
            });
        }
        withdrawn
    }

    /// The MAC in use for `ip` (reachable or probing).
    pub fn mac(&self, ip: Ipv4Addr) -> Option<[u8; 6]> {
        self.entries.get(&ip).and_then(|e| e.mac)
    }

    /// The state of `ip`'s entry, if tracked.
    pub fn state(&self, ip: Ipv4Addr) -> Option<State> {
        self.entries.get(&ip).map(|e| e.state)
    }

    /// Entries in `state`.
    pub fn count(&self, state: State) -> usize {
        self.entries.values().filter(|e| e.state == state).count()
    }

    /// A reachable time spread over 1x..2x of the base (splitmix64 draws).
    fn reachable_time(&mut self) -> Duration {
        self.seed = self.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let base = self.timers.reachable;
        base + base.mul_f64((z >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// ARP counters and neighbour gauges for `/metrics`. Each field has one writer (worker
/// 0 for the request counters, the control plane for the rest), so plain load/store
/// suffices; no read-modify-write.
#[derive(Debug, Default)]
pub struct ArpStats {
    /// Requests worker 0 handed to the underlay port's transmit queue.
    pub requests_sent: AtomicU64,
    /// Requests worker 0 could not send for want of an mbuf.
    pub requests_no_mbuf: AtomicU64,
    /// ARP replies to our tunnel IP the workers reported.
    pub replies_received: AtomicU64,
    /// Times a resolved next hop answered from a different MAC.
    pub mac_changes: AtomicU64,
    /// Entries per [`State`] (in [`State::ALL`] order).
    pub entries: [AtomicU64; 3],
    /// Static `next_hops` entries.
    pub statics: AtomicU64,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.store(counter.load(Ordering::Relaxed) + by, Ordering::Relaxed);
}

/// What `/metrics` reads of ARP resolution.
#[derive(Debug, Clone)]
pub struct ArpObserver {
    /// Counters and gauges.
    pub stats: Arc<ArpStats>,
    /// Every ring (reports from workers, requests to worker 0), for their drop counts.
    pub rings: Vec<Arc<LearnRing>>,
}

impl ArpObserver {
    /// ARP events or requests lost to full rings.
    pub fn ring_drops(&self) -> u64 {
        self.rings.iter().map(|r| r.dropped()).sum()
    }
}

/// The control plane's ARP resolution of locator next hops; see the module docs.
#[derive(Debug)]
pub struct Resolver {
    tunnel_ip: Ipv4Addr,
    config: NextHopConfig,
    statics: BTreeMap<Ipv4Addr, [u8; 6]>,
    table: NeighborTable,
    mac: [u8; 6],
    vlan: Option<u16>,
    reports: Vec<Arc<LearnRing>>,
    requests: Arc<LearnRing>,
    stats: Arc<ArpStats>,
    /// Locators with no way out (off-subnet, no gateway, no static entry), logged once.
    unroutable: BTreeSet<Ipv4Addr>,
    scratch: Vec<Request>,
}

impl Resolver {
    /// Resolution for `l2` from our underlay MAC `mac`, for `workers` worker lcores.
    pub fn new(l2: &L2GatewayConfig, mac: [u8; 6], workers: usize) -> Resolver {
        let stats = Arc::new(ArpStats::default());
        stats
            .statics
            .store(l2.next_hops.len() as u64, Ordering::Relaxed);
        Resolver {
            tunnel_ip: l2.tunnel_ip,
            config: l2.next_hop,
            statics: l2.next_hops.clone(),
            table: NeighborTable::new(Timers::with_reachable(l2.next_hop.arp_reachable)),
            mac,
            vlan: l2.vlan,
            reports: (0..workers)
                .map(|_| Arc::new(LearnRing::new(REPORT_RING_EVENTS)))
                .collect(),
            requests: Arc::new(LearnRing::new(REQUEST_RING_EVENTS)),
            stats,
            unroutable: BTreeSet::new(),
            scratch: Vec::new(),
        }
    }

    /// Replaces the timings (tests).
    pub fn set_timers(&mut self, timers: Timers) {
        self.table.timers = timers;
    }

    /// The IP whose MAC `locator`'s frames go to: the locator itself on the subnet,
    /// else the gateway; None without a route. Static entries are checked first by
    /// [`next_hop`](Self::next_hop).
    pub fn next_hop_ip(&self, locator: Ipv4Addr) -> Option<Ipv4Addr> {
        if self.config.on_link(self.tunnel_ip, locator) {
            Some(locator)
        } else {
            self.config.gateway
        }
    }

    /// The next-hop MAC for `locator`: its static entry, else the ARP-resolved MAC of
    /// its next hop (whose own static entry, e.g. a gateway's, also counts).
    pub fn next_hop(&self, locator: Ipv4Addr) -> Option<[u8; 6]> {
        if let Some(&mac) = self.statics.get(&locator) {
            return Some(mac);
        }
        let ip = self.next_hop_ip(locator)?;
        self.statics
            .get(&ip)
            .copied()
            .or_else(|| self.table.mac(ip))
    }

    /// The model's locators changed: tracks the next hops they need (requests go out
    /// at the next [`poll`](Self::poll)).
    pub fn set_locators(&mut self, locators: &BTreeSet<Ipv4Addr>, now: Instant) {
        let mut wanted = BTreeSet::new();
        for &locator in locators {
            if locator == self.tunnel_ip || self.statics.contains_key(&locator) {
                continue;
            }
            match self.next_hop_ip(locator) {
                Some(ip) if !self.statics.contains_key(&ip) => {
                    wanted.insert(ip);
                }
                Some(_) => {}
                None => {
                    if self.unroutable.insert(locator) {
                        tracing::warn!(
                            %locator,
                            "locator is outside the underlay subnet and no gateway is \
                             configured: frames to it are dropped (next_hop_unresolved)"
                        );
                    }
                }
            }
        }
        self.unroutable.retain(|l| locators.contains(l));
        self.table.track(&wanted, now);
        self.update_gauges();
    }

    /// Drains the workers' ARP reports, runs the timers and queues due requests for
    /// worker 0. Returns true when a next-hop MAC changed (republish the tables).
    pub fn poll(&mut self, now: Instant) -> bool {
        let mut changed = false;
        for ring in &self.reports {
            while let Some(event) = ring.pop() {
                let LearnEvent::Neighbor { ip, mac, reply } = event else {
                    continue;
                };
                if reply {
                    bump(&self.stats.replies_received, 1);
                }
                let before = self.table.mac(ip);
                if self.table.observe(ip, mac.octets(), now) {
                    changed = true;
                    match before {
                        Some(old) => {
                            bump(&self.stats.mac_changes, 1);
                            tracing::info!(
                                next_hop = %ip,
                                old = %crate::l2model::format_mac(&old),
                                new = %crate::l2model::format_mac(&mac.octets()),
                                "underlay next hop moved to a new MAC"
                            );
                        }
                        None => tracing::info!(
                            next_hop = %ip,
                            mac = %crate::l2model::format_mac(&mac.octets()),
                            "underlay next hop resolved"
                        ),
                    }
                }
            }
        }
        self.scratch.clear();
        changed |= self.table.poll(now, &mut self.scratch);
        for r in &self.scratch {
            // A full ring loses the request; the entry's timer asks again.
            self.requests.push(LearnEvent::Neighbor {
                ip: r.target,
                mac: Mac::new(r.dst.unwrap_or(BROADCAST)),
                reply: false,
            });
        }
        self.update_gauges();
        changed
    }

    fn update_gauges(&self) {
        for (gauge, state) in self.stats.entries.iter().zip(State::ALL) {
            gauge.store(self.table.count(state) as u64, Ordering::Relaxed);
        }
    }

    /// The neighbour table (tests, diagnostics).
    pub fn table(&self) -> &NeighborTable {
        &self.table
    }

    /// Worker `i`'s end (worker 0 also sends the requests).
    pub fn worker(&self, i: usize) -> WorkerArp {
        WorkerArp {
            reports: self.reports[i].clone(),
            requests: (i == 0).then(|| self.requests.clone()),
            stats: self.stats.clone(),
            mac: self.mac,
            tunnel_ip: self.tunnel_ip,
            vlan: self.vlan,
        }
    }

    /// What `/metrics` reads.
    pub fn observer(&self) -> ArpObserver {
        let mut rings = self.reports.clone();
        rings.push(self.requests.clone());
        ArpObserver {
            stats: self.stats.clone(),
            rings,
        }
    }
}

/// A worker's end of ARP resolution; see the module docs.
#[derive(Debug)]
pub struct WorkerArp {
    reports: Arc<LearnRing>,
    requests: Option<Arc<LearnRing>>,
    stats: Arc<ArpStats>,
    mac: [u8; 6],
    tunnel_ip: Ipv4Addr,
    vlan: Option<u16>,
}

impl WorkerArp {
    /// Reports the sender of a punted underlay frame if it is ARP: replies to our
    /// tunnel IP, and requests (gratuitous ones included) from anyone, since those
    /// reveal the sender's MAC too. Returns true when the frame was such an ARP packet,
    /// so the caller need not count it as unanswered. Read-only; punted frames only.
    pub fn observe(&self, frame: &[u8]) -> bool {
        let Some(s) = arp_sender(frame) else {
            return false;
        };
        if s.ip == self.tunnel_ip || (s.reply && s.target_ip != self.tunnel_ip) {
            // Our own address, or a reply meant for someone else (promiscuous port).
            return false;
        }
        // A full ring loses the report; the next request or refresh recovers.
        self.reports.push(LearnEvent::Neighbor {
            ip: s.ip,
            mac: Mac::new(s.mac),
            reply: s.reply,
        });
        true
    }

    /// The next ARP request the control plane queued, written into `buf` (worker 0
    /// only; elsewhere always None without touching memory another lcore writes).
    #[inline]
    pub fn next_request(&self, buf: &mut [u8; ARP_REQUEST_LEN]) -> Option<usize> {
        let LearnEvent::Neighbor { ip, mac, .. } = self.requests.as_ref()?.pop()? else {
            return None;
        };
        Some(arp_request(
            buf,
            self.mac,
            self.tunnel_ip,
            self.vlan,
            mac.octets(),
            ip,
        ))
    }

    /// Counts a request handed to the transmit queue.
    pub fn sent(&self) {
        bump(&self.stats.requests_sent, 1);
    }

    /// Counts a request lost for want of an mbuf.
    pub fn no_mbuf(&self) {
        bump(&self.stats.requests_no_mbuf, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn timers() -> Timers {
        Timers {
            retry_first: S,
            retry_max: 4 * S,
            reachable: 10 * S,
            probe_interval: S,
            probes: 3,
        }
    }

    fn ip(last: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, last)
    }

    const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
    const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];

    fn poll(t: &mut NeighborTable, now: Instant) -> (bool, Vec<Request>) {
        let mut out = Vec::new();
        let withdrawn = t.poll(now, &mut out);
        (withdrawn, out)
    }

    fn bcast(target: Ipv4Addr) -> Request {
        Request { target, dst: None }
    }

    #[test]
    fn unresolved_entries_are_asked_with_backoff_until_answered() {
        let mut t = NeighborTable::new(timers());
        let t0 = Instant::now();
        t.track(&[ip(2)].into(), t0);
        assert_eq!(t.state(ip(2)), Some(State::Incomplete));
        assert_eq!(poll(&mut t, t0), (false, vec![bcast(ip(2))]));
        assert!(poll(&mut t, t0).1.is_empty(), "nothing due twice");
        // Backoff 1 s, 2 s, 4 s, then capped at 4 s.
        let mut at = t0;
        for wait in [1, 2, 4, 4, 4] {
            assert!(poll(&mut t, at + wait * S - S / 10).1.is_empty());
            at += wait * S;
            assert_eq!(poll(&mut t, at).1, vec![bcast(ip(2))], "after {wait} s");
        }
        assert_eq!(t.mac(ip(2)), None);
        assert!(t.observe(ip(2), MAC_A, at), "resolved: rebuild");
        assert_eq!(
            (t.state(ip(2)), t.mac(ip(2))),
            (Some(State::Reachable), Some(MAC_A))
        );
        assert!(!t.observe(ip(2), MAC_A, at), "same MAC: nothing to rebuild");
        assert_eq!(t.count(State::Reachable), 1);
    }

    #[test]
    fn reachable_entries_are_refreshed_unicast_then_broadcast_then_withdrawn() {
        let mut t = NeighborTable::new(timers());
        let t0 = Instant::now();
        t.track(&[ip(2)].into(), t0);
        poll(&mut t, t0);
        t.observe(ip(2), MAC_A, t0);
        // Reachable for 10..20 s (spread), never before.
        assert!(poll(&mut t, t0 + 10 * S - S / 10).1.is_empty());
        let mut at = t0 + 10 * S;
        let first = loop {
            let (_, r) = poll(&mut t, at);
            if !r.is_empty() {
                break r;
            }
            at += S / 10;
            assert!(at <= t0 + 20 * S, "refreshed within 2x the reachable time");
        };
        assert_eq!(
            first,
            vec![Request {
                target: ip(2),
                dst: Some(MAC_A)
            }],
            "first refresh asks the known MAC"
        );
        assert_eq!(t.state(ip(2)), Some(State::Probing));
        assert_eq!(t.mac(ip(2)), Some(MAC_A), "still in use while probing");
        for _ in 0..2 {
            at += S;
            assert_eq!(poll(&mut t, at), (false, vec![bcast(ip(2))]));
        }
        // Three unanswered: withdrawn, asked again as a fresh resolution.
        at += S;
        assert_eq!(poll(&mut t, at), (true, vec![bcast(ip(2))]));
        assert_eq!(
            (t.state(ip(2)), t.mac(ip(2))),
            (Some(State::Incomplete), None)
        );
        assert_eq!(poll(&mut t, at + S).1, vec![bcast(ip(2))]);
    }

    #[test]
    fn an_answer_while_probing_keeps_or_moves_the_mac() {
        let mut t = NeighborTable::new(timers());
        let t0 = Instant::now();
        t.track(&[ip(2), ip(3)].into(), t0);
        poll(&mut t, t0);
        t.observe(ip(2), MAC_A, t0);
        t.observe(ip(3), MAC_A, t0);
        let at = t0 + 20 * S;
        assert_eq!(poll(&mut t, at).1.len(), 2);
        assert_eq!(t.count(State::Probing), 2);
        assert!(!t.observe(ip(2), MAC_A, at), "confirmed, unchanged");
        assert!(t.observe(ip(3), MAC_B, at), "answered from a new MAC");
        assert_eq!(t.mac(ip(3)), Some(MAC_B));
        assert_eq!(t.count(State::Reachable), 2);
        // A gratuitous ARP from a new MAC moves a reachable entry at once.
        assert!(t.observe(ip(2), MAC_B, at + S));
        assert_eq!(t.mac(ip(2)), Some(MAC_B));
    }

    #[test]
    fn only_tracked_addresses_are_learned_and_untracked_ones_are_forgotten() {
        let mut t = NeighborTable::new(timers());
        let t0 = Instant::now();
        assert!(
            !t.observe(ip(9), MAC_A, t0),
            "RFC 826: no entry, no learning"
        );
        assert_eq!(t.state(ip(9)), None);
        t.track(&[ip(2)].into(), t0);
        t.observe(ip(2), MAC_A, t0);
        t.track(&[ip(2), ip(3)].into(), t0 + S);
        assert_eq!(t.mac(ip(2)), Some(MAC_A), "kept across model changes");
        t.track(&[ip(3)].into(), t0 + S);
        assert_eq!(t.state(ip(2)), None);
        assert_eq!(t.count(State::Incomplete), 1);
    }

    fn resolver(underlay: &str) -> Resolver {
        let text = format!(
            "identity: {{name: t}}\ndpdk: {{eal_args: []}}\nports:\n  - {{name: phys, devargs: net_null0}}\n  \
             - {{name: up, devargs: net_null1}}\nroles:\n  l2_gateway:\n    underlay: {{port: up, {underlay}}}\n    \
             logical: {{switches: [{{name: web, vni: 5000}}]}}\n"
        );
        let config = crate::config::parse(std::path::Path::new("t.yaml"), &text).unwrap();
        let mut r = Resolver::new(config.l2_gateway.as_ref().unwrap(), [2, 0, 0, 0, 0, 1], 2);
        r.set_timers(timers());
        r
    }

    fn frame_from(r: &Resolver, target: Ipv4Addr) -> [u8; ARP_REQUEST_LEN] {
        let mut buf = [0; ARP_REQUEST_LEN];
        r.worker(0)
            .next_request(&mut buf)
            .expect("a queued request");
        assert_eq!(arp_sender(&buf).map(|s| s.target_ip), Some(target));
        buf
    }

    /// `sender` answers our request for its address from `mac`.
    fn reply(sender: Ipv4Addr, mac: [u8; 6]) -> Vec<u8> {
        let mut buf = [0; ARP_REQUEST_LEN];
        arp_request(&mut buf, mac, sender, None, [2, 0, 0, 0, 0, 1], ip(1));
        buf[21] = 2;
        buf.to_vec()
    }

    #[test]
    fn the_resolver_picks_next_hops_and_talks_to_the_workers() {
        let mut r = resolver(
            "tunnel_ip: 192.0.2.1/24, gateway: 192.0.2.254, vlan: 20, \
             next_hops: {192.0.2.7: '02:00:00:00:00:07'}",
        );
        let far = Ipv4Addr::new(198, 51, 100, 2);
        assert_eq!(r.next_hop_ip(ip(2)), Some(ip(2)));
        assert_eq!(r.next_hop_ip(far), Some(ip(254)));
        assert_eq!(r.next_hop(ip(7)), Some([2, 0, 0, 0, 0, 7]), "static wins");
        let t0 = Instant::now();
        r.set_locators(&[ip(1), ip(2), ip(7), far].into(), t0);
        assert_eq!(
            r.table().count(State::Incomplete),
            2,
            "192.0.2.2 and the gateway"
        );
        assert!(!r.poll(t0));
        // Worker 0 writes the two broadcast requests, tagged; other workers send none.
        let mut buf = [0; ARP_REQUEST_LEN];
        assert_eq!(r.worker(1).next_request(&mut buf), None);
        let f = frame_from(&r, ip(2));
        assert_eq!(&f[0..6], &BROADCAST);
        assert_eq!(&f[12..16], &[0x81, 0x00, 0, 20]);
        frame_from(&r, ip(254));
        // A worker reports the answers; the control plane resolves and says rebuild.
        let w1 = r.worker(1);
        assert!(w1.observe(&reply(ip(2), MAC_A)));
        assert!(w1.observe(&reply(ip(254), MAC_B)));
        assert!(r.poll(t0 + S / 20));
        assert_eq!(r.next_hop(ip(2)), Some(MAC_A));
        assert_eq!(r.next_hop(far), Some(MAC_B), "via the gateway");
        let o = r.observer();
        assert_eq!(o.stats.replies_received.load(Ordering::Relaxed), 2);
        assert_eq!(o.stats.entries[1].load(Ordering::Relaxed), 2);
        assert_eq!(o.stats.statics.load(Ordering::Relaxed), 1);
        // A gratuitous ARP from a new MAC is followed; a stranger's is ignored.
        let mut garp = [0; ARP_REQUEST_LEN];
        arp_request(&mut garp, MAC_B, ip(2), None, BROADCAST, ip(2));
        assert!(w1.observe(&garp));
        assert!(w1.observe(&reply(ip(99), MAC_B)));
        assert!(r.poll(t0 + S / 10));
        assert_eq!(r.next_hop(ip(2)), Some(MAC_B));
        assert_eq!(o.stats.mac_changes.load(Ordering::Relaxed), 1);
        assert_eq!(r.table().state(ip(99)), None);
        // Replies to someone else and our own requests echoed back are not reports.
        let mut other = reply(ip(2), MAC_A);
        other[38..42].copy_from_slice(&[192, 0, 2, 50]);
        assert!(!w1.observe(&other));
        let mut ours = [0; ARP_REQUEST_LEN];
        arp_request(&mut ours, [2, 0, 0, 0, 0, 1], ip(1), None, BROADCAST, ip(2));
        assert!(!w1.observe(&ours));
        assert!(!r.poll(t0 + S / 5));
    }

    #[test]
    fn a_plain_tunnel_ip_has_no_on_link_peers_unless_a_gateway_is_set() {
        let r = resolver("tunnel_ip: 192.0.2.1");
        assert_eq!(r.next_hop_ip(ip(2)), None);
        let mut r = resolver("tunnel_ip: 192.0.2.1, gateway: 10.0.0.1");
        assert_eq!(r.next_hop_ip(ip(2)), Some(Ipv4Addr::new(10, 0, 0, 1)));
        r.set_locators(&[ip(2), ip(3)].into(), Instant::now());
        assert_eq!(
            r.table().count(State::Incomplete),
            1,
            "both via the gateway"
        );
    }
}
