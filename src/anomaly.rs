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
//! from the infinity check ([`Backward::produces_infinity`](crate::Backward::produces_infinity)),
//! and an op whose inputs already held NaN or infinities is not blamed for
//! passing them on: the op that made them was reported first.
//!
//! The checks read every value once more, so they cost time; turn them on
//! to hunt a NaN, not for every run.

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
        let mut s = ValueStats { min: f32::INFINITY, max: f32::NEG_INFINITY, finite: 0, nan: 0, inf: 0 };
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
            write!(f, "min {}, max {} over {} finite, ", Short(self.min), Short(self.max), self.finite)?;
        } else {
            write!(f, "no finite value, ")?;
        }
        write!(f, "{} NaN, {} ±inf, of {}", self.nan, self.inf, self.finite + self.nan + self.inf)
    }
}

/// A value as `{}` prints it, except that very large and very small
/// magnitudes use scientific notation (`3e38`, not 39 digits).
struct Short(f32);

impl std::fmt::Display for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self.0.abs();
        if a >= 1e7 || (a > 0.0 && a < 1e-5) { write!(f, "{:e}", self.0) } else { write!(f, "{}", self.0) }
    }
}

/// Whether `out` is an anomaly given the statistics of what produced it:
/// a NaN from inputs without NaN, or an infinity from inputs without
/// infinities (unless the op makes infinities on purpose).
pub(crate) fn is_new(out: &ValueStats, inputs: &[ValueStats], may_be_infinite: bool) -> bool {
    let nan_in = inputs.iter().any(|s| s.nan > 0);
    let inf_in = inputs.iter().any(|s| s.inf > 0);
    (out.nan > 0 && !nan_in) || (out.inf > 0 && !inf_in && !may_be_infinite)
}
