//! Addition vs concatenation as the merge of a skip: width, parameters and
//! multiply-adds per example for 1 to 16 blocks, and both variants trained
//! on three spiral arms.
//!
//! `cargo run --release --example 09_add_vs_concat [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::add_vs_concat::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", common::shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
