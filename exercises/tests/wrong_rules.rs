//! Plausible mistakes, one or more per exercise, each fed to the same check
//! that the exercise's tests make, which must reject it. This is the proof
//! that the exercises' tests can fail: a rule that passes them is not merely
//! one the checks never looked at.
//!
//! Each wrong op takes its forward pass from resgrad's own ops and its
//! backward pass from the mistake, so only the rule is wrong.

mod common;

use common::{assert_gradcheck, assert_identity_plus_branch, random};
use exercises::matrix::{product, transpose};
use exercises::sweep::MiniTape;
use resgrad::{Backward, Tape, Tensor, Var};

/// A backward rule given as a function, under a name of its own.
struct Rule<F> {
    name: &'static str,
    rule: F,
}

impl<F: Fn(&[&Tensor], &Tensor, &Tensor) -> Vec<Tensor>> Backward for Rule<F> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn backward(&self, x: &[&Tensor], y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        (self.rule)(x, y, dy)
    }
}

/// Records, on the inputs' tape, an op named `name` whose value is what
/// `forward` (built from resgrad's ops) computes and whose backward is `rule`.
fn wrong_op<'t>(
    name: &'static str,
    inputs: &[Var<'t>],
    forward: impl for<'s> Fn(&[Var<'s>]) -> Var<'s>,
    rule: impl Fn(&[&Tensor], &Tensor, &Tensor) -> Vec<Tensor> + 'static,
) -> Var<'t> {
    let scratch = Tape::new();
    let copies: Vec<Var<'_>> =
        inputs.iter().map(|v| scratch.leaf((*v.value()).clone())).collect();
    let y = (*forward(&copies).value()).clone();
    inputs[0].tape().push(y, inputs, Rule { name, rule })
}

// Exercise 1.
#[test]
#[should_panic(expected = "gradcheck failed for `add_one_input_only`")]
fn an_add_that_sends_dy_to_one_input_only_fails_gradcheck() {
    let (a, b) = (random(&[3, 4], 1), random(&[3, 4], 2));
    assert_gradcheck(
        |_tape, v| {
            wrong_op(
                "add_one_input_only",
                v,
                |v| v[0] + v[1],
                |_x, _y, dy| vec![dy.clone(), Tensor::zeros(dy.shape())],
            )
        },
        &[a, b],
    );
}

// ANCHOR: wrong_mul
// Exercise 2: the chain rule forgotten, da = b instead of dy * b.
#[test]
#[should_panic(expected = "gradcheck failed for `mul_without_dy`")]
fn a_mul_that_forgets_dy_fails_gradcheck() {
    let (a, b) = (random(&[3, 4], 1), random(&[3, 4], 2));
    assert_gradcheck(
        |_tape, v| {
            wrong_op(
                "mul_without_dy",
                v,
                |v| v[0] * v[1],
                |x, _y, _dy| vec![x[1].clone(), x[0].clone()],
            )
        },
        &[a, b],
    );
}
// ANCHOR_END: wrong_mul

// ANCHOR: wrong_sweep
// Exercise 3: a sweep that overwrites a gradient instead of adding to it,
// so a value used twice keeps only the last contribution to reach it.
fn overwriting_sweep(tape: &MiniTape, output: usize) -> Vec<f32> {
    let mut grads = vec![0.0; tape.nodes.len()];
    grads[output] = 1.0;
    for id in (0..=output).rev() {
        for &(input, local) in &tape.nodes[id].inputs {
            grads[input] = grads[id] * local; // wrong: `=` where `+=` belongs
        }
    }
    grads
}

#[test]
#[should_panic(expected = "the sweep gives")]
fn a_sweep_that_overwrites_instead_of_adding_disagrees_with_resgrad() {
    common::assert_sweep_matches_resgrad(overwriting_sweep);
}
// ANCHOR_END: wrong_sweep

// Exercise 3: a sweep that visits the nodes first to last, so it uses each
// gradient before all of its contributions have arrived.
#[test]
#[should_panic(expected = "the sweep gives")]
fn a_sweep_in_recording_order_disagrees_with_resgrad() {
    common::assert_sweep_matches_resgrad(|tape: &MiniTape, output: usize| {
        let mut grads = vec![0.0; tape.nodes.len()];
        grads[output] = 1.0;
        for id in 0..=output {
            for &(input, local) in &tape.nodes[id].inputs {
                grads[input] += grads[id] * local;
            }
        }
        grads
    });
}

// Exercise 4: the transposes forgotten, dA = dY B. With a [3, 4] @ [4, 2]
// product the shapes do not fit, and the helper says so.
#[test]
#[should_panic(expected = "matrix::product: inner dimensions differ")]
fn a_matmul_without_the_transposes_is_a_shape_error() {
    let (a, b) = (random(&[3, 4], 1), random(&[4, 2], 2));
    assert_gradcheck(
        |_tape, v| {
            wrong_op(
                "matmul_untransposed",
                v,
                |v| v[0].matmul(v[1]),
                |x, _y, dy| vec![product(dy, x[1]), product(x[0], dy)],
            )
        },
        &[a, b],
    );
}

// Exercise 5: the mask without dy.
#[test]
#[should_panic(expected = "gradcheck failed for `relu_without_dy`")]
fn a_relu_that_forgets_dy_fails_gradcheck() {
    let x = random(&[4, 5], 1).map(|x| if x < 0.0 { x - 0.1 } else { x + 0.1 });
    assert_gradcheck(
        |_tape, v| {
            wrong_op(
                "relu_without_dy",
                v,
                |v| v[0].relu(),
                |x, _y, _dy| vec![x[0].map(|x| if x > 0.0 { 1.0 } else { 0.0 })],
            )
        },
        &[x],
    );
}

// ANCHOR: wrong_layer_norm
// Exercise 6: the classic mistake, treating μ and r as constants. Then
// x̂ = (x − μ) r looks like a scale of x, and dx = r · dx̂, missing the
// two terms that come from x's effect on μ and on r.
fn layer_norm_with_constant_stats(
    x: &[&Tensor],
    _y: &Tensor,
    dy: &Tensor,
) -> Vec<Tensor> {
    let (rows, c) = (x[0].dims()[0], x[0].dims()[1]);
    let (mut dx, mut dg, mut db) = (dy.clone(), Tensor::zeros([c]), Tensor::zeros([c]));
    for i in 0..rows {
        let row: Vec<f32> = (0..c).map(|j| x[0].get(&[i, j])).collect();
        let mu = row.iter().sum::<f32>() / c as f32;
        let var = row.iter().map(|v| (v - mu).powi(2)).sum::<f32>() / c as f32;
        let r = 1.0 / (var + 1e-5).sqrt();
        for j in 0..c {
            let (dyij, xhat) = (dy.get(&[i, j]), (x[0].get(&[i, j]) - mu) * r);
            dx.set(&[i, j], r * dyij * x[1].get(&[j])); // wrong: r · dx̂ only
            dg.set(&[j], dg.get(&[j]) + dyij * xhat);
            db.set(&[j], db.get(&[j]) + dyij);
        }
    }
    vec![dx, dg, db]
}
// ANCHOR_END: wrong_layer_norm

#[test]
#[should_panic(expected = "gradcheck failed for `layer_norm_constant_stats`")]
fn a_layer_norm_that_treats_the_mean_and_std_as_constants_fails_gradcheck() {
    let inputs = [random(&[3, 6], 1), random(&[6], 2), random(&[6], 3)];
    assert_gradcheck(
        |_tape, v| {
            wrong_op(
                "layer_norm_constant_stats",
                v,
                |v| v[0].layer_norm(Some(v[1]), Some(v[2]), 1e-5),
                layer_norm_with_constant_stats,
            )
        },
        &inputs,
    );
}

// Exercise 7: softmax's rule without the row sum, dx = y * dy, as if the
// outputs did not depend on each other's inputs.
#[test]
#[should_panic(expected = "gradcheck failed for `softmax_diagonal_only`")]
fn a_softmax_without_the_row_sum_fails_gradcheck() {
    assert_gradcheck(
        |_tape, v| {
            wrong_op(
                "softmax_diagonal_only",
                v,
                |v| v[0].softmax(),
                |_x, y, dy| vec![y.zip_map(dy, |y, dy| y * dy)],
            )
        },
        &[random(&[3, 5], 1)],
    );
}

// ANCHOR: wrong_residual
// Exercise 8: the skip forgotten, dx = dy Wᵀ. That is the rule of the branch
// alone, so the block's Jacobian equals the branch's and the I is missing.
fn residual_without_skip(x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
    let dx = product(dy, &transpose(x[1])); // wrong: should be dy + dy Wᵀ
    vec![dx, product(&transpose(x[0]), dy)]
}

#[test]
#[should_panic(expected = "should be the identity I")]
fn a_residual_block_that_forgets_the_skip_has_no_identity_in_its_jacobian() {
    let (x, w) = (random(&[2, 3], 1), random(&[3, 3], 2).map(|w| 0.5 * w));
    assert_identity_plus_branch(
        |tape, x| {
            let inputs = [x, tape.constant(w.clone())];
            wrong_op(
                "residual_without_skip",
                &inputs,
                |v| v[0] + v[0].matmul(v[1]),
                residual_without_skip,
            )
        },
        |tape, x| x.matmul(tape.constant(w.clone())),
        &x,
        1e-5,
    );
}
// ANCHOR_END: wrong_residual
