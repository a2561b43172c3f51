//! The processor: which instruction set the matrix product is compiled
//! for, how many threads it may use, and the worker threads it shares out
//! to. *Safe to skip on a first reading*: nothing here changes a result
//! beyond the last bits of rounding (the portable kernel rounds twice per
//! multiply-add where the others round once), only how fast it comes.
//!
//! This is the only module of resgrad with `unsafe` code. It holds two kinds:
//!
//! 1. Calling a function compiled with `#[target_feature]` (AVX-512 or
//!    AVX2 + FMA), in [`Isa::run`]. Such a call is sound only on a
//!    processor that has those features, which is checked here: an [`Isa`]
//!    other than `Portable` is used only after [`Isa::available`] confirmed
//!    it with `is_x86_feature_detected!`. What is compiled for each
//!    instruction set is the same generic Rust loop (a [`Tiled`] kernel,
//!    which `gemm` provides); `#[target_feature]` only lets the compiler use
//!    wider registers and fused multiply-add for it.
//! 2. Handing a borrowed closure to a worker thread that outlives the call
//!    (`run_parallel`): the same promise `std::thread::scope` makes, that
//!    the call does not return until every worker is done with the closure,
//!    kept by waiting for each task's completion message. The workers are
//!    started once and kept, because starting threads for every product
//!    costs tens of microseconds, as much as a small product itself.
//!
//! It imports nothing else from resgrad: the kernels it runs come in as a
//! [`Tiled`] value or as a closure.
#![allow(unsafe_code)]

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Mutex, OnceLock};

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
            Isa::Avx2Fma => {
                is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every instruction set this processor can run, widest first.
    pub fn all_available() -> Vec<Isa> {
        [Isa::Avx512, Isa::Avx2Fma, Isa::Portable]
            .into_iter()
            .filter(|i| i.available())
            .collect()
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
                .unwrap_or_else(|| {
                    std::thread::available_parallelism().map_or(1, |n| n.get())
                });
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

/// A kernel written once for any register tile of `MR x NR` numbers
/// (with or without fused multiply-add), which [`Isa::run`] compiles for
/// each instruction set. `run` should be `#[inline(always)]`, so that its
/// loops are compiled inside the `#[target_feature]` copy that calls it.
pub(crate) trait Tiled {
    /// Runs the kernel with `MR x NR` tiles.
    fn run<const MR: usize, const NR: usize, const FMA: bool>(self);
}

impl Isa {
    /// Runs `kernel` compiled for this instruction set, with its tile size:
    /// 12 x 32 for AVX-512, 6 x 16 for AVX2, 4 x 8 portably.
    ///
    /// Panics if this processor cannot run `self`.
    #[track_caller]
    pub(crate) fn run(self, kernel: impl Tiled) {
        match self {
            Isa::Portable => kernel.run::<4, 8, false>(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                assert!(self.available(), "{self:?} is not available on this processor");
                // SAFETY: the processor has AVX-512F, AVX-512VL, AVX2 and FMA,
                // checked on the line above, which is all `run_avx512` enables.
                unsafe { run_avx512(kernel) }
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => {
                assert!(self.available(), "{self:?} is not available on this processor");
                // SAFETY: the processor has AVX2 and FMA, checked on the line
                // above, which is all `run_avx2` enables.
                unsafe { run_avx2(kernel) }
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!("only the portable kernel exists on this architecture"),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
fn run_avx512(kernel: impl Tiled) {
    kernel.run::<12, 32, true>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_avx2(kernel: impl Tiled) {
    kernel.run::<6, 16, true>()
}

// ---------------------------------------------------------------------------
// Worker threads
// ---------------------------------------------------------------------------

/// A job with its borrow erased; see the SAFETY comment in [`run_parallel`].
type Job = &'static (dyn Fn(usize) + Sync);

/// One call of a job on a worker, and where to report that it has ended.
struct Task {
    job: Job,
    index: usize,
    done: Sender<std::thread::Result<()>>,
}

/// The workers' inboxes, started on first use and kept for the process.
static WORKERS: Mutex<Vec<Sender<Task>>> = Mutex::new(Vec::new());

thread_local! {
    /// True on a worker thread: a job that itself runs jobs in parallel
    /// runs them inline there, so that no worker ever waits for a worker.
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// How many times an idle worker polls its inbox (a failed receive and a
/// pause instruction each) before it sleeps: long enough to catch the next
/// product of a training step without paying for a wake-up, short enough
/// not to hold a core once the step is over.
const SPIN: usize = 1 << 12;

fn worker(inbox: Receiver<Task>) {
    ON_WORKER.set(true);
    loop {
        let mut task = None;
        for _ in 0..SPIN {
            match inbox.try_recv() {
                Ok(t) => {
                    task = Some(t);
                    break;
                }
                Err(TryRecvError::Empty) => std::hint::spin_loop(),
                Err(TryRecvError::Disconnected) => return,
            }
        }
        let Some(task) = task.or_else(|| inbox.recv().ok()) else { return };
        let result = catch_unwind(AssertUnwindSafe(|| (task.job)(task.index)));
        // The task, and with it the job's borrow, ends here; the caller
        // learns of it from this message (or from the sender being dropped).
        let _ = task.done.send(result);
    }
}

// ANCHOR: run_parallel
/// Calls `job(0)`, …, `job(n - 1)`: `job(0)` on the calling thread, the
/// others on worker threads, and returns when all have returned. A panic
/// in any of them is passed on to the caller, after all have ended.
pub(crate) fn run_parallel(n: usize, job: &(dyn Fn(usize) + Sync)) {
    if n <= 1 || ON_WORKER.get() {
        (0..n).for_each(job);
        return;
    }
    // SAFETY: this erases the borrow of `job` so that worker threads, which
    // live longer than this call, can hold it. It is sound because the
    // borrow is used only inside this call: every `Task` holding it is sent
    // with a clone of `done_tx`, and below we wait until every such sender
    // is gone (each task sends once and is then dropped, or is dropped
    // unsent), so no worker can touch `job` after we return or unwind. Our
    // own `job(0)` runs under `catch_unwind` so that even its panic waits.
    let erased: Job = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), Job>(job) };
    let (done_tx, done_rx) = mpsc::channel();
    let mut inline = Vec::new();
    {
        let mut workers = WORKERS.lock().unwrap_or_else(|e| e.into_inner());
        while workers.len() < n - 1 {
            let (tx, rx) = mpsc::channel();
            let spawned = std::thread::Builder::new()
                .name(format!("resgrad-worker-{}", workers.len()))
                .spawn(|| worker(rx));
            if spawned.is_err() {
                break; // no more threads: the rest run here
            }
            workers.push(tx);
        }
        for index in 1..n {
            let task = Task { job: erased, index, done: done_tx.clone() };
            match workers.get(index - 1).map(|w| w.send(task)) {
                Some(Ok(())) => {}
                _ => inline.push(index), // no worker for it (or it has gone): run it here
            }
        }
    }
    drop(done_tx);
    // While it runs its own share, this thread counts as a worker: a job
    // that runs jobs in parallel itself (a batch of products, each of which
    // could be threaded) runs them inline instead of queueing behind ours.
    let was_worker = ON_WORKER.replace(true);
    let mine = catch_unwind(AssertUnwindSafe(|| {
        job(0);
        inline.iter().for_each(|&i| job(i));
    }));
    ON_WORKER.set(was_worker);
    let mut panic = mine.err();
    // Ends when every task has reported, or its sender was dropped unsent.
    while let Ok(result) = done_rx.recv() {
        if let Err(p) = result {
            panic.get_or_insert(p);
        }
    }
    if let Some(p) = panic {
        resume_unwind(p);
    }
}
// ANCHOR_END: run_parallel

/// Cuts `out` into chunks of `chunk_len` (the last may be shorter) and
/// calls `job(i, chunk)` for each chunk `i`, sharing the chunks out in
/// consecutive runs between `parts` threads with [`run_parallel`]. Each
/// chunk is handed to exactly one job, so jobs never share an output.
pub(crate) fn for_each_chunk(
    out: &mut [f32],
    chunk_len: usize,
    parts: usize,
    job: &(dyn Fn(usize, &mut [f32]) + Sync),
) {
    let chunks: Vec<Mutex<&mut [f32]>> =
        out.chunks_mut(chunk_len.max(1)).map(Mutex::new).collect();
    let count = chunks.len();
    let parts = parts.min(count).max(1);
    run_parallel(parts, &|t| {
        for (i, chunk) in chunks
            .iter()
            .enumerate()
            .take((t + 1) * count / parts)
            .skip(t * count / parts)
        {
            let mut chunk = chunk.lock().unwrap_or_else(|e| e.into_inner()); // never contended
            job(i, &mut chunk);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{for_each_chunk, run_parallel};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_index_runs_exactly_once_with_borrowed_data() {
        for n in [1, 2, 3, 8] {
            let seen: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            let out = Mutex::new(Vec::new());
            run_parallel(n, &|i| {
                seen[i].fetch_add(1, Ordering::SeqCst);
                out.lock().unwrap().push(i * 10);
            });
            assert!(seen.iter().all(|s| s.load(Ordering::SeqCst) == 1), "n = {n}");
            let mut out = out.into_inner().unwrap();
            out.sort();
            assert_eq!(out, (0..n).map(|i| i * 10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_panic_on_a_worker_reaches_the_caller_after_every_job_ended() {
        let finished = AtomicUsize::new(0);
        let result = std::panic::catch_unwind(|| {
            run_parallel(2, &|i| {
                if i == 1 {
                    panic!("job 1 failed");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
                finished.fetch_add(1, Ordering::SeqCst);
            })
        });
        assert!(result.is_err(), "the worker's panic is passed on");
        assert_eq!(finished.load(Ordering::SeqCst), 1, "job 0 ran to its end first");
        // The workers survive a panicking job.
        let count = AtomicUsize::new(0);
        run_parallel(2, &|_| {
            count.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn every_chunk_goes_to_exactly_one_job() {
        for parts in [1, 2, 3, 7] {
            let mut out = vec![0.0f32; 10];
            for_each_chunk(&mut out, 3, parts, &|i, chunk| {
                chunk.iter_mut().for_each(|v| *v += i as f32 + 1.0)
            });
            assert_eq!(out, [1., 1., 1., 2., 2., 2., 3., 3., 3., 4.], "parts = {parts}");
        }
    }
}
