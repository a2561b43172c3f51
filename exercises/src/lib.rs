//! # Build it yourself
//!
//! Eight exercises, in the order the book meets the ideas. Each module is one
//! file in `src/` with everything written except one part, left as `todo!()`:
//! a backward rule, or for the sweep, the loop that runs the rules. Replace
//! the `todo!()` and run the exercise's own test target, which fails until
//! your code is right:
//!
//! ```sh
//! cargo test -p exercises --test add
//! ```
//!
//! | # | Module | You write | Command |
//! |---|---|---|---|
//! | 1 | [`add`] | `da`, `db` of `a + b` | `cargo test -p exercises --test add` |
//! | 2 | [`mul`] | `da`, `db` of `a * b` | `cargo test -p exercises --test mul` |
//! | 3 | [`sweep`] | the reverse sweep of a tape | `cargo test -p exercises --test sweep` |
//! | 4 | [`matmul`] | `dA`, `dB` of `A B` | `cargo test -p exercises --test matmul` |
//! | 5 | [`relu`] | `dx` of `max(x, 0)` | `cargo test -p exercises --test relu` |
//! | 6 | [`layer_norm`] | `dx`, `dg`, `db` of layer norm | `cargo test -p exercises --test layer_norm` |
//! | 7 | [`softmax`] | `dx` of a row-wise softmax | `cargo test -p exercises --test softmax` |
//! | 8 | [`residual`] | `dx`, `dW` of `x + x W` | `cargo test -p exercises --test residual` |
//!
//! Only the lines between `// ---- your code: start ----` and
//! `// ---- your code: end ----` are yours to change. The reference
//! solutions are in `solutions/`, one file per exercise, identical to the
//! blank outside those lines (a test checks this). The feature `solutions`
//! compiles them in place of the blanks, which is how CI checks that the
//! tests pass with correct rules:
//!
//! ```sh
//! cargo test -p exercises --features solutions
//! ```
//!
//! `tests/wrong_rules.rs` holds plausible mistakes, one or more per exercise,
//! and shows that the exercises' checks reject each of them.

// Each exercise is a blank in `src/`, or with the feature `solutions`, the
// reference solution in `solutions/` (the path is relative to `src/`).
#[cfg_attr(feature = "solutions", path = "../solutions/add.rs")]
pub mod add;
#[cfg_attr(feature = "solutions", path = "../solutions/layer_norm.rs")]
pub mod layer_norm;
#[cfg_attr(feature = "solutions", path = "../solutions/matmul.rs")]
pub mod matmul;
#[cfg_attr(feature = "solutions", path = "../solutions/mul.rs")]
pub mod mul;
#[cfg_attr(feature = "solutions", path = "../solutions/relu.rs")]
pub mod relu;
#[cfg_attr(feature = "solutions", path = "../solutions/residual.rs")]
pub mod residual;
#[cfg_attr(feature = "solutions", path = "../solutions/softmax.rs")]
pub mod softmax;
#[cfg_attr(feature = "solutions", path = "../solutions/sweep.rs")]
pub mod sweep;

pub mod matrix;
