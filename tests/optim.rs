//! Optimisers against hand-computed updates (PyTorch's rules), and gradient
//! clipping. The parity suite also checks AdamW against PyTorch itself.

mod common;

use approx::assert_relative_eq;
use common::panic_message;
use resgrad::nn::{Ctx, ParamGrads, ParamId, Params};
use resgrad::optim::{AdamW, Optimizer, Sgd, clip_grad_norm};
use resgrad::{Tape, Tensor};

/// One parameter `p` of shape [1] whose loss is `g · p`, so its gradient is
/// always `g`. Returns the parameter after each of `steps` updates.
fn run(opt: &mut dyn Optimizer, p0: f32, g: f32, steps: usize) -> Vec<f32> {
    let mut params = Params::new();
    let id = params.add("p", Tensor::from_vec(vec![p0], [1]));
    (0..steps)
        .map(|_| {
            let grads = grads_of(&params, id, g);
            opt.step(&mut params, &grads);
            params.get(id).item()
        })
        .collect()
}

fn grads_of(params: &Params, id: ParamId, g: f32) -> ParamGrads {
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, params);
    let loss = (ctx.param(id) * ctx.input(Tensor::from_vec(vec![g], [1]))).sum();
    ctx.param_grads(&tape.backward(loss))
}

/// Each literal below is a few f32 operations on round numbers: allow 4 ulps.
fn close(got: &[f32], expected: &[f32]) {
    for (g, e) in got.iter().zip(expected) {
        assert_relative_eq!(*g, *e, max_relative = 4.0 * f32::EPSILON, epsilon = 1e-7);
    }
}

#[test]
fn plain_sgd_steps_against_the_gradient() {
    // p ← p − η g with η = 0.1, g = 1: 0 → −0.1 → −0.2 → −0.3
    close(&run(&mut Sgd::new(0.1), 0.0, 1.0, 3), &[-0.1, -0.2, -0.3]);
}

#[test]
fn sgd_momentum_accumulates_a_velocity() {
    // b = 1, 1.9, 2.71 (b ← 0.9 b + g); p ← p − 0.1 b: −0.1, −0.29, −0.561
    close(&run(&mut Sgd::new(0.1).momentum(0.9), 0.0, 1.0, 3), &[-0.1, -0.29, -0.561]);
}

#[test]
fn nesterov_momentum_looks_one_step_ahead() {
    // b = 1, 1.9; step uses g + 0.9 b = 1.9, 2.71: p = −0.19, −0.461
    close(
        &run(&mut Sgd::new(0.1).momentum(0.9).nesterov(true), 0.0, 1.0, 2),
        &[-0.19, -0.461],
    );
}

#[test]
fn sgd_dampening_scales_new_gradients_after_the_first_step() {
    // b = 1 (no dampening on the first step), then 0.9 · 1 + 0.5 · 1 = 1.4: p = −0.1, −0.24
    close(
        &run(&mut Sgd::new(0.1).momentum(0.9).dampening(0.5), 0.0, 1.0, 2),
        &[-0.1, -0.24],
    );
}

#[test]
fn sgd_weight_decay_is_added_to_the_gradient() {
    // g = 0, λ = 0.1, η = 0.1: p ← p − 0.01 p: 1 → 0.99 → 0.9801
    close(&run(&mut Sgd::new(0.1).weight_decay(0.1), 1.0, 0.0, 2), &[0.99, 0.9801]);
}

// ANCHOR: adamw_first_step
#[test]
fn adamw_first_step_moves_by_the_learning_rate_and_decays_separately() {
    // Step 1: m̂ = g, v̂ = g², so the step is η g / (|g| + ε) ≈ η sign(g);
    // decay first: p = 1 · (1 − 0.1 · 0.01) − 0.1 · 0.5 / (0.5 + 1e-8) = 0.899
    let got = run(&mut AdamW::new(0.1), 1.0, 0.5, 1);
    assert_relative_eq!(got[0], 0.899, max_relative = 4.0 * f32::EPSILON);
    // Without decay and with a constant gradient, every step is η
    // (m̂ = g, v̂ = g² for all t).
    let got = run(&mut AdamW::new(0.1).weight_decay(0.0), 0.0, -2.0, 3);
    close(&got, &[0.1, 0.2, 0.3]);
}
// ANCHOR_END: adamw_first_step

#[test]
fn parameters_without_a_gradient_are_left_alone() {
    let mut params = Params::new();
    let used = params.add("used", Tensor::from_vec(vec![1.0], [1]));
    let unused = params.add("unused", Tensor::from_vec(vec![5.0], [1]));
    let mut opt = AdamW::new(0.1);
    for _ in 0..3 {
        let grads = grads_of(&params, used, 1.0);
        opt.step(&mut params, &grads);
    }
    // Not even weight decay touches a parameter the loss did not reach, as in PyTorch.
    assert_eq!(params.get(unused).item(), 5.0);
    assert!(params.get(used).item() < 1.0);
}

#[test]
fn clipping_scales_all_gradients_by_one_factor_and_returns_the_old_norm() {
    let mut params = Params::new();
    let a = params.add("a", Tensor::from_vec(vec![0.0], [1]));
    let b = params.add("b", Tensor::from_vec(vec![0.0], [1]));
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let loss = (ctx.param(a).scale(3.0) + ctx.param(b).scale(4.0)).sum(); // gradients 3 and 4
    let mut grads = ctx.param_grads(&tape.backward(loss));
    assert_eq!(clip_grad_norm(&mut grads, 10.0), 5.0); // below the limit: untouched
    assert_eq!(grads.get(a).unwrap().item(), 3.0);
    assert_eq!(clip_grad_norm(&mut grads, 1.0), 5.0);
    let c = 1.0 / (5.0 + 1e-6); // PyTorch's max_norm / (norm + 1e-6)
    assert_relative_eq!(
        grads.get(a).unwrap().item(),
        3.0 * c,
        max_relative = 2.0 * f32::EPSILON
    );
    assert_relative_eq!(
        grads.get(b).unwrap().item(),
        4.0 * c,
        max_relative = 2.0 * f32::EPSILON
    );
    assert_relative_eq!(grads.global_norm(), 1.0, max_relative = 4.0 * f32::EPSILON);
}

#[test]
fn an_optimiser_refuses_a_second_store_until_reset() {
    let mut a = Params::new();
    let ia = a.add("p", Tensor::from_vec(vec![1.0], [1]));
    let mut b = Params::new();
    let ib = b.add("p", Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0], [5]));
    let mut opt = AdamW::new(0.1);
    let ga = grads_of(&a, ia, 1.0);
    opt.step(&mut a, &ga);
    let gb = {
        let tape = Tape::new();
        let ctx = Ctx::eval(&tape, &b);
        ctx.param_grads(&tape.backward(ctx.param(ib).sum()))
    };
    let msg = panic_message(|| opt.clone().step(&mut b, &gb));
    assert!(msg.contains("holds state for a different Params store"), "{msg}");
    let msg = panic_message(|| opt.clone().step(&mut a, &gb));
    assert!(
        msg.contains("gradients come from a pass over a different Params store"),
        "{msg}"
    );
    opt.reset();
    opt.step(&mut b, &gb);
    assert!(params_all_moved(&b, ib, &[1.0, 2.0, 3.0, 4.0, 5.0]));
}

fn params_all_moved(params: &Params, id: ParamId, before: &[f32]) -> bool {
    params.get(id).data().iter().zip(before).all(|(a, b)| a != b)
}

#[test]
fn nesterov_without_momentum_is_refused_as_in_pytorch() {
    let msg = panic_message(|| {
        run(&mut Sgd::new(0.1).nesterov(true), 0.0, 1.0, 1);
    });
    assert!(
        msg.contains("Nesterov momentum needs momentum > 0 and dampening 0"),
        "{msg}"
    );
}

#[test]
fn a_nan_gradient_norm_makes_every_gradient_nan_as_in_pytorch() {
    let mut params = Params::new();
    let a = params.add("a", Tensor::from_vec(vec![0.0], [1]));
    let b = params.add("b", Tensor::from_vec(vec![0.0], [1]));
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let nan = ctx.input(Tensor::from_vec(vec![f32::NAN], [1]));
    let loss = (ctx.param(a) * nan).sum() + ctx.param(b).sum();
    let mut grads = ctx.param_grads(&tape.backward(loss));
    assert!(clip_grad_norm(&mut grads, 1.0).is_nan());
    assert!(grads.get(b).unwrap().item().is_nan());
}
