//! GPTQ (Frantar et al. 2022): quantize a weight matrix column by column and compensate each
//! column's rounding error on the columns not yet quantized, using the Cholesky factor of the
//! inverse Hessian `H = 2·XᵀX` of the layer inputs.
//!
//! Layout: `w` is `[rows, cols]` = `[out, in]`, `H` is `[cols, cols]`. Rows are independent
//! given `H`, so each rayon task owns a chunk of rows: inside a block of `block_size` columns
//! it quantizes and applies rank-1 updates row by row, then the deferred ("lazy batch") update
//! of all later columns is one GEMM `W[:, end..] −= Err · U[block, end..]`.
//!
//! Groups: without act-order a group's parameters are chosen when its first column is
//! reached, from the already-updated weights; the block size is rounded up to a multiple of
//! the group size so every group lies inside one block and sees all earlier updates. With
//! act-order the columns are processed by decreasing `H` diagonal and group parameters are
//! fixed up front from the original weights in natural order ("static groups"), so the
//! output keeps the standard layout (no `g_idx`). Tensor and channel parameters are always
//! fixed up front, as in the reference implementation.
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use super::data_free::assemble;
use super::params::{encode_one, non_finite_error, rtn_params, GroupParams};
use super::{Granularity, QuantScheme, QuantizedTensor};
use crate::kernels::KernelError;

/// GPTQ settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GptqOptions {
    /// Damping added to the Hessian diagonal, as a fraction of its mean (default 0.01).
    pub damp_percent: f32,
    /// Columns per lazy batch (default 128).
    pub block_size: usize,
    /// Quantize columns by decreasing Hessian diagonal (default false).
    pub act_order: bool,
}

impl Default for GptqOptions {
    fn default() -> Self {
        GptqOptions {
            damp_percent: 0.01,
            block_size: 128,
            act_order: false,
        }
    }
}

impl GptqOptions {
    /// Checks the options; errors name the field (`gptq.damp_percent`, `gptq.block_size`).
    pub fn validate(&self) -> Result<(), KernelError> {
        if !(self.damp_percent.is_finite() && self.damp_percent >= 0.0) {
            return Err(KernelError::invalid(
                "gptq.damp_percent",
                "must be a finite value >= 0",
            ));
        }
        if self.block_size == 0 {
            return Err(KernelError::invalid(
                "gptq.block_size",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// Rows handled by one rayon task (enough work per GEMM call, enough tasks for 2+ threads).
const ROW_CHUNK: usize = 64;
/// Block size of the blocked Cholesky factorization.
const CHOL_BLOCK: usize = 64;

/// The Hessian prepared for GPTQ: column order, dead columns, and `U` (upper, row-major
/// `[n, n]`, f32) with `UᵀU = (H + λI)⁻¹` in that order.
struct PreparedHessian {
    perm: Vec<usize>,
    dead: Vec<bool>,
    u: Vec<f32>,
}

/// Checks shapes and values, zeroes dead columns' diagonal to 1, orders, damps and factors.
fn prepare_hessian(
    hessian: ArrayView2<f32>,
    cols: usize,
    opts: &GptqOptions,
    factor: impl Fn(Array2<f64>) -> Result<Vec<f32>, KernelError>,
) -> Result<PreparedHessian, KernelError> {
    if hessian.dim() != (cols, cols) {
        return Err(KernelError::Shape(format!(
            "hessian is {:?}, expected [{cols}, {cols}] for a weight with {cols} columns",
            hessian.dim()
        )));
    }
    if hessian.iter().any(|v| !v.is_finite()) {
        return Err(KernelError::Numerical(
            "hessian contains NaN or infinite values".into(),
        ));
    }
    let diag: Vec<f64> = (0..cols).map(|i| f64::from(hessian[[i, i]])).collect();
    let dead: Vec<bool> = diag.iter().map(|&d| d == 0.0).collect();
    let mut perm: Vec<usize> = (0..cols).collect();
    if opts.act_order {
        // Stable sort: ties keep natural order, so the permutation is deterministic.
        perm.sort_by(|&a, &b| diag[b].total_cmp(&diag[a]));
    }
    let n = cols;
    let mut h = Array2::from_shape_fn((n, n), |(i, j)| f64::from(hessian[[perm[i], perm[j]]]));
    for (i, &pi) in perm.iter().enumerate() {
        if dead[pi] {
            h[[i, i]] = 1.0;
        }
    }
    let mean_diag = h.diag().sum() / n as f64;
    let damp = f64::from(opts.damp_percent) * mean_diag;
    h.diag_mut().mapv_inplace(|d| d + damp);
    let u = factor(h)?;
    Ok(PreparedHessian { perm, dead, u })
}

/// Lower Cholesky factor of a symmetric positive definite `[n, n]` matrix, in place (only
/// the lower triangle is read; the strict upper triangle is zeroed). Blocked right-looking:
/// unblocked diagonal block, row-parallel panel solve, and the trailing update
/// `A22 −= L21·L21ᵀ` as one GEMM per block row (lower part only), in parallel.
fn cholesky_lower(a: &mut Array2<f64>) -> Result<(), KernelError> {
    let n = a.nrows();
    let not_pd = |i: usize| {
        KernelError::Numerical(format!(
            "hessian is not positive definite at column {i} even after damping; \
             raise gptq.damp_percent or use more calibration samples"
        ))
    };
    for kb in (0..n).step_by(CHOL_BLOCK) {
        let ke = (kb + CHOL_BLOCK).min(n);
        // Diagonal block, unblocked (its trailing updates are already applied).
        for i in kb..ke {
            for j in kb..=i {
                let mut sum = a[[i, j]];
                for k in kb..j {
                    sum -= a[[i, k]] * a[[j, k]];
                }
                if i == j {
                    if !(sum > 0.0 && sum.is_finite()) {
                        return Err(not_pd(i));
                    }
                    a[[i, i]] = sum.sqrt();
                } else {
                    a[[i, j]] = sum / a[[j, j]];
                }
            }
        }
        if ke == n {
            break;
        }
        let l11 = a.slice(s![kb..ke, kb..ke]).to_owned();
        // Panel: L21 = A21·L11⁻ᵀ, one forward substitution per row.
        a.slice_mut(s![ke.., kb..ke])
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .for_each(|mut row| {
                for j in 0..ke - kb {
                    let mut sum = row[j];
                    for k in 0..j {
                        sum -= row[k] * l11[[j, k]];
                    }
                    row[j] = sum / l11[[j, j]];
                }
            });
        let l21 = a.slice(s![ke.., kb..ke]).to_owned();
        // Trailing update, lower triangle only: block row r gets −L21[r]·L21[..=r]ᵀ.
        a.slice_mut(s![ke.., ke..])
            .axis_chunks_iter_mut(Axis(0), CHOL_BLOCK)
            .into_par_iter()
            .enumerate()
            .for_each(|(bi, mut rows)| {
                let r0 = bi * CHOL_BLOCK;
                let r1 = r0 + rows.nrows();
                let lhs = l21.slice(s![r0..r1, ..]);
                let rhs = l21.slice(s![..r1, ..]);
                let mut dst = rows.slice_mut(s![.., ..r1]);
                general_mat_mul(-1.0, &lhs, &rhs.t(), 1.0, &mut dst);
            });
    }
    for i in 0..n {
        a.slice_mut(s![i, i + 1..]).fill(0.0);
    }
    Ok(())
}

/// Inverse of a lower triangular matrix (also lower), by block columns in parallel: block
/// column `j` solves `L·X[:, j] = I[:, j]` block by block, `X_ij = L_ii⁻¹(δ_ij − Σ_k L_ik X_kj)`,
/// with the sum as one GEMM. Returns the block columns as `[n − j0, width]` panels.
fn lower_triangular_inverse_panels(l: &Array2<f64>) -> Vec<Array2<f64>> {
    let n = l.nrows();
    let starts: Vec<usize> = (0..n).step_by(CHOL_BLOCK).collect();
    // Inverses of the diagonal blocks (small, unblocked forward substitution).
    let diag_inv: Vec<Array2<f64>> = starts
        .par_iter()
        .map(|&b0| {
            let b1 = (b0 + CHOL_BLOCK).min(n);
            let m = b1 - b0;
            let mut x = Array2::<f64>::zeros((m, m));
            for j in 0..m {
                x[[j, j]] = 1.0 / l[[b0 + j, b0 + j]];
                for i in j + 1..m {
                    let mut sum = 0.0;
                    for k in j..i {
                        sum += l[[b0 + i, b0 + k]] * x[[k, j]];
                    }
                    x[[i, j]] = -sum / l[[b0 + i, b0 + i]];
                }
            }
            x
        })
        .collect();
    starts
        .par_iter()
        .enumerate()
        .map(|(jb, &j0)| {
            let j1 = (j0 + CHOL_BLOCK).min(n);
            let mut panel = Array2::<f64>::zeros((n - j0, j1 - j0));
            panel.slice_mut(s![..j1 - j0, ..]).assign(&diag_inv[jb]);
            for (ib, &i0) in starts.iter().enumerate().skip(jb + 1) {
                let i1 = (i0 + CHOL_BLOCK).min(n);
                let t = l
                    .slice(s![i0..i1, j0..i0])
                    .dot(&panel.slice(s![..i0 - j0, ..]));
                let xi = diag_inv[ib].dot(&t);
                panel.slice_mut(s![i0 - j0..i1 - j0, ..]).assign(&(-xi));
            }
            panel
        })
        .collect()
}

/// Upper `U` (f32, row-major `[n, n]`) with `UᵀU = H⁻¹`: factor the reversed matrix
/// `PHP = LLᵀ` (P reverses the order), then `U = P·L⁻¹·P`, so one Cholesky and one
/// triangular inverse replace inverse-then-Cholesky. Consumes `h`.
fn upper_cholesky_of_inverse(mut h: Array2<f64>) -> Result<Vec<f32>, KernelError> {
    let n = h.nrows();
    h.invert_axis(Axis(0));
    h.invert_axis(Axis(1));
    let mut l = h.as_standard_layout().into_owned();
    drop(h);
    cholesky_lower(&mut l)?;
    let panels = lower_triangular_inverse_panels(&l);
    drop(l);
    let mut u = vec![0.0f32; n * n];
    for (jb, panel) in panels.iter().enumerate() {
        let j0 = jb * CHOL_BLOCK;
        // X[r][c] (r ≥ c) is panel[r − j0][c − j0]; U[n−1−r][n−1−c] = X[r][c].
        for ((pr, pc), &v) in panel.indexed_iter() {
            let (r, c) = (j0 + pr, j0 + pc);
            if r >= c {
                u[(n - 1 - r) * n + (n - 1 - c)] = v as f32;
            }
        }
    }
    Ok(u)
}

/// Min-max parameters of every `(row, group)` of `w` (`[rows, cols]` row-major) before any
/// update ("static"); for a per-tensor scheme, the single tensor entry on every row.
fn static_params(
    w: &[f32],
    rows: usize,
    cols: usize,
    scheme: &QuantScheme,
) -> Result<Vec<GroupParams>, KernelError> {
    if scheme.granularity == Granularity::Tensor {
        return Ok(vec![rtn_params(w, scheme)?; rows]);
    }
    let g = scheme.group_len(cols);
    let per_row: Result<Vec<Vec<GroupParams>>, KernelError> = w
        .par_chunks(cols)
        .map(|r| r.chunks(g).map(|c| rtn_params(c, scheme)).collect())
        .collect();
    Ok(per_row?.into_iter().flatten().collect())
}

/// The layer-input Hessian GPTQ uses, `H = 2·XᵀX / n`, of inputs `x` (`[n, cols]`).
pub fn layer_hessian(x: ArrayView2<f32>) -> Array2<f32> {
    let n = x.nrows().max(1) as f32;
    x.t().dot(&x) * (2.0 / n)
}

/// Quantizes `w` (`[rows, cols]`) with GPTQ given the layer-input Hessian `H = 2·XᵀX`
/// (`[cols, cols]`). Group parameters come from min-max ranges (RTN) of the updated weights.
pub fn quantize_gptq(
    w: ArrayView2<f32>,
    hessian: ArrayView2<f32>,
    scheme: &QuantScheme,
    opts: &GptqOptions,
) -> Result<QuantizedTensor, KernelError> {
    scheme.validate()?;
    opts.validate()?;
    let (rows, cols) = w.dim();
    if rows == 0 || cols == 0 {
        return Err(KernelError::Shape(format!(
            "cannot quantize an empty {rows}x{cols} matrix"
        )));
    }
    if w.iter().any(|v| !v.is_finite()) {
        return Err(non_finite_error());
    }
    let hp = prepare_hessian(hessian, cols, opts, upper_cholesky_of_inverse)?;
    let natural: Vec<f32> = w
        .rows()
        .into_iter()
        .flat_map(|r| {
            r.iter()
                .enumerate()
                .map(|(c, &v)| if hp.dead[c] { 0.0 } else { v })
                .collect::<Vec<_>>()
        })
        .collect();
    // Working copy in processing (permuted) column order.
    let mut wp = vec![0.0f32; rows * cols];
    for (dst, src) in wp.chunks_mut(cols).zip(natural.chunks(cols)) {
        for (j, &pj) in hp.perm.iter().enumerate() {
            dst[j] = src[pj];
        }
    }
    let g = scheme.group_len(cols);
    let n_groups = cols.div_ceil(g);
    let dynamic_groups = matches!(scheme.granularity, Granularity::Group(_)) && !opts.act_order;
    // One parameter slot per (row, group); a tensor-level scheme repeats its single entry
    // on every row so all granularities share the row-chunked loop below.
    let tensor_level = scheme.granularity == Granularity::Tensor;
    let mut params = if dynamic_groups {
        vec![GroupParams::new(1.0, 0); rows * n_groups]
    } else {
        static_params(&natural, rows, cols, scheme)?
    };
    // Group (in natural order) of each processed column.
    let group_of: Vec<usize> = hp.perm.iter().map(|&c| c / g).collect();
    let block = if dynamic_groups {
        opts.block_size.div_ceil(g) * g
    } else {
        opts.block_size
    };
    let (qmin, qmax) = (scheme.qmin() as f32, scheme.qmax() as f32);
    let u = &hp.u;
    let mut qp = vec![0i8; rows * cols];

    for i1 in (0..cols).step_by(block) {
        let i2 = (i1 + block).min(cols);
        let nb = i2 - i1;
        let u_block = ArrayView2::from_shape((nb, cols), &u[i1 * cols..i2 * cols])
            .map_err(|e| KernelError::Shape(e.to_string()))?;
        let u_tail = u_block.slice(s![.., i2..]);
        wp.par_chunks_mut(cols * ROW_CHUNK)
            .zip(qp.par_chunks_mut(cols * ROW_CHUNK))
            .zip(params.par_chunks_mut(n_groups * ROW_CHUNK))
            .try_for_each(|((wc, qc), pc)| -> Result<(), KernelError> {
                let nr = wc.len() / cols;
                let mut err = Array2::<f32>::zeros((nr, nb));
                for (r, ((row, qrow), prow)) in wc
                    .chunks_mut(cols)
                    .zip(qc.chunks_mut(cols))
                    .zip(pc.chunks_mut(n_groups))
                    .enumerate()
                {
                    for i in i1..i2 {
                        if dynamic_groups && i % g == 0 {
                            let end = (i + g).min(cols);
                            prow[i / g] = rtn_params(&row[i..end], scheme)?;
                        }
                        let p = prow[group_of[i]];
                        let x = row[i];
                        let code = encode_one(x, p.inv, p.zero as f32, qmin, qmax);
                        qrow[i] = code;
                        let deq = (f32::from(code) - p.zero as f32) * p.scale;
                        let e = (x - deq) / u[i * cols + i];
                        let urow = &u[i * cols + i + 1..i * cols + i2];
                        for (wv, &uv) in row[i + 1..i2].iter_mut().zip(urow) {
                            *wv -= e * uv;
                        }
                        err[[r, i - i1]] = e;
                    }
                }
                if i2 < cols {
                    let mut wv = ArrayViewMut2::from_shape((nr, cols), wc)
                        .map_err(|e| KernelError::Shape(e.to_string()))?;
                    let mut tail = wv.slice_mut(s![.., i2..]);
                    general_mat_mul(-1.0, &err, &u_tail, 1.0, &mut tail);
                }
                Ok(())
            })?;
    }
    // Back to natural column order.
    let mut q = vec![0i8; rows * cols];
    for (dst, src) in q.chunks_mut(cols).zip(qp.chunks(cols)) {
        for (j, &pj) in hp.perm.iter().enumerate() {
            dst[pj] = src[j];
        }
    }
    let params = if tensor_level {
        &params[..1]
    } else {
        &params[..]
    };
    assemble(rows, cols, scheme, q, params)
}

/// Reference implementation for tests: textbook GPTQ in f64 — explicit inverse by
/// Gauss-Jordan, plain Cholesky of it, every update applied immediately (no blocks), all rows
/// of a column at once. Same group rules as [`quantize_gptq`].
#[cfg(test)]
fn quantize_gptq_reference(
    w: ArrayView2<f32>,
    hessian: ArrayView2<f32>,
    scheme: &QuantScheme,
    opts: &GptqOptions,
) -> Result<QuantizedTensor, KernelError> {
    scheme.validate()?;
    opts.validate()?;
    let (rows, cols) = w.dim();
    let hp = prepare_hessian(hessian, cols, opts, |h| {
        let n = h.nrows();
        let flat: Vec<f64> = h.iter().copied().collect();
        let inv = gauss_jordan_inverse(&flat, n)?;
        // Upper factor U with UᵀU = inv: plain Cholesky–Banachiewicz on inv.
        let mut u = vec![0.0f64; n * n];
        for i in 0..n {
            for j in i..n {
                let mut sum = inv[i * n + j];
                for k in 0..i {
                    sum -= u[k * n + i] * u[k * n + j];
                }
                if i == j {
                    if sum <= 0.0 {
                        return Err(KernelError::Numerical("not positive definite".into()));
                    }
                    u[i * n + i] = sum.sqrt();
                } else {
                    u[i * n + j] = sum / u[i * n + i];
                }
            }
        }
        Ok(u.into_iter().map(|v| v as f32).collect())
    })?;
    let n = cols;
    let mut natural = w.to_owned();
    for c in 0..cols {
        if hp.dead[c] {
            natural.column_mut(c).fill(0.0);
        }
    }
    let mut wp = Array2::<f64>::zeros((rows, cols));
    for r in 0..rows {
        for (j, &pj) in hp.perm.iter().enumerate() {
            wp[[r, j]] = f64::from(natural[[r, pj]]);
        }
    }
    let g = scheme.group_len(cols);
    let n_groups = cols.div_ceil(g);
    let dynamic_groups = matches!(scheme.granularity, Granularity::Group(_)) && !opts.act_order;
    let flat: Vec<f32> = natural.iter().copied().collect();
    let mut params = if dynamic_groups {
        vec![GroupParams::new(1.0, 0); rows * n_groups]
    } else {
        static_params(&flat, rows, cols, scheme)?
    };
    let (qmin, qmax) = (scheme.qmin() as f32, scheme.qmax() as f32);
    let mut qp = Array2::<i8>::zeros((rows, cols));
    for i in 0..n {
        let orig = hp.perm[i];
        for r in 0..rows {
            let p = match scheme.granularity {
                Granularity::Tensor => params[0],
                _ => {
                    if dynamic_groups && i % g == 0 {
                        let vals: Vec<f32> =
                            (i..(i + g).min(n)).map(|c| wp[[r, c]] as f32).collect();
                        params[r * n_groups + i / g] = rtn_params(&vals, scheme)?;
                    }
                    params[r * n_groups + orig / g]
                }
            };
            let x = wp[[r, i]] as f32;
            let code = (x * (1.0 / p.scale) + p.zero as f32)
                .clamp(qmin, qmax)
                .round_ties_even();
            qp[[r, i]] = code as i8;
            let deq = f64::from((code - p.zero as f32) * p.scale);
            let e = (wp[[r, i]] - deq) / f64::from(hp.u[i * n + i]);
            for j in i + 1..n {
                wp[[r, j]] -= e * f64::from(hp.u[i * n + j]);
            }
        }
    }
    let mut q = vec![0i8; rows * cols];
    for r in 0..rows {
        for (j, &pj) in hp.perm.iter().enumerate() {
            q[r * cols + pj] = qp[[r, j]];
        }
    }
    let per_tensor = scheme.granularity == Granularity::Tensor;
    assemble(
        rows,
        cols,
        scheme,
        q,
        if per_tensor { &params[..1] } else { &params },
    )
}

/// Inverse of a `[n, n]` matrix by Gauss-Jordan with partial pivoting (reference only).
#[cfg(test)]
fn gauss_jordan_inverse(a: &[f64], n: usize) -> Result<Vec<f64>, KernelError> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0f64; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for c in 0..n {
        let piv = (c..n)
            .max_by(|&x, &y| m[x * n + c].abs().total_cmp(&m[y * n + c].abs()))
            .unwrap_or(c);
        if m[piv * n + c] == 0.0 {
            return Err(KernelError::Numerical("singular matrix".into()));
        }
        for k in 0..n {
            m.swap(c * n + k, piv * n + k);
            inv.swap(c * n + k, piv * n + k);
        }
        let d = m[c * n + c];
        for k in 0..n {
            m[c * n + k] /= d;
            inv[c * n + k] /= d;
        }
        for r in 0..n {
            if r != c {
                let f = m[r * n + c];
                if f != 0.0 {
                    for k in 0..n {
                        m[r * n + k] -= f * m[c * n + k];
                        inv[r * n + k] -= f * inv[c * n + k];
                    }
                }
            }
        }
    }
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_hessian_is_twice_the_mean_outer_product() {
        // X = [[1, 2], [3, 4]]: XᵀX = [[10, 14], [14, 20]]; 2·XᵀX / 2 rows = the same.
        let x = ndarray::array![[1.0f32, 2.0], [3.0, 4.0]];
        assert_eq!(
            layer_hessian(x.view()),
            ndarray::array![[10.0f32, 14.0], [14.0, 20.0]]
        );
    }
    use crate::kernels::quant::{dequantize, quantize, QuantMethod};
    use ndarray::Array2;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    /// Correlated inputs: X = Z·M with a random mixing matrix, plus per-feature scales.
    fn correlated_inputs(n: usize, d: usize, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let nd = Normal::new(0.0f32, 1.0).unwrap();
        let z = Array2::from_shape_simple_fn((n, d), || nd.sample(&mut rng));
        let m = Array2::from_shape_simple_fn((d, d), || nd.sample(&mut rng)) * 0.3
            + Array2::<f32>::eye(d);
        let mut x = z.dot(&m);
        for (c, mut col) in x.columns_mut().into_iter().enumerate() {
            col *= 0.2 + (c % 7) as f32 * 0.4;
        }
        x
    }

    fn hessian(x: &Array2<f32>) -> Array2<f32> {
        x.t().dot(x) * 2.0
    }

    fn weights(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let nd = Normal::new(0.0f32, 0.02).unwrap();
        Array2::from_shape_simple_fn((rows, cols), || nd.sample(&mut rng))
    }

    fn output_error(x: &Array2<f32>, w: &Array2<f32>, w_hat: &Array2<f32>) -> f64 {
        let d = x.dot(&(w - w_hat).t());
        d.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
    }

    #[test]
    fn upper_cholesky_of_inverse_matches_explicit_inverse() {
        // n = 150 spans three Cholesky blocks (64) with a partial last one.
        let x = correlated_inputs(300, 150, 1);
        let hv: Array2<f64> = hessian(&x).mapv(f64::from);
        let n = 150;
        let u = upper_cholesky_of_inverse(hv.clone()).unwrap();
        let flat: Vec<f64> = hv.iter().copied().collect();
        let inv = gauss_jordan_inverse(&flat, n).unwrap();
        let scale = inv.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        for i in 0..n {
            for j in 0..n {
                if j < i {
                    assert_eq!(u[i * n + j], 0.0, "U must be upper triangular");
                }
                let utu: f64 = (0..n)
                    .map(|k| f64::from(u[k * n + i]) * f64::from(u[k * n + j]))
                    .sum();
                // U is stored in f32: tolerance 1e-5 of the largest entry.
                assert!((utu - inv[i * n + j]).abs() <= 1e-5 * scale, "({i},{j})");
            }
        }
    }

    #[test]
    fn blocked_cholesky_and_inverse_are_exact() {
        let x = correlated_inputs(200, 130, 8);
        let a = hessian(&x).mapv(f64::from);
        let mut l = a.clone();
        cholesky_lower(&mut l).unwrap();
        // L·Lᵀ reproduces A (tolerance 1e-10 of the largest entry).
        let llt = l.dot(&l.t());
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (x, y) in llt.iter().zip(a.iter()) {
            assert!((x - y).abs() <= 1e-10 * scale);
        }
        let panels = lower_triangular_inverse_panels(&l);
        let mut inv = Array2::<f64>::zeros((130, 130));
        for (jb, p) in panels.iter().enumerate() {
            let j0 = jb * CHOL_BLOCK;
            inv.slice_mut(s![j0.., j0..j0 + p.ncols()]).assign(p);
        }
        for ((i, j), v) in l.dot(&inv).indexed_iter() {
            let want = if i == j { 1.0 } else { 0.0 };
            assert!((v - want).abs() < 1e-9, "({i},{j}) {v}");
        }
    }

    #[test]
    fn cholesky_rejects_indefinite() {
        // [[1, 2], [2, 1]] has eigenvalues 3 and −1.
        let mut a = ndarray::array![[1.0f64, 2.0], [2.0, 1.0]];
        assert!(matches!(
            cholesky_lower(&mut a),
            Err(KernelError::Numerical(_))
        ));
    }

    #[test]
    fn gptq_matches_reference_twin() {
        // Tolerance: blocked f32 vs unblocked f64 may round a handful of codes differently;
        // at least 99% identical codes and output error within 2%.
        let x = correlated_inputs(256, 150, 2);
        let h = hessian(&x);
        let w = weights(40, 150, 3);
        for (scheme, act_order) in [
            (QuantScheme::new(4, true, Granularity::Group(32)), false),
            (QuantScheme::new(4, false, Granularity::Group(64)), false),
            (QuantScheme::new(4, false, Granularity::Group(32)), true),
            (QuantScheme::new(3, true, Granularity::Channel), true),
            (QuantScheme::new(8, false, Granularity::Tensor), false),
        ] {
            let opts = GptqOptions {
                block_size: 48,
                act_order,
                ..Default::default()
            };
            let fast = quantize_gptq(w.view(), h.view(), &scheme, &opts).unwrap();
            let slow = quantize_gptq_reference(w.view(), h.view(), &scheme, &opts).unwrap();
            let same = fast.q.iter().zip(&slow.q).filter(|(a, b)| a == b).count();
            assert!(
                same as f64 >= 0.99 * fast.q.len() as f64,
                "{scheme:?}: {same}"
            );
            let ef = output_error(&x, &w, &dequantize(&fast).unwrap());
            let es = output_error(&x, &w, &dequantize(&slow).unwrap());
            assert!((ef - es).abs() <= 0.02 * es, "{scheme:?}: {ef} vs {es}");
        }
    }

    #[test]
    fn gptq_beats_rtn_on_output_error() {
        let x = correlated_inputs(512, 128, 4);
        let h = hessian(&x);
        let w = weights(64, 128, 5);
        for (scheme, act_order) in [
            (QuantScheme::new(4, true, Granularity::Channel), false),
            (QuantScheme::new(4, false, Granularity::Group(32)), false),
            (QuantScheme::new(3, true, Granularity::Group(64)), true),
        ] {
            let opts = GptqOptions {
                act_order,
                ..Default::default()
            };
            let g =
                dequantize(&quantize_gptq(w.view(), h.view(), &scheme, &opts).unwrap()).unwrap();
            let r = dequantize(&quantize(w.view(), &scheme, QuantMethod::Rtn).unwrap()).unwrap();
            let (eg, er) = (output_error(&x, &w, &g), output_error(&x, &w, &r));
            assert!(
                eg < 0.8 * er,
                "{scheme:?} act_order={act_order}: gptq {eg} vs rtn {er}"
            );
        }
    }

    #[test]
    fn gptq_handles_dead_columns_and_validates() {
        let mut x = correlated_inputs(64, 20, 6);
        x.column_mut(3).fill(0.0);
        let h = hessian(&x);
        let w = weights(8, 20, 7);
        let scheme = QuantScheme::new(4, true, Granularity::Group(8));
        let q = quantize_gptq(w.view(), h.view(), &scheme, &GptqOptions::default()).unwrap();
        assert!(dequantize(&q).unwrap().column(3).iter().all(|&v| v == 0.0));
        let bad = GptqOptions {
            block_size: 0,
            ..Default::default()
        };
        match quantize_gptq(w.view(), h.view(), &scheme, &bad) {
            Err(KernelError::InvalidParameter { field, .. }) => {
                assert_eq!(field, "gptq.block_size")
            }
            other => panic!("{other:?}"),
        }
        let small = Array2::<f32>::eye(5);
        assert!(matches!(
            quantize_gptq(w.view(), small.view(), &scheme, &GptqOptions::default()),
            Err(KernelError::Shape(_))
        ));
        let s9 = QuantScheme::new(9, true, Granularity::Channel);
        assert!(quantize_gptq(w.view(), h.view(), &s9, &GptqOptions::default()).is_err());
    }
}
