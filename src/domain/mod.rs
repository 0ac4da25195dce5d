//! Pure domain types: ids, job specs, the job state machine, retry policy and
//! field-level validation errors. No sqlx, no axum, no tokio.
pub mod events;
pub mod job;
pub mod json;
pub mod retry;
pub mod selection;
pub mod specs;
pub mod validation;
pub mod webhooks;

pub use job::JobState;
pub use validation::{FieldError, ValidationErrors};
