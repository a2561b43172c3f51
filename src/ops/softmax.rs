//! Softmax over the last axis, computed stably.
//!
//! forward:  y_j = e^(x_j − m) / Σ_k e^(x_k − m),   m = max_k x_k   (per row)
//! backward: dx = y * (dy − Σ_j dy_j y_j)                          (per row)
//!
//! Subtracting the row maximum changes nothing mathematically (it cancels
//! between numerator and denominator) but keeps every exponent ≤ 0, so
//! `exp` cannot overflow. Entries of −∞ (masked positions) get probability 0.
//!
//! A row that is −∞ everywhere (a query whose every key is masked) has no
//! softmax in the mathematical sense: `e^(x − m)` is `e^(−∞ + ∞)`, NaN.
//! resgrad defines it as all zeros: the query attends to nothing, its
//! attention output is 0, and no gradient flows through the row (the rule
//! below gives `dx = 0` where `y = 0`). PyTorch's plain softmax returns NaN
//! there, and a NaN would spread through every later layer and step.

use crate::kernels;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

// ANCHOR: softmax
// ANCHOR: softmax_forward
impl<'t> Var<'t> {
    /// Softmax along the last axis: each row becomes positive and sums to 1.
    #[track_caller]
    pub fn softmax(self) -> Var<'t> {
        let x = self.value();
        let c = crate::shape::last_axis("softmax", x.shape());
        let mut y = (*x).clone();
        for row in y.data_mut().chunks_exact_mut(c) {
            let m = kernels::max(row);
            if m == f32::NEG_INFINITY {
                row.fill(0.0); // every position masked: attend to nothing
                continue;
            }
            for v in row.iter_mut() {
                *v = (*v - m).exp();
            }
            let inv = 1.0 / kernels::sum(row);
            row.iter_mut().for_each(|v| *v *= inv);
        }
        self.tape().push(y, &[self], Softmax { c })
    }
}
// ANCHOR_END: softmax_forward

// ANCHOR: softmax_backward
struct Softmax {
    c: usize,
}

impl Backward for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }

    fn backward(&self, _x: &[&Tensor], y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let mut dx = Tensor::zeros(y.shape());
        let rows = y.data().chunks_exact(self.c).zip(dy.data().chunks_exact(self.c));
        for ((y, dy), dx) in rows.zip(dx.data_mut().chunks_exact_mut(self.c)) {
            let s = kernels::dot(dy, y); // Σ_j dy_j y_j
            for ((dx, &y), &dy) in dx.iter_mut().zip(y).zip(dy) {
                *dx = y * (dy - s);
            }
        }
        vec![dx]
    }
}
// ANCHOR_END: softmax_backward
// ANCHOR_END: softmax

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    // ANCHOR: softmax_huge_logits
    #[test]
    fn rows_sum_to_one_even_for_huge_logits() {
        let tape = Tape::new();
        let x = tape
            .leaf(Tensor::from_vec(vec![1000.0, 1000.0, 0.0, f32::NEG_INFINITY], [2, 2]));
        let y = x.softmax().value();
        assert_eq!(y.data(), &[0.5, 0.5, 1.0, 0.0]);
    }
    // ANCHOR_END: softmax_huge_logits
}
