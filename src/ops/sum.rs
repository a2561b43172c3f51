//! Sum of all elements, or along one axis.
//!
//! forward:  y = Σ_i x_i                     (or y[o, i] = Σ_s x[o, s, i] along an axis)
//! backward: dx_i = dy                       (dy repeated along the summed axis)

use crate::kernels;
use crate::shape::Shape;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// The sum of every element, as a scalar (shape `[]`).
    #[track_caller]
    pub fn sum(self) -> Var<'t> {
        let y = Tensor::scalar(kernels::sum(self.value().data()));
        self.tape().push(y, &[self], Sum { axis: None })
    }

    /// The sum along `axis`, which is removed from the shape
    /// (`[B, T, C].sum_axis(1)` is `[B, C]`).
    #[track_caller]
    pub fn sum_axis(self, axis: usize) -> Var<'t> {
        let x = self.value();
        let y = reduce_axis(&x, axis, "sum_axis");
        self.tape().push(y, &[self], Sum { axis: Some(axis) })
    }
}

/// `y[o, i] = Σ_s x[o, s, i]`, the shared forward of `sum_axis` and `mean_axis`.
#[track_caller]
pub(crate) fn reduce_axis(x: &Tensor, axis: usize, op: &str) -> Tensor {
    crate::shape::check_axis(op, x.shape(), axis);
    let (outer, size, inner) = x.shape().split_at_axis(axis);
    let mut y = Tensor::zeros(x.shape().remove_axis(axis));
    if inner == 1 {
        // The last axis: one contiguous row per output, summed with lanes.
        if size > 0 {
            for (y, row) in y.data_mut().iter_mut().zip(x.data().chunks_exact(size)) {
                *y = kernels::sum(row);
            }
        }
        return y;
    }
    for o in 0..outer {
        let acc = &mut y.data_mut()[o * inner..(o + 1) * inner];
        for s in 0..size {
            kernels::add_assign(acc, &x.data()[(o * size + s) * inner..(o * size + s + 1) * inner]);
        }
    }
    y
}

/// `dx[o, s, i] = c * dy[o, i]`: the shared backward of the reductions.
pub(crate) fn spread_axis(dy: &Tensor, x_shape: &Shape, axis: Option<usize>, c: f32) -> Tensor {
    let mut dx = Tensor::zeros(x_shape);
    match axis {
        None => dx.data_mut().fill(c * dy.item()),
        Some(axis) => {
            let (outer, size, inner) = x_shape.split_at_axis(axis);
            for o in 0..outer {
                let g = &dy.data()[o * inner..(o + 1) * inner];
                for s in 0..size {
                    let d = &mut dx.data_mut()[(o * size + s) * inner..(o * size + s + 1) * inner];
                    for (d, &g) in d.iter_mut().zip(g) {
                        *d = c * g;
                    }
                }
            }
        }
    }
    dx
}

struct Sum {
    axis: Option<usize>,
}

impl Backward for Sum {
    fn name(&self) -> &'static str {
        "sum"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        vec![spread_axis(dy, x[0].shape(), self.axis, 1.0)]
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
