//! The tutorial code, run in resgrad: a residual wrapper around a
//! feed-forward block, the same wrapper owning its block, and PyTorch's
//! `TransformerEncoderLayer(512, 8)`, with the shape after every step and
//! every parameter counted twice.
//!
//! The tutorial writes three pieces of PyTorch, and this experiment redoes
//! each with the crate's layers:
//!
//! 1. a `ResidualConnection(size=512)` ([`ResidualConnection`]) applied to
//!    `nn.Sequential(Linear(512, 2048), ReLU(), Linear(2048, 512))` on a
//!    `(10, 20, 512)` input. The step-by-step walkthrough (input → norm →
//!    linear1 → relu → linear2 → dropout → add) is composed by hand and
//!    must give the wrapper's output bit for bit;
//! 2. the same computation as one module that owns its feed-forward block
//!    ([`ResidualFeedForward`], the tutorial's `ResidualConnection2`). Built
//!    from the same seed, it has the same weights and must give the same
//!    output, bit for bit;
//! 3. `TransformerEncoderLayer(d_model=512, nhead=8)` with every other
//!    setting at PyTorch's default (seq-first input `(10, 32, 512)`,
//!    post-norm, ReLU, feed-forward width 2048, dropout 0.1), walked through
//!    by hand as well. Its parameter count, 3,152,384 in PyTorch, is checked
//!    against the store and against the formula `4d² + 4d` (attention) +
//!    `2·d·d_ff + d_ff + d` (feed-forward) + `4d` (two norms).
//!
//! **Prose and code disagree in the tutorial.** Its text says a transformer
//! computes `LayerNorm(F(x) + x)`: normalise *after* the sum (post-norm,
//! the original Transformer and PyTorch's default). Its `ResidualConnection`
//! code computes `x + F(LayerNorm(x))`: normalise the branch's *input* and
//! leave the sum alone (pre-norm). These are different functions. This
//! experiment runs both orders with the same weights: post-norm output rows
//! always have mean 0 and standard deviation 1, whatever the input's scale,
//! while pre-norm keeps the scale of the stream. On the tutorial's unit-scale
//! input they differ by a few percent; on a stream ten times larger, by
//! nearly the whole signal.
//!
//! All numerical comparisons run in evaluation mode (dropout off, as
//! `model.eval()`), so that they compare the functions and not two dropout
//! masks; the shapes do not depend on the mode.
//!
//! `cargo run --release --example 02_tutorial_shapes [-- --quick]` (quick mode writes
//! into `target/figures-quick/`; a full run rewrites the book's figures).

use lab::{Claim, Figure, Outcome, Series, Table, fmt_num};
use resgrad::nn::{
    Ctx, Dropout, EncoderLayerConfig, LayerNorm, Linear, Module, Params, Relu,
    ResidualConnection, Sequential, TransformerEncoderLayer,
};
use resgrad::rng::Rng;
use resgrad::shape::Shape;
use resgrad::tape::{Tape, Var};
use resgrad::tensor::Tensor;

/// The sizes of the tutorial: model width, feed-forward width, heads, and
/// the two inputs' shapes.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Model width (512).
    pub d: usize,
    /// Feed-forward width (2048).
    pub d_ff: usize,
    /// Attention heads (8).
    pub heads: usize,
    /// The wrapper's input `(batch, seq, d)`, `(10, 20, 512)`.
    pub wrapper_input: [usize; 3],
    /// The encoder layer's input `(seq, batch, d)`, `(10, 32, 512)`.
    pub encoder_input: [usize; 3],
}

impl Sizes {
    /// The tutorial's own sizes.
    pub const TUTORIAL: Sizes = Sizes {
        d: 512,
        d_ff: 2048,
        heads: 8,
        wrapper_input: [10, 20, 512],
        encoder_input: [10, 32, 512],
    };
}

/// The tutorial's `ResidualConnection2`: one module holding its norm, its
/// feed-forward block and its dropout, computing
/// `dropout(ff(norm(x))) + x`.
pub struct ResidualFeedForward {
    /// `norm`, applied first.
    pub norm: LayerNorm,
    /// `ff`: `Linear(d, d_ff)`, `ReLU`, `Linear(d_ff, d)`, named `ff.0` and `ff.2`.
    pub ff: Sequential,
    /// `dropout`, on the block's output.
    pub dropout: Dropout,
}

impl ResidualFeedForward {
    /// Registers `norm.*`, then `ff.0.*` and `ff.2.*`, in `params`.
    pub fn new(
        params: &mut Params,
        d: usize,
        d_ff: usize,
        dropout: f32,
        rng: &mut Rng,
    ) -> Self {
        let norm = LayerNorm::new(&mut params.scope("norm"), d);
        let ff = tutorial_ff(params, d, d_ff, rng).0;
        ResidualFeedForward { norm, ff, dropout: Dropout::new(dropout) }
    }
}

// ANCHOR: owned_wrapper
impl Module for ResidualFeedForward {
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        let residual = x;
        let h = self.norm.forward(ctx, x); // [..., d]
        let h = self.ff.forward(ctx, h); // [..., d] -> [..., d_ff] -> [..., d]
        let h = self.dropout.forward(ctx, h);
        h + residual
    }
}
// ANCHOR_END: owned_wrapper

/// `nn.Sequential(Linear(d, d_ff), ReLU(), Linear(d_ff, d))` registered as
/// `ff.0.*` and `ff.2.*`; also returns the two linear layers.
fn tutorial_ff(
    params: &mut Params,
    d: usize,
    d_ff: usize,
    rng: &mut Rng,
) -> (Sequential, Linear, Linear) {
    let mut scope = params.scope("ff");
    let l1 = Linear::new(&mut scope.sub("0"), d, d_ff, true, rng);
    let l2 = Linear::new(&mut scope.sub("2"), d_ff, d, true, rng);
    (Sequential::new().push(l1.clone()).push(Relu).push(l2.clone()), l1, l2)
}

/// One step of a walkthrough: its name, the shape after it, and the root
/// mean square of the values.
struct Step {
    name: String,
    shape: Shape,
    rms: f64,
}

fn rms(t: &Tensor) -> f64 {
    (t.data().iter().map(|&v| v as f64 * v as f64).sum::<f64>() / t.numel().max(1) as f64)
        .sqrt()
}

fn step(name: &str, v: Var<'_>) -> Step {
    Step { name: name.to_string(), shape: v.shape(), rms: rms(&v.value()) }
}

/// Mean and standard deviation of each row (last axis), as the worst
/// `|mean|` and the range of standard deviations over rows.
fn row_stats(t: &Tensor) -> (f64, f64, f64) {
    let d = *t.dims().last().expect("rank >= 1");
    let (mut worst_mean, mut lo, mut hi) = (0.0f64, f64::INFINITY, 0.0f64);
    for row in t.data().chunks_exact(d) {
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / d as f64;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / d as f64;
        worst_mean = worst_mean.max(mean.abs());
        lo = lo.min(var.sqrt());
        hi = hi.max(var.sqrt());
    }
    (worst_mean, lo, hi)
}

/// Parameters whose names start with `prefix`, summed.
fn count(params: &Params, prefix: &str) -> usize {
    params
        .iter()
        .filter(|(_, p)| p.name.starts_with(prefix))
        .map(|(_, p)| p.value.numel())
        .sum()
}

/// What running the wrapper in one norm order measured.
struct Walk {
    steps: Vec<Step>,
    output: Tensor,
}

// ANCHOR: walkthrough
/// The tutorial wrapper composed by hand, step by step, in pre-norm order
/// (`x + dropout(ff(norm(x)))`, as its code) or post-norm order
/// (`norm(x + dropout(ff(x)))`, as its prose).
fn walk(
    params: &Params,
    conn: &ResidualConnection,
    (l1, l2): (&Linear, &Linear),
    x: &Tensor,
    pre_norm: bool,
) -> Walk {
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, params);
    let x = ctx.input(x.clone());
    let mut steps = vec![step("input", x)]; // [B, T, d]
    let mut record = |name: &str, v: Var<'_>| steps.push(step(name, v));
    let mut h = x;
    if pre_norm {
        h = conn.norm.forward(&ctx, h); // [B, T, d]
        record("norm", h);
    }
    h = l1.forward(&ctx, h); // [B, T, d] -> [B, T, d_ff]
    record("linear1", h);
    h = h.relu(); // [B, T, d_ff]
    record("relu", h);
    h = l2.forward(&ctx, h); // [B, T, d_ff] -> [B, T, d]
    record("linear2", h);
    h = conn.dropout.forward(&ctx, h); // [B, T, d]
    record("dropout", h);
    h = x + h; // the skip: [B, T, d] + [B, T, d]
    record("add", h);
    if !pre_norm {
        h = conn.norm.forward(&ctx, h); // [B, T, d]
        record("norm", h);
    }
    Walk { steps, output: (*h.value()).clone() }
}
// ANCHOR_END: walkthrough

/// The encoder layer composed by hand in PyTorch's default (post-norm,
/// seq-first) order, recording each step; returns the steps and the output.
fn walk_encoder(params: &Params, layer: &TransformerEncoderLayer, x: &Tensor) -> Walk {
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, params);
    let x = ctx.input(x.clone());
    let mut steps = vec![step("input (seq, batch, d)", x)]; // [T, B, d]
    let mut record = |name: &str, v: Var<'_>| steps.push(step(name, v));
    let h = x.permute(&[1, 0, 2]); // [T, B, d] -> [B, T, d]
    record("to batch-first", h);
    let (sa, weights) = layer.self_attn.attend(&ctx, h, h, h, false); // [B, T, d], [B, H, T, T]
    record("attention weights", weights);
    record("self_attn", sa);
    let sa = layer.dropout1.forward(&ctx, sa);
    let h = layer.norm1.forward(&ctx, h + sa); // LN(x + SA(x)): [B, T, d]
    record("add & norm1", h);
    let f = layer.ff.linear1.forward(&ctx, h); // [B, T, d] -> [B, T, d_ff]
    record("linear1", f);
    let f = layer.ff.dropout.forward(&ctx, f.relu());
    record("relu, dropout", f);
    let f = layer.ff.linear2.forward(&ctx, f); // [B, T, d_ff] -> [B, T, d]
    record("linear2", f);
    let f = layer.dropout2.forward(&ctx, f);
    let h = layer.norm2.forward(&ctx, h + f); // LN(x + FF(x)): [B, T, d]
    record("add & norm2", h);
    let y = h.permute(&[1, 0, 2]); // [B, T, d] -> [T, B, d]
    record("to seq-first (output)", y);
    Walk { steps, output: (*y.value()).clone() }
}

/// Runs `module` in evaluation mode on `x` and returns its output.
fn eval(
    params: &Params,
    x: &Tensor,
    forward: impl for<'t> Fn(&Ctx<'t>, Var<'t>) -> Var<'t>,
) -> Tensor {
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, params);
    (*forward(&ctx, ctx.input(x.clone())).value()).clone()
}

fn bits_equal(a: &Tensor, b: &Tensor) -> bool {
    a.shape() == b.shape()
        && a.data().iter().zip(b.data()).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Runs the experiment at the tutorial's sizes. `quick` changes nothing:
/// the whole run is eight forward passes at width 512 (about half a second
/// in release, two under `cargo test`), so even the quick run keeps the
/// tutorial's sizes.
pub fn run(quick: bool) -> Outcome {
    let _ = quick;
    run_with(Sizes::TUTORIAL)
}

/// Runs the experiment at the given sizes.
pub fn run_with(s: Sizes) -> Outcome {
    let (d, d_ff) = (s.d, s.d_ff);
    let mut table = Table::new(&[
        "model",
        "step",
        "shape",
        "RMS",
        "params (store)",
        "params (formula)",
        "note",
    ]);
    let mut rng = Rng::new(2024);
    let x = Tensor::normal(s.wrapper_input, 0.0, 1.0, &mut rng); // torch.randn(10, 20, 512)

    // 1. The wrapper around a separate feed-forward block (one store; the
    //    tutorial's two modules are `ff.*` and `residual.*`).
    let mut p1 = Params::new();
    let mut init = Rng::new(7);
    let (ff, l1, l2) = tutorial_ff(&mut p1, d, d_ff, &mut init);
    let conn = ResidualConnection::new(&mut p1.scope("residual"), d, 0.1);
    let wrapper_out =
        eval(&p1, &x, |ctx, v| conn.forward(ctx, v, |h| ff.forward(ctx, h)));
    let pre = walk(&p1, &conn, (&l1, &l2), &x, true);
    let walk_matches = bits_equal(&pre.output, &wrapper_out);
    let step_params = |name: &str| -> (usize, usize) {
        match name {
            "norm" => (count(&p1, "residual.norm."), 2 * d),
            "linear1" => (count(&p1, "ff.0."), d * d_ff + d_ff),
            "linear2" => (count(&p1, "ff.2."), d_ff * d + d),
            _ => (0, 0),
        }
    };
    let wrapper_formula = 2 * d + (d * d_ff + d_ff) + (d_ff * d + d);
    for st in &pre.steps {
        let (store, formula) = step_params(&st.name);
        table.push(vec![
            "wrapper (pre-norm code)".into(),
            st.name.clone(),
            st.shape.to_string(),
            fmt_num(st.rms),
            store.to_string(),
            formula.to_string(),
            if st.name == "add" {
                format!("same bits as ResidualConnection::forward: {walk_matches}")
            } else {
                String::new()
            },
        ]);
    }
    table.push(vec![
        "wrapper (pre-norm code)".into(),
        "total".into(),
        String::new(),
        String::new(),
        p1.numel().to_string(),
        wrapper_formula.to_string(),
        "Params::numel vs 2d + (d·d_ff + d_ff) + (d_ff·d + d)".into(),
    ]);

    // 2. The same wrapper owning its block, built from the same seed.
    let mut p2 = Params::new();
    let owned = ResidualFeedForward::new(&mut p2, d, d_ff, 0.1, &mut Rng::new(7));
    let owned_out = eval(&p2, &x, |ctx, v| owned.forward(ctx, v));
    let same_weights = p2.iter().all(|(_, p)| {
        let name = if p.name.starts_with("norm.") {
            format!("residual.{}", p.name)
        } else {
            p.name.clone()
        };
        p1.find(&name).is_some_and(|id| bits_equal(p1.get(id), &p.value))
    }) && p1.len() == p2.len();
    let owned_matches = bits_equal(&owned_out, &wrapper_out);
    table.push(vec![
        "owned (ResidualConnection2)".into(),
        "output".into(),
        owned_out.shape().to_string(),
        fmt_num(rms(&owned_out)),
        p2.numel().to_string(),
        wrapper_formula.to_string(),
        format!(
            "same weights: {same_weights}; same bits as the wrapper: {owned_matches}"
        ),
    ]);

    // The prose's order, post-norm, with the same weights; and both orders
    // on a stream ten times larger.
    let post = walk(&p1, &conn, (&l1, &l2), &x, false);
    let rel_diff = |a: &Tensor, b: &Tensor| rms(&a.zip_map(b, |u, v| u - v)) / rms(a);
    let diff_unit = rel_diff(&pre.output, &post.output);
    for st in &post.steps {
        table.push(vec![
            "prose order (post-norm)".into(),
            st.name.clone(),
            st.shape.to_string(),
            fmt_num(st.rms),
            String::new(),
            String::new(),
            if st.name == "norm" {
                format!("RMS(pre − post) / RMS(pre) = {}", fmt_num(diff_unit))
            } else {
                String::new()
            },
        ]);
    }
    let x10 = x.map(|v| 10.0 * v);
    let pre10 = walk(&p1, &conn, (&l1, &l2), &x10, true);
    let post10 = walk(&p1, &conn, (&l1, &l2), &x10, false);
    let diff_ten = rel_diff(&pre10.output, &post10.output);
    let (pre10_mean, pre10_lo, pre10_hi) = row_stats(&pre10.output);
    let (post_mean, post_lo, post_hi) = row_stats(&post.output);
    let (post10_mean, post10_lo, post10_hi) = row_stats(&post10.output);
    let post_row_dev =
        [post_mean, post10_mean, (post_lo - 1.0).abs(), (post_hi - 1.0).abs()]
            .into_iter()
            .chain([(post10_lo - 1.0).abs(), (post10_hi - 1.0).abs()])
            .fold(0.0f64, f64::max);
    for (order, w) in
        [("pre-norm, input × 10", &pre10), ("post-norm, input × 10", &post10)]
    {
        let (m, lo, hi) = row_stats(&w.output);
        table.push(vec![
            order.into(),
            "output".into(),
            w.output.shape().to_string(),
            fmt_num(rms(&w.output)),
            String::new(),
            String::new(),
            format!(
                "row std {} to {}; worst |row mean| {}",
                fmt_num(lo),
                fmt_num(hi),
                fmt_num(m)
            ),
        ]);
    }

    // 3. TransformerEncoderLayer(512, 8), PyTorch's defaults.
    let mut p3 = Params::new();
    let config = EncoderLayerConfig::new(d, s.heads).dim_feedforward(d_ff);
    let layer = TransformerEncoderLayer::new(&mut p3.scope(""), config, &mut Rng::new(8));
    let xe = Tensor::normal(s.encoder_input, 0.0, 1.0, &mut rng); // torch.randn(10, 32, 512)
    let layer_out = eval(&p3, &xe, |ctx, v| layer.forward(ctx, v));
    let enc = walk_encoder(&p3, &layer, &xe);
    let encoder_walk_matches = bits_equal(&enc.output, &layer_out);
    let enc_params = |name: &str| -> (usize, usize) {
        match name {
            "self_attn" => (count(&p3, "self_attn."), 4 * d * d + 4 * d),
            "add & norm1" => (count(&p3, "norm1."), 2 * d),
            "linear1" => (count(&p3, "linear1."), d * d_ff + d_ff),
            "linear2" => (count(&p3, "linear2."), d_ff * d + d),
            "add & norm2" => (count(&p3, "norm2."), 2 * d),
            _ => (0, 0),
        }
    };
    for st in &enc.steps {
        let (store, formula) = enc_params(&st.name);
        table.push(vec![
            format!("TransformerEncoderLayer({d}, {})", s.heads),
            st.name.clone(),
            st.shape.to_string(),
            fmt_num(st.rms),
            store.to_string(),
            formula.to_string(),
            if st.name.ends_with("(output)") {
                format!("same bits as TransformerEncoderLayer::forward: {encoder_walk_matches}")
            } else {
                String::new()
            },
        ]);
    }
    let encoder_formula = 4 * d * d + 2 * d * d_ff + 9 * d + d_ff;
    const PYTORCH_COUNT: usize = 3_152_384; // sum(p.numel() for p in TransformerEncoderLayer(512, 8).parameters())
    let at_tutorial_size = d == 512 && d_ff == 2048;
    table.push(vec![
        format!("TransformerEncoderLayer({d}, {})", s.heads),
        "total".into(),
        String::new(),
        String::new(),
        p3.numel().to_string(),
        encoder_formula.to_string(),
        format!(
            "4d² + 2·d·d_ff + 9d + d_ff{}",
            if at_tutorial_size {
                format!("; PyTorch: {PYTORCH_COUNT}")
            } else {
                String::new()
            }
        ),
    ]);

    // Thresholds. Shapes and counts are integers: equal or not. "Same
    // function" is bit-for-bit: the hand-made walkthroughs run the same ops
    // in the same order, so any difference at all would be a real one.
    // "Different function": if the two orders computed the same function
    // their outputs would differ by f32 rounding, ~1e-7 relative; 1e-3
    // relative is 10,000 times that, and the measured differences are
    // larger still. Post-norm rows: LayerNorm with gain 1 and shift 0 gives
    // mean 0 (to rounding, ~1e-7) and std √(var / (var + 1e-5)), within
    // 1e-5 of 1 for unit-scale rows; 1e-3 leaves a wide margin.
    let input_shape = Shape::from(s.wrapper_input);
    let wrapper_shapes_ok = pre.steps.iter().all(|st| {
        let want = if st.name == "linear1" || st.name == "relu" {
            Shape::from([s.wrapper_input[0], s.wrapper_input[1], d_ff])
        } else {
            input_shape.clone()
        };
        st.shape == want
    });
    let wrapper_counts_ok = pre.steps.iter().all(|st| {
        let (a, b) = step_params(&st.name);
        a == b
    }) && p1.numel() == wrapper_formula;
    let encoder_counts_ok = enc.steps.iter().all(|st| {
        let (a, b) = enc_params(&st.name);
        a == b
    }) && p3.numel() == encoder_formula;
    let matches_pytorch = !at_tutorial_size || p3.numel() == PYTORCH_COUNT;
    let claims = vec![
        Claim::new(
            "the residual wrapper keeps the shape: (10, 20, 512) in, (10, 20, 2048) only inside the feed-forward block, (10, 20, 512) out",
            format!(
                "shapes {} ({}); walkthrough equals ResidualConnection::forward bit for bit: {walk_matches}",
                pre.steps
                    .iter()
                    .map(|st| st.shape.to_string())
                    .collect::<Vec<_>>()
                    .join(" → "),
                if wrapper_shapes_ok { "as expected" } else { "NOT as expected" }
            ),
            wrapper_shapes_ok && walk_matches,
        ),
        Claim::new(
            "the wrapper's parameters counted by the store equal the formula 2d + (d·d_ff + d_ff) + (d_ff·d + d)",
            format!(
                "Params::numel {} vs formula {wrapper_formula} (needs equal, per layer and in total)",
                p1.numel()
            ),
            wrapper_counts_ok,
        ),
        Claim::new(
            "owning the feed-forward block changes nothing: same weights, same output",
            format!(
                "same parameters: {same_weights} ({} vs {}); outputs equal bit for bit: {owned_matches}",
                p2.numel(),
                p1.numel()
            ),
            same_weights && owned_matches && p2.numel() == p1.numel(),
        ),
        Claim::new(
            "TransformerEncoderLayer(512, 8) on seq-first (10, 32, 512) returns (10, 32, 512), computing LN(x + SA(x)) then LN(x + FF(x)) (post-norm)",
            format!(
                "output {}; hand-composed post-norm walkthrough equals forward bit for bit: {encoder_walk_matches}",
                layer_out.shape()
            ),
            layer_out.shape() == xe.shape() && encoder_walk_matches,
        ),
        Claim::new(
            "the encoder layer has 3,152,384 parameters, as in PyTorch",
            format!(
                "Params::numel {} vs formula {encoder_formula}{} (needs all equal, per sublayer too)",
                p3.numel(),
                if at_tutorial_size {
                    format!(" vs PyTorch {PYTORCH_COUNT}")
                } else {
                    String::new()
                }
            ),
            encoder_counts_ok && matches_pytorch,
        ),
        Claim::new(
            "the tutorial's prose (post-norm, LN(F(x) + x)) and its code (pre-norm, x + F(LN(x))) compute different functions",
            format!(
                "RMS(pre − post) / RMS(pre) = {} on the unit-scale input, {} on the input × 10 (needs > 1e-3 on both)",
                fmt_num(diff_unit),
                fmt_num(diff_ten)
            ),
            diff_unit > 1e-3 && diff_ten > 1e-3,
        ),
        Claim::new(
            "post-norm renormalises every row whatever the input's scale; pre-norm keeps the stream's scale",
            format!(
                "post-norm rows: |mean| and |std − 1| at most {} (needs <= 1e-3); pre-norm rows on input × 10: std {} to {} (needs > √10, the geometric midpoint of 1 and 10), worst |mean| {}",
                fmt_num(post_row_dev),
                fmt_num(pre10_lo),
                fmt_num(pre10_hi),
                fmt_num(pre10_mean)
            ),
            post_row_dev <= 1e-3 && pre10_lo > 10f64.sqrt(),
        ),
    ];

    let series = |name: &str, w: &Walk| Series {
        name: name.into(),
        points: w.steps.iter().enumerate().map(|(i, st)| (i as f64, st.rms)).collect(),
    };
    let figures = vec![Figure {
        file: "tutorial_wrapper_rms".into(),
        title: "RMS along the wrapper: pre-norm (code) vs post-norm (prose)".into(),
        x_label: "step (0 input; pre: norm, lin1, relu, lin2, drop, add; post: lin1 … add, norm)".into(),
        y_label: "RMS of the activation".into(),
        log_x: false,
        log_y: true,
        series: vec![
            series("pre-norm, input", &pre),
            series("post-norm, input", &post),
            series("pre-norm, input × 10", &pre10),
            series("post-norm, input × 10", &post10),
        ],
    }];
    Outcome {
        name: "tutorial_shapes".into(),
        title: format!(
            "The tutorial's code in resgrad: shapes at every step and parameter counts (d = {d}, d_ff = {d_ff})"
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
    fn the_tutorial_code_keeps_its_shapes_and_parameter_counts_and_its_two_norm_orders_differ()
     {
        let outcome = run(true);
        lab::assert_claims_hold(&outcome);
        assert_eq!(outcome.claims.len(), 7);
        // wrapper: 7 steps + total; owned: 1; post-norm: 7 steps; × 10: 2;
        // encoder layer: 10 steps + total.
        assert_eq!(outcome.table.rows.len(), 8 + 1 + 7 + 2 + 11);
        let total = outcome.table.rows.last().unwrap();
        assert_eq!(total[1], "total");
        assert_eq!(total[4], "3152384");
        assert_eq!(outcome.figures.len(), 1);
    }
}
