//! Exercise 6: layer norm's backward, the longest rule of the eight.
//!
//! ```text
//! forward, per row of C values (x: [rows, C], gain g and shift b: [C]):
//!   μ = mean(x),  σ² = mean((x − μ)²),  r = 1 / √(σ² + ε)
//!   x̂ = (x − μ) · r,   y = x̂ * g + b
//! backward, per row, with dx̂ = dy * g:
//!   dx = r · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ * x̂))
//!   dg = Σ_rows dy * x̂,   db = Σ_rows dy
//! ```
//!
//! Why dx has three terms: x̂ depends on x directly, through μ and through
//! r. ∂x̂_i/∂x_j = r (δ_ij − 1/C − x̂_i x̂_j / C); contracting with dx̂ gives
//! dx. The chapter "LayerNorm's backward by hand" derives it step by step.
//!
//! The forward pass saves μ and r for each row, so the rule need not
//! recompute them. Write `LayerNorm`'s backward rule, then run
//! `cargo test -p exercises --test layer_norm`.

use resgrad::{Backward, Tensor, Var};

/// Layer norm over each row of `x` (`[rows, C]`), with gain `g` and shift
/// `b` (both `[C]`), recorded with the rule `LayerNorm`.
pub fn layer_norm<'t>(x: Var<'t>, g: Var<'t>, b: Var<'t>, eps: f32) -> Var<'t> {
    let (xv, gv, bv) = (x.value(), g.value(), b.value());
    let (rows, c) = (xv.dims()[0], xv.dims()[1]);
    let mut y = Tensor::zeros([rows, c]);
    let (mut mean, mut rstd) = (Vec::new(), Vec::new());
    for i in 0..rows {
        let mu = (0..c).map(|j| xv.get(&[i, j])).sum::<f32>() / c as f32;
        let var = (0..c).map(|j| (xv.get(&[i, j]) - mu).powi(2)).sum::<f32>() / c as f32;
        let r = 1.0 / (var + eps).sqrt();
        for j in 0..c {
            let xhat = (xv.get(&[i, j]) - mu) * r;
            y.set(&[i, j], xhat * gv.get(&[j]) + bv.get(&[j]));
        }
        mean.push(mu);
        rstd.push(r);
    }
    x.tape().push(y, &[x, g, b], LayerNorm { mean, rstd })
}

// ANCHOR: layer_norm
// What the forward pass saved, one entry per row.
struct LayerNorm {
    mean: Vec<f32>, // μ
    rstd: Vec<f32>, // r = 1 / √(σ² + ε)
}

impl Backward for LayerNorm {
    fn name(&self) -> &'static str {
        "layer_norm"
    }

    // x = [x, g, b], the inputs' values; dy = dL/dy, shaped like x[0].
    // Return [dx, dg, db]. `t.get(&[i, j])` reads an element, `t.set` writes one.
    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        // ---- your code: start ----
        let (x, g) = (x[0], x[1]);
        let (rows, c) = (x.dims()[0], x.dims()[1]);
        let mut dx = Tensor::zeros([rows, c]);
        let (mut dg, mut db) = (Tensor::zeros([c]), Tensor::zeros([c]));
        for i in 0..rows {
            let (mu, r) = (self.mean[i], self.rstd[i]);
            let xhat: Vec<f32> = (0..c).map(|j| (x.get(&[i, j]) - mu) * r).collect();
            let dxhat: Vec<f32> = (0..c).map(|j| dy.get(&[i, j]) * g.get(&[j])).collect();
            let mean_dxhat = dxhat.iter().sum::<f32>() / c as f32;
            let mean_dxhat_xhat =
                dxhat.iter().zip(&xhat).map(|(d, h)| d * h).sum::<f32>() / c as f32;
            for j in 0..c {
                dx.set(&[i, j], r * (dxhat[j] - mean_dxhat - xhat[j] * mean_dxhat_xhat));
                dg.set(&[j], dg.get(&[j]) + dy.get(&[i, j]) * xhat[j]);
                db.set(&[j], db.get(&[j]) + dy.get(&[i, j]));
            }
        }
        vec![dx, dg, db]
        // ---- your code: end ----
    }
}
// ANCHOR_END: layer_norm
