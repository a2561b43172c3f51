//! Reshape: the same values in the same order under a new shape.
//!
//! forward:  y = x viewed as a new shape
//! backward: dx = dy viewed as x's shape

use crate::shape::Shape;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// The same elements under a shape with the same number of elements.
    #[track_caller]
    pub fn reshape(self, shape: impl Into<Shape>) -> Var<'t> {
        let y = (*self.value()).clone().reshape(shape);
        self.tape().push(y, &[self], Reshape)
    }
}

struct Reshape;

impl Backward for Reshape {
    fn name(&self) -> &'static str {
        "reshape"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        vec![dy.clone().reshape(x[0].shape())]
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn the_gradient_comes_back_in_the_input_shape() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::ones([2, 3]));
        let g = tape.backward(x.reshape([3, 2]).sum());
        assert_eq!(g[x].dims(), &[2, 3]);
    }
}
