//! Shapes: a list of dimensions, row-major strides, and the checks every op
//! uses so that a shape mistake (or a bad `eps`) is reported the same way
//! everywhere.
//!
//! A [`Shape`] keeps up to four dimensions inline (a `SmallVec`), which covers
//! everything a transformer needs: `[B, H, T, D]`.

use smallvec::SmallVec;
use std::fmt;

// ANCHOR: shape
/// The dimensions of a tensor, outermost first (row-major).
///
/// A rank-0 shape `[]` describes a scalar and holds one element.
///
/// ```
/// use resgrad::Shape;
/// let s = Shape::from([2, 3, 4]);
/// assert_eq!(s.numel(), 24);
/// assert_eq!(s.strides().as_slice(), &[12, 4, 1]);
/// assert_eq!(s.to_string(), "[2, 3, 4]");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(SmallVec<[usize; 4]>);
// ANCHOR_END: shape

impl Shape {
    /// A shape from a slice of dimensions. Panics if the number of elements
    /// it holds cannot be counted in a `usize`.
    #[track_caller]
    pub fn new(dims: &[usize]) -> Shape {
        if dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_none() {
            panic!(
                "Shape: {dims:?} holds more elements than a usize can count (the product of \
                 the dimensions overflows)\n  check each dimension: a negative number cast to \
                 usize, or sizes multiplied twice, give values like these"
            );
        }
        Shape(SmallVec::from_slice(dims))
    }

    /// The rank-0 shape of a scalar.
    pub fn scalar() -> Shape {
        Shape(SmallVec::new())
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements: the product of the dimensions (1 for a scalar).
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// Size of one axis. Panics with the shape if the axis does not exist.
    #[track_caller]
    pub fn dim(&self, axis: usize) -> usize {
        check_axis("dim", self, axis);
        self.0[axis]
    }

    /// The last dimension (the feature axis `C` in `[B, T, C]`).
    #[track_caller]
    pub fn last(&self) -> usize {
        match self.0.last() {
            Some(&d) => d,
            None => panic!("shape []: a scalar has no last axis"),
        }
    }

    // ANCHOR: strides
    /// Row-major strides: how many elements one step along each axis skips.
    pub fn strides(&self) -> SmallVec<[usize; 4]> {
        let mut strides: SmallVec<[usize; 4]> = SmallVec::from_elem(1, self.rank());
        for axis in (0..self.rank().saturating_sub(1)).rev() {
            strides[axis] = strides[axis + 1] * self.0[axis + 1];
        }
        strides
    }
    // ANCHOR_END: strides

    /// Splits the shape around `axis` into `(outer, size, inner)` element
    /// counts: the tensor is then an `[outer, size, inner]` block.
    #[track_caller]
    pub fn split_at_axis(&self, axis: usize) -> (usize, usize, usize) {
        check_axis("split_at_axis", self, axis);
        let outer = self.0[..axis].iter().product();
        let inner = self.0[axis + 1..].iter().product();
        (outer, self.0[axis], inner)
    }

    /// The same shape with one axis removed.
    #[track_caller]
    pub fn remove_axis(&self, axis: usize) -> Shape {
        check_axis("remove_axis", self, axis);
        let mut dims = self.0.clone();
        dims.remove(axis);
        Shape(dims)
    }

    /// The same shape with one axis set to `size`.
    #[track_caller]
    pub fn with_axis(&self, axis: usize, size: usize) -> Shape {
        check_axis("with_axis", self, axis);
        let mut dims = self.0.clone();
        dims[axis] = size;
        Shape(dims)
    }
}

impl From<&[usize]> for Shape {
    #[track_caller]
    fn from(dims: &[usize]) -> Shape {
        Shape::new(dims)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    #[track_caller]
    fn from(dims: [usize; N]) -> Shape {
        Shape::new(&dims)
    }
}

impl From<Vec<usize>> for Shape {
    #[track_caller]
    fn from(dims: Vec<usize>) -> Shape {
        Shape::new(&dims)
    }
}

impl From<&Shape> for Shape {
    fn from(shape: &Shape) -> Shape {
        shape.clone()
    }
}

impl fmt::Display for Shape {
    /// Prints `[2, 3, 4]`; a scalar prints `[]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

// ANCHOR: shape_errors
/// Panics unless `a` and `b` have the same shape, as every elementwise op
/// needs.
///
/// The message names the op and both shapes. When the two shapes differ only
/// in their last axis, it is almost always a residual `x + F(x)` whose branch
/// changed the width, so the message says how to fix that: a projection
/// shortcut `P(x) + F(x)`.
#[track_caller]
pub fn assert_same_shape(op: &str, a: &Shape, b: &Shape) {
    if a == b {
        return;
    }
    let mut msg = format!(
        "{op}: shapes differ\n  left shape {a}, right shape {b}\n  \
         {op} works elementwise, so both operands need the same shape"
    );
    let same_rank = a.rank() == b.rank() && a.rank() > 0;
    if same_rank && a.dims()[..a.rank() - 1] == b.dims()[..b.rank() - 1] {
        msg.push_str(&format!(
            "\n  hint: only the last (feature) axis differs ({} vs {}). \
             An identity skip x + F(x) needs F to keep the width; \
             if the width must change, use a projection shortcut P(x) + F(x) \
             with P a Linear({} -> {}) when x is the left operand \
             (a Linear({} -> {}) when x is the right one).",
            a.last(),
            b.last(),
            a.last(),
            b.last(),
            b.last(),
            a.last()
        ));
    } else if a.numel() == b.numel() {
        msg.push_str(
            "\n  hint: both hold the same number of elements; reshape one of them first",
        );
    }
    panic!("{msg}");
}
// ANCHOR_END: shape_errors

/// Panics unless `axis` is an axis of `shape`.
#[track_caller]
pub fn check_axis(op: &str, shape: &Shape, axis: usize) {
    if axis >= shape.rank() {
        panic!(
            "{op}: axis {axis} is out of range for shape {shape} (rank {})\n  \
             valid axes are 0..{}",
            shape.rank(),
            shape.rank()
        );
    }
}

/// The length of the last axis, for an op that works along it (softmax,
/// layer norm, …); panics if `shape` has no last axis or an empty one.
#[track_caller]
pub(crate) fn last_axis(op: &str, shape: &Shape) -> usize {
    if shape.rank() == 0 || shape.last() == 0 {
        panic!(
            "{op}: works along the last axis, but shape {shape} has no last axis or an empty one\n  \
             give it at least one axis with at least one element, e.g. reshape a scalar to [1]"
        );
    }
    shape.last()
}

/// Panics unless `eps`, the small number a normalisation adds to the
/// variance, is positive and finite.
#[track_caller]
pub(crate) fn check_eps(who: &str, eps: f32) {
    if !(eps > 0.0 && eps.is_finite()) {
        panic!(
            "{who}: eps = {eps} must be a positive, finite number\n  \
             eps keeps 1 / sqrt(var + eps) finite when a row is constant; PyTorch's default is 1e-5"
        );
    }
}

/// A list of shapes for a message: `[2, 3], [2, 1]`.
pub(crate) fn describe(shapes: &[Shape]) -> String {
    shapes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_are_row_major() {
        assert_eq!(Shape::from([2, 3, 4]).strides().as_slice(), &[12, 4, 1]);
        assert_eq!(Shape::scalar().strides().as_slice(), &[] as &[usize]);
    }

    #[test]
    fn a_scalar_has_one_element() {
        assert_eq!(Shape::scalar().numel(), 1);
        assert_eq!(Shape::scalar().to_string(), "[]");
    }

    #[test]
    fn split_at_axis_gives_outer_size_inner() {
        assert_eq!(Shape::from([2, 3, 4, 5]).split_at_axis(1), (2, 3, 20));
        assert_eq!(Shape::from([2, 3]).split_at_axis(1), (2, 3, 1));
    }

    #[test]
    #[should_panic(expected = "projection shortcut P(x) + F(x)")]
    fn a_width_mismatch_names_the_projection_shortcut() {
        assert_same_shape("add", &Shape::from([2, 5, 64]), &Shape::from([2, 5, 128]));
    }
}
