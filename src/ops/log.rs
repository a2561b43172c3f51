//! Natural logarithm.
//!
//! forward:  y = ln x          (x > 0; ln 0 = −∞ and ln of a negative is NaN, as in IEEE)
//! backward: dx = dy / x

use crate::tape::Var;

impl<'t> Var<'t> {
    /// Elementwise natural logarithm.
    #[track_caller]
    pub fn log(self) -> Var<'t> {
        self.elementwise("log", f32::ln, |x, _y| 1.0 / x)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn the_derivative_is_one_over_x() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::scalar(4.0));
        assert_eq!(tape.backward(x.log())[x].item(), 0.25);
    }
}
