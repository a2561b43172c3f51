//! Mean of all elements, or along one axis.
//!
//! forward:  y = (1/n) Σ_i x_i
//! backward: dx_i = dy / n

use crate::kernels;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

use super::sum::{reduce_axis, spread_axis};

impl<'t> Var<'t> {
    /// The mean of every element, as a scalar (shape `[]`).
    #[track_caller]
    pub fn mean(self) -> Var<'t> {
        let x = self.value();
        let n = x.numel();
        if n == 0 {
            panic!(
                "mean: the tensor of shape {} has no elements, and the mean of nothing is undefined\n  \
                 check the batch or the slice that produced it; use sum() if an empty sum of 0 is what you want",
                x.shape()
            );
        }
        let y = Tensor::scalar(kernels::sum(x.data()) / n as f32);
        self.tape().push(y, &[self], Mean { axis: None, n })
    }

    /// The mean along `axis`, which is removed from the shape.
    #[track_caller]
    pub fn mean_axis(self, axis: usize) -> Var<'t> {
        let x = self.value();
        let sum = reduce_axis(&x, axis, "mean_axis");
        let n = x.dims()[axis];
        if n == 0 {
            panic!(
                "mean_axis: axis {axis} of shape {} is empty, and the mean of nothing is undefined\n  \
                 use sum_axis if an empty sum of 0 is what you want",
                x.shape()
            );
        }
        let y = sum.map(|s| s / n as f32);
        self.tape().push(y, &[self], Mean { axis: Some(axis), n })
    }
}

struct Mean {
    axis: Option<usize>,
    n: usize,
}

impl Backward for Mean {
    fn name(&self) -> &'static str {
        "mean"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        vec![spread_axis(dy, x[0].shape(), self.axis, 1.0 / self.n as f32)]
    }

    fn detail(&self) -> String {
        self.axis.map(|a| format!("axis={a}")).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn each_element_gets_one_nth_of_the_gradient() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from_vec(vec![1., 2., 3., 6.], [2, 2]));
        assert_eq!(x.mean().value().item(), 3.0);
        assert_eq!(tape.backward(x.mean())[x].data(), &[0.25; 4]);
        assert_eq!(x.mean_axis(1).value().data(), &[1.5, 4.5]);
    }
}
