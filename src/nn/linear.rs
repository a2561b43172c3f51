//! `Linear`: y = x Wᵀ + b, PyTorch's `nn.Linear`.
//!
//! The weight is stored as PyTorch stores it, `[out_features, in_features]`,
//! so weights saved from PyTorch load unchanged.

use super::{Ctx, Module, ParamId, Params, Scope};
use crate::rng::Rng;
use crate::tape::Var;
use crate::tensor::Tensor;

/// A fully connected layer: `y = x Wᵀ + b` over the last axis.
#[derive(Clone, Debug)]
pub struct Linear {
    /// `weight`, shape `[out, in]`.
    pub weight: ParamId,
    /// `bias`, shape `[out]`, if the layer has one.
    pub bias: Option<ParamId>,
    /// Input width.
    pub in_features: usize,
    /// Output width.
    pub out_features: usize,
}

// ANCHOR: linear_new
impl Linear {
    /// Registers `weight` (and `bias`) in `scope`, initialised as PyTorch
    /// does: both uniform in `±1/√in` (Kaiming-uniform with a = √5, which
    /// works out to exactly that bound).
    pub fn new(
        scope: &mut Scope<'_>,
        in_features: usize,
        out_features: usize,
        bias: bool,
        rng: &mut Rng,
    ) -> Linear {
        let bound = 1.0 / (in_features.max(1) as f32).sqrt();
        let weight = scope.add(
            "weight",
            Tensor::uniform([out_features, in_features], -bound, bound, rng),
        );
        let bias = bias.then(|| {
            scope.add("bias", Tensor::uniform([out_features], -bound, bound, rng))
        });
        Linear { weight, bias, in_features, out_features }
    }
}
// ANCHOR_END: linear_new

// ANCHOR: linear_forward
// ANCHOR: linear_module
impl Module for Linear {
    #[track_caller]
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        let shape = x.shape();
        if shape.rank() == 0 || shape.last() != self.in_features {
            panic!(
                "Linear({} -> {}): input of shape {shape} does not end in {} features\n  \
                 the last axis of the input must be the layer's in_features",
                self.in_features, self.out_features, self.in_features
            );
        }
        if shape.rank() == 1 {
            // A single vector [in]: as a row [1, in], then back to [out].
            return self
                .forward(ctx, x.reshape([1, self.in_features]))
                .reshape([self.out_features]);
        }
        // [..., in] -> [..., out]
        x.linear(ctx.param(self.weight), self.bias.map(|b| ctx.param(b)))
    }

    // ANCHOR: zero_init
    /// Sets the weight and the bias to zero: the layer outputs 0 whatever
    /// its input, and a residual block ending in it is the identity.
    fn zero_init(&self, params: &mut Params) {
        params.get_mut(self.weight).data_mut().fill(0.0);
        if let Some(b) = self.bias {
            params.get_mut(b).data_mut().fill(0.0);
        }
    }
    // ANCHOR_END: zero_init
}
// ANCHOR_END: linear_module

// ANCHOR: linear_forward_relu
impl Linear {
    /// `relu(self.forward(x))` as one fused op ([`Var::linear_relu`]).
    #[track_caller]
    pub fn forward_relu<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        let shape = x.shape();
        if shape.rank() < 2 {
            return self.forward(ctx, x).relu();
        }
        x.linear_relu(ctx.param(self.weight), self.bias.map(|b| ctx.param(b)))
    }
}
// ANCHOR_END: linear_forward_relu
// ANCHOR_END: linear_forward
