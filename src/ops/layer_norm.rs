//! Layer normalisation over the last axis, fused: one forward pass that saves
//! the mean and 1/std of each row, and one backward pass that uses them.
//!
//! forward:  x̂ = (x − μ) · r,   r = 1 / √(σ² + ε),   y = x̂ * g + b      (per row of C values;
//!           σ² is the biased variance, Σ (x − μ)² / C, as in PyTorch)
//! backward: dx̂ = dy * g
//!           dx = r · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ * x̂))                 (per row)
//!           dg = Σ_rows dy * x̂,   db = Σ_rows dy
//!
//! Derivation: x̂ depends on x directly and through μ and r. Differentiating
//! x̂_i = (x_i − μ) r gives ∂x̂_i/∂x_j = r (δ_ij − 1/C − x̂_i x̂_j / C); contracting
//! with dx̂ gives the line above. The book derives it step by step.

use crate::kernels;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

// ANCHOR: layer_norm
// ANCHOR: layer_norm_checks
impl<'t> Var<'t> {
    /// Normalises each row (last axis) to mean 0 and variance 1, then applies
    /// the optional gain `g` and shift `b` (both of shape `[C]`).
    /// PyTorch's default `eps` is `1e-5`.
    #[track_caller]
    pub fn layer_norm(
        self,
        gain: Option<Var<'t>>,
        shift: Option<Var<'t>>,
        eps: f32,
    ) -> Var<'t> {
        let x = self.value();
        let c = crate::shape::last_axis("layer_norm", x.shape());
        crate::shape::check_eps("layer_norm", eps);
        for (what, p) in [("gain", gain), ("shift", shift)] {
            if let Some(p) = p {
                if p.shape().dims() != [c] {
                    panic!(
                        "layer_norm: the {what} has shape {} \
                         but rows have {c} features\n  \
                         the {what} needs shape [{c}], one entry per feature",
                        p.shape()
                    );
                }
            }
        }
        // ANCHOR_END: layer_norm_checks
        // ANCHOR: layer_norm_forward
        let (g, b) = (gain.map(|v| v.value()), shift.map(|v| v.value()));
        let rows = x.numel() / c;
        let (mut mean, mut rstd) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
        let mut y = Tensor::zeros(x.shape());
        for (x, y) in x.data().chunks_exact(c).zip(y.data_mut().chunks_exact_mut(c)) {
            let mu = kernels::sum(x) / c as f32;
            // Two passes: Σ (x − μ)² does not cancel catastrophically as
            // Σ x² − C μ² can.
            let var = kernels::sum_map(x, |v| (v - mu) * (v - mu)) / c as f32;
            let r = 1.0 / (var + eps).sqrt();
            for (y, &v) in y.iter_mut().zip(x) {
                *y = (v - mu) * r;
            }
            if let Some(g) = &g {
                y.iter_mut().zip(g.data()).for_each(|(y, &g)| *y *= g);
            }
            if let Some(b) = &b {
                kernels::add_assign(y, b.data());
            }
            mean.push(mu);
            rstd.push(r);
        }
        let inputs: Vec<Var<'t>> =
            [Some(self), gain, shift].into_iter().flatten().collect();
        let rule = LayerNorm {
            mean,
            rstd,
            has_gain: gain.is_some(),
            has_shift: shift.is_some(),
            eps,
        };
        self.tape().push(y, &inputs, rule)
    }
}
// ANCHOR_END: layer_norm_forward

// ANCHOR: layer_norm_rule
struct LayerNorm {
    mean: Vec<f32>, // μ of each row
    rstd: Vec<f32>, // r = 1/√(σ² + ε) of each row
    has_gain: bool,
    has_shift: bool,
    eps: f32,
}

impl Backward for LayerNorm {
    fn name(&self) -> &'static str {
        "layer_norm"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let c = x[0].shape().last();
        let g = if self.has_gain { Some(x[1].data()) } else { None };
        let mut dx = Tensor::zeros(x[0].shape());
        let mut dg = vec![0.0f32; c];
        let mut db = vec![0.0f32; c];
        let mut xhat = vec![0.0f32; c];
        let mut dxhat = vec![0.0f32; c];
        // ANCHOR_END: layer_norm_rule
        // ANCHOR: layer_norm_backward
        let rows = x[0].data().chunks_exact(c).zip(dy.data().chunks_exact(c));
        for (row, ((x, dy), dx)) in
            rows.zip(dx.data_mut().chunks_exact_mut(c)).enumerate()
        {
            let (mu, r) = (self.mean[row], self.rstd[row]);
            for (h, &v) in xhat.iter_mut().zip(x) {
                *h = (v - mu) * r;
            }
            match g {
                Some(g) => {
                    dxhat.iter_mut().zip(dy).zip(g).for_each(|((d, &dy), &g)| *d = dy * g)
                }
                None => dxhat.copy_from_slice(dy),
            }
            let mean_d = kernels::sum(&dxhat) / c as f32; // mean(dx̂)
            let mean_dx = kernels::dot(&dxhat, &xhat) / c as f32; // mean(dx̂ * x̂)
            for ((dx, &d), &h) in dx.iter_mut().zip(&dxhat).zip(&xhat) {
                *dx = r * (d - mean_d - h * mean_dx);
            }
            for ((dg, &dy), &h) in dg.iter_mut().zip(dy).zip(&xhat) {
                *dg += dy * h; // dg = Σ_rows dy * x̂
            }
            kernels::add_assign(&mut db, dy); // db = Σ_rows dy
        }
        let mut grads = vec![dx];
        if self.has_gain {
            grads.push(Tensor::from_vec(dg, [c]));
        }
        if self.has_shift {
            grads.push(Tensor::from_vec(db, [c]));
        }
        grads
    }

    fn detail(&self) -> String {
        format!("eps={}", self.eps)
    }
}
// ANCHOR_END: layer_norm_backward
// ANCHOR_END: layer_norm

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn rows_come_out_with_mean_zero_and_unit_variance() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from_vec(
            vec![1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0],
            [2, 4],
        ));
        // A tiny eps (it must be positive) leaves the variance at 1 within f32 rounding.
        let y = x.layer_norm(None, None, 1e-12).value();
        for row in y.data().chunks_exact(4) {
            let mean: f32 = row.iter().sum::<f32>() / 4.0;
            let var: f32 = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 4.0;
            assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{mean} {var}");
        }
        // Both rows are affine images of one another, so they normalise alike.
        assert!((y.get(&[0, 0]) - y.get(&[1, 0])).abs() < 1e-6);
    }
}
