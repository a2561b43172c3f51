//! Exponential.
//!
//! forward:  y = eˣ
//! backward: dx = dy * y

use crate::tape::Var;

impl<'t> Var<'t> {
    /// Elementwise `e^x`.
    #[track_caller]
    pub fn exp(self) -> Var<'t> {
        self.elementwise("exp", f32::exp, |_x, y| y)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn the_derivative_is_the_value_itself() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::scalar(1.0));
        let y = x.exp();
        assert_eq!(tape.backward(y)[x].item(), y.value().item());
    }
}
