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
//! ## Reading order
//!
//! | module | what it holds |
//! |---|---|
//! | [`shape`] | [`Shape`] and the shape checks every op shares |
//! | [`tensor`] | [`Tensor`]: flat row-major `f32` storage, constructors, printing |
//! | [`rng`] | [`Rng`]: the seeded generator behind every random number |
//! | [`kernels`] | the loops: sums, dot products, matmul, each beside a plain reference; behind it, fenced off in `src/kernels/` and safe to skip on a first reading, the fast matrix product, the instruction set and threads (the only `unsafe`), and the buffer pool |
//! | [`tape`] | [`Tape`], [`Var`], [`Backward`], [`Grads`]: recording and the reverse sweep |
//! | [`ops`] | every op, one file each, forward and backward side by side |
//! | [`check`] | finite differences, Jacobians and [`check::gradcheck`] |
//! | [`anomaly`] | anomaly mode: the first op that makes a NaN or an infinity, by tape index |
//! | [`trace`] | the tape as Graphviz DOT and as a JSON trace |
//! | [`workloads`] | the benchmark workloads W1 to W3, shared by `cargo bench` and `tools/compare-peers` |
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

pub mod anomaly;
pub mod check;
pub mod experiments;
pub mod inspect;
#[cfg(feature = "safetensors")]
pub mod io;
pub mod kernels;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod rng;
pub mod shape;
pub mod tape;
pub mod tensor;
pub mod trace;
pub mod workloads;

pub use rng::Rng;
pub use shape::Shape;
pub use tape::{Backward, Grads, Tape, Var};
pub use tensor::Tensor;

// Runs the README's Rust examples as doctests, so the README cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
