//! Gaussian error linear unit, exact (PyTorch's default) and tanh-approximated.
//!
//! forward:  y = x Φ(x),            Φ(x) = (1 + erf(x / √2)) / 2
//! backward: dx = dy * (Φ(x) + x φ(x)),  φ(x) = e^(−x²/2) / √(2π)
//!
//! tanh form (PyTorch's `approximate="tanh"`):
//! forward:  y = x (1 + tanh u) / 2,  u = √(2/π) (x + 0.044715 x³)
//! backward: dx = dy * ((1 + tanh u) / 2 + x (1 − tanh² u) √(2/π) (1 + 3·0.044715 x²) / 2)

use crate::tape::Var;

const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const INV_SQRT_2PI: f32 = 0.398_942_3;
const GELU_TANH_C: f32 = 0.044_715;

// ANCHOR: gelu
impl<'t> Var<'t> {
    /// Elementwise GELU with the exact Gaussian CDF (PyTorch's `nn.GELU()`).
    #[track_caller]
    pub fn gelu(self) -> Var<'t> {
        self.elementwise(
            "gelu",
            |x| x * phi_cdf(x),
            |x, _y| phi_cdf(x) + x * INV_SQRT_2PI * (-0.5 * x * x).exp(),
        )
    }

    /// Elementwise GELU with the tanh approximation (PyTorch's
    /// `nn.GELU(approximate="tanh")`, used by GPT-2).
    #[track_caller]
    pub fn gelu_tanh(self) -> Var<'t> {
        self.elementwise(
            "gelu_tanh",
            |x| 0.5 * x * (1.0 + (SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x)).tanh()),
            |x, _y| {
                let t = (SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x)).tanh();
                0.5 * (1.0 + t)
                    + 0.5
                        * x
                        * (1.0 - t * t)
                        * SQRT_2_OVER_PI
                        * (1.0 + 3.0 * GELU_TANH_C * x * x)
            },
        )
    }
}

/// The standard normal CDF Φ(x) = (1 + erf(x / √2)) / 2.
fn phi_cdf(x: f32) -> f32 {
    0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}
// ANCHOR_END: gelu

/// The error function (Rust's standard library has none), accurate to f32
/// resolution: a Maclaurin series below |x| = 0.5, and above it, in f64, the Chebyshev fit of `erfc` in Numerical Recipes
/// (§6.2, "erfcc"), whose fractional error is below 1.2e-7 everywhere.
///
/// ```
/// assert!((resgrad::ops::erf(1.0) - 0.842_700_8).abs() < 2e-7);
/// assert_eq!(resgrad::ops::erf(0.0), 0.0);
/// ```
pub fn erf(x: f32) -> f32 {
    let z = (x as f64).abs();
    if z < 0.5 {
        // Near 0 the fit's absolute error would swamp erf itself; the Maclaurin
        // series 2/√π Σ (−1)ⁿ z^(2n+1) / (n! (2n+1)) converges fast here and keeps
        // erf odd with erf(0) = 0 exactly.
        let (z2, mut term, mut sum) = (z * z, z, 0.0);
        for n in 0..12 {
            sum += term / (2 * n + 1) as f64;
            term *= -z2 / (n + 1) as f64;
        }
        let erf = std::f64::consts::FRAC_2_SQRT_PI * sum;
        return (if x >= 0.0 { erf } else { -erf }) as f32;
    }
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87
                                    + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    let erf = 1.0 - erfc;
    (if x >= 0.0 { erf } else { -erf }) as f32
}

#[cfg(test)]
mod tests {
    use super::erf;
    use crate::{Tape, Tensor};

    #[test]
    fn erf_matches_known_values() {
        // Reference values of erf from Abramowitz & Stegun, table 7.1 (and, for
        // 1e-3, the series 2x/√π); relative error within 3e-7, about 2.5 f32 ulps.
        for (x, e) in [
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (2.0, 0.995_322_3),
            (-1.5, -0.966_105_1),
            (0.1, 0.112_462_9),
            (1e-3, 1.128_379e-3),
        ] {
            assert!(
                (erf(x) - e).abs() < 3e-7 * e.abs().max(1e-2),
                "erf({x}) = {} vs {e}",
                erf(x)
            );
        }
    }

    // ANCHOR: gelu_values
    #[test]
    fn gelu_matches_pytorch_at_a_few_points() {
        // x Φ(x) and its tanh form evaluated in f64 (Python's math.erf, math.tanh).
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from_vec(vec![-1.0, 0.5, 2.0], [3]));
        let y = x.gelu().value();
        for (a, e) in y.data().iter().zip([-0.158_655_26, 0.345_731_23, 1.954_499_7]) {
            assert!((a - e).abs() < 1e-6, "{a} vs {e}");
        }
        let y = x.gelu_tanh().value();
        for (a, e) in y.data().iter().zip([-0.158_808_03, 0.345_714, 1.954_597_7]) {
            assert!((a - e).abs() < 1e-6, "{a} vs {e}");
        }
    }
    // ANCHOR_END: gelu_values
}
