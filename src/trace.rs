//! Seeing the tape: Graphviz DOT and a JSON trace.
//!
//! The numbered text listing is the tape's `Display`. The two exports here
//! add what a picture or a step-through viewer needs: DOT draws the graph
//! (one box per node, an arrow from each input); the JSON trace holds every
//! node's op, inputs, shape, value and gradient, in tape order, which is the
//! order of the forward pass (and, read backwards, of the reverse sweep).

use crate::tape::{Grads, Tape};
use crate::tensor::Tensor;
use std::fmt::Write;

impl Tape {
    // ANCHOR: to_dot
    /// The tape as a Graphviz `digraph`: one record per node showing
    /// `#id op`, its label, its shape and (given gradients) the gradient's
    /// norm. Residual joins (`add`) are shaded so skip paths stand out.
    ///
    /// Render with `dot -Tsvg tape.dot -o tape.svg`.
    pub fn to_dot(&self, grads: Option<&Grads>) -> String {
        let mut out = String::from(
            "digraph tape {\n  rankdir=BT;\n  ranksep=0.2;\n  nodesep=0.25;\n  \
             node [shape=record, fontname=\"monospace\", fontsize=11, height=0.3];\n",
        );
        self.for_each_node(|n| {
            let mut title = format!("#{} {}", n.id, n.op);
            if !n.detail.is_empty() {
                title.push_str(&format!("({})", n.detail));
            }
            if let Some(label) = n.label {
                title.push_str(&format!(" {label}"));
            }
            let mut fields =
                vec![dot_escape(&title), dot_escape(&n.value.shape().to_string())];
            if let Some(g) = grads.and_then(|g| g.by_id(n.id)) {
                fields.push(dot_escape(&format!("|grad| = {:.4}", g.norm())));
            }
            let style = match n.op {
                "add" => ", style=filled, fillcolor=\"#fff2b3\"",
                "leaf" => ", style=filled, fillcolor=\"#dbeafe\"",
                _ => "",
            };
            let _ = writeln!(out, "  n{} [label=\"{}\"{style}];", n.id, fields.join("|"));
            for &i in n.inputs {
                let _ = writeln!(out, "  n{i} -> n{};", n.id);
            }
        });
        out.push_str("}\n");
        out
    }
    // ANCHOR_END: to_dot

    // ANCHOR: to_json
    // ANCHOR: to_json_nodes
    /// The tape as JSON, for the book's step-through viewer:
    ///
    /// ```json
    /// {"format": "resgrad-trace", "version": 2, "nodes": [
    ///   {"id": 0, "op": "leaf", "detail": "", "label": "x", "inputs": [],
    ///    "shape": [2], "value": [1.0, -2.0], "grad": [1.0, 1.0], "sent": []},
    ///   ...]}
    /// ```
    ///
    /// `grad` is the node's gradient, the sum of everything it received;
    /// `sent` lists what the node's backward rule passed to each of its
    /// inputs (`{"to": id, "grad": [...]}`), so a reader can watch a
    /// gradient split at an op and add up at a node used twice. A node
    /// receives its contributions in decreasing order of the sender's id,
    /// the order of the reverse sweep, and summing them in that order gives
    /// its `grad` bit for bit.
    ///
    /// `grad` is `null` and `sent` empty for a node with no gradient (or
    /// when `grads` is `None`). Non-finite numbers, which JSON cannot
    /// write, appear as the strings `"inf"`, `"-inf"` and `"nan"`.
    pub fn to_json(&self, grads: Option<&Grads>) -> String {
        let mut out =
            String::from("{\"format\": \"resgrad-trace\", \"version\": 2, \"nodes\": [");
        let mut first = true;
        self.for_each_node(|n| {
            if !first {
                out.push(',');
            }
            first = false;
            let inputs: Vec<String> = n.inputs.iter().map(|i| i.to_string()).collect();
            let dims: Vec<String> =
                n.value.dims().iter().map(|d| d.to_string()).collect();
            let grad = grads.and_then(|g| g.by_id(n.id));
            // ANCHOR_END: to_json_nodes
            // ANCHOR: to_json_sent
            // Rerunning the rule on the final dy gives exactly what the
            // sweep passed down: the same rule on the same tensors.
            let mut sent = Vec::new();
            if let (Some(rule), Some(dy), true) = (n.rule, grad, n.requires_grad) {
                let dx = rule.backward(&n.input_values, n.value, dy);
                let wanted = n.inputs.iter().zip(&dx).zip(&n.input_requires_grad);
                for ((&to, dx), &wants) in wanted {
                    if wants {
                        let g = json_numbers(dx);
                        sent.push(format!("{{\"to\": {to}, \"grad\": {g}}}"));
                    }
                }
            }
            let _ = write!(
                out,
                "\n  {{\"id\": {}, \"op\": {}, \"detail\": {}, \"label\": {}, \
                 \"inputs\": [{}], \"shape\": [{}], \"value\": {}, \"grad\": {}, \
                 \"sent\": [{}]}}",
                n.id,
                json_string(n.op),
                json_string(&n.detail),
                n.label.map_or("null".to_string(), json_string),
                inputs.join(", "),
                dims.join(", "),
                json_numbers(n.value),
                grad.map_or("null".to_string(), json_numbers),
                sent.join(", "),
            );
        });
        out.push_str("\n]}\n");
        out
    }
    // ANCHOR_END: to_json_sent
    // ANCHOR_END: to_json
}

fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '{' | '}' | '|' | '<' | '>' | '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A flat JSON array of a tensor's values in row-major order.
fn json_numbers(t: &Tensor) -> String {
    let items: Vec<String> = t
        .data()
        .iter()
        .map(|&v| {
            if v.is_nan() {
                "\"nan\"".to_string()
            } else if v.is_infinite() {
                if v > 0.0 { "\"inf\"" } else { "\"-inf\"" }.to_string()
            } else {
                // `{:?}` writes the shortest string that reads back as the same
                // f32, always with a `.` or an exponent (e.g. `1.0`, `1e-7`).
                format!("{v:?}")
            }
        })
        .collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    #[test]
    fn dot_has_one_record_per_node_and_one_edge_per_input() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::ones([2])).label("x");
        let y = (x + x.relu()).sum();
        let g = tape.backward(y);
        let dot = tape.to_dot(Some(&g));
        assert_eq!(dot.matches("[label=").count(), 4);
        assert_eq!(dot.matches(" -> ").count(), 4); // x->relu, x->add, relu->add, add->sum
        assert!(dot.contains("#0 leaf x"), "{dot}");
    }

    #[test]
    fn json_trace_holds_values_gradients_and_non_finite_numbers() {
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from_vec(vec![0.5, -2.0], [1, 2])).label("x");
        let m = x.causal_mask();
        let json = tape.to_json(Some(&tape.backward_with(m, Tensor::ones([1, 2]))));
        assert!(json.contains("\"op\": \"causal_mask\""), "{json}");
        assert!(json.contains("\"value\": [0.5, \"-inf\"]"), "{json}");
        assert!(json.contains("\"label\": \"x\""), "{json}");
        assert!(json.contains("\"grad\": [1.0, 0.0]"), "{json}");
    }
}
