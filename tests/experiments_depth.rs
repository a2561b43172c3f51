//! The depth experiments in quick mode: every claim holds, and each outcome
//! has the table rows and figures its example prints and draws.
//!
//! Run one with its output: `cargo test --test experiments_depth -- --nocapture`.

use resgrad::experiments::{Outcome, add_vs_concat, deep_mlp_training, forward_signal, ode_view};

fn check(outcome: &Outcome, rows: usize, figures: usize) {
    println!("{}\n\n{}", outcome.title, outcome.table);
    for c in &outcome.claims {
        println!("{c}");
    }
    assert!(!outcome.claims.is_empty(), "{} makes no claims", outcome.name);
    for c in &outcome.claims {
        assert!(c.holds, "{c}");
    }
    assert_eq!(outcome.table.rows.len(), rows, "table rows of {}", outcome.name);
    assert_eq!(outcome.figures.len(), figures, "figures of {}", outcome.name);
    for f in &outcome.figures {
        assert!(f.series.iter().all(|s| !s.points.is_empty()), "empty series in {}", f.file);
    }
}

#[test]
fn without_skips_the_input_fades_out_of_a_deep_stack_and_with_skips_it_rides_along() {
    // Layers 0, 1, 2, 4, 8, 16; probe, cosine and norm figures.
    let outcome = forward_signal::run(true);
    check(&outcome, 6, 3);
    assert_eq!(outcome.claims.len(), 5);
}

#[test]
fn a_32_block_mlp_reaches_the_target_loss_with_skips_and_stays_at_the_baseline_without() {
    // Steps 0, 30, ..., 300; one figure of both loss curves.
    let outcome = deep_mlp_training::run(true);
    check(&outcome, 11, 1);
    assert_eq!(outcome.claims.len(), 2);
}

#[test]
fn concatenation_costs_grow_superlinearly_with_depth_while_addition_costs_the_same_per_block() {
    // Depths 1 to 16; width, cost and training figures.
    let outcome = add_vs_concat::run(true);
    check(&outcome, 16, 3);
    assert_eq!(outcome.claims.len(), 4);
}

#[test]
fn a_stack_of_small_residual_steps_converges_like_euler_s_method() {
    // N = 1, 2, 4, ..., 64; convergence and trajectory figures.
    let outcome = ode_view::run(true);
    check(&outcome, 7, 2);
    assert_eq!(outcome.claims.len(), 2);
}

#[test]
fn the_depth_experiments_are_deterministic() {
    assert_eq!(ode_view::run(true), ode_view::run(true));
    assert_eq!(
        add_vs_concat::cost(resgrad::nn::Merge::Concat, 5),
        add_vs_concat::cost(resgrad::nn::Merge::Concat, 5)
    );
}
