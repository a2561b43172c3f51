//! The dynamical-system view: a residual stack as Euler's method.
//!
//! A residual block computes `x_{k+1} = x_k + h F(x_k)`. Read `h` as a time
//! step and this is one step of Euler's method for the ordinary differential
//! equation `dx/dt = F(x)`. Stack `N` such blocks with `h = 1/N` and the
//! *same* `F` in each, and the network walks the solution from `t = 0` to
//! `t = 1` in `N` steps. As `N` grows the steps shrink, and the output
//! should settle on the ODE's exact solution `x(1)`: a very deep residual
//! network with small branches is close to a continuous flow.
//!
//! Euler's method is first order: its error at `t = 1` is about `C h = C/N`
//! for a constant `C` that depends on `F` and `x(0)`. So doubling `N`
//! changes the output by about `C/N − C/(2N) = C/(2N)`, and on log-log axes
//! the successive differences `‖y_N − y_{N/2}‖` fall on a line of slope −1.
//!
//! Here `F(x) = W₂ tanh(W₁ x + b₁) + b₂` is a fixed random tanh MLP from
//! 16 to 64 to 16 features, wrapped in a [`Residual`] block whose
//! [`ResidualOptions::branch_scale`] is `h`; the `N`-block network applies
//! that one block `N` times to a batch of 32 random starting points.
//!
//! `cargo run --release --example 10_ode_view [-- --quick]` (quick mode writes
//! into `target/figures-quick/`; a full run rewrites the book's figures).

use lab::{Claim, Figure, Outcome, Series, Table, fmt_num};
use resgrad::nn::{Ctx, Linear, Module, Params, Residual, ResidualOptions, Scope};
use resgrad::rng::{Rng, det_ln};
use resgrad::tape::{Tape, Var};
use resgrad::tensor::Tensor;

/// State width, hidden width of `F`, starting points in the batch.
const WIDTH: usize = 16;
const HIDDEN: usize = 64;
const BATCH: usize = 32;

/// Weight scale of `F`: both layers get Gaussian weights of standard
/// deviation `GAIN / √fan_in`. At 1.5 the tanh works in its curved range and
/// `F` moves the state by about its own size over `t ∈ [0, 1]`, so the flow
/// is far from the identity and far from linear.
const GAIN: f32 = 1.5;

/// The vector field `F(x) = W₂ tanh(W₁ x + b₁) + b₂`.
#[derive(Clone, Debug)]
pub struct TanhMlp {
    l1: Linear,
    l2: Linear,
}

impl TanhMlp {
    /// Registers the two layers in `scope` and redraws their weights with
    /// standard deviation `GAIN / √fan_in` (biases keep PyTorch's default).
    pub fn new(scope: &mut Scope<'_>, rng: &mut Rng) -> TanhMlp {
        let l1 = Linear::new(&mut scope.sub("l1"), WIDTH, HIDDEN, true, rng);
        let l2 = Linear::new(&mut scope.sub("l2"), HIDDEN, WIDTH, true, rng);
        for (layer, fan_in) in [(&l1, WIDTH), (&l2, HIDDEN)] {
            let w = scope.params().get_mut(layer.weight);
            *w = Tensor::normal(
                w.shape().clone(),
                0.0,
                GAIN / (fan_in as f32).sqrt(),
                rng,
            );
        }
        TanhMlp { l1, l2 }
    }
}

impl Module for TanhMlp {
    fn forward<'t>(&self, ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
        self.l2.forward(ctx, self.l1.forward(ctx, x).tanh()) // [n, 16] -> [n, 64] -> [n, 16]
    }
}

// ANCHOR: euler_network
/// The output of the `n`-block residual network `x ← x + (1/n) F(x)` on
/// the starting points `x0` (`[BATCH, WIDTH]`), and the first coordinate of
/// the first point after every block (`n + 1` values, the start included).
pub fn euler_network(
    params: &mut Params,
    f: &TanhMlp,
    x0: &Tensor,
    n: usize,
) -> (Tensor, Vec<f64>) {
    let h = 1.0 / n as f32;
    // One block, with the branch scaled by the step h; the same block (the
    // same weights) is applied n times.
    let options = ResidualOptions { branch_scale: h, ..ResidualOptions::default() };
    let block = Residual::new(f.clone()).with_options(&mut params.scope("step"), options);
    let tape = Tape::new();
    let ctx = Ctx::eval(&tape, params);
    let mut x = ctx.input(x0.clone());
    let mut path = vec![x0.data()[0] as f64];
    for _ in 0..n {
        x = block.forward(&ctx, x); // x + h F(x): [BATCH, WIDTH] -> [BATCH, WIDTH]
        path.push(x.value().data()[0] as f64);
    }
    ((*x.value()).clone(), path)
}
// ANCHOR_END: euler_network

/// The least-squares slope of `ln y` against `ln x`.
fn log_log_slope(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> =
        points.iter().map(|&(x, y)| (det_ln(x), det_ln(y))).collect();
    let n = logs.len() as f64;
    let (mx, my) = (
        logs.iter().map(|p| p.0).sum::<f64>() / n,
        logs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = logs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = logs.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    sxy / sxx
}

/// The Euclidean norm of all the values, in f64.
fn norm(v: &[f32]) -> f64 {
    v.iter().map(|&a| a as f64 * a as f64).sum::<f64>().sqrt()
}

/// Runs the experiment: `N = 1, 2, 4, …, 1024` blocks (up to 64 when `quick`).
pub fn run(quick: bool) -> Outcome {
    let max_n = if quick { 64 } else { 1024 };
    let ns: Vec<usize> = (0..).map(|i| 1usize << i).take_while(|&n| n <= max_n).collect();
    let mut rng = Rng::new(13);
    let mut params = Params::new();
    let f = TanhMlp::new(&mut params.scope("f"), &mut rng);
    let x0 = Tensor::normal([BATCH, WIDTH], 0.0, 1.0, &mut rng);

    let mut table = Table::new(&[
        "N",
        "|y_N - y_N/2| / |y_N|",
        "ratio to previous",
        "N × difference",
    ]);
    let mut diffs: Vec<(f64, f64)> = Vec::new();
    let mut paths = Vec::new();
    let mut prev: Option<Tensor> = None;
    let mut moved = 0.0;
    for &n in &ns {
        let (y, path) = euler_network(&mut params, &f, &x0, n);
        if n == 1 {
            table.push(vec!["1".into(), "-".into(), "-".into(), "-".into()]);
        }
        if let Some(p) = &prev {
            let d: Vec<f32> = y.data().iter().zip(p.data()).map(|(a, b)| a - b).collect();
            let rel = norm(&d) / norm(y.data());
            let ratio =
                diffs.last().map_or("-".to_string(), |&(_, last)| fmt_num(rel / last));
            table.push(vec![n.to_string(), fmt_num(rel), ratio, fmt_num(n as f64 * rel)]);
            diffs.push((n as f64, rel));
        }
        if n == max_n {
            let d: Vec<f32> =
                y.data().iter().zip(x0.data()).map(|(a, b)| a - b).collect();
            moved = norm(&d) / norm(x0.data());
        }
        if [2, 8, 64, 1024].contains(&n) {
            let points =
                path.iter().enumerate().map(|(k, &v)| (k as f64 / n as f64, v)).collect();
            paths.push(Series { name: format!("N = {n}"), points });
        }
        prev = Some(y);
    }

    let slope = log_log_slope(&diffs);
    // A guide of slope −1 through the first difference.
    let (n0, d0) = diffs[0];
    let guide = Series {
        name: "slope −1 (first order)".into(),
        points: diffs.iter().map(|&(n, _)| (n, d0 * n0 / n)).collect(),
    };
    let figures = vec![
        Figure {
            file: "ode_view_convergence".into(),
            title: "Change of the output when the number of Euler blocks doubles".into(),
            x_label: "blocks N (step h = 1/N)".into(),
            y_label: "|y_N − y_N/2| / |y_N|".into(),
            log_x: true,
            log_y: true,
            series: vec![
                Series { name: "measured".into(), points: diffs.clone() },
                guide,
            ],
        },
        Figure {
            file: "ode_view_trajectory".into(),
            title:
                "One coordinate of the state along the network (depth as time t = k/N)"
                    .into(),
            x_label: "t = k / N".into(),
            y_label: "x_k[0]".into(),
            log_x: false,
            log_y: false,
            series: paths,
        },
    ];

    let shrinking = diffs.windows(2).all(|w| w[1].1 < w[0].1);
    let (first, last) = (diffs[0].1, diffs[diffs.len() - 1].1);
    // Thresholds.
    // - Convergence: every doubling of N changes the output less than the
    //   one before, and the change falls at least tenfold over the range
    //   (first order predicts 32-fold for N = 2..64 and 512-fold for
    //   N = 2..1024).
    // - Order: Euler's error is C h + O(h²), so the differences follow slope
    //   −1 once h is small. The O(h²) term bends the small-N end and f32
    //   rounding (about N machine epsilons) the large-N end; ±0.3 leaves
    //   room for both while still ruling out no convergence (slope 0) and a
    //   second-order method (slope −2).
    let claims = vec![
        Claim::new(
            format!(
                "the output of x ← x + F(x)/N converges as N grows (N = 1 to {max_n})"
            ),
            format!(
                "each doubling changes it less: {} at N = 2 down to {} at N = {max_n} ({}× smaller; needs every \
                 step smaller and ≥ 10× overall); the state moves {} of its size in all",
                fmt_num(first),
                fmt_num(last),
                fmt_num(first / last),
                fmt_num(moved)
            ),
            shrinking && first / last >= 10.0,
        ),
        Claim::new(
            "the differences shrink like 1/N: the stack is Euler's method, first order in h = 1/N",
            format!(
                "log-log slope of |y_N − y_N/2| against N: {} (needs between −1.3 and −0.7)",
                fmt_num(slope)
            ),
            (-1.3..=-0.7).contains(&slope),
        ),
    ];
    Outcome {
        name: "ode_view".into(),
        title: format!(
            "Residual stacks as Euler steps: x ← x + F(x)/N for N = 1 to {max_n}"
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
    fn a_stack_of_small_residual_steps_converges_like_euler_s_method() {
        let outcome = run(true);
        lab::assert_claims_hold(&outcome);
        assert_eq!(outcome.claims.len(), 2);
        // N = 1, 2, 4, ..., 64; convergence and trajectory figures.
        assert_eq!(outcome.table.rows.len(), 7);
        assert_eq!(outcome.figures.len(), 2);
        // Same seed, same numbers.
        assert_eq!(run(true), outcome);
    }
}
