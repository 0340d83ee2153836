//! An OVSDB (RFC 7047) client on tokio, the controller-facing side of causeway.
//!
//! This crate owns everything between a byte stream to an `ovsdb-server` and a
//! consistent, typed, in-memory copy of a database:
//!
//! - [`codec`]: framing of back-to-back JSON values (no length prefix, no newline)
//!   with a message-size cap;
//! - [`rpc`]: JSON-RPC 1.0 messages in both directions;
//! - [`Connection`]: one connection to one server: request/reply matching, answering
//!   the server's `echo`, our own inactivity probe, and typed calls (`list_dbs`,
//!   `get_schema`, `transact`, `monitor_cond`, `monitor_cond_since`,
//!   `set_db_change_aware`, `monitor_cancel`);
//! - [`schema`], [`datum`], [`ops`]: the database schema, OVSDB values and typed
//!   transaction operation builders with typed per-operation errors;
//! - [`replica`]: the local replica ("IDL"): rows keyed by UUID, `update2`/`update3`
//!   semantics, immutable [`Snapshot`]s with a generation counter;
//! - [`Client`]: a session over a list of remotes that reconnects with exponential
//!   backoff and jitter, resumes with `monitor_cond_since`, follows `_Server.Database`
//!   to leave cluster members that are disconnected or stale, and keeps the last-known
//!   replica while no remote answers;
//! - [`tls`]: `ssl:` remotes with mutual TLS (rustls, ring) and a verifier that
//!   checks the chain but not the name (OVS certificates never match an IP).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
pub mod connection;
pub mod datum;
pub mod ops;
pub mod remote;
pub mod replica;
pub mod rpc;
pub mod schema;
pub mod session;
pub mod tls;

pub use connection::{ConnectOptions, Connection, MonitorSinceReply, Notification};
pub use datum::{Atom, Datum};
pub use ops::{
    Comment, Condition, Delete, Function, Insert, Mutate, Mutation, Mutator, Operation,
    OperationResult, Select, TransactError, Update, Wait, WaitUntil,
};
pub use remote::Remote;
pub use replica::{Replica, Row, RowUpdate, Snapshot, Table, TableUpdates};
pub use schema::{AtomicType, BaseType, ColumnSchema, ColumnType, DatabaseSchema, TableSchema};
pub use session::{Client, ClientConfig, ServerDatabase, SessionStatus};
pub use tls::TlsFiles;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on the underlying stream.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A message was not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The stream did not start a JSON object or array where one was expected.
    #[error("garbage on the stream: byte {0:#04x} where a JSON object or array must start")]
    Garbage(u8),
    /// A message exceeded the configured size cap.
    #[error("message larger than the {0}-byte cap")]
    MessageTooLarge(usize),
    /// A JSON value that does not follow the protocol.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The server answered a request with a JSON-RPC error.
    #[error("server error: {0}")]
    Rpc(serde_json::Value),
    /// A transaction failed (per-operation error or commit error).
    #[error(transparent)]
    Transaction(#[from] TransactError),
    /// The connection is closed (or closed while the request was outstanding).
    #[error("connection closed")]
    Disconnected,
    /// Nothing answered in time.
    #[error("timed out")]
    Timeout,
    /// The session has no usable connection right now.
    #[error("not connected")]
    NotConnected,
    /// A remote string that cannot be parsed.
    #[error("invalid remote {0:?}")]
    InvalidRemote(String),
    /// TLS setup or handshake failed.
    #[error("tls: {0}")]
    Tls(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
