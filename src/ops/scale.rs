//! Multiplication by a constant (attention's 1/√d, a residual branch's 1/√(2N)).
//!
//! forward:  y = c x
//! backward: dx = c dy

use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// `c * self` for a constant `c`. Also available as `x * c` and `-x`.
    #[track_caller]
    pub fn scale(self, c: f32) -> Var<'t> {
        let y = self.value().map(|x| c * x);
        self.tape().push(y, &[self], Scale { c })
    }
}

struct Scale {
    c: f32,
}

impl Backward for Scale {
    fn name(&self) -> &'static str {
        "scale"
    }

    fn backward(&self, _x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        vec![dy.map(|g| self.c * g)]
    }

    fn detail(&self) -> String {
        format!("{}", self.c)
    }
}

impl<'t> std::ops::Mul<f32> for Var<'t> {
    type Output = Var<'t>;

    #[track_caller]
    fn mul(self, c: f32) -> Var<'t> {
        self.scale(c)
    }
}

impl<'t> std::ops::Neg for Var<'t> {
    type Output = Var<'t>;

    #[track_caller]
    fn neg(self) -> Var<'t> {
        self.scale(-1.0)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn the_gradient_is_scaled_by_the_same_constant() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from_vec(vec![1.0, 2.0], [2]));
        let g = tape.backward((x * 0.5).sum());
        assert_eq!(g[x].data(), &[0.5, 0.5]);
    }
}
