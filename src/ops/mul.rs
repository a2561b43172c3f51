//! Elementwise (Hadamard) product.
//!
//! forward:  y = a * b
//! backward: da = dy * b,  db = dy * a

use crate::shape::assert_same_shape;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// Elementwise `self * other` (same shapes). Also available as `a * b`.
    // The `std::ops::Mul` impl below delegates here; the method carries the
    // docs and works without importing the trait.
    #[allow(clippy::should_implement_trait)]
    #[track_caller]
    pub fn mul(self, other: Var<'t>) -> Var<'t> {
        let (a, b) = (self.value(), other.value());
        assert_same_shape("mul", a.shape(), b.shape());
        let y = a.zip_map(&b, |a, b| a * b);
        self.tape().push(y, &[self, other], Mul)
    }
}

struct Mul;

impl Backward for Mul {
    fn name(&self) -> &'static str {
        "mul"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let (a, b) = (x[0], x[1]);
        vec![dy.zip_map(b, |g, b| g * b), dy.zip_map(a, |g, a| g * a)]
    }
}

impl<'t> std::ops::Mul for Var<'t> {
    type Output = Var<'t>;

    #[track_caller]
    fn mul(self, other: Var<'t>) -> Var<'t> {
        Var::mul(self, other)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn each_factor_receives_dy_times_the_other() {
        let tape = Tape::new();
        let a = tape.leaf(Tensor::from_vec(vec![2.0, -3.0], [2]));
        let b = tape.leaf(Tensor::from_vec(vec![5.0, 7.0], [2]));
        let g = tape.backward((a * b).sum());
        assert_eq!(g[a].data(), &[5.0, 7.0]);
        assert_eq!(g[b].data(), &[2.0, -3.0]);
    }
}
