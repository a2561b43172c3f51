//! Elementwise sum: the join of every residual connection.
//!
//! forward:  y = a + b
//! backward: da = dy,  db = dy        (∂y/∂a = ∂y/∂b = I)
//!
//! In `x + F(x)` this is where the identity term of `I + ∂F/∂x` comes from:
//! the skip input receives `dy` untouched, whatever the branch does.

use crate::shape::assert_same_shape;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

// ANCHOR: add
impl<'t> Var<'t> {
    /// Elementwise `self + other`; both must have the same shape (for a
    /// bias row, use [`add_bias`](Var::add_bias)). Also available as `a + b`.
    // The `std::ops::Add` impl below delegates here; the method carries the
    // docs and works without importing the trait.
    #[allow(clippy::should_implement_trait)]
    #[track_caller]
    pub fn add(self, other: Var<'t>) -> Var<'t> {
        let (a, b) = (self.value(), other.value());
        assert_same_shape("add", a.shape(), b.shape());
        let y = a.zip_map(&b, |a, b| a + b);
        self.tape().push(y, &[self, other], Add)
    }
}

struct Add;

impl Backward for Add {
    fn name(&self) -> &'static str {
        "add"
    }

    fn backward(&self, _x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        vec![dy.clone(), dy.clone()] // da = dy, db = dy
    }
}
// ANCHOR_END: add

impl<'t> std::ops::Add for Var<'t> {
    type Output = Var<'t>;

    #[track_caller]
    fn add(self, other: Var<'t>) -> Var<'t> {
        Var::add(self, other)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    // ANCHOR: both_inputs_receive_dy
    #[test]
    fn both_inputs_receive_dy_unchanged() {
        let tape = Tape::new();
        let a = tape.leaf(Tensor::from_vec(vec![1.0, 2.0], [2]));
        let b = tape.leaf(Tensor::from_vec(vec![3.0, 5.0], [2]));
        let dy = Tensor::from_vec(vec![0.25, -4.0], [2]);
        let g = tape.backward_with(a + b, dy.clone());
        assert_eq!(g[a], dy);
        assert_eq!(g[b], dy);
    }
    // ANCHOR_END: both_inputs_receive_dy
}
