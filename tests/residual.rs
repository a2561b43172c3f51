//! The residual properties: a skip contributes exactly the identity to the
//! Jacobian, d(x + F(x))/dx = I + dF/dx, for every kind of branch.

mod common;

use common::strategies::tensor;
use common::{BRANCHES, Branch, BranchParams, half_ulp};
use proptest::prelude::*;
use resgrad::check::jacobian;
use resgrad::nn::{
    Ctx, Linear, Module, ParamGrads, ParamId, Params, Relu, Residual, Sequential,
};
use resgrad::optim::{Optimizer, Sgd};
use resgrad::{Rng, Tape, Tensor, Var};

/// `(branch, params, x, dy)`: a random branch over `[T, D]` inputs with a
/// random upstream gradient.
fn case() -> impl Strategy<Value = (BranchParams, Tensor, Tensor)> {
    (0usize..4, 1usize..=4, 1usize..=5, 1usize..=6, any::<u64>()).prop_flat_map(
        |(kind, t, d, h, seed)| {
            let params =
                BranchParams::random(BRANCHES[kind], d.max(2), h, &mut Rng::new(seed));
            let d = d.max(2); // layer norm needs two features to have a variance
            (Just(params), tensor(vec![t, d]), tensor(vec![t, d]))
        },
    )
}

/// dL/dx for `x + F(x)` (or `F(x)` alone) with upstream `dy`.
fn vjp(params: &BranchParams, x: &Tensor, dy: &Tensor, skip: bool) -> Tensor {
    let tape = Tape::new();
    let v = tape.leaf(x.clone());
    let f = params.apply(v);
    let y = if skip { v + f } else { f };
    tape.backward_with(y, dy.clone())[v].clone()
}

proptest! {
    #![proptest_config(common::proptest_config(256, "proptest-regressions/residual.txt"))]

    // ANCHOR: vjp_property
    /// The skip hands `dy` back unchanged and the tape adds the branch's
    /// gradient g to it: the residual VJP is fl(dy + g), one f32 rounding
    /// away from dy + g. (The branch's gradient reaches x as one piece: the
    /// attention branch uses one fused QKV projection, so x feeds one op.)
    #[test]
    fn the_skip_adds_exactly_the_upstream_gradient_to_the_branchs(
        (params, x, dy) in case()
    ) {
        let with_skip = vjp(&params, &x, &dy, true);
        let branch_only = vjp(&params, &x, &dy, false);
        let pairs = with_skip.data().iter().zip(branch_only.data());
        for ((&r, &g), &d) in pairs.zip(dy.data()) {
            let err = (r as f64 - g as f64 - d as f64).abs();
            prop_assert!(
                err <= half_ulp(r),
                "{:?}: {r} - {g} vs dy {d} (error {err:e})",
                params.kind
            );
        }
    }
    // ANCHOR_END: vjp_property

    // ANCHOR: jacobian_property
    /// Row by row, the same statement about Jacobians: J(x + F) − J(F) = I.
    #[test]
    fn the_jacobian_of_a_residual_block_is_identity_plus_the_branchs(
        (params, x, _dy) in case()
    ) {
        let with_skip = jacobian(|_t, v| v + params.apply(v), &x);
        let branch_only = jacobian(|_t, v| params.apply(v), &x);
        let n = x.numel();
        for i in 0..n {
            for j in 0..n {
                let (r, g) = (with_skip.get(&[i, j]), branch_only.get(&[i, j]));
                let identity = if i == j { 1.0 } else { 0.0 };
                let err = (r as f64 - g as f64 - identity).abs();
                prop_assert!(
                    err <= half_ulp(r),
                    "{:?} [{i}, {j}]: {r} - {g} vs {identity}",
                    params.kind
                );
            }
        }
    }
    // ANCHOR_END: jacobian_property

    /// With its last projection zeroed, every branch is F = 0 and sends back
    /// exact zeros, so the Jacobian is exactly I: no tolerance at all.
    #[test]
    fn a_branch_with_zero_output_weights_leaves_exactly_the_identity((params, x, _dy) in case()) {
        let params = params.with_zero_output();
        let j = jacobian(|_t, v| v + params.apply(v), &x);
        prop_assert_eq!(j, Tensor::eye(x.numel()));
    }

    /// x + F(x) and F(x) + x give the same gradient: addition commutes, and
    /// so does the tape's sum of the two contributions.
    #[test]
    fn the_order_of_the_sum_does_not_matter((params, x, dy) in case()) {
        let tape = Tape::new();
        let v = tape.leaf(x.clone());
        let a = tape.backward_with(v + params.apply(v), dy.clone())[v].clone();
        let tape = Tape::new();
        let v = tape.leaf(x.clone());
        let b = tape.backward_with(params.apply(v) + v, dy.clone())[v].clone();
        prop_assert_eq!(a, b);
    }

    // ANCHOR: dead_relu_branch
    /// A branch whose ReLUs are all inactive passes no gradient at all (a
    /// plain network would stop learning here); the skip still delivers dy.
    #[test]
    fn a_branch_with_all_relus_dead_still_passes_dy_through(
        (x, dy, seed) in (1usize..=4, 2usize..=5).prop_flat_map(|(t, d)| {
            (tensor(vec![t, d]), tensor(vec![t, d]), any::<u64>())
        })
    ) {
        let d = x.shape().last();
        let mut params = BranchParams::random(Branch::Mlp, d, 4, &mut Rng::new(seed));
        params.tensors[1].data_mut().fill(-100.0); // b1: every pre-activation is below 0
        prop_assert_eq!(vjp(&params, &x, &dy, false), Tensor::zeros(x.shape()));
        prop_assert_eq!(vjp(&params, &x, &dy, true), dy);
    }
    // ANCHOR_END: dead_relu_branch
}

// ANCHOR: zero_stack
#[test]
fn a_stack_of_a_thousand_zero_branch_blocks_is_exactly_the_identity() {
    let mut rng = Rng::new(21);
    let (t, d) = (3, 8);
    let x = Tensor::normal([t, d], 0.0, 1.0, &mut rng);
    let dy = Tensor::normal([t, d], 0.0, 1.0, &mut rng);
    let blocks: Vec<BranchParams> = (0..1000)
        .map(|k| {
            BranchParams::random(BRANCHES[k % 4], d, 16, &mut rng).with_zero_output()
        })
        .collect();

    let tape = Tape::new();
    let x0 = tape.leaf(x.clone());
    let mut h: Var<'_> = x0;
    for block in &blocks {
        h = h + block.apply(h); // x_{k+1} = x_k + F_k(x_k), with F_k = 0
    }
    assert_eq!(*h.value(), x, "the forward pass changed the input");
    assert_eq!(tape.backward_with(h, dy.clone())[x0], dy, "the backward pass changed dy");
}
// ANCHOR_END: zero_stack

/// The source material's scalar example: F(x) = a·x, L = (y − t)² / 2.
/// Plain block y = F(x):         dL/dx = (a·x − t)·a
/// Residual block y = x + F(x):  dL/dx = ((1 + a)·x − t)·(1 + a)
fn scalar_grad(a: f32, x: f32, t: f32, residual: bool) -> f32 {
    let tape = Tape::new();
    let xv = tape.leaf(Tensor::scalar(x));
    let av = tape.constant(Tensor::scalar(a));
    let tv = tape.constant(Tensor::scalar(t));
    let f = av * xv;
    let y = if residual { xv + f } else { f };
    let e = y - tv;
    let loss = (e * e).scale(0.5);
    tape.backward(loss)[xv].item()
}

// ANCHOR: scalar_example
#[test]
fn the_scalar_example_matches_its_closed_form_and_only_the_residual_survives_a_near_zero()
{
    for &(a, x, t) in &[
        (0.5, 2.0, 1.0),
        (-1.5, 0.3, -2.0),
        (3.0, -1.0, 4.0),
        (1e-3, 1.5, 0.5),
        (0.0, 1.5, 0.5),
    ] {
        let plain = scalar_grad(a, x, t, false);
        let residual = scalar_grad(a, x, t, true);
        let expected_plain = (a * x - t) * a;
        let expected_residual = ((1.0 + a) * x - t) * (1.0 + a);
        // A handful of f32 operations on values of size ≤ 32 (the largest result is
        // −32): 4 machine epsilons relative to the result, a few ulps.
        let tol = |v: f32| 4.0 * f32::EPSILON * v.abs().max(1.0);
        assert!(
            (plain - expected_plain).abs() <= tol(expected_plain),
            "plain a={a}: {plain} vs {expected_plain}"
        );
        assert!(
            (residual - expected_residual).abs() <= tol(expected_residual),
            "residual a={a}"
        );
    }
    // a = 0: the plain block's gradient is exactly 0, the residual's is x − t.
    assert_eq!(scalar_grad(0.0, 1.5, 0.5, false), 0.0);
    assert_eq!(scalar_grad(0.0, 1.5, 0.5, true), 1.0);
    // a = 1e-3: the plain gradient is over a thousand times smaller than the
    // residual one. The closed forms give
    // (1.001·1.5 − 0.5)·1.001 / ((0.0015 − 0.5)·0.001) ≈ −2011.
    let ratio = scalar_grad(1e-3, 1.5, 0.5, true) / scalar_grad(1e-3, 1.5, 0.5, false);
    assert!(ratio < -1000.0, "ratio {ratio}");
}
// ANCHOR_END: scalar_example

// ANCHOR: zero_init_block
/// The block `x + W₂ relu(W₁ x + b₁) + b₂` on 4 features, 8 hidden, with its
/// last layer zeroed; and the ids of `W₁`, `b₁`, `W₂`, `b₂`.
fn zero_init_block(
    params: &mut Params,
    rng: &mut Rng,
) -> (Residual<Sequential>, [ParamId; 4]) {
    let first = Linear::new(&mut params.scope("0"), 4, 8, true, rng);
    let last = Linear::new(&mut params.scope("2"), 8, 4, true, rng);
    last.zero_init(params); // W₂ = 0, b₂ = 0
    let ids = [first.weight, first.bias.unwrap(), last.weight, last.bias.unwrap()];
    (Residual::new(Sequential::new().push(first).push(Relu).push(last)), ids)
}
// ANCHOR_END: zero_init_block

// ANCHOR: zero_init_learns
/// That block is the identity, yet not stuck: `W₂` gets gradient at once,
/// `dW₂ = dyᵀ relu(W₁ x + b₁)`, because its input is not zero; what it sends
/// further down, `dy W₂`, is exactly zero, so `W₁` and `b₁` wait one step, until
/// the first update has moved `W₂` off zero. Every check is an exact comparison
/// with 0: a product with an exact 0 is exactly 0 in f32, and x + 0 is exactly x.
#[test]
fn a_zero_initialised_last_layer_learns_at_once_and_the_layer_before_it_one_step_later() {
    let mut rng = Rng::new(31);
    let mut params = Params::new();
    let (block, [w1, b1, w2, b2]) = zero_init_block(&mut params, &mut rng);
    let x = Tensor::normal([3, 4], 0.0, 1.0, &mut rng);
    let target = Tensor::normal([3, 4], 0.0, 1.0, &mut rng);
    let pass = |params: &Params| -> (Tensor, ParamGrads) {
        let tape = Tape::new();
        let ctx = Ctx::train(&tape, params, 0);
        let y = block.forward(&ctx, ctx.input(x.clone()));
        let loss = y.mse_loss(ctx.input(target.clone()));
        ((*y.value()).clone(), ctx.param_grads(&tape.backward(loss)))
    };
    let zero = |g: Option<&Tensor>| g.is_none_or(|g| g.data().iter().all(|&v| v == 0.0));

    let (y, grads) = pass(&params);
    assert_eq!(y, x, "a zero last layer makes the block the identity");
    assert!(
        !zero(grads.get(w2)) && !zero(grads.get(b2)),
        "the zero layer itself gets gradient"
    );
    assert!(
        zero(grads.get(w1)) && zero(grads.get(b1)),
        "the layer before it gets none yet"
    );

    Sgd::new(0.1).step(&mut params, &grads);
    let (y, grads) = pass(&params);
    assert_ne!(y, x, "after one step the branch contributes");
    assert!(
        !zero(grads.get(w1)) && !zero(grads.get(b1)),
        "now the first layer learns too"
    );
}
// ANCHOR_END: zero_init_learns
