//! `Embedding` (PyTorch's `nn.Embedding`) and the sinusoidal positional
//! encoding of "Attention Is All You Need".

use super::{Ctx, ParamId, Scope};
use crate::rng::Rng;
use crate::tape::Var;
use crate::tensor::Tensor;

/// A table of `num_embeddings` learned vectors of width `dim`, looked up
/// by token id. Initialised from N(0, 1), as PyTorch does.
#[derive(Clone, Debug)]
pub struct Embedding {
    /// `weight`, `[num_embeddings, dim]`.
    pub weight: ParamId,
    /// Vocabulary size.
    pub num_embeddings: usize,
    /// Vector width.
    pub dim: usize,
}

impl Embedding {
    /// `nn.Embedding(num_embeddings, dim)`.
    pub fn new(
        scope: &mut Scope<'_>,
        num_embeddings: usize,
        dim: usize,
        rng: &mut Rng,
    ) -> Embedding {
        let weight =
            scope.add("weight", Tensor::normal([num_embeddings, dim], 0.0, 1.0, rng));
        Embedding { weight, num_embeddings, dim }
    }

    /// Looks up `ids`, laid out as `batch` rows of `ids.len() / batch`
    /// tokens: the result is `[batch, T, dim]`.
    #[track_caller]
    pub fn forward<'t>(&self, ctx: &Ctx<'t>, ids: &[usize], batch: usize) -> Var<'t> {
        if batch == 0 || ids.len() % batch != 0 {
            panic!(
                "Embedding: {} ids cannot be split into {batch} equal rows\n  \
                 pass batch * seq_len ids, row after row",
                ids.len()
            );
        }
        let seq = ids.len() / batch;
        ctx.param(self.weight).gather_rows(ids).reshape([batch, seq, self.dim])
    }
}

/// The fixed sinusoidal positional encoding, `[len, dim]`:
/// `PE[p, 2i] = sin(p / 10000^(2i/dim))`, `PE[p, 2i+1] = cos(p / 10000^(2i/dim))`.
///
/// ```
/// let pe = resgrad::nn::sinusoidal_positions(4, 6);
/// assert_eq!(pe.dims(), &[4, 6]);
/// assert_eq!(pe.get(&[0, 1]), 1.0); // cos(0)
/// ```
pub fn sinusoidal_positions(len: usize, dim: usize) -> Tensor {
    let mut pe = Tensor::zeros([len, dim]);
    for p in 0..len {
        for j in 0..dim {
            let i2 = (j - j % 2) as f64; // 2i
            let angle = p as f64 / 10000f64.powf(i2 / dim as f64);
            let v = if j % 2 == 0 { angle.sin() } else { angle.cos() };
            pe.set(&[p, j], v as f32);
        }
    }
    pe
}

/// Adds [`sinusoidal_positions`] to `x` `[B, T, D]` (a constant: no parameters).
#[track_caller]
pub fn add_positions<'t>(ctx: &Ctx<'t>, x: Var<'t>) -> Var<'t> {
    let s = x.shape();
    if s.rank() != 3 {
        panic!(
            "add_positions: expected token vectors of shape [B, T, D], got {s}\n  reshape an unbatched [T, D] to [1, T, D]"
        );
    }
    let (t, d) = (s.dims()[1], s.dims()[2]);
    x + ctx.input(sinusoidal_positions(t, d)).broadcast_to(s)
}
