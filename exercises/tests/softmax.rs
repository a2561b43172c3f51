//! Exercise 7: `cargo test -p exercises --test softmax`.

mod common;

use common::{assert_gradcheck, gradients, random};
use exercises::softmax::softmax;

#[test]
fn softmax_passes_gradcheck() {
    assert_gradcheck(|_tape, v| softmax(v[0]), &[random(&[3, 5], 1)]);
}

#[test]
fn each_rows_dx_sums_to_zero() {
    // Adding a constant to a row's logits changes no probability, so the
    // gradient along (1, …, 1) is 0 in every row: Σ_j y_j (dy_j − s) = s − s.
    // The two sums cancel in f32 only up to rounding of values below 1.
    let dy = random(&[3, 5], 2);
    let dx = &gradients(|_tape, v| softmax(v[0]), &[random(&[3, 5], 1)], &dy)[0];
    for (i, row) in dx.data().chunks(5).enumerate() {
        let sum: f32 = row.iter().sum();
        assert!(
            sum.abs() < 1e-6,
            "row {i} of dx sums to {sum}; is the − Σ dy·y term missing?"
        );
    }
}
