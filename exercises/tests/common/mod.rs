//! The checks the exercises' tests make, shared with `wrong_rules.rs`, which
//! feeds them plausible mistakes to show that each check can fail.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use exercises::sweep::MiniTape;
use resgrad::check::{gradcheck, jacobian};
use resgrad::{Rng, Tape, Tensor, Var};

/// Entries drawn from N(0, 1) with a fixed seed, so every run checks the
/// same numbers.
pub fn random(shape: &[usize], seed: u64) -> Tensor {
    Tensor::normal(shape, 0.0, 1.0, &mut Rng::new(seed))
}

// ANCHOR: assert_gradcheck
/// Panics with gradcheck's report unless every backward rule that `f`
/// records agrees with finite differences at `inputs`.
///
/// gradcheck compares `(Jᵀu)·v` from one backward pass with the central
/// difference `u·(f(x + hv) − f(x − hv)) / 2h`, for three random pairs of
/// an upstream gradient `u` and a direction `v`. Its tolerance (1% of the
/// value, plus bounds on f32 rounding and on the difference's own error,
/// computed from `f` alone) is explained in "Checking the tape".
#[track_caller]
pub fn assert_gradcheck(
    f: impl for<'t, 's> Fn(&'t Tape, &'s [Var<'t>]) -> Var<'t>,
    inputs: &[Tensor],
) {
    if let Err(report) = gradcheck(f, inputs) {
        panic!("{report}");
    }
}
// ANCHOR_END: assert_gradcheck

/// Runs `f` once on `inputs` with upstream gradient `dy` and returns the
/// gradient of every input (zeros for an input the output does not reach).
pub fn gradients(
    f: impl for<'t, 's> Fn(&'t Tape, &'s [Var<'t>]) -> Var<'t>,
    inputs: &[Tensor],
    dy: &Tensor,
) -> Vec<Tensor> {
    let tape = Tape::new();
    let vars: Vec<Var<'_>> = inputs.iter().map(|x| tape.leaf(x.clone())).collect();
    let grads = tape.backward_with(f(&tape, &vars), dy.clone());
    vars.iter()
        .zip(inputs)
        .map(|(v, x)| grads.get(*v).cloned().unwrap_or_else(|| Tensor::zeros(x.shape())))
        .collect()
}

/// Panics unless `got` and `want` have the same shape and every element of
/// `got` is within `tol` of `want`; the message names the first that is not.
#[track_caller]
pub fn assert_close(what: &str, got: &Tensor, want: &Tensor, tol: f32) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes differ");
    for (i, (g, w)) in got.data().iter().zip(want.data()).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "{what}: element {i} is {g}, expected {w} (± {tol})"
        );
    }
}

// ANCHOR: assert_identity_plus_branch
/// Panics unless the Jacobian of `block` at `x` is the identity plus the
/// Jacobian of `branch` there, within `tol`: d(x + F(x))/dx = I + dF/dx.
/// Both Jacobians are built in reverse mode, one backward pass per output.
#[track_caller]
pub fn assert_identity_plus_branch(
    block: impl for<'t> Fn(&'t Tape, Var<'t>) -> Var<'t>,
    branch: impl for<'t> Fn(&'t Tape, Var<'t>) -> Var<'t>,
    x: &Tensor,
    tol: f32,
) {
    let (j_block, j_branch) = (jacobian(block, x), jacobian(branch, x));
    let n = x.numel();
    for i in 0..n {
        for j in 0..n {
            let got = j_block.get(&[i, j]) - j_branch.get(&[i, j]);
            let want = if i == j { 1.0 } else { 0.0 };
            assert!(
                (got - want).abs() <= tol,
                "d(x + F(x))/dx − dF/dx should be the identity I, but entry [{i}, {j}] \
                 is {got} where I has {want}"
            );
        }
    }
}
// ANCHOR_END: assert_identity_plus_branch

// ANCHOR: residual_chain
/// Runs the same program on a `MiniTape`, differentiated by `sweep`, and on
/// resgrad's tape, and panics unless the gradients of every input agree.
///
/// The program is a chain of scalar residual steps h ← h + relu(h · w),
/// ending in the loss h · h. Every h is used twice (by the product and by
/// the skip; the last one twice by the loss), and one step's relu is inactive,
/// so only its skip passes gradient.
#[track_caller]
pub fn assert_sweep_matches_resgrad(sweep: impl Fn(&MiniTape, usize) -> Vec<f32>) {
    let (x, ws) = (0.7, [0.5, -1.2, 0.9, 0.3]);

    let mut mini = MiniTape::new();
    let mini_x = mini.leaf(x);
    let mini_ws: Vec<usize> = ws.iter().map(|&w| mini.leaf(w)).collect();
    let mut h = mini_x;
    for &w in &mini_ws {
        let branch = mini.mul(h, w);
        let branch = mini.relu(branch);
        h = mini.add(h, branch);
    }
    let loss = mini.mul(h, h);
    let grads = sweep(&mini, loss);

    let tape = Tape::new();
    let scalar = |v: f32| tape.leaf(Tensor::from_vec(vec![v], [1]));
    let (rx, rws) = (scalar(x), ws.map(scalar));
    let mut h = rx;
    for w in rws {
        h = h + (h * w).relu();
    }
    let expected = tape.backward(h * h);

    // The same f32 operations in the same order, except that the sums of
    // contributions may be formed in a different order: a few ulps apart.
    let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * (1.0 + b.abs());
    let (got, want) = (grads[mini_x], expected[rx].item());
    assert!(close(got, want), "dL/dx: the sweep gives {got}, resgrad gives {want}");
    for (k, (&id, &w)) in mini_ws.iter().zip(&rws).enumerate() {
        let (got, want) = (grads[id], expected[w].item());
        assert!(
            close(got, want),
            "dL/dw{k}: the sweep gives {got}, resgrad gives {want}"
        );
    }
}
// ANCHOR_END: residual_chain
