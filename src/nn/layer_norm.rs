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

// ANCHOR: layer_norm_module
// ANCHOR: layer_norm_new
impl LayerNorm {
    /// `nn.LayerNorm(dim)`: eps 1e-5, with gain and shift.
    pub fn new(scope: &mut Scope<'_>, dim: usize) -> LayerNorm {
        LayerNorm::with_options(scope, dim, 1e-5, true, true)
    }

    /// `nn.LayerNorm(dim, eps, elementwise_affine, bias)`: the gain exists
    /// if `affine`, the shift if `affine && bias`.
    #[track_caller]
    pub fn with_options(
        scope: &mut Scope<'_>,
        dim: usize,
        eps: f32,
        affine: bool,
        bias: bool,
    ) -> LayerNorm {
        crate::shape::check_eps("LayerNorm", eps);
        let weight = affine.then(|| scope.add("weight", Tensor::ones([dim])));
        let bias = (affine && bias).then(|| scope.add("bias", Tensor::zeros([dim])));
        LayerNorm { weight, bias, eps, dim }
    }
}
// ANCHOR_END: layer_norm_new

// ANCHOR: layer_norm_module_forward
impl Module for LayerNorm {
    #[track_caller]
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        let shape = x.shape();
        if shape.rank() == 0 || shape.last() != self.dim {
            panic!(
                "LayerNorm({}): input of shape {shape} does not end in {} features\n  \
                 the normalised (last) axis must have the width the layer was built with",
                self.dim, self.dim
            );
        }
        x.layer_norm(
            self.weight.map(|w| ctx.param(w)),
            self.bias.map(|b| ctx.param(b)),
            self.eps,
        )
    }
}
// ANCHOR_END: layer_norm_module_forward
// ANCHOR_END: layer_norm_module
