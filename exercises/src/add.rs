//! Exercise 1: elementwise add, the op that joins every residual connection.
//!
//! ```text
//! forward:  y = a + b
//! backward: da = dy,  db = dy        (∂y/∂a = ∂y/∂b = I)
//! ```
//!
//! Write `Add`'s backward rule, then run `cargo test -p exercises --test add`.

use resgrad::{Backward, Tensor, Var};

/// Elementwise `a + b` (equal shapes), recorded with the rule `Add`.
pub fn add<'t>(a: Var<'t>, b: Var<'t>) -> Var<'t> {
    let y = a.value().zip_map(&b.value(), |a, b| a + b);
    a.tape().push(y, &[a, b], Add)
}

struct Add;

// ANCHOR: add
// y = a + b.  The Jacobian of y with respect to each input is I.
impl Backward for Add {
    fn name(&self) -> &'static str {
        "add"
    }

    // x = [a, b], the inputs' values; y = a + b; dy = dL/dy.
    // Return [da, db]: one gradient per input, each with its input's shape.
    fn backward(&self, _x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        // ---- your code: start ----
        todo!("return vec![da, db]; dy has shape {}", dy.shape())
        // ---- your code: end ----
    }
}
// ANCHOR_END: add
