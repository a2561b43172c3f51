//! Elementwise difference.
//!
//! forward:  y = a − b
//! backward: da = dy,  db = −dy

use crate::shape::assert_same_shape;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// Elementwise `self - other` (same shapes). Also available as `a - b`.
    // The `std::ops::Sub` impl below delegates here; the method carries the
    // docs and works without importing the trait.
    #[allow(clippy::should_implement_trait)]
    #[track_caller]
    pub fn sub(self, other: Var<'t>) -> Var<'t> {
        let (a, b) = (self.value(), other.value());
        assert_same_shape("sub", a.shape(), b.shape());
        let y = a.zip_map(&b, |a, b| a - b);
        self.tape().push(y, &[self, other], Sub)
    }
}

struct Sub;

impl Backward for Sub {
    fn name(&self) -> &'static str {
        "sub"
    }

    fn backward(&self, _x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        vec![dy.clone(), dy.map(|g| -g)] // da = dy, db = -dy
    }
}

impl<'t> std::ops::Sub for Var<'t> {
    type Output = Var<'t>;

    #[track_caller]
    fn sub(self, other: Var<'t>) -> Var<'t> {
        Var::sub(self, other)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn the_subtrahend_receives_minus_dy() {
        let tape = Tape::new();
        let a = tape.leaf(Tensor::from_vec(vec![1.0, 2.0], [2]));
        let b = tape.leaf(Tensor::from_vec(vec![3.0, 5.0], [2]));
        let g = tape.backward_with(a - b, Tensor::from_vec(vec![1.0, 2.0], [2]));
        assert_eq!(g[a].data(), &[1.0, 2.0]);
        assert_eq!(g[b].data(), &[-1.0, -2.0]);
    }
}
