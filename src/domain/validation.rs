//! Field-level validation errors, collected so a user sees every problem at once.
use serde::Serialize;

/// The message for a text field holding U+0000 (Postgres cannot store it), alike wherever a
/// request's text is checked.
pub const NUL_REFUSED: &str = "must not contain NUL (U+0000) characters";

/// The dotted path (`a.b[2]`, `""` for the root) of the first string or object key in `value`
/// that holds U+0000, which databases refuse to store as text.
pub fn nul_in_json(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0').then(String::new),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            nul_in_json(v).map(|p| {
                if p.is_empty() || p.starts_with('[') {
                    format!("[{i}]{p}")
                } else {
                    format!("[{i}].{p}")
                }
            })
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(k.replace('\0', "\\u0000"));
            }
            nul_in_json(v).map(|p| {
                if p.is_empty() || p.starts_with('[') {
                    format!("{k}{p}")
                } else {
                    format!("{k}.{p}")
                }
            })
        }),
        _ => None,
    }
}

/// One problem with one field of a request. `field` is a JSON-pointer-like dotted path
/// (`spec.optimizer.lr`, `spec.architecture.hidden[0]`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every field error found in one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// An empty collection.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// A collection holding one error.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new();
        e.add(field, message);
        e
    }

    /// Record an error (the same field and message twice is one error).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let e = FieldError {
            field: field.into(),
            message: message.into(),
        };
        if !self.0.contains(&e) {
            self.0.push(e);
        }
    }

    /// Record an error when `ok` is false.
    pub fn check(&mut self, ok: bool, field: impl Into<String>, message: impl Into<String>) {
        if !ok {
            self.add(field, message);
        }
    }

    /// Prefix every field with `prefix.` (used when a nested spec is validated on its own).
    pub fn nest(self, prefix: &str) -> Self {
        Self(
            self.0
                .into_iter()
                .map(|e| FieldError {
                    field: if e.field.is_empty() {
                        prefix.to_string()
                    } else {
                        format!("{prefix}.{}", e.field)
                    },
                    message: e.message,
                })
                .collect(),
        )
    }

    /// Merge another collection into this one.
    pub fn extend(&mut self, other: ValidationErrors) {
        self.0.extend(other.0);
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when empty, otherwise `Err(self)`.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

#[cfg(test)]
mod nul_tests {
    use super::nul_in_json;
    use serde_json::json;

    #[test]
    fn finds_the_path_of_the_first_nul() {
        assert_eq!(nul_in_json(&json!({"a": "ok", "b": [1, "x"]})), None);
        assert_eq!(nul_in_json(&json!("a\u{0}")), Some(String::new()));
        assert_eq!(
            nul_in_json(&json!({"output_name": "y\u{0}"})).as_deref(),
            Some("output_name")
        );
        assert_eq!(
            nul_in_json(&json!({"exclude": ["ok", "bad\u{0}*"]})).as_deref(),
            Some("exclude[1]")
        );
        assert_eq!(
            nul_in_json(&json!({"base": {"optimizer": [{"k\u{0}": 1}]}})).as_deref(),
            Some("base.optimizer[0].k\\u0000")
        );
    }
}
