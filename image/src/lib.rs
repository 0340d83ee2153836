//! The appliance image: the recipe that turns the `causeway` binary into a bootable
//! disk image (mmdebstrap, genimage, qemu-img) and the test that boots it under QEMU.
//!
//! The image issue comes later; this crate holds its place in the workspace. The
//! constants below are the layout the recipe will produce, so the daemon and the image
//! agree on paths from the start.

/// Where the bootstrap configuration lives on the appliance.
pub const BOOTSTRAP_CONFIG_PATH: &str = "/etc/causeway/appliance.yaml";
/// Where the daemon binary is installed on the appliance.
pub const DAEMON_PATH: &str = "/usr/sbin/causeway";
