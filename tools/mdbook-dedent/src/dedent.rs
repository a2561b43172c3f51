//! Removing the indentation that the lines of a listing share.
//!
//! This file is the whole of the transformation. The preprocessor applies
//! it to the book, and `tests/book.rs` includes the same file (with
//! `#[path]`) to measure each listing as the reader sees it.

/// `lines` without the leading whitespace that all of its non-blank lines
/// share. Whitespace is compared character for character, so a tab is not
/// four spaces: lines indented one with tabs and one with spaces share
/// nothing and are left alone. Blank lines (empty or whitespace only)
/// neither count nor keep their whitespace.
pub fn dedent<S: AsRef<str>>(lines: &[S]) -> Vec<String> {
    let mut common: Option<&str> = None;
    for line in lines.iter().map(AsRef::as_ref) {
        if line.trim().is_empty() {
            continue;
        }
        let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        common = Some(match common {
            None => indent,
            Some(c) => {
                let shared = c.bytes().zip(indent.bytes()).take_while(|(a, b)| a == b);
                &c[..shared.count()]
            }
        });
    }
    let common = common.unwrap_or("");
    lines
        .iter()
        .map(AsRef::as_ref)
        .map(|line| match line.strip_prefix(common) {
            _ if line.trim().is_empty() => String::new(),
            Some(rest) => rest.to_string(),
            None => line.to_string(),
        })
        .collect()
}

/// An opening code fence: three or more backticks or tildes after at most
/// three spaces, as CommonMark reads it. Returns the fence's character and
/// length.
fn opening_fence(line: &str) -> Option<(char, usize)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let c = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = rest.chars().take_while(|x| *x == c).count();
    // A backtick fence's info string may not hold a backtick (``` `x` ``` is inline code).
    let ok = indent <= 3 && len >= 3 && (c == '~' || !rest[len..].contains('`'));
    ok.then_some((c, len))
}

/// Does `line` close a block opened by `len` of `c`?
fn closes(line: &str, c: char, len: usize) -> bool {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = line[indent..].trim_end();
    indent <= 3 && rest.len() >= len && rest.chars().all(|x| x == c)
}

/// `markdown` with the body of every fenced code block dedented. Text
/// outside code blocks, the fences themselves and line endings are kept
/// byte for byte; a fence inside a longer fence is body, not a block.
pub fn dedent_code_blocks(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut fence: Option<(char, usize)> = None;
    let mut body: Vec<(&str, &str)> = Vec::new(); // (line, its ending)
    let flush = |body: &mut Vec<(&str, &str)>, out: &mut String| {
        let lines: Vec<&str> = body.iter().map(|(l, _)| *l).collect();
        for (line, (_, end)) in dedent(&lines).iter().zip(body.iter()) {
            out.push_str(line);
            out.push_str(end);
        }
        body.clear();
    };
    for raw in markdown.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let end = &raw[line.len()..];
        match fence {
            None => {
                fence = opening_fence(line);
                out.push_str(raw);
            }
            Some((c, len)) if closes(line, c, len) => {
                flush(&mut body, &mut out);
                fence = None;
                out.push_str(raw);
            }
            Some(_) => body.push((line, end)),
        }
    }
    // An unclosed block runs to the end of the chapter, as in CommonMark.
    flush(&mut body, &mut out);
    out
}
