//! Proof that the whole stack learns: a 2-layer pre-norm transformer learns
//! to reverse sequences of digits.
//!
//! Run on its own with output: `cargo test --release --test train -- --nocapture`.

use lab::digits::{DigitModel, reverse_batch, token_accuracy};
use resgrad::inspect::Connectivity;
use resgrad::nn::*;
use resgrad::optim::{AdamW, Optimizer, clip_grad_norm, linear_warmup};
use resgrad::{Rng, Tape};
use std::time::Instant;

/// Token accuracy on 512 fresh sequences.
fn accuracy(model: &DigitModel, params: &Params, rng: &mut Rng) -> f64 {
    let (inputs, targets) = reverse_batch(512, rng);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, params);
    token_accuracy(&model.logits(&ctx, &inputs, 512).value(), &targets)
}

// ANCHOR: training_loop
#[test]
fn a_two_layer_pre_norm_transformer_learns_to_reverse_digit_sequences() {
    let (steps, batch, warmup) = (400, 32, 50);
    let mut rng = Rng::new(2026);
    let mut params = Params::new();
    let config =
        EncoderLayerConfig::new(32, 4).dim_feedforward(64).dropout(0.0).norm_first(true);
    let model = DigitModel::new(&mut params, config, 2, true, &mut rng);
    let mut opt = AdamW::new(3e-3);
    let start = Instant::now();
    let mut first_report = None;
    for step in 0..steps {
        let (inputs, targets) = reverse_batch(batch, &mut rng);
        // One tape per step: recorded, differentiated, dropped.
        let tape = Tape::new();
        let ctx = Ctx::train(&tape, &params, step as u64);
        let loss = model.logits(&ctx, &inputs, batch).cross_entropy(&targets);
        let mut grads = ctx.param_grads(&tape.backward(loss));
        if step == 0 {
            first_report = Some(Connectivity::check(&params, &grads));
        }
        let norm = clip_grad_norm(&mut grads, 1.0);
        let loss = loss.value().item();
        drop(ctx);
        opt.set_lr(3e-3 * linear_warmup(step, warmup));
        opt.step(&mut params, &grads);
        if step % 50 == 0 || step == steps - 1 {
            let acc = accuracy(&model, &params, &mut Rng::new(7));
            println!(
                "step {step:4}  loss {loss:.4}  grad norm {norm:.3}  \
                 token accuracy {:.1}%",
                100.0 * acc
            );
        }
    }
    println!("trained in {:.1} s", start.elapsed().as_secs_f32());
    let report = first_report.unwrap();
    assert!(report.is_connected(), "{report}");
    let held_out = accuracy(&model, &params, &mut Rng::new(99));
    assert!(
        held_out >= 0.99,
        "token accuracy {held_out} on held-out sequences after {steps} steps"
    );
}
// ANCHOR_END: training_loop
