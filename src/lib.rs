//! whittle: a model-optimization service. See `docs/architecture.md` for the rooms.
pub mod api;
pub mod app;
pub mod artifacts;
pub mod config;
pub mod domain;
pub mod formats;
pub mod jobs;
pub mod kernels;
pub mod store;
pub mod telemetry;
