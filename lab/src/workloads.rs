//! The benchmark workloads, W1 to W3, defined once.
//!
//! `cargo bench`, the `perf` example behind `tools/compare-peers`, and the
//! tests all build their inputs here, so that every figure reported for
//! resgrad, and every comparison with PyTorch and JAX, measures exactly the
//! same computation on exactly the same numbers.
//!
//! | workload | what it runs | what it measures |
//! |---|---|---|
//! | W1 | one `[n, n] @ [n, n]` product (and its transposed forms) | the matrix kernel |
//! | W2 | one pre-norm encoder block, forward and backward, loss = sum(y) | a real training step |
//! | W3 | 32 blocks `y = y + relu(y W1) W2`, width 16, batch 1 | per-op overhead |
//!
//! Inputs come from [`Rng`] with fixed seeds. W2's parameters use PyTorch's
//! names, so `tools/compare-peers` loads them into `nn.TransformerEncoderLayer`
//! unchanged.

use resgrad::Rng;
use resgrad::Tensor;
use resgrad::nn::{Ctx, EncoderLayerConfig, ParamGrads, Params, TransformerEncoderLayer};
use resgrad::{Tape, Var};

/// The sizes of one W2 encoder block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockSize {
    /// Name used in tables (`"small"`, `"medium"`, `"seed"`, `"large"`).
    pub name: &'static str,
    /// Batch size B.
    pub batch: usize,
    /// Sequence length T.
    pub seq: usize,
    /// Model width d.
    pub d_model: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward width.
    pub ff: usize,
}

impl BlockSize {
    /// Multiply-adds of one forward pass, counting the matrix products only:
    /// the QKV and output projections, the two feed-forward layers, and the
    /// two attention products. Backward costs twice this.
    pub fn forward_flops(&self) -> f64 {
        let (bt, d, t, ff) = (
            (self.batch * self.seq) as f64,
            self.d_model as f64,
            self.seq as f64,
            self.ff as f64,
        );
        2.0 * (bt * d * 3.0 * d + bt * d * d + 2.0 * bt * d * ff + 2.0 * bt * t * d)
    }
}

/// W2's four sizes, `(batch, seq, d_model, heads, ff)` as the issue gives them.
pub const BLOCK_SIZES: [BlockSize; 4] = [
    BlockSize { name: "small", batch: 1, seq: 32, d_model: 64, heads: 4, ff: 256 },
    BlockSize { name: "medium", batch: 4, seq: 64, d_model: 128, heads: 4, ff: 512 },
    BlockSize { name: "seed", batch: 10, seq: 20, d_model: 512, heads: 8, ff: 2048 },
    BlockSize { name: "large", batch: 8, seq: 128, d_model: 512, heads: 8, ff: 2048 },
];

/// The W2 size called `name`, if there is one.
pub fn block_size(name: &str) -> Option<BlockSize> {
    BLOCK_SIZES.iter().copied().find(|s| s.name == name)
}

/// W1's inputs: `a` `[m, k]` and `b` `[k, n]`, standard normal, seeded.
pub fn matmul_inputs(m: usize, k: usize, n: usize) -> (Tensor, Tensor) {
    let mut rng = Rng::new(1);
    (
        Tensor::normal([m, k], 0.0, 1.0, &mut rng),
        Tensor::normal([k, n], 0.0, 1.0, &mut rng),
    )
}

/// W2: one pre-norm encoder block with its parameters and its input.
pub struct Block {
    /// The sizes it was built with.
    pub size: BlockSize,
    /// The parameters, under PyTorch's names (`self_attn.in_proj_weight`, …).
    pub params: Params,
    /// The layer: pre-norm, batch-first, ReLU, no dropout.
    pub layer: TransformerEncoderLayer,
    /// The input `[batch, seq, d_model]`, standard normal.
    pub x: Tensor,
}

/// What one W2 step produces: the loss, the input's gradient and every
/// parameter's gradient.
pub struct BlockStep {
    /// `sum(y)`.
    pub loss: f32,
    /// `dL/dx`, `[batch, seq, d_model]`.
    pub dx: Tensor,
    /// `dL/dθ` for every parameter.
    pub grads: ParamGrads,
}

impl Block {
    // ANCHOR: w2_block
    /// Builds W2 at `size`, with PyTorch's initialisation drawn from a fixed seed.
    pub fn new(size: BlockSize) -> Block {
        let mut rng = Rng::new(2);
        let config = EncoderLayerConfig::new(size.d_model, size.heads)
            .dim_feedforward(size.ff)
            .dropout(0.0)
            .batch_first(true)
            .norm_first(true); // x1 = x + MHA(LN1(x)), y = x1 + FFN(LN2(x1))
        let mut params = Params::new();
        let layer = TransformerEncoderLayer::new(&mut params.scope(""), config, &mut rng);
        let x = Tensor::normal([size.batch, size.seq, size.d_model], 0.0, 1.0, &mut rng);
        Block { size, params, layer, x }
    }

    /// One forward and backward pass: `loss = sum(y)`, gradients for `x`
    /// and every parameter.
    pub fn step(&self) -> BlockStep {
        let tape = Tape::new();
        let ctx = Ctx::train(&tape, &self.params, 0);
        let x = tape.leaf(self.x.clone());
        let loss = self.layer.forward_batch_first(&ctx, x, false).sum();
        let grads = tape.backward_leaves(loss); // a training step needs no other gradient
        BlockStep {
            loss: loss.value().item(),
            dx: grads[x].clone(),
            grads: ctx.param_grads(&grads),
        }
    }
    // ANCHOR_END: w2_block
}

/// W3: a deep, narrow residual MLP where the arithmetic is negligible and
/// the cost of recording and sweeping the tape is everything.
pub struct TinyMlp {
    /// `(W1, W2)` of each block, each `[width, width]`.
    pub weights: Vec<(Tensor, Tensor)>,
    /// The input `[1, width]`.
    pub x: Tensor,
}

impl TinyMlp {
    /// Number of blocks.
    pub const DEPTH: usize = 32;
    /// Width of every layer.
    pub const WIDTH: usize = 16;

    /// Builds W3 with weights `N(0, 1/width)`, seeded.
    pub fn new() -> TinyMlp {
        let mut rng = Rng::new(3);
        let w = TinyMlp::WIDTH;
        let std = 1.0 / (w as f32).sqrt();
        let mut weight = || Tensor::normal([w, w], 0.0, std, &mut rng);
        let weights = (0..TinyMlp::DEPTH).map(|_| (weight(), weight())).collect();
        let x = Tensor::normal([1, w], 0.0, 1.0, &mut rng);
        TinyMlp { weights, x }
    }

    // ANCHOR: w3_step
    /// One forward and backward pass; returns `sum(y)`, `dL/dx` and the
    /// weights' gradients in order `W1, W2` per block.
    pub fn step(&self) -> (f32, Tensor, Vec<Tensor>) {
        let tape = Tape::new();
        let x = tape.leaf(self.x.clone());
        let ws: Vec<(Var<'_>, Var<'_>)> = self
            .weights
            .iter()
            .map(|(w1, w2)| (tape.leaf(w1.clone()), tape.leaf(w2.clone())))
            .collect();
        let mut y = x;
        for &(w1, w2) in &ws {
            y = y + y.matmul(w1).relu().matmul(w2); // y + relu(y W1) W2
        }
        let loss = y.sum();
        let grads = tape.backward_leaves(loss);
        let dw = ws
            .iter()
            .flat_map(|&(w1, w2)| [grads[w1].clone(), grads[w2].clone()])
            .collect();
        (loss.value().item(), grads[x].clone(), dw)
    }
    // ANCHOR_END: w3_step
}

/// One W3 block's weights as plain arrays, `(W1, W2)`, row-major 16 x 16.
pub type TinyWeights = ([f32; 256], [f32; 256]);

impl TinyMlp {
    /// The weights and the input as plain arrays, for [`step_by_hand`](Self::step_by_hand).
    pub fn arrays(&self) -> (Vec<TinyWeights>, [f32; 16]) {
        let ws = self
            .weights
            .iter()
            .map(|(a, b)| {
                (
                    a.data().try_into().expect("16 x 16"),
                    b.data().try_into().expect("16 x 16"),
                )
            })
            .collect();
        (ws, self.x.data().try_into().expect("1 x 16"))
    }

    // ANCHOR: w3_by_hand
    /// W3 with no tape: plain loops over arrays, the gradient derived by
    /// hand. The floor that the tape's per-op overhead is measured against,
    /// and a check on it (`lab/tests/workloads.rs`). Returns `sum(y)`, `dL/dx`
    /// and the weights' gradients in the order of [`step`](Self::step).
    pub fn step_by_hand(
        ws: &[TinyWeights],
        x: &[f32; 16],
    ) -> (f32, [f32; 16], Vec<[f32; 256]>) {
        const W: usize = 16;
        let depth = ws.len();
        let (mut ys, mut hs) = (vec![*x], Vec::with_capacity(depth)); // block inputs, hidden activations
        for (w1, w2) in ws {
            let y = ys[ys.len() - 1];
            let mut h = [0.0f32; W]; // h = relu(y W1)
            for (i, &yi) in y.iter().enumerate() {
                for (j, hj) in h.iter_mut().enumerate() {
                    *hj += yi * w1[i * W + j];
                }
            }
            h.iter_mut().for_each(|v| *v = v.max(0.0));
            let mut next = y; // y + h W2
            for (i, &hi) in h.iter().enumerate() {
                for (j, nj) in next.iter_mut().enumerate() {
                    *nj += hi * w2[i * W + j];
                }
            }
            hs.push(h);
            ys.push(next);
        }
        let loss = ys[depth].iter().sum();
        let mut dy = [1.0f32; W]; // d sum(y) / dy
        let mut dws = vec![[0.0f32; 256]; 2 * depth];
        for (l, (w1, w2)) in ws.iter().enumerate().rev() {
            let (y, h) = (&ys[l], &hs[l]);
            let mut dh = [0.0f32; W];
            for i in 0..W {
                for j in 0..W {
                    dws[2 * l + 1][i * W + j] = h[i] * dy[j]; // dW2 = hᵀ dy
                    dh[i] += w2[i * W + j] * dy[j]; // dh = dy W2ᵀ
                }
            }
            for (d, &v) in dh.iter_mut().zip(h) {
                if v <= 0.0 {
                    *d = 0.0; // through the ReLU
                }
            }
            let mut dx = dy; // the skip passes dy unchanged
            for i in 0..W {
                for j in 0..W {
                    dws[2 * l][i * W + j] = y[i] * dh[j]; // dW1 = yᵀ dh
                    dx[i] += w1[i * W + j] * dh[j]; // plus dh W1ᵀ
                }
            }
            dy = dx;
        }
        (loss, dy, dws)
    }
    // ANCHOR_END: w3_by_hand
}

impl Default for TinyMlp {
    fn default() -> TinyMlp {
        TinyMlp::new()
    }
}
