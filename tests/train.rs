//! Proof that the whole stack learns: a 2-layer pre-norm transformer learns
//! to reverse sequences of digits.
//!
//! Run on its own with output: `cargo test --release --test train -- --nocapture`.

use resgrad::inspect::Connectivity;
use resgrad::nn::*;
use resgrad::optim::{AdamW, Optimizer, clip_grad_norm, linear_warmup};
use resgrad::{Rng, Tape, Var};
use std::time::Instant;

const VOCAB: usize = 10;
const LEN: usize = 6;
const D: usize = 32;

struct Reverser {
    embed: Embedding,
    encoder: TransformerEncoder,
    head: Linear,
}

impl Reverser {
    fn new(params: &mut Params, rng: &mut Rng) -> Reverser {
        let config =
            EncoderLayerConfig::new(D, 4).dim_feedforward(64).dropout(0.0).batch_first(true).norm_first(true);
        Reverser {
            embed: Embedding::new(&mut params.scope("embed"), VOCAB, D, rng),
            encoder: TransformerEncoder::new(&mut params.scope("encoder"), config, 2, true, rng),
            head: Linear::new(&mut params.scope("head"), D, VOCAB, true, rng),
        }
    }

    /// Logits `[batch * LEN, VOCAB]` for `ids` (`batch` rows of `LEN` digits).
    fn logits<'t>(&self, ctx: &Ctx<'t>, ids: &[usize], batch: usize) -> Var<'t> {
        let x = add_positions(ctx, self.embed.forward(ctx, ids, batch)); // [B, T, D]
        let h = self.encoder.forward(ctx, x); // [B, T, D]
        self.head.forward(ctx, h).reshape([batch * LEN, VOCAB]) // [B*T, V]
    }
}

/// `batch` random digit sequences and their reversals, flattened row by row.
fn reverse_batch(batch: usize, rng: &mut Rng) -> (Vec<usize>, Vec<usize>) {
    let inputs: Vec<usize> = (0..batch * LEN).map(|_| rng.below(VOCAB)).collect();
    let targets = inputs.chunks_exact(LEN).flat_map(|row| row.iter().rev().copied()).collect();
    (inputs, targets)
}

fn accuracy(model: &Reverser, params: &Params, rng: &mut Rng) -> f32 {
    let (inputs, targets) = reverse_batch(512, rng);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, params);
    let logits = model.logits(&ctx, &inputs, 512).value();
    let correct = logits
        .data()
        .chunks_exact(VOCAB)
        .zip(&targets)
        .filter(|(row, t)| {
            let best = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
            best == Some(**t)
        })
        .count();
    correct as f32 / targets.len() as f32
}

#[test]
fn a_two_layer_pre_norm_transformer_learns_to_reverse_digit_sequences() {
    let (steps, batch, warmup) = (400, 32, 50);
    let mut rng = Rng::new(2026);
    let mut params = Params::new();
    let model = Reverser::new(&mut params, &mut rng);
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
                "step {step:4}  loss {loss:.4}  grad norm {norm:.3}  token accuracy {:.1}%",
                100.0 * acc
            );
        }
    }
    println!("trained in {:.1} s", start.elapsed().as_secs_f32());
    let report = first_report.unwrap();
    assert!(report.is_connected(), "{report}");
    let held_out = accuracy(&model, &params, &mut Rng::new(99));
    assert!(held_out >= 0.99, "token accuracy {held_out} on held-out sequences after {steps} steps");
}
