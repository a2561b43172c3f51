//! Training a 32-block MLP to imitate a random teacher network, with and
//! without skips: same blocks, same initial weights, same optimiser, same
//! batches; the held-out loss curves of both.
//!
//! `cargo run --release --example 05_deep_mlp_training [-- --quick]`

mod common;

fn main() -> std::io::Result<()> {
    let quick = common::quick_flag();
    let outcome = resgrad::experiments::deep_mlp_training::run(quick);
    for path in common::report(&outcome, quick)? {
        println!("wrote {}", common::shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
