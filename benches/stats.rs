//! Benchmarks for the analyze path: tensor statistics over a large f32 tensor, BF16/F16 → f32
//! conversion of a memory-resident tensor, and CSV dataset parsing of the digits fixture.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use whittle::formats::dataset::{parse_csv, CsvOptions};
use whittle::formats::safetensors::{from_f32, to_f32_into, Dtype, TensorRef};
use whittle::kernels::stats::{tensor_stats, DEFAULT_BINS};

/// 16 Mi elements = 64 MiB of f32: larger than L2, like a big LLM weight matrix.
const N: usize = 1 << 24;

fn weights(n: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    (0..n)
        .map(|_| (rng.random::<f32>() + rng.random::<f32>() - 1.0) * 0.05)
        .collect()
}

fn bench_stats(c: &mut Criterion) {
    let w = weights(N);
    let mut g = c.benchmark_group("stats");
    g.sample_size(10);
    g.throughput(Throughput::Bytes((N * 4) as u64));
    g.bench_function("tensor_stats_16M_f32", |b| {
        b.iter(|| tensor_stats(black_box(&w), DEFAULT_BINS))
    });
    g.finish();
}

fn bench_convert(c: &mut Criterion) {
    let w = weights(N);
    let mut g = c.benchmark_group("convert");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    let shape = [N];
    for dtype in [Dtype::BF16, Dtype::F16, Dtype::F32] {
        let data = from_f32(&w, dtype).expect("encodable dtype");
        let t = TensorRef {
            name: "w",
            dtype,
            shape: &shape,
            data: &data,
        };
        // Reusing the output buffer, as the analyze job does across tensors: a fresh 64 MiB
        // allocation per call would mostly measure page faults.
        let mut out = Vec::new();
        g.bench_function(format!("to_f32_into_16M_{dtype}"), |b| {
            b.iter(|| to_f32_into(black_box(&t), &mut out))
        });
    }
    g.bench_function("from_f32_16M_BF16", |b| {
        b.iter(|| from_f32(black_box(&w), Dtype::BF16))
    });
    g.finish();
}

fn bench_csv(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/digits_train.csv"
    );
    let bytes = std::fs::read(path).expect("digits fixture");
    let mut g = c.benchmark_group("dataset");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("parse_csv_digits_train", |b| {
        b.iter(|| parse_csv(black_box(&bytes[..]), &CsvOptions::default()))
    });
    g.finish();
}

criterion_group!(benches, bench_stats, bench_convert, bench_csv);
criterion_main!(benches);
