//! `Sequential` and `FeedForward`.

use super::{Activation, Ctx, Dropout, Linear, Module, Params, Scope};
use crate::rng::Rng;
use crate::tape::Var;

/// Layers applied one after another, like `nn.Sequential`. Build the
/// layers in scopes named `"0"`, `"1"`, … to get PyTorch's names.
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty stack.
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a layer.
    pub fn push(mut self, layer: impl Module + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True if there are no layers (the stack is the identity).
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        self.layers.iter().fold(x, |h, layer| layer.forward(ctx, h))
    }

    /// Zeroes the last layer (which must have weights).
    #[track_caller]
    fn zero_init(&self, params: &mut Params) {
        match self.layers.last() {
            Some(last) => last.zero_init(params),
            None => panic!("zero_init: this Sequential is empty; push its layers first"),
        }
    }
}

// ANCHOR: feed_forward
// ANCHOR: feed_forward_new
/// The position-wise feed-forward block of a transformer:
/// `linear2(dropout(activation(linear1(x))))`, named `linear1` and `linear2`
/// as in PyTorch's `TransformerEncoderLayer`.
#[derive(Clone, Debug)]
pub struct FeedForward {
    /// `d_model -> dim_feedforward`.
    pub linear1: Linear,
    /// `dim_feedforward -> d_model`.
    pub linear2: Linear,
    /// The nonlinearity between them.
    pub activation: Activation,
    /// Dropout after the activation.
    pub dropout: Dropout,
}

impl FeedForward {
    /// Registers `linear1` and `linear2` (with biases if `bias`) in `scope`.
    pub fn new(
        scope: &mut Scope<'_>,
        d_model: usize,
        hidden: usize,
        activation: Activation,
        dropout: f32,
        bias: bool,
        rng: &mut Rng,
    ) -> Self {
        let linear1 = Linear::new(&mut scope.sub("linear1"), d_model, hidden, bias, rng);
        let linear2 = Linear::new(&mut scope.sub("linear2"), hidden, d_model, bias, rng);
        FeedForward { linear1, linear2, activation, dropout: Dropout::new(dropout) }
    }
}
// ANCHOR_END: feed_forward_new

// ANCHOR: feed_forward_module
impl Module for FeedForward {
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        let h = match self.activation {
            Activation::Relu => self.linear1.forward_relu(ctx, x), // one fused op
            act => act.forward(ctx, self.linear1.forward(ctx, x)),
        }; // [..., d] -> [..., hidden]
        // [..., hidden] -> [..., d]
        self.linear2.forward(ctx, self.dropout.forward(ctx, h))
    }

    /// Zeroes `linear2`, the block's last projection.
    fn zero_init(&self, params: &mut Params) {
        self.linear2.zero_init(params);
    }
}
// ANCHOR_END: feed_forward_module
// ANCHOR_END: feed_forward
