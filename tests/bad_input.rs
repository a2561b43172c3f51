//! Every kind of bad input a learner or a researcher is likely to give gets
//! a clear message: what was wrong, the shapes or values involved, and the
//! fix. Each test below shows one, and checks that the panic points at the
//! caller's line (`#[track_caller]`), not somewhere inside the engine.

mod common;

use common::{panic_location, panic_message};
use resgrad::nn::{
    Ctx, EncoderLayerConfig, LayerNorm, MultiHeadAttention, Params,
    TransformerEncoderLayer,
};
use resgrad::optim::{AdamW, Optimizer, Sgd};
use resgrad::{Rng, Shape, Tape, Tensor};

/// Asserts that a panic location lies in this file between two lines:
/// the caller's line, not one inside the engine.
#[track_caller]
fn assert_between(at: &str, before: u32, after: u32) {
    let line: u32 =
        at.strip_prefix("tests/bad_input.rs:").and_then(|l| l.parse().ok()).unwrap_or(0);
    assert!(
        before < line && line < after,
        "the panic points at {at}, not at the caller's line"
    );
}

/// Asserts that the message holds every one of `parts`.
#[track_caller]
fn says(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "the message lacks {part:?}:\n{message}");
    }
}

#[test]
fn data_that_does_not_fill_the_shape_says_both_counts() {
    let m = panic_message(|| {
        let _ = Tensor::from_vec(vec![1.0; 5], [2, 3]);
    });
    says(
        &m,
        &["5 values cannot fill shape [2, 3], which holds 6", "pass exactly 6 values"],
    );
    let before = line!();
    let at = panic_location(|| {
        let _ = Tensor::from_vec(vec![1.0; 5], [2, 3]);
    });
    assert_between(&at, before, line!());
}

#[test]
fn a_shape_whose_size_overflows_says_so_instead_of_wrapping() {
    let m = panic_message(|| {
        let _ = Shape::new(&[1 << 40, 1 << 40]);
    });
    says(
        &m,
        &["holds more elements than a usize can count", "[1099511627776, 1099511627776]"],
    );
    let m = panic_message(|| {
        let _ = Tensor::zeros([usize::MAX, 2]);
    });
    says(&m, &["overflows"]);
    // Zero-sized shapes are fine in themselves: a batch can be empty.
    assert_eq!(Tensor::zeros([0, 3]).numel(), 0);
}

#[test]
fn reductions_over_nothing_are_refused_where_the_answer_is_undefined() {
    let tape = Tape::new();
    let empty = tape.leaf(Tensor::zeros([0, 4]));
    says(
        &panic_message(|| {
            let _ = empty.mean();
        }),
        &["mean: the tensor of shape [0, 4] has no elements", "use sum()"],
    );
    says(
        &panic_message(|| {
            let _ = empty.mean_axis(0);
        }),
        &["mean_axis: axis 0 of shape [0, 4] is empty"],
    );
    says(
        &panic_message(|| {
            let _ = empty.mse_loss(empty);
        }),
        &["mse_loss: both operands of shape [0, 4] are empty"],
    );
    says(
        &panic_message(|| {
            let _ = empty.cross_entropy(&[]);
        }),
        &["hold no rows", "at least one example"],
    );
    let no_features = tape.leaf(Tensor::zeros([3, 0]));
    says(
        &panic_message(|| {
            let _ = no_features.softmax();
        }),
        &["softmax", "shape [3, 0]", "an empty one"],
    );
    // A sum over nothing is 0, as in PyTorch.
    assert_eq!(empty.sum().value().item(), 0.0);
}

#[test]
fn a_class_target_out_of_range_names_the_row_the_target_and_the_classes() {
    let tape = Tape::new();
    let logits = tape.leaf(Tensor::zeros([3, 4]));
    let m = panic_message(|| {
        let _ = logits.cross_entropy(&[0, 4, 1]);
    });
    says(
        &m,
        &["target 4 at row 1 is out of range for 4 classes (0..4)", "counted from 0"],
    );
    let m = panic_message(|| {
        let _ = logits.cross_entropy(&[0, 1]);
    });
    says(
        &m,
        &[
            "2 targets for logits of shape [3, 4] (3 rows of 4 classes)",
            "one class index per row",
        ],
    );
}

#[test]
fn a_dropout_probability_outside_0_to_1_is_refused() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::ones([2, 2]));
    let mut rng = Rng::new(0);
    for p in [-0.1, 1.5, f32::NAN] {
        let m = panic_message(|| {
            let _ = x.dropout(p, &mut rng, true);
        });
        says(&m, &["dropout: probability p =", "outside [0, 1]"]);
    }
    // p = 1 is allowed, as in PyTorch: everything is dropped, and nothing
    // becomes NaN (the 1 / (1 - p) scale is never applied to a kept value).
    let y = x.dropout(1.0, &mut rng, true);
    assert!(y.value().data().iter().all(|&v| v == 0.0));
    let mut params = Params::new();
    let config = EncoderLayerConfig::new(4, 2).dropout(1.5);
    let m = panic_message(|| {
        let _ = TransformerEncoderLayer::new(&mut params.scope("l"), config, &mut rng);
    });
    says(&m, &["dropout = 1.5 is not a probability", "[0, 1]"]);
}

#[test]
fn a_head_count_that_does_not_divide_the_width_suggests_divisors() {
    let mut params = Params::new();
    let mut rng = Rng::new(0);
    let m = panic_message(|| {
        let _ =
            MultiHeadAttention::new(&mut params.scope("a"), 10, 4, 0.0, true, &mut rng);
    });
    says(&m, &["embed_dim 10 is not divisible by num_heads 4", "pick a divisor of 10"]);
    let m = panic_message(|| {
        let _ =
            MultiHeadAttention::new(&mut params.scope("b"), 8, 0, 0.0, true, &mut rng);
    });
    says(&m, &["num_heads 0"]);
}

#[test]
fn a_non_positive_eps_is_refused_where_it_would_divide_by_zero() {
    let mut params = Params::new();
    for eps in [0.0, -1e-5, f32::NAN, f32::INFINITY] {
        let m = panic_message(|| {
            let _ = LayerNorm::with_options(&mut params.scope("n"), 4, eps, true, true);
        });
        says(&m, &["LayerNorm: eps =", "must be a positive, finite number", "1e-5"]);
        let tape = Tape::new();
        let x = tape.leaf(Tensor::ones([2, 4]));
        let m = panic_message(|| {
            let _ = x.layer_norm(None, None, eps);
        });
        says(&m, &["layer_norm: eps ="]);
    }
    let m = panic_message(|| {
        let _ = AdamW::new(1e-3).eps(0.0);
    });
    says(&m, &["AdamW::eps: eps = 0 must be a positive, finite number"]);
}

#[test]
fn a_var_from_another_tape_is_refused_with_both_tapes_named() {
    let (first, second) = (Tape::new(), Tape::new());
    let a = first.leaf(Tensor::ones([2]));
    let b = second.leaf(Tensor::ones([2]));
    let m = panic_message(|| {
        let _ = a + b;
    });
    says(&m, &["was recorded on a different tape", "must come from the same Tape"]);
    let loss = a.sum();
    let m = panic_message(|| {
        let _ = second.backward(loss);
    });
    says(&m, &["different tape", "call backward on the tape that recorded the output"]);
}

#[test]
fn backward_from_a_non_scalar_asks_for_a_reduction_or_an_upstream_gradient() {
    let tape = Tape::new();
    let y = tape.leaf(Tensor::ones([2, 3])).relu();
    let m = panic_message(|| {
        let _ = tape.backward(y);
    });
    says(
        &m,
        &[
            "shape [2, 3] (6 elements)",
            "reduce it first (.sum() or .mean())",
            "backward_with",
        ],
    );
    let m = panic_message(|| {
        let _ = tape.backward_with(y, Tensor::ones([3, 2]));
    });
    says(&m, &["dy has shape [3, 2] but the output has shape [2, 3]"]);
    let before = line!();
    let at = panic_location(|| {
        let _ = tape.backward(y);
    });
    assert_between(&at, before, line!());
}

#[test]
fn an_optimizer_given_gradients_that_do_not_match_its_parameters_says_which() {
    let mut rng = Rng::new(0);
    let (mut model, mut other) = (Params::new(), Params::new());
    let w = model.add("w", Tensor::normal([2, 2], 0.0, 1.0, &mut rng));
    other.add("w", Tensor::normal([2, 2], 0.0, 1.0, &mut rng));
    let tape = Tape::new();
    let ctx = Ctx::train(&tape, &model, 0);
    let loss = ctx.param(w).sum();
    let grads = ctx.param_grads(&tape.backward(loss));
    // Gradients of one store applied to another.
    let m = panic_message(|| Sgd::new(0.1).step(&mut other, &grads));
    says(&m, &["these gradients come from a pass over a different Params store"]);
    // One optimiser used for two models.
    let mut opt = AdamW::new(1e-3);
    opt.step(&mut model, &grads);
    let tape2 = Tape::new();
    let ctx2 = Ctx::train(&tape2, &other, 0);
    let loss2 = ctx2.param(other.find("w").unwrap()).sum();
    let grads2 = ctx2.param_grads(&tape2.backward(loss2));
    let m = panic_message(|| opt.step(&mut other, &grads2));
    says(
        &m,
        &[
            "this optimiser holds state for a different Params store",
            "make a new optimiser",
        ],
    );
}
