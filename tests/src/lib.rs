//! Lab harness (placeholder).
