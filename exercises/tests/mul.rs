//! Exercise 2: `cargo test -p exercises --test mul`.

mod common;

use common::{assert_gradcheck, random};
use exercises::mul::mul;
use resgrad::{Tape, Tensor};

#[test]
fn mul_passes_gradcheck() {
    assert_gradcheck(
        |_tape, v| mul(v[0], v[1]),
        &[random(&[3, 4], 1), random(&[3, 4], 2)],
    );
}

#[test]
fn each_factor_receives_dy_times_the_other() {
    let tape = Tape::new();
    let a = tape.leaf(Tensor::from_vec(vec![2.0, -3.0], [2]));
    let b = tape.leaf(Tensor::from_vec(vec![5.0, 7.0], [2]));
    let dy = Tensor::from_vec(vec![0.5, -2.0], [2]);
    let grads = tape.backward_with(mul(a, b), dy);
    // da = dy * b = [0.5 · 5, −2 · 7], db = dy * a = [0.5 · 2, −2 · −3]:
    // products of small integers and halves, exact in f32.
    assert_eq!(grads[a].data(), &[2.5, -14.0], "da should be dy * b");
    assert_eq!(grads[b].data(), &[1.0, 6.0], "db should be dy * a");
}
