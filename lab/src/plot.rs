//! Line charts as SVG, with `plotters`.
//!
//! Every figure of the book is drawn here, so that one convention holds
//! across all of them: a wiring has one colour wherever it appears
//! ([`style`]), and an axis over depths or counts is labelled with whole
//! numbers ([`ticks`]).

use crate::Figure;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

// ANCHOR: palette
// The colour of each wiring, the same in every figure of the book (charts
// and schematics).
/// No skip: red.
pub const PLAIN: RGBColor = RGBColor(200, 60, 50);
/// A skip (addition) and the residual stream: blue.
pub const RESIDUAL: RGBColor = RGBColor(40, 110, 190);
/// A pre-norm skip, and the norm in a pre-norm schematic: green.
pub const PRE_NORM: RGBColor = RGBColor(40, 150, 80);
/// A post-norm skip, and the norm in a post-norm schematic: orange.
pub const POST_NORM: RGBColor = RGBColor(220, 140, 30);
/// Concatenation: purple.
pub const CONCAT: RGBColor = RGBColor(150, 80, 170);
/// Chance, slopes: grey, dashed.
pub const REFERENCE: RGBColor = RGBColor(90, 90, 90);

/// Colours for series that are not a wiring (steps, gates, sizes); the last,
/// dark grey, also draws a schematic's branch.
pub const OTHER: [RGBColor; 4] = [
    RGBColor(20, 140, 150),
    RGBColor(140, 90, 40),
    RGBColor(200, 80, 140),
    RGBColor(60, 60, 60),
];
// ANCHOR_END: palette

/// How one series is drawn: its colour and its line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    /// The line's colour.
    pub color: RGBColor,
    /// The line's pattern.
    pub line: Line,
}

/// A line pattern: the first series of a colour is solid, the next ones
/// dashed, then dotted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// Unbroken.
    Solid,
    /// Dashes of 8 px (also every reference line).
    Dashed,
    /// Dots of 2 px.
    Dotted,
}

// ANCHOR: style
/// The style of every series of a figure, from the series' names.
///
/// A name that mentions a wiring gets its colour: `post-norm`, `pre-norm`,
/// `concat`, then a plain stack (`plain`, `no skip`, `without …`), then a
/// skip (`residual`, `skip`, `add`, `with residuals`). The first series of a
/// colour is solid, the next ones of the same colour dashed, then dotted
/// (`pre-norm, no warmup` solid, `pre-norm, warmup` dashed). Reference lines (`chance`,
/// `slope`) are grey and dashed; anything else takes the next colour that
/// names no wiring.
pub fn style(names: &[&str]) -> Vec<Style> {
    let mut others = OTHER.iter().cycle();
    let mut styles: Vec<Style> = Vec::with_capacity(names.len());
    for name in names {
        let n = name.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
        let wiring = if has(&["chance", "slope"]) {
            styles.push(Style { color: REFERENCE, line: Line::Dashed });
            continue;
        } else if has(&["post-norm"]) {
            POST_NORM
        } else if has(&["pre-norm"]) {
            PRE_NORM
        } else if has(&["concat"]) {
            CONCAT
        } else if has(&["plain", "no skip", "without"]) {
            PLAIN
        } else if has(&["residual", "skip", "add"]) {
            RESIDUAL
        } else {
            *others.next().expect("a cycle never ends")
        };
        let line = match styles.iter().filter(|s| s.color == wiring).count() {
            0 => Line::Solid,
            1 => Line::Dashed,
            _ => Line::Dotted,
        };
        styles.push(Style { color: wiring, line });
    }
    styles
}
// ANCHOR_END: style

/// Tick positions for an axis over `lo..hi` (in the axis's own units: log10
/// of the values on a log axis).
///
/// A log axis whose data are whole numbers of at most ten doublings (depths,
/// block counts) gets powers of two: 1, 2, 4, 8, and so on. Another log axis
/// gets 1, 2 and 5 times powers of ten if it spans at most three decades,
/// else powers of ten, every 1, 2, 5, 10 or 20 of them, at most about eight. A linear axis gets steps of
/// 1, 2 or 5 times a power of ten, about eight of them.
pub fn ticks(lo: f64, hi: f64, log: bool, whole_numbers: bool) -> Vec<f64> {
    let in_range = |v: f64| v >= lo - 1e-9 && v <= hi + 1e-9;
    if log {
        let (d0, d1) = (lo.floor() as i32, hi.ceil() as i32);
        let doublings = (hi - lo) / 2f64.log10();
        let values: Vec<f64> = if whole_numbers && doublings <= 11.0 {
            (0..=40).map(|k| 2f64.powi(k)).collect()
        } else if hi - lo <= 3.0 {
            (d0..=d1).flat_map(|d| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(d))).collect()
        } else {
            let wanted = (d1 - d0) as f64 / 8.0;
            let stride =
                [1, 2, 5, 10, 20].into_iter().find(|&k| k as f64 >= wanted).unwrap_or(50);
            (d0..=d1)
                .filter(|d| d.rem_euclid(stride) == 0)
                .map(|d| 10f64.powi(d))
                .collect()
        };
        values.into_iter().map(f64::log10).filter(|&v| in_range(v)).collect()
    } else {
        let raw = (hi - lo) / 8.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * magnitude)
            .find(|&s| s >= raw)
            .unwrap_or(raw);
        let first = (lo / step).ceil() as i64;
        (first..).map(|i| i as f64 * step).take_while(|&v| v <= hi + 1e-9).collect()
    }
}

/// A linear axis over `lo..hi` with the tick positions [`ticks`] chose
/// (plotters' own axis picks its ticks itself).
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Axis {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }

    /// The pixel of `v`, as plotters maps a linear axis.
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.lo) / (self.hi - self.lo);
        limit.0 + ((limit.1 - limit.0) as f64 * t + 1e-3).floor() as i32
    }

    /// The ticks, for the labels and the bold grid lines; no light lines.
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }
}

/// A tick's label: the value itself (10 to the tick on a log axis), as a
/// whole number where it is one.
fn label(v: f64, log: bool) -> String {
    let value = if log { 10f64.powf(v) } else { v };
    let value: f64 = format!("{value:.6e}").parse().unwrap_or(value); // drop the log's rounding
    if value == 0.0 {
        "0".to_string()
    } else if value.fract() == 0.0 && value.abs() < 1e5 {
        format!("{value}")
    } else if (1e-3..1e5).contains(&value.abs()) {
        let s = format!("{value:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{value:e}")
    }
}

/// Draws a line chart as SVG, with the legend in two columns below the plot.
///
/// The chart is as wide as the book's text column (750 px), so it is shown at
/// its natural size on a wide screen, and its text is large enough to stay
/// legible when a phone shrinks it to half that. The legend sits below the
/// plot, where it never covers a curve and a long series name has room.
///
/// A log axis is drawn as a linear axis over log10 of the values: it stays
/// readable over the 40 decades a vanishing gradient spans. Points with a
/// non-positive coordinate on a log axis are left out (they cannot be
/// placed; the tables keep them).
pub fn draw(figure: &Figure, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let tx = |v: f64| if figure.log_x { v.log10() } else { v };
    let ty = |v: f64| if figure.log_y { v.log10() } else { v };
    let keep = |&(x, y): &(f64, f64)| {
        x.is_finite()
            && y.is_finite()
            && (!figure.log_x || x > 0.0)
            && (!figure.log_y || y > 0.0)
    };
    let series: Vec<(String, Vec<(f64, f64)>)> = figure
        .series
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.points
                    .iter()
                    .copied()
                    .filter(keep)
                    .map(|(x, y)| (tx(x), ty(y)))
                    .collect(),
            )
        })
        .collect();
    let names: Vec<&str> = series.iter().map(|(name, _)| name.as_str()).collect();
    let styles = style(&names);
    let whole = |pick: fn(&(f64, f64)) -> f64| {
        figure
            .series
            .iter()
            .flat_map(|s| &s.points)
            .map(pick)
            .all(|v| v >= 1.0 && v.fract() == 0.0)
    };
    let (whole_x, whole_y) = (whole(|p| p.0), whole(|p| p.1));
    let all: Vec<(f64, f64)> =
        series.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    let range = |vals: Vec<f64>| {
        let (mut lo, mut hi) = vals
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if lo == hi {
            (lo - 1.0, hi + 1.0)
        } else {
            let pad = 0.05 * (hi - lo);
            (lo - pad, hi + pad)
        }
    };
    let (x0, x1) = range(all.iter().map(|p| p.0).collect());
    let (y0, y1) = range(all.iter().map(|p| p.1).collect());
    let x_ticks = ticks(x0, x1, figure.log_x, whole_x);
    let y_ticks = ticks(y0, y1, figure.log_y, whole_y);
    let (log_x, log_y) = (figure.log_x, figure.log_y);
    let x_fmt = move |v: &f64| label(*v, log_x);
    let y_fmt = move |v: &f64| label(*v, log_y);

    // plotters' SVG backend writes a font size of 0.8 times the one asked
    // for: these give about 16 px for the title, 14 px for the axis labels
    // and the legend and 13 px for the tick labels.
    const WIDTH: u32 = 750;
    const PLOT_HEIGHT: u32 = 420;
    const LEGEND_ROW: i32 = 26;
    const LEGEND_COLUMN: i32 = 330;
    let rows = series.len().div_ceil(2) as u32;
    let legend_height = if series.is_empty() { 0 } else { 12 + LEGEND_ROW as u32 * rows };
    let root =
        SVGBackend::new(path, (WIDTH, PLOT_HEIGHT + legend_height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot_area, legend_area) = root.split_vertically(PLOT_HEIGHT);
    let y_label_area: i32 = 84;
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(&figure.title, ("sans-serif", 20))
        .margin(10)
        .margin_right(24)
        .x_label_area_size(54)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(
            Axis { lo: x0, hi: x1, ticks: x_ticks },
            Axis { lo: y0, hi: y1, ticks: y_ticks },
        )?;
    chart
        .configure_mesh()
        .x_desc(&figure.x_label)
        .y_desc(&figure.y_label)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 17))
        .draw()?;
    for ((_, points), s) in series.iter().zip(&styles) {
        let line = s.color.stroke_width(2);
        let points = points.iter().copied();
        match s.line {
            Line::Solid => chart.draw_series(LineSeries::new(points.clone(), line))?,
            Line::Dashed => {
                chart.draw_series(DashedLineSeries::new(points.clone(), 8, 5, line))?
            }
            Line::Dotted => {
                chart.draw_series(DashedLineSeries::new(points.clone(), 2, 4, line))?
            }
        };
        if points.len() <= 40 && s.color != REFERENCE {
            chart.draw_series(points.map(|p| Circle::new(p, 3, s.color.filled())))?;
        }
    }
    for (i, ((name, _), s)) in series.iter().zip(&styles).enumerate() {
        let x = 10 + y_label_area + LEGEND_COLUMN * (i % 2) as i32;
        let y = 4 + LEGEND_ROW / 2 + LEGEND_ROW * (i / 2) as i32;
        let line = s.color.stroke_width(3);
        let pieces: &[(i32, i32)] = match s.line {
            Line::Solid => &[(0, 28)],
            Line::Dashed => &[(0, 8), (13, 21), (26, 28)],
            Line::Dotted => &[(0, 2), (6, 8), (12, 14), (18, 20), (24, 26)],
        };
        for &(a, b) in pieces {
            legend_area.draw(&PathElement::new(vec![(x + a, y), (x + b, y)], line))?;
        }
        legend_area.draw(&Text::new(
            name.clone(),
            (x + 36, y - 8),
            ("sans-serif", 17),
        ))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wiring_has_one_colour_in_every_figure_and_its_variants_are_dashed() {
        let a = style(&["plain", "residual", "pre-norm", "post-norm"]);
        let b = style(&[
            "pre-norm, no warmup",
            "pre-norm, warmup",
            "post-norm, no warmup",
            "chance (ln 10)",
        ]);
        let c = style(&[
            "skip",
            "no skip",
            "no skip, no norm",
            "with residuals",
            "without residuals",
        ]);
        assert_eq!([a[2].color, a[3].color], [b[0].color, b[2].color]);
        assert_eq!((a[1].color, c[0].color, c[3].color), (RESIDUAL, RESIDUAL, RESIDUAL));
        assert_eq!((a[0].color, c[1].color, c[4].color), (PLAIN, PLAIN, PLAIN));
        assert_eq!(
            [b[0].line, b[1].line, b[3].line],
            [Line::Solid, Line::Dashed, Line::Dashed]
        );
        assert_eq!(b[3].color, REFERENCE);
        assert_eq!((c[2].color, c[2].line), (PLAIN, Line::Dashed));
        let three =
            style(&["pre-norm, zero_init", "pre-norm, rezero", "pre-norm, default init"]);
        assert_eq!(
            three.iter().map(|s| s.line).collect::<Vec<_>>(),
            [Line::Solid, Line::Dashed, Line::Dotted]
        );
        assert_eq!(style(&["add params", "concat params"])[1].color, CONCAT);
    }

    #[test]
    fn depth_axes_are_labelled_with_powers_of_two_and_others_with_round_numbers() {
        let depth = ticks(-0.1, 256f64.log10() + 0.1, true, true);
        let labels: Vec<String> = depth.iter().map(|&v| label(v, true)).collect();
        assert_eq!(labels, ["1", "2", "4", "8", "16", "32", "64", "128", "256"]);
        let decades: Vec<String> =
            ticks(-40.0, 1.0, true, false).iter().map(|&v| label(v, true)).collect();
        assert_eq!(decades, ["1e-40", "1e-30", "1e-20", "1e-10", "1"]);
        let linear: Vec<String> =
            ticks(-0.05, 1.05, false, false).iter().map(|&v| label(v, false)).collect();
        assert_eq!(linear, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
    }
}
