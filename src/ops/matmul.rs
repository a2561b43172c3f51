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

use crate::kernels::{self, Batch};
use crate::shape::Shape;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

// ANCHOR: matmul
// ANCHOR: matmul_methods
impl<'t> Var<'t> {
    /// Matrix product over the last two axes: `[..., M, K] @ [..., K, N]`
    /// with equal leading axes, or `[..., M, K] @ [K, N]` with one shared
    /// right-hand matrix.
    #[track_caller]
    pub fn matmul(self, other: Var<'t>) -> Var<'t> {
        let dims =
            MatmulDims::of("matmul", self.value().shape(), other.value().shape(), false);
        self.record_matmul(other, dims)
    }

    /// `self @ otherᵀ` without a transposed copy: `[..., M, K]` times
    /// `[..., N, K]` (or one shared `[N, K]`) gives `[..., M, N]`. The
    /// attention scores `Q Kᵀ` are this product.
    #[track_caller]
    pub fn matmul_t(self, other: Var<'t>) -> Var<'t> {
        let dims =
            MatmulDims::of("matmul_t", self.value().shape(), other.value().shape(), true);
        self.record_matmul(other, dims)
    }

    #[track_caller]
    fn record_matmul(self, other: Var<'t>, dims: MatmulDims) -> Var<'t> {
        let (a, b) = (self.value(), other.value());
        let shape = dims.out_shape(a.shape());
        let mut y =
            if dims.k > 0 { Tensor::for_overwrite(shape) } else { Tensor::zeros(shape) };
        // Y = A B (or A Bᵀ), one product per batch entry.
        let (a, b) = (dims.lhs(a.data()), dims.rhs(b.data()));
        kernels::matmul_batched(a, if dims.rhs_t { b.t() } else { b }, y.data_mut());
        self.tape().push(y, &[self, other], MatMul { dims })
    }
}
// ANCHOR_END: matmul_methods

// ANCHOR: matmul_rule
struct MatMul {
    dims: MatmulDims,
}

impl Backward for MatMul {
    fn name(&self) -> &'static str {
        if self.dims.rhs_t { "matmul_t" } else { "matmul" }
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let MatmulDims { batch, m, k, n, rhs_t, .. } = self.dims;
        if batch * m * k * n == 0 {
            // nothing was multiplied, so nothing flows back
            return vec![Tensor::zeros(x[0].shape()), Tensor::zeros(x[1].shape())];
        }
        // Every element of both is written below.
        let (mut da, mut db) = (
            Tensor::for_overwrite(x[0].shape().clone()),
            Tensor::for_overwrite(x[1].shape().clone()),
        );
        let (a, b, dy) = (
            self.dims.lhs(x[0].data()),
            self.dims.rhs(x[1].data()),
            self.dims.out(dy.data()),
        );
        if rhs_t {
            // Y = A Bᵀ with B [N, K]: dA = dY B, dB = dYᵀ A.
            kernels::matmul_batched(dy, b, da.data_mut());
            kernels::matmul_batched(dy.t(), a, db.data_mut());
        } else {
            // Y = A B with B [K, N]: dA = dY Bᵀ, dB = Aᵀ dY.
            kernels::matmul_batched(dy, b.t(), da.data_mut());
            kernels::matmul_batched(a.t(), dy, db.data_mut());
        }
        vec![da, db]
    }
}
// ANCHOR_END: matmul_rule
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

    /// A shared right-hand matrix folds the batch into the rows: A is one
    /// `[batch*M, K]` matrix and dY one `[batch*M, N]`, so dB = Aᵀ dY sums
    /// over the batch by itself. Otherwise there are `batch` matrices each.
    fn count_and_rows(&self) -> (usize, usize) {
        if self.shared_rhs { (1, self.batch * self.m) } else { (self.batch, self.m) }
    }

    /// A as a batch of `[M, K]` matrices.
    fn lhs<'a>(&self, a: &'a [f32]) -> Batch<'a> {
        let (count, rows) = self.count_and_rows();
        Batch::new(a, count, rows, self.k)
    }

    /// B as it is stored: a batch of `[K, N]` matrices, or of `[N, K]` for `matmul_t`.
    fn rhs<'a>(&self, b: &'a [f32]) -> Batch<'a> {
        let count = self.count_and_rows().0;
        if self.rhs_t {
            Batch::new(b, count, self.n, self.k)
        } else {
            Batch::new(b, count, self.k, self.n)
        }
    }

    /// Y (or dY) as a batch of `[M, N]` matrices.
    fn out<'a>(&self, y: &'a [f32]) -> Batch<'a> {
        let (count, rows) = self.count_and_rows();
        Batch::new(y, count, rows, self.n)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    // ANCHOR: matmul_by_hand
    #[test]
    fn gradients_of_a_2x2_product_by_hand() {
        // Y = A B with dY = ones: dA = ones @ Bᵀ (row sums of B),
        // dB = Aᵀ @ ones (column sums of A).
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
