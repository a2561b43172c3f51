//! The bodies of the two fuzz targets, shared by `fuzz/` (cargo-fuzz on a
//! nightly toolchain) and by `tests/fuzz_inputs.rs`, which replays every
//! committed input on stable Rust under `cargo test`.
//!
//! * [`loader`]: any bytes handed to the safetensors reader give a value or
//!   an error, never a panic; a failed load leaves the model untouched; a
//!   file that reads back is written and read again unchanged.
//! * [`ops`]: bytes are read as a small program of ops on a tape. Every
//!   program the decoder builds is valid, so nothing may panic, and the run
//!   must keep the engine's promises: every gradient has its node's shape,
//!   a second run gives the same bits, anomaly mode fires exactly when a
//!   value or gradient is not finite, and where the program is smooth and
//!   finite its gradients pass `gradcheck`.
//!
//! Failures are reported by panicking, which is what libFuzzer records as a
//! crash and what fails the replay test.

// Each user compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use resgrad::check::{GradcheckOptions, gradcheck_with};
use resgrad::io::{read_metadata, read_tensors};
use resgrad::nn::{LayerNorm, Linear, Params};
use resgrad::{Rng, Shape, Tape, Tensor, Var};
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

// ANCHOR: loader
/// The loader's contract on arbitrary bytes.
pub fn loader(data: &[u8]) {
    let tensors = read_tensors(data);
    let metadata = read_metadata(data);
    for err in [tensors.as_ref().err(), metadata.as_ref().err()].into_iter().flatten() {
        assert!(!err.to_string().is_empty(), "an error with an empty message");
    }

    // A file that reads back is written by resgrad and read again unchanged.
    if let Ok(tensors) = &tensors {
        let mut store = Params::new();
        for (name, value) in tensors {
            store.add(name.clone(), value.clone());
        }
        let again = read_tensors(&store.to_safetensors_bytes())
            .expect("a file resgrad wrote reads back");
        assert_eq!(
            fingerprint(tensors.iter().map(|(n, t)| (n, t))),
            fingerprint(again.iter().map(|(n, t)| (n, t)))
        );
    }

    // Loading into a model either fills it with the file's tensors or
    // reports why not and changes nothing.
    let mut params = model();
    let before = fingerprint(params.iter().map(|(_, p)| (&p.name, &*p.value)));
    match params.load_safetensors_bytes(data) {
        Ok(()) => {
            let tensors =
                tensors.expect("a file that loads into a model also reads as tensors");
            let loaded = fingerprint(params.iter().map(|(_, p)| (&p.name, &*p.value)));
            assert_eq!(
                loaded,
                fingerprint(tensors.iter().map(|(n, t)| (n, t))),
                "the model holds the file's tensors"
            );
        }
        Err(err) => {
            assert!(!err.to_string().is_empty(), "an error with an empty message");
            let after = fingerprint(params.iter().map(|(_, p)| (&p.name, &*p.value)));
            assert!(after == before, "a failed load changed the model: {err}");
        }
    }
}
// ANCHOR_END: loader

/// The model the loader target loads into: `a.weight` [2, 3], `a.bias` [2],
/// `norm.weight` [2], `norm.bias` [2].
pub fn model() -> Params {
    let mut params = Params::new();
    let mut rng = Rng::new(1);
    Linear::new(&mut params.scope("a"), 3, 2, true, &mut rng);
    LayerNorm::new(&mut params.scope("norm"), 2);
    params
}

/// Names, shapes and value bits, sorted by name.
fn fingerprint<'a>(
    entries: impl Iterator<Item = (&'a String, &'a Tensor)>,
) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    let mut all: Vec<_> = entries
        .map(|(name, t)| {
            (
                name.clone(),
                t.dims().to_vec(),
                t.data().iter().map(|v| v.to_bits()).collect(),
            )
        })
        .collect();
    all.sort();
    all
}

// --- Programs of ops ----------------------------------------------------------

/// Reads the input a byte at a time; past its end every byte reads as 0, so
/// any input, even an empty one, is a complete program.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// A number in `0..n` (`n >= 1`).
    fn below(&mut self, n: usize) -> usize {
        self.byte() as usize % n
    }

    fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// Element-wise ops with one input.
#[derive(Clone, Copy, Debug)]
enum Unary {
    Relu,
    Gelu,
    GeluTanh,
    Tanh,
    Exp,
    Softmax,
    LogSoftmax,
    /// `log(x² + 0.5)`: log on a domain where it is defined.
    LogSquare,
    Transpose,
    /// `softmax(causal_mask(x))` on `[..., T, T]`.
    CausalSoftmax,
}

/// One step of a program. Numbers name earlier results (slots) or inputs.
#[derive(Clone, Debug)]
enum Step {
    Leaf(usize),
    Unary(Unary, usize),
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Scale(usize, f32),
    AddScalar(usize, f32),
    Matmul(usize, usize),
    MatmulT(usize, usize),
    Linear { x: usize, w: usize, b: Option<usize>, relu: bool },
    LayerNorm { x: usize, gain: Option<usize>, shift: Option<usize> },
    AddBias(usize, usize),
    SumAxis(usize, usize),
    MeanAxis(usize, usize),
    Narrow { x: usize, axis: usize, start: usize, len: usize },
    Split { x: usize, axis: usize, first: usize, pick: usize },
    Concat(usize, usize, usize),
    Permute(usize, Vec<usize>),
    Reshape(usize, Vec<usize>),
    BroadcastTo(usize, Vec<usize>),
    Dropout { x: usize, p: f32, seed: u64 },
    GatherRows(usize, Vec<usize>),
}

/// How the last result becomes a scalar loss.
#[derive(Clone, Debug)]
enum Loss {
    Sum,
    Mean,
    /// Against a slot of the same shape.
    Mse(usize),
    /// Rows of the last axis against these classes.
    CrossEntropy(Vec<usize>),
}

/// A decoded program: its input tensors, its steps, and its loss.
#[derive(Clone, Debug)]
pub struct Program {
    inputs: Vec<Tensor>,
    steps: Vec<Step>,
    loss: Loss,
    /// The slot the loss is taken from.
    output: usize,
    /// No ReLU kinks: finite differences may be compared with its gradients.
    smooth: bool,
}

/// Largest tensor a step may make; keeps each run to microseconds.
const MAX_NUMEL: usize = 512;

/// The `eps` of every layer_norm in a program (PyTorch's default).
const LN_EPS: f32 = 1e-5;

/// Runs one step on `slots` (earlier results) and `leaves` (the inputs).
fn apply<'t>(step: &Step, s: &[Var<'t>], leaves: &[Var<'t>]) -> Var<'t> {
    match *step {
        Step::Leaf(i) => leaves[i],
        Step::Unary(op, x) => {
            let x = s[x];
            match op {
                Unary::Relu => x.relu(),
                Unary::Gelu => x.gelu(),
                Unary::GeluTanh => x.gelu_tanh(),
                Unary::Tanh => x.tanh(),
                Unary::Exp => x.exp(),
                Unary::Softmax => x.softmax(),
                Unary::LogSoftmax => x.log_softmax(),
                Unary::LogSquare => x.mul(x).add_scalar(0.5).log(),
                Unary::Transpose => x.transpose(),
                Unary::CausalSoftmax => x.causal_mask().softmax(),
            }
        }
        Step::Add(a, b) => s[a].add(s[b]),
        Step::Sub(a, b) => s[a].sub(s[b]),
        Step::Mul(a, b) => s[a].mul(s[b]),
        Step::Scale(x, c) => s[x].scale(c),
        Step::AddScalar(x, c) => s[x].add_scalar(c),
        Step::Matmul(a, b) => s[a].matmul(s[b]),
        Step::MatmulT(a, b) => s[a].matmul_t(s[b]),
        Step::Linear { x, w, b, relu } => {
            let b = b.map(|b| s[b]);
            if relu { s[x].linear_relu(s[w], b) } else { s[x].linear(s[w], b) }
        }
        Step::LayerNorm { x, gain, shift } => {
            s[x].layer_norm(gain.map(|g| s[g]), shift.map(|b| s[b]), LN_EPS)
        }
        Step::AddBias(x, b) => s[x].add_bias(s[b]),
        Step::SumAxis(x, axis) => s[x].sum_axis(axis),
        Step::MeanAxis(x, axis) => s[x].mean_axis(axis),
        Step::Narrow { x, axis, start, len } => s[x].narrow(axis, start, len),
        Step::Split { x, axis, first, pick } => {
            let n = s[x].shape().dims()[axis];
            s[x].split(&[first, n - first], axis)[pick]
        }
        Step::Concat(a, b, axis) => Var::concat(&[s[a], s[b]], axis),
        Step::Permute(x, ref perm) => s[x].permute(perm),
        Step::Reshape(x, ref dims) => s[x].reshape(dims.as_slice()),
        Step::BroadcastTo(x, ref dims) => s[x].broadcast_to(dims.as_slice()),
        Step::Dropout { x, p, seed } => s[x].dropout(p, &mut Rng::new(seed), true),
        Step::GatherRows(x, ref ids) => s[x].gather_rows(ids),
    }
}

impl Program {
    /// Replays the program on the tape of `leaves`, which hold its inputs,
    /// and returns the loss and every step's result.
    pub fn run<'t>(&self, leaves: &[Var<'t>]) -> (Var<'t>, Vec<Var<'t>>) {
        let mut slots = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let v = apply(step, &slots, leaves);
            slots.push(v);
        }
        let last = slots[self.output];
        let loss = match self.loss {
            Loss::Sum => last.sum(),
            Loss::Mean => last.mean(),
            Loss::Mse(t) => last.mse_loss(slots[t]),
            Loss::CrossEntropy(ref targets) => last.cross_entropy(targets),
        };
        (loss, slots)
    }

    /// What `gradcheck` differentiates: the loss, or for a sum or mean the
    /// tensor it reduces.
    fn checked_output<'t>(&self, leaves: &[Var<'t>]) -> Var<'t> {
        let (loss, slots) = self.run(leaves);
        if matches!(self.loss, Loss::Sum | Loss::Mean) {
            slots[self.output]
        } else {
            loss
        }
    }

    /// Builds a valid program from arbitrary bytes. The program is run as it
    /// is built, so each step sees the shapes of the results before it.
    pub fn decode(data: &[u8]) -> Program {
        let tape = Tape::new();
        let mut d = Decoder {
            r: Reader { data, pos: 0 },
            rng: Rng::new(0),
            inputs: Vec::new(),
            steps: Vec::new(),
            slots: Vec::new(),
            leaves: Vec::new(),
            tape: &tape,
            smooth: true,
        };
        d.rng = Rng::new(u64::from(d.r.byte()));
        let rank = 1 + d.r.below(3);
        let dims: Vec<usize> = (0..rank).map(|_| 1 + d.r.below(4)).collect();
        d.new_leaf(&dims);
        let ops = 1 + d.r.below(16);
        for _ in 0..ops {
            if d.r.at_end() {
                break;
            }
            d.step();
        }
        let output = d.slots.len() - 1;
        let loss = d.loss(output);
        Program { inputs: d.inputs, steps: d.steps, loss, output, smooth: d.smooth }
    }
}

struct Decoder<'a, 't> {
    r: Reader<'a>,
    rng: Rng,
    inputs: Vec<Tensor>,
    steps: Vec<Step>,
    slots: Vec<Var<'t>>,
    leaves: Vec<Var<'t>>,
    tape: &'t Tape,
    smooth: bool,
}

impl<'t> Decoder<'_, 't> {
    fn shape(&self, slot: usize) -> Shape {
        self.slots[slot].shape()
    }

    /// Records `step` and returns its slot.
    fn push(&mut self, step: Step) -> usize {
        let v = apply(&step, &self.slots, &self.leaves);
        self.steps.push(step);
        self.slots.push(v);
        self.slots.len() - 1
    }

    /// A new input of normal values with the given dims.
    fn new_leaf(&mut self, dims: &[usize]) -> usize {
        let t = Tensor::normal(dims, 0.0, 1.0, &mut self.rng);
        self.inputs.push(t.clone());
        self.leaves.push(self.tape.leaf(t));
        self.push(Step::Leaf(self.inputs.len() - 1))
    }

    /// An earlier result with exactly these dims, or a new input.
    fn operand(&mut self, dims: &[usize]) -> usize {
        let same: Vec<usize> =
            (0..self.slots.len()).filter(|&i| self.shape(i).dims() == dims).collect();
        let pick = self.r.below(same.len() + 1);
        if pick < same.len() { same[pick] } else { self.new_leaf(dims) }
    }

    /// Decodes and records one step, or nothing if the chosen op does not
    /// fit the chosen operand's shape.
    fn step(&mut self) {
        let op = self.r.byte();
        let x = self.r.below(self.slots.len());
        let dims = self.shape(x).dims().to_vec();
        let rank = dims.len();
        let numel: usize = dims.iter().product();
        let step = match op % 27 {
            0 => {
                self.smooth = false;
                Step::Unary(Unary::Relu, x)
            }
            1 => Step::Unary(Unary::Gelu, x),
            2 => Step::Unary(Unary::GeluTanh, x),
            3 => Step::Unary(Unary::Tanh, x),
            4 => Step::Unary(Unary::Exp, x),
            5 if rank >= 1 => Step::Unary(Unary::Softmax, x),
            6 if rank >= 1 => Step::Unary(Unary::LogSoftmax, x),
            7 => Step::Unary(Unary::LogSquare, x),
            8 if rank >= 2 => Step::Unary(Unary::Transpose, x),
            9 if rank >= 2 && dims[rank - 1] == dims[rank - 2] => {
                Step::Unary(Unary::CausalSoftmax, x)
            }
            10 => Step::Add(x, self.operand(&dims)),
            11 => Step::Sub(x, self.operand(&dims)),
            12 => Step::Mul(x, self.operand(&dims)),
            13 => Step::Scale(x, (f32::from(self.r.byte()) - 128.0) / 32.0),
            14 => Step::AddScalar(x, (f32::from(self.r.byte()) - 128.0) / 32.0),
            15 | 16 if rank >= 2 => {
                let n = 1 + self.r.below(4);
                let k = dims[rank - 1];
                let transposed = op % 27 == 16;
                let mat = if transposed { [n, k] } else { [k, n] };
                // One shared matrix, or one per batch entry.
                let other: Vec<usize> = if self.r.below(2) == 0 {
                    mat.to_vec()
                } else {
                    [&dims[..rank - 2], &mat[..]].concat()
                };
                if numel / k * n > MAX_NUMEL {
                    return;
                }
                let b = self.operand(&other);
                if transposed { Step::MatmulT(x, b) } else { Step::Matmul(x, b) }
            }
            17 if rank >= 2 => {
                let (k, n) = (dims[rank - 1], 1 + self.r.below(4));
                if numel / k * n > MAX_NUMEL {
                    return;
                }
                let relu = self.r.below(2) == 0;
                let w = self.operand(&[n, k]);
                let b =
                    if self.r.below(2) == 0 { Some(self.operand(&[n])) } else { None };
                self.smooth &= !relu;
                Step::Linear { x, w, b, relu }
            }
            18 if rank >= 1 => {
                let c = dims[rank - 1];
                let gain =
                    if self.r.below(2) == 0 { Some(self.operand(&[c])) } else { None };
                let shift =
                    if self.r.below(2) == 0 { Some(self.operand(&[c])) } else { None };
                Step::LayerNorm { x, gain, shift }
            }
            19 if rank >= 1 => Step::AddBias(x, self.operand(&[dims[rank - 1]])),
            20 if rank >= 1 => {
                let axis = self.r.below(rank);
                if self.r.below(2) == 0 {
                    Step::SumAxis(x, axis)
                } else {
                    Step::MeanAxis(x, axis)
                }
            }
            21 if rank >= 1 => {
                let axis = self.r.below(rank);
                let n = dims[axis];
                if self.r.below(2) == 0 || n < 2 {
                    let start = self.r.below(n);
                    let len = 1 + self.r.below(n - start);
                    Step::Narrow { x, axis, start, len }
                } else {
                    Step::Split {
                        x,
                        axis,
                        first: 1 + self.r.below(n - 1),
                        pick: self.r.below(2),
                    }
                }
            }
            22 if rank >= 1 => {
                let axis = self.r.below(rank);
                let mut other = dims.clone();
                other[axis] = 1 + self.r.below(3);
                if (numel / dims[axis]) * (dims[axis] + other[axis]) > MAX_NUMEL {
                    return;
                }
                Step::Concat(x, self.operand(&other), axis)
            }
            23 if rank >= 2 => {
                let mut perm: Vec<usize> = (0..rank).collect();
                for i in (1..rank).rev() {
                    perm.swap(i, self.r.below(i + 1));
                }
                Step::Permute(x, perm)
            }
            24 => {
                let new = match self.r.below(3) {
                    0 => vec![numel],
                    1 if rank >= 2 => [&[dims[0] * dims[1]][..], &dims[2..]].concat(),
                    _ => {
                        let at = self.r.below(rank + 1);
                        [&dims[..at], &[1][..], &dims[at..]].concat()
                    }
                };
                if new.len() > 4 {
                    return;
                }
                Step::Reshape(x, new)
            }
            25 => {
                let lead = 1 + self.r.below(3);
                let mut new: Vec<usize> =
                    std::iter::once(lead).chain(dims.iter().copied()).collect();
                // Stretch one axis of length 1, if there is one.
                if let Some(i) = new.iter().skip(1).position(|&n| n == 1) {
                    new[i + 1] = 1 + self.r.below(3);
                }
                if new.iter().product::<usize>() > MAX_NUMEL || new.len() > 4 {
                    return;
                }
                Step::BroadcastTo(x, new)
            }
            26 if rank == 2 && self.r.below(2) == 0 => {
                let ids =
                    (0..1 + self.r.below(4)).map(|_| self.r.below(dims[0])).collect();
                Step::GatherRows(x, ids)
            }
            26 => {
                let p = [0.0, 0.1, 0.5, 0.9, 1.0][self.r.below(5)];
                Step::Dropout { x, p, seed: u64::from(self.r.byte()) }
            }
            _ => return,
        };
        self.push(step);
    }

    fn loss(&mut self, output: usize) -> Loss {
        let dims = self.shape(output).dims().to_vec();
        match self.r.below(4) {
            0 => Loss::Sum,
            1 => Loss::Mean,
            2 => Loss::Mse(self.operand(&dims)),
            // No axis is ever 0 long: every op here keeps lengths >= 1.
            _ => match dims.last() {
                Some(&c) => {
                    let rows = dims.iter().product::<usize>() / c;
                    Loss::CrossEntropy((0..rows).map(|_| self.r.below(c)).collect())
                }
                None => Loss::Sum,
            },
        }
    }
}

/// What one run gave: the loss and every gradient as bits, whether every
/// step's result and every gradient was finite, and the largest magnitude
/// of a step's result. Values inside a step (the x² of `LogSquare`, the
/// masked scores of `CausalSoftmax`) are not read: the first is finite
/// whenever its step's result is, and the second holds −∞ on purpose.
struct Run {
    loss: Vec<u32>,
    grads: Vec<Vec<u32>>,
    finite: bool,
    largest: f32,
    /// The smallest `√(var + eps)` of a row that a layer_norm normalised:
    /// the scale on which that layer_norm turns over (`f32::INFINITY` if
    /// there is none).
    narrowest_norm: f32,
}

fn run_bits(program: &Program, anomaly: bool) -> Run {
    let tape = Tape::new();
    tape.set_detect_anomaly(anomaly);
    let leaves: Vec<Var<'_>> =
        program.inputs.iter().map(|x| tape.leaf(x.clone())).collect();
    let (loss, slots) = program.run(&leaves);
    let grads = tape.backward(loss);
    let mut finite = true;
    let mut largest = 0.0f32;
    let mut bits = Vec::new();
    for v in slots.iter().chain(std::iter::once(&loss)) {
        let value = v.value();
        finite &= value.data().iter().all(|x| x.is_finite());
        largest = value.data().iter().fold(largest, |m, x| m.max(x.abs()));
        // The sweep already refuses a rule's gradient of the wrong shape;
        // this checks what reaches the caller, after the sums.
        if let Some(g) = grads.get(*v) {
            assert_eq!(
                g.shape(),
                value.shape(),
                "the gradient of #{} has the wrong shape\n{tape}",
                v.id()
            );
        }
    }
    for id in 0..tape.len() {
        if let Some(g) = grads.by_id(id) {
            finite &= g.data().iter().all(|x| x.is_finite());
            bits.push(g.data().iter().map(|x| x.to_bits()).collect());
        }
    }
    let mut narrowest_norm = f32::INFINITY;
    for step in &program.steps {
        if let Step::LayerNorm { x, .. } = *step {
            let value = slots[x].value();
            for row in value.data().chunks(value.shape().last()) {
                let n = row.len() as f64;
                let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
                let var =
                    row.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
                narrowest_norm =
                    narrowest_norm.min((var + f64::from(LN_EPS)).sqrt() as f32);
            }
        }
    }
    let listing = tape.to_string();
    assert_eq!(
        listing.lines().count(),
        tape.len(),
        "the listing has one line per node:\n{listing}"
    );
    Run {
        loss: loss.value().data().iter().map(|x| x.to_bits()).collect(),
        grads: bits,
        finite,
        largest,
        narrowest_norm,
    }
}

// ANCHOR: ops
/// The engine's contract on a program decoded from arbitrary bytes.
pub fn ops(data: &[u8]) {
    let program = Program::decode(data);
    let first = run_bits(&program, false);

    // The same program gives the same bits.
    let again = run_bits(&program, false);
    assert!(
        first.loss == again.loss && first.grads == again.grads,
        "a second run differs\n{program:#?}"
    );

    // Anomaly mode is silent exactly when every step's result and every
    // gradient is finite. (The causal mask's intended −∞ is inside a step,
    // never a step's result, so it does not count as non-finite here, and
    // anomaly mode exempts it too.)
    let checked = quietly(|| run_bits(&program, true));
    match (first.finite, checked) {
        (true, Ok(_)) => {}
        (true, Err(panic)) => {
            let m = message(&panic);
            if !m.starts_with("anomaly") {
                panic!("a panic in anomaly mode only, {m}\n{program:#?}");
            }
            panic!("anomaly mode fired on a finite run: {m}\n{program:#?}")
        }
        (false, Ok(_)) => panic!("anomaly mode missed a non-finite value\n{program:#?}"),
        (false, Err(panic)) => {
            assert!(
                message(&panic).starts_with("anomaly"),
                "{}\n{program:#?}",
                message(&panic)
            )
        }
    }

    // Where finite differences apply, they agree with the gradients. Their
    // error model (see `gradcheck_with`) covers rounding of the output; the
    // rounding inside grows with the largest intermediate value M, as about
    // ε·M/h per op in the difference quotient. With M ≤ 10 (measured over
    // the steps' results) that is ~1e-4, the check's absolute tolerance;
    // beyond it, a program such as
    // `mse(exp(exp(x²)) + b, exp(exp(x²)))` cancels 1e23-sized values and
    // its finite differences are noise (found by this fuzzer, committed as
    // `tests/fuzz_inputs/ops/gradcheck-huge-intermediates`).
    //
    // A sum or mean is checked one step earlier, on the tensor it reduces,
    // which gradcheck contracts with a random u instead: the sum of a
    // layer_norm row is 0 whatever the input, and its finite differences
    // are the rounding of that cancellation (`gradcheck-cancelling-sum`).
    //
    // layer_norm turns over on the scale σ = √(var + eps) of its row, and
    // its Jacobian reaches 1/σ. Where a row is nearly constant, σ falls to
    // √eps ≈ 0.003: finite differences then need a step far below 1e-2 (two
    // stacks on rows whose entries differ by 0.004 agreed only from h = 3e-3
    // and 3e-4 down: `gradcheck-steep-layer-norm`, `-steeper-`), and reverse
    // mode multiplies the rounding of each such layer by up to 316 (two
    // layer_norms on a broadcast constant gave a gradient of 6e-3 where the
    // true one is 0: `gradcheck-layer-norm-of-a-constant-row`). Neither side
    // is then precise enough to judge the other, so such programs are left
    // to the checks above: σ must be at least 0.02, twice the step.
    //
    // A failure at the default step h = 1e-2 is retried once at 1e-3, where
    // truncation error is 100× smaller and a wrong rule is as wrong as
    // before; only programs that fail at 1e-2 reach the finer step.
    if program.smooth
        && first.finite
        && first.largest <= 10.0
        && first.narrowest_norm >= 0.02
    {
        let check = |step: f32| {
            let opts = GradcheckOptions { step, ..GradcheckOptions::default() };
            gradcheck_with(
                |_, leaves| program.checked_output(leaves),
                &program.inputs,
                &opts,
            )
            .err()
        };
        if let Some(err) = check(1e-2)
            && let Some(again) = check(1e-3)
        {
            panic!(
                "gradcheck failed at h = 1e-2: {err}\nand at h = 1e-3: {again}\n{program:#?}"
            );
        }
    }
}
// ANCHOR_END: ops

thread_local! {
    /// True while `quietly` runs on this thread.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic caught by `quietly` was raised.
    static LOCATION: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs `f`, catching a panic without printing it. libFuzzer's panic hook
/// aborts the process on any panic, caught or not, so the hook in place is
/// wrapped once to stay silent on this thread while `f` runs.
fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    static WRAP: Once = Once::new();
    WRAP.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let at = info.location().map(|at| at.to_string()).unwrap_or_default();
                LOCATION.with(|l| *l.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result
}

/// The message of a panic that `quietly` caught, followed by where it was
/// raised.
fn message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    format!("{text}\n  (raised at {})", LOCATION.with(|l| l.borrow().clone()))
}
