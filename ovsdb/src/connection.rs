//! One JSON-RPC connection to one server.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::codec::Framed;
use uuid::Uuid;

use crate::codec::{DEFAULT_MAX_MESSAGE_SIZE, JsonCodec};
use crate::ops::{Operation, OperationResult, parse_transact_result, transact_params};
use crate::remote::Remote;
use crate::replica::TableUpdates;
use crate::rpc::Message;
use crate::schema::DatabaseSchema;
use crate::tls::TlsFiles;
use crate::{Error, Result};
use rustls::pki_types::ServerName;

/// How to connect and keep a connection alive.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// After this long without receiving anything, send an `echo`; if nothing is
    /// received for as long again, drop the connection. `None` disables probing.
    pub probe_interval: Option<Duration>,
    /// Largest message accepted; a larger one drops the connection.
    pub max_message_size: usize,
    /// Time allowed to establish the stream (TLS handshake included).
    pub connect_timeout: Duration,
    /// Certificates for `ssl:` remotes.
    pub tls: Option<TlsFiles>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            probe_interval: Some(Duration::from_secs(5)),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            connect_timeout: Duration::from_secs(5),
            tls: None,
        }
    }
}

/// A notification (JSON-RPC request with `"id": null`) from the server, such as
/// `update2`, `update3`, `monitor_canceled`.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Method name.
    pub method: String,
    /// Parameters.
    pub params: Value,
}

/// The reply to `monitor_cond_since`.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSinceReply {
    /// `true`: the server knew our last transaction id and `updates` is the delta
    /// since; `false`: `updates` is a full dump and the cache must be replaced.
    pub found: bool,
    /// The id of the last transaction reflected (all zeros on standalone servers).
    pub last_txn_id: Uuid,
    /// The initial updates.
    pub updates: TableUpdates,
}

enum Command {
    Call {
        method: String,
        params: Value,
        reply: oneshot::Sender<Result<Value>>,
    },
}

#[derive(Debug, Default)]
struct Stats {
    echoes_answered: AtomicU64,
    probes_sent: AtomicU64,
}

/// A handle to one connection; cheap to clone. The connection closes when the
/// server goes away, the inactivity probe fails, a protocol error occurs, or every
/// handle is dropped.
#[derive(Clone)]
pub struct Connection {
    cmd: mpsc::UnboundedSender<Command>,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Connection {
    /// Connects to a remote. Notifications arrive on the returned receiver, which
    /// ends when the connection closes.
    pub async fn connect(
        remote: &Remote,
        opts: &ConnectOptions,
    ) -> Result<(Connection, mpsc::UnboundedReceiver<Notification>)> {
        let connect = async {
            match remote {
                Remote::Unix(path) => Ok(Self::from_stream(UnixStream::connect(path).await?, opts)),
                Remote::Tcp(addr) => {
                    let s = TcpStream::connect(addr).await?;
                    s.set_nodelay(true)?;
                    Ok(Self::from_stream(s, opts))
                }
                Remote::Ssl(addr) => {
                    let files = opts
                        .tls
                        .as_ref()
                        .ok_or(Error::Tls("ssl: remote without TLS files".into()))?;
                    let connector = files.connector()?;
                    let s = TcpStream::connect(addr).await?;
                    s.set_nodelay(true)?;
                    let name = ServerName::IpAddress(addr.ip().into());
                    let s = connector
                        .connect(name, s)
                        .await
                        .map_err(|e| Error::Tls(format!("handshake: {e}")))?;
                    Ok(Self::from_stream(s, opts))
                }
            }
        };
        timeout(opts.connect_timeout, connect)
            .await
            .map_err(|_| Error::Timeout)?
    }

    /// Runs the protocol over an established stream (must be called within a
    /// tokio runtime).
    pub fn from_stream<S>(
        stream: S,
        opts: &ConnectOptions,
    ) -> (Connection, mpsc::UnboundedReceiver<Notification>)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (notif_tx, notif_rx) = mpsc::unbounded_channel();
        let stats = Arc::new(Stats::default());
        let framed = Framed::new(stream, JsonCodec::new(opts.max_message_size));
        tokio::spawn(run(
            framed,
            cmd_rx,
            notif_tx,
            stats.clone(),
            opts.probe_interval,
        ));
        (Connection { cmd: cmd_tx, stats }, notif_rx)
    }

    /// True once the connection has closed.
    pub fn is_closed(&self) -> bool {
        self.cmd.is_closed()
    }

    /// Resolves when the connection has closed.
    pub async fn closed(&self) {
        self.cmd.closed().await
    }

    /// How many `echo` requests from the server were answered.
    pub fn echoes_answered(&self) -> u64 {
        self.stats.echoes_answered.load(Ordering::Relaxed)
    }

    /// How many inactivity probes we sent.
    pub fn probes_sent(&self) -> u64 {
        self.stats.probes_sent.load(Ordering::Relaxed)
    }

    /// Sends a request and waits for its reply's `result`.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(Command::Call {
                method: method.to_owned(),
                params,
                reply: tx,
            })
            .map_err(|_| Error::Disconnected)?;
        rx.await.map_err(|_| Error::Disconnected)?
    }

    /// `echo`: a round trip.
    pub async fn echo(&self) -> Result<()> {
        self.call("echo", json!(["causeway"])).await.map(drop)
    }

    /// `list_dbs`.
    pub async fn list_dbs(&self) -> Result<Vec<String>> {
        let v = self.call("list_dbs", json!([])).await?;
        serde_json::from_value(v).map_err(Error::Json)
    }

    /// `get_schema`.
    pub async fn get_schema(&self, db: &str) -> Result<DatabaseSchema> {
        DatabaseSchema::parse(&self.call("get_schema", json!([db])).await?)
    }

    /// `transact`: per-operation results, or [`Error::Transaction`] when an
    /// operation or the commit failed (then nothing was committed).
    pub async fn transact(&self, db: &str, ops: &[Operation]) -> Result<Vec<OperationResult>> {
        let result = self.call("transact", transact_params(db, ops)).await?;
        parse_transact_result(result, ops.len())
    }

    /// `monitor_cond`: the initial contents; later changes arrive as `update2`
    /// notifications tagged with `monitor_id`.
    pub async fn monitor_cond(
        &self,
        db: &str,
        monitor_id: Value,
        requests: Value,
    ) -> Result<TableUpdates> {
        TableUpdates::parse(
            &self
                .call("monitor_cond", json!([db, monitor_id, requests]))
                .await?,
        )
    }

    /// `monitor_cond_since`: resume from `last_txn_id` (`None`: from scratch); later
    /// changes arrive as `update3` notifications tagged with `monitor_id`.
    pub async fn monitor_cond_since(
        &self,
        db: &str,
        monitor_id: Value,
        requests: Value,
        last_txn_id: Option<Uuid>,
    ) -> Result<MonitorSinceReply> {
        let last = last_txn_id.unwrap_or(Uuid::nil()).to_string();
        let v = self
            .call(
                "monitor_cond_since",
                json!([db, monitor_id, requests, last]),
            )
            .await?;
        let bad = || Error::Protocol(format!("bad monitor_cond_since reply: {v}"));
        let found = v.get(0).and_then(Value::as_bool).ok_or_else(bad)?;
        let last_txn_id = v
            .get(1)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(bad)?;
        let updates = TableUpdates::parse(v.get(2).ok_or_else(bad)?)?;
        Ok(MonitorSinceReply {
            found,
            last_txn_id,
            updates,
        })
    }

    /// `set_db_change_aware`: the server then cancels monitors (instead of
    /// disconnecting) when a database is removed or its schema changes.
    pub async fn set_db_change_aware(&self, aware: bool) -> Result<()> {
        self.call("set_db_change_aware", json!([aware]))
            .await
            .map(drop)
    }

    /// `monitor_cancel`.
    pub async fn monitor_cancel(&self, monitor_id: Value) -> Result<()> {
        self.call("monitor_cancel", json!([monitor_id]))
            .await
            .map(drop)
    }
}

/// Monitor requests for every column of the given tables of a schema.
pub fn monitor_requests(schema: &DatabaseSchema, tables: Option<&[String]>) -> Value {
    let mut m = serde_json::Map::new();
    for (name, t) in &schema.tables {
        if tables.is_some_and(|ts| !ts.contains(name)) {
            continue;
        }
        m.insert(
            name.clone(),
            json!([{"columns": t.columns.keys().collect::<Vec<_>>()}]),
        );
    }
    Value::Object(m)
}

async fn run<S>(
    mut framed: Framed<S, JsonCodec>,
    mut cmd_rx: mpsc::UnboundedReceiver<Command>,
    notif_tx: mpsc::UnboundedSender<Notification>,
    stats: Arc<Stats>,
    probe: Option<Duration>,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let mut pending: HashMap<u64, oneshot::Sender<Result<Value>>> = HashMap::new();
    let mut next_id = 0u64;
    let mut last_rx = Instant::now();
    let mut probing = false;
    let result: Result<()> = loop {
        let deadline = probe.map(|p| last_rx + if probing { p * 2 } else { p });
        let probe_timer = async move {
            match deadline {
                Some(d) => sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = framed.next() => {
                let v = match msg {
                    None => break Err(Error::Disconnected),
                    Some(Err(e)) => break Err(e),
                    Some(Ok(v)) => v,
                };
                last_rx = Instant::now();
                probing = false;
                match Message::from_value(v) {
                    Err(e) => break Err(e),
                    Ok(Message::Request { id, method, params }) => {
                        let reply = if method == "echo" {
                            stats.echoes_answered.fetch_add(1, Ordering::Relaxed);
                            Message::Response { id, result: params, error: Value::Null }
                        } else {
                            Message::Response { id, result: Value::Null, error: json!("unknown method") }
                        };
                        if let Err(e) = framed.send(reply.into_value()).await {
                            break Err(e);
                        }
                    }
                    Ok(Message::Notification { method, params }) => {
                        let _ = notif_tx.send(Notification { method, params });
                    }
                    Ok(Message::Response { id, result, error }) => {
                        if let Some(tx) = id.as_u64().and_then(|n| pending.remove(&n)) {
                            let _ = tx.send(if error.is_null() { Ok(result) } else { Err(Error::Rpc(error)) });
                        }
                    }
                }
            }
            cmd = cmd_rx.recv() => {
                let Some(Command::Call { method, params, reply }) = cmd else { break Ok(()) };
                next_id += 1;
                pending.insert(next_id, reply);
                let req = Message::Request { id: json!(next_id), method, params };
                if let Err(e) = framed.send(req.into_value()).await {
                    break Err(e);
                }
            }
            () = probe_timer => {
                if probing {
                    break Err(Error::Timeout);
                }
                probing = true;
                stats.probes_sent.fetch_add(1, Ordering::Relaxed);
                next_id += 1;
                let req = Message::Request { id: json!(next_id), method: "echo".into(), params: json!([]) };
                if let Err(e) = framed.send(req.into_value()).await {
                    break Err(e);
                }
            }
        }
    };
    match &result {
        Ok(()) | Err(Error::Disconnected) => tracing::debug!("ovsdb connection closed"),
        Err(e) => tracing::info!(error = %e, "ovsdb connection dropped"),
    }
    // Fail outstanding requests; dropping cmd_rx and notif_tx tells the handles.
    cmd_rx.close();
    for (_, tx) in pending.drain() {
        let _ = tx.send(Err(Error::Disconnected));
    }
    while let Ok(Command::Call { reply, .. }) = cmd_rx.try_recv() {
        let _ = reply.send(Err(Error::Disconnected));
    }
}
