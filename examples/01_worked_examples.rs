//! The worked examples and practice problems about residual connections,
//! computed by the engine: scalar gradients with and without the skip,
//! a branch learning 2x + 2, projection shortcuts and their parameter
//! counts, the identity in the Jacobian, and a stack of 1000 zero branches.
//!
//! `cargo run --release --example 01_worked_examples [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::worked_examples::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", common::shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
