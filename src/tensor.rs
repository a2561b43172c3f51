//! Tensors: a flat `Vec<f32>` in row-major order plus a [`Shape`].
//!
//! A `Tensor` is a plain value. It knows nothing about gradients; the
//! [`Tape`](crate::Tape) records operations on tensors and differentiates them.

use crate::kernels::pool;
use crate::rng::Rng;
use crate::shape::{Shape, assert_same_shape};
use std::fmt;

// ANCHOR: tensor
/// A dense, contiguous, row-major array of `f32`.
///
/// ```
/// use resgrad::Tensor;
/// let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
/// assert_eq!(t.get(&[1, 0]), 4.0);
/// assert_eq!(
///     t.to_string(),
///     "tensor([[1., 2., 3.],\n        [4., 5., 6.]], shape=[2, 3])"
/// );
/// ```
pub struct Tensor {
    data: Vec<f32>,
    shape: Shape,
    /// The buffer came from the [`pool`] and goes back to it when dropped.
    /// Buffers from elsewhere (`from_vec`) are freed as usual, so that the
    /// pool holds only what its own users asked for and cannot grow step
    /// after step.
    pooled: bool,
}
// ANCHOR_END: tensor

impl Tensor {
    /// A tensor from row-major data. Panics if `data.len()` is not the
    /// number of elements the shape holds.
    #[track_caller]
    pub fn from_vec(data: Vec<f32>, shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        if data.len() != shape.numel() {
            panic!(
                "Tensor::from_vec: {} values cannot fill shape {shape}, which holds {}\n  \
                 pass exactly {} values, or a shape whose dimensions multiply to {}",
                data.len(),
                shape.numel(),
                shape.numel(),
                data.len()
            );
        }
        Tensor { data, shape, pooled: false }
    }

    /// A rank-0 tensor holding one value.
    pub fn scalar(value: f32) -> Tensor {
        Tensor { data: vec![value], shape: Shape::scalar(), pooled: false }
    }

    /// Every element set to `value`.
    pub fn full(shape: impl Into<Shape>, value: f32) -> Tensor {
        let shape = shape.into();
        Tensor { data: pool::filled(shape.numel(), value), shape, pooled: true }
    }

    /// A tensor whose every element the caller is about to overwrite (a
    /// kernel's output): its buffer may be reused from the [`pool`] without
    /// being cleared, so reading an element before writing it gives a stale
    /// value.
    pub(crate) fn for_overwrite(shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        Tensor { data: pool::stale(shape.numel()), shape, pooled: true }
    }

    /// Every element 0.
    pub fn zeros(shape: impl Into<Shape>) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// Every element 1.
    pub fn ones(shape: impl Into<Shape>) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// Samples drawn uniformly from `[lo, hi)`.
    pub fn uniform(shape: impl Into<Shape>, lo: f32, hi: f32, rng: &mut Rng) -> Tensor {
        let shape = shape.into();
        let data = (0..shape.numel()).map(|_| rng.uniform_in(lo, hi)).collect();
        Tensor { data, shape, pooled: false }
    }

    /// Samples drawn from a normal distribution with the given mean and
    /// standard deviation.
    pub fn normal(shape: impl Into<Shape>, mean: f32, std: f32, rng: &mut Rng) -> Tensor {
        let shape = shape.into();
        let data = (0..shape.numel()).map(|_| mean + std * rng.normal()).collect();
        Tensor { data, shape, pooled: false }
    }

    /// The `n x n` identity matrix.
    pub fn eye(n: usize) -> Tensor {
        let mut t = Tensor::zeros([n, n]);
        for i in 0..n {
            t.data[i * n + i] = 1.0;
        }
        t
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The elements in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The elements in row-major order, writable.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// The element storage, giving up the shape.
    pub fn into_vec(mut self) -> Vec<f32> {
        std::mem::take(&mut self.data)
    }

    // ANCHOR: offset
    /// The flat (row-major) position of a multi-index. Panics with the index
    /// and the shape if the index has the wrong length or is out of range.
    #[track_caller]
    pub fn offset(&self, index: &[usize]) -> usize {
        if index.len() != self.shape.rank() {
            panic!(
                "index {index:?} has {} coordinates \
                 but the tensor has shape {} (rank {})",
                index.len(),
                self.shape,
                self.shape.rank()
            );
        }
        let mut offset = 0;
        for (axis, (&i, &d)) in index.iter().zip(self.shape.dims()).enumerate() {
            if i >= d {
                panic!(
                    "index {index:?} is out of range for shape {}: \
                     axis {axis} has size {d}",
                    self.shape
                );
            }
            offset = offset * d + i;
        }
        offset
    }
    // ANCHOR_END: offset

    /// The element at a multi-index.
    #[track_caller]
    pub fn get(&self, index: &[usize]) -> f32 {
        self.data[self.offset(index)]
    }

    /// Sets the element at a multi-index.
    #[track_caller]
    pub fn set(&mut self, index: &[usize], value: f32) {
        let at = self.offset(index);
        self.data[at] = value;
    }

    /// The single value of a one-element tensor (a scalar loss, say).
    #[track_caller]
    pub fn item(&self) -> f32 {
        if self.data.len() != 1 {
            panic!(
                "item: the tensor has shape {} ({} elements); item() needs exactly one element",
                self.shape,
                self.data.len()
            );
        }
        self.data[0]
    }

    /// The same data under a new shape with the same number of elements.
    #[track_caller]
    pub fn reshape(mut self, shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        if shape.numel() != self.data.len() {
            panic!(
                "reshape: cannot view shape {} ({} elements) as {shape} ({} elements)\n  \
                 a reshape keeps every element, so both shapes must hold the same number",
                self.shape,
                self.data.len(),
                shape.numel()
            );
        }
        Tensor { data: std::mem::take(&mut self.data), shape, pooled: self.pooled }
    }

    /// A new tensor with `f` applied to every element.
    pub fn map(&self, f: impl Fn(f32) -> f32) -> Tensor {
        let mut data = pool::stale(self.data.len());
        data.iter_mut().zip(&self.data).for_each(|(y, &x)| *y = f(x));
        Tensor { data, shape: self.shape.clone(), pooled: true }
    }

    /// A new tensor with `f` applied to matching elements of `self` and
    /// `other`, which must have the same shape.
    #[track_caller]
    pub fn zip_map(&self, other: &Tensor, f: impl Fn(f32, f32) -> f32) -> Tensor {
        assert_same_shape("zip_map", &self.shape, &other.shape);
        let mut data = pool::stale(self.data.len());
        for (y, (&a, &b)) in data.iter_mut().zip(self.data.iter().zip(&other.data)) {
            *y = f(a, b);
        }
        Tensor { data, shape: self.shape.clone(), pooled: true }
    }

    /// The largest absolute difference to `other` (same shape), handy in tests.
    #[track_caller]
    pub fn max_abs_diff(&self, other: &Tensor) -> f32 {
        assert_same_shape("max_abs_diff", &self.shape, &other.shape);
        self.data.iter().zip(&other.data).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()))
    }

    /// The Euclidean (Frobenius) norm, accumulated in f64.
    pub fn norm(&self) -> f32 {
        self.data.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>().sqrt() as f32
    }
}

// ANCHOR: tensor_drop
impl Clone for Tensor {
    fn clone(&self) -> Tensor {
        let mut data = pool::stale(self.data.len());
        data.copy_from_slice(&self.data);
        Tensor { data, shape: self.shape.clone(), pooled: true }
    }
}

/// A dropped tensor hands its buffer to the [`pool`] for the next tensor
/// that fits it.
impl Drop for Tensor {
    fn drop(&mut self) {
        if self.pooled {
            pool::give(std::mem::take(&mut self.data));
        }
    }
}

/// Equal shapes and equal elements (where the buffer came from does not matter).
impl PartialEq for Tensor {
    fn eq(&self, other: &Tensor) -> bool {
        self.shape == other.shape && self.data == other.data
    }
}
// ANCHOR_END: tensor_drop

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

// ---------------------------------------------------------------------------
// Printing, after PyTorch's `torch._tensor_str`: 4 digits after the point;
// integers print as `1.`; scientific notation when the values span more than
// three orders of magnitude, exceed 1e8, or go below 1e-4; one common width so
// columns line up; lines wrapped at 80 characters; tensors of more than 1000
// elements summarised with the first and last 3 items of each axis. Unlike
// PyTorch, the shape is always appended, since shapes are what go wrong.
// ---------------------------------------------------------------------------

const PRECISION: usize = 4;
const THRESHOLD: usize = 1000;
const EDGE_ITEMS: usize = 3;
const LINE_WIDTH: usize = 80;

enum Mode {
    Int,
    Fixed,
    Sci,
}

struct Formatter {
    mode: Mode,
    width: usize,
}

impl Formatter {
    fn new(values: &[f32]) -> Formatter {
        // As in PyTorch, the mode and the column width come from the nonzero
        // finite values only; zeros, `nan` and `inf` are padded to that width.
        let finite: Vec<f32> =
            values.iter().copied().filter(|x| x.is_finite() && *x != 0.0).collect();
        let mut fmt = Formatter { mode: Mode::Int, width: 1 };
        if finite.is_empty() {
            return fmt; // only zeros and non-finite values: `0.`, `nan`, `inf`
        }
        let max = finite.iter().fold(0.0f64, |m, &x| m.max(x.abs() as f64));
        let min = finite.iter().fold(f64::INFINITY, |m, &x| m.min(x.abs() as f64));
        let all_int = finite.iter().all(|x| x.fract() == 0.0);
        fmt.mode = if all_int {
            if max / min > 1000.0 || max > 1e8 { Mode::Sci } else { Mode::Int }
        } else if max / min > 1000.0 || max > 1e8 || min < 1e-4 {
            Mode::Sci
        } else {
            Mode::Fixed
        };
        fmt.width = finite.iter().map(|&v| fmt.raw(v).len()).max().unwrap_or(1);
        fmt
    }

    fn raw(&self, v: f32) -> String {
        if v.is_nan() {
            return "nan".into();
        }
        if v.is_infinite() {
            return if v > 0.0 { "inf".into() } else { "-inf".into() };
        }
        match self.mode {
            Mode::Int => format!("{v:.0}."),
            Mode::Fixed => format!("{v:.PRECISION$}"),
            Mode::Sci => python_sci(v),
        }
    }

    fn format(&self, v: f32) -> String {
        format!("{:>width$}", self.raw(v), width = self.width)
    }
}

/// Python's `{:.4e}`: `1.2346e+02`, with a signed, at least two-digit exponent.
fn python_sci(v: f32) -> String {
    let s = format!("{v:.PRECISION$e}");
    let (mantissa, exp) = s.split_once('e').expect("`{:e}` always writes an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// Row-major indices kept when summarising an axis of length `n`.
fn kept(n: usize, summarize: bool) -> Vec<Option<usize>> {
    if summarize && n > 2 * EDGE_ITEMS {
        let mut v: Vec<Option<usize>> = (0..EDGE_ITEMS).map(Some).collect();
        v.push(None); // the `...`
        v.extend((n - EDGE_ITEMS..n).map(Some));
        v
    } else {
        (0..n).map(Some).collect()
    }
}

fn collect_shown(t: &Tensor, summarize: bool) -> Vec<f32> {
    fn walk(t: &Tensor, axis: usize, offset: usize, summarize: bool, out: &mut Vec<f32>) {
        if axis == t.shape.rank() {
            out.push(t.data[offset]);
            return;
        }
        let stride: usize = t.shape.dims()[axis + 1..].iter().product();
        for i in kept(t.shape.dims()[axis], summarize).into_iter().flatten() {
            walk(t, axis + 1, offset + i * stride, summarize, out);
        }
    }
    let mut out = Vec::new();
    walk(t, 0, 0, summarize, &mut out);
    out
}

fn tensor_str(
    t: &Tensor,
    fmt: &Formatter,
    axis: usize,
    offset: usize,
    indent: usize,
    summarize: bool,
) -> String {
    let dims = t.shape.dims();
    let rank = dims.len();
    let stride: usize = dims[axis + 1..].iter().product();
    let items = kept(dims[axis], summarize);
    if axis + 1 == rank {
        let per_line = ((LINE_WIDTH.saturating_sub(indent)) / (fmt.width + 2)).max(1);
        let cells: Vec<String> = items
            .iter()
            .map(|i| match i {
                Some(i) => fmt.format(t.data[offset + i]),
                None => " ...".to_string(),
            })
            .collect();
        let lines: Vec<String> = cells.chunks(per_line).map(|c| c.join(", ")).collect();
        return format!("[{}]", lines.join(&format!(",\n{}", " ".repeat(indent + 1))));
    }
    let parts: Vec<String> = items
        .iter()
        .map(|i| match i {
            Some(i) => {
                tensor_str(t, fmt, axis + 1, offset + i * stride, indent + 1, summarize)
            }
            None => "...".to_string(),
        })
        .collect();
    let sep = format!(",{}{}", "\n".repeat(rank - axis - 1), " ".repeat(indent + 1));
    format!("[{}]", parts.join(&sep))
}

impl fmt::Display for Tensor {
    /// Prints the way PyTorch does, followed by the shape:
    /// `tensor([0.5000, 1.2500], shape=[2])`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = "tensor(";
        let body = if self.data.is_empty() {
            "[]".to_string()
        } else {
            let summarize = self.data.len() > THRESHOLD;
            let formatter = Formatter::new(&collect_shown(self, summarize));
            if self.shape.rank() == 0 {
                formatter.raw(self.data[0])
            } else {
                tensor_str(self, &formatter, 0, 0, prefix.len(), summarize)
            }
        };
        let suffix = format!("shape={}", self.shape);
        // PyTorch's `_add_suffixes` rule, including its count of two
        // characters more than the last line holds.
        let last_line = match body.rfind('\n') {
            Some(i) => body.len() - i - 1,
            None => prefix.len() + body.len(),
        } + 2;
        if last_line + suffix.len() + 2 > LINE_WIDTH {
            write!(f, "{prefix}{body},\n{}{suffix})", " ".repeat(prefix.len()))
        } else {
            write!(f, "{prefix}{body}, {suffix})")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_vec_checks_the_element_count() {
        let r = std::panic::catch_unwind(|| Tensor::from_vec(vec![1.0; 5], [2, 3]));
        let msg = *r.unwrap_err().downcast::<String>().unwrap();
        assert!(
            msg.contains("5 values cannot fill shape [2, 3], which holds 6"),
            "{msg}"
        );
    }

    #[test]
    fn get_and_set_use_row_major_order() {
        let mut t = Tensor::zeros([2, 3, 4]);
        t.set(&[1, 2, 3], 7.0);
        assert_eq!(t.data()[12 + 8 + 3], 7.0);
        assert_eq!(t.get(&[1, 2, 3]), 7.0);
    }

    #[test]
    fn seeded_constructors_repeat_bit_for_bit() {
        let a = Tensor::normal([3, 4], 0.0, 1.0, &mut Rng::new(5));
        let b = Tensor::normal([3, 4], 0.0, 1.0, &mut Rng::new(5));
        assert_eq!(a.data(), b.data());
        let u = Tensor::uniform([100], -2.0, 3.0, &mut Rng::new(5));
        assert!(u.data().iter().all(|x| (-2.0..3.0).contains(x)));
    }

    // ANCHOR: display_tests
    #[test]
    fn display_matches_pytorch_fixed_point() {
        let t = Tensor::from_vec(vec![0.5, -1.25, 1.23456, 2.0], [2, 2]);
        assert_eq!(
            t.to_string(),
            "tensor([[ 0.5000, -1.2500],\n        [ 1.2346,  2.0000]], shape=[2, 2])"
        );
    }

    #[test]
    fn display_matches_pytorch_scientific_and_scalar() {
        let t = Tensor::from_vec(vec![1e-5, 1.0], [2]);
        assert_eq!(t.to_string(), "tensor([1.0000e-05, 1.0000e+00], shape=[2])");
        assert_eq!(Tensor::scalar(3.0).to_string(), "tensor(3., shape=[])");
        assert_eq!(Tensor::scalar(0.25).to_string(), "tensor(0.2500, shape=[])");
    }

    #[test]
    fn display_separates_matrices_of_a_3d_tensor_with_a_blank_line() {
        let t = Tensor::from_vec((0..8).map(|x| x as f32).collect(), [2, 2, 2]);
        assert_eq!(
            t.to_string(),
            "tensor([[[0., 1.],\n         [2., 3.]],\n\n        \
             [[4., 5.],\n         [6., 7.]]], shape=[2, 2, 2])"
        );
    }
    // ANCHOR_END: display_tests

    #[test]
    fn display_pads_to_the_width_of_the_nonzero_finite_values_only() {
        let t = Tensor::from_vec(vec![1.0, f32::NEG_INFINITY, 1.0, 1.0], [2, 2]);
        assert_eq!(
            t.to_string(),
            "tensor([[1., -inf],\n        [1., 1.]], shape=[2, 2])"
        );
        let t = Tensor::from_vec(vec![0.0, f32::NAN], [2]);
        assert_eq!(t.to_string(), "tensor([0., nan], shape=[2])");
    }

    #[test]
    fn the_shape_goes_on_its_own_line_only_when_the_last_line_is_full() {
        // Last line "        [ 6.5000, ..., 11.5000]]" is 63 characters: the suffix fits.
        let t = Tensor::from_vec((0..12).map(|x| x as f32 + 0.5).collect(), [2, 6]);
        assert!(t.to_string().ends_with("11.5000]], shape=[2, 6])"), "{t}");
        // One line of 63 characters: 63 + 2 + 12 + 2 <= 80, so the shape follows it.
        let t = Tensor::from_vec((0..7).map(|x| x as f32 + 0.5).collect(), [7]);
        assert!(t.to_string().ends_with("6.5000], shape=[7])"), "{t}");
        // One line of 71 characters: 71 + 2 + 12 + 2 > 80, so the shape wraps.
        let t = Tensor::from_vec((0..8).map(|x| x as f32 + 0.5).collect(), [8]);
        assert!(t.to_string().ends_with("7.5000],\n       shape=[8])"), "{t}");
    }

    #[test]
    fn display_summarises_large_tensors() {
        let t = Tensor::from_vec((1000..3000).map(|x| x as f32).collect(), [2000]);
        assert_eq!(
            t.to_string(),
            "tensor([1000., 1001., 1002.,  ..., 2997., 2998., 2999.], shape=[2000])"
        );
        // Values spanning more than three orders of magnitude switch to e-notation.
        let t = Tensor::from_vec((0..2000).map(|x| x as f32).collect(), [2000]);
        assert!(t.to_string().starts_with("tensor([0.0000e+00, 1.0000e+00,"), "{t}");
    }

    #[test]
    fn display_wraps_long_rows_at_80_columns() {
        let t = Tensor::from_vec((0..20).map(|x| x as f32 + 0.5).collect(), [20]);
        let s = t.to_string();
        assert!(s.lines().all(|l| l.len() <= 80), "{s}");
        assert!(s.starts_with("tensor([ 0.5000,  1.5000,"), "{s}");
        assert_eq!(s.lines().count(), 3, "{s}");
    }
}
