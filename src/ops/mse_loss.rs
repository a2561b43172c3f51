//! Mean squared error.
//!
//! forward:  L = (1/n) Σ_i (a_i − b_i)²
//! backward: da = dL · 2 (a − b) / n,   db = −da

use crate::shape::assert_same_shape;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

// ANCHOR: mse_loss
impl<'t> Var<'t> {
    /// `mean((self − target)²)` as a scalar (PyTorch's `mse_loss`, mean reduction).
    #[track_caller]
    pub fn mse_loss(self, target: Var<'t>) -> Var<'t> {
        let (a, b) = (self.value(), target.value());
        assert_same_shape("mse_loss", a.shape(), b.shape());
        if a.numel() == 0 {
            panic!(
                "mse_loss: both operands of shape {} are empty, \
                 and the mean of nothing is undefined\n  \
                 pass at least one element",
                a.shape()
            );
        }
        let n = a.numel() as f32;
        let s = crate::kernels::squared_distance(a.data(), b.data());
        self.tape().push(Tensor::scalar(s / n), &[self, target], MseLoss)
    }
}

struct MseLoss;

impl Backward for MseLoss {
    fn name(&self) -> &'static str {
        "mse_loss"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let c = 2.0 * dy.item() / x[0].numel() as f32;
        let da = x[0].zip_map(x[1], |a, b| c * (a - b));
        let db = da.map(|g| -g);
        vec![da, db]
    }
}
// ANCHOR_END: mse_loss

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn loss_and_gradient_by_hand() {
        // a − b = [1, −2]: L = (1 + 4) / 2 = 2.5, da = 2 (a − b) / 2 = [1, −2]
        let tape = Tape::new();
        let a = tape.leaf(Tensor::from_vec(vec![2.0, 0.0], [2]));
        let b = tape.constant(Tensor::from_vec(vec![1.0, 2.0], [2]));
        let loss = a.mse_loss(b);
        assert_eq!(loss.value().item(), 2.5);
        assert_eq!(tape.backward(loss)[a].data(), &[1.0, -2.0]);
    }
}
