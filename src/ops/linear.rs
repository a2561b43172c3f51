//! The fully connected layer as one op: `y = x Wᵀ + b`, optionally
//! followed by ReLU.
//!
//! forward:  z = x @ Wᵀ + b             x: [..., in], W: [out, in], b: [out]
//!           y = z, or y = max(z, 0) with ReLU
//! backward: dz = dy, or dz = dy * 1[y > 0] with ReLU
//!           dx = dz @ W,  dW = dzᵀ @ x,  db[j] = Σ_r dz[r, j]
//!
//! The same result as `x.matmul(w.transpose()).add_bias(b)` (and `.relu()`),
//! which is how the book first writes it; fused, it is one node instead of
//! three or four, it reads `W` in place instead of copying `Wᵀ`, and it
//! keeps one tensor for backward instead of three. The leading axes of `x`
//! fold into rows, so the whole layer is one matrix product each way.
//!
//! With ReLU, the mask `1[z > 0]` is read from the output: `y > 0` exactly
//! where `z > 0`, so `z` need not be kept.

use crate::kernels;
use crate::tape::{Backward, Var};
use crate::tensor::Tensor;

// ANCHOR: linear_op
// ANCHOR: linear_op_checks
impl<'t> Var<'t> {
    /// `self @ weightᵀ + bias`, with `weight` stored `[out, in]` as PyTorch
    /// stores it and an optional `bias` `[out]`.
    #[track_caller]
    pub fn linear(self, weight: Var<'t>, bias: Option<Var<'t>>) -> Var<'t> {
        self.linear_op(weight, bias, false)
    }

    /// `relu(self @ weightᵀ + bias)` as one op.
    #[track_caller]
    pub fn linear_relu(self, weight: Var<'t>, bias: Option<Var<'t>>) -> Var<'t> {
        self.linear_op(weight, bias, true)
    }

    #[track_caller]
    fn linear_op(self, weight: Var<'t>, bias: Option<Var<'t>>, relu: bool) -> Var<'t> {
        let (x, w) = (self.value(), weight.value());
        let (xs, ws) = (x.shape(), w.shape());
        if ws.rank() != 2 || xs.rank() < 2 || xs.last() != ws.dims()[1] {
            panic!(
                "linear: input of shape {xs} does not fit a weight of shape {ws}\n  \
                 the weight is stored [out, in] and the input must be [..., in] \
                 with at least 2 axes (reshape a single vector to [1, in])"
            );
        }
        let (out, inp) = (ws.dims()[0], ws.dims()[1]);
        if let Some(b) = bias {
            if b.value().shape().dims() != [out] {
                panic!(
                    "linear: a bias of shape {} does not fit a weight of shape {ws}\n  \
                     the bias needs one entry per output feature: shape [{out}]",
                    b.value().shape()
                );
            }
        }
        // ANCHOR_END: linear_op_checks
        // ANCHOR: linear_op_forward
        let rows = xs.numel() / inp.max(1);
        let mut dims = xs.dims().to_vec();
        *dims.last_mut().expect("rank >= 2") = out;
        // [..., out]; the product overwrites it unless there is nothing to sum.
        let mut y =
            if inp > 0 { Tensor::for_overwrite(dims) } else { Tensor::zeros(dims) };
        if rows * out > 0 {
            kernels::matmul_nt(x.data(), w.data(), y.data_mut(), rows, inp, out);
            let b = bias.map(|b| b.value());
            for row in y.data_mut().chunks_exact_mut(out) {
                if let Some(b) = &b {
                    kernels::add_assign(row, b.data());
                }
                if relu {
                    row.iter_mut().for_each(|v| *v = v.max(0.0));
                }
            }
        }
        let rule = Linear { relu, rows, inp, out };
        match bias {
            Some(b) => self.tape().push(y, &[self, weight, b], rule),
            None => self.tape().push(y, &[self, weight], rule),
        }
    }
}
// ANCHOR_END: linear_op_forward

// ANCHOR: linear_op_rule
struct Linear {
    relu: bool,
    rows: usize,
    inp: usize,
    out: usize,
}

impl Backward for Linear {
    fn name(&self) -> &'static str {
        if self.relu { "linear_relu" } else { "linear" }
    }

    fn backward(&self, x: &[&Tensor], y: &Tensor, dy: &Tensor) -> Vec<Tensor> {
        let Linear { relu, rows, inp, out } = *self;
        let (xv, w) = (x[0], x[1]);
        let masked;
        let dz = if relu {
            // dz = dy * 1[y > 0]
            masked = dy.zip_map(y, |dy, y| if y > 0.0 { dy } else { 0.0 });
            &masked
        } else {
            dy
        };
        // ANCHOR_END: linear_op_rule
        // ANCHOR: linear_op_backward
        let product = rows * inp * out > 0; // else an empty sum: zeros
        let fresh = |s: &crate::Shape| {
            if product {
                Tensor::for_overwrite(s.clone())
            } else {
                Tensor::zeros(s.clone())
            }
        };
        let (mut dx, mut dw) = (fresh(xv.shape()), fresh(w.shape()));
        if product {
            // dx = dz W and dW = dzᵀ x
            kernels::matmul(dz.data(), w.data(), dx.data_mut(), rows, out, inp);
            kernels::matmul_tn(dz.data(), xv.data(), dw.data_mut(), out, rows, inp);
        }
        let mut grads = vec![dx, dw];
        if x.len() == 3 {
            let mut db = Tensor::zeros([out]);
            if out > 0 {
                for row in dz.data().chunks_exact(out) {
                    kernels::add_assign(db.data_mut(), row); // db[j] = Σ_r dz[r, j]
                }
            }
            grads.push(db);
        }
        grads
    }
}
// ANCHOR_END: linear_op_backward
// ANCHOR_END: linear_op

#[cfg(test)]
mod tests {
    use crate::{Rng, Tape, Tensor};

    #[test]
    fn linear_equals_matmul_by_the_transpose_plus_bias_with_the_same_gradients() {
        let mut rng = Rng::new(5);
        let (xv, wv, bv) = (
            Tensor::normal([2, 3, 4], 0.0, 1.0, &mut rng),
            Tensor::normal([5, 4], 0.0, 1.0, &mut rng),
            Tensor::normal([5], 0.0, 1.0, &mut rng),
        );
        let dy = Tensor::normal([2, 3, 5], 0.0, 1.0, &mut rng);
        for relu in [false, true] {
            let run = |fused: bool| {
                let tape = Tape::new();
                let (x, w, b) =
                    (tape.leaf(xv.clone()), tape.leaf(wv.clone()), tape.leaf(bv.clone()));
                let y = match (fused, relu) {
                    (true, false) => x.linear(w, Some(b)),
                    (true, true) => x.linear_relu(w, Some(b)),
                    (false, false) => x.matmul(w.transpose()).add_bias(b),
                    (false, true) => x.matmul(w.transpose()).add_bias(b).relu(),
                };
                let g = tape.backward_with(y, dy.clone());
                [(*y.value()).clone(), g[x].clone(), g[w].clone(), g[b].clone()]
            };
            let (fused, composed) = (run(true), run(false));
            // The two sides sum the same products in different orders (a
            // dot product against an i-k-j loop); with sums of at most 6
            // terms of size ~1, f32 rounding differs by well under 1e-5.
            for ((what, f), c) in
                ["y", "dx", "dW", "db"].iter().zip(&fused).zip(&composed)
            {
                assert!(
                    f.max_abs_diff(c) < 1e-5,
                    "{what} differs by {}, relu = {relu}",
                    f.max_abs_diff(c)
                );
            }
        }
    }

    #[test]
    #[should_panic(
        expected = "linear: input of shape [2, 3] does not fit a weight of shape [5, 4]"
    )]
    fn a_weight_that_does_not_fit_the_input_panics_with_both_shapes() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::zeros([2, 3]));
        let w = tape.leaf(Tensor::zeros([5, 4]));
        let _ = x.linear(w, None);
    }
}
