//! Matrix product, plain and batched.
//!
//! forward:  Y = A @ B                 A: [..., M, K], B: [..., K, N] or [K, N]
//! backward: dA = dY @ Bᵀ,  dB = Aᵀ @ dY
//!
//! When B is a single `[K, N]` matrix shared by every batch entry (a Linear
//! layer's weight applied to `[B, T, C]`), the leading axes of A are folded
//! into its rows, so the whole product is one large matmul, and dB, which
//! every batch entry contributed to, is one large matmul too.

use crate::kernels;
use crate::shape::Shape;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

// ANCHOR: matmul
impl<'t> Var<'t> {
    /// Matrix product over the last two axes: `[..., M, K] @ [..., K, N]`
    /// with equal leading axes, or `[..., M, K] @ [K, N]` with one shared
    /// right-hand matrix.
    #[track_caller]
    pub fn matmul(self, other: Var<'t>) -> Var<'t> {
        let (a, b) = (self.value(), other.value());
        let dims = MatmulDims::of(a.shape(), b.shape());
        let mut y = Tensor::zeros(dims.out_shape(a.shape()));
        dims.forward(a.data(), b.data(), y.data_mut());
        self.tape().push(y, &[self, other], MatMul { dims })
    }
}

struct MatMul {
    dims: MatmulDims,
}

impl Backward for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let (a, b) = (x[0], x[1]);
        let MatmulDims { batch, m, k, n, shared_rhs } = self.dims;
        let (mut da, mut db) = (Tensor::zeros(a.shape()), Tensor::zeros(b.shape()));
        if batch * m * k * n == 0 {
            return vec![da, db]; // nothing was multiplied, so nothing flows back
        }
        if shared_rhs {
            // Fold the batch into rows: A is [batch*M, K], dY is [batch*M, N].
            let rows = batch * m;
            // dA = dY Bᵀ, then dB = Aᵀ dY (summed over the batch by the fold);
            // the transposes are read in place, not copied.
            kernels::matmul_nt(dy.data(), b.data(), da.data_mut(), rows, n, k);
            kernels::matmul_tn(a.data(), dy.data(), db.data_mut(), k, rows, n);
        } else {
            let (a_chunks, b_chunks) = (a.data().chunks_exact(m * k), b.data().chunks_exact(k * n));
            let dy_chunks = dy.data().chunks_exact(m * n);
            let da_chunks = da.data_mut().chunks_exact_mut(m * k);
            let db_chunks = db.data_mut().chunks_exact_mut(k * n);
            for ((((a, b), dy), da), db) in
                a_chunks.zip(b_chunks).zip(dy_chunks).zip(da_chunks).zip(db_chunks)
            {
                kernels::matmul_nt(dy, b, da, m, n, k); // dA = dY Bᵀ
                kernels::matmul_tn(a, dy, db, k, m, n); // dB = Aᵀ dY
            }
        }
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
    /// B is one `[K, N]` matrix used by every batch entry.
    shared_rhs: bool,
}

impl MatmulDims {
    #[track_caller]
    fn of(a: &Shape, b: &Shape) -> MatmulDims {
        if a.rank() < 2 || b.rank() < 2 {
            panic!(
                "matmul: both operands need at least 2 axes, got {a} @ {b}\n  \
                 reshape a vector of length K to [1, K] (a row) or [K, 1] (a column)"
            );
        }
        let (m, k) = (a.dims()[a.rank() - 2], a.last());
        let (k2, n) = (b.dims()[b.rank() - 2], b.last());
        if k != k2 {
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
                "matmul: batch axes differ\n  lhs shape {a}, rhs shape {b}\n  \
                 a batched matmul needs the same leading axes on both sides \
                 (or a single [K, N] matrix on the right)"
            );
        }
        MatmulDims { batch, m, k, n, shared_rhs }
    }

    fn out_shape(&self, a: &Shape) -> Shape {
        let mut dims = a.dims().to_vec();
        let r = dims.len();
        dims[r - 1] = self.n;
        Shape::from(dims)
    }

    fn forward(&self, a: &[f32], b: &[f32], y: &mut [f32]) {
        let MatmulDims { batch, m, k, n, shared_rhs } = *self;
        if batch * m * k * n == 0 {
            return; // an empty product: Y stays zero (or is empty)
        }
        if shared_rhs {
            kernels::matmul(a, b, y, batch * m, k, n);
        } else {
            for ((a, b), y) in a.chunks_exact(m * k).zip(b.chunks_exact(k * n)).zip(y.chunks_exact_mut(m * n))
            {
                kernels::matmul(a, b, y, m, k, n);
            }
        }
    }
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
