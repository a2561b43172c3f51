//! Replays every committed input of the two fuzz targets on stable Rust.
//!
//! `tests/fuzz_inputs/<target>/` holds the seeds the fuzzer starts from and
//! every input that once crashed it, minimised; `fuzz/README.md` says how to
//! run the fuzzer (cargo-fuzz, nightly) and how an input gets here. Each
//! input must now pass the target's checks, in `tests/fuzz_harness`.

#![cfg(feature = "safetensors")]

#[path = "fuzz_harness/mod.rs"]
mod fuzz_harness;

use std::path::PathBuf;

/// The committed inputs of one target, sorted by name.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_inputs").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files.into_iter().map(|path| (path.clone(), std::fs::read(&path).unwrap())).collect()
}

/// Runs `check` on each input, naming the input that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "no inputs committed for the `{target}` target");
    for (path, bytes) in inputs {
        eprintln!("replaying {}", path.display());
        check(&bytes);
    }
}

#[test]
fn every_committed_loader_input_gives_a_value_or_an_error_and_loses_nothing() {
    replay("loader", fuzz_harness::loader);
}

#[test]
fn every_committed_op_program_keeps_the_engines_promises() {
    replay("ops", fuzz_harness::ops);
}
