//! Quality measures of transformer outputs: next-token negative log-likelihood (perplexity)
//! and top-1 agreement for decoders, embedding fidelity (cosine, Spearman ρ of pairwise
//! similarities, nearest-neighbour agreement) for encoders.
use candle_core::Tensor;

use super::ce;
use crate::kernels::KernelError;

/// Per-position log-softmax statistics of `(positions, vocab)` logits: the negative
/// log-likelihood of `targets[i]` at row `i`, and each row's argmax.
pub fn nll_and_argmax(
    logits: &Tensor,
    targets: &[u32],
) -> Result<(Vec<f64>, Vec<u32>), KernelError> {
    let rows = logits.to_vec2::<f32>().map_err(ce)?;
    if rows.len() != targets.len() {
        return Err(KernelError::Shape(format!(
            "{} logit rows for {} targets",
            rows.len(),
            targets.len()
        )));
    }
    let mut nll = Vec::with_capacity(rows.len());
    let mut top = Vec::with_capacity(rows.len());
    for (row, &target) in rows.iter().zip(targets) {
        let (best, max) = argmax(row);
        let sum: f64 = row.iter().map(|&x| ((x - max) as f64).exp()).sum();
        let log_z = max as f64 + sum.ln();
        let t = row
            .get(target as usize)
            .ok_or_else(|| KernelError::Shape(format!("target {target} outside the vocabulary")))?;
        nll.push(log_z - *t as f64);
        top.push(best as u32);
    }
    Ok((nll, top))
}

/// Each row's argmax of `(rows, classes)` logits.
pub fn argmax_rows(logits: &Tensor) -> Result<Vec<u32>, KernelError> {
    let rows = logits.to_vec2::<f32>().map_err(ce)?;
    Ok(rows.iter().map(|r| argmax(r).0 as u32).collect())
}

/// Index and value of the largest element (the first of ties).
fn argmax(row: &[f32]) -> (usize, f32) {
    let (mut best, mut max) = (0usize, f32::NEG_INFINITY);
    for (i, &x) in row.iter().enumerate() {
        if x > max {
            (best, max) = (i, x);
        }
    }
    (best, max)
}

/// `exp(mean nll)`.
pub fn perplexity(nll: &[f64]) -> f64 {
    if nll.is_empty() {
        return f64::NAN;
    }
    (nll.iter().sum::<f64>() / nll.len() as f64).exp()
}

/// Fraction of positions where two models' argmax agree.
pub fn agreement(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return f64::NAN;
    }
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x as f64, y as f64);
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// Cosine similarity of every pair `i < j` of `emb`, in a fixed order.
pub fn pairwise(emb: &[Vec<f32>]) -> Vec<f64> {
    let mut out = Vec::with_capacity(emb.len() * emb.len().saturating_sub(1) / 2);
    for i in 0..emb.len() {
        for j in i + 1..emb.len() {
            out.push(cosine(&emb[i], &emb[j]));
        }
    }
    out
}

/// Average ranks (ties share their mean rank).
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0f64; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = rank;
        }
        i = j + 1;
    }
    r
}

/// Spearman's ρ: Pearson correlation of the ranks (NaN for fewer than 2 values or a
/// constant side).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() || a.len() < 2 {
        return f64::NAN;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut cov, mut va, mut vb) = (0f64, 0f64, 0f64);
    for (x, y) in ra.iter().zip(&rb) {
        cov += (x - ma) * (y - mb);
        va += (x - ma) * (x - ma);
        vb += (y - mb) * (y - mb);
    }
    if va == 0.0 || vb == 0.0 {
        f64::NAN
    } else {
        cov / (va.sqrt() * vb.sqrt())
    }
}

/// For each embedding, the index of its most similar other embedding (cosine).
pub fn nearest_neighbours(emb: &[Vec<f32>]) -> Vec<usize> {
    (0..emb.len())
        .map(|i| {
            let mut best = (usize::MAX, f64::NEG_INFINITY);
            for j in 0..emb.len() {
                if j != i {
                    let c = cosine(&emb[i], &emb[j]);
                    if c > best.1 {
                        best = (j, c);
                    }
                }
            }
            best.0
        })
        .collect()
}

/// How far a candidate's sentence embeddings are from a reference's on the same texts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct EmbeddingFidelity {
    pub mean_cosine: f64,
    pub min_cosine: f64,
    /// Spearman ρ between the two models' pairwise similarities (None for < 3 texts).
    pub spearman: Option<f64>,
    /// Fraction of texts whose nearest neighbour is the same in both (None for < 3 texts).
    pub neighbour_agreement: Option<f64>,
}

pub fn embedding_fidelity(reference: &[Vec<f32>], candidate: &[Vec<f32>]) -> EmbeddingFidelity {
    let cos: Vec<f64> = reference
        .iter()
        .zip(candidate)
        .map(|(a, b)| cosine(a, b))
        .collect();
    let n = cos.len().max(1) as f64;
    let enough = reference.len() >= 3;
    EmbeddingFidelity {
        mean_cosine: cos.iter().sum::<f64>() / n,
        min_cosine: cos.iter().copied().fold(f64::INFINITY, f64::min),
        spearman: enough
            .then(|| spearman(&pairwise(reference), &pairwise(candidate)))
            .filter(|r| r.is_finite()),
        neighbour_agreement: enough.then(|| {
            let (a, b) = (nearest_neighbours(reference), nearest_neighbours(candidate));
            a.iter().zip(&b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_matches_hand_values() {
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // scipy.stats.spearmanr([1,2,2,3],[1,3,2,4]) = 0.9486832980505139
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]);
        assert!((r - 0.9486832980505139).abs() < 1e-12, "{r}");
    }

    #[test]
    fn nll_is_log_softmax() {
        let logits = Tensor::new(
            &[[0f32, 1.0, 2.0], [5.0, 0.0, 0.0]],
            &candle_core::Device::Cpu,
        )
        .unwrap();
        let (nll, top) = nll_and_argmax(&logits, &[2, 1]).unwrap();
        let z0 = (1f64 + 1f64.exp() + 2f64.exp()).ln();
        assert!((nll[0] - (z0 - 2.0)).abs() < 1e-6);
        let z1 = (5f64.exp() + 2.0).ln();
        assert!((nll[1] - z1).abs() < 1e-6);
        assert_eq!(top, vec![2, 0]);
        assert!((perplexity(&[0.0, 0.0]) - 1.0).abs() < 1e-12);
    }
}
