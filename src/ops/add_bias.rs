//! Adding a bias row to every row: the `+ b` of a Linear layer.
//!
//! forward:  y[r, j] = x[r, j] + b[j]        x: [..., C], b: [C]
//! backward: dx = dy,  db[j] = Σ_r dy[r, j]
//!
//! The bias is broadcast over the rows in the forward pass, so its gradient
//! sums over the rows: every row it was added to sends its share back.

use crate::kernels;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

// ANCHOR: add_bias
// ANCHOR: add_bias_forward
impl<'t> Var<'t> {
    /// `self + bias` with `bias` of shape `[C]` added to every row of
    /// `self: [..., C]`.
    #[track_caller]
    pub fn add_bias(self, bias: Var<'t>) -> Var<'t> {
        let (x, b) = (self.value(), bias.value());
        if b.shape().rank() != 1 || x.shape().rank() == 0 || x.shape().last() != b.numel()
        {
            panic!(
                "add_bias: cannot add a bias of shape {} to rows of shape {}\n  \
                 the bias must be 1-D with one entry per feature: shape [{}]",
                b.shape(),
                x.shape(),
                if x.shape().rank() == 0 { 1 } else { x.shape().last() }
            );
        }
        let mut y = (*x).clone();
        if b.numel() == 0 {
            // rows of width 0: nothing to add
            return self.tape().push(y, &[self, bias], AddBias);
        }
        for row in y.data_mut().chunks_exact_mut(b.numel()) {
            kernels::add_assign(row, b.data());
        }
        self.tape().push(y, &[self, bias], AddBias)
    }
}
// ANCHOR_END: add_bias_forward

// ANCHOR: add_bias_backward
struct AddBias;

impl Backward for AddBias {
    fn name(&self) -> &'static str {
        "add_bias"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let mut db = Tensor::zeros(x[1].shape());
        if db.numel() == 0 {
            return vec![dy.clone(), db];
        }
        for row in dy.data().chunks_exact(db.numel()) {
            kernels::add_assign(db.data_mut(), row); // db[j] = Σ_r dy[r, j]
        }
        vec![dy.clone(), db]
    }
}
// ANCHOR_END: add_bias_backward
// ANCHOR_END: add_bias

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    // ANCHOR: bias_gradient_test
    #[test]
    fn the_bias_gradient_sums_over_rows() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::zeros([3, 2]));
        let b = tape.leaf(Tensor::from_vec(vec![1.0, 2.0], [2]));
        let y = x.add_bias(b);
        assert_eq!(y.value().data(), &[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
        let dy = Tensor::from_vec(vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0], [3, 2]);
        assert_eq!(tape.backward_with(y, dy).get(b).unwrap().data(), &[6.0, 60.0]);
    }
    // ANCHOR_END: bias_gradient_test
}
