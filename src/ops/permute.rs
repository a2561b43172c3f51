//! General reordering of axes (the `[B, T, H, D] -> [B, H, T, D]` of attention).
//!
//! forward:  y[i_p0, i_p1, …] = x[i_0, i_1, …]   (output axis j is input axis p[j])
//! backward: dx = permute(dy, p⁻¹)

use crate::kernels;
use crate::shape::Shape;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// Reorders the axes: output axis `j` is input axis `perm[j]`, as in
    /// PyTorch's `x.permute(perm)`.
    #[track_caller]
    pub fn permute(self, perm: &[usize]) -> Var<'t> {
        let x = self.value();
        check_permutation(perm, x.shape());
        let y = permute_tensor(&x, perm);
        self.tape().push(y, &[self], Permute { perm: perm.to_vec() })
    }
}

struct Permute {
    perm: Vec<usize>,
}

impl Backward for Permute {
    fn name(&self) -> &'static str {
        "permute"
    }

    fn backward(&self, _x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let mut inverse = vec![0; self.perm.len()];
        for (j, &p) in self.perm.iter().enumerate() {
            inverse[p] = j;
        }
        vec![permute_tensor(dy, &inverse)]
    }

    fn detail(&self) -> String {
        format!("{:?}", self.perm)
    }
}

#[track_caller]
fn check_permutation(perm: &[usize], shape: &Shape) {
    let mut seen = vec![false; perm.len()];
    let valid = perm.len() == shape.rank()
        && perm.iter().all(|&p| p < perm.len() && !std::mem::replace(&mut seen[p], true));
    if !valid {
        panic!(
            "permute: {perm:?} is not a permutation of the {} axes of shape {shape}\n  \
             list every axis 0..{} exactly once",
            shape.rank(),
            shape.rank()
        );
    }
}

/// Copies `x` into the permuted layout, walking the output in order.
fn permute_tensor(x: &Tensor, perm: &[usize]) -> Tensor {
    let in_strides = x.shape().strides();
    let out_dims: Vec<usize> = perm.iter().map(|&p| x.dims()[p]).collect();
    // Stride in the input of one step along each output axis.
    let steps: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let mut y = Tensor::for_overwrite(out_dims.clone()); // every element is copied in
    let (src, dst) = (x.data(), y.data_mut());
    let rank = perm.len();
    let run = x.dims().last().copied().unwrap_or(1);
    if rank >= 2 && perm[rank - 1] == rank - 1 && run > 0 {
        // The last axis stays last (as in attention's head split): copy
        // whole contiguous rows, walking only the outer axes.
        kernels::for_each_strided(
            &out_dims[..rank - 1],
            &steps[..rank - 1],
            |out, at| {
                dst[out * run..(out + 1) * run].copy_from_slice(&src[at..at + run]);
            },
        );
    } else {
        kernels::for_each_strided(&out_dims, &steps, |out, at| dst[out] = src[at]);
    }
    y
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn permute_moves_elements_to_their_new_index() {
        let tape = Tape::new();
        let x =
            tape.leaf(Tensor::from_vec((0..24).map(|v| v as f32).collect(), [2, 3, 4]));
        let y = x.permute(&[2, 0, 1]);
        assert_eq!(y.shape().dims(), &[4, 2, 3]);
        assert_eq!(y.value().get(&[3, 1, 2]), x.value().get(&[1, 2, 3]));
    }
}
