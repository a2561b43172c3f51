//! Parity with PyTorch: every layer's output and every gradient, against
//! fixtures written by `tools/make_fixtures.py` (PyTorch computing in f64
//! from f32 inputs and weights, stored as f32). No Python is needed here.
//!
//! Tolerances, as the project sets them: forward values within 1e-5
//! absolute or 1e-4 relative; gradients within 1e-4 (absolute, or relative
//! for entries above 1). resgrad computes in f32, so a few ulps of rounding
//! per operation, accumulated over a layer, is what is left; the printed
//! maxima show how far inside the tolerance each comparison lands.
//!
//! `cargo test --test parity -- --nocapture` prints every difference.

mod common;

use common::fixtures::Fixture;
use resgrad::nn::*;
use resgrad::optim::{AdamW, Optimizer};
use resgrad::{Rng, Tape, Tensor, Var};

// ANCHOR: compare
#[derive(Clone, Copy)]
enum Kind {
    Forward,
    Gradient,
    /// Within 1e-8 absolute: for AdamW, which runs in f32 on both sides with
    /// the same order of operations (`dtype: float32`), on weights of size
    /// about 0.5 (an ulp there is 6e-8). What is left is the order in which
    /// the bias gradient sums its rows, which moves an updated value by a
    /// few 1e-9. A change to the update rule (decay applied after the step,
    /// say) moves it by 1e-6, a hundred times this tolerance.
    Tight,
}

/// Compares `got` with the fixture's `key`, prints the largest difference
/// and fails if any element is outside the tolerance of its kind.
#[track_caller]
fn compare(fx: &Fixture, key: &str, got: &Tensor, kind: Kind) -> f32 {
    let want = fx.t(key);
    assert_eq!(got.shape(), want.shape(), "{}: {key}: shape", fx.name);
    let mut worst = 0.0f32;
    for (i, (&g, &w)) in got.data().iter().zip(want.data()).enumerate() {
        let diff = (g - w).abs();
        let ok = match kind {
            Kind::Forward => diff <= 1e-5 || diff <= 1e-4 * w.abs(),
            Kind::Gradient => diff <= 1e-4 * w.abs().max(1.0),
            Kind::Tight => diff <= 1e-8,
        };
        assert!(
            ok,
            "{}: {key}[{i}]: resgrad {g}, PyTorch {w} (|diff| {diff:e})",
            fx.name
        );
        worst = worst.max(diff);
    }
    println!("{:<22} {:<36} max |diff| {worst:.2e}", fx.name, key);
    worst
}
// ANCHOR_END: compare

// ANCHOR: load_params
/// Overwrites every parameter of `params` with the fixture's `param.<name>`,
/// after checking that both sides have exactly the same names.
#[track_caller]
fn load_params(fx: &Fixture, params: &mut Params) {
    let mut ours: Vec<String> = params.names().iter().map(|s| s.to_string()).collect();
    ours.sort();
    assert_eq!(
        ours,
        fx.names_under("param."),
        "{}: parameter names differ from PyTorch's",
        fx.name
    );
    for (_, p) in params.iter_mut() {
        p.value = fx.t(&format!("param.{}", p.name)).into();
    }
}
// ANCHOR_END: load_params

/// Runs `forward` on the fixture's input, pulls back the fixture's upstream
/// gradient, and compares the output, the input gradient and every
/// parameter gradient.
fn check_layer(
    fx: &Fixture,
    params: &Params,
    input: &str,
    forward: impl for<'t> Fn(&Ctx<'t>, Var<'t>) -> Var<'t>,
) {
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, params);
    let x = tape.leaf(fx.t(&format!("input.{input}")));
    let y = forward(&ctx, x);
    compare(fx, "output.y", &y.value(), Kind::Forward);
    let grads = tape.backward_with(y, fx.t("upstream"));
    compare(fx, &format!("grad.input.{input}"), &grads[x], Kind::Gradient);
    let pg = ctx.param_grads(&grads);
    for (id, p) in params.iter() {
        let g = pg
            .get(id)
            .unwrap_or_else(|| panic!("{}: {} got no gradient", fx.name, p.name));
        compare(fx, &format!("grad.param.{}", p.name), g, Kind::Gradient);
    }
}

fn usize_meta(fx: &Fixture, key: &str) -> usize {
    fx.meta(key)
        .parse()
        .unwrap_or_else(|_| panic!("{}: metadata {key} is not a number", fx.name))
}

// ANCHOR: linear_parity
#[test]
fn linear_matches_pytorch() {
    for case in ["linear", "linear_batched"] {
        let fx = Fixture::load(case);
        let mut params = Params::new();
        let (i, o) = (usize_meta(&fx, "in_features"), usize_meta(&fx, "out_features"));
        let layer = Linear::new(&mut params.scope(""), i, o, true, &mut Rng::new(0));
        load_params(&fx, &mut params);
        check_layer(&fx, &params, "x", |ctx, x| layer.forward(ctx, x));
    }
}
// ANCHOR_END: linear_parity

// ANCHOR: layer_norm_parity
#[test]
fn layer_norm_matches_pytorch() {
    let fx = Fixture::load("layer_norm");
    let mut params = Params::new();
    let d = usize_meta(&fx, "normalized_shape");
    let layer = LayerNorm::with_options(
        &mut params.scope(""),
        d,
        fx.meta("eps").parse().unwrap(),
        true,
        true,
    );
    load_params(&fx, &mut params);
    check_layer(&fx, &params, "x", |ctx, x| layer.forward(ctx, x));
}
// ANCHOR_END: layer_norm_parity

// ANCHOR: mha_parity
#[test]
fn multi_head_attention_matches_pytorch_with_and_without_a_causal_mask() {
    for (case, causal) in [("mha", false), ("mha_causal", true)] {
        let fx = Fixture::load(case);
        let mut params = Params::new();
        let (e, h) = (usize_meta(&fx, "embed_dim"), usize_meta(&fx, "num_heads"));
        let mha = MultiHeadAttention::new(
            &mut params.scope(""),
            e,
            h,
            0.0,
            true,
            &mut Rng::new(0),
        );
        load_params(&fx, &mut params);
        check_layer(&fx, &params, "x", |ctx, x| mha.attend(ctx, x, x, x, causal).0);
        // The attention weights too: [B, H, T, S], per head.
        let tape = Tape::new();
        let ctx = Ctx::eval(&tape, &params);
        let x = ctx.input(fx.t("input.x"));
        compare(
            &fx,
            "output.attn_weights",
            &mha.attend(&ctx, x, x, x, causal).1.value(),
            Kind::Forward,
        );
    }
}
// ANCHOR_END: mha_parity

// ANCHOR: feed_forward_parity
#[test]
fn the_feed_forward_block_matches_pytorch() {
    let fx = Fixture::load("feed_forward");
    let mut params = Params::new();
    let (d, hidden) = (usize_meta(&fx, "d_model"), usize_meta(&fx, "dim_feedforward"));
    let ff = FeedForward::new(
        &mut params.scope(""),
        d,
        hidden,
        Activation::Relu,
        0.0,
        true,
        &mut Rng::new(0),
    );
    load_params(&fx, &mut params);
    check_layer(&fx, &params, "x", |ctx, x| ff.forward(ctx, x));
}
// ANCHOR_END: feed_forward_parity

/// The encoder layer a fixture describes, with PyTorch's settings read from its metadata.
fn encoder_from(fx: &Fixture, params: &mut Params) -> TransformerEncoderLayer {
    let activation = match fx.meta("activation") {
        "relu" => Activation::Relu,
        "gelu" => Activation::Gelu,
        other => panic!("{}: unknown activation {other}", fx.name),
    };
    let config =
        EncoderLayerConfig::new(usize_meta(fx, "d_model"), usize_meta(fx, "nhead"))
            .dim_feedforward(usize_meta(fx, "dim_feedforward"))
            .dropout(0.0)
            .activation(activation)
            .batch_first(fx.meta("batch_first") == "true")
            .norm_first(fx.meta("norm_first") == "true");
    TransformerEncoderLayer::new(&mut params.scope(""), config, &mut Rng::new(0))
}

// ANCHOR: encoder_parity
#[test]
fn post_norm_and_pre_norm_encoder_layers_match_pytorch() {
    for case in ["encoder_post", "encoder_pre"] {
        let fx = Fixture::load(case);
        let mut params = Params::new();
        let layer = encoder_from(&fx, &mut params);
        load_params(&fx, &mut params);
        check_layer(&fx, &params, "src", |ctx, x| layer.forward(ctx, x));
    }
}
// ANCHOR_END: encoder_parity

#[test]
fn cross_entropy_matches_pytorch() {
    let fx = Fixture::load("cross_entropy");
    let tape = Tape::new();
    let logits = tape.leaf(fx.t("input.logits"));
    let loss = logits.cross_entropy(&fx.indices("input.targets"));
    compare(&fx, "output.loss", &loss.value(), Kind::Forward);
    let grads = tape.backward_with(loss, fx.t("upstream"));
    compare(&fx, "grad.input.logits", &grads[logits], Kind::Gradient);
}

// ANCHOR: adamw_parity
#[test]
fn three_adamw_steps_match_pytorch() {
    let fx = Fixture::load("adamw");
    let mut params = Params::new();
    let layer = Linear::new(&mut params.scope(""), 4, 3, true, &mut Rng::new(0));
    load_params(&fx, &mut params);
    let mut opt = AdamW::new(fx.meta("lr").parse().unwrap());
    assert_eq!(opt.weight_decay, fx.meta("weight_decay").parse::<f64>().unwrap());
    for step in 1..=3 {
        // Compares against the fixture's tensor `step{step}.{key}`.
        let check = |key: &str, got: &Tensor, kind: Kind| {
            compare(&fx, &format!("step{step}.{key}"), got, kind)
        };
        let tape = Tape::new();
        let ctx = Ctx::eval(&tape, &params);
        let loss = layer
            .forward(&ctx, ctx.input(fx.t("input.x")))
            .mse_loss(ctx.input(fx.t("input.t")));
        check("loss", &loss.value(), Kind::Forward);
        let grads = ctx.param_grads(&tape.backward(loss));
        check("grad.weight", grads.get(layer.weight).unwrap(), Kind::Gradient);
        check("grad.bias", grads.get(layer.bias.unwrap()).unwrap(), Kind::Gradient);
        drop(ctx);
        opt.step(&mut params, &grads);
        check("param.weight", params.get(layer.weight), Kind::Tight);
        check("param.bias", params.get(layer.bias.unwrap()), Kind::Tight);
    }
}
// ANCHOR_END: adamw_parity

// ANCHOR: state_dict_parity
#[test]
fn an_encoder_layer_saved_by_pytorch_loads_by_name_and_gives_pytorchs_output() {
    // encoder_state_dict.safetensors is `save_file(layer.state_dict())` as a
    // PyTorch user writes it: plain state_dict keys, no prefixes.
    let io = Fixture::load("encoder_state_dict_io");
    let mut params = Params::new();
    let layer = encoder_from(&io, &mut params);
    let path = format!(
        "{}/tests/fixtures/encoder_state_dict.safetensors",
        env!("CARGO_MANIFEST_DIR")
    );
    params.load_safetensors(&path).unwrap_or_else(|e| panic!("{e}"));
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let y = layer.forward(&ctx, ctx.input(io.t("input.src")));
    compare(&io, "output.y", &y.value(), Kind::Forward);
}
// ANCHOR_END: state_dict_parity
