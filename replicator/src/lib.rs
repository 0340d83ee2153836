//! The service-node pipeline: replication of broadcast, unknown-unicast and multicast
//! traffic to the tunnel endpoints of a logical switch. Its issue comes later; for now
//! this crate holds only its place in the workspace and depends on `dataplane` alone.

pub use dataplane;
