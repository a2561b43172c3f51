//! The tour: every experiment in quick mode, each claim with its measured
//! figure and a verdict, and every figure written (into
//! `target/figures-quick/`; full runs of the numbered examples write the
//! book's figures).
//!
//! `cargo run --release --example tour`

mod common;

use resgrad::experiments::ALL as EXPERIMENTS;
use std::time::Instant;

// ANCHOR: main
fn main() -> std::io::Result<()> {
    let started = Instant::now();
    let (mut holds, mut total) = (0, 0);
    let dir = common::out_dir(true);
    for (i, (name, run)) in EXPERIMENTS.iter().enumerate() {
        println!("[{}/{}] {name} ...", i + 1, EXPERIMENTS.len());
        let t = Instant::now();
        let outcome = run(true);
        let files = common::write_files(&outcome, &dir)?;
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
