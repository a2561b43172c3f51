//! `LayerNorm`: PyTorch's `nn.LayerNorm(d, eps=1e-5, elementwise_affine=True)`.

use super::{Ctx, Module, ParamId, Scope};
use crate::tape::Var;
use crate::tensor::Tensor;

/// Normalises the last axis to mean 0 and variance 1, then scales by
/// `weight` and shifts by `bias` (initialised to ones and zeros).
#[derive(Clone, Debug)]
pub struct LayerNorm {
    /// `weight` (the gain), shape `[d]`, if affine.
    pub weight: Option<ParamId>,
    /// `bias` (the shift), shape `[d]`, if affine.
    pub bias: Option<ParamId>,
    /// Added to the variance under the square root.
    pub eps: f32,
    /// Width of the normalised axis.
    pub dim: usize,
}

impl LayerNorm {
    /// `nn.LayerNorm(dim)`: eps 1e-5, with gain and shift.
    pub fn new(scope: &mut Scope<'_>, dim: usize) -> LayerNorm {
        LayerNorm::with_options(scope, dim, 1e-5, true)
    }

    /// `nn.LayerNorm(dim, eps, elementwise_affine)`.
    pub fn with_options(scope: &mut Scope<'_>, dim: usize, eps: f32, affine: bool) -> LayerNorm {
        let (weight, bias) = if affine {
            (Some(scope.add("weight", Tensor::ones([dim]))), Some(scope.add("bias", Tensor::zeros([dim]))))
        } else {
            (None, None)
        };
        LayerNorm { weight, bias, eps, dim }
    }
}

impl Module for LayerNorm {
    #[track_caller]
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        x.layer_norm(self.weight.map(|w| ctx.param(w)), self.bias.map(|b| ctx.param(b)), self.eps)
    }
}
