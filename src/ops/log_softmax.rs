//! Log-softmax over the last axis.
//!
//! forward:  y_j = x_j − m − ln Σ_k e^(x_k − m),   m = max_k x_k    (per row)
//! backward: dx = dy − softmax(x) Σ_j dy_j,        softmax(x) = e^y  (per row)
//!
//! Computing log(softmax(x)) in two steps loses precision (and gives −∞)
//! when a probability underflows; this form never takes the log of a tiny number.

use crate::kernels;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

// ANCHOR: log_softmax
impl<'t> Var<'t> {
    /// `ln softmax(x)` along the last axis, computed without forming softmax.
    #[track_caller]
    pub fn log_softmax(self) -> Var<'t> {
        let x = self.value();
        let c = crate::shape::last_axis("log_softmax", x.shape());
        let mut y = (*x).clone();
        for row in y.data_mut().chunks_exact_mut(c) {
            let m = kernels::max(row);
            let ln_s = kernels::sum_map(row, |v| (v - m).exp()).ln();
            // (x − m) − ln s, not x − (m + ln s): for logits near 3e4 the
            // latter rounds m + ln s to a multiple of 2^-9 and loses ln s.
            row.iter_mut().for_each(|v| *v = (*v - m) - ln_s);
        }
        self.tape().push(y, &[self], LogSoftmax { c })
    }
}

struct LogSoftmax {
    c: usize,
}

impl Backward for LogSoftmax {
    fn name(&self) -> &'static str {
        "log_softmax"
    }

    fn backward(&self, _x: &[&Tensor], y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let mut dx = Tensor::zeros(y.shape());
        let rows = y.data().chunks_exact(self.c).zip(dy.data().chunks_exact(self.c));
        for ((y, dy), dx) in rows.zip(dx.data_mut().chunks_exact_mut(self.c)) {
            let s = kernels::sum(dy); // Σ_j dy_j
            for ((dx, &y), &dy) in dx.iter_mut().zip(y).zip(dy) {
                *dx = dy - y.exp() * s;
            }
        }
        vec![dx]
    }
}
// ANCHOR_END: log_softmax

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn a_far_behind_logit_stays_finite() {
        // softmax would underflow to 0 for the second entry; log_softmax gives -200.
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from_vec(vec![100.0, -100.0], [1, 2]));
        assert_eq!(x.log_softmax().value().data(), &[0.0, -200.0]);
    }
}
