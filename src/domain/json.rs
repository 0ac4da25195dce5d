//! JSON values of typed structs as a client wrote them.
//!
//! `serde_json::to_value` widens an `f32` to the nearest `f64` (`0.001` becomes
//! `0.0010000000474974513`); written as text, an `f32` is its shortest round-trip decimal.
//! Specs and results go through text so a stored spec echoes the user's `0.001`.
use serde::Serialize;
use serde_json::Value;

/// `value` as a JSON value whose `f32` fields carry their shortest decimal form.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Value> {
    serde_json::from_slice(&serde_json::to_vec(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Spec {
        lr: f32,
        momentum: f64,
        ratios: Vec<f32>,
    }

    #[test]
    fn f32_fields_keep_the_decimal_the_user_sent() {
        let v = to_value(&Spec {
            lr: 0.001,
            momentum: 0.9,
            ratios: vec![0.1, 1e-8],
        })
        .unwrap();
        assert_eq!(
            v.to_string(),
            r#"{"lr":0.001,"momentum":0.9,"ratios":[0.1,1e-8]}"#
        );
        // The widening this avoids.
        let widened = serde_json::to_value(0.001f32).unwrap();
        assert_ne!(widened.to_string(), "0.001");
    }
}
