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

use crate::kernels;
use crate::shape::Shape;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::cell::RefCell;
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
    anomaly: std::cell::Cell<bool>,
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
            anomaly: std::cell::Cell::new(false),
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

    /// The listing line of node `id`, as `Display` prints it.
    fn listing_line(&self, id: usize) -> String {
        let mut line = String::new();
        self.for_each_node(|n| {
            if n.id == id {
                line = format!("#{} {}", n.id, n.op);
                if !n.detail.is_empty() {
                    line += &format!("({})", n.detail);
                }
                line += &format!(" {}", n.value.shape());
                if !n.inputs.is_empty() {
                    let ins: Vec<String> = n.inputs.iter().map(|i| format!("#{i}")).collect();
                    line += &format!(" <- {}", ins.join(", "));
                }
            }
        });
        line
    }

    /// Anomaly mode's check of a value about to be recorded as node `id`.
    #[track_caller]
    fn check_forward(&self, id: usize, value: &Tensor, inputs: &[Var<'_>], rule: Option<&dyn Backward>) {
        let out = crate::anomaly::ValueStats::of(value);
        if out.all_finite() {
            return;
        }
        let nodes = self.nodes.borrow();
        let ins: Vec<_> = inputs.iter().map(|v| crate::anomaly::ValueStats::of(&nodes[v.id].value)).collect();
        let may_be_infinite = rule.is_some_and(|r| r.produces_infinity());
        if !crate::anomaly::is_new(&out, &ins, may_be_infinite) {
            return;
        }
        let Some(rule) = rule else {
            panic!(
                "anomaly: input #{id} {} holds non-finite values: {out}\n  \
                 the data or parameters fed to the tape are already broken; check where they were \
                 loaded or last updated",
                value.shape()
            );
        };
        let mut report = format!(
            "anomaly: #{id} {} turned finite inputs into {} non-finite value{} in its forward pass\n  \
             #{id} {}{} {}",
            rule.name(),
            out.nan + out.inf,
            if out.nan + out.inf == 1 { "" } else { "s" },
            rule.name(),
            if rule.detail().is_empty() { String::new() } else { format!("({})", rule.detail()) },
            value.shape(),
        );
        if !inputs.is_empty() {
            let ids: Vec<String> = inputs.iter().map(|v| format!("#{}", v.id)).collect();
            report += &format!(" <- {}", ids.join(", "));
        }
        report += &format!("\n  output: {out}");
        for (v, s) in inputs.iter().zip(&ins) {
            report += &format!("\n  input #{} {}: {s}", v.id, nodes[v.id].value.shape());
        }
        report += "\n  the inputs were finite, so this op made the first bad value: look for what it cannot \
                   take (log or division at 0, exp of a large number) in the inputs above; print the tape \
                   to see where they come from";
        drop(nodes);
        panic!("{report}");
    }

    // ANCHOR: leaf_and_constant
    /// Records an input whose gradient [`backward`](Tape::backward) will report.
    #[track_caller]
    pub fn leaf(&self, value: Tensor) -> Var<'_> {
        self.record(value, &[], Origin::Leaf, true)
    }

    /// Records a leaf whose value is shared with its owner (a parameter
    /// store) instead of copied into the tape.
    #[track_caller]
    pub(crate) fn leaf_shared(&self, value: Arc<Tensor>) -> Var<'_> {
        if self.anomaly.get() {
            self.check_forward(self.len(), &value, &[], None); // a parameter gone bad
        }
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node {
            value,
            inputs: SmallVec::new(),
            origin: Origin::Leaf,
            requires_grad: true,
            label: None,
        });
        Var { tape: self, id: nodes.len() - 1 }
    }

    /// Records an input that needs no gradient, such as data or targets.
    /// Ops on constants alone are skipped by the reverse sweep.
    #[track_caller]
    pub fn constant(&self, value: Tensor) -> Var<'_> {
        self.record(value, &[], Origin::Constant, false)
    }
    // ANCHOR_END: leaf_and_constant

    // ANCHOR: push
    /// Records the result of an op: its value, its inputs, and the rule that
    /// differentiates it. Every op in [`ops`](crate::ops) ends with this call;
    /// there is no way to record an op without a backward rule.
    #[track_caller]
    pub fn push(&self, value: Tensor, inputs: &[Var<'_>], rule: impl Backward + 'static) -> Var<'_> {
        for input in inputs {
            if !std::ptr::eq(input.tape, self) {
                panic!(
                    "{}: input #{} was recorded on a different tape\n  \
                     every Var of one computation must come from the same Tape",
                    rule.name(),
                    input.id
                );
            }
        }
        let requires_grad = {
            let nodes = self.nodes.borrow();
            inputs.iter().any(|v| nodes[v.id].requires_grad)
        };
        if self.anomaly.get() {
            self.check_forward(self.len(), &value, inputs, Some(&rule));
        }
        self.record(value, inputs, Origin::Op(Box::new(rule)), requires_grad)
    }
    // ANCHOR_END: push

    #[track_caller]
    fn record(&self, value: Tensor, inputs: &[Var<'_>], origin: Origin, requires_grad: bool) -> Var<'_> {
        if self.anomaly.get() && inputs.is_empty() {
            self.check_forward(self.len(), &value, &[], None); // a leaf or a constant
        }
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node {
            value: Arc::new(value),
            inputs: inputs.iter().map(|v| v.id).collect(),
            origin,
            requires_grad,
            label: None,
        });
        Var { tape: self, id: nodes.len() - 1 }
    }

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
        self.seeded_backward(loss, Tensor::ones(shape), "backward", true)
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
        self.seeded_backward(loss, Tensor::ones(shape), "backward_leaves", false)
    }
    // ANCHOR_END: backward_leaves

    // ANCHOR: backward_loop
    /// The vector-Jacobian product: given `dy`, an upstream gradient with the
    /// output's shape, returns `dy · d(output)/d(node)` for every node that
    /// reaches `output`. With `dy = 1` on a scalar this is the gradient.
    #[track_caller]
    pub fn backward_with(&self, output: Var<'_>, dy: Tensor) -> Grads {
        self.seeded_backward(output, dy, "backward_with", true)
    }

    #[track_caller]
    fn seeded_backward(&self, output: Var<'_>, dy: Tensor, op: &str, keep_all: bool) -> Grads {
        self.check_owns(output, op);
        let nodes = self.nodes.borrow();
        let root = output.id;
        if dy.shape() != nodes[root].value.shape() {
            panic!(
                "{op}: dy has shape {} but the output has shape {}\n  \
                 the upstream gradient must have exactly the output's shape",
                dy.shape(),
                nodes[root].value.shape()
            );
        }
        let mut grads: Vec<Option<Tensor>> = vec![None; root + 1];
        grads[root] = Some(dy);

        // Nodes were recorded in execution order, so walking the ids downwards
        // visits each node after every node that uses it.
        for id in (0..=root).rev() {
            let node = &nodes[id];
            let Origin::Op(rule) = &node.origin else { continue }; // leaves keep theirs
            if !node.requires_grad {
                continue; // only constants below: nobody wants these gradients
            }
            let (below, here) = grads.split_at_mut(id);
            let Some(dy) = here[0].as_ref() else { continue }; // does not reach the output
            let x: SmallVec<[&Tensor; 3]> = node.inputs.iter().map(|&i| &*nodes[i].value).collect();
            let dx = rule.backward(&x, &node.value, dy);
            if self.anomaly.get() {
                check_backward(self, id, rule.as_ref(), &node.inputs, &x, dy, &dx);
            }
            check_rule_output(rule.name(), id, &x, &dx);
            for (&i, dx) in node.inputs.iter().zip(dx) {
                if nodes[i].requires_grad {
                    if self.anomaly.get()
                        && let Some(sum) = &below[i]
                    {
                        check_sum(self, i, id, rule.name(), sum, &dx);
                    }
                    accumulate(&mut below[i], dx); // the engine's only `+=`
                }
            }
            if !keep_all {
                here[0] = None; // used up: only leaves keep theirs
            }
        }
        let freed = if keep_all {
            Vec::new()
        } else {
            nodes.iter().map(|n| matches!(n.origin, Origin::Op(_))).collect()
        };
        Grads { grads, tape_id: self.id, freed }
    }
    // ANCHOR_END: backward_loop

    #[track_caller]
    fn check_owns(&self, var: Var<'_>, op: &str) {
        if !std::ptr::eq(var.tape, self) {
            panic!(
                "{op}: #{} was recorded on a different tape\n  \
                 call {op} on the tape that recorded the output",
                var.id
            );
        }
    }

    /// Calls `f` with a view of every node, in order (used by the trace exporters).
    pub(crate) fn for_each_node(&self, mut f: impl FnMut(NodeView<'_>)) {
        let nodes = self.nodes.borrow();
        for (id, node) in nodes.iter().enumerate() {
            let (op, detail, rule) = match &node.origin {
                Origin::Leaf => ("leaf", String::new(), None),
                Origin::Constant => ("const", String::new(), None),
                Origin::Op(rule) => (rule.name(), rule.detail(), Some(&**rule)),
            };
            let input_requires_grad: SmallVec<[bool; 3]> =
                node.inputs.iter().map(|&i| nodes[i].requires_grad).collect();
            f(NodeView {
                id,
                op,
                detail,
                value: &node.value,
                inputs: &node.inputs,
                input_values: node.inputs.iter().map(|&i| &*nodes[i].value).collect(),
                input_requires_grad,
                requires_grad: node.requires_grad,
                rule,
                label: node.label.as_deref(),
            });
        }
    }
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

/// Anomaly mode's check of the gradients a rule returned.
#[track_caller]
fn check_backward(
    tape: &Tape,
    id: usize,
    rule: &dyn Backward,
    inputs: &[usize],
    x: &[&Tensor],
    dy: &Tensor,
    dx: &[Tensor],
) {
    use crate::anomaly::{ValueStats, is_new};
    let dy_stats = ValueStats::of(dy);
    for (j, g) in dx.iter().enumerate() {
        let s = ValueStats::of(g);
        if s.all_finite() || !is_new(&s, &[dy_stats], false) {
            continue;
        }
        let mut report = format!(
            "anomaly: the backward rule of #{id} {} turned a finite upstream gradient into {} \
             non-finite value{} in the gradient of its input {j} (#{})\n  {}\n  gradient of #{}: {s}\n  \
             upstream dy: {dy_stats}",
            rule.name(),
            s.nan + s.inf,
            if s.nan + s.inf == 1 { "" } else { "s" },
            inputs[j],
            tape.listing_line(id),
            inputs[j],
        );
        for (k, v) in x.iter().enumerate() {
            report += &format!("\n  input #{} {}: {}", inputs[k], v.shape(), ValueStats::of(v));
        }
        report += "\n  the rule's derivative blows up at these inputs (1/x near 0, a huge slope); \
                   keep the inputs away from there, e.g. clamp before a log";
        panic!("{report}");
    }
}

/// Anomaly mode's check of a fan-out sum: gradients that are finite one by
/// one can overflow when `accumulate` adds them.
#[track_caller]
fn check_sum(tape: &Tape, slot: usize, from: usize, from_name: &str, sum: &Tensor, dx: &Tensor) {
    use crate::anomaly::ValueStats;
    let (before, added) = (ValueStats::of(sum), ValueStats::of(dx));
    if !before.all_finite() || !added.all_finite() {
        return; // not new: reported where it was made
    }
    let overflowed = sum.data().iter().zip(dx.data()).filter(|(a, b)| !(*a + *b).is_finite()).count();
    if overflowed == 0 {
        return;
    }
    panic!(
        "anomaly: the gradient of #{slot} overflowed to {overflowed} infinite value{} when the \
         contribution of #{from} {from_name} was added to it\n  {}\n  sum so far: {before}\n  \
         from #{from}: {added}\n  \
         #{slot} is used in several places and the sum of their gradients passes f32's largest value, \
         3.4e38; the gradients are far too large before they meet: look for what makes them grow \
         (a huge scale, exp of a large number) upstream of #{slot}",
        if overflowed == 1 { "" } else { "s" },
        tape.listing_line(slot),
    );
}

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

impl fmt::Display for Tape {
    /// The numbered listing, one node per line: `#7 add [2, 4] <- #3, #6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut result = Ok(());
        self.for_each_node(|n| {
            if result.is_err() {
                return;
            }
            result = (|| {
                write!(f, "#{} {}", n.id, n.op)?;
                if !n.detail.is_empty() {
                    write!(f, "({})", n.detail)?;
                }
                write!(f, " {}", n.value.shape())?;
                if !n.inputs.is_empty() {
                    let ins: Vec<String> = n.inputs.iter().map(|i| format!("#{i}")).collect();
                    write!(f, " <- {}", ins.join(", "))?;
                }
                if let Some(label) = n.label {
                    write!(f, "  \"{label}\"")?;
                }
                writeln!(f)
            })();
        });
        result
    }
}

impl fmt::Debug for Tape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
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
