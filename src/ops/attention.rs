//! Scaled dot-product attention, composed from primitive ops.
//!
//! forward:  A = softmax(Q Kᵀ / √D  [+ causal mask]),   Y = A V
//! backward: no rule of its own: the tape differentiates the matmuls, the
//!           scale, the mask and the softmax it was built from.
//!
//! Shapes: Q `[..., T, D]`, K `[..., S, D]`, V `[..., S, Dv]` → Y `[..., T, Dv]`,
//! A `[..., T, S]`. With heads, the leading axes are `[B, H]`.

use crate::tape::Var;

// ANCHOR: attention
/// `softmax(Q Kᵀ / √D) V` over the last two axes, optionally causal (query
/// `i` attends only to keys `j ≤ i`).
///
/// ```
/// use resgrad::{ops::scaled_dot_product_attention, Rng, Tape, Tensor};
/// let tape = Tape::new();
/// let mut rng = Rng::new(0);
/// let q = tape.leaf(Tensor::normal([2, 5, 8], 0.0, 1.0, &mut rng)); // [B, T, D]
/// let k = tape.leaf(Tensor::normal([2, 5, 8], 0.0, 1.0, &mut rng));
/// let v = tape.leaf(Tensor::normal([2, 5, 8], 0.0, 1.0, &mut rng));
/// let y = scaled_dot_product_attention(q, k, v, true);
/// assert_eq!(y.shape().dims(), &[2, 5, 8]);
/// ```
#[track_caller]
pub fn scaled_dot_product_attention<'t>(
    q: Var<'t>,
    k: Var<'t>,
    v: Var<'t>,
    causal: bool,
) -> Var<'t> {
    scaled_dot_product_attention_with_weights(q, k, v, causal).0
}

// ANCHOR: attention_with_weights
/// Like [`scaled_dot_product_attention`], also returning the attention
/// weights `A` (`[..., T, S]`, rows summing to 1) for inspection and plots.
#[track_caller]
pub fn scaled_dot_product_attention_with_weights<'t>(
    q: Var<'t>,
    k: Var<'t>,
    v: Var<'t>,
    causal: bool,
) -> (Var<'t>, Var<'t>) {
    let (qs, ks, vs) = (q.shape(), k.shape(), v.shape());
    if qs.rank() < 2 || ks.rank() < 2 || vs.rank() < 2 || qs.last() == 0 {
        panic!(
            "scaled_dot_product_attention: q, k, v have shapes {qs}, {ks}, {vs}\n  \
             each needs shape [..., T, D] with D > 0: \
             one row per position, one column per feature"
        );
    }
    let d = qs.last();
    let scores = q.matmul(k.transpose()).scale(1.0 / (d as f32).sqrt()); // [..., T, S]
    let scores = if causal { scores.causal_mask() } else { scores };
    let weights = scores.softmax(); // [..., T, S]
    (weights.matmul(v), weights) // [..., T, Dv]
}
// ANCHOR_END: attention_with_weights
// ANCHOR_END: attention

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Tape, Tensor};

    #[test]
    fn the_first_query_of_a_causal_head_sees_only_the_first_value() {
        let tape = Tape::new();
        let q = tape.leaf(Tensor::ones([3, 2]));
        let k = tape.leaf(Tensor::from_vec(vec![1., 0., 0., 1., 1., 1.], [3, 2]));
        let v = tape.leaf(Tensor::from_vec(vec![1., 2., 3., 4., 5., 6.], [3, 2]));
        let (y, a) = scaled_dot_product_attention_with_weights(q, k, v, true);
        assert_eq!(a.value().get(&[0, 0]), 1.0);
        assert_eq!(&y.value().data()[..2], &[1.0, 2.0]);
    }
}
