//! Measuring a transformer on a text dataset, as `evaluate` reports it (and the before/after
//! reports of quantize and prune): decoders' perplexity over sliding windows and next-token
//! agreement with a reference, encoders' sentence-embedding fidelity to a reference and,
//! with a classification head and labels, accuracy and F1; plus tokens/s and peak memory.
use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;
use tokenizers::Tokenizer;
use uuid::Uuid;

use super::{JobControl, JobError};
use crate::domain::specs::TextPooling;
use crate::formats::text_dataset::{parse_text, TextDataset, TextFormat, TextOptions};
use crate::formats::transformer::{
    encode, kernel_to_format, load_tokenizer, pad_id, read_config, FolderWeights,
};
use crate::kernels::nn::metrics::classification_report;
use crate::kernels::transformer::bert::{pool, Bert, Pooling};
use crate::kernels::transformer::llama::Llama;
use crate::kernels::transformer::metrics::{
    agreement, argmax_rows, embedding_fidelity, nll_and_argmax, perplexity, EmbeddingFidelity,
};
use crate::kernels::transformer::{Batch, ModelConfig, NoObserver};
use crate::store::DatasetRow;

/// Default tokens per sequence.
pub const ENCODER_MAX_LENGTH: usize = 128;
pub const DECODER_MAX_LENGTH: usize = 512;
/// Default encoder sequences per forward pass.
pub const ENCODER_BATCH: usize = 16;

/// How a model is run on a text dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct TextRun {
    pub max_length: Option<usize>,
    pub stride: Option<usize>,
    pub pooling: TextPooling,
    pub normalize: bool,
    pub batch_size: usize,
    pub max_examples: Option<usize>,
}

impl Default for TextRun {
    /// What quality gates use: the family's default length, mean pooling, every example.
    fn default() -> Self {
        TextRun {
            max_length: None,
            stride: None,
            pooling: TextPooling::Mean,
            normalize: true,
            batch_size: ENCODER_BATCH,
            max_examples: None,
        }
    }
}

impl TextRun {
    /// A quality gate's run with a job's `max_length` and `max_examples`.
    pub fn limited(max_length: Option<usize>, max_examples: Option<usize>) -> TextRun {
        TextRun {
            max_length,
            max_examples,
            ..TextRun::default()
        }
    }
}

/// Whether a model row's architecture summary is a transformer folder's.
pub fn is_transformer(architecture: Option<&Value>) -> bool {
    architecture.is_some_and(|a| a.get("kind").and_then(|k| k.as_str()) == Some("transformer"))
}

/// A transformer folder loaded for inference.
pub struct TransformerModel {
    pub config: ModelConfig,
    raw_config: Value,
    tokenizer: Tokenizer,
    net: Net,
}

enum Net {
    Encoder(Box<Bert>),
    Decoder(Box<Llama>),
}

/// Loads a transformer folder (config, tokenizer, weights; compressed-tensors decoded).
pub fn load_transformer(dir: &Path) -> Result<TransformerModel, JobError> {
    if !dir.is_dir() {
        return Err(JobError::Invalid(
            "a transformer model is a folder with config.json and tokenizer.json".into(),
        ));
    }
    let raw_config = read_config(dir)?;
    let config = ModelConfig::from_json(&raw_config).map_err(kernel_to_format)?;
    let tokenizer = load_tokenizer(dir)?;
    let weights = FolderWeights::open(dir, &raw_config)?;
    let net = match &config {
        ModelConfig::Encoder(c) => Net::Encoder(Box::new(Bert::load(c, &weights)?)),
        ModelConfig::Decoder(c) => Net::Decoder(Box::new(Llama::load(c, &weights)?)),
    };
    Ok(TransformerModel {
        config,
        raw_config,
        tokenizer,
        net,
    })
}

/// Reads a stored text dataset.
pub fn load_text_dataset(row: &DatasetRow, path: &Path) -> Result<TextDataset, JobError> {
    if row.modality != "text" {
        return Err(JobError::Invalid(format!(
            "dataset {} is tabular; transformer models are measured on text datasets",
            row.id
        )));
    }
    let format = if row.format == "jsonl" {
        TextFormat::Jsonl
    } else {
        TextFormat::Csv
    };
    let fields: Vec<String> = serde_json::from_value(row.feature_names.clone()).unwrap_or_default();
    let opts = TextOptions {
        text: fields.first().cloned().unwrap_or_else(|| "text".into()),
        text_pair: fields.get(1).cloned().unwrap_or_else(|| "text_pair".into()),
        label: if row.target.is_empty() {
            "label".into()
        } else {
            row.target.clone()
        },
        label_required: !row.target.is_empty(),
        ..TextOptions::default()
    };
    let file = std::fs::File::open(path)?;
    let mut d = parse_text(std::io::BufReader::new(file), format, &opts)?;
    if row.target.is_empty() {
        // Stored without labels: a field named like the default is not a label.
        d.labels = None;
        d.classes = None;
    }
    Ok(d)
}

/// What one model produced on a dataset: what the figures and comparisons need.
#[derive(Debug, Clone)]
pub enum Outputs {
    Encoder {
        embeddings: Vec<Vec<f32>>,
        /// Classifier predictions (model label ids), for a model with a head.
        predicted: Option<Vec<usize>>,
    },
    Decoder {
        /// Negative log-likelihood of every scored token, in order.
        nll: Vec<f64>,
        /// The model's top-1 next token at every scored position.
        argmax: Vec<u32>,
    },
}

/// Work done by one run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunStats {
    /// Examples run.
    pub examples: usize,
    /// Tokens run through the model (decoders: scored tokens).
    pub tokens: usize,
    /// Examples cut to `max_length` (encoders).
    pub truncated_examples: usize,
    /// Examples skipped because they tokenize to fewer than 2 tokens (decoders).
    pub skipped_examples: usize,
    pub seconds: f64,
    pub tokens_per_second: f64,
}

/// The sequence length a run uses for `model`.
pub fn max_length(model: &TransformerModel, run: &TextRun) -> usize {
    let default = match model.config {
        ModelConfig::Encoder(_) => ENCODER_MAX_LENGTH,
        ModelConfig::Decoder(_) => DECODER_MAX_LENGTH,
    };
    run.max_length
        .unwrap_or(default)
        .min(model.config.max_positions())
        .max(2)
}

/// The perplexity window's stride for `model`.
pub fn stride(model: &TransformerModel, run: &TextRun) -> usize {
    let m = max_length(model, run);
    run.stride.unwrap_or((m / 2).max(1)).clamp(1, m)
}

fn kernel_pooling(p: TextPooling) -> Pooling {
    match p {
        TextPooling::Mean => Pooling::Mean,
        TextPooling::Cls => Pooling::Cls,
        TextPooling::Max => Pooling::Max,
    }
}

/// Runs `model` over `data` (the first `max_examples`), reporting progress between
/// `progress.0` and `progress.1`.
pub fn run(
    model: &TransformerModel,
    data: &TextDataset,
    opts: &TextRun,
    control: &JobControl,
    progress: (f64, f64),
) -> Result<(Outputs, RunStats), JobError> {
    let n = opts.max_examples.unwrap_or(usize::MAX).min(data.len());
    let max_len = max_length(model, opts);
    let started = Instant::now();
    let report = |done: usize| {
        let f = progress.0 + (progress.1 - progress.0) * done as f64 / n.max(1) as f64;
        control.set_progress(f, Some(format!("{done} of {n} examples")));
    };
    let mut stats = RunStats {
        examples: n,
        tokens: 0,
        truncated_examples: 0,
        skipped_examples: 0,
        seconds: 0.0,
        tokens_per_second: 0.0,
    };
    let outputs = match &model.net {
        Net::Encoder(bert) => {
            let pad = pad_id(&model.tokenizer, &model.raw_config);
            let mut embeddings = Vec::with_capacity(n);
            let mut predicted = bert.has_classifier().then(Vec::new);
            let batch_size = opts.batch_size.max(1);
            let mut start = 0;
            while start < n {
                if control.should_stop() {
                    return Err(JobError::Canceled);
                }
                let end = (start + batch_size).min(n);
                let mut seqs = Vec::with_capacity(end - start);
                for i in start..end {
                    let pair = data.pairs.as_ref().map(|p| p[i].as_str());
                    let e = encode(&model.tokenizer, &data.texts[i], pair, Some(max_len))?;
                    stats.truncated_examples += usize::from(e.truncated_tokens > 0);
                    seqs.push((e.ids, e.type_ids));
                }
                let batch = Batch::pad(&seqs, pad);
                stats.tokens += batch.tokens();
                let out = bert.forward(&batch, &mut NoObserver)?;
                embeddings.extend(pool(
                    &out.hidden,
                    &batch.mask,
                    kernel_pooling(opts.pooling),
                    opts.normalize,
                )?);
                if let (Some(p), Some(logits)) = (predicted.as_mut(), out.logits) {
                    p.extend(argmax_rows(&logits)?.into_iter().map(|t| t as usize));
                }
                start = end;
                report(start);
            }
            Outputs::Encoder {
                embeddings,
                predicted,
            }
        }
        Net::Decoder(llama) => {
            let step = stride(model, opts);
            let (mut nll, mut argmax) = (Vec::new(), Vec::new());
            for i in 0..n {
                if control.should_stop() {
                    return Err(JobError::Canceled);
                }
                let ids = encode(&model.tokenizer, &data.texts[i], None, None)?.ids;
                if ids.len() < 2 {
                    stats.skipped_examples += 1;
                    continue;
                }
                // Windows of `max_len` tokens every `step`; each scores only the tokens
                // the previous window did not (all but the first token of the text).
                let mut scored_to = 1usize;
                let mut begin = 0usize;
                loop {
                    let end = (begin + max_len).min(ids.len());
                    let window = &ids[begin..end];
                    let batch = Batch::pad(&[(window.to_vec(), vec![0; window.len()])], 0);
                    let logits = llama
                        .forward(&batch, &mut NoObserver)?
                        .squeeze(0)
                        .map_err(ce)?;
                    // Position p predicts token p + 1: score the targets from..end that no
                    // window scored yet (with stride = max_length, a window's first token
                    // has no context inside it and is not scored).
                    let from = scored_to.max(begin + 1);
                    let first = from - begin - 1;
                    let count = end - from;
                    let rows = logits.narrow(0, first, count).map_err(ce)?;
                    let (l, t) = nll_and_argmax(&rows, &ids[from..end])?;
                    nll.extend(l);
                    argmax.extend(t);
                    stats.tokens += count;
                    scored_to = end;
                    if end == ids.len() {
                        break;
                    }
                    begin += step;
                }
                report(i + 1);
            }
            Outputs::Decoder { nll, argmax }
        }
    };
    stats.seconds = started.elapsed().as_secs_f64();
    stats.tokens_per_second = stats.tokens as f64 / stats.seconds.max(1e-9);
    Ok((outputs, stats))
}

fn ce(e: candle_core::Error) -> JobError {
    JobError::Invalid(e.to_string())
}

/// Classifier quality on labelled text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TextClassification {
    pub accuracy: f64,
    pub f1_macro: f64,
    pub f1_weighted: f64,
    /// `confusion_matrix[true][predicted]` over the dataset's classes.
    pub confusion_matrix: Vec<Vec<u64>>,
}

/// A candidate beside its reference on the same examples.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReferenceComparison {
    pub model_id: Uuid,
    /// Decoders: the reference's perplexity on the same windows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perplexity: Option<f64>,
    /// Decoders: fraction of scored positions where both predict the same next token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top1_agreement: Option<f64>,
    /// Encoders: how close the sentence embeddings are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embeddings: Option<EmbeddingFidelity>,
    /// Encoders with a head: fraction of examples both classify the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction_agreement: Option<f64>,
    /// The reference's classifier quality, when the dataset has labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<TextClassification>,
}

/// A transformer's evaluation on a text dataset.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TextEvaluation {
    /// `encoder` or `decoder`.
    pub family: String,
    pub architecture: String,
    /// Tokens per sequence (encoders: truncation length; decoders: window).
    pub max_length: usize,
    /// Decoders: the window's stride.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stride: Option<usize>,
    /// Encoders: the pooling of sentence embeddings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pooling: Option<TextPooling>,
    #[serde(flatten)]
    pub stats: RunStats,
    /// Decoders: `exp(mean NLL)` over every scored token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perplexity: Option<f64>,
    /// Decoders: mean negative log-likelihood (nats per token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_nll: Option<f64>,
    /// Encoders with a classification head, on a labelled dataset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<TextClassification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<ReferenceComparison>,
    /// Peak resident memory of the worker process so far, in bytes (Linux).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_bytes: Option<u64>,
}

/// The process's peak resident set size (`VmHWM`), when the OS reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Maps dataset class indices to the model's label ids: by name when every class is one of
/// the model's labels, else by number when the classes are label ids.
pub fn label_map(model_labels: &[String], classes: &[String]) -> Result<Vec<usize>, String> {
    let by_name: Option<Vec<usize>> = classes
        .iter()
        .map(|c| model_labels.iter().position(|l| l == c))
        .collect();
    if let Some(m) = by_name {
        return Ok(m);
    }
    let by_id: Option<Vec<usize>> = classes
        .iter()
        .map(|c| c.parse::<usize>().ok().filter(|&i| i < model_labels.len()))
        .collect();
    by_id.ok_or_else(|| {
        format!(
            "the dataset's labels ({}) are neither the model's labels ({}) nor label ids below {}",
            classes.join(", "),
            model_labels.join(", "),
            model_labels.len()
        )
    })
}

/// Classifier quality of `predicted` (model label ids) against the dataset's labels.
fn classify(
    model: &TransformerModel,
    data: &TextDataset,
    predicted: &[usize],
) -> Result<Option<TextClassification>, JobError> {
    let (ModelConfig::Encoder(cfg), Some(labels), Some(classes)) =
        (&model.config, &data.labels, &data.classes)
    else {
        return Ok(None);
    };
    let Some(head) = &cfg.classifier else {
        return Ok(None);
    };
    let map = label_map(&head.labels, classes).map_err(JobError::Invalid)?;
    let truth: Vec<usize> = labels[..predicted.len()].iter().map(|&c| map[c]).collect();
    let r = classification_report(&truth, predicted, None, head.num_labels)?;
    Ok(Some(TextClassification {
        accuracy: r.accuracy,
        f1_macro: r.f1_macro,
        f1_weighted: r.f1_weighted,
        confusion_matrix: r.confusion,
    }))
}

/// A reference model's run, for comparisons (the model itself need not stay loaded).
pub struct ReferenceRun<'a> {
    pub model_id: Uuid,
    pub outputs: &'a Outputs,
    /// Its classifier quality on the dataset, when it has a head and the data labels.
    pub classification: Option<TextClassification>,
}

/// Classifier quality of a run, for an encoder with a head on labelled data.
pub fn classification_of(
    model: &TransformerModel,
    data: &TextDataset,
    outputs: &Outputs,
) -> Result<Option<TextClassification>, JobError> {
    match outputs {
        Outputs::Encoder {
            predicted: Some(p), ..
        } => classify(model, data, p),
        _ => Ok(None),
    }
}

/// The figures of one model's run, compared with a reference's run when given.
pub fn evaluation(
    model: &TransformerModel,
    data: &TextDataset,
    opts: &TextRun,
    (outputs, stats): (&Outputs, RunStats),
    reference: Option<ReferenceRun<'_>>,
) -> Result<TextEvaluation, JobError> {
    let decoder = matches!(model.config, ModelConfig::Decoder(_));
    let mut e = TextEvaluation {
        family: model.config.family().into(),
        architecture: model.config.architecture().into(),
        max_length: max_length(model, opts),
        stride: decoder.then(|| stride(model, opts)),
        pooling: (!decoder).then_some(opts.pooling),
        stats,
        perplexity: None,
        mean_nll: None,
        classification: None,
        reference: None,
        peak_rss_bytes: None,
    };
    match outputs {
        Outputs::Decoder { nll, .. } => {
            e.perplexity = Some(perplexity(nll));
            e.mean_nll = Some(nll.iter().sum::<f64>() / nll.len().max(1) as f64);
        }
        Outputs::Encoder { predicted, .. } => {
            if let Some(p) = predicted {
                e.classification = classify(model, data, p)?;
            }
        }
    }
    if let Some(ReferenceRun {
        model_id,
        outputs: ref_out,
        classification,
    }) = reference
    {
        let mut cmp = ReferenceComparison {
            model_id,
            perplexity: None,
            top1_agreement: None,
            embeddings: None,
            prediction_agreement: None,
            classification: None,
        };
        match (outputs, ref_out) {
            (
                Outputs::Decoder { argmax, .. },
                Outputs::Decoder {
                    nll: rn,
                    argmax: ra,
                },
            ) => {
                cmp.perplexity = Some(perplexity(rn));
                cmp.top1_agreement = Some(agreement(argmax, ra));
            }
            (
                Outputs::Encoder {
                    embeddings,
                    predicted,
                },
                Outputs::Encoder {
                    embeddings: re,
                    predicted: rp,
                },
            ) => {
                cmp.embeddings = Some(embedding_fidelity(re, embeddings));
                if let (Some(a), Some(b)) = (predicted, rp) {
                    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
                    cmp.prediction_agreement = Some(same as f64 / a.len().max(1) as f64);
                    cmp.classification = classification;
                }
            }
            _ => {
                return Err(JobError::Invalid(
                    "the reference model is of another family".into(),
                ))
            }
        }
        e.reference = Some(cmp);
    }
    e.peak_rss_bytes = peak_rss_bytes();
    Ok(e)
}

/// The float model's run on an eval dataset, against which compressed versions are judged
/// (quantize and prune with a text `eval_dataset_id`, and their `tolerable_loss`).
pub struct TextBaseline {
    pub model_id: Uuid,
    data: TextDataset,
    opts: TextRun,
    outputs: Outputs,
    classification: Option<TextClassification>,
    pub before: TextEvaluation,
}

/// A compressed model's quality beside its float original's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TextQualityChange {
    /// `perplexity` (decoders; `loss` is the relative increase `after / before − 1`),
    /// `accuracy` (encoders with a classification head on labelled data; `loss` is
    /// `before − after`) or `embedding_cosine` (other encoders: mean cosine of the sentence
    /// embeddings to the float model's, 1 before; `loss` is `1 − after`).
    pub metric: &'static str,
    pub before: f64,
    pub after: f64,
    pub loss: f64,
    /// Decoders: next-token top-1 agreement with the float model; encoders with a head:
    /// prediction agreement.
    pub prediction_agreement: Option<f64>,
    pub before_report: TextEvaluation,
    /// Includes the comparison with the float model under `reference`.
    pub after_report: TextEvaluation,
}

impl TextBaseline {
    /// Runs the float model at `dir` on `data`.
    pub fn new(
        model_id: Uuid,
        dir: &Path,
        data: TextDataset,
        opts: TextRun,
        control: &JobControl,
        progress: (f64, f64),
    ) -> Result<TextBaseline, JobError> {
        let model = load_transformer(dir)?;
        let (outputs, stats) = run(&model, &data, &opts, control, progress)?;
        let classification = classification_of(&model, &data, &outputs)?;
        let before = evaluation(&model, &data, &opts, (&outputs, stats), None)?;
        Ok(TextBaseline {
            model_id,
            data,
            opts,
            outputs,
            classification,
            before,
        })
    }

    /// The metric a comparison reports (see [`TextQualityChange::metric`]).
    pub fn metric(&self) -> &'static str {
        if self.before.perplexity.is_some() {
            "perplexity"
        } else if self.before.classification.is_some() {
            "accuracy"
        } else {
            "embedding_cosine"
        }
    }

    /// Measures the compressed model written at `dir` (decoded as any client would read it).
    pub fn compare(
        &self,
        dir: &Path,
        control: &JobControl,
        progress: (f64, f64),
    ) -> Result<TextQualityChange, JobError> {
        let model = load_transformer(dir)?;
        let (outputs, stats) = run(&model, &self.data, &self.opts, control, progress)?;
        let after = evaluation(
            &model,
            &self.data,
            &self.opts,
            (&outputs, stats),
            Some(ReferenceRun {
                model_id: self.model_id,
                outputs: &self.outputs,
                classification: self.classification.clone(),
            }),
        )?;
        let reference = after.reference.as_ref();
        let (metric, before, after_value, loss, agreement) = if let (Some(b), Some(a)) =
            (self.before.perplexity, after.perplexity)
        {
            let agree = reference.and_then(|r| r.top1_agreement);
            ("perplexity", b, a, a / b - 1.0, agree)
        } else if let (Some(b), Some(a)) = (&self.before.classification, &after.classification) {
            let agree = reference.and_then(|r| r.prediction_agreement);
            (
                "accuracy",
                b.accuracy,
                a.accuracy,
                b.accuracy - a.accuracy,
                agree,
            )
        } else {
            let cos = reference
                .and_then(|r| r.embeddings.as_ref())
                .map_or(f64::NAN, |e| e.mean_cosine);
            ("embedding_cosine", 1.0, cos, 1.0 - cos, None)
        };
        Ok(TextQualityChange {
            metric,
            before,
            after: after_value,
            loss,
            prediction_agreement: agreement,
            before_report: self.before.clone(),
            after_report: after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_map_by_name_then_by_id() {
        let model = vec!["NEGATIVE".to_string(), "POSITIVE".to_string()];
        assert_eq!(
            label_map(&model, &["POSITIVE".into(), "NEGATIVE".into()]).unwrap(),
            vec![1, 0]
        );
        assert_eq!(
            label_map(&model, &["0".into(), "1".into()]).unwrap(),
            vec![0, 1]
        );
        assert!(label_map(&model, &["0".into(), "2".into()]).is_err());
        assert!(label_map(&model, &["cat".into()]).is_err());
    }
}
