//! A slice along one axis, and `split`, which is several slices.
//!
//! forward:  y = x[.., start..start+len, ..]     (along `axis`)
//! backward: dx = zeros with dy placed at start..start+len
//!
//! `split` is composed from `narrow`: each piece is its own node, and the
//! tape sums the pieces' gradients back into `x`.

use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// The elements `start..start + len` along `axis` (PyTorch's `narrow`).
    #[track_caller]
    pub fn narrow(self, axis: usize, start: usize, len: usize) -> Var<'t> {
        let x = self.value();
        crate::shape::check_axis("narrow", x.shape(), axis);
        let size = x.dims()[axis];
        if start.checked_add(len).is_none_or(|end| end > size) {
            panic!(
                "narrow: range {start}..{start}+{len} is out of bounds for axis {axis} of shape {} (size {size})\n  \
                 start + len must be at most {size}",
                x.shape()
            );
        }
        let (outer, _, inner) = x.shape().split_at_axis(axis);
        let mut y = Tensor::zeros(x.shape().with_axis(axis, len));
        for o in 0..outer {
            let src =
                &x.data()[(o * size + start) * inner..(o * size + start + len) * inner];
            y.data_mut()[o * len * inner..(o + 1) * len * inner].copy_from_slice(src);
        }
        self.tape().push(y, &[self], Narrow { axis, start, len })
    }

    /// Cuts `self` along `axis` into consecutive pieces of the given sizes,
    /// which must add up to the axis' length.
    #[track_caller]
    pub fn split(self, sizes: &[usize], axis: usize) -> Vec<Var<'t>> {
        let shape = self.shape();
        crate::shape::check_axis("split", &shape, axis);
        let total: usize = sizes.iter().sum();
        if total != shape.dims()[axis] {
            panic!(
                "split: sizes {sizes:?} add up to {total}, but axis {axis} of shape {shape} has size {}\n  \
                 the pieces must cover the axis exactly (pieces would have shapes {})",
                shape.dims()[axis],
                crate::shape::describe(
                    &sizes.iter().map(|&s| shape.with_axis(axis, s)).collect::<Vec<_>>()
                )
            );
        }
        let mut start = 0;
        sizes
            .iter()
            .map(|&len| {
                let piece = self.narrow(axis, start, len);
                start += len;
                piece
            })
            .collect()
    }
}

struct Narrow {
    axis: usize,
    start: usize,
    len: usize,
}

impl Backward for Narrow {
    fn name(&self) -> &'static str {
        "narrow"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let (outer, size, inner) = x[0].shape().split_at_axis(self.axis);
        let (start, len) = (self.start, self.len);
        let mut dx = Tensor::zeros(x[0].shape());
        for o in 0..outer {
            let src = &dy.data()[o * len * inner..(o + 1) * len * inner];
            dx.data_mut()[(o * size + start) * inner..(o * size + start + len) * inner]
                .copy_from_slice(src);
        }
        vec![dx]
    }

    fn detail(&self) -> String {
        format!("axis={}, {}..{}", self.axis, self.start, self.start + self.len)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn split_pieces_cover_the_input_and_their_gradients_sum_back() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from_vec((0..6).map(|v| v as f32).collect(), [2, 3]));
        let parts = x.split(&[1, 2], 1);
        assert_eq!(parts[0].value().data(), &[0., 3.]);
        assert_eq!(parts[1].value().data(), &[1., 2., 4., 5.]);
        let loss = parts[0].sum() + parts[1].scale(2.0).sum();
        assert_eq!(tape.backward(loss)[x].data(), &[1., 2., 2., 1., 2., 2.]);
    }
}
