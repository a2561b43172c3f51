//! Buffer reuse: freed tensor storage is kept and handed to the next tensor
//! of the same length.
//!
//! A training step allocates the same buffers, in the same order, at every
//! step: each op's output, each gradient. Returning them to the system
//! allocator and asking again costs more than the arithmetic on small and
//! medium models: the allocator gives large blocks back to the kernel, and
//! every page of the next block faults on first touch. So a [`Tensor`]
//! gives its buffer back here when it is dropped, and the next tensor of the
//! same length takes it instead of allocating.
//!
//! The cache is per thread (tensors live on the thread that runs the tape),
//! keyed by exact length, and holds at most [`limit`] bytes; anything beyond
//! is freed. Buffers shorter than [`MIN_LEN`] go straight back to the
//! allocator, which serves small sizes from its own fast per-thread lists.
//!
//! [`Tensor`]: crate::Tensor

use std::cell::RefCell;
use std::collections::HashMap;

/// Buffers shorter than this many `f32`s (4 KiB) are not cached.
pub const MIN_LEN: usize = 1024;

/// The default cap on cached bytes per thread: 1 GiB.
pub const DEFAULT_LIMIT: usize = 1 << 30;

/// Counters of one thread's cache since the last [`reset_stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Buffers of at least [`MIN_LEN`] handed out from the cache.
    pub reused: u64,
    /// Buffers of at least [`MIN_LEN`] that had to be allocated.
    pub allocated: u64,
    /// Buffers freed because the cache was full.
    pub freed: u64,
    /// Bytes held in the cache now.
    pub cached_bytes: usize,
}

struct Pool {
    free: HashMap<usize, Vec<Vec<f32>>>,
    limit: usize,
    stats: PoolStats,
}

thread_local! {
    static POOL: RefCell<Pool> =
        RefCell::new(Pool { free: HashMap::new(), limit: DEFAULT_LIMIT, stats: PoolStats::default() });
}

// ANCHOR: take_give
/// A buffer of `len` elements, each `value`: reused if one of that length is
/// cached, allocated otherwise.
pub fn filled(len: usize, value: f32) -> Vec<f32> {
    let mut buf = stale(len);
    buf.fill(value);
    buf
}

/// A buffer of `len` elements whose values are unspecified: a reused
/// buffer keeps what its last owner wrote. For outputs that a kernel
/// overwrites entirely (a matrix product, a copy), where zeroing first would
/// be wasted work. Never read an element before writing it.
pub(crate) fn stale(len: usize) -> Vec<f32> {
    if len < MIN_LEN {
        return vec![0.0; len];
    }
    let reused = POOL.with_borrow_mut(|p| {
        let buf = p.free.get_mut(&len).and_then(Vec::pop);
        match &buf {
            Some(b) => {
                p.stats.reused += 1;
                p.stats.cached_bytes -= b.capacity() * 4;
            }
            None => p.stats.allocated += 1,
        }
        buf
    });
    reused.unwrap_or_else(|| vec![0.0; len])
}

/// Takes back a buffer that is no longer needed, to be reused by [`filled`].
pub fn give(buf: Vec<f32>) {
    let (len, bytes) = (buf.len(), buf.capacity() * 4);
    if len < MIN_LEN {
        return; // dropped here: the allocator handles small sizes well
    }
    // `try_with`: during thread exit the cache may already be gone.
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.stats.cached_bytes + bytes > p.limit {
            p.stats.freed += 1;
            return; // `buf` is dropped when the closure returns
        }
        p.stats.cached_bytes += bytes;
        p.free.entry(len).or_default().push(buf);
    });
}
// ANCHOR_END: take_give

/// The cap on cached bytes for this thread.
pub fn limit() -> usize {
    POOL.with_borrow(|p| p.limit)
}

/// Sets the cap on cached bytes for this thread; 0 turns caching off.
/// Cached buffers beyond the new cap are freed.
pub fn set_limit(bytes: usize) {
    POOL.with_borrow_mut(|p| {
        p.limit = bytes;
        let Pool { free, stats, .. } = p;
        free.retain(|_, list| {
            while stats.cached_bytes > bytes {
                let Some(buf) = list.pop() else { break };
                stats.cached_bytes -= buf.capacity() * 4;
                stats.freed += 1;
            }
            !list.is_empty()
        });
    });
}

/// Frees every cached buffer of this thread.
pub fn clear() {
    let limit = limit();
    set_limit(0);
    set_limit(limit);
}

/// This thread's counters.
pub fn stats() -> PoolStats {
    POOL.with_borrow(|p| p.stats)
}

/// Zeroes this thread's counters (the cached bytes are kept, since they are
/// a level, not a count).
pub fn reset_stats() {
    POOL.with_borrow_mut(|p| {
        p.stats = PoolStats { cached_bytes: p.stats.cached_bytes, ..PoolStats::default() };
    });
}
