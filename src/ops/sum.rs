//! Sum of all elements, or along one axis.
//!
//! forward:  y = Σ_i x_i                     (or y[o, i] = Σ_s x[o, s, i] along an axis)
//! backward: dx_i = dy                       (dy repeated along the summed axis)

use crate::kernels;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// The sum of every element, as a scalar (shape `[]`).
    #[track_caller]
    pub fn sum(self) -> Var<'t> {
        let x = self.value();
        let y = Tensor::scalar(kernels::sum(x.data()));
        self.tape().push(y, &[self], Sum { axis: None, split: (1, x.numel(), 1) })
    }

    /// The sum along `axis`, which is removed from the shape
    /// (`[B, T, C].sum_axis(1)` is `[B, C]`).
    #[track_caller]
    pub fn sum_axis(self, axis: usize) -> Var<'t> {
        let x = self.value();
        crate::shape::check_axis("sum_axis", x.shape(), axis);
        let (outer, size, inner) = x.shape().split_at_axis(axis);
        let mut y = Tensor::zeros(x.shape().remove_axis(axis));
        kernels::sum_axis(x.data(), y.data_mut(), outer, size, inner);
        self.tape().push(
            y,
            &[self],
            Sum { axis: Some(axis), split: (outer, size, inner) },
        )
    }
}

struct Sum {
    axis: Option<usize>,
    /// x as `[outer, size, inner]`, summed over `size` (`[1, n, 1]` for the full sum).
    split: (usize, usize, usize),
}

impl Backward for Sum {
    fn name(&self) -> &'static str {
        "sum"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let (outer, size, inner) = self.split;
        let mut dx = Tensor::zeros(x[0].shape());
        kernels::spread_axis(dy.data(), dx.data_mut(), outer, size, inner, 1.0);
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
    fn sum_axis_removes_the_axis_and_spreads_the_gradient() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from_vec((0..6).map(|v| v as f32).collect(), [2, 3]));
        let y = x.sum_axis(0);
        assert_eq!(y.value().data(), &[3., 5., 7.]);
        let g = tape.backward_with(y, Tensor::from_vec(vec![1., 2., 3.], [3]));
        assert_eq!(g[x].data(), &[1., 2., 3., 1., 2., 3.]);
        assert_eq!(x.sum().value().item(), 15.0);
    }
}
