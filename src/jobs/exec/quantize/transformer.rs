//! GPTQ of a transformer through its real forward pass: calibration text runs block by
//! block; each selected Linear of a block is quantized with the Hessian of its inputs, the
//! block's outputs are recomputed with the quantized weights, and the next block calibrates
//! on those (sequential GPTQ, as llm-compressor and AutoGPTQ run it).
use std::collections::HashMap;

use serde::Serialize;

use super::write::PassSettings;
use crate::jobs::calibration::{Calibration, CalibrationReport};
use crate::jobs::{JobControl, JobError};
use crate::kernels::quant::{
    dequantize, fake_quantize, quantize_gptq, GptqOptions, QuantizedTensor,
};
use crate::kernels::transformer::calibrate::{relative_output_error, weight_matrix, Collect};
use crate::kernels::KernelError;

/// What GPTQ did, with each Linear's output error beside round-to-nearest's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GptqReport {
    pub calibration: CalibrationReport,
    /// Linears quantized with GPTQ (other selected tensors are quantized data-free).
    pub layers: Vec<LayerError>,
    /// Mean over `layers` of the relative output error (see [`LayerError`]).
    pub mean_rtn_output_error: f64,
    pub mean_gptq_output_error: f64,
}

/// `‖(W − Ŵ)X‖² / ‖WX‖²` of one Linear on its calibration inputs `X` (the outputs of the
/// already-quantized blocks before it), for GPTQ's `Ŵ` and round-to-nearest's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LayerError {
    pub name: String,
    pub rtn_output_error: f64,
    pub gptq_output_error: f64,
}

/// Quantizes the selected block Linears of the transformer at `dir` with GPTQ on `calib`;
/// their codes (for the writer) and the report.
pub fn gptq_transformer(
    dir: &std::path::Path,
    calib: &mut Calibration,
    settings: &PassSettings<'_>,
    control: &JobControl,
    span: (f64, f64),
) -> Result<(HashMap<String, QuantizedTensor>, GptqReport), JobError> {
    let mut codes = HashMap::new();
    let mut layers = Vec::new();
    let mut edit = |_block: usize,
                    linears: &mut [&mut crate::kernels::transformer::Linear],
                    stats: &HashMap<String, _>|
     -> Result<(), KernelError> {
        for linear in linears.iter_mut() {
            let name = linear.name.clone();
            let Ok(t) = settings.mapped.tensor(&name) else {
                continue;
            };
            if !settings.selection.matches(&name, t.shape) {
                continue;
            }
            let scheme = settings.scheme_for(t.dtype);
            let Some(h) = stats
                .get(&name)
                .map(crate::kernels::transformer::calibrate::InputStats::hessian)
                .transpose()?
                .flatten()
            else {
                continue;
            };
            let w = weight_matrix(linear)?;
            let at = |e: KernelError| KernelError::Shape(format!("{name}: {e}"));
            let q = quantize_gptq(w.view(), h.view(), &scheme, &GptqOptions::default())
                .map_err(at)?;
            let gptq = dequantize(&q).map_err(at)?;
            let rtn = fake_quantize(w.view(), &scheme).map_err(at)?;
            layers.push(LayerError {
                name: name.clone(),
                rtn_output_error: relative_output_error(&w, &rtn, &h),
                gptq_output_error: relative_output_error(&w, &gptq, &h),
            });
            linear.set_weight(gptq.into_raw_vec_and_offset().0)?;
            codes.insert(name, q);
        }
        Ok(())
    };
    calib.run(
        dir,
        Collect {
            hessian: true,
            norms: false,
        },
        &mut edit,
        control,
        span,
    )?;
    if layers.is_empty() {
        return Err(JobError::Invalid(
            "gptq found no selected Linear inside the model's blocks: check include/exclude"
                .into(),
        ));
    }
    let mean = |f: fn(&LayerError) -> f64| layers.iter().map(f).sum::<f64>() / layers.len() as f64;
    let report = GptqReport {
        calibration: calib.report.clone(),
        mean_rtn_output_error: mean(|l| l.rtn_output_error),
        mean_gptq_output_error: mean(|l| l.gptq_output_error),
        layers,
    };
    Ok((codes, report))
}
