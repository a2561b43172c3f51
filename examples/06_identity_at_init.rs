//! Identity at initialisation: zero-initialised pre-norm stacks of depth 1
//! to 256 return their input bit for bit, inserted zero blocks leave a
//! random or trained model's output unchanged, and ReZero gates grow from 0
//! while a gated transformer learns to reverse digits.
//!
//! `cargo run --release --example 06_identity_at_init [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::identity_at_init::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", common::shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
