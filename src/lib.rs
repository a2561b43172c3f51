//! # resgrad
//!
//! A from-scratch, tape-based, reverse-mode automatic differentiation engine
//! over dense `f32` tensors, written to show, to the last line, why residual
//! (skip) connections make deep networks trainable.
//!
//! ## A tour in one screen
//!
//! ```
//! use resgrad::{Rng, Tape, Tensor};
//!
//! let mut rng = Rng::new(0);
//! let tape = Tape::new();                                   // one tape per forward pass
//! let x = tape.leaf(Tensor::normal([4, 8], 0.0, 1.0, &mut rng)).label("x");
//! let w = tape.leaf(Tensor::normal([8, 8], 0.0, 0.3, &mut rng)).label("w");
//!
//! let y = x + x.matmul(w).relu();                           // a residual block: x + F(x)
//! let loss = y.mean();
//! let grads = tape.backward(loss);                          // one reverse sweep
//!
//! println!("{tape}");                                       // the Wengert list, numbered
//! assert_eq!(grads[x].shape(), x.value().shape());          // dL/dx, same shape as x
//! assert_eq!(tape.to_string().lines().nth(4), Some("#4 add [4, 8] <- #0, #3"));
//! ```
//!
//! The gradient that reaches `x` is the sum of two contributions: the skip
//! path hands back `dL/dy` unchanged (the identity in `I + ∂F/∂x`), and the
//! branch adds its own. [`check`] proves this numerically, and the property
//! tests in `tests/residual.rs` prove it for random branches.
//!
//! ## Training a model
//!
//! A model is built from the layers of [`nn`], whose weights live in a
//! [`nn::Params`] store. Each training step records one forward pass on a
//! fresh tape, sweeps it backwards once, and lets an optimiser from
//! [`optim`] update the store:
//!
//! ```
//! use resgrad::nn::{Ctx, Linear, Module, Params, Relu, Residual, Sequential};
//! use resgrad::optim::{Optimizer, Sgd};
//! use resgrad::{Rng, Tape, Tensor};
//!
//! let mut rng = Rng::new(0);
//! let mut params = Params::new();
//! let branch = Sequential::new()                            // F(h) = W₂ relu(W₁ h)
//!     .push(Linear::new(&mut params.scope("1.0"), 8, 8, true, &mut rng))
//!     .push(Relu)
//!     .push(Linear::new(&mut params.scope("1.2"), 8, 8, true, &mut rng));
//! let model = Sequential::new()
//!     .push(Linear::new(&mut params.scope("0"), 2, 8, true, &mut rng))
//!     .push(Residual::new(branch))                          // h + F(h)
//!     .push(Linear::new(&mut params.scope("2"), 8, 1, true, &mut rng));
//!
//! // Learn y = x₀ · x₁ on 64 points.
//! let x = Tensor::uniform([64, 2], -1.0, 1.0, &mut rng);
//! let y = Tensor::from_vec(x.data().chunks(2).map(|p| p[0] * p[1]).collect(), [64, 1]);
//! let mut opt = Sgd::new(0.1);
//! let mut losses = Vec::new();
//! for step in 0..200 {
//!     let tape = Tape::new();                               // one tape per step
//!     let ctx = Ctx::train(&tape, &params, step);           // ties the tape to the weights
//!     let prediction = model.forward(&ctx, ctx.input(x.clone()));
//!     let loss = prediction.mse_loss(ctx.input(y.clone()));
//!     let grads = ctx.param_grads(&tape.backward(loss));    // dL/dW for every weight
//!     losses.push(loss.value().item());
//!     opt.step(&mut params, &grads);                        // W ← W − η dL/dW
//! }
//! assert!(losses[199] < losses[0] / 4.0, "{} -> {}", losses[0], losses[199]);
//! ```
//!
//! The same loop with a transformer, AdamW, gradient clipping and a save
//! and load is `examples/transformer.rs`; `examples/residual_mlp.rs` also
//! prints the tape of one step and gradient-checks every weight, and
//! `examples/custom_op.rs` adds an op of its own.
//!
//! ## Reading order
//!
//! Read them in this order: each relies on the ones above it, except that
//! the tape calls [`anomaly`] and [`kernels`] through one-line hooks, and
//! a dropped tensor hands its buffer to the pool behind [`kernels`].
//!
//! | module | what it holds |
//! |---|---|
//! | [`shape`] | [`Shape`] and the shape checks every op shares, with their messages |
//! | [`tensor`] | [`Tensor`]: flat row-major `f32` storage, constructors, printing |
//! | [`rng`] | [`Rng`]: the seeded generator behind every random number |
//! | [`tape`] | [`Tape`], [`Var`], [`Backward`], [`Grads`]: recording, and the reverse sweep |
//! | [`ops`] | every op, one file each, forward and backward side by side |
//! | [`check`] | finite differences, Jacobians and [`check::gradcheck`] |
//! | [`nn`] | layers with PyTorch's names: `Linear`, `LayerNorm`, attention, the encoder layer, and the residual block (`Residual`) |
//! | [`optim`] | `Sgd` and `AdamW` with PyTorch's update rules, gradient clipping, warmup |
//! | `io` | weights in and out as safetensors files, keyed by PyTorch's names (feature `safetensors`, on by default) |
//! | [`inspect`] | gradient norms per layer, activation statistics, which weights the loss reaches |
//! | [`trace`] | the tape as Graphviz DOT and as a JSON trace |
//! | [`anomaly`] | anomaly mode: the first op that makes a NaN or an infinity, by tape index |
//! | [`kernels`] | the loops the ops run: sums, dot products, matmul, each beside a plain reference |
//!
//! **Safe to skip on a first reading:** behind [`kernels`], fenced off in
//! `src/kernels/`, sit the fast matrix product (packed, cache-blocked,
//! register-tiled), the choice of instruction set and the worker threads
//! (the crate's only `unsafe`), and the pool that reuses freed buffers.
//! Nothing else in the crate reaches into that folder; every op calls the
//! plain functions of `kernels`, each of which has a reference loop that
//! computes the same numbers up to rounding.
//!
//! ## Panics or `Result`?
//!
//! resgrad **panics** on programming errors: shapes that do not fit an op,
//! an axis that does not exist, a `Var` from another tape, `backward` from a
//! non-scalar without an upstream gradient. These are bugs in the calling
//! code, not conditions to handle at run time, and a `Result` on every op
//! would bury the maths under `?`. The panic message says what was wrong,
//! the shapes or values involved and how to fix it, and every such entry
//! point is `#[track_caller]`, so the message points at *your* line:
//!
//! ```text
//! add: shapes differ
//!   left shape [2, 5, 64], right shape [2, 5, 128]
//!   add works elementwise, so both operands need the same shape
//!   hint: only the last (feature) axis differs (64 vs 128). An identity skip x + F(x)
//!   needs F to keep the width; if the width must change, use a projection shortcut
//!   P(x) + F(x) with P a Linear(64 -> 128).
//! ```
//!
//! Anything that reads files or other user data returns a **`Result`**
//! instead, because there the failure comes from the world, not from the
//! program, and the caller should be able to report it and go on.
//! [`check::gradcheck`] also returns a `Result`: a failed check is a finding
//! to report (with the op, the element, and the expected and received values),
//! not a crash.

// The modules in reading order, as in the table above.

// Values.
pub mod shape;
pub mod tensor;

pub mod rng;

// Reverse mode: the tape, the ops recorded on it, the checks of their rules.
pub mod tape;

pub mod ops;

pub mod check;

// Training a model: layers, optimisers, weights on disk.
pub mod nn;
pub mod optim;

#[cfg(feature = "safetensors")]
pub mod io;

// Looking inside a run.
pub mod inspect;
pub mod trace;

pub mod anomaly;

// The loops the ops run; the fast code behind them is fenced off in src/kernels/.
pub mod kernels;

pub use rng::Rng;
pub use shape::Shape;
pub use tape::{Backward, Grads, Tape, Var};
pub use tensor::Tensor;

// Runs the README's Rust examples as doctests, so the README cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
