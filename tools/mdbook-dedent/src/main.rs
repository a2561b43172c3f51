//! `mdbook-dedent`: an mdBook preprocessor that removes the indentation
//! shared by the lines of each fenced code block, so a method included
//! from inside an `impl` block starts at the left margin.
//!
//! mdBook runs it twice (see `book/book.toml`, which orders it after the
//! `links` preprocessor that expands `{{#include}}`, and before `katex`):
//!
//! - `mdbook-dedent supports <renderer>`: exit status 0, every renderer is
//!   supported (code blocks are Markdown, whatever renders them);
//! - `mdbook-dedent`: reads `[context, book]` as JSON on stdin and prints the
//!   book, its chapters' code blocks dedented, as JSON on stdout.

mod dedent;

use serde_json::Value;
use std::io::{Read, Write};
use std::process::ExitCode;

/// Dedents the code blocks of every chapter in `value` (a book, or any part
/// of one), however deeply nested. Returns how many chapters it saw.
///
/// A chapter is an object with a string `content` and a `sub_items` list;
/// matching on that shape rather than on the full schema keeps this
/// independent of the fields mdBook adds between versions.
fn dedent_chapters(value: &mut Value) -> usize {
    match value {
        Value::Object(map) => {
            let mut seen = 0;
            if map.contains_key("sub_items")
                && let Some(Value::String(content)) = map.get_mut("content")
            {
                *content = dedent::dedent_code_blocks(content);
                seen += 1;
            }
            seen + map.values_mut().map(dedent_chapters).sum::<usize>()
        }
        Value::Array(items) => items.iter_mut().map(dedent_chapters).sum(),
        _ => 0,
    }
}

/// Reads `[context, book]` from `input` and returns the processed book.
fn process(input: &str) -> Result<Value, String> {
    let parsed: Value =
        serde_json::from_str(input).map_err(|e| format!("input is not JSON: {e}"))?;
    let Value::Array(mut pair) = parsed else {
        return Err("input is not a JSON array [context, book]".into());
    };
    if pair.len() != 2 {
        return Err(format!("expected [context, book], got {} values", pair.len()));
    }
    let mut book = pair.pop().expect("two values");
    if dedent_chapters(&mut book) == 0 {
        return Err("the book holds no chapter (an object with `content` and \
                    `sub_items`): has mdBook's JSON changed?"
            .into());
    }
    Ok(book)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "supports") {
        return ExitCode::SUCCESS;
    }
    let mut input = String::new();
    let result = std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read stdin: {e}"))
        .and_then(|_| process(&input))
        .and_then(|book| {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, &book)
                .map_err(|e| e.to_string())
                .and_then(|()| out.flush().map_err(|e| e.to_string()))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mdbook-dedent: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dedent::{dedent, dedent_code_blocks};
    use super::process;

    #[test]
    fn a_method_indented_inside_an_impl_starts_at_the_left_margin() {
        let lines = ["    pub fn f(&self) -> u32 {", "        1", "    }"];
        assert_eq!(dedent(&lines), ["pub fn f(&self) -> u32 {", "    1", "}"]);
    }

    #[test]
    fn tabs_and_spaces_are_different_whitespace() {
        assert_eq!(dedent(&["\tfn f() {", "\t\tx", "\t}"]), ["fn f() {", "\tx", "}"]);
        // One line indented with a tab, one with four spaces: nothing is shared.
        assert_eq!(dedent(&["\tx", "    y"]), ["\tx", "    y"]);
        // A shared prefix of mixed whitespace is removed as it is.
        assert_eq!(dedent(&[" \t a", " \t\tb"]), [" a", "\tb"]);
    }

    #[test]
    fn blank_lines_do_not_count_and_lose_their_whitespace() {
        let lines = ["    a", "", "  ", "        b"];
        assert_eq!(dedent(&lines), ["a", "", "", "    b"]);
        assert_eq!(dedent(&["", "   "]), ["", ""]);
    }

    #[test]
    fn a_block_with_a_line_at_the_margin_is_left_alone() {
        let lines = ["fn f() {", "    x", "}"];
        assert_eq!(dedent(&lines), lines);
        assert!(dedent::<&str>(&[]).is_empty());
    }

    #[test]
    fn only_code_blocks_are_dedented_and_everything_else_is_kept_byte_for_byte() {
        let md = "    indented prose\n```rust,ignore\n    fn f() {}\r\n      x\n```\n\
                  ~~~text\n  out\n~~~\n  after\n";
        assert_eq!(
            dedent_code_blocks(md),
            "    indented prose\n```rust,ignore\nfn f() {}\r\n  x\n```\n\
             ~~~text\nout\n~~~\n  after\n"
        );
    }

    #[test]
    fn a_fence_inside_a_longer_fence_is_part_of_the_body() {
        let md = "````markdown\n  ```rust\n    fn f() {}\n  ```\n````\n```\n  y\n```\n";
        assert_eq!(
            dedent_code_blocks(md),
            "````markdown\n```rust\n  fn f() {}\n```\n````\n```\ny\n```\n"
        );
        // Inline code that starts a line with three backticks opens no block.
        let inline = "```x``` is code\n    kept\n";
        assert_eq!(dedent_code_blocks(inline), inline);
    }

    #[test]
    fn an_unclosed_block_runs_to_the_end_of_the_chapter() {
        assert_eq!(dedent_code_blocks("```\n  a\n   b"), "```\na\n b");
    }

    #[test]
    fn the_book_comes_back_with_every_chapter_and_sub_chapter_dedented() {
        let chapter = |content: &str, sub: &str| {
            format!(
                r#"{{"Chapter":{{"name":"c","content":{content:?},"sub_items":[{sub}]}}}}"#
            )
        };
        let inner = chapter("```\n    b\n```\n", "");
        let outer = chapter("```\n  a\n```\n", &inner);
        let input = format!(
            r#"[{{"root":"/book","mdbook_version":"0.5.3"}},{{"items":[{outer},"Separator",{{"PartTitle":"P"}}]}}]"#
        );
        let book = process(&input).unwrap();
        let outer = &book["items"][0]["Chapter"];
        assert_eq!(outer["content"], "```\na\n```\n");
        assert_eq!(outer["sub_items"][0]["Chapter"]["content"], "```\nb\n```\n");
        assert_eq!(book["items"][1], "Separator");
        assert_eq!(book["items"][2]["PartTitle"], "P");
        assert!(process(r#"[{}, {"items": []}]"#).unwrap_err().contains("no chapter"));
        assert!(process("{}").is_err());
    }
}
