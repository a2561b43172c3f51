//! The book never drifts from the code.
//!
//! mdBook renders an include whose file or anchor is missing as an empty
//! block, with at most a warning. These tests turn that into a failure:
//! every `{{#include path:anchor}}` in `book/src` must name a file that
//! exists and an anchor that marks a non-empty region, code may reach the
//! book only through such includes (no code block holds pasted code), and
//! every image and chapter the book names must exist.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every Markdown file under `book/src`, sorted, except the captured outputs
/// in `book/src/output/` (an experiment's outcome as Markdown, which chapters
/// include).
fn chapters() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path == repo_root().join("book/src/output") {
                continue;
            }
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo_root().join("book/src"), &mut out);
    assert!(out.len() > 1, "found no chapters under book/src");
    out
}

/// One `{{#include …}}` (or `{{#rustdoc_include …}}`) found in a chapter.
#[derive(Debug, PartialEq)]
struct Include {
    /// 1-based line in the chapter.
    line: usize,
    path: String,
    selector: Selector,
}

#[derive(Debug, PartialEq)]
enum Selector {
    Whole,
    Anchor(String),
    /// 1-based, inclusive, as mdBook reads `file:start:end`.
    Lines(Option<usize>, Option<usize>),
}

/// Finds the include directives in `text`, skipping escaped ones (`\{{#include`).
fn find_includes(text: &str) -> Vec<Include> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut rest = line;
        let mut offset = 0;
        while let Some(start) = rest.find("{{#") {
            let escaped = start > 0 && rest.as_bytes()[start - 1] == b'\\';
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else { break };
            let body = after[..end].trim();
            offset += start + 3 + end + 2;
            rest = &line[offset..];
            if escaped {
                continue;
            }
            let Some(spec) = body
                .strip_prefix("include")
                .or_else(|| body.strip_prefix("rustdoc_include"))
            else {
                continue;
            };
            let spec = spec.trim();
            let mut parts = spec.splitn(3, ':');
            let path = parts.next().unwrap_or_default().to_string();
            let selector = match (parts.next(), parts.next()) {
                (None, _) => Selector::Whole,
                (Some(a), None) if !a.is_empty() && a.parse::<usize>().is_err() => {
                    Selector::Anchor(a.into())
                }
                (Some(a), b) => {
                    Selector::Lines(a.parse().ok(), b.and_then(|b| b.parse().ok()))
                }
            };
            out.push(Include { line: index + 1, path, selector });
        }
    }
    out
}

/// The lines mdBook would show for `anchor` in `source`: the lines between
/// `ANCHOR: anchor` and `ANCHOR_END: anchor`, without any nested marker line.
/// An error says what is wrong with the anchor.
fn anchored_region(source: &str, anchor: &str) -> Result<Vec<String>, String> {
    let is_marker = |line: &str, kind: &str| -> bool {
        line.find(kind).is_some_and(|i| {
            let name = line[i + kind.len()..].trim_start();
            let name: String = name
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            name == anchor
        })
    };
    let starts: Vec<usize> = source
        .lines()
        .enumerate()
        .filter(|(_, l)| is_marker(l, "ANCHOR:"))
        .map(|(i, _)| i)
        .collect();
    let ends: Vec<usize> = source
        .lines()
        .enumerate()
        .filter(|(_, l)| is_marker(l, "ANCHOR_END:"))
        .map(|(i, _)| i)
        .collect();
    match (starts.as_slice(), ends.as_slice()) {
        ([], _) => Err(format!("no `ANCHOR: {anchor}` line")),
        (_, []) => Err(format!("`ANCHOR: {anchor}` has no `ANCHOR_END: {anchor}`")),
        ([s], [e]) if s < e => {
            let region: Vec<String> = source
                .lines()
                .skip(s + 1)
                .take(e - s - 1)
                .filter(|l| !l.contains("ANCHOR:") && !l.contains("ANCHOR_END:"))
                .map(str::to_string)
                .collect();
            if region.iter().all(|l| l.trim().is_empty()) {
                Err(format!("the region `{anchor}` is empty"))
            } else {
                Ok(region)
            }
        }
        ([s], [e]) => Err(format!(
            "`ANCHOR_END: {anchor}` (line {}) comes before its start (line {})",
            e + 1,
            s + 1
        )),
        _ => Err(format!(
            "`{anchor}` is marked {} times (start) and {} times (end); it must be once",
            starts.len(),
            ends.len()
        )),
    }
}

/// Resolves `path` (relative to the chapter's folder) without touching the
/// file system, so `..` works the way mdBook reads it.
fn resolve(chapter: &Path, path: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in chapter.parent().expect("chapter folder").join(path).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Checks one include and returns the problem, if any.
fn check_include(chapter: &Path, inc: &Include) -> Option<String> {
    let root = repo_root();
    let target = resolve(chapter, &inc.path);
    let Ok(relative) = target.strip_prefix(&root) else {
        return Some(format!("`{}` points outside the repository", inc.path));
    };
    let allowed = [
        "src",
        "examples",
        "tests",
        "lab",
        "exercises",
        "book/src/output",
        "book/src/figures",
    ];
    if !allowed.iter().any(|a| relative.starts_with(a)) {
        return Some(format!(
            "`{}` resolves to {}, outside {allowed:?}: code comes from compiled files, output from runs",
            inc.path,
            relative.display()
        ));
    }
    let source = match std::fs::read_to_string(&target) {
        Ok(s) => s,
        Err(e) => {
            return Some(format!(
                "`{}` resolves to {}: {e}",
                inc.path,
                relative.display()
            ));
        }
    };
    let is_code = relative.extension().is_some_and(|e| e == "rs");
    match &inc.selector {
        Selector::Anchor(anchor) => anchored_region(&source, anchor)
            .err()
            .map(|e| format!("{}: {e}", relative.display())),
        Selector::Lines(..) if is_code => Some(format!(
            "`{}` selects Rust code by line numbers, which drift; mark the region with // ANCHOR: name",
            inc.path
        )),
        Selector::Lines(start, end) => {
            let lines = source.lines().count();
            let (s, e) = (start.unwrap_or(1), end.unwrap_or(lines));
            (s == 0 || s > e || e > lines).then(|| {
                format!("`{}` asks for lines {s}..{e} of a {lines}-line file", inc.path)
            })
        }
        Selector::Whole if source.trim().is_empty() => {
            Some(format!("`{}` is empty", inc.path))
        }
        Selector::Whole if is_code => Some(format!(
            "`{}` includes a whole Rust file; show an anchored region instead (// ANCHOR: name)",
            inc.path
        )),
        Selector::Whole => None,
    }
}

#[test]
fn every_include_names_an_existing_file_and_a_non_empty_anchor() {
    let mut problems = Vec::new();
    let mut count = 0;
    for chapter in chapters() {
        let text = std::fs::read_to_string(&chapter).expect("chapter is UTF-8");
        for inc in find_includes(&text) {
            count += 1;
            if let Some(p) = check_include(&chapter, &inc) {
                let shown = chapter
                    .strip_prefix(repo_root())
                    .unwrap_or(&chapter)
                    .display()
                    .to_string();
                problems.push(format!("{shown}:{}: {p}", inc.line));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} broken include(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(count > 0, "the book includes nothing; the check would pass vacuously");
}

/// The code blocks of `text`: (1-based line of the opening fence, info string, body lines).
fn code_blocks(text: &str) -> Vec<(usize, String, Vec<String>)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String, String, Vec<String>)> = None; // line, fence, info, body
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                for fence in ["```", "~~~"] {
                    if let Some(info) = trimmed.strip_prefix(fence) {
                        let width = fence.len()
                            + info
                                .chars()
                                .take_while(|&c| c == fence.as_bytes()[0] as char)
                                .count();
                        let info = info
                            .trim_start_matches(fence.as_bytes()[0] as char)
                            .trim()
                            .to_string();
                        open =
                            Some((i + 1, trimmed[..width].to_string(), info, Vec::new()));
                        break;
                    }
                }
            }
            Some((start, fence, info, body)) => {
                if trimmed.starts_with(fence.as_str())
                    && trimmed
                        .trim_start_matches(fence.as_bytes()[0] as char)
                        .trim()
                        .is_empty()
                {
                    out.push((*start, std::mem::take(info), std::mem::take(body)));
                    open = None;
                } else {
                    body.push(line.to_string());
                }
            }
        }
    }
    if let Some((start, _, info, body)) = open {
        out.push((start, info, body)); // unclosed: still checked
    }
    out
}

/// Shell lines a chapter may show in a `sh` block: commands, never code.
fn is_command(line: &str) -> bool {
    let line = line.trim();
    line.is_empty()
        || ["cargo ", "tools/", "bash ", "mdbook ", "git ", "python3 "]
            .iter()
            .any(|p| line.starts_with(p))
}

#[test]
fn code_reaches_the_book_only_through_includes() {
    let mut problems = Vec::new();
    for chapter in chapters() {
        let text = std::fs::read_to_string(&chapter).expect("chapter is UTF-8");
        let shown =
            chapter.strip_prefix(repo_root()).unwrap_or(&chapter).display().to_string();
        for (line, info, body) in code_blocks(&text) {
            let ok = if info.split([',', ' ']).next() == Some("sh") {
                body.iter().all(|l| is_command(l))
            } else {
                body.iter().any(|l| !l.trim().is_empty())
                    && body.iter().all(|l| {
                        l.trim().is_empty()
                            || l.trim().starts_with("{{#include")
                            || l.trim().starts_with("{{#rustdoc_include")
                    })
            };
            if !ok {
                problems.push(format!(
                    "{shown}:{line}: a ```{info} block holds pasted text; include it from src/, examples/, tests/, lab/ or a captured output instead"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Image sources in Markdown (`![alt](path)`) and HTML (`src="path"`).
fn image_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        let is_image = rest[..i].rfind("![").is_some_and(|j| !rest[j..i].contains(']'));
        let after = &rest[i + 2..];
        if let Some(end) = after.find(')') {
            if is_image {
                out.push(
                    after[..end]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
        }
        rest = after;
    }
    let mut rest = text;
    while let Some(i) = rest.find("src=\"") {
        let after = &rest[i + 5..];
        if let Some(end) = after.find('"') {
            out.push(after[..end].to_string());
        }
        rest = after;
    }
    out
}

#[test]
fn every_image_the_book_shows_exists() {
    let mut problems = Vec::new();
    let mut count = 0;
    for chapter in chapters() {
        let text = std::fs::read_to_string(&chapter).expect("chapter is UTF-8");
        for path in image_paths(&text) {
            if path.starts_with("http:")
                || path.starts_with("https:")
                || path.starts_with("//")
            {
                problems.push(format!(
                    "{}: `{path}` would be fetched from the network",
                    chapter.display()
                ));
                continue;
            }
            count += 1;
            if !resolve(&chapter, &path).is_file() {
                problems.push(format!(
                    "{}: image `{path}` does not exist",
                    chapter.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(count > 0, "the book shows no images; the check would pass vacuously");
}

#[test]
fn every_chapter_in_the_summary_exists_and_every_chapter_is_in_the_summary() {
    let src = repo_root().join("book/src");
    let summary =
        std::fs::read_to_string(src.join("SUMMARY.md")).expect("book/src/SUMMARY.md");
    let mut listed = BTreeSet::new();
    for line in summary.lines() {
        if let (Some(a), Some(b)) = (line.find("]("), line.rfind(')')) {
            let target = &line[a + 2..b];
            assert!(
                src.join(target).is_file(),
                "SUMMARY.md names {target}, which does not exist"
            );
            listed.insert(src.join(target));
        }
    }
    for chapter in chapters() {
        if chapter.file_name().is_some_and(|n| n == "SUMMARY.md") {
            continue;
        }
        assert!(
            listed.contains(&chapter),
            "{} is not in SUMMARY.md, so no reader can reach it",
            chapter.display()
        );
    }
}

// The checker's own tests: each kind of breakage must be caught.

#[test]
fn the_include_finder_reads_anchors_line_ranges_and_skips_escaped_includes() {
    let text = "a {{#include ../../src/tape.rs:push}}\n\\{{#include x.rs:y}}\n{{#include out.txt}} {{#include f.rs:3:9}}\n{{#rustdoc_include g.rs::4}}";
    assert_eq!(
        find_includes(text),
        vec![
            Include {
                line: 1,
                path: "../../src/tape.rs".into(),
                selector: Selector::Anchor("push".into())
            },
            Include { line: 3, path: "out.txt".into(), selector: Selector::Whole },
            Include {
                line: 3,
                path: "f.rs".into(),
                selector: Selector::Lines(Some(3), Some(9))
            },
            Include {
                line: 4,
                path: "g.rs".into(),
                selector: Selector::Lines(None, Some(4))
            },
        ]
    );
}

#[test]
fn a_missing_empty_unclosed_or_doubled_anchor_is_reported() {
    let source = "// ANCHOR: good\nlet x = 1;\n// ANCHOR: inner\n// ANCHOR_END: inner\n// ANCHOR_END: good\n\
                  // ANCHOR: empty\n\n// ANCHOR_END: empty\n// ANCHOR: open\nfn f() {}\n\
                  // ANCHOR: twice\na\n// ANCHOR_END: twice\n// ANCHOR: twice\nb\n// ANCHOR_END: twice\n";
    assert_eq!(anchored_region(source, "good"), Ok(vec!["let x = 1;".to_string()]));
    assert!(anchored_region(source, "inner").unwrap_err().contains("empty"));
    assert!(anchored_region(source, "empty").unwrap_err().contains("empty"));
    assert!(
        anchored_region(source, "missing").unwrap_err().contains("no `ANCHOR: missing`")
    );
    assert!(
        anchored_region(source, "open").unwrap_err().contains("no `ANCHOR_END: open`")
    );
    assert!(anchored_region(source, "twice").unwrap_err().contains("2 times"));
    // `good_more` must not match `good`.
    assert!(
        anchored_region("// ANCHOR: good_more\nx\n// ANCHOR_END: good_more\n", "good")
            .is_err()
    );
}

#[test]
fn a_broken_include_is_reported_with_its_reason() {
    let chapter = repo_root().join("book/src/residual/index.md");
    let inc = |path: &str, selector| Include { line: 1, path: path.into(), selector };
    let missing = check_include(
        &chapter,
        &inc("../../../src/no_such_file.rs", Selector::Anchor("x".into())),
    );
    assert!(missing.unwrap().contains("No such file"));
    let no_anchor = check_include(
        &chapter,
        &inc("../../../src/tape.rs", Selector::Anchor("no_such_anchor".into())),
    );
    assert!(no_anchor.unwrap().contains("no `ANCHOR: no_such_anchor`"));
    let by_lines = check_include(
        &chapter,
        &inc("../../../src/tape.rs", Selector::Lines(Some(1), Some(3))),
    );
    assert!(by_lines.unwrap().contains("line numbers"));
    let outside = check_include(&chapter, &inc("../../../Cargo.toml", Selector::Whole));
    assert!(outside.unwrap().contains("outside"));
    assert_eq!(
        check_include(
            &chapter,
            &inc("../../../src/tape.rs", Selector::Anchor("push".into()))
        ),
        None
    );
}

#[test]
fn a_code_block_with_pasted_code_is_found() {
    let text = "text\n```rust,ignore\n{{#include ../src/a.rs:a}}\n```\n\n````text\nlet pasted = 1;\n````\n```sh\ncargo test\n```\n";
    let blocks = code_blocks(text);
    assert_eq!(blocks.len(), 3);
    assert_eq!(
        blocks[0],
        (2, "rust,ignore".to_string(), vec!["{{#include ../src/a.rs:a}}".to_string()])
    );
    assert_eq!(blocks[1].2, vec!["let pasted = 1;".to_string()]);
    assert!(is_command("cargo test") && !is_command("let x = 1;"));
}

#[test]
fn no_chapter_is_a_placeholder() {
    for chapter in chapters() {
        let text = std::fs::read_to_string(&chapter).expect("chapter is UTF-8");
        assert!(!text.contains("TODO"), "{} still holds a TODO", chapter.display());
        if chapter.file_name().is_some_and(|n| n != "SUMMARY.md") {
            let words = text.split_whitespace().count();
            assert!(
                words >= 300,
                "{} has only {words} words; a chapter that short is a stub",
                chapter.display()
            );
        }
    }
}

/// The introduction's concept table names examples and tests; each must exist,
/// so the map cannot point at something renamed or deleted.
/// Problems with one `cargo test` or `cargo run` line of a `sh` block: a
/// `--test` or `--example` that names no target, or a test filter that
/// matches no test function in that target's file.
fn check_cargo_command(root: &Path, line: &str) -> Vec<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() < 2 || words[0] != "cargo" || !matches!(words[1], "test" | "run") {
        return Vec::new();
    }
    let mut problems = Vec::new();
    let mut files = Vec::new();
    let mut filter = None;
    // `-p exercises` runs that crate's tests: `--test add` is exercises/tests/add.rs.
    let exercises = words
        .windows(2)
        .any(|w| matches!(w[0], "-p" | "--package") && w[1] == "exercises");
    let mut i = 2;
    while i < words.len() && words[i] != "--" {
        let (word, next) = (words[i], words.get(i + 1).copied());
        let dirs: &[&str] = match word {
            "--test" if exercises => &["exercises/tests"],
            "--test" => &["tests", "lab/tests"],
            "--example" => &["examples", "lab/examples"],
            "-p" | "--package" | "--features" | "--bench" => &[],
            _ => {
                if !word.starts_with('-') && words[1] == "test" {
                    filter = Some(word);
                }
                i += 1;
                continue;
            }
        };
        let name = next.unwrap_or_default();
        if !dirs.is_empty() {
            match dirs
                .iter()
                .map(|d| root.join(format!("{d}/{name}.rs")))
                .find(|p| p.is_file())
            {
                Some(path) => files.push(path),
                None => problems
                    .push(format!("`{line}`: no {word} target `{name}` in {dirs:?}")),
            }
        }
        i += 2;
    }
    if let Some(filter) = filter {
        let names_a_test = files.iter().any(|path| {
            let source = std::fs::read_to_string(path).unwrap_or_default();
            source
                .lines()
                .any(|l| l.trim_start().starts_with("fn ") && l.contains(filter))
        });
        if !files.is_empty() && !names_a_test {
            problems.push(format!(
                "`{line}`: the filter `{filter}` matches no test function"
            ));
        }
    }
    problems
}

/// The commands the book tells a reader to run name targets and tests that
/// exist, so a moved or renamed test cannot leave a command that runs nothing.
#[test]
fn every_cargo_command_in_the_book_names_a_real_target() {
    let root = repo_root();
    let mut problems = Vec::new();
    let mut commands = 0;
    for chapter in chapters() {
        let text = std::fs::read_to_string(&chapter).expect("chapter");
        let shown = chapter.strip_prefix(&root).unwrap_or(&chapter).display().to_string();
        for (line, info, body) in code_blocks(&text) {
            if info != "sh" {
                continue;
            }
            for command in body.iter().filter(|l| l.starts_with("cargo ")) {
                commands += 1;
                problems.extend(
                    check_cargo_command(&root, command)
                        .into_iter()
                        .map(|p| format!("{shown}:{line}: {p}")),
                );
            }
        }
    }
    assert!(commands > 20, "found only {commands} cargo commands in the book");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_command_naming_a_missing_target_or_test_is_reported() {
    let root = repo_root();
    assert!(check_cargo_command(&root, "cargo test --test ops layer_norm").is_empty());
    assert!(
        check_cargo_command(
            &root,
            "cargo run --release --example 03_vanishing_gradients -- --quick"
        )
        .is_empty()
    );
    assert_eq!(
        check_cargo_command(&root, "cargo test --test experiments_depth euler").len(),
        1
    );
    assert_eq!(
        check_cargo_command(&root, "cargo test --test ops no_such_test_anywhere").len(),
        1
    );
    assert_eq!(check_cargo_command(&root, "cargo run --example 99_missing").len(), 1);
    assert!(check_cargo_command(&root, "cargo test -p exercises --test add").is_empty());
    assert_eq!(check_cargo_command(&root, "cargo test -p exercises --test ops").len(), 1);
}

#[test]
fn the_concept_table_names_real_examples_and_tests() {
    let root = repo_root();
    let intro = std::fs::read_to_string(root.join("book/src/introduction.md"))
        .expect("introduction.md");
    // The concept table is the one inside <div class="concept-map">.
    let start =
        intro.find("<div class=\"concept-map\">").expect("the concept map's <div>");
    let table = &intro
        [start..start + intro[start..].find("</div>").expect("the concept map's </div>")];
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .skip(1)
        .collect();
    assert!(rows.len() >= 20, "the concept table has only {} rows", rows.len());
    let ticked = |cell: &str| -> Vec<String> {
        cell.split('`').skip(1).step_by(2).map(str::to_string).collect()
    };
    let (mut examples, mut tests) = (0, 0);
    for row in rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert!(cells.len() >= 5, "a concept-table row needs four cells: {row}");
        for example in ticked(cells[3]) {
            examples += 1;
            let found = ["examples", "lab/examples"]
                .iter()
                .any(|dir| root.join(format!("{dir}/{example}.rs")).is_file());
            assert!(
                found,
                "no example {example} in examples/ or lab/examples/ (row: {row})"
            );
        }
        let mut file = None;
        for item in ticked(cells[4]) {
            if item.ends_with(".rs") {
                // A bare name is a file in tests/; a path is from the repository root.
                let path = if item.contains('/') {
                    root.join(&item)
                } else {
                    root.join("tests").join(&item)
                };
                file = Some(
                    std::fs::read_to_string(&path)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
                );
            } else {
                tests += 1;
                let source = file.as_ref().unwrap_or_else(|| {
                    panic!("`{item}` comes before any test file in: {row}")
                });
                assert!(
                    source.contains(&format!("fn {item}(")),
                    "no test `{item}` in its file (row: {row})"
                );
            }
        }
    }
    assert!(
        examples > 10 && tests > 20,
        "the table names {examples} examples and {tests} tests"
    );
}

/// The numbers in `text` that look measured: decimals with at least three
/// significant digits (`0.998`, `886.8`) and scientific notation with a
/// decimal point (`1.5e-40`, not `1e-5`), outside code blocks and includes.
fn quoted_numbers(text: &str) -> Vec<String> {
    let mut prose = String::new();
    let mut in_fence = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence && !t.starts_with("{{#") && !t.starts_with("<!--") {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    let bytes = prose.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_number = bytes[i].is_ascii_digit()
            && (i == 0
                || !(bytes[i - 1].is_ascii_alphanumeric()
                    || bytes[i - 1] == b'_'
                    || bytes[i - 1] == b'.'));
        if !starts_number {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let mut has_point = false;
        if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
            has_point = true;
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
        let mantissa_end = i;
        let mut scientific = false;
        if i + 1 < bytes.len()
            && bytes[i] == b'e'
            && (bytes[i + 1].is_ascii_digit()
                || (bytes[i + 1] == b'-'
                    && i + 2 < bytes.len()
                    && bytes[i + 2].is_ascii_digit()))
        {
            scientific = has_point; // 2.451e-5 is a measured figure; 1e-5 is a setting
            i += 2;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
        if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
            continue; // part of a name like `f32` or `x2a`
        }
        let significant = prose[start..mantissa_end]
            .trim_start_matches(['0', '.'])
            .chars()
            .filter(char::is_ascii_digit)
            .count();
        if scientific || (has_point && significant >= 3) {
            out.push(prose[start..i].to_string());
        }
    }
    out
}

/// A chapter may quote a measured number only if a run printed it: it must
/// appear in a captured output (printed, or written as Markdown) or a CSV the
/// examples wrote. A number that
/// is not a measurement (one the chapter derives from a formula it shows,
/// or a constant such as a default hyperparameter) is listed in a
/// `<!-- not measured: 1258.3 0.999 -->` comment in that chapter, so the
/// exception is visible to a reviewer.
#[test]
fn every_measured_number_the_prose_quotes_comes_from_a_run() {
    let root = repo_root();
    let mut runs = String::new();
    for dir in ["book/src/output", "book/src/figures"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect(dir)
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for f in files {
            if f.extension().is_some_and(|e| e == "txt" || e == "md" || e == "csv") {
                runs.push_str(&std::fs::read_to_string(&f).expect("output is UTF-8"));
                runs.push('\n');
            }
        }
    }
    let mut problems = Vec::new();
    let mut checked = 0;
    for chapter in chapters() {
        let text = std::fs::read_to_string(&chapter).expect("chapter is UTF-8");
        let exempt: Vec<&str> = text
            .split("<!-- not measured:")
            .skip(1)
            .flat_map(|rest| {
                rest.split("-->").next().unwrap_or_default().split_whitespace()
            })
            .collect();
        for number in quoted_numbers(&text) {
            checked += 1;
            let in_runs = runs.match_indices(&number).any(|(at, _)| {
                let before = runs[..at].chars().next_back();
                let after = runs[at + number.len()..].chars().next();
                !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
                    && !after.is_some_and(|c| {
                        c.is_ascii_digit()
                            || (c == '.'
                                && runs[at + number.len() + 1..]
                                    .starts_with(|d: char| d.is_ascii_digit()))
                    })
            });
            if !in_runs && !exempt.contains(&number.as_str()) {
                let shown =
                    chapter.strip_prefix(&root).unwrap_or(&chapter).display().to_string();
                problems.push(format!("{shown}: {number}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} number(s) in the prose appear in no captured output or CSV (copy them exactly from a run, \
         or list a derived number or constant in a <!-- not measured: ... --> comment):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    assert!(
        checked > 0,
        "the book quotes no measured number; the check would pass vacuously"
    );
}

#[test]
fn quoted_numbers_are_found_in_prose_and_not_in_code_or_names() {
    let text = "ratio 886.8 and 1.5e-40, not f32 or 0.1 or 1e-5; 0.998.\n```text\n123.456\n```\n{{#include a.txt}} 9.999";
    assert_eq!(quoted_numbers(text), vec!["886.8", "1.5e-40", "0.998"]);
}

// Listings that fit (issue 15, item 4). A listing is measured as the book
// renders it: the anchored region without nested marker lines, dedented by
// the book's own preprocessor (tools/mdbook-dedent), whose function this
// file shares.

// The preprocessor's `dedent_code_blocks` is not needed here, only `dedent`.
#[allow(dead_code)]
#[path = "../tools/mdbook-dedent/src/dedent.rs"]
mod dedent;

/// The widest line a listing may hold, in characters: what the book's
/// column shows at 1200 px without scrolling, and rustfmt's `max_width`.
const MAX_WIDTH: usize = 90;
/// The longest listing, in lines.
const MAX_LINES: usize = 40;
/// The longest listing marked [`WALKED_THROUGH`], in lines.
const MAX_WALKED_LINES: usize = 60;
/// Marks a listing of one whole function that the prose walks through,
/// which may run to [`MAX_WALKED_LINES`].
const WALKED_THROUGH: &str = "<!-- listing: one whole function, walked through -->";
/// Marks a listing that stops inside an item (its braces do not balance);
/// the prose must say that it is an excerpt.
const EXCERPT: &str = "<!-- listing: an excerpt -->";

/// One include of Rust code, as the book shows it.
#[derive(Debug)]
struct Listing {
    /// Where the include is: `book/src/attention.md:315`.
    at: String,
    /// What it includes: `src/nn/attention.rs:mha_attend`.
    source: String,
    /// The lines the reader sees.
    lines: Vec<String>,
    /// The `<!-- listing: … -->` comments just before its code block.
    markers: Vec<String>,
}

/// The `<!-- listing: … -->` comments that stand just before the code block
/// holding the include on (0-based) line `index` of `lines`: blank lines and
/// the block's other includes are skipped back to its opening fence, then
/// blank lines, then the consecutive markers are read.
fn listing_markers(lines: &[&str], index: usize) -> Vec<String> {
    let mut i = index;
    let is_include = |l: &str| l.trim().starts_with("{{#");
    while i > 0 && (lines[i - 1].trim().is_empty() || is_include(lines[i - 1])) {
        i -= 1;
    }
    if i > 0 && ["```", "~~~"].iter().any(|f| lines[i - 1].trim_start().starts_with(f)) {
        i -= 1;
        while i > 0 && lines[i - 1].trim().is_empty() {
            i -= 1;
        }
    }
    let mut markers = Vec::new();
    while i > 0 && lines[i - 1].trim().starts_with("<!-- listing:") {
        markers.push(lines[i - 1].trim().to_string());
        i -= 1;
    }
    markers.reverse();
    markers
}

/// Every anchored include of a `.rs` file in the book, rendered. Includes
/// that `every_include_names_an_existing_file_and_a_non_empty_anchor`
/// reports as broken are skipped here.
fn listings() -> Vec<Listing> {
    let root = repo_root();
    let mut out = Vec::new();
    for chapter in chapters() {
        let text = std::fs::read_to_string(&chapter).expect("chapter is UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        let shown = chapter.strip_prefix(&root).unwrap_or(&chapter).display().to_string();
        for inc in find_includes(&text) {
            let Selector::Anchor(anchor) = &inc.selector else { continue };
            let target = resolve(&chapter, &inc.path);
            if target.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let Ok(source) = std::fs::read_to_string(&target) else { continue };
            let Ok(region) = anchored_region(&source, anchor) else { continue };
            let file =
                target.strip_prefix(&root).unwrap_or(&target).display().to_string();
            out.push(Listing {
                at: format!("{shown}:{}", inc.line),
                source: format!("{file}:{anchor}"),
                lines: dedent::dedent(&region),
                markers: listing_markers(&lines, inc.line - 1),
            });
        }
    }
    assert!(out.len() > 10, "found only {} Rust listings in the book", out.len());
    out
}

/// A line wider than [`MAX_WIDTH`] characters (not bytes: `∂` is one).
fn width_problem(listing: &Listing) -> Option<String> {
    let wide: Vec<(usize, usize)> = listing
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i + 1, l.chars().count()))
        .filter(|&(_, w)| w > MAX_WIDTH)
        .collect();
    let &(line, width) = wide.iter().max_by_key(|(_, w)| *w)?;
    Some(format!(
        "{}: {}: {} line(s) wider than {MAX_WIDTH} characters, the widest {width} \
         (listing line {line}: `{}`); wrap them in the source (rustfmt wraps code at \
         {MAX_WIDTH}, but not comments or string literals)",
        listing.at,
        listing.source,
        wide.len(),
        listing.lines[line - 1].trim().chars().take(50).collect::<String>()
    ))
}

/// A listing over [`MAX_LINES`] lines, unless it is marked
/// [`WALKED_THROUGH`] and at most [`MAX_WALKED_LINES`].
fn length_problem(listing: &Listing) -> Option<String> {
    let n = listing.lines.len();
    let walked = listing.markers.iter().any(|m| m == WALKED_THROUGH);
    if walked && n > MAX_WALKED_LINES {
        Some(format!(
            "{}: {}: {n} lines, over the {MAX_WALKED_LINES} allowed even for one whole \
             function walked through; split the function, or show it in several \
             anchored pieces",
            listing.at, listing.source
        ))
    } else if !walked && n > MAX_LINES {
        Some(format!(
            "{}: {}: {n} lines, over {MAX_LINES}; anchor a smaller region (or several), \
             or, if it is one whole function of at most {MAX_WALKED_LINES} lines that the \
             prose walks through, put `{WALKED_THROUGH}` on the line before its code block",
            listing.at, listing.source
        ))
    } else {
        None
    }
}

/// How the braces of Rust `code` fail to balance, if they do: a `}` that
/// closes nothing, or `{`s left open at the end. Braces in comments, string
/// and character literals do not count.
fn unbalanced_braces(code: &str) -> Option<String> {
    let chars: Vec<char> = code.chars().collect();
    let (mut i, mut line, mut depth) = (0, 1, 0usize);
    let at = |chars: &[char], i: usize, s: &str| {
        s.chars().enumerate().all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    while i < chars.len() {
        let c = chars[i];
        let ident_before =
            i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c == '\n' {
            line += 1;
        } else if at(&chars, i, "//") {
            while i + 1 < chars.len() && chars[i + 1] != '\n' {
                i += 1;
            }
        } else if at(&chars, i, "/*") {
            let mut nest = 0;
            while i < chars.len() {
                if at(&chars, i, "/*") {
                    nest += 1;
                    i += 1;
                } else if at(&chars, i, "*/") {
                    nest -= 1;
                    i += 1;
                    if nest == 0 {
                        break;
                    }
                } else if chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
        } else if c == 'r' && !ident_before && matches!(chars.get(i + 1), Some('"' | '#'))
        {
            // A raw string: r"…", r#"…"#.
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            if chars.get(i + 1 + hashes) == Some(&'"') {
                let close: String =
                    std::iter::once('"').chain((0..hashes).map(|_| '#')).collect();
                i += hashes + 2;
                while i < chars.len() && !at(&chars, i, &close) {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
                i += hashes;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                line += usize::from(chars[i] == '\n');
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
        } else if c == '\'' {
            // A character literal ('{', '\'', '\u{7b}'), or else a lifetime.
            if chars.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 2;
            }
        } else if c == '{' {
            depth += 1;
        } else if c == '}' {
            if depth == 0 {
                return Some(format!(
                    "a `}}` on listing line {line} closes a block it does not open"
                ));
            }
            depth -= 1;
        }
        i += 1;
    }
    (depth > 0).then(|| format!("it ends with {depth} `{{` left open"))
}

/// A listing whose braces do not balance (it starts or stops inside an
/// item), unless it is marked [`EXCERPT`].
fn brace_problem(listing: &Listing) -> Option<String> {
    if listing.markers.iter().any(|m| m == EXCERPT) {
        return None;
    }
    let problem = unbalanced_braces(&listing.lines.join("\n"))?;
    Some(format!(
        "{}: {}: {problem}, so it stops inside a function or block; move the anchor to \
         whole items, or, if the excerpt is meant, put `{EXCERPT}` on the line before \
         its code block and say in the prose that it is an excerpt",
        listing.at, listing.source
    ))
}

/// A `<!-- listing: … -->` comment that is neither of the two known, so a
/// misspelt marker cannot silently fail to apply.
fn marker_problem(listing: &Listing) -> Option<String> {
    let unknown: Vec<&String> = listing
        .markers
        .iter()
        .filter(|m| *m != WALKED_THROUGH && *m != EXCERPT)
        .collect();
    (!unknown.is_empty()).then(|| {
        format!(
            "{}: {}: unknown marker {unknown:?}; the two markers are `{WALKED_THROUGH}` \
             and `{EXCERPT}`",
            listing.at, listing.source
        )
    })
}

/// Runs `check` on every listing of the book and fails with every problem.
fn assert_listings(check: fn(&Listing) -> Option<String>, what: &str) {
    let all = listings();
    let problems: Vec<String> = all.iter().filter_map(check).collect();
    assert!(
        problems.is_empty(),
        "{} of {} listings {what}:\n  {}",
        problems.len(),
        all.len(),
        problems.join("\n  ")
    );
}

/// The problems of the captured outputs shown in `text` (a chapter at
/// `shown`, resolving includes against `chapter`): an output printed in a
/// code block must fit [`MAX_WIDTH`] characters, or it scrolls sideways; an
/// outcome written as Markdown (`output/*.md`) must sit outside any code
/// block, where it renders as a table the browser wraps.
fn output_problems(chapter: &Path, shown: &str, text: &str) -> Vec<String> {
    let output_dir = repo_root().join("book/src/output");
    let mut problems = Vec::new();
    for (line, _info, body) in code_blocks(text) {
        for inc in find_includes(&body.join("\n")) {
            let target = resolve(chapter, &inc.path);
            if !target.starts_with(&output_dir) {
                continue;
            }
            let at = format!("{shown}:{}", line + inc.line);
            if target.extension().is_some_and(|e| e == "md") {
                problems.push(format!(
                    "{at}: `{}` is an outcome in Markdown, inside a code block; include it \
                     outside any fence so it renders as a table",
                    inc.path
                ));
                continue;
            }
            let Ok(output) = std::fs::read_to_string(&target) else { continue };
            let lines: Vec<&str> = output.lines().collect();
            let (from, to) = match inc.selector {
                Selector::Lines(a, b) => (
                    a.unwrap_or(1).saturating_sub(1).min(lines.len()),
                    b.unwrap_or(lines.len()).min(lines.len()),
                ),
                _ => (0, lines.len()),
            };
            let widest = lines[from..to.max(from)]
                .iter()
                .map(|l| l.chars().count())
                .max()
                .unwrap_or(0);
            if widest > MAX_WIDTH {
                problems.push(format!(
                    "{at}: `{}` shows a line of {widest} characters in a code block, over \
                     {MAX_WIDTH}, so it scrolls sideways; include the example's Markdown \
                     outcome (`.md`) instead and link the full output, or show a narrow \
                     excerpt",
                    inc.path
                ));
            }
        }
    }
    problems
}

#[test]
fn no_captured_output_shown_in_a_code_block_is_wider_than_90_characters() {
    let root = repo_root();
    let mut problems = Vec::new();
    for chapter in chapters() {
        let text = std::fs::read_to_string(&chapter).expect("chapter is UTF-8");
        let shown = chapter.strip_prefix(&root).unwrap_or(&chapter).display().to_string();
        problems.extend(output_problems(&chapter, &shown, &text));
    }
    assert!(
        problems.is_empty(),
        "{} captured output(s) do not fit:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn a_wide_output_in_a_code_block_or_a_markdown_outcome_in_one_is_reported() {
    let chapter = repo_root().join("book/src/tape.md");
    let fenced = |path: &str| format!("Text.\n\n```text\n{{{{#include {path}}}}}\n```\n");
    let in_fence =
        output_problems(&chapter, "c.md", &fenced("output/07_pre_vs_post_norm.md"));
    assert_eq!(in_fence.len(), 1, "{in_fence:?}");
    assert!(in_fence[0].starts_with("c.md:4: "), "{in_fence:?}");
    let outside = "Text.\n\n{{#include output/07_pre_vs_post_norm.md}}\n";
    assert_eq!(output_problems(&chapter, "c.md", outside), Vec::<String>::new());
    let narrow = fenced("output/tiny_tape.txt");
    assert_eq!(output_problems(&chapter, "c.md", &narrow), Vec::<String>::new());
}

#[test]
fn no_listing_line_is_wider_than_90_characters() {
    assert_listings(width_problem, "hold a line that scrolls sideways");
}

#[test]
fn no_listing_runs_over_40_lines_unless_it_is_one_whole_function_walked_through() {
    assert_listings(length_problem, "are too long");
}

#[test]
fn no_listing_stops_inside_a_function_unless_the_book_calls_it_an_excerpt() {
    assert_listings(brace_problem, "do not balance their braces");
}

#[test]
fn every_listing_marker_is_one_the_book_knows() {
    assert_listings(marker_problem, "carry an unknown marker");
}

/// The `[preprocessor.dedent]` table of `book_toml` must run the
/// preprocessor these tests measure with, after `links` and before `katex`.
fn dedent_config_problems(book_toml: &str) -> Vec<String> {
    let table: Vec<&str> = book_toml
        .lines()
        .skip_while(|l| l.trim() != "[preprocessor.dedent]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .map(str::trim)
        .collect();
    if table.is_empty() {
        return vec!["book.toml has no [preprocessor.dedent] table, so every listing \
                     from inside an impl block shows indented; add it (see book/README.md)"
            .into()];
    }
    [
        "command = \"../target/release/mdbook-dedent\"",
        "after = [\"links\"]",
        "before = [\"katex\"]",
    ]
    .iter()
    .filter(|want| !table.contains(want))
    .map(|want| format!("[preprocessor.dedent] in book.toml lacks `{want}`"))
    .collect()
}

#[test]
fn the_book_dedents_its_listings_with_the_preprocessor_these_tests_measure_with() {
    let root = repo_root();
    let toml = std::fs::read_to_string(root.join("book/book.toml")).expect("book.toml");
    let problems = dedent_config_problems(&toml);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        root.join("tools/mdbook-dedent/Cargo.toml").is_file(),
        "book.toml runs mdbook-dedent, but tools/mdbook-dedent is missing"
    );
    let tools_book =
        std::fs::read_to_string(root.join("tools/book")).expect("tools/book");
    assert!(
        tools_book.contains("cargo build --release -p mdbook-dedent"),
        "tools/book must build mdbook-dedent before mdbook runs it"
    );
}

// The listing checks' own tests: each rule must be able to fail.

fn listing(lines: &[&str], markers: &[&str]) -> Listing {
    Listing {
        at: "book/src/x.md:7".into(),
        source: "src/x.rs:x".into(),
        lines: dedent::dedent(lines),
        markers: markers.iter().map(|m| m.to_string()).collect(),
    }
}

#[test]
fn a_line_over_90_characters_is_reported_counting_characters_not_bytes() {
    let ninety_greek = "∂".repeat(90);
    assert_eq!(width_problem(&listing(&[&ninety_greek], &[])), None);
    // Indentation the preprocessor removes does not count.
    let indented = format!("    {ninety_greek}");
    assert_eq!(width_problem(&listing(&[&indented, "    }"], &[])), None);
    let wide = format!("{ninety_greek}x");
    let problem = width_problem(&listing(&["fn f() {", &wide, "}"], &[])).unwrap();
    assert!(problem.starts_with("book/src/x.md:7: src/x.rs:x: 1 line(s)"), "{problem}");
    assert!(problem.contains("the widest 91 (listing line 2"), "{problem}");
}

#[test]
fn a_long_listing_is_reported_unless_marked_walked_through_and_at_most_60_lines() {
    let lines = |n: usize| vec!["x"; n];
    assert_eq!(length_problem(&listing(&lines(40), &[])), None);
    let problem = length_problem(&listing(&lines(41), &[])).unwrap();
    assert!(problem.contains("41 lines, over 40"), "{problem}");
    assert_eq!(length_problem(&listing(&lines(60), &[WALKED_THROUGH])), None);
    let problem = length_problem(&listing(&lines(61), &[WALKED_THROUGH])).unwrap();
    assert!(problem.contains("61 lines, over the 60"), "{problem}");
    // The other marker does not lengthen the limit.
    assert!(length_problem(&listing(&lines(41), &[EXCERPT])).is_some());
}

#[test]
fn a_listing_that_stops_inside_a_function_is_reported_unless_marked_an_excerpt() {
    let open = ["fn f() {", "    let x = 1;"];
    let problem = brace_problem(&listing(&open, &[])).unwrap();
    assert!(problem.contains("1 `{` left open"), "{problem}");
    assert_eq!(brace_problem(&listing(&open, &[EXCERPT])), None);
    let closes = ["    x", "}", "fn g() {}"];
    let problem = brace_problem(&listing(&closes, &[])).unwrap();
    assert!(problem.contains("listing line 2 closes"), "{problem}");
    assert_eq!(brace_problem(&listing(&["fn f() {", "}"], &[])), None);
}

#[test]
fn braces_in_comments_strings_and_characters_do_not_count() {
    let code = r###"fn f<'a>(x: &'a str) -> char { // {
    /* { /* } */ { */
    let s = "{\"}"; let r = r#"}"{"#; let b = b"{";
    let c = ['{', '\'', '\u{7b}', '"'];
    format!("{{}}") }"###;
    assert_eq!(unbalanced_braces(code), None);
    assert!(unbalanced_braces("let c = '{'; {").is_some());
}

#[test]
fn markers_are_read_from_just_before_the_code_block() {
    let chapter = format!(
        "{WALKED_THROUGH}\n```rust,ignore\n{{{{#include a.rs:a}}}}\n```\n\n\
         Prose.\n\n{EXCERPT}\n\n```rust,ignore\n{{{{#include b.rs:b}}}}\n\n\
         {{{{#include c.rs:c}}}}\n```\n```rust,ignore\n{{{{#include d.rs:d}}}}\n```\n\
         <!-- listing: a typo -->\n```\n{{{{#include e.rs:e}}}}\n```"
    );
    let lines: Vec<&str> = chapter.lines().collect();
    let at = |name: &str| lines.iter().position(|l| l.contains(name)).unwrap();
    assert_eq!(listing_markers(&lines, at("a.rs")), [WALKED_THROUGH]);
    assert_eq!(listing_markers(&lines, at("b.rs")), [EXCERPT]);
    assert_eq!(listing_markers(&lines, at("c.rs")), [EXCERPT]);
    // The previous block's marker does not carry over.
    assert!(listing_markers(&lines, at("d.rs")).is_empty());
    let typo = listing(&["x"], &["<!-- listing: a typo -->"]);
    assert!(marker_problem(&typo).unwrap().contains("unknown marker"));
    assert_eq!(listing_markers(&lines, at("e.rs")), ["<!-- listing: a typo -->"]);
}

#[test]
fn a_book_toml_that_does_not_run_the_preprocessor_in_order_is_reported() {
    assert!(
        dedent_config_problems("[preprocessor.katex]\n")[0].contains("no [preprocessor")
    );
    let unordered = "[preprocessor.dedent]\ncommand = \"../target/release/mdbook-dedent\"\n\n[x]\nafter = [\"links\"]\n";
    let problems = dedent_config_problems(unordered);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("after = [\"links\"]"));
}
