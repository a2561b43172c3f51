//! Checking derivatives: finite differences against reverse mode.
//!
//! A backward rule is a claim about a derivative. These functions test the
//! claim numerically:
//!
//! * [`numeric_jacobian`] estimates every partial derivative by central
//!   differences, `(f(x + h e_j) − f(x − h e_j)) / 2h`;
//! * [`jacobian`] builds the same matrix in reverse mode, one backward pass
//!   per output element (row `i` is the gradient of output `i`);
//! * [`gradcheck`] compares the reverse-mode vector-Jacobian product with
//!   finite differences along random directions, and explains any mismatch.
//!
//! Why random directions? The obvious test, the gradient of `sum(f(x))`,
//! seeds every output with 1, and is blind to whole families of bugs: the
//! outputs of softmax and of layer norm without gain sum to a constant, so
//! the gradient of their sum is zero whatever the backward rule returns.
//! A random upstream vector `u` and a random direction `v` leave a wrong rule
//! nowhere to hide: reverse mode gives `(Jᵀu)·v`, finite differences give
//! `u·(f(x + hv) − f(x − hv)) / 2h`, and both estimate `uᵀ J v`.

use crate::rng::Rng;
use crate::tape::{Tape, Var};
use crate::tensor::Tensor;
use std::fmt;

// ANCHOR: central_difference
/// The Jacobian of `f` at `x` by central differences: a `[outputs, inputs]`
/// matrix whose column `j` is `(f(x + h e_j) − f(x − h e_j)) / 2h`.
///
/// The differences are taken in f64 from f32 outputs. In f32 a step `h`
/// near `1e-2` balances the truncation error (∝ h²) against rounding (∝ 1/h).
///
/// ```
/// use resgrad::{check::numeric_jacobian, Tensor};
/// let x = Tensor::from_vec(vec![1.0, 2.0], [2]);
/// let j = numeric_jacobian(|_t, x| x * x, &x, 1e-2); // diag(2x)
/// assert!((j.get(&[1, 1]) - 4.0).abs() < 1e-3 && j.get(&[0, 1]).abs() < 1e-6);
/// ```
pub fn numeric_jacobian(
    f: impl for<'t> Fn(&'t Tape, Var<'t>) -> Var<'t>,
    x: &Tensor,
    h: f32,
) -> Tensor {
    let eval = |x: Tensor| -> Tensor {
        let tape = Tape::new();
        let y = f(&tape, tape.leaf(x));
        (*y.value()).clone()
    };
    let outputs = eval(x.clone()).numel();
    let mut jac = Tensor::zeros([outputs, x.numel()]);
    for j in 0..x.numel() {
        let (mut plus, mut minus) = (x.clone(), x.clone());
        plus.data_mut()[j] += h;
        minus.data_mut()[j] -= h;
        let (fp, fm) = (eval(plus), eval(minus));
        for i in 0..outputs {
            let d = (fp.data()[i] as f64 - fm.data()[i] as f64) / (2.0 * h as f64);
            jac.set(&[i, j], d as f32);
        }
    }
    jac
}
// ANCHOR_END: central_difference

// ANCHOR: jacobian
/// The Jacobian of `f` at `x` in reverse mode: row `i` is the gradient of
/// output `i`, obtained by one backward pass seeded with the one-hot `e_i`.
///
/// ```
/// use resgrad::{check::jacobian, Tensor};
/// let x = Tensor::from_vec(vec![1.0, 2.0], [2]);
/// let j = jacobian(|_t, x| x + x.relu(), &x); // I + diag(1[x > 0])
/// assert_eq!(j.data(), &[2.0, 0.0, 0.0, 2.0]);
/// ```
pub fn jacobian(f: impl for<'t> Fn(&'t Tape, Var<'t>) -> Var<'t>, x: &Tensor) -> Tensor {
    let tape = Tape::new();
    let input = tape.leaf(x.clone());
    let y = f(&tape, input);
    let outputs = y.shape().numel();
    let mut jac = Tensor::zeros([outputs, x.numel()]);
    for i in 0..outputs {
        let mut seed = Tensor::zeros(y.shape());
        seed.data_mut()[i] = 1.0;
        let grads = tape.backward_with(y, seed);
        // An input that does not reach the output has a zero row.
        if let Some(g) = grads.get(input) {
            jac.data_mut()[i * x.numel()..(i + 1) * x.numel()].copy_from_slice(g.data());
        }
    }
    jac
}
// ANCHOR_END: jacobian

/// Settings of [`gradcheck_with`]. The defaults suit f32 inputs of size
/// about 1 (the property tests draw from `[-2, 2]`).
#[derive(Clone, Debug)]
pub struct GradcheckOptions {
    /// Finite-difference step along the unit direction `v`. 1e-2 balances
    /// truncation (h² f''' / 6, about 2e-5 f''') against f32 rounding
    /// (about 1e-7 |f| / h, i.e. 1e-5 |f|).
    pub step: f32,
    /// Relative tolerance: a correct rule agrees to well within 1e-2;
    /// a wrong one is off by a factor, or by a term of the same size.
    pub rtol: f32,
    /// Absolute tolerance, for derivatives that are exactly 0.
    pub atol: f32,
    /// How many random (u, v) pairs to try.
    pub probes: usize,
    /// Seed for the random directions.
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> GradcheckOptions {
        GradcheckOptions { step: 1e-2, rtol: 1e-2, atol: 1e-4, probes: 3, seed: 0x5eed }
    }
}

/// What a passing [`gradcheck`] measured.
#[derive(Clone, Debug)]
pub struct GradcheckReport {
    /// Name of the op that produced the output.
    pub op: &'static str,
    /// The largest `|received − expected| / tolerance` over all probes
    /// (below 1 means every probe passed; the smaller, the wider the margin).
    pub worst_ratio: f32,
}

/// Why a [`gradcheck`] failed: which op, which input and element, and the
/// expected (finite differences) and received (reverse mode) values.
#[derive(Clone, Debug)]
pub struct GradcheckError {
    /// Name of the op that produced the output.
    pub op: &'static str,
    /// The ops recorded on the tape, in order.
    pub tape_ops: Vec<&'static str>,
    /// Which probe failed (0-based).
    pub probe: usize,
    /// `u·(f(x + hv) − f(x − hv)) / 2h`.
    pub expected: f64,
    /// `Σ_inputs (Jᵀu)·v` from the backward pass.
    pub received: f64,
    /// The tolerance that was exceeded.
    pub tolerance: f64,
    /// The input element where reverse mode and finite differences disagree most.
    pub worst_element: Option<WorstElement>,
}

/// One input element's derivative `d(u·f)/dx` two ways, as located by
/// [`gradcheck`] after a failure.
#[derive(Clone, Debug)]
pub struct WorstElement {
    /// Which input (position in the `inputs` slice).
    pub input: usize,
    /// The element's multi-index in that input.
    pub index: Vec<usize>,
    /// By central differences.
    pub expected: f64,
    /// By reverse mode.
    pub received: f64,
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "gradcheck failed for `{}` (tape: {})",
            self.op,
            self.tape_ops.join(", ")
        )?;
        writeln!(
            f,
            "  probe {}: along a random direction v with a random upstream u,\n  \
             expected u·J·v = {:.6e} (finite differences), received {:.6e} (reverse mode);\n  \
             |difference| {:.3e} > tolerance {:.3e}",
            self.probe,
            self.expected,
            self.received,
            (self.expected - self.received).abs(),
            self.tolerance
        )?;
        if let Some(w) = &self.worst_element {
            write!(
                f,
                "  worst element: input {} at {:?}: expected d(u·f)/dx = {:.6e}, received {:.6e}",
                w.input, w.index, w.expected, w.received
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for GradcheckError {}

/// [`gradcheck_with`] with the default options.
///
/// ```
/// use resgrad::{check::gradcheck, Rng, Tensor};
/// let mut rng = Rng::new(1);
/// let x = Tensor::normal([3, 5], 0.0, 1.0, &mut rng);
/// let report = gradcheck(|_t, v| v[0].softmax(), &[x]).unwrap();
/// assert!(report.worst_ratio < 1.0);
/// ```
pub fn gradcheck(
    f: impl for<'t, 's> Fn(&'t Tape, &'s [Var<'t>]) -> Var<'t>,
    inputs: &[Tensor],
) -> Result<GradcheckReport, GradcheckError> {
    gradcheck_with(f, inputs, &GradcheckOptions::default())
}

// ANCHOR: gradcheck
/// Checks the backward rules used by `f` at `inputs`: for random unit
/// vectors `u` (upstream, output-shaped) and `v` (a direction in the space of
/// all inputs together), compares reverse mode's `Σ (Jᵀu)·v` with the finite
/// difference `u·(f(x + hv) − f(x − hv)) / 2h`.
///
/// The tolerance is `atol + rtol·|expected| + noise + spread`:
///
/// * `noise = 64 ε Σ|u_i f_i| / h` bounds what f32 rounding of the outputs
///   (a few ulps each, ε = 2^-23) can add to the difference quotient;
/// * `spread = 2 |D(h) − D(2h)|`, the disagreement of the difference quotient
///   with itself at twice the step, measures the rest of its error: rounding
///   inside the computation (a row mean of values near 1000 rounds at 6e-5)
///   and truncation. Both are taken from the function alone, never from the
///   backward rule under test, so a wrong rule cannot widen its own tolerance.
///
/// Outputs that are not finite (the −∞ of a causal mask) are left out of both
/// sides, provided they stay the same under the perturbation.
// ANCHOR: gradcheck_reverse
pub fn gradcheck_with(
    f: impl for<'t, 's> Fn(&'t Tape, &'s [Var<'t>]) -> Var<'t>,
    inputs: &[Tensor],
    opts: &GradcheckOptions,
) -> Result<GradcheckReport, GradcheckError> {
    let mut rng = Rng::new(opts.seed);
    let eval = |xs: &[Tensor]| -> Tensor {
        let tape = Tape::new();
        let vars: Vec<Var<'_>> = xs.iter().map(|x| tape.leaf(x.clone())).collect();
        let y = f(&tape, &vars);
        (*y.value()).clone()
    };
    let mut worst_ratio = 0.0f32;
    let mut op_name = "";
    for probe in 0..opts.probes {
        // Reverse mode: one backward pass with a random upstream u.
        let tape = Tape::new();
        let vars: Vec<Var<'_>> = inputs.iter().map(|x| tape.leaf(x.clone())).collect();
        let y = f(&tape, &vars);
        let y_value = y.value();
        let u = unit_random(y_value.shape().dims(), &mut rng);
        let grads = tape.backward_with(y, u.clone());
        let ops = tape_ops(&tape);
        op_name = ops.last().copied().unwrap_or("leaf");
        let reverse: Vec<Tensor> = vars
            .iter()
            .zip(inputs)
            .map(|(v, x)| {
                grads.get(*v).cloned().unwrap_or_else(|| Tensor::zeros(x.shape()))
            })
            .collect();
        // ANCHOR_END: gradcheck_reverse

        // ANCHOR: gradcheck_forward
        // A random unit direction in the space of all inputs together.
        let total: usize = inputs.iter().map(|x| x.numel()).sum();
        let flat = unit_random(&[total], &mut rng);
        let mut dirs = Vec::new();
        let mut at = 0;
        for x in inputs {
            dirs.push(Tensor::from_vec(
                flat.data()[at..at + x.numel()].to_vec(),
                x.shape(),
            ));
            at += x.numel();
        }
        let received: f64 =
            reverse.iter().zip(&dirs).map(|(g, d)| dot64(g.data(), d.data())).sum();

        let shifted = |sign: f32| -> Vec<Tensor> {
            inputs
                .iter()
                .zip(&dirs)
                .map(|(x, d)| x.zip_map(d, |x, d| x + sign * opts.step * d))
                .collect()
        };
        let quotient = |k: f32| -> f64 {
            let (fp, fm) = (eval(&shifted(k)), eval(&shifted(-k)));
            finite_dot(u.data(), fp.data(), y_value.data())
                - finite_dot(u.data(), fm.data(), y_value.data())
        };
        let expected = quotient(1.0) / (2.0 * opts.step as f64);
        let coarse = quotient(2.0) / (4.0 * opts.step as f64);
        // ANCHOR_END: gradcheck_forward

        // ANCHOR: gradcheck_compare
        let scale: f64 = u
            .data()
            .iter()
            .zip(y_value.data())
            .filter(|(_, y)| y.is_finite())
            .map(|(&u, &y)| (u as f64 * y as f64).abs())
            .sum();
        let noise = 64.0 * f32::EPSILON as f64 * scale / opts.step as f64;
        let spread = 2.0 * (expected - coarse).abs();
        let tolerance =
            opts.atol as f64 + opts.rtol as f64 * expected.abs() + noise + spread;
        let diff = (expected - received).abs();
        worst_ratio = worst_ratio.max((diff / tolerance) as f32);
        if diff.is_nan() || diff > tolerance {
            return Err(GradcheckError {
                op: op_name,
                tape_ops: ops,
                probe,
                expected,
                received,
                tolerance,
                worst_element: worst_element(&eval, inputs, &u, &reverse, opts.step),
            });
        }
    }
    Ok(GradcheckReport { op: op_name, worst_ratio })
}
// ANCHOR_END: gradcheck_compare
// ANCHOR_END: gradcheck

/// Finds the input element where `d(u·f)/dx` by finite differences and by
/// reverse mode disagree most. Costs two forward passes per input element,
/// so it only runs after a failure.
fn worst_element(
    eval: &dyn Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    u: &Tensor,
    reverse: &[Tensor],
    h: f32,
) -> Option<WorstElement> {
    let at = eval(inputs);
    let mut worst: Option<(f64, WorstElement)> = None;
    for (i, x) in inputs.iter().enumerate() {
        for j in 0..x.numel() {
            let mut xs = inputs.to_vec();
            xs[i].data_mut()[j] += h;
            let fp = finite_dot(u.data(), eval(&xs).data(), at.data());
            xs[i].data_mut()[j] -= 2.0 * h;
            let fm = finite_dot(u.data(), eval(&xs).data(), at.data());
            let expected = (fp - fm) / (2.0 * h as f64);
            let received = reverse[i].data()[j] as f64;
            let err = (expected - received).abs();
            if worst.as_ref().is_none_or(|(e, _)| err > *e) {
                worst = Some((
                    err,
                    WorstElement {
                        input: i,
                        index: unravel(j, x.dims()),
                        expected,
                        received,
                    },
                ));
            }
        }
    }
    worst.map(|(_, w)| w)
}

fn unravel(mut flat: usize, dims: &[usize]) -> Vec<usize> {
    let mut index = vec![0; dims.len()];
    for (i, &d) in dims.iter().enumerate().rev() {
        index[i] = flat % d;
        flat /= d;
    }
    index
}

fn tape_ops(tape: &Tape) -> Vec<&'static str> {
    let mut ops = Vec::new();
    tape.for_each_node(|n| {
        if n.op != "leaf" && n.op != "const" {
            ops.push(n.op);
        }
    });
    ops
}

/// A random vector of unit Euclidean norm with the given shape.
fn unit_random(dims: &[usize], rng: &mut Rng) -> Tensor {
    let t = Tensor::normal(dims, 0.0, 1.0, rng);
    let n = t.norm().max(f32::MIN_POSITIVE);
    t.map(|v| v / n)
}

/// `Σ u_i f_i` over the outputs that are finite at the unperturbed point.
/// A non-finite output that keeps its value (−∞ stays −∞) contributes
/// nothing; one that changes makes the sum NaN, so the check fails.
fn finite_dot(u: &[f32], f: &[f32], at: &[f32]) -> f64 {
    u.iter()
        .zip(f)
        .zip(at)
        .map(|((&u, &f), &y)| match (y.is_finite(), f.to_bits() == y.to_bits()) {
            (true, _) => u as f64 * f as f64,
            (false, true) => 0.0,
            (false, false) => f64::NAN,
        })
        .sum()
}

fn dot64(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&a, &b)| a as f64 * b as f64).sum()
}
