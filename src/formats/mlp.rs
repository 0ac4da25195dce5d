//! The MLP layout of a safetensors file: which tensors form the layers, where the
//! activations and preprocessing live, and conversion to and from [`Mlp`].
//!
//! Layout written by whittle (and by the PyTorch and scikit-learn exporters of the digits
//! example):
//! `layers.N.weight` `[out, in]`, `layers.N.bias` `[out]`, and `__metadata__` with
//! `arch = "mlp"`, `activations = "relu,relu,none"` (one per layer), plus optional `task`,
//! `classes`, `input_mean`, `input_std` and `feature_names` (JSON arrays as strings).
//! Also read: PyTorch `nn.Sequential` state dicts (`0.weight`, `2.weight`, … with gaps where
//! activation modules sat, optionally under a common prefix such as `net.`), `fc1`/`fc2`-style
//! names, missing biases (zero), and F16/BF16/F64 weights (converted to f32).

use crate::formats::safetensors::{to_f32, TensorRef};
use crate::formats::FormatError;
use crate::kernels::nn::{Activation, Dense, Mlp, Standardization};
use ::safetensors::tensor::{Dtype, TensorView};
use ::safetensors::SafeTensors;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Metadata key naming the architecture.
pub const META_ARCH: &str = "arch";
/// Metadata key with the comma-separated activations, one per layer.
pub const META_ACTIVATIONS: &str = "activations";
/// Metadata key with the task (`classification` or `regression`).
pub const META_TASK: &str = "task";
/// Metadata key with the class labels as a JSON array.
pub const META_CLASSES: &str = "classes";
/// Metadata key with the per-feature means as a JSON array.
pub const META_INPUT_MEAN: &str = "input_mean";
/// Metadata key with the per-feature standard deviations as a JSON array.
pub const META_INPUT_STD: &str = "input_std";
/// Metadata key with the feature names as a JSON array.
pub const META_FEATURE_NAMES: &str = "feature_names";

/// What whittle knows about an MLP beyond its tensors; stored as JSON with the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpArchitecture {
    /// Widths `[inputs, hidden…, outputs]`.
    pub layer_sizes: Vec<usize>,
    /// One activation per layer.
    pub activations: Vec<Activation>,
    /// `classification` or `regression`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Class labels in output order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// Per-feature mean subtracted before the first layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mean: Option<Vec<f32>>,
    /// Per-feature standard deviation divided out before the first layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_std: Option<Vec<f32>>,
    /// Input feature names in column order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_names: Option<Vec<String>>,
}

impl MlpArchitecture {
    /// An architecture with only sizes and activations.
    pub fn new(layer_sizes: Vec<usize>, activations: Vec<Activation>) -> Self {
        MlpArchitecture {
            layer_sizes,
            activations,
            task: None,
            classes: None,
            input_mean: None,
            input_std: None,
            feature_names: None,
        }
    }

    /// The architecture of `mlp` (sizes and activations), with no task or preprocessing.
    pub fn of(mlp: &Mlp) -> Self {
        MlpArchitecture::new(
            mlp.layer_sizes(),
            mlp.layers.iter().map(|l| l.activation).collect(),
        )
    }

    /// The input standardization the model was trained with, if the file records one (a
    /// missing mean counts as 0 and a missing std as 1).
    pub fn standardization(&self) -> Option<Standardization> {
        if self.input_mean.is_none() && self.input_std.is_none() {
            return None;
        }
        let n = self.layer_sizes.first().copied().unwrap_or(0);
        Some(Standardization {
            mean: self.input_mean.clone().unwrap_or_else(|| vec![0.0; n]),
            std: self.input_std.clone().unwrap_or_else(|| vec![1.0; n]),
        })
    }

    /// Checks internal consistency: one activation per layer and per-feature vectors of the
    /// input width.
    pub fn validate(&self) -> Result<(), FormatError> {
        let n_layers = self.layer_sizes.len().saturating_sub(1);
        if n_layers == 0 || self.layer_sizes.contains(&0) {
            return Err(FormatError::Invalid(format!(
                "architecture layer_sizes {:?} must list at least two positive widths",
                self.layer_sizes
            )));
        }
        if self.activations.len() != n_layers {
            return Err(FormatError::Invalid(format!(
                "architecture has {} activations for {n_layers} layers",
                self.activations.len()
            )));
        }
        let n_in = self.layer_sizes[0];
        for (name, v) in [
            (META_INPUT_MEAN, &self.input_mean),
            (META_INPUT_STD, &self.input_std),
        ] {
            if let Some(v) = v {
                if v.len() != n_in {
                    return Err(FormatError::Invalid(format!(
                        "{name} has {} values for {n_in} inputs",
                        v.len()
                    )));
                }
                if v.iter().any(|x| !x.is_finite()) {
                    return Err(FormatError::Invalid(format!("{name} is not finite")));
                }
            }
        }
        // Labels and names are stored in database text and JSON columns, where Postgres
        // refuses U+0000.
        for (name, texts) in [
            (META_CLASSES, &self.classes),
            (META_FEATURE_NAMES, &self.feature_names),
        ] {
            if let Some(i) = texts.iter().flatten().position(|t| t.contains('\0')) {
                return Err(FormatError::Invalid(format!(
                    "{name}[{i}] contains U+0000 (NUL), which names and labels may not hold"
                )));
            }
        }
        if self.task.as_deref().is_some_and(|t| t.contains('\0')) {
            return Err(FormatError::Invalid(
                "task contains U+0000 (NUL)".to_string(),
            ));
        }
        if let Some(names) = &self.feature_names {
            if names.len() != n_in {
                return Err(FormatError::Invalid(format!(
                    "feature_names has {} names for {n_in} inputs",
                    names.len()
                )));
            }
        }
        if let (Some(classes), Some(&n_out)) = (&self.classes, self.layer_sizes.last()) {
            let fits = classes.len() == n_out || (n_out == 1 && classes.len() == 2);
            if !fits {
                return Err(FormatError::Invalid(format!(
                    "{} classes for {n_out} outputs",
                    classes.len()
                )));
            }
        }
        Ok(())
    }
}

/// One linear layer found in a tensor list: indices into that list.
struct LayerTensors {
    weight: usize,
    bias: Option<usize>,
}

/// Finds `<prefix><N>.weight` / `<prefix><N>.bias` tensors with one common prefix (`""`,
/// `layers.`, `net.`, `fc`, …), ordered by `N`, weights 2-D and chaining, biases 1-D. `None`
/// if the tensors are anything else.
fn find_layers(tensors: &[(String, Vec<usize>)]) -> Option<(Vec<LayerTensors>, Vec<usize>)> {
    let mut prefix: Option<&str> = None;
    let mut by_index: BTreeMap<u64, (Option<usize>, Option<usize>)> = BTreeMap::new();
    for (i, (name, _)) in tensors.iter().enumerate() {
        let (stem, is_weight) = if let Some(s) = name.strip_suffix(".weight") {
            (s, true)
        } else if let Some(s) = name.strip_suffix(".bias") {
            (s, false)
        } else {
            return None;
        };
        let digits_at = stem
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |p| p + 1);
        let (p, digits) = stem.split_at(digits_at);
        if digits.is_empty() {
            return None;
        }
        if *prefix.get_or_insert(p) != p {
            return None;
        }
        let index: u64 = digits.parse().ok()?;
        let slot = by_index.entry(index).or_default();
        let target = if is_weight { &mut slot.0 } else { &mut slot.1 };
        if target.replace(i).is_some() {
            return None;
        }
    }
    let mut layers = Vec::with_capacity(by_index.len());
    let mut sizes = Vec::with_capacity(by_index.len() + 1);
    for (weight, bias) in by_index.into_values() {
        let weight = weight?;
        let shape = &tensors[weight].1;
        let [out, inp] = shape.as_slice() else {
            return None;
        };
        if *out == 0 || *inp == 0 {
            return None;
        }
        match sizes.last() {
            None => sizes.push(*inp),
            Some(prev) if prev == inp => {}
            Some(_) => return None,
        }
        sizes.push(*out);
        if let Some(b) = bias {
            if tensors[b].1.as_slice() != [*out] {
                return None;
            }
        }
        layers.push(LayerTensors { weight, bias });
    }
    if layers.is_empty() {
        return None;
    }
    Some((layers, sizes))
}

/// Default activations when none are recorded: relu between layers, identity at the output.
fn default_activations(n_layers: usize) -> Vec<Activation> {
    (0..n_layers)
        .map(|l| {
            if l + 1 == n_layers {
                Activation::Identity
            } else {
                Activation::Relu
            }
        })
        .collect()
}

fn parse_activations(text: &str, n_layers: usize) -> Result<Vec<Activation>, FormatError> {
    let at = |message: String| FormatError::At {
        location: format!("__metadata__.{META_ACTIVATIONS}"),
        message,
    };
    let acts = text
        .split(',')
        .map(|s| s.parse::<Activation>().map_err(|e| at(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    if acts.len() != n_layers {
        return Err(at(format!(
            "{} activations for {n_layers} layers",
            acts.len()
        )));
    }
    Ok(acts)
}

fn parse_json<T: serde::de::DeserializeOwned>(
    metadata: &BTreeMap<String, String>,
    key: &str,
) -> Result<Option<T>, FormatError> {
    metadata
        .get(key)
        .map(|text| {
            serde_json::from_str(text).map_err(|e| FormatError::At {
                location: format!("__metadata__.{key}"),
                message: format!("expected a JSON array: {e}"),
            })
        })
        .transpose()
}

/// Class labels may be written as strings or numbers (`[0, 1, 2]`); both become strings.
fn parse_classes(metadata: &BTreeMap<String, String>) -> Result<Option<Vec<String>>, FormatError> {
    let values: Option<Vec<serde_json::Value>> = parse_json(metadata, META_CLASSES)?;
    Ok(values.map(|vs| {
        vs.into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect()
    }))
}

/// Architecture from tensor names/shapes and metadata, with errors for unusable metadata.
fn architecture_from(
    sizes: Vec<usize>,
    metadata: &BTreeMap<String, String>,
) -> Result<MlpArchitecture, FormatError> {
    let n_layers = sizes.len() - 1;
    let activations = match metadata.get(META_ACTIVATIONS) {
        Some(text) => parse_activations(text, n_layers)?,
        None => default_activations(n_layers),
    };
    let arch = MlpArchitecture {
        layer_sizes: sizes,
        activations,
        task: metadata.get(META_TASK).cloned(),
        classes: parse_classes(metadata)?,
        input_mean: parse_json(metadata, META_INPUT_MEAN)?,
        input_std: parse_json(metadata, META_INPUT_STD)?,
        feature_names: parse_json(metadata, META_FEATURE_NAMES)?,
    };
    arch.validate()?;
    Ok(arch)
}

/// Refuses MLP metadata whose JSON values (class labels, feature names) decode to text holding
/// U+0000 (written escaped as `\u0000`, which the header check cannot see): that text would
/// reach the database. Other problems only make the file "not an MLP whittle can run".
pub fn check_metadata_text(metadata: &BTreeMap<String, String>) -> Result<(), FormatError> {
    for key in [META_CLASSES, META_FEATURE_NAMES] {
        let Some(text) = metadata.get(key) else {
            continue;
        };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        let has_nul = value.as_array().is_some_and(|vs| {
            vs.iter()
                .any(|v| v.as_str().is_some_and(|s| s.contains('\0')))
        });
        if has_nul {
            return Err(FormatError::At {
                location: format!("__metadata__.{key}"),
                message: "labels must not contain NUL (U+0000) characters".into(),
            });
        }
    }
    Ok(())
}

/// The MLP architecture of a tensor inventory (names and shapes) and its `__metadata__`, or
/// `None` if the tensors are not an MLP, `arch` names something else, or the metadata is
/// unusable. Missing activations default to relu (hidden) and identity (output).
pub fn detect_architecture(
    tensors: &[(String, Vec<usize>)],
    metadata: &BTreeMap<String, String>,
) -> Option<MlpArchitecture> {
    if metadata
        .get(META_ARCH)
        .is_some_and(|a| !a.eq_ignore_ascii_case("mlp"))
    {
        return None;
    }
    let (_, sizes) = find_layers(tensors)?;
    architecture_from(sizes, metadata).ok()
}

/// Parses a safetensors file into an [`Mlp`] and its architecture. `explicit` (e.g. the one
/// stored with the model) takes precedence over the file's metadata and must match the
/// tensor shapes.
pub fn load_mlp(
    bytes: &[u8],
    explicit: Option<&MlpArchitecture>,
) -> Result<(Mlp, MlpArchitecture), FormatError> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| FormatError::Invalid(format!("not a valid safetensors file: {e}")))?;
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| FormatError::Invalid(format!("not a valid safetensors file: {e}")))?;
    let metadata: BTreeMap<String, String> = header
        .metadata()
        .as_ref()
        .map(|m: &HashMap<String, String>| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let views = st.tensors();
    let inventory: Vec<(String, Vec<usize>)> = views
        .iter()
        .map(|(name, view)| (name.clone(), view.shape().to_vec()))
        .collect();
    let (layer_tensors, sizes) = find_layers(&inventory).ok_or_else(|| {
        FormatError::Unsupported(
            "the tensors do not form an MLP: expected <prefix>N.weight [out, in] and \
             <prefix>N.bias [out] for consecutive layers"
                .into(),
        )
    })?;
    let arch = match explicit {
        Some(a) => {
            a.validate()?;
            if a.layer_sizes != sizes {
                return Err(FormatError::Invalid(format!(
                    "architecture says layer sizes {:?} but the tensors give {sizes:?}",
                    a.layer_sizes
                )));
            }
            a.clone()
        }
        None => {
            if let Some(a) = metadata.get(META_ARCH) {
                if !a.eq_ignore_ascii_case("mlp") {
                    return Err(FormatError::Unsupported(format!(
                        "__metadata__.arch is {a:?}, not \"mlp\""
                    )));
                }
            }
            architecture_from(sizes, &metadata)?
        }
    };
    let mut layers = Vec::with_capacity(layer_tensors.len());
    for (l, lt) in layer_tensors.iter().enumerate() {
        let (wname, wview) = &views[lt.weight];
        let (out, inp) = (arch.layer_sizes[l + 1], arch.layer_sizes[l]);
        let weight =
            Array2::from_shape_vec((out, inp), tensor_to_f32(wname, wview)?).map_err(|e| {
                FormatError::At {
                    location: wname.clone(),
                    message: e.to_string(),
                }
            })?;
        let bias = match lt.bias {
            Some(b) => {
                let (bname, bview) = &views[b];
                Array1::from_vec(tensor_to_f32(bname, bview)?)
            }
            None => Array1::zeros(out),
        };
        layers.push(Dense {
            weight,
            bias,
            activation: arch.activations[l],
        });
    }
    let mlp = Mlp::new(layers).map_err(|e| FormatError::Invalid(e.to_string()))?;
    Ok((mlp, arch))
}

/// The tensor names and float dtype an MLP file uses, so a model derived from it is written
/// the way the user's code loads it (`0.weight`, `2.weight` of an `nn.Sequential`, in F16).
#[derive(Debug, Clone, PartialEq)]
pub struct MlpTensorNames {
    /// Weight tensor name of each layer.
    pub weights: Vec<String>,
    /// Bias tensor name of each layer (the weight's stem + `.bias` where the file has none).
    pub biases: Vec<String>,
    /// Float dtype of the weights (F64, F32, F16 or BF16).
    pub dtype: Dtype,
}

impl MlpTensorNames {
    /// whittle's own layout: `layers.N.weight/bias` in F32.
    pub fn standard(n_layers: usize) -> Self {
        MlpTensorNames {
            weights: (0..n_layers)
                .map(|l| format!("layers.{l}.weight"))
                .collect(),
            biases: (0..n_layers).map(|l| format!("layers.{l}.bias")).collect(),
            dtype: Dtype::F32,
        }
    }

    /// The names and dtype of an MLP safetensors file, `None` when it is not one.
    pub fn of_file(bytes: &[u8]) -> Option<Self> {
        let st = SafeTensors::deserialize(bytes).ok()?;
        let views = st.tensors();
        let inventory: Vec<(String, Vec<usize>)> = views
            .iter()
            .map(|(name, view)| (name.clone(), view.shape().to_vec()))
            .collect();
        let (layers, _) = find_layers(&inventory)?;
        let mut names = MlpTensorNames {
            weights: Vec::with_capacity(layers.len()),
            biases: Vec::with_capacity(layers.len()),
            dtype: Dtype::F32,
        };
        for (l, lt) in layers.iter().enumerate() {
            let (wname, wview) = &views[lt.weight];
            if l == 0 {
                names.dtype = match wview.dtype() {
                    d @ (Dtype::F64 | Dtype::F16 | Dtype::BF16) => d,
                    _ => Dtype::F32,
                };
            }
            names.weights.push(wname.clone());
            names.biases.push(match lt.bias {
                Some(b) => views[b].0.clone(),
                None => format!("{}.bias", wname.trim_end_matches(".weight")),
            });
        }
        Some(names)
    }
}

/// Serializes `mlp` as `layers.N.weight/bias` F32 tensors with whittle's metadata. The
/// activations and sizes come from `mlp`; task, classes, preprocessing and feature names
/// from `arch`; `extra_metadata` is written too but cannot override those keys.
pub fn save_mlp(
    mlp: &Mlp,
    arch: &MlpArchitecture,
    extra_metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, FormatError> {
    save_mlp_named(
        mlp,
        arch,
        extra_metadata,
        &MlpTensorNames::standard(mlp.layers.len()),
    )
}

/// [`save_mlp`] with the tensor names and dtype of `names` (one name per layer of `mlp`).
pub fn save_mlp_named(
    mlp: &Mlp,
    arch: &MlpArchitecture,
    extra_metadata: &BTreeMap<String, String>,
    names: &MlpTensorNames,
) -> Result<Vec<u8>, FormatError> {
    if names.weights.len() != mlp.layers.len() || names.biases.len() != mlp.layers.len() {
        return Err(FormatError::Invalid(format!(
            "{} tensor names for {} layers",
            names.weights.len(),
            mlp.layers.len()
        )));
    }
    mlp.validate()
        .map_err(|e| FormatError::Invalid(e.to_string()))?;
    let mut full = arch.clone();
    full.layer_sizes = mlp.layer_sizes();
    full.activations = mlp.layers.iter().map(|l| l.activation).collect();
    full.validate()?;

    let mut metadata: HashMap<String, String> = extra_metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    metadata.insert(META_ARCH.into(), "mlp".into());
    let activation_names: Vec<&str> = full
        .activations
        .iter()
        .map(|a| {
            if *a == Activation::Identity {
                "none"
            } else {
                a.name()
            }
        })
        .collect();
    metadata.insert(META_ACTIVATIONS.into(), activation_names.join(","));
    if let Some(t) = &full.task {
        metadata.insert(META_TASK.into(), t.clone());
    }
    if let Some(c) = &full.classes {
        metadata.insert(META_CLASSES.into(), to_json(c)?);
    }
    if let Some(m) = &full.input_mean {
        metadata.insert(META_INPUT_MEAN.into(), to_json(m)?);
    }
    if let Some(s) = &full.input_std {
        metadata.insert(META_INPUT_STD.into(), to_json(s)?);
    }
    if let Some(f) = &full.feature_names {
        metadata.insert(META_FEATURE_NAMES.into(), to_json(f)?);
    }

    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(2 * mlp.layers.len());
    for (l, layer) in mlp.layers.iter().enumerate() {
        let weight: Vec<f32> = layer.weight.iter().copied().collect();
        buffers.push((
            names.weights[l].clone(),
            vec![layer.n_outputs(), layer.n_inputs()],
            crate::formats::safetensors::from_f32(&weight, names.dtype)?,
        ));
        buffers.push((
            names.biases[l].clone(),
            vec![layer.n_outputs()],
            crate::formats::safetensors::from_f32(&layer.bias.to_vec(), names.dtype)?,
        ));
    }
    let views = buffers
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(names.dtype, shape.clone(), data)
                .map(|v| (name.as_str(), v))
                .map_err(|e| FormatError::At {
                    location: name.clone(),
                    message: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    ::safetensors::serialize(views, Some(metadata))
        .map_err(|e| FormatError::Invalid(format!("cannot serialize the MLP: {e}")))
}

/// The model to run on raw features: `mlp` with the architecture's standardization folded
/// into its first layer (unchanged when the file records none). Training keeps the unfolded
/// weights and standardizes the data instead.
pub fn inference_model(mlp: &Mlp, arch: &MlpArchitecture) -> Result<Mlp, FormatError> {
    match arch.standardization() {
        None => Ok(mlp.clone()),
        Some(s) => mlp
            .with_input_standardization(&s.mean, &s.std)
            .map_err(|e| FormatError::Invalid(e.to_string())),
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, FormatError> {
    serde_json::to_string(value).map_err(|e| FormatError::Invalid(e.to_string()))
}

/// Little-endian tensor bytes → f32 values, for F32, F16, BF16 and F64; every value must be
/// finite.
fn tensor_to_f32(name: &str, view: &TensorView<'_>) -> Result<Vec<f32>, FormatError> {
    let values = match view.dtype() {
        dtype @ (Dtype::F32 | Dtype::F16 | Dtype::BF16 | Dtype::F64) => to_f32(&TensorRef {
            name,
            dtype,
            shape: view.shape(),
            data: view.data(),
        })?,
        other => {
            return Err(FormatError::Unsupported(format!(
                "tensor {name} has dtype {other:?}; MLP weights must be F32, F16, BF16 or F64"
            )))
        }
    };
    if values.iter().any(|v| !v.is_finite()) {
        return Err(FormatError::At {
            location: name.to_string(),
            message: "contains NaN or infinity (or an F64 value beyond the f32 range)".into(),
        });
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::nn::fixtures::read_digits;
    use crate::kernels::nn::metrics::accuracy;
    use crate::kernels::nn::Init;

    fn fixture() -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/digits_mlp.safetensors",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Serializes raw tensors (name, dtype, shape, bytes) with optional metadata.
    fn raw_file(
        tensors: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)>,
        meta: Option<HashMap<String, String>>,
    ) -> Vec<u8> {
        let views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
            .collect();
        ::safetensors::serialize(views, meta).unwrap()
    }

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn escaped_nul_in_labels_is_refused() {
        let meta = BTreeMap::from([(META_CLASSES.to_string(), r#"["a","b\u0000"]"#.to_string())]);
        let e = check_metadata_text(&meta).unwrap_err();
        assert!(e.to_string().contains("__metadata__.classes"), "{e}");
        let ok = BTreeMap::from([(META_CLASSES.to_string(), r#"["a","b"]"#.to_string())]);
        assert!(check_metadata_text(&ok).is_ok());
    }

    #[test]
    fn digits_fixture_matches_scikit_learn_accuracy() {
        let (mlp, arch) = load_mlp(&fixture(), None).unwrap();
        assert_eq!(arch.layer_sizes, vec![64, 256, 256, 10]);
        assert_eq!(
            arch.activations,
            vec![Activation::Relu, Activation::Relu, Activation::Identity]
        );
        assert_eq!(mlp.n_params(), 85_002);
        let (x, labels) = read_digits("digits_test.csv");
        let pred = mlp.predict_classes(x.view()).unwrap();
        let correct = pred.iter().zip(&labels).filter(|(p, t)| p == t).count();
        // A numpy forward pass over the same file and scikit-learn both get 350/360 = 0.9722.
        assert_eq!(correct, 350);
        assert!((accuracy(&labels, &pred).unwrap() - 0.9722).abs() < 1e-4);
    }

    #[test]
    fn fixture_resaves_in_the_pytorch_layout() {
        let original = fixture();
        let (mlp, arch) = load_mlp(&original, None).unwrap();
        let bytes = save_mlp(&mlp, &arch, &BTreeMap::new()).unwrap();
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(
            header.metadata().clone().unwrap()["activations"],
            "relu,relu,none"
        );
        let (a, b) = (
            SafeTensors::deserialize(&original).unwrap(),
            SafeTensors::deserialize(&bytes).unwrap(),
        );
        for name in ["layers.0.weight", "layers.1.bias", "layers.2.weight"] {
            assert_eq!(
                a.tensor(name).unwrap().data(),
                b.tensor(name).unwrap().data()
            );
        }
    }

    #[test]
    fn save_load_round_trip_is_bitwise() {
        let mlp = Mlp::new_initialized(
            &[5, 7, 3],
            Activation::Gelu,
            Activation::Sigmoid,
            Init::HeNormal,
            4,
        )
        .unwrap();
        let mut arch = MlpArchitecture::of(&mlp);
        arch.task = Some("classification".into());
        arch.classes = Some(vec!["a".into(), "b".into(), "c".into()]);
        arch.input_mean = Some(vec![0.5, 1.0, -2.0, 0.0, 3.25]);
        arch.input_std = Some(vec![1.0, 2.0, 0.5, 1.0, 4.0]);
        arch.feature_names = Some((0..5).map(|i| format!("x{i}")).collect());
        let mut extra = BTreeMap::new();
        extra.insert("source_job".to_string(), "42".to_string());
        extra.insert("arch".to_string(), "not-allowed-to-override".to_string());
        let bytes = save_mlp(&mlp, &arch, &extra).unwrap();
        let (back, back_arch) = load_mlp(&bytes, None).unwrap();
        assert_eq!(back_arch, arch);
        for (a, b) in mlp.layers.iter().zip(&back.layers) {
            assert!(a
                .weight
                .iter()
                .zip(b.weight.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits()));
            assert!(a
                .bias
                .iter()
                .zip(b.bias.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits()));
            assert_eq!(a.activation, b.activation);
        }
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let meta = header.metadata().clone().unwrap();
        assert_eq!(meta["arch"], "mlp");
        assert_eq!(meta["activations"], "gelu,sigmoid");
        assert_eq!(meta["source_job"], "42");
        assert_eq!(meta["classes"], r#"["a","b","c"]"#);
        // The architecture round-trips through JSON (how the database stores it).
        let json = serde_json::to_string(&arch).unwrap();
        assert_eq!(
            serde_json::from_str::<MlpArchitecture>(&json).unwrap(),
            arch
        );
    }

    #[test]
    fn inference_model_standardizes_raw_features() {
        let (mlp, mut arch) = load_mlp(&fixture(), None).unwrap();
        // Pretend the stored weights expect (raw − 2) / 4: raw = 4·x + 2 must give the same logits.
        arch.input_mean = Some(vec![2.0; 64]);
        arch.input_std = Some(vec![4.0; 64]);
        let (x, _) = read_digits("digits_test.csv");
        let raw = x.mapv(|v| 4.0 * v + 2.0);
        let want = mlp.forward(x.view()).unwrap();
        let got = inference_model(&mlp, &arch)
            .unwrap()
            .forward(raw.view())
            .unwrap();
        let err = (&got - &want).iter().fold(0.0f32, |m, d| m.max(d.abs()));
        // Folding reorders f32 sums over 64 inputs of logits of size ~10: ~1e-4 is expected.
        assert!(err < 1e-3, "max logit difference {err}");
        arch.input_mean = None;
        arch.input_std = None;
        assert_eq!(inference_model(&mlp, &arch).unwrap(), mlp);
    }

    #[test]
    fn pytorch_sequential_naming_loads_with_default_activations() {
        // nn.Sequential(Linear(2,3), ReLU(), Linear(3,1)) → 0.weight, 0.bias, 2.weight, 2.bias
        let bytes = raw_file(
            vec![
                (
                    "0.weight",
                    Dtype::F32,
                    vec![3, 2],
                    f32_bytes(&[1.0, 0.0, 0.0, 1.0, -1.0, -1.0]),
                ),
                ("0.bias", Dtype::F32, vec![3], f32_bytes(&[0.0, 0.0, 0.0])),
                (
                    "2.weight",
                    Dtype::F32,
                    vec![1, 3],
                    f32_bytes(&[1.0, 1.0, 1.0]),
                ),
                ("2.bias", Dtype::F32, vec![1], f32_bytes(&[0.5])),
            ],
            None,
        );
        let (mlp, arch) = load_mlp(&bytes, None).unwrap();
        assert_eq!(arch.layer_sizes, vec![2, 3, 1]);
        assert_eq!(
            arch.activations,
            vec![Activation::Relu, Activation::Identity]
        );
        // x = [2, -1]: hidden relu([2, -1, -1]) = [2, 0, 0]; y = 2 + 0.5.
        let y = mlp.forward(ndarray::array![[2.0f32, -1.0]].view()).unwrap();
        assert_eq!(y[[0, 0]], 2.5);
        // An explicit architecture overrides the defaults.
        let explicit =
            MlpArchitecture::new(vec![2, 3, 1], vec![Activation::Tanh, Activation::Sigmoid]);
        let (mlp, _) = load_mlp(&bytes, Some(&explicit)).unwrap();
        assert_eq!(mlp.layers[0].activation, Activation::Tanh);
        let wrong =
            MlpArchitecture::new(vec![2, 4, 1], vec![Activation::Tanh, Activation::Sigmoid]);
        assert!(matches!(
            load_mlp(&bytes, Some(&wrong)),
            Err(FormatError::Invalid(_))
        ));
    }

    #[test]
    fn half_precision_weights_and_missing_bias() {
        // f16 1.0 = 0x3c00, −2.0 = 0xc000; bf16 0.5 = 0x3f00, 3.0 = 0x4040.
        let f16: Vec<u8> = [0x3c00u16, 0xc000]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let bf16: Vec<u8> = [0x3f00u16, 0x4040]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let f64b: Vec<u8> = [0.25f64].iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut meta = HashMap::new();
        meta.insert("activations".to_string(), "identity,none".to_string());
        let bytes = raw_file(
            vec![
                ("net.0.weight", Dtype::F16, vec![1, 2], f16),
                ("net.1.weight", Dtype::BF16, vec![2, 1], bf16),
                (
                    "net.1.bias",
                    Dtype::F64,
                    vec![2],
                    [f64b.clone(), f64b].concat(),
                ),
            ],
            Some(meta),
        );
        let (mlp, _) = load_mlp(&bytes, None).unwrap();
        assert_eq!(mlp.layers[0].weight, ndarray::array![[1.0f32, -2.0]]);
        assert_eq!(mlp.layers[0].bias, ndarray::array![0.0f32]);
        assert_eq!(mlp.layers[1].weight, ndarray::array![[0.5f32], [3.0]]);
        assert_eq!(mlp.layers[1].bias, ndarray::array![0.25f32, 0.25]);
    }

    #[test]
    fn detect_from_inventory() {
        let inv = |names: &[(&str, &[usize])]| -> Vec<(String, Vec<usize>)> {
            names
                .iter()
                .map(|(n, s)| (n.to_string(), s.to_vec()))
                .collect()
        };
        let mut meta = BTreeMap::new();
        let mlp = inv(&[
            ("layers.0.weight", &[4, 3]),
            ("layers.0.bias", &[4]),
            ("layers.1.weight", &[2, 4]),
            ("layers.1.bias", &[2]),
        ]);
        let arch = detect_architecture(&mlp, &meta).unwrap();
        assert_eq!(arch.layer_sizes, vec![3, 4, 2]);
        meta.insert("activations".into(), "tanh,none".into());
        meta.insert("classes".into(), "[0, 1]".into());
        let arch = detect_architecture(&mlp, &meta).unwrap();
        assert_eq!(
            arch.activations,
            vec![Activation::Tanh, Activation::Identity]
        );
        assert_eq!(arch.classes, Some(vec!["0".to_string(), "1".to_string()]));
        meta.insert("activations".into(), "tanh".into());
        assert!(detect_architecture(&mlp, &meta).is_none());
        meta.clear();
        meta.insert("arch".into(), "llama".into());
        assert!(detect_architecture(&mlp, &meta).is_none());
        let meta = BTreeMap::new();
        // Shapes that do not chain, 3-D weights, foreign tensors, mixed prefixes.
        assert!(detect_architecture(
            &inv(&[("layers.0.weight", &[4, 3]), ("layers.1.weight", &[2, 5])]),
            &meta
        )
        .is_none());
        assert!(detect_architecture(&inv(&[("layers.0.weight", &[4, 3, 1])]), &meta).is_none());
        assert!(detect_architecture(
            &inv(&[("layers.0.weight", &[4, 3]), ("embed.tokens", &[9, 4])]),
            &meta
        )
        .is_none());
        assert!(detect_architecture(
            &inv(&[("a.0.weight", &[4, 3]), ("b.1.weight", &[2, 4])]),
            &meta
        )
        .is_none());
        assert!(detect_architecture(&inv(&[("layers.0.bias", &[4])]), &meta).is_none());
        // fc1/fc2 naming, ordered numerically (fc10 after fc2).
        let fc = inv(&[
            ("fc10.weight", &[2, 5]),
            ("fc1.weight", &[4, 3]),
            ("fc2.weight", &[5, 4]),
        ]);
        assert_eq!(
            detect_architecture(&fc, &meta).unwrap().layer_sizes,
            vec![3, 4, 5, 2]
        );
    }

    #[test]
    fn bad_files_are_format_errors() {
        assert!(matches!(
            load_mlp(b"not a safetensors file", None),
            Err(FormatError::Invalid(_))
        ));
        let mut truncated = fixture();
        truncated.truncate(truncated.len() / 2);
        assert!(matches!(
            load_mlp(&truncated, None),
            Err(FormatError::Invalid(_))
        ));
        let not_mlp = raw_file(
            vec![("embed", Dtype::F32, vec![2, 2], f32_bytes(&[0.0; 4]))],
            None,
        );
        assert!(matches!(
            load_mlp(&not_mlp, None),
            Err(FormatError::Unsupported(_))
        ));
        let ints = raw_file(
            vec![("layers.0.weight", Dtype::I32, vec![1, 1], vec![0; 4])],
            None,
        );
        assert!(matches!(
            load_mlp(&ints, None),
            Err(FormatError::Unsupported(_))
        ));
        let nan = raw_file(
            vec![(
                "layers.0.weight",
                Dtype::F32,
                vec![1, 1],
                f32_bytes(&[f32::NAN]),
            )],
            None,
        );
        assert!(matches!(load_mlp(&nan, None), Err(FormatError::At { .. })));
        let mut meta = HashMap::new();
        meta.insert("activations".to_string(), "relu,swish".to_string());
        let bad_act = raw_file(
            vec![
                ("layers.0.weight", Dtype::F32, vec![1, 1], f32_bytes(&[1.0])),
                ("layers.1.weight", Dtype::F32, vec![1, 1], f32_bytes(&[1.0])),
            ],
            Some(meta),
        );
        assert!(matches!(
            load_mlp(&bad_act, None),
            Err(FormatError::At { .. })
        ));
        let mut meta = HashMap::new();
        meta.insert("input_mean".to_string(), "[1.0, 2.0]".to_string());
        let bad_mean = raw_file(
            vec![("layers.0.weight", Dtype::F32, vec![1, 1], f32_bytes(&[1.0]))],
            Some(meta),
        );
        assert!(matches!(
            load_mlp(&bad_mean, None),
            Err(FormatError::Invalid(_))
        ));
    }
}
