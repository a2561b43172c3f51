//! Helpers shared by the integration tests: tolerance checks, the residual
//! branches used by the property tests, and (in `strategies`) the proptest
//! strategies that draw shapes and values.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

pub mod fixtures;
pub mod json;
pub mod strategies;

use proptest::test_runner::{Config, FileFailurePersistence};
use resgrad::check::{GradcheckOptions, gradcheck_with};
use resgrad::{Tape, Tensor, Var};

/// A proptest configuration running `cases` cases and saving any failing
/// case to `proptest-regressions/<file>`, which is committed, so a failure
/// found once is replayed on every later run. (proptest's default location
/// cannot be derived for integration tests, so each suite names its file.)
pub fn proptest_config(cases: u32, file: &'static str) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..Config::default()
    }
}

/// Runs `f`, which must panic, and returns its panic message.
#[track_caller]
pub fn panic_message(f: impl FnOnce()) -> String {
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .unwrap_or_else(|| err.downcast_ref::<&str>().unwrap().to_string())
}

/// Runs `gradcheck` and turns a failure into a test failure carrying the
/// checker's full message (op, element, expected and received values).
#[track_caller]
pub fn assert_gradcheck(
    f: impl for<'t, 's> Fn(&'t Tape, &'s [Var<'t>]) -> Var<'t>,
    inputs: &[Tensor],
) {
    if let Err(e) = gradcheck_with(f, inputs, &GradcheckOptions::default()) {
        panic!("{e}");
    }
}

/// Asserts `|a - b| <= atol + rtol * |b|` elementwise, naming the first
/// element that is off.
#[track_caller]
pub fn assert_close(a: &Tensor, b: &Tensor, rtol: f32, atol: f32, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes differ");
    for (i, (&x, &y)) in a.data().iter().zip(b.data()).enumerate() {
        let tol = atol + rtol * y.abs();
        assert!(
            (x - y).abs() <= tol,
            "{what}: element {i}: {x} vs {y} (|diff| {} > {tol})",
            (x - y).abs()
        );
    }
}

/// Half a unit in the last place of `v` as an f32: the largest error of
/// one correctly rounded f32 operation whose result is `v`.
pub fn half_ulp(v: f32) -> f64 {
    let v = v.abs();
    if v == 0.0 {
        return f32::from_bits(1) as f64 / 2.0;
    }
    let next = f32::from_bits(v.to_bits() + 1);
    (next as f64 - v as f64) / 2.0
}

/// `x @ w + b`: a Linear layer written with the engine's ops (`w: [in, out]`).
pub fn linear<'t>(x: Var<'t>, w: Var<'t>, b: Var<'t>) -> Var<'t> {
    x.matmul(w).add_bias(b)
}

/// The residual branches the property tests put inside `x + F(x)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Branch {
    /// F(x) = x W + b
    Linear,
    /// F(x) = relu(x W1 + b1) W2 + b2
    Mlp,
    /// F(x) = LayerNorm(x) W + b, with LayerNorm's gain and shift
    NormLinear,
    /// F(x) = single-head self-attention: softmax(Q Kᵀ/√d) V Wo + bo, with
    /// Q, K, V from one fused projection x W_qkv (as PyTorch's in_proj_weight)
    Attention,
}

pub const BRANCHES: [Branch; 4] =
    [Branch::Linear, Branch::Mlp, Branch::NormLinear, Branch::Attention];

/// The parameters of a branch for features of width `d` (hidden width `h`
/// for the MLP), as plain tensors.
#[derive(Clone, Debug)]
pub struct BranchParams {
    pub kind: Branch,
    pub tensors: Vec<Tensor>,
}

impl BranchParams {
    /// Random parameters, scaled like a 1/√fan-in initialisation.
    pub fn random(
        kind: Branch,
        d: usize,
        h: usize,
        rng: &mut resgrad::Rng,
    ) -> BranchParams {
        let w = |rows: usize, cols: usize, rng: &mut resgrad::Rng| {
            Tensor::normal([rows, cols], 0.0, 1.0 / (rows as f32).sqrt(), rng)
        };
        let b = |n: usize, rng: &mut resgrad::Rng| Tensor::normal([n], 0.0, 0.1, rng);
        let tensors = match kind {
            Branch::Linear => vec![w(d, d, rng), b(d, rng)],
            Branch::Mlp => vec![w(d, h, rng), b(h, rng), w(h, d, rng), b(d, rng)],
            Branch::NormLinear => vec![
                Tensor::normal([d], 1.0, 0.1, rng),
                Tensor::normal([d], 0.0, 0.1, rng),
                w(d, d, rng),
                b(d, rng),
            ],
            Branch::Attention => {
                vec![w(d, 3 * d, rng), b(3 * d, rng), w(d, d, rng), b(d, rng)]
            }
        };
        BranchParams { kind, tensors }
    }

    /// The same branch with its last projection (weight and bias) set to
    /// zero, so that F(x) = 0 for every x.
    pub fn with_zero_output(mut self) -> BranchParams {
        let n = self.tensors.len();
        for t in &mut self.tensors[n - 2..] {
            t.data_mut().fill(0.0);
        }
        self
    }

    /// Records F(x) on `x`'s tape, the parameters as constants (the tests
    /// differentiate with respect to x only).
    pub fn apply<'t>(&self, x: Var<'t>) -> Var<'t> {
        let tape = x.tape();
        let p: Vec<Var<'t>> =
            self.tensors.iter().map(|t| tape.constant(t.clone())).collect();
        match self.kind {
            Branch::Linear => linear(x, p[0], p[1]),
            Branch::Mlp => linear(linear(x, p[0], p[1]).relu(), p[2], p[3]),
            Branch::NormLinear => {
                linear(x.layer_norm(Some(p[0]), Some(p[1]), 1e-5), p[2], p[3])
            }
            Branch::Attention => {
                let d = x.shape().last();
                let qkv = linear(x, p[0], p[1]); // [T, 3d]
                let parts = qkv.split(&[d, d, d], 1); // 3 x [T, d]
                let y = resgrad::ops::scaled_dot_product_attention(
                    parts[0], parts[1], parts[2], false,
                );
                linear(y, p[2], p[3])
            }
        }
    }
}

/// Runs `f`, which must panic, and returns the file and line the panic
/// reports (only panics on this thread are recorded: tests run in parallel).
pub fn panic_location(f: impl FnOnce()) -> String {
    let location = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = location.clone();
    let me = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let (true, Some(l)) = (std::thread::current().id() == me, info.location()) {
            *sink.lock().unwrap() = format!("{}:{}", l.file(), l.line());
        }
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    assert!(result.is_err(), "expected a panic");
    location.lock().unwrap().clone()
}
