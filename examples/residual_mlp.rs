//! A residual MLP learns y = sin(3x): layers, skips, a training loop, the
//! tape of one step, and a gradient check of every parameter.
//!
//! Run: `cargo run --release --example residual_mlp`
//!
//! Read next: the book's chapter on residual connections, and the modules
//! `resgrad::nn` (layers, `Residual`), `resgrad::optim` and `resgrad::check`.

use resgrad::check::gradcheck;
use resgrad::nn::{Ctx, Linear, Module, Params, Relu, Residual, Sequential};
use resgrad::optim::{AdamW, Optimizer};
use resgrad::{Rng, Tape, Tensor};

const WIDTH: usize = 16; // hidden width of the residual stream
const BLOCKS: usize = 2; // residual blocks
const STEPS: usize = 300; // training steps

/// `n` points x in [-1, 1] and their targets sin(3x), both `[n, 1]`.
fn data(n: usize, rng: &mut Rng) -> (Tensor, Tensor) {
    let x = Tensor::uniform([n, 1], -1.0, 1.0, rng);
    let y = x.map(|x| (3.0 * x).sin());
    (x, y)
}

/// Linear(1 -> 16), then BLOCKS times x + Linear(Relu(Linear(x))), then
/// Linear(16 -> 1). Each layer registers its weights in `params` under a
/// PyTorch-style name ("1.branch.0.weight"), like `nn.Sequential` would.
fn build(params: &mut Params, rng: &mut Rng) -> Sequential {
    // nn.Linear(1, 16), its weights named "0.weight" and "0.bias"
    let first = Linear::new(&mut params.scope("0"), 1, WIDTH, true, rng);
    let mut model = Sequential::new().push(first);
    for b in 1..=BLOCKS {
        let mut scope = params.scope(&format!("{b}.branch"));
        let branch = Sequential::new()
            .push(Linear::new(&mut scope.sub("0"), WIDTH, WIDTH, true, rng))
            .push(Relu)
            .push(Linear::new(&mut scope.sub("2"), WIDTH, WIDTH, true, rng));
        model = model.push(Residual::new(branch)); // y = x + branch(x)
    }
    let name = (BLOCKS + 1).to_string();
    let last = Linear::new(&mut params.scope(&name), WIDTH, 1, true, rng);
    model.push(last)
}

fn main() {
    let mut rng = Rng::new(7); // one seed behind every random number
    let mut params = Params::new();
    let model = build(&mut params, &mut rng);
    println!("{params}\n"); // like printing model.state_dict() shapes

    // --- Training: one tape per step (PyTorch builds a fresh graph each step too).
    let (x, y) = data(128, &mut rng);
    let mut opt = AdamW::new(1e-2); // torch.optim.AdamW(model.parameters(), lr=1e-2)
    let mut losses = Vec::new();
    for step in 0..STEPS {
        let tape = Tape::new();
        // The pass reads `params` and records on `tape` (the seed is for dropout).
        let ctx = Ctx::train(&tape, &params, step as u64);
        let pred = model.forward(&ctx, ctx.input(x.clone())); // model(x)
        let loss = pred.mse_loss(ctx.input(y.clone())); // F.mse_loss(pred, y)
        let grads = ctx.param_grads(&tape.backward(loss)); // loss.backward()
        // Read the loss now: once `params` changes, no Var of this pass may be used.
        losses.push(loss.value().item());
        opt.step(&mut params, &grads); // optimizer.step()
        if step % 50 == 0 || step == STEPS - 1 {
            println!("step {step:3}  mse {:.5}", losses[step]);
        }
    }
    let (first, last) = (losses[0], losses[STEPS - 1]);
    println!("mse fell from {first:.4} to {last:.5} ({:.0}x)\n", first / last);
    assert!(last < first / 20.0, "the loss should fall at least 20x");

    // --- The tape of one forward pass, on 2 points so the listing is short.
    // `backward` walks this list from the bottom up; it adds no entries.
    let (x2, y2) = data(2, &mut rng);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let _loss = model.forward(&ctx, ctx.input(x2.clone())).mse_loss(ctx.input(y2));
    println!("the tape backward walks, bottom up (#id op [shape] <- inputs):\n{tape}");

    // --- Gradient check of d(output)/d(input, every weight). gradcheck
    // hands the closure perturbed copies of `inputs` as leaves `v`; `ctx.bind`
    // makes the model use v[1..] in place of its stored weights.
    //
    // Why the leak: the closure must work for a tape of *any* lifetime 't, and
    // `Ctx<'t>` borrows the tape and the params for that same 't, so the params
    // must live for 'static. Without this line: error[E0597]: `params` does not
    // live long enough ... "requires that `params` is borrowed for `'static`".
    let params: &'static Params = Box::leak(Box::new(params)); // once, ~5 KB
    let mut inputs = vec![x2];
    inputs.extend(params.iter().map(|(_, p)| p.value.as_ref().clone())); // the weights
    let checked = gradcheck(
        |tape, v| {
            let ctx = Ctx::eval(tape, params);
            for (i, (id, _)) in params.iter().enumerate() {
                ctx.bind(id, v[i + 1]); // weight i is now the leaf v[i + 1]
            }
            model.forward(&ctx, v[0])
        },
        &inputs,
    );
    // A failed check is an Err naming the op and the worst element: show it, fail.
    let report = checked.unwrap_or_else(|e| panic!("{e}"));
    let pct = 100.0 * report.worst_ratio;
    let n = params.len();
    println!("gradcheck (input + {n} weights): passed, worst probe at {pct:.1}% of tol.");
}
