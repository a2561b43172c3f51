//! The lab: what every experiment of resgrad shares.
//!
//! Each experiment is one example in `lab/examples/`, numbered like the
//! book's chapters, and holds its whole code, top to bottom: the model, the
//! training loop, the measurement, its claims, and (at the bottom) the tests
//! that assert every claim in quick mode. This crate holds only what they
//! share:
//!
//! - the result types an experiment returns: [`Claim`], [`Table`],
//!   [`Figure`] and [`Outcome`];
//! - [`run_example`], the `main` of every experiment: it reads `--quick`,
//!   prints the outcome, writes its CSV and SVG files and the outcome as
//!   Markdown (which the book shows where the printed table would be too
//!   wide), and fails if a claim does not hold;
//! - [`digits`], the toy task and model the training experiments share
//!   (reverse six digits); [`wiring`], the block that experiments 03 and 04
//!   wire into a stack four ways (one looks at it backwards, the other
//!   forwards); [`workloads`], the benchmark workloads W1 to W3; and
//!   [`palette`], the colour of each wiring in every figure.
//!
//! Full runs write into `book/src/figures/` and `book/src/output/`, the
//! folders the book includes from; quick runs (the tests' and the tour's)
//! write into `target/figures-quick/`, so they never overwrite the book's
//! files.
//! Everything is seeded, so the same call gives the same numbers, bit for
//! bit.

pub mod digits;
mod plot;
pub mod wiring;
pub mod workloads;

pub use plot::draw;

/// The colour of each wiring, shared by the charts ([`draw`]) and the
/// schematics (`lab/examples/00_schematics.rs`).
pub mod palette {
    pub use crate::plot::{
        CONCAT, OTHER, PLAIN, POST_NORM, PRE_NORM, REFERENCE, RESIDUAL,
    };
}

use std::fmt;
use std::path::{Path, PathBuf};

/// An experiment: runs in quick or full mode and returns what it measured.
pub type Experiment = fn(quick: bool) -> Outcome;

// ANCHOR: claim
/// One claim of the topic, with the figure measured for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The statement, in words.
    pub statement: String,
    /// What was measured, with its threshold (e.g.
    /// `plain 3.1e-9 vs residual 0.74 (needs < 1e-3)`).
    pub measured: String,
    /// Whether the measurement supports the statement.
    pub holds: bool,
}

impl Claim {
    /// A claim decided by `holds`.
    pub fn new(
        statement: impl Into<String>,
        measured: impl Into<String>,
        holds: bool,
    ) -> Claim {
        Claim { statement: statement.into(), measured: measured.into(), holds }
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.holds { "holds" } else { "FAILS" };
        write!(f, "[{mark}] {}: {}", self.statement, self.measured)
    }
}
// ANCHOR_END: claim

/// A table of results: a header row and rows of formatted cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Column names.
    pub headers: Vec<String>,
    /// Rows of cells, each as long as `headers`.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row. Panics if its length differs from the header's.
    #[track_caller]
    pub fn push(&mut self, row: Vec<String>) {
        assert_eq!(
            row.len(),
            self.headers.len(),
            "Table::push: {} cells for {} columns",
            row.len(),
            self.headers.len()
        );
        self.rows.push(row);
    }

    /// The table as CSV (cells are numbers and plain words: no quoting needed,
    /// and commas inside a cell are replaced by semicolons).
    pub fn to_csv(&self) -> String {
        let line = |cells: &[String]| {
            cells.iter().map(|c| c.replace(',', ";")).collect::<Vec<_>>().join(",")
        };
        let mut out = line(&self.headers);
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Table {
    /// Right-aligned columns, a rule under the header.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].len())
                    .chain([self.headers[c].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:>w$}"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        writeln!(f, "{}", line(&self.headers))?;
        writeln!(
            f,
            "{}",
            widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  ")
        )?;
        for row in &self.rows {
            writeln!(f, "{}", line(row))?;
        }
        Ok(())
    }
}

/// One line of a figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// `(x, y)` points in order.
    pub points: Vec<(f64, f64)>,
}

/// A line chart to draw: axes, scales and series. The examples render it
/// as SVG; the numbers are all here.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// File stem, e.g. `vanishing_gradients` (written as `.svg`).
    pub file: String,
    /// Title above the chart.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// The lines.
    pub series: Vec<Series>,
}

// ANCHOR: outcome
/// What an experiment returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// File stem for the table's CSV, e.g. `vanishing_gradients`.
    pub name: String,
    /// A one-line description.
    pub title: String,
    /// The results table.
    pub table: Table,
    /// Figures to draw.
    pub figures: Vec<Figure>,
    /// The claims and their measured figures.
    pub claims: Vec<Claim>,
}

impl Outcome {
    /// True if every claim holds.
    pub fn all_hold(&self) -> bool {
        self.claims.iter().all(|c| c.holds)
    }
}
// ANCHOR_END: outcome

/// Escapes the characters that Markdown (or the book's KaTeX, for `$`)
/// would read as markup, so a cell or a claim shows as the text it is.
/// Brackets stay as they are: shapes such as `[10, 20, 512]` are no links
/// without a reference, and `\[` is a math delimiter to some renderers.
fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '<' | '$' | '|' | '&') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// True if a table cell reads as a number, perhaps followed by a note
/// (`0 (underflow)`), or as a count such as `5/5` or `80.0%`, or is the `-` of
/// a cell left empty: such columns are right-aligned.
fn is_numeric_cell(cell: &str) -> bool {
    let first = cell.split_whitespace().next().unwrap_or_default();
    let cell = first.trim_end_matches('%');
    cell == "-"
        || cell.parse::<f64>().is_ok()
        || cell
            .split_once('/')
            .is_some_and(|(a, b)| a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok())
}

impl Table {
    /// The table in Markdown, numeric columns right-aligned; `|` and other
    /// markup in cells are escaped.
    pub fn to_markdown(&self) -> String {
        let line = |cells: &[String]| {
            let cells: Vec<String> = cells.iter().map(|c| escape_markdown(c)).collect();
            format!("| {} |\n", cells.join(" | "))
        };
        let align: Vec<&str> = (0..self.headers.len())
            .map(|c| {
                let numeric = !self.rows.is_empty()
                    && self.rows.iter().all(|r| is_numeric_cell(&r[c]));
                if numeric { "---:" } else { "---" }
            })
            .collect();
        let mut out = line(&self.headers);
        out.push_str(&format!("|{}|\n", align.join("|")));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

impl Outcome {
    /// The outcome as Markdown, for the book to include where a chapter
    /// discusses it: the title as a sentence, the table, and the claims as
    /// a list, inside a `<div class="outcome">` (which the book's stylesheet
    /// sets compactly). The browser wraps it, so it never scrolls sideways.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("<div class=\"outcome\">\n\n");
        out.push_str(&escape_markdown(self.title.trim_end()));
        if !out.ends_with(['.', '!', '?', ':']) {
            out.push('.');
        }
        out.push_str("\n\n");
        out.push_str(&self.table.to_markdown());
        out.push('\n');
        for c in &self.claims {
            let mark = if c.holds { "holds" } else { "FAILS" };
            out.push_str(&format!(
                "- **{mark}** {}: {}\n",
                escape_markdown(&c.statement),
                escape_markdown(&c.measured)
            ));
        }
        out.push_str("\n</div>\n");
        out
    }
}

/// Formats a number compactly for tables: 4 significant digits, in
/// e-notation outside [1e-3, 1e4).
pub fn fmt_num(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if (1e-3..1e4).contains(&a) {
        let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.3e}")
    }
}

// ANCHOR: run_example
/// The `main` of every experiment: runs it (quick with `--quick`), prints
/// the title, table and claims, writes the files (the outcome as Markdown
/// too, named after the example), and exits with status 1 if a claim does
/// not hold.
pub fn run_example(run: Experiment) -> std::io::Result<()> {
    let quick = quick_flag();
    let outcome = run(quick);
    let mut written = report(&outcome, quick)?;
    let name = example_name().unwrap_or_else(|| outcome.name.clone());
    written.push(write_markdown(&outcome, &name, quick)?);
    for path in written {
        println!("wrote {}", shown(&path));
    }
    if !outcome.all_hold() {
        std::process::exit(1);
    }
    Ok(())
}
// ANCHOR_END: run_example

/// Asserts, in a test, that every claim of `outcome` holds (printing them
/// all first, so a failure shows the measured figures).
#[track_caller]
pub fn assert_claims_hold(outcome: &Outcome) {
    println!("{}\n\n{}", outcome.title, outcome.table);
    for c in &outcome.claims {
        println!("{c}");
    }
    assert!(!outcome.claims.is_empty(), "{} makes no claims", outcome.name);
    for c in &outcome.claims {
        assert!(c.holds, "{c}");
    }
    for f in &outcome.figures {
        assert!(
            f.series.iter().all(|s| !s.points.is_empty()),
            "empty series in {}",
            f.file
        );
    }
}

/// The repository's root (the workspace root, one level above this crate).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("lab/ sits inside the repository")
}

/// True if the command line holds `--quick`.
pub fn quick_flag() -> bool {
    std::env::args().any(|a| a == "--quick")
}

/// Where figures and data go for this mode.
pub fn out_dir(quick: bool) -> PathBuf {
    let root = repo_root();
    if quick { root.join("target/figures-quick") } else { root.join("book/src/figures") }
}

/// The running example's name, its binary's file stem (`07_pre_vs_post_norm`):
/// the name `tools/regenerate-book` stores its printed output under.
pub fn example_name() -> Option<String> {
    let program = std::env::args_os().next()?;
    Path::new(&program).file_stem().map(|s| s.to_string_lossy().into_owned())
}

/// Where the outcome's Markdown goes: beside the captured outputs the book
/// includes (`book/src/output/`) in a full run, `target/figures-quick/` in a
/// quick one.
pub fn markdown_dir(quick: bool) -> PathBuf {
    let root = repo_root();
    if quick { root.join("target/figures-quick") } else { root.join("book/src/output") }
}

/// Writes the outcome as Markdown ([`Outcome::to_markdown`]) to
/// `<name>.md` in [`markdown_dir`]. Returns the path written.
pub fn write_markdown(
    outcome: &Outcome,
    name: &str,
    quick: bool,
) -> std::io::Result<PathBuf> {
    let dir = markdown_dir(quick);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.md"));
    std::fs::write(&path, outcome.to_markdown())?;
    Ok(path)
}

/// A path as the user should read it: relative to the crate root when it is
/// inside it, so captured output is the same in every clone.
pub fn shown(path: &Path) -> String {
    path.strip_prefix(repo_root()).unwrap_or(path).display().to_string()
}

/// Prints the outcome (title, table, claims) and writes its files.
/// Returns the paths written.
pub fn report(outcome: &Outcome, quick: bool) -> std::io::Result<Vec<PathBuf>> {
    println!("{}\n", outcome.title);
    print!("{}", outcome.table);
    println!();
    for claim in &outcome.claims {
        println!("{claim}");
    }
    write_files(outcome, &out_dir(quick))
}

/// Writes `<name>.csv` and one SVG per figure into `dir`.
pub fn write_files(outcome: &Outcome, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let csv = dir.join(format!("{}.csv", outcome.name));
    std::fs::write(&csv, outcome.table.to_csv())?;
    written.push(csv);
    for figure in &outcome.figures {
        let svg = dir.join(format!("{}.svg", figure.file));
        draw(figure, &svg).map_err(|e| {
            std::io::Error::other(format!("drawing {}: {e}", svg.display()))
        })?;
        written.push(svg);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_with_four_significant_digits() {
        assert_eq!(fmt_num(1.23456), "1.235");
        assert_eq!(fmt_num(123.456), "123.5");
        assert_eq!(fmt_num(0.000123456), "1.235e-4");
        assert_eq!(fmt_num(0.0), "0");
    }

    #[test]
    fn tables_print_aligned_and_as_csv() {
        let mut t = Table::new(&["depth", "ratio"]);
        t.push(vec!["1".into(), "0.5".into()]);
        t.push(vec!["128".into(), "1e-9".into()]);
        assert_eq!(
            t.to_string(),
            "depth  ratio\n-----  -----\n    1    0.5\n  128   1e-9\n"
        );
        assert_eq!(t.to_csv(), "depth,ratio\n1,0.5\n128,1e-9\n");
    }

    #[test]
    fn outcomes_print_as_markdown_with_escaped_cells() {
        let mut table = Table::new(&["wiring", "ratio", "seeds"]);
        table.push(vec!["plain | skip".into(), "1e-9".into(), "5/5".into()]);
        table.push(vec!["residual".into(), "-".into(), "0/5".into()]);
        let outcome = Outcome {
            name: "t".into(),
            title: "A test".into(),
            table,
            figures: Vec::new(),
            claims: vec![
                Claim::new("a *holds*", "x < 1", true),
                Claim::new("b fails", "$2", false),
            ],
        };
        assert_eq!(
            outcome.to_markdown(),
            "<div class=\"outcome\">\n\n\
             A test.\n\n\
             | wiring | ratio | seeds |\n\
             |---|---:|---:|\n\
             | plain \\| skip | 1e-9 | 5/5 |\n\
             | residual | - | 0/5 |\n\n\
             - **holds** a \\*holds\\*: x \\< 1\n\
             - **FAILS** b fails: \\$2\n\n\
             </div>\n"
        );
    }
}
