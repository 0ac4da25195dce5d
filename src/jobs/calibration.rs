//! Calibration text for data-aware compression of transformers (GPTQ and Wanda): a text
//! dataset tokenized with the model's own tokenizer into batches, and the block-by-block pass
//! of `kernels::transformer::calibrate` run with the job's progress and cancellation.
use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::text_quality::{load_text_dataset, peak_rss_bytes, ENCODER_BATCH};
use super::{JobControl, JobError};
use crate::formats::transformer::FolderWeights;
use crate::formats::transformer::{encode, kernel_to_format, load_tokenizer, pad_id, read_config};
use crate::kernels::transformer::calibrate::{sequential, Collect, Editor};
use crate::kernels::transformer::{Batch, ModelConfig};
use crate::store::DatasetRow;

/// Default tokens per calibration sequence (encoders, decoders).
pub const ENCODER_CALIBRATION_LENGTH: usize = 128;
pub const DECODER_CALIBRATION_LENGTH: usize = 512;
/// Default calibration examples (llm-compressor's examples use 512 of 2048 tokens on a GPU;
/// this is a CPU service).
pub const CALIBRATION_EXAMPLES: usize = 256;
/// Decoder sequences per calibration batch.
const DECODER_BATCH: usize = 4;

/// How much calibration text a job uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CalibrationOptions {
    pub max_length: Option<usize>,
    pub max_examples: Option<usize>,
}

/// What calibration ran on, as reported in results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalibrationReport {
    pub dataset_id: Uuid,
    /// Examples (rows of the dataset) used.
    pub examples: usize,
    /// Sequences run (decoders split long texts into `max_length` chunks).
    pub sequences: usize,
    /// Tokens whose activations were collected.
    pub tokens: usize,
    pub max_length: usize,
    /// Examples cut to `max_length` (encoders).
    pub truncated_examples: usize,
    /// Examples of fewer than 2 tokens (decoders), left out.
    pub skipped_examples: usize,
    /// Blocks run one after another.
    pub blocks: usize,
    pub seconds: f64,
    /// Peak resident memory of the worker process after the pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_bytes: Option<u64>,
}

/// A transformer folder with its calibration batches, ready for [`Calibration::run`].
pub struct Calibration {
    pub config: ModelConfig,
    raw_config: Value,
    batches: Vec<Batch>,
    pub report: CalibrationReport,
}

impl Calibration {
    /// Tokenizes the calibration dataset `(row, path)` with the tokenizer of the model at
    /// `dir`: encoders take each example (with its `text_pair`) cut to `max_length`;
    /// decoders split each text into chunks of `max_length` tokens.
    pub fn prepare(
        dir: &Path,
        (row, path): (&DatasetRow, &Path),
        opts: CalibrationOptions,
    ) -> Result<Calibration, JobError> {
        let raw_config = read_config(dir)?;
        let config = ModelConfig::from_json(&raw_config).map_err(kernel_to_format)?;
        let tokenizer = load_tokenizer(dir)?;
        let data = load_text_dataset(row, path)?;
        let n = opts
            .max_examples
            .unwrap_or(CALIBRATION_EXAMPLES)
            .min(data.len());
        let default_len = match config {
            ModelConfig::Encoder(_) => ENCODER_CALIBRATION_LENGTH,
            ModelConfig::Decoder(_) => DECODER_CALIBRATION_LENGTH,
        };
        let max_len = opts
            .max_length
            .unwrap_or(default_len)
            .min(config.max_positions())
            .max(2);
        let mut report = CalibrationReport {
            dataset_id: row.id,
            examples: n,
            sequences: 0,
            tokens: 0,
            max_length: max_len,
            truncated_examples: 0,
            skipped_examples: 0,
            blocks: 0,
            seconds: 0.0,
            peak_rss_bytes: None,
        };
        let mut seqs: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
        let batch_size = match config {
            ModelConfig::Encoder(_) => {
                for i in 0..n {
                    let pair = data.pairs.as_ref().map(|p| p[i].as_str());
                    let e = encode(&tokenizer, &data.texts[i], pair, Some(max_len))?;
                    report.truncated_examples += usize::from(e.truncated_tokens > 0);
                    seqs.push((e.ids, e.type_ids));
                }
                ENCODER_BATCH
            }
            ModelConfig::Decoder(_) => {
                for text in &data.texts[..n] {
                    let ids = encode(&tokenizer, text, None, None)?.ids;
                    if ids.len() < 2 {
                        report.skipped_examples += 1;
                        continue;
                    }
                    for chunk in ids.chunks(max_len).filter(|c| c.len() >= 2) {
                        seqs.push((chunk.to_vec(), vec![0; chunk.len()]));
                    }
                }
                DECODER_BATCH
            }
        };
        if seqs.is_empty() {
            return Err(JobError::Invalid(format!(
                "calibration dataset {} has no text to calibrate on (every example tokenizes \
                 to fewer than 2 tokens)",
                row.id
            )));
        }
        let pad = pad_id(&tokenizer, &raw_config);
        // Similar lengths together, so batches carry little padding.
        seqs.sort_by_key(|(ids, _)| std::cmp::Reverse(ids.len()));
        let batches: Vec<Batch> = seqs
            .chunks(batch_size)
            .map(|c| Batch::pad(c, pad))
            .collect();
        report.sequences = seqs.len();
        report.tokens = batches.iter().map(Batch::tokens).sum();
        Ok(Calibration {
            config,
            raw_config,
            batches,
            report,
        })
    }

    /// Runs the blocks of the model at `dir` in order over the calibration batches (see
    /// [`sequential`]), reporting progress over `span` (start, width).
    pub fn run(
        &mut self,
        dir: &Path,
        collect: Collect,
        edit: &mut Editor<'_>,
        control: &JobControl,
        span: (f64, f64),
    ) -> Result<(), JobError> {
        let started = Instant::now();
        let weights = FolderWeights::open(dir, &self.raw_config)?;
        let mut progress = |done: usize, total: usize| {
            control.set_progress(
                span.0 + span.1 * done as f64 / total.max(1) as f64,
                Some(format!("calibrating block {done} of {total}")),
            );
            !control.should_stop()
        };
        let finished = sequential(
            &self.config,
            &weights,
            &self.batches,
            collect,
            edit,
            &mut progress,
        )?;
        if finished.is_none() {
            return Err(JobError::Canceled);
        }
        self.report.blocks = match &self.config {
            ModelConfig::Encoder(c) => c.num_hidden_layers,
            ModelConfig::Decoder(c) => c.num_hidden_layers,
        };
        self.report.seconds = started.elapsed().as_secs_f64();
        self.report.peak_rss_bytes = peak_rss_bytes();
        Ok(())
    }
}
