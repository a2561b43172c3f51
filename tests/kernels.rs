//! Fast kernels against their plain reference twins.

mod common;

use proptest::prelude::*;
use resgrad::kernels;

// ANCHOR: order_tolerance
/// The classic bound on a dot product's rounding error in any summation
/// order: |computed − exact| ≤ γ_k Σ|a_i b_i|, γ_k = k ε / (1 − k ε). Two
/// different orders can differ by twice that.
fn order_tolerance(k: usize, abs_sum: f32) -> f32 {
    let ke = k as f32 * f32::EPSILON;
    2.0 * ke / (1.0 - ke) * abs_sum + f32::MIN_POSITIVE
}
// ANCHOR_END: order_tolerance

fn values(n: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-2.0f32..2.0, n)
}

proptest! {
    #![proptest_config(common::proptest_config(256, "proptest-regressions/kernels.txt"))]

    // ANCHOR: blocked_matmul_agrees
    #[test]
    fn blocked_matmul_agrees_with_the_reference_triple_loop(
        (m, k, n, a, b) in (1usize..=9, 1usize..=40, 1usize..=40)
            .prop_flat_map(|(m, k, n)| (Just(m), Just(k), Just(n), values(m * k), values(k * n)))
    ) {
        let (mut fast, mut slow) = (vec![0.0; m * n], vec![0.0; m * n]);
        kernels::matmul_blocked(&a, &b, &mut fast, m, k, n);
        kernels::matmul_reference(&a, &b, &mut slow, m, k, n);
        for i in 0..m {
            for j in 0..n {
                let abs_sum: f32 = (0..k).map(|p| (a[i * k + p] * b[p * n + j]).abs()).sum();
                let (f, s) = (fast[i * n + j], slow[i * n + j]);
                prop_assert!((f - s).abs() <= order_tolerance(k, abs_sum), "[{i}, {j}]: {f} vs {s}");
            }
        }
    }
    // ANCHOR_END: blocked_matmul_agrees

    // ANCHOR: lane_sums
    #[test]
    fn lane_split_sum_and_dot_agree_with_the_plain_loops(
        x in (0usize..300).prop_flat_map(values)
    ) {
        let abs_sum: f32 = x.iter().map(|v| v.abs()).sum();
        let sum_error = (kernels::sum(&x) - kernels::sum_reference(&x)).abs();
        prop_assert!(sum_error <= order_tolerance(x.len(), abs_sum));
        let naive: f32 = x.iter().map(|v| v * v).fold(0.0, |s, v| s + v);
        let sq: f32 = x.iter().map(|v| v * v).sum();
        let dot_error = (kernels::dot(&x, &x) - naive).abs();
        prop_assert!(dot_error <= order_tolerance(x.len(), sq));
        if !x.is_empty() {
            let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            prop_assert_eq!(kernels::max(&x), max);
        }
    }
    // ANCHOR_END: lane_sums

    #[test]
    fn sum_axis_agrees_with_the_reference_and_spread_axis_copies_back(
        (outer, size, inner, x) in (0usize..4, 0usize..40, 1usize..6)
            .prop_flat_map(|(o, s, i)| (Just(o), Just(s), Just(i), values(o * s * i)))
    ) {
        let (mut fast, mut slow) = (vec![f32::NAN; outer * inner], vec![f32::NAN; outer * inner]);
        kernels::sum_axis(&x, &mut fast, outer, size, inner);
        kernels::sum_axis_reference(&x, &mut slow, outer, size, inner);
        for (o, (f, s)) in fast.chunks_exact(inner).zip(slow.chunks_exact(inner)).enumerate() {
            for i in 0..inner {
                let abs_sum: f32 = (0..size).map(|s| x[(o * size + s) * inner + i].abs()).sum();
                prop_assert!((f[i] - s[i]).abs() <= order_tolerance(size, abs_sum), "{} vs {}", f[i], s[i]);
            }
        }
        // Spreading [outer, inner] back over the axis copies each value `size` times.
        let mut spread = vec![f32::NAN; outer * size * inner];
        kernels::spread_axis(&slow, &mut spread, outer, size, inner, 0.5);
        for (j, &v) in spread.iter().enumerate() {
            let (o, i) = (j / (size * inner), j % inner);
            prop_assert_eq!(v, 0.5 * slow[o * inner + i]);
        }
    }
}

#[test]
fn blocked_matmul_agrees_with_the_reference_across_block_edges() {
    // Sizes straddling matmul_blocked's 256 x 512 panels (PANEL_ROWS x PANEL_COLS) and the 4-row strips.
    let mut rng = resgrad::Rng::new(31);
    for &(m, k, n) in &[(7, 257, 3), (5, 3, 513), (4, 300, 520), (1, 1, 1), (9, 256, 512)]
    {
        let a: Vec<f32> = (0..m * k).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
        let (mut fast, mut slow) = (vec![0.0; m * n], vec![0.0; m * n]);
        kernels::matmul_blocked(&a, &b, &mut fast, m, k, n);
        kernels::matmul_reference(&a, &b, &mut slow, m, k, n);
        for (idx, (f, s)) in fast.iter().zip(&slow).enumerate() {
            let (i, j) = (idx / n, idx % n);
            let abs_sum: f32 = (0..k).map(|p| (a[i * k + p] * b[p * n + j]).abs()).sum();
            assert!(
                (f - s).abs() <= order_tolerance(k, abs_sum),
                "{m}x{k}x{n} [{i}, {j}]: {f} vs {s}"
            );
        }
    }
}

#[test]
fn tiled_transpose_matches_the_definition() {
    for &(r, c) in &[(1, 1), (3, 70), (33, 31), (64, 64)] {
        let src: Vec<f32> = (0..r * c).map(|v| v as f32).collect();
        let mut dst = vec![0.0; r * c];
        kernels::transpose(&src, &mut dst, r, c);
        for i in 0..r {
            for j in 0..c {
                assert_eq!(dst[j * r + i], src[i * c + j]);
            }
        }
    }
}

proptest! {
    #![proptest_config(common::proptest_config(128, "proptest-regressions/kernels.txt"))]

    // ANCHOR: every_matmul_variant
    /// Every matmul entry point (the i-k-j loop, the op's `matmul`, and the
    /// transposed `matmul_nt` and `matmul_tn` that backward uses) against the
    /// triple loop, on sizes both below and above the small-product cut-off.
    #[test]
    fn every_matmul_variant_agrees_with_the_reference_on_both_sides_of_the_small_cutoff(
        (m, k, n, a, b) in (1usize..=30, 0usize..=40, 1usize..=30)
            .prop_flat_map(|(m, k, n)| {
                (Just(m), Just(k), Just(n), values(m * k), values(k * n))
            })
    ) {
        let mut expected = vec![0.0; m * n];
        kernels::matmul_reference(&a, &b, &mut expected, m, k, n);
        let mut a_t = vec![0.0; m * k];
        kernels::transpose(&a, &mut a_t, m, k); // [k, m]
        let mut b_t = vec![0.0; k * n];
        kernels::transpose(&b, &mut b_t, k, n); // [n, k]
        for variant in ["ikj", "blocked", "matmul", "nt", "tn"] {
            let mut c = vec![f32::NAN; m * n];
            match variant {
                "ikj" => kernels::matmul_ikj(&a, &b, &mut c, m, k, n),
                "blocked" => kernels::matmul_blocked(&a, &b, &mut c, m, k, n),
                "matmul" => kernels::matmul(&a, &b, &mut c, m, k, n),
                "nt" => kernels::matmul_nt(&a, &b_t, &mut c, m, k, n),
                _ => kernels::matmul_tn(&a_t, &b, &mut c, m, k, n),
            }
            for i in 0..m {
                for j in 0..n {
                    let abs_sum: f32 =
                        (0..k).map(|p| (a[i * k + p] * b[p * n + j]).abs()).sum();
                    let (g, e) = (c[i * n + j], expected[i * n + j]);
                    prop_assert!(
                        (g - e).abs() <= order_tolerance(k, abs_sum),
                        "{variant} {m}x{k}x{n} [{i}, {j}]: {g} vs {e}"
                    );
                }
            }
        }
    }
    // ANCHOR_END: every_matmul_variant
}
