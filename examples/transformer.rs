//! A small pre-norm transformer learns to reverse digit sequences, then is
//! saved as safetensors, loaded into a fresh model, and checked bit for bit.
//!
//! Run: `cargo run --release --example transformer`
//!
//! Read next: the book's chapters on attention and pre- vs post-norm, and the
//! modules `resgrad::nn` (`TransformerEncoderLayer`), `resgrad::optim`, `resgrad::io`.

use resgrad::nn::{
    Ctx, Embedding, EncoderLayerConfig, LayerNorm, Linear, Module, Params,
};
use resgrad::nn::{TransformerEncoderLayer, add_positions};
use resgrad::optim::{AdamW, Optimizer, clip_grad_norm, linear_warmup};
use resgrad::{Rng, Tape, Tensor, Var};

const VOCAB: usize = 10; // the digits 0..9
const LEN: usize = 5; // digits per sequence
const D: usize = 32; // model width (d_model)
const LAYERS: usize = 1; // encoder layers (more learn too, but slower in debug)
const STEPS: usize = 150; // training steps
const BATCH: usize = 16; // sequences per step
const WARMUP: usize = 30; // steps of linear learning-rate warmup
const LR: f64 = 1e-2; // peak learning rate
const TEST: usize = 128; // held-out sequences

/// `batch` random sequences, flattened row after row, and their reversals.
fn reverse_batch(batch: usize, rng: &mut Rng) -> (Vec<usize>, Vec<usize>) {
    let inputs: Vec<usize> = (0..batch * LEN).map(|_| rng.below(VOCAB)).collect();
    let targets = inputs.chunks(LEN).flat_map(|row| row.iter().rev().copied()).collect();
    (inputs, targets)
}

/// Embedding + positions -> LAYERS pre-norm encoder layers -> LayerNorm -> Linear.
struct Model {
    embed: Embedding,
    layers: Vec<TransformerEncoderLayer>,
    norm: LayerNorm, // pre-norm never normalises the residual stream: do it here
    head: Linear,
}

impl Model {
    /// Registers every weight in `params` under PyTorch-style names.
    fn new(params: &mut Params, rng: &mut Rng) -> Model {
        // nn.TransformerEncoderLayer(32, nhead=4, dim_feedforward=64, dropout=0,
        //                            batch_first=True, norm_first=True)
        let config = EncoderLayerConfig::new(D, 4).dim_feedforward(64).dropout(0.0);
        let config = config.batch_first(true).norm_first(true);
        let layers = (0..LAYERS)
            .map(|i| {
                let mut scope = params.scope(&format!("layers.{i}"));
                TransformerEncoderLayer::new(&mut scope, config, rng)
            })
            .collect();
        Model {
            embed: Embedding::new(&mut params.scope("embed"), VOCAB, D, rng),
            layers,
            norm: LayerNorm::new(&mut params.scope("norm"), D),
            head: Linear::new(&mut params.scope("head"), D, VOCAB, true, rng),
        }
    }

    /// Logits `[batch * LEN, VOCAB]` for `batch` rows of LEN digits.
    fn logits<'t>(&self, ctx: &Ctx<'t>, ids: &[usize], batch: usize) -> Var<'t> {
        let mut x = add_positions(ctx, self.embed.forward(ctx, ids, batch)); // [B, T, D]
        for layer in &self.layers {
            x = layer.forward(ctx, x); // x + SA(LN(x)), then x + FF(LN(x))
        }
        let logits = self.head.forward(ctx, self.norm.forward(ctx, x)); // [B, T, VOCAB]
        logits.reshape([batch * LEN, VOCAB]) // one row per token, as cross_entropy wants
    }
}

/// The logits for `ids` from an evaluation pass (like `model.eval()` + `torch.no_grad()`:
/// no dropout, and we never call backward on this tape).
fn predict(model: &Model, params: &Params, ids: &[usize]) -> Tensor {
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, params);
    model.logits(&ctx, ids, ids.len() / LEN).value().as_ref().clone()
}

/// The fraction of rows of `logits` whose largest entry is the target (argmax == y).
fn accuracy(logits: &Tensor, targets: &[usize]) -> f64 {
    let argmax = |row: &[f32]| (0..VOCAB).max_by(|&a, &b| row[a].total_cmp(&row[b]));
    let rows = logits.data().chunks(VOCAB);
    let hits = rows.zip(targets).filter(|(row, t)| argmax(row) == Some(**t)).count();
    hits as f64 / targets.len() as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = Rng::new(2026);
    let mut params = Params::new();
    let model = Model::new(&mut params, &mut rng);
    println!("{} weights in {} tensors", params.numel(), params.len());

    let (test_x, test_y) = reverse_batch(TEST, &mut Rng::new(99)); // held-out sequences
    let mut opt = AdamW::new(LR); // torch.optim.AdamW(params, lr=1e-2)
    let (mut losses, mut acc) = (Vec::new(), 0.0);
    for step in 0..STEPS {
        let (x, y) = reverse_batch(BATCH, &mut rng);
        let tape = Tape::new(); // a fresh graph per step, as in PyTorch
        let ctx = Ctx::train(&tape, &params, step as u64);
        let loss = model.logits(&ctx, &x, BATCH).cross_entropy(&y); // F.cross_entropy
        let mut grads = ctx.param_grads(&tape.backward(loss)); // loss.backward()
        // Read the loss now: while `ctx` or any Var of this pass is still used,
        // `params` stays borrowed and `opt.step` below may not change it.
        let loss = loss.value().item();
        let norm = clip_grad_norm(&mut grads, 1.0); // nn.utils.clip_grad_norm_(.., 1.0)
        opt.set_lr(LR * linear_warmup(step, WARMUP)); // lr rises over the first steps
        opt.step(&mut params, &grads); // opt.step()
        losses.push(loss);
        if step % 25 == 0 || step == STEPS - 1 {
            acc = accuracy(&predict(&model, &params, &test_x), &test_y);
            let pct = 100.0 * acc;
            println!("step {step:3}  loss {loss:.4}  |grad| {norm:5.2}  acc {pct:5.1}%");
        }
    }
    let (first, last) = (losses[0], losses[STEPS - 1]);
    assert!(last < first / 5.0, "loss {first} -> {last}: expected a fall of at least 5x");
    assert!(acc >= 0.95, "held-out token accuracy {acc}: expected at least 95%");

    // --- Save, then load into a freshly built model (other seed: other weights).
    let file = format!("resgrad-transformer-{}.safetensors", std::process::id());
    let path = std::env::temp_dir().join(file);
    params.save_safetensors(&path)?; // save_file(model.state_dict(), path)
    let mut fresh_params = Params::new();
    let fresh = Model::new(&mut fresh_params, &mut Rng::new(1));
    let bits = |t: Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    let trained = bits(predict(&model, &params, &test_x));
    let before = bits(predict(&fresh, &fresh_params, &test_x));
    assert_ne!(trained, before, "a fresh model should not match the trained one");
    // model.load_state_dict(safetensors.torch.load_file(path)): strict, all or nothing
    let loaded = fresh_params.load_safetensors(&path);
    std::fs::remove_file(&path)?; // clean up first, so that a failure leaves no file
    loaded?;
    println!("saved and reloaded {} ({} tensors)", path.display(), fresh_params.len());

    // --- The reloaded model must compute exactly the same logits, bit for bit.
    let reloaded = bits(predict(&fresh, &fresh_params, &test_x));
    assert_eq!(trained, reloaded, "the reloaded model computes different logits");
    let n = trained.len();
    println!("reloaded model: all {n} logits equal the trained model's, bit for bit");
    Ok(())
}
