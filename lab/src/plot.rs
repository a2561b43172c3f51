//! Line charts as SVG, with `plotters`.

use crate::Figure;
use plotters::prelude::*;
use std::path::Path;

const COLORS: [RGBColor; 6] = [
    RGBColor(200, 60, 50),
    RGBColor(40, 110, 190),
    RGBColor(40, 150, 80),
    RGBColor(150, 80, 170),
    RGBColor(220, 140, 30),
    RGBColor(90, 90, 90),
];

/// Draws a line chart as SVG, with the legend in two columns below the plot.
///
/// The chart is as wide as the book's text column (750 px), so it is shown at
/// its natural size on a wide screen, and its text is large enough to stay
/// legible when a phone shrinks it to half that. The legend sits below the
/// plot, where it never covers a curve and a long series name has room.
///
/// A log axis is drawn as a linear axis over log10 of the values, labelled
/// with powers of ten: it stays readable over the 40 decades a vanishing
/// gradient spans. Points with a non-positive coordinate on a log axis are
/// left out (they cannot be placed; the tables keep them).
pub fn draw(figure: &Figure, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let tx = |v: f64| if figure.log_x { v.log10() } else { v };
    let ty = |v: f64| if figure.log_y { v.log10() } else { v };
    let keep = |&(x, y): &(f64, f64)| {
        x.is_finite() && y.is_finite() && (!figure.log_x || x > 0.0) && (!figure.log_y || y > 0.0)
    };
    let series: Vec<(String, Vec<(f64, f64)>)> = figure
        .series
        .iter()
        .map(|s| {
            (s.name.clone(), s.points.iter().copied().filter(keep).map(|(x, y)| (tx(x), ty(y))).collect())
        })
        .collect();
    let all: Vec<(f64, f64)> = series.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    let range = |vals: Vec<f64>| {
        let (mut lo, mut hi) =
            vals.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
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
    let label = |log: bool| {
        move |v: &f64| {
            if !log {
                let v = if v.abs() < 1e-9 { 0.0 } else { *v }; // no "-0"
                let s = format!("{v:.3}");
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                // Two significant digits, so that a tick between decades is
                // labelled truly: 10^0.2 prints as 1.6, 10^-7 as 1e-7.
                let rounded: f64 = format!("{:.1e}", 10f64.powf(*v)).parse().unwrap_or(f64::NAN);
                if (1e-3..1e5).contains(&rounded) { format!("{rounded}") } else { format!("{rounded:e}") }
            }
        }
    };
    let (x_fmt, y_fmt) = (label(figure.log_x), label(figure.log_y));

    // plotters' SVG backend writes a font size of 0.8 times the one asked
    // for: these give about 16 px for the title, 14 px for the axis labels
    // and the legend and 13 px for the tick labels.
    const WIDTH: u32 = 750;
    const PLOT_HEIGHT: u32 = 420;
    const LEGEND_ROW: i32 = 26;
    const LEGEND_COLUMN: i32 = 330;
    let rows = series.len().div_ceil(2) as u32;
    let legend_height = if series.is_empty() { 0 } else { 12 + LEGEND_ROW as u32 * rows };
    let root = SVGBackend::new(path, (WIDTH, PLOT_HEIGHT + legend_height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot_area, legend_area) = root.split_vertically(PLOT_HEIGHT);
    let y_label_area: i32 = 84;
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(&figure.title, ("sans-serif", 20))
        .margin(10)
        .margin_right(24)
        .x_label_area_size(54)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(&figure.x_label)
        .y_desc(&figure.y_label)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 17))
        .draw()?;
    for (i, (_, points)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart.draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?;
        if points.len() <= 40 {
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    for (i, (name, _)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let x = 10 + y_label_area + LEGEND_COLUMN * (i % 2) as i32;
        let y = 4 + LEGEND_ROW / 2 + LEGEND_ROW * (i / 2) as i32;
        legend_area.draw(&PathElement::new(vec![(x, y), (x + 28, y)], color.stroke_width(3)))?;
        legend_area.draw(&Text::new(name.clone(), (x + 36, y - 8), ("sans-serif", 17)))?;
    }
    root.present()?;
    Ok(())
}
