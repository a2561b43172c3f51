//! Exercise 2: elementwise (Hadamard) product.
//!
//! ```text
//! forward:  y = a * b
//! backward: da = dy * b,  db = dy * a
//! ```
//!
//! Each output element depends on one element of each input, so the
//! Jacobians are diagonal: ∂y_i/∂a_i = b_i and ∂y_i/∂b_i = a_i.
//!
//! Write `Mul`'s backward rule, then run `cargo test -p exercises --test mul`.

use resgrad::{Backward, Tensor, Var};

/// Elementwise `a * b` (equal shapes), recorded with the rule `Mul`.
pub fn mul<'t>(a: Var<'t>, b: Var<'t>) -> Var<'t> {
    let y = a.value().zip_map(&b.value(), |a, b| a * b);
    a.tape().push(y, &[a, b], Mul)
}

struct Mul;

// ANCHOR: mul
// y = a * b.  da = dy * b,  db = dy * a  (elementwise).
// `t.zip_map(&u, |t, u| ...)` builds a tensor from matching elements of t and u.
impl Backward for Mul {
    fn name(&self) -> &'static str {
        "mul"
    }

    // x = [a, b], the inputs' values; y = a * b; dy = dL/dy.
    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        // ---- your code: start ----
        let (a, b) = (x[0], x[1]);
        let da = dy.zip_map(b, |dy, b| dy * b);
        let db = dy.zip_map(a, |dy, a| dy * a);
        vec![da, db]
        // ---- your code: end ----
    }
}
// ANCHOR_END: mul
