//! The forward signal at initialisation: after each of 64 blocks, how much
//! of the input a plain, a residual and a pre-norm stack still carry
//! (cosine with the input, linear-probe R², relative norm).
//!
//! `cargo run --release --example 04_forward_signal [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::forward_signal::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", common::shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
