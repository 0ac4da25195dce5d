//! Submit-time checks of a job spec: types and values (domain), then the resources it names
//! exist for the caller's tenant and fit together (the per-kind checks here are what each
//! executor's `KindExecutor::admit` calls). The API calls this before enqueueing so a
//! bad request is a 422 naming the field, not a job that fails later.
use serde_json::Value;
use uuid::Uuid;

use super::{JobKind, KindExecutor};
use crate::domain::specs::train::{check_loss_task, Task};
use crate::domain::specs::{
    parse_spec, EvaluateSpec, KindSpec, PruneSpec, QuantizeSpec, Reference, TrainSpec, TuneSpec,
};
use crate::domain::ValidationErrors;
use crate::formats::mlp::MlpArchitecture;
use crate::store::{DatasetRow, DynStore, ModelRow, StoreError};

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    #[error("invalid job: {0}")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parse, validate and check the references of a job submission; the normalized spec (defaults
/// filled in) to store in the job row.
pub async fn admit(
    store: &DynStore,
    tenant_id: Uuid,
    kind: JobKind,
    spec: &Value,
) -> Result<Value, AdmissionError> {
    kind.admit(store, tenant_id, spec).await
}

/// [`admit`] for the kind whose executor is `executor` (the registry dispatches here).
pub(crate) async fn admit_as<E: KindExecutor>(
    executor: &E,
    kind: JobKind,
    store: &DynStore,
    tenant_id: Uuid,
    spec: &Value,
) -> Result<Value, AdmissionError> {
    let parsed: E::Spec = parse_spec(spec).map_err(AdmissionError::Invalid)?;
    check_executable(store, kind).await?;
    check_references(store, tenant_id, parsed.references()).await?;
    executor
        .admit(store, tenant_id, &parsed)
        .await?
        .into_result()
        .map_err(AdmissionError::Invalid)?;
    crate::domain::json::to_value(&parsed)
        .map_err(|e| AdmissionError::Invalid(ValidationErrors::single("spec", e.to_string())))
}

/// Every model and dataset a spec names exists for the tenant.
async fn check_references(
    store: &DynStore,
    tenant_id: Uuid,
    references: Vec<(String, Reference)>,
) -> Result<(), AdmissionError> {
    let mut errors = ValidationErrors::new();
    for (field, reference) in references {
        let (found, what) = match reference {
            Reference::Model(id) => (store.get_model(tenant_id, id).await?.is_some(), "model"),
            Reference::Dataset(id) => {
                (store.get_dataset(tenant_id, id).await?.is_some(), "dataset")
            }
        };
        if !found {
            errors.add(field, format!("no {what} with this id"));
        }
    }
    errors.into_result().map_err(AdmissionError::Invalid)
}

/// Refuses a kind that running workers exist for but none executes (an older worker
/// version, or workers started with a narrower registry). With no running worker the job is
/// queued until one starts.
async fn check_executable(store: &DynStore, kind: JobKind) -> Result<(), AdmissionError> {
    let live = store.live_worker_kinds(super::runner::live_since()).await?;
    if live.is_empty() || live.iter().any(|k| k == kind.as_str()) {
        return Ok(());
    }
    Err(AdmissionError::Invalid(ValidationErrors::single(
        "kind",
        format!(
            "no running worker executes '{kind}' (running workers execute: {}); start a worker \
             that runs it",
            live.join(", ")
        ),
    )))
}

/// A train job: task and loss fit the dataset, a base model and a validation set fit it too.
pub(crate) async fn check_train(
    store: &DynStore,
    tenant_id: Uuid,
    s: &TrainSpec,
) -> Result<ValidationErrors, StoreError> {
    let mut e = ValidationErrors::new();
    let Some(ds) = store.get_dataset(tenant_id, s.dataset_id).await? else {
        return Ok(e);
    };
    check_trainable(&mut e, "spec.dataset_id", &ds);
    let task = ds.task.as_str();
    if let Some(t) = s.task {
        e.check(
            t.as_str() == task,
            "spec.task",
            format!("the dataset is a {task} dataset"),
        );
    }
    if let Some(loss) = s.loss {
        let mut loss_errors = ValidationErrors::new();
        check_loss_task(&mut loss_errors, loss, task_of(&ds));
        e.extend(loss_errors.nest("spec"));
    }
    if let Some(id) = s.base_model_id {
        if let Some(m) = store.get_model(tenant_id, id).await? {
            check_model_fits(&mut e, "spec.base_model_id", &m, &ds);
        }
    }
    if let Some(vid) = s.validation.as_ref().and_then(|v| v.dataset_id) {
        if let Some(v) = store.get_dataset(tenant_id, vid).await? {
            check_like_training_set(&mut e, "spec.validation.dataset_id", &v, &ds);
        }
    }
    Ok(e)
}

/// An evaluate job: the model is an MLP whose inputs and outputs fit the dataset.
pub(crate) async fn check_evaluate(
    store: &DynStore,
    tenant_id: Uuid,
    s: &EvaluateSpec,
) -> Result<ValidationErrors, StoreError> {
    let mut e = ValidationErrors::new();
    let Some(m) = store.get_model(tenant_id, s.model_id).await? else {
        return Ok(e);
    };
    let ds = store.get_dataset(tenant_id, s.dataset_id).await?;
    if let Some(t) = transformer_of(&m) {
        let reference = match s.reference_model_id {
            Some(id) => store.get_model(tenant_id, id).await?,
            None => None,
        };
        check_transformer_eval(&mut e, &t, ds.as_ref(), reference.as_ref(), s);
        return Ok(e);
    }
    for field in s.text_fields() {
        e.add(
            format!("spec.{field}"),
            "only applies to transformer models (this model is not one)",
        );
    }
    if let Some(ds) = ds {
        check_model_fits(&mut e, "spec.model_id", &m, &ds);
    }
    Ok(e)
}

/// The transformer summary of a model row (`architecture.kind = transformer`).
pub(crate) fn transformer_of(model: &ModelRow) -> Option<serde_json::Value> {
    model
        .architecture
        .as_ref()
        .filter(|a| a.get("kind").and_then(|k| k.as_str()) == Some("transformer"))
        .cloned()
}

fn summary_str<'a>(t: &'a serde_json::Value, key: &str) -> &'a str {
    t.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

/// A transformer whittle can run, with its tokenizer, on a text dataset; a reference of
/// the same family and vocabulary; options that fit the family and the model's positions.
fn check_transformer_eval(
    e: &mut ValidationErrors,
    t: &serde_json::Value,
    ds: Option<&DatasetRow>,
    reference: Option<&ModelRow>,
    s: &EvaluateSpec,
) {
    if !check_runnable_transformer(e, "spec.model_id", t) {
        return;
    }
    if let Some(ds) = ds {
        e.check(
            ds.modality == "text",
            "spec.dataset_id",
            "is a tabular dataset; transformer models are evaluated on text datasets (CSV with a text column, or JSON Lines)",
        );
    }
    let decoder = summary_str(t, "family") == "decoder";
    if decoder {
        e.check(
            s.pooling.is_none(),
            "spec.pooling",
            "only applies to encoders",
        );
        e.check(
            s.normalize.is_none(),
            "spec.normalize",
            "only applies to encoders",
        );
    } else {
        e.check(
            s.stride.is_none(),
            "spec.stride",
            "only applies to decoders (perplexity windows)",
        );
    }
    let positions = t
        .get("max_positions")
        .and_then(|v| v.as_u64())
        .unwrap_or(u64::MAX);
    if let Some(m) = s.max_length {
        e.check(
            m as u64 <= positions,
            "spec.max_length",
            format!("the model has {positions} positions"),
        );
    }
    if let Some(r) = reference {
        match transformer_of(r) {
            Some(rt) if check_runnable_transformer(e, "spec.reference_model_id", &rt) => {
                e.check(
                    summary_str(&rt, "family") == summary_str(t, "family"),
                    "spec.reference_model_id",
                    format!(
                        "is an {} and the model a {}: compare models of one family",
                        summary_str(&rt, "family"),
                        summary_str(t, "family")
                    ),
                );
                e.check(
                    rt.get("vocab_size") == t.get("vocab_size"),
                    "spec.reference_model_id",
                    "has another vocabulary size: the two models must share a tokenizer",
                );
            }
            Some(_) => {}
            None => e.add(
                "spec.reference_model_id",
                "is not a transformer model; compare two models of one family",
            ),
        }
    }
}

/// `eval_dataset_id` on a model that is not an MLP: a transformer whittle can run with a
/// text dataset (quality before and after), else a 422 saying what is needed.
async fn check_text_gate(
    store: &DynStore,
    tenant_id: Uuid,
    e: &mut ValidationErrors,
    model: &ModelRow,
    dataset_id: Uuid,
    why: &str,
) -> Result<(), StoreError> {
    check_text_dataset(
        store,
        tenant_id,
        e,
        model,
        dataset_id,
        "spec.eval_dataset_id",
        why,
    )
    .await
}

/// `max_length` and `max_examples` of quantize and prune apply to transformers' text, and
/// `max_length` fits the model's positions.
fn check_text_limits_apply(
    e: &mut ValidationErrors,
    model: &ModelRow,
    max_length: Option<usize>,
    max_examples: Option<usize>,
) {
    let Some(t) = transformer_of(model) else {
        for (field, set) in [
            ("spec.max_length", max_length.is_some()),
            ("spec.max_examples", max_examples.is_some()),
        ] {
            e.check(
                !set,
                field,
                "only applies to transformer models (text datasets)",
            );
        }
        return;
    };
    let positions = t
        .get("max_positions")
        .and_then(|v| v.as_u64())
        .unwrap_or(u64::MAX);
    if let Some(m) = max_length {
        e.check(
            m as u64 <= positions,
            "spec.max_length",
            format!("the model has {positions} positions"),
        );
    }
}

/// A text dataset (eval or calibration, named by `field`) for a transformer whittle can
/// run with its tokenizer; otherwise a 422 saying what is needed.
async fn check_text_dataset(
    store: &DynStore,
    tenant_id: Uuid,
    e: &mut ValidationErrors,
    model: &ModelRow,
    dataset_id: Uuid,
    field: &str,
    why: &str,
) -> Result<(), StoreError> {
    let Some(t) = transformer_of(model) else {
        e.add(
            field,
            format!("quality checks {why}, or a transformer folder with config.json"),
        );
        return Ok(());
    };
    if !check_runnable_transformer(e, "spec.model_id", &t) {
        return Ok(());
    }
    if let Some(ds) = store.get_dataset(tenant_id, dataset_id).await? {
        e.check(
            ds.modality == "text",
            field,
            "is a tabular dataset; transformer models are measured on text datasets (CSV with a text column, or JSON Lines)",
        );
    }
    Ok(())
}

/// A transformer summary whittle can run, with a tokenizer; otherwise a 422 on `field`
/// naming what is unsupported.
fn check_runnable_transformer(
    e: &mut ValidationErrors,
    field: &str,
    t: &serde_json::Value,
) -> bool {
    if t.get("supported").and_then(|v| v.as_bool()) != Some(true) {
        e.add(
            field,
            format!(
                "whittle cannot run this model: {} ({})",
                summary_str(t, "reason"),
                summary_str(t, "field")
            ),
        );
        return false;
    }
    if t.get("tokenizer").and_then(|v| v.as_bool()) != Some(true) {
        e.add(
            field,
            "has no tokenizer.json: upload the folder with its tokenizer to run it on text",
        );
        return false;
    }
    true
}

/// The task of a stored dataset.
fn task_of(ds: &DatasetRow) -> Task {
    if ds.task == "regression" {
        Task::Regression
    } else {
        Task::Classification
    }
}

/// A tune job: the metric and the base loss fit the dataset's task, the folds have rows (and
/// every class) to work with, and an eval dataset has the same features and task.
pub(crate) async fn check_tune(
    store: &DynStore,
    tenant_id: Uuid,
    s: &TuneSpec,
) -> Result<ValidationErrors, StoreError> {
    let mut e = ValidationErrors::new();
    let Some(ds) = store.get_dataset(tenant_id, s.dataset_id).await? else {
        return Ok(e);
    };
    check_trainable(&mut e, "spec.dataset_id", &ds);
    let classification = ds.task == "classification";
    if let Some(m) = s.metric {
        e.check(
            m.is_classification() == classification,
            "spec.metric",
            format!("'{}' does not fit a {} dataset", m.as_str(), ds.task),
        );
    }
    let task = task_of(&ds);
    if let Ok(base) = s.trial_spec(&Default::default()) {
        if let Some(loss) = base.loss {
            let mut loss_errors = ValidationErrors::new();
            check_loss_task(&mut loss_errors, loss, task);
            e.extend(loss_errors.nest("spec.base"));
        }
    }
    // A tuned loss must fit the task for every value it can take.
    for (path, dist) in &s.search_space {
        for v in crate::domain::specs::tune::probe_values(dist) {
            let params = std::collections::BTreeMap::from([(path.clone(), v)]);
            let Some(loss) = s.trial_spec(&params).ok().and_then(|t| t.loss) else {
                continue;
            };
            let mut loss_errors = ValidationErrors::new();
            check_loss_task(&mut loss_errors, loss, task);
            if !loss_errors.is_empty() {
                e.add(
                    format!("spec.search_space.{path}"),
                    format!(
                        "a value does not fit the {} dataset: {loss_errors}",
                        ds.task
                    ),
                );
                break;
            }
        }
    }
    if let Some(k) = s.folds() {
        e.check(
            ds.rows >= 2 * k as i64,
            "spec.cv_folds",
            format!(
                "{k} folds need at least {} rows; the dataset has {}",
                2 * k,
                ds.rows
            ),
        );
    } else {
        e.check(
            ds.rows >= 4,
            "spec.holdout_fraction",
            format!(
                "a holdout split needs at least 4 rows; the dataset has {}",
                ds.rows
            ),
        );
    }
    if let Some(id) = s.eval_dataset_id {
        if let Some(v) = store.get_dataset(tenant_id, id).await? {
            check_like_training_set(&mut e, "spec.eval_dataset_id", &v, &ds);
        }
    }
    Ok(e)
}

/// A quantize job: the model is not already quantized, and what needs an MLP (gptq,
/// accuracy checks) gets one whose features fit the datasets.
pub(crate) async fn check_quantize(
    store: &DynStore,
    tenant_id: Uuid,
    s: &QuantizeSpec,
) -> Result<ValidationErrors, StoreError> {
    let mut e = ValidationErrors::new();
    use crate::domain::specs::quantize::{MethodSpec, OutputSpec};
    let Some(m) = store.get_model(tenant_id, s.model_id).await? else {
        return Ok(e);
    };
    if m.format == "compressed-tensors" || m.format == "onnx" {
        e.add(
            "spec.model_id",
            format!(
                "this model is already quantized ({}): quantize its float original",
                m.format
            ),
        );
        return Ok(e);
    }
    let Some(arch) = mlp_architecture(&m) else {
        let why = NOT_AN_MLP;
        if s.output == OutputSpec::Onnx {
            e.add(
                "spec.output",
                format!("onnx output {why}: use compressed (vLLM, transformers) or dequantized"),
            );
        }
        if s.method == MethodSpec::Gptq {
            match s.calibration_dataset_id {
                Some(id) if transformer_of(&m).is_some() => {
                    let field = "spec.calibration_dataset_id";
                    check_text_dataset(store, tenant_id, &mut e, &m, id, field, why).await?;
                }
                _ => e.add(
                    "spec.method",
                    format!("gptq {why}, or a transformer folder: use rtn, mse or hqq"),
                ),
            }
        }
        if let Some(id) = s.eval_dataset_id {
            check_text_gate(store, tenant_id, &mut e, &m, id, why).await?;
        }
        if s.finetune.is_some() {
            e.add("spec.finetune", format!("fine-tuning {why}"));
        }
        check_text_limits_apply(&mut e, &m, s.max_length, s.max_examples);
        return Ok(e);
    };
    let finetune = s.finetune.as_ref().map(|f| f.dataset_id);
    check_mlp_datasets(
        store,
        tenant_id,
        &mut e,
        (&m, &arch),
        finetune,
        s.eval_dataset_id,
        s.calibration_dataset_id,
    )
    .await?;
    check_text_limits_apply(&mut e, &m, s.max_length, s.max_examples);
    Ok(e)
}

/// A prune job: what needs an MLP (structured, wanda, fine-tuning, evaluation) gets one, and
/// the datasets it names fit the model's inputs.
pub(crate) async fn check_prune(
    store: &DynStore,
    tenant_id: Uuid,
    s: &PruneSpec,
) -> Result<ValidationErrors, StoreError> {
    let mut e = ValidationErrors::new();
    use crate::domain::specs::prune::PruneMethod;
    let Some(m) = store.get_model(tenant_id, s.model_id).await? else {
        return Ok(e);
    };
    let Some(arch) = mlp_architecture(&m) else {
        let why = NOT_AN_MLP;
        match s.method {
            PruneMethod::Structured => e.add(
                "spec.method",
                format!("structured pruning {why}: use magnitude, threshold or nm"),
            ),
            PruneMethod::Wanda => match s.calibration_dataset_id {
                Some(id) if transformer_of(&m).is_some() => {
                    let field = "spec.calibration_dataset_id";
                    check_text_dataset(store, tenant_id, &mut e, &m, id, field, why).await?;
                }
                _ => e.add(
                    "spec.method",
                    format!("wanda {why}, or a transformer folder: use magnitude, threshold or nm"),
                ),
            },
            _ => {}
        }
        if s.finetune.is_some() {
            e.add("spec.finetune", format!("fine-tuning {why}"));
        }
        if s.gradual.is_some() {
            e.add("spec.gradual", format!("gradual pruning {why}"));
        }
        if let Some(id) = s.eval_dataset_id {
            check_text_gate(store, tenant_id, &mut e, &m, id, why).await?;
        }
        check_text_limits_apply(&mut e, &m, s.max_length, s.max_examples);
        return Ok(e);
    };
    let finetune = s.finetune.as_ref().map(|f| f.dataset_id);
    check_mlp_datasets(
        store,
        tenant_id,
        &mut e,
        (&m, &arch),
        finetune,
        s.eval_dataset_id,
        s.calibration_dataset_id,
    )
    .await?;
    check_text_limits_apply(&mut e, &m, s.max_length, s.max_examples);
    Ok(e)
}

/// A second dataset (validation, evaluation) has the training set's features and task.
fn check_like_training_set(
    e: &mut ValidationErrors,
    field: &str,
    other: &DatasetRow,
    train: &DatasetRow,
) {
    e.check(
        other.features == train.features,
        field,
        format!(
            "has {} features; the training set has {}",
            other.features, train.features
        ),
    );
    e.check(
        other.task == train.task,
        field,
        format!(
            "is a {} dataset; the training set is {}",
            other.task, train.task
        ),
    );
}

/// Why an option that needs an MLP is refused for another model.
const NOT_AN_MLP: &str =
    "needs an MLP model whittle can run (layers.N.weight/bias); this model is not one";

/// The MLP architecture stored with a model row, when it is an MLP whittle can run.
fn mlp_architecture(model: &ModelRow) -> Option<MlpArchitecture> {
    model
        .architecture
        .as_ref()
        .and_then(|a| serde_json::from_value::<MlpArchitecture>(a.clone()).ok())
}

/// The datasets an MLP job names (fine-tuning, evaluation, calibration) fit the model.
async fn check_mlp_datasets(
    store: &DynStore,
    tenant_id: Uuid,
    e: &mut ValidationErrors,
    (model, arch): (&ModelRow, &MlpArchitecture),
    finetune: Option<Uuid>,
    eval: Option<Uuid>,
    calibration: Option<Uuid>,
) -> Result<(), StoreError> {
    if let Some(id) = finetune {
        if let Some(ds) = store.get_dataset(tenant_id, id).await? {
            check_model_fits(e, "spec.finetune.dataset_id", model, &ds);
            check_trainable(e, "spec.finetune.dataset_id", &ds);
        }
    }
    check_dataset_fits(store, tenant_id, e, "spec.eval_dataset_id", model, eval).await?;
    if let Some(id) = calibration {
        if let Some(ds) = store.get_dataset(tenant_id, id).await? {
            let inputs = arch.layer_sizes.first().copied().unwrap_or(0) as i64;
            e.check(
                ds.features == inputs,
                "spec.calibration_dataset_id",
                format!("has {} features; the model takes {inputs}", ds.features),
            );
        }
    }
    Ok(())
}

/// A dataset a job trains on (train, a study, fine-tuning) has something to learn from: two
/// rows or more and, for classification, two classes or more.
/// MLP jobs read numeric features: a text dataset is refused naming the field.
fn check_tabular(e: &mut ValidationErrors, field: &str, ds: &DatasetRow) -> bool {
    let tabular = ds.modality != "text";
    e.check(
        tabular,
        field,
        "is a text dataset; this model reads numeric feature columns (text datasets go with transformer models)",
    );
    tabular
}

fn check_trainable(e: &mut ValidationErrors, field: &str, ds: &DatasetRow) {
    if !check_tabular(e, field, ds) {
        return;
    }
    e.check(
        ds.rows >= 2,
        field,
        format!(
            "training needs at least 2 rows; the dataset has {}",
            ds.rows
        ),
    );
    if ds.task == "classification" {
        let n = n_classes(ds);
        e.check(
            n >= 2,
            field,
            format!("a classifier needs at least 2 classes to learn; the dataset has {n}"),
        );
    }
}

/// The number of classes of a classification dataset (0 when not recorded).
fn n_classes(ds: &DatasetRow) -> i64 {
    ds.classes
        .as_ref()
        .and_then(|c| c.as_array().map(|a| a.len() as i64))
        .unwrap_or(0)
}

/// The model is an MLP whose inputs (and, for classification, outputs) fit the dataset.
fn check_model_fits(e: &mut ValidationErrors, field: &str, model: &ModelRow, ds: &DatasetRow) {
    if !check_tabular(e, field, ds) {
        return;
    }
    let Some(arch) = mlp_architecture(model) else {
        e.add(field, "this model is not an MLP whittle can run (expected layers.N.weight/bias tensors; see the README's model format)");
        return;
    };
    let inputs = arch.layer_sizes.first().copied().unwrap_or(0) as i64;
    let outputs = arch.layer_sizes.last().copied().unwrap_or(0) as i64;
    if inputs != ds.features {
        e.add(
            field,
            format!(
                "the model takes {inputs} input features but the dataset has {}",
                ds.features
            ),
        );
    }
    if ds.task == "classification" {
        let n_classes = n_classes(ds);
        if arch.classes.is_none() && outputs != n_classes && !(outputs == 1 && n_classes == 2) {
            e.add(
                field,
                format!("the model has {outputs} outputs but the dataset has {n_classes} classes"),
            );
        }
    }
}

/// When `dataset_id` is given and exists, check the model fits it (an error on `field`).
async fn check_dataset_fits(
    store: &DynStore,
    tenant_id: Uuid,
    e: &mut ValidationErrors,
    field: &str,
    model: &ModelRow,
    dataset_id: Option<Uuid>,
) -> Result<(), StoreError> {
    if let Some(id) = dataset_id {
        if let Some(ds) = store.get_dataset(tenant_id, id).await? {
            check_model_fits(e, field, model, &ds);
        }
    }
    Ok(())
}
