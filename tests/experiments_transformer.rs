//! The transformer experiments in quick mode: every claim must hold.
//!
//! Full runs: `cargo run --release --example 07_pre_vs_post_norm` (and 08, 11).

use resgrad::experiments::{pre_vs_post_norm, token_identity, transformer_toy};

#[test]
fn deep_post_norm_without_warmup_stays_at_chance_while_pre_norm_learns() {
    let outcome = pre_vs_post_norm::run(true);
    for c in &outcome.claims {
        assert!(c.holds, "{c}");
    }
    // Quick mode: depths 6 and 48, pre and post, one row each.
    assert_eq!(outcome.table.rows.len(), 4);
    assert_eq!(outcome.claims.len(), 6, "the warmup claim is made in full runs only");
    // The gradient profile, then one loss figure per depth.
    let files: Vec<&str> = outcome.figures.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(files, ["pre_post_grad_per_layer", "pre_post_loss_depth6", "pre_post_loss_depth48"]);
    let profile = &outcome.figures[0];
    assert!(profile.log_y);
    assert!(profile.series.iter().all(|s| s.points.len() == 48));
}

#[test]
fn attention_without_skips_loses_token_identity_and_with_skips_keeps_it() {
    let outcome = token_identity::run(true);
    for c in &outcome.claims {
        assert!(c.holds, "{c}");
    }
    assert_eq!(outcome.claims.len(), 4);
    // Depths 1, 2, 4, 8, 16; a depth column and three measures for each of three stacks.
    assert_eq!(outcome.table.rows.len(), 5);
    assert_eq!(outcome.table.headers.len(), 10);
    assert_eq!(outcome.figures.len(), 4);
    assert!(outcome.figures[0].series.iter().all(|s| s.points.len() == 16));
}

#[test]
fn a_six_layer_transformer_learns_to_reverse_digits_with_residuals_and_not_without() {
    let outcome = transformer_toy::run(true);
    for c in &outcome.claims {
        assert!(c.holds, "{c}");
    }
    assert_eq!(outcome.claims.len(), 2);
    // Checkpoints every 25 of 150 steps, including step 0.
    assert_eq!(outcome.table.rows.len(), 7);
    assert_eq!(outcome.figures.len(), 2);
}

#[test]
fn the_experiments_are_deterministic() {
    assert_eq!(token_identity::run(true), token_identity::run(true));
}
