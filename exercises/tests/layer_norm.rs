//! Exercise 6: `cargo test -p exercises --test layer_norm`.

mod common;

use common::{assert_close, assert_gradcheck, gradients, random};
use exercises::layer_norm::layer_norm;
use resgrad::Tensor;

/// x: [3, 6]; the gain and shift: [6].
fn inputs() -> [Tensor; 3] {
    [random(&[3, 6], 1), random(&[6], 2).map(|g| 1.0 + 0.5 * g), random(&[6], 3)]
}

#[test]
fn layer_norm_passes_gradcheck() {
    assert_gradcheck(|_tape, v| layer_norm(v[0], v[1], v[2], 1e-5), &inputs());
}

#[test]
fn each_rows_dx_sums_to_zero() {
    // Adding a constant to a row changes neither x − μ nor σ, so it changes no
    // output: the gradient along (1, …, 1) is 0 in every row. The three terms
    // of dx cancel in f32 only up to rounding of values of order 1.
    let dy = random(&[3, 6], 4);
    let dx = &gradients(|_tape, v| layer_norm(v[0], v[1], v[2], 1e-5), &inputs(), &dy)[0];
    for (i, row) in dx.data().chunks(6).enumerate() {
        let sum: f32 = row.iter().sum();
        assert!(
            sum.abs() < 1e-5,
            "row {i} of dx sums to {sum}; is the − mean(dx̂) term missing?"
        );
    }
}

#[test]
fn matches_resgrads_layer_norm() {
    // The same formulas; resgrad sums in a different order, so the gradients,
    // of order 1, agree to a few ulps, well inside 1e-5.
    let dy = random(&[3, 6], 4);
    let ours = gradients(|_tape, v| layer_norm(v[0], v[1], v[2], 1e-5), &inputs(), &dy);
    let resgrad = gradients(
        |_tape, v| v[0].layer_norm(Some(v[1]), Some(v[2]), 1e-5),
        &inputs(),
        &dy,
    );
    for (name, (got, want)) in ["dx", "dg", "db"].iter().zip(ours.iter().zip(&resgrad)) {
        assert_close(name, got, want, 1e-5);
    }
}
