//! The tour: every experiment in quick mode, each claim with its measured
//! figure and a verdict, and every figure written (into
//! `target/figures-quick/`; full runs of the numbered examples write the
//! book's figures).
//!
//! `cargo run --release --example tour`
//!
//! Each experiment is a numbered example of its own, in this folder; the
//! tour compiles the same files in as modules and calls each one's `run`.

#![allow(dead_code)] // each experiment file also has a `main` the tour does not call

#[path = "09_add_vs_concat.rs"]
mod add_vs_concat;
#[path = "05_deep_mlp_training.rs"]
mod deep_mlp_training;
#[path = "04_forward_signal.rs"]
mod forward_signal;
#[path = "06_identity_at_init.rs"]
mod identity_at_init;
#[path = "10_ode_view.rs"]
mod ode_view;
#[path = "07_pre_vs_post_norm.rs"]
mod pre_vs_post_norm;
#[path = "08_token_identity.rs"]
mod token_identity;
#[path = "11_transformer_toy.rs"]
mod transformer_toy;
#[path = "02_tutorial_shapes.rs"]
mod tutorial_shapes;
#[path = "03_vanishing_gradients.rs"]
mod vanishing_gradients;
#[path = "01_worked_examples.rs"]
mod worked_examples;

use lab::Experiment;
use std::time::Instant;

// ANCHOR: all_experiments
/// Every experiment with a short name, in the order of the book's chapters.
const EXPERIMENTS: &[(&str, Experiment)] = &[
    ("worked examples", worked_examples::run),
    ("the tutorial's shapes", tutorial_shapes::run),
    ("vanishing gradients", vanishing_gradients::run),
    ("forward signal", forward_signal::run),
    ("deep MLP training", deep_mlp_training::run),
    ("identity at initialisation", identity_at_init::run),
    ("pre-norm vs post-norm", pre_vs_post_norm::run),
    ("attention and token identity", token_identity::run),
    ("addition vs concatenation", add_vs_concat::run),
    ("the ODE view", ode_view::run),
    ("a transformer with and without residuals", transformer_toy::run),
];
// ANCHOR_END: all_experiments

// ANCHOR: main
fn main() -> std::io::Result<()> {
    let started = Instant::now();
    let (mut holds, mut total) = (0, 0);
    let dir = lab::out_dir(true);
    for (i, (name, run)) in EXPERIMENTS.iter().enumerate() {
        println!("[{}/{}] {name} ...", i + 1, EXPERIMENTS.len());
        let t = Instant::now();
        let outcome = run(true);
        let files = lab::write_files(&outcome, &dir)?;
        for claim in &outcome.claims {
            println!("    {claim}");
            total += 1;
            holds += usize::from(claim.holds);
        }
        println!("    ({:.1} s, {} files)", t.elapsed().as_secs_f32(), files.len());
    }
    println!(
        "\n{holds} of {total} claims hold; figures in {} ({:.1} s)",
        dir.display(),
        started.elapsed().as_secs_f32()
    );
    if holds != total {
        std::process::exit(1);
    }
    Ok(())
}
// ANCHOR_END: main
