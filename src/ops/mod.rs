//! Every op resgrad can record, one file each: the user-facing method on
//! [`Var`], the forward computation, and the backward rule with its
//! derivative written on top, side by side.
//!
//! Notation: `dy` is the gradient of the loss with respect to the op's
//! output, `dx` (or `da`, `db`, `dw`) the gradient it returns for an input.
//! `*` below is elementwise, `@` is matrix product, `ᵀ` swaps the last two axes.
//!
// ANCHOR: rule_table
//! | op | forward | backward |
//! |---|---|---|
//! | [`add`] | `y = a + b` | `da = dy, db = dy` |
//! | [`sub`] | `y = a − b` | `da = dy, db = −dy` |
//! | [`mul`] | `y = a * b` | `da = dy * b, db = dy * a` |
//! | [`scale`] | `y = c x` | `dx = c dy` |
//! | [`add_scalar`] | `y = x + c` | `dx = dy` |
//! | [`add_bias`] | `y[r, j] = x[r, j] + b[j]` | `dx = dy, db[j] = Σ_r dy[r, j]` |
//! | [`matmul`] | `Y = A @ B` | `dA = dY @ Bᵀ, dB = Aᵀ @ dY` |
//! | [`matmul_t`] | `Y = A @ Bᵀ` | `dA = dY @ B, dB = dYᵀ @ A` |
//! | [`linear`] | `y = x @ Wᵀ + b` | `dx = dy @ W, dW = dyᵀ @ x, db = Σ_r dy[r]` |
//! | [`linear_relu`] | `y = max(x @ Wᵀ + b, 0)` | as `linear`, with `dy * 1[y > 0]` |
//! | [`transpose`] | `Y = Xᵀ` | `dX = dYᵀ` |
//! | [`permute`] | `y = x`, axes reordered by `p` | `dx = dy`, axes reordered by `p⁻¹` |
//! | [`reshape`] | same values, new shape | `dx = dy` in `x`'s shape |
//! | [`broadcast_to`] | repeat along new or size-1 axes | `dy` summed over those axes |
//! | [`concat`] | `y = [a, b, …]` along an axis | `da, db, …` = slices of `dy` |
//! | [`narrow`] | `y = x[start..start+len]` on an axis | `dx = dy` placed in zeros |
//! | [`gather_rows`] | `y[i] = w[ids[i]]` | `dw[v] = Σ_{i: ids[i] = v} dy[i]` |
//! | [`sum`] | `y = Σ x` | `dx = dy`, repeated |
//! | [`mean`] | `y = Σ x / n` | `dx = dy / n`, repeated |
//! | [`relu`] | `y = max(x, 0)` | `dx = dy * 1[x > 0]` |
//! | [`gelu`] | `y = x Φ(x)` | `dx = dy * (Φ(x) + x φ(x))` |
//! | [`tanh`] | `y = tanh x` | `dx = dy * (1 − y²)` |
//! | [`exp`] | `y = eˣ` | `dx = dy * y` |
//! | [`log`] | `y = ln x` | `dx = dy / x` |
//! | [`softmax`] | `y = eˣ / Σ eˣ` (rows) | `dx = y * (dy − Σ dy * y)` |
//! | [`log_softmax`] | `y = x − ln Σ eˣ` (rows) | `dx = dy − softmax(x) Σ dy` |
//! | [`layer_norm`] | `x̂ = (x − μ) / σ` (rows) | `dx̂ = dy * g`, then |
//! | | `y = x̂ * g + b` | `dx = (dx̂ − mean(dx̂) − x̂ mean(dx̂ * x̂)) / σ` |
//! | [`causal_mask`] | `y = x`, −∞ above the diagonal | `dx = dy`, 0 above the diagonal |
//! | [`dropout`] | `y = x * m / (1 − p)` | `dx = dy * m / (1 − p)` |
//! | [`mse_loss`] | `L = mean((a − b)²)` | `da = 2 (a − b) / n * dL, db = −da` |
//! | [`cross_entropy`] | `L = mean(ln Σ eˣ − x[t])` (rows) | `p = softmax(x)`, then |
//! | | | `dx = (p − onehot(t)) / N * dL` |
//!
//! [`scaled_dot_product_attention`], `softmax(Q Kᵀ / √d) V`, is composed from
//! the ops above and has no rule of its own.
// ANCHOR_END: rule_table
//!
//! [`add`]: Var::add
//! [`sub`]: Var::sub
//! [`mul`]: Var::mul
//! [`scale`]: Var::scale
//! [`add_scalar`]: Var::add_scalar
//! [`add_bias`]: Var::add_bias
//! [`matmul`]: Var::matmul
//! [`matmul_t`]: Var::matmul_t
//! [`linear`]: Var::linear
//! [`linear_relu`]: Var::linear_relu
//! [`transpose`]: Var::transpose
//! [`permute`]: Var::permute
//! [`reshape`]: Var::reshape
//! [`broadcast_to`]: Var::broadcast_to
//! [`concat`]: Var::concat
//! [`narrow`]: Var::narrow
//! [`gather_rows`]: Var::gather_rows
//! [`sum`]: Var::sum
//! [`mean`]: Var::mean
//! [`relu`]: Var::relu
//! [`gelu`]: Var::gelu
//! [`tanh`]: Var::tanh
//! [`exp`]: Var::exp
//! [`log`]: Var::log
//! [`softmax`]: Var::softmax
//! [`log_softmax`]: Var::log_softmax
//! [`layer_norm`]: Var::layer_norm
//! [`causal_mask`]: Var::causal_mask
//! [`dropout`]: Var::dropout
//! [`mse_loss`]: Var::mse_loss
//! [`cross_entropy`]: Var::cross_entropy

use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

mod add;
mod add_bias;
mod add_scalar;
mod attention;
mod broadcast;
mod causal_mask;
mod concat;
mod cross_entropy;
mod dropout;
mod exp;
mod gather_rows;
mod gelu;
mod layer_norm;
mod linear;
mod log;
mod log_softmax;
mod matmul;
mod mean;
mod mse_loss;
mod mul;
mod narrow;
mod permute;
mod relu;
mod reshape;
mod scale;
mod softmax;
mod sub;
mod sum;
mod tanh;
mod transpose;

pub use attention::{
    scaled_dot_product_attention, scaled_dot_product_attention_with_weights,
};
pub use gelu::erf;

// ANCHOR: elementwise
/// The backward rule shared by ops that act on each element alone:
/// `dx = dy * f'(x)`, where the derivative may use the input `x`, the output
/// `y`, or both (tanh's derivative is cheapest as `1 - y²`).
struct Elementwise<D> {
    name: &'static str,
    df: D,
}

impl<D: Fn(f32, f32) -> f32> Backward for Elementwise<D> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn backward(&self, x: &[&Tensor], y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let mut dx = Tensor::zeros(dy.shape());
        for (((d, &x), &y), &g) in
            dx.data_mut().iter_mut().zip(x[0].data()).zip(y.data()).zip(dy.data())
        {
            *d = g * (self.df)(x, y);
        }
        vec![dx]
    }
}

impl<'t> Var<'t> {
    /// Records an elementwise op from its function `f` and its derivative
    /// `df(x, y)`. Both are generic, so the loops inline and vectorise.
    #[track_caller]
    fn elementwise(
        self,
        name: &'static str,
        f: impl Fn(f32) -> f32,
        df: impl Fn(f32, f32) -> f32 + 'static,
    ) -> Var<'t> {
        let y = self.value().map(f);
        self.tape().push(y, &[self], Elementwise { name, df })
    }
}
// ANCHOR_END: elementwise
