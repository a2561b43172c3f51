//! Gathering rows by index: the lookup of an embedding table.
//!
//! forward:  y[i, :] = w[ids[i], :]           w: [V, D], y: [n, D]
//! backward: dw[v, :] = Σ_{i : ids[i] = v} dy[i, :]
//!
//! A row picked twice (the same token twice in a batch) collects both
//! gradients: fan-out again, now inside one op.

use crate::kernels;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

impl<'t> Var<'t> {
    /// Rows `ids` of the matrix `self` `[V, D]`, stacked into `[ids.len(), D]`.
    #[track_caller]
    pub fn gather_rows(self, ids: &[usize]) -> Var<'t> {
        let w = self.value();
        if w.shape().rank() != 2 {
            panic!("gather_rows: needs a [rows, width] table, got shape {}", w.shape());
        }
        let (rows, d) = (w.dims()[0], w.dims()[1]);
        if let Some((i, &id)) = ids.iter().enumerate().find(|&(_, &id)| id >= rows) {
            panic!(
                "gather_rows: index {id} at position {i} is out of range for a table of {rows} rows\n  \
                 every index must be below {rows} (the vocabulary size)"
            );
        }
        let mut y = Tensor::zeros([ids.len(), d]);
        if d > 0 {
            for (out, &id) in y.data_mut().chunks_exact_mut(d).zip(ids) {
                out.copy_from_slice(&w.data()[id * d..(id + 1) * d]);
            }
        }
        self.tape().push(y, &[self], GatherRows { ids: ids.to_vec() })
    }
}

struct GatherRows {
    ids: Vec<usize>,
}

impl Backward for GatherRows {
    fn name(&self) -> &'static str {
        "gather_rows"
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let d = x[0].dims()[1];
        let mut dw = Tensor::zeros(x[0].shape());
        if d > 0 {
            for (g, &id) in dy.data().chunks_exact(d).zip(&self.ids) {
                kernels::add_assign(&mut dw.data_mut()[id * d..(id + 1) * d], g);
            }
        }
        vec![dw]
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn a_row_picked_twice_collects_both_gradients() {
        let tape = Tape::new();
        let w = tape.leaf(Tensor::from_vec(vec![1., 2., 3., 4., 5., 6.], [3, 2]));
        let y = w.gather_rows(&[2, 0, 2]);
        assert_eq!(y.value().data(), &[5., 6., 1., 2., 5., 6.]);
        let g = tape.backward(y.sum());
        assert_eq!(g[w].data(), &[1., 1., 0., 0., 2., 2.]);
    }
}
