//! The packed matrix product against the textbook triple loop, for every
//! instruction set this processor has, transposed operands, odd sizes,
//! block edges and thread counts.

mod common;

use proptest::prelude::*;
use resgrad::kernels;
use resgrad::kernels::{Isa, MatRef, gemm, gemm_with};

/// Rounding bound for two different summation orders of a k-term dot
/// product: 2 γ_k Σ|a_i b_i|, γ_k = k ε / (1 − k ε) (as in tests/kernels.rs).
/// It also covers fused against separate multiply-add: a fused step rounds
/// once where the plain loop rounds twice, which the bound already allows.
fn order_tolerance(k: usize, abs_sum: f32) -> f32 {
    let ke = k as f32 * f32::EPSILON;
    2.0 * ke / (1.0 - ke) * abs_sum + f32::MIN_POSITIVE
}

fn values(n: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-2.0f32..2.0, n)
}

/// `x` stored as its transpose: the `[cols, rows]` row-major copy.
fn transposed(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    kernels::transpose(x, &mut out, rows, cols);
    out
}

/// Checks `gemm_with` on `a: [m, k]`, `b: [k, n]` (stored transposed when
/// asked) against the reference, for every instruction set and 1 or 2 threads.
fn check(
    a: &[f32],
    b: &[f32],
    m: usize,
    k: usize,
    n: usize,
    a_t: bool,
    b_t: bool,
) -> Result<(), TestCaseError> {
    let mut expected = vec![0.0; m * n];
    kernels::matmul_reference(a, b, &mut expected, m, k, n);
    let a_store = if a_t { transposed(a, m, k) } else { a.to_vec() };
    let b_store = if b_t { transposed(b, k, n) } else { b.to_vec() };
    let a_view =
        if a_t { MatRef::new(&a_store, k, m).t() } else { MatRef::new(&a_store, m, k) };
    let b_view =
        if b_t { MatRef::new(&b_store, n, k).t() } else { MatRef::new(&b_store, k, n) };
    for isa in Isa::all_available() {
        for threads in [1, 2] {
            let mut got = vec![f32::NAN; m * n]; // every element must be written
            gemm_with(a_view, b_view, &mut got, isa, threads);
            for i in 0..m {
                for j in 0..n {
                    let abs_sum: f32 =
                        (0..k).map(|p| (a[i * k + p] * b[p * n + j]).abs()).sum();
                    let (g, e) = (got[i * n + j], expected[i * n + j]);
                    prop_assert!(
                        (g - e).abs() <= order_tolerance(k, abs_sum),
                        "{isa:?}, {threads} thread(s), {m}x{k}x{n}, a_t {a_t}, b_t {b_t}: [{i}, {j}] {g} vs {e}"
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(common::proptest_config(128, "proptest-regressions/gemm.txt"))]

    #[test]
    fn packed_gemm_agrees_with_the_reference_for_any_shape_and_transposition(
        (m, k, n, a, b, a_t, b_t) in (1usize..=40, 0usize..=70, 1usize..=70)
            .prop_flat_map(|(m, k, n)| (Just(m), Just(k), Just(n), values(m * k), values(k * n), any::<bool>(), any::<bool>()))
    ) {
        check(&a, &b, m, k, n, a_t, b_t)?;
    }
}

#[test]
fn packed_gemm_agrees_with_the_reference_across_every_block_edge() {
    // Sizes straddling KC = 1024 (k = 1025 runs as two blocks of 513, 2049
    // as three), MC = 48, NC = 2048 and every tile height and width
    // (12 x 32, 6 x 16, 4 x 8), with transposed operands.
    let mut rng = resgrad::Rng::new(5);
    for &(m, k, n) in &[
        (13, 1025, 33),
        (49, 3, 17),
        (97, 2049, 9),
        (3, 40, 2049),
        (7, 1, 1),
        (200, 300, 40),
    ] {
        let a: Vec<f32> = (0..m * k).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
        for (a_t, b_t) in [(false, false), (false, true), (true, false)] {
            check(&a, &b, m, k, n, a_t, b_t).unwrap();
        }
    }
}

#[test]
fn the_thread_count_and_the_fused_instruction_sets_give_the_same_bits() {
    // Each element is the same sequence of fused multiply-adds whatever the
    // tile size and however the rows are split between threads.
    // Over THREAD_MIN_WORK, so threads really run, and deeper than KC, so
    // every element is summed over two blocks.
    let (m, k, n) = (150, 1100, 100);
    let mut rng = resgrad::Rng::new(9);
    let a: Vec<f32> = (0..m * k).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
    let run = |isa, threads| {
        let mut c = vec![0.0; m * n];
        gemm_with(MatRef::new(&a, m, k), MatRef::new(&b, k, n), &mut c, isa, threads);
        c.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
    };
    for isa in Isa::all_available() {
        let one = run(isa, 1);
        for threads in [2, 3, 8] {
            assert!(
                one == run(isa, threads),
                "{isa:?}: {threads} threads differ from one"
            );
        }
    }
    let fused: Vec<Isa> =
        Isa::all_available().into_iter().filter(|&i| i != Isa::Portable).collect();
    for pair in fused.windows(2) {
        assert!(
            run(pair[0], 1) == run(pair[1], 1),
            "{:?} and {:?} differ",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn empty_shared_axis_gives_zeros_and_a_mismatch_names_both_shapes() {
    let mut c = vec![f32::NAN; 6];
    gemm(MatRef::new(&[], 2, 0), MatRef::new(&[], 0, 3), &mut c);
    assert_eq!(c, vec![0.0; 6]);
    let msg = common::panic_message(|| {
        let mut c = vec![0.0; 4];
        gemm(MatRef::new(&[0.0; 6], 2, 3), MatRef::new(&[0.0; 8], 4, 2), &mut c);
    });
    assert!(msg.contains("gemm: a is 2 x 3 but b is 4 x 2"), "{msg}");
}

#[test]
fn a_batched_product_spread_over_threads_gives_the_same_bits_forward_and_backward() {
    // 8 heads of [64, 48] @ [48, 64]: over the cut-off at which the heads
    // are shared out between threads. (Setting the thread count affects
    // other tests only in speed: results never depend on it.)
    let mut rng = resgrad::Rng::new(3);
    let a = resgrad::Tensor::normal([2, 4, 64, 48], 0.0, 1.0, &mut rng);
    let b = resgrad::Tensor::normal([2, 4, 48, 64], 0.0, 1.0, &mut rng);
    let dy = resgrad::Tensor::normal([2, 4, 64, 64], 0.0, 1.0, &mut rng);
    let before = resgrad::kernels::threads();
    let run = |threads: usize| {
        resgrad::kernels::set_threads(threads);
        let tape = resgrad::Tape::new();
        let (av, bv) = (tape.leaf(a.clone()), tape.leaf(b.clone()));
        let (y, yt) = (av.matmul(bv), av.matmul_t(av));
        let g = tape.backward_with(y, dy.clone());
        let gt = tape.backward_with(yt, dy.clone());
        [
            (*y.value()).clone(),
            g[av].clone(),
            g[bv].clone(),
            (*yt.value()).clone(),
            gt[av].clone(),
        ]
    };
    let (one, two) = (run(1), run(2));
    resgrad::kernels::set_threads(before);
    assert!(one == two, "1 and 2 threads differ");
}
