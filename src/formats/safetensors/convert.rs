//! Float conversions between tensor bytes and f32: F64, F32, F16, BF16 and the F8 formats
//! to f32, and f32 to F64, F32, F16 and BF16. Large tensors are converted in parallel chunks.
//!
//! F16 (both ways) and the BF16 encoder go through the `half` crate, whose F16 slice
//! conversions use the CPU's F16C instructions when present (several times faster than a
//! scalar loop). BF16 decoding is a shift, and `half` has no FP8 types, so the F8 decoders
//! are written out here.

use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};
use rayon::prelude::*;

use super::{at_tensor, Dtype, TensorRef};
use crate::formats::FormatError;

/// Tensors above this many elements are converted in parallel.
const PARALLEL_CONVERT_MIN: usize = 1 << 20;

/// F16 values staged per block for `half`'s slice conversions (1 KiB: stays in L1).
const F16_BLOCK: usize = 512;

/// Convert a float tensor to f32 (F32, F64 rounded to nearest, F16, BF16, F8_E4M3, F8_E5M2
/// exactly). Other dtypes → an error naming the tensor.
pub fn to_f32(t: &TensorRef<'_>) -> Result<Vec<f32>, FormatError> {
    let mut out = Vec::new();
    to_f32_into(t, &mut out)?;
    Ok(out)
}

/// Like [`to_f32`] but reuses `out` (resized to the element count) to avoid reallocation
/// when streaming many tensors.
pub fn to_f32_into(t: &TensorRef<'_>, out: &mut Vec<f32>) -> Result<(), FormatError> {
    let width = match t.dtype {
        Dtype::F64 => 8,
        Dtype::F32 => 4,
        Dtype::F16 | Dtype::BF16 => 2,
        Dtype::F8_E4M3 | Dtype::F8_E5M2 => 1,
        other => {
            return Err(at_tensor(
                t.name,
                format!(
                    "dtype {other} cannot be read as float32 (supported: F64, F32, F16, BF16, F8_E4M3, F8_E5M2)"
                ),
            ))
        }
    };
    if !t.data.len().is_multiple_of(width) {
        return Err(at_tensor(
            t.name,
            format!(
                "{} bytes is not a multiple of the {width}-byte {} element",
                t.data.len(),
                t.dtype
            ),
        ));
    }
    let n = t.data.len() / width;
    // Every element is overwritten below; only growth needs filling, so a reused buffer of
    // the same size is not zeroed again.
    out.truncate(n);
    out.resize(n, 0.0);
    let convert = |src: &[u8], dst: &mut [f32]| match t.dtype {
        Dtype::F64 => convert_chunk(src, dst, |b: [u8; 8]| f64::from_le_bytes(b) as f32),
        Dtype::F32 => convert_chunk(src, dst, f32::from_le_bytes),
        Dtype::F16 => f16_chunk_to_f32(src, dst),
        Dtype::BF16 => convert_chunk(src, dst, |b: [u8; 2]| bf16_to_f32(u16::from_le_bytes(b))),
        Dtype::F8_E4M3 => convert_chunk(src, dst, |b: [u8; 1]| f8_e4m3_to_f32(b[0])),
        _ => convert_chunk(src, dst, |b: [u8; 1]| f8_e5m2_to_f32(b[0])),
    };
    if n >= PARALLEL_CONVERT_MIN {
        const CHUNK: usize = 1 << 16;
        t.data
            .par_chunks(CHUNK * width)
            .zip(out.par_chunks_mut(CHUNK))
            .for_each(|(src, dst)| convert(src, dst));
    } else {
        convert(t.data, out);
    }
    Ok(())
}

#[inline]
fn convert_chunk<const W: usize>(src: &[u8], dst: &mut [f32], f: impl Fn([u8; W]) -> f32) {
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(W)) {
        // chunks_exact(W) always yields W bytes, so the conversion cannot fail.
        if let Ok(bytes) = <[u8; W]>::try_from(s) {
            *d = f(bytes);
        }
    }
}

/// Encode f32 values as little-endian bytes of `dtype` (F32, F64, F16 and BF16 with
/// round-to-nearest-even; NaN stays NaN, overflow becomes ±inf).
pub fn from_f32(values: &[f32], dtype: Dtype) -> Result<Vec<u8>, FormatError> {
    let width = match dtype {
        Dtype::F64 => 8,
        Dtype::F32 => 4,
        Dtype::F16 | Dtype::BF16 => 2,
        other => {
            return Err(FormatError::Unsupported(format!(
                "cannot encode float32 values as {other} (supported: F32, F64, F16, BF16)"
            )))
        }
    };
    let mut out = vec![0u8; values.len() * width];
    let encode = |src: &[f32], dst: &mut [u8]| match dtype {
        Dtype::F64 => encode_chunk(src, dst, |v| f64::from(v).to_le_bytes()),
        Dtype::F32 => encode_chunk(src, dst, f32::to_le_bytes),
        Dtype::F16 => f32_chunk_to_f16(src, dst),
        _ => encode_chunk(src, dst, |v| f32_to_bf16(v).to_le_bytes()),
    };
    if values.len() >= PARALLEL_CONVERT_MIN {
        const CHUNK: usize = 1 << 16;
        values
            .par_chunks(CHUNK)
            .zip(out.par_chunks_mut(CHUNK * width))
            .for_each(|(src, dst)| encode(src, dst));
    } else {
        encode(values, &mut out);
    }
    Ok(out)
}

#[inline]
fn encode_chunk<const W: usize>(src: &[f32], dst: &mut [u8], f: impl Fn(f32) -> [u8; W]) {
    for (d, &v) in dst.chunks_exact_mut(W).zip(src) {
        d.copy_from_slice(&f(v));
    }
}

/// Little-endian F16 bytes → f32 through `half`'s vector conversion, one staged block at a time.
fn f16_chunk_to_f32(src: &[u8], dst: &mut [f32]) {
    let mut block = [f16::ZERO; F16_BLOCK];
    for (s, d) in src.chunks(2 * F16_BLOCK).zip(dst.chunks_mut(F16_BLOCK)) {
        let block = &mut block[..d.len()];
        for (h, b) in block.iter_mut().zip(s.chunks_exact(2)) {
            *h = f16::from_bits(u16::from_le_bytes([b[0], b[1]]));
        }
        block.convert_to_f32_slice(d);
        // The vector conversion quiets signalling NaNs; redo any NaN with the exact scalar path.
        for (v, h) in d.iter_mut().zip(block.iter()) {
            if v.is_nan() {
                *v = f16_to_f32(h.to_bits());
            }
        }
    }
}

/// f32 → little-endian F16 bytes through `half`'s vector conversion, one staged block at a time.
fn f32_chunk_to_f16(src: &[f32], dst: &mut [u8]) {
    let mut block = [f16::ZERO; F16_BLOCK];
    for (s, d) in src.chunks(F16_BLOCK).zip(dst.chunks_mut(2 * F16_BLOCK)) {
        let block = &mut block[..s.len()];
        block.convert_from_f32_slice(s);
        for (b, h) in d.chunks_exact_mut(2).zip(block.iter()) {
            b.copy_from_slice(&h.to_bits().to_le_bytes());
        }
    }
}

/// IEEE binary16 bits → f32, exact (subnormals, ±inf and NaN payloads included).
#[inline]
pub fn f16_to_f32(h: u16) -> f32 {
    if h & 0x7c00 == 0x7c00 && h & 0x03ff != 0 {
        // `half` sets the quiet bit of a signalling NaN; keep the stored payload bit for bit.
        let (sign, payload) = (u32::from(h & 0x8000) << 16, u32::from(h & 0x03ff) << 13);
        return f32::from_bits(sign | 0x7f80_0000 | payload);
    }
    f16::from_bits(h).to_f32()
}

/// bfloat16 bits → f32 (exact: bf16 is the top half of an f32).
#[inline]
pub fn bf16_to_f32(h: u16) -> f32 {
    // The shift is the whole conversion; `bf16::to_f32` would also quiet signalling NaNs.
    f32::from_bits(u32::from(h) << 16)
}

/// OCP FP8 E4M3 ("fn": no infinities, S.1111.111 is NaN) → f32, exact.
#[inline]
pub fn f8_e4m3_to_f32(b: u8) -> f32 {
    let sign = u32::from(b & 0x80) << 24;
    let exp = u32::from((b >> 3) & 0xf);
    let mant = u32::from(b & 0x7);
    let bits = if exp == 0xf && mant == 0x7 {
        sign | 0x7fc0_0000
    } else if exp != 0 {
        sign | ((exp + 120) << 23) | (mant << 20)
    } else {
        // Subnormal: mant × 2^-9.
        sign | (mant as f32 * f32::from_bits(0x3b00_0000)).to_bits()
    };
    f32::from_bits(bits)
}

/// OCP FP8 E5M2 → f32, exact (E5M2 is the top byte of an IEEE binary16).
#[inline]
pub fn f8_e5m2_to_f32(b: u8) -> f32 {
    f16_to_f32(u16::from(b) << 8)
}

/// f32 → IEEE binary16 bits, round to nearest, ties to even; overflow → ±inf, NaN → quiet NaN.
/// (The bulk encoder uses `half`'s slice conversion; this scalar twin checks it in the tests.)
#[cfg(test)]
fn f32_to_f16(x: f32) -> u16 {
    f16::from_f32(x).to_bits()
}

/// f32 → bfloat16 bits, round to nearest, ties to even; NaN → quiet NaN.
#[inline]
pub fn f32_to_bf16(x: f32) -> u16 {
    bf16::from_f32(x).to_bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f16_reference(h: u16) -> f64 {
        let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
        let exp = i32::from((h >> 10) & 0x1f);
        let mant = f64::from(h & 0x3ff);
        match exp {
            0 => sign * mant * 2f64.powi(-24),
            31 if mant == 0.0 => sign * f64::INFINITY,
            31 => f64::NAN,
            _ => sign * (1.0 + mant / 1024.0) * 2f64.powi(exp - 15),
        }
    }

    fn same_value(got: f32, want: f64, what: &str) {
        if want.is_nan() {
            assert!(got.is_nan(), "{what}: expected NaN, got {got}");
        } else {
            assert_eq!(f64::from(got), want, "{what}");
            assert_eq!(
                got.is_sign_negative(),
                want.is_sign_negative(),
                "{what}: sign"
            );
        }
    }

    #[test]
    fn f16_decoding_exhaustive() {
        for h in 0..=u16::MAX {
            let got = f16_to_f32(h);
            same_value(got, f16_reference(h), &format!("f16 {h:#06x}"));
            if got.is_nan() {
                // Payload and sign survive, so a round trip keeps the bits.
                assert_eq!((got.to_bits() >> 13) & 0x3ff, u32::from(h & 0x3ff));
                assert_eq!(got.is_sign_negative(), h & 0x8000 != 0);
            }
        }
        // Spot values worked out by hand.
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24)); // smallest subnormal
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24)); // largest subnormal
    }

    #[test]
    fn bf16_decoding_exhaustive() {
        for h in 0..=u16::MAX {
            let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
            let exp = i32::from((h >> 7) & 0xff);
            let mant = f64::from(h & 0x7f);
            let want = match exp {
                0 => sign * mant * 2f64.powi(-133),
                255 if mant == 0.0 => sign * f64::INFINITY,
                255 => f64::NAN,
                _ => sign * (1.0 + mant / 128.0) * 2f64.powi(exp - 127),
            };
            same_value(bf16_to_f32(h), want, &format!("bf16 {h:#06x}"));
        }
    }

    #[test]
    fn f8_decoding_exhaustive() {
        for b in 0..=u8::MAX {
            let sign = if b & 0x80 != 0 { -1.0 } else { 1.0 };
            // E4M3 (fn): bias 7, no infinities, only S.1111.111 is NaN, max 448.
            let (e, m) = (i32::from((b >> 3) & 0xf), f64::from(b & 7));
            let want = match (e, b & 7) {
                (15, 7) => f64::NAN,
                (0, _) => sign * m / 8.0 * 2f64.powi(-6),
                _ => sign * (1.0 + m / 8.0) * 2f64.powi(e - 7),
            };
            same_value(f8_e4m3_to_f32(b), want, &format!("e4m3 {b:#04x}"));
            // E5M2: bias 15, IEEE-like.
            let (e, m) = (i32::from((b >> 2) & 0x1f), f64::from(b & 3));
            let want = match e {
                0 => sign * m / 4.0 * 2f64.powi(-14),
                31 if m == 0.0 => sign * f64::INFINITY,
                31 => f64::NAN,
                _ => sign * (1.0 + m / 4.0) * 2f64.powi(e - 15),
            };
            same_value(f8_e5m2_to_f32(b), want, &format!("e5m2 {b:#04x}"));
        }
        assert_eq!(f8_e4m3_to_f32(0x7e), 448.0);
    }

    #[test]
    fn f16_encoding_round_trips_and_rounds_to_even() {
        for h in 0..=u16::MAX {
            let x = f16_to_f32(h);
            if x.is_nan() {
                assert!(f16_to_f32(f32_to_f16(x)).is_nan());
                continue;
            }
            assert_eq!(f32_to_f16(x), h, "round trip {h:#06x}");
        }
        // Between each pair of adjacent non-negative finite f16 values, the exact midpoint
        // (representable in f32) rounds to the even one, and one f32 ulp either side rounds
        // to the nearer one.
        for h in 0..0x7bffu16 {
            let (lo, hi) = (f64::from(f16_to_f32(h)), f64::from(f16_to_f32(h + 1)));
            let mid = ((lo + hi) / 2.0) as f32;
            assert_eq!(f64::from(mid), (lo + hi) / 2.0, "midpoint exact");
            let even = if h % 2 == 0 { h } else { h + 1 };
            assert_eq!(f32_to_f16(mid), even, "tie at {h:#06x}");
            assert_eq!(f32_to_f16(-mid), even | 0x8000);
            assert_eq!(f32_to_f16(f32::from_bits(mid.to_bits() - 1)), h);
            assert_eq!(f32_to_f16(f32::from_bits(mid.to_bits() + 1)), h + 1);
        }
        // Overflow: 65504 is the max; the midpoint to the next (virtual) step 65536 is 65520.
        assert_eq!(f32_to_f16(65519.996), 0x7bff);
        assert_eq!(f32_to_f16(65520.0), 0x7c00);
        assert_eq!(f32_to_f16(-1e10), 0xfc00);
        assert_eq!(f32_to_f16(1e-10), 0x0000);
        assert_eq!(f32_to_f16(f32::from_bits(1)), 0);
    }

    #[test]
    fn bf16_encoding_round_trips_and_rounds_to_even() {
        for h in 0..=u16::MAX {
            let x = bf16_to_f32(h);
            if x.is_nan() {
                assert!(bf16_to_f32(f32_to_bf16(x)).is_nan());
                continue;
            }
            assert_eq!(f32_to_bf16(x), h, "round trip {h:#06x}");
            if h & 0x7fff >= 0x7f7f {
                continue; // the step above the largest finite value is infinity
            }
            // Midpoint to the next bf16 is the f32 with bit 15 set.
            let mid = f32::from_bits((u32::from(h) << 16) | 0x8000);
            let even = if h % 2 == 0 { h } else { h + 1 };
            assert_eq!(f32_to_bf16(mid), even, "tie at {h:#06x}");
            assert_eq!(f32_to_bf16(f32::from_bits(mid.to_bits() - 1)), h);
            assert_eq!(f32_to_bf16(f32::from_bits(mid.to_bits() + 1)), h + 1);
        }
        assert_eq!(f32_to_bf16(f32::MAX), 0x7f80, "rounds up to infinity");
    }

    #[test]
    fn parallel_conversion_matches_scalar() {
        let n = PARALLEL_CONVERT_MIN + 12_345;
        let bits: Vec<u16> = (0..n)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761) as u16)
            .collect();
        let data: Vec<u8> = bits.iter().flat_map(|b| b.to_le_bytes()).collect();
        let shape = [n];
        let t = TensorRef {
            name: "x",
            dtype: Dtype::F16,
            shape: &shape,
            data: &data,
        };
        let got = to_f32(&t).unwrap();
        assert_eq!(got.len(), n);
        for (i, (&g, &b)) in got.iter().zip(&bits).enumerate() {
            assert_eq!(g.to_bits(), f16_to_f32(b).to_bits(), "element {i}");
        }
        // The parallel encoder agrees with the scalar one, element by element.
        for dtype in [Dtype::F16, Dtype::BF16] {
            let bytes = from_f32(&got, dtype).unwrap();
            assert_eq!(bytes.len(), 2 * n);
            for (i, (chunk, &v)) in bytes.chunks_exact(2).zip(&got).enumerate() {
                let want = if dtype == Dtype::F16 {
                    f32_to_f16(v)
                } else {
                    f32_to_bf16(v)
                };
                assert_eq!(
                    u16::from_le_bytes([chunk[0], chunk[1]]),
                    want,
                    "element {i}"
                );
            }
        }
        let t = TensorRef {
            dtype: Dtype::F64,
            data: &data[..16],
            shape: &[2],
            name: "d",
        };
        assert_eq!(to_f32(&t).unwrap().len(), 2);
        let mut buf: Vec<u8> = vec![0; 12];
        let off = (0..4)
            .find(|o| !(buf.as_ptr() as usize + o).is_multiple_of(4))
            .unwrap();
        buf[off..off + 4].copy_from_slice(&1.0f32.to_le_bytes());
        let t = TensorRef {
            name: "m",
            dtype: Dtype::F32,
            shape: &[1],
            data: &buf[off..off + 4],
        };
        assert!(
            t.as_f32_slice().is_none(),
            "misaligned data is not reinterpreted"
        );
        assert_eq!(to_f32(&t).unwrap(), [1.0]);
        assert!(TensorRef {
            dtype: Dtype::BF16,
            ..t
        }
        .as_f32_slice()
        .is_none());
        let odd = TensorRef {
            dtype: Dtype::F32,
            data: &data[..6],
            shape: &[1],
            name: "o",
        };
        assert!(to_f32(&odd).is_err());
    }

    #[test]
    fn f16_and_bf16_conversions_hand_worked() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14));
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x83ff), -1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(bf16_to_f32(0x3f80), 1.0);
        assert_eq!(bf16_to_f32(0xc049), -3.140625);
        // Every finite f16 converts to the value its fields encode.
        for bits in 0..=0x7bffu16 {
            let e = (bits >> 10) as i32;
            let m = (bits & 0x3ff) as f64;
            let want = if e == 0 {
                m * 2f64.powi(-24)
            } else {
                (1.0 + m / 1024.0) * 2f64.powi(e - 15)
            };
            assert_eq!(f16_to_f32(bits) as f64, want, "bits {bits:#x}");
        }
    }
}
