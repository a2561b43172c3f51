//! Residual connections as layers: `y = P(x) + c α F(x)`, one join for
//! every layer that has a skip, with switches experiments can turn.

use super::{Ctx, Dropout, LayerNorm, Linear, Module, ParamId, Scope};
use crate::rng::Rng;
use crate::tape::Var;
use crate::tensor::Tensor;

// ANCHOR: residual_options
/// Switches that change how a branch joins the residual stream, for
/// experiments. The default is the plain skip, `y = x + F(x)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResidualOptions {
    /// Add the skip at all; `false` gives a plain network, `y = F(x)`.
    pub enabled: bool,
    /// A constant on the branch, `y = x + c F(x)` (for example 1/√(2N) for N blocks).
    pub branch_scale: f32,
    /// Start the branch's last projection at zero
    /// ([`Module::zero_init`]), so every block is exactly the identity at
    /// initialisation.
    pub zero_init: bool,
    /// A learned scalar gate on the branch, initialised to 0 (ReZero):
    /// `y = x + α F(x)`.
    pub rezero: bool,
}

impl Default for ResidualOptions {
    fn default() -> Self {
        ResidualOptions {
            enabled: true,
            branch_scale: 1.0,
            zero_init: false,
            rezero: false,
        }
    }
}

impl ResidualOptions {
    /// No skip: `y = F(x)`.
    pub fn plain() -> Self {
        ResidualOptions { enabled: false, ..Self::default() }
    }
}
// ANCHOR_END: residual_options

/// Where a branch meets the skip. Every residual layer of resgrad
/// ([`Residual`], [`ResidualConnection`] and both sublayers of
/// [`TransformerEncoderLayer`](super::TransformerEncoderLayer)) joins its
/// branch to the stream through [`Join::forward`], so an option means the
/// same thing wherever it is set.
///
/// Build one with [`Join::new`] (or [`Join::identity`]): only `new` applies
/// `zero_init` and registers the gate, so the fields are for reading (the
/// experiments read the gates' values through `gate`).
#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    /// The switches it was built with.
    pub options: ResidualOptions,
    /// The ReZero gate `α`, if `options.rezero`.
    pub gate: Option<ParamId>,
}

impl Join {
    /// The plain skip, `y = x + F(x)`.
    pub fn identity() -> Join {
        Join { options: ResidualOptions::default(), gate: None }
    }

    /// The join for `options` around `branch`: with `zero_init` it sets
    /// the branch's last projection to zero ([`Module::zero_init`]), with
    /// `rezero` it registers the gate in `scope` as `gate_name`.
    ///
    /// A ReZero gate on a block whose skip is switched off is refused: the
    /// block would be `0 · F(x) = 0` at initialisation.
    #[track_caller]
    pub fn new(
        scope: &mut Scope<'_>,
        gate_name: &str,
        options: ResidualOptions,
        branch: &dyn Module,
    ) -> Join {
        if !options.enabled && options.rezero {
            panic!(
                "residual options: with the skip switched off, a ReZero gate would be meaningless \
                 (y = 0 · F(x) = 0 at init)\n  a plain block is y = F(x): drop the gate"
            );
        }
        if options.zero_init {
            branch.zero_init(scope.params());
        }
        let gate = options.rezero.then(|| scope.add(gate_name, Tensor::zeros([1])));
        Join { options, gate }
    }

    // ANCHOR: residual_join
    /// Joins a branch output `f` to the skip: `skip + c α f` (each factor
    /// only if set), or `f` alone when the skip is switched off.
    #[track_caller]
    pub fn forward<'t>(&self, ctx: &Ctx<'t>, skip: Var<'t>, f: Var<'t>) -> Var<'t> {
        let c = self.options.branch_scale;
        let f = if c != 1.0 { f.scale(c) } else { f }; // c F(x)
        let f = match self.gate {
            Some(g) => f * ctx.param(g).broadcast_to(f.shape()), // α c F(x)
            None => f,
        };
        if self.options.enabled { skip + f } else { f }
    }
    // ANCHOR_END: residual_join
}

// ANCHOR: residual_type
/// What the skip path carries.
#[derive(Clone, Debug)]
pub enum Shortcut {
    /// `x` itself: needs `F(x)` to have `x`'s shape.
    Identity,
    /// A learned projection `P(x) = x Wᵀ + b`, for when the branch changes
    /// the width.
    Projection(Linear),
}

/// A residual block around any branch `F`: `y = P(x) + F(x)`, where `P`
/// is the identity or a projection.
///
/// ```
/// use resgrad::nn::{Ctx, Linear, Module, Params, Residual};
/// use resgrad::{Rng, Tape, Tensor};
/// let (mut params, mut rng) = (Params::new(), Rng::new(0));
/// // A branch from R^3 to R^2 needs a projection shortcut R^3 -> R^2.
/// let branch = Linear::new(&mut params.scope("branch"), 3, 2, true, &mut rng);
/// let block =
///     Residual::projected(&mut params.scope("shortcut"), branch, 3, 2, &mut rng);
/// let tape = Tape::new();
/// let ctx = Ctx::eval(&tape, &params);
/// let y = block.forward(&ctx, ctx.input(Tensor::ones([5, 3])));
/// assert_eq!(y.shape().dims(), &[5, 2]);
/// ```
pub struct Residual<F> {
    /// The branch `F`.
    pub branch: F,
    /// The skip path `P`.
    pub shortcut: Shortcut,
    /// Where the two meet (scale, gate, skip on or off).
    pub join: Join,
}
// ANCHOR_END: residual_type

impl<F: Module> Residual<F> {
    /// `y = x + F(x)`.
    pub fn new(branch: F) -> Self {
        Residual { branch, shortcut: Shortcut::Identity, join: Join::identity() }
    }

    // ANCHOR: projected
    /// `y = P(x) + F(x)` with `P` a [`Linear`] `in -> out` registered in `scope`.
    pub fn projected(
        scope: &mut Scope<'_>,
        branch: F,
        in_features: usize,
        out_features: usize,
        rng: &mut Rng,
    ) -> Self {
        let p = Linear::new(scope, in_features, out_features, true, rng);
        Residual { shortcut: Shortcut::Projection(p), ..Residual::new(branch) }
    }
    // ANCHOR_END: projected

    /// Applies experiment switches through [`Join::new`]: `zero_init` zeroes
    /// the branch's last projection, a ReZero gate is registered in `scope`
    /// as `gate`. Switching the skip off together with a projection shortcut
    /// (it would never be used) is refused.
    #[track_caller]
    pub fn with_options(
        mut self,
        scope: &mut Scope<'_>,
        options: ResidualOptions,
    ) -> Self {
        if !options.enabled && matches!(self.shortcut, Shortcut::Projection(_)) {
            panic!(
                "Residual::with_options: with the skip switched off, the projection shortcut would \
                 never be used\n  a plain block is y = F(x): build it with Residual::new"
            );
        }
        self.join = Join::new(scope, "gate", options, &self.branch);
        self
    }
}

// ANCHOR: residual_forward
impl<F: Module> Module for Residual<F> {
    #[track_caller]
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        let skip = match &self.shortcut {
            Shortcut::Identity => x,
            Shortcut::Projection(p) => p.forward(ctx, x),
        };
        self.join.forward(ctx, skip, self.branch.forward(ctx, x)) // P(x) + F(x)
    }
}
// ANCHOR_END: residual_forward

/// The wrapper tutorials write around every sublayer:
/// `x + dropout(sublayer(norm(x)))` (pre-norm), with the norm named `norm`.
/// The sublayer is a closure given at each call, so the join is the plain
/// skip.
#[derive(Clone, Debug)]
pub struct ResidualConnection {
    /// The LayerNorm applied before the sublayer.
    pub norm: LayerNorm,
    /// Dropout on the sublayer's output.
    pub dropout: Dropout,
    /// Where the sublayer's output meets the skip: `x + …`.
    pub join: Join,
}

impl ResidualConnection {
    /// `ResidualConnection(size, dropout)`.
    pub fn new(scope: &mut Scope<'_>, size: usize, dropout: f32) -> Self {
        ResidualConnection {
            norm: LayerNorm::new(&mut scope.sub("norm"), size),
            dropout: Dropout::new(dropout),
            join: Join::identity(),
        }
    }

    // ANCHOR: residual_connection
    /// `x + dropout(sublayer(norm(x)))` for any sublayer.
    #[track_caller]
    pub fn forward<'t>(
        &self,
        ctx: &Ctx<'t>,
        x: Var<'t>,
        sublayer: impl FnOnce(Var<'t>) -> Var<'t>,
    ) -> Var<'t> {
        self.join.forward(
            ctx,
            x,
            self.dropout.forward(ctx, sublayer(self.norm.forward(ctx, x))),
        )
    }
    // ANCHOR_END: residual_connection
}
