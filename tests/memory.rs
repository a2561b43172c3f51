//! Training keeps memory flat: one tape per step, dropped at the end of the
//! step, and parameters updated in place. A counting allocator measures the
//! bytes alive between steps.

// A global allocator is the one way to count every allocation; it only
// forwards to the system allocator and adds up sizes.
#![allow(unsafe_code)]

use resgrad::nn::*;
use resgrad::optim::{AdamW, Optimizer};
use resgrad::{Rng, Tape, Tensor};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Bytes allocated minus bytes freed by this thread. Counting per thread
    // keeps the test harness's own threads out of the measurement; a const
    // initialiser means reading it never allocates.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // `try_with`: during thread teardown the slot may already be gone.
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// GlobalAlloc contract; the counter has no effect on the memory returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ANCHOR: flat_memory
#[test]
fn the_bytes_alive_between_training_steps_do_not_grow() {
    let mut rng = Rng::new(1);
    let mut params = Params::new();
    let config = EncoderLayerConfig::new(16, 2).dim_feedforward(32).batch_first(true).norm_first(true);
    let layer = TransformerEncoderLayer::new(&mut params.scope(""), config, &mut rng);
    let x = Tensor::normal([4, 6, 16], 0.0, 1.0, &mut rng);
    let target = Tensor::normal([4, 6, 16], 0.0, 1.0, &mut rng);
    let mut opt = AdamW::new(1e-3);
    let mut live = Vec::with_capacity(200); // allocated up front so it is not counted as growth
    for step in 0..200 {
        let tape = Tape::new();
        let ctx = Ctx::train(&tape, &params, step);
        let loss = layer.forward(&ctx, ctx.input(x.clone())).mse_loss(ctx.input(target.clone()));
        let grads = ctx.param_grads(&tape.backward(loss));
        drop(ctx);
        drop(tape);
        opt.step(&mut params, &grads);
        drop(grads);
        live.push(LIVE.with(Cell::get));
    }
    // After the first step has created the optimiser's moment buffers, every
    // step ends with exactly the same bytes alive.
    assert!(live[1..].iter().all(|&b| b == live[1]), "bytes alive after each step: {live:?}");
}
// ANCHOR_END: flat_memory
