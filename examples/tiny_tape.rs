//! resgrad in a hundred lines: a complete reverse-mode tape over `f32` scalars.
//!
//! The engine (from the `use` lines to the end of `Tape::backward`) is a
//! Wengert list: a `Vec` of entries, each holding its value and, for each
//! input, the input's position and the local derivative ∂value/∂input. The
//! reverse sweep walks the list backwards and adds `local × gradient` into
//! every input, so a value used twice receives the sum of both shares.
//! `main` prints the tape of a residual expression and trains a small MLP;
//! the tests at the bottom check that the gradients are exactly those of
//! the full engine, `resgrad`, on the same programs.
//!
//! Run: `cargo run --release --example tiny_tape`
//! Test: `cargo test --example tiny_tape`

// ANCHOR: tape
use std::cell::RefCell;
use std::ops::{Add, Index, Mul, Sub};

/// One entry of the tape: the op's name, the value it computed and, for each
/// input, the input's position on the tape and the local derivative.
struct Node {
    op: &'static str,
    value: f32,
    inputs: Vec<(usize, f32)>, // (where the input is, ∂value/∂input)
}

/// Every value computed so far, in the order it was computed.
#[derive(Default)]
pub struct Tape {
    nodes: RefCell<Vec<Node>>,
}

/// A handle to one entry: which tape, and where on it. Copying it is free.
#[derive(Clone, Copy)]
pub struct Var<'t> {
    tape: &'t Tape,
    id: usize,
}

impl Tape {
    /// Records an input. PyTorch: `torch.tensor(v, requires_grad=True)`.
    pub fn leaf(&self, value: f32) -> Var<'_> {
        self.push("leaf", value, vec![])
    }

    /// Appends an entry. Nothing on the tape is changed after it is pushed.
    fn push(&self, op: &'static str, value: f32, inputs: Vec<(usize, f32)>) -> Var<'_> {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node { op, value, inputs });
        Var { tape: self, id: nodes.len() - 1 }
    }
}
// ANCHOR_END: tape

// ANCHOR: unary_ops
impl<'t> Var<'t> {
    /// The value this entry holds. PyTorch: `x.item()`.
    pub fn value(self) -> f32 {
        self.tape.nodes.borrow()[self.id].value
    }

    /// max(x, 0), whose slope is 1 where x > 0 and 0 elsewhere (0 at x = 0).
    pub fn relu(self) -> Var<'t> {
        let x = self.value();
        let local = if x > 0.0 { 1.0 } else { 0.0 };
        self.tape.push("relu", x.max(0.0), vec![(self.id, local)]) // torch.relu(x)
    }

    /// tanh x, whose slope 1 − y² is cheapest to read off the output y.
    pub fn tanh(self) -> Var<'t> {
        let y = self.value().tanh();
        self.tape.push("tanh", y, vec![(self.id, 1.0 - y * y)]) // torch.tanh(x)
    }

    /// eˣ, which is its own slope.
    pub fn exp(self) -> Var<'t> {
        let y = self.value().exp();
        self.tape.push("exp", y, vec![(self.id, y)]) // torch.exp(x)
    }
}
// ANCHOR_END: unary_ops

// ANCHOR: binary_ops
impl<'t> Add for Var<'t> {
    type Output = Var<'t>;
    /// a + b: both slopes are 1. This is the join of every skip connection.
    fn add(self, b: Var<'t>) -> Var<'t> {
        let y = self.value() + b.value();
        self.tape.push("add", y, vec![(self.id, 1.0), (b.id, 1.0)]) // a + b
    }
}

impl<'t> Sub for Var<'t> {
    type Output = Var<'t>;
    /// a − b: slopes 1 and −1.
    fn sub(self, b: Var<'t>) -> Var<'t> {
        let y = self.value() - b.value();
        self.tape.push("sub", y, vec![(self.id, 1.0), (b.id, -1.0)]) // a - b
    }
}

impl<'t> Mul for Var<'t> {
    type Output = Var<'t>;
    /// a · b: each factor's slope is the other factor.
    fn mul(self, b: Var<'t>) -> Var<'t> {
        let (x, y) = (self.value(), b.value());
        self.tape.push("mul", x * y, vec![(self.id, y), (b.id, x)]) // a * b
    }
}
// ANCHOR_END: binary_ops

// ANCHOR: backward
/// The gradient of the output with respect to every entry, by position.
pub struct Grads(Vec<f32>);

impl Index<Var<'_>> for Grads {
    type Output = f32;
    /// `g[x]` is dL/dx. PyTorch: `x.grad`.
    fn index(&self, x: Var<'_>) -> &f32 {
        &self.0[x.id]
    }
}

impl Tape {
    /// The reverse sweep from `out`. PyTorch: `out.backward()`.
    pub fn backward(&self, out: Var<'_>) -> Grads {
        let nodes = self.nodes.borrow();
        let mut grad = vec![0.0; nodes.len()];
        grad[out.id] = 1.0; // dL/dL = 1
        // Entries only use earlier entries, so walking backwards reaches each
        // entry after every entry that uses it has sent its share.
        for id in (0..=out.id).rev() {
            for &(input, local) in &nodes[id].inputs {
                grad[input] += local * grad[id]; // chain rule; `+=` sums fan-out
            }
        }
        Grads(grad)
    }
}
// ANCHOR_END: backward

// ---------------------------------------------------------------------------
// Using it: the tape of a residual expression, then a small MLP trained by SGD.

// ANCHOR: residual_demo
/// Records y = x + relu(w · x), sweeps it, and prints the tape and who sent
/// what into x's gradient.
fn residual_demo(x: f32, w: f32) {
    println!("y = x + relu(w * x) at x = {x}, w = {w}");
    let tape = Tape::default();
    let x = tape.leaf(x); // x = torch.tensor(x, requires_grad=True)
    let w = tape.leaf(w); // w = torch.tensor(w, requires_grad=True)
    let y = x + (w * x).relu(); // y = x + torch.relu(w * x)
    let g = tape.backward(y); // y.backward()
    print_tape(&tape, &g);
    let nodes = tape.nodes.borrow();
    let mut shares = Vec::new(); // one per entry that uses x
    for (id, node) in nodes.iter().enumerate() {
        for &(input, local) in &node.inputs {
            if input == x.id {
                let share = local * g.0[id] + 0.0; // + 0.0 prints -0 as 0
                shares.push(format!("{share} from #{id} {}", node.op));
            }
        }
    }
    println!("x.grad = {} = {}", g[x], shares.join(" + ")); // x.grad
    println!("w.grad = {}\n", g[w]); // w.grad
}
// ANCHOR_END: residual_demo

/// Prints the tape as a numbered listing: inputs, value, local derivatives
/// and the gradient the sweep left in each entry.
fn print_tape(tape: &Tape, g: &Grads) {
    println!("entry  op    inputs    value  local slopes  grad");
    for (id, n) in tape.nodes.borrow().iter().enumerate() {
        let ins: Vec<String> = n.inputs.iter().map(|(i, _)| format!("#{i}")).collect();
        let locals: Vec<String> = n.inputs.iter().map(|(_, d)| d.to_string()).collect();
        let (ins, locals) = (ins.join(" "), locals.join(" "));
        println!("#{id:<5} {:<5} {ins:<9} {:<6} {locals:<13} {}", n.op, n.value, g.0[id]);
    }
}

// ANCHOR: mlp
/// A two-layer MLP on one scalar: `hidden` tanh units, then a weighted sum.
/// `p` holds [w, b, v] for each unit, then the output bias.
fn mlp<'t>(p: &[Var<'t>], x: Var<'t>) -> Var<'t> {
    let hidden = (p.len() - 1) / 3;
    let mut out = p[3 * hidden]; // the output bias
    for j in 0..hidden {
        let (w, b, v) = (p[3 * j], p[3 * j + 1], p[3 * j + 2]);
        out = out + v * (w * x + b).tanh(); // Linear(1, h), torch.tanh, Linear(h, 1)
    }
    out
}

/// Fits y = x² on five points with plain gradient descent, one tape per step.
fn train() {
    let data = [(-1.0, 1.0), (-0.5, 0.25), (0.0, 0.0), (0.5, 0.25), (1.0, 1.0)];
    let mut params = vec![0.9, -0.3, 0.5, -0.7, 0.2, 0.4, 0.3, 0.1, -0.6, 0.0];
    for step in 0..=400 {
        let tape = Tape::default(); // PyTorch also builds a new graph each step
        let p: Vec<Var> = params.iter().map(|&v| tape.leaf(v)).collect();
        let mut loss = tape.leaf(0.0);
        for &(x, target) in &data {
            let err = mlp(&p, tape.leaf(x)) - tape.leaf(target);
            loss = loss + err * err; // F.mse_loss(pred, y, reduction="sum")
        }
        let g = tape.backward(loss); // loss.backward()
        for (value, v) in params.iter_mut().zip(&p) {
            *value -= 0.05 * g[*v]; // optimizer.step() for torch.optim.SGD
        }
        if step % 100 == 0 {
            let entries = tape.nodes.borrow().len();
            println!("step {step:>3}  loss {:.6}  tape entries {entries}", loss.value());
        }
    }
}
// ANCHOR_END: mlp

fn main() {
    residual_demo(2.0, 0.5); // the branch is active: it adds w to the skip's 1
    residual_demo(2.0, -0.5); // the branch is dead: the skip's 1 still gets through
    println!("a two-layer MLP (3 tanh units) learns y = x² on five points:");
    train();
}

// ---------------------------------------------------------------------------
// Tests: the same programs, run on this tape and on resgrad's, give the same
// gradients. Both engines compute in f32, both run the same forward ops in the
// same order, both multiply each incoming gradient by the same local slope
// (x·y = y·x and −1·g = −g exactly in IEEE arithmetic), and both add the shares
// into an input in the same order: entries from last to first, each entry's
// inputs from first to last. So the gradients agree bit for bit, and the tests
// use `assert_eq!`, not a tolerance. (Only the sign of a zero may differ, and
// `==` treats −0 and 0 as equal.)

// ANCHOR: same_on_both
/// What a program needs from a scalar. Both engines' handles provide it, so
/// a program written once runs on either engine.
#[cfg(test)]
trait Scalar: Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> {
    fn relu(self) -> Self;
    fn tanh(self) -> Self;
    fn exp(self) -> Self;
}

/// A program from some inputs to one output, written once for any `Scalar`.
#[cfg(test)]
trait Program {
    fn run<S: Scalar>(&self, inputs: &[S]) -> S;
}

/// Runs `program` on both engines and asserts equal outputs and gradients.
/// Returns the tiny tape's gradients of the inputs.
#[cfg(test)]
fn same_on_both(program: &impl Program, inputs: &[f32]) -> Vec<f32> {
    let tiny = Tape::default();
    let xs: Vec<Var> = inputs.iter().map(|&v| tiny.leaf(v)).collect();
    let out = program.run(&xs);
    let g = tiny.backward(out); // this file's engine

    let full = resgrad::Tape::new();
    let one = |v: f32| full.leaf(resgrad::Tensor::from_vec(vec![v], [1]));
    let fs: Vec<resgrad::Var> = inputs.iter().map(|&v| one(v)).collect();
    let full_out = program.run(&fs);
    let full_g = full.backward(full_out); // the full engine

    assert_eq!(out.value(), full_out.value().item(), "outputs differ");
    let grads: Vec<f32> = xs.iter().map(|&x| g[x]).collect();
    for (i, (&f, &tiny_grad)) in fs.iter().zip(&grads).enumerate() {
        // resgrad gives no gradient to an input that does not reach the output.
        let full_grad = full_g.get(f).map_or(0.0, |t| t.item());
        assert_eq!(tiny_grad, full_grad, "input {i} of {inputs:?}");
    }
    grads
}
// ANCHOR_END: same_on_both

#[cfg(test)]
mod tests {
    use super::{Program, Scalar, Tape, Var, same_on_both};
    use proptest::prelude::*;
    use proptest::sample::Index;

    impl Scalar for Var<'_> {
        fn relu(self) -> Self {
            Var::relu(self)
        }
        fn tanh(self) -> Self {
            Var::tanh(self)
        }
        fn exp(self) -> Self {
            Var::exp(self)
        }
    }

    impl Scalar for resgrad::Var<'_> {
        fn relu(self) -> Self {
            resgrad::Var::relu(self)
        }
        fn tanh(self) -> Self {
            resgrad::Var::tanh(self)
        }
        fn exp(self) -> Self {
            resgrad::Var::exp(self)
        }
    }

    /// y = x + relu(w · x)
    struct Residual;
    impl Program for Residual {
        fn run<S: Scalar>(&self, p: &[S]) -> S {
            let (x, w) = (p[0], p[1]);
            x + (w * x).relu()
        }
    }

    /// h = w · x is used three times: y = h · h + exp(h).
    struct FanOut;
    impl Program for FanOut {
        fn run<S: Scalar>(&self, p: &[S]) -> S {
            let h = p[0] * p[1];
            h * h + h.exp()
        }
    }

    /// Eight residual blocks x ← x + tanh(w_i · x + b_i) − relu(x), then x · x.
    struct Stack;
    impl Program for Stack {
        fn run<S: Scalar>(&self, p: &[S]) -> S {
            let mut x = p[0];
            for wb in p[1..].chunks(2) {
                x = x + ((wb[0] * x + wb[1]).tanh() - x.relu());
            }
            x * x
        }
    }

    /// The summed squared error of main's two-layer MLP on three points.
    struct Mlp;
    impl Program for Mlp {
        fn run<S: Scalar>(&self, p: &[S]) -> S {
            let (params, data) = p.split_at(p.len() - 6);
            let squared_error = |xt: &[S]| {
                let mut out = params[9];
                for j in 0..3 {
                    let (w, b, v) = (params[3 * j], params[3 * j + 1], params[3 * j + 2]);
                    out = out + v * (w * xt[0] + b).tanh();
                }
                let err = out - xt[1];
                err * err
            };
            data.chunks(2).map(squared_error).reduce(|a, b| a + b).expect("three points")
        }
    }

    /// A random program: each step applies one op to earlier values, picked
    /// by index, so values are reused (fanned out) at random.
    #[derive(Debug)]
    struct Random(Vec<(u8, Index, Index)>);
    impl Program for Random {
        fn run<S: Scalar>(&self, p: &[S]) -> S {
            let mut v = p.to_vec();
            for (op, a, b) in &self.0 {
                let (a, b) = (v[a.index(v.len())], v[b.index(v.len())]);
                v.push(match op {
                    0 => a + b,
                    1 => a - b,
                    2 => a * b,
                    3 => a.relu(),
                    4 => a.tanh(),
                    _ => a.exp(),
                });
            }
            v[v.len() - 1]
        }
    }

    #[test]
    fn the_skip_sends_one_and_the_branch_sends_w_where_it_is_active() {
        // dy/dx = 1 (the add's slope) + w · 1[w·x > 0] (the mul's slope w, times relu's)
        assert_eq!(same_on_both(&Residual, &[2.0, 0.5]), vec![1.5, 2.0]);
        // A dead branch passes nothing back, and the skip still delivers its 1.
        assert_eq!(same_on_both(&Residual, &[2.0, -0.5]), vec![1.0, 0.0]);
    }

    #[test]
    fn a_value_used_three_times_receives_the_sum_of_three_shares() {
        // y = h² + eʰ with h = x·w: dy/dh = 2h + eʰ, so dy/dx = (2h + eʰ) · w.
        // With h = 1 the shares are e (from exp), then 1 and 1 (from h · h), added
        // in the sweep's order: the exp entry is later on the tape than the mul.
        let (x, w) = (0.5_f32, 2.0_f32);
        let g = same_on_both(&FanOut, &[x, w]);
        assert_eq!(g[0], (1.0_f32.exp() + 1.0 + 1.0) * w);
    }

    #[test]
    fn the_engine_fits_in_120_lines() {
        // The engine runs from the start of the `tape` anchor to the end of the
        // `backward` anchor: comments and blank lines count, marker lines do not.
        let lines: Vec<&str> = include_str!("tiny_tape.rs").lines().collect();
        let marker = |kind: &str, name: &str| format!("// {kind}: {name}");
        let at = |m: String| lines.iter().position(|l| l.trim() == m).expect("marker");
        let (start, end) =
            (at(marker("ANCHOR", "tape")), at(marker("ANCHOR_END", "backward")));
        let engine =
            lines[start..=end].iter().filter(|l| !l.contains("// ANCHOR")).count();
        assert!(engine <= 120, "the engine has grown to {engine} lines");
        assert_eq!(
            engine, 118,
            "the book says 118 lines: update the chapter and this test"
        );
    }

    proptest! {
        #[test]
        fn a_residual_block_matches_the_full_engine(x in -3.0f32..3.0, w in -3.0f32..3.0) {
            same_on_both(&Residual, &[x, w]);
        }

        #[test]
        fn fan_out_matches_the_full_engine(x in -2.0f32..2.0, w in -2.0f32..2.0) {
            same_on_both(&FanOut, &[x, w]);
        }

        #[test]
        fn a_stack_of_eight_residual_blocks_matches_the_full_engine(
            p in prop::collection::vec(-1.5f32..1.5, 17),
        ) {
            same_on_both(&Stack, &p);
        }

        #[test]
        fn a_two_layer_mlp_loss_matches_the_full_engine(
            p in prop::collection::vec(-1.0f32..1.0, 16),
        ) {
            same_on_both(&Mlp, &p);
        }

        #[test]
        fn random_programs_match_the_full_engine(
            inputs in prop::collection::vec(-2.0f32..2.0, 1..4),
            steps in prop::collection::vec((0u8..6, any::<Index>(), any::<Index>()), 1..20),
        ) {
            let program = Random(steps);
            // Chains of exp and mul can overflow f32; such programs say nothing here.
            let tape = Tape::default();
            let xs: Vec<Var> = inputs.iter().map(|&v| tape.leaf(v)).collect();
            let out = program.run(&xs);
            let g = tape.backward(out);
            let finite = tape.nodes.borrow().iter().all(|n| n.value.is_finite());
            prop_assume!(finite && xs.iter().all(|&x| g[x].is_finite()));
            same_on_both(&program, &inputs);
        }
    }
}
