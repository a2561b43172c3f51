//! Exercise 4: the matrix product of two matrices.
//!
//! ```text
//! forward:  Y = A B                  A: [M, K], B: [K, N], Y: [M, N]
//! backward: dA = dY Bᵀ,  dB = Aᵀ dY
//! ```
//!
//! Why: Y_ij = Σ_p A_ip B_pj, so ∂L/∂A_ip = Σ_j dY_ij B_pj = (dY Bᵀ)_ip
//! and ∂L/∂B_pj = Σ_i A_ip dY_ij = (Aᵀ dY)_pj. The shapes say the same:
//! dA must be [M, K], and dY [M, N] times Bᵀ [N, K] is the product of dY and
//! B with that shape.
//!
//! Write `MatMul`'s backward rule with `matrix::product` and
//! `matrix::transpose`, then run `cargo test -p exercises --test matmul`.

use crate::matrix;
use resgrad::{Backward, Tensor, Var};

/// The matrix product `a @ b`, `[M, K] @ [K, N] -> [M, N]`.
pub fn matmul<'t>(a: Var<'t>, b: Var<'t>) -> Var<'t> {
    let y = matrix::product(&a.value(), &b.value());
    a.tape().push(y, &[a, b], MatMul)
}

struct MatMul;

// ANCHOR: matmul
// Y = A B.  dA = dY Bᵀ,  dB = Aᵀ dY.
// matrix::product(&p, &q) is p @ q; matrix::transpose(&p) is pᵀ.
impl Backward for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }

    // x = [a, b], the inputs' values; y = a @ b; dy = dL/dy.
    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        // ---- your code: start ----
        let (a, b) = (x[0], x[1]);
        let da = matrix::product(dy, &matrix::transpose(b)); // [M, N] @ [N, K]
        let db = matrix::product(&matrix::transpose(a), dy); // [K, M] @ [M, N]
        vec![da, db]
        // ---- your code: end ----
    }
}
// ANCHOR_END: matmul
