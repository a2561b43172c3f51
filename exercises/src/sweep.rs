//! Exercise 3: the reverse sweep, on a tape of scalars small enough to read
//! at once.
//!
//! A `MiniTape` records a computation as a list of nodes, in the order they
//! were computed. Each node keeps its value and, for each input, the local
//! derivative ∂node/∂input, worked out when the node was recorded. What is
//! left is the sweep: from the output's gradient, 1, to the gradient of the
//! output with respect to every node, by the adjoint recurrence
//!
//! ```text
//!   grad[i] = Σ over the nodes k that use node i of  grad[k] · ∂v_k/∂v_i
//! ```
//!
//! A node is only used by nodes recorded after it, so visiting the nodes
//! from last to first finishes every `grad[k]` before it is needed. A node
//! used twice (fan-out) appears in two terms of the sum.
//!
//! resgrad's `Tape` does the same with tensors: its nodes keep a backward
//! rule instead of a number, and its sweep calls the rule instead of
//! multiplying. Write `MiniTape::backward`, then run
//! `cargo test -p exercises --test sweep`.

/// One recorded value.
pub struct Node {
    /// The value computed.
    pub value: f32,
    /// For each input: its index on the tape and ∂(this value)/∂(that input).
    pub inputs: Vec<(usize, f32)>,
}

/// A list of scalar nodes in the order they were computed; a node is
/// referred to by its index.
#[derive(Default)]
pub struct MiniTape {
    /// The nodes, in recording order.
    pub nodes: Vec<Node>,
}

impl MiniTape {
    /// An empty tape.
    pub fn new() -> MiniTape {
        MiniTape::default()
    }

    /// The value of node `id`.
    pub fn value(&self, id: usize) -> f32 {
        self.nodes[id].value
    }

    /// Records an input.
    pub fn leaf(&mut self, value: f32) -> usize {
        self.record(value, vec![])
    }

    /// Records `a + b`: ∂/∂a = 1, ∂/∂b = 1.
    pub fn add(&mut self, a: usize, b: usize) -> usize {
        self.record(self.value(a) + self.value(b), vec![(a, 1.0), (b, 1.0)])
    }

    /// Records `a * b`: ∂/∂a = b, ∂/∂b = a.
    pub fn mul(&mut self, a: usize, b: usize) -> usize {
        let (va, vb) = (self.value(a), self.value(b));
        self.record(va * vb, vec![(a, vb), (b, va)])
    }

    /// Records `max(a, 0)`: ∂/∂a = 1 where a > 0, else 0.
    pub fn relu(&mut self, a: usize) -> usize {
        let va = self.value(a);
        self.record(va.max(0.0), vec![(a, if va > 0.0 { 1.0 } else { 0.0 })])
    }

    fn record(&mut self, value: f32, inputs: Vec<(usize, f32)>) -> usize {
        self.nodes.push(Node { value, inputs });
        self.nodes.len() - 1
    }
}

// ANCHOR: sweep
impl MiniTape {
    /// The gradient of node `output` with respect to every node: entry `i`
    /// is ∂(output)/∂(node i). Nodes recorded after `output`, and nodes it
    /// does not depend on, get 0.
    pub fn backward(&self, output: usize) -> Vec<f32> {
        // ---- your code: start ----
        todo!("a Vec of {} gradients; node {output} starts at 1", self.nodes.len())
        // ---- your code: end ----
    }
}
// ANCHOR_END: sweep
