//! Broadcasting: repeating a tensor along new leading axes or axes of size 1.
//!
//! forward:  y[i] = x[i with broadcast axes set to 0]     e.g. [N, 1] -> [N, C]
//! backward: dx = dy summed over the broadcast axes
//!
//! A value copied to many places in the forward pass collects the gradient
//! of every copy in the backward pass: the same rule as a bias row.

use crate::kernels;
use crate::shape::Shape;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// Repeats `self` to `shape` under NumPy's rules: axes are matched from
    /// the right, and each input axis must equal the target axis or be 1.
    #[track_caller]
    pub fn broadcast_to(self, shape: impl Into<Shape>) -> Var<'t> {
        let x = self.value();
        let shape = shape.into();
        let steps = broadcast_steps(x.shape(), &shape);
        let mut y = Tensor::zeros(shape.clone());
        kernels::for_each_strided(shape.dims(), &steps, |out, src| {
            y.data_mut()[out] = x.data()[src]
        });
        self.tape().push(y, &[self], Broadcast { steps })
    }
}

struct Broadcast {
    /// For each output axis, the input stride of one step along it (0 on a
    /// broadcast axis).
    steps: Vec<usize>,
}

impl Backward for Broadcast {
    fn name(&self) -> &'static str {
        "broadcast_to"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let mut dx = Tensor::zeros(x[0].shape());
        let g = dy.data();
        kernels::for_each_strided(dy.dims(), &self.steps, |out, src| {
            dx.data_mut()[src] += g[out]
        });
        vec![dx]
    }
}

/// Input strides per output axis, or a teaching panic if `from` cannot be
/// broadcast to `to`.
#[track_caller]
fn broadcast_steps(from: &Shape, to: &Shape) -> Vec<usize> {
    let lead = to.rank().saturating_sub(from.rank());
    let strides = from.strides();
    let mut steps = Vec::with_capacity(to.rank());
    for axis in 0..to.rank() {
        let step = match axis.checked_sub(lead).map(|a| (a, from.dims()[a])) {
            None => 0,                                          // a new leading axis
            Some((a, d)) if d == to.dims()[axis] => strides[a], // kept as it is
            Some((_, 1)) => 0,                                  // size 1, repeated
            Some(_) => break,
        };
        steps.push(step);
    }
    if from.rank() > to.rank() || steps.len() != to.rank() {
        panic!(
            "broadcast_to: cannot broadcast shape {from} to {to}\n  \
             matching axes from the right, each axis of {from} must equal the target's or be 1"
        );
    }
    steps
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn a_column_repeated_across_rows_collects_each_rows_gradient() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from_vec(vec![1.0, 2.0], [2, 1]));
        let y = x.broadcast_to([2, 3]);
        assert_eq!(y.value().data(), &[1., 1., 1., 2., 2., 2.]);
        let dy = Tensor::from_vec(vec![1., 2., 3., 4., 5., 6.], [2, 3]);
        assert_eq!(tape.backward_with(y, dy)[x].data(), &[6.0, 15.0]);
    }

    #[test]
    #[should_panic(expected = "cannot broadcast shape [3] to [2, 4]")]
    fn incompatible_shapes_are_named() {
        let tape = Tape::new();
        let _ = tape.leaf(Tensor::zeros([3])).broadcast_to([2, 4]);
    }
}
