//! Rectified linear unit.
//!
//! forward:  y = max(x, 0)
//! backward: dx = dy * 1[x > 0]      (at x = 0 we take the subgradient 0, as PyTorch does)
//!
//! A NaN input stays NaN, as in PyTorch: `f32::max` would quietly turn it into
//! 0 and hide the blow-up that produced it.
//!
//! About half the units of a randomly initialised layer are inactive, and
//! an inactive unit passes no gradient at all: in a plain deep stack these
//! zeros compound, which is one of the ways gradients vanish.

use crate::tape::Var;

// ANCHOR: relu
impl<'t> Var<'t> {
    /// Elementwise `max(x, 0)`.
    #[track_caller]
    pub fn relu(self) -> Var<'t> {
        self.elementwise(
            "relu",
            |x| if x > 0.0 || x.is_nan() { x } else { 0.0 },
            |x, _y| if x > 0.0 { 1.0 } else { 0.0 },
        )
    }
}
// ANCHOR_END: relu

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn gradient_passes_only_where_the_input_is_positive() {
        // x = [-1, 0, 2], dy = [1, 1, 1]  =>  dx = [0, 0, 1]
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from_vec(vec![-1.0, 0.0, 2.0], [3]));
        let g = tape.backward(x.relu().sum());
        assert_eq!(g[x].data(), &[0.0, 0.0, 1.0]);
    }

    #[test]
    fn nan_is_passed_through_not_hidden() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from_vec(vec![f32::NAN, -1.0], [2]));
        let y = x.relu().value();
        assert!(y.data()[0].is_nan());
        assert_eq!(y.data()[1], 0.0);
    }
}
