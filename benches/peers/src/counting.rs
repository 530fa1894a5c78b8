//! A counting global allocator, shared by the peer binaries (`mod counting;`
//! or `#[path = "../counting.rs"] mod counting;`): live bytes and blocks of
//! what a closure builds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};

struct Counting;

/// Counting is switched on only while `live_after` builds a structure, so the
/// timed workloads pay one relaxed load per allocation, not two atomic adds.
static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);

fn count(bytes: isize, blocks: isize) {
    if COUNTING.load(Relaxed) {
        LIVE_BYTES.fetch_add(bytes, Relaxed);
        LIVE_BLOCKS.fetch_add(blocks, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments and
// only adds bookkeeping on success.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            count(layout.size() as isize, 1);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            count(layout.size() as isize, 1);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        count(-(layout.size() as isize), -1);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize, 0);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Live bytes and blocks held by the value `build` returns: everything
/// allocated while building and not freed by the time it returns (the
/// binaries are single-threaded while measuring, so nothing else allocates
/// meanwhile).
pub(crate) fn live_after<T>(build: impl FnOnce() -> T) -> (T, i64, i64) {
    LIVE_BYTES.store(0, Relaxed);
    LIVE_BLOCKS.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let value = build();
    COUNTING.store(false, Relaxed);
    let (bytes, blocks) = (LIVE_BYTES.load(Relaxed), LIVE_BLOCKS.load(Relaxed));
    (value, bytes as i64, blocks as i64)
}
