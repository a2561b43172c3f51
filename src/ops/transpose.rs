//! Transpose of the last two axes (batched over any leading axes).
//!
//! forward:  Y = Xᵀ             [..., M, N] -> [..., N, M]
//! backward: dX = dYᵀ

use crate::kernels;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// Swaps the last two axes: `[..., M, N] -> [..., N, M]`.
    #[track_caller]
    pub fn transpose(self) -> Var<'t> {
        let x = self.value();
        if x.shape().rank() < 2 {
            panic!(
                "transpose: needs at least 2 axes, got shape {}\n  reshape to [1, N] first",
                x.shape()
            );
        }
        let y = transpose_last2(&x);
        self.tape().push(y, &[self], Transpose)
    }
}

struct Transpose;

impl Backward for Transpose {
    fn name(&self) -> &'static str {
        "transpose"
    }

    fn backward(&self, _x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        vec![transpose_last2(dy)]
    }
}

/// `[..., M, N] -> [..., N, M]` as a new tensor.
pub(crate) fn transpose_last2(x: &Tensor) -> Tensor {
    let rank = x.shape().rank();
    let (m, n) = (x.dims()[rank - 2], x.dims()[rank - 1]);
    let mut dims = x.dims().to_vec();
    dims.swap(rank - 2, rank - 1);
    let mut y = Tensor::zeros(dims);
    if m * n > 0 {
        for (src, dst) in
            x.data().chunks_exact(m * n).zip(y.data_mut().chunks_exact_mut(m * n))
        {
            kernels::transpose(src, dst, m, n);
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn transposing_twice_is_the_identity() {
        let tape = Tape::new();
        let x =
            tape.leaf(Tensor::from_vec((0..12).map(|v| v as f32).collect(), [2, 2, 3]));
        let y = x.transpose();
        assert_eq!(y.shape().dims(), &[2, 3, 2]);
        assert_eq!(y.value().get(&[1, 2, 0]), x.value().get(&[1, 0, 2]));
        assert_eq!(*y.transpose().value(), *x.value());
    }
}
