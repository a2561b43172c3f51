//! `TransformerEncoderLayer` and `TransformerEncoder`, with PyTorch's
//! semantics, defaults, layouts and parameter names.
//!
//! Post-norm (PyTorch's default, the original Transformer's "Add & Norm"):
//!
//! ```text
//! x = norm1(x + dropout1(self_attn(x)))
//! x = norm2(x + dropout2(ff(x)))
//! ```
//!
//! Pre-norm (`norm_first = true`, what most deep models use today):
//!
//! ```text
//! x = x + dropout1(self_attn(norm1(x)))
//! x = x + dropout2(ff(norm2(x)))
//! ```
//!
//! The difference is where the skip lands. In pre-norm the sum `x + …` is
//! the layer's output, so the residual stream runs from the first layer to
//! the last untouched by any norm, and so does its gradient. In post-norm
//! every layer's output passes through a LayerNorm, whose Jacobian sits on
//! the path from the loss to every earlier layer.

use super::{
    Activation, Ctx, Dropout, FeedForward, Join, LayerNorm, Module, MultiHeadAttention,
    ResidualOptions, Scope,
};
use crate::rng::Rng;
use crate::tape::Var;

// ANCHOR: encoder_layer_config
/// The settings of a [`TransformerEncoderLayer`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EncoderLayerConfig {
    /// Model width.
    pub d_model: usize,
    /// Number of attention heads.
    pub nhead: usize,
    /// Hidden width of the feed-forward block (default 2048).
    pub dim_feedforward: usize,
    /// Dropout probability everywhere (default 0.1).
    pub dropout: f32,
    /// Feed-forward nonlinearity (default ReLU).
    pub activation: Activation,
    /// LayerNorm eps (default 1e-5).
    pub layer_norm_eps: f32,
    /// Inputs are `[batch, seq, d]` if true, `[seq, batch, d]` if false (default false).
    pub batch_first: bool,
    /// Pre-norm if true, post-norm if false (default false).
    pub norm_first: bool,
    /// Biases in the linear layers (default true).
    pub bias: bool,
    /// Experiment switches for both residual connections.
    pub residual: ResidualOptions,
}
// ANCHOR_END: encoder_layer_config

impl EncoderLayerConfig {
    // ANCHOR: encoder_config_new
    /// `TransformerEncoderLayer(d_model, nhead)` with every other setting at
    /// PyTorch's default.
    pub fn new(d_model: usize, nhead: usize) -> Self {
        EncoderLayerConfig {
            d_model,
            nhead,
            dim_feedforward: 2048,
            dropout: 0.1,
            activation: Activation::Relu,
            layer_norm_eps: 1e-5,
            batch_first: false,
            norm_first: false,
            bias: true,
            residual: ResidualOptions::default(),
        }
    }
    // ANCHOR_END: encoder_config_new

    /// Sets `dim_feedforward`.
    pub fn dim_feedforward(mut self, n: usize) -> Self {
        self.dim_feedforward = n;
        self
    }

    /// Sets `dropout`.
    pub fn dropout(mut self, p: f32) -> Self {
        self.dropout = p;
        self
    }

    /// Sets the activation.
    pub fn activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }

    /// Sets `batch_first`.
    pub fn batch_first(mut self, yes: bool) -> Self {
        self.batch_first = yes;
        self
    }

    /// Sets `norm_first` (pre-norm).
    pub fn norm_first(mut self, yes: bool) -> Self {
        self.norm_first = yes;
        self
    }

    /// Sets the residual experiment switches.
    pub fn residual(mut self, options: ResidualOptions) -> Self {
        self.residual = options;
        self
    }
}

/// One transformer encoder layer: self-attention then feed-forward, each
/// wrapped in a residual connection and a LayerNorm.
#[derive(Clone, Debug)]
pub struct TransformerEncoderLayer {
    /// `self_attn`.
    pub self_attn: MultiHeadAttention,
    /// `linear1`, `activation`, `dropout`, `linear2` (named at the layer's top level, as in PyTorch).
    pub ff: FeedForward,
    /// `norm1`.
    pub norm1: LayerNorm,
    /// `norm2`.
    pub norm2: LayerNorm,
    /// Dropout after self-attention.
    pub dropout1: Dropout,
    /// Dropout after the feed-forward block.
    pub dropout2: Dropout,
    /// Where each sublayer meets the stream: self-attention's, then the
    /// feed-forward block's (with their ReZero gates `sa_gate`, `ff_gate`, if enabled).
    pub joins: [Join; 2],
    /// The settings it was built with.
    pub config: EncoderLayerConfig,
}

impl TransformerEncoderLayer {
    /// Registers the layer's parameters in `scope` under PyTorch's names.
    #[track_caller]
    pub fn new(scope: &mut Scope<'_>, config: EncoderLayerConfig, rng: &mut Rng) -> Self {
        let c = config;
        if !(0.0..=1.0).contains(&c.dropout) {
            panic!(
                "TransformerEncoderLayer: EncoderLayerConfig.dropout = {} is not a probability\n  \
                 set .dropout(p) with p in [0, 1] (PyTorch's default is 0.1)",
                c.dropout
            );
        }
        let self_attn = MultiHeadAttention::new(
            &mut scope.sub("self_attn"),
            c.d_model,
            c.nhead,
            c.dropout,
            c.bias,
            rng,
        );
        let ff = FeedForward::new(
            scope,
            c.d_model,
            c.dim_feedforward,
            c.activation,
            c.dropout,
            c.bias,
            rng,
        );
        let norm1 = LayerNorm::with_options(
            &mut scope.sub("norm1"),
            c.d_model,
            c.layer_norm_eps,
            true,
            c.bias,
        );
        let norm2 = LayerNorm::with_options(
            &mut scope.sub("norm2"),
            c.d_model,
            c.layer_norm_eps,
            true,
            c.bias,
        );
        let joins = [
            Join::new(scope, "sa_gate", c.residual, &self_attn),
            Join::new(scope, "ff_gate", c.residual, &ff),
        ];
        TransformerEncoderLayer {
            self_attn,
            ff,
            norm1,
            norm2,
            dropout1: Dropout::new(c.dropout),
            dropout2: Dropout::new(c.dropout),
            joins,
            config,
        }
    }

    // ANCHOR: encoder_layer_forward
    /// The layer on `[batch, seq, d]` input, whatever `batch_first` says,
    /// optionally with a causal mask.
    pub fn forward_batch_first<'t>(
        &self,
        ctx: &Ctx<'t>,
        x: Var<'t>,
        causal: bool,
    ) -> Var<'t> {
        let [j1, j2] = &self.joins;
        let sa = |h: Var<'t>| {
            self.dropout1.forward(ctx, self.self_attn.attend(ctx, h, h, h, causal).0)
        };
        let ff = |h: Var<'t>| self.dropout2.forward(ctx, self.ff.forward(ctx, h));
        if self.config.norm_first {
            let x = j1.forward(ctx, x, sa(self.norm1.forward(ctx, x))); // x + SA(LN(x))
            j2.forward(ctx, x, ff(self.norm2.forward(ctx, x))) // x + FF(LN(x))
        } else {
            let x = self.norm1.forward(ctx, j1.forward(ctx, x, sa(x))); // LN(x + SA(x))
            self.norm2.forward(ctx, j2.forward(ctx, x, ff(x))) // LN(x + FF(x))
        }
    }
    // ANCHOR_END: encoder_layer_forward

    /// The layer in its configured layout, optionally causal. An unbatched
    /// `[seq, d_model]` input works in either layout, as in PyTorch.
    #[track_caller]
    pub fn forward_masked<'t>(
        &self,
        ctx: &Ctx<'t>,
        src: Var<'t>,
        causal: bool,
    ) -> Var<'t> {
        let s = check_layout(&self.config, &src.shape());
        if s.rank() == 2 {
            let (t, d) = (s.dims()[0], s.dims()[1]);
            return self
                .forward_batch_first(ctx, src.reshape([1, t, d]), causal)
                .reshape([t, d]);
        }
        if self.config.batch_first {
            self.forward_batch_first(ctx, src, causal)
        } else {
            // [T, B, d] -> [B, T, d] -> layer -> [T, B, d]
            self.forward_batch_first(ctx, src.permute(&[1, 0, 2]), causal)
                .permute(&[1, 0, 2])
        }
    }
}

/// Panics unless `s` is `[batch, seq, d]` / `[seq, batch, d]` (as configured)
/// or unbatched `[seq, d]`; returns it.
#[track_caller]
fn check_layout(config: &EncoderLayerConfig, s: &crate::Shape) -> crate::Shape {
    if !(s.rank() == 2 || s.rank() == 3) || s.last() != config.d_model {
        let layout = if config.batch_first {
            "[batch, seq, d_model]"
        } else {
            "[seq, batch, d_model]"
        };
        panic!(
            "TransformerEncoderLayer: input of shape {s} is not {layout} (or [seq, d_model]) with \
             d_model = {}\n  set batch_first to match your layout, or permute the input",
            config.d_model
        );
    }
    s.clone()
}

impl Module for TransformerEncoderLayer {
    #[track_caller]
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        self.forward_masked(ctx, x, false)
    }
}

/// A stack of encoder layers, named `layers.0`, `layers.1`, …, with an
/// optional final LayerNorm `norm` (as PyTorch's `TransformerEncoder`;
/// pre-norm stacks need it, since their residual stream is never normalised).
///
/// One difference from PyTorch: its `TransformerEncoder` deep-copies one
/// layer, so all its layers start with the same weights; here each layer is
/// initialised on its own, as independent layers of a deep stack usually are.
#[derive(Clone, Debug)]
pub struct TransformerEncoder {
    /// The layers, first to last.
    pub layers: Vec<TransformerEncoderLayer>,
    /// The final norm, if any.
    pub norm: Option<LayerNorm>,
}

impl TransformerEncoder {
    /// `num_layers` layers built from one config, each with its own weights.
    pub fn new(
        scope: &mut Scope<'_>,
        config: EncoderLayerConfig,
        num_layers: usize,
        final_norm: bool,
        rng: &mut Rng,
    ) -> Self {
        let mut layers_scope = scope.sub("layers");
        let layers = (0..num_layers)
            .map(|i| {
                TransformerEncoderLayer::new(
                    &mut layers_scope.sub(&i.to_string()),
                    config,
                    rng,
                )
            })
            .collect();
        let norm = final_norm.then(|| {
            LayerNorm::with_options(
                &mut scope.sub("norm"),
                config.d_model,
                config.layer_norm_eps,
                true,
                config.bias,
            )
        });
        TransformerEncoder { layers, norm }
    }

    // ANCHOR: encoder_stack_forward
    /// The stack, optionally causal, in the layers' configured layout. The
    /// residual stream after each layer is saved on `ctx` as `layers.{i}`
    /// ([`Ctx::save_activation`](crate::nn::Ctx::save_activation),
    /// batch-first), for
    /// [`activation_stats`](crate::inspect::activation_stats) and for
    /// reading its gradient after the backward pass.
    #[track_caller]
    pub fn forward_masked<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>, causal: bool) -> Var<'t> {
        let Some(first) = self.layers.first() else {
            return self.norm.as_ref().map_or(x, |n| n.forward(ctx, x));
        };
        let s = check_layout(&first.config, &x.shape());
        // Convert the layout once for the whole stack, not once per layer.
        let seq_first = s.rank() == 3 && !first.config.batch_first;
        let mut h = if s.rank() == 2 {
            x.reshape([1, s.dims()[0], s.dims()[1]])
        } else if seq_first {
            x.permute(&[1, 0, 2]) // [T, B, d] -> [B, T, d]
        } else {
            x
        };
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward_batch_first(ctx, h, causal);
            ctx.save_activation(format!("layers.{i}"), h);
        }
        if let Some(n) = &self.norm {
            h = n.forward(ctx, h);
        }
        if s.rank() == 2 {
            h.reshape(s)
        } else if seq_first {
            h.permute(&[1, 0, 2])
        } else {
            h
        }
    }
    // ANCHOR_END: encoder_stack_forward
}

impl Module for TransformerEncoder {
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        self.forward_masked(ctx, x, false)
    }
}
