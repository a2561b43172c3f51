//! Two choices around the skip, read off the gradient it carries: how the
//! branch is merged back (addition or concatenation), and where the
//! LayerNorm sits (pre-norm or post-norm).

use resgrad::nn::{
    Ctx, EncoderLayerConfig, Linear, Module, Params, ResidualOptions, TransformerEncoder,
};
use resgrad::{Rng, Tape, Tensor, Var};

// ANCHOR: merge_case
/// Width of `x`, and outputs of the layer after the merge.
const W: usize = 4;
const M: usize = 5;

/// The branch `F(x) = x W_Fᵀ`; the layer after `x + F(x)`; the layer after
/// `[x, F(x)]`, with its columns that read `x` zeroed; an input `x` `[3, W]`
/// and the gradient `dz` `[3, M]` that arrives from above the next layer.
fn merge_case() -> (Params, [Linear; 3], Tensor, Tensor) {
    let mut rng = Rng::new(40);
    let mut params = Params::new();
    let branch = Linear::new(&mut params.scope("f"), W, W, false, &mut rng);
    let next_add = Linear::new(&mut params.scope("next_add"), W, M, true, &mut rng);
    let next_cat = Linear::new(&mut params.scope("next_cat"), 2 * W, M, true, &mut rng);
    for row in params.get_mut(next_cat.weight).data_mut().chunks_exact_mut(2 * W) {
        row[..W].fill(0.0); // weight is [out, in]: the first W columns read x
    }
    let x = Tensor::normal([3, W], 0.0, 1.0, &mut rng);
    let dz = Tensor::normal([3, M], 0.0, 1.0, &mut rng);
    (params, [branch, next_add, next_cat], x, dz)
}
// ANCHOR_END: merge_case

// ANCHOR: merge_gradients
/// After `x + F(x)` the skip and the branch receive one and the same
/// gradient: the add's backward clones `dy` into both of its inputs.
#[test]
fn addition_gives_the_skip_and_the_branch_the_same_gradient() {
    let (params, [branch, next_add, _], x, dz) = merge_case();
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let xv = tape.leaf(x);
    let f = branch.forward(&ctx, xv);
    let s = xv + f; // [3, W]
    let g = tape.backward_with(next_add.forward(&ctx, s), dz);
    assert_eq!(g[f], g[s], "the branch's output and the skip get the same dy");
    assert!(g[s].norm() > 0.0);
}
// ANCHOR_END: merge_gradients

// ANCHOR: concat_gradients
/// After `[x, F(x)]` each receives its own slice, made by the next layer's
/// own weights for it: zero the next layer's columns that read `x`, and the
/// skip hands `x` nothing at all.
#[test]
fn concatenation_gives_the_skip_what_the_next_layer_decides() {
    let (params, [branch, _, next_cat], x, dz) = merge_case();
    // The concat's backward splits dy into x's and F(x)'s columns.
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let xv = tape.leaf(x);
    let f = branch.forward(&ctx, xv);
    let y = Var::concat(&[xv, f], 1); // [3, 2W]
    let g = tape.backward_with(next_cat.forward(&ctx, y), dz);
    let rows = g[y].data().chunks_exact(2 * W);
    let to_skip: Vec<f32> = rows.clone().flat_map(|r| r[..W].to_vec()).collect();
    let to_branch: Vec<f32> = rows.flat_map(|r| r[W..].to_vec()).collect();
    assert!(
        to_skip.iter().all(|&v| v == 0.0),
        "x's columns are zero, so is x's slice: {to_skip:?}"
    );
    assert_eq!(
        to_branch,
        g[f].data(),
        "F(x)'s slice is exactly what the branch receives"
    );
    assert!(g[f].norm() > 0.0);
    // So all of x's gradient is what came back through the branch: dx = df W_F.
    // (The same four-term dot products as the Linear's backward, perhaps
    // summed in another order: a few f32 roundings on values of order 1.)
    let w_f = ctx.param(branch.weight);
    let through_branch = tape.leaf(g[f].clone()).matmul(w_f).value();
    assert!(
        through_branch.max_abs_diff(&g[xv]) <= 1e-6,
        "x gets nothing but the branch's share"
    );
}
// ANCHOR_END: concat_gradients

/// `layers` zero-initialised encoder layers (every branch outputs exactly
/// 0), pre-norm or post-norm, with no final norm: the input gradient of
/// `Σ dy ⊙ y` for an input `x` `[2, 3, 8]`.
fn input_gradient(norm_first: bool, layers: usize, x: &Tensor, dy: &Tensor) -> Tensor {
    let mut rng = Rng::new(41);
    let mut params = Params::new();
    let zero = ResidualOptions { zero_init: true, ..ResidualOptions::default() };
    let config = EncoderLayerConfig::new(8, 2)
        .dim_feedforward(16)
        .dropout(0.0)
        .batch_first(true)
        .norm_first(norm_first)
        .residual(zero);
    let encoder = TransformerEncoder::new(
        &mut params.scope("encoder"),
        config,
        layers,
        false,
        &mut rng,
    );
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let xv = tape.leaf(x.clone());
    let g = tape.backward_with(encoder.forward(&ctx, xv), dy.clone());
    g[xv].clone()
}

// ANCHOR: norm_placement_gradients
/// With every branch at zero, only the stream's own path is left. In a
/// pre-norm stack that path is additions only, so `dy` arrives at the input
/// unchanged, bit for bit, through 12 layers. In a post-norm stack it passes
/// a LayerNorm in every sublayer, whose backward removes each row's mean
/// and its component along the normalised input, and divides by the row's
/// standard deviation.
#[test]
fn with_zero_branches_pre_norm_passes_dy_unchanged_and_post_norm_through_norms() {
    let mut rng = Rng::new(42);
    // Rows with mean 1 and standard deviation 3, so the norm's effect shows.
    let x = Tensor::normal([2, 3, 8], 1.0, 3.0, &mut rng);
    let dy = Tensor::normal([2, 3, 8], 0.0, 1.0, &mut rng);

    let pre = input_gradient(true, 12, &x, &dy);
    assert_eq!(pre, dy, "pre-norm: the identity path alone, dx = dy");

    let post = input_gradient(false, 12, &x, &dy);
    for ((dx, dy), x) in post
        .data()
        .chunks_exact(8)
        .zip(dy.data().chunks_exact(8))
        .zip(x.data().chunks_exact(8))
    {
        check_post_norm_row(dx, dy, x);
    }
}
// ANCHOR_END: norm_placement_gradients

// ANCHOR: post_norm_row
/// One row of the post-norm input gradient `dx`, against the row of `dy` it
/// came from and the input row `x`: no mean, no component along `x − mean`,
/// and a smaller norm than `dy`'s.
fn check_post_norm_row(dx: &[f32], dy: &[f32], x: &[f32]) {
    let dot = |a: &[f32], b: &[f32]| {
        a.iter().zip(b).map(|(&u, &v)| u as f64 * v as f64).sum::<f64>()
    };
    let mean = x.iter().sum::<f32>() / 8.0;
    let centred: Vec<f32> = x.iter().map(|v| v - mean).collect();
    let ones = [1.0f32; 8];
    // Tolerance: the entries of dx are about 0.3 and each of the 24
    // LayerNorm backwards rounds in f32, which leaves these projections
    // at a few times 1e-8 to 1e-7 when measured. The bounds, 1e-5 (and
    // 3e-5 against x − mean, whose entries are about 3), are well above
    // that and still five orders of magnitude below dy's own
    // projections, which are of order 1.
    assert!(
        dot(dx, &ones).abs() < 1e-5,
        "post-norm removes the mean of dy: {}",
        dot(dx, &ones)
    );
    assert!(
        dot(dx, &centred).abs() < 1e-5 * 3.0,
        "and its component along x − mean: {}",
        dot(dx, &centred)
    );
    assert!(
        dot(dy, &ones).abs() > 1e-2 || dot(dy, &centred).abs() > 1e-2,
        "dy itself has both"
    );
    // ...and divides by the row's standard deviation, about 3.
    assert!(
        dot(dx, dx).sqrt() < dot(dy, dy).sqrt() / 2.0,
        "|dx| {} vs |dy| {}",
        dot(dx, dx),
        dot(dy, dy)
    );
}
// ANCHOR_END: post_norm_row
