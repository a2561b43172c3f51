//! One small residual block, recorded on a tape, differentiated,
//! checked and drawn.
//!
//! Run with `cargo run --release --example 00_tape`.
//!
//! It prints the tape as a numbered listing, the gradients that reach the
//! input (split into what the skip and the branch contribute), a gradcheck
//! of the whole block, and the tape as a Graphviz DOT graph.
//!
//! It also writes the tape as DOT and as the JSON trace that drives the
//! book's step-through (`tape_residual.dot`, `tape_residual.json`) into
//! `book/src/figures/`, or into `target/figures-quick/` with `--quick`.

use resgrad::check::gradcheck;
use resgrad::{Rng, Tape, Tensor, Var};

/// F(x) = relu(x W1 + b1) W2 + b2: a two-layer feed-forward branch.
fn branch<'t>(x: Var<'t>, w1: Var<'t>, b1: Var<'t>, w2: Var<'t>, b2: Var<'t>) -> Var<'t> {
    let h = x.matmul(w1).add_bias(b1).relu(); // [T, C] @ [C, hidden] -> [T, hidden]
    h.matmul(w2).add_bias(b2) // [T, hidden] @ [hidden, C] -> [T, C]
}

/// A line of DOT as printed: a node line over 90 characters breaks before
/// its style (DOT allows a line break between attributes), so the printed
/// graph fits the book's column and still renders the same.
fn fit(line: &str) -> String {
    match line.split_once("\", style=") {
        Some((label, style)) if line.chars().count() > 90 => {
            format!("{label}\",\n      style={style}")
        }
        _ => line.to_string(),
    }
}

fn main() -> std::io::Result<()> {
    let (t, d, h) = (2, 3, 4); // tokens T, model width C, hidden width
    let mut rng = Rng::new(2026);
    let x0 = Tensor::normal([t, d], 0.0, 1.0, &mut rng);
    let params = [
        Tensor::normal([d, h], 0.0, 1.0 / (d as f32).sqrt(), &mut rng),
        Tensor::normal([h], 0.0, 0.1, &mut rng),
        Tensor::normal([h, d], 0.0, 1.0 / (h as f32).sqrt(), &mut rng),
        Tensor::normal([d], 0.0, 0.1, &mut rng),
    ];

    // ANCHOR: record
    let tape = Tape::new();
    let x = tape.leaf(x0.clone()).label("x");
    let [w1, b1, w2, b2] = [("w1", 0), ("b1", 1), ("w2", 2), ("b2", 3)]
        .map(|(name, i)| tape.leaf(params[i].clone()).label(name));
    let f = branch(x, w1, b1, w2, b2).label("F(x)");
    let y = (x + f).label("y = x + F(x)"); // the skip connection
    let loss = (y * y).mean().label("loss");
    // ANCHOR_END: record

    println!("== the tape: a Wengert list, in execution order ==\n");
    print!("{tape}");

    // ANCHOR: backward
    let grads = tape.backward(loss);
    let dy = &grads[y]; // dL/dy, what arrives at the add
    let dx = &grads[x]; // dL/dx, the sum of the skip's and the branch's contributions
    let through_branch = dx.zip_map(dy, |total, skip| total - skip);
    // ANCHOR_END: backward

    println!("\n== gradients ==\n");
    println!("loss = {:.6}\n", loss.value().item());
    println!("dL/dy, arriving at the add:\n{dy}\n");
    println!("dL/dx, what x receives:\n{dx}\n");
    println!("of which the branch F contributed (dL/dx - dL/dy):\n{through_branch}\n");
    println!("the skip contributed dL/dy unchanged: the I in I + dF/dx.\n");
    for (name, p) in [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)] {
        println!("|dL/d{name}| = {:.6}", grads[p].norm());
    }

    println!(
        "\n== gradcheck of the whole block (random directions, central differences) ==\n"
    );
    let mut inputs = vec![x0];
    inputs.extend(params.iter().cloned());
    match gradcheck(|_t, v| v[0] + branch(v[0], v[1], v[2], v[3], v[4]), &inputs) {
        Ok(report) => println!(
            "passed: the worst probe used {:.1}% of its tolerance (output op `{}`)",
            100.0 * report.worst_ratio,
            report.op
        ),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }

    println!("\n== the tape as Graphviz DOT (render with `dot -Tsvg`) ==\n");
    let dot = tape.to_dot(Some(&grads));
    for line in dot.lines() {
        println!("{}", fit(line));
    }

    let dir = lab::out_dir(lab::quick_flag());
    std::fs::create_dir_all(&dir)?;
    for (file, text) in
        [("tape_residual.dot", dot), ("tape_residual.json", tape.to_json(Some(&grads)))]
    {
        std::fs::write(dir.join(file), text)?;
        println!("wrote {}", lab::shown(&dir.join(file)));
    }
    Ok(())
}
