//! Weight quantization throughput on a 4096×4096 f32 N(0, 0.02²) matrix (seed 0), the same
//! matrix the numpy, PyTorch and GGUF (llama.cpp) baselines quantize in their Python scripts.
//! GB/s counts the 67.1 MB f32 input once. Also prints one JSON line of quality figures.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::time::Duration;
use whittle::formats::compressed_tensors::{compressed_entries, CompressionFormat};
use whittle::kernels::quant::{
    dequantize, quantize, quantized_error_report, Granularity, QuantMethod, QuantScheme, ScaleDtype,
};

const N: usize = 4096;

fn matrix() -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let normal = Normal::new(0.0f32, 0.02).expect("valid normal");
    Array2::from_shape_simple_fn((N, N), || normal.sample(&mut rng))
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

fn int8_channel() -> QuantScheme {
    QuantScheme::new(8, true, Granularity::Channel)
}

fn int4_g128() -> QuantScheme {
    QuantScheme::new(4, false, Granularity::Group(128)).with_scale_dtype(ScaleDtype::F16)
}

fn int4_g32_sym() -> QuantScheme {
    QuantScheme::new(4, true, Granularity::Group(32)).with_scale_dtype(ScaleDtype::F16)
}

/// One JSON line with SQNR and bits/weight of the headline schemes (deterministic).
fn print_quality(w: &Array2<f32>) {
    let cases = [
        ("rtn_int8_channel_sym", int8_channel(), QuantMethod::Rtn),
        ("rtn_int4_g128_asym_f16", int4_g128(), QuantMethod::Rtn),
        ("mse_int4_g128_asym_f16", int4_g128(), QuantMethod::Mse),
        ("mse_int4_g32_sym_f16", int4_g32_sym(), QuantMethod::Mse),
    ];
    let mut fields = Vec::new();
    for (name, scheme, method) in cases {
        let q = quantize(w.view(), &scheme, method).expect("quantize");
        let r = quantized_error_report(w.view(), &q).expect("report");
        fields.push(format!(
            "\"{name}\":{{\"sqnr_db\":{:.3},\"mse\":{:.4e},\"bits_per_weight\":{:.4}}}",
            r.sqnr_db,
            r.mse,
            r.bits_per_weight.unwrap_or(f64::NAN)
        ));
    }
    println!("{{\"bench\":\"quant_quality\",{}}}", fields.join(","));
}

fn bench_quant(c: &mut Criterion) {
    let w = matrix();
    print_quality(&w);
    let bytes = (N * N * std::mem::size_of::<f32>()) as u64;

    let mut g = c.benchmark_group("quant_rtn");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(20).warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    for threads in [1usize, 2] {
        let p = pool(threads);
        for (name, scheme) in [
            ("int8_channel_sym", int8_channel()),
            ("int4_g128_asym", int4_g128()),
        ] {
            g.bench_with_input(
                BenchmarkId::new(name, format!("{threads}t")),
                &scheme,
                |b, s| {
                    b.iter(|| {
                        p.install(|| quantize(w.view(), s, QuantMethod::Rtn).expect("quantize"))
                    })
                },
            );
        }
    }
    g.finish();

    let p = pool(2);
    let q4 = quantize(w.view(), &int4_g128(), QuantMethod::Rtn).expect("quantize");
    let mut g = c.benchmark_group("quant_other_2t");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10).warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("dequantize_int4_g128", |b| {
        b.iter(|| p.install(|| dequantize(&q4).expect("dequantize")))
    });
    g.bench_function("pack_quantized_entries_int4_g128", |b| {
        b.iter(|| {
            p.install(|| {
                compressed_entries("m.weight", &q4, CompressionFormat::PackQuantized)
                    .expect("entries")
            })
        })
    });
    g.bench_function("mse_int4_g32_sym", |b| {
        b.iter(|| p.install(|| quantize(w.view(), &int4_g32_sym(), QuantMethod::Mse).expect("mse")))
    });
    g.finish();
}

criterion_group!(benches, bench_quant);
criterion_main!(benches);
