//! Hyperbolic tangent.
//!
//! forward:  y = tanh x
//! backward: dx = dy * (1 − y²)       (the derivative is cheapest from the output)

use crate::tape::Var;

impl<'t> Var<'t> {
    /// Elementwise `tanh(x)`.
    #[track_caller]
    pub fn tanh(self) -> Var<'t> {
        self.elementwise("tanh", f32::tanh, |_x, y| 1.0 - y * y)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn the_slope_at_zero_is_one() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::scalar(0.0));
        assert_eq!(tape.backward(x.tanh())[x].item(), 1.0);
    }
}
