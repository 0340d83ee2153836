//! The L2 gateway pipeline: VLAN bindings on physical ports to logical switches over
//! overlay tunnels, MAC learning and tables, BUM handling. Its issue comes later; for now
//! this crate holds only its place in the workspace and depends on `dataplane` alone.

pub use dataplane;
