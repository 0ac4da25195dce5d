//! Model and dataset codecs: safetensors (via the `safetensors` crate), MLP layout,
//! compressed-tensors, CSV and NPY datasets. No database, no HTTP.
pub mod compressed_tensors;
pub mod dataset;
pub mod mlp;
pub mod onnx;
pub mod safetensors;
pub mod text_dataset;
pub mod transformer;

mod error;
pub use error::FormatError;
