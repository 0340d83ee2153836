//! The Prometheus (OpenMetrics) endpoint.
//!
//! Nothing on the fast path knows about Prometheus: workers bump their own
//! [`LcoreCounters`], and at scrape time the [`Telemetry`] collector sums them and asks
//! the port sampler (DPDK's `rte_eth_stats_get` in the daemon) for port counters.

use dataplane::{DropReason, LcoreCounters, LcoreStats};
use dpdk::{LinkState, PortStats};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// One port's counters and link as read at scrape time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortSample {
    /// Port name from the configuration.
    pub name: String,
    /// DPDK's port counters.
    pub stats: PortStats,
    /// Link state.
    pub link: LinkState,
}

/// Reads every port's counters; called on each scrape, never on the fast path.
pub type PortSampler = Box<dyn Fn() -> Vec<PortSample> + Send + Sync>;

/// Everything the daemon exports.
pub struct Telemetry {
    version: &'static str,
    dpdk_version: String,
    roles: String,
    lcores: Vec<(u32, Arc<LcoreCounters>)>,
    ports: PortSampler,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("lcores", &self.lcores.len())
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// Telemetry over the given worker lcores' counters and port sampler.
    pub fn new(
        dpdk_version: String,
        roles: String,
        lcores: Vec<(u32, Arc<LcoreCounters>)>,
        ports: PortSampler,
    ) -> Self {
        Telemetry {
            version: env!("CARGO_PKG_VERSION"),
            dpdk_version,
            roles,
            lcores,
            ports,
        }
    }

    /// A registry holding this collector, ready to encode.
    pub fn into_registry(self) -> Registry {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self));
        registry
    }
}

fn counter_family<'a>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &str,
    samples: impl Iterator<Item = (&'a str, u64)>,
) -> Result<(), std::fmt::Error> {
    let mut family =
        encoder.encode_descriptor(name, help, None, ConstCounter::new(0u64).metric_type())?;
    for (value_label, value) in samples {
        let labels = [(label, value_label)];
        ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

fn gauge_family<'a>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &str,
    samples: impl Iterator<Item = (&'a str, i64)>,
) -> Result<(), std::fmt::Error> {
    let mut family =
        encoder.encode_descriptor(name, help, None, ConstGauge::new(0i64).metric_type())?;
    for (value_label, value) in samples {
        let labels = [(label, value_label)];
        ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for Telemetry {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        {
            let info = encoder.encode_descriptor(
                "causeway_build_info",
                "Build and runtime identity of this causeway daemon.",
                None,
                ConstGauge::new(1i64).metric_type(),
            )?;
            let labels = [
                ("version", self.version),
                ("dpdk_version", self.dpdk_version.as_str()),
                ("roles", self.roles.as_str()),
            ];
            let mut info = info;
            ConstGauge::new(1i64).encode(info.encode_family(&labels)?)?;
        }

        let ports = (self.ports)();
        macro_rules! port_counter {
            ($field:ident, $name:literal, $help:literal) => {
                counter_family(
                    &mut encoder,
                    $name,
                    $help,
                    "port",
                    ports.iter().map(|p| (p.name.as_str(), p.stats.$field)),
                )?;
            };
        }
        port_counter!(
            rx_packets,
            "causeway_port_rx_packets",
            "Packets received on the port (DPDK stats)."
        );
        port_counter!(
            tx_packets,
            "causeway_port_tx_packets",
            "Packets sent on the port (DPDK stats)."
        );
        port_counter!(
            rx_bytes,
            "causeway_port_rx_bytes",
            "Bytes received on the port."
        );
        port_counter!(
            tx_bytes,
            "causeway_port_tx_bytes",
            "Bytes sent on the port."
        );
        port_counter!(
            rx_errors,
            "causeway_port_rx_errors",
            "Receive errors on the port."
        );
        port_counter!(
            tx_errors,
            "causeway_port_tx_errors",
            "Transmit errors on the port."
        );
        port_counter!(
            rx_missed,
            "causeway_port_rx_missed",
            "Packets the device dropped for lack of receive descriptors."
        );
        port_counter!(
            rx_nombuf,
            "causeway_port_rx_nombuf",
            "Receive mbuf allocation failures."
        );
        gauge_family(
            &mut encoder,
            "causeway_port_link_up",
            "1 when the port's link is up.",
            "port",
            ports
                .iter()
                .map(|p| (p.name.as_str(), i64::from(p.link.up))),
        )?;
        gauge_family(
            &mut encoder,
            "causeway_port_link_speed_mbps",
            "Link speed in Mbit/s (0 when unknown).",
            "port",
            ports
                .iter()
                .map(|p| (p.name.as_str(), i64::from(p.link.speed_mbps))),
        )?;

        let per_lcore: Vec<(String, LcoreStats)> = self
            .lcores
            .iter()
            .map(|(id, c)| (id.to_string(), c.snapshot()))
            .collect();
        macro_rules! lcore_counter {
            ($field:ident, $name:literal, $help:literal) => {
                counter_family(
                    &mut encoder,
                    $name,
                    $help,
                    "lcore",
                    per_lcore.iter().map(|(id, s)| (id.as_str(), s.$field)),
                )?;
            };
        }
        lcore_counter!(
            rx_packets,
            "causeway_lcore_rx_packets",
            "Packets this worker lcore received and processed."
        );
        lcore_counter!(
            tx_packets,
            "causeway_lcore_tx_packets",
            "Packets this worker lcore handed to transmit queues."
        );
        lcore_counter!(
            busy_polls,
            "causeway_lcore_busy_polls",
            "Polls that returned at least one packet."
        );
        lcore_counter!(
            idle_polls,
            "causeway_lcore_idle_polls",
            "Polls that returned no packet."
        );

        let mut total = LcoreStats::default();
        for (_, s) in &per_lcore {
            total.add(s);
        }
        counter_family(
            &mut encoder,
            "causeway_drops",
            "Packets dropped by the dataplane, by reason (summed over lcores).",
            "reason",
            DropReason::ALL
                .iter()
                .map(|r| (r.label(), total.drops_for(*r))),
        )?;
        Ok(())
    }
}

/// The L2 gateway's families: per binding, per logical switch, learning.
#[derive(Debug)]
pub struct L2Telemetry(pub crate::roles::l2::L2Observer);

fn labelled_counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: &[(Vec<(&str, &str)>, u64)],
) -> Result<(), std::fmt::Error> {
    let mut family =
        encoder.encode_descriptor(name, help, None, ConstCounter::new(0u64).metric_type())?;
    for (labels, value) in samples {
        ConstCounter::new(*value).encode(family.encode_family(labels)?)?;
    }
    Ok(())
}

impl Collector for L2Telemetry {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        use l2gw::L2Counters;
        let o = &self.0;
        let labels = o.labels.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let lcores = || o.counters.iter().map(|c| &**c);

        let bindings: Vec<(String, String, String, l2gw::BindingStats)> = labels
            .bindings
            .iter()
            .map(|(port, id, vlan, switch)| {
                (
                    port.clone(),
                    vlan.to_string(),
                    switch.clone(),
                    L2Counters::sum_binding(lcores(), *id, *vlan),
                )
            })
            .collect();
        macro_rules! binding_family {
            ($field:ident, $name:literal, $help:literal) => {
                let samples: Vec<(Vec<(&str, &str)>, u64)> = bindings
                    .iter()
                    .map(|(p, v, s, st)| {
                        (
                            vec![
                                ("port", p.as_str()),
                                ("vlan", v.as_str()),
                                ("switch", s.as_str()),
                            ],
                            st.$field,
                        )
                    })
                    .collect();
                labelled_counter(&mut encoder, $name, $help, &samples)?;
            };
        }
        binding_family!(
            from_local_packets,
            "causeway_l2_binding_rx_packets",
            "Frames received on a VLAN binding and accepted into its logical switch."
        );
        binding_family!(
            from_local_bytes,
            "causeway_l2_binding_rx_bytes",
            "Bytes of those frames (as received, tag included)."
        );
        binding_family!(
            to_local_packets,
            "causeway_l2_binding_tx_packets",
            "Frames sent out of a VLAN binding (unicast and flood copies)."
        );
        binding_family!(
            to_local_bytes,
            "causeway_l2_binding_tx_bytes",
            "Bytes of those frames (as sent)."
        );

        let switches: Vec<(String, l2gw::SwitchStats)> = labels
            .switches
            .iter()
            .map(|(name, slot, _)| (name.clone(), L2Counters::sum_switch(lcores(), *slot)))
            .collect();
        macro_rules! switch_family {
            ($field:ident, $name:literal, $help:literal) => {
                let samples: Vec<(Vec<(&str, &str)>, u64)> = switches
                    .iter()
                    .map(|(s, st)| (vec![("switch", s.as_str())], st.$field))
                    .collect();
                labelled_counter(&mut encoder, $name, $help, &samples)?;
            };
        }
        switch_family!(
            from_local_packets,
            "causeway_l2_switch_from_local_packets",
            "Frames into the logical switch from its VLAN bindings."
        );
        switch_family!(
            from_local_bytes,
            "causeway_l2_switch_from_local_bytes",
            "Bytes of those frames."
        );
        switch_family!(
            from_tunnel_packets,
            "causeway_l2_switch_from_tunnel_packets",
            "Frames into the logical switch from VXLAN tunnels (decapsulated)."
        );
        switch_family!(
            from_tunnel_bytes,
            "causeway_l2_switch_from_tunnel_bytes",
            "Inner bytes of those frames."
        );
        switch_family!(
            to_tunnel_packets,
            "causeway_l2_switch_to_tunnel_packets",
            "Unicast frames of the switch encapsulated towards a remote locator."
        );
        switch_family!(
            to_tunnel_bytes,
            "causeway_l2_switch_to_tunnel_bytes",
            "Inner bytes of those frames."
        );
        switch_family!(
            flooded_packets,
            "causeway_l2_switch_flooded_packets",
            "Broadcast, unknown-unicast and multicast frames handed to replication."
        );

        let learn_events: u64 = o.counters.iter().map(|c| c.learn_events()).sum();
        let ring_drops: u64 = o.rings.iter().map(|r| r.dropped()).sum();
        for (name, help, value) in [
            (
                "causeway_l2_learn_events",
                "MAC learn events the workers sent to the control plane.",
                learn_events,
            ),
            (
                "causeway_l2_learn_ring_drops",
                "Learn events lost because a worker's learn ring was full (re-sent after \
                 the next table update).",
                ring_drops,
            ),
        ] {
            let family = encoder.encode_descriptor(
                name,
                help,
                None,
                ConstCounter::new(0u64).metric_type(),
            )?;
            ConstCounter::new(value).encode(family)?;
        }

        // ARP resolution of locator next hops (crate::neighbor).
        let arp = &o.arp.stats;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        for (name, help, value) in [
            (
                "causeway_l2_arp_requests_sent",
                "ARP requests for underlay next hops sent out of the underlay port.",
                load(&arp.requests_sent),
            ),
            (
                "causeway_l2_arp_requests_no_mbuf",
                "ARP requests not sent for want of a packet buffer (asked again later).",
                load(&arp.requests_no_mbuf),
            ),
            (
                "causeway_l2_arp_replies_received",
                "ARP replies to our tunnel IP received on the underlay port.",
                load(&arp.replies_received),
            ),
            (
                "causeway_l2_neighbor_mac_changes",
                "Times a resolved underlay next hop answered from a new MAC.",
                load(&arp.mac_changes),
            ),
            (
                "causeway_l2_arp_ring_drops",
                "ARP reports or requests lost to a full ring (recovered by the next retry).",
                o.arp.ring_drops(),
            ),
        ] {
            let family = encoder.encode_descriptor(
                name,
                help,
                None,
                ConstCounter::new(0u64).metric_type(),
            )?;
            ConstCounter::new(value).encode(family)?;
        }
        {
            let mut family = encoder.encode_descriptor(
                "causeway_l2_neighbor_entries",
                "Underlay next hops by state: incomplete (unresolved, frames to its \
                 locators dropped), reachable, probing (being refreshed, still in use), \
                 static (next_hops).",
                None,
                ConstGauge::new(0i64).metric_type(),
            )?;
            let states = crate::neighbor::State::ALL
                .iter()
                .zip(&arp.entries)
                .map(|(s, g)| (s.name(), load(g)))
                .chain([("static", load(&arp.statics))]);
            for (state, n) in states {
                ConstGauge::new(n as i64).encode(family.encode_family(&[("state", state)])?)?;
            }
        }

        let learned = o.learned.borrow().clone();
        {
            let family = encoder.encode_descriptor(
                "causeway_l2_local_macs",
                "MACs learned on local bindings (Ucast_Macs_Local).",
                None,
                ConstGauge::new(0i64).metric_type(),
            )?;
            ConstGauge::new(learned.len() as i64).encode(family)?;
        }
        let mut family = encoder.encode_descriptor(
            "causeway_l2_local_mac",
            "One series per learned local MAC: where it was learned (value 1).",
            None,
            ConstGauge::new(0i64).metric_type(),
        )?;
        for m in &learned {
            let mac = crate::l2model::format_mac(&m.mac);
            let vlan = m.vlan.to_string();
            let labels = [
                ("switch", m.switch.as_str()),
                ("mac", mac.as_str()),
                ("port", m.port.as_str()),
                ("vlan", vlan.as_str()),
            ];
            ConstGauge::new(1i64).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// OpenMetrics text of the registry.
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail; an encoder error would be a bug in a collector.
    prometheus_client::encoding::text::encode(&mut out, registry)
        .expect("encoding metrics into a String");
    out
}

/// The content type Prometheus negotiates for OpenMetrics text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `/metrics` (and `/healthz`) on an already-bound listener until the task is
/// dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Arc<Registry>,
) -> std::io::Result<()> {
    use axum::http::header;
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let registry = registry.clone();
                async move { ([(header::CONTENT_TYPE, CONTENT_TYPE)], render(&registry)) }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }));
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrape_sums_lcores_and_reports_every_drop_reason() {
        let a = Arc::new(LcoreCounters::default());
        let b = Arc::new(LcoreCounters::default());
        a.poll(10);
        a.dropped(DropReason::RuntFrame, 2);
        b.poll(5);
        b.poll(0);
        b.dropped(DropReason::RuntFrame, 1);
        b.transmitted(5);
        let telemetry = Telemetry::new(
            "DPDK 22.11.11".into(),
            "patch".into(),
            vec![(1, a), (2, b)],
            Box::new(|| {
                vec![PortSample {
                    name: "left".into(),
                    stats: PortStats {
                        rx_packets: 15,
                        tx_bytes: 640,
                        ..Default::default()
                    },
                    link: LinkState {
                        up: true,
                        speed_mbps: 10_000,
                        full_duplex: true,
                    },
                }]
            }),
        );
        let text = render(&telemetry.into_registry());
        for line in [
            "causeway_port_rx_packets_total{port=\"left\"} 15",
            "causeway_port_tx_bytes_total{port=\"left\"} 640",
            "causeway_port_link_up{port=\"left\"} 1",
            "causeway_port_link_speed_mbps{port=\"left\"} 10000",
            "causeway_lcore_rx_packets_total{lcore=\"1\"} 10",
            "causeway_lcore_rx_packets_total{lcore=\"2\"} 5",
            "causeway_lcore_idle_polls_total{lcore=\"2\"} 1",
            "causeway_lcore_tx_packets_total{lcore=\"2\"} 5",
            "causeway_drops_total{reason=\"runt_frame\"} 3",
            "causeway_drops_total{reason=\"bad_ipv4_length\"} 0",
            "# EOF",
        ] {
            assert!(text.contains(line), "missing `{line}` in:\n{text}");
        }
        assert!(
            text.contains("causeway_build_info{version=\"") && text.contains("roles=\"patch\"} 1"),
            "{text}"
        );
    }
}
