//! The book's three schematics, drawn by a run like every other figure: a
//! residual block, pre-norm against post-norm, and a pre-norm encoder layer
//! with its residual stream.
//!
//! Run with `cargo run --release -p lab --example 00_schematics`.
//!
//! It writes `schematic_residual_block.svg`, `schematic_pre_post_norm.svg`
//! and `schematic_encoder_layer.svg` into `book/src/figures/`, or into
//! `target/figures-quick/` with `--quick`. The colours are the charts'
//! (`lab::palette`): the skip and the residual stream blue, a pre-norm's
//! norm green, a post-norm's orange, a branch dark grey.

use lab::palette::{OTHER, POST_NORM, PRE_NORM, RESIDUAL};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;
/// A function that draws one schematic into the SVG file at its path.
type Schematic = fn(&Path) -> Res;

/// As wide as the charts and the book's text column.
const WIDTH: u32 = 750;
/// plotters' SVG backend writes 1/1.24 of the size asked for: 16 px.
const FONT: f64 = 20.0;
/// 14.5 px, for notes and formulas.
const SMALL: f64 = 18.0;
/// 17.7 px, for titles.
const TITLE: f64 = 22.0;
/// A branch's layers: dark grey.
const BRANCH: RGBColor = OTHER[3];
/// Text that names no wiring.
const INK: RGBColor = RGBColor(30, 30, 30);
/// The radius of a join, ⊕.
const R: i32 = 14;

/// A box on the canvas: its centre and half sizes, to attach arrows to.
#[derive(Clone, Copy)]
struct Node {
    x: i32,
    y: i32,
    half_w: i32,
    half_h: i32,
}

impl Node {
    fn top(self) -> (i32, i32) {
        (self.x, self.y - self.half_h)
    }
    fn bottom(self) -> (i32, i32) {
        (self.x, self.y + self.half_h)
    }
    fn left(self) -> (i32, i32) {
        (self.x - self.half_w, self.y)
    }
    fn right(self) -> (i32, i32) {
        (self.x + self.half_w, self.y)
    }
}

/// `color` mixed with white, for a box's fill.
fn tint(color: RGBColor) -> RGBColor {
    let mix = |c: u8| (255.0 - 0.12 * (255.0 - c as f64)).round() as u8;
    RGBColor(mix(color.0), mix(color.1), mix(color.2))
}

/// Writes `s` centred at `at` (or starting, or ending there, by `h`).
fn text(area: &Area, s: &str, at: (i32, i32), size: f64, hue: RGBColor, h: HPos) -> Res {
    let anchor = Pos::new(h, VPos::Center);
    let style = ("sans-serif", size).into_font().color(&hue).pos(anchor);
    area.draw(&Text::new(s.to_string(), at, style))?;
    Ok(())
}

/// Draws `label` in a box centred at (x, y), outlined in `color` on a pale
/// tint of it and as wide as the label needs; returns the box.
fn boxed(area: &Area, label: &str, x: i32, y: i32, color: RGBColor) -> Res<Node> {
    let half_w = (label.chars().count() as i32 * 10 + 28).max(76) / 2;
    let node = Node { x, y, half_w, half_h: 20 };
    let corners = [(x - half_w, y - node.half_h), (x + half_w, y + node.half_h)];
    area.draw(&Rectangle::new(corners, tint(color).filled()))?;
    area.draw(&Rectangle::new(corners, color.stroke_width(2)))?;
    text(area, label, (x, y), FONT, INK, HPos::Center)?;
    Ok(node)
}

/// Draws a line through the points of `path`, with no arrowhead.
fn line(area: &Area, path: &[(i32, i32)], color: RGBColor) -> Res {
    area.draw(&PathElement::new(path.to_vec(), color.stroke_width(3)))?;
    Ok(())
}

/// Draws a line through the points of `path` with an arrowhead at its last
/// point: from the first point to the last, through the corners between.
fn arrow(area: &Area, path: &[(i32, i32)], color: RGBColor) -> Res {
    let (tip, before) = (path[path.len() - 1], path[path.len() - 2]);
    let (dx, dy) = ((tip.0 - before.0) as f64, (tip.1 - before.1) as f64);
    let (ux, uy) = (dx / dx.hypot(dy), dy / dx.hypot(dy));
    let (long, wide) = (13.0, 6.5);
    let at = |back: f64, side: f64| {
        let x = tip.0 as f64 - back * ux - side * uy;
        let y = tip.1 as f64 - back * uy + side * ux;
        (x.round() as i32, y.round() as i32)
    };
    // The line stops inside the head, so its end does not show past the tip.
    let mut shaft = path.to_vec();
    *shaft.last_mut().expect("a path has two points") = at(long - 2.0, 0.0);
    line(area, &shaft, color)?;
    let head = vec![tip, at(long, wide), at(long, -wide)];
    area.draw(&Polygon::new(head, color.filled()))?;
    Ok(())
}

/// Draws a join, ⊕: the element-wise addition where a skip meets a branch.
fn plus(area: &Area, (x, y): (i32, i32)) -> Res {
    area.draw(&Circle::new((x, y), R, WHITE.filled()))?;
    area.draw(&Circle::new((x, y), R, RESIDUAL.stroke_width(3)))?;
    line(area, &[(x - 8, y), (x + 8, y)], RESIDUAL)?;
    line(area, &[(x, y - 8), (x, y + 8)], RESIDUAL)
}

/// Draws a fork: the dot where a branch leaves the skip path.
fn fork(area: &Area, at: (i32, i32)) -> Res {
    area.draw(&Circle::new(at, 5, RESIDUAL.filled()))?;
    Ok(())
}

/// A white SVG canvas of the book's width, `height` pixels high.
fn canvas(path: &Path, height: u32) -> Res<Area<'_>> {
    let area = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    area.fill(&WHITE)?;
    Ok(area)
}

// ANCHOR: residual_block
/// y = x + F(x), left to right: the branch F is Linear → ReLU → Linear, and
/// the skip carries x around it, unchanged, to the ⊕.
fn residual_block(path: &Path) -> Res {
    let area = canvas(path, 250)?;
    let title = "A residual block: y = x + F(x)";
    text(&area, title, (375, 24), TITLE, INK, HPos::Center)?;
    let (main, above) = (160, 76); // the branch's row, the skip's row

    // The input, and the fork where the skip leaves it.
    text(&area, "x", (30, main), FONT, INK, HPos::Center)?;
    line(&area, &[(42, main), (86, main)], BRANCH)?;
    fork(&area, (86, main))?;

    // The branch F: three layers in a dashed frame, its output to the ⊕.
    let first = boxed(&area, "Linear", 200, main, BRANCH)?;
    let relu = boxed(&area, "ReLU", 335, main, BRANCH)?;
    let second = boxed(&area, "Linear", 470, main, BRANCH)?;
    arrow(&area, &[(86, main), first.left()], BRANCH)?;
    arrow(&area, &[first.right(), relu.left()], BRANCH)?;
    arrow(&area, &[relu.right(), second.left()], BRANCH)?;
    let join = (615, main);
    arrow(&area, &[second.right(), (join.0 - R, main)], BRANCH)?;
    text(&area, "F(x)", (563, main - 16), SMALL, INK, HPos::Center)?;
    let frame = [(140, 122), (530, 122), (530, 198), (140, 198), (140, 122)];
    area.draw(&DashedPathElement::new(frame, 6, 5, BRANCH.stroke_width(1)))?;
    text(&area, "the branch F", (335, 218), SMALL, BRANCH, HPos::Center)?;

    // The skip: up from the fork, over the branch, down into the ⊕.
    let around = [(86, main), (86, above), (join.0, above), (join.0, main - R)];
    arrow(&area, &around, RESIDUAL)?;
    let note = "the skip: x, unchanged (an identity shortcut)";
    text(&area, note, (350, above - 16), SMALL, RESIDUAL, HPos::Center)?;

    // The join and the output.
    plus(&area, join)?;
    arrow(&area, &[(join.0 + R, main), (690, main)], RESIDUAL)?;
    text(&area, "y", (708, main), FONT, INK, HPos::Center)?;
    area.present()?;
    Ok(())
}
// ANCHOR_END: residual_block

// ANCHOR: pre_post_norm
/// Pre-norm (left) against post-norm (right), top to bottom. Pre-norm: the
/// branch is LN → F and the skip bypasses both. Post-norm: the branch is F,
/// and the LN stands on the stream after the ⊕.
fn pre_post_norm(path: &Path) -> Res {
    let area = canvas(path, 440)?;
    let (left, right) = area.split_horizontally(375);
    pre_norm(&left)?;
    post_norm(&right)?;
    let divider = BRANCH.mix(0.4).stroke_width(1);
    area.draw(&PathElement::new([(375, 20), (375, 420)], divider))?;
    area.present()?;
    Ok(())
}

/// The stream's column in each half.
const STREAM: i32 = 110;
/// The branch's column in each half.
const SIDE: i32 = 265;

/// A half's title, formula, input and fork; returns the fork.
fn half_top(area: &Area, title: &str, formula: &str, color: RGBColor) -> Res<(i32, i32)> {
    text(area, title, (187, 26), TITLE, color, HPos::Center)?;
    text(area, formula, (187, 56), SMALL, INK, HPos::Center)?;
    text(area, "x", (STREAM, 92), FONT, INK, HPos::Center)?;
    line(area, &[(STREAM, 104), (STREAM, 130)], RESIDUAL)?;
    fork(area, (STREAM, 130))?;
    Ok((STREAM, 130))
}

/// A half's output arrow from `from` to y, and its note at the bottom.
fn half_bottom(area: &Area, from: (i32, i32), note: &str, color: RGBColor) -> Res {
    arrow(area, &[from, (STREAM, 368)], RESIDUAL)?;
    text(area, "y", (STREAM, 384), FONT, INK, HPos::Center)?;
    text(area, note, (187, 418), SMALL, color, HPos::Center)
}

/// Pre-norm: y = x + F(LN(x)).
fn pre_norm(area: &Area) -> Res {
    let split = half_top(area, "pre-norm", "y = x + F(LN(x))", PRE_NORM)?;
    // The branch: across to LN, down through F, back to the ⊕.
    let norm = boxed(area, "LN", SIDE, 180, PRE_NORM)?;
    let f = boxed(area, "F", SIDE, 250, BRANCH)?;
    arrow(area, &[split, (SIDE, split.1), norm.top()], BRANCH)?;
    arrow(area, &[norm.bottom(), f.top()], BRANCH)?;
    let join = (STREAM, 316);
    arrow(area, &[f.bottom(), (SIDE, join.1), (STREAM + R, join.1)], BRANCH)?;
    // The skip: straight down, past the norm and F.
    arrow(area, &[split, (STREAM, join.1 - R)], RESIDUAL)?;
    text(area, "skip", (STREAM - 14, 223), SMALL, RESIDUAL, HPos::Right)?;
    plus(area, join)?;
    half_bottom(area, (STREAM, join.1 + R), "nothing but ⊕ on the stream", PRE_NORM)
}

/// Post-norm ("Add & Norm"): y = LN(x + F(x)).
fn post_norm(area: &Area) -> Res {
    let title = "post-norm (Add & Norm)";
    let split = half_top(area, title, "y = LN(x + F(x))", POST_NORM)?;
    // The branch: across to F and back to the ⊕.
    let f = boxed(area, "F", SIDE, 190, BRANCH)?;
    arrow(area, &[split, (SIDE, split.1), f.top()], BRANCH)?;
    let join = (STREAM, 250);
    arrow(area, &[f.bottom(), (SIDE, join.1), (STREAM + R, join.1)], BRANCH)?;
    // The skip: down into the ⊕, which comes before the norm.
    arrow(area, &[split, (STREAM, join.1 - R)], RESIDUAL)?;
    text(area, "skip", (STREAM - 14, 190), SMALL, RESIDUAL, HPos::Right)?;
    plus(area, join)?;
    // The norm, on the stream itself.
    let norm = boxed(area, "LN", STREAM, 312, POST_NORM)?;
    arrow(area, &[(STREAM, join.1 + R), norm.top()], RESIDUAL)?;
    text(area, "on the stream", (STREAM + 50, 312), SMALL, POST_NORM, HPos::Left)?;
    half_bottom(area, norm.bottom(), "an LN on the stream in every block", POST_NORM)
}
// ANCHOR_END: pre_post_norm

// ANCHOR: encoder_layer
/// A pre-norm encoder layer, top to bottom: the residual stream runs
/// straight from x to y, and two branches, LN → attention and LN →
/// feed-forward, leave it and add back into it.
fn encoder_layer(path: &Path) -> Res {
    let area = canvas(path, 580)?;
    let title = "A pre-norm encoder layer and its residual stream";
    text(&area, title, (375, 26), TITLE, INK, HPos::Center)?;
    let (stream, side) = (250, 510); // the stream's column, the branches'

    // The input.
    text(&area, "x   (B, T, C)", (stream, 66), FONT, INK, HPos::Center)?;
    line(&area, &[(stream, 80), (stream, 110)], RESIDUAL)?;

    // Each sublayer: a fork on the stream, a branch LN → layer beside it,
    // and a ⊕ where the branch adds back into the stream.
    let sublayers = [
        (110, "LN₁", "multi-head attention (SA)", 270, "x₁ = x + SA(LN₁(x))"),
        (330, "LN₂", "feed-forward (FF)", 490, "y = x₁ + FF(LN₂(x₁))"),
    ];
    for (top, norm, layer, join, formula) in sublayers {
        fork(&area, (stream, top))?;
        let n = boxed(&area, norm, side, top + 40, PRE_NORM)?;
        let l = boxed(&area, layer, side, top + 105, BRANCH)?;
        arrow(&area, &[(stream, top), (side, top), n.top()], BRANCH)?;
        arrow(&area, &[n.bottom(), l.top()], BRANCH)?;
        arrow(&area, &[l.bottom(), (side, join), (stream + R, join)], BRANCH)?;
        arrow(&area, &[(stream, top), (stream, join - R)], RESIDUAL)?;
        plus(&area, (stream, join))?;
        text(&area, formula, (stream - 26, join), SMALL, INK, HPos::Right)?;
    }
    line(&area, &[(stream, 270 + R), (stream, 330)], RESIDUAL)?;

    // The stream's label, and the output.
    text(&area, "residual stream", (stream - 18, 180), FONT, RESIDUAL, HPos::Right)?;
    text(&area, "no norm on it", (stream - 18, 202), SMALL, RESIDUAL, HPos::Right)?;
    arrow(&area, &[(stream, 490 + R), (stream, 536)], RESIDUAL)?;
    text(&area, "y   (B, T, C)", (stream, 556), FONT, INK, HPos::Center)?;
    area.present()?;
    Ok(())
}
// ANCHOR_END: encoder_layer

fn main() -> Res {
    let dir = lab::out_dir(lab::quick_flag());
    std::fs::create_dir_all(&dir)?;
    let schematics: [(&str, Schematic); 3] = [
        ("schematic_residual_block.svg", residual_block),
        ("schematic_pre_post_norm.svg", pre_post_norm),
        ("schematic_encoder_layer.svg", encoder_layer),
    ];
    for (file, draw) in schematics {
        let path = dir.join(file);
        draw(&path)?;
        println!("wrote {}", lab::shown(&path));
    }
    Ok(())
}
