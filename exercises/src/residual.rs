//! Exercise 8: a residual block as one op, y = x + x W.
//!
//! ```text
//! forward:  y = x + x W             x: [N, C], W: [C, C]
//! backward: dx = dy + dy Wᵀ         the skip passes dy; the branch adds dy Wᵀ
//!           dW = xᵀ dy
//! ```
//!
//! Built from resgrad's ops, `x + x.matmul(w)` records two ops: a matmul (the
//! branch) and an add (the join). Add's rule hands dy to both of its inputs,
//! and the tape sums what reaches x from the skip and from the branch. Here
//! the block is a single op, so that sum is yours to write. Its Jacobian
//! with respect to x is the identity plus the branch's: d(x + F(x))/dx =
//! I + dF/dx, which is what the tests check.
//!
//! Write `ResidualLinear`'s backward rule with `matrix::product` and
//! `matrix::transpose`, then run `cargo test -p exercises --test residual`.

use crate::matrix;
use resgrad::{Backward, Tensor, Var};

/// The residual block `x + x @ w`, `[N, C]` with `w` `[C, C]`, recorded as
/// one op with the rule `ResidualLinear`.
pub fn residual_linear<'t>(x: Var<'t>, w: Var<'t>) -> Var<'t> {
    let (xv, wv) = (x.value(), w.value());
    let branch = matrix::product(&xv, &wv);
    let y = xv.zip_map(&branch, |skip, branch| skip + branch);
    x.tape().push(y, &[x, w], ResidualLinear)
}

struct ResidualLinear;

// ANCHOR: residual
// y = x + x W.  dx = dy + dy Wᵀ,  dW = xᵀ dy.
impl Backward for ResidualLinear {
    fn name(&self) -> &'static str {
        "residual_linear"
    }

    // x = [x, w], the inputs' values; y = x + x W; dy = dL/dy, shaped like y.
    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        // ---- your code: start ----
        todo!(
            "return vec![dx, dw] for x = x[0] {}, w = x[1] {}, dy {}",
            x[0].shape(),
            x[1].shape(),
            dy.shape()
        )
        // ---- your code: end ----
    }
}
// ANCHOR_END: residual
