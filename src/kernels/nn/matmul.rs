//! The dense matrix product behind MLP training and inference.
//!
//! All three products of a dense layer are written as `C = A·B` where `B` is row-major with
//! unit column stride and `A` is read one element at a time through arbitrary strides, so no
//! operand ever needs packing or a transpose copy:
//!
//! * forward `Zᵀ[out×n] = W[out×in] · Hᵀ[in×n]` (activations are kept feature-major),
//! * input gradient `dHᵀ[in×n] = Wᵀ · dZᵀ` (`A` = `W` read with swapped strides),
//! * weight gradient `dW[out×in] = dZᵀ[out×n] · H[n×in]` (`H` batch-major).
//!
//! The AVX-512 micro-kernel keeps a 6×64 tile of `C` in 24 zmm registers and streams rows of
//! `B`; a portable kernel (auto-vectorized, AVX2+FMA when available) covers other CPUs.
//! Every output element is a sum over `k` in the same order whatever the tiling or thread
//! split, so results do not depend on the number of threads.

use crate::kernels::KernelError;

/// Rows of `C` per micro-kernel tile.
const MR: usize = 6;
/// Columns of `C` per micro-kernel tile (four 16-lane vectors).
const NR: usize = 64;
/// Below this many multiply-adds a product runs on one thread: a `rayon::join` costs a few
/// microseconds, a 2M-FMA product about 15 µs per thread. In a 64→256→256→10 MLP at batch 64
/// only the three 256×256 products (4.2M) split.
const PARALLEL_MIN_FMAS: usize = 2 << 20;

/// A read-only matrix operand addressed as `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct StridedMat<'a> {
    /// Backing storage.
    pub data: &'a [f32],
    /// Distance between consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive columns.
    pub col_stride: usize,
}

impl<'a> StridedMat<'a> {
    /// A row-major matrix with leading dimension `ld`.
    pub fn row_major(data: &'a [f32], ld: usize) -> Self {
        StridedMat {
            data,
            row_stride: ld,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major matrix with leading dimension `ld`.
    pub fn transposed(data: &'a [f32], ld: usize) -> Self {
        StridedMat {
            data,
            row_stride: 1,
            col_stride: ld,
        }
    }

    fn fits(&self, rows: usize, cols: usize) -> bool {
        if rows == 0 || cols == 0 {
            return true;
        }
        let last = (rows - 1).checked_mul(self.row_stride).and_then(|r| {
            (cols - 1)
                .checked_mul(self.col_stride)
                .and_then(|c| r.checked_add(c))
        });
        matches!(last, Some(l) if l < self.data.len())
    }
}

/// Called on each finished row segment of `C`: `(row, first_column, values)`.
/// Used to fuse bias + activation (forward) or the activation derivative (backward).
pub type Epilogue<'e> = &'e (dyn Fn(usize, usize, &mut [f32]) + Sync);

/// An epilogue that leaves `C` as computed.
pub fn no_epilogue(_row: usize, _col: usize, _values: &mut [f32]) {}

/// `C[m×n] = A[m×k] · B[k×n]`, overwriting `C` (row-major, leading dimension `ldc`), then
/// `epilogue` on every row segment. `B` is row-major with leading dimension `ldb`.
/// With `parallel`, large products split their rows over the current rayon pool.
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    m: usize,
    n: usize,
    k: usize,
    a: StridedMat<'_>,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    epilogue: Epilogue<'_>,
    parallel: bool,
) -> Result<(), KernelError> {
    if m == 0 || n == 0 {
        return Ok(());
    }
    if !a.fits(m, k) {
        return Err(KernelError::Shape(format!(
            "matmul: A does not hold {m}×{k}"
        )));
    }
    if !StridedMat::row_major(b, ldb).fits(k, n) || (k > 0 && ldb < n) {
        return Err(KernelError::Shape(format!(
            "matmul: B does not hold {k}×{n}"
        )));
    }
    if ldc < n || !StridedMat::row_major(c, ldc).fits(m, n) {
        return Err(KernelError::Shape(format!(
            "matmul: C does not hold {m}×{n}"
        )));
    }
    let kernel = select_kernel();
    let ctx = Ctx {
        n,
        k,
        a,
        b,
        ldb,
        ldc,
        epilogue,
        kernel,
    };
    // One piece per thread, each at least half the threshold.
    let fmas = m * n * k;
    let pieces = if parallel && fmas >= PARALLEL_MIN_FMAS {
        rayon::current_num_threads()
            .min(fmas / (PARALLEL_MIN_FMAS / 2))
            .min(m / MR)
    } else {
        1
    };
    split_rows(&ctx, 0, m, c, pieces.max(1));
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kernel {
    Avx512,
    Avx2,
    Portable,
}

fn select_kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Kernel::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Kernel::Avx2;
        }
    }
    Kernel::Portable
}

struct Ctx<'a, 'e> {
    n: usize,
    k: usize,
    a: StridedMat<'a>,
    b: &'a [f32],
    ldb: usize,
    ldc: usize,
    epilogue: Epilogue<'e>,
    kernel: Kernel,
}

/// Runs rows `[row0, row0+rows)` as `pieces` contiguous parts of whole tiles, halving with
/// `rayon::join`; `c` starts at row `row0`.
fn split_rows(ctx: &Ctx<'_, '_>, row0: usize, rows: usize, c: &mut [f32], pieces: usize) {
    let tiles = rows.div_ceil(MR);
    if pieces < 2 || tiles < 2 {
        run_rows(ctx, row0, rows, c);
        return;
    }
    let left = pieces / 2;
    let top = (tiles * left / pieces).max(1) * MR;
    let (c_top, c_bottom) = c.split_at_mut(top * ctx.ldc);
    rayon::join(
        || split_rows(ctx, row0, top, c_top, left),
        || split_rows(ctx, row0 + top, rows - top, c_bottom, pieces - left),
    );
}

/// Computes rows `[row0, row0+rows)` of `C` into `c` (which starts at row `row0`).
fn run_rows(ctx: &Ctx<'_, '_>, row0: usize, rows: usize, c: &mut [f32]) {
    let mut j0 = 0;
    while j0 < ctx.n {
        let nc = NR.min(ctx.n - j0);
        let mut i = 0;
        while i < rows {
            let mr = MR.min(rows - i);
            // SAFETY: `matmul` checked that A holds m×k, B holds k×n and C holds m×n with the
            // given strides; the tile [row0+i, +mr) × [j0, +nc) lies inside those bounds and
            // `c` is the sub-slice starting at row `row0`.
            unsafe {
                let a_ptr = ctx.a.data.as_ptr().add((row0 + i) * ctx.a.row_stride);
                let b_ptr = ctx.b.as_ptr().add(j0);
                let c_ptr = c.as_mut_ptr().add(i * ctx.ldc + j0);
                let tile = Tile {
                    k: ctx.k,
                    a: a_ptr,
                    a_rs: ctx.a.row_stride,
                    a_cs: ctx.a.col_stride,
                    b: b_ptr,
                    ldb: ctx.ldb,
                    c: c_ptr,
                    ldc: ctx.ldc,
                };
                run_tile(ctx.kernel, &tile, mr, nc);
            }
            for r in 0..mr {
                let start = (i + r) * ctx.ldc + j0;
                if let Some(seg) = c.get_mut(start..start + nc) {
                    (ctx.epilogue)(row0 + i + r, j0, seg);
                }
            }
            i += mr;
        }
        j0 += nc;
    }
}

/// Raw pointers of one micro-kernel call: `mr` rows of `A` starting at `a`, the `k×nc` panel
/// of `B` starting at `b`, and the `mr×nc` tile of `C` starting at `c`.
struct Tile {
    k: usize,
    a: *const f32,
    a_rs: usize,
    a_cs: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
}

/// # Safety
/// Every pointer of `tile` must be valid for an `mr × nc` tile with `k` steps.
unsafe fn run_tile(kernel: Kernel, tile: &Tile, mr: usize, nc: usize) {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => avx512::dispatch(tile, mr, nc),
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => portable::tile_avx2(tile, mr, nc),
        _ => portable::tile(tile, mr, nc),
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::Tile;
    use std::arch::x86_64::*;

    /// # Safety
    /// AVX-512F must be available and `tile` valid for `mr × nc` (`mr ≤ 6`, `nc ≤ 64`).
    pub(super) unsafe fn dispatch(t: &Tile, mr: usize, nc: usize) {
        let nv = nc.div_ceil(16);
        // Lanes of the last vector that are inside C.
        let rem = nc - (nv - 1) * 16;
        let mask: __mmask16 = if rem == 16 { 0xffff } else { (1u16 << rem) - 1 };
        macro_rules! by_nv {
            ($mr:literal) => {
                match nv {
                    1 => kernel::<$mr, 1>(t, mask),
                    2 => kernel::<$mr, 2>(t, mask),
                    3 => kernel::<$mr, 3>(t, mask),
                    _ => kernel::<$mr, 4>(t, mask),
                }
            };
        }
        match mr {
            1 => by_nv!(1),
            2 => by_nv!(2),
            3 => by_nv!(3),
            4 => by_nv!(4),
            5 => by_nv!(5),
            _ => by_nv!(6),
        }
    }

    /// Transposes the 16×16 block at `src` (row stride `lds`) into `dst` (row stride `ldd`):
    /// 4×4 transposes inside 128-bit lanes (unpack ps/pd), then two rounds of lane shuffles.
    ///
    /// # Safety
    /// AVX-512F must be available; both blocks must be in bounds.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn transpose16(src: *const f32, lds: usize, dst: *mut f32, ldd: usize) {
        let mut r = [_mm512_setzero_ps(); 16];
        for (i, row) in r.iter_mut().enumerate() {
            *row = _mm512_loadu_ps(src.add(i * lds));
        }
        let mut t = [_mm512_setzero_ps(); 16];
        for i in 0..8 {
            t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
        }
        let lo = |a: __m512, b: __m512| {
            _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
        };
        let hi = |a: __m512, b: __m512| {
            _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
        };
        // r[4q+s], lane L = rows 4q..4q+3 of column 4L+s.
        for q in 0..4 {
            let (a, b, c, d) = (t[4 * q], t[4 * q + 1], t[4 * q + 2], t[4 * q + 3]);
            r[4 * q] = lo(a, c);
            r[4 * q + 1] = hi(a, c);
            r[4 * q + 2] = lo(b, d);
            r[4 * q + 3] = hi(b, d);
        }
        for q in 0..2 {
            for s in 0..4 {
                t[8 * q + s] = _mm512_shuffle_f32x4::<0x88>(r[8 * q + s], r[8 * q + 4 + s]);
                t[8 * q + 4 + s] = _mm512_shuffle_f32x4::<0xdd>(r[8 * q + s], r[8 * q + 4 + s]);
            }
        }
        // r[i] = column i.
        for s in 0..8 {
            r[s] = _mm512_shuffle_f32x4::<0x88>(t[s], t[8 + s]);
            r[8 + s] = _mm512_shuffle_f32x4::<0xdd>(t[s], t[8 + s]);
        }
        for (i, col) in r.iter().enumerate() {
            _mm512_storeu_ps(dst.add(i * ldd), *col);
        }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn kernel<const R: usize, const V: usize>(t: &Tile, last_mask: __mmask16) {
        let mut acc = [[_mm512_setzero_ps(); V]; R];
        let mut a = t.a;
        let mut b = t.b;
        for _ in 0..t.k {
            let mut bv = [_mm512_setzero_ps(); V];
            for (v, slot) in bv.iter_mut().enumerate() {
                *slot = if v + 1 == V {
                    _mm512_maskz_loadu_ps(last_mask, b.add(16 * v))
                } else {
                    _mm512_loadu_ps(b.add(16 * v))
                };
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let av = _mm512_set1_ps(*a.add(r * t.a_rs));
                for (slot, bvec) in row.iter_mut().zip(bv.iter()) {
                    *slot = _mm512_fmadd_ps(av, *bvec, *slot);
                }
            }
            a = a.add(t.a_cs);
            b = b.add(t.ldb);
        }
        for (r, row) in acc.iter().enumerate() {
            let c = t.c.add(r * t.ldc);
            for (v, value) in row.iter().enumerate() {
                if v + 1 == V {
                    _mm512_mask_storeu_ps(c.add(16 * v), last_mask, *value);
                } else {
                    _mm512_storeu_ps(c.add(16 * v), *value);
                }
            }
        }
    }
}

mod portable {
    use super::{Tile, NR};

    /// # Safety
    /// `tile` must be valid for `mr × nc` with `nc ≤ 64`.
    pub(super) unsafe fn tile(t: &Tile, mr: usize, nc: usize) {
        body::<false>(t, mr, nc)
    }

    /// # Safety
    /// AVX2 and FMA must be available and `tile` valid for `mr × nc`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn tile_avx2(t: &Tile, mr: usize, nc: usize) {
        body::<true>(t, mr, nc)
    }

    /// One row of C at a time, accumulating `a[i,p] · B[p,:]` into a stack row: the inner
    /// loop is a fixed-length axpy the compiler vectorizes. `FMA` selects fused multiply-add
    /// (without hardware FMA, `mul_add` would call a slow software routine).
    #[inline(always)]
    unsafe fn body<const FMA: bool>(t: &Tile, mr: usize, nc: usize) {
        for r in 0..mr {
            let mut acc = [0.0f32; NR];
            let acc = &mut acc[..nc];
            for p in 0..t.k {
                let av = *t.a.add(r * t.a_rs + p * t.a_cs);
                let brow = std::slice::from_raw_parts(t.b.add(p * t.ldb), nc);
                for (c, b) in acc.iter_mut().zip(brow) {
                    *c = if FMA {
                        av.mul_add(*b, *c)
                    } else {
                        *c + av * *b
                    };
                }
            }
            let crow = std::slice::from_raw_parts_mut(t.c.add(r * t.ldc), nc);
            crow.copy_from_slice(acc);
        }
    }
}

/// Reference implementation for tests: the textbook triple loop in f64.
#[cfg(test)]
fn matmul_reference(
    m: usize,
    n: usize,
    k: usize,
    a: StridedMat<'_>,
    b: &[f32],
    ldb: usize,
) -> Vec<f32> {
    let mut out = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for p in 0..k {
                s += a.data[i * a.row_stride + p * a.col_stride] as f64 * b[p * ldb + j] as f64;
            }
            out[i * n + j] = s as f32;
        }
    }
    out
}

/// Writes the transpose of the row-major `rows × cols` matrix `src` (leading dimension
/// `lds`) into `dst` (leading dimension `ldd`): 16×16 register transposes with AVX-512,
/// scalar blocks elsewhere and at the edges.
pub fn transpose_into(
    rows: usize,
    cols: usize,
    src: &[f32],
    lds: usize,
    dst: &mut [f32],
    ldd: usize,
) -> Result<(), KernelError> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    if lds < cols || (rows - 1) * lds + cols > src.len() {
        return Err(KernelError::Shape(format!(
            "transpose: source does not hold {rows}×{cols}"
        )));
    }
    if ldd < rows || (cols - 1) * ldd + rows > dst.len() {
        return Err(KernelError::Shape(format!(
            "transpose: target does not hold {cols}×{rows}"
        )));
    }
    let (full_r, full_c) = (rows / 16 * 16, cols / 16 * 16);
    let mut done_r = 0;
    #[cfg(target_arch = "x86_64")]
    {
        if full_r > 0 && full_c > 0 && std::arch::is_x86_feature_detected!("avx512f") {
            for i in (0..full_r).step_by(16) {
                for j in (0..full_c).step_by(16) {
                    // SAFETY: AVX-512F detected; rows i..i+16 × cols j..j+16 of src and
                    // rows j..j+16 × cols i..i+16 of dst are inside the bounds checked above.
                    unsafe {
                        avx512::transpose16(
                            src.as_ptr().add(i * lds + j),
                            lds,
                            dst.as_mut_ptr().add(j * ldd + i),
                            ldd,
                        )
                    };
                }
            }
            transpose_block(0..full_r, full_c..cols, src, lds, dst, ldd);
            done_r = full_r;
        }
    }
    transpose_block(done_r..rows, 0..cols, src, lds, dst, ldd);
    Ok(())
}

/// Scalar transpose of `src[rows, cols]` into `dst[cols, rows]` in 16×16 blocks; the
/// caller checked the bounds.
fn transpose_block(
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    src: &[f32],
    lds: usize,
    dst: &mut [f32],
    ldd: usize,
) {
    const BLOCK: usize = 16;
    for i0 in rows.clone().step_by(BLOCK) {
        let i1 = (i0 + BLOCK).min(rows.end);
        for j0 in cols.clone().step_by(BLOCK) {
            let j1 = (j0 + BLOCK).min(cols.end);
            for i in i0..i1 {
                for (j, v) in (j0..j1).zip(&src[i * lds + j0..i * lds + j1]) {
                    dst[j * ldd + i] = *v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(len: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    }

    /// Relative tolerance: f32 sums of up to 300 products of magnitude ≤ 1 against an f64
    /// reference; the error bound grows like k·ε·Σ|a·b|, far below 1e-4 here.
    fn assert_close(got: &[f32], want: &[f32], k: usize) {
        for (g, w) in got.iter().zip(want) {
            let tol = 1e-5 * (k as f32).max(1.0);
            assert!((g - w).abs() <= tol, "got {g}, want {w}");
        }
    }

    #[test]
    fn matches_reference_on_all_layouts_and_edge_sizes() {
        let mut kernels = vec![select_kernel(), Kernel::Portable];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            kernels.push(Kernel::Avx2);
        }
        for &(m, n, k) in &[
            (1, 1, 1),
            (7, 13, 5),
            (6, 64, 64),
            (13, 65, 17),
            (256, 29, 64),
            (10, 130, 0),
        ] {
            let a_rm = random(m * k, 1);
            let a_t = random(k * m, 2);
            let b = random(k * (n + 3), 3);
            for a in [
                StridedMat::row_major(&a_rm, k),
                StridedMat::transposed(&a_t, m),
            ] {
                let want = matmul_reference(m, n, k, a, &b, n + 3);
                for &kernel in &kernels {
                    let mut c = vec![f32::NAN; m * (n + 1)];
                    let ctx = Ctx {
                        n,
                        k,
                        a,
                        b: &b,
                        ldb: n + 3,
                        ldc: n + 1,
                        epilogue: &no_epilogue,
                        kernel,
                    };
                    run_rows(&ctx, 0, m, &mut c);
                    let got: Vec<f32> = (0..m)
                        .flat_map(|i| c[i * (n + 1)..i * (n + 1) + n].to_vec())
                        .collect();
                    assert_close(&got, &want, k);
                    // Padding columns are never written.
                    for i in 0..m {
                        assert!(c[i * (n + 1) + n].is_nan());
                    }
                }
            }
        }
    }

    #[test]
    fn parallel_split_is_bitwise_identical_to_serial() {
        let (m, n, k) = (256, 64, 256);
        let a = random(m * k, 4);
        let b = random(k * n, 5);
        let mut serial = vec![0.0; m * n];
        let mut par = vec![0.0; m * n];
        let am = StridedMat::row_major(&a, k);
        matmul(m, n, k, am, &b, n, &mut serial, n, &no_epilogue, false).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| matmul(m, n, k, am, &b, n, &mut par, n, &no_epilogue, true))
            .unwrap();
        assert_eq!(serial, par);
    }

    #[test]
    fn epilogue_sees_each_element_once() {
        let (m, n, k) = (13, 70, 3);
        let a = random(m * k, 6);
        let b = random(k * n, 7);
        let mut c = vec![0.0; m * n];
        let plus_row =
            |i: usize, _j: usize, v: &mut [f32]| v.iter_mut().for_each(|x| *x += i as f32);
        matmul(
            m,
            n,
            k,
            StridedMat::row_major(&a, k),
            &b,
            n,
            &mut c,
            n,
            &plus_row,
            false,
        )
        .unwrap();
        let want = matmul_reference(m, n, k, StridedMat::row_major(&a, k), &b, n);
        for i in 0..m {
            for j in 0..n {
                assert!((c[i * n + j] - want[i * n + j] - i as f32).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn rejects_short_buffers() {
        let a = vec![0.0; 5];
        let b = vec![0.0; 6];
        let mut c = vec![0.0; 6];
        let r = matmul(
            2,
            3,
            3,
            StridedMat::row_major(&a, 3),
            &b,
            3,
            &mut c,
            3,
            &no_epilogue,
            false,
        );
        assert!(matches!(r, Err(KernelError::Shape(_))));
    }

    #[test]
    fn transpose_matches_elementwise_definition() {
        for &(rows, cols) in &[(16, 16), (64, 256), (37, 50), (5, 3), (256, 29)] {
            let src = random(rows * (cols + 2), 9);
            let mut dst = vec![f32::NAN; cols * (rows + 1)];
            transpose_into(rows, cols, &src, cols + 2, &mut dst, rows + 1).unwrap();
            for i in 0..rows {
                for j in 0..cols {
                    assert_eq!(
                        dst[j * (rows + 1) + i],
                        src[i * (cols + 2) + j],
                        "{rows}×{cols} at {i},{j}"
                    );
                }
            }
            for j in 0..cols {
                assert!(dst[j * (rows + 1) + rows].is_nan(), "padding written");
            }
        }
    }

    #[test]
    fn transpose_round_trips() {
        let src = random(7 * 19, 8);
        let mut t = vec![0.0; 19 * 7];
        let mut back = vec![0.0; 7 * 19];
        transpose_into(7, 19, &src, 19, &mut t, 7).unwrap();
        assert_eq!(t[3 * 7 + 5], src[5 * 19 + 3]);
        transpose_into(19, 7, &t, 7, &mut back, 19).unwrap();
        assert_eq!(src, back);
    }
}
