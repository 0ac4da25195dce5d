//! Checks several specs share: the name of an output model, fine-tuning settings (one set of
//! limits for quantize and prune) and the quality gate on the eval dataset.
use crate::domain::ValidationErrors;

/// Checks `output_name`: the name of the model a job writes.
pub fn check_output_name(e: &mut ValidationErrors, output_name: Option<&str>) {
    if let Some(n) = output_name {
        e.check(
            !n.trim().is_empty() && n.len() <= 200,
            "output_name",
            "must be 1 to 200 characters",
        );
    }
}

/// Default largest shard of a folder output (transformers' `save_pretrained` default, 5 GB).
pub const DEFAULT_MAX_SHARD_BYTES: u64 = 5_000_000_000;
/// Smallest `max_shard_bytes` a spec may ask for.
pub const MIN_MAX_SHARD_BYTES: u64 = 1024;

/// Checks `max_shard_bytes`: the largest shard of a folder output.
pub fn check_max_shard_bytes(e: &mut ValidationErrors, max_shard_bytes: Option<u64>) {
    if let Some(n) = max_shard_bytes {
        e.check(
            n >= MIN_MAX_SHARD_BYTES,
            "max_shard_bytes",
            format!("must be at least {MIN_MAX_SHARD_BYTES}"),
        );
    }
}

/// Most fine-tuning epochs a job may ask for.
pub const MAX_FINETUNE_EPOCHS: usize = 10_000;

/// Checks fine-tuning settings under `finetune.*`.
pub fn check_finetune(e: &mut ValidationErrors, epochs: usize, lr: f32, batch_size: usize) {
    e.check(
        (1..=MAX_FINETUNE_EPOCHS).contains(&epochs),
        "finetune.epochs",
        format!("must be between 1 and {MAX_FINETUNE_EPOCHS}"),
    );
    e.check(
        lr.is_finite() && lr > 0.0 && lr <= 1.0,
        "finetune.lr",
        "must be in (0, 1]",
    );
    e.check(
        (1..=1_000_000).contains(&batch_size),
        "finetune.batch_size",
        "must be between 1 and 1000000",
    );
}

/// Checks the text limits of a transformer job (`max_length`, `max_examples`).
pub fn check_text_limits(
    e: &mut ValidationErrors,
    max_length: Option<usize>,
    max_examples: Option<usize>,
) {
    use super::train::MAX_TEXT_LENGTH;
    if let Some(m) = max_length {
        e.check(
            (2..=MAX_TEXT_LENGTH).contains(&m),
            "max_length",
            format!("must be 2 to {MAX_TEXT_LENGTH} tokens"),
        );
    }
    if let Some(n) = max_examples {
        e.check(n >= 1, "max_examples", "must be ≥ 1");
    }
}

/// Checks `tolerable_loss`: a non-negative drop of the headline metric, measured on the eval
/// dataset (so one must be given).
pub fn check_tolerable_loss(e: &mut ValidationErrors, tolerable_loss: Option<f64>, has_eval: bool) {
    let Some(t) = tolerable_loss else {
        return;
    };
    e.check(
        t.is_finite() && t >= 0.0,
        "tolerable_loss",
        "must be ≥ 0 (an absolute accuracy or R² drop such as 0.01; for transformers also a relative perplexity increase or an embedding-cosine drop)",
    );
    e.check(
        has_eval,
        "tolerable_loss",
        "needs eval_dataset_id to measure the loss",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: ValidationErrors) -> Vec<String> {
        e.0.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn finetune_limits_are_one_set() {
        let mut e = ValidationErrors::new();
        check_finetune(&mut e, 10_000, 1.0, 64);
        assert!(e.is_empty());
        check_finetune(&mut e, 0, 1.5, 0);
        assert_eq!(
            fields(e),
            ["finetune.epochs", "finetune.lr", "finetune.batch_size"]
        );
    }

    #[test]
    fn tolerable_loss_needs_a_non_negative_value_and_an_eval_set() {
        let mut e = ValidationErrors::new();
        check_tolerable_loss(&mut e, None, false);
        check_tolerable_loss(&mut e, Some(0.01), true);
        assert!(e.is_empty());
        check_tolerable_loss(&mut e, Some(-1.0), false);
        assert_eq!(fields(e), ["tolerable_loss", "tolerable_loss"]);
    }
}
