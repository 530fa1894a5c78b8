//! A counting global allocator for the C4 allocation bound (TESTPLAN b.5):
//! "peak extra heap during decode ≤ 16 × input_len + 64 KiB".
//!
//! Counts are per thread, so tests running in parallel do not see each
//! other's allocations. A test binary that includes this module (`mod
//! common;`) has it as its global allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The C4 bound for an input of `len` bytes.
pub fn c4_bound(len: usize) -> usize {
    16 * len + 64 * 1024
}

/// Wraps the system allocator and keeps, per thread, the bytes currently
/// allocated and the peak since the last [`measure`].
pub struct Counting;

std::thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(delta: isize) {
    // `try_with`: during thread teardown the slots may be gone; those
    // allocations are not measured.
    let _ = CURRENT.try_with(|c| {
        let now = c.get().saturating_add(delta);
        c.set(now);
        let _ = PEAK.try_with(|p| {
            if now > p.get() {
                p.set(now);
            }
        });
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged and only updates thread-local counters (const-initialised
// `Cell`s without destructors, so touching them never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as a new block and then the old one freed: a moving
            // realloc holds both for a moment.
            add(new_size as isize);
            add(-(layout.size() as isize));
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the peak number of heap bytes it
/// held at once on this thread beyond what was held before (its result
/// included, if it is still alive when `f` returns).
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    let peak = PEAK.with(Cell::get);
    (r, usize::try_from(peak.saturating_sub(base)).unwrap_or(0))
}

/// Heap bytes this thread holds now (for sanity checks of the counter).
pub fn current() -> isize {
    CURRENT.with(Cell::get)
}
