//! Hunting a NaN with anomaly mode.
//!
//! A cross-entropy written by hand as `log(softmax(z))` is exact on paper
//! and breaks in f32: a confident wrong prediction underflows its softmax
//! to 0, the log makes −∞, and the reverse sweep turns that into NaN. The
//! example runs it three ways: plainly (the loss is inf and the gradient
//! NaN, with no hint where they came from), in anomaly mode (which stops at
//! the `log` and says why), and with the fix, `log_softmax`.
//!
//! `cargo run --release --example 00_anomaly`

use resgrad::{Tape, Tensor, Var};
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;

// ANCHOR: naive
/// Cross-entropy the way it is written on paper: the mean over rows of
/// −log softmax(z)[target], picked out by a one-hot mask.
fn naive_cross_entropy<'t>(logits: Var<'t>, one_hot: Var<'t>) -> Var<'t> {
    let rows = logits.shape().dims()[0] as f32;
    logits.softmax().log().mul(one_hot).sum().scale(-1.0 / rows)
}
// ANCHOR_END: naive

/// Two examples over three classes; the second is confidently wrong: its
/// target, class 2, is 120 below the top logit, and e^-120 is below the
/// smallest f32 (1.4e-45).
fn batch() -> (Tensor, Tensor, [usize; 2]) {
    let logits = Tensor::from_vec(vec![2.0, 1.0, 0.5, 60.0, 0.0, -60.0], [2, 3]);
    let one_hot = Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0], [2, 3]);
    (logits, one_hot, [0, 2])
}

fn count_nan(t: &Tensor) -> usize {
    t.data().iter().filter(|v| v.is_nan()).count()
}

fn main() {
    let (logits0, one_hot0, targets) = batch();

    println!("== plainly ==\n");
    let tape = Tape::new();
    let logits = tape.leaf(logits0.clone());
    let loss = naive_cross_entropy(logits, tape.constant(one_hot0.clone()));
    let grads = tape.backward(loss);
    println!("loss = {}", loss.value().item());
    println!(
        "dL/dlogits holds {} NaN of {}:\n{}",
        count_nan(&grads[logits]),
        logits0.numel(),
        grads[logits]
    );

    println!("\n== in anomaly mode ==\n");
    // ANCHOR: anomaly
    let tape = Tape::new();
    tape.set_detect_anomaly(true);
    let logits = tape.leaf(logits0.clone());
    let one_hot = tape.constant(one_hot0.clone());
    // ANCHOR_END: anomaly
    // The report is a panic: a real program stops here, and Rust prints the
    // line that called the op. The example catches the panic to print the
    // same two things and go on.
    static LINE: Mutex<String> = Mutex::new(String::new());
    std::panic::set_hook(Box::new(|info| {
        *LINE.lock().unwrap() =
            info.location().map(|at| at.to_string()).unwrap_or_default();
    }));
    let report = std::panic::catch_unwind(AssertUnwindSafe(|| {
        naive_cross_entropy(logits, one_hot)
    }))
    .expect_err("anomaly mode stops at the log");
    let _ = std::panic::take_hook();
    let message =
        report.downcast_ref::<String>().expect("the report is a formatted message");
    println!("panicked at {}:\n{message}", LINE.lock().unwrap());
    println!("\nthe tape up to the report:\n{tape}");

    println!("== the fix: log_softmax ==\n");
    let tape = Tape::new();
    tape.set_detect_anomaly(true);
    let logits = tape.leaf(logits0);
    // ANCHOR: fix
    let rows = 2.0;
    let loss = logits.log_softmax().mul(tape.constant(one_hot0)).sum().scale(-1.0 / rows);
    // ANCHOR_END: fix
    let grads = tape.backward(loss);
    let builtin = tape.leaf(logits.value().as_ref().clone()).cross_entropy(&targets);
    println!(
        "loss = {}, the same as cross_entropy's {}",
        loss.value().item(),
        builtin.value().item()
    );
    println!("dL/dlogits holds {} NaN:\n{}", count_nan(&grads[logits]), grads[logits]);
}
