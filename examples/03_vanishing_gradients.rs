//! Vanishing gradients at initialisation: plain, residual, pre-norm and
//! post-norm stacks of depth 1 to 256, and the gradient reaching each block.
//!
//! `cargo run --release --example 03_vanishing_gradients [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::vanishing::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", common::shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
