//! Addition or concatenation: two ways to merge a branch back into the
//! stream, and what each costs as the network gets deeper.
//!
//! A skip has to combine the block's input `x` with its branch's output
//! `F(x)`. Adding them, `x + F(x)`, keeps the width; concatenating them,
//! `[x, F(x)]`, keeps both intact side by side (as DenseNet does), but
//! widens the stream, and every later block has to read the wider input.
//! The blocks here differ only in [`Merge`], this experiment's own switch:
//!
//! ```text
//! x [n, 2] -> Linear(2 -> d) -> L blocks -> Linear(width -> 3) -> logits [n, 3]
//! branch of block k: Linear(w_k -> 32), ReLU, Linear(32 -> d)         (d = 16)
//! add:     w_k = d            for every block: [n, d] -> [n, d]
//! concat:  w_k = d (k + 1)    block k:  [n, d (k+1)] -> [n, d (k+2)]
//! ```
//!
//! The branch always produces `d` new features, so with concatenation block
//! `k` (counting from 0) reads `d (k + 1)` features: the input layer's `d`
//! plus `d` from each block before it. Its first layer then costs
//! `32 · d (k + 1)` multiply-adds per example, growing with `k`, and summed
//! over `L` blocks the cost grows like `L²`. With addition every block costs
//! the same, and the total grows like `L`.
//!
//! The costs are read off the built models: the width of the output,
//! [`Params::numel`], and the multiply-adds per example of every `Linear`
//! (`in · out` each; biases, ReLUs and the merges are `O(width)` and left
//! out). Then both variants, at 8 blocks, train on the same task (three
//! interleaved spiral arms in the plane) for the same steps.
//!
//! `cargo run --release --example 09_add_vs_concat [-- --quick]` (quick mode writes
//! into `target/figures-quick/`; a full run rewrites the book's figures).

use lab::{Claim, Figure, Outcome, Series, Table, fmt_num};
use resgrad::nn::{Ctx, Linear, Module, Params, Relu, Sequential};
use resgrad::optim::{AdamW, Optimizer};
use resgrad::rng::Rng;
use resgrad::tape::{Tape, Var};
use resgrad::tensor::Tensor;

/// Width of the input layer's output and of every branch's output.
const D: usize = 16;
/// Hidden width of every branch.
const HIDDEN: usize = 32;
/// Classes (spiral arms).
const CLASSES: usize = 3;
/// Blocks in the trained models.
const TRAIN_DEPTH: usize = 8;

// ANCHOR: merge
/// How a block's branch rejoins the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// `x + F(x)`: the width stays the same.
    Add,
    /// `[x, F(x)]` along the feature axis: the width grows by F's width.
    Concat,
}

/// One block: the branch `F` and how it merges with the stream.
pub struct Block {
    branch: Sequential,
    merge: Merge,
}

impl Module for Block {
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        let f = self.branch.forward(ctx, x); // [n, w] -> [n, d]
        match self.merge {
            Merge::Add => x + f,                      // [n, d]
            Merge::Concat => Var::concat(&[x, f], 1), // [n, w + d]
        }
    }
}
// ANCHOR_END: merge

/// A model with `L` blocks merged by addition or concatenation.
pub struct Model {
    input: Linear,
    blocks: Vec<Block>,
    head: Linear,
    /// Every `Linear` of the model as `(in, out)`, in order.
    pub linear_shapes: Vec<(usize, usize)>,
    /// Width of the stream after the last block.
    pub width: usize,
}

impl Model {
    /// Builds `depth` blocks merged by `merge`, registering their weights
    /// in `params`, from a generator seeded with `seed`.
    pub fn new(params: &mut Params, merge: Merge, depth: usize, seed: u64) -> Model {
        let mut rng = Rng::new(seed);
        let input = Linear::new(&mut params.scope("input"), 2, D, true, &mut rng);
        let mut shapes = vec![(2, D)];
        let mut width = D;
        let mut blocks = Vec::with_capacity(depth);
        for k in 0..depth {
            let mut scope = params.scope(&format!("blocks.{k}.branch"));
            let l1 = Linear::new(&mut scope.sub("0"), width, HIDDEN, true, &mut rng);
            let l2 = Linear::new(&mut scope.sub("2"), HIDDEN, D, true, &mut rng);
            shapes.extend([(width, HIDDEN), (HIDDEN, D)]);
            let branch = Sequential::new().push(l1).push(Relu).push(l2);
            blocks.push(Block { branch, merge });
            // ANCHOR: width_rule
            width = match merge {
                Merge::Add => width,        // x + F(x): [n, w] -> [n, w]
                Merge::Concat => width + D, // [x, F(x)]: [n, w] -> [n, w + d]
            };
            // ANCHOR_END: width_rule
        }
        let head = Linear::new(&mut params.scope("head"), width, CLASSES, true, &mut rng);
        shapes.push((width, CLASSES));
        Model { input, blocks, head, linear_shapes: shapes, width }
    }

    /// Multiply-adds per example: `Σ in · out` over the `Linear` layers.
    pub fn flops_per_example(&self) -> usize {
        self.linear_shapes.iter().map(|&(i, o)| i * o).sum()
    }

    /// The stream after the last block: `x [n, 2] -> h [n, width]`.
    pub fn features<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        let h = self.input.forward(ctx, x); // [n, d]
        self.blocks.iter().fold(h, |h, b| b.forward(ctx, h)) // [n, width]
    }

    /// `x [n, 2] -> logits [n, CLASSES]`.
    pub fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        self.head.forward(ctx, self.features(ctx, x)) // [n, width] -> [n, CLASSES]
    }
}

/// `n` points of three interleaved spiral arms: for `r` uniform in
/// `[0, 1)`, class `c` puts a point at radius `2r` and angle `2πc/3 + 3πr`
/// (one and a half turns), with Gaussian noise of 0.15 rad on the angle. Returns `x [n, 2]` and classes.
pub fn spirals(n: usize, rng: &mut Rng) -> (Tensor, Vec<usize>) {
    let mut x = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let c = rng.below(CLASSES);
        let r = rng.uniform();
        let angle = std::f32::consts::TAU * c as f32 / CLASSES as f32
            + 3.0 * std::f32::consts::PI * r
            + 0.15 * rng.normal();
        x.extend([2.0 * r * angle.cos(), 2.0 * r * angle.sin()]);
        labels.push(c);
    }
    (Tensor::from_vec(x, [n, 2]), labels)
}

/// How training one variant went.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingRun {
    /// `(step, held-out cross-entropy)` at step 0 and every evaluation.
    pub curve: Vec<(usize, f64)>,
    /// Held-out accuracy at the end.
    pub accuracy: f64,
    /// Parameters of the model.
    pub params: usize,
}

// ANCHOR: train
/// Trains `TRAIN_DEPTH` blocks merged by `merge` with AdamW for `steps`
/// steps of 64 fresh spiral points (learning rate 1e-3, no weight decay),
/// evaluating on 1000 held-out points.
pub fn train(merge: Merge, steps: usize, eval_every: usize) -> TrainingRun {
    let mut params = Params::new();
    let model = Model::new(&mut params, merge, TRAIN_DEPTH, 31);
    let (x_eval, y_eval) = spirals(1000, &mut Rng::new(41));
    let mut data_rng = Rng::new(43); // the same batches for both variants
    let mut opt = AdamW::new(1e-3).weight_decay(0.0);
    let eval = |params: &Params| evaluate(&model, params, &x_eval, &y_eval);
    let mut curve = vec![(0, eval(&params).0)];
    for step in 1..=steps {
        let (x, y) = spirals(64, &mut data_rng);
        let tape = Tape::new();
        let ctx = Ctx::train(&tape, &params, step as u64);
        let loss = model.forward(&ctx, ctx.input(x)).cross_entropy(&y);
        let grads = ctx.param_grads(&tape.backward(loss));
        drop(ctx);
        opt.step(&mut params, &grads);
        if step % eval_every == 0 || step == steps {
            curve.push((step, eval(&params).0));
        }
    }
    let accuracy = eval(&params).1;
    TrainingRun { curve, accuracy, params: params.numel() }
}
// ANCHOR_END: train

// ANCHOR: evaluate
/// Held-out cross-entropy and accuracy of `model` on the points `x` with
/// classes `y`; a point is correct when its class has strictly the largest logit.
fn evaluate(model: &Model, params: &Params, x: &Tensor, y: &[usize]) -> (f64, f64) {
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, params);
    let logits = model.forward(&ctx, ctx.input(x.clone()));
    let loss = logits.cross_entropy(y).value().item() as f64;
    let logits = logits.value();
    let correct = logits
        .data()
        .chunks_exact(CLASSES)
        .zip(y)
        .filter(|&(row, &t)| row.iter().enumerate().all(|(j, &v)| j == t || v < row[t]))
        .count();
    (loss, correct as f64 / y.len() as f64)
}
// ANCHOR_END: evaluate

/// What one built model costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    /// Width of the stream after the last block.
    pub width: usize,
    /// Scalar weights ([`Params::numel`]).
    pub params: usize,
    /// Multiply-adds per example ([`Model::flops_per_example`]).
    pub flops: usize,
}

/// Reads one figure off a [`Cost`].
type Pick = fn(&Cost) -> usize;

/// Builds a model of `depth` blocks merged by `merge` and reads its cost:
/// the width from the stream a forward pass actually produces, the
/// parameters from the store, the multiply-adds from the layer shapes.
pub fn cost(merge: Merge, depth: usize) -> Cost {
    let mut params = Params::new();
    let model = Model::new(&mut params, merge, depth, 0);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let width = model.features(&ctx, ctx.input(Tensor::zeros([1, 2]))).shape().last();
    assert_eq!(width, model.width, "the width rule and the forward pass disagree");
    Cost { width, params: params.numel(), flops: model.flops_per_example() }
}

/// Runs the experiment: costs for 1 to 16 blocks, then 8-block models of
/// both kinds trained for 1500 steps (300 when `quick`).
pub fn run(quick: bool) -> Outcome {
    let depths: Vec<usize> = (1..=16).collect();
    let (steps, eval_every) = if quick { (300, 10) } else { (1500, 50) };

    let mut table = Table::new(&[
        "depth",
        "add width",
        "concat width",
        "add params",
        "concat params",
        "add FLOPs",
        "concat FLOPs",
    ]);
    let mut add_cost = Vec::new();
    let mut cat_cost = Vec::new();
    for &depth in &depths {
        let (a, c) = (cost(Merge::Add, depth), cost(Merge::Concat, depth));
        table.push(vec![
            depth.to_string(),
            a.width.to_string(),
            c.width.to_string(),
            a.params.to_string(),
            c.params.to_string(),
            a.flops.to_string(),
            c.flops.to_string(),
        ]);
        add_cost.push(a);
        cat_cost.push(c);
    }

    let line = |name: &str, costs: &[Cost], pick: Pick| Series {
        name: name.to_string(),
        points: depths
            .iter()
            .zip(costs)
            .map(|(&d, c)| (d as f64, pick(c) as f64))
            .collect(),
    };
    let add_run = train(Merge::Add, steps, eval_every);
    let cat_run = train(Merge::Concat, steps, eval_every);
    let curve = |name: &str, r: &TrainingRun| Series {
        name: format!("{name} ({} params)", r.params),
        points: r.curve.iter().map(|&(s, l)| (s as f64, l)).collect(),
    };
    let figures = vec![
        Figure {
            file: "add_vs_concat_width".into(),
            title: "Width of the stream after L blocks".into(),
            x_label: "blocks (L)".into(),
            y_label: "features".into(),
            log_x: false,
            log_y: false,
            series: vec![
                line("add", &add_cost, |c| c.width),
                line("concat", &cat_cost, |c| c.width),
            ],
        },
        Figure {
            file: "add_vs_concat_cost".into(),
            title: "Parameters and multiply-adds per example after L blocks".into(),
            x_label: "blocks (L)".into(),
            y_label: "count".into(),
            log_x: true,
            log_y: true,
            series: vec![
                line("add params", &add_cost, |c| c.params),
                line("concat params", &cat_cost, |c| c.params),
                line("add FLOPs", &add_cost, |c| c.flops),
                line("concat FLOPs", &cat_cost, |c| c.flops),
            ],
        },
        Figure {
            file: "add_vs_concat_training".into(),
            title: format!(
                "Held-out cross-entropy on three spirals, {TRAIN_DEPTH} blocks"
            ),
            x_label: "step".into(),
            y_label: "cross-entropy".into(),
            log_x: false,
            log_y: true,
            series: vec![curve("add", &add_run), curve("concat", &cat_run)],
        },
    ];

    // The cost of one more block: the increment from L - 1 to L blocks.
    // Linear growth is a constant increment; quadratic growth an increment
    // that grows in proportion to L.
    let increments = |costs: &[Cost], pick: Pick| -> Vec<usize> {
        costs.windows(2).map(|w| pick(&w[1]) - pick(&w[0])).collect()
    };
    let (first, last) = (add_cost[0], add_cost[depths.len() - 1]);
    let (cat_first, cat_last) = (cat_cost[0], cat_cost[depths.len() - 1]);
    let widths_ok = depths
        .iter()
        .zip(add_cost.iter().zip(&cat_cost))
        .all(|(&l, (a, c))| a.width == D && c.width == D * (l + 1));
    let mut claims = vec![Claim::new(
        "concatenation widens the stream by the branch's width at every block; addition keeps it fixed",
        format!(
            "widths at L = 1 and 16: concat {} and {}, add {} and {} (needs concat = d(L+1) and add = d, \
             d = {D}, at every L)",
            cat_first.width, cat_last.width, first.width, last.width
        ),
        widths_ok,
    )];
    // Thresholds: with addition every block costs the same, so the
    // increment must not change at all (integers: exactly equal). With
    // concatenation, superlinear growth means an increment that rises with
    // every block; we also ask that the 16th block cost at least twice the
    // 2nd (the quadratic count predicts 8800 / 1632 ≈ 5.4 for parameters).
    let measures: [(&str, Pick); 2] =
        [("parameters", |c| c.params), ("multiply-adds per example", |c| c.flops)];
    for (what, pick) in measures {
        let add_inc = increments(&add_cost, pick);
        let cat_inc = increments(&cat_cost, pick);
        let add_constant = add_inc.iter().all(|&i| i == add_inc[0]);
        let cat_rising = cat_inc.windows(2).all(|w| w[1] > w[0]);
        let (cat_inc_first, cat_inc_last) = (cat_inc[0], cat_inc[cat_inc.len() - 1]);
        let growth = cat_inc_last as f64 / cat_inc_first as f64;
        claims.push(Claim::new(
            format!(
                "{what}: concatenation's grow superlinearly with depth, addition's linearly (a constant cost per block)"
            ),
            format!(
                "at L = 16: add {} vs concat {} ({}×); one more block costs add {} at every L, concat {} at \
                 L = 2 rising to {cat_inc_last} at L = 16 ({}×) (needs add constant, concat rising at every L \
                 and ≥ 2×)",
                pick(&last),
                pick(&cat_last),
                fmt_num(pick(&cat_last) as f64 / pick(&last) as f64),
                if add_constant { add_inc[0].to_string() } else { format!("{add_inc:?}") },
                cat_inc_first,
                fmt_num(growth)
            ),
            add_constant && cat_rising && growth >= 2.0,
        ));
    }
    // Held-out losses jump between evaluations (batches of 64, Adam), so
    // the comparison uses the mean over the last quarter of the run.
    let late_loss = |r: &TrainingRun| {
        let tail = &r.curve[r.curve.len() - r.curve.len().div_ceil(4)..];
        tail.iter().map(|p| p.1).sum::<f64>() / tail.len() as f64
    };
    let (add_late, cat_late) = (late_loss(&add_run), late_loss(&cat_run));
    let ratio = add_late / cat_late;
    let (better, by) =
        if cat_late < add_late { ("concat", ratio) } else { ("add", 1.0 / ratio) };
    // Threshold: concatenation must not end more than 2× lower. The claim
    // is one-sided ("buys no clear advantage"): addition ending lower, by
    // any factor, supports it (across seeds addition won 9 of 12 quick runs,
    // by up to 2.1×). A merge that used 2.7× the parameters well would be
    // expected to win by more than the run-to-run spread of the late loss.
    claims.push(Claim::new(
        format!(
            "trained for {steps} steps at {TRAIN_DEPTH} blocks, concatenation's {}× parameters buy no clear \
             advantage: it does not end more than 2× lower",
            fmt_num(cat_run.params as f64 / add_run.params as f64)
        ),
        format!(
            "mean held-out cross-entropy over the last quarter: add {} ({} params), concat {} ({} params); \
             {better} lower by {}×; final accuracy add {}, concat {} (needs add / concat ≤ 2)",
            fmt_num(add_late),
            add_run.params,
            fmt_num(cat_late),
            cat_run.params,
            fmt_num(by),
            fmt_num(add_run.accuracy),
            fmt_num(cat_run.accuracy)
        ),
        ratio <= 2.0,
    ));
    Outcome {
        name: "add_vs_concat".into(),
        title: "Addition vs concatenation as the merge: width, parameters and multiply-adds per example"
            .into(),
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
    fn concatenation_costs_grow_superlinearly_with_depth_while_addition_costs_the_same_per_block()
     {
        let outcome = run(true);
        lab::assert_claims_hold(&outcome);
        assert_eq!(outcome.claims.len(), 4);
        // Depths 1 to 16; width, cost and training figures.
        assert_eq!(outcome.table.rows.len(), 16);
        assert_eq!(outcome.figures.len(), 3);
        assert_eq!(cost(Merge::Concat, 5), cost(Merge::Concat, 5));
    }

    #[test]
    fn concatenation_widens_the_representation_and_addition_does_not() {
        let mut rng = Rng::new(11);
        let mut params = Params::new();
        let f = Linear::new(&mut params.scope("f"), 4, 4, true, &mut rng);
        let add = Block { branch: Sequential::new().push(f.clone()), merge: Merge::Add };
        let cat = Block { branch: Sequential::new().push(f), merge: Merge::Concat };
        let tape = Tape::new();
        let ctx = Ctx::eval(&tape, &params);
        let x = ctx.input(Tensor::normal([2, 4], 0.0, 1.0, &mut Rng::new(12)));
        let (y_add, y_cat) = (add.forward(&ctx, x), cat.forward(&ctx, x));
        assert_eq!(y_add.shape().dims(), &[2, 4]);
        assert_eq!(y_cat.shape().dims(), &[2, 8]);
        // The concatenation keeps x intact in its first four features.
        let kept: Vec<f32> =
            y_cat.value().data().chunks(4).step_by(2).flatten().copied().collect();
        assert_eq!(kept, x.value().data());
    }
}
