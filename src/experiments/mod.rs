//! Experiments that measure each claim about residual connections.
//!
//! Every experiment is a function `run(quick) -> Outcome`: it builds models
//! with this crate, measures something, and returns a table, the series to
//! plot, and its claims, each with the figure that decides it. The examples
//! in `examples/` print and draw these outcomes; `tests/experiments*.rs` run
//! each one in quick mode and asserts its claims. Everything is seeded, so
//! the same call gives the same numbers, bit for bit.
//!
//! | example | claim |
//! |---|---|
//! | 01 [`worked_examples`] | the textbook calculations hold in the engine: the skip's `1` keeps the scalar gradient alive at a = 0, the branch learns H(x) − x, J(x + F) − J(F) = I, and zero branches stack into the identity |
//! | 02 [`tutorial_shapes`] | the tutorial's wrapper, its owned variant and `TransformerEncoderLayer(512, 8)` keep the shape, have the parameter counts their formulas (and PyTorch) give, and the prose's post-norm differs from the code's pre-norm |
//! | 03 [`vanishing`] | without skips the gradient reaching the first layer shrinks by orders of magnitude with depth; with pre-norm skips it stays within a small factor, and with unnormalised skips it grows instead |
//! | 04 [`forward_signal`] | without skips a linear probe can no longer read the input off a deep stack's output; with skips the input stays in the stream at full size, diluted by a growing stream unless pre-norm keeps it in check |
//! | 05 [`deep_mlp_training`] | with the same blocks, weights, optimiser and steps, a 32-block MLP with skips reaches a tenth of the baseline loss and one without does not |
//! | 06 [`identity_at_init`] | zero-initialised branches make a stack of any depth exactly the identity, inserted blocks leave a model's function unchanged bit for bit, and ReZero gates grow from 0 as the loss falls |
//! | 07 [`pre_vs_post_norm`] | at 48 layers, post-norm without warmup stays at chance at a learning rate pre-norm trains at; warmup rescues it; the gradients at initialisation are not badly scaled in either at this size |
//! | 08 [`token_identity`] | without skips, attention layers make every position the same vector and no position identifies its own token; with skips every position does, at every depth |
//! | 09 [`add_vs_concat`] | merging by concatenation widens the stream linearly and makes parameters and multiply-adds grow superlinearly with depth; addition costs the same per block |
//! | 10 [`ode_view`] | a stack of `N` blocks `x + F(x)/N` with one shared `F` is Euler's method: its output converges as `N` grows, the change per doubling shrinking like `1/N` |
//! | 11 [`transformer_toy`] | a 6-layer transformer learns to reverse digits with residual connections and stays far behind without them |

pub mod add_vs_concat;
pub mod deep_mlp_training;
pub mod digits;
pub mod forward_signal;
pub mod identity_at_init;
pub mod ode_view;
pub mod pre_vs_post_norm;
pub mod token_identity;
pub mod transformer_toy;
pub mod tutorial_shapes;
pub mod vanishing;
pub mod worked_examples;

use std::fmt;

/// An experiment: runs in quick or full mode and returns what it measured.
pub type Experiment = fn(quick: bool) -> Outcome;

// ANCHOR: all_experiments
/// Every experiment with a short name, in the order of the book's chapters.
pub const ALL: &[(&str, Experiment)] = &[
    ("worked examples", worked_examples::run),
    ("the tutorial's shapes", tutorial_shapes::run),
    ("vanishing gradients", vanishing::run),
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

// ANCHOR: claim
/// One claim of the topic, with the figure measured for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The statement, in words.
    pub statement: String,
    /// What was measured, with its threshold (e.g. `plain 3.1e-9 vs residual 0.74 (needs < 1e-3)`).
    pub measured: String,
    /// Whether the measurement supports the statement.
    pub holds: bool,
}

impl Claim {
    /// A claim decided by `holds`.
    pub fn new(statement: impl Into<String>, measured: impl Into<String>, holds: bool) -> Claim {
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
        Table { headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
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
        let line = |cells: &[String]| cells.iter().map(|c| c.replace(',', ";")).collect::<Vec<_>>().join(",");
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
            .map(|c| self.rows.iter().map(|r| r[c].len()).chain([self.headers[c].len()]).max().unwrap_or(0))
            .collect();
        let line = |cells: &[String]| {
            cells.iter().zip(&widths).map(|(c, w)| format!("{c:>w$}")).collect::<Vec<_>>().join("  ")
        };
        writeln!(f, "{}", line(&self.headers))?;
        writeln!(f, "{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "))?;
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
        assert_eq!(t.to_string(), "depth  ratio\n-----  -----\n    1    0.5\n  128   1e-9\n");
        assert_eq!(t.to_csv(), "depth,ratio\n1,0.5\n128,1e-9\n");
    }
}
