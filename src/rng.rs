//! A small deterministic random number generator.
//!
//! Everything random in resgrad (initial weights, dropout masks, test data)
//! comes from [`Rng`], so that the same seed gives the same bits on every
//! machine and every run. The generator is xoshiro256++ seeded through
//! SplitMix64; normal samples use Marsaglia's polar method.
//!
//! Why not call `f64::ln` for the normal samples? `ln` comes from the
//! platform's maths library, whose last bit may differ between systems. The
//! logarithm here, [`det_ln`], uses only `+ - * /`, which IEEE 754 defines
//! exactly, so its result is the same everywhere. `sqrt` is exact too.

/// A seeded xoshiro256++ generator. Same seed, same stream, on every machine.
///
/// ```
/// use resgrad::Rng;
/// let mut a = Rng::new(42);
/// let mut b = Rng::new(42);
/// assert_eq!(a.normal().to_bits(), b.normal().to_bits());
/// let u = a.uniform();
/// assert!((0.0..1.0).contains(&u));
/// ```
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole stream is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { s }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform sample in `[0, 1)` with 24 random bits (every f32 step of 2^-24).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// A uniform sample in `[lo, hi)`.
    pub fn uniform_in(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.uniform()
    }

    /// A uniform integer in `0..n`. Panics if `n == 0`.
    #[track_caller]
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0): the range 0..0 is empty");
        // Multiply-shift (Lemire) without the rejection step: the bias is at
        // most n / 2^64, far below anything a test or an init could notice.
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// A standard normal sample (mean 0, variance 1).
    pub fn normal(&mut self) -> f32 {
        // Marsaglia's polar method: draw a point uniformly in the unit disc;
        // u * sqrt(-2 ln s / s) is then exactly N(0, 1).
        loop {
            let u = 2.0 * self.unit_f64() - 1.0;
            let v = 2.0 * self.unit_f64() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return (u * (-2.0 * det_ln(s) / s).sqrt()) as f32;
            }
        }
    }

    /// A uniform f64 in `[0, 1)` with 53 random bits.
    fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Natural logarithm of a positive, finite `x`, using only IEEE-exact
/// arithmetic so that it rounds identically on every platform.
///
/// Writes `x = m * 2^e` with `m` in `[sqrt(1/2), sqrt(2))`, then
/// `ln m = 2 atanh(s)` with `s = (m - 1) / (m + 1)`, `|s| < 0.172`, summed
/// as a series until the terms stop changing the result (about 12 terms).
#[track_caller]
pub fn det_ln(x: f64) -> f64 {
    assert!(x > 0.0 && x.is_finite(), "det_ln needs a positive finite input, got {x}");
    const LN2: f64 = std::f64::consts::LN_2;
    let (mut m, mut e) = (x, 0i32);
    // Normalise subnormals first so the exponent field is meaningful.
    if m < f64::MIN_POSITIVE {
        m *= 2f64.powi(64);
        e -= 64;
    }
    let bits = m.to_bits();
    e += ((bits >> 52) & 0x7ff) as i32 - 1023;
    m = f64::from_bits((bits & !(0x7ff << 52)) | (1023 << 52));
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut k = 1.0;
    loop {
        let next = sum + term / k;
        if next == sum {
            break;
        }
        sum = next;
        term *= s2;
        k += 2.0;
    }
    2.0 * sum + e as f64 * LN2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn det_ln_matches_the_platform_ln_to_a_few_ulps() {
        for &x in &[1e-300, 1e-12, 0.1, 0.5, 0.7, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e300] {
            let (a, b) = (det_ln(x), x.ln());
            // Both are accurate to about 1 ulp, so they agree to within a few.
            assert!(
                (a - b).abs() <= 4.0 * f64::EPSILON * b.abs().max(1.0),
                "{x}: {a} vs {b}"
            );
        }
    }

    #[test]
    fn the_stream_is_fixed_by_the_seed() {
        // Golden values: the first outputs for seed 0 match an independent
        // Python transcription of SplitMix64 + xoshiro256++, and pin the
        // stream every seeded init and figure downstream depends on.
        let mut rng = Rng::new(0);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(
            first,
            [0x5317_5d61_490b_23df, 0x61da_6f3d_c380_d507, 0x5c0f_df91_ec9a_7bfc]
        );
        // Normal samples are built from +, -, *, / and sqrt only, so their
        // bits are the same on every platform too.
        let mut rng = Rng::new(42);
        let bits: Vec<u32> = (0..3).map(|_| rng.normal().to_bits()).collect();
        assert_eq!(bits, [1_065_041_133, 1_068_208_074, 3_212_236_584]); // 0.9813984, 1.3403256, -0.9642205
    }

    #[test]
    fn normal_samples_have_unit_variance() {
        let mut rng = Rng::new(7);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.normal() as f64).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // Standard errors for n = 1e5: mean 0.0032, variance 0.0045; allow ~4.
        assert!(mean.abs() < 0.013, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }

    #[test]
    fn uniform_samples_fill_the_unit_interval() {
        let mut rng = Rng::new(3);
        let n = 100_000;
        let xs: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
        // Standard error of the mean is 0.29 / sqrt(1e5) = 0.0009.
        assert!((mean - 0.5).abs() < 0.004, "mean {mean}");
    }
}
