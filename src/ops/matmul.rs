//! Matrix product, plain and batched.
//!
//! forward:  Y = A @ B                 A: [..., M, K], B: [..., K, N] or [K, N]
//! backward: dA = dY @ Bᵀ,  dB = Aᵀ @ dY
//!
//! and its twin with the right operand stored transposed (`matmul_t`):
//!
//! forward:  Y = A @ Bᵀ                A: [..., M, K], B: [..., N, K] or [N, K]
//! backward: dA = dY @ B,   dB = dYᵀ @ A
//!
//! When B is a single `[K, N]` matrix shared by every batch entry (a Linear
//! layer's weight applied to `[B, T, C]`), the leading axes of A are folded
//! into its rows, so the whole product is one large matmul, and dB, which
//! every batch entry contributed to, is one large matmul too.

use crate::kernels;
use crate::shape::Shape;
use crate::simd;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;
use std::sync::Mutex;

// ANCHOR: matmul
impl<'t> Var<'t> {
    /// Matrix product over the last two axes: `[..., M, K] @ [..., K, N]`
    /// with equal leading axes, or `[..., M, K] @ [K, N]` with one shared
    /// right-hand matrix.
    #[track_caller]
    pub fn matmul(self, other: Var<'t>) -> Var<'t> {
        let dims = MatmulDims::of("matmul", self.value().shape(), other.value().shape(), false);
        self.record_matmul(other, dims)
    }

    /// `self @ otherᵀ` without a transposed copy: `[..., M, K]` times
    /// `[..., N, K]` (or one shared `[N, K]`) gives `[..., M, N]`. The
    /// attention scores `Q Kᵀ` are this product.
    #[track_caller]
    pub fn matmul_t(self, other: Var<'t>) -> Var<'t> {
        let dims = MatmulDims::of("matmul_t", self.value().shape(), other.value().shape(), true);
        self.record_matmul(other, dims)
    }

    #[track_caller]
    fn record_matmul(self, other: Var<'t>, dims: MatmulDims) -> Var<'t> {
        let (a, b) = (self.value(), other.value());
        let shape = dims.out_shape(a.shape());
        let mut y = if dims.k > 0 { Tensor::for_overwrite(shape) } else { Tensor::zeros(shape) };
        dims.forward(a.data(), b.data(), y.data_mut());
        self.tape().push(y, &[self, other], MatMul { dims })
    }
}

struct MatMul {
    dims: MatmulDims,
}

impl Backward for MatMul {
    fn name(&self) -> &'static str {
        if self.dims.rhs_t { "matmul_t" } else { "matmul" }
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let (a, b) = (x[0], x[1]);
        let MatmulDims { batch, m, k, n, shared_rhs, rhs_t } = self.dims;
        if batch * m * k * n == 0 {
            // nothing was multiplied, so nothing flows back
            return vec![Tensor::zeros(a.shape()), Tensor::zeros(b.shape())];
        }
        // Every element of both is written below.
        let (mut da, mut db) =
            (Tensor::for_overwrite(a.shape().clone()), Tensor::for_overwrite(b.shape().clone()));
        // With a shared right-hand matrix the batch folds into the rows:
        // A is [batch*M, K] and dY is [batch*M, N], and dB sums over the
        // batch by itself. Transposes are read in place, never copied.
        let (rows, chunks) = if shared_rhs { (batch * m, 1) } else { (m, batch) };
        let (a_len, b_len, y_len) = (rows * k, k * n, rows * n);
        let das: Vec<Mutex<&mut [f32]>> = da.data_mut().chunks_exact_mut(a_len).map(Mutex::new).collect();
        let dbs: Vec<Mutex<&mut [f32]>> = db.data_mut().chunks_exact_mut(b_len).map(Mutex::new).collect();
        for_each_entry(chunks, chunks * rows * k * n, &|c| {
            let (a, dy) = (&a.data()[c * a_len..][..a_len], &dy.data()[c * y_len..][..y_len]);
            let b = &b.data()[if shared_rhs { 0 } else { c * b_len }..][..b_len];
            let (mut da, mut db) = (lock(&das[c]), lock(&dbs[c]));
            if rhs_t {
                // Y = A Bᵀ with B [N, K]: dA = dY B, dB = dYᵀ A.
                kernels::matmul(dy, b, &mut da, rows, n, k);
                kernels::matmul_tn(dy, a, &mut db, n, rows, k);
            } else {
                // Y = A B with B [K, N]: dA = dY Bᵀ, dB = Aᵀ dY.
                kernels::matmul_nt(dy, b, &mut da, rows, n, k);
                kernels::matmul_tn(a, dy, &mut db, k, rows, n);
            }
        });
        drop((das, dbs));
        vec![da, db]
    }
}
// ANCHOR_END: matmul

/// The sizes of one (possibly batched) matrix product.
#[derive(Clone, Copy, Debug)]
struct MatmulDims {
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    /// B is one matrix used by every batch entry.
    shared_rhs: bool,
    /// B is stored `[N, K]` and used transposed.
    rhs_t: bool,
}

impl MatmulDims {
    #[track_caller]
    fn of(op: &str, a: &Shape, b: &Shape, rhs_t: bool) -> MatmulDims {
        if a.rank() < 2 || b.rank() < 2 {
            panic!(
                "{op}: both operands need at least 2 axes, got {a} @ {b}\n  \
                 reshape a vector of length K to [1, K] (a row) or [K, 1] (a column)"
            );
        }
        let (m, k) = (a.dims()[a.rank() - 2], a.last());
        let (b_rows, b_cols) = (b.dims()[b.rank() - 2], b.last());
        let (k2, n) = if rhs_t { (b_cols, b_rows) } else { (b_rows, b_cols) };
        if k != k2 {
            if rhs_t {
                panic!(
                    "matmul_t: inner dimensions differ\n  lhs shape {a} (K = {k}), rhs shape {b} (K = {k2})\n  \
                     a.matmul_t(b) multiplies by b transposed, so both operands need the same last axis"
                );
            }
            panic!(
                "matmul: inner dimensions differ\n  lhs shape {a} (K = {k}), rhs shape {b} (K = {k2})\n  \
                 a.matmul(b) needs a's last axis to match b's second-to-last; \
                 did you mean to transpose one of them?"
            );
        }
        let batch = a.dims()[..a.rank() - 2].iter().product();
        let shared_rhs = b.rank() == 2;
        if !shared_rhs && a.dims()[..a.rank() - 2] != b.dims()[..b.rank() - 2] {
            panic!(
                "{op}: batch axes differ\n  lhs shape {a}, rhs shape {b}\n  \
                 a batched matmul needs the same leading axes on both sides \
                 (or a single matrix on the right)"
            );
        }
        MatmulDims { batch, m, k, n, shared_rhs, rhs_t }
    }

    fn out_shape(&self, a: &Shape) -> Shape {
        let mut dims = a.dims().to_vec();
        let r = dims.len();
        dims[r - 1] = self.n;
        Shape::from(dims)
    }

    fn forward(&self, a: &[f32], b: &[f32], y: &mut [f32]) {
        let MatmulDims { batch, m, k, n, shared_rhs, rhs_t } = *self;
        if batch * m * k * n == 0 {
            return; // an empty product: Y stays zero (or is empty)
        }
        let product = if rhs_t { kernels::matmul_nt } else { kernels::matmul };
        if shared_rhs {
            product(a, b, y, batch * m, k, n);
        } else {
            let ys: Vec<Mutex<&mut [f32]>> = y.chunks_exact_mut(m * n).map(Mutex::new).collect();
            for_each_entry(batch, batch * m * k * n, &|c| {
                product(&a[c * m * k..][..m * k], &b[c * k * n..][..k * n], &mut lock(&ys[c]), m, k, n);
            });
        }
    }
}

/// Runs `job(c)` for each of `count` batch entries (the heads of
/// attention): on the calling thread, or spread over the worker threads
/// when the product is big enough (`work` multiply-adds) to pay for them.
/// Each entry's product then runs on one thread.
fn for_each_entry(count: usize, work: usize, job: &(dyn Fn(usize) + Sync)) {
    let threads = simd::threads().min(count);
    if threads <= 1 || work < PARALLEL_MIN_WORK {
        (0..count).for_each(job);
        return;
    }
    simd::run_parallel(threads, &|t| (t * count / threads..(t + 1) * count / threads).for_each(job));
}

/// Below this many multiply-adds a batched product stays on one thread.
const PARALLEL_MIN_WORK: usize = 1 << 20;

/// Each entry's output is locked by exactly one job: never contended.
fn lock<'a, 'b>(m: &'a Mutex<&'b mut [f32]>) -> std::sync::MutexGuard<'a, &'b mut [f32]> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    // ANCHOR: matmul_by_hand
    #[test]
    fn gradients_of_a_2x2_product_by_hand() {
        // Y = A B with dY = ones: dA = ones @ Bᵀ (row sums of B), dB = Aᵀ @ ones (column sums of A).
        let tape = Tape::new();
        let a = tape.leaf(Tensor::from_vec(vec![1., 2., 3., 4.], [2, 2]));
        let b = tape.leaf(Tensor::from_vec(vec![5., 6., 7., 8.], [2, 2]));
        let y = a.matmul(b);
        assert_eq!(y.value().data(), &[19., 22., 43., 50.]);
        let g = tape.backward(y.sum());
        assert_eq!(g[a].data(), &[11., 15., 11., 15.]);
        assert_eq!(g[b].data(), &[4., 4., 6., 6.]);
    }
    // ANCHOR_END: matmul_by_hand

    #[test]
    #[should_panic(expected = "matmul: inner dimensions differ")]
    fn mismatched_inner_dimensions_panic_with_both_shapes() {
        let tape = Tape::new();
        let a = tape.leaf(Tensor::zeros([2, 3]));
        let b = tape.leaf(Tensor::zeros([4, 5]));
        let _ = a.matmul(b);
    }
}
