//! The DPDK runtime of the daemon: EAL, the packet pool, ports, one worker loop per
//! worker lcore, and an orderly stop.
//!
//! Workers follow DPDK l3fwd's plain run-to-completion loop: for each of its rx queues,
//! receive a burst, run the role pipeline over it (a verdict per packet), move each
//! packet to its verdict (grouped per output port, or dropped and counted), flush
//! transmit buffers, repeat. Each worker owns queue `i` of every port, so no two lcores
//! share a queue, a buffer or a counter. On stop, workers leave their loop and drain
//! their transmit buffers before the main lcore stops and closes the ports.

use crate::config::Config;
use crate::metrics::{PortSample, Telemetry};
use crate::roles::l2::{L2Plane, L2Worker};
use crate::roles::patch::Patch;
use dataplane::node::Node;
use dataplane::{DropReason, LcoreCounters, Packet, Verdict};
use dpdk::{Burst, Eal, FlushResult, Mbuf, Mempool, Port, PortConfig, RxQueue, Stop, TxBuffer};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::{info, warn};

/// Packets per receive burst and per transmit flush.
pub const BURST: usize = 32;
/// Transmit retries before unsent packets are dropped (counted as `tx_queue_full`).
const TX_RETRIES: u32 = 2;
/// Transmit retries when draining at stop.
const DRAIN_RETRIES: u32 = 1000;
/// DPDK's default mbuf headroom (`RTE_PKTMBUF_HEADROOM`): room for outer headers.
const MBUF_HEADROOM: usize = 128;
/// Smallest frame room per mbuf (`RTE_MBUF_DEFAULT_DATAROOM`).
const MIN_FRAME_ROOM: usize = 2048;

/// Data room per mbuf so that the largest frame any port can receive (MTU plus
/// Ethernet header and two VLAN tags) fits one segment: pipelines see a frame as one
/// contiguous slice.
fn mbuf_data_room(config: &Config) -> u16 {
    let largest_frame = config
        .ports
        .iter()
        .filter_map(|p| p.mtu)
        .map(|mtu| usize::from(mtu) + 14 + 8)
        .max()
        .unwrap_or(0);
    // Validated MTUs are at most 9600, so this stays far below u16::MAX.
    (largest_frame.max(MIN_FRAME_ROOM).next_multiple_of(64) + MBUF_HEADROOM) as u16
}

/// A runtime error: what failed while bringing DPDK or the daemon up.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A DPDK call failed.
    #[error("{context}: {source}")]
    Dpdk {
        /// What we were doing.
        context: String,
        /// DPDK's error.
        source: dpdk::Error,
    },
    /// The configuration cannot run on this EAL setup.
    #[error("{0}")]
    Setup(String),
    /// The L2 gateway's tables could not be built from its configuration.
    #[error("{0}")]
    L2(#[from] crate::roles::l2::L2Error),
    /// The on-box hardware_vtep database server could not be brought up.
    #[error("roles.l2_gateway.controller.serve: {0}")]
    VtepServer(#[from] crate::ovsdb_server::ServerError),
    /// An I/O error (metrics listener, runtime).
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

fn dpdk_err(context: impl Into<String>) -> impl FnOnce(dpdk::Error) -> RuntimeError {
    let context = context.into();
    move |source| RuntimeError::Dpdk { context, source }
}

/// A port as the runtime knows it.
struct RuntimePort {
    name: String,
    port: Port,
}

/// EAL, pool and ports brought up from a configuration; workers not yet running.
pub struct Dataplane {
    eal: Eal,
    pool: Mempool,
    ports: Vec<RuntimePort>,
    workers: Vec<(u32, Arc<LcoreCounters>)>,
    patch: Vec<(u16, u16)>,
    l2: Option<Arc<Mutex<L2Plane>>>,
    ingress_check: bool,
    idle_sleep: Option<Duration>,
    started: bool,
    pre_stage: Option<PreStageFactory>,
    rx_ports: Option<Vec<u16>>,
}

/// A per-burst stage run before the role's node (benchmarks regenerate frames with it).
pub type PreStage = Box<dyn FnMut(&mut [Mbuf]) + Send>;
/// Makes one [`PreStage`] per worker.
pub type PreStageFactory = Box<dyn Fn() -> PreStage>;

impl Dataplane {
    /// Initialises EAL, creates the packet pool and configures every port with one rx
    /// and one tx queue per worker lcore.
    pub fn init(config: &Config) -> Result<Dataplane, RuntimeError> {
        let eal = Eal::init(&config.eal_args).map_err(dpdk_err("EAL initialisation"))?;
        let lcores = eal.worker_lcores();
        if lcores.is_empty() {
            return Err(RuntimeError::Setup(
                "the EAL lcore list has no worker lcore: give at least two lcores (e.g. -l 0-1); \
                 the first is the main lcore"
                    .into(),
            ));
        }
        let queues = u16::try_from(lcores.len())
            .map_err(|_| RuntimeError::Setup("too many worker lcores".into()))?;
        info!(
            dpdk = %dpdk::version(),
            hugepages = eal.has_hugepages(),
            workers = ?lcores,
            "EAL up"
        );

        let pool = Mempool::pktmbuf(
            "causeway_pkts",
            config.mbufs,
            config.mbuf_cache,
            mbuf_data_room(config),
            -1,
        )
        .map_err(dpdk_err("creating the packet pool (dpdk.mbufs)"))?;

        let mut ports = Vec::with_capacity(config.ports.len());
        for p in &config.ports {
            let id = Port::probe(&p.devargs).map_err(dpdk_err(format!(
                "port `{}`: probing `{}`",
                p.name, p.devargs
            )))?;
            let cfg = PortConfig {
                rx_queues: queues,
                tx_queues: queues,
                rx_descriptors: config.rx_descriptors,
                tx_descriptors: config.tx_descriptors,
                mtu: p.mtu,
                mac: p.mac,
                promiscuous: p.promiscuous,
                rss: queues > 1,
            };
            let port = Port::configure(id, &cfg, &pool)
                .map_err(dpdk_err(format!("port `{}`: configuring", p.name)))?;
            info!(port = %p.name, id, driver = %port.driver(), mac = %crate::l2model::format_mac(&port.mac()), "port configured");
            ports.push(RuntimePort {
                name: p.name.clone(),
                port,
            });
        }
        let patch = config
            .patch
            .iter()
            .map(|&(from, to)| (ports[from].port.id(), ports[to].port.id()))
            .collect();
        let workers: Vec<(u32, Arc<LcoreCounters>)> = lcores
            .into_iter()
            .map(|l| (l, Arc::new(LcoreCounters::default())))
            .collect();
        let l2 = match &config.l2_gateway {
            Some(l2) => {
                let ids: Vec<(String, u16)> = ports
                    .iter()
                    .map(|p| (p.name.clone(), p.port.id()))
                    .collect();
                let mac = ports[l2.underlay_port].port.mac();
                let plane = L2Plane::new(config, &ids, mac, workers.len())?;
                info!(
                    switches = plane.model().switches.len(),
                    bindings = plane.model().bindings.len(),
                    remote_macs = plane.model().remote_macs.len(),
                    tunnel_ip = %l2.tunnel_ip,
                    "L2 gateway tables built"
                );
                Some(Arc::new(Mutex::new(plane)))
            }
            None => None,
        };
        Ok(Dataplane {
            eal,
            pool,
            ports,
            workers,
            patch,
            l2,
            pre_stage: None,
            rx_ports: None,
            ingress_check: true,
            idle_sleep: (config.idle_sleep_us > 0)
                .then(|| Duration::from_micros(u64::from(config.idle_sleep_us))),
            started: false,
        })
    }

    /// Patches without the ingress check (a bare wire), for `causeway bench io` only.
    pub fn skip_ingress_check(&mut self) {
        self.ingress_check = false;
    }

    /// Reads only these ports (indices into the configuration's `ports`), whatever the
    /// role would read (benchmarks: net_null generates traffic on every port polled).
    pub fn set_rx_ports(&mut self, ports: Vec<usize>) {
        self.rx_ports = Some(ports.iter().map(|&i| self.ports[i].port.id()).collect());
    }

    /// Runs `stage` on every received burst before the role's node (benchmarks only).
    pub fn set_pre_stage(&mut self, stage: PreStageFactory) {
        self.pre_stage = Some(stage);
    }

    /// The L2 gateway's control side, when the role is configured.
    pub fn l2(&self) -> Option<&Arc<Mutex<L2Plane>>> {
        self.l2.as_ref()
    }

    /// Whether EAL runs on hugepages.
    pub fn has_hugepages(&self) -> bool {
        self.eal.has_hugepages()
    }

    /// The packet pool (benchmarks pre-fill it with a frame template).
    pub fn pool(&self) -> &Mempool {
        &self.pool
    }

    /// Worker lcores and their counters.
    pub fn workers(&self) -> &[(u32, Arc<LcoreCounters>)] {
        &self.workers
    }

    /// Starts the ports and launches one worker loop per worker lcore.
    pub fn start(&mut self, stop: &Stop) -> Result<(), RuntimeError> {
        for p in self.ports.iter_mut() {
            p.port
                .start()
                .map_err(dpdk_err(format!("port `{}`: starting", p.name)))?;
        }
        self.started = true;
        // The L2 gateway reads every port (each is the underlay or a physical port);
        // the patch role only the inputs of its links.
        let reads = |id: u16| match &self.rx_ports {
            Some(only) => only.contains(&id),
            None => self.l2.is_some() || self.patch.iter().any(|&(from, _)| from == id),
        };
        for p in &self.ports {
            if !reads(p.port.id()) {
                info!(port = %p.name, "no role reads from this port: it only transmits");
            }
        }
        let max_port = self
            .ports
            .iter()
            .map(|p| usize::from(p.port.id()))
            .max()
            .unwrap_or(0);
        for (queue, (lcore, counters)) in self.workers.iter().enumerate() {
            let queue = queue as u16;
            // Only ports some role reads from are polled; the others only transmit.
            let rx: Vec<RxQueue> = self
                .ports
                .iter()
                .filter(|p| reads(p.port.id()))
                .map(|p| p.port.rx_queue(queue))
                .collect();
            let mut tx: Vec<Option<TxBuffer<BURST>>> = (0..=max_port).map(|_| None).collect();
            for p in self.ports.iter() {
                tx[usize::from(p.port.id())] = Some(TxBuffer::new(p.port.tx_queue(queue)));
            }
            let role = match &self.l2 {
                Some(plane) => Role::L2(Box::new(
                    plane
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .worker(usize::from(queue)),
                )),
                None if self.ingress_check => Role::Patch(Patch::new(&self.patch)),
                None => Role::Patch(Patch::new(&self.patch).without_ingress_check()),
            };
            let worker = Worker {
                role,
                pre: self.pre_stage.as_ref().map(|f| f()),
                pool: self.pool.clone(),
                rx,
                tx,
                counters: counters.clone(),
                stop: stop.clone(),
                idle_sleep: self.idle_sleep,
            };
            dpdk::lcore::launch(*lcore, move || worker.run())
                .map_err(dpdk_err(format!("launching the worker on lcore {lcore}")))?;
        }
        Ok(())
    }

    /// Telemetry over the workers' counters and the ports' DPDK stats.
    pub fn telemetry(&self, roles: String) -> Telemetry {
        let ports: Vec<(String, dpdk::PortMonitor)> = self
            .ports
            .iter()
            .map(|p| (p.name.clone(), p.port.monitor()))
            .collect();
        Telemetry::new(
            dpdk::version(),
            roles,
            self.workers.clone(),
            Box::new(move || {
                ports
                    .iter()
                    .map(|(name, monitor)| PortSample {
                        name: name.clone(),
                        stats: monitor.stats().unwrap_or_default(),
                        link: monitor.link().unwrap_or_default(),
                    })
                    .collect()
            }),
        )
    }

    /// Waits for the workers (which drain their transmit buffers once `stop` is
    /// requested), then stops and closes the ports and releases EAL.
    ///
    /// Call it after everything else that reads DPDK state (the metrics endpoint) has
    /// stopped.
    pub fn shutdown(self, stop: &Stop) {
        stop.request();
        if self.started {
            // Each worker returns after draining; its queue handles drop with it.
            dpdk::lcore::wait_all();
        }
        let Dataplane { eal, ports, .. } = self;
        for mut p in ports {
            if p.port.is_started()
                && let Err(e) = p.port.stop()
            {
                warn!(port = %p.name, "stopping: {e}");
            }
            if let Err(e) = p.port.close() {
                warn!(port = %p.name, "closing: {e}");
            }
        }
        // SAFETY: every worker has returned (wait_all), taking its mbufs, bursts and queue
        // handles with it; the ports are closed above and the pool handle goes with
        // `self`; the caller has stopped the metrics endpoint, the only other DPDK user.
        if let Err(e) = unsafe { eal.cleanup() } {
            warn!("EAL cleanup: {e}");
        }
    }
}

/// The role a worker runs. One role per box for now (the configuration refuses
/// `patch` together with `l2_gateway`).
enum Role {
    Patch(Patch),
    L2(Box<L2Worker>),
}

/// One worker lcore's loop state: everything it touches is its own.
struct Worker {
    role: Role,
    pre: Option<PreStage>,
    pool: Mempool,
    rx: Vec<RxQueue>,
    tx: Vec<Option<TxBuffer<BURST>>>,
    counters: Arc<LcoreCounters>,
    stop: Stop,
    idle_sleep: Option<Duration>,
}

impl Worker {
    fn run(mut self) -> i32 {
        let mut burst: Burst<BURST> = Burst::new();
        let mut verdicts = [Verdict::Punt; BURST];
        while !self.stop.is_requested() {
            // New tables are adopted here, between bursts: one atomic load per round.
            if let Role::L2(w) = &mut self.role {
                w.adopt();
                // ARP requests the control plane queued (worker 0 only; a few per
                // second): one mbuf each, out of the underlay port.
                let mut frame = [0u8; dataplane::responder::ARP_REQUEST_LEN];
                while let Some(len) = w.arp.next_request(&mut frame) {
                    match Mbuf::from_slice(&self.pool, &frame[..len]) {
                        Some(m) => {
                            w.arp.sent();
                            transmit(&mut self.tx, &self.counters, m, w.underlay_port);
                        }
                        None => w.arp.no_mbuf(),
                    }
                }
            }
            let mut received = 0;
            for q in 0..self.rx.len() {
                let n = self.rx[q].rx(&mut burst);
                self.counters.poll(n as u64);
                if n == 0 {
                    continue;
                }
                received += n;
                if let Some(pre) = &mut self.pre {
                    pre(burst.as_mut_slice());
                }
                match &mut self.role {
                    Role::Patch(p) => p.process(burst.as_mut_slice(), &mut verdicts[..n]),
                    Role::L2(w) => w.node.process(burst.as_mut_slice(), &mut verdicts[..n]),
                }
                for (mbuf, verdict) in burst.drain().zip(verdicts.iter()) {
                    self.dispatch(mbuf, *verdict);
                }
            }
            self.flush(TX_RETRIES);
            if received == 0
                && let Some(pause) = self.idle_sleep
            {
                std::thread::sleep(pause);
            }
        }
        self.flush(DRAIN_RETRIES);
        0
    }

    #[inline]
    fn dispatch(&mut self, mut mbuf: Mbuf, verdict: Verdict) {
        let reason = match (verdict, &self.role) {
            (Verdict::Tx { port }, _) => return self.transmit(mbuf, port),
            (Verdict::Drop(reason), _) => reason,
            (Verdict::Replicate { set }, Role::L2(_)) => return self.replicate(mbuf, set),
            // Punts are ARP and ICMP for the tunnel IP: answered in place, sent back.
            // ARP senders are reported to the control plane first (next-hop
            // resolution), before a request for us is rewritten into our reply.
            (Verdict::Punt, Role::L2(w)) => {
                let reported = w.arp.observe(mbuf.data());
                match dataplane::responder::respond(&mut mbuf, w.mac, w.tunnel_ip) {
                    Ok(_) => {
                        let port = mbuf.input_port();
                        return self.transmit(mbuf, port);
                    }
                    // An ARP reply or announcement: consumed by the report, not lost.
                    Err(_) if reported => return drop(mbuf),
                    Err(reason) => reason,
                }
            }
            (Verdict::Punt | Verdict::Replicate { .. }, Role::Patch(_)) => DropReason::NoEgress,
        };
        self.counters.dropped(reason, 1);
        drop(mbuf);
    }

    #[inline]
    fn transmit(&mut self, mbuf: Mbuf, port: u16) {
        transmit(&mut self.tx, &self.counters, mbuf, port);
    }

    /// One copy per member of flood set `set`: a fresh mbuf, the frame copied into it,
    /// the member's tag or VXLAN header written by `l2gw::replicate`, then out of the
    /// member's port. The original is freed. (Copies sharing one payload through mbuf
    /// reference counts and indirect mbufs are issue 5's concern, with the service
    /// node's replication.)
    fn replicate(&mut self, src: Mbuf, set: u32) {
        // Disjoint borrows of the worker's own fields: no Arc clone (an atomic
        // read-modify-write on a line every lcore shares) per flooded frame.
        let Worker {
            role,
            pool,
            tx,
            counters,
            ..
        } = self;
        let Role::L2(w) = role else {
            return;
        };
        let tables = w.node.tables();
        let l2_counters = w.node.counters();
        let members = tables.flood_set(set).map_or(0, |s| s.len());
        if members == 0 {
            counters.dropped(DropReason::StaleFloodSet, 1);
            return;
        }
        for i in 0..members {
            let Some(mut copy) = Mbuf::alloc(pool) else {
                counters.dropped(DropReason::ReplicaAllocFailed, 1);
                continue;
            };
            match l2gw::replicate(tables, set, i, &src, &mut copy) {
                Ok((member, Verdict::Tx { port })) => {
                    if let l2gw::FloodMember::Local { port, vlan } = member {
                        l2_counters.to_local(port, vlan, copy.len());
                    }
                    transmit(tx, counters, copy, port);
                }
                Ok(_) => counters.dropped(DropReason::NoEgress, 1),
                Err(d) => counters.dropped(d.reason(), 1),
            }
        }
    }

    fn flush(&mut self, retries: u32) {
        for q in 0..self.tx.len() {
            if let Some(buffer) = &mut self.tx[q]
                && !buffer.is_empty()
            {
                count_flush(&self.counters, buffer.flush(retries));
            }
        }
    }
}

/// Queues `mbuf` on this worker's transmit buffer for `port`, counting what a full
/// buffer's flush sent or dropped.
#[inline]
fn transmit(tx: &mut [Option<TxBuffer<BURST>>], counters: &LcoreCounters, mbuf: Mbuf, port: u16) {
    match tx.get_mut(usize::from(port)) {
        Some(Some(buffer)) => count_flush(counters, buffer.push(mbuf)),
        _ => {
            counters.dropped(DropReason::NoEgress, 1);
            drop(mbuf);
        }
    }
}

#[inline]
fn count_flush(counters: &LcoreCounters, r: FlushResult) {
    if r.sent > 0 {
        counters.transmitted(r.sent as u64);
    }
    if r.dropped > 0 {
        counters.dropped(DropReason::TxQueueFull, r.dropped as u64);
    }
}

/// Starts the hardware_vtep agent for `controller` (inside a tokio runtime): its
/// models replace the L2 plane's (the last one stays when the database goes away),
/// and the plane's learned MACs go back to the agent (`Ucast_Macs_Local`).
fn start_vtep_agent(
    plane: Arc<Mutex<L2Plane>>,
    config: &Config,
    l2: &crate::config::L2GatewayConfig,
    controller: &crate::config::ControllerConfig,
) -> crate::vtep::VtepAgent {
    use crate::vtep::{VtepAgent, VtepAgentConfig};
    let ports = config
        .ports
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != l2.underlay_port)
        .map(|(_, p)| p.name.clone())
        .collect();
    let mut agent_config = VtepAgentConfig::new(
        controller.remotes.clone(),
        controller.physical_switch.clone(),
        l2.tunnel_ip,
        ports,
    );
    agent_config.limits = l2.limits;
    agent_config.stats_interval = controller.stats_interval;
    let (models_tx, mut models) = tokio::sync::watch::channel(Arc::new(l2.model.clone()));
    let agent = VtepAgent::start_with(agent_config, models_tx);
    info!(
        physical_switch = %controller.physical_switch,
        remotes = %controller
            .remotes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        "hardware_vtep agent started"
    );
    let model_plane = plane.clone();
    tokio::spawn(async move {
        while models.changed().await.is_ok() {
            let model = models.borrow_and_update().clone();
            let (switches, bindings, remote_macs) = (
                model.switches.len(),
                model.bindings.len(),
                model.remote_macs.len(),
            );
            let result = model_plane
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .set_model((*model).clone());
            match result {
                Ok(()) => info!(
                    switches,
                    bindings, remote_macs, "L2 gateway model from the controller applied"
                ),
                Err(e) => {
                    warn!("L2 gateway: controller model rejected: {e}; keeping the previous tables")
                }
            }
        }
    });
    let mut learned = plane
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .subscribe_learned();
    let local = agent.local_macs_sender();
    tokio::spawn(async move {
        loop {
            let macs = learned.borrow_and_update().clone();
            local.send_if_modified(|cur| {
                if *cur == macs {
                    false
                } else {
                    *cur = macs;
                    true
                }
            });
            if learned.changed().await.is_err() {
                break;
            }
        }
    });
    // Binding counters for Logical_Binding_Stats: summed over the workers at the
    // agent's own rate (it writes no more often than that anyway).
    let observer = plane.lock().unwrap_or_else(|e| e.into_inner()).observer();
    let counts = agent.binding_stats_sender();
    let period = controller.stats_interval;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = Arc::new(observer.binding_counts());
            counts.send_if_modified(|cur| {
                if **cur == *now {
                    false
                } else {
                    *cur = now;
                    true
                }
            });
            if counts.is_closed() {
                break;
            }
        }
    });
    agent
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(config: &Config) -> Result<(), RuntimeError> {
    let stop = Stop::on_signals().map_err(|source| RuntimeError::Io {
        context: "installing signal handlers".into(),
        source,
    })?;
    // Threads started before EAL init keep the full CPU mask; EAL pins the calling
    // thread (and anything it spawns later) to the main lcore.
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("causeway-ctl")
        .enable_all()
        .build()
        .map_err(|source| RuntimeError::Io {
            context: "starting the control-plane runtime".into(),
            source,
        })?;
    let listener = tokio
        .block_on(tokio::net::TcpListener::bind(config.metrics_listen))
        .map_err(|source| RuntimeError::Io {
            context: format!("binding the metrics endpoint {}", config.metrics_listen),
            source,
        })?;

    let metrics_addr = listener.local_addr().map_err(|source| RuntimeError::Io {
        context: "reading the metrics endpoint address".into(),
        source,
    })?;

    // Before EAL init: the supervisor thread (and so the server) keeps the full CPU
    // mask instead of sharing the main lcore. Dropped last, after the agent.
    let vtep_server = match config
        .l2_gateway
        .as_ref()
        .and_then(|l2| l2.controller.as_ref())
        .and_then(|c| c.serve.as_ref())
    {
        Some(serve) => Some(crate::ovsdb_server::OvsdbServer::start(serve)?),
        None => None,
    };

    let mut dataplane = Dataplane::init(config)?;
    let roles = if config.l2_gateway.is_some() {
        "l2_gateway"
    } else if config.patch.is_empty() {
        "none"
    } else {
        "patch"
    };
    let mut registry = dataplane.telemetry(roles.to_owned()).into_registry();
    if let Some(plane) = dataplane.l2() {
        let observer = plane.lock().unwrap_or_else(|e| e.into_inner()).observer();
        registry.register_collector(Box::new(crate::metrics::L2Telemetry(observer)));
        tokio.spawn(crate::roles::l2::control_loop(
            plane.clone(),
            Duration::from_millis(50),
        ));
    }
    // Kept until shutdown: dropping the agent stops its task and OVSDB session.
    let _vtep_agent = match (dataplane.l2(), config.l2_gateway.as_ref()) {
        (Some(plane), Some(l2)) => match &l2.controller {
            Some(controller) => {
                let _guard = tokio.enter();
                Some(start_vtep_agent(plane.clone(), config, l2, controller))
            }
            None => None,
        },
        _ => None,
    };
    let registry = Arc::new(registry);
    tokio.spawn(async move {
        if let Err(e) = crate::metrics::serve(listener, registry).await {
            warn!("metrics endpoint stopped: {e}");
        }
    });
    dataplane.start(&stop)?;
    info!(
        name = %config.name,
        metrics = %metrics_addr,
        ports = config.ports.len(),
        "causeway running"
    );
    tokio.block_on(async {
        while !stop.is_requested() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    info!("stop requested: draining transmit queues");
    // The metrics endpoint reads port stats: stop it before the ports close.
    tokio.shutdown_timeout(Duration::from_secs(1));
    dataplane.shutdown(&stop);
    // The agent went with the tokio runtime; now the database server can go.
    drop(vtep_server);
    info!("causeway stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumbo_mtus_get_single_segment_mbufs() {
        let mut config = crate::config::parse(
            std::path::Path::new("t.yaml"),
            "identity: {name: t}\ndpdk: {eal_args: []}\nports:\n  - {name: a, devargs: net_null0}\n",
        )
        .unwrap();
        assert_eq!(mbuf_data_room(&config), 2048 + 128);
        config.ports[0].mtu = Some(9000);
        let room = usize::from(mbuf_data_room(&config));
        assert!(room - MBUF_HEADROOM >= 9000 + 14 + 8, "{room}");
        assert_eq!((room - MBUF_HEADROOM) % 64, 0);
    }
}
