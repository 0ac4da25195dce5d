//! Pruning throughput: global magnitude pruning of one 4096×4096 f32 matrix (N(0, 0.02²),
//! seed 0) at 1 and 2 rayon threads. Throughput = input bytes (64 MiB) / time.
//! `cutoff` = exact selection only; `masks` = selection + bool mask; `apply` = selection +
//! in-place zeroing (the input is re-cloned outside the timed region).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::hint::black_box;
use std::time::Duration;
use whittle::kernels::prune::{global_magnitude_cutoff, magnitude_masks, nm_mask, Scope};

fn weights() -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let normal = Normal::new(0.0f32, 0.02).unwrap_or_else(|_| unreachable!());
    Array2::from_shape_simple_fn((4096, 4096), || normal.sample(&mut rng))
}

fn bench(c: &mut Criterion) {
    let w = weights();
    let bytes = (w.len() * std::mem::size_of::<f32>()) as u64;
    let mut g = c.benchmark_group("prune_4096x4096");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(bytes));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap_or_else(|e| panic!("thread pool: {e}"));
        g.bench_function(format!("global_cutoff_s0.5_t{threads}"), |b| {
            b.iter(|| pool.install(|| global_magnitude_cutoff(&[w.view()], black_box(0.5))))
        });
        g.bench_function(format!("global_masks_s0.5_t{threads}"), |b| {
            b.iter(|| pool.install(|| magnitude_masks(&[w.view()], black_box(0.5), Scope::Global)))
        });
        g.bench_function(format!("global_apply_s0.5_t{threads}"), |b| {
            b.iter_batched_ref(
                || w.clone(),
                |x| {
                    pool.install(|| {
                        let cut = global_magnitude_cutoff(&[x.view()], 0.5)?;
                        cut.apply(0, x.view_mut())
                    })
                },
                BatchSize::LargeInput,
            )
        });
        g.bench_function(format!("nm_2_4_t{threads}"), |b| {
            b.iter(|| pool.install(|| nm_mask(w.view(), 2, 4)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
