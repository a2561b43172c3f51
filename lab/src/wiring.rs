//! The four ways the vanishing-gradient and forward-signal experiments
//! (03 and 04) wire the same branch into a stack, and the block itself.

use resgrad::nn::{Ctx, LayerNorm, Linear, Module, Params};
use resgrad::{Rng, Var};

/// How the branch joins the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wiring {
    /// `h ← F(h)`.
    Plain,
    /// `h ← h + F(h)`.
    Residual,
    /// `h ← h + F(LN(h))`.
    PreNorm,
    /// `h ← LN(h + F(h))`.
    PostNorm,
}

impl Wiring {
    /// All four, in table order.
    pub const ALL: [Wiring; 4] =
        [Wiring::Plain, Wiring::Residual, Wiring::PreNorm, Wiring::PostNorm];

    /// Name used in tables and legends.
    pub fn name(self) -> &'static str {
        match self {
            Wiring::Plain => "plain",
            Wiring::Residual => "residual",
            Wiring::PreNorm => "pre-norm",
            Wiring::PostNorm => "post-norm",
        }
    }
}

/// Width of the stream.
pub const WIDTH: usize = 64;
/// Hidden width of the branch.
pub const HIDDEN: usize = 128;

// ANCHOR: block
/// One block: the branch `F(x) = W₂ relu(W₁ x + b₁) + b₂` and the LayerNorm
/// the normalised wirings use, with PyTorch's default initialisation.
pub struct Block {
    w1: Linear,
    w2: Linear,
    norm: LayerNorm,
}

impl Block {
    /// `depth` blocks registered as `blocks.{k}.*`, drawn from `rng` in order.
    pub fn stack(params: &mut Params, depth: usize, rng: &mut Rng) -> Vec<Block> {
        (0..depth)
            .map(|k| {
                let mut scope = params.scope(&format!("blocks.{k}"));
                Block {
                    w1: Linear::new(&mut scope.sub("w1"), WIDTH, HIDDEN, true, rng),
                    w2: Linear::new(&mut scope.sub("w2"), HIDDEN, WIDTH, true, rng),
                    norm: LayerNorm::new(&mut scope.sub("norm"), WIDTH),
                }
            })
            .collect()
    }

    /// The block applied to the stream `h` `[n, WIDTH]`, wired as `wiring` says.
    pub fn apply<'t>(&self, ctx: &Ctx<'t>, wiring: Wiring, h: Var<'t>) -> Var<'t> {
        // [n, 64] -> [n, 128] -> [n, 64]
        let f = |v| self.w2.forward(ctx, self.w1.forward(ctx, v).relu());
        match wiring {
            Wiring::Plain => f(h),
            Wiring::Residual => h + f(h),
            Wiring::PreNorm => h + f(self.norm.forward(ctx, h)),
            Wiring::PostNorm => self.norm.forward(ctx, h + f(h)),
        }
    }
}
// ANCHOR_END: block
