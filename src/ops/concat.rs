//! Concatenation along an axis: the alternative to adding a skip.
//!
//! forward:  y = [a, b, …] joined along `axis`
//! backward: da, db, … = the slices of dy that each input filled
//!
//! Unlike `x + F(x)`, concatenating `[x, F(x)]` widens the representation,
//! so every later layer grows with it.

use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// Joins `parts` along `axis`; all other axes must agree.
    #[track_caller]
    pub fn concat(parts: &[Var<'t>], axis: usize) -> Var<'t> {
        let Some(first) = parts.first() else {
            panic!("concat: needs at least one tensor, got an empty list");
        };
        let values: Vec<_> = parts.iter().map(|p| p.value()).collect();
        let base = values[0].shape().clone();
        crate::shape::check_axis("concat", &base, axis);
        for v in &values[1..] {
            if v.shape().rank() != base.rank()
                || base.with_axis(axis, 0) != v.shape().with_axis(axis, 0)
            {
                panic!(
                    "concat: shapes {base} and {} differ outside axis {axis}\n  \
                     tensors joined along axis {axis} must agree on every other axis",
                    v.shape()
                );
            }
        }
        let sizes: Vec<usize> = values.iter().map(|v| v.dims()[axis]).collect();
        let out_shape = base.with_axis(axis, sizes.iter().sum());
        let (outer, _, inner) = out_shape.split_at_axis(axis);
        let mut y = Tensor::zeros(out_shape);
        let row = y.numel() / outer.max(1);
        for o in 0..outer {
            let mut at = o * row;
            for (v, &s) in values.iter().zip(&sizes) {
                let piece = &v.data()[o * s * inner..(o + 1) * s * inner];
                y.data_mut()[at..at + s * inner].copy_from_slice(piece);
                at += s * inner;
            }
        }
        first.tape().push(y, parts, Concat { axis, sizes })
    }
}

struct Concat {
    axis: usize,
    sizes: Vec<usize>,
}

// ANCHOR: concat_backward
impl Backward for Concat {
    fn name(&self) -> &'static str {
        "concat"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let (outer, total, inner) = dy.shape().split_at_axis(self.axis);
        let mut dx: Vec<Tensor> = x.iter().map(|x| Tensor::zeros(x.shape())).collect();
        for o in 0..outer {
            let mut at = o * total * inner;
            for (d, &s) in dx.iter_mut().zip(&self.sizes) {
                d.data_mut()[o * s * inner..(o + 1) * s * inner]
                    .copy_from_slice(&dy.data()[at..at + s * inner]);
                at += s * inner;
            }
        }
        dx
    }

    fn detail(&self) -> String {
        format!("axis={}", self.axis)
    }
}
// ANCHOR_END: concat_backward

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor, Var};

    #[test]
    fn concat_then_gradients_split_back() {
        let tape = Tape::new();
        let a = tape.leaf(Tensor::from_vec(vec![1., 2., 3., 4.], [2, 2]));
        let b = tape.leaf(Tensor::from_vec(vec![5., 6.], [2, 1]));
        let y = Var::concat(&[a, b], 1);
        assert_eq!(y.value().data(), &[1., 2., 5., 3., 4., 6.]);
        let dy = Tensor::from_vec(vec![1., 2., 3., 4., 5., 6.], [2, 3]);
        let g = tape.backward_with(y, dy);
        assert_eq!(g[a].data(), &[1., 2., 4., 5.]);
        assert_eq!(g[b].data(), &[3., 6.]);
    }
}
