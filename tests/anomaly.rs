//! Anomaly mode reports the first op that makes a NaN or an infinity, with
//! its tape index, name, listing line and the statistics of its values, in
//! the forward pass and in the backward pass; and stays silent where the
//! infinities are intended or inherited.

mod common;

use common::panic_message;
use resgrad::anomaly::ValueStats;
use resgrad::nn::{Ctx, Linear, Module, Params};
use resgrad::{Backward, Rng, Tape, Tensor};

#[test]
fn the_first_op_to_make_a_non_finite_value_in_the_forward_pass_is_named_with_its_listing_line()
 {
    let tape = Tape::new();
    tape.set_detect_anomaly(true);
    let x = tape.leaf(Tensor::from_vec(vec![1.0, 0.0, 2.0], [3]));
    let h = x.scale(2.0); // #1: fine
    let m = panic_message(|| {
        let _ = h.log(); // #2: log(0) = -inf
    });
    assert!(
        m.contains("anomaly: #2 log turned finite inputs into 1 non-finite value in its forward pass"),
        "{m}"
    );
    assert!(m.contains("#2 log [3] <- #1"), "the listing line: {m}");
    assert!(
        m.contains(
            "output: min 0.6931472, max 1.3862944 over 2 finite, 0 NaN, 1 ±inf, of 3"
        ),
        "{m}"
    );
    assert!(
        m.contains("input #1 [3]: min 0, max 4 over 3 finite, 0 NaN, 0 ±inf, of 3"),
        "{m}"
    );
    assert_eq!(
        tape.to_string().lines().nth(1),
        Some("#1 scale(2) [3] <- #0"),
        "the tape listing agrees"
    );
}

#[test]
fn a_backward_rule_that_blows_up_is_named_with_the_gradient_it_broke() {
    // log of a tiny positive number is finite (-103.3), but its derivative
    // 1/x is 1e45, beyond f32: only the backward pass goes wrong.
    let tape = Tape::new();
    tape.set_detect_anomaly(true);
    let x = tape.leaf(Tensor::from_vec(vec![1e-45, 1.0], [2]));
    let loss = x.log().sum();
    assert!(loss.value().item().is_finite());
    let m = panic_message(|| drop(tape.backward(loss)));
    assert!(
        m.contains("the backward rule of #1 log turned a finite upstream gradient into 1 non-finite value"),
        "{m}"
    );
    assert!(m.contains("in the gradient of its input 0 (#0)"), "{m}");
    assert!(m.contains("#1 log [2] <- #0"), "{m}");
    assert!(m.contains("upstream dy: min 1, max 1 over 2 finite"), "{m}");
}

#[test]
fn gradients_that_overflow_only_when_fan_out_sums_them_are_named_at_the_sum() {
    // Each scale's rule returns 3e38 · dy, finite; x is used twice, and the
    // tape's sum of the two, 6e38, is beyond f32. Found by the `ops` fuzz
    // target (tests/fuzz_inputs/ops/anomaly-overflowing-fan-out-sum).
    let tape = Tape::new();
    tape.set_detect_anomaly(true);
    let x = tape.leaf(Tensor::from_vec(vec![1e-30, 1.0e-30], [2]));
    let loss = (x.scale(3e38) + x.scale(3e38)).sum(); // forward: 6e8 each, 1.2e9 in all
    assert!(loss.value().item().is_finite());
    let m = panic_message(|| drop(tape.backward(loss)));
    assert!(
        m.contains(
            "anomaly: the gradient of #0 overflowed to 2 infinite values when the contribution of #1 scale"
        ),
        "{m}"
    );
    assert!(m.contains("#0 leaf [2]"), "the listing line: {m}");
    assert!(m.contains("sum so far: min 3e38, max 3e38 over 2 finite"), "{m}");
    // Without anomaly mode the same sweep gives infinities silently.
    tape.set_detect_anomaly(false);
    assert!(tape.backward(loss)[x].data().iter().all(|g| g.is_infinite()));
}

#[test]
fn intended_and_inherited_infinities_are_not_reported() {
    let tape = Tape::new();
    tape.set_detect_anomaly(true);
    let mut rng = Rng::new(0);
    let s = tape.leaf(Tensor::normal([1, 4, 4], 0.0, 1.0, &mut rng));
    let w = s.causal_mask().softmax(); // -inf on purpose, then finite again
    let grads = tape.backward(w.sum());
    assert!(grads[s].data().iter().all(|g| g.is_finite()));
    // Off, nothing is checked: the NaN goes through silently.
    let quiet = Tape::new();
    let y = quiet.leaf(Tensor::from_vec(vec![-1.0], [1])).log();
    assert!(y.value().item().is_nan());
}

#[test]
fn a_parameter_that_went_bad_is_reported_when_the_next_pass_reads_it() {
    let mut rng = Rng::new(1);
    let mut params = Params::new();
    let layer = Linear::new(&mut params.scope("fc"), 3, 2, true, &mut rng);
    params.get_mut(layer.weight).data_mut()[4] = f32::NAN; // as after a diverged step
    let tape = Tape::new();
    tape.set_detect_anomaly(true);
    let ctx = Ctx::train(&tape, &params, 0);
    let x = ctx.input(Tensor::ones([1, 3]));
    let m = panic_message(|| {
        let _ = layer.forward(&ctx, x);
    });
    assert!(m.contains("holds non-finite values: min"), "{m}");
    assert!(m.contains("1 NaN"), "{m}");
}

#[test]
fn a_custom_rule_returning_nan_is_caught_at_its_own_node() {
    struct Broken;
    impl Backward for Broken {
        fn name(&self) -> &'static str {
            "broken"
        }
        fn backward(&self, x: &[&Tensor], _y: &Tensor, _dy: &Tensor) -> Vec<Tensor> {
            vec![Tensor::full(x[0].shape(), f32::NAN)]
        }
    }
    let tape = Tape::new();
    tape.set_detect_anomaly(true);
    let x = tape.leaf(Tensor::ones([2]));
    let y = tape.push(x.value().as_ref().clone(), &[x], Broken);
    let loss = (y * y).sum();
    let m = panic_message(|| drop(tape.backward(loss)));
    assert!(m.contains("the backward rule of #1 broken"), "{m}");
    assert!(m.contains("2 NaN"), "{m}");
}

#[test]
fn value_stats_count_each_kind_and_range_over_finite_values() {
    let s = ValueStats::of(&Tensor::from_vec(
        vec![1.0, f32::NAN, -3.0, f32::INFINITY, f32::NEG_INFINITY],
        [5],
    ));
    assert_eq!((s.min, s.max, s.finite, s.nan, s.inf), (-3.0, 1.0, 2, 1, 2));
    assert_eq!(s.to_string(), "min -3, max 1 over 2 finite, 1 NaN, 2 ±inf, of 5");
    // Very large and very small magnitudes print in scientific notation.
    let s = ValueStats::of(&Tensor::from_vec(vec![-3e38, 1e-45, 1234567.0], [3]));
    assert_eq!(
        s.to_string(),
        "min -3e38, max 1234567 over 3 finite, 0 NaN, 0 ±inf, of 3"
    );
    let s = ValueStats::of(&Tensor::from_vec(vec![1e-45, 2.5e-6], [2]));
    assert_eq!(s.to_string(), "min 1e-45, max 2.5e-6 over 2 finite, 0 NaN, 0 ±inf, of 2");
}

#[test]
fn an_op_without_inputs_that_makes_infinity_on_purpose_is_not_reported() {
    // A custom op may take no inputs; `produces_infinity` exempts its ±∞
    // like any other op's, and a NaN from it is still its own.
    struct Fill;
    impl Backward for Fill {
        fn name(&self) -> &'static str {
            "fill"
        }
        fn backward(&self, _x: &[&Tensor], _y: &Tensor, _dy: &Tensor) -> Vec<Tensor> {
            Vec::new()
        }
        fn produces_infinity(&self) -> bool {
            true
        }
    }
    let tape = Tape::new();
    tape.set_detect_anomaly(true);
    let wall = tape.push(Tensor::full([2], f32::NEG_INFINITY), &[], Fill);
    assert_eq!(wall.id(), 0);
    let m = panic_message(|| {
        let _ = tape.push(Tensor::full([2], f32::NAN), &[], Fill);
    });
    assert!(
        m.contains("anomaly: #1 fill turned finite inputs into 2 non-finite values"),
        "{m}"
    );
}
