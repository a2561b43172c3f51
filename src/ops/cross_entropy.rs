//! Cross-entropy from logits with integer class targets (mean over rows).
//!
//! forward:  L = (1/N) Σ_r (ln Σ_j e^(x[r, j]) − x[r, t_r])
//! backward: dx[r, j] = dL · (softmax(x[r])_j − 1[j = t_r]) / N
//!
//! Fusing log-softmax and the pick of the target's entry gives the famously
//! simple gradient "probabilities minus the one-hot target".

use crate::kernels;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

// ANCHOR: cross_entropy
// ANCHOR: cross_entropy_checks
impl<'t> Var<'t> {
    /// PyTorch's `F.cross_entropy(logits, targets)` with mean reduction:
    /// `self` holds logits `[..., C]` (one row per example) and `targets`
    /// one class index in `0..C` per row.
    #[track_caller]
    pub fn cross_entropy(self, targets: &[usize]) -> Var<'t> {
        let x = self.value();
        let c = crate::shape::last_axis("cross_entropy", x.shape());
        let rows = x.numel() / c;
        if targets.len() != rows {
            panic!(
                "cross_entropy: {} targets for logits of shape {} \
                 ({rows} rows of {c} classes)\n  \
                 pass one class index per row",
                targets.len(),
                x.shape()
            );
        }
        if rows == 0 {
            panic!(
                "cross_entropy: logits of shape {} hold no rows, \
                 and the mean loss over no examples is undefined\n  \
                 pass at least one example",
                x.shape()
            );
        }
        if let Some((r, &t)) = targets.iter().enumerate().find(|&(_, &t)| t >= c) {
            panic!(
                "cross_entropy: target {t} at row {r} is out of range \
                 for {c} classes (0..{c})\n  \
                 targets are class indices counted from 0: \
                 check the labels, or give the output layer one logit per class"
            );
        }
        // ANCHOR_END: cross_entropy_checks
        // ANCHOR: cross_entropy_forward
        let mut probs = (*x).clone();
        let mut total = 0.0f64;
        for ((row, logits), &t) in probs
            .data_mut()
            .chunks_exact_mut(c)
            .zip(x.data().chunks_exact(c))
            .zip(targets)
        {
            let m = kernels::max(row);
            row.iter_mut().for_each(|v| *v = (*v - m).exp());
            let s = kernels::sum(row);
            // ln Σ e^x − x_t = ln s − (x_t − m); taken from the logit, not from
            // ln of its probability, which may have underflowed to 0.
            total += (s.ln() - (logits[t] - m)) as f64;
            row.iter_mut().for_each(|v| *v /= s);
        }
        let loss = Tensor::scalar((total / rows as f64) as f32);
        self.tape().push(loss, &[self], CrossEntropy { probs, targets: targets.to_vec() })
    }
}
// ANCHOR_END: cross_entropy_forward

// ANCHOR: cross_entropy_backward
struct CrossEntropy {
    probs: Tensor,
    targets: Vec<usize>,
}

impl Backward for CrossEntropy {
    fn name(&self) -> &'static str {
        "cross_entropy"
    }

    fn backward(&self, _x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let c = self.probs.shape().last();
        let scale = dy.item() / self.targets.len() as f32;
        let mut dx = self.probs.clone();
        for (row, &t) in dx.data_mut().chunks_exact_mut(c).zip(&self.targets) {
            row[t] -= 1.0; // softmax − onehot
            row.iter_mut().for_each(|v| *v *= scale);
        }
        vec![dx]
    }
}
// ANCHOR_END: cross_entropy_backward
// ANCHOR_END: cross_entropy

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn uniform_logits_cost_ln_c() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::zeros([2, 4]));
        let loss = x.cross_entropy(&[0, 3]);
        assert!((loss.value().item() - 4f32.ln()).abs() < 1e-6);
        // (1/4 − 1[j = t]) / 2
        let g = tape.backward(loss);
        assert_eq!(
            g[x].data(),
            &[-0.375, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125, -0.375]
        );
    }
}
