//! Pure compute kernels: synchronous functions over ndarray views with explicit parameters.
//! No I/O, no async, no database, no global state. Deterministic for a given seed.
pub mod nn;
pub mod prune;
pub mod quant;
pub mod stats;
pub mod tune;

mod error;
pub use error::KernelError;
pub mod transformer;
