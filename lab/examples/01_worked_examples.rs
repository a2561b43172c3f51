//! Worked examples: the pencil-and-paper calculations about residual
//! connections, redone by the engine and checked against their closed forms.
//!
//! Five small computations, each small enough to check by hand:
//!
//! * **(a) One scalar, two blocks.** With a branch `F(x) = a·x` and the loss
//!   `L = (y − t)² / 2`, the plain block `y = F(x)` gives
//!   `dL/dx = (a·x − t)·a`, and the residual block `y = x + F(x)` gives
//!   `dL/dx = ((1 + a)·x − t)·(1 + a)`. The plain gradient carries the factor
//!   `a`, so a weak branch starves the input of gradient; the residual one
//!   carries `1 + a`, whose `1` comes from the skip. At `a = 0` the plain
//!   gradient is exactly zero while the residual one is `x − t`. The skip is
//!   not a guarantee, though: at `a = −1` the branch cancels it and the
//!   residual gradient vanishes too.
//! * **(b) Learning the residual.** To fit `H(x) = 3x + 2` with
//!   `y = x + F(x)`, the branch must learn `F(x) = H(x) − x = 2x + 2`. A
//!   one-weight, one-bias branch trained by SGD ends at `w = 2, b = 2`, while
//!   the same unit without the skip ends at `w = 3, b = 2`: the same function,
//!   reached through a different parameterisation.
//! * **(c) When the widths differ.** `x + F(x)` needs `F(x)` to have `x`'s
//!   shape. From `R³` to `R²` a learned projection `P` on the skip restores
//!   the sum, `y = P(x) + F(x)`; the skip's share of the Jacobian is then
//!   `W_P` instead of `I`. For `R⁶` and a branch into `R⁴` there are two
//!   classic fixes (widen the branch to `R⁶` and keep the identity, or
//!   project the skip to `R⁴`), plus two variants (lift the branch back to
//!   `R⁶`, or concatenate instead of adding). The table lists each one's
//!   output shape and parameter count, counted by the store and by formula.
//! * **(d) The identity in the Jacobian.** For any branch,
//!   `∂(x + F(x))/∂x = I + ∂F/∂x`. The engine builds both Jacobians of a
//!   small random branch, one backward pass per row, and their difference is
//!   printed row by row.
//! * **(e) A thousand blocks that do nothing.** With the last projection of
//!   every branch set to zero, each block is `x + 0 = x`; a stack of 1000 of
//!   them returns its input bit for bit and hands the upstream gradient
//!   back bit for bit. Without the skips the same blocks output zeros.
//!
//! `cargo run --release --example 01_worked_examples [-- --quick]` (quick mode writes
//! into `target/figures-quick/`; a full run rewrites the book's figures).

use lab::{Claim, Figure, Outcome, Series, Table, fmt_num};
use resgrad::check::jacobian;
use resgrad::nn::{
    Ctx, Linear, Module, Params, Relu, Residual, ResidualOptions, Sequential, Shortcut,
};
use resgrad::optim::{Optimizer, Sgd};
use resgrad::rng::Rng;
use resgrad::shape::Shape;
use resgrad::tape::{Tape, Var};
use resgrad::tensor::Tensor;

/// The input of the scalar example (a).
pub const X: f32 = 1.5;
/// The target of the scalar example (a); `X − T = 1` exactly.
pub const T: f32 = 0.5;
/// The branch weights of the table in (a).
pub const A_VALUES: [f32; 5] = [0.0, 1e-3, 0.5, 2.0, -1.0];

// ANCHOR: scalar_gradients
/// `dL/dx` for the plain block `y = a·x` and for the residual block
/// `y = x + a·x`, with `L = (y − t)² / 2`, each from one backward pass.
pub fn scalar_gradients(a: f32, x: f32, t: f32) -> (f32, f32) {
    let grad = |skip: bool| {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::scalar(x));
        let f = x * tape.constant(Tensor::scalar(a)); // F(x) = a·x
        let y = if skip { x + f } else { f };
        let e = y.add_scalar(-t); // y − t
        let loss = (e * e).scale(0.5); // L = (y − t)² / 2
        tape.backward(loss)[x].item()
    };
    (grad(false), grad(true))
}
// ANCHOR_END: scalar_gradients

/// The closed forms of (a), in f64: `(a·x − t)·a` and `((1 + a)·x − t)·(1 + a)`.
pub fn scalar_gradients_closed_form(a: f64, x: f64, t: f64) -> (f64, f64) {
    ((a * x - t) * a, ((1.0 + a) * x - t) * (1.0 + a))
}

/// Learning rate, batch size and step count of (b).
const LR: f64 = 0.1;
const BATCH: usize = 16;
const STEPS: usize = 200;

// ANCHOR: learn_affine
/// Fits `H(x) = 3x + 2` with the unit `y = x + F(x)` (or `y = F(x)` when
/// `skip` is false), `F(x) = w·x + b`, by SGD on the mean squared error
/// over batches of `x` drawn uniformly from `[−2, 2]`. Returns `(w, b)`
/// after each step.
pub fn learn_affine(skip: bool, steps: usize, seed: u64) -> Vec<(f32, f32)> {
    let mut rng = Rng::new(seed);
    let mut params = Params::new();
    let f = Linear::new(&mut params.scope("f"), 1, 1, true, &mut rng); // F(x) = w·x + b
    let (w, b) = (f.weight, f.bias.expect("built with a bias"));
    let options =
        if skip { ResidualOptions::default() } else { ResidualOptions::plain() };
    let unit = Residual::new(f).with_options(&mut params.scope("unit"), options);
    let mut opt = Sgd::new(LR);
    let mut path = Vec::with_capacity(steps);
    for step in 0..steps {
        let xs = Tensor::uniform([BATCH, 1], -2.0, 2.0, &mut rng); // [16, 1]
        let target = xs.map(|x| 3.0 * x + 2.0); // H(x) = 3x + 2
        let tape = Tape::new();
        let ctx = Ctx::train(&tape, &params, step as u64);
        let loss = unit.forward(&ctx, ctx.input(xs)).mse_loss(ctx.input(target));
        let grads = ctx.param_grads(&tape.backward(loss));
        drop(ctx);
        opt.step(&mut params, &grads);
        path.push((params.get(w).item(), params.get(b).item()));
    }
    path
}
// ANCHOR_END: learn_affine

/// One design of (c): what it computes, its output shape, and its
/// parameter count from the store and by formula.
struct Design {
    name: &'static str,
    shape: Shape,
    expected_shape: Shape,
    numel: usize,
    formula: usize,
    formula_text: &'static str,
}

/// Builds one design of (c) in a fresh store and runs it on `[ROWS, in]`.
fn design(
    name: &'static str,
    in_features: usize,
    expected_out: usize,
    formula: (usize, &'static str),
    build: impl FnOnce(&mut Params, &mut Rng) -> Box<dyn Module>,
) -> Design {
    const ROWS: usize = 5;
    let mut rng = Rng::new(3);
    let mut params = Params::new();
    let block = build(&mut params, &mut rng);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let x = ctx.input(Tensor::normal([ROWS, in_features], 0.0, 1.0, &mut rng)); // [5, in]
    let y = block.forward(&ctx, x); // [5, out]
    Design {
        name,
        shape: y.shape(),
        expected_shape: Shape::from([ROWS, expected_out]),
        numel: params.numel(),
        formula: formula.0,
        formula_text: formula.1,
    }
}

/// `y = [x; F(x)]`: the input and the branch side by side (the merge of
/// experiment 09), for the last design of (c).
struct Concat(Linear);

impl Module for Concat {
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        Var::concat(&[x, self.0.forward(ctx, x)], 1) // [n, 6] and [n, 4] -> [n, 10]
    }
}

/// The designs of (c).
fn designs() -> Vec<Design> {
    vec![
        design(
            "R3 -> R2: y = P(x) + F(x)",
            3,
            2,
            (2 * (3 * 2 + 2), "F and P: 2 x (3x2 + 2)"),
            |p, rng| {
                let f = Linear::new(&mut p.scope("branch"), 3, 2, true, rng);
                Box::new(Residual::projected(&mut p.scope("shortcut"), f, 3, 2, rng))
            },
        ),
        design(
            "R6: widen F to R6; y = x + F(x)",
            6,
            6,
            (6 * 6 + 6, "F: 6x6 + 6"),
            |p, rng| {
                Box::new(Residual::new(Linear::new(
                    &mut p.scope("branch"),
                    6,
                    6,
                    true,
                    rng,
                )))
            },
        ),
        design(
            "R6 -> R4: y = P(x) + F(x)",
            6,
            4,
            (2 * (6 * 4 + 4), "F and P: 2 x (6x4 + 4)"),
            |p, rng| {
                let f = Linear::new(&mut p.scope("branch"), 6, 4, true, rng);
                Box::new(Residual::projected(&mut p.scope("shortcut"), f, 6, 4, rng))
            },
        ),
        design(
            "R6: lift F back; y = x + Q(F(x))",
            6,
            6,
            ((6 * 4 + 4) + (4 * 6 + 6), "F: 6x4 + 4; Q: 4x6 + 6"),
            |p, rng| {
                let f = Linear::new(&mut p.scope("branch.0"), 6, 4, true, rng);
                let q = Linear::new(&mut p.scope("branch.1"), 4, 6, true, rng);
                Box::new(Residual::new(Sequential::new().push(f).push(q)))
            },
        ),
        design(
            "R6 -> R10: y = [x; F(x)] (concat)",
            6,
            10,
            (6 * 4 + 4, "F: 6x4 + 4"),
            |p, rng| {
                let f = Linear::new(&mut p.scope("branch"), 6, 4, true, rng);
                Box::new(Concat(f))
            },
        ),
    ]
}

/// `x Wᵀ + b` with the weights as constants of the tape.
fn affine<'t>(tape: &'t Tape, x: Var<'t>, w: &Tensor, b: &Tensor) -> Var<'t> {
    x.matmul(tape.constant(w.clone()).transpose()).add_bias(tape.constant(b.clone()))
}

// ANCHOR: projection_jacobian
/// The Jacobian, by reverse mode, of `block` at `x` `[1, n]`: one backward
/// pass per output, each seeded with a one-hot upstream vector.
fn block_jacobian(params: &Params, x: &Tensor, block: &dyn Module) -> Tensor {
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, params);
    let input = tape.leaf(x.clone());
    let y = block.forward(&ctx, input);
    let (outputs, inputs) = (y.shape().numel(), x.numel());
    let mut jac = Tensor::zeros([outputs, inputs]);
    for i in 0..outputs {
        let mut seed = Tensor::zeros(y.shape());
        seed.data_mut()[i] = 1.0;
        let row = tape.backward_with(y, seed)[input].clone();
        jac.data_mut()[i * inputs..(i + 1) * inputs].copy_from_slice(row.data());
    }
    jac
}

/// For the real `R³ → R²` block `Residual::projected` (y = P(x) + F(x)):
/// `J(block) − J(F)`, the skip's share of the Jacobian, and `W_P`, which it
/// should equal (in place of the identity an identity skip contributes).
fn projection_jacobian() -> (Tensor, Tensor) {
    let mut rng = Rng::new(4);
    let mut params = Params::new();
    let f = Linear::new(&mut params.scope("branch"), 3, 2, true, &mut rng);
    let block =
        Residual::projected(&mut params.scope("shortcut"), f.clone(), 3, 2, &mut rng);
    let x = Tensor::normal([1, 3], 0.0, 1.0, &mut rng);
    let j_block = block_jacobian(&params, &x, &block); // [2, 3]
    let j_branch = block_jacobian(&params, &x, &f); // [2, 3]
    let skip_share = j_block.zip_map(&j_branch, |a, b| a - b);
    let w_p = match &block.shortcut {
        Shortcut::Projection(p) => params.get(p.weight).clone(),
        Shortcut::Identity => unreachable!("built with a projection"),
    };
    (skip_share, w_p)
}
// ANCHOR_END: projection_jacobian

/// Width of the branch of (d), and its hidden width.
const D: usize = 4;
const H: usize = 6;

// ANCHOR: jacobian_difference
/// A small random branch, `F(x) = tanh(x W₁ᵀ + b₁) W₂ᵀ + b₂`, on `[1, D]`.
fn small_branch<'t>(tape: &'t Tape, x: Var<'t>, w: &[Tensor; 4]) -> Var<'t> {
    // [1, D] -> [1, H] -> [1, D]
    affine(tape, affine(tape, x, &w[0], &w[1]).tanh(), &w[2], &w[3])
}

/// `J(x + F(x)) − J(F)` at a random point, by reverse mode: one backward
/// pass per output for each Jacobian. It should be the identity.
pub fn jacobian_difference(seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let w = [
        Tensor::normal([H, D], 0.0, 0.5, &mut rng),
        Tensor::normal([H], 0.0, 0.5, &mut rng),
        Tensor::normal([D, H], 0.0, 0.5, &mut rng),
        Tensor::normal([D], 0.0, 0.5, &mut rng),
    ];
    let x = Tensor::normal([1, D], 0.0, 1.0, &mut rng);
    let j_res = jacobian(|tape, v| v + small_branch(tape, v, &w), &x); // [D, D]
    let j_f = jacobian(|tape, v| small_branch(tape, v, &w), &x); // [D, D]
    j_res.zip_map(&j_f, |r, f| r - f)
}
// ANCHOR_END: jacobian_difference

/// Width, hidden width and rows of the blocks of (e).
const WIDTH: usize = 16;
const HIDDEN: usize = 32;
const ROWS: usize = 4;

/// What a zero-branch stack did to its input and to the gradient.
pub struct ZeroStack {
    /// `max |y − x|` with the skips.
    pub max_change: f32,
    /// The output equals the input bit for bit.
    pub output_bitwise_equal: bool,
    /// `dL/dx` equals the upstream `dL/dy` bit for bit.
    pub gradient_bitwise_equal: bool,
    /// `max |y|` of the same blocks without their skips.
    pub plain_max_output: f32,
    /// `max |dL/dx|` of the same blocks without their skips.
    pub plain_max_gradient: f32,
}

// ANCHOR: zero_stack
/// `n` blocks `x + W₂ relu(W₁ x + b₁) + b₂` with `W₂ = 0, b₂ = 0`, run
/// with and without their skips on one random input and upstream gradient.
pub fn zero_stack(n: usize, seed: u64) -> ZeroStack {
    let mut rng = Rng::new(seed);
    let mut params = Params::new();
    let blocks: Vec<Residual<Sequential>> = (0..n)
        .map(|k| {
            let mut scope = params.scope(&format!("blocks.{k}"));
            let w1 = Linear::new(&mut scope.sub("0"), WIDTH, HIDDEN, true, &mut rng);
            let w2 = Linear::new(&mut scope.sub("2"), HIDDEN, WIDTH, true, &mut rng);
            w2.zero_init(scope.params()); // the branch's last projection starts at 0
            Residual::new(Sequential::new().push(w1).push(Relu).push(w2))
        })
        .collect();
    let x = Tensor::normal([ROWS, WIDTH], 0.0, 1.0, &mut rng);
    let u = Tensor::normal([ROWS, WIDTH], 0.0, 1.0, &mut rng); // dL/dy
    let run = |skip: bool| {
        let tape = Tape::new();
        let ctx = Ctx::eval(&tape, &params);
        let input = tape.leaf(x.clone());
        let y = blocks.iter().fold(input, |h, b| {
            if skip { b.forward(&ctx, h) } else { b.branch.forward(&ctx, h) }
        });
        let grads = tape.backward_with(y, u.clone());
        let dx = grads.get(input).cloned().unwrap_or_else(|| Tensor::zeros(x.shape()));
        ((*y.value()).clone(), dx)
    };
    let bits = |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let max_abs = |t: &Tensor| t.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let (y, dx) = run(true);
    let (plain_y, plain_dx) = run(false);
    ZeroStack {
        max_change: y.max_abs_diff(&x),
        output_bitwise_equal: bits(&y) == bits(&x),
        gradient_bitwise_equal: bits(&dx) == bits(&u),
        plain_max_output: max_abs(&plain_y),
        plain_max_gradient: max_abs(&plain_dx),
    }
}
// ANCHOR_END: zero_stack

/// Runs all five examples. `quick` changes nothing but the figure's grid:
/// every part is small.
pub fn run(quick: bool) -> Outcome {
    let mut table =
        Table::new(&["part", "quantity", "resgrad", "expected", "|difference|"]);
    let mut push =
        |part: &str, quantity: String, got: String, expected: String, diff: String| {
            table.push(vec![part.to_string(), quantity, got, expected, diff]);
        };

    // (a) The scalar example.
    let mut worst_relative = 0.0f64;
    let (mut plain_at_0, mut residual_at_0, mut residual_at_minus_1) =
        (f32::NAN, f32::NAN, f32::NAN);
    for &a in &A_VALUES {
        let (plain, residual) = scalar_gradients(a, X, T);
        let (plain_cf, residual_cf) =
            scalar_gradients_closed_form(a as f64, X as f64, T as f64);
        for (what, got, want) in [
            ("plain (a·x − t)·a", plain, plain_cf),
            ("residual ((1+a)·x − t)·(1+a)", residual, residual_cf),
        ] {
            let diff = (got as f64 - want).abs();
            worst_relative = worst_relative.max(diff / want.abs().max(1.0));
            push(
                "a",
                format!("dL/dx {what}, a = {a}"),
                fmt_num(got as f64),
                fmt_num(want),
                fmt_num(diff),
            );
        }
        if a == 0.0 {
            (plain_at_0, residual_at_0) = (plain, residual);
        }
        if a == -1.0 {
            residual_at_minus_1 = residual;
        }
    }
    let grid: Vec<f32> = if quick {
        (-4..=4).map(|i| i as f32 * 0.5).collect()
    } else {
        (-20..=20).map(|i| i as f32 * 0.1).collect()
    };
    let mut plain_curve = Series { name: "plain y = a·x".into(), points: Vec::new() };
    let mut residual_curve =
        Series { name: "residual y = x + a·x".into(), points: Vec::new() };
    for &a in &grid {
        let (p, r) = scalar_gradients(a, X, T);
        plain_curve.points.push((a as f64, p as f64));
        residual_curve.points.push((a as f64, r as f64));
    }

    // (b) Learning H(x) = 3x + 2.
    let residual_path = learn_affine(true, STEPS, 11);
    let plain_path = learn_affine(false, STEPS, 11);
    let (w_res, b_res) = *residual_path.last().expect("at least one step");
    let (w_plain, b_plain) = *plain_path.last().expect("at least one step");
    let (w0, b0) = residual_path[0];
    let learned = [
        (
            format!(
                "residual branch w after {STEPS} SGD steps (w after step 1: {})",
                fmt_num(w0 as f64)
            ),
            w_res,
            2.0,
        ),
        (
            format!(
                "residual branch b after {STEPS} SGD steps (b after step 1: {})",
                fmt_num(b0 as f64)
            ),
            b_res,
            2.0,
        ),
        (format!("plain unit w after {STEPS} SGD steps"), w_plain, 3.0),
        (format!("plain unit b after {STEPS} SGD steps"), b_plain, 2.0),
    ];
    for (quantity, got, want) in learned {
        push(
            "b",
            quantity,
            fmt_num(got as f64),
            want.to_string(),
            fmt_num((got as f64 - want).abs()),
        );
    }
    let err_series = |name: &str,
                      path: &[(f32, f32)],
                      pick: fn(&(f32, f32)) -> f32,
                      target: f64| Series {
        name: name.into(),
        points: path
            .iter()
            .enumerate()
            .map(|(s, p)| ((s + 1) as f64, (pick(p) as f64 - target).abs()))
            .collect(),
    };
    let convergence = vec![
        err_series("residual |w − 2|", &residual_path, |p| p.0, 2.0),
        err_series("residual |b − 2|", &residual_path, |p| p.1, 2.0),
        err_series("plain |w − 3|", &plain_path, |p| p.0, 3.0),
        err_series("plain |b − 2|", &plain_path, |p| p.1, 2.0),
    ];

    // (c) Shapes and parameter counts.
    let designs = designs();
    let mut designs_agree = true;
    for d in &designs {
        designs_agree &= d.shape == d.expected_shape && d.numel == d.formula;
        push(
            "c",
            format!("{}: output shape", d.name),
            d.shape.to_string(),
            d.expected_shape.to_string(),
            if d.shape == d.expected_shape { "same".into() } else { "DIFFERS".into() },
        );
        push(
            "c",
            format!("{}: parameters", d.name),
            d.numel.to_string(),
            format!("{} ({})", d.formula, d.formula_text),
            (d.numel as i64 - d.formula as i64).abs().to_string(),
        );
    }
    let (j_proj, w_sum) = projection_jacobian();
    let proj_diff = j_proj.max_abs_diff(&w_sum);
    push(
        "c",
        "R3 -> R2: J(P(x) + F(x)) − J(F) vs W_P (max over entries)".into(),
        format!("J {:?}", j_proj.dims()),
        "W_P".into(),
        fmt_num(proj_diff as f64),
    );

    // (d) The identity in the Jacobian.
    let diff = jacobian_difference(5);
    let identity = Tensor::eye(D);
    let max_dev = diff.max_abs_diff(&identity);
    for i in 0..D {
        let row: Vec<String> =
            (0..D).map(|j| fmt_num(diff.get(&[i, j]) as f64)).collect();
        let dev = (0..D)
            .map(|j| (diff.get(&[i, j]) - identity.get(&[i, j])).abs())
            .fold(0.0f32, f32::max);
        push(
            "d",
            format!("row {i} of J(x + F(x)) − J(F)"),
            row.join(" "),
            format!("row {i} of I"),
            fmt_num(dev as f64),
        );
    }

    // (e) A stack of zero branches.
    const N: usize = 1000;
    let z = zero_stack(N, 6);
    push(
        "e",
        format!("{N} zero-branch blocks: max |y − x|"),
        fmt_num(z.max_change as f64),
        "0".into(),
        fmt_num(z.max_change as f64),
    );
    push(
        "e",
        format!("{N} zero-branch blocks: y and dL/dx equal x and dL/dy bit for bit"),
        format!("{} and {}", z.output_bitwise_equal, z.gradient_bitwise_equal),
        "true and true".into(),
        "-".into(),
    );
    push(
        "e",
        format!("the same {N} blocks without skips: max |y| and max |dL/dx|"),
        format!(
            "{} and {}",
            fmt_num(z.plain_max_output as f64),
            fmt_num(z.plain_max_gradient as f64)
        ),
        "0 and 0".into(),
        "-".into(),
    );

    // Thresholds. Engine against closed form: the engine rounds each of a
    // handful of f32 operations (relative error 6e-8 each), so its error is
    // a few 1e-7 of max(1, |value|); 1e-5 is 50 times that, while a wrong
    // derivative (a missing 1 + a, a dropped skip) is off by order 1.
    // Learning: the targets are noise-free, so w = 2, b = 2 fits every batch
    // exactly and SGD shrinks the error by a fixed factor (about 1 − 0.2)
    // each step: 200 steps take an O(1) error below f32 rounding (~1e-7).
    // 1e-3 sits four orders above that floor and far below the gap of 1
    // between the residual's answer (w = 2) and the plain one's (w = 3).
    // Jacobians: each entry of J(x + F) is one f32 sum of 1 (or 0) and the
    // branch's entry, so J(x + F) − J(F) − I is at most half an ulp of
    // numbers below 10, about 5e-7; 1e-5 leaves a factor 20, and a rule that
    // dropped or doubled the skip would be off by 1.
    let tol_cf = 1e-5;
    let tol_fit = 1e-3f64;
    let tol_jac = 1e-5f32;
    let claims = vec![
        Claim::new(
            "the engine's dL/dx equals the closed forms (a·x − t)·a and ((1 + a)·x − t)·(1 + a)",
            format!(
                "worst |engine − closed form| / max(1, |closed form|) {} over a in {A_VALUES:?} (needs <= {tol_cf:e})",
                fmt_num(worst_relative)
            ),
            worst_relative <= tol_cf,
        ),
        Claim::new(
            "at a = 0 the plain block passes no gradient at all, while the skip passes x − t",
            format!(
                "plain {plain_at_0} (needs exactly 0; −0 is IEEE's signed zero, equal to 0), residual {residual_at_0} (needs exactly x − t = {})",
                X - T
            ),
            plain_at_0 == 0.0 && residual_at_0 == X - T,
        ),
        Claim::new(
            "the skip is no guarantee: at a = −1 the branch cancels it and the residual gradient is 0 too",
            format!("residual dL/dx at a = −1: {residual_at_minus_1} (needs exactly 0)"),
            residual_at_minus_1 == 0.0,
        ),
        Claim::new(
            "fitting H(x) = 3x + 2 with y = x + F(x), the branch learns F(x) = 2x + 2",
            format!(
                "w = {}, b = {} after {STEPS} SGD steps (needs |w − 2|, |b − 2| <= {tol_fit:e})",
                w_res, b_res
            ),
            (w_res as f64 - 2.0).abs() <= tol_fit
                && (b_res as f64 - 2.0).abs() <= tol_fit,
        ),
        Claim::new(
            "the same unit without the skip learns the whole map instead, w = 3 and b = 2",
            format!(
                "w = {w_plain}, b = {b_plain} (needs |w − 3|, |b − 2| <= {tol_fit:e})"
            ),
            (w_plain as f64 - 3.0).abs() <= tol_fit
                && (b_plain as f64 - 2.0).abs() <= tol_fit,
        ),
        Claim::new(
            "a projection (or a wider branch, or concatenation) makes the widths fit; parameters counted by the store equal the formulas",
            format!(
                "{} designs, shapes and counts {} (needs all equal)",
                designs.len(),
                if designs_agree { "all equal" } else { "NOT all equal" }
            ),
            designs_agree,
        ),
        Claim::new(
            "with a projection shortcut the skip's share of the Jacobian is W_P instead of I",
            format!(
                "max |J(P(x) + F(x)) − J(F) − W_P| {} for Residual::projected (needs <= {tol_jac:e})",
                fmt_num(proj_diff as f64)
            ),
            proj_diff <= tol_jac,
        ),
        Claim::new(
            "J(x + F(x)) − J(F) is the identity matrix, to within f32 rounding",
            format!(
                "max |J_res − J_F − I| {} over a {D}x{D} Jacobian (needs <= {tol_jac:e})",
                fmt_num(max_dev as f64)
            ),
            max_dev <= tol_jac,
        ),
        Claim::new(
            format!(
                "a stack of {N} zero-initialised branches is exactly the identity, forwards and backwards"
            ),
            format!(
                "max |y − x| = {}, output bitwise equal: {}, gradient bitwise equal: {} (needs 0, true, true)",
                z.max_change, z.output_bitwise_equal, z.gradient_bitwise_equal
            ),
            z.max_change == 0.0 && z.output_bitwise_equal && z.gradient_bitwise_equal,
        ),
    ];
    let figures = vec![
        Figure {
            file: "worked_scalar_gradient".into(),
            title: format!("dL/dx for F(x) = a·x, L = (y − t)²/2 at x = {X}, t = {T}"),
            x_label: "branch weight a".into(),
            y_label: "dL/dx".into(),
            log_x: false,
            log_y: false,
            series: vec![plain_curve, residual_curve],
        },
        Figure {
            file: "worked_learn_residual".into(),
            title: "Fitting 3x + 2: distance of w and b from their targets".into(),
            x_label: "SGD step".into(),
            y_label: "|parameter − target| (0 not drawn)".into(),
            log_x: false,
            log_y: true,
            series: convergence,
        },
    ];
    Outcome {
        name: "worked_examples".into(),
        title: "Worked examples: scalar gradients, learning the residual, shapes, Jacobians, zero stacks"
            .into(),
        table,
        figures,
        claims,
    }
}

fn main() -> std::io::Result<()> {
    lab::run_example(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_examples_hold_in_the_engine() {
        let outcome = run(true);
        lab::assert_claims_hold(&outcome);
        assert_eq!(outcome.claims.len(), 9);
        // (a) two rows per a, (b) four, (c) two per design and the Jacobian,
        // (d) one per Jacobian row, (e) three.
        let a_rows = 2 * A_VALUES.len();
        assert_eq!(outcome.table.rows.len(), a_rows + 4 + (2 * 5 + 1) + 4 + 3);
        assert_eq!(outcome.figures.len(), 2);
        // Same seed, same numbers.
        assert_eq!(run(true), outcome);
    }
}
