//! The book's practice problems, answered by the engine: every number a
//! solution works out by hand is computed here with the tape and compared.
//!
//! Where the arithmetic is exact in f32 (sums and products of small dyadic
//! numbers), the comparison is exact; elsewhere each test says why its
//! tolerance is what it is.

use resgrad::nn::{Ctx, Linear, Module, Params};
use resgrad::{Rng, Tape, Tensor, Var};

// ANCHOR: relu_skip_gradient
/// y = x + relu(x) with upstream dy: the skip hands back dy, the branch adds
/// dy where x > 0 (at x = 0 ReLU's subgradient is 0, as in PyTorch), so
/// dx = dy · (1 + 1[x > 0]). Every product and sum here is exact in f32.
#[test]
fn the_gradient_of_x_plus_relu_x_is_dy_plus_dy_where_x_is_positive() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::from_vec(vec![3.0, -0.5, 0.0, 1.25], [4]));
    let dy = Tensor::from_vec(vec![0.5, 2.0, -1.0, 4.0], [4]);
    let y = x + x.relu();
    let grads = tape.backward_with(y, dy);
    assert_eq!(grads[x].data(), &[1.0, 2.0, -1.0, 8.0]);
}
// ANCHOR_END: relu_skip_gradient

// ANCHOR: scalar_plain_vs_residual
/// F(x) = a·x, L = (y − t)² / 2 at a = 0.1, x = 2, t = 1:
/// plain y = F(x) gives dL/dx = (a·x − t)·a = −0.08,
/// residual y = x + F(x) gives ((1 + a)·x − t)·(1 + a) = 1.32.
#[test]
fn at_a_small_branch_weight_the_residual_gradient_is_the_larger_one() {
    let grad = |residual: bool| {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::scalar(2.0));
        let f = x.scale(0.1); // F(x) = a·x with a = 0.1
        let y = if residual { x + f } else { f };
        let e = y - tape.constant(Tensor::scalar(1.0));
        tape.backward((e * e).scale(0.5))[x].item()
    };
    // 0.1 is not exact in f32, and a handful of operations each round once:
    // 4 ulps of a result below 2 is under 1e-6.
    let close = |a: f32, b: f32| (a - b).abs() <= 4.0 * f32::EPSILON * b.abs().max(1.0);
    assert!(close(grad(false), -0.08), "plain {}", grad(false));
    assert!(close(grad(true), 1.32), "residual {}", grad(true));
}
// ANCHOR_END: scalar_plain_vs_residual

// ANCHOR: ten_layer_gradients
/// Ten scalar layers whose branch is F(h) = c·h. The gradient reaching the
/// input is c^10 without skips and (1 + c)^10 with them.
#[test]
fn ten_scalar_layers_multiply_the_gradient_by_c_or_by_one_plus_c_ten_times() {
    let input_grad = |c: f32, residual: bool| {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::scalar(1.0));
        let mut h = x;
        for _ in 0..10 {
            h = if residual { h + h.scale(c) } else { h.scale(c) };
        }
        tape.backward(h)[x].item()
    };
    // Powers of 0.5 and 1.5 = 3/2 are exact in f32 (3^10 = 59049 < 2^24).
    assert_eq!(input_grad(0.5, false), 0.5f32.powi(10)); // 1/1024
    assert_eq!(input_grad(0.5, true), 57.665_04); // 59049/1024 = 57.6650390625
    // At c = −0.5 the branch cancels half the skip.
    assert_eq!(input_grad(-0.5, true), 0.5f32.powi(10));
    // c = 0.05 is not exact: ten steps of one multiply and one add each, so
    // about 20 roundings of 6e-8 relative, 1.2e-6 in all; 1e-5 is above that.
    let scaled = input_grad(0.05, true) as f64;
    assert!((scaled / 1.05f64.powi(10) - 1.0).abs() < 1e-5, "{scaled}");
}
// ANCHOR_END: ten_layer_gradients

// ANCHOR: concat_widths
/// k = 4 blocks on a stream of width d = 8, each branch one Linear that
/// reads the whole stream and writes d features. Concatenation: width
/// d(k + 1) = 40 and Σ_j (d·j·d + d) = 672 parameters; addition: width 8
/// and k(d² + d) = 288.
#[test]
fn four_concatenations_widen_an_8_wide_stream_to_40_with_672_parameters() {
    let (d, k) = (8, 4);
    for (concat, want_width, want_params) in [(true, 40, 672), (false, 8, 288)] {
        let mut params = Params::new();
        let mut rng = Rng::new(5);
        let mut width = d;
        let mut branches = Vec::new();
        for j in 0..k {
            branches.push(Linear::new(
                &mut params.scope(&format!("blocks.{j}")),
                width,
                d,
                true,
                &mut rng,
            ));
            if concat {
                width += d;
            }
        }
        let tape = Tape::new();
        let ctx = Ctx::eval(&tape, &params);
        let x = ctx.input(Tensor::ones([3, d]));
        let y = branches.iter().fold(x, |h, f| {
            let f = f.forward(&ctx, h);
            if concat { Var::concat(&[h, f], 1) } else { h + f } // [h; F(h)] or h + F(h)
        });
        assert_eq!(y.shape().dims(), &[3, want_width], "concat: {concat}");
        assert_eq!(params.numel(), want_params, "concat: {concat}");
    }
}
// ANCHOR_END: concat_widths

// ANCHOR: layer_norm_row_sum
/// LayerNorm ignores a constant added to a row, so its input gradient is
/// orthogonal to (1, …, 1): every row of dx sums to zero, with or without
/// gain and shift.
#[test]
fn every_row_of_layer_norms_input_gradient_sums_to_zero() {
    let mut rng = Rng::new(17);
    let tape = Tape::new();
    let x = tape.leaf(Tensor::normal([5, 8], 1.0, 2.0, &mut rng));
    let gain = tape.leaf(Tensor::normal([8], 1.0, 0.5, &mut rng));
    let shift = tape.leaf(Tensor::normal([8], 0.0, 0.5, &mut rng));
    let dy = Tensor::normal([5, 8], 0.0, 1.0, &mut rng);
    let grads = tape.backward_with(x.layer_norm(Some(gain), Some(shift), 1e-5), dy);
    for row in grads[x].data().chunks_exact(8) {
        let (sum, size): (f32, f32) =
            (row.iter().sum(), row.iter().map(|v| v.abs()).sum());
        // Each entry carries a few roundings (about 1e-7 of itself) and the
        // sum adds eight more, so the sum is 0 to within about 1e-6 of the
        // entries' total size; 1e-5 leaves a margin, while a rule that forgot
        // the mean term would be off by the size of the entries themselves.
        assert!(sum.abs() <= 1e-5 * size, "row sums to {sum}, entries total {size}");
    }
}
// ANCHOR_END: layer_norm_row_sum

// ANCHOR: softmax_three
/// softmax([0, ln 2, ln 3]) = [1/6, 1/3, 1/2]. With dy = [6, 0, −6],
/// s = Σ dy_j y_j = −2 and dx = y ⊙ (dy − s) = [4/3, 2/3, −2].
#[test]
fn softmax_backward_on_a_three_vector_matches_the_hand_computation() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::from_vec(vec![0.0, 2f32.ln(), 3f32.ln()], [3]));
    let y = x.softmax();
    let grads = tape.backward_with(y, Tensor::from_vec(vec![6.0, 0.0, -6.0], [3]));
    // ln and exp in f32 are each within an ulp or two, and the values are
    // at most 6 in size: 1e-6 absolute is a few ulps of the largest.
    for (got, want) in y.value().data().iter().zip([1.0 / 6.0, 1.0 / 3.0, 0.5]) {
        assert!((got - want).abs() < 1e-6, "y: {got} vs {want}");
    }
    for (got, want) in grads[x].data().iter().zip([4.0 / 3.0, 2.0 / 3.0, -2.0]) {
        assert!((got - want).abs() < 1e-6, "dx: {got} vs {want}");
    }
}
// ANCHOR_END: softmax_three
