//! Two matrix helpers for the matmul and residual exercises, written as
//! plain loops. They are given, not exercises: use them in your rules.

use resgrad::Tensor;

/// The matrix product `[M, K] @ [K, N] -> [M, N]`.
///
/// ```
/// use exercises::matrix::product;
/// use resgrad::Tensor;
/// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
/// let b = Tensor::from_vec(vec![5.0, 6.0, 7.0, 8.0], [2, 2]);
/// assert_eq!(product(&a, &b).data(), &[19.0, 22.0, 43.0, 50.0]);
/// ```
#[track_caller]
pub fn product(a: &Tensor, b: &Tensor) -> Tensor {
    let (m, k) = rows_and_columns("product", a);
    let (k2, n) = rows_and_columns("product", b);
    assert!(
        k == k2,
        "matrix::product: inner dimensions differ: {} @ {}\n  \
         [M, K] @ [K, N] needs the left's columns to match the right's rows; \
         is a transpose missing or extra?",
        a.shape(),
        b.shape()
    );
    let mut y = Tensor::zeros([m, n]);
    for i in 0..m {
        for j in 0..n {
            let dot: f32 = (0..k).map(|p| a.get(&[i, p]) * b.get(&[p, j])).sum();
            y.set(&[i, j], dot);
        }
    }
    y
}

/// The transpose `[R, C] -> [C, R]`.
///
/// ```
/// use exercises::matrix::transpose;
/// use resgrad::Tensor;
/// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
/// assert_eq!(transpose(&a).data(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
/// ```
#[track_caller]
pub fn transpose(t: &Tensor) -> Tensor {
    let (rows, cols) = rows_and_columns("transpose", t);
    let mut out = Tensor::zeros([cols, rows]);
    for i in 0..rows {
        for j in 0..cols {
            out.set(&[j, i], t.get(&[i, j]));
        }
    }
    out
}

#[track_caller]
fn rows_and_columns(op: &str, t: &Tensor) -> (usize, usize) {
    match t.dims() {
        &[rows, cols] => (rows, cols),
        _ => panic!(
            "matrix::{op}: expected a matrix [rows, columns], got shape {}",
            t.shape()
        ),
    }
}
