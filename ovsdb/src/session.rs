//! A session over a list of remotes that keeps a local replica in sync.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::connection::{ConnectOptions, Connection, Notification, monitor_requests};
use crate::datum::Datum;
use crate::ops::{Operation, OperationResult};
use crate::remote::Remote;
use crate::replica::{Replica, Row, Snapshot, TableUpdates};
use crate::{Error, Result};

/// What a [`Client`] connects to and how.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Servers to try in turn (members of one cluster, or one standalone server).
    pub remotes: Vec<Remote>,
    /// The database to replicate.
    pub database: String,
    /// Per-connection options (inactivity probe, message cap, connect timeout).
    pub connect: ConnectOptions,
    /// First reconnect delay after a failed attempt.
    pub backoff_min: Duration,
    /// Largest reconnect delay.
    pub backoff_max: Duration,
    /// Only stay on the cluster leader (like the C IDL's default for writers).
    pub leader_only: bool,
    /// Replicate only these tables (`None`: all).
    pub tables: Option<Vec<String>>,
}

impl ClientConfig {
    /// Defaults: 5 s probe, backoff 100 ms to 8 s, any healthy member.
    pub fn new(remotes: Vec<Remote>, database: impl Into<String>) -> Self {
        Self {
            remotes,
            database: database.into(),
            connect: ConnectOptions::default(),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(8),
            leader_only: false,
            tables: None,
        }
    }
}

/// The server's view of our database (`_Server.Database`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerDatabase {
    /// Database name.
    pub name: String,
    /// `standalone`, `clustered`, `relay` (or `backup`).
    pub model: String,
    /// Clustered: the server is in contact with a majority and up to date enough.
    pub connected: bool,
    /// Clustered: the server is the leader.
    pub leader: bool,
    /// Clustered: the last applied log index.
    pub index: Option<i64>,
    /// Clustered: cluster id.
    pub cid: Option<Uuid>,
    /// Clustered: server id.
    pub sid: Option<Uuid>,
}

impl ServerDatabase {
    fn from_row(r: &Row) -> Self {
        let s = |c: &str| {
            r.get(c)
                .and_then(Datum::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let b = |c: &str| r.get(c).and_then(Datum::as_bool).unwrap_or(false);
        ServerDatabase {
            name: s("name"),
            model: s("model"),
            connected: b("connected"),
            leader: b("leader"),
            index: r.get("index").and_then(Datum::as_i64),
            cid: r.get("cid").and_then(Datum::as_uuid),
            sid: r.get("sid").and_then(Datum::as_uuid),
        }
    }
}

/// Where a [`Client`] stands.
#[derive(Debug, Clone, Default)]
pub struct SessionStatus {
    /// The remote currently serving the replica (`None` while reconnecting).
    pub remote: Option<Remote>,
    /// That server's `_Server.Database` row for our database.
    pub server: Option<ServerDatabase>,
    /// Sessions established (monitor running).
    pub connects: u64,
    /// `monitor_cond_since` answers with `found = false` (cache replaced).
    pub full_dumps: u64,
    /// `monitor_cond_since` answers with `found = true` (delta only).
    pub resumes: u64,
    /// Why the last connection ended or failed.
    pub last_error: Option<String>,
}

/// An OVSDB client over a list of remotes, keeping a replica of one database.
///
/// Reconnects with exponential backoff and jitter, resumes with
/// `monitor_cond_since` from the last transaction id, leaves cluster members that
/// are disconnected from the cluster, stale (older log index than already seen) or,
/// with `leader_only`, not the leader. The replica keeps its last-known contents
/// while no remote answers. Dropping the client stops it.
#[derive(Debug)]
pub struct Client {
    database: String,
    snapshot: watch::Receiver<Arc<Snapshot>>,
    status: watch::Receiver<SessionStatus>,
    conn: watch::Receiver<Option<Connection>>,
    task: JoinHandle<()>,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Client {
    /// Starts the session in the background (needs a tokio runtime).
    pub fn start(config: ClientConfig) -> Self {
        let (snap_tx, snapshot) = watch::channel(Arc::new(Snapshot::default()));
        let (status_tx, status) = watch::channel(SessionStatus::default());
        let (conn_tx, conn) = watch::channel(None);
        let database = config.database.clone();
        let task = tokio::spawn(session_task(config, snap_tx, status_tx, conn_tx));
        Client {
            database,
            snapshot,
            status,
            conn,
            task,
        }
    }

    /// The current replica contents.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// A receiver that is notified on every replica change (new generation).
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.snapshot.clone()
    }

    /// The session status now.
    pub fn status(&self) -> SessionStatus {
        self.status.borrow().clone()
    }

    /// A receiver of status changes.
    pub fn subscribe_status(&self) -> watch::Receiver<SessionStatus> {
        self.status.clone()
    }

    /// The connection in use, if the session is established.
    pub fn connection(&self) -> Option<Connection> {
        self.conn.borrow().clone()
    }

    /// Waits until the session is established.
    pub async fn wait_connected(&self, within: Duration) -> Result<Connection> {
        let mut rx = self.conn.clone();
        let fut = async {
            loop {
                if let Some(c) = rx.borrow_and_update().clone().filter(|c| !c.is_closed()) {
                    return Ok(c);
                }
                rx.changed().await.map_err(|_| Error::Disconnected)?;
            }
        };
        tokio::time::timeout(within, fut)
            .await
            .map_err(|_| Error::Timeout)?
    }

    /// Waits until `pred` holds for the replica and returns that snapshot.
    pub async fn wait_for(
        &self,
        within: Duration,
        mut pred: impl FnMut(&Snapshot) -> bool,
    ) -> Result<Arc<Snapshot>> {
        let mut rx = self.snapshot.clone();
        let fut = async {
            loop {
                let s = rx.borrow_and_update().clone();
                if pred(&s) {
                    return Ok(s);
                }
                rx.changed().await.map_err(|_| Error::Disconnected)?;
            }
        };
        tokio::time::timeout(within, fut)
            .await
            .map_err(|_| Error::Timeout)?
    }

    /// Runs a transaction on the current connection ([`Error::NotConnected`] if
    /// there is none; the caller decides whether to retry).
    pub async fn transact(&self, ops: &[Operation]) -> Result<Vec<OperationResult>> {
        let conn = self.connection().ok_or(Error::NotConnected)?;
        conn.transact(&self.database, ops).await
    }
}

struct Publisher {
    snap: watch::Sender<Arc<Snapshot>>,
    status: watch::Sender<SessionStatus>,
    conn: watch::Sender<Option<Connection>>,
}

impl Publisher {
    fn publish(&self, replica: &Replica) {
        self.snap.send_replace(Arc::new(replica.snapshot()));
    }
}

/// Why a server is not used.
enum Unhealthy {
    Stale(String),
    Other(String),
}

async fn session_task(
    cfg: ClientConfig,
    snap: watch::Sender<Arc<Snapshot>>,
    status: watch::Sender<SessionStatus>,
    conn: watch::Sender<Option<Connection>>,
) {
    let publ = Publisher { snap, status, conn };
    let mut replica = Replica::new();
    let mut min_index: Option<(Uuid, i64)> = None;
    let mut stale_refusals = 0usize;
    let mut failures = 0u32;
    let mut next = 0usize;
    let mut rng = Jitter::new();
    if cfg.remotes.is_empty() {
        publ.status
            .send_modify(|s| s.last_error = Some("no remotes".into()));
        return;
    }
    loop {
        if failures > 0 {
            let exp = cfg.backoff_min.saturating_mul(1 << (failures - 1).min(16));
            let delay = exp
                .min(cfg.backoff_max)
                .mul_f64(rng.next_unit().mul_add(0.5, 0.5));
            tokio::time::sleep(delay).await;
        }
        let remote = cfg.remotes[next % cfg.remotes.len()].clone();
        next = next.wrapping_add(1);
        let mut healthy = false;
        let err = run_one(
            &cfg,
            &remote,
            &mut replica,
            &publ,
            &mut min_index,
            &mut healthy,
        )
        .await;
        let msg = match &err {
            SessionEnd::Unhealthy(Unhealthy::Stale(m)) => {
                stale_refusals += 1;
                if stale_refusals >= cfg.remotes.len() {
                    // Every member looks older than what we saw: the cluster may have
                    // been restored from backup. Accept what there is.
                    min_index = None;
                    stale_refusals = 0;
                }
                m.clone()
            }
            SessionEnd::Unhealthy(Unhealthy::Other(m)) => m.clone(),
            SessionEnd::Error(e) => e.to_string(),
        };
        tracing::info!(%remote, error = %msg, "ovsdb session ended");
        publ.conn.send_replace(None);
        publ.status.send_modify(|s| {
            s.remote = None;
            s.server = None;
            s.last_error = Some(format!("{remote}: {msg}"));
        });
        if healthy {
            failures = 0;
            stale_refusals = 0;
        } else {
            failures = failures.saturating_add(1);
        }
    }
}

enum SessionEnd {
    Unhealthy(Unhealthy),
    Error(Error),
}

impl From<Error> for SessionEnd {
    fn from(e: Error) -> Self {
        SessionEnd::Error(e)
    }
}

const SERVER_COLUMNS: [&str; 7] = [
    "name",
    "model",
    "connected",
    "leader",
    "index",
    "cid",
    "sid",
];

fn check_server(
    server: &Replica,
    db: &str,
    leader_only: bool,
    min_index: &mut Option<(Uuid, i64)>,
) -> Result<ServerDatabase, Unhealthy> {
    let snap = server.snapshot();
    let row = snap
        .find("Database", "name", &Datum::from(db))
        .map(|(_, r)| ServerDatabase::from_row(r))
        .ok_or_else(|| Unhealthy::Other(format!("database {db} not served")))?;
    if row.model == "clustered" {
        if !row.connected {
            return Err(Unhealthy::Other("not connected to the cluster".into()));
        }
        if leader_only && !row.leader {
            return Err(Unhealthy::Other("not the cluster leader".into()));
        }
        if let (Some(cid), Some(ix)) = (row.cid, row.index) {
            if let Some((mcid, mix)) = *min_index
                && mcid == cid
                && ix < mix
            {
                return Err(Unhealthy::Stale(format!("stale: log index {ix} < {mix}")));
            }
            *min_index = Some((cid, ix));
        }
    }
    Ok(row)
}

async fn run_one(
    cfg: &ClientConfig,
    remote: &Remote,
    replica: &mut Replica,
    publ: &Publisher,
    min_index: &mut Option<(Uuid, i64)>,
    healthy: &mut bool,
) -> SessionEnd {
    let db = cfg.database.as_str();
    let (conn, mut notifs) = match Connection::connect(remote, &cfg.connect).await {
        Ok(c) => c,
        Err(e) => return e.into(),
    };
    let server_mon = json!(["causeway", "_Server"]);
    let db_mon = json!(["causeway", db]);

    // 1. Is this server fit to serve us? (`_Server` is absent on very old servers.)
    let mut server = Replica::new();
    let mut has_server = true;
    let req = json!({"Database": [{"columns": SERVER_COLUMNS, "where": [["name", "==", db]]}]});
    match conn.monitor_cond("_Server", server_mon.clone(), req).await {
        Ok(u) => {
            let _ = server.apply(&u);
        }
        Err(Error::Rpc(e)) => {
            tracing::debug!(%remote, error = %e, "no _Server database");
            has_server = false;
        }
        Err(e) => return e.into(),
    }
    let mut server_row = None;
    if has_server {
        match check_server(&server, db, cfg.leader_only, min_index) {
            Ok(r) => server_row = Some(r),
            Err(u) => return SessionEnd::Unhealthy(u),
        }
        if let Err(e) = conn.set_db_change_aware(true).await
            && !matches!(e, Error::Rpc(_))
        {
            return e.into();
        }
    }

    // 2. Schema, then the monitor, resuming from the last transaction id.
    let schema = match conn.get_schema(db).await {
        Ok(s) => Arc::new(s),
        Err(e) => return e.into(),
    };
    if replica
        .snapshot()
        .schema
        .as_deref()
        .is_some_and(|s| *s != *schema)
    {
        replica.set_last_txn_id(None);
    }
    replica.set_schema(schema.clone());
    let requests = monitor_requests(&schema, cfg.tables.as_deref());
    let last = replica.snapshot().last_txn_id;
    let reply = match conn
        .monitor_cond_since(db, db_mon.clone(), requests, last)
        .await
    {
        Ok(r) => r,
        Err(e) => return e.into(),
    };
    if !reply.found {
        replica.clear();
    }
    if let Err(e) = replica.apply(&reply.updates) {
        return e.into();
    }
    replica.set_last_txn_id((!reply.last_txn_id.is_nil()).then_some(reply.last_txn_id));
    publ.publish(replica);
    tracing::info!(%remote, found = reply.found, "ovsdb session established");
    *healthy = true;
    publ.conn.send_replace(Some(conn.clone()));
    publ.status.send_modify(|s| {
        s.remote = Some(remote.clone());
        s.server = server_row;
        s.connects += 1;
        if reply.found {
            s.resumes += 1;
        } else {
            s.full_dumps += 1;
        }
    });

    // 3. Follow changes until something ends the session.
    loop {
        let Some(Notification { method, params }) = notifs.recv().await else {
            return Error::Disconnected.into();
        };
        let mon = params.get(0);
        match method.as_str() {
            "update3" if mon == Some(&db_mon) => {
                let txn = params
                    .get(1)
                    .and_then(Value::as_str)
                    .and_then(|s| Uuid::parse_str(s).ok());
                let res = params
                    .get(2)
                    .ok_or_else(|| Error::Protocol("update3 without updates".into()))
                    .and_then(TableUpdates::parse)
                    .and_then(|u| replica.apply(&u));
                if let Err(e) = res {
                    return e.into();
                }
                if txn.is_some() {
                    replica.set_last_txn_id(txn);
                }
                publ.publish(replica);
            }
            "update2" if mon == Some(&db_mon) => {
                let res = params
                    .get(1)
                    .ok_or_else(|| Error::Protocol("update2 without updates".into()))
                    .and_then(TableUpdates::parse)
                    .and_then(|u| replica.apply(&u));
                if let Err(e) = res {
                    return e.into();
                }
                publ.publish(replica);
            }
            "update2" if mon == Some(&server_mon) => {
                if let Some(u) = params.get(1).map(TableUpdates::parse) {
                    match u {
                        Ok(u) => {
                            let _ = server.apply(&u);
                        }
                        Err(e) => return e.into(),
                    }
                }
                match check_server(&server, db, cfg.leader_only, min_index) {
                    Ok(r) => publ.status.send_modify(|s| s.server = Some(r)),
                    Err(u) => return SessionEnd::Unhealthy(u),
                }
            }
            "monitor_canceled" => {
                // The database went away or its schema changed: start over.
                replica.set_last_txn_id(None);
                return Error::Protocol("monitor canceled by the server".into()).into();
            }
            _ => tracing::debug!(%method, "ignored notification"),
        }
    }
}

/// A small xorshift generator for backoff jitter (not for anything secret).
struct Jitter(u64);

impl Jitter {
    fn new() -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Jitter(t | 1)
    }

    /// Uniform in [0, 1).
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}
