//! Exercise 3: `cargo test -p exercises --test sweep`.

mod common;

use exercises::sweep::MiniTape;

#[test]
fn a_product_sends_each_factor_the_other() {
    let mut tape = MiniTape::new();
    let x = tape.leaf(3.0);
    let y = tape.leaf(-2.0);
    let z = tape.mul(x, y);
    let grads = tape.backward(z);
    assert_eq!(grads.len(), 3, "one gradient per node");
    assert_eq!((grads[z], grads[x], grads[y]), (1.0, -2.0, 3.0));
}

#[test]
fn a_value_used_twice_receives_the_sum_of_both_contributions() {
    // z = x · x + x, so dz/dx = 2x + 1 = 7 at x = 3 (exact in f32).
    let mut tape = MiniTape::new();
    let x = tape.leaf(3.0);
    let square = tape.mul(x, x);
    let z = tape.add(square, x);
    let grads = tape.backward(z);
    assert_eq!(grads[x], 7.0, "x feeds the product twice and the sum once: 3 + 3 + 1");
}

#[test]
fn nodes_the_output_does_not_depend_on_get_zero() {
    let mut tape = MiniTape::new();
    let x = tape.leaf(2.0);
    let unused = tape.leaf(5.0);
    let side = tape.mul(x, unused); // recorded, but not used by z
    let z = tape.add(x, x);
    let after = tape.mul(z, z); // recorded after z
    let grads = tape.backward(z);
    assert_eq!(grads[x], 2.0, "z = x + x, so dz/dx = 2");
    let off_path = (grads[unused], grads[side], grads[after]);
    assert_eq!(off_path, (0.0, 0.0, 0.0), "z depends on none of these nodes");
}

#[test]
fn the_sweep_matches_resgrad_on_a_residual_chain() {
    common::assert_sweep_matches_resgrad(MiniTape::backward);
}
