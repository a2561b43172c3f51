//! Exercise 5: the rectified linear unit.
//!
//! ```text
//! forward:  y = max(x, 0)
//! backward: dx = dy * 1[x > 0]
//! ```
//!
//! The Jacobian is diagonal, with 1 where x > 0 and 0 where x < 0. At
//! x = 0 the derivative does not exist; like PyTorch (and resgrad), take 0.
//!
//! Write `Relu`'s backward rule, then run `cargo test -p exercises --test relu`.

use resgrad::{Backward, Tensor, Var};

/// Elementwise `max(x, 0)`, recorded with the rule `Relu`.
pub fn relu(x: Var<'_>) -> Var<'_> {
    let y = x.value().map(|x| x.max(0.0));
    x.tape().push(y, &[x], Relu)
}

struct Relu;

// ANCHOR: relu
// y = max(x, 0).  dx = dy where x > 0, and 0 elsewhere (x = 0 included).
impl Backward for Relu {
    fn name(&self) -> &'static str {
        "relu"
    }

    // x = [input], the input's value; y = max(input, 0); dy = dL/dy.
    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        // ---- your code: start ----
        vec![dy.zip_map(x[0], |dy, x| if x > 0.0 { dy } else { 0.0 })]
        // ---- your code: end ----
    }
}
// ANCHOR_END: relu
