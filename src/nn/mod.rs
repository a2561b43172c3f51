//! Layers: the building blocks of a transformer, with PyTorch's names,
//! defaults and parameter layouts.
//!
//! A forward pass runs inside a [`Ctx`], which ties a [`Tape`](crate::Tape) to the
//! [`Params`] store: the first time a layer asks for one of its parameters,
//! the context records it on the tape as a leaf; after the backward pass,
//! [`Ctx::param_grads`] collects the gradient of every parameter by id.
//!
//! ```
//! use resgrad::nn::{Ctx, Linear, Module, Params};
//! use resgrad::{Rng, Tape, Tensor};
//! let mut rng = Rng::new(0);
//! let mut params = Params::new();
//! let layer = Linear::new(&mut params.scope(""), 4, 2, true, &mut rng);
//!
//! let tape = Tape::new();
//! let ctx = Ctx::train(&tape, &params, 1);
//! let x = ctx.input(Tensor::normal([3, 4], 0.0, 1.0, &mut rng));
//! let loss = layer.forward(&ctx, x).mean();
//! let grads = ctx.param_grads(&tape.backward(loss));
//! assert_eq!(grads.get(layer.weight).unwrap().dims(), &[2, 4]);
//! ```

mod activation;
mod attention;
mod ctx;
mod embedding;
mod encoder;
mod layer_norm;
mod linear;
mod params;
mod residual;
mod sequential;

pub use activation::{Activation, Dropout, Gelu, Relu};
pub use attention::MultiHeadAttention;
pub use ctx::Ctx;
pub use embedding::{Embedding, add_positions, sinusoidal_positions};
pub use encoder::{EncoderLayerConfig, TransformerEncoder, TransformerEncoderLayer};
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use params::{Param, ParamGrads, ParamId, Params, Scope};
pub use residual::{Join, Residual, ResidualConnection, ResidualOptions, Shortcut};
pub use sequential::{FeedForward, Sequential};

use crate::tape::Var;

/// A layer: a function of one input recorded on a tape, whose parameters
/// live in a [`Params`] store.
pub trait Module {
    /// Records the layer's computation on `ctx`'s tape.
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t>;

    /// Sets the layer's last projection to zero, so that it outputs zero
    /// and a residual block around it starts as exactly the identity
    /// ([`ResidualOptions::zero_init`]). [`Linear`] zeroes its weight and
    /// bias; [`Sequential`] passes the call to its last layer;
    /// [`FeedForward`] zeroes `linear2` and [`MultiHeadAttention`] its
    /// `out_proj`. Every other layer panics and says so: an activation or a
    /// norm has no last projection, and a block with a skip is not zero.
    #[track_caller]
    fn zero_init(&self, params: &mut Params) {
        let _ = params;
        // `resgrad::nn::Residual<resgrad::nn::Linear>` -> `Residual`
        let path = std::any::type_name::<Self>().split('<').next().unwrap_or_default();
        let name = path.rsplit("::").next().unwrap_or("this layer");
        panic!(
            "zero_init: {name} has no last projection to set to zero\n  \
             zero_init zeroes the last weights of a branch, so the block starts as the identity: \
             end the branch in a Linear"
        );
    }
}

impl<M: Module + ?Sized> Module for Box<M> {
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        (**self).forward(ctx, x)
    }

    #[track_caller]
    fn zero_init(&self, params: &mut Params) {
        (**self).zero_init(params)
    }
}

impl<M: Module + ?Sized> Module for &M {
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        (**self).forward(ctx, x)
    }

    #[track_caller]
    fn zero_init(&self, params: &mut Params) {
        (**self).zero_init(params)
    }
}
