//! Buffer reuse: freed tensor storage is kept and handed to the next tensor
//! that fits it.
//!
//! A training step allocates the same buffers, in the same order, at every
//! step: each op's output, each gradient. Returning them to the system
//! allocator and asking again costs more than the arithmetic on small and
//! medium models: the allocator gives large blocks back to the kernel, and
//! every page of the next block faults on first touch. So a [`Tensor`]
//! gives its buffer back here when it is dropped, and the next tensor that
//! fits it takes it instead of allocating.
//!
//! The cache is per thread (tensors live on the thread that runs the tape)
//! and holds at most [`limit`] bytes; anything beyond is freed. Lengths up
//! to [`SMALL`] are matched exactly, through an array of free lists: a deep,
//! narrow network makes thousands of tiny tensors per step, and for those
//! the system allocator's bookkeeping costs more than the arithmetic. A
//! longer request takes the smallest cached buffer that holds it, if that
//! buffer is at most twice its size: an activation freed in the forward
//! pass can then hold a gradient of another shape in the backward pass, so
//! the cache needs about what a step holds at its peak, not the sum of the
//! peaks of every length.
//!
//! *Safe to skip on a first reading*: a tensor behaves the same whether its
//! buffer came from here or from the allocator; only the time differs.
//!
//! [`Tensor`]: crate::Tensor

use std::cell::RefCell;
use std::collections::BTreeMap;

/// Lengths up to this many `f32`s have their free list in an array.
pub const SMALL: usize = 4096;

/// The default cap on cached bytes per thread: 1 GiB.
pub const DEFAULT_LIMIT: usize = 1 << 30;

/// Counters of one thread's cache since the last [`reset_stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Buffers handed out from the cache.
    pub reused: u64,
    /// Buffers that had to be allocated (empty ones are not counted).
    pub allocated: u64,
    /// Buffers freed because the cache was full.
    pub freed: u64,
    /// Bytes held in the cache now.
    pub cached_bytes: usize,
}

struct Pool {
    /// Free lists of lengths 1..=SMALL, indexed by length.
    small: Vec<Vec<Vec<f32>>>,
    /// Free lists of longer buffers, by capacity.
    free: BTreeMap<usize, Vec<Vec<f32>>>,
    limit: usize,
    stats: PoolStats,
}

thread_local! {
    static POOL: RefCell<Pool> =
        RefCell::new(Pool { small: Vec::new(), free: BTreeMap::new(), limit: DEFAULT_LIMIT, stats: PoolStats::default() });
}

impl Pool {
    /// A cached buffer for `len` elements, if one fits (its length is then
    /// `len`; its values are stale).
    fn take(&mut self, len: usize) -> Option<Vec<f32>> {
        let mut buf = if len <= SMALL {
            self.small.get_mut(len)?.pop()?
        } else {
            // The smallest capacity in [len, 2 len].
            let (&cap, list) = self.free.range_mut(len..=2 * len).next()?;
            let buf = list.pop().expect("lists in the map are never empty");
            if list.is_empty() {
                self.free.remove(&cap);
            }
            buf
        };
        self.stats.cached_bytes -= buf.capacity() * 4;
        buf.resize(len, 0.0); // within its capacity: no allocation
        Some(buf)
    }

    /// Caches `buf`.
    fn put(&mut self, buf: Vec<f32>) {
        self.stats.cached_bytes += buf.capacity() * 4;
        if buf.len() <= SMALL && buf.capacity() == buf.len() {
            if self.small.is_empty() {
                self.small.resize_with(SMALL + 1, Vec::new);
            }
            self.small[buf.len()].push(buf);
        } else {
            self.free.entry(buf.capacity()).or_default().push(buf);
        }
    }
}

// ANCHOR: take_give
// ANCHOR: take
/// A buffer of `len` elements, each `value`: a cached buffer if one fits,
/// a new one otherwise.
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
    if len == 0 {
        return Vec::new(); // allocates nothing
    }
    let reused = POOL.with_borrow_mut(|p| {
        let buf = p.take(len);
        match buf {
            Some(_) => p.stats.reused += 1,
            None => p.stats.allocated += 1,
        }
        buf
    });
    reused.unwrap_or_else(|| vec![0.0; len])
}
// ANCHOR_END: take

// ANCHOR: give
/// Takes back a buffer that is no longer needed, to be reused by [`filled`].
pub fn give(buf: Vec<f32>) {
    let bytes = buf.capacity() * 4;
    if buf.is_empty() {
        return;
    }
    // `try_with`: during thread exit the cache may already be gone.
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.stats.cached_bytes + bytes > p.limit {
            p.stats.freed += 1;
            return; // `buf` is dropped when the closure returns
        }
        p.put(buf);
    });
}
// ANCHOR_END: give
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
        let Pool { small, free, stats, .. } = p;
        for list in small.iter_mut().chain(free.values_mut()) {
            while stats.cached_bytes > bytes {
                let Some(buf) = list.pop() else { break };
                stats.cached_bytes -= buf.capacity() * 4;
                stats.freed += 1;
            }
        }
        free.retain(|_, list| !list.is_empty());
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
        p.stats =
            PoolStats { cached_bytes: p.stats.cached_bytes, ..PoolStats::default() };
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;

    // Each test runs on its own thread, so it sees a fresh cache.

    #[test]
    fn a_dropped_tensor_buffer_is_handed_to_the_next_tensor_of_its_length() {
        let t = Tensor::zeros([64, 64]);
        let address = t.data().as_ptr();
        drop(t);
        reset_stats();
        let u = Tensor::ones([4096]); // same length, other shape
        assert_eq!(u.data().as_ptr(), address, "the buffer was reused");
        assert!(u.data().iter().all(|&v| v == 1.0), "and refilled");
        assert_eq!(
            stats(),
            PoolStats { reused: 1, allocated: 0, freed: 0, cached_bytes: 0 }
        );
    }

    #[test]
    fn a_long_request_takes_the_smallest_cached_buffer_up_to_twice_its_size() {
        let (big, bigger) = (Tensor::zeros([10_000]), Tensor::zeros([30_000]));
        let (big_at, bigger_at) = (big.data().as_ptr(), bigger.data().as_ptr());
        drop((big, bigger));
        let t = Tensor::ones([6_000]); // 10 000 is the smallest that holds it
        assert_eq!((t.data().as_ptr(), t.numel()), (big_at, 6_000));
        assert!(t.data().iter().all(|&v| v == 1.0));
        let u = Tensor::zeros([12_000]); // 30 000 is more than twice: allocate
        assert_ne!(u.data().as_ptr(), bigger_at);
        let v = Tensor::zeros([15_000]); // exactly half of 30 000: reuse
        assert_eq!(v.data().as_ptr(), bigger_at);
    }

    #[test]
    fn buffers_from_outside_the_pool_are_freed_not_cached() {
        drop(Tensor::from_vec(vec![0.5; 100], [100]));
        assert_eq!(stats().cached_bytes, 0);
        drop(Tensor::zeros([100]));
        assert_eq!(stats().cached_bytes, 400);
    }

    #[test]
    fn the_cache_never_holds_more_than_its_limit() {
        set_limit(1000);
        drop(Tensor::zeros([200])); // 800 bytes: kept
        drop(Tensor::zeros([100])); // 400 more would pass the limit: freed
        assert_eq!((stats().cached_bytes, stats().freed), (800, 1));
        set_limit(500); // lowering the limit frees what no longer fits
        assert_eq!(stats().cached_bytes, 0);
        clear();
        assert_eq!(limit(), 500);
    }

    #[test]
    fn a_training_loop_allocates_only_in_its_first_step() {
        let step = || {
            let a = Tensor::zeros([300]);
            let b = a.map(|v| v + 1.0);
            let c = a.zip_map(&b, |x, y| x * y);
            (b, c.clone())
        };
        drop(step());
        reset_stats();
        for _ in 0..10 {
            drop(step());
        }
        assert_eq!(stats().allocated, 0, "{:?}", stats());
        assert_eq!(stats().reused, 40);
    }
}
