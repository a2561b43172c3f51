//! Each experiment, in quick mode, supports the claims it makes.

use resgrad::experiments;

// ANCHOR: plain_stacks_lose_the_gradient
#[test]
fn plain_stacks_lose_the_gradient_and_skips_keep_it() {
    let outcome = experiments::vanishing::run(true);
    for c in &outcome.claims {
        assert!(c.holds, "{c}");
    }
    assert_eq!(outcome.table.rows.len(), 4);
    assert_eq!(outcome.figures.len(), 2);
    // Same seed, same numbers.
    assert_eq!(experiments::vanishing::run(true), outcome);
}
// ANCHOR_END: plain_stacks_lose_the_gradient
