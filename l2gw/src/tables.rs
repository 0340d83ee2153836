//! The L2 gateway's forwarding state: an immutable snapshot ([`Tables`]) that the
//! control plane builds with [`TablesBuilder`] and every worker lcore reads through an
//! `Arc`, adopting a new one between bursts.
//!
//! This module owns the table layouts and how the hardware_vtep model maps onto them.
//! Every key is one the database gives without row UUIDs:
//!
//! | hardware_vtep | here | key |
//! |---|---|---|
//! | `Physical_Port.vlan_bindings` | binding | (port id, VLAN 0..=4095; 0 = untagged) |
//! | `Logical_Switch` | logical switch | a *slot* (< [`MAX_SWITCHES`]) the control plane assigns per switch name and keeps stable across snapshots, so counters indexed by slot survive a rebuild |
//! | `Logical_Switch.tunnel_key`, `replication_mode` | [`SwitchInfo`] | VNI (0 = do not forward) |
//! | `Physical_Locator` | locator | its IPv4 `dst_ip` |
//! | `Ucast_Macs_Remote` | remote MAC table | (slot, MAC) -> locator |
//! | `Mcast_Macs_Remote` `unknown-dst` | the switch's flood locators | (slot, locator IP) |
//! | `Ucast_Macs_Local` (learned) | local MAC table | (slot, MAC) -> (port, VLAN) |
//!
//! Layouts, chosen so the per-packet path is a few loads:
//! - bindings: per port with any binding, a 4,096-entry array of switch slots (8 KiB),
//!   indexed by VLAN: one load, no hash;
//! - switches: a vector indexed by slot; VNI -> slot: a foldhash `HashMap`;
//! - MACs: two [`MacTable`]s (64-byte buckets of five entries), one lookup each. A
//!   learned local MAC is fresher than the controller's remote entry during a move, so
//!   a snapshot drops remote entries that a local one shadows; the node then asks the
//!   remote table first, since most unicast from a binding goes to a tunnel;
//! - locators: a vector of pre-built [`VxlanEncap`] templates, one per locator built
//!   with VNI 0. Encapsulation copies the template and patches the 3 VNI bytes, so
//!   1 M remote MACs over any number of switches share one template per locator.
//!
//! Flood (replication) sets are not stored: a set id names where the frame came from,
//! and [`Tables::flood_set`] derives the members from the switch's lists. A frame from
//! binding (port, VLAN) floods to the switch's other bindings plus its `unknown-dst`
//! locators (all of them in source_node mode, one picked by flow hash in service_node
//! mode); a frame from a tunnel floods to the switch's bindings only (split horizon).

use crate::drop::{Drop, L2Drop};
use crate::mac::{Mac, MacTable};
use dataplane::Packet;
use dataplane::encap::{EncapError, Underlay, VxlanEncap};
use dataplane::wire::{EthernetAddress, VlanTci};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

/// Logical switch slots are below this (the hardware_vtep scale target: 16 k switches).
pub const MAX_SWITCHES: usize = 16_384;
/// VLAN IDs are below this; 0 means untagged.
pub const VLANS: usize = 4096;
/// Outer IPv4 + UDP + VXLAN bytes counted against the underlay MTU (the outer Ethernet
/// header is not part of the IP MTU).
pub const VXLAN_IP_OVERHEAD: usize = 20 + 8 + 8;

const NO_SWITCH: u16 = u16::MAX;
const FROM_TUNNEL: u32 = 1 << 31;

type FoldMap<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;

/// `replication_mode` of a logical switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplicationMode {
    /// Head-end replication: one copy to every `unknown-dst` locator.
    #[default]
    SourceNode,
    /// One copy to one service node of the `unknown-dst` set, which replicates further.
    ServiceNode,
}

/// The underlay: where tunnels leave and arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnderlayConfig {
    /// The port tunnels use; frames arriving on it are tunnel ingress.
    pub port: u16,
    /// Our MAC on that port.
    pub mac: EthernetAddress,
    /// Our tunnel endpoint address (`Physical_Switch.tunnel_ips`).
    pub tunnel_ip: Ipv4Addr,
    /// 802.1Q VLAN of a tagged underlay, if any.
    pub vlan: Option<u16>,
    /// Underlay IP MTU; a frame longer than `mtu - 36` once its access tag is gone
    /// is dropped rather than encapsulated (RFC 7348 section 4.3).
    pub mtu: u16,
    /// Outer TTL.
    pub ttl: u8,
}

/// A binding packed as `port << 16 | vlan`, the value of the local MAC table.
#[inline(always)]
pub(crate) const fn pack_binding(port: u16, vlan: u16) -> u32 {
    ((port as u32) << 16) | vlan as u32
}

#[inline(always)]
pub(crate) const fn unpack_binding(b: u32) -> (u16, u16) {
    ((b >> 16) as u16, b as u16)
}

/// One logical switch as the data path sees it.
#[derive(Debug, Clone)]
pub struct SwitchInfo {
    /// VXLAN network identifier (`tunnel_key`); 0 = do not forward.
    pub vni: u32,
    /// How BUM frames reach the other tunnel endpoints.
    pub mode: ReplicationMode,
    /// Local bindings, packed and sorted.
    locals: Box<[u32]>,
    /// `unknown-dst` locators (indices into the locator vector), sorted by address.
    flood: Box<[u32]>,
}

impl SwitchInfo {
    /// The switch's bindings as (port, VLAN), sorted.
    pub fn bindings(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        self.locals.iter().map(|&b| unpack_binding(b))
    }
}

/// VNI -> switch slot in two levels indexed by the VNI's high and low 12 bits: two
/// dependent loads and no hash on the decapsulation path, 8 KiB per block of 4,096
/// VNIs in use (16 k switches spread over the whole 24-bit space cost at most 32 MiB;
/// controllers allocate VNIs densely, OVN from 1 up).
#[derive(Debug, Clone, Default)]
struct VniMap {
    blocks: Vec<Option<Box<[u16; 4096]>>>,
    len: usize,
}

impl VniMap {
    #[inline(always)]
    fn get(&self, vni: u32) -> Option<u16> {
        let block = self.blocks.get((vni >> 12) as usize)?.as_ref()?;
        match block[(vni & 0xfff) as usize] {
            NO_SWITCH => None,
            slot => Some(slot),
        }
    }

    /// Maps `vni` to `slot`; true if it was mapped already.
    fn insert(&mut self, vni: u32, slot: u16) -> bool {
        let hi = (vni >> 12) as usize;
        if self.blocks.len() <= hi {
            self.blocks.resize(hi + 1, None);
        }
        let cell = &mut self.blocks[hi].get_or_insert_with(|| Box::new([NO_SWITCH; 4096]))
            [(vni & 0xfff) as usize];
        let existed = *cell != NO_SWITCH;
        *cell = slot;
        self.len += usize::from(!existed);
        existed
    }

    fn len(&self) -> usize {
        self.len
    }

    fn allocation_size(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<usize>()
            + self.blocks.iter().flatten().count() * 4096 * 2
    }
}

#[derive(Debug, Clone)]
struct Locator {
    ip: Ipv4Addr,
    /// `None` until the next hop is known.
    encap: Option<VxlanEncap>,
}

/// One member of a flood set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloodMember {
    /// A local binding: out of `port` with VLAN `vlan` (0 = untagged).
    Local {
        /// Output port.
        port: u16,
        /// VLAN to tag with; 0 = untagged.
        vlan: u16,
    },
    /// A remote tunnel endpoint (an `unknown-dst` locator or the chosen service node).
    Remote {
        /// The locator's address.
        locator: Ipv4Addr,
        /// Its index in these tables.
        index: u32,
    },
}

/// The members of one flood set, resolved against a snapshot.
#[derive(Debug, Clone, Copy)]
pub struct FloodSet<'a> {
    tables: &'a Tables,
    switch: &'a SwitchInfo,
    slot: u16,
    /// Position of the excluded (input) binding in `switch.locals`.
    exclude: Option<usize>,
    remotes: bool,
}

impl FloodSet<'_> {
    fn local_count(&self) -> usize {
        self.switch.locals.len() - usize::from(self.exclude.is_some())
    }

    fn remote_count(&self) -> usize {
        match (self.remotes, self.switch.mode) {
            (false, _) => 0,
            (true, ReplicationMode::SourceNode) => self.switch.flood.len(),
            (true, ReplicationMode::ServiceNode) => usize::from(!self.switch.flood.is_empty()),
        }
    }

    /// Number of copies to make.
    #[inline]
    pub fn len(&self) -> usize {
        self.local_count() + self.remote_count()
    }

    /// True when there is nobody to flood to.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The logical switch slot.
    pub fn slot(&self) -> u16 {
        self.slot
    }

    /// The VNI copies to tunnels carry.
    pub fn vni(&self) -> u32 {
        self.switch.vni
    }

    /// Member `i` (< [`len`](Self::len)): local bindings first, then locators. In
    /// service_node mode the one remote member is the service node `hash` picks, so
    /// one flow always goes through one service node.
    #[inline]
    pub fn member(&self, i: usize, hash: u32) -> Option<FloodMember> {
        let locals = self.local_count();
        if i < locals {
            let at = match self.exclude {
                Some(k) if i >= k => i + 1,
                _ => i,
            };
            let (port, vlan) = unpack_binding(self.switch.locals[at]);
            return Some(FloodMember::Local { port, vlan });
        }
        let j = i - locals;
        if j >= self.remote_count() {
            return None;
        }
        let flood = &self.switch.flood;
        let index = match self.switch.mode {
            ReplicationMode::SourceNode => flood[j],
            ReplicationMode::ServiceNode => flood[hash as usize % flood.len()],
        };
        Some(FloodMember::Remote {
            locator: self.tables.locators[index as usize].ip,
            index,
        })
    }
}

/// Heap bytes each part of a snapshot holds, for the scale note and `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TablesMemory {
    /// Remote MAC entries.
    pub remote_macs: usize,
    /// Bytes held by the remote MAC table.
    pub remote_mac_bytes: usize,
    /// Local MAC entries.
    pub local_macs: usize,
    /// Bytes held by the local MAC table.
    pub local_mac_bytes: usize,
    /// Logical switches.
    pub switches: usize,
    /// Bytes held by switches, their lists and the VNI map.
    pub switch_bytes: usize,
    /// Bindings.
    pub bindings: usize,
    /// Bytes held by the per-port binding arrays.
    pub binding_bytes: usize,
    /// Locators.
    pub locators: usize,
    /// Bytes held by locators and their templates.
    pub locator_bytes: usize,
}

/// An immutable snapshot of everything the L2 data path reads; see the module docs.
#[derive(Debug, Clone)]
pub struct Tables {
    generation: u64,
    underlay: UnderlayConfig,
    max_inner_len: usize,
    /// Per port id: switch slot per VLAN, `NO_SWITCH` when unbound.
    ports: Vec<Option<Box<[u16; VLANS]>>>,
    switches: Vec<Option<SwitchInfo>>,
    vni_slot: VniMap,
    locators: Vec<Locator>,
    locator_ids: FoldMap<Ipv4Addr, u32>,
    remote: MacTable,
    local: MacTable,
    bindings: usize,
}

impl Tables {
    /// The control plane's generation number for this snapshot.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The underlay configuration.
    #[inline]
    pub fn underlay(&self) -> &UnderlayConfig {
        &self.underlay
    }

    /// The longest frame (without access tag) that still fits the underlay MTU once
    /// encapsulated.
    #[inline]
    pub fn max_inner_len(&self) -> usize {
        self.max_inner_len
    }

    /// The logical switch slot a binding maps to.
    #[inline(always)]
    pub fn binding(&self, port: u16, vlan: u16) -> Option<u16> {
        let vlans = self.ports.get(usize::from(port))?.as_ref()?;
        match vlans[usize::from(vlan) & (VLANS - 1)] {
            NO_SWITCH => None,
            slot => Some(slot),
        }
    }

    /// A logical switch by slot.
    #[inline(always)]
    pub fn switch(&self, slot: u16) -> Option<&SwitchInfo> {
        self.switches.get(usize::from(slot))?.as_ref()
    }

    /// The slot of the switch whose tunnel_key is `vni` (never for VNI 0).
    #[inline]
    pub fn switch_for_vni(&self, vni: u32) -> Option<u16> {
        self.vni_slot.get(vni)
    }

    /// The locator a remote MAC lives behind.
    #[inline]
    pub fn remote_mac(&self, slot: u16, mac: Mac) -> Option<Ipv4Addr> {
        self.remote
            .get(slot, mac)
            .map(|i| self.locators[i as usize].ip)
    }

    #[inline(always)]
    pub(crate) fn remote_locator(&self, slot: u16, mac: Mac) -> Option<u32> {
        self.remote.get(slot, mac)
    }

    /// The (port, VLAN) a local MAC was learned on.
    #[inline(always)]
    pub fn local_mac(&self, slot: u16, mac: Mac) -> Option<(u16, u16)> {
        self.local.get(slot, mac).map(unpack_binding)
    }

    #[inline(always)]
    pub(crate) fn local_binding(&self, slot: u16, mac: Mac) -> Option<u32> {
        self.local.get(slot, mac)
    }

    /// Starts loading what forwarding a frame of switch `slot` from `src` to `dst`
    /// reads: the switch, the local entry of the source (learning) and the local and
    /// remote entries of a unicast destination.
    #[inline(always)]
    pub(crate) fn prefetch_from_binding(&self, slot: u16, src: Mac, dst: Mac) {
        if let Some(switch) = self.switches.get(usize::from(slot)) {
            dataplane::prefetch(switch);
        }
        self.local.prefetch(slot, src);
        if !dst.is_group() {
            self.local.prefetch(slot, dst);
            self.remote.prefetch(slot, dst);
        }
    }

    /// Starts loading the local entry a decapsulated frame to `dst` needs.
    #[inline(always)]
    pub(crate) fn prefetch_from_tunnel(&self, slot: u16, dst: Mac) {
        if !dst.is_group() {
            self.local.prefetch(slot, dst);
        }
    }

    /// The locator index for an address, if any switch or MAC refers to it.
    pub fn locator(&self, ip: Ipv4Addr) -> Option<u32> {
        self.locator_ids.get(&ip).copied()
    }

    /// The flood set id for frames that arrived on binding (port, VLAN).
    #[inline(always)]
    pub const fn flood_from_binding(port: u16, vlan: u16) -> u32 {
        ((port as u32) << 12) | (vlan as u32 & 0x0fff)
    }

    /// The flood set id for frames that arrived from a tunnel on switch `slot`.
    #[inline(always)]
    pub const fn flood_from_tunnel(slot: u16) -> u32 {
        FROM_TUNNEL | slot as u32
    }

    /// Resolves a flood set id (from [`dataplane::Verdict::Replicate`]) to its members;
    /// `None` if the set names a binding or switch this snapshot does not have.
    #[inline]
    pub fn flood_set(&self, set: u32) -> Option<FloodSet<'_>> {
        if set & FROM_TUNNEL != 0 {
            let slot = u16::try_from(set & !FROM_TUNNEL).ok()?;
            return Some(FloodSet {
                tables: self,
                switch: self.switch(slot)?,
                slot,
                exclude: None,
                remotes: false,
            });
        }
        let port = u16::try_from(set >> 12).ok()?;
        let vlan = (set & 0x0fff) as u16;
        let slot = self.binding(port, vlan)?;
        let switch = self.switch(slot)?;
        let exclude = switch.locals.binary_search(&pack_binding(port, vlan)).ok();
        Some(FloodSet {
            tables: self,
            switch,
            slot,
            exclude,
            remotes: true,
        })
    }

    /// Encapsulates the (untagged-for-access) frame in `pkt` to locator `index` with
    /// `vni`: MTU check, template copy, VNI patch.
    #[inline]
    pub(crate) fn encap<P: Packet>(
        &self,
        index: u32,
        vni: u32,
        pkt: &mut P,
        hash: u32,
    ) -> Result<(), Drop> {
        let Some(encap) = self
            .locators
            .get(index as usize)
            .and_then(|l| l.encap.as_ref())
        else {
            return Err(L2Drop::NextHopUnresolved.into());
        };
        if pkt.len() > self.max_inner_len {
            return Err(L2Drop::UnderlayMtuExceeded.into());
        }
        encap.encap_hashed(pkt, hash)?;
        // The template carries VNI 0; the VNI is bytes 4..7 of the 8-byte VXLAN header
        // that ends the template.
        let at = encap.overhead() - 4;
        let vni = vni.to_be_bytes();
        pkt.data_mut()[at..at + 3].copy_from_slice(&vni[1..4]);
        Ok(())
    }

    /// Heap memory per part.
    pub fn memory(&self) -> TablesMemory {
        let switch_bytes = self.switches.capacity() * std::mem::size_of::<Option<SwitchInfo>>()
            + self
                .switches
                .iter()
                .flatten()
                .map(|s| (s.locals.len() + s.flood.len()) * 4)
                .sum::<usize>()
            + self.vni_slot.allocation_size();
        let ports_with_bindings = self.ports.iter().flatten().count();
        TablesMemory {
            remote_macs: self.remote.len(),
            remote_mac_bytes: self.remote.allocation_size(),
            local_macs: self.local.len(),
            local_mac_bytes: self.local.allocation_size(),
            switches: self.vni_slot.len(),
            switch_bytes,
            bindings: self.bindings,
            binding_bytes: ports_with_bindings * VLANS * 2
                + self.ports.capacity() * std::mem::size_of::<usize>(),
            locators: self.locators.len(),
            locator_bytes: self.locators.capacity() * std::mem::size_of::<Locator>()
                + self.locator_ids.allocation_size(),
        }
    }
}

/// Why a snapshot could not be built: configuration errors for the control plane to
/// report (e.g. as `invalid_vlan_map`), never per packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildError {
    /// Switch slot at or above [`MAX_SWITCHES`].
    SlotOutOfRange(u16),
    /// VNI above 24 bits.
    VniOutOfRange(u32),
    /// Two switches with the same non-zero tunnel_key.
    DuplicateVni(u32),
    /// VLAN above 4095.
    VlanOutOfRange(u16),
    /// A binding, MAC or flood entry names a switch slot that was not declared.
    UnknownSwitch(u16),
    /// A binding on the underlay port.
    BindingOnUnderlayPort(u16),
    /// The underlay MTU cannot carry an Ethernet header once encapsulated.
    MtuTooSmall(u16),
    /// A VXLAN template could not be built.
    Encap(EncapError),
}

impl core::fmt::Display for BuildError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BuildError::SlotOutOfRange(s) => write!(f, "logical switch slot {s} out of range"),
            BuildError::VniOutOfRange(v) => write!(f, "VNI {v} above 24 bits"),
            BuildError::DuplicateVni(v) => write!(f, "two logical switches with VNI {v}"),
            BuildError::VlanOutOfRange(v) => write!(f, "VLAN {v} above 4095"),
            BuildError::UnknownSwitch(s) => write!(f, "no logical switch in slot {s}"),
            BuildError::BindingOnUnderlayPort(p) => {
                write!(
                    f,
                    "port {p} is the underlay port and cannot have VLAN bindings"
                )
            }
            BuildError::MtuTooSmall(m) => write!(f, "underlay MTU {m} too small for VXLAN"),
            BuildError::Encap(e) => write!(f, "VXLAN template: {e}"),
        }
    }
}

impl std::error::Error for BuildError {}

#[derive(Debug, Clone)]
struct SwitchSpec {
    vni: u32,
    mode: ReplicationMode,
    flood: Vec<u32>,
}

/// Builds a [`Tables`] snapshot from the logical model. Declare switches first; a
/// locator is created on first mention (with an unresolved next hop until
/// [`locator`](Self::locator) gives one). Later calls for the same key replace earlier
/// ones.
#[derive(Debug, Clone)]
pub struct TablesBuilder {
    generation: u64,
    underlay: UnderlayConfig,
    switches: BTreeMap<u16, SwitchSpec>,
    bindings: BTreeMap<(u16, u16), u16>,
    locators: Vec<(Ipv4Addr, Option<EthernetAddress>)>,
    locator_ids: FoldMap<Ipv4Addr, u32>,
    remote: MacTable,
    local: MacTable,
}

impl TablesBuilder {
    /// An empty model for `underlay`, sized for `remote_macs` and `local_macs` entries.
    pub fn new(
        generation: u64,
        underlay: UnderlayConfig,
        remote_macs: usize,
        local_macs: usize,
    ) -> Self {
        TablesBuilder {
            generation,
            underlay,
            switches: BTreeMap::new(),
            bindings: BTreeMap::new(),
            locators: Vec::new(),
            locator_ids: FoldMap::default(),
            remote: MacTable::with_capacity(remote_macs),
            local: MacTable::with_capacity(local_macs),
        }
    }

    fn known_switch(&self, slot: u16) -> Result<(), BuildError> {
        if self.switches.contains_key(&slot) {
            Ok(())
        } else {
            Err(BuildError::UnknownSwitch(slot))
        }
    }

    /// Declares (or redeclares) a logical switch in `slot`.
    pub fn logical_switch(
        &mut self,
        slot: u16,
        vni: u32,
        mode: ReplicationMode,
    ) -> Result<&mut Self, BuildError> {
        if usize::from(slot) >= MAX_SWITCHES {
            return Err(BuildError::SlotOutOfRange(slot));
        }
        if vni > 0x00ff_ffff {
            return Err(BuildError::VniOutOfRange(vni));
        }
        let spec = self.switches.entry(slot).or_insert(SwitchSpec {
            vni,
            mode,
            flood: Vec::new(),
        });
        spec.vni = vni;
        spec.mode = mode;
        Ok(self)
    }

    /// Binds (port, VLAN) to the switch in `slot`; VLAN 0 is untagged.
    pub fn binding(&mut self, port: u16, vlan: u16, slot: u16) -> Result<&mut Self, BuildError> {
        if usize::from(vlan) >= VLANS {
            return Err(BuildError::VlanOutOfRange(vlan));
        }
        if port == self.underlay.port {
            return Err(BuildError::BindingOnUnderlayPort(port));
        }
        self.known_switch(slot)?;
        self.bindings.insert((port, vlan), slot);
        Ok(self)
    }

    /// Declares a locator, with its underlay next-hop MAC if known; returns its index.
    pub fn locator(&mut self, ip: Ipv4Addr, next_hop: Option<EthernetAddress>) -> u32 {
        match self.locator_ids.get(&ip) {
            Some(&i) => {
                if next_hop.is_some() {
                    self.locators[i as usize].1 = next_hop;
                }
                i
            }
            None => {
                let i = self.locators.len() as u32;
                self.locators.push((ip, next_hop));
                self.locator_ids.insert(ip, i);
                i
            }
        }
    }

    /// Adds a locator to the switch's `unknown-dst` flood list.
    pub fn unknown_dst(&mut self, slot: u16, ip: Ipv4Addr) -> Result<&mut Self, BuildError> {
        self.known_switch(slot)?;
        let i = self.locator(ip, None);
        let flood = &mut self.switches.get_mut(&slot).expect("checked").flood;
        if !flood.contains(&i) {
            flood.push(i);
        }
        Ok(self)
    }

    /// A `Ucast_Macs_Remote` entry.
    pub fn remote_mac(
        &mut self,
        slot: u16,
        mac: Mac,
        ip: Ipv4Addr,
    ) -> Result<&mut Self, BuildError> {
        self.known_switch(slot)?;
        let i = self.locator(ip, None);
        self.remote.insert(slot, mac, i);
        Ok(self)
    }

    /// A learned local MAC on binding (port, VLAN).
    pub fn local_mac(
        &mut self,
        slot: u16,
        mac: Mac,
        port: u16,
        vlan: u16,
    ) -> Result<&mut Self, BuildError> {
        self.known_switch(slot)?;
        if usize::from(vlan) >= VLANS {
            return Err(BuildError::VlanOutOfRange(vlan));
        }
        self.local.insert(slot, mac, pack_binding(port, vlan));
        Ok(self)
    }

    /// Removes a learned local MAC (aged out or moved to a tunnel).
    pub fn remove_local_mac(&mut self, slot: u16, mac: Mac) -> &mut Self {
        self.local.remove(slot, mac);
        self
    }

    /// Builds the snapshot: VXLAN templates per locator, binding arrays, VNI map.
    pub fn build(self) -> Result<Tables, BuildError> {
        let u = self.underlay;
        let max_inner_len = usize::from(u.mtu)
            .checked_sub(VXLAN_IP_OVERHEAD)
            .filter(|&n| n >= 14)
            .ok_or(BuildError::MtuTooSmall(u.mtu))?;
        let vlan = match u.vlan {
            Some(v) => Some(VlanTci::new(0, false, v).map_err(|_| BuildError::VlanOutOfRange(v))?),
            None => None,
        };
        // A learned local MAC shadows the controller's remote entry for it (a move
        // the controller has not caught up with): the snapshot keeps the local one
        // only, so the two tables never disagree and may be asked in either order.
        let mut remote = self.remote;
        for (slot, mac, _) in self.local.iter() {
            remote.remove(slot, mac);
        }
        let mut locators = Vec::with_capacity(self.locators.len());
        for &(ip, next_hop) in &self.locators {
            let encap = match next_hop {
                Some(dst_mac) => Some(
                    VxlanEncap::new(
                        &Underlay {
                            src_mac: u.mac,
                            dst_mac,
                            vlan,
                            src_ip: IpAddr::V4(u.tunnel_ip),
                            dst_ip: IpAddr::V4(ip),
                            ttl: u.ttl,
                            dscp: 0,
                        },
                        0,
                    )
                    .map_err(BuildError::Encap)?,
                ),
                None => None,
            };
            locators.push(Locator { ip, encap });
        }

        let top = self
            .switches
            .keys()
            .next_back()
            .map_or(0, |&s| usize::from(s) + 1);
        let mut switches: Vec<Option<SwitchInfo>> = vec![None; top];
        let mut vni_slot = VniMap::default();
        let mut locals: BTreeMap<u16, Vec<u32>> = BTreeMap::new();
        for (&(port, vlan), &slot) in &self.bindings {
            locals
                .entry(slot)
                .or_default()
                .push(pack_binding(port, vlan));
        }
        for (&slot, spec) in &self.switches {
            if spec.vni != 0 && vni_slot.insert(spec.vni, slot) {
                return Err(BuildError::DuplicateVni(spec.vni));
            }
            let mut flood = spec.flood.clone();
            flood.sort_by_key(|&i| locators[i as usize].ip);
            let mut l = locals.remove(&slot).unwrap_or_default();
            l.sort_unstable();
            switches[usize::from(slot)] = Some(SwitchInfo {
                vni: spec.vni,
                mode: spec.mode,
                locals: l.into_boxed_slice(),
                flood: flood.into_boxed_slice(),
            });
        }

        let mut ports: Vec<Option<Box<[u16; VLANS]>>> = Vec::new();
        for (&(port, vlan), &slot) in &self.bindings {
            let p = usize::from(port);
            if ports.len() <= p {
                ports.resize(p + 1, None);
            }
            ports[p].get_or_insert_with(|| Box::new([NO_SWITCH; VLANS]))[usize::from(vlan)] = slot;
        }

        Ok(Tables {
            generation: self.generation,
            underlay: u,
            max_inner_len,
            ports,
            switches,
            vni_slot,
            locators,
            locator_ids: self.locator_ids,
            remote,
            local: self.local,
            bindings: self.bindings.len(),
        })
    }
}
