//! The tape: a Wengert list of every value computed, in execution order.
//!
//! Each entry (a `Node`) holds its value, the indices of its inputs and the
//! rule that turns the gradient of its output into gradients of its inputs.
//! Because an entry can only refer to entries recorded before it, walking
//! the list backwards visits every node after everything that uses it: the
//! reverse sweep needs no graph search and no recursion.
//!
//! ```
//! use resgrad::{Tape, Tensor};
//! let tape = Tape::new();
//! let x = tape.leaf(Tensor::from_vec(vec![-1.0, 0.5, 2.0], [3]));
//! let y = (x + x.relu()).sum();          // y = sum(x + relu(x))
//! let grads = tape.backward(y);
//! // The skip path gives 1, the branch adds 1 where x > 0.
//! assert_eq!(grads[x].data(), &[1.0, 2.0, 2.0]);
//! ```
//!
//! Reading order: recording (`leaf`, `push`), then the reverse sweep
//! (`backward`, the function `sweep`, `accumulate`). Anomaly mode's checks
//! live in [`anomaly`] and are called from here by one-line
//! hooks. The last section of this file, "Off the main path", holds the
//! sweep with its options (anomaly checks, freeing gradients early), the
//! listing and the read-only views used by the exporters: skip it on a
//! first reading.

use crate::anomaly;
use crate::kernels;
use crate::shape::Shape;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

// ANCHOR: backward_trait
/// The backward rule of an op: how the gradient of the output becomes
/// gradients of the inputs (a vector-Jacobian product).
///
/// A rule never adds into anything: it *returns* one gradient per input, in
/// input order, each with that input's shape, and the tape sums them. That
/// is why a value used twice, like `x` in `x + F(x)`, gets both
/// contributions without any special case.
pub trait Backward {
    /// Short name used in listings, traces and error messages (`"matmul"`).
    fn name(&self) -> &'static str;

    /// Given the inputs' values `x`, the op's output `y` and `dy = dL/dy`,
    /// returns `dL/dx_i` for each input.
    fn backward(&self, x: &[&Tensor], y: &Tensor, dy: &Tensor) -> Vec<Tensor>;

    /// Parameters worth showing in a listing, such as `axis=1` (empty if none).
    fn detail(&self) -> String {
        String::new()
    }

    /// True for ops that write `±∞` on purpose (the causal mask's `−∞`):
    /// [anomaly mode](crate::anomaly) then reports only NaN from them.
    fn produces_infinity(&self) -> bool {
        false
    }
}
// ANCHOR_END: backward_trait

/// What produced a node: an input to the computation, or an op with its rule.
enum Origin {
    /// A value whose gradient the caller wants (an input, a parameter).
    Leaf,
    /// A value that needs no gradient (data, targets, masks).
    Constant,
    /// The result of an op; `rule` computes the inputs' gradients.
    Op(Box<dyn Backward>),
}

/// One entry of the Wengert list.
struct Node {
    value: Arc<Tensor>,
    inputs: SmallVec<[usize; 3]>,
    origin: Origin,
    /// True if some leaf reaches this node; false for constants and for ops
    /// on constants only, which the reverse sweep skips.
    requires_grad: bool,
    label: Option<String>,
}

/// A recording of a computation, ready to be differentiated.
///
/// Create one tape per forward pass (per training step), record leaves and
/// ops on it through [`Var`] handles, then call [`Tape::backward`].
pub struct Tape {
    nodes: RefCell<Vec<Node>>,
    id: u64,
    /// Anomaly mode: check every value and gradient for NaN and infinities.
    anomaly: Cell<bool>,
}

static NEXT_TAPE_ID: AtomicU64 = AtomicU64::new(0);

/// A handle to one node of a [`Tape`]: cheap to copy, and what every op
/// takes and returns.
#[derive(Clone, Copy)]
pub struct Var<'t> {
    tape: &'t Tape,
    id: usize,
}

impl Default for Tape {
    fn default() -> Tape {
        Tape::new()
    }
}

impl Tape {
    /// An empty tape.
    pub fn new() -> Tape {
        Tape {
            nodes: RefCell::new(Vec::new()),
            id: NEXT_TAPE_ID.fetch_add(1, Ordering::Relaxed),
            anomaly: Cell::new(false),
        }
    }

    // ANCHOR: detect_anomaly
    /// Turns [anomaly mode](crate::anomaly) on or off for what is recorded
    /// and swept from now on. When on, the first op whose forward pass or
    /// backward rule turns finite values into a NaN or an infinity panics
    /// with its tape index, name, listing line and the statistics of its
    /// inputs and output; so does a value whose gradients are finite one by
    /// one but overflow when the sweep sums them (fan-out). Off by default:
    /// the checks read every value again.
    ///
    /// ```should_panic
    /// use resgrad::{Tape, Tensor};
    /// let tape = Tape::new();
    /// tape.set_detect_anomaly(true);
    /// let x = tape.leaf(Tensor::from_vec(vec![1.0, 0.0, 2.0], [3]));
    /// let y = x.log(); // panics: "anomaly: #1 log turned finite inputs into 1 non-finite value"
    /// ```
    pub fn set_detect_anomaly(&self, on: bool) {
        self.anomaly.set(on);
    }

    /// True if anomaly mode is on.
    pub fn detect_anomaly(&self) -> bool {
        self.anomaly.get()
    }
    // ANCHOR_END: detect_anomaly
}

// ANCHOR: leaf_and_constant
impl Tape {
    /// Records an input whose gradient [`backward`](Tape::backward) will report.
    #[track_caller]
    pub fn leaf(&self, value: Tensor) -> Var<'_> {
        self.record(Arc::new(value), &[], Origin::Leaf)
    }

    /// Records a leaf whose value is shared with its owner (a parameter
    /// store) instead of copied into the tape.
    #[track_caller]
    pub(crate) fn leaf_shared(&self, value: Arc<Tensor>) -> Var<'_> {
        self.record(value, &[], Origin::Leaf)
    }

    /// Records an input that needs no gradient, such as data or targets.
    /// Ops on constants alone are skipped by the reverse sweep.
    #[track_caller]
    pub fn constant(&self, value: Tensor) -> Var<'_> {
        self.record(Arc::new(value), &[], Origin::Constant)
    }
}
// ANCHOR_END: leaf_and_constant

// ANCHOR: push
impl Tape {
    /// Records the result of an op: its value, its inputs, and the rule that
    /// differentiates it. Every op in [`ops`](crate::ops) ends with this call;
    /// there is no way to record an op without a backward rule.
    #[track_caller]
    pub fn push(
        &self,
        value: Tensor,                 // the op's output
        inputs: &[Var<'_>],            // what it was computed from
        rule: impl Backward + 'static, // how to differentiate it
    ) -> Var<'_> {
        for &input in inputs {
            self.check_owns(input, rule.name(), Role::Input);
        }
        self.record(Arc::new(value), inputs, Origin::Op(Box::new(rule)))
    }

    /// Appends a node. It needs a gradient if it is a leaf or if one of its
    /// inputs needs one.
    #[track_caller]
    fn record(&self, value: Arc<Tensor>, inputs: &[Var<'_>], origin: Origin) -> Var<'_> {
        anomaly::check_forward(self, &value, inputs, origin.rule()); // only if turned on
        let mut nodes = self.nodes.borrow_mut();
        let requires_grad = match &origin {
            Origin::Leaf => true,
            Origin::Constant => false,
            Origin::Op(_) => inputs.iter().any(|v| nodes[v.id].requires_grad),
        };
        let inputs = inputs.iter().map(|v| v.id).collect();
        nodes.push(Node { value, inputs, origin, requires_grad, label: None });
        Var { tape: self, id: nodes.len() - 1 }
    }
}
// ANCHOR_END: push

impl Tape {
    /// Number of recorded nodes.
    pub fn len(&self) -> usize {
        self.nodes.borrow().len()
    }

    /// True if nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The gradient of a scalar `loss` with respect to every node that
    /// reaches it. Panics if `loss` holds more than one element; use
    /// [`backward_with`](Tape::backward_with) to pull back any upstream
    /// gradient.
    ///
    /// The tape is not consumed or changed: calling `backward` a second time
    /// computes the same gradients again into a fresh [`Grads`]. Nothing
    /// accumulates across calls (unlike PyTorch's `.grad` fields); to
    /// accumulate, add the returned gradients yourself.
    #[track_caller]
    pub fn backward(&self, loss: Var<'_>) -> Grads {
        let shape = loss.shape();
        if shape.numel() != 1 {
            panic!(
                "backward: the output has shape {shape} ({} elements), but backward() starts \
                 from a scalar loss\n  reduce it first (.sum() or .mean()), or call \
                 tape.backward_with(output, dy) with an upstream gradient dy of shape {shape}",
                shape.numel()
            );
        }
        self.backward_keeping_all(loss, Tensor::ones(shape), "backward")
    }

    /// The vector-Jacobian product: given `dy`, an upstream gradient with the
    /// output's shape, returns `dy · d(output)/d(node)` for every node that
    /// reaches `output`. With `dy = 1` on a scalar this is the gradient.
    #[track_caller]
    pub fn backward_with(&self, output: Var<'_>, dy: Tensor) -> Grads {
        self.backward_keeping_all(output, dy, "backward_with")
    }

    /// `backward` and `backward_with`: checks the seed, then runs the sweep,
    /// or in anomaly mode the same sweep with its checks.
    #[track_caller]
    fn backward_keeping_all(&self, output: Var<'_>, dy: Tensor, op: &str) -> Grads {
        self.check_seed(output, &dy, op);
        let grads = if self.detect_anomaly() {
            self.sweep_with(output.id, dy, Keep::All)
        } else {
            sweep(&self.nodes.borrow(), output.id, dy)
        };
        Grads { grads, tape_id: self.id, freed: Vec::new() }
    }

    // ANCHOR: backward_leaves
    /// Like [`backward`](Tape::backward), but keeps only the gradients of
    /// leaves (inputs and parameters), which is all a training step needs.
    /// Every other node's gradient is freed as soon as its rule has used it,
    /// so the sweep holds only the gradients still on their way down: for a
    /// transformer block that roughly halves the memory a step needs at its
    /// peak. Asking the result for an op's gradient panics and says so.
    #[track_caller]
    pub fn backward_leaves(&self, loss: Var<'_>) -> Grads {
        let shape = loss.shape();
        if shape.numel() != 1 {
            panic!(
                "backward_leaves: the output has shape {shape} ({} elements), but backward starts \
                 from a scalar loss\n  reduce it first (.sum() or .mean())",
                shape.numel()
            );
        }
        let dy = Tensor::ones(shape);
        self.check_seed(loss, &dy, "backward_leaves");
        let grads = self.sweep_with(loss.id, dy, Keep::Leaves);
        let freed = self
            .nodes
            .borrow()
            .iter()
            .map(|n| matches!(n.origin, Origin::Op(_)))
            .collect();
        Grads { grads, tape_id: self.id, freed }
    }
    // ANCHOR_END: backward_leaves
}

// ANCHOR: backward_loop
/// The reverse sweep: from `output`, seeded with `dy`, to every node's gradient.
fn sweep(nodes: &[Node], output: usize, dy: Tensor) -> Vec<Option<Tensor>> {
    let mut grads = vec![None; output + 1]; // one slot per node up to the output
    grads[output] = Some(dy);
    // Walking the ids downwards visits each node after every node that uses it.
    for id in (0..=output).rev() {
        let node = &nodes[id];
        let Origin::Op(rule) = &node.origin else { continue }; // leaves keep theirs
        if !node.requires_grad {
            continue; // only constants below: nobody wants these gradients
        }
        let Some(dy) = grads[id].take() else { continue }; // does not reach the output
        let x = input_values(nodes, node);
        let dx = rule.backward(&x, &node.value, &dy);
        check_rule_output(rule.name(), id, &x, &dx);
        for (&i, dx) in node.inputs.iter().zip(dx) {
            if nodes[i].requires_grad {
                accumulate(&mut grads[i], dx); // the engine's only `+=`
            }
        }
        grads[id] = Some(dy); // back in its slot: `backward` reports every gradient
    }
    grads
}
// ANCHOR_END: backward_loop

// ANCHOR: accumulate
/// Adds a gradient contribution into a slot: the first one is moved in, later
/// ones are summed. Fan-out (a value used by several ops) becomes a sum here.
fn accumulate(slot: &mut Option<Tensor>, dx: Tensor) {
    match slot {
        None => *slot = Some(dx),
        Some(g) => kernels::add_assign(g.data_mut(), dx.data()),
    }
}
// ANCHOR_END: accumulate

/// The values of `node`'s inputs, in input order: what its rule takes as `x`.
fn input_values<'a>(nodes: &'a [Node], node: &Node) -> SmallVec<[&'a Tensor; 3]> {
    node.inputs.iter().map(|&i| &*nodes[i].value).collect()
}

impl<'t> Var<'t> {
    /// The tape this node lives on.
    pub fn tape(&self) -> &'t Tape {
        self.tape
    }

    /// The node's position on the tape (its `#id` in listings).
    pub fn id(&self) -> usize {
        self.id
    }

    /// The node's value. Cheap: values are shared, not copied.
    pub fn value(&self) -> Arc<Tensor> {
        Arc::clone(&self.tape.nodes.borrow()[self.id].value)
    }

    /// The shape of the node's value.
    pub fn shape(&self) -> Shape {
        self.tape.nodes.borrow()[self.id].value.shape().clone()
    }

    /// Names the node in listings, DOT graphs and traces; returns the same node.
    pub fn label(self, name: impl Into<String>) -> Var<'t> {
        self.tape.nodes.borrow_mut()[self.id].label = Some(name.into());
        self
    }

    /// True if some leaf reaches this node, so that it will receive a gradient.
    pub fn requires_grad(&self) -> bool {
        self.tape.nodes.borrow()[self.id].requires_grad
    }
}

impl fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Var(#{} {})", self.id, self.shape())
    }
}

/// The result of a reverse sweep: one gradient per node that reaches the
/// output, looked up by [`Var`].
///
/// ```
/// use resgrad::{Tape, Tensor};
/// let tape = Tape::new();
/// let a = tape.leaf(Tensor::scalar(3.0));
/// let unused = tape.leaf(Tensor::scalar(1.0));
/// let g = tape.backward(a * a);
/// assert_eq!(g[a].item(), 6.0);        // d(a^2)/da = 2a
/// assert!(g.get(unused).is_none());    // does not reach the output
/// ```
#[derive(Clone, Debug)]
pub struct Grads {
    grads: Vec<Option<Tensor>>,
    tape_id: u64,
    /// From `backward_leaves`: true for the nodes whose gradients were freed.
    freed: Vec<bool>,
}

impl Grads {
    /// The gradient of `var`, or `None` if it does not reach the output or
    /// needs no gradient (a constant).
    #[track_caller]
    pub fn get(&self, var: Var<'_>) -> Option<&Tensor> {
        if var.tape.id != self.tape_id {
            panic!(
                "Grads::get: #{} is from a different tape than these gradients\n  \
                 look it up in the Grads returned by backward on the tape that recorded it",
                var.id
            );
        }
        if self.freed.get(var.id) == Some(&true) {
            panic!(
                "Grads::get: the gradient of #{} was freed during the sweep\n  \
                 backward_leaves keeps only the gradients of leaves (inputs and parameters); \
                 call tape.backward(loss) to keep every node's gradient",
                var.id
            );
        }
        self.grads.get(var.id).and_then(|g| g.as_ref())
    }

    /// Gradients by node id, in tape order (`None` where there is none,
    /// including the op gradients that `backward_leaves` freed).
    pub fn by_id(&self, id: usize) -> Option<&Tensor> {
        self.grads.get(id).and_then(|g| g.as_ref())
    }
}

impl std::ops::Index<Var<'_>> for Grads {
    type Output = Tensor;

    #[track_caller]
    fn index(&self, var: Var<'_>) -> &Tensor {
        match self.get(var) {
            Some(g) => g,
            None => panic!(
                "no gradient for #{}: it does not lie on a path to the output, or it is a \
                 constant\n  use grads.get(var) to handle that case, or record it with tape.leaf",
                var.id
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Off the main path: the sweep with its options, the checks that name what
// went wrong, the listing, and the read-only views used by the exporters.
// ---------------------------------------------------------------------------

/// Which gradients a sweep keeps.
#[derive(Clone, Copy, PartialEq)]
enum Keep {
    /// Every node's (`backward`, `backward_with`).
    All,
    /// Only the leaves' (`backward_leaves`): an op's gradient is dropped as
    /// soon as its rule has used it.
    Leaves,
}

/// Where a `Var` passed to the tape was meant to be used, for the message
/// that says it is from another tape.
#[derive(Clone, Copy)]
enum Role {
    /// An input of an op (`push`).
    Input,
    /// The output a backward pass starts from.
    Output,
}

impl Origin {
    /// The backward rule, for ops.
    fn rule(&self) -> Option<&dyn Backward> {
        match self {
            Origin::Op(rule) => Some(rule.as_ref()),
            Origin::Leaf | Origin::Constant => None,
        }
    }

    /// The name a listing shows: the op's, or `leaf` or `const`.
    fn name(&self) -> &'static str {
        match self {
            Origin::Leaf => "leaf",
            Origin::Constant => "const",
            Origin::Op(rule) => rule.name(),
        }
    }

    /// The op's parameters for a listing (empty for leaves and constants).
    fn detail(&self) -> String {
        self.rule().map_or_else(String::new, |rule| rule.detail())
    }
}

impl Tape {
    /// The reverse sweep of `sweep`, with its two options: anomaly mode's
    /// checks (each hook returns at once when the mode is off) and, with
    /// `Keep::Leaves`, freeing each op's gradient once its rule has used it.
    ///
    /// Apart from the hooks and the freeing, this is `sweep` line for line:
    /// change one, change the other. The test
    /// `every_sweep_gives_the_same_gradients_bit_for_bit` (tests/tape.rs)
    /// checks that they agree.
    #[track_caller]
    fn sweep_with(&self, output: usize, dy: Tensor, keep: Keep) -> Vec<Option<Tensor>> {
        let nodes = self.nodes.borrow();
        let mut grads = vec![None; output + 1];
        grads[output] = Some(dy);
        for id in (0..=output).rev() {
            let node = &nodes[id];
            let Origin::Op(rule) = &node.origin else { continue };
            if !node.requires_grad {
                continue;
            }
            let Some(dy) = grads[id].take() else { continue };
            let x = input_values(&nodes, node);
            let dx = rule.backward(&x, &node.value, &dy);
            anomaly::check_rule(self, id, rule.as_ref(), &node.inputs, &x, &dy, &dx);
            check_rule_output(rule.name(), id, &x, &dx);
            for (&i, dx) in node.inputs.iter().zip(dx) {
                if nodes[i].requires_grad {
                    anomaly::check_sum(
                        self,
                        i,
                        id,
                        rule.as_ref(),
                        grads[i].as_ref(),
                        &dx,
                    );
                    accumulate(&mut grads[i], dx);
                }
            }
            if keep == Keep::All {
                grads[id] = Some(dy);
            } // with Keep::Leaves, dy is dropped here
        }
        grads
    }

    /// Checks that a backward pass can start from `output` with seed `dy`.
    #[track_caller]
    fn check_seed(&self, output: Var<'_>, dy: &Tensor, op: &str) {
        self.check_owns(output, op, Role::Output);
        let nodes = self.nodes.borrow();
        if dy.shape() != nodes[output.id].value.shape() {
            panic!(
                "{op}: dy has shape {} but the output has shape {}\n  \
                 the upstream gradient must have exactly the output's shape",
                dy.shape(),
                nodes[output.id].value.shape()
            );
        }
    }

    /// Panics unless `var` was recorded on this tape: the one place that
    /// checks it and says so, naming `op`.
    #[track_caller]
    #[inline(always)]
    fn check_owns(&self, var: Var<'_>, op: &str, role: Role) {
        if !std::ptr::eq(var.tape, self) {
            not_owned(var, op, role);
        }
    }

    /// The listing line of node `id`, as `Display` prints it (without the label).
    pub(crate) fn listing_line(&self, id: usize) -> String {
        let mut line = String::new();
        let _ = self.nodes.borrow()[id].write_line(&mut line, id);
        line
    }

    /// Calls `f` with a view of every node, in order (used by the trace exporters).
    pub(crate) fn for_each_node(&self, mut f: impl FnMut(NodeView<'_>)) {
        let nodes = self.nodes.borrow();
        for (id, node) in nodes.iter().enumerate() {
            f(NodeView {
                id,
                op: node.origin.name(),
                detail: node.origin.detail(),
                value: &node.value,
                inputs: &node.inputs,
                input_values: input_values(&nodes, node),
                input_requires_grad: node
                    .inputs
                    .iter()
                    .map(|&i| nodes[i].requires_grad)
                    .collect(),
                requires_grad: node.requires_grad,
                rule: node.origin.rule(),
                label: node.label.as_deref(),
            });
        }
    }
}

/// The panic of `Tape::check_owns`, kept out of line: every op passes
/// through the check, and almost never here.
#[track_caller]
#[cold]
fn not_owned(var: Var<'_>, op: &str, role: Role) -> ! {
    let (what, hint) = match role {
        Role::Input => {
            ("input ", "every Var of one computation must come from the same Tape".into())
        }
        Role::Output => ("", format!("call {op} on the tape that recorded the output")),
    };
    panic!("{op}: {what}#{} was recorded on a different tape\n  {hint}", var.id);
}

/// A read-only look at one node, for printing and export.
pub(crate) struct NodeView<'a> {
    pub id: usize,
    pub op: &'static str,
    pub detail: String,
    pub value: &'a Tensor,
    pub inputs: &'a [usize],
    /// The inputs' values, in input order.
    pub input_values: SmallVec<[&'a Tensor; 3]>,
    /// Whether each input takes a gradient (false for constants).
    pub input_requires_grad: SmallVec<[bool; 3]>,
    pub requires_grad: bool,
    /// The backward rule, for ops (None for leaves and constants).
    pub rule: Option<&'a dyn Backward>,
    pub label: Option<&'a str>,
}

/// A rule that returns the wrong number of gradients or a gradient of the
/// wrong shape is a bug in that rule; say which one.
fn check_rule_output(name: &str, id: usize, x: &[&Tensor], dx: &[Tensor]) {
    assert!(
        dx.len() == x.len(),
        "backward rule of `{name}` (node #{id}) returned {} gradients for {} inputs",
        dx.len(),
        x.len()
    );
    for (i, (x, dx)) in x.iter().zip(dx).enumerate() {
        assert!(
            x.shape() == dx.shape(),
            "backward rule of `{name}` (node #{id}) returned a gradient of shape {} for \
             input {i} of shape {}",
            dx.shape(),
            x.shape()
        );
    }
}

impl Node {
    /// This node's line of the listing, without its label.
    fn write_line(&self, out: &mut impl fmt::Write, id: usize) -> fmt::Result {
        write_line(
            out,
            id,
            self.origin.name(),
            &self.origin.detail(),
            self.value.shape(),
            &self.inputs,
        )
    }
}

/// Writes one line of the listing, without the label:
/// `#7 add [2, 4] <- #3, #6`, or `#9 sum_axis(axis=1) [2] <- #8`.
/// `Display` and anomaly mode's reports both write their lines with it.
pub(crate) fn write_line(
    out: &mut impl fmt::Write,
    id: usize,
    op: &str,
    detail: &str,
    shape: &Shape,
    inputs: &[usize],
) -> fmt::Result {
    write!(out, "#{id} {op}")?;
    if !detail.is_empty() {
        write!(out, "({detail})")?;
    }
    write!(out, " {shape}")?;
    for (k, i) in inputs.iter().enumerate() {
        write!(out, "{}#{i}", if k == 0 { " <- " } else { ", " })?;
    }
    Ok(())
}

impl fmt::Display for Tape {
    /// The numbered listing, one node per line: `#7 add [2, 4] <- #3, #6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (id, node) in self.nodes.borrow().iter().enumerate() {
            node.write_line(f, id)?;
            if let Some(label) = &node.label {
                write!(f, "  \"{label}\"")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Tape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
