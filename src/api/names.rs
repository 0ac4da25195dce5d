//! Checks of the free text handlers take from a request (display names, query values) before
//! it reaches the database. Postgres cannot store U+0000 in text, so a NUL is refused here
//! as a 422 naming the field, alike on both backends; lengths count characters, not bytes.

use super::ApiError;
use crate::domain::validation::NUL_REFUSED;

/// Longest display name of a model or dataset, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Refuse a text value holding U+0000.
pub fn check_no_nul(field: &str, value: &str) -> Result<(), ApiError> {
    if value.contains('\0') {
        return Err(ApiError::field(field, NUL_REFUSED));
    }
    Ok(())
}

/// A display name: 1 to [`MAX_NAME_CHARS`] characters, no control characters (C0 or DEL,
/// so no NUL), not only whitespace; returned trimmed. [`name_schema`] says the same.
pub fn display_name(field: &str, raw: &str) -> Result<String, ApiError> {
    check_no_nul(field, raw)?;
    if raw.chars().any(|c| c.is_ascii_control()) {
        return Err(ApiError::field(field, "must not hold control characters"));
    }
    let name = raw.trim();
    if name.is_empty() || raw.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::field(
            field,
            format!("must be 1 to {MAX_NAME_CHARS} characters, not only whitespace"),
        ));
    }
    Ok(name.to_string())
}

/// The OpenAPI schema of a display name ([`display_name`]'s rules).
pub fn name_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_CHARS))
        .pattern(Some(
            r"^[^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*$",
        ))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_field(r: Result<String, ApiError>) -> String {
        match r {
            Err(ApiError::Validation(v)) => v.0[0].field.clone(),
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let e200 = "é".repeat(200);
        assert_eq!(e200.len(), 400);
        assert_eq!(display_name("name", &e200).ok(), Some(e200.clone()));
        assert_eq!(
            refused_field(display_name("name", &"é".repeat(201))),
            "name"
        );
        assert_eq!(display_name("name", "  mlp ").ok().as_deref(), Some("mlp"));
        assert_eq!(refused_field(display_name("name", "   ")), "name");
    }

    #[test]
    fn nul_is_refused_naming_the_field() {
        assert_eq!(refused_field(display_name("name", "a\0b")), "name");
        assert!(check_no_nul("target", "label").is_ok());
        assert!(matches!(
            check_no_nul("target", "la\0bel"),
            Err(ApiError::Validation(v)) if v.0[0].field == "target"
        ));
    }
}
