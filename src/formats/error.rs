//! The format room's error type.

/// Errors reading or writing a model or dataset file. Every variant is the user's input
/// being wrong, so the API maps them to 4xx.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum FormatError {
    /// The file is not valid in its declared format; the message says what is wrong and where.
    #[error("{0}")]
    Invalid(String),
    /// A well-formed file that whittle does not support (dtype, layout, pickle checkpoint…).
    #[error("{0}")]
    Unsupported(String),
    /// A value is bad at a known location (row/column of a CSV, tensor name…).
    #[error("{location}: {message}")]
    At { location: String, message: String },
    /// The file is larger than a configured cap.
    #[error("{0}")]
    TooLarge(String),
}
