//! Pre-norm against post-norm transformer encoders at depth 6, 24 and 48:
//! gradients per layer at initialisation, and training at a high learning
//! rate with and without warmup.
//!
//! `cargo run --release --example 07_pre_vs_post_norm [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::pre_vs_post_norm::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", common::shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
