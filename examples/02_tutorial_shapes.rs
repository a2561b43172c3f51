//! The tutorial's PyTorch code in resgrad: the pre-norm residual wrapper
//! around a 512-2048-512 feed-forward block, the same wrapper owning its
//! block, and `TransformerEncoderLayer(512, 8)`, with the shape after every
//! step, parameter counts, and the prose's post-norm order against the
//! code's pre-norm order.
//!
//! `cargo run --release --example 02_tutorial_shapes [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::tutorial_shapes::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", common::shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
