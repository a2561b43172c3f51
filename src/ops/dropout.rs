//! Dropout: zero each element with probability p while training, and scale
//! the survivors by 1/(1 − p) so that the expected value is unchanged.
//!
//! forward:  y = x * m,    m_i = 1/(1 − p) with probability 1 − p, else 0
//! backward: dx = dy * m   (the same mask, saved from the forward pass)
//!
//! In evaluation mode dropout is the identity and records nothing.

use crate::rng::Rng;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// Inverted dropout with probability `p` (PyTorch's `nn.Dropout(p)`).
    /// The mask is drawn from `rng`, so a seeded generator gives the same
    /// mask every run. With `training == false`, or `p == 0`, returns `self`
    /// unchanged.
    #[track_caller]
    pub fn dropout(self, p: f32, rng: &mut Rng, training: bool) -> Var<'t> {
        if !(0.0..=1.0).contains(&p) {
            panic!(
                "dropout: probability p = {p} is outside [0, 1]\n  p is the chance of zeroing an element"
            );
        }
        if !training || p == 0.0 {
            return self;
        }
        // p = 1 drops everything; avoid 1/(1 − p) = ∞, whose product with 0 is NaN.
        let keep_scale = if p < 1.0 { 1.0 / (1.0 - p) } else { 0.0 };
        let x = self.value();
        let mask: Vec<f32> = (0..x.numel())
            .map(|_| if rng.uniform() < p { 0.0 } else { keep_scale })
            .collect();
        let y = Tensor::from_vec(
            x.data().iter().zip(&mask).map(|(x, m)| x * m).collect(),
            x.shape(),
        );
        self.tape().push(y, &[self], Dropout { mask, p })
    }
}

struct Dropout {
    mask: Vec<f32>,
    p: f32,
}

impl Backward for Dropout {
    fn name(&self) -> &'static str {
        "dropout"
    }

    fn backward(&self, _x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let dx = dy.data().iter().zip(&self.mask).map(|(g, m)| g * m).collect();
        vec![Tensor::from_vec(dx, dy.shape())]
    }

    fn detail(&self) -> String {
        format!("p={}", self.p)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Rng, Tape, Tensor};

    #[test]
    fn survivors_are_scaled_and_the_gradient_uses_the_same_mask() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::ones([1000]));
        let y = x.dropout(0.25, &mut Rng::new(1), true);
        let v = y.value();
        assert!(v.data().iter().all(|&v| v == 0.0 || v == 1.0 / 0.75));
        let dropped = v.data().iter().filter(|&&v| v == 0.0).count();
        // Binomial(1000, 0.25): mean 250, std 13.7; allow 5 std.
        assert!((180..=320).contains(&dropped), "{dropped}");
        assert_eq!(tape.backward(y.sum())[x], *v);
    }

    #[test]
    fn eval_mode_records_nothing() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::ones([4]));
        let y = x.dropout(0.5, &mut Rng::new(1), false);
        assert_eq!(y.id(), x.id());
        assert_eq!(tape.len(), 1);
    }
}
