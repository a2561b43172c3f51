//! Exercise 5: `cargo test -p exercises --test relu`.

mod common;

use common::{assert_gradcheck, random};
use exercises::relu::relu;
use resgrad::{Tape, Tensor};

#[test]
fn relu_passes_gradcheck_away_from_zero() {
    // A finite difference across the kink at 0 measures neither slope. Each
    // probe moves an element by at most 0.02 (twice gradcheck's step of 0.01
    // along a unit direction), so keep every element at least 0.1 from 0.
    let x = random(&[4, 5], 1).map(|x| if x < 0.0 { x - 0.1 } else { x + 0.1 });
    assert_gradcheck(|_tape, v| relu(v[0]), &[x]);
}

#[test]
fn the_gradient_passes_only_where_the_input_is_positive() {
    // At exactly 0 the slope is undefined; PyTorch and resgrad take 0.
    let tape = Tape::new();
    let x = tape.leaf(Tensor::from_vec(vec![-1.0, 0.0, 2.0], [3]));
    let dy = Tensor::from_vec(vec![3.0, 3.0, 3.0], [3]);
    let grads = tape.backward_with(relu(x), dy);
    assert_eq!(grads[x].data(), &[0.0, 0.0, 3.0], "dx should be dy where x > 0, else 0");
}
