//! The kernel room's error type.

/// Errors a kernel can report; callers map them to job or API errors.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum KernelError {
    /// Inputs whose shapes do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A parameter outside its valid range; `field` names it the way a user wrote it.
    #[error("invalid {field}: {message}")]
    InvalidParameter { field: String, message: String },
    /// The caller asked the kernel to stop (cancel observed between steps).
    #[error("canceled")]
    Canceled,
    /// The math failed (NaN loss, singular matrix, …).
    #[error("numerical failure: {0}")]
    Numerical(String),
}

impl KernelError {
    /// Shorthand for [`KernelError::InvalidParameter`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        KernelError::InvalidParameter {
            field: field.into(),
            message: message.into(),
        }
    }
}
