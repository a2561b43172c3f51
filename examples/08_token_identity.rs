//! Attention and token identity: stacks of 1 to 32 attention-only layers,
//! with and without skips, and how well each output position still points
//! at its own input token.
//!
//! `cargo run --release --example 08_token_identity [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::token_identity::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", common::shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
