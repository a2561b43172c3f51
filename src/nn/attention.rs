//! `MultiHeadAttention`: PyTorch's `nn.MultiheadAttention(embed_dim, num_heads)`,
//! composed from the engine's ops (no backward rule of its own).
//!
//! Shapes (B batch, T queries, S keys, E = H·D width, H heads of size D):
//!
//! ```text
//! x [B, T, E] --in_proj--> q, k, v [B, T, E] --split heads--> [B, H, T, D]
//! softmax(q kᵀ / √D) [B, H, T, S] @ v [B, H, S, D] --> [B, H, T, D]
//! --merge heads--> [B, T, E] --out_proj--> [B, T, E]
//! ```

use super::{Ctx, Linear, Module, ParamId, Params, Scope};
use crate::rng::Rng;
use crate::tape::Var;
use crate::tensor::Tensor;

/// Multi-head scaled dot-product attention with PyTorch's parameter names
/// and initialisation: `in_proj_weight` `[3E, E]` (Xavier-uniform),
/// `in_proj_bias` `[3E]` (zeros), and `out_proj` a [`Linear`] whose bias
/// starts at zero.
///
/// Unlike PyTorch's default (`batch_first=False`, inputs `[T, B, E]`),
/// this layer always reads the batch-first layout `[..., T, E]`: any leading
/// axes are batch axes, and an unbatched `[T, E]` works too.
/// [`TransformerEncoderLayer`](super::TransformerEncoderLayer) converts
/// PyTorch's seq-first layout before calling it.
#[derive(Clone, Debug)]
pub struct MultiHeadAttention {
    /// `in_proj_weight`: the query, key and value projections stacked, `[3E, E]`.
    pub in_proj_weight: ParamId,
    /// `in_proj_bias`, `[3E]`, if the layer has biases.
    pub in_proj_bias: Option<ParamId>,
    /// `out_proj`, `E -> E`.
    pub out_proj: Linear,
    /// Model width E.
    pub embed_dim: usize,
    /// Number of heads H (E must be divisible by H).
    pub num_heads: usize,
    /// Dropout on the attention weights (training only), PyTorch's `dropout`.
    pub dropout: f32,
    /// Whether [`Module::forward`] masks future positions.
    pub causal: bool,
}

impl MultiHeadAttention {
    // ANCHOR: mha_new
    // ANCHOR: mha_new_checks
    /// `nn.MultiheadAttention(embed_dim, num_heads, dropout, bias)`.
    #[track_caller]
    pub fn new(
        scope: &mut Scope<'_>,
        embed_dim: usize,
        num_heads: usize,
        dropout: f32,
        bias: bool,
        rng: &mut Rng,
    ) -> Self {
        if !(0.0..=1.0).contains(&dropout) {
            panic!(
                "MultiHeadAttention: dropout = {dropout} is not a probability\n  \
                 pass the chance of zeroing an attention weight, in [0, 1]"
            );
        }
        if num_heads == 0 || embed_dim % num_heads != 0 {
            panic!(
                "MultiHeadAttention: embed_dim {embed_dim} is not divisible \
                 by num_heads {num_heads}\n  \
                 each head gets embed_dim / num_heads features; \
                 pick a divisor of {embed_dim}"
            );
        }
        // ANCHOR_END: mha_new_checks
        // ANCHOR: mha_new_params
        // Xavier-uniform for [3E, E]: bound √(6 / (fan_in + fan_out)) = √(6 / 4E).
        let bound = (6.0 / (4 * embed_dim) as f32).sqrt();
        let in_proj_weight = scope.add(
            "in_proj_weight",
            Tensor::uniform([3 * embed_dim, embed_dim], -bound, bound, rng),
        );
        let in_proj_bias =
            bias.then(|| scope.add("in_proj_bias", Tensor::zeros([3 * embed_dim])));
        let out_proj =
            Linear::new(&mut scope.sub("out_proj"), embed_dim, embed_dim, bias, rng);
        if let Some(b) = out_proj.bias {
            scope.params().get_mut(b).data_mut().fill(0.0);
        }
        MultiHeadAttention {
            in_proj_weight,
            in_proj_bias,
            out_proj,
            embed_dim,
            num_heads,
            dropout,
            causal: false,
        }
    }
    // ANCHOR_END: mha_new_params
    // ANCHOR_END: mha_new

    /// The same layer with [`Module::forward`] masking future positions.
    pub fn causal(mut self, causal: bool) -> Self {
        self.causal = causal;
        self
    }

    // ANCHOR: mha_attend
    // ANCHOR: mha_attend_checks
    /// Attention of `query` `[..., T, E]` over `key` and `value` `[..., S, E]`.
    /// Returns the output `[..., T, E]` and the attention weights
    /// `[..., H, T, S]` that multiplied the values: per head (PyTorch's
    /// `average_attn_weights=False`), after dropout in training, as PyTorch
    /// returns them.
    #[track_caller]
    pub fn attend<'t>(
        &self,
        ctx: &Ctx<'t>,
        query: Var<'t>,
        key: Var<'t>,
        value: Var<'t>,
        causal: bool,
    ) -> (Var<'t>, Var<'t>) {
        let e = self.embed_dim;
        let (qs, ks, vs) = (query.shape(), key.shape(), value.shape());
        for (what, s) in [("query", &qs), ("key", &ks), ("value", &vs)] {
            if s.rank() < 2 || s.last() != e {
                panic!(
                    "MultiHeadAttention: {what} has shape {s}, but embed_dim is {e}\n  \
                     inputs need shape [..., T, {e}] (batch_first layout)"
                );
            }
        }
        let lead = |s: &crate::Shape| s.dims()[..s.rank() - 2].to_vec();
        if ks != vs || lead(&qs) != lead(&ks) {
            panic!(
                "MultiHeadAttention: query {qs}, key {ks} and value {vs} \
                 do not fit together\n  \
                 key and value need the same shape [..., S, {e}], \
                 and the query the same leading (batch) axes [..., T, {e}]"
            );
        }
        // ANCHOR_END: mha_attend_checks
        // ANCHOR: mha_attend_forward
        let w = ctx.param(self.in_proj_weight); // [3E, E]
        let b = self.in_proj_bias.map(|b| ctx.param(b)); // [3E]
        // x Wᵀ + b
        let project = |x: Var<'t>, w: Var<'t>, b: Option<Var<'t>>| x.linear(w, b);
        let (q, k, v) = if query.id() == key.id() && key.id() == value.id() {
            // Self-attention: one projection to [..., T, 3E], then split.
            let qkv = project(query, w, b);
            let last = qkv.shape().rank() - 1;
            let parts = qkv.split(&[e, e, e], last);
            (parts[0], parts[1], parts[2])
        } else {
            let slice =
                |i: usize| (w.narrow(0, i * e, e), b.map(|b| b.narrow(0, i * e, e)));
            let ((wq, bq), (wk, bk), (wv, bv)) = (slice(0), slice(1), slice(2));
            (project(query, wq, bq), project(key, wk, bk), project(value, wv, bv))
        };
        // Each [N, H, T, D].
        let (q, k, v) = (self.split_heads(q), self.split_heads(k), self.split_heads(v));
        let d = e / self.num_heads;
        // q kᵀ / √D: [N, H, T, S]
        let scores = q.matmul_t(k).scale(1.0 / (d as f32).sqrt());
        let scores = if causal { scores.causal_mask() } else { scores };
        let weights = ctx.dropout(scores.softmax(), self.dropout);
        let mixed = weights.matmul(v); // [N, H, T, D]
        let merged = self.merge_heads(mixed, &query.shape()); // [..., T, E]
        let out = self.out_proj.forward(ctx, merged);
        // The weights' shape, from the query's leading axes [..., T].
        let mut w_shape = query.shape().dims()[..query.shape().rank() - 1].to_vec();
        w_shape.insert(w_shape.len() - 1, self.num_heads); // [..., H, T]
        w_shape.push(key.shape().dims()[key.shape().rank() - 2]); // [..., H, T, S]
        (out, weights.reshape(w_shape))
    }
    // ANCHOR_END: mha_attend_forward

    // ANCHOR: mha_heads
    /// `[..., T, E] -> [N, H, T, D]` with N the product of the leading axes.
    fn split_heads<'t>(&self, x: Var<'t>) -> Var<'t> {
        let s = x.shape();
        let t = s.dims()[s.rank() - 2];
        let n = s.numel() / (t * self.embed_dim).max(1);
        let (h, d) = (self.num_heads, self.embed_dim / self.num_heads);
        x.reshape([n, t, h, d]).permute(&[0, 2, 1, 3])
    }

    /// `[N, H, T, D] -> [..., T, E]`, the inverse of `split_heads`.
    fn merge_heads<'t>(&self, x: Var<'t>, like: &crate::Shape) -> Var<'t> {
        x.permute(&[0, 2, 1, 3]).reshape(like.clone())
    }
    // ANCHOR_END: mha_heads
    // ANCHOR_END: mha_attend
}

impl Module for MultiHeadAttention {
    /// Self-attention of `x` `[..., T, E]`, causal if [`causal`](Self::causal) was set.
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        self.attend(ctx, x, x, x, self.causal).0
    }

    /// Zeroes `out_proj`, the last projection.
    fn zero_init(&self, params: &mut Params) {
        self.out_proj.zero_init(params);
    }
}
