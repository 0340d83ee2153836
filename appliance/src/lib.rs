//! The causeway appliance: everything the `causeway` daemon and CLI are made of.
//!
//! This crate is the only one that knows everything: it reads the bootstrap
//! configuration, brings up DPDK, wires role pipelines onto worker lcores, serves
//! `/metrics`, and runs benchmarks of each pipeline (`causeway bench`).

pub mod bench;
pub mod config;
pub mod l2model;
pub mod metrics;
pub mod neighbor;
pub mod ovsdb_server;
pub mod roles;
pub mod runtime;
pub mod standalone;
pub mod vtep;
