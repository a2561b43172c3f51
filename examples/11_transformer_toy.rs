//! Pre-norm against post-norm transformer encoders at depth 6, 24 and 48:
//! gradients per layer at initialisation, and training at a high learning
//! rate with and without warmup.
//!
//! `cargo run --release --example 11_transformer_toy [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::transformer_toy::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", path.display());
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
