//! Exercise 4: `cargo test -p exercises --test matmul`.

mod common;

use common::{assert_gradcheck, random};
use exercises::matmul::matmul;
use resgrad::{Tape, Tensor};

#[test]
fn matmul_passes_gradcheck() {
    // Three different sizes, so a transpose in the wrong place is a shape error.
    assert_gradcheck(
        |_tape, v| matmul(v[0], v[1]),
        &[random(&[3, 4], 1), random(&[4, 2], 2)],
    );
}

#[test]
fn gradients_of_a_2x2_product_by_hand() {
    // With dY = ones: dA = ones Bᵀ holds B's row sums (5+6, 7+8) in every
    // row, dB = Aᵀ ones holds A's column sums (1+3, 2+4) in every column.
    let tape = Tape::new();
    let a = tape.leaf(Tensor::from_vec(vec![1., 2., 3., 4.], [2, 2]));
    let b = tape.leaf(Tensor::from_vec(vec![5., 6., 7., 8.], [2, 2]));
    let grads = tape.backward_with(matmul(a, b), Tensor::ones([2, 2]));
    assert_eq!(grads[a].data(), &[11., 15., 11., 15.], "dA should be dY Bᵀ");
    assert_eq!(grads[b].data(), &[4., 4., 6., 6.], "dB should be Aᵀ dY");
}
