//! MLP kernel benchmarks: GEMM throughput at the training shapes of a 64→256→256→10 MLP
//! (whittle's kernel vs ndarray/matrixmultiply vs the `gemm` crate) and training throughput.
//!
//! Before the criterion groups, prints one JSON line per end-to-end run (the setup of the
//! PyTorch and scikit-learn baselines: Adam lr 1e-3, batch 64, relu): digits 30 epochs and a seeded synthetic
//! 100k×64 10-class set (80k train) for 5 epochs, with samples/s and test accuracy.
//! Set `WHITTLE_BENCH_E2E=0` to skip them.

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use ndarray::{Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::hint::black_box;
use std::time::{Duration, Instant};
use whittle::kernels::nn::matmul::{matmul, no_epilogue, StridedMat};
use whittle::kernels::nn::metrics::accuracy;
use whittle::kernels::nn::{
    train, Activation, Init, Loss, Mlp, NoopObserver, OptimizerConfig, Targets, TrainConfig,
};

fn read_digits(name: &str) -> (Array2<f32>, Vec<usize>) {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut reader = csv::Reader::from_path(&path).expect("digits fixture");
    let mut features = Vec::new();
    let mut labels = Vec::new();
    let mut cols = 0;
    for record in reader.records() {
        let record = record.expect("csv record");
        cols = record.len() - 1;
        for f in record.iter().take(cols) {
            features.push(f.parse::<f32>().expect("feature"));
        }
        labels.push(record[cols].parse::<f64>().expect("label") as usize);
    }
    (
        Array2::from_shape_vec((labels.len(), cols), features).expect("shape"),
        labels,
    )
}

/// Gaussian clusters: 10 classes, 32 informative dimensions (class centroids drawn from
/// N(0, 0.7²)) plus 32 pure-noise dimensions, unit noise everywhere.
fn synthetic(rows: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 1.0).expect("normal");
    let centroids = Array2::from_shape_fn((10, 32), |_| 0.7 * normal.sample(&mut rng));
    let mut x = Array2::<f32>::zeros((rows, 64));
    let mut labels = Vec::with_capacity(rows);
    for mut row in x.axis_iter_mut(Axis(0)) {
        let class = rng.random_range(0..10usize);
        labels.push(class);
        for (j, v) in row.iter_mut().enumerate() {
            let center = if j < 32 { centroids[[class, j]] } else { 0.0 };
            *v = center + normal.sample(&mut rng);
        }
    }
    (x, labels)
}

fn adam_cfg(epochs: usize) -> TrainConfig {
    TrainConfig::new(Loss::CrossEntropy, OptimizerConfig::adam(1e-3), epochs)
}

fn fresh_model(seed: u64) -> Mlp {
    Mlp::new_initialized(
        &[64, 256, 256, 10],
        Activation::Relu,
        Activation::Identity,
        Init::HeUniform,
        seed,
    )
    .expect("model")
}

/// Process CPU seconds (user + system) from `/proc/self/stat`; on a machine shared with
/// other work this is a steadier single-thread figure than wall time. `None` off Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every mainstream Linux configuration.
    Some(ticks / 100.0)
}

fn end_to_end(
    name: &str,
    train_set: (&Array2<f32>, &[usize]),
    test_set: (&Array2<f32>, &[usize]),
    epochs: usize,
) {
    let y = Targets::Classification {
        labels: train_set.1.to_vec(),
        n_classes: 10,
    };
    let mut model = fresh_model(0);
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    train(
        &mut model,
        train_set.0.view(),
        &y,
        None,
        &adam_cfg(epochs),
        None,
        &mut NoopObserver,
    )
    .expect("training");
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_start.and_then(|c0| cpu_seconds().map(|c1| c1 - c0));
    let pred = model.predict_classes(test_set.0.view()).expect("predict");
    let acc = accuracy(test_set.1, &pred).expect("accuracy");
    let samples = (epochs * train_set.0.nrows()) as f64;
    let per_cpu_s = cpu
        .filter(|c| *c > 0.0)
        .map_or("null".to_string(), |c| format!("{:.0}", samples / c));
    println!(
        "{{\"bench\":\"nn_train\",\"run\":\"{name}\",\"threads\":{},\"epochs\":{epochs},\"train_s\":{secs:.4},\"samples_per_s\":{:.0},\"samples_per_cpu_s\":{per_cpu_s},\"test_acc\":{acc:.4}}}",
        rayon::current_num_threads(),
        samples / secs
    );
}

fn run_end_to_end() {
    let (x, labels) = read_digits("digits_train.csv");
    let (xt, lt) = read_digits("digits_test.csv");
    let (sx, sl) = synthetic(100_000, 42);
    let (s_train, s_test) = sx.view().split_at(Axis(0), 80_000);
    let (s_train, s_test) = (s_train.to_owned(), s_test.to_owned());
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| {
            end_to_end("digits_30ep", (&x, &labels), (&xt, &lt), 30);
            end_to_end(
                "synthetic_100k_5ep",
                (&s_train, &sl[..80_000]),
                (&s_test, &sl[80_000..]),
                5,
            );
        });
    }
}

/// `(m, n, k, label)` of `C[m×n] = A[m×k]·B[k×n]` for the 64→256→256→10 MLP at batch 64, in
/// the batch-major naming of the brief (forward `X·Wᵀ`, backward `dY·W` and `dYᵀ·X`).
const SHAPES: [(usize, usize, usize, &str); 4] = [
    (64, 256, 64, "64x64x256"),
    (64, 256, 256, "64x256x256"),
    (256, 64, 64, "256x64x64_T"),
    (256, 256, 64, "256x64x256_T"),
];

fn bench_gemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(700));
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for &(m, n, k, label) in &SHAPES {
        let a: Vec<f32> = (0..m * k).map(|_| rng.random_range(-1.0..1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let mut out = vec![0.0f32; m * n];
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));
        group.bench_function(BenchmarkId::new("whittle", label), |bench| {
            bench.iter(|| {
                matmul(
                    m,
                    n,
                    k,
                    StridedMat::row_major(&a, k),
                    &b,
                    n,
                    &mut out,
                    n,
                    &no_epilogue,
                    false,
                )
                .expect("matmul");
                black_box(&out);
            })
        });
        group.bench_function(BenchmarkId::new("whittle_a_transposed", label), |bench| {
            bench.iter(|| {
                matmul(
                    m,
                    n,
                    k,
                    StridedMat::transposed(&a, m),
                    &b,
                    n,
                    &mut out,
                    n,
                    &no_epilogue,
                    false,
                )
                .expect("matmul");
                black_box(&out);
            })
        });
        let aa = Array2::from_shape_vec((m, k), a.clone()).expect("a");
        let bb = Array2::from_shape_vec((k, n), b.clone()).expect("b");
        let mut cc = Array2::<f32>::zeros((m, n));
        group.bench_function(BenchmarkId::new("ndarray", label), |bench| {
            bench.iter(|| {
                ndarray::linalg::general_mat_mul(1.0, &aa, &bb, 0.0, &mut cc);
                black_box(&cc);
            })
        });
        group.bench_function(BenchmarkId::new("gemm_crate", label), |bench| {
            bench.iter(|| {
                // SAFETY: a, b, out hold m×k, k×n, m×n row-major matrices.
                unsafe {
                    gemm::gemm(
                        m,
                        n,
                        k,
                        out.as_mut_ptr(),
                        1,
                        n as isize,
                        false,
                        a.as_ptr(),
                        1,
                        k as isize,
                        b.as_ptr(),
                        1,
                        n as isize,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
                black_box(&out);
            })
        });
    }
    group.finish();
}

fn bench_train_epoch(c: &mut Criterion) {
    let (x, labels) = read_digits("digits_train.csv");
    let y = Targets::Classification {
        labels,
        n_classes: 10,
    };
    let mut group = c.benchmark_group("train");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(x.nrows() as u64));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    group.bench_function("train_epoch_digits_1thread", |bench| {
        bench.iter(|| {
            pool.install(|| {
                let mut model = fresh_model(0);
                train(
                    &mut model,
                    x.view(),
                    &y,
                    None,
                    &adam_cfg(1),
                    None,
                    &mut NoopObserver,
                )
                .expect("train");
                black_box(model)
            })
        })
    });
    group.bench_function("train_epoch_digits", |bench| {
        bench.iter(|| {
            let mut model = fresh_model(0);
            train(
                &mut model,
                x.view(),
                &y,
                None,
                &adam_cfg(1),
                None,
                &mut NoopObserver,
            )
            .expect("train");
            black_box(model)
        })
    });
    group.finish();
}

fn bench_inference(c: &mut Criterion) {
    let (xt, _) = read_digits("digits_test.csv");
    let model = fresh_model(0);
    let mut group = c.benchmark_group("inference");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(xt.nrows() as u64));
    group.bench_function("predict_proba_digits_test", |bench| {
        bench.iter(|| black_box(model.predict_proba(xt.view()).expect("predict")))
    });
    group.finish();
}

criterion_group!(benches, bench_gemm, bench_train_epoch, bench_inference);

fn main() {
    if std::env::var("WHITTLE_BENCH_E2E").map_or(true, |v| v != "0") {
        run_end_to_end();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
