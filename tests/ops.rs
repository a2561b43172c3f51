//! Every op's backward rule against central finite differences, over random
//! shapes and values, through `gradcheck` (random upstream vectors and
//! random directions, so that no rule can hide behind a sum of outputs).

// `&[x.clone()]` reads more plainly than `std::slice::from_ref(&x)` in a list of checks.
#![allow(clippy::cloned_ref_to_slice_refs)]

mod common;

use common::strategies::*;
use common::{assert_close, assert_gradcheck};
use proptest::prelude::*;
use resgrad::check::{GradcheckOptions, gradcheck, gradcheck_with};
use resgrad::ops::scaled_dot_product_attention;
use resgrad::{Backward, Rng, Tape, Tensor, Var};

proptest! {
    #![proptest_config(common::proptest_config(256, "proptest-regressions/ops.txt"))]

    #[test]
    fn add_sub_and_mul_match_finite_differences((a, b) in tensor_pair(3, 4)) {
        assert_gradcheck(|_t, v| v[0] + v[1], &[a.clone(), b.clone()]);
        assert_gradcheck(|_t, v| v[0] - v[1], &[a.clone(), b.clone()]);
        assert_gradcheck(|_t, v| v[0] * v[1], &[a, b]);
    }

    #[test]
    fn scale_and_add_scalar_match_finite_differences(x in any_tensor(3, 4), c in -3.0f32..3.0) {
        assert_gradcheck(|_t, v| v[0].scale(c), &[x.clone()]);
        assert_gradcheck(|_t, v| v[0].add_scalar(c) * v[0], &[x]);
    }

    #[test]
    fn add_bias_matches_finite_differences(
        (x, b) in dims(3, 4).prop_flat_map(|d| { let c = *d.last().unwrap(); (tensor(d), tensor(vec![c])) })
    ) {
        assert_gradcheck(|_t, v| v[0].add_bias(v[1]), &[x, b]);
    }

    // ANCHOR: matmul_gradcheck
    #[test]
    fn matmul_matches_finite_differences(
        (a, b) in (1usize..=4, 1usize..=4, 1usize..=4)
            .prop_flat_map(|(m, k, n)| (tensor(vec![m, k]), tensor(vec![k, n])))
    ) {
        assert_gradcheck(|_t, v| v[0].matmul(v[1]), &[a, b]);
    }

    #[test]
    fn batched_matmul_matches_finite_differences(
        (a, b) in (1usize..=3, 1usize..=3, 1usize..=3, 1usize..=3, 1usize..=3)
            .prop_flat_map(|(bt, m, k, n, h)| {
                (tensor(vec![bt, h, m, k]), tensor(vec![bt, h, k, n]))
            })
    ) {
        assert_gradcheck(|_t, v| v[0].matmul(v[1]), &[a, b]);
    }

    #[test]
    fn matmul_with_a_shared_right_matrix_matches_finite_differences(
        (a, b) in (1usize..=3, 1usize..=3, 1usize..=3, 1usize..=3)
            .prop_flat_map(|(bt, m, k, n)| (tensor(vec![bt, m, k]), tensor(vec![k, n])))
    ) {
        assert_gradcheck(|_t, v| v[0].matmul(v[1]), &[a, b]);
    }
    // ANCHOR_END: matmul_gradcheck

    #[test]
    fn matmul_by_a_transpose_matches_finite_differences(
        (a, b, shared) in (1usize..=3, 1usize..=3, 1usize..=3, 1usize..=3, any::<bool>())
            .prop_flat_map(|(bt, m, k, n, shared)| {
                let b_dims = if shared { vec![n, k] } else { vec![bt, n, k] };
                (tensor(vec![bt, m, k]), tensor(b_dims), Just(shared))
            })
    ) {
        let _ = shared; // both layouts of B are drawn: one per batch entry, or one shared
        assert_gradcheck(|_t, v| v[0].matmul_t(v[1]), &[a, b]);
    }

    #[test]
    fn linear_matches_finite_differences_with_and_without_a_bias(
        (x, w, b) in (1usize..=2, 1usize..=3, 1usize..=4, 1usize..=4)
            .prop_flat_map(|(bt, t, i, o)| (tensor(vec![bt, t, i]), tensor(vec![o, i]), tensor(vec![o])))
    ) {
        assert_gradcheck(|_t, v| v[0].linear(v[1], Some(v[2])), &[x.clone(), w.clone(), b]);
        assert_gradcheck(|_t, v| v[0].linear(v[1], None), &[x, w]);
    }

    #[test]
    fn fused_linear_relu_is_linear_then_relu_bit_for_bit(
        (x, w, b, dy) in (1usize..=3, 1usize..=20, 1usize..=20)
            .prop_flat_map(|(r, i, o)| (tensor(vec![r, i]), tensor(vec![o, i]), tensor(vec![o]), tensor(vec![r, o])))
    ) {
        // The ReLU kink rules out finite differences here; instead the fused
        // op must equal the two ops it replaces, whose rules are checked
        // above. Both run the same kernels in the same order, so bit for bit.
        let run = |fused: bool| {
            let tape = Tape::new();
            let (xv, wv, bv) = (tape.leaf(x.clone()), tape.leaf(w.clone()), tape.leaf(b.clone()));
            let y = if fused { xv.linear_relu(wv, Some(bv)) } else { xv.linear(wv, Some(bv)).relu() };
            let g = tape.backward_with(y, dy.clone());
            [(*y.value()).clone(), g[xv].clone(), g[wv].clone(), g[bv].clone()]
        };
        prop_assert_eq!(run(true), run(false));
    }

    #[test]
    fn transpose_permute_and_reshape_match_finite_differences(x in dims(4, 3).prop_filter("rank 2+", |d| d.len() >= 2).prop_flat_map(tensor)) {
        assert_gradcheck(|_t, v| v[0].transpose() * v[0].transpose(), &[x.clone()]);
        let rank = x.shape().rank();
        let perm: Vec<usize> = (0..rank).rev().collect();
        assert_gradcheck(|_t, v| v[0].permute(&perm).exp(), &[x.clone()]);
        let n = x.numel();
        assert_gradcheck(|_t, v| v[0].reshape([n]).tanh(), &[x]);
    }

    #[test]
    fn broadcast_to_matches_finite_differences(rows in 1usize..=4, cols in 1usize..=4, x in tensor(vec![4, 1])) {
        let x = Tensor::from_vec(x.data()[..rows].to_vec(), [rows, 1]);
        assert_gradcheck(|_t, v| v[0].broadcast_to([2, rows, cols]), &[x]);
    }

    #[test]
    fn concat_narrow_and_split_match_finite_differences(
        (a, b, axis) in dims(3, 3).prop_flat_map(|d| (Just(d.clone()), 0..d.len()))
            .prop_flat_map(|(d, axis)| { let mut d2 = d.clone(); d2[axis] += 1; (tensor(d), tensor(d2), Just(axis)) })
    ) {
        assert_gradcheck(|_t, v| Var::concat(&[v[0], v[1]], axis), &[a.clone(), b.clone()]);
        let size = b.dims()[axis];
        assert_gradcheck(|_t, v| v[0].narrow(axis, 1, size - 1).exp(), &[b.clone()]);
        assert_gradcheck(|_t, v| { let p = v[0].split(&[1, size - 1], axis); p[1].tanh().sum() * p[0].sum() }, &[b]);
    }

    #[test]
    fn sums_and_means_match_finite_differences(x in any_tensor(3, 4), axis in 0usize..3) {
        let axis = axis % x.shape().rank();
        assert_gradcheck(|_t, v| v[0].sum(), &[x.clone()]);
        assert_gradcheck(|_t, v| v[0].mean(), &[x.clone()]);
        assert_gradcheck(|_t, v| v[0].sum_axis(axis), &[x.clone()]);
        assert_gradcheck(|_t, v| v[0].mean_axis(axis), &[x]);
    }

    // ANCHOR: activation_gradcheck
    // ANCHOR: relu_gradcheck
    #[test]
    fn relu_matches_finite_differences_away_from_its_kink(
        x in dims(3, 4).prop_flat_map(|d| away_from_zero(d, 0.05))
    ) {
        assert_gradcheck(|_t, v| v[0].relu(), &[x]);
    }
    // ANCHOR_END: relu_gradcheck

    // ANCHOR: smooth_activations_gradcheck
    #[test]
    fn smooth_activations_match_finite_differences(x in any_tensor(3, 4)) {
        assert_gradcheck(|_t, v| v[0].gelu(), &[x.clone()]);
        assert_gradcheck(|_t, v| v[0].gelu_tanh(), &[x.clone()]);
        assert_gradcheck(|_t, v| v[0].tanh(), &[x.clone()]);
        assert_gradcheck(|_t, v| v[0].exp(), &[x]);
    }
    // ANCHOR_END: smooth_activations_gradcheck
    // ANCHOR_END: activation_gradcheck

    #[test]
    fn log_matches_finite_differences_on_positive_inputs(x in dims(3, 4).prop_flat_map(|d| tensor_in(d, 0.5, 3.0))) {
        assert_gradcheck(|_t, v| v[0].log(), &[x]);
    }

    // ANCHOR: softmax_gradcheck
    #[test]
    fn softmax_and_log_softmax_match_finite_differences(
        x in dims(3, 5).prop_flat_map(|d| tensor_in(d, -3.0, 3.0))
    ) {
        assert_gradcheck(|_t, v| v[0].softmax(), &[x.clone()]);
        assert_gradcheck(|_t, v| v[0].log_softmax(), &[x]);
    }
    // ANCHOR_END: softmax_gradcheck

    // ANCHOR: layer_norm_gradcheck
    #[test]
    fn layer_norm_matches_finite_differences_with_and_without_affine(
        (x, g, b) in (1usize..=4, 2usize..=5).prop_flat_map(|(r, c)| {
            (rows_with_spread(r, c), tensor_in(vec![c], 0.5, 1.5), tensor(vec![c]))
        })
    ) {
        assert_gradcheck(|_t, v| v[0].layer_norm(None, None, 1e-5), &[x.clone()]);
        assert_gradcheck(
            |_t, v| v[0].layer_norm(Some(v[1]), None, 1e-5),
            &[x.clone(), g.clone()],
        );
        assert_gradcheck(
            |_t, v| v[0].layer_norm(None, Some(v[1]), 1e-5),
            &[x.clone(), b.clone()],
        );
        assert_gradcheck(
            |_t, v| v[0].layer_norm(Some(v[1]), Some(v[2]), 1e-5),
            &[x, g, b],
        );
    }
    // ANCHOR_END: layer_norm_gradcheck

    // ANCHOR: attention_gradcheck
    #[test]
    fn causal_mask_then_softmax_matches_finite_differences(
        x in (1usize..=2, 1usize..=4).prop_flat_map(|(b, t)| tensor(vec![b, t, t]))
    ) {
        assert_gradcheck(|_t, v| v[0].causal_mask().softmax(), &[x]);
    }

    #[test]
    fn attention_matches_finite_differences_with_and_without_a_causal_mask(
        (q, k, v) in attention_dims().prop_flat_map(|(b, t, d)| {
            (tensor(vec![b, t, d]), tensor(vec![b, t, d]), tensor(vec![b, t, d]))
        })
    ) {
        for causal in [false, true] {
            assert_gradcheck(
                |_t, x| scaled_dot_product_attention(x[0], x[1], x[2], causal),
                &[q.clone(), k.clone(), v.clone()],
            );
        }
    }
    // ANCHOR_END: attention_gradcheck

    #[test]
    fn dropout_with_a_fixed_mask_matches_finite_differences(x in any_tensor(3, 4), seed in any::<u64>(), p in 0.0f32..0.9) {
        // Each evaluation draws the mask from the same seed, so the function
        // being differentiated is fixed: x * m / (1 - p).
        assert_gradcheck(|_t, v| v[0].dropout(p, &mut Rng::new(seed), true), &[x]);
    }

    #[test]
    fn losses_match_finite_differences(
        (x, y, targets) in (1usize..=4, 2usize..=5).prop_flat_map(|(n, c)| (tensor(vec![n, c]), tensor(vec![n, c]), prop::collection::vec(0..c, n)))
    ) {
        assert_gradcheck(|_t, v| v[0].mse_loss(v[1]), &[x.clone(), y]);
        assert_gradcheck(|_t, v| v[0].cross_entropy(&targets), &[x]);
    }
}

#[test]
fn log_softmax_is_the_log_of_softmax() {
    let x = Tensor::normal([3, 6], 0.0, 2.0, &mut Rng::new(11));
    let tape = Tape::new();
    let v = tape.leaf(x);
    let direct = v.log_softmax().value();
    let composed = v.softmax().log().value();
    // Both round a handful of times near values of size ~2: 1e-6 covers it.
    assert_close(&direct, &composed, 0.0, 1e-6, "log_softmax vs log(softmax)");
}

// ANCHOR: cross_entropy_is_log_softmax
#[test]
fn cross_entropy_is_the_mean_negative_log_softmax_of_the_target() {
    let x = Tensor::normal([4, 5], 0.0, 2.0, &mut Rng::new(12));
    let targets = [0, 4, 2, 2];
    let tape = Tape::new();
    let v = tape.leaf(x);
    let ls = v.log_softmax().value();
    let expected =
        -targets.iter().enumerate().map(|(r, &t)| ls.get(&[r, t])).sum::<f32>() / 4.0;
    let got = v.cross_entropy(&targets).value().item();
    // Same values, different order of f32 operations: a few ulps.
    approx::assert_relative_eq!(got, expected, max_relative = 8.0 * f32::EPSILON);
}
// ANCHOR_END: cross_entropy_is_log_softmax

// ANCHOR: layer_norm_twin
#[test]
fn fused_layer_norm_agrees_with_its_twin_composed_from_primitive_ops() {
    let mut rng = Rng::new(13);
    let (rows, c, eps) = (5, 7, 1e-5);
    let x = Tensor::normal([rows, c], 0.5, 2.0, &mut rng);
    let g = Tensor::normal([c], 1.0, 0.2, &mut rng);
    let b = Tensor::normal([c], 0.0, 0.2, &mut rng);
    let dy = Tensor::normal([rows, c], 0.0, 1.0, &mut rng);

    let run = |fused: bool| {
        let tape = Tape::new();
        let (xv, gv, bv) =
            (tape.leaf(x.clone()), tape.leaf(g.clone()), tape.leaf(b.clone()));
        let y = if fused {
            xv.layer_norm(Some(gv), Some(bv), eps)
        } else {
            // μ and σ² per row, broadcast back over the row; r = exp(-ln(σ² + ε) / 2).
            let mu = xv.mean_axis(1).reshape([rows, 1]).broadcast_to([rows, c]);
            let xc = xv - mu;
            let var = (xc * xc).mean_axis(1).reshape([rows, 1]);
            let r = var.add_scalar(eps).log().scale(-0.5).exp().broadcast_to([rows, c]);
            (xc * r) * gv.broadcast_to([rows, c]) + bv.broadcast_to([rows, c])
        };
        let grads = tape.backward_with(y, dy.clone());
        ((*y.value()).clone(), grads[xv].clone(), grads[gv].clone(), grads[bv].clone())
    };
    let (fused, composed) = (run(true), run(false));
    // Different orders of f32 operations on values of size ~1: a few ulps,
    // and exp(ln) adds about 1e-7 relative; 2e-5 absolute covers it with room.
    assert_close(&fused.0, &composed.0, 0.0, 2e-5, "layer_norm value");
    assert_close(&fused.1, &composed.1, 0.0, 2e-5, "layer_norm dx");
    assert_close(&fused.2, &composed.2, 0.0, 2e-5, "layer_norm dgain");
    assert_close(&fused.3, &composed.3, 0.0, 2e-5, "layer_norm dshift");
}
// ANCHOR_END: layer_norm_twin

// ANCHOR: wrong_softmax_rule
/// A softmax whose backward rule is wrong: it returns zeros.
struct SoftmaxZeroBackward;

impl Backward for SoftmaxZeroBackward {
    fn name(&self) -> &'static str {
        "softmax_zero_backward"
    }
    fn backward(&self, x: &[&Tensor], _y: &Tensor, _dy: &Tensor) -> Vec<Tensor> {
        vec![Tensor::zeros(x[0].shape())]
    }
}

fn wrong_softmax<'t>(x: Var<'t>) -> Var<'t> {
    let y = (*x.softmax().value()).clone();
    x.tape().push(y, &[x], SoftmaxZeroBackward)
}

#[test]
fn a_wrong_softmax_rule_passes_the_sum_of_outputs_check_but_fails_gradcheck() {
    let x = Tensor::normal([2, 4], 0.0, 1.0, &mut Rng::new(14));
    // The naive check: gradient of sum(softmax(x)). Rows sum to 1 whatever
    // x is, so the true gradient is 0, and the broken rule's zeros "agree".
    let tape = Tape::new();
    let v = tape.leaf(x.clone());
    let naive = tape.backward(wrong_softmax(v).sum());
    assert!(naive[v].data().iter().all(|&g| g == 0.0));
    let numeric = resgrad::check::numeric_jacobian(|_t, v| v.softmax().sum(), &x, 1e-2);
    assert!(numeric.data().iter().all(|g| g.abs() < 1e-5), "{numeric}");

    // gradcheck's random upstream vector exposes it, and says where.
    let err = gradcheck(|_t, v| wrong_softmax(v[0]), &[x.clone()]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("gradcheck failed for `softmax_zero_backward`"), "{msg}");
    assert!(msg.contains("worst element: input 0 at ["), "{msg}");
    let w = err.worst_element.expect("a failure locates its worst element");
    assert_eq!(w.received, 0.0);
    assert!(w.expected.abs() > 1e-3, "{msg}");
    // The correct rule passes on the same input.
    assert!(gradcheck(|_t, v| v[0].softmax(), &[x]).is_ok());
}
// ANCHOR_END: wrong_softmax_rule

#[test]
fn gradcheck_reports_its_margin() {
    let x = Tensor::normal([3, 4], 0.0, 1.0, &mut Rng::new(15));
    let opts = GradcheckOptions { probes: 8, ..GradcheckOptions::default() };
    let report =
        gradcheck_with(|_t, v| v[0].tanh().matmul(v[0].transpose()), &[x], &opts)
            .unwrap();
    assert_eq!(report.op, "matmul");
    // A correct rule sits far inside the tolerance, not at its edge.
    assert!(report.worst_ratio < 0.2, "worst ratio {}", report.worst_ratio);
}

#[test]
fn gradcheck_is_not_fooled_by_rounding_in_large_inputs() {
    // Rows near 1000: the row mean rounds at about 6e-5, which the finite
    // differences see as noise. The check must still pass for a correct
    // rule, on every seed.
    for seed in 0..50 {
        let x = Tensor::normal([4, 16], 1000.0, 1.0, &mut Rng::new(seed));
        assert_gradcheck(|_t, v| v[0].layer_norm(None, None, 1e-5), &[x]);
    }
}

// ANCHOR: mean_quotient_error
/// The mean of |q − exp'(x)| over 200 points in [0.5, 1.5], where q is the
/// forward quotient (f(x + h) − f(x)) / h or the central one
/// (f(x + h) − f(x − h)) / 2h of f = exp, evaluated in f32 as the engine
/// does, or in f64, where rounding is negligible at these steps.
fn mean_quotient_error(h: f64, central: bool, in_f32: bool) -> f64 {
    let f = |x: f64| if in_f32 { (x as f32).exp() as f64 } else { x.exp() };
    let xs = Tensor::uniform([200], 0.5, 1.5, &mut Rng::new(21));
    let total: f64 = xs
        .data()
        .iter()
        .map(|&x| {
            let x = x as f64;
            let q = if central {
                (f(x + h) - f(x - h)) / (2.0 * h)
            } else {
                (f(x + h) - f(x)) / h
            };
            (q - x.exp()).abs()
        })
        .sum();
    total / 200.0
}
// ANCHOR_END: mean_quotient_error

// ANCHOR: step_size
#[test]
fn central_differences_are_second_order_and_a_step_near_1e_2_suits_f32() {
    // Truncation alone (f64): a step ten times smaller makes the forward error
    // 10 times smaller (O(h)) and the central error 100 times (O(h²)). The
    // ranges allow a factor of 2 either way for the higher Taylor terms.
    let drop = |central| {
        mean_quotient_error(1e-1, central, false)
            / mean_quotient_error(1e-2, central, false)
    };
    assert!((5.0..20.0).contains(&drop(false)), "forward error fell by {}", drop(false));
    assert!((50.0..200.0).contains(&drop(true)), "central error fell by {}", drop(true));

    // In f32, rounding (about ε|f|/h with ε = 2⁻²³) grows as h shrinks, so
    // h = 1e-2 beats both a larger step, where truncation dominates, and a
    // smaller one, where rounding does. Measured margins are about 100 and
    // 13; the asserted 10 and 5 leave room.
    let central = |h| mean_quotient_error(h, true, true);
    assert!(
        central(1e-2) < central(1e-1) / 10.0,
        "{} vs {}",
        central(1e-2),
        central(1e-1)
    );
    assert!(
        central(1e-2) < central(1e-4) / 5.0,
        "{} vs {}",
        central(1e-2),
        central(1e-4)
    );

    // No step rescues the forward quotient in f32: at its best it is still
    // several times worse than the central one at 1e-2 (measured: 17 times).
    let steps = [1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5];
    let best_forward = steps
        .map(|h| mean_quotient_error(h, false, true))
        .into_iter()
        .fold(f64::INFINITY, f64::min);
    assert!(best_forward > 5.0 * central(1e-2), "{best_forward} vs {}", central(1e-2));
}
// ANCHOR_END: step_size

// ANCHOR: wrong_rule_cannot_widen
/// A softmax whose backward rule returns a million times the right answer.
struct SoftmaxHugeBackward;

impl Backward for SoftmaxHugeBackward {
    fn name(&self) -> &'static str {
        "softmax_huge_backward"
    }
    fn backward(&self, _x: &[&Tensor], y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let s: f32 = y.data().iter().zip(dy.data()).map(|(y, d)| y * d).sum();
        vec![y.zip_map(dy, |y, d| 1e6 * y * (d - s))]
    }
}

#[test]
fn a_wrong_rule_cannot_widen_its_own_tolerance() {
    // The tolerance is built from the function's values only, so a rule that
    // returns huge gradients is caught like any other.
    let x = Tensor::normal([1, 5], 0.0, 1.0, &mut Rng::new(16));
    let err = gradcheck(
        |_t, v| {
            let y = (*v[0].softmax().value()).clone();
            v[0].tape().push(y, &[v[0]], SoftmaxHugeBackward)
        },
        &[x],
    )
    .unwrap_err();
    assert!(err.received.abs() > 1e3 * err.expected.abs(), "{err}");
}
// ANCHOR_END: wrong_rule_cannot_widen

#[test]
fn gradcheck_skips_outputs_that_are_minus_infinity_under_a_mask() {
    let x = Tensor::normal([3, 3], 0.0, 1.0, &mut Rng::new(17));
    assert_gradcheck(|_t, v| v[0].causal_mask(), &[x]);
}

#[test]
fn log_softmax_keeps_its_precision_for_huge_logits() {
    // ln softmax([30000, 29999, 29998]) = [0, -1, -2] - ln(1 + e^-1 + e^-2)
    let tape = Tape::new();
    let x = tape.leaf(Tensor::from_vec(vec![30000.0, 29999.0, 29998.0], [1, 3]));
    let y = x.log_softmax().value();
    let lse = (1.0f64 + (-1.0f64).exp() + (-2.0f64).exp()).ln();
    for (j, &v) in y.data().iter().enumerate() {
        let expected = (-(j as f64) - lse) as f32;
        // The same value computed at logits near 0: a few ulps.
        approx::assert_relative_eq!(v, expected, max_relative = 4.0 * f32::EPSILON);
    }
}

#[test]
fn ops_on_empty_axes_give_empty_or_zero_results() {
    let tape = Tape::new();
    let a = tape.leaf(Tensor::zeros([2, 0]));
    let b = tape.leaf(Tensor::zeros([0, 3]));
    let y = a.matmul(b); // an empty sum: zeros
    assert_eq!(*y.value(), Tensor::zeros([2, 3]));
    let g = tape.backward(y.sum());
    assert_eq!(g[a].dims(), &[2, 0]);
    assert_eq!(g[b].dims(), &[0, 3]);
    let batched =
        tape.leaf(Tensor::zeros([3, 2, 0])).matmul(tape.leaf(Tensor::zeros([3, 0, 4])));
    assert_eq!(*batched.value(), Tensor::zeros([3, 2, 4]));
    let rows = tape.leaf(Tensor::zeros([0, 4])).add_bias(tape.leaf(Tensor::ones([4])));
    assert_eq!(rows.shape().dims(), &[0, 4]);
}
