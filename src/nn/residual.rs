//! Residual connections as layers: the skip in all its variants, so that
//! experiments can switch each part on and off.

use super::{Ctx, Dropout, LayerNorm, Linear, Module, ParamId, Params, Scope};
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
    /// Start the branch's last projection at zero, so every block is
    /// exactly the identity at initialisation.
    pub zero_init: bool,
    /// A learned scalar gate on the branch, initialised to 0 (ReZero):
    /// `y = x + α F(x)`.
    pub rezero: bool,
}

impl Default for ResidualOptions {
    fn default() -> Self {
        ResidualOptions { enabled: true, branch_scale: 1.0, zero_init: false, rezero: false }
    }
}

impl ResidualOptions {
    /// No skip: `y = F(x)`.
    pub fn plain() -> Self {
        ResidualOptions { enabled: false, ..Self::default() }
    }

    /// Registers the ReZero gate under `name` if the options ask for one.
    pub fn gate(&self, scope: &mut Scope<'_>, name: &str) -> Option<ParamId> {
        self.rezero.then(|| scope.add(name, Tensor::zeros([1])))
    }

    // ANCHOR: residual_join
    /// Joins a branch output `f` to the skip `x`: scale, gate, then add
    /// (or return `f` alone when the skip is switched off).
    #[track_caller]
    pub fn join<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>, f: Var<'t>, gate: Option<ParamId>) -> Var<'t> {
        let f = self.scale_and_gate(ctx, f, gate);
        if self.enabled { x + f } else { f }
    }

    /// The branch as it joins the stream: `c α F(x)` (each factor only if set).
    pub fn scale_and_gate<'t>(&self, ctx: &Ctx<'t>, f: Var<'t>, gate: Option<ParamId>) -> Var<'t> {
        let f = if self.branch_scale != 1.0 { f.scale(self.branch_scale) } else { f };
        match gate {
            Some(g) => f * ctx.param(g).broadcast_to(f.shape()), // α F(x)
            None => f,
        }
    }
    // ANCHOR_END: residual_join
}
// ANCHOR_END: residual_options

// ANCHOR: zero_init
impl Linear {
    /// Sets this layer's weight and bias to zero (for identity-at-init blocks).
    pub fn zero_init(&self, params: &mut Params) {
        params.get_mut(self.weight).data_mut().fill(0.0);
        if let Some(b) = self.bias {
            params.get_mut(b).data_mut().fill(0.0);
        }
    }
}
// ANCHOR_END: zero_init

// ANCHOR: residual_type
/// What the skip path carries.
#[derive(Clone, Debug)]
pub enum Shortcut {
    /// `x` itself: needs `F(x)` to have `x`'s shape.
    Identity,
    /// A learned projection `P(x) = x Wᵀ + b`, for when the branch changes the width.
    Projection(Linear),
}

// ANCHOR: merge
/// How the skip and the branch are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// `P(x) + F(x)`: the width stays the same.
    Add,
    /// `[P(x), F(x)]` along the feature axis: the width grows by F's width.
    Concat,
}
// ANCHOR_END: merge

/// A residual block around any branch `F`: `y = P(x) ⊕ F(x)` where `P` is
/// the identity or a projection and `⊕` is addition or concatenation.
///
/// ```
/// use resgrad::nn::{Ctx, Linear, Module, Params, Residual};
/// use resgrad::{Rng, Tape, Tensor};
/// let (mut params, mut rng) = (Params::new(), Rng::new(0));
/// // A branch from R^3 to R^2 needs a projection shortcut R^3 -> R^2.
/// let branch = Linear::new(&mut params.scope("branch"), 3, 2, true, &mut rng);
/// let block = Residual::projected(&mut params.scope("shortcut"), branch, 3, 2, &mut rng);
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
    /// How the two are combined.
    pub merge: Merge,
    /// Experiment switches (scale, gate, skip on or off).
    pub options: ResidualOptions,
    /// The ReZero gate, if `options.rezero`.
    pub gate: Option<ParamId>,
}
// ANCHOR_END: residual_type

impl<F: Module> Residual<F> {
    /// `y = x + F(x)`.
    pub fn new(branch: F) -> Self {
        Residual {
            branch,
            shortcut: Shortcut::Identity,
            merge: Merge::Add,
            options: ResidualOptions::default(),
            gate: None,
        }
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

    /// Chooses addition or concatenation.
    pub fn with_merge(mut self, merge: Merge) -> Self {
        self.merge = merge;
        self
    }

    /// Applies experiment switches; a ReZero gate is registered in `scope` as `gate`.
    ///
    /// `zero_init` cannot be applied here, since only the branch knows its
    /// last projection: call [`Linear::zero_init`] on it instead. Switching
    /// the skip off together with a ReZero gate (the output would be 0 at
    /// init) or with a projection shortcut (it would never be used) is
    /// refused too.
    #[track_caller]
    pub fn with_options(mut self, scope: &mut Scope<'_>, options: ResidualOptions) -> Self {
        if options.zero_init {
            panic!(
                "Residual::with_options: zero_init needs to know the branch's last projection\n  \
                 call .zero_init(params) on that Linear instead (TransformerEncoderLayer applies it itself)"
            );
        }
        if !options.enabled && (options.rezero || matches!(self.shortcut, Shortcut::Projection(_))) {
            panic!(
                "Residual::with_options: with the skip switched off, {} would be meaningless\n  \
                 a plain block is y = F(x): drop the gate and the projection",
                if options.rezero {
                    "a ReZero gate (y = 0 · F(x) = 0 at init)"
                } else {
                    "the projection shortcut"
                }
            );
        }
        self.gate = options.gate(scope, "gate");
        self.options = options;
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
        let f = self.branch.forward(ctx, x);
        match self.merge {
            Merge::Add => self.options.join(ctx, skip, f, self.gate),
            Merge::Concat => {
                let f = self.options.scale_and_gate(ctx, f, self.gate);
                let last = f.shape().rank() - 1;
                if self.options.enabled { Var::concat(&[skip, f], last) } else { f }
            }
        }
    }
}
// ANCHOR_END: residual_forward

/// The wrapper tutorials write around every sublayer:
/// `x + dropout(sublayer(norm(x)))` (pre-norm), with the norm named `norm`.
#[derive(Clone, Debug)]
pub struct ResidualConnection {
    /// The LayerNorm applied before the sublayer.
    pub norm: LayerNorm,
    /// Dropout on the sublayer's output.
    pub dropout: Dropout,
}

impl ResidualConnection {
    /// `ResidualConnection(size, dropout)`.
    pub fn new(scope: &mut Scope<'_>, size: usize, dropout: f32) -> Self {
        ResidualConnection {
            norm: LayerNorm::new(&mut scope.sub("norm"), size),
            dropout: Dropout::new(dropout),
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
        x + self.dropout.forward(ctx, sublayer(self.norm.forward(ctx, x)))
    }
    // ANCHOR_END: residual_connection
}
