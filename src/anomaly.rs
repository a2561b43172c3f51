//! Anomaly mode: find the first op that made a NaN or an infinity.
//!
//! A NaN spreads: once one value is NaN, everything computed from it is
//! too, and by the time the loss prints `NaN` the op that started it is
//! hundreds of entries back on the tape. With anomaly mode on
//! ([`Tape::set_detect_anomaly`](crate::Tape::set_detect_anomaly)), every
//! value is checked as it is recorded and every gradient as the reverse
//! sweep computes it. The first op whose forward pass turns finite inputs
//! into a NaN or an infinity, or whose backward rule turns a finite upstream
//! gradient into one, stops the program with its tape index, its name, its
//! line as the tape listing prints it, and the statistics of the values
//! involved: like PyTorch's `detect_anomaly`, but pointing at the listing.
//! The sweep's own arithmetic is checked too: where a value is used in
//! several places, its gradients can each be finite and their sum overflow,
//! and the report then names the value and the contribution that tipped it.
//!
//! ```text
//! anomaly: #1 log turned finite inputs into 1 non-finite value in its forward pass
//!   #1 log [3] <- #0
//!   output: min -0.6931472, max 0.6931472 over 2 finite, 0 NaN, 1 ±inf, of 3
//!   input #0 [3]: min 0, max 2 over 3 finite, 0 NaN, 0 ±inf, of 3
//!   the inputs were finite, so this op made the first bad value: ...
//! ```
//!
//! (from `x.log()` with `x = [0.5, 0, 2]`; the panic names the line that
//! called `log`.)
//!
//! Ops that write infinities on purpose (the causal mask's −∞) are exempt
//! from the infinity check ([`Backward::produces_infinity`]), and an op
//! whose inputs already held NaN or infinities is not blamed for passing
//! them on: the op that made them was reported first.
//!
//! The checks read every value once more, so they cost time; turn them on
//! to hunt a NaN, not for every run.
//!
//! The tape reaches this module through three one-line hooks, each of which
//! returns at once when anomaly mode is off: `check_forward` for every value
//! the tape records, and, in the tape's checked sweep (what `backward` and
//! `backward_with` run in anomaly mode, and what `backward_leaves` always
//! runs), `check_rule` for the gradients each rule returns and `check_sum`
//! before each fan-out sum. It is the one module that the tape calls and
//! that uses the tape in turn (to print a node's listing line in a report);
//! everything it needs from the tape is public or a single helper.

use crate::tape::{Backward, Tape, Var, write_line};
use crate::tensor::Tensor;

/// Counts and range of a tensor's values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValueStats {
    /// Smallest finite value (`+∞` if none).
    pub min: f32,
    /// Largest finite value (`−∞` if none).
    pub max: f32,
    /// Number of finite values.
    pub finite: usize,
    /// Number of NaNs.
    pub nan: usize,
    /// Number of `+∞` and `−∞`.
    pub inf: usize,
}

impl ValueStats {
    /// The statistics of `t`.
    pub fn of(t: &Tensor) -> ValueStats {
        let mut s = ValueStats {
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
            finite: 0,
            nan: 0,
            inf: 0,
        };
        for &v in t.data() {
            if v.is_nan() {
                s.nan += 1;
            } else if v.is_infinite() {
                s.inf += 1;
            } else {
                s.finite += 1;
                s.min = s.min.min(v);
                s.max = s.max.max(v);
            }
        }
        s
    }

    /// True if every value is finite.
    pub fn all_finite(&self) -> bool {
        self.nan == 0 && self.inf == 0
    }
}

impl std::fmt::Display for ValueStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.finite > 0 {
            write!(
                f,
                "min {}, max {} over {} finite, ",
                Short(self.min),
                Short(self.max),
                self.finite
            )?;
        } else {
            write!(f, "no finite value, ")?;
        }
        write!(
            f,
            "{} NaN, {} ±inf, of {}",
            self.nan,
            self.inf,
            self.finite + self.nan + self.inf
        )
    }
}

/// A value as `{}` prints it, except that very large and very small
/// magnitudes use scientific notation (`3e38`, not 39 digits).
struct Short(f32);

impl std::fmt::Display for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self.0.abs();
        if a >= 1e7 || (a > 0.0 && a < 1e-5) {
            write!(f, "{:e}", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Whether `out` is an anomaly given the statistics of what produced it:
/// a NaN from inputs without NaN, or an infinity from inputs without
/// infinities (unless the op makes infinities on purpose).
pub(crate) fn is_new(
    out: &ValueStats,
    inputs: &[ValueStats],
    may_be_infinite: bool,
) -> bool {
    let nan_in = inputs.iter().any(|s| s.nan > 0);
    let inf_in = inputs.iter().any(|s| s.inf > 0);
    (out.nan > 0 && !nan_in) || (out.inf > 0 && !inf_in && !may_be_infinite)
}

// The three hooks the tape calls. Each returns at once when anomaly mode is
// off, so the tape calls them without an `if`.

/// Checks a value about to be recorded as the next node of `tape`: `rule`
/// is the op's (`None` for a leaf or a constant), `inputs` its inputs.
#[track_caller]
#[inline(always)]
pub(crate) fn check_forward(
    tape: &Tape,
    value: &Tensor,
    inputs: &[Var<'_>],
    rule: Option<&dyn Backward>,
) {
    if tape.detect_anomaly() {
        check_forward_on(tape, value, inputs, rule);
    }
}

#[track_caller]
#[inline(never)]
fn check_forward_on(
    tape: &Tape,
    value: &Tensor,
    inputs: &[Var<'_>],
    rule: Option<&dyn Backward>,
) {
    let out = ValueStats::of(value);
    if out.all_finite() {
        return;
    }
    let id = tape.len();
    let ins: Vec<ValueStats> =
        inputs.iter().map(|v| ValueStats::of(&v.value())).collect();
    let may_be_infinite = rule.is_some_and(|r| r.produces_infinity());
    if !is_new(&out, &ins, may_be_infinite) {
        return;
    }
    let Some(rule) = rule else {
        panic!(
            "anomaly: input #{id} {} holds non-finite values: {out}\n  \
             the data or parameters fed to the tape are already broken; check where they were\n  \
             loaded or last updated",
            value.shape()
        );
    };
    let mut report = format!(
        "anomaly: #{id} {} turned finite inputs into {} non-finite value{} in its forward pass\n  ",
        rule.name(),
        out.nan + out.inf,
        if out.nan + out.inf == 1 { "" } else { "s" },
    );
    let ids: Vec<usize> = inputs.iter().map(|v| v.id()).collect();
    let _ = write_line(&mut report, id, rule.name(), &rule.detail(), value.shape(), &ids);
    report += &format!("\n  output: {out}");
    for (v, s) in inputs.iter().zip(&ins) {
        report += &format!("\n  input #{} {}: {s}", v.id(), v.shape());
    }
    // Wrapped at 90 characters, so the report reads in a terminal as in the book.
    report += "\n  the inputs were finite, so this op made the first bad value: look for what it\n  \
               cannot take (log or division at 0, exp of a large number) in the inputs above;\n  \
               print the tape to see where they come from";
    panic!("{report}");
}

/// Checks the gradients `dx` that the rule of node `id` returned for its
/// `inputs` (whose values are `x`) from the upstream gradient `dy`.
#[track_caller]
#[inline(always)]
pub(crate) fn check_rule(
    tape: &Tape,
    id: usize,
    rule: &dyn Backward,
    inputs: &[usize],
    x: &[&Tensor],
    dy: &Tensor,
    dx: &[Tensor],
) {
    if tape.detect_anomaly() {
        check_rule_on(tape, id, rule, inputs, x, dy, dx);
    }
}

#[track_caller]
#[inline(never)]
fn check_rule_on(
    tape: &Tape,
    id: usize,
    rule: &dyn Backward,
    inputs: &[usize],
    x: &[&Tensor],
    dy: &Tensor,
    dx: &[Tensor],
) {
    let dy_stats = ValueStats::of(dy);
    for (j, g) in dx.iter().enumerate() {
        let s = ValueStats::of(g);
        if s.all_finite() || !is_new(&s, &[dy_stats], false) {
            continue;
        }
        let mut report = format!(
            "anomaly: the backward rule of #{id} {} turned a finite upstream gradient into {} \
             non-finite value{} in the gradient of its input {j} (#{})\n  {}\n  gradient of #{}: {s}\n  \
             upstream dy: {dy_stats}",
            rule.name(),
            s.nan + s.inf,
            if s.nan + s.inf == 1 { "" } else { "s" },
            inputs[j],
            tape.listing_line(id),
            inputs[j],
        );
        for (k, v) in x.iter().enumerate() {
            report +=
                &format!("\n  input #{} {}: {}", inputs[k], v.shape(), ValueStats::of(v));
        }
        report += "\n  the rule's derivative blows up at these inputs (1/x near 0, a huge slope);\n  \
                   keep the inputs away from there, e.g. clamp before a log";
        panic!("{report}");
    }
}

/// Checks a fan-out sum before the sweep forms it: gradients that are
/// finite one by one can overflow when `accumulate` adds them. `sum` is what
/// node `slot` has received so far (`None` before its first contribution),
/// `dx` what node `from`'s rule now sends it.
#[track_caller]
#[inline(always)]
pub(crate) fn check_sum(
    tape: &Tape,
    slot: usize,
    from: usize,
    rule: &dyn Backward,
    sum: Option<&Tensor>,
    dx: &Tensor,
) {
    // `None` is the first contribution: there is nothing to add it to yet.
    if tape.detect_anomaly()
        && let Some(sum) = sum
    {
        check_sum_on(tape, slot, from, rule.name(), sum, dx);
    }
}

#[track_caller]
#[inline(never)]
fn check_sum_on(
    tape: &Tape,
    slot: usize,
    from: usize,
    from_name: &str,
    sum: &Tensor,
    dx: &Tensor,
) {
    let (before, added) = (ValueStats::of(sum), ValueStats::of(dx));
    if !before.all_finite() || !added.all_finite() {
        return; // not new: reported where it was made
    }
    let overflowed =
        sum.data().iter().zip(dx.data()).filter(|(a, b)| !(*a + *b).is_finite()).count();
    if overflowed == 0 {
        return;
    }
    panic!(
        "anomaly: the gradient of #{slot} overflowed to {overflowed} infinite value{} when the \
         contribution of #{from} {from_name} was added to it\n  {}\n  sum so far: {before}\n  \
         from #{from}: {added}\n  \
         #{slot} is used in several places and the sum of their gradients passes f32's largest\n  \
         value, 3.4e38; the gradients are far too large before they meet: look for what makes\n  \
         them grow (a huge scale, exp of a large number) upstream of #{slot}",
        if overflowed == 1 { "" } else { "s" },
        tape.listing_line(slot),
    );
}
