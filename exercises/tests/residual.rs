//! Exercise 8: `cargo test -p exercises --test residual`.

mod common;

use common::{
    assert_close, assert_gradcheck, assert_identity_plus_branch, gradients, random,
};
use exercises::residual::residual_linear;
use resgrad::Tensor;

/// x: [2, 3], W: [3, 3] with entries of about 0.5.
fn inputs() -> [Tensor; 2] {
    [random(&[2, 3], 1), random(&[3, 3], 2).map(|w| 0.5 * w)]
}

#[test]
fn residual_linear_passes_gradcheck() {
    assert_gradcheck(|_tape, v| residual_linear(v[0], v[1]), &inputs());
}

// ANCHOR: identity_test
#[test]
fn the_blocks_jacobian_is_the_identity_plus_the_branchs() {
    let [x, w] = inputs();
    // Each entry of both Jacobians is a sum of a few products of order 1, and
    // (1 + g) − g is not exact in f32: a few ulps of 1, far below 1e-5.
    assert_identity_plus_branch(
        |tape, x| residual_linear(x, tape.constant(w.clone())),
        |tape, x| x.matmul(tape.constant(w.clone())),
        &x,
        1e-5,
    );
}
// ANCHOR_END: identity_test

#[test]
fn with_a_zero_weight_the_jacobian_is_exactly_the_identity() {
    // The branch sends back dy · 0 = 0 and 0 + dy is exactly dy: tolerance 0.
    let [x, _] = inputs();
    let w = Tensor::zeros([3, 3]);
    assert_identity_plus_branch(
        |tape, x| residual_linear(x, tape.constant(w.clone())),
        |tape, x| x.matmul(tape.constant(w.clone())),
        &x,
        0.0,
    );
}

#[test]
fn matches_the_same_block_built_from_resgrad_ops() {
    // Two ops (matmul, add) against one; the products are summed in a different
    // order, so values of order 1 agree to a few ulps, inside 1e-5.
    let dy = random(&[2, 3], 3);
    let ours = gradients(|_tape, v| residual_linear(v[0], v[1]), &inputs(), &dy);
    let resgrad = gradients(|_tape, v| v[0] + v[0].matmul(v[1]), &inputs(), &dy);
    assert_close("dx", &ours[0], &resgrad[0], 1e-5);
    assert_close("dW", &ours[1], &resgrad[1], 1e-5);
}
