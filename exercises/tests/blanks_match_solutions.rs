//! The blanks and the reference solutions cannot drift apart: outside the
//! lines the learner writes, each solution is the blank, character for
//! character. So the forward pass, the signatures and the comments the tests
//! rely on are the same in both, and testing the solutions tests the blanks'
//! scaffolding too.

use std::path::{Path, PathBuf};

const START: &str = "// ---- your code: start ----";
const END: &str = "// ---- your code: end ----";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `.rs` files of `dir`, by name, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rs"))
        .collect();
    out.sort();
    out
}

/// Byte offsets of the lines that are exactly `marker` (leading spaces aside).
fn marker_lines(text: &str, marker: &str) -> Vec<usize> {
    let mut at = 0;
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.trim() == marker {
            out.push(at + line.find(marker).expect("the marker is on this line"));
        }
        at += line.len();
    }
    out
}

/// The text before the learner's region, the region, and the text after.
fn split<'a>(path: &Path, text: &'a str) -> (&'a str, &'a str, &'a str) {
    let shown = path.display();
    let (starts, ends) = (marker_lines(text, START), marker_lines(text, END));
    assert_eq!(starts.len(), 1, "{shown}: needs exactly one `{START}` line");
    assert_eq!(ends.len(), 1, "{shown}: needs exactly one `{END}` line");
    let (start, end) = (starts[0] + START.len(), ends[0]);
    assert!(start < end, "{shown}: the end marker comes before the start marker");
    (&text[..start], &text[start..end], &text[end..])
}

#[test]
fn every_solution_is_its_blank_with_only_the_learners_lines_filled_in() {
    let (src, solutions) = (crate_dir().join("src"), crate_dir().join("solutions"));
    let solved = names(&solutions);
    assert!(solved.len() >= 8, "expected at least 8 solutions, found {solved:?}");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    for name in &solved {
        let (blank_path, solution_path) = (src.join(name), solutions.join(name));
        let blank =
            std::fs::read_to_string(&blank_path).expect("the blank of a solution");
        let solution = std::fs::read_to_string(&solution_path).expect("solution");
        let (before, region, after) = split(&blank_path, &blank);
        let (s_before, s_region, s_after) = split(&solution_path, &solution);
        assert!(before == s_before, "{name}: blank and solution differ before `{START}`");
        assert!(after == s_after, "{name}: blank and solution differ after `{END}`");
        assert!(region.contains("todo!("), "{name}: the blank's region has no todo!()");
        assert!(!s_region.contains("todo!("), "{name}: the solution still has a todo!()");
        let swap = format!(
            "path = \"../solutions/{name}\")]\npub mod {}",
            &name[..name.len() - 3]
        );
        assert!(lib.contains(&swap), "src/lib.rs does not swap in solutions/{name}");
    }
    // And every blank has a solution.
    for name in names(&src) {
        let text = std::fs::read_to_string(src.join(&name)).expect("source file");
        if !marker_lines(&text, START).is_empty() {
            assert!(
                solved.contains(&name),
                "src/{name} is a blank without solutions/{name}"
            );
        }
    }
}
