//! The tape itself: fan-out, repeated backward passes, long chains, the
//! vector-Jacobian form, constants, and the listings it prints.

mod common;

use common::json::Json;
use common::{panic_location, panic_message};
use resgrad::check::jacobian;
use resgrad::{Rng, Tape, Tensor, Var};

#[test]
fn a_value_added_to_itself_receives_both_contributions() {
    let tape = Tape::new();
    let a = tape.leaf(Tensor::from_vec(vec![1.5, -2.0], [2]));
    let g = tape.backward((a + a).sum());
    assert_eq!(g[a].data(), &[2.0, 2.0]);
}

// ANCHOR: fan_out
#[test]
fn a_value_used_in_three_places_receives_the_sum_of_three_gradients() {
    // y = x*x + 3x + exp(x): dy/dx = 2x + 3 + exp(x)
    let tape = Tape::new();
    let x = tape.leaf(Tensor::from_vec(vec![0.5, -1.0, 2.0], [3]));
    let y = (x * x + x.scale(3.0) + x.exp()).sum();
    let g = tape.backward(y);
    for (&gx, &xv) in g[x].data().iter().zip(x.value().data()) {
        let expected = 2.0 * xv + 3.0 + xv.exp();
        // Three contributions summed in another order than this line: 2 ulps.
        approx::assert_relative_eq!(gx, expected, max_relative = 2.0 * f32::EPSILON);
    }
}
// ANCHOR_END: fan_out

#[test]
fn calling_backward_twice_gives_the_same_gradients_and_accumulates_nothing() {
    let mut rng = Rng::new(1);
    let tape = Tape::new();
    let x = tape.leaf(Tensor::normal([3, 4], 0.0, 1.0, &mut rng));
    let w = tape.leaf(Tensor::normal([4, 2], 0.0, 1.0, &mut rng));
    let loss = x.matmul(w).tanh().mean();
    let first = tape.backward(loss);
    let second = tape.backward(loss);
    assert_eq!(first[x], second[x]);
    assert_eq!(first[w], second[w]);
    // The tape is unchanged by a backward pass: more ops can follow.
    let n = tape.len();
    let more = (loss * loss).sum();
    assert_eq!(tape.len(), n + 2);
    assert!(tape.backward(more).get(x).is_some());
}

// ANCHOR: long_chain
#[test]
fn a_chain_of_ten_thousand_ops_runs_backward_without_overflowing_the_stack() {
    let c = 1.0001f32;
    let tape = Tape::new();
    let x = tape.leaf(Tensor::scalar(1.0));
    let mut y = x;
    for _ in 0..10_000 {
        y = y.scale(c);
    }
    assert_eq!(tape.len(), 10_001);
    // The reverse sweep multiplies the gradient by c once per node, in the
    // same order as this loop, so the results agree exactly.
    let mut expected = 1.0f32;
    for _ in 0..10_000 {
        expected *= c;
    }
    assert_eq!(tape.backward(y)[x].item(), expected);
}
// ANCHOR_END: long_chain

// ANCHOR: vjp
#[test]
fn backward_with_an_upstream_vector_is_the_transposed_jacobian_times_that_vector() {
    let mut rng = Rng::new(2);
    let x = Tensor::normal([2, 3], 0.0, 1.0, &mut rng);
    let dy = Tensor::normal([2, 3], 0.0, 1.0, &mut rng);
    fn f<'t>(_t: &'t Tape, v: Var<'t>) -> Var<'t> {
        v.softmax() * v
    }
    let j = jacobian(f, &x); // [6, 6]
    let tape = Tape::new();
    let v = tape.leaf(x.clone());
    let vjp = tape.backward_with(f(&tape, v), dy.clone());
    for col in 0..6 {
        let expected: f32 = (0..6).map(|row| dy.data()[row] * j.get(&[row, col])).sum();
        assert!((vjp[v].data()[col] - expected).abs() < 1e-6, "{col}");
    }
}
// ANCHOR_END: vjp

#[test]
fn constants_get_no_gradient_and_ops_on_them_are_skipped() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::ones([2]));
    let c = tape.constant(Tensor::from_vec(vec![2.0, 3.0], [2]));
    let c2 = c.exp(); // depends on constants only
    assert!(!c2.requires_grad());
    let g = tape.backward((x * c2).sum());
    assert!(g.get(c).is_none() && g.get(c2).is_none());
    assert_eq!(g[x].data(), &[2f32.exp(), 3f32.exp()]);
}

#[test]
fn nodes_that_do_not_reach_the_output_have_no_gradient() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::ones([2]));
    let unused = x.tanh();
    let g = tape.backward(x.sum());
    assert!(g.get(unused).is_none());
    let msg = panic_message(|| {
        let _ = &g[unused];
    });
    assert!(msg.contains("no gradient for #1"), "{msg}");
}

#[test]
fn backward_from_a_non_scalar_says_how_to_seed_it() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::ones([2, 3]));
    let msg = panic_message(|| {
        tape.backward(x.relu());
    });
    assert!(msg.contains("output has shape [2, 3] (6 elements)"), "{msg}");
    assert!(msg.contains("backward_with(output, dy)"), "{msg}");
    let msg = panic_message(|| {
        tape.backward_with(x, Tensor::ones([3, 2]));
    });
    assert!(msg.contains("dy has shape [3, 2] but the output has shape [2, 3]"), "{msg}");
}

#[test]
fn mixing_tapes_is_caught() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let a = t1.leaf(Tensor::ones([2]));
    let b = t2.leaf(Tensor::ones([2]));
    let msg = panic_message(|| {
        let _ = a + b;
    });
    assert!(msg.contains("different tape"), "{msg}");
}

// ANCHOR: width_mismatch_error
#[test]
fn adding_a_branch_of_another_width_to_a_skip_names_the_projection_shortcut() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::ones([2, 5, 64]));
    let fx = tape.leaf(Tensor::ones([2, 5, 128]));
    let msg = panic_message(|| {
        let _ = x + fx;
    });
    assert!(msg.contains("add: shapes differ"), "{msg}");
    assert!(msg.contains("left shape [2, 5, 64], right shape [2, 5, 128]"), "{msg}");
    assert!(msg.contains("identity skip"), "{msg}");
    assert!(
        msg.contains("projection shortcut P(x) + F(x) with P a Linear(64 -> 128)"),
        "{msg}"
    );
    // The engine cannot know which operand is the skip: the other reading too.
    assert!(msg.contains("a Linear(128 -> 64) when x is the right one"), "{msg}");
}
// ANCHOR_END: width_mismatch_error

// ANCHOR: matmul_message
#[test]
fn a_matmul_with_mismatched_inner_axes_panics_with_the_whole_message() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::ones([2, 5, 64])); // [B, T, C]
    // [out, in], as PyTorch stores a Linear weight
    let w = tape.leaf(Tensor::ones([128, 64]));
    let msg = panic_message(|| {
        let _ = x.matmul(w); // should have been x.matmul(w.transpose())
    });
    assert_eq!(
        msg,
        "matmul: inner dimensions differ\n  \
         lhs shape [2, 5, 64] (K = 64), rhs shape [128, 64] (K = 128)\n  \
         a.matmul(b) needs a's last axis to match b's second-to-last; \
         did you mean to transpose one of them?"
    );
}
// ANCHOR_END: matmul_message

// ANCHOR: listing
#[test]
fn the_tape_prints_as_a_numbered_listing() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::ones([2, 4])).label("x");
    let w = tape.leaf(Tensor::ones([4, 4])).label("w");
    let b = tape.leaf(Tensor::zeros([4])).label("b");
    let f = x.matmul(w).add_bias(b).relu(); // the branch F(x)
    let y = x + f; // the skip
    let _loss = y.mean();
    assert_eq!(
        tape.to_string(),
        "#0 leaf [2, 4]  \"x\"\n\
         #1 leaf [4, 4]  \"w\"\n\
         #2 leaf [4]  \"b\"\n\
         #3 matmul [2, 4] <- #0, #1\n\
         #4 add_bias [2, 4] <- #3, #2\n\
         #5 relu [2, 4] <- #4\n\
         #6 add [2, 4] <- #0, #5\n\
         #7 mean [] <- #6\n"
    );
}
// ANCHOR_END: listing

#[test]
fn the_json_trace_lists_every_node_with_value_and_gradient() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::from_vec(vec![-1.0, 2.0], [2])).label("x");
    let y = (x + x.relu()).sum();
    let g = tape.backward(y);
    let json = tape.to_json(Some(&g));
    assert!(
        json.starts_with("{\"format\": \"resgrad-trace\", \"version\": 2, \"nodes\": [")
    );
    assert_eq!(json.matches("\"id\": ").count(), tape.len());
    assert!(json.contains(
        "{\"id\": 0, \"op\": \"leaf\", \"detail\": \"\", \"label\": \"x\", \"inputs\": [], \"shape\": [2], \"value\": [-1.0, 2.0], \"grad\": [1.0, 2.0], \"sent\": []}"
    ));
    assert!(json.contains(
        "\"op\": \"add\", \"detail\": \"\", \"label\": null, \"inputs\": [0, 1]"
    ));
    assert!(json.contains("\"op\": \"sum\""));
    // The add (#2) passes dy on unchanged to both x and relu(x): the skip's identity.
    assert!(json.contains(
        "\"sent\": [{\"to\": 0, \"grad\": [1.0, 1.0]}, {\"to\": 1, \"grad\": [1.0, 1.0]}]"
    ));
    // relu (#1) sends 1[x > 0] back to x.
    assert!(json.contains("\"sent\": [{\"to\": 0, \"grad\": [0.0, 1.0]}]"));
}

// ANCHOR: replay_sweep
/// The numbers of a JSON array, as f32.
fn numbers(v: &Json) -> Vec<f32> {
    let Json::Arr(items) = v else { panic!("not an array: {v:?}") };
    items
        .iter()
        .map(|n| if let Json::Num(n) = n { *n as f32 } else { panic!("{n:?}") })
        .collect()
}

/// Replays the sweep's accumulation from a trace's nodes: the loss (the
/// last node) starts at 1, then senders in decreasing id order add each
/// contribution they sent into what its receiver has so far.
fn replay_sweep(nodes: &[Json]) -> Vec<Option<Vec<f32>>> {
    let mut received: Vec<Option<Vec<f32>>> = vec![None; nodes.len()];
    received[nodes.len() - 1] = Some(vec![1.0]);
    for node in nodes.iter().rev() {
        let Some(Json::Arr(sent)) = node.get("sent") else { panic!("no sent") };
        for s in sent {
            let Some(Json::Num(to)) = s.get("to") else { panic!("no to") };
            let dx = numbers(s.get("grad").expect("grad"));
            match &mut received[*to as usize] {
                None => received[*to as usize] = Some(dx),
                Some(acc) => acc.iter_mut().zip(&dx).for_each(|(a, d)| *a += d),
            }
        }
    }
    received
}
// ANCHOR_END: replay_sweep

// ANCHOR: contributions_sum
#[test]
fn the_json_traces_contributions_sum_to_each_gradient_bit_for_bit() {
    let mut rng = Rng::new(11);
    let tape = Tape::new();
    let x = tape.leaf(Tensor::normal([3, 4], 0.0, 1.0, &mut rng)).label("x");
    let w = tape.leaf(Tensor::normal([4, 4], 0.0, 0.5, &mut rng)).label("w");
    let target = tape.constant(Tensor::normal([3, 4], 0.0, 1.0, &mut rng));
    // x feeds the skip, the branch's matmul and the layer norm: three contributions.
    let h = x + x.layer_norm(None, None, 1e-5).matmul(w).gelu() + x.matmul(w);
    let e = h - target;
    let loss = (e * e).mean();
    let g = tape.backward(loss);
    let doc = common::json::parse(&tape.to_json(Some(&g))).expect("valid JSON");
    let Some(Json::Arr(nodes)) = doc.get("nodes") else { panic!("no nodes") };
    let received = replay_sweep(nodes);
    let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    let mut fan_in_of_x = 0;
    for (id, node) in nodes.iter().enumerate() {
        match node.get("grad") {
            Some(Json::Null) => assert!(received[id].is_none(), "node {id}"),
            Some(grad) => assert_eq!(
                bits(received[id].as_ref().expect("received")),
                bits(&numbers(grad)),
                "node {id}: the contributions do not sum to the gradient"
            ),
            None => panic!("node {id} has no grad field"),
        }
        let Some(Json::Arr(sent)) = node.get("sent") else { panic!() };
        fan_in_of_x +=
            sent.iter().filter(|s| s.get("to") == Some(&Json::Num(0.0))).count();
    }
    assert_eq!(
        fan_in_of_x, 3,
        "x should receive from the skip, the layer norm and the matmul"
    );
}
// ANCHOR_END: contributions_sum

#[test]
fn the_json_trace_is_valid_json_that_reads_back_to_the_tape() {
    let mut rng = Rng::new(3);
    let tape = Tape::new();
    let x = tape.leaf(Tensor::normal([2, 3], 0.0, 1.0, &mut rng)).label("x \"quoted\"\n");
    let w = tape.leaf(Tensor::normal([3, 2], 0.0, 1.0, &mut rng));
    let scores = x.matmul(w).causal_mask(); // holds -inf
    let y = x + scores.softmax().matmul(x);
    let g = tape.backward(y.mean());
    let doc =
        common::json::parse(&tape.to_json(Some(&g))).expect("the trace is valid JSON");
    let Some(common::json::Json::Arr(nodes)) = doc.get("nodes") else {
        panic!("no nodes array")
    };
    assert_eq!(nodes.len(), tape.len());
    for (id, node) in nodes.iter().enumerate() {
        assert_eq!(node.get("id"), Some(&common::json::Json::Num(id as f64)));
        let Some(common::json::Json::Arr(value)) = node.get("value") else {
            panic!("node {id}: no value")
        };
        let Some(common::json::Json::Arr(shape)) = node.get("shape") else {
            panic!("node {id}: no shape")
        };
        let numel: f64 = shape
            .iter()
            .map(|d| if let common::json::Json::Num(d) = d { *d } else { 0.0 })
            .product();
        assert_eq!(value.len() as f64, numel, "node {id}");
        // Every node reaches the loss here, so every one has a gradient.
        assert!(
            matches!(node.get("grad"), Some(common::json::Json::Arr(_))),
            "node {id}"
        );
    }
    assert_eq!(
        nodes[0].get("label"),
        Some(&common::json::Json::Str("x \"quoted\"\n".into()))
    );
    // -inf from the mask is written as a string, which JSON can hold.
    let Some(common::json::Json::Arr(masked)) = nodes[3].get("value") else { panic!() };
    assert!(masked.contains(&common::json::Json::Str("-inf".into())));
}

/// Asserts that `f` panics and that the panic names `tests/tape.rs:line`.
#[track_caller]
fn assert_panics_at(line: u32, f: impl FnOnce()) {
    assert_eq!(panic_location(f), format!("tests/tape.rs:{line}"));
}

/// Takes a result the test does not need (the op is expected to panic first).
fn ignore(_: Var<'_>) {}

// ANCHOR: callers_line
#[test]
fn every_shape_error_points_at_the_callers_line() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::ones([2, 3]));
    let fx = tape.leaf(Tensor::ones([2, 4]));
    assert_panics_at(line!(), || ignore(x + fx));
    assert_panics_at(line!(), || ignore(x.matmul(x)));
    assert_panics_at(line!(), || ignore(x.broadcast_to([4, 5])));
    assert_panics_at(line!(), || ignore(x.narrow(1, 2, 5)));
    assert_panics_at(line!(), || ignore(x.add_bias(x)));
    assert_panics_at(line!(), || ignore(x.permute(&[0, 0])));
    assert_panics_at(line!(), || ignore(x.reshape([4])));
    assert_panics_at(line!(), || ignore(x.cross_entropy(&[0, 7])));
    assert_panics_at(line!(), || ignore(x.layer_norm(Some(x), None, 1e-5)));
    assert_panics_at(line!(), || ignore(x.sum_axis(2)));
    assert_panics_at(line!(), || drop(x.split(&[1, 1], 1)));
    assert_panics_at(line!(), || ignore(Var::concat(&[x, x.transpose()], 0)));
    assert_panics_at(line!(), || drop(tape.backward(x)));
}
// ANCHOR_END: callers_line

#[test]
fn backward_leaves_gives_the_leaves_the_same_gradients_and_frees_the_rest() {
    let mut rng = Rng::new(11);
    let tape = Tape::new();
    let x = tape.leaf(Tensor::normal([3, 4], 0.0, 1.0, &mut rng));
    let w = tape.leaf(Tensor::normal([4, 4], 0.0, 1.0, &mut rng));
    let h = x.matmul(w).relu();
    let loss = (x + h).sum(); // x is used twice: the skip and the branch
    let all = tape.backward(loss);
    let leaves = tape.backward_leaves(loss);
    assert_eq!(leaves[x], all[x], "bit for bit: the same rules in the same order");
    assert_eq!(leaves[w], all[w]);
    assert!(all.get(h).is_some(), "backward keeps the op's gradient");
    let asked =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| leaves.get(h).cloned()));
    let message =
        asked.expect_err("an op's gradient was freed").downcast::<String>().unwrap();
    assert!(message.contains("was freed during the sweep"), "{message}");
    assert!(message.contains("call tape.backward(loss)"), "{message}");
}

/// The bits of each node's gradient, by id (`None` where there is none).
fn gradient_bits(tape: &Tape, grads: &resgrad::Grads) -> Vec<Option<Vec<u32>>> {
    (0..tape.len())
        .map(|id| grads.by_id(id).map(|g| g.data().iter().map(|v| v.to_bits()).collect()))
        .collect()
}

#[test]
fn every_sweep_gives_the_same_gradients_bit_for_bit() {
    // `backward` runs the sweep the book shows; in anomaly mode it runs the
    // checked sweep, and `backward_leaves` runs the one that frees op
    // gradients early. They are separate loops, so this holds them together
    // on a tape with every case a sweep skips or sums.
    let mut rng = Rng::new(5);
    let tape = Tape::new();
    let x = tape.leaf(Tensor::normal([3, 4], 0.0, 1.0, &mut rng));
    let w = tape.leaf(Tensor::normal([4, 4], 0.0, 0.5, &mut rng));
    let c = tape.constant(Tensor::normal([3, 4], 0.0, 1.0, &mut rng));
    let unused = tape.leaf(Tensor::ones([2]));
    let on_constants = c.relu().scale(2.0); // skipped: no leaf reaches it
    let h = (x.matmul(w) + on_constants).layer_norm(None, None, 1e-5).relu();
    let dead_end = h.exp(); // does not reach the loss
    let loss = (x + h * x).softmax().mean(); // x is used in three places
    let after = loss.scale(3.0); // recorded after the loss
    let leaves = [x, w, c, unused];

    let plain = gradient_bits(&tape, &tape.backward(loss));
    let freed = gradient_bits(&tape, &tape.backward_leaves(loss));
    tape.set_detect_anomaly(true);
    let checked = gradient_bits(&tape, &tape.backward(loss));
    let checked_freed = gradient_bits(&tape, &tape.backward_leaves(loss));

    assert_eq!(checked, plain, "the checked sweep and the plain one");
    assert_eq!(checked_freed, freed, "the freeing sweep, with and without checks");
    for id in 0..tape.len() {
        if leaves.iter().any(|v| v.id() == id) {
            assert_eq!(freed[id], plain[id], "leaf #{id}");
        } else {
            assert_eq!(freed[id], None, "op #{id}: freed");
        }
    }
    assert!(plain[x.id()].is_some() && plain[w.id()].is_some());
    assert!(plain[c.id()].is_none() && plain[unused.id()].is_none());
    assert!(plain[on_constants.id()].is_none() && plain[dead_end.id()].is_none());
    assert!(plain[after.id()].is_none() && plain[h.id()].is_some());

    // An output reached by constants alone keeps its seed and sends nothing.
    let root = on_constants.sum();
    tape.set_detect_anomaly(false);
    let plain = gradient_bits(&tape, &tape.backward(root));
    tape.set_detect_anomaly(true);
    assert_eq!(gradient_bits(&tape, &tape.backward(root)), plain);
    assert_eq!(plain.iter().filter(|g| g.is_some()).count(), 1);
    assert_eq!(plain[root.id()], Some(vec![1f32.to_bits()]));
}
