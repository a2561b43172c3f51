//! The same seed gives the same bits: across runs, and across thread
//! counts, since threads split the rows of a product (and the heads of a
//! batched one) and every element is computed the same way whoever
//! computes it. (The figures' bit-for-bit reproduction is checked by CI,
//! which reruns every example and compares the files.)

use lab::workloads::{Block, block_size};
use resgrad::kernels;
use resgrad::nn::{Ctx, EncoderLayerConfig, Params, TransformerEncoderLayer};
use resgrad::optim::{AdamW, Optimizer};
use resgrad::{Rng, Tape, Tensor};

/// Loss and every gradient of one W2 step, as bits.
fn block_bits(size: &str) -> Vec<u32> {
    let block = Block::new(block_size(size).unwrap());
    let step = block.step();
    let mut bits = vec![step.loss.to_bits()];
    bits.extend(step.dx.data().iter().map(|v| v.to_bits()));
    for (_, g) in step.grads.iter() {
        bits.extend(g.data().iter().map(|v| v.to_bits()));
    }
    bits
}

/// Losses of a few AdamW steps of a pre-norm layer with dropout, as bits.
fn training_bits() -> Vec<u32> {
    let mut rng = Rng::new(5);
    let mut params = Params::new();
    let config = EncoderLayerConfig::new(64, 4)
        .dim_feedforward(256)
        .batch_first(true)
        .norm_first(true);
    let layer = TransformerEncoderLayer::new(&mut params.scope(""), config, &mut rng);
    let x = Tensor::normal([4, 32, 64], 0.0, 1.0, &mut rng);
    let target = Tensor::normal([4, 32, 64], 0.0, 1.0, &mut rng);
    let mut opt = AdamW::new(1e-3);
    let mut bits = Vec::new();
    for step in 0..5 {
        let tape = Tape::new();
        let ctx = Ctx::train(&tape, &params, step); // dropout masks seeded per step
        let loss = layer
            .forward_batch_first(&ctx, ctx.input(x.clone()), true)
            .mse_loss(ctx.input(target.clone()));
        let grads = ctx.param_grads(&tape.backward_leaves(loss));
        bits.push(loss.value().item().to_bits());
        opt.step(&mut params, &grads);
    }
    bits
}

#[test]
fn a_training_step_gives_the_same_bits_on_one_thread_and_on_two_and_run_after_run() {
    let before = kernels::threads();
    // medium is large enough for threaded products and for the heads of
    // attention to be shared out between threads.
    kernels::set_threads(1);
    let (one, train_one) = (block_bits("medium"), training_bits());
    kernels::set_threads(2);
    let (two, train_two) = (block_bits("medium"), training_bits());
    let (again, train_again) = (block_bits("medium"), training_bits());
    kernels::set_threads(before);
    assert!(one == two, "1 and 2 threads differ");
    assert!(two == again, "two runs differ");
    assert_eq!(train_one, train_two);
    assert_eq!(train_two, train_again);
    assert!(
        train_one.windows(2).any(|w| w[0] != w[1]),
        "the loss moves, so the steps did something"
    );
}
