//! Training a deep MLP: the same 32 blocks, the same initial weights, the
//! same optimiser and the same batches, with and without skips.
//!
//! The task is to imitate a fixed random *teacher*: a small tanh network
//! `y = V tanh(U x)` from 8 inputs to 4 outputs. Any student that is wide
//! and deep enough can fit it, so what differs between the two students
//! below is only whether gradient descent gets there.
//!
//! Each student is an input layer, 32 blocks, and an output layer:
//!
//! ```text
//! x [n, 8] -> Linear(8 -> 16) -> 32 blocks [n, 16] -> Linear(16 -> 4) -> ŷ [n, 4]
//! block:  plain    h ← F(h)
//!         residual h ← h + F(h)         F = Linear(16 -> 32), ReLU, Linear(32 -> 16)
//! ```
//!
//! built from [`Residual`] around a [`FeedForward`] branch, with the skip
//! switched off ([`ResidualOptions::plain`]) for the plain student. Both are
//! built from the same seed, so their weights start out identical.
//!
//! The loss is reported as a fraction of a baseline: the mean squared error
//! of always predicting the mean of the targets, which is what a network
//! whose output ignores its input can at best achieve. A loss of 1 means
//! "learned nothing about `x`"; the target, 0.1, means "explains 90% of
//! the teacher's variance".
//!
//! The plain student never gets off the baseline: at initialisation its
//! output does not depend on its input at all, to `f32` precision (see
//! experiment 04, `04_forward_signal.rs`), and the gradient that reaches
//! its first blocks is tens of orders of magnitude smaller than at its last
//! (see experiment 03, `03_vanishing_gradients.rs`). Adam does not enlarge
//! such gradients: its step is `lr · m / (√v + ε)` with `ε = 1e-8`, about
//! `lr · g / ε` when `|g| ≪ ε`. And no optimiser can recover a dependence on
//! `x` that the forward pass has already rounded away.
//!
//! `cargo run --release --example 05_deep_mlp_training [-- --quick]` (quick mode writes
//! into `target/figures-quick/`; a full run rewrites the book's figures).

use lab::{Claim, Figure, Outcome, Series, Table, fmt_num};
use resgrad::nn::{
    Activation, Ctx, FeedForward, Linear, Module, Params, Residual, ResidualOptions,
};
use resgrad::optim::{AdamW, Optimizer};
use resgrad::rng::Rng;
use resgrad::tape::{Tape, Var};
use resgrad::tensor::Tensor;

/// Input and output widths of the task, width of the stream, hidden width
/// of each branch, hidden width of the teacher.
const INPUTS: usize = 8;
const OUTPUTS: usize = 4;
const WIDTH: usize = 16;
const HIDDEN: usize = 32;
const TEACHER_HIDDEN: usize = 32;

/// Blocks in each student.
pub const DEPTH: usize = 32;

/// The target: a tenth of the baseline loss (90% of the variance explained).
pub const TARGET: f64 = 0.1;

/// The fixed random network both students imitate.
struct Teacher {
    u: Tensor, // [TEACHER_HIDDEN, INPUTS]
    v: Tensor, // [OUTPUTS, TEACHER_HIDDEN]
}

impl Teacher {
    /// Gaussian weights with variance 1/fan-in, so `U x` has unit variance
    /// per unit and the tanh is used well into its curved part.
    fn new(rng: &mut Rng) -> Teacher {
        Teacher {
            u: Tensor::normal(
                [TEACHER_HIDDEN, INPUTS],
                0.0,
                1.0 / (INPUTS as f32).sqrt(),
                rng,
            ),
            v: Tensor::normal(
                [OUTPUTS, TEACHER_HIDDEN],
                0.0,
                1.0 / (TEACHER_HIDDEN as f32).sqrt(),
                rng,
            ),
        }
    }

    /// `n` random inputs `x ~ N(0, I)` and the teacher's outputs for them.
    fn batch(&self, n: usize, rng: &mut Rng) -> (Tensor, Tensor) {
        let x = Tensor::normal([n, INPUTS], 0.0, 1.0, rng);
        let tape = Tape::new();
        let xv = tape.constant(x.clone());
        let ut = tape.constant(self.u.clone()).transpose(); // [INPUTS, TEACHER_HIDDEN]
        let vt = tape.constant(self.v.clone()).transpose(); // [TEACHER_HIDDEN, OUTPUTS]
        let y = xv.matmul(ut).tanh().matmul(vt); // [n, INPUTS] -> [n, TEACHER_HIDDEN] -> [n, OUTPUTS]
        (x, (*y.value()).clone())
    }
}

/// A deep MLP student.
struct Student {
    input: Linear,
    blocks: Vec<Residual<FeedForward>>,
    head: Linear,
}

impl Student {
    /// Built from `seed`: the same seed gives the same weights whatever the
    /// wiring, since the skip adds no parameters.
    fn new(params: &mut Params, residual: bool, seed: u64) -> Student {
        let mut rng = Rng::new(seed);
        let input =
            Linear::new(&mut params.scope("input"), INPUTS, WIDTH, true, &mut rng);
        let blocks = (0..DEPTH)
            .map(|k| {
                let mut scope = params.scope(&format!("blocks.{k}"));
                let ff = FeedForward::new(
                    &mut scope.sub("ff"),
                    WIDTH,
                    HIDDEN,
                    Activation::Relu,
                    0.0,
                    true,
                    &mut rng,
                );
                let options = if residual {
                    ResidualOptions::default()
                } else {
                    ResidualOptions::plain()
                };
                Residual::new(ff).with_options(&mut scope, options)
            })
            .collect();
        let head = Linear::new(&mut params.scope("head"), WIDTH, OUTPUTS, true, &mut rng);
        Student { input, blocks, head }
    }

    /// `x [n, INPUTS] -> ŷ [n, OUTPUTS]`.
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        let h = self.input.forward(ctx, x); // [n, WIDTH]
        let h = self.blocks.iter().fold(h, |h, b| b.forward(ctx, h)); // [n, WIDTH]
        self.head.forward(ctx, h) // [n, OUTPUTS]
    }
}

/// The mean over elements of the squared deviation of `y` from its column
/// means: the loss of predicting the mean, the baseline every loss here is
/// divided by.
fn baseline_loss(y: &Tensor) -> f64 {
    let cols = y.dims()[1];
    let rows = y.dims()[0];
    let mut mean = vec![0.0f64; cols];
    for row in y.data().chunks_exact(cols) {
        mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64 / rows as f64);
    }
    let sq: f64 = y
        .data()
        .chunks_exact(cols)
        .flat_map(|r| r.iter().zip(&mean).map(|(&v, m)| (v as f64 - m).powi(2)))
        .sum();
    sq / y.numel() as f64
}

/// How a training run went.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// `(step, held-out loss / baseline)`, at step 0 and every evaluation.
    pub curve: Vec<(usize, f64)>,
    /// The first evaluated step at which the relative loss was below [`TARGET`].
    pub reached_target: Option<usize>,
}

// ANCHOR: train
/// Trains one student for `steps` AdamW steps of `batch` fresh examples,
/// evaluating on a fixed held-out set every `eval_every` steps.
pub fn train(
    residual: bool,
    steps: usize,
    batch: usize,
    eval_every: usize,
    lr: f64,
) -> Run {
    let mut rng = Rng::new(5);
    let teacher = Teacher::new(&mut rng);
    let (x_eval, y_eval) = teacher.batch(1024, &mut rng);
    let baseline = baseline_loss(&y_eval);
    let mut params = Params::new();
    let student = Student::new(&mut params, residual, 17);
    let mut opt = AdamW::new(lr).weight_decay(0.0);
    let mut data_rng = Rng::new(23); // the same batches for both students

    let eval = |params: &Params| {
        let tape = Tape::new();
        let ctx = Ctx::eval(&tape, params);
        let pred = student.forward(&ctx, ctx.input(x_eval.clone()));
        pred.mse_loss(ctx.input(y_eval.clone())).value().item() as f64 / baseline
    };
    let mut curve = vec![(0, eval(&params))];
    let mut reached_target = None;
    for step in 1..=steps {
        let (x, y) = teacher.batch(batch, &mut data_rng);
        let tape = Tape::new();
        let ctx = Ctx::train(&tape, &params, step as u64);
        let loss = student.forward(&ctx, ctx.input(x)).mse_loss(ctx.input(y));
        let grads = ctx.param_grads(&tape.backward(loss));
        drop(ctx);
        opt.step(&mut params, &grads);
        if step % eval_every == 0 || step == steps {
            let rel = eval(&params);
            curve.push((step, rel));
            if rel < TARGET && reached_target.is_none() {
                reached_target = Some(step);
            }
        }
    }
    Run { curve, reached_target }
}
// ANCHOR_END: train

/// Runs the experiment: both students, 1500 steps each (300 when `quick`),
/// AdamW with learning rate 1e-3 and no weight decay, batches of 64.
pub fn run(quick: bool) -> Outcome {
    let (steps, eval_every) = if quick { (300, 10) } else { (1500, 50) };
    let (batch, lr) = (64, 1e-3);
    let plain = train(false, steps, batch, eval_every, lr);
    let residual = train(true, steps, batch, eval_every, lr);

    let mut table =
        Table::new(&["step", "plain loss / baseline", "residual loss / baseline"]);
    // Every tenth of the run in the table; every evaluation in the figure.
    for (p, r) in
        plain.curve.iter().zip(&residual.curve).filter(|(p, _)| p.0 % (steps / 10) == 0)
    {
        table.push(vec![p.0.to_string(), fmt_num(p.1), fmt_num(r.1)]);
    }
    let series = |name: &str, run: &Run| Series {
        name: name.to_string(),
        points: run.curve.iter().map(|&(s, l)| (s as f64, l)).collect(),
    };
    let figures = vec![Figure {
        file: "deep_mlp_training".into(),
        title: format!(
            "Held-out loss of a {DEPTH}-block MLP, plain vs residual (1 = predicting the mean)"
        ),
        x_label: "step".into(),
        y_label: "loss / baseline".into(),
        log_x: false,
        log_y: true,
        series: vec![series("plain", &plain), series("residual", &residual)],
    }];
    let final_of = |r: &Run| r.curve.last().map_or(f64::NAN, |p| p.1);
    let reached = |r: &Run| {
        r.reached_target.map_or("never".to_string(), |s| format!("at step {s}"))
    };
    // Thresholds: the target is a tenth of the baseline (90% of the
    // teacher's variance explained), and "learned nothing" is a loss above
    // 0.9 of the baseline (under 10% explained). The residual student ends
    // about 3× below the target in quick mode and 12× below in full mode,
    // and the plain one at the baseline itself, so neither verdict is close.
    let plain_final = final_of(&plain);
    let claims = vec![
        Claim::new(
            format!(
                "in {steps} steps, the residual {DEPTH}-block MLP reaches a tenth of the baseline loss and the plain one does not"
            ),
            format!(
                "residual reaches {TARGET} {} (final {}); plain {} (final {}); baseline = loss of predicting the mean",
                reached(&residual),
                fmt_num(final_of(&residual)),
                reached(&plain),
                fmt_num(final_of(&plain))
            ),
            residual.reached_target.is_some() && plain.reached_target.is_none(),
        ),
        Claim::new(
            format!(
                "without skips, the {DEPTH}-block MLP learns essentially nothing: it does no better than predicting the mean"
            ),
            format!("plain final loss / baseline {} (needs > 0.9)", fmt_num(plain_final)),
            plain_final > 0.9,
        ),
    ];
    Outcome {
        name: "deep_mlp_training".into(),
        title: format!(
            "Training a {DEPTH}-block MLP to imitate a random teacher, plain vs residual"
        ),
        table,
        figures,
        claims,
    }
}

fn main() -> std::io::Result<()> {
    lab::run_example(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_32_block_mlp_reaches_the_target_loss_with_skips_and_stays_at_the_baseline_without()
     {
        let outcome = run(true);
        lab::assert_claims_hold(&outcome);
        assert_eq!(outcome.claims.len(), 2);
        // Steps 0, 30, ..., 300; one figure of both loss curves.
        assert_eq!(outcome.table.rows.len(), 11);
        assert_eq!(outcome.figures.len(), 1);
    }
}
