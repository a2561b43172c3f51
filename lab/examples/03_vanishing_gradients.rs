//! Vanishing gradients: how much gradient reaches the first block of a deep
//! stack at initialisation, with and without skips.
//!
//! Every block has the same branch, `F(x) = W₂ relu(W₁ x + b₁) + b₂`, with
//! PyTorch's default initialisation, and the stacks differ only in how the
//! branch is wired in:
//!
//! | stack | block |
//! |---|---|
//! | plain | `h ← F(h)` |
//! | residual | `h ← h + F(h)` |
//! | pre-norm | `h ← h + F(LN(h))` |
//! | post-norm | `h ← LN(h + F(h))` |
//!
//! The loss is a fixed random projection of the output, `L = Σ u ⊙ y`, so
//! the gradient arriving at the last block has a fixed size. The measure is
//! the norm of `dL/dh` at the input of every block, and the ratio between
//! the first block's and the last block's.
//!
//! `cargo run --release --example 03_vanishing_gradients [-- --quick]` (quick mode writes
//! into `target/figures-quick/`; a full run rewrites the book's figures).

use lab::wiring::{Block, WIDTH, Wiring};
use lab::{Claim, Figure, Outcome, Series, Table, fmt_num};
use resgrad::nn::{Ctx, Params};
use resgrad::rng::Rng;
use resgrad::tape::{Tape, Var};
use resgrad::tensor::Tensor;

const BATCH: usize = 16;

// ANCHOR: gradient_per_block
/// The norm of `dL/dh_k` at the input of each of `depth` blocks, first block
/// first, for one seeded stack.
pub fn gradient_per_block(wiring: Wiring, depth: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let mut params = Params::new();
    let blocks = Block::stack(&mut params, depth, &mut rng);
    let x = Tensor::normal([BATCH, WIDTH], 0.0, 1.0, &mut rng);
    let u = Tensor::normal([BATCH, WIDTH], 0.0, 1.0, &mut rng);

    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, &params);
    let mut h = tape.leaf(x);
    let mut inputs: Vec<Var<'_>> = Vec::with_capacity(depth);
    for b in &blocks {
        inputs.push(h);
        h = b.apply(&ctx, wiring, h);
    }
    let grads = tape.backward_with(h, u); // L = Σ u ⊙ y
    inputs.iter().map(|v| grads.get(*v).map_or(0.0, |g| g.norm())).collect()
}
// ANCHOR_END: gradient_per_block

/// Runs the experiment: depths 1 to 256 (1 to 64 when `quick`).
pub fn run(quick: bool) -> Outcome {
    let depths: Vec<usize> =
        if quick { vec![1, 4, 16, 64] } else { vec![1, 2, 4, 8, 16, 32, 64, 128, 256] };
    let deepest = *depths.last().expect("at least one depth");
    let mut table = Table::new(&["depth", "plain", "residual", "pre-norm", "post-norm"]);
    let mut ratio_series: Vec<Series> = Wiring::ALL
        .iter()
        .map(|w| Series { name: w.name().to_string(), points: Vec::new() })
        .collect();
    let mut deepest_profile = Vec::new();
    let mut ratios_at_deepest = [0.0f64; 4];
    let mut pre_norm_range = (f64::INFINITY, 0.0f64);
    for &depth in &depths {
        let mut row = vec![depth.to_string()];
        for (i, &w) in Wiring::ALL.iter().enumerate() {
            let g = gradient_per_block(w, depth, 7);
            let ratio = g[0] as f64 / g[depth - 1] as f64;
            row.push(if ratio == 0.0 {
                "0 (underflow)".to_string()
            } else {
                fmt_num(ratio)
            });
            // Depth 1 is left out: its ratio is 1 by construction.
            if w == Wiring::PreNorm && depth > 1 {
                pre_norm_range =
                    (pre_norm_range.0.min(ratio), pre_norm_range.1.max(ratio));
            }
            if ratio > 0.0 {
                ratio_series[i].points.push((depth as f64, ratio));
            }
            if depth == deepest {
                ratios_at_deepest[i] = ratio;
                let points = g
                    .iter()
                    .enumerate()
                    .filter(|&(_, &n)| n > 0.0)
                    .map(|(k, &n)| ((k + 1) as f64, n as f64))
                    .collect();
                deepest_profile.push(Series { name: w.name().to_string(), points });
            }
        }
        table.push(row);
    }
    let [plain, residual, _, _] = ratios_at_deepest;
    let (pre_min, pre_max) = pre_norm_range;
    // Thresholds: "orders of magnitude" is at least 6 (a millionth); "a small
    // factor" is within 10 either way. Measured values sit far from both
    // (see the table), so the verdicts do not hinge on the seed.
    let claims = vec![
        Claim::new(
            format!(
                "without skips, the gradient reaching block 1 of {deepest} shrinks by orders of magnitude"
            ),
            format!(
                "first/last gradient ratio {} (needs < 1e-6; 0 means it underflowed f32)",
                fmt_num(plain)
            ),
            plain < 1e-6,
        ),
        Claim::new(
            "with pre-norm skips it stays within a small factor at every depth",
            format!(
                "ratio from {} to {} over depths 2 to {deepest} (needs between 0.1 and 10)",
                fmt_num(pre_min),
                fmt_num(pre_max)
            ),
            pre_min >= 0.1 && pre_max <= 10.0,
        ),
        Claim::new(
            "a skip without normalisation stops the vanishing but not the growth: the gradient grows towards the input",
            format!(
                "residual ratio at depth {deepest}: {} (needs >= 1; it is pre-norm that keeps it level)",
                fmt_num(residual)
            ),
            residual >= 1.0,
        ),
    ];
    let mut figures = vec![Figure {
        file: "vanishing_gradients".into(),
        title: "Gradient at block 1 / at the last block, at init (plain: below f32's range past 64)".into(),
        x_label: "depth (blocks)".into(),
        y_label: "first / last gradient norm".into(),
        log_x: true,
        log_y: true,
        series: ratio_series,
    }];
    figures.push(Figure {
        file: "gradient_per_block".into(),
        title: format!("Gradient norm at the input of each block, depth {deepest}"),
        x_label: "block".into(),
        y_label: "|dL/dh|".into(),
        log_x: false,
        log_y: true,
        series: deepest_profile,
    });
    Outcome {
        name: "vanishing_gradients".into(),
        title: "Vanishing gradients: first-to-last gradient ratio at initialisation"
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

    // ANCHOR: plain_stacks_lose_the_gradient
    #[test]
    fn plain_stacks_lose_the_gradient_and_skips_keep_it() {
        let outcome = run(true);
        for c in &outcome.claims {
            assert!(c.holds, "{c}");
        }
        assert_eq!(outcome.table.rows.len(), 4);
        assert_eq!(outcome.figures.len(), 2);
        // Same seed, same numbers.
        assert_eq!(run(true), outcome);
    }
    // ANCHOR_END: plain_stacks_lose_the_gradient
}
