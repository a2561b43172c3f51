//! `cargo bench`: the workloads of the performance issue, W1 to W3, on 1
//! and 2 threads, with allocations counted per run.
//!
//! ```text
//! cargo bench                      # everything (a few minutes)
//! cargo bench -- w2                # one group
//! ```
//!
//! The inputs come from `lab::workloads`, the same ones
//! `tools/compare-peers` hands to PyTorch and JAX. Divan reports the median
//! and the spread of many samples, GFLOP/s for the products (`items` are
//! floating-point operations), and the allocations each run makes: after
//! the first step a training step reuses its buffers (see `resgrad::kernels::pool`),
//! so what remains are the tape's own small records.

use divan::counter::ItemsCount;
use divan::{AllocProfiler, Bencher};
use lab::workloads::{BLOCK_SIZES, Block, BlockSize, TinyMlp, matmul_inputs};
use resgrad::kernels;
use resgrad::kernels::MatRef;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

/// One W1 product: the size, the operand layout and the thread count.
#[derive(Clone, Copy, Debug)]
struct Product {
    n: usize,
    form: &'static str,
    threads: usize,
}

impl std::fmt::Display for Product {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} n={} threads={}", self.form, self.n, self.threads)
    }
}

const PRODUCTS: &[Product] = &[
    Product { n: 512, form: "a@b", threads: 1 },
    Product { n: 512, form: "a@b", threads: 2 },
    Product { n: 1024, form: "a@b", threads: 1 },
    Product { n: 1024, form: "a@b", threads: 2 },
    Product { n: 1024, form: "a@b.T", threads: 1 },
    Product { n: 1024, form: "a.T@b", threads: 1 },
    Product { n: 1000, form: "a@b", threads: 1 },
    Product { n: 509, form: "a@b", threads: 1 },
];

/// W1: `C = A B` (or with a transposed operand), GFLOP/s as `items`.
#[divan::bench(args = PRODUCTS)]
fn w1_matmul(bencher: Bencher, p: &Product) {
    let n = p.n;
    let (a, b) = matmul_inputs(n, n, n);
    let mut c = vec![0.0; n * n];
    let (ar, br) = (MatRef::new(a.data(), n, n), MatRef::new(b.data(), n, n));
    let (ar, br) = match p.form {
        "a@b" => (ar, br),
        "a@b.T" => (ar, br.t()),
        _ => (ar.t(), br),
    };
    bencher
        .counter(ItemsCount::new(2 * n * n * n))
        .bench_local(|| kernels::gemm_with(ar, br, &mut c, kernels::isa(), p.threads));
}

/// One W2 run: the block size and the thread count.
#[derive(Clone, Copy, Debug)]
struct BlockRun {
    size: BlockSize,
    threads: usize,
}

impl std::fmt::Display for BlockRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} threads={}", self.size.name, self.threads)
    }
}

const BLOCK_RUNS: [BlockRun; 8] = {
    let mut runs = [BlockRun { size: BLOCK_SIZES[0], threads: 1 }; 8];
    let mut i = 0;
    while i < 8 {
        runs[i] = BlockRun { size: BLOCK_SIZES[i / 2], threads: 1 + i % 2 };
        i += 1;
    }
    runs
};

/// W2: one pre-norm encoder block, forward and backward.
#[divan::bench(args = BLOCK_RUNS, sample_count = 20)]
fn w2_block(bencher: Bencher, run: &BlockRun) {
    let block = Block::new(run.size);
    kernels::set_threads(run.threads);
    drop(block.step()); // the first step fills the buffer pool
    bencher
        .counter(ItemsCount::new((3.0 * run.size.forward_flops()) as u64))
        .bench_local(|| block.step());
}

/// W3: 32 residual blocks of width 16, batch 1: the cost of the tape itself.
#[divan::bench]
fn w3_tiny_mlp(bencher: Bencher) {
    let mlp = TinyMlp::new();
    kernels::set_threads(1);
    drop(mlp.step());
    bencher.bench_local(|| mlp.step());
}

/// W3 written as plain loops over arrays, with the gradient by hand: the
/// floor that the tape's overhead is measured against.
#[divan::bench]
fn w3_hand_written(bencher: Bencher) {
    let (ws, x) = TinyMlp::new().arrays();
    bencher.bench_local(|| TinyMlp::step_by_hand(&ws, &x));
}
