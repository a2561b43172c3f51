//! Mean of all elements, or along one axis.
//!
//! forward:  y = (1/n) Σ_i x_i
//! backward: dx_i = dy / n

use crate::kernels;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

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
        self.tape().push(y, &[self], Mean { axis: None, split: (1, n, 1) })
    }

    /// The mean along `axis`, which is removed from the shape.
    #[track_caller]
    pub fn mean_axis(self, axis: usize) -> Var<'t> {
        let x = self.value();
        crate::shape::check_axis("mean_axis", x.shape(), axis);
        let (outer, n, inner) = x.shape().split_at_axis(axis);
        if n == 0 {
            panic!(
                "mean_axis: axis {axis} of shape {} is empty, and the mean of nothing is undefined\n  \
                 use sum_axis if an empty sum of 0 is what you want",
                x.shape()
            );
        }
        let mut sum = Tensor::zeros(x.shape().remove_axis(axis));
        kernels::sum_axis(x.data(), sum.data_mut(), outer, n, inner);
        let y = sum.map(|s| s / n as f32);
        self.tape().push(y, &[self], Mean { axis: Some(axis), split: (outer, n, inner) })
    }
}

struct Mean {
    axis: Option<usize>,
    /// x as `[outer, n, inner]`, averaged over `n` (`[1, n, 1]` for the full mean).
    split: (usize, usize, usize),
}

impl Backward for Mean {
    fn name(&self) -> &'static str {
        "mean"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let (outer, n, inner) = self.split;
        let mut dx = Tensor::zeros(x[0].shape());
        kernels::spread_axis(dy.data(), dx.data_mut(), outer, n, inner, 1.0 / n as f32);
        vec![dx]
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
