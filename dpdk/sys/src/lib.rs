//! Raw bindings to DPDK 22.11 and the causeway C shim.
//!
//! This crate owns exactly two things:
//! - the `bindgen` output for the DPDK headers that `shim/shim.h` includes (EAL, lcores,
//!   launch, cycles, devices and the vdev bus, mempools, mbufs, rings, ethdev, ether,
//!   the ring PMD), generated at build time against the system `libdpdk` found through
//!   `pkg-config` (>= 22.11), restricted to `rte_*` / `shim_*` / `RTE_*` names;
//! - `shim/shim.c`: out-of-line `shim_rte_*` wrappers for what bindgen cannot bind
//!   (static inline fast-path functions such as `rte_eth_rx_burst` and
//!   `rte_pktmbuf_alloc`, the thread-local `rte_errno` / `rte_lcore_id`, and macros
//!   such as `rte_pktmbuf_mtod`).
//!
//! Everything here is `unsafe` and mirrors DPDK's C API one to one; the safe layer is
//! the `dpdk` crate. Enums are generated as plain constants
//! (`bindgen::EnumVariation::Consts`) because a C value outside a Rust enum is UB, and
//! `RTE_BIT64(n)` flag macros come out as `u32` constants: cast them to `u64`.
//!
//! Linking: every library in `libdpdk.pc` plus `librte_bus_vdev` and `librte_net_ring`
//! (not listed there). With shared linkage EAL loads every PMD from the system's
//! `pmds-23.0` directory at init.

#![allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    improper_ctypes,
    unnecessary_transmutes,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::pedantic,
    clippy::undocumented_unsafe_blocks,
    rustdoc::all
)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
