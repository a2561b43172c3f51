//! Two choices around the skip, read off the gradient it carries: how the
//! branch is merged back (addition or concatenation), and where the
//! LayerNorm sits (pre-norm or post-norm).

use resgrad::nn::{
    Ctx, EncoderLayerConfig, Linear, Module, Params, ResidualOptions, TransformerEncoder,
};
use resgrad::{Rng, Tape, Tensor, Var};

// ANCHOR: merge_gradients
/// After `x + F(x)` the skip and the branch receive one and the same
/// gradient. After `[x, F(x)]` each receives its own slice, made by the
/// next layer's own weights for it: zero the next layer's columns that read
/// `x`, and the skip hands `x` nothing at all.
#[test]
fn addition_gives_the_skip_the_branchs_gradient_and_concatenation_gives_it_what_the_next_layer_decides()
 {
    let (n, w, m) = (3, 4, 5); // rows, width of x, outputs of the next layer
    let mut rng = Rng::new(40);
    let mut params = Params::new();
    let branch = Linear::new(&mut params.scope("f"), w, w, false, &mut rng); // F(x) = x W_Fᵀ
    let next_add = Linear::new(&mut params.scope("next_add"), w, m, true, &mut rng); // reads x + F(x)
    let next_cat = Linear::new(&mut params.scope("next_cat"), 2 * w, m, true, &mut rng); // reads [x, F(x)]
    for row in params.get_mut(next_cat.weight).data_mut().chunks_exact_mut(2 * w) {
        row[..w].fill(0.0); // weight is [out, in]: the first w columns read x
    }
    let x = Tensor::normal([n, w], 0.0, 1.0, &mut rng);
    let dz = Tensor::normal([n, m], 0.0, 1.0, &mut rng);

    // Addition: the add's backward clones dy into both of its inputs.
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let xv = tape.leaf(x.clone());
    let f = branch.forward(&ctx, xv);
    let s = xv + f; // [n, w]
    let g = tape.backward_with(next_add.forward(&ctx, s), dz.clone());
    assert_eq!(g[f], g[s], "the branch's output and the skip get the same dy");
    assert!(g[s].norm() > 0.0);

    // Concatenation: the concat's backward splits dy into x's and F(x)'s columns.
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let xv = tape.leaf(x);
    let f = branch.forward(&ctx, xv);
    let y = Var::concat(&[xv, f], 1); // [n, 2w]
    let g = tape.backward_with(next_cat.forward(&ctx, y), dz);
    let (to_skip, to_branch): (Vec<f32>, Vec<f32>) = {
        let rows = g[y].data().chunks_exact(2 * w);
        (
            rows.clone().flat_map(|r| r[..w].to_vec()).collect(),
            rows.flat_map(|r| r[w..].to_vec()).collect(),
        )
    };
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
    let through_branch = tape.leaf(g[f].clone()).matmul(ctx.param(branch.weight)).value();
    assert!(
        through_branch.max_abs_diff(&g[xv]) <= 1e-6,
        "x gets nothing but the branch's share"
    );
}
// ANCHOR_END: merge_gradients

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
fn with_zero_branches_pre_norm_passes_dy_to_the_input_unchanged_and_post_norm_passes_it_through_layer_norms()
 {
    let mut rng = Rng::new(42);
    // Rows with mean 1 and standard deviation 3, so the norm's effect shows.
    let x = Tensor::normal([2, 3, 8], 1.0, 3.0, &mut rng);
    let dy = Tensor::normal([2, 3, 8], 0.0, 1.0, &mut rng);

    let pre = input_gradient(true, 12, &x, &dy);
    assert_eq!(pre, dy, "pre-norm: the identity path alone, dx = dy");

    let post = input_gradient(false, 12, &x, &dy);
    let dot = |a: &[f32], b: &[f32]| {
        a.iter().zip(b).map(|(&u, &v)| u as f64 * v as f64).sum::<f64>()
    };
    for ((dx, dy), x) in post
        .data()
        .chunks_exact(8)
        .zip(dy.data().chunks_exact(8))
        .zip(x.data().chunks_exact(8))
    {
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
}
// ANCHOR_END: norm_placement_gradients
