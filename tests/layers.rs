//! Layers: shapes, PyTorch's names and initialisations, gradients, and the
//! residual switches.

mod common;

use common::assert_gradcheck;
use common::panic_message;
use resgrad::inspect::Connectivity;
use resgrad::nn::*;
use resgrad::{Rng, Tape, Tensor, Var};

/// Gradchecks `layer` with respect to its input and every parameter at once:
/// the parameters are bound to the checker's perturbed copies.
fn gradcheck_layer(
    params: &Params,
    x: Tensor,
    forward: impl for<'t> Fn(&Ctx<'t>, Var<'t>) -> Var<'t>,
) {
    // A Ctx borrows its tape and its parameters for one lifetime, and the
    // checker chooses the tape's; a leaked copy of the (small) store lives
    // long enough for any of them.
    let params: &'static Params = Box::leak(Box::new(params.clone()));
    let mut inputs = vec![x];
    inputs.extend(params.iter().map(|(_, p)| (*p.value).clone()));
    assert_gradcheck(
        |tape, v| {
            let ctx = Ctx::eval(tape, params);
            for (i, (id, _)) in params.iter().enumerate() {
                ctx.bind(id, v[i + 1]);
            }
            forward(&ctx, v[0])
        },
        &inputs,
    );
}

// ANCHOR: linear_layout
#[test]
fn linear_computes_x_times_w_transposed_plus_b_with_pytorchs_layout() {
    let mut params = Params::new();
    let layer = Linear::new(&mut params.scope(""), 3, 2, true, &mut Rng::new(0));
    *params.get_mut(layer.weight) =
        Tensor::from_vec(vec![1., 2., 3., 4., 5., 6.], [2, 3]); // [out, in]
    *params.get_mut(layer.bias.unwrap()) = Tensor::from_vec(vec![0.5, -1.0], [2]);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let y = layer.forward(&ctx, ctx.input(Tensor::from_vec(vec![1., 0., -1.], [1, 3])));
    // [1, 0, -1] · [1, 2, 3] + 0.5 = -1.5;  [1, 0, -1] · [4, 5, 6] - 1 = -3
    assert_eq!(y.value().data(), &[-1.5, -3.0]);
}
// ANCHOR_END: linear_layout

// ANCHOR: linear_init
#[test]
fn linear_initialises_uniformly_within_one_over_root_fan_in() {
    let mut params = Params::new();
    let layer = Linear::new(&mut params.scope(""), 64, 256, true, &mut Rng::new(1));
    let bound = 1.0 / 8.0;
    let w = params.get(layer.weight);
    assert!(w.data().iter().all(|v| v.abs() <= bound));
    // A uniform on [-b, b] has standard deviation b/√3; 16384 draws pin it to ±2%.
    let std = (w.data().iter().map(|v| v * v).sum::<f32>() / w.numel() as f32).sqrt();
    assert!((std - bound / 3f32.sqrt()).abs() < 0.02 * bound, "std {std}");
}
// ANCHOR_END: linear_init

// ANCHOR: relu_gates_half
#[test]
fn relu_after_a_fresh_linear_layer_passes_gradient_through_about_half_its_units() {
    let mut rng = Rng::new(40);
    let mut params = Params::new();
    let layer = Linear::new(&mut params.scope(""), 64, 256, true, &mut rng);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let x = Tensor::normal([32, 64], 0.0, 1.0, &mut rng);
    let z = layer.forward(&ctx, ctx.input(x)); // [32, 256]
    let dz = tape.backward_with(z.relu(), Tensor::ones([32, 256]))[z].clone();
    // The gate is exact: dz is 1 where the unit is active and 0 where it is not.
    for (&g, &v) in dz.data().iter().zip(z.value().data()) {
        assert_eq!(g, if v > 0.0 { 1.0 } else { 0.0 });
    }
    // Unit j is active with probability Φ(b_j / ‖w_j‖), between about 0.41
    // and 0.59 for PyTorch's init (|b_j| ≤ 1/8, ‖w_j‖ ≈ 0.58); the biases
    // are symmetric about 0, so the expected fraction is 1/2. Over 256 units
    // and 32 rows its standard deviation is under 0.01: ±0.05 is 5 of them.
    let open = dz.data().iter().filter(|&&g| g == 1.0).count() as f32 / dz.numel() as f32;
    assert!((open - 0.5).abs() < 0.05, "fraction of units passing gradient: {open}");
}
// ANCHOR_END: relu_gates_half

#[test]
fn layers_pass_gradcheck_for_inputs_and_parameters() {
    let mut rng = Rng::new(2);
    let x = Tensor::normal([2, 3, 4], 0.0, 1.0, &mut rng);

    let mut params = Params::new();
    let lin = Linear::new(&mut params.scope("lin"), 4, 5, true, &mut rng);
    gradcheck_layer(&params, x.clone(), |ctx, x| lin.forward(ctx, x));

    let mut params = Params::new();
    let norm = LayerNorm::new(&mut params.scope("norm"), 4);
    for (_, p) in params.iter_mut() {
        p.value = Tensor::normal(p.value.shape(), 0.5, 0.5, &mut rng).into(); // exercise gain and shift
    }
    gradcheck_layer(&params, x.clone(), |ctx, x| norm.forward(ctx, x));

    let mut params = Params::new();
    let ff = FeedForward::new(
        &mut params.scope(""),
        4,
        6,
        Activation::Gelu,
        0.0,
        true,
        &mut rng,
    );
    gradcheck_layer(&params, x.clone(), |ctx, x| ff.forward(ctx, x));

    for causal in [false, true] {
        let mut params = Params::new();
        let mha =
            MultiHeadAttention::new(&mut params.scope("attn"), 4, 2, 0.0, true, &mut rng);
        for (_, p) in params.iter_mut() {
            p.value = Tensor::normal(p.value.shape(), 0.0, 0.5, &mut rng).into(); // nonzero biases too
        }
        gradcheck_layer(&params, x.clone(), |ctx, x| mha.attend(ctx, x, x, x, causal).0);
    }

    for norm_first in [false, true] {
        let mut params = Params::new();
        let config = EncoderLayerConfig::new(4, 2)
            .dim_feedforward(8)
            .dropout(0.0)
            .batch_first(true)
            .norm_first(norm_first);
        let layer = TransformerEncoderLayer::new(
            &mut params.scope(""),
            config.activation(Activation::Gelu),
            &mut rng,
        );
        gradcheck_layer(&params, x.clone(), |ctx, x| layer.forward(ctx, x));
    }
}

// ANCHOR: attention_weights
#[test]
fn attention_weights_are_distributions_and_causal_ones_ignore_the_future() {
    let mut rng = Rng::new(3);
    let mut params = Params::new();
    let mha = MultiHeadAttention::new(&mut params.scope(""), 8, 2, 0.0, true, &mut rng);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let x = ctx.input(Tensor::normal([3, 5, 8], 0.0, 1.0, &mut rng));
    let (y, w) = mha.attend(&ctx, x, x, x, true);
    assert_eq!(y.shape().dims(), &[3, 5, 8]);
    assert_eq!(w.shape().dims(), &[3, 2, 5, 5]);
    let w = w.value();
    for row in w.data().chunks_exact(5) {
        approx::assert_relative_eq!(row.iter().sum::<f32>(), 1.0, max_relative = 1e-6);
    }
    for b in 0..3 {
        for h in 0..2 {
            for i in 0..5 {
                for j in i + 1..5 {
                    assert_eq!(w.get(&[b, h, i, j]), 0.0);
                }
            }
        }
    }
}
// ANCHOR_END: attention_weights

#[test]
fn cross_attention_uses_the_three_slices_of_the_fused_projection() {
    // With q = k = v the fused and the sliced paths must agree.
    let mut rng = Rng::new(4);
    let mut params = Params::new();
    let mha = MultiHeadAttention::new(&mut params.scope(""), 6, 3, 0.0, true, &mut rng);
    let x = Tensor::normal([2, 4, 6], 0.0, 1.0, &mut rng);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let (a, b, c) = (ctx.input(x.clone()), ctx.input(x.clone()), ctx.input(x));
    let fused = mha.attend(&ctx, a, a, a, false).0.value();
    let sliced = mha.attend(&ctx, a, b, c, false).0.value();
    common::assert_close(&fused, &sliced, 0.0, 1e-6, "fused vs sliced projections");
}

// ANCHOR: encoder_param_names
#[test]
fn the_encoder_layer_has_pytorchs_parameter_names_in_pytorchs_order() {
    let mut params = Params::new();
    TransformerEncoderLayer::new(
        &mut params.scope(""),
        EncoderLayerConfig::new(16, 4).dim_feedforward(32),
        &mut Rng::new(5),
    );
    assert_eq!(
        params.names(),
        [
            "self_attn.in_proj_weight",
            "self_attn.in_proj_bias",
            "self_attn.out_proj.weight",
            "self_attn.out_proj.bias",
            "linear1.weight",
            "linear1.bias",
            "linear2.weight",
            "linear2.bias",
            "norm1.weight",
            "norm1.bias",
            "norm2.weight",
            "norm2.bias",
        ]
    );
}
// ANCHOR_END: encoder_param_names

// ANCHOR: encoder_shapes
#[test]
fn the_default_encoder_layer_maps_seq_batch_d_to_the_same_shape() {
    // TransformerEncoderLayer(d_model=512, nhead=8) on (10, 32, 512): PyTorch's
    // defaults (dim_feedforward 2048, post-norm, seq-first layout).
    let mut rng = Rng::new(6);
    let mut params = Params::new();
    let layer = TransformerEncoderLayer::new(
        &mut params.scope(""),
        EncoderLayerConfig::new(512, 8),
        &mut rng,
    );
    assert_eq!(
        params.numel(),
        3 * 512 * 512 + 3 * 512 + 512 * 512 + 512 + 2 * 512 * 2048 + 2048 + 512 + 4 * 512
    );
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let y =
        layer.forward(&ctx, ctx.input(Tensor::normal([10, 32, 512], 0.0, 1.0, &mut rng)));
    assert_eq!(y.shape().dims(), &[10, 32, 512]);
}
// ANCHOR_END: encoder_shapes

#[test]
fn seq_first_and_batch_first_layouts_compute_the_same_thing() {
    let mut rng = Rng::new(7);
    let x = Tensor::normal([3, 2, 8], 0.0, 1.0, &mut rng); // [T, B, d]
    let build = |batch_first: bool| {
        let mut params = Params::new();
        let config =
            EncoderLayerConfig::new(8, 2).dim_feedforward(16).batch_first(batch_first);
        let layer = TransformerEncoderLayer::new(
            &mut params.scope(""),
            config,
            &mut Rng::new(70),
        );
        (params, layer)
    };
    let (p1, seq_first) = build(false);
    let (p2, batch_first) = build(true);
    let tape = Tape::new();
    let (c1, c2) = (Ctx::eval(&tape, &p1), Ctx::eval(&tape, &p2));
    let a = seq_first.forward(&c1, c1.input(x.clone())).value();
    let b = batch_first
        .forward(&c2, c2.input(x).permute(&[1, 0, 2]))
        .permute(&[1, 0, 2])
        .value();
    assert_eq!(*a, *b);
}

#[test]
fn dropout_is_active_in_training_and_the_identity_in_evaluation() {
    let mut params = Params::new();
    let layer = TransformerEncoderLayer::new(
        &mut params.scope(""),
        EncoderLayerConfig::new(8, 2).dim_feedforward(16),
        &mut Rng::new(8),
    );
    let x = Tensor::normal([4, 2, 8], 0.0, 1.0, &mut Rng::new(9));
    let run = |train: Option<u64>| {
        let tape = Tape::new();
        let ctx = match train {
            Some(seed) => Ctx::train(&tape, &params, seed),
            None => Ctx::eval(&tape, &params),
        };
        let y = layer.forward(&ctx, ctx.input(x.clone())).value();
        (*y).clone()
    };
    assert_eq!(run(None), run(None));
    assert_eq!(run(Some(1)), run(Some(1)), "same seed, same masks");
    assert_ne!(run(Some(1)), run(Some(2)));
    assert_ne!(run(Some(1)), run(None));
}

// ANCHOR: projection_shapes
#[test]
fn projection_shortcuts_map_r3_to_r2_and_r6_to_r4() {
    let mut rng = Rng::new(10);
    for (d_in, d_out) in [(3, 2), (6, 4)] {
        let mut params = Params::new();
        let branch =
            Linear::new(&mut params.scope("branch"), d_in, d_out, true, &mut rng);
        let block = Residual::projected(
            &mut params.scope("shortcut"),
            branch,
            d_in,
            d_out,
            &mut rng,
        );
        let tape = Tape::new();
        let ctx = Ctx::eval(&tape, &params);
        let x = ctx.input(Tensor::normal([5, d_in], 0.0, 1.0, &mut rng));
        assert_eq!(block.forward(&ctx, x).shape().dims(), &[5, d_out]);
    }
}
// ANCHOR_END: projection_shapes

// ANCHOR: identity_skip_width_mismatch
#[test]
#[should_panic(expected = "projection shortcut P(x) + F(x) with P a Linear(4 -> 3)")]
fn an_identity_skip_around_a_width_changing_branch_explains_the_fix() {
    let mut params = Params::new();
    let branch = Linear::new(&mut params.scope("branch"), 4, 3, true, &mut Rng::new(12));
    let block = Residual::new(branch);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    block.forward(&ctx, ctx.input(Tensor::ones([2, 4])));
}
// ANCHOR_END: identity_skip_width_mismatch

#[test]
fn a_zero_initialised_pre_norm_layer_is_exactly_the_identity() {
    let mut rng = Rng::new(13);
    let options = ResidualOptions { zero_init: true, ..ResidualOptions::default() };
    let mut params = Params::new();
    let config = EncoderLayerConfig::new(8, 2)
        .dim_feedforward(16)
        .norm_first(true)
        .residual(options);
    let layer = TransformerEncoderLayer::new(&mut params.scope(""), config, &mut rng);
    let x = Tensor::normal([4, 2, 8], 0.0, 1.0, &mut rng);
    let tape = Tape::new();
    let ctx = Ctx::train(&tape, &params, 1); // even with dropout on
    assert_eq!(*layer.forward(&ctx, ctx.input(x.clone())).value(), x);
}

// ANCHOR: rezero_first_gradient
#[test]
fn rezero_starts_as_the_identity_and_its_gate_gets_the_first_gradient() {
    let mut rng = Rng::new(14);
    let options = ResidualOptions { rezero: true, ..ResidualOptions::default() };
    let mut params = Params::new();
    let config = EncoderLayerConfig::new(8, 2)
        .dim_feedforward(16)
        .dropout(0.0)
        .norm_first(true)
        .residual(options);
    let layer = TransformerEncoderLayer::new(&mut params.scope(""), config, &mut rng);
    let x = Tensor::normal([4, 2, 8], 0.0, 1.0, &mut rng);
    let tape = Tape::new();
    let ctx = Ctx::train(&tape, &params, 1);
    let y = layer.forward(&ctx, ctx.input(x.clone()));
    assert_eq!(*y.value(), x);
    let target = ctx.input(Tensor::normal([4, 2, 8], 0.0, 1.0, &mut rng));
    let grads = ctx.param_grads(&tape.backward(y.mse_loss(target)));
    let report = Connectivity::check(&params, &grads);
    // With α = 0 the branches are cut: only the gates learn on the first step,
    // and every other parameter gets a gradient of exactly zero.
    let gates = [layer.joins[0].gate.unwrap(), layer.joins[1].gate.unwrap()];
    for gate in gates {
        assert!(grads.get(gate).unwrap().item() != 0.0);
    }
    let gate_names: Vec<&str> = gates.iter().map(|&g| params.name(g)).collect();
    for name in params.names() {
        if !gate_names.contains(&name) {
            assert!(
                report.zero.contains(&name.to_string()),
                "{name} should get zero gradient: {report}"
            );
        }
    }
    assert_eq!(report.zero.len(), params.names().len() - 2, "{report}");
    assert!(report.missing.is_empty(), "{report}");
}
// ANCHOR_END: rezero_first_gradient

#[test]
fn switching_residuals_off_gives_the_plain_stack() {
    let mut rng = Rng::new(15);
    let mut params = Params::new();
    let branch = Linear::new(&mut params.scope("f"), 4, 4, true, &mut rng);
    let plain = Residual::new(branch.clone())
        .with_options(&mut params.scope("plain"), ResidualOptions::plain());
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let x = ctx.input(Tensor::normal([2, 4], 0.0, 1.0, &mut rng));
    assert_eq!(*plain.forward(&ctx, x).value(), *branch.forward(&ctx, x).value());
}

#[test]
fn a_scaled_branch_contributes_its_scale_times_the_branch() {
    let mut rng = Rng::new(16);
    let mut params = Params::new();
    let branch = Linear::new(&mut params.scope("f"), 4, 4, true, &mut rng);
    let options = ResidualOptions { branch_scale: 0.25, ..ResidualOptions::default() };
    let block =
        Residual::new(branch.clone()).with_options(&mut params.scope("b"), options);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let x = ctx.input(Tensor::normal([2, 4], 0.0, 1.0, &mut rng));
    let expected = (x + branch.forward(&ctx, x).scale(0.25)).value();
    assert_eq!(*block.forward(&ctx, x).value(), *expected);
}

#[test]
fn the_tutorial_residual_connection_wraps_any_sublayer() {
    // x + dropout(ff(norm(x))) on a (10, 20, 512) input keeps the shape.
    let mut rng = Rng::new(17);
    let mut params = Params::new();
    let ff = FeedForward::new(
        &mut params.scope("ff"),
        512,
        2048,
        Activation::Relu,
        0.0,
        true,
        &mut rng,
    );
    let residual = ResidualConnection::new(&mut params.scope("residual"), 512, 0.1);
    let tape = Tape::new();
    let ctx = Ctx::train(&tape, &params, 3);
    let x = ctx.input(Tensor::normal([10, 20, 512], 0.0, 1.0, &mut rng));
    let y = residual.forward(&ctx, x, |h| ff.forward(&ctx, h));
    assert_eq!(y.shape().dims(), &[10, 20, 512]);
    assert_eq!(
        params.names(),
        [
            "ff.linear1.weight",
            "ff.linear1.bias",
            "ff.linear2.weight",
            "ff.linear2.bias",
            "residual.norm.weight",
            "residual.norm.bias"
        ]
    );
}

#[test]
fn a_branch_cut_off_by_mistake_is_named_by_the_connectivity_report() {
    // The bug: the block's branch output is computed but never added, so the
    // model is x -> head(x). The loss still falls; the report names the branch.
    let mut rng = Rng::new(18);
    let mut params = Params::new();
    let branch = Linear::new(&mut params.scope("block.branch"), 4, 4, true, &mut rng);
    let head = Linear::new(&mut params.scope("head"), 4, 1, true, &mut rng);
    let tape = Tape::new();
    let ctx = Ctx::train(&tape, &params, 1);
    let x = ctx.input(Tensor::normal([8, 4], 0.0, 1.0, &mut rng));
    let _unused = branch.forward(&ctx, x); // computed, then forgotten
    let loss = head.forward(&ctx, x).mean();
    let report = Connectivity::check(&params, &ctx.param_grads(&tape.backward(loss)));
    assert_eq!(report.missing, ["block.branch.weight", "block.branch.bias"]);
    assert!(report.to_string().contains("block.branch.weight"));
}

#[test]
fn embeddings_and_positions_give_batch_seq_d() {
    let mut rng = Rng::new(19);
    let mut params = Params::new();
    let emb = Embedding::new(&mut params.scope("embed"), 10, 6, &mut rng);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let ids = [1, 2, 3, 4, 5, 6, 7, 8];
    let x = add_positions(&ctx, emb.forward(&ctx, &ids, 2));
    assert_eq!(x.shape().dims(), &[2, 4, 6]);
    // Row 0, position 0: the embedding of token 1 plus PE[0] = [0, 1, 0, 1, 0, 1].
    let table = params.get(emb.weight);
    for j in 0..6 {
        let pe = if j % 2 == 0 { 0.0 } else { 1.0 };
        assert_eq!(x.value().get(&[0, 0, j]), table.get(&[1, j]) + pe);
    }
}

#[test]
fn without_biases_the_encoder_layer_has_pytorchs_bias_free_names() {
    // TransformerEncoderLayer(bias=False) drops every bias: attention, linear1/2, norm1/2.
    let mut params = Params::new();
    let mut config = EncoderLayerConfig::new(8, 2).dim_feedforward(16);
    config.bias = false;
    TransformerEncoderLayer::new(&mut params.scope(""), config, &mut Rng::new(20));
    assert_eq!(
        params.names(),
        [
            "self_attn.in_proj_weight",
            "self_attn.out_proj.weight",
            "linear1.weight",
            "linear2.weight",
            "norm1.weight",
            "norm2.weight"
        ]
    );
}

#[test]
fn layer_norm_without_affine_has_no_parameters_and_checks_the_width() {
    let mut params = Params::new();
    let norm = LayerNorm::with_options(&mut params.scope("norm"), 4, 1e-5, false, true);
    assert!(params.is_empty());
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let y = norm
        .forward(&ctx, ctx.input(Tensor::from_vec(vec![1., 2., 3., 4.], [1, 4])))
        .value();
    approx::assert_relative_eq!(y.data().iter().sum::<f32>(), 0.0, epsilon = 1e-6);
    let msg = panic_message(|| {
        norm.forward(&ctx, ctx.input(Tensor::ones([2, 7])));
    });
    assert!(
        msg.contains("LayerNorm(4): input of shape [2, 7] does not end in 4 features"),
        "{msg}"
    );
}

#[test]
fn pytorchs_initialisations_have_the_right_bounds_and_zeros() {
    let mut rng = Rng::new(21);
    let mut params = Params::new();
    let (e, d_in) = (32, 64);
    let mha =
        MultiHeadAttention::new(&mut params.scope("attn"), e, 4, 0.0, true, &mut rng);
    let lin = Linear::new(&mut params.scope("lin"), d_in, 8, true, &mut rng);
    let emb = Embedding::new(&mut params.scope("emb"), 100, 100, &mut rng);
    // Xavier-uniform on [3E, E]: bound √(6 / 4E) = 0.2165 for E = 32.
    let xavier = (6.0f32 / (4 * e) as f32).sqrt();
    let w = params.get(mha.in_proj_weight);
    assert!(w.data().iter().all(|v| v.abs() <= xavier));
    assert!(
        w.data().iter().any(|v| v.abs() > 0.9 * xavier),
        "the bound is reached, not just respected"
    );
    assert!(params.get(mha.in_proj_bias.unwrap()).data().iter().all(|&v| v == 0.0));
    assert!(params.get(mha.out_proj.bias.unwrap()).data().iter().all(|&v| v == 0.0));
    // Linear's bias: uniform in ±1/√in.
    assert!(
        params
            .get(lin.bias.unwrap())
            .data()
            .iter()
            .all(|v| v.abs() <= 1.0 / (d_in as f32).sqrt())
    );
    // Embedding: N(0, 1). 10,000 draws: the variance is 1 within 0.05 (3.5 standard errors).
    let table = params.get(emb.weight);
    let var = table.data().iter().map(|v| v * v).sum::<f32>() / table.numel() as f32;
    assert!((var - 1.0).abs() < 0.05, "variance {var}");
}

#[test]
fn attention_handles_unbatched_inputs_and_keys_longer_than_queries() {
    let mut rng = Rng::new(22);
    let mut params = Params::new();
    let mha = MultiHeadAttention::new(&mut params.scope(""), 8, 2, 0.0, true, &mut rng);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let x = ctx.input(Tensor::normal([5, 8], 0.0, 1.0, &mut rng)); // [T, E], no batch
    let (y, w) = mha.attend(&ctx, x, x, x, false);
    assert_eq!((y.shape().dims(), w.shape().dims()), (&[5, 8][..], &[2, 5, 5][..]));
    let q = ctx.input(Tensor::normal([3, 2, 8], 0.0, 1.0, &mut rng)); // T = 2
    let kv = ctx.input(Tensor::normal([3, 7, 8], 0.0, 1.0, &mut rng)); // S = 7
    let (y, w) = mha.attend(&ctx, q, kv, kv, false);
    assert_eq!((y.shape().dims(), w.shape().dims()), (&[3, 2, 8][..], &[3, 2, 2, 7][..]));
    let msg = panic_message(|| {
        let other = ctx.input(Tensor::zeros([2, 7, 8]));
        mha.attend(&ctx, q, other, other, false);
    });
    assert!(
        msg.contains(
            "query [3, 2, 8], key [2, 7, 8] and value [2, 7, 8] do not fit together"
        ),
        "{msg}"
    );
}

// ANCHOR: causal_ignores_later_tokens
#[test]
fn a_causal_layer_output_at_a_position_ignores_later_tokens() {
    let mut rng = Rng::new(23);
    let mut params = Params::new();
    let mha =
        MultiHeadAttention::new(&mut params.scope("attn"), 8, 2, 0.0, true, &mut rng)
            .causal(true);
    let config =
        EncoderLayerConfig::new(8, 2).dim_feedforward(16).dropout(0.0).batch_first(true);
    let layer =
        TransformerEncoderLayer::new(&mut params.scope("layer"), config, &mut rng);
    let a = Tensor::normal([1, 4, 8], 0.0, 1.0, &mut rng);
    let mut b = a.clone();
    b.data_mut()[2 * 8..].iter_mut().for_each(|v| *v += 1.0); // change tokens 2 and 3
    let run = |x: &Tensor| {
        let tape = Tape::new();
        let ctx = Ctx::eval(&tape, &params);
        let x = ctx.input(x.clone());
        (
            (*mha.forward(&ctx, x).value()).clone(),
            (*layer.forward_masked(&ctx, x, true).value()).clone(),
        )
    };
    let ((attn_a, layer_a), (attn_b, layer_b)) = (run(&a), run(&b));
    // Positions 0 and 1 are unchanged, bit for bit; positions 2 and 3 differ.
    assert_eq!(attn_a.data()[..16], attn_b.data()[..16]);
    assert_eq!(layer_a.data()[..16], layer_b.data()[..16]);
    assert_ne!(attn_a.data()[16..], attn_b.data()[16..]);
}
// ANCHOR_END: causal_ignores_later_tokens

#[test]
fn the_encoder_stack_saves_each_layer_and_ends_in_its_norm() {
    let mut rng = Rng::new(24);
    let config =
        EncoderLayerConfig::new(8, 2).dim_feedforward(16).dropout(0.0).norm_first(true);
    let mut params = Params::new();
    let stack = TransformerEncoder::new(&mut params.scope(""), config, 3, true, &mut rng);
    let x = Tensor::normal([4, 2, 8], 0.0, 1.0, &mut rng); // [T, B, d]
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let y = stack.forward(&ctx, ctx.input(x.clone()));
    let saved = ctx.saved_activations();
    let names: Vec<&str> = saved.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["layers.0", "layers.1", "layers.2"]);
    // The final norm: every output row has mean 0 and variance 1 (gain 1, shift 0).
    for row in y.value().data().chunks_exact(8) {
        let mean = row.iter().sum::<f32>() / 8.0;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 8.0;
        assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-3, "{mean} {var}");
    }
    // Layer by layer by hand gives the same output as the stack.
    let mut h = ctx.input(x);
    for layer in &stack.layers {
        h = layer.forward(&ctx, h);
    }
    let by_hand = stack.norm.as_ref().unwrap().forward(&ctx, h);
    assert_eq!(*by_hand.value(), *y.value());
    // An unbatched [T, d] input works too.
    let single =
        stack.forward(&ctx, ctx.input(Tensor::normal([4, 8], 0.0, 1.0, &mut rng)));
    assert_eq!(single.shape().dims(), &[4, 8]);
}

#[test]
fn sequential_applies_its_layers_in_order() {
    let mut rng = Rng::new(25);
    let mut params = Params::new();
    let l0 = Linear::new(&mut params.scope("0"), 4, 6, true, &mut rng);
    let l2 = Linear::new(&mut params.scope("2"), 6, 3, true, &mut rng);
    let net =
        Sequential::new().push(l0.clone()).push(Gelu { tanh: false }).push(l2.clone());
    assert_eq!(net.len(), 3);
    assert_eq!(params.names(), ["0.weight", "0.bias", "2.weight", "2.bias"]); // nn.Sequential's names
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let x = ctx.input(Tensor::normal([2, 4], 0.0, 1.0, &mut rng));
    let expected = l2.forward(&ctx, l0.forward(&ctx, x).gelu()).value();
    assert_eq!(*net.forward(&ctx, x).value(), *expected);
    let tanh = Gelu { tanh: true }.forward(&ctx, x).value();
    assert_eq!(*tanh, *x.gelu_tanh().value());
    assert_eq!(*Activation::GeluTanh.forward(&ctx, x).value(), *tanh);
    assert_eq!(*Relu.forward(&ctx, x).value(), *x.relu().value());
}

#[test]
fn linear_accepts_a_single_vector() {
    let mut params = Params::new();
    let layer = Linear::new(&mut params.scope(""), 3, 2, true, &mut Rng::new(26));
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let v = Tensor::from_vec(vec![1., 2., 3.], [3]);
    let y = layer.forward(&ctx, ctx.input(v.clone()));
    let row = layer.forward(&ctx, ctx.input(v.reshape([1, 3])));
    assert_eq!(y.shape().dims(), &[2]);
    assert_eq!(y.value().data(), row.value().data());
}

#[test]
fn a_projection_shortcut_scales_and_gates_the_branch_it_adds() {
    let mut rng = Rng::new(27);
    let mut params = Params::new();
    let branch = Linear::new(&mut params.scope("f"), 4, 3, true, &mut rng);
    let options =
        ResidualOptions { branch_scale: 0.5, rezero: true, ..ResidualOptions::default() };
    let block =
        Residual::projected(&mut params.scope("p"), branch.clone(), 4, 3, &mut rng)
            .with_options(&mut params.scope("b"), options);
    let tape = Tape::new();
    let ctx = Ctx::train(&tape, &params, 1);
    let x = ctx.input(Tensor::normal([5, 4], 0.0, 1.0, &mut rng));
    let y = block.forward(&ctx, x);
    let Shortcut::Projection(p) = &block.shortcut else {
        panic!("built with a projection")
    };
    // α starts at 0: y = P(x) + 0.5 · 0 · F(x) is exactly P(x), and α gets a gradient.
    assert_eq!(y.value().data(), p.forward(&ctx, x).value().data());
    let grads = ctx.param_grads(&tape.backward(y.scale(3.0).sum() + y.mul(y).sum()));
    assert!(grads.get(block.join.gate.unwrap()).unwrap().item() != 0.0);
}

#[test]
fn zero_init_zeroes_the_branchs_last_projection_wherever_it_is_set() {
    let mut rng = Rng::new(29);
    let mut params = Params::new();
    let zero = ResidualOptions { zero_init: true, ..ResidualOptions::default() };
    let first = Linear::new(&mut params.scope("f.0"), 4, 8, true, &mut rng);
    let last = Linear::new(&mut params.scope("f.2"), 8, 4, true, &mut rng);
    let branch = Sequential::new().push(first).push(Relu).push(last.clone());
    let block = Residual::new(branch).with_options(&mut params.scope("r"), zero);
    assert!(params.get(last.weight).data().iter().all(|&w| w == 0.0));
    assert!(params.get(last.bias.unwrap()).data().iter().all(|&b| b == 0.0));
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let x = ctx.input(Tensor::normal([3, 4], 0.0, 1.0, &mut rng));
    assert_eq!(block.forward(&ctx, x).value().data(), x.value().data()); // exactly the identity
}

#[test]
fn residual_options_that_cannot_be_honoured_are_refused() {
    let mut rng = Rng::new(28);
    let mut params = Params::new();
    let branch = Linear::new(&mut params.scope("f"), 4, 4, true, &mut rng);
    // A branch that ends in an activation has no last projection to zero.
    let zero = ResidualOptions { zero_init: true, ..ResidualOptions::default() };
    let msg = panic_message(|| {
        let ends_in_relu = Sequential::new().push(branch.clone()).push(Relu);
        let _ = Residual::new(ends_in_relu).with_options(&mut params.scope("a"), zero);
    });
    assert!(
        msg.contains("zero_init: Relu has no last projection")
            && msg.contains("end the branch in a Linear"),
        "{msg}"
    );
    // A generic layer is named without its type parameters.
    let msg = panic_message(|| {
        let ends_in_a_block = Sequential::new().push(Residual::new(branch.clone()));
        let _ =
            Residual::new(ends_in_a_block).with_options(&mut params.scope("a2"), zero);
    });
    assert!(msg.contains("zero_init: Residual has no last projection"), "{msg}");
    let gated_plain = ResidualOptions { rezero: true, ..ResidualOptions::plain() };
    let msg = panic_message(|| {
        let _ = Residual::new(branch.clone())
            .with_options(&mut params.scope("b"), gated_plain);
    });
    assert!(msg.contains("ReZero gate"), "{msg}");
    let msg = panic_message(|| {
        let _ = Residual::projected(
            &mut params.scope("c"),
            branch.clone(),
            4,
            4,
            &mut Rng::new(1),
        )
        .with_options(&mut params.scope("d"), ResidualOptions::plain());
    });
    assert!(msg.contains("the projection shortcut would never be used"), "{msg}");
    // The encoder layer goes through the same join, so it refuses the same gate.
    let msg = panic_message(|| {
        let config = EncoderLayerConfig::new(8, 2).residual(gated_plain);
        let _ = TransformerEncoderLayer::new(
            &mut params.scope("e"),
            config,
            &mut Rng::new(2),
        );
    });
    assert!(msg.contains("ReZero gate"), "{msg}");
}

#[test]
fn binding_a_parameter_after_its_first_use_is_refused() {
    let mut params = Params::new();
    let layer = Linear::new(&mut params.scope("lin"), 2, 2, false, &mut Rng::new(29));
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let _ = layer.forward(&ctx, ctx.input(Tensor::ones([1, 2])));
    let other = tape.leaf(Tensor::zeros([2, 2]));
    let msg = panic_message(|| ctx.bind(layer.weight, other));
    assert!(
        msg.contains("`lin.weight` was already used (or bound) in this pass"),
        "{msg}"
    );
    // An id from another store is caught, not read out of the wrong weights.
    let mut other_store = Params::new();
    other_store.add("x", Tensor::zeros([2, 2]));
    let tape2 = Tape::new();
    let ctx2 = Ctx::eval(&tape2, &other_store);
    let msg = panic_message(|| {
        let _ = ctx2.param(layer.weight);
    });
    assert!(msg.contains("belongs to a different Params store"), "{msg}");
}
