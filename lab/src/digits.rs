//! The toy task the training experiments share: reverse a sequence of six
//! digits. Each output position must find the input position mirrored
//! across the sequence, so the task needs attention and positions, and it
//! is small enough to learn in seconds on a CPU.

use resgrad::Rng;
use resgrad::Tensor;
use resgrad::Var;
use resgrad::nn::{
    Ctx, Embedding, EncoderLayerConfig, Linear, Module, Params, TransformerEncoder,
    add_positions,
};

/// Digits 0 to 9.
pub const VOCAB: usize = 10;
/// Digits per sequence.
pub const LEN: usize = 6;

/// `batch` random digit sequences and their reversals, row after row.
pub fn reverse_batch(batch: usize, rng: &mut Rng) -> (Vec<usize>, Vec<usize>) {
    let inputs: Vec<usize> = (0..batch * LEN).map(|_| rng.below(VOCAB)).collect();
    let targets =
        inputs.chunks_exact(LEN).flat_map(|row| row.iter().rev().copied()).collect();
    (inputs, targets)
}

/// The fraction of rows of `logits` `[N, VOCAB]` whose largest entry is the target.
pub fn token_accuracy(logits: &Tensor, targets: &[usize]) -> f64 {
    let correct = logits
        .data()
        .chunks_exact(VOCAB)
        .zip(targets)
        .filter(|(row, t)| {
            row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i)
                == Some(**t)
        })
        .count();
    correct as f64 / targets.len() as f64
}

// ANCHOR: digit_model
/// Embedding plus sinusoidal positions, a transformer encoder, and a linear
/// head to the ten digits.
#[derive(Clone, Debug)]
pub struct DigitModel {
    /// `embed`: digit → vector.
    pub embed: Embedding,
    /// `encoder`: the stack under study.
    pub encoder: TransformerEncoder,
    /// `head`: vector → logits over digits.
    pub head: Linear,
}

impl DigitModel {
    /// Registers `embed`, `encoder` (`layers` layers of `config`, batch-first,
    /// with a final norm if `final_norm`) and `head`, in that order.
    pub fn new(
        params: &mut Params,
        config: EncoderLayerConfig,
        layers: usize,
        final_norm: bool,
        rng: &mut Rng,
    ) -> Self {
        let d = config.d_model;
        DigitModel {
            embed: Embedding::new(&mut params.scope("embed"), VOCAB, d, rng),
            encoder: TransformerEncoder::new(
                &mut params.scope("encoder"),
                config.batch_first(true),
                layers,
                final_norm,
                rng,
            ),
            head: Linear::new(&mut params.scope("head"), d, VOCAB, true, rng),
        }
    }
}
// ANCHOR_END: digit_model

// ANCHOR: digit_model_forward
impl DigitModel {
    /// The encoder's output `[batch, LEN, d]` for `batch` rows of `LEN` digits.
    pub fn encode<'t>(&self, ctx: &Ctx<'t>, ids: &[usize], batch: usize) -> Var<'t> {
        let x = add_positions(ctx, self.embed.forward(ctx, ids, batch)); // [B, T, d]
        self.encoder.forward(ctx, x) // [B, T, d]
    }

    /// Logits `[batch * LEN, VOCAB]` from the encoder's output `h`.
    pub fn head_logits<'t>(&self, ctx: &Ctx<'t>, h: Var<'t>, batch: usize) -> Var<'t> {
        self.head.forward(ctx, h).reshape([batch * LEN, VOCAB]) // [B, T, V] -> [B*T, V]
    }

    /// Logits `[batch * LEN, VOCAB]` for `batch` rows of `LEN` digits.
    pub fn logits<'t>(&self, ctx: &Ctx<'t>, ids: &[usize], batch: usize) -> Var<'t> {
        self.head_logits(ctx, self.encode(ctx, ids, batch), batch)
    }
}
// ANCHOR_END: digit_model_forward
