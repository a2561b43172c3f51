//! Exercise 7: softmax over each row.
//!
//! ```text
//! forward:  y_j = e^(x_j − m) / Σ_k e^(x_k − m),   m = max_k x_k     (per row)
//! backward: dx = y * (dy − Σ_j dy_j y_j)                            (per row)
//! ```
//!
//! Why: ∂y_i/∂x_j = y_i (δ_ij − y_j), so
//! dx_j = Σ_i dy_i y_i (δ_ij − y_j) = y_j dy_j − y_j Σ_i dy_i y_i.
//! Subtracting m changes no output; it keeps every exponent ≤ 0, so e^x
//! cannot overflow.
//!
//! Write `Softmax`'s backward rule, then run
//! `cargo test -p exercises --test softmax`.

use resgrad::{Backward, Tensor, Var};

/// Softmax of each row of `x` (`[rows, C]`): positive entries summing to 1,
/// recorded with the rule `Softmax`.
pub fn softmax(x: Var<'_>) -> Var<'_> {
    let xv = x.value();
    let (rows, c) = (xv.dims()[0], xv.dims()[1]);
    let mut y = Tensor::zeros([rows, c]);
    for i in 0..rows {
        let m = (0..c).map(|j| xv.get(&[i, j])).fold(f32::NEG_INFINITY, f32::max);
        let total: f32 = (0..c).map(|j| (xv.get(&[i, j]) - m).exp()).sum();
        for j in 0..c {
            y.set(&[i, j], (xv.get(&[i, j]) - m).exp() / total);
        }
    }
    x.tape().push(y, &[x], Softmax)
}

struct Softmax;

// ANCHOR: softmax
// y = softmax(x) per row.  dx = y * (dy − Σ_j dy_j y_j), one sum per row.
impl Backward for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }

    // x = [input]; y = the softmax, [rows, C]; dy = dL/dy, shaped like y.
    // `t.get(&[i, j])` reads an element, `t.set(&[i, j], v)` writes one.
    fn backward(&self, _x: &[&Tensor], y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        // ---- your code: start ----
        todo!("return vec![dx], shaped like y {} and dy {}", y.shape(), dy.shape())
        // ---- your code: end ----
    }
}
// ANCHOR_END: softmax
