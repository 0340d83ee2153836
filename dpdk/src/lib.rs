//! The safe DPDK runtime (placeholder).
