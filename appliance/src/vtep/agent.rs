//! The vtep agent: a tokio task that follows a hardware_vtep database through an
//! [`ovsdb::Client`], publishes the [`L2Model`] whenever it changes and keeps the
//! gateway-owned rows in line with this box's configuration, learned MACs and
//! binding counters.
//!
//! Counters change all the time; writing them on every change would turn the
//! database into a metrics pipe (every controller monitoring the table gets each
//! update). So counter values are written at most once per
//! [`VtepAgentConfig::stats_interval`] and only when they differ from the rows;
//! everything else (rows appearing or going, MACs, tunnels, faults) is written as
//! soon as it changes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use ovsdb::{Client, ClientConfig, Remote, SessionStatus};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::model::{Fault, Limits, apply_limits, build_model, remote_locators};
use super::writer::{BindingCountsMap, LocalSide, hsc_plan};
use crate::l2model::{L2Model, LocalMac};

/// The hardware_vtep database name.
pub const DATABASE: &str = "hardware_vtep";

/// Default [`VtepAgentConfig::stats_interval`].
pub const DEFAULT_STATS_INTERVAL: Duration = Duration::from_secs(5);

/// What a [`VtepAgent`] connects to and what it stands for.
#[derive(Debug, Clone)]
pub struct VtepAgentConfig {
    /// hardware_vtep servers to try in turn (one standalone server, or cluster
    /// members): `unix:`, `tcp:`, `ssl:`.
    pub remotes: Vec<Remote>,
    /// This box's `Physical_Switch` name.
    pub physical_switch: String,
    /// This box's VXLAN tunnel IP (`Physical_Switch.tunnel_ips`, own locator).
    pub tunnel_ip: Ipv4Addr,
    /// The physical port names this box has: their `Physical_Port` rows are created
    /// if missing (never deleted), and bindings on other ports are ignored (reported
    /// as [`Fault::UnknownPort`]). Empty: follow every port of the switch, create none.
    pub ports: Vec<String>,
    /// Session settings (backoff, probes, TLS files); `remotes` and `database` are
    /// overwritten from this config.
    pub client: ClientConfig,
    /// Wait after a failed transaction before trying again.
    pub retry: Duration,
    /// Longest wait for our own successful transaction to show in the replica before
    /// reconciling again anyway.
    pub settle: Duration,
    /// Table sizes: the model is cut to them (faults and fault columns say so).
    pub limits: Limits,
    /// Shortest time between two writes of `Logical_Binding_Stats` counters.
    pub stats_interval: Duration,
    /// How long a `Tunnel` outlives the last use of its remote locator. Our tunnel may
    /// be the last reference keeping the controller's `Physical_Locator` row alive;
    /// deleting it at once garbage-collects a row the controller still sees and may
    /// reuse a moment later (ovn-controller-vtep does, when it rewrites a switch's MACs),
    /// and its transaction then fails on referential integrity and it does not retry.
    pub tunnel_hold: Duration,
}

/// Default [`VtepAgentConfig::tunnel_hold`].
pub const DEFAULT_TUNNEL_HOLD: Duration = Duration::from_secs(30);

impl VtepAgentConfig {
    /// A configuration with default session settings (backoff 100 ms to 8 s), 1 s
    /// retry after failed transactions, default [`Limits`], counters written at most
    /// every 5 s.
    pub fn new(
        remotes: Vec<Remote>,
        physical_switch: impl Into<String>,
        tunnel_ip: Ipv4Addr,
        ports: Vec<String>,
    ) -> Self {
        let client = ClientConfig::new(remotes.clone(), DATABASE);
        Self {
            remotes,
            physical_switch: physical_switch.into(),
            tunnel_ip,
            ports,
            client,
            retry: Duration::from_secs(1),
            settle: Duration::from_secs(2),
            limits: Limits::default(),
            stats_interval: DEFAULT_STATS_INTERVAL,
            tunnel_hold: DEFAULT_TUNNEL_HOLD,
        }
    }
}

/// Counters and state of the writing side, for metrics and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentStats {
    /// Models published (changes only).
    pub models_published: u64,
    /// Transactions committed.
    pub transactions: u64,
    /// Transactions that failed (and will be retried).
    pub transaction_errors: u64,
    /// The last transaction error.
    pub last_error: Option<String>,
    /// The last reconciliation found nothing to write (the database holds what this
    /// box owns) at this replica generation.
    pub in_sync_generation: Option<u64>,
}

/// A running vtep agent. Dropping it stops the task and its OVSDB session.
///
/// ```no_run
/// # async fn f() {
/// use appliance::vtep::{VtepAgent, VtepAgentConfig};
/// let cfg = VtepAgentConfig::new(
///     ovsdb::Remote::parse_list("unix:/run/vtep.sock").unwrap(),
///     "gw1",
///     "192.0.2.50".parse().unwrap(),
///     vec!["p0".into()],
/// );
/// let agent = VtepAgent::start(cfg);
/// let mut models = agent.models();
/// while models.changed().await.is_ok() {
///     let model = models.borrow_and_update().clone();
///     // build l2gw tables from `model`...
/// #   let _ = model;
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct VtepAgent {
    models: watch::Receiver<Arc<L2Model>>,
    faults: watch::Receiver<Arc<Vec<Fault>>>,
    stats: watch::Receiver<AgentStats>,
    status: watch::Receiver<SessionStatus>,
    local: watch::Sender<BTreeSet<LocalMac>>,
    binding_stats: watch::Sender<Arc<BindingCountsMap>>,
    task: JoinHandle<()>,
}

impl Drop for VtepAgent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl VtepAgent {
    /// Starts the agent with its own model channel (needs a tokio runtime).
    pub fn start(config: VtepAgentConfig) -> Self {
        let (tx, _) = watch::channel(Arc::new(L2Model::default()));
        Self::start_with(config, tx)
    }

    /// Starts the agent publishing into `models` (e.g. a channel the runtime shares
    /// with the standalone source). The current value is kept until the first
    /// snapshot of the database yields a different model.
    pub fn start_with(mut config: VtepAgentConfig, models: watch::Sender<Arc<L2Model>>) -> Self {
        config.client.remotes = config.remotes.clone();
        config.client.database = DATABASE.to_owned();
        let client = Client::start(config.client.clone());
        let status = client.subscribe_status();
        let (faults_tx, faults) = watch::channel(Arc::new(Vec::new()));
        let (stats_tx, stats) = watch::channel(AgentStats::default());
        let (local, local_rx) = watch::channel(BTreeSet::new());
        let (binding_stats, binding_stats_rx) = watch::channel(Arc::new(BindingCountsMap::new()));
        let models_rx = models.subscribe();
        let inputs = Inputs {
            local: local_rx,
            binding_stats: binding_stats_rx,
        };
        let task = tokio::spawn(run(client, config, models, faults_tx, stats_tx, inputs));
        VtepAgent {
            models: models_rx,
            faults,
            stats,
            status,
            local,
            binding_stats,
            task,
        }
    }

    /// A receiver of models: notified only when the model changes; never reset to an
    /// empty model because the database went away (the dataplane keeps forwarding on
    /// the last-known state).
    pub fn models(&self) -> watch::Receiver<Arc<L2Model>> {
        self.models.clone()
    }

    /// The current model.
    pub fn model(&self) -> Arc<L2Model> {
        self.models.borrow().clone()
    }

    /// Replaces the set of MACs learned on local bindings; the agent reflects it in
    /// `Ucast_Macs_Local` (new rows inserted, gone ones deleted; a MAC that moved to
    /// another local port is the same row). Ageing is the caller's: drop aged MACs
    /// from the set.
    pub fn set_local_macs(&self, macs: BTreeSet<LocalMac>) {
        self.local.send_if_modified(|cur| {
            if *cur == macs {
                false
            } else {
                *cur = macs;
                true
            }
        });
    }

    /// A sender the runtime can keep to report learned MACs (same as
    /// [`VtepAgent::set_local_macs`]).
    pub fn local_macs_sender(&self) -> watch::Sender<BTreeSet<LocalMac>> {
        self.local.clone()
    }

    /// Replaces the dataplane's per-binding counters, keyed by (port name, VLAN); the
    /// agent writes them into `Logical_Binding_Stats` at most once per
    /// [`VtepAgentConfig::stats_interval`], and only what changed.
    pub fn set_binding_stats(&self, stats: Arc<BindingCountsMap>) {
        self.binding_stats.send_if_modified(|cur| {
            if **cur == *stats {
                false
            } else {
                *cur = stats;
                true
            }
        });
    }

    /// A sender the runtime can keep to report binding counters (same as
    /// [`VtepAgent::set_binding_stats`]).
    pub fn binding_stats_sender(&self) -> watch::Sender<Arc<BindingCountsMap>> {
        self.binding_stats.clone()
    }

    /// What is wrong in the database as seen by the last model (sorted), including
    /// what [`Limits`] left out.
    pub fn faults(&self) -> Arc<Vec<Fault>> {
        self.faults.borrow().clone()
    }

    /// A receiver of fault lists (notified when the list changes).
    pub fn subscribe_faults(&self) -> watch::Receiver<Arc<Vec<Fault>>> {
        self.faults.clone()
    }

    /// Writer counters.
    pub fn stats(&self) -> AgentStats {
        self.stats.borrow().clone()
    }

    /// A receiver of writer counters.
    pub fn subscribe_stats(&self) -> watch::Receiver<AgentStats> {
        self.stats.clone()
    }

    /// The OVSDB session status (remote in use, reconnects, last error).
    pub fn session(&self) -> SessionStatus {
        self.status.borrow().clone()
    }
}

/// What the runtime feeds the agent.
struct Inputs {
    local: watch::Receiver<BTreeSet<LocalMac>>,
    binding_stats: watch::Receiver<Arc<BindingCountsMap>>,
}

async fn run(
    client: Client,
    cfg: VtepAgentConfig,
    models: watch::Sender<Arc<L2Model>>,
    faults_tx: watch::Sender<Arc<Vec<Fault>>>,
    stats: watch::Sender<AgentStats>,
    mut inputs: Inputs,
) {
    let mut snaps = client.subscribe();
    let ports: BTreeSet<String> = cfg.ports.iter().cloned().collect();
    let ports = (!ports.is_empty()).then_some(ports);
    // After a committed transaction: the generation it was computed from, and until
    // when to wait for the replica to show it.
    let mut settling: Option<(u64, Instant)> = None;
    let mut retry_at: Option<Instant> = None;
    let mut model_gen: Option<u64> = None;
    let mut model = L2Model::default();
    let mut faults: Vec<Fault> = Vec::new();
    // Counters may be written from then on; `counters_pending`: they changed (or the
    // database did) since the last reconciliation that was allowed to write them.
    let mut stats_due = Instant::now();
    let mut counters_pending = true;
    // Remote locators that left the model, and when: their tunnels are kept until
    // `tunnel_hold` has passed (see VtepAgentConfig::tunnel_hold).
    let mut in_use: BTreeSet<Ipv4Addr> = BTreeSet::new();
    let mut left: BTreeMap<Ipv4Addr, Instant> = BTreeMap::new();
    loop {
        let snap = snaps.borrow_and_update().clone();
        // Seen: the MACs and counters are read when reconciling (maybe later).
        drop(inputs.local.borrow_and_update());
        if inputs.binding_stats.has_changed().unwrap_or(false) {
            drop(inputs.binding_stats.borrow_and_update());
            counters_pending = true;
        }
        // Before the first connection the replica has no schema: nothing to say yet.
        if snap.schema.is_some() {
            if model_gen != Some(snap.generation) {
                model_gen = Some(snap.generation);
                // Someone may have written the counters: compare again when due.
                counters_pending = true;
                let (mut m, mut f) = build_model(&snap, &cfg.physical_switch, ports.as_ref());
                f.extend(apply_limits(&mut m, cfg.tunnel_ip, &cfg.limits));
                f.sort();
                (model, faults) = (m, f);
                let now_in_use = remote_locators(&model, cfg.tunnel_ip);
                let t = Instant::now();
                for ip in in_use.difference(&now_in_use) {
                    left.insert(*ip, t);
                }
                left.retain(|ip, _| !now_in_use.contains(ip));
                in_use = now_in_use;
                let changed = models.send_if_modified(|cur| {
                    if **cur == model {
                        false
                    } else {
                        *cur = Arc::new(model.clone());
                        true
                    }
                });
                if changed {
                    tracing::info!(
                        switches = model.switches.len(),
                        bindings = model.bindings.len(),
                        remote_macs = model.remote_macs.len(),
                        "vtep model changed"
                    );
                    stats.send_modify(|s| s.models_published += 1);
                }
                faults_tx.send_if_modified(|cur| {
                    if **cur == faults {
                        return false;
                    }
                    for f in faults.iter().filter(|f| !cur.contains(f)) {
                        tracing::warn!(fault = %f, "hardware_vtep");
                    }
                    *cur = Arc::new(faults.clone());
                    true
                });
            }
            let now = Instant::now();
            let settled = match settling {
                Some((g, until)) if snap.generation <= g && now < until => false,
                _ => {
                    settling = None;
                    true
                }
            };
            let may_retry = retry_at.is_none_or(|t| now >= t);
            if settled && may_retry {
                retry_at = None;
                left.retain(|_, since| now.saturating_duration_since(*since) < cfg.tunnel_hold);
                let held: BTreeSet<Ipv4Addr> = left.keys().copied().collect();
                let macs = inputs.local.borrow().clone();
                let counters = inputs.binding_stats.borrow().clone();
                let write_stats = now >= stats_due;
                let plan = hsc_plan(
                    &snap,
                    &LocalSide {
                        physical_switch: &cfg.physical_switch,
                        tunnel_ip: cfg.tunnel_ip,
                        ports: &cfg.ports,
                        local_macs: &macs,
                        model: &model,
                        binding_stats: &counters,
                        write_stats,
                        faults: &faults,
                        local_mac_table_full: macs.len() >= cfg.limits.local_macs,
                        held_tunnels: &held,
                    },
                );
                if write_stats && plan.stats_written == 0 {
                    counters_pending = false;
                }
                if plan.ops.is_empty() {
                    stats.send_if_modified(|s| {
                        let g = Some(snap.generation);
                        let changed = s.in_sync_generation != g;
                        s.in_sync_generation = g;
                        changed
                    });
                } else if client.connection().is_some() {
                    tracing::debug!(ops = plan.ops.len(), "vtep transaction");
                    let res =
                        tokio::time::timeout(Duration::from_secs(30), client.transact(&plan.ops))
                            .await;
                    match res {
                        Ok(Ok(_)) => {
                            settling = Some((snap.generation, Instant::now() + cfg.settle));
                            if plan.stats_written > 0 {
                                stats_due = now + cfg.stats_interval;
                                counters_pending = false;
                            }
                            stats.send_modify(|s| {
                                s.transactions += 1;
                                s.in_sync_generation = None;
                            });
                        }
                        Ok(Err(ovsdb::Error::NotConnected | ovsdb::Error::Disconnected)) => {
                            // The next session publishes a snapshot: try again then.
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "vtep transaction failed; will retry");
                            retry_at = Some(Instant::now() + cfg.retry);
                            stats.send_modify(|s| {
                                s.transaction_errors += 1;
                                s.last_error = Some(e.to_string());
                                s.in_sync_generation = None;
                            });
                        }
                        Err(_) => {
                            retry_at = Some(Instant::now() + cfg.retry);
                            stats.send_modify(|s| {
                                s.transaction_errors += 1;
                                s.last_error = Some("transaction timed out".into());
                            });
                        }
                    }
                }
            }
        }
        // Wake for whichever comes last of settling and retry, and for the counters
        // once they may be written again.
        let mut wake = match (settling, retry_at) {
            (Some((_, a)), Some(b)) => Some(a.max(b)),
            (Some((_, a)), None) => Some(a),
            (None, b) => b,
        };
        // (Only while the rate bound holds them back: otherwise they were just
        // considered, and the next change of anything brings them along.)
        if counters_pending && snap.schema.is_some() && stats_due > Instant::now() {
            wake = Some(wake.map_or(stats_due, |w| w.max(stats_due)));
        }
        // And when the first held tunnel may go.
        if let Some(expiry) = left.values().min().map(|t| *t + cfg.tunnel_hold) {
            wake = Some(wake.map_or(expiry, |w| w.max(expiry)));
        }
        tokio::select! {
            r = snaps.changed() => if r.is_err() { return },
            r = inputs.local.changed() => if r.is_err() { return },
            r = inputs.binding_stats.changed() => if r.is_err() { return },
            _ = sleep_until(wake) => {}
        }
    }
}

async fn sleep_until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
