//! Row splits for model selection: k-fold, stratified k-fold (scikit-learn's `KFold` /
//! `StratifiedKFold` allocation) and a holdout split. Indices in each returned set are sorted
//! ascending so row gathers stay sequential.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::kernels::KernelError;

/// One split of rows `0..n` into training and test indices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fold {
    /// Training rows, ascending.
    pub train: Vec<usize>,
    /// Test rows, ascending.
    pub test: Vec<usize>,
}

fn check_k(n: usize, k: usize) -> Result<(), KernelError> {
    if k < 2 {
        return Err(KernelError::invalid(
            "k",
            format!("need at least 2 folds, got {k}"),
        ));
    }
    if k > n {
        return Err(KernelError::invalid(
            "k",
            format!("{k} folds but only {n} rows"),
        ));
    }
    Ok(())
}

/// Fold assignment → folds (test = rows assigned to fold `i`).
fn folds_from_assignment(assign: &[usize], k: usize) -> Vec<Fold> {
    (0..k)
        .map(|f| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..assign.len()).partition(|&i| assign[i] == f);
            Fold { train, test }
        })
        .collect()
}

/// `k` folds over `n` rows: fold sizes differ by at most one (the first `n % k` folds get the
/// extra row); with `shuffle`, rows are permuted by `seed` first.
pub fn kfold_indices(
    n: usize,
    k: usize,
    seed: u64,
    shuffle: bool,
) -> Result<Vec<Fold>, KernelError> {
    check_k(n, k)?;
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    }
    let mut assign = vec![0usize; n];
    let mut pos = 0;
    for f in 0..k {
        let size = n / k + usize::from(f < n % k);
        for &row in order.iter().skip(pos).take(size) {
            if let Some(slot) = assign.get_mut(row) {
                *slot = f;
            }
        }
        pos += size;
    }
    Ok(folds_from_assignment(&assign, k))
}

/// Stratified `k` folds: every fold holds each class in proportion (per-class counts differ by
/// at most one across folds) and fold sizes stay balanced. Classes are numbered by first
/// appearance; within a class rows go to folds in row order, or in a `seed`-shuffled order with
/// `shuffle` (scikit-learn's allocation).
pub fn stratified_kfold_indices<L: PartialEq>(
    labels: &[L],
    k: usize,
    seed: u64,
    shuffle: bool,
) -> Result<Vec<Fold>, KernelError> {
    let n = labels.len();
    check_k(n, k)?;
    // Encode classes by first appearance (labels need only equality).
    let mut classes: Vec<&L> = Vec::new();
    let encoded: Vec<usize> = labels
        .iter()
        .map(|l| match classes.iter().position(|c| *c == l) {
            Some(i) => i,
            None => {
                classes.push(l);
                classes.len() - 1
            }
        })
        .collect();
    let n_classes = classes.len();
    let mut counts = vec![0usize; n_classes];
    for &c in &encoded {
        if let Some(slot) = counts.get_mut(c) {
            *slot += 1;
        }
    }
    if counts.iter().all(|&c| c < k) {
        return Err(KernelError::invalid(
            "k",
            format!("{k} folds but no class has that many rows"),
        ));
    }
    // Deal the class-sorted rows round-robin: allocation[c][f] = rows of class c in fold f.
    let mut sorted = encoded.clone();
    sorted.sort_unstable();
    let mut allocation = vec![vec![0usize; k]; n_classes];
    for (i, &c) in sorted.iter().enumerate() {
        if let Some(slot) = allocation.get_mut(c).and_then(|a| a.get_mut(i % k)) {
            *slot += 1;
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut assign = vec![0usize; n];
    for (c, per_fold) in allocation.iter().enumerate() {
        let mut folds_for_class: Vec<usize> = per_fold
            .iter()
            .enumerate()
            .flat_map(|(f, &m)| std::iter::repeat_n(f, m))
            .collect();
        if shuffle {
            folds_for_class.shuffle(&mut rng);
        }
        let rows = assign.iter_mut().zip(&encoded).filter(|(_, &e)| e == c);
        for ((slot, _), f) in rows.zip(folds_for_class) {
            *slot = f;
        }
    }
    Ok(folds_from_assignment(&assign, k))
}

/// Train/test split with `ceil(test_fraction · n)` test rows (scikit-learn's rounding): a
/// `seed`-shuffled choice, or the last rows without `shuffle`.
pub fn holdout_split(
    n: usize,
    test_fraction: f64,
    seed: u64,
    shuffle: bool,
) -> Result<Fold, KernelError> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(KernelError::invalid("test_fraction", "must be in (0, 1)"));
    }
    let n_test = (test_fraction * n as f64).ceil() as usize;
    if n_test == 0 || n_test >= n {
        return Err(KernelError::invalid(
            "test_fraction",
            format!(
                "leaves {} training and {n_test} test rows out of {n}",
                n.saturating_sub(n_test)
            ),
        ));
    }
    let mut order: Vec<usize> = (0..n).collect();
    let (mut train, mut test) = if shuffle {
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let test = order.split_off(n - n_test);
        (order, test)
    } else {
        let test = order.split_off(n - n_test);
        (order, test)
    };
    train.sort_unstable();
    test.sort_unstable();
    Ok(Fold { train, test })
}

/// Holds out `round(fraction · size)` rows of every class (at most all but one of each),
/// chosen by a `seed`-shuffle within the class: the validation split of a training run.
/// Labels at or past `n_classes` are left out of both sets; a regression set passes one class.
pub fn stratified_holdout(labels: &[usize], n_classes: usize, fraction: f64, seed: u64) -> Fold {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_5711);
    let mut groups = vec![Vec::new(); n_classes];
    for (i, &l) in labels.iter().enumerate() {
        if let Some(g) = groups.get_mut(l) {
            g.push(i);
        }
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for mut g in groups {
        g.shuffle(&mut rng);
        let k = ((g.len() as f64) * fraction).round() as usize;
        let k = k.min(g.len().saturating_sub(1));
        test.extend_from_slice(&g[..k]);
        train.extend_from_slice(&g[k..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    Fold { train, test }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_partition(folds: &[Fold], n: usize) {
        let mut seen = vec![0usize; n];
        for f in folds {
            for &i in &f.test {
                seen[i] += 1;
            }
            let mut all: Vec<usize> = f.train.iter().chain(&f.test).copied().collect();
            all.sort_unstable();
            assert_eq!(
                all,
                (0..n).collect::<Vec<_>>(),
                "train ∪ test = all rows, disjoint"
            );
        }
        assert!(
            seen.iter().all(|&s| s == 1),
            "every row is tested exactly once"
        );
    }

    #[test]
    fn kfold_sizes_and_partition() {
        let folds = kfold_indices(10, 3, 0, false).unwrap();
        assert_eq!(
            folds.iter().map(|f| f.test.len()).collect::<Vec<_>>(),
            vec![4, 3, 3]
        );
        assert_eq!(folds[0].test, vec![0, 1, 2, 3]);
        assert_partition(&folds, 10);
        let a = kfold_indices(50, 5, 7, true).unwrap();
        assert_eq!(a, kfold_indices(50, 5, 7, true).unwrap());
        assert_ne!(a, kfold_indices(50, 5, 8, true).unwrap());
        assert_partition(&a, 50);
        for (n, k) in [(10, 1), (3, 4)] {
            match kfold_indices(n, k, 0, false) {
                Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, "k"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn stratified_keeps_class_proportions() {
        // 3 classes with 50 / 30 / 17 rows, interleaved irregularly.
        let mut labels = Vec::new();
        for i in 0..97 {
            labels.push(match i % 7 {
                0 | 3 | 5 if labels.iter().filter(|&&l| l == "b").count() < 30 => "b",
                2 | 6 if labels.iter().filter(|&&l| l == "c").count() < 17 => "c",
                _ => "a",
            });
        }
        let count = |c| labels.iter().filter(|&&l| l == c).count();
        let (na, nb, nc) = (count("a"), count("b"), count("c"));
        assert_eq!(na + nb + nc, 97);
        for shuffle in [false, true] {
            let k = 5;
            let folds = stratified_kfold_indices(&labels, k, 3, shuffle).unwrap();
            assert_partition(&folds, 97);
            for (class, total) in [("a", na), ("b", nb), ("c", nc)] {
                for f in &folds {
                    let in_fold = f.test.iter().filter(|&&i| labels[i] == class).count();
                    // Proportional share total/k, within ±1.
                    let share = total as f64 / k as f64;
                    assert!(
                        (in_fold as f64 - share).abs() < 1.0 + 1e-9,
                        "{class}: {in_fold} vs {share}"
                    );
                }
            }
            let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
            assert!(
                sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
                "{sizes:?}"
            );
        }
        assert_ne!(
            stratified_kfold_indices(&labels, 5, 1, true).unwrap(),
            stratified_kfold_indices(&labels, 5, 2, true).unwrap()
        );
        match stratified_kfold_indices(&["x", "y", "x", "y"], 3, 0, false) {
            Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, "k"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn holdout_rounding_and_errors() {
        let f = holdout_split(10, 0.25, 0, false).unwrap();
        assert_eq!(f.test, vec![7, 8, 9]); // ceil(2.5) = 3
        assert_eq!(f.train, (0..7).collect::<Vec<_>>());
        let s = holdout_split(100, 0.2, 5, true).unwrap();
        assert_eq!(s.test.len(), 20);
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(s, holdout_split(100, 0.2, 5, true).unwrap());
        for (n, t) in [(10, 0.0), (10, 1.0), (1, 0.5)] {
            match holdout_split(n, t, 0, true) {
                Err(KernelError::InvalidParameter { field, .. }) => {
                    assert_eq!(field, "test_fraction")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn stratified_holdout_keeps_class_shares_and_a_training_row() {
        // 10 rows of class 0, 5 of class 1, 1 of class 2.
        let mut labels = vec![0; 10];
        labels.extend([1; 5]);
        labels.push(2);
        let f = stratified_holdout(&labels, 3, 0.2, 7);
        let count = |rows: &[usize], c: usize| rows.iter().filter(|&&i| labels[i] == c).count();
        // round(0.2 · 10) = 2, round(0.2 · 5) = 1, and the lone class-2 row stays in training.
        assert_eq!(
            (count(&f.test, 0), count(&f.test, 1), count(&f.test, 2)),
            (2, 1, 0)
        );
        assert_eq!(f.train.len() + f.test.len(), labels.len());
        assert!(f.train.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(f, stratified_holdout(&labels, 3, 0.2, 7), "seeded");
        assert_ne!(f.test, stratified_holdout(&labels, 3, 0.2, 8).test);
    }
}
