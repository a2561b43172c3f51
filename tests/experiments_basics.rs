//! The experiments on the basics, in quick mode: the worked examples, the
//! tutorial's code and shapes, and identity at initialisation. Every claim
//! must hold, and each outcome must have the rows and figures it promises.

use resgrad::experiments::{identity_at_init, tutorial_shapes, worked_examples};

#[test]
fn the_worked_examples_hold_in_the_engine() {
    let outcome = worked_examples::run(true);
    for c in &outcome.claims {
        assert!(c.holds, "{c}");
    }
    assert_eq!(outcome.claims.len(), 9);
    // (a) two rows per a, (b) four, (c) two per design and the Jacobian,
    // (d) one per Jacobian row, (e) three.
    let a_rows = 2 * worked_examples::A_VALUES.len();
    assert_eq!(outcome.table.rows.len(), a_rows + 4 + (2 * 5 + 1) + 4 + 3);
    assert_eq!(outcome.figures.len(), 2);
    assert!(outcome.figures.iter().all(|f| f.series.iter().all(|s| !s.points.is_empty())));
}

#[test]
fn the_tutorial_code_keeps_its_shapes_and_parameter_counts_and_its_two_norm_orders_differ() {
    let outcome = tutorial_shapes::run(true);
    for c in &outcome.claims {
        assert!(c.holds, "{c}");
    }
    assert_eq!(outcome.claims.len(), 7);
    // wrapper: 7 steps + total; owned: 1; post-norm: 7 steps; × 10: 2;
    // encoder layer: 10 steps + total.
    assert_eq!(outcome.table.rows.len(), 8 + 1 + 7 + 2 + 11);
    let total = outcome.table.rows.last().unwrap();
    assert_eq!(total[1], "total");
    assert_eq!(total[4], "3152384");
    assert_eq!(outcome.figures.len(), 1);
}

#[test]
fn zero_branches_make_any_depth_the_identity_and_rezero_gates_grow_from_zero() {
    let outcome = identity_at_init::run(true);
    for c in &outcome.claims {
        assert!(c.holds, "{c}");
    }
    assert_eq!(outcome.claims.len(), 6);
    // 4 stacks × 3 depths, 2 insertions, 4 gates, loss, step-0 gradient, accuracy.
    assert_eq!(outcome.table.rows.len(), 4 * 3 + 2 + 4 + 3);
    assert_eq!(outcome.figures.len(), 3);
    let gates = &outcome.figures[1];
    assert_eq!(gates.series.len(), 4);
    assert!(gates.series.iter().all(|s| s.points[0].1 == 0.0 && s.points.len() == 151));
}

#[test]
fn the_basics_experiments_are_deterministic() {
    assert_eq!(worked_examples::run(true), worked_examples::run(true));
    assert_eq!(identity_at_init::run(true), identity_at_init::run(true));
}
