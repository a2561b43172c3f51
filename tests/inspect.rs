//! Gradient norms per parameter and per layer, activation statistics.

use approx::assert_relative_eq;
use resgrad::inspect::{Stats, activation_stats, grad_norms, layer_grad_norms};
use resgrad::nn::*;
use resgrad::{Rng, Tape, Tensor};

#[test]
fn gradient_norms_are_reported_per_parameter_and_per_layer() {
    let mut rng = Rng::new(1);
    let mut params = Params::new();
    let config =
        EncoderLayerConfig::new(8, 2).dim_feedforward(16).dropout(0.0).batch_first(true);
    let stack = TransformerEncoder::new(&mut params.scope(""), config, 3, true, &mut rng);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let x = ctx.input(Tensor::normal([2, 4, 8], 0.0, 1.0, &mut rng));
    let grads = ctx.param_grads(&tape.backward(stack.forward(&ctx, x).mse_loss(x)));

    let per_param = grad_norms(&params, &grads);
    assert_eq!(per_param.len(), params.len());
    assert_eq!(per_param[0].0, "layers.0.self_attn.in_proj_weight");
    let g = grads.get(params.find("layers.0.self_attn.in_proj_weight").unwrap()).unwrap();
    let by_hand =
        g.data().iter().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt() as f32;
    assert_relative_eq!(per_param[0].1, by_hand, max_relative = 1e-6);
    assert!(per_param.iter().all(|(_, n)| *n > 0.0));

    let per_layer = layer_grad_norms(&params, &grads);
    let names: Vec<&str> = per_layer.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["layers.0", "layers.1", "layers.2", "norm"]);
    // A layer's norm is the norm of all its parameters' gradients together.
    let sq: f32 = per_param
        .iter()
        .filter(|(n, _)| n.starts_with("layers.1."))
        .map(|(_, g)| g * g)
        .sum();
    assert_relative_eq!(per_layer[1].1, sq.sqrt(), max_relative = 1e-5);
}

#[test]
fn activation_statistics_summarise_saved_values() {
    let params = Params::new();
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let x = ctx.input(Tensor::from_vec(vec![-2.0, 0.0, 2.0, 4.0], [4]));
    ctx.save_activation("x", x);
    ctx.save_activation("relu(x)", x.relu());
    let stats = activation_stats(&ctx);
    assert_eq!(stats[0].0, "x");
    // mean 1, variance (9 + 1 + 1 + 9) / 4 = 5, mean square (4 + 0 + 4 + 16) / 4 = 6
    let s = stats[0].1;
    assert_eq!((s.mean, s.min, s.max, s.zero_fraction), (1.0, -2.0, 4.0, 0.25));
    assert_relative_eq!(s.std, 5f32.sqrt(), max_relative = 1e-6);
    assert_relative_eq!(s.rms, 6f32.sqrt(), max_relative = 1e-6);
    assert_eq!(stats[1].1.zero_fraction, 0.5);
    assert_eq!(Stats::of(&[3.0]).std, 0.0);
}
