//! Choosing the instruction set and the number of threads, once.
//!
//! This is the only module of resgrad with `unsafe` code, and the only
//! `unsafe` it holds is calling a function compiled with
//! `#[target_feature]` (AVX-512 or AVX2 + FMA). Such a call is sound only
//! on a processor that has those features, which is checked here: an
//! [`Isa`] other than `Portable` is used only after
//! [`Isa::available`] confirmed it with `is_x86_feature_detected!`.
//!
//! The functions compiled for each instruction set are the same generic
//! Rust loops (`gemm::gemm_rows`); `#[target_feature]` only lets the
//! compiler use wider registers and fused multiply-add for them.
#![allow(unsafe_code)]

use crate::gemm::{MatRef, gemm_rows as generic};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The largest tile height of any instruction set; threads split the rows
/// of a product into bands that are a multiple of it.
pub(crate) const MR_MAX: usize = 12;

/// An instruction set the matrix product can be compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// 512-bit registers and fused multiply-add: 12 x 32 tiles.
    Avx512,
    /// 256-bit registers and fused multiply-add: 6 x 16 tiles.
    Avx2Fma,
    /// Whatever the compilation target guarantees (SSE2 on x86-64): 4 x 8
    /// tiles, separate multiply and add.
    Portable,
}

impl Isa {
    /// True if this processor can run code compiled for `self`.
    pub fn available(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("avx2")
                    && is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every instruction set this processor can run, widest first.
    pub fn all_available() -> Vec<Isa> {
        [Isa::Avx512, Isa::Avx2Fma, Isa::Portable].into_iter().filter(|i| i.available()).collect()
    }

    /// The name `RESGRAD_ISA` accepts: `avx512`, `avx2` or `portable`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2Fma => "avx2",
            Isa::Portable => "portable",
        }
    }
}

/// The instruction set in use: the widest available, unless the
/// environment variable `RESGRAD_ISA` names a narrower one (`avx2`,
/// `portable`). Chosen once per process.
///
/// Panics at first use if `RESGRAD_ISA` names an unknown or unavailable
/// instruction set.
pub fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(|| match std::env::var("RESGRAD_ISA") {
        Ok(name) => {
            let all = [Isa::Avx512, Isa::Avx2Fma, Isa::Portable];
            let Some(isa) = all.into_iter().find(|i| i.name() == name) else {
                panic!("RESGRAD_ISA={name}: unknown; use avx512, avx2 or portable");
            };
            assert!(isa.available(), "RESGRAD_ISA={name}: this processor cannot run it");
            isa
        }
        Err(_) => Isa::all_available()[0],
    })
}

static THREADS: AtomicUsize = AtomicUsize::new(0);

/// How many threads a large matrix product may use: set by
/// [`set_threads`], else by the environment variable `RESGRAD_THREADS`,
/// else the number of cores.
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = std::env::var("RESGRAD_THREADS")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            THREADS.store(n, Ordering::Relaxed);
            n
        }
        n => n,
    }
}

/// Sets the number of threads for matrix products (`1` pins everything to
/// the calling thread). Results do not depend on it: threads split the
/// output into bands and each element is computed the same way.
pub fn set_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// Runs the product for a band of rows with the given instruction set.
pub(crate) fn gemm_rows(isa: Isa, a: &MatRef<'_>, b: &MatRef<'_>, c: &mut [f32], row0: usize) {
    match isa {
        Isa::Portable => generic::<4, 8, false>(a, b, c, row0),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            assert!(isa.available());
            // SAFETY: the processor has AVX-512F, AVX-512VL, AVX2 and FMA,
            // checked on the line above, which is all `gemm_avx512` enables.
            unsafe { gemm_avx512(a, b, c, row0) }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => {
            assert!(isa.available());
            // SAFETY: the processor has AVX2 and FMA, checked on the line
            // above, which is all `gemm_avx2` enables.
            unsafe { gemm_avx2(a, b, c, row0) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        _ => unreachable!("only the portable kernel exists on this architecture"),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
fn gemm_avx512(a: &MatRef<'_>, b: &MatRef<'_>, c: &mut [f32], row0: usize) {
    generic::<12, 32, true>(a, b, c, row0)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gemm_avx2(a: &MatRef<'_>, b: &MatRef<'_>, c: &mut [f32], row0: usize) {
    generic::<6, 16, true>(a, b, c, row0)
}
