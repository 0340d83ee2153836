//! Raw DPDK 22.11 bindings (placeholder until the build script lands).
