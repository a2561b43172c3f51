//! The causal mask of decoder attention: position i may not look at j > i.
//!
//! forward:  y[.., i, j] = x[.., i, j] if j ≤ i, else −∞
//! backward: dx[.., i, j] = dy[.., i, j] if j ≤ i, else 0
//!
//! −∞ (not a large negative number such as −1e4) makes the masked
//! probabilities exactly 0 after softmax, at any scale of the scores.

use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

// ANCHOR: causal_mask
// ANCHOR: causal_mask_forward
impl<'t> Var<'t> {
    /// Sets entries above the diagonal of the last two axes (key index j
    /// greater than query index i) to −∞.
    #[track_caller]
    pub fn causal_mask(self) -> Var<'t> {
        let x = self.value();
        if x.shape().rank() < 2 {
            panic!("causal_mask: needs scores of shape [..., T, T], got {}", x.shape());
        }
        let mut y = (*x).clone();
        apply(&mut y, f32::NEG_INFINITY);
        self.tape().push(y, &[self], CausalMask)
    }
}

/// Writes `fill` above the diagonal of every `[rows, cols]` matrix of `t`.
fn apply(t: &mut Tensor, fill: f32) {
    let rank = t.shape().rank();
    let (rows, cols) = (t.dims()[rank - 2], t.dims()[rank - 1]);
    if rows * cols == 0 {
        return;
    }
    for m in t.data_mut().chunks_exact_mut(rows * cols) {
        for (i, row) in m.chunks_exact_mut(cols).enumerate() {
            row.iter_mut().skip(i + 1).for_each(|v| *v = fill);
        }
    }
}
// ANCHOR_END: causal_mask_forward

// ANCHOR: causal_mask_backward
struct CausalMask;

impl Backward for CausalMask {
    fn name(&self) -> &'static str {
        "causal_mask"
    }

    fn produces_infinity(&self) -> bool {
        true // the −∞ above the diagonal is the point
    }

    fn backward(&self, _x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let mut dx = dy.clone();
        apply(&mut dx, 0.0); // masked entries do not depend on x
        vec![dx]
    }
}
// ANCHOR_END: causal_mask_backward
// ANCHOR_END: causal_mask

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn entries_above_the_diagonal_become_minus_infinity() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::ones([2, 2]));
        assert_eq!(x.causal_mask().value().data(), &[1.0, f32::NEG_INFINITY, 1.0, 1.0]);
    }
}
