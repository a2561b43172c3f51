//! A custom op: softplus, y = ln(1 + eˣ), written through the `Backward` trait,
//! used in a small residual block, and checked against finite differences.
//! Then a deliberately wrong backward rule, which the check catches.
//!
//! Run: `cargo run --release --example custom_op`
//!
//! Read next: `resgrad::tape` (`Tape::push`, the `Backward` trait), the one-file
//! ops in `src/ops/` (`tanh.rs`, `relu.rs`), and `resgrad::check`.

use resgrad::check::gradcheck;
use resgrad::nn::{Ctx, Linear, Module, Params, Residual, Sequential};
use resgrad::{Backward, Rng, Tape, Tensor, Var};

// ---------------------------------------------------------------------------
// The op. (In PyTorch: a torch.autograd.Function with forward and backward.)
//
//   forward:  y  = ln(1 + eˣ)
//   backward: dx = dy · σ(x),   σ(x) = 1 / (1 + e⁻ˣ)   (softplus' slope is the sigmoid)

/// The backward rule. It keeps no state: the tape hands it the inputs' values.
struct Softplus;

impl Backward for Softplus {
    fn name(&self) -> &'static str {
        "softplus" // the name the tape listing and error messages show
    }

    /// Given the input `x[0]`, the output `y` and dy = dL/dy, return dL/dx.
    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        vec![dy.zip_map(x[0], |dy, x| dy / (1.0 + (-x).exp()))] // one per input
    }
}

/// Adds `.softplus()` to `Var`, next to the built-in `.relu()` and `.tanh()`.
trait SoftplusExt<'t> {
    fn softplus(self) -> Var<'t>;
}

impl<'t> SoftplusExt<'t> for Var<'t> {
    #[track_caller] // a panic inside (e.g. another tape's Var) points at the caller
    fn softplus(self) -> Var<'t> {
        let y = softplus_values(&self.value());
        self.tape().push(y, &[self], Softplus) // record value, inputs and rule
    }
}

/// ln(1 + eˣ) written as max(x, 0) + ln(1 + e^-|x|), so eˣ never overflows.
fn softplus_values(x: &Tensor) -> Tensor {
    x.map(|x| x.max(0.0) + (-x.abs()).exp().ln_1p())
}

// ---------------------------------------------------------------------------
// The same op as a layer, so it fits in `Sequential` (like nn.Softplus()).
struct SoftplusLayer;

impl Module for SoftplusLayer {
    fn forward<'t>(&self, _ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        x.softplus()
    }
}

// ---------------------------------------------------------------------------
/// A wrong rule, for the demonstration: it forgets the chain rule (no `dy ·`).
struct ForgotChainRule;

impl Backward for ForgotChainRule {
    fn name(&self) -> &'static str {
        "softplus_wrong"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, _dy: &Tensor) -> Vec<Tensor> {
        vec![x[0].map(|x| 1.0 / (1.0 + (-x).exp()))] // σ(x) alone: wrong
    }
}

// ---------------------------------------------------------------------------
/// x + softplus(x W1 + b1) W2 from plain ops, on the inputs [x, W1, b1, W2].
/// A named `fn` spells out gradcheck's signature: every Var lives on the tape `'t`.
/// (A closure works too if written inline in the call, as in step 2; one stored
/// in a `let` first gets no such signature and fails to compile.)
fn plain_block<'t>(_tape: &'t Tape, v: &[Var<'t>]) -> Var<'t> {
    let (x, w1, b1, w2) = (v[0], v[1], v[2], v[3]);
    x + x.matmul(w1).add_bias(b1).softplus().matmul(w2) // [2, 4] -> [2, 8] -> [2, 4]
}

/// softplus forward with the wrong backward rule.
fn wrong_softplus<'t>(tape: &'t Tape, v: &[Var<'t>]) -> Var<'t> {
    tape.push(softplus_values(&v[0].value()), &[v[0]], ForgotChainRule)
}

fn main() {
    let mut rng = Rng::new(3);

    // 1. The op on three numbers: the slope at 0 is σ(0) = 1/2.
    let tape = Tape::new();
    let x = tape.leaf(Tensor::from_vec(vec![-2.0, 0.0, 2.0], [3]));
    let grads = tape.backward(x.softplus().sum()); // d(sum softplus(x))/dx = σ(x)
    println!("x = [-2, 0, 2]  softplus'(x) = {:.4?}", grads[x].data());
    assert_eq!(grads[x].data()[1], 0.5);

    // 2. gradcheck the op alone: finite differences vs our backward rule.
    let x = Tensor::normal([4, 5], 0.0, 2.0, &mut rng);
    let checked = gradcheck(|_tape, v| v[0].softplus(), &[x]);
    let report = checked.unwrap_or_else(|e| panic!("{e}")); // Err names op and element
    let pct = 100.0 * report.worst_ratio;
    println!("gradcheck softplus: passed, worst probe at {pct:.1}% of tolerance");

    // 3. In a residual block x + Linear(softplus(Linear(x))), built from nn layers.
    let (mut params, d) = (Params::new(), 4);
    let branch = Sequential::new()
        .push(Linear::new(&mut params.scope("0"), d, 8, true, &mut rng))
        .push(SoftplusLayer)
        .push(Linear::new(&mut params.scope("2"), 8, d, true, &mut rng));
    let block = Residual::new(branch); // y = x + branch(x)
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let x = tape.leaf(Tensor::normal([2, d], 0.0, 1.0, &mut rng)).label("x");
    let grads = tape.backward(block.forward(&ctx, x).sum());
    println!("\nthe residual block on the tape:\n{tape}");
    let dx = grads[x].data();
    println!("dL/dx = {dx:.3?}\n  (1 from the skip, plus the branch's share)");

    // 4. gradcheck the same block, from plain ops, with respect to x and the weights.
    // (To check the nn version, bind the weights with `ctx.bind`: see residual_mlp.rs.)
    let inputs = [
        Tensor::normal([2, d], 0.0, 1.0, &mut rng), // x
        Tensor::normal([d, 8], 0.0, 0.5, &mut rng), // w1
        Tensor::normal([8], 0.0, 0.5, &mut rng),    // b1
        Tensor::normal([8, d], 0.0, 0.5, &mut rng), // w2
    ];
    let report = gradcheck(plain_block, &inputs).unwrap_or_else(|e| panic!("{e}"));
    let pct = 100.0 * report.worst_ratio;
    println!("gradcheck of the block: passed, worst probe at {pct:.1}% of tolerance");

    // 5. The wrong rule: gradcheck must fail, and say where.
    let x = Tensor::normal([4, 5], 0.0, 2.0, &mut rng);
    match gradcheck(wrong_softplus, &[x]) {
        Ok(report) => panic!("a wrong backward rule passed gradcheck: {report:?}"),
        Err(e) => println!("\nthe wrong rule, as gradcheck reports it:\n{e}"),
    }
}
