//! Slice-level loops shared by the ops. No autodiff here: plain numbers in,
//! plain numbers out.
//!
//! Every loop is written so that LLVM can vectorise it without intrinsics:
//! it walks slices with `zip` or `chunks_exact` (no bounds checks inside),
//! and reductions keep [`LANES`] independent partial sums, because a single
//! running float sum is a chain of dependent additions that the compiler may
//! not reorder. The price is that a vectorised sum adds in a different order
//! from the naive loop and can differ from it in the last bits; the tests
//! allow for that and say so.
//!
//! `sum`, `sum_axis` and `matmul` have plain `*_reference` twins beside
//! them; `tests/kernels.rs` checks that they agree, and checks `dot` and
//! `max` against plain loops written in the test.
//!
//! ## The fast code, fenced off (safe to skip on a first reading)
//!
//! This file is the only way in to the folder `src/kernels/`, which holds
//! what makes resgrad fast but changes no result beyond rounding:
//!
//! | file | what it holds |
//! |---|---|
//! | `kernels/gemm.rs` | [`gemm`]: the packed, cache-blocked, register-tiled matrix product |
//! | `kernels/cpu.rs` | the instruction set ([`Isa`], [`isa`]), the thread count ([`threads`], [`set_threads`]) and the kept worker threads; the only `unsafe` in resgrad |
//! | `kernels/pool.rs` | [`pool`]: the per-thread cache of freed tensor buffers |
//!
//! Inside the folder `gemm` uses `cpu`, and nothing else uses anything:
//! `cpu` runs whatever kernel or closure it is handed, and `pool` stands
//! alone. The rest of resgrad reaches all three through this module only.

mod cpu;
mod gemm;
pub mod pool;

pub use cpu::{Isa, isa, set_threads, threads};
pub use gemm::{MatRef, gemm, gemm_with};

/// Number of independent accumulators in reductions: one AVX register of f32.
pub const LANES: usize = 8;

// ANCHOR: sum
/// Sum of a slice, with [`LANES`] partial sums so the loop vectorises.
pub fn sum(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + tail.iter().sum::<f32>()
}
// ANCHOR_END: sum

// ANCHOR: sum_reference
/// Sum of a slice, one element after another: the reference for [`sum`].
pub fn sum_reference(x: &[f32]) -> f32 {
    let mut s = 0.0;
    for &v in x {
        s += v;
    }
    s
}
// ANCHOR_END: sum_reference

/// `y[o, i] = Σ_s x[o, s, i]`: the sum over the middle axis of `x`, shape
/// `[outer, size, inner]` (row-major), into `y`, shape `[outer, inner]`,
/// overwritten. Along the last axis (`inner == 1`) each output is the
/// [`sum`] of one contiguous row; otherwise whole rows of `inner` numbers are
/// added into `y`, one `s` after another, which vectorises across `i`.
#[track_caller]
pub fn sum_axis(x: &[f32], y: &mut [f32], outer: usize, size: usize, inner: usize) {
    check_axis_lengths("sum_axis", x, y, outer, size, inner);
    y.fill(0.0);
    if inner == 1 {
        if size > 0 {
            for (y, row) in y.iter_mut().zip(x.chunks_exact(size)) {
                *y = sum(row);
            }
        }
        return;
    }
    for o in 0..outer {
        let acc = &mut y[o * inner..(o + 1) * inner];
        for s in 0..size {
            add_assign(acc, &x[(o * size + s) * inner..(o * size + s + 1) * inner]);
        }
    }
}

/// [`sum_axis`], one output at a time, one element after another: the
/// reference.
#[track_caller]
pub fn sum_axis_reference(
    x: &[f32],
    y: &mut [f32],
    outer: usize,
    size: usize,
    inner: usize,
) {
    check_axis_lengths("sum_axis_reference", x, y, outer, size, inner);
    for o in 0..outer {
        for i in 0..inner {
            let mut total = 0.0;
            for s in 0..size {
                total += x[(o * size + s) * inner + i];
            }
            y[o * inner + i] = total;
        }
    }
}

/// `dx[o, s, i] = c * dy[o, i]`, the backward of [`sum_axis`] (with `c = 1`)
/// and of a mean (`c = 1 / size`): each gradient copied along the summed axis.
#[track_caller]
pub fn spread_axis(
    dy: &[f32],
    dx: &mut [f32],
    outer: usize,
    size: usize,
    inner: usize,
    c: f32,
) {
    check_axis_lengths("spread_axis", dx, dy, outer, size, inner);
    for o in 0..outer {
        let g = &dy[o * inner..(o + 1) * inner];
        for s in 0..size {
            let d = &mut dx[(o * size + s) * inner..(o * size + s + 1) * inner];
            for (d, &g) in d.iter_mut().zip(g) {
                *d = c * g;
            }
        }
    }
}

#[track_caller]
fn check_axis_lengths(
    op: &str,
    full: &[f32],
    reduced: &[f32],
    outer: usize,
    size: usize,
    inner: usize,
) {
    assert_eq!(
        full.len(),
        outer * size * inner,
        "{op}: [outer, size, inner] = [{outer}, {size}, {inner}] needs {} values",
        outer * size * inner
    );
    assert_eq!(
        reduced.len(),
        outer * inner,
        "{op}: [outer, inner] = [{outer}, {inner}] needs {} values",
        outer * inner
    );
}

/// Sum of `f(x_i)`, with [`LANES`] partial sums (`f` is inlined, so a
/// simple `f` vectorises along with the sum).
pub fn sum_map(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += f(v);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Squared Euclidean distance `Σ (a_i − b_i)²`, with [`LANES`] partial sums.
#[track_caller]
pub fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "squared_distance: lengths differ");
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 =
        ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| (x - y) * (x - y)).sum();
    for (xa, xb) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(xa).zip(xb) {
            *s += (x - y) * (x - y);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Dot product with [`LANES`] partial sums.
#[track_caller]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot: lengths differ");
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (xa, xb) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(xa).zip(xb) {
            *s += x * y;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Largest element of a non-empty slice (NaN-free input assumed).
pub fn max(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a = a.max(v);
        }
    }
    acc.iter().chain(tail).fold(f32::NEG_INFINITY, |m, &v| m.max(v))
}

/// `acc += x`, elementwise. This is how the tape sums gradients.
#[track_caller]
pub fn add_assign(acc: &mut [f32], x: &[f32]) {
    assert_eq!(acc.len(), x.len(), "add_assign: lengths differ");
    for (a, &v) in acc.iter_mut().zip(x) {
        *a += v;
    }
}

/// `acc += alpha * x`, elementwise (BLAS's axpy).
#[track_caller]
pub fn axpy(acc: &mut [f32], alpha: f32, x: &[f32]) {
    assert_eq!(acc.len(), x.len(), "axpy: lengths differ");
    for (a, &v) in acc.iter_mut().zip(x) {
        *a += alpha * v;
    }
}

/// Walks a strided view of a buffer: calls `f(out, src)` for every position
/// of an array of shape `dims`, in row-major order, where `out` counts up
/// from 0 and `src` advances by `steps[axis]` per step along `axis`.
///
/// With the source's strides reordered this is a permutation; with some
/// steps set to 0 it is a broadcast. An odometer keeps `src` up to date
/// with one addition per step instead of a multiply per axis.
pub fn for_each_strided(
    dims: &[usize],
    steps: &[usize],
    mut f: impl FnMut(usize, usize),
) {
    assert_eq!(dims.len(), steps.len(), "for_each_strided: one step per axis");
    let total: usize = dims.iter().product();
    let mut index = vec![0usize; dims.len()];
    let mut src = 0;
    for out in 0..total {
        f(out, src);
        for axis in (0..dims.len()).rev() {
            index[axis] += 1;
            src += steps[axis];
            if index[axis] < dims[axis] {
                break;
            }
            src -= steps[axis] * dims[axis];
            index[axis] = 0;
        }
    }
}

/// Transposes a row-major `[rows, cols]` matrix into `[cols, rows]`, in
/// square tiles so that both the reads and the writes stay in cache.
#[track_caller]
pub fn transpose(src: &[f32], dst: &mut [f32], rows: usize, cols: usize) {
    assert_eq!(
        src.len(),
        rows * cols,
        "transpose: src must hold rows*cols = {rows}*{cols} values"
    );
    assert_eq!(
        dst.len(),
        rows * cols,
        "transpose: dst must hold rows*cols = {rows}*{cols} values"
    );
    const TILE: usize = 32;
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            let c1 = (c0 + TILE).min(cols);
            for r in r0..(r0 + TILE).min(rows) {
                // One slice per row of the tile; the writes walk a column of dst.
                let src_row = &src[r * cols + c0..r * cols + c1];
                for (d, &s) in dst[c0 * rows + r..].iter_mut().step_by(rows).zip(src_row)
                {
                    *d = s;
                }
            }
        }
    }
}

// ANCHOR: matmul_reference
/// `C = A B` for row-major `A: [m, k]`, `B: [k, n]`, `C: [m, n]`: the
/// textbook triple loop, one dot product per output. The reference for
/// [`matmul`].
#[track_caller]
pub fn matmul_reference(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
) {
    check_matmul_lengths(a, b, c, m, k, n);
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for p in 0..k {
                s += a[i * k + p] * b[p * n + j];
            }
            c[i * n + j] = s;
        }
    }
}
// ANCHOR_END: matmul_reference

#[track_caller]
fn check_matmul_lengths(a: &[f32], b: &[f32], c: &[f32], m: usize, k: usize, n: usize) {
    assert_eq!(a.len(), m * k, "matmul kernel: A must hold m*k = {m}*{k} values");
    assert_eq!(b.len(), k * n, "matmul kernel: B must hold k*n = {k}*{n} values");
    assert_eq!(c.len(), m * n, "matmul kernel: C must hold m*n = {m}*{n} values");
}

// ANCHOR: matmul
/// `C = A B` for row-major `A: [m, k]`, `B: [k, n]`, `C: [m, n]`: the
/// product every op uses. Tiny products run a plain loop; the rest go to
/// the packed, register-tiled [`gemm`], which uses SIMD and threads.
#[track_caller]
pub fn matmul(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    check_matmul_lengths(a, b, c, m, k, n);
    if m * k * n <= SMALL_MATMUL {
        matmul_ikj(a, b, c, m, k, n); // packing would cost more than it saves
    } else {
        gemm(MatRef::new(a, m, k), MatRef::new(b, k, n), c);
    }
}
// ANCHOR_END: matmul

/// `C = A Bᵀ` for `A: [m, k]` and `B` stored as `[n, k]` (backward's
/// `dY · Wᵀ` when W is stored `[out, in]`), without copying B.
#[track_caller]
pub fn matmul_nt(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    check_matmul_lengths(a, b, c, m, k, n);
    if m * k * n <= SMALL_MATMUL {
        for (a_row, c_row) in a.chunks_exact(k.max(1)).zip(c.chunks_exact_mut(n.max(1))) {
            for (c, b_row) in c_row.iter_mut().zip(b.chunks_exact(k.max(1))) {
                *c = dot(a_row, b_row);
            }
        }
        if k == 0 {
            c.fill(0.0);
        }
    } else {
        gemm(MatRef::new(a, m, k), MatRef::new(b, n, k).t(), c);
    }
}

/// `C = Aᵀ B` for `A` stored as `[k, m]` and `B: [k, n]` (backward's
/// `Xᵀ · dY`), without copying A.
#[track_caller]
pub fn matmul_tn(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    check_matmul_lengths(a, b, c, m, k, n);
    if m * k * n <= SMALL_MATMUL {
        c.fill(0.0);
        if n == 0 {
            return;
        }
        for (a_row, b_row) in a.chunks_exact(m.max(1)).take(k).zip(b.chunks_exact(n)) {
            for (&a_pi, c_row) in a_row.iter().zip(c.chunks_exact_mut(n)) {
                axpy(c_row, a_pi, b_row);
            }
        }
    } else {
        gemm(MatRef::new(a, k, m).t(), MatRef::new(b, k, n), c);
    }
}

/// Below this many multiply-adds (a 16 x 16 x 16 product) a matmul skips
/// packing: copying the operands would cost as much as the product.
pub const SMALL_MATMUL: usize = 4096;

/// `count` row-major `[rows, cols]` matrices stored back to back (the heads
/// of attention, say), each read as it is or, after [`Batch::t`], as its
/// transpose. One matrix is a batch of one.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    data: &'a [f32],
    count: usize,
    rows: usize,
    cols: usize,
    transposed: bool,
}

impl<'a> Batch<'a> {
    /// `count` matrices of `[rows, cols]`, stored back to back in `data`.
    #[track_caller]
    pub fn new(data: &'a [f32], count: usize, rows: usize, cols: usize) -> Batch<'a> {
        assert_eq!(
            data.len(),
            count * rows * cols,
            "Batch: {count} matrices of {rows} x {cols} need {} values, got {}",
            count * rows * cols,
            data.len()
        );
        Batch { data, count, rows, cols, transposed: false }
    }

    /// Every matrix read as its transpose, without moving any data.
    pub fn t(self) -> Batch<'a> {
        Batch { transposed: !self.transposed, ..self }
    }

    /// Rows and columns of each matrix as it is read.
    fn shape(&self) -> (usize, usize) {
        if self.transposed { (self.cols, self.rows) } else { (self.rows, self.cols) }
    }

    /// The stored values of matrix `e`.
    fn entry(&self, e: usize) -> &'a [f32] {
        let len = self.rows * self.cols;
        &self.data[e * len..(e + 1) * len]
    }
}

/// `C[e] = A[e] B[e]` for every matrix `e` of two batches of the same
/// count, into `c`, `[count, m, n]`, overwritten. Each product is
/// [`matmul`], [`matmul_nt`] or [`matmul_tn`], as the transposes ask (at
/// most one operand may be transposed). When the batch is big enough to
/// pay for them, whole products are shared out between the worker threads.
#[track_caller]
pub fn matmul_batched(a: Batch<'_>, b: Batch<'_>, c: &mut [f32]) {
    let ((m, k), (k2, n)) = (a.shape(), b.shape());
    let count = a.count;
    assert_eq!(
        b.count, count,
        "matmul_batched: {count} left matrices but {} right ones",
        b.count
    );
    assert_eq!(
        k, k2,
        "matmul_batched: each left matrix is {m} x {k} but each right one is {k2} x {n}"
    );
    assert_eq!(
        c.len(),
        count * m * n,
        "matmul_batched: c must hold count*m*n = {count}*{m}*{n} values"
    );
    let product = match (a.transposed, b.transposed) {
        (false, false) => matmul,
        (false, true) => matmul_nt,
        (true, false) => matmul_tn,
        (true, true) => panic!("matmul_batched: at most one operand may be transposed"),
    };
    // On one thread each product may use every thread itself; spread over
    // the workers, each runs on the thread it was given.
    let work = count * m * k * n;
    let parts = if work < BATCH_THREAD_MIN_WORK { 1 } else { threads().min(count) };
    cpu::for_each_chunk(c, m * n, parts, &|e, c| {
        product(a.entry(e), b.entry(e), c, m, k, n)
    });
}

/// Below this many multiply-adds a batch of products stays on one thread.
const BATCH_THREAD_MIN_WORK: usize = 1 << 20;

// ANCHOR: matmul_ikj
/// `C = A B` with the two inner loops of the reference swapped (i-k-j):
/// the inner loop now runs along a row of B and a row of C, contiguous in
/// memory, so it vectorises. The second step from the reference.
#[track_caller]
pub fn matmul_ikj(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    check_matmul_lengths(a, b, c, m, k, n);
    c.fill(0.0);
    if n == 0 {
        return;
    }
    for (a_row, c_row) in a.chunks_exact(k.max(1)).take(m).zip(c.chunks_exact_mut(n)) {
        for (p, &a_ip) in a_row.iter().enumerate().take(k) {
            axpy(c_row, a_ip, &b[p * n..(p + 1) * n]);
        }
    }
}
// ANCHOR_END: matmul_ikj

/// The panel of B that [`matmul_blocked`] walks at a time: `PANEL_ROWS x
/// PANEL_COLS` (256 x 512 floats = 512 KiB) is reused by every row of A, and
/// one 4-row strip of C (4 x 512 floats = 8 KiB) stays in L1 while the k
/// loop runs over it. (The packed `gemm` has its own, larger blocks.)
const PANEL_ROWS: usize = 256;
const PANEL_COLS: usize = 512;

// ANCHOR: matmul_blocked
/// `C = A B`, cache-blocked, in i-k-j order: the third step from the
/// reference (the book's "Making it fast" measures each step).
///
/// The inner loop `c[i, j..] += a[i, p] * b[p, j..]` runs over contiguous
/// rows of B and C, so it vectorises. Four rows of A are handled together so
/// that each row of B loaded from memory feeds four rows of C.
#[track_caller]
pub fn matmul_blocked(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    check_matmul_lengths(a, b, c, m, k, n);
    c.fill(0.0);
    if m * k * n == 0 {
        return; // an empty sum: C is all zeros (or empty)
    }
    for j0 in (0..n).step_by(PANEL_COLS) {
        let j1 = (j0 + PANEL_COLS).min(n);
        for p0 in (0..k).step_by(PANEL_ROWS) {
            let p1 = (p0 + PANEL_ROWS).min(k);
            let mut rows = c.chunks_exact_mut(n).enumerate();
            // Four rows of C at a time.
            while rows.len() >= 4 {
                let (i, c0) = rows.next().expect("len >= 4");
                let (_, c1) = rows.next().expect("len >= 4");
                let (_, c2) = rows.next().expect("len >= 4");
                let (_, c3) = rows.next().expect("len >= 4");
                let (c0, c1, c2, c3) =
                    (&mut c0[j0..j1], &mut c1[j0..j1], &mut c2[j0..j1], &mut c3[j0..j1]);
                for p in p0..p1 {
                    let (a0, a1) = (a[i * k + p], a[(i + 1) * k + p]);
                    let (a2, a3) = (a[(i + 2) * k + p], a[(i + 3) * k + p]);
                    let b_row = &b[p * n + j0..p * n + j1];
                    for ((((x0, x1), x2), x3), &bv) in c0
                        .iter_mut()
                        .zip(c1.iter_mut())
                        .zip(c2.iter_mut())
                        .zip(c3.iter_mut())
                        .zip(b_row)
                    {
                        *x0 += a0 * bv;
                        *x1 += a1 * bv;
                        *x2 += a2 * bv;
                        *x3 += a3 * bv;
                    }
                }
            }
            // The last m % 4 rows, one at a time.
            for (i, c_row) in rows {
                let c_row = &mut c_row[j0..j1];
                for p in p0..p1 {
                    axpy(c_row, a[i * k + p], &b[p * n + j0..p * n + j1]);
                }
            }
        }
    }
}
// ANCHOR_END: matmul_blocked

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_of_small_integers_is_exact_in_any_order() {
        let x: Vec<f32> = (0..1001).map(|i| i as f32).collect();
        assert_eq!(sum(&x), 500_500.0);
        assert_eq!(sum_reference(&x), 500_500.0);
    }

    #[test]
    fn matmul_of_a_2x2_by_hand() {
        // [1 2; 3 4] [5 6; 7 8] = [19 22; 43 50]
        let mut c = [0.0; 4];
        matmul(&[1., 2., 3., 4.], &[5., 6., 7., 8.], &mut c, 2, 2, 2);
        assert_eq!(c, [19., 22., 43., 50.]);
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        let mut dst = [0.0; 6];
        transpose(&[1., 2., 3., 4., 5., 6.], &mut dst, 2, 3);
        assert_eq!(dst, [1., 4., 2., 5., 3., 6.]);
    }
}
