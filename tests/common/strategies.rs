//! Proptest strategies shared by every property test.
//!
//! Sizes stay small (at most 5 per axis): a finite-difference check costs
//! forward passes, and small shapes already exercise every index path.
//! Values avoid the places where a derivative does not exist or is
//! ill-conditioned: ReLU's kink at 0, log near 0, layer norm on rows whose
//! variance is close to eps.

use proptest::prelude::*;
use resgrad::Tensor;

/// A shape of rank `1..=max_rank` with axes of size `1..=max_dim`.
pub fn dims(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1..=max_dim, 1..=max_rank)
}

/// A tensor of the given shape with values drawn uniformly from `lo..hi`.
pub fn tensor_in(shape: Vec<usize>, lo: f32, hi: f32) -> impl Strategy<Value = Tensor> {
    let n = shape.iter().product::<usize>();
    prop::collection::vec(lo..hi, n).prop_map(move |v| Tensor::from_vec(v, shape.clone()))
}

/// A tensor of the given shape with values in `[-2, 2)`.
pub fn tensor(shape: Vec<usize>) -> impl Strategy<Value = Tensor> {
    tensor_in(shape, -2.0, 2.0)
}

/// A tensor of random shape (rank up to `max_rank`, axes up to `max_dim`).
pub fn any_tensor(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Tensor> {
    dims(max_rank, max_dim).prop_flat_map(tensor)
}

/// Two tensors of one random shape.
pub fn tensor_pair(
    max_rank: usize,
    max_dim: usize,
) -> impl Strategy<Value = (Tensor, Tensor)> {
    dims(max_rank, max_dim).prop_flat_map(|d| (tensor(d.clone()), tensor(d)))
}

/// Values at least `margin` away from 0, with either sign: for ReLU, whose
/// derivative jumps at 0. The finite-difference step (1e-2 along a unit
/// direction) must stay below the margin so no probe straddles the kink.
pub fn away_from_zero(shape: Vec<usize>, margin: f32) -> impl Strategy<Value = Tensor> {
    let n = shape.iter().product::<usize>();
    prop::collection::vec((margin..2.0f32, any::<bool>()), n).prop_map(move |v| {
        Tensor::from_vec(
            v.into_iter().map(|(m, neg)| if neg { -m } else { m }).collect(),
            shape.clone(),
        )
    })
}

/// Rows of `cols >= 2` values whose variance stays far above layer norm's
/// eps: a ramp with steps of 1 plus noise in [-0.3, 0.3], so the variance
/// is at least about (cols² − 1) / 12 · 0.16.
/// Near-constant rows make 1/σ huge and the check meaningless.
pub fn rows_with_spread(rows: usize, cols: usize) -> impl Strategy<Value = Tensor> {
    prop::collection::vec(-0.3f32..0.3, rows * cols).prop_map(move |noise| {
        let data = noise
            .iter()
            .enumerate()
            .map(|(i, e)| (i % cols) as f32 - cols as f32 / 2.0 + e)
            .collect();
        Tensor::from_vec(data, [rows, cols])
    })
}

/// Attention sizes `(batch, seq, dim)`, small.
pub fn attention_dims() -> impl Strategy<Value = (usize, usize, usize)> {
    (1usize..=2, 1usize..=4, 1usize..=4)
}
