//! resgrad's side of the performance comparison (`tools/compare-peers`).
//!
//! ```text
//! cargo run --release --example perf -- --peers DIR      # inputs and timings for the comparison
//! cargo run --release --example perf -- --memory SIZE     # peak memory of one W2 step, as JSON
//! cargo run --release --example perf -- --steps           # GFLOP/s of each matmul step, for the book
//! ```
//!
//! `--peers` writes every workload's inputs to `DIR/*.safetensors` (W2's
//! parameters under PyTorch's names), times each workload on 1 and 2
//! threads, and writes `DIR/resgrad.json`: per run the median time, the
//! loss and, per gradient, its sum and the sum of its absolute values, which
//! the peers' results are checked against.
//!
//! Timings are medians over repeated runs after warm-up runs; `cargo bench`
//! measures the same workloads with divan.

use lab::workloads::{BLOCK_SIZES, Block, TinyMlp, block_size, matmul_inputs};
use resgrad::Tensor;
use resgrad::kernels;
use resgrad::kernels::Isa;
use resgrad::kernels::MatRef;
use resgrad::kernels::pool;
use resgrad::nn::Params;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// Median milliseconds of `f`, after warm-up, over at least `min_reps` runs
/// and at least `budget` of running time.
fn median_ms(mut f: impl FnMut(), min_reps: usize, budget: Duration) -> (f64, usize) {
    for _ in 0..3 {
        f();
    }
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < min_reps || start.elapsed() < budget {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times.len())
}

/// `"name": [sum, sum of |x|]`, the check the peers' gradients must pass.
fn sums(name: &str, t: &Tensor) -> String {
    let (s, a) = t
        .data()
        .iter()
        .fold((0f64, 0f64), |(s, a), &x| (s + x as f64, a + (x as f64).abs()));
    format!("\"{name}\": [{s:e}, {a:e}]")
}

fn save(path: &Path, tensors: Vec<(String, Tensor)>) {
    let mut store = Params::new();
    for (name, t) in tensors {
        store.add(name, t);
    }
    store.save_safetensors(path).unwrap_or_else(|e| panic!("{e}"));
}

fn peers(dir: &Path) {
    std::fs::create_dir_all(dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let mut runs = Vec::new();
    let budget = Duration::from_millis(1500);

    // W1: C = A B, A Bᵀ and Aᵀ B at n = 512 and 1024, and an odd size.
    for n in [512, 1024, 1000] {
        let (a, b) = matmul_inputs(n, n, n);
        save(
            &dir.join(format!("w1_{n}.safetensors")),
            vec![("a".into(), a.clone()), ("b".into(), b.clone())],
        );
        let mut c = vec![0.0; n * n];
        for (form, name) in [(0, "a@b"), (1, "a@b.T"), (2, "a.T@b")] {
            if n == 1000 && form != 0 {
                continue;
            }
            for threads in [1, 2] {
                let (ar, br) = (MatRef::new(a.data(), n, n), MatRef::new(b.data(), n, n));
                let (ar, br) = match form {
                    0 => (ar, br),
                    1 => (ar, br.t()),
                    _ => (ar.t(), br),
                };
                let (ms, reps) = median_ms(
                    || kernels::gemm_with(ar, br, &mut c, kernels::isa(), threads),
                    5,
                    Duration::from_millis(500),
                );
                let gflops = 2.0 * (n as f64).powi(3) / (ms * 1e6);
                let check = c.iter().map(|&x| x as f64).sum::<f64>();
                runs.push(format!(
                    "{{\"workload\": \"W1\", \"size\": \"{name} n={n}\", \"threads\": {threads}, \"ms\": {ms}, \
                     \"reps\": {reps}, \"gflops\": {gflops}, \"sums\": {{\"c\": [{check:e}, 0]}}}}"
                ));
            }
        }
    }

    // W2: the pre-norm encoder block at four sizes.
    for size in BLOCK_SIZES {
        let block = Block::new(size);
        let mut tensors: Vec<(String, Tensor)> = block
            .params
            .iter()
            .map(|(_, p)| (p.name.clone(), (*p.value).clone()))
            .collect();
        tensors.push(("x".into(), block.x.clone()));
        save(&dir.join(format!("w2_{}.safetensors", size.name)), tensors);
        for threads in [1, 2] {
            kernels::set_threads(threads);
            let step = block.step();
            let mut fields = vec![sums("x", &step.dx)];
            for (id, g) in step.grads.iter() {
                fields.push(sums(block.params.name(id), g));
            }
            let (ms, reps) = median_ms(|| drop(block.step()), 10, budget);
            runs.push(format!(
                "{{\"workload\": \"W2\", \"size\": \"{}\", \"threads\": {threads}, \"ms\": {ms}, \"reps\": {reps}, \
                 \"gflops\": {}, \"loss\": {:e}, \"sums\": {{{}}}}}",
                size.name,
                3.0 * size.forward_flops() / (ms * 1e6),
                step.loss,
                fields.join(", ")
            ));
        }
    }

    // W3: per-op overhead.
    let mlp = TinyMlp::new();
    let mut tensors = vec![("x".to_string(), mlp.x.clone())];
    for (i, (w1, w2)) in mlp.weights.iter().enumerate() {
        tensors.push((format!("w1.{i}"), w1.clone()));
        tensors.push((format!("w2.{i}"), w2.clone()));
    }
    save(&dir.join("w3.safetensors"), tensors);
    for threads in [1, 2] {
        kernels::set_threads(threads);
        let (loss, dx, dw) = mlp.step();
        let mut fields = vec![sums("x", &dx)];
        for (i, g) in dw.iter().enumerate() {
            fields.push(sums(&format!("w{}.{}", i % 2 + 1, i / 2), g));
        }
        let (ms, reps) = median_ms(|| drop(mlp.step()), 200, budget);
        runs.push(format!(
            "{{\"workload\": \"W3\", \"size\": \"32 x 16\", \"threads\": {threads}, \"ms\": {ms}, \"reps\": {reps}, \
             \"loss\": {loss:e}, \"sums\": {{{}}}}}",
            fields.join(", ")
        ));
    }

    let json = format!(
        "{{\"engine\": \"resgrad\", \"isa\": \"{:?}\", \"runs\": [\n{}\n]}}\n",
        kernels::isa(),
        runs.join(",\n")
    );
    let path = dir.join("resgrad.json");
    std::fs::write(&path, json)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    println!("wrote {} runs to {}", runs.len(), path.display());
}

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Peak resident memory of two W2 steps above the memory held once the
/// model and its input exist: what a forward and backward pass costs.
fn memory(name: &str) {
    let size = block_size(name).unwrap_or_else(|| {
        panic!("--memory: unknown size `{name}` (small, medium, seed, large)")
    });
    kernels::set_threads(1);
    let block = Block::new(size);
    // Reset the high-water mark to the current size (Linux: clear_refs 5).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_bytes("VmRSS:").unwrap_or(0);
    for _ in 0..2 {
        drop(block.step());
    }
    let peak = status_bytes("VmHWM:").unwrap_or(0);
    println!(
        "{{\"engine\": \"resgrad\", \"size\": \"{name}\", \"model_bytes\": {before}, \"step_peak_bytes\": {}, \
         \"reset\": {reset}, \"pool_cached_bytes\": {}}}",
        peak.saturating_sub(before),
        pool::stats().cached_bytes
    );
}

// ANCHOR: steps
/// GFLOP/s of each step from the textbook loop to threads, at n = 512 and
/// 1024: the table of the book's "Making it fast".
fn steps() {
    type Kernel = fn(&[f32], &[f32], &mut [f32], usize, usize, usize);
    type Step = (String, Box<dyn Fn(&[f32], &[f32], &mut [f32], usize, usize, usize)>);
    let packed = |isa: Isa, threads: usize| {
        move |a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize| {
            kernels::gemm_with(
                MatRef::new(a, m, k),
                MatRef::new(b, k, n),
                c,
                isa,
                threads,
            )
        }
    };
    let mut table = String::new();
    writeln!(table, "| step | n = 512 | n = 1024 |").unwrap();
    writeln!(table, "|---|---:|---:|").unwrap();
    let mut rows: Vec<Step> = vec![
        (
            "1. textbook triple loop (i-j-k)".into(),
            Box::new(kernels::matmul_reference as Kernel),
        ),
        ("2. loops swapped (i-k-j)".into(), Box::new(kernels::matmul_ikj as Kernel)),
        (
            "3. cache-blocked, 4 rows at a time".into(),
            Box::new(kernels::matmul_blocked as Kernel),
        ),
        (
            "4. packed micro-kernel, portable (4 x 8)".into(),
            Box::new(packed(Isa::Portable, 1)),
        ),
    ];
    if Isa::Avx2Fma.available() {
        rows.push((
            "5a. wide SIMD: AVX2 + FMA (6 x 16)".into(),
            Box::new(packed(Isa::Avx2Fma, 1)),
        ));
    }
    if Isa::Avx512.available() {
        rows.push((
            "5b. wide SIMD: AVX-512 (12 x 32)".into(),
            Box::new(packed(Isa::Avx512, 1)),
        ));
    }
    let best = kernels::isa();
    rows.push((
        format!("6. threads: {} on 2 threads", best.name()),
        Box::new(packed(best, 2)),
    ));
    for (name, kernel) in &rows {
        let mut cells = Vec::new();
        for n in [512, 1024] {
            let (a, b) = matmul_inputs(n, n, n);
            let mut c = vec![0.0; n * n];
            // The textbook loop is slow: fewer runs, same median.
            let (ms, _) = median_ms(
                || kernel(a.data(), b.data(), &mut c, n, n, n),
                3,
                Duration::from_millis(300),
            );
            cells.push(format!("{:.1}", 2.0 * (n as f64).powi(3) / (ms * 1e6)));
        }
        writeln!(table, "| {name} | {} | {} |", cells[0], cells[1]).unwrap();
    }
    print!("{table}");
}
// ANCHOR_END: steps

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["--peers", dir] => peers(Path::new(dir)),
        ["--memory", size] => memory(size),
        ["--steps"] => steps(),
        _ => {
            eprintln!(
                "usage: perf --peers DIR | --memory SIZE | --steps\n  \
                 run through tools/compare-peers, which passes these"
            );
            std::process::exit(2);
        }
    }
}
