//! Exercise 1: `cargo test -p exercises --test add`.

mod common;

use common::{assert_gradcheck, random};
use exercises::add::add;
use resgrad::{Tape, Tensor};

#[test]
fn add_passes_gradcheck() {
    assert_gradcheck(
        |_tape, v| add(v[0], v[1]),
        &[random(&[3, 4], 1), random(&[3, 4], 2)],
    );
}

#[test]
fn both_inputs_receive_dy_unchanged() {
    let tape = Tape::new();
    let a = tape.leaf(Tensor::from_vec(vec![1.0, 2.0], [2]));
    let b = tape.leaf(Tensor::from_vec(vec![3.0, 5.0], [2]));
    let dy = Tensor::from_vec(vec![0.25, -4.0], [2]);
    let grads = tape.backward_with(add(a, b), dy.clone());
    // Copying involves no arithmetic, so the match is exact.
    assert_eq!(grads[a], dy, "da should be dy");
    assert_eq!(grads[b], dy, "db should be dy");
}
