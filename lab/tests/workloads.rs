//! The benchmark workloads compute what they claim: W2's block is the
//! layer the book describes, W3's tape agrees with the same network written
//! by hand, and the sizes are the ones the comparison table names.

use lab::workloads::{BLOCK_SIZES, Block, TinyMlp, block_size};

#[test]
fn the_tiny_mlp_on_the_tape_agrees_with_its_hand_written_twin() {
    let mlp = TinyMlp::new();
    let (loss, dx, dw) = mlp.step();
    let (ws, x) = mlp.arrays();
    let (loss_h, dx_h, dw_h) = TinyMlp::step_by_hand(&ws, &x);
    // Both sum the same products, but in different orders (the tape's
    // matmul kernels against the loops above), over 32 blocks: f32 rounding
    // leaves differences of a few ulps of values of order 10, under 1e-3.
    let close = |a: &[f32], b: &[f32], what: &str| {
        for (i, (a, b)) in a.iter().zip(b).enumerate() {
            assert!(
                (a - b).abs() <= 1e-3 * (1.0 + b.abs()),
                "{what}[{i}]: tape {a}, by hand {b}"
            );
        }
    };
    close(&[loss], &[loss_h], "loss");
    close(dx.data(), &dx_h, "dx");
    assert_eq!(dw.len(), dw_h.len());
    for (i, (g, h)) in dw.iter().zip(&dw_h).enumerate() {
        close(g.data(), h, &format!("dW #{i}"));
    }
    assert!(
        dx_h.iter().any(|&g| (g - 1.0).abs() > 1e-3),
        "the branches do contribute to dx"
    );
}

#[test]
fn the_block_sizes_are_the_issues_and_the_block_step_covers_every_parameter() {
    let dims: Vec<_> = BLOCK_SIZES
        .iter()
        .map(|s| (s.name, s.batch, s.seq, s.d_model, s.heads, s.ff))
        .collect();
    assert_eq!(
        dims,
        [
            ("small", 1, 32, 64, 4, 256),
            ("medium", 4, 64, 128, 4, 512),
            ("seed", 10, 20, 512, 8, 2048),
            ("large", 8, 128, 512, 8, 2048)
        ]
    );
    let block = Block::new(block_size("small").unwrap());
    let step = block.step();
    assert_eq!(step.dx.dims(), &[1, 32, 64]);
    assert_eq!(
        step.grads.iter().count(),
        block.params.len(),
        "a gradient for every parameter"
    );
    // loss = sum(y) with y = x1 + FFN(LN2(x1)): the gradient of x passes
    // the skip with 1 per element, plus the branches' shares.
    assert!(step.dx.data().iter().all(|g| g.is_finite()));
    assert_eq!(block.params.names().len(), 12, "{:?}", block.params.names());
}

#[test]
fn the_block_flop_count_is_the_sum_of_its_products() {
    let s = block_size("large").unwrap();
    // QKV 2·1024·512·1536, out 2·1024·512·512, FFN 2·2·1024·512·2048, attention 2·2·8·128·128·512.
    let expected = 1_610_612_736.0 + 536_870_912.0 + 4_294_967_296.0 + 268_435_456.0;
    assert_eq!(s.forward_flops(), expected);
}
