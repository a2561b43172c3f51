//! A 6-layer pre-norm transformer learning to reverse digit sequences, with
//! and without residual connections: same weights, data, optimiser and
//! steps; loss and accuracy curves of both.
//!
//! `cargo run --release --example 11_transformer_toy [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::transformer_toy::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", common::shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
