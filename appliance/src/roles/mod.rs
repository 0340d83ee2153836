//! Role pipelines as the daemon wires them. Roles with their own crate (l2gw, l3gw,
//! replicator) are adapted here; `patch`, the diagnostic role, lives here whole.

pub mod l2;
pub mod patch;
