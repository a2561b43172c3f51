//! The fast matrix product: packed, cache-blocked, register-tiled.
//!
//! `C = A · B` for an `[m, k]` matrix `A` and a `[k, n]` matrix `B`, where
//! either operand may be a transpose read in place (a [`MatRef`] carries
//! its strides), so backward's `dY · Bᵀ` and `Aᵀ · dY` need no copies.
//!
//! The structure is the one every fast BLAS uses (Goto's algorithm, as in
//! BLIS), written as plain loops:
//!
//! 1. Cut `B` into `KC × NC` blocks and copy ("pack") each into
//!    `NR`-column panels laid out in the order the kernel reads them.
//! 2. Cut `A` into `MC × KC` blocks and pack each into `MR`-row panels.
//! 3. For every `MR × NR` tile of `C`, the micro-kernel runs down the `KC`
//!    shared axis keeping the whole tile in registers: per step it loads
//!    `MR` numbers of `A` and `NR` of `B` and does `MR · NR`
//!    multiply-adds. Loads, not arithmetic, limit a naive product; here each
//!    loaded number is used `NR` or `MR` times.
//!
//! The micro-kernel is one generic function over fixed-size arrays. It is
//! compiled three times: for AVX-512, for AVX2 with FMA, and portably; the
//! `cpu` module picks one at run time. Threads split the rows of `C`.
//!
//! Every element of `C` is computed by the same sequence of operations
//! whatever the tile sizes and the thread count: a sum over each `KC`
//! block, in order, added into `C` block after block. So the result does
//! not depend on the number of threads, and the AVX-512 and AVX2 copies
//! (both fused multiply-add) agree bit for bit. The portable copy rounds
//! each product before adding it and can differ from them in the last bits.
//!
//! *Safe to skip on a first reading*: `kernels::matmul_reference` computes
//! the same product in a triple loop, and `tests/gemm.rs` checks the two
//! against each other.

use super::cpu::{self, Isa, Tiled};

/// A read-only matrix view: element `(i, j)` is `data[i * rs + j * cs]`.
///
/// A row-major `[rows, cols]` matrix has `rs = cols, cs = 1`; its transpose
/// is the same data with the strides swapped.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `[rows, cols]` matrix.
    #[track_caller]
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> MatRef<'a> {
        assert_eq!(
            data.len(),
            rows * cols,
            "MatRef: {rows} x {cols} needs {} values, got {}",
            rows * cols,
            data.len()
        );
        MatRef { data, rows, cols, rs: cols, cs: 1 }
    }

    /// The transpose, without moving any data.
    pub fn t(self) -> MatRef<'a> {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
    }
}

/// Depth of a block: how much of the shared axis one pass of the
/// micro-kernel covers (deeper products are cut into equal blocks of at
/// most this). Each block ends with the tile of `C` read, added to and
/// written back, so deep blocks mean few trips to `C`, which for large
/// products lives far out in the caches. The kernel's `KC × NR` panel of
/// packed `B` (128 KiB for `NR = 32`) then streams from L2, which is fast
/// enough: per step the kernel loads 176 bytes and does 384 multiply-adds.
pub(crate) const KC: usize = 1024;
/// Rows of `A` packed at once: `MC × KC` floats (192 KiB) stay in L2.
pub(crate) const MC: usize = 48;
/// Columns of `B` packed at once: `KC × NC` floats (8 MiB) stay in L3.
pub(crate) const NC: usize = 2048;

// ANCHOR: micro_kernel
/// The micro-kernel: `tile = Σ_p a[p] ⊗ b[p]` over one `KC` block, where
/// `a` holds `kc` packed columns of `MR` numbers and `b` holds `kc` packed
/// rows of `NR` numbers. `tile` stays in registers for the whole loop.
#[inline(always)]
pub(crate) fn micro_kernel<const MR: usize, const NR: usize, const FMA: bool>(
    kc: usize,
    a: &[f32],
    b: &[f32],
) -> [[f32; NR]; MR] {
    let mut tile = [[0.0f32; NR]; MR];
    for (a, b) in a[..kc * MR].chunks_exact(MR).zip(b[..kc * NR].chunks_exact(NR)) {
        let a: &[f32; MR] = a.try_into().expect("chunk of MR");
        let b: &[f32; NR] = b.try_into().expect("chunk of NR");
        for i in 0..MR {
            for j in 0..NR {
                // With FMA, one rounding per step; without, two.
                tile[i][j] = if FMA {
                    a[i].mul_add(b[j], tile[i][j])
                } else {
                    tile[i][j] + a[i] * b[j]
                };
            }
        }
    }
    tile
}
// ANCHOR_END: micro_kernel

// ANCHOR: pack
/// Packs rows `i0..i0+mc`, columns `p0..p0+kc` of `x` into `R`-row
/// panels: panel `r` holds, for each `p`, the `R` numbers
/// `x[i0 + r·R + 0..R, p0 + p]` (zero past the last row), in the order
/// the micro-kernel reads them. `A` is packed as it is; `B` is packed as
/// `Bᵀ`, so that its panels run along its columns.
fn pack<const R: usize>(
    x: &MatRef<'_>,
    i0: usize,
    mc: usize,
    p0: usize,
    kc: usize,
    out: &mut Vec<f32>,
) {
    let len = mc.div_ceil(R) * kc * R;
    out.resize(len, 0.0); // every element below is written (or zeroed) anyway
    out.truncate(len);
    for (r, panel) in out.chunks_exact_mut(kc * R).enumerate() {
        let (first, rows) = (i0 + r * R, R.min(mc - r * R));
        if rows < R {
            panel.fill(0.0); // the padding rows of the last panel
        }
        if x.rs == 1 {
            // Column-major view (a transpose): R rows of one column are adjacent.
            for (p, dst) in panel.chunks_exact_mut(R).enumerate() {
                let start = (p0 + p) * x.cs + first;
                if rows == R {
                    // A copy of a fixed size compiles to a few vector moves.
                    let dst: &mut [f32; R] = dst.try_into().expect("chunk of R");
                    *dst = x.data[start..start + R].try_into().expect("R values");
                } else {
                    dst[..rows].copy_from_slice(&x.data[start..start + rows]);
                }
            }
        } else if x.cs == 1 {
            // Row-major view: a transpose. Take 8 columns of all R rows into
            // a small block (fixed sizes, so it stays in registers or L1),
            // then write the block out as 8 whole panel rows.
            let mut p = 0;
            while p + 8 <= kc {
                let mut block = [[0.0f32; R]; 8];
                #[allow(clippy::needless_range_loop)]
                // `i` picks the row of x and the column of block
                for i in 0..rows {
                    let start = (first + i) * x.rs + p0 + p;
                    let src: &[f32; 8] =
                        x.data[start..start + 8].try_into().expect("8 values");
                    for (q, &v) in src.iter().enumerate() {
                        block[q][i] = v;
                    }
                }
                for (dst, col) in
                    panel[p * R..(p + 8) * R].chunks_exact_mut(R).zip(&block)
                {
                    dst.copy_from_slice(col);
                }
                p += 8;
            }
            for i in 0..rows {
                let start = (first + i) * x.rs + p0;
                for (q, &v) in x.data[start + p..start + kc].iter().enumerate() {
                    panel[(p + q) * R + i] = v; // the last kc % 8 columns
                }
            }
        } else {
            for (p, dst) in panel.chunks_exact_mut(R).enumerate() {
                for (i, d) in dst.iter_mut().enumerate().take(rows) {
                    *d = x.at(first + i, p0 + p);
                }
            }
        }
    }
}
// ANCHOR_END: pack

/// `c = a · b` for the rows of `c` given (`c` holds rows `row0..` of the
/// product, `n` columns each), single-threaded: the kernel that
/// [`Isa::run`] compiles for each instruction set.
struct Rows<'a, 'c> {
    a: &'a MatRef<'a>,
    b: &'a MatRef<'a>,
    c: &'c mut [f32],
    row0: usize,
}

impl Tiled for Rows<'_, '_> {
    #[inline(always)]
    fn run<const MR: usize, const NR: usize, const FMA: bool>(self) {
        gemm_rows::<MR, NR, FMA>(self.a, self.b, self.c, self.row0)
    }
}

/// The body of [`Rows`], for one tile size.
#[inline(always)]
fn gemm_rows<const MR: usize, const NR: usize, const FMA: bool>(
    a: &MatRef<'_>,
    b: &MatRef<'_>,
    c: &mut [f32],
    row0: usize,
) {
    let (k, n) = (a.cols, b.cols);
    let m = c.len() / n.max(1);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.fill(0.0); // an empty sum
        return;
    }
    // The packing buffers live as long as the thread, so a training loop
    // that multiplies the same shapes every step allocates them once.
    // (Taken out and put back rather than used inside `with`'s closure: a
    // closure is compiled without the caller's `#[target_feature]`s, and
    // the kernel must be compiled with them.)
    let (mut a_pack, mut b_pack) =
        PACK.with(|pack| std::mem::take(&mut *pack.borrow_mut()));
    blocks::<MR, NR, FMA>(a, b, c, row0, (m, k, n), &mut a_pack, &mut b_pack);
    PACK.with(|pack| *pack.borrow_mut() = (a_pack, b_pack));
}

thread_local! {
    static PACK: std::cell::RefCell<(Vec<f32>, Vec<f32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// The three blocking loops around the micro-kernel.
#[inline(always)]
fn blocks<const MR: usize, const NR: usize, const FMA: bool>(
    a: &MatRef<'_>,
    b: &MatRef<'_>,
    c: &mut [f32],
    row0: usize,
    (m, k, n): (usize, usize, usize),
    a_pack: &mut Vec<f32>,
    b_pack: &mut Vec<f32>,
) {
    for j0 in (0..n).step_by(NC) {
        let nc = NC.min(n - j0);
        // Equal blocks of at most KC: k = 1040 runs as 2 x 520, not 1024 + 16.
        let depth = k.div_ceil(k.div_ceil(KC));
        for p0 in (0..k).step_by(depth) {
            let kc = depth.min(k - p0);
            pack::<NR>(&b.t(), j0, nc, p0, kc, b_pack);
            for i0 in (0..m).step_by(MC) {
                let mc = MC.min(m - i0);
                pack::<MR>(a, row0 + i0, mc, p0, kc, a_pack);
                for (s, b_panel) in b_pack.chunks_exact(kc * NR).enumerate() {
                    let cols = NR.min(nc - s * NR);
                    for (r, a_panel) in a_pack.chunks_exact(kc * MR).enumerate() {
                        let rows = MR.min(mc - r * MR);
                        let tile = micro_kernel::<MR, NR, FMA>(kc, a_panel, b_panel);
                        // Write the tile's valid part: the first block sets C,
                        // later ones add to it.
                        for (i, tile_row) in tile.iter().enumerate().take(rows) {
                            let start = (i0 + r * MR + i) * n + j0 + s * NR;
                            let c_row = &mut c[start..start + cols];
                            if p0 == 0 {
                                c_row.copy_from_slice(&tile_row[..cols]);
                            } else {
                                for (c, t) in c_row.iter_mut().zip(tile_row) {
                                    *c += t;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Products smaller than this many multiply-adds run on one thread: below
/// it, handing half the work to a worker thread and waiting for it costs more
/// than it saves.
const THREAD_MIN_WORK: usize = 1 << 21;

// ANCHOR: gemm
// ANCHOR: gemm_entry
/// `c = a · b`, with `a: [m, k]`, `b: [k, n]` (either may be a transposed
/// view) and `c` a row-major `[m, n]` buffer, overwritten.
///
/// Uses the widest instruction set the processor has ([`isa`](super::isa))
/// and up to [`threads`](super::threads) threads, which split the rows of `c`.
#[track_caller]
pub fn gemm(a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32]) {
    gemm_with(a, b, c, cpu::isa(), cpu::threads());
}
// ANCHOR_END: gemm_entry

// ANCHOR: gemm_with
/// [`gemm`] with the instruction set and the thread count chosen by the
/// caller (for tests and benchmarks). Panics if `isa` is not available on
/// this processor.
#[track_caller]
pub fn gemm_with(a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32], isa: Isa, threads: usize) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(
        b.rows, k,
        "gemm: a is {m} x {k} but b is {} x {n}; the inner sizes must match",
        b.rows
    );
    assert_eq!(
        c.len(),
        m * n,
        "gemm: c must hold m * n = {m} * {n} values, got {}",
        c.len()
    );
    assert!(
        isa.available(),
        "gemm: this processor cannot run {isa:?}; choose one of {:?}",
        Isa::all_available()
    );
    let threads = threads.min(m.div_ceil(cpu::MR_MAX)).max(1);
    if threads == 1 || m * n * k < THREAD_MIN_WORK {
        isa.run(Rows { a: &a, b: &b, c, row0: 0 });
        return;
    }
    // Split the rows into bands of whole tiles; each thread packs its own
    // panels and writes only its own band of `c`. This thread takes the first.
    let band = m.div_ceil(threads).div_ceil(cpu::MR_MAX) * cpu::MR_MAX;
    let bands = m.div_ceil(band);
    cpu::for_each_chunk(c, band * n, bands, &|t, c_band| {
        isa.run(Rows { a: &a, b: &b, c: c_band, row0: t * band });
    });
}
// ANCHOR_END: gemm_with
// ANCHOR_END: gemm
