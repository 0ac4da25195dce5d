//! What quantizing an MLP adds to the data-free pass: the model's weight tensors by layer,
//! GPTQ from calibration inputs, quantization-aware fine-tuning, and the quantized model's
//! quality against the float model's on the eval dataset.
use ndarray::Array2;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

use crate::domain::selection::TensorSelection;
use crate::domain::specs::quantize::FinetuneSpec;
use crate::formats::mlp::MlpArchitecture;
use crate::formats::onnx::{
    encode_mlp, weight_op, LayerReport, LayerWeight, OnnxLayer, OnnxMlp, QuantizedOps, WeightOp, FLOAT_FILE,
    OPSET, QUANTIZED_FILE,
};
use crate::jobs::checkpoint::TrainCheckpoints;
use crate::jobs::epochs::EpochSeries;
use crate::jobs::inputs::Labelled;
use crate::jobs::measure::{measure, ModelEvaluation};
use crate::jobs::JobError;
use crate::kernels::nn::{Mlp, OptimizerConfig, TrainConfig, Trainer};
use crate::kernels::quant::{
    dequantize, layer_hessian, quantize_gptq, FakeQuantLayers, GptqOptions, QuantScheme,
    QuantizedTensor,
};

/// An MLP with its architecture and its weight tensor names by layer.
pub struct MlpModel {
    pub mlp: Mlp,
    pub arch: MlpArchitecture,
    pub weight_names: Vec<String>,
}

/// The MLP's weight tensor names by layer (`<prefix>N.weight`, ordered by `N`).
pub fn mlp_weight_names(names: &[String]) -> Vec<String> {
    let mut found: Vec<(u64, String)> = names
        .iter()
        .filter_map(|n| {
            let stem = n.strip_suffix(".weight")?;
            let digits_at = stem
                .rfind(|c: char| !c.is_ascii_digit())
                .map_or(0, |p| p + 1);
            let index = stem[digits_at..].parse::<u64>().ok()?;
            Some((index, n.clone()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

impl MlpModel {
    /// Whether `selection` picks layer `l`'s weight.
    fn selected(&self, selection: &TensorSelection) -> Vec<bool> {
        self.mlp
            .layers
            .iter()
            .zip(&self.weight_names)
            .map(|(l, n)| selection.matches(n, &[l.n_outputs(), l.n_inputs()]))
            .collect()
    }

    /// GPTQ over the selected layers of `base`, in order: each layer's Hessian comes from its
    /// inputs carried through the layers already quantized. `x` is standardized like the
    /// model's training data.
    pub fn gptq(
        &self,
        base: &Mlp,
        x: &Array2<f32>,
        scheme: &QuantScheme,
        selection: &TensorSelection,
    ) -> Result<HashMap<String, QuantizedTensor>, JobError> {
        let mut out = HashMap::new();
        let mut model = base.clone();
        model.visit_layer_inputs(x.view(), |l, layer, input| {
            let Some(name) = self.weight_names.get(l) else {
                return Ok(());
            };
            if !selection.matches(name, &[layer.n_outputs(), layer.n_inputs()]) {
                return Ok(());
            }
            let hessian = layer_hessian(input);
            let q = quantize_gptq(
                layer.weight.view(),
                hessian.view(),
                scheme,
                &GptqOptions::default(),
            )
            .map_err(|e| JobError::Invalid(format!("{name}: {e}")))?;
            layer.weight = dequantize(&q)?;
            out.insert(name.clone(), q);
            Ok::<_, JobError>(())
        })?;
        Ok(out)
    }

    /// Quantization-aware fine-tuning with `scheme` on standardized `data`; epochs go to
    /// `run.series` (the `qat_` series of the job's metrics), checkpoints to
    /// `run.checkpoints`.
    pub fn finetune_qat(
        &self,
        data: &Labelled,
        scheme: &QuantScheme,
        f: &FinetuneSpec,
        selection: &TensorSelection,
        run: QatRun<'_>,
    ) -> Result<(Mlp, QatReport), JobError> {
        let mut mlp = self.mlp.clone();
        let mut cfg = TrainConfig::new(
            data.task.default_loss(),
            OptimizerConfig::adam(f.lr),
            f.epochs,
        );
        cfg.batch_size = f.batch_size;
        let constraint = FakeQuantLayers {
            scheme: *scheme,
            selected: self.selected(selection),
        };
        let mut trainer = Trainer::new(
            &mut mlp,
            data.x.view(),
            &data.y,
            None,
            &cfg,
            Some(&constraint),
        )?;
        let resumed_from_epoch = run.checkpoints.begin(QAT_RUN, run.stage, &mut trainer);
        if let Some(epoch) = resumed_from_epoch {
            run.series.resumed(epoch, trainer.history());
        }
        let report = trainer.run(&mut run.checkpoints.observer(run.series))?;
        Ok((
            mlp,
            QatReport {
                epochs_run: report.epochs_run,
                final_train_loss: report.final_train_loss,
                resumed_from_epoch,
            },
        ))
    }

    /// `base` with the dequantized weights of `quantized` in place of its layers' weights.
    pub fn with_weights(&self, base: &Mlp, quantized: &HashMap<String, Array2<f32>>) -> Mlp {
        let mut q = base.clone();
        for (layer, name) in q.layers.iter_mut().zip(&self.weight_names) {
            if let Some(w) = quantized.get(name) {
                layer.weight = w.clone();
            }
        }
        q
    }
}

/// What an `output: onnx` job wrote beside the dequantized weights.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnnxExport {
    /// The float model (the input model as it was).
    pub float_model: &'static str,
    /// The quantized model.
    pub quantized_model: &'static str,
    pub opset: i64,
    /// How each layer's weights are stored in the quantized model.
    pub layers: Vec<LayerReport>,
    /// The graph input (`[batch, features]` float).
    pub input: &'static str,
    /// The graph outputs.
    pub outputs: Vec<&'static str>,
}

impl MlpModel {
    /// Writes `model.onnx` (this float model) and `model_quantized.onnx` (`base` with the
    /// layers in `codes` quantized: what the job's evaluation measured) into `dir`.
    pub fn write_onnx(
        &self,
        base: &Mlp,
        codes: &HashMap<String, QuantizedTensor>,
        classification: bool,
        metadata: Vec<(String, String)>,
        ops: QuantizedOps,
        dir: &Path,
    ) -> Result<OnnxExport, JobError> {
        let standardization = self.arch.standardization();
        let names: Vec<String> = (0..self.mlp.layers.len())
            .map(|l| match self.weight_names.get(l) {
                Some(n) => n.strip_suffix(".weight").unwrap_or(n).to_string(),
                None => format!("layers.{l}"),
            })
            .collect();
        let graph = |mlp: &Mlp, quantized: bool, name: &str| -> Result<Vec<u8>, JobError> {
            let model = OnnxMlp {
                graph_name: name.to_string(),
                layers: mlp
                    .layers
                    .iter()
                    .zip(&names)
                    .enumerate()
                    .map(|(l, (layer, name))| OnnxLayer {
                        name: name.clone(),
                        weight: match self.weight_names.get(l).and_then(|n| codes.get(n)) {
                            Some(q) if quantized => LayerWeight::Quantized(q),
                            _ => LayerWeight::Float(layer.weight.view()),
                        },
                        bias: layer.bias.as_slice().unwrap_or(&[]),
                        activation: layer.activation,
                    })
                    .collect(),
                standardization: standardization.as_ref(),
                classification,
                metadata: metadata.clone(),
                ops,
            };
            Ok(encode_mlp(&model)?.bytes)
        };
        std::fs::write(dir.join(FLOAT_FILE), graph(&self.mlp, false, "whittle_mlp")?)?;
        std::fs::write(
            dir.join(QUANTIZED_FILE),
            graph(base, true, "whittle_mlp_quantized")?,
        )?;
        let layers = names
            .iter()
            .enumerate()
            .map(|(l, name)| LayerReport {
                name: name.clone(),
                op: match self.weight_names.get(l).and_then(|n| codes.get(n)) {
                    Some(q) => weight_op(q, ops),
                    None => WeightOp::Float,
                },
            })
            .collect();
        Ok(OnnxExport {
            float_model: FLOAT_FILE,
            quantized_model: QUANTIZED_FILE,
            opset: OPSET,
            layers,
            input: "input",
            outputs: if classification {
                vec!["logits", "probabilities", "label"]
            } else {
                vec!["prediction"]
            },
        })
    }
}

/// Where a quantization-aware fine-tuning run reports and checkpoints.
pub struct QatRun<'a> {
    pub series: &'a mut EpochSeries,
    pub checkpoints: &'a mut TrainCheckpoints,
    /// The run's place in the job (the scheme's index on a `tolerable_loss` ladder).
    pub stage: usize,
}

/// Name of QAT runs in the job's checkpoint.
const QAT_RUN: &str = "qat";

/// What quantization-aware fine-tuning did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QatReport {
    pub epochs_run: usize,
    pub final_train_loss: f64,
    /// The epoch this attempt continued from (a checkpoint of an earlier attempt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from_epoch: Option<usize>,
}

/// The float model's measurements on the eval dataset (raw features).
pub struct EvalBaseline {
    pub data: Labelled,
    pub before: ModelEvaluation,
}

impl EvalBaseline {
    /// Measures the float model.
    pub fn new(m: &MlpModel, data: Labelled) -> Result<Self, JobError> {
        let before = measure(&m.mlp, &m.arch, data.x.view(), &data.y, None)?;
        Ok(EvalBaseline { data, before })
    }

    /// Measures `quantized` and compares it with the float model.
    pub fn compare(&self, m: &MlpModel, quantized: &Mlp) -> Result<QualityChange, JobError> {
        let after = measure(quantized, &m.arch, self.data.x.view(), &self.data.y, None)?;
        let (metric, before) = self.before.headline();
        let after_metric = after.headline().1;
        Ok(QualityChange {
            metric,
            before,
            after: after_metric,
            loss: before - after_metric,
            prediction_agreement: self.before.agreement_with(&after),
            before_report: self.before.clone(),
            after_report: after,
        })
    }
}

/// The eval dataset's headline metric before and after quantization.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QualityChange {
    pub metric: &'static str,
    pub before: f64,
    pub after: f64,
    /// `before − after`.
    pub loss: f64,
    /// Fraction of rows whose predicted class did not change (classification).
    pub prediction_agreement: Option<f64>,
    pub before_report: ModelEvaluation,
    pub after_report: ModelEvaluation,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlp_weight_names_sort_by_layer_index() {
        let names: Vec<String> = ["layers.10.weight", "layers.2.weight", "layers.2.bias", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            mlp_weight_names(&names),
            ["layers.2.weight", "layers.10.weight"]
        );
    }
}
