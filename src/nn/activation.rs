//! Activation layers and the dropout layer: no parameters of their own.

use super::{Ctx, Module};
use crate::tape::Var;

/// An elementwise nonlinearity, chosen by name as PyTorch's
/// `TransformerEncoderLayer(activation="relu" | "gelu")` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    /// `max(x, 0)`, PyTorch's default.
    #[default]
    Relu,
    /// GELU with the exact Gaussian CDF.
    Gelu,
    /// GELU with the tanh approximation.
    GeluTanh,
}

impl Module for Activation {
    fn forward<'t>(&self, _ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        match self {
            Activation::Relu => x.relu(),
            Activation::Gelu => x.gelu(),
            Activation::GeluTanh => x.gelu_tanh(),
        }
    }
}

/// `nn.ReLU()`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Relu;

impl Module for Relu {
    fn forward<'t>(&self, _ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        x.relu()
    }
}

/// `nn.GELU()` (exact) or `nn.GELU(approximate="tanh")`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gelu {
    /// Use the tanh approximation.
    pub tanh: bool,
}

impl Module for Gelu {
    fn forward<'t>(&self, _ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        if self.tanh { x.gelu_tanh() } else { x.gelu() }
    }
}

/// `nn.Dropout(p)`: zeroes each element with probability `p` in training
/// (scaling the rest by `1/(1 − p)`); the identity in evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Dropout {
    /// Probability of zeroing an element.
    pub p: f32,
}

impl Dropout {
    /// `nn.Dropout(p)`.
    #[track_caller]
    pub fn new(p: f32) -> Dropout {
        if !(0.0..=1.0).contains(&p) {
            panic!(
                "Dropout::new: p = {p} is not a probability\n  pass the chance of zeroing an element, in [0, 1]"
            );
        }
        Dropout { p }
    }
}

impl Module for Dropout {
    #[track_caller]
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        ctx.dropout(x, self.p)
    }
}
