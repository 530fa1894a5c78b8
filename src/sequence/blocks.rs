//! A vector in fixed-size blocks, for the runs a join or a decode is about
//! to place (C4, decision 0008 step 4).
//!
//! A `Vec` that grows holds its old and its new buffer at once, and one
//! that is read whole and then consumed from the end keeps its full buffer
//! until it is dropped (or copies what is left to shrink). Here every
//! block but the last holds exactly `2^shift` elements, so an index is a
//! shift and a mask; a block is allocated when the last one is full and
//! freed as soon as [`pop`](Blocks::pop) empties it. A decode therefore
//! never holds the runs twice: their blocks shrink as fast as the tree
//! they are placed into grows.
//!
//! [`Blocks::from_vec`] wraps a vector as one block without a copy (trusted
//! callers, whose runs are already in memory).

use alloc::vec::Vec;
use smallvec::SmallVec;

/// Bytes per block (the first block starts smaller and grows to it).
const BLOCK_BYTES: usize = 4096;

#[derive(Clone, Debug)]
pub(crate) struct Blocks<T> {
    /// The first block; a single element is kept inline, so that a
    /// pending buffer of one run (a local insert's delta) allocates
    /// nothing. It grows to a full block.
    first: SmallVec<[T; 1]>,
    /// The other blocks, allocated full size.
    rest: Vec<Vec<T>>,
    /// Every block but the last holds exactly `1 << shift` elements.
    shift: u32,
    len: usize,
}

impl<T> Default for Blocks<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Blocks<T> {
    /// Empty, with blocks of at most [`BLOCK_BYTES`] (at least 8 elements,
    /// a power of two).
    pub(crate) fn new() -> Self {
        let per = (BLOCK_BYTES / core::mem::size_of::<T>().max(1)).max(8);
        // The largest power of two ≤ per.
        let shift = usize::BITS - 1 - per.leading_zeros();
        Blocks {
            first: SmallVec::new(),
            rest: Vec::new(),
            shift,
            len: 0,
        }
    }

    /// `v` as one block, without a copy: it grows as a `Vec` does.
    pub(crate) fn from_vec(v: Vec<T>) -> Self {
        Blocks {
            len: v.len(),
            first: SmallVec::from_vec(v),
            rest: Vec::new(),
            shift: usize::BITS - 1,
        }
    }

    #[inline]
    fn per(&self) -> usize {
        1 << self.shift
    }

    #[inline]
    fn at(&self, i: usize) -> (usize, usize) {
        (i >> self.shift, i & (self.per() - 1))
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes the next [`push_hinted`](Self::push_hinted) allocates (0:
    /// none), so that a decode can charge them to its budget first. `hint`
    /// is the number of elements said to remain (an untrusted claim: it
    /// only keeps the first block small).
    #[cfg(feature = "serde")]
    pub(crate) fn next_alloc(&self, hint: usize) -> usize {
        let size = core::mem::size_of::<T>();
        let per = self.per();
        if self.rest.is_empty() && self.first.len() < per {
            let f = &self.first;
            return if f.len() < f.capacity() {
                0
            } else if f.is_empty() {
                // The first push: inline if one is said to remain.
                let cap = hint.clamp(1, per);
                if cap > 1 {
                    cap * size
                } else {
                    0
                }
            } else {
                len_grown(f.len(), per).saturating_mul(size)
            };
        }
        match self.rest.last() {
            Some(b) if b.len() < per => 0,
            _ => {
                let list = if self.rest.len() == self.rest.capacity() {
                    self.rest.capacity().saturating_mul(2).max(4) * core::mem::size_of::<Vec<T>>()
                } else {
                    0
                };
                per.saturating_mul(size).saturating_add(list)
            }
        }
    }

    /// Appends `x` (see [`next_alloc`](Self::next_alloc) for what it
    /// allocates).
    pub(crate) fn push_hinted(&mut self, hint: usize, x: T) {
        let per = self.per();
        self.len += 1;
        if self.rest.is_empty() && self.first.len() < per {
            let f = &mut self.first;
            if f.is_empty() && f.capacity() < hint {
                f.reserve_exact(hint.min(per));
            } else if f.len() == f.capacity() {
                let want = len_grown(f.len(), per);
                f.reserve_exact(want - f.len());
            }
            f.push(x);
            return;
        }
        match self.rest.last_mut() {
            Some(b) if b.len() < per => b.push(x),
            _ => {
                let mut b = Vec::with_capacity(per);
                b.push(x);
                self.rest.push(b);
            }
        }
    }

    /// Appends `x`.
    #[inline]
    pub(crate) fn push(&mut self, x: T) {
        self.push_hinted(1, x);
    }

    /// Removes the last element, freeing its block if that empties it (the
    /// first block is kept for reuse).
    pub(crate) fn pop(&mut self) -> Option<T> {
        let x = match self.rest.last_mut() {
            Some(b) => {
                let x = b.pop();
                if b.is_empty() {
                    self.rest.pop();
                }
                x
            }
            None => self.first.pop(),
        }?;
        self.len -= 1;
        Some(x)
    }

    /// Swaps the elements at `i` and `j` (both `< len`).
    pub(crate) fn swap(&mut self, i: usize, j: usize) {
        let ((bi, ki), (bj, kj)) = (self.at(i), self.at(j));
        let (lo, hi, klo, khi) = if bi <= bj {
            (bi, bj, ki, kj)
        } else {
            (bj, bi, kj, ki)
        };
        match (lo, hi) {
            (0, 0) => self.first.swap(klo, khi),
            (0, _) => core::mem::swap(&mut self.first[klo], &mut self.rest[hi - 1][khi]),
            _ if lo == hi => self.rest[lo - 1].swap(klo, khi),
            _ => {
                let (a, b) = self.rest.split_at_mut(hi - 1);
                core::mem::swap(&mut a[lo - 1][klo], &mut b[0][khi]);
            }
        }
    }

    /// Reverses the elements `[a, b)`.
    fn reverse(&mut self, mut a: usize, mut b: usize) {
        while a + 1 < b {
            b -= 1;
            self.swap(a, b);
            a += 1;
        }
    }

    /// Inserts `x` at `i ≤ len`, shifting the rest up: O(len − i).
    pub(crate) fn insert(&mut self, i: usize, x: T) {
        self.push(x);
        let mut j = self.len - 1;
        while j > i {
            self.swap(j - 1, j);
            j -= 1;
        }
    }

    /// Removes the elements `[a, b)` and gives them to `f` in order:
    /// O(len − a).
    pub(crate) fn drain_range(&mut self, a: usize, b: usize, mut f: impl FnMut(T)) {
        if a >= b {
            return;
        }
        // Rotate `[a, len)` so that `[a, b)` ends up last, reversed by
        // the last reversal's pops.
        let n = self.len;
        self.reverse(a, b);
        self.reverse(b, n);
        self.reverse(a, n);
        // Now `[n - (b - a), n)` holds the old `[a, b)` in order.
        self.reverse(n - (b - a), n);
        for _ in a..b {
            if let Some(x) = self.pop() {
                f(x);
            }
        }
    }

    /// The first index whose element fails `pred`, for a `pred` that holds
    /// on a prefix (as `slice::partition_point`).
    pub(crate) fn partition_point(&self, mut pred: impl FnMut(&T) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(&self[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Reorders the elements in place so that position `k` holds the one
    /// now at `from[k]` (`from` a permutation of `0..len`), one cycle at a
    /// time.
    pub(crate) fn arrange(&mut self, from: &[usize]) {
        debug_assert_eq!(from.len(), self.len);
        let mut done = alloc::vec![false; from.len()];
        for i in 0..from.len() {
            if done[i] {
                continue;
            }
            let mut j = i;
            loop {
                done[j] = true;
                let k = from[j];
                if k == i {
                    break;
                }
                self.swap(j, k);
                j = k;
            }
        }
    }

    /// Sorts by `key` (unstable; keys should be distinct): the positions
    /// are sorted, then the elements moved once.
    pub(crate) fn sort_unstable_by_key<K: Ord>(&mut self, mut key: impl FnMut(&T) -> K) {
        let mut from: Vec<usize> = (0..self.len).collect();
        from.sort_unstable_by_key(|&i| key(&self[i]));
        self.arrange(&from);
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + Clone + '_ {
        self.first.iter().chain(self.rest.iter().flatten())
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> + '_ {
        self.first.iter_mut().chain(self.rest.iter_mut().flatten())
    }
}

/// The capacity a full last block of `len < per` elements grows to.
#[inline]
fn len_grown(len: usize, per: usize) -> usize {
    len.saturating_mul(2).clamp(4, per)
}

impl<T> core::ops::Index<usize> for Blocks<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        match self.at(i) {
            (0, k) => &self.first[k],
            (b, k) => &self.rest[b - 1][k],
        }
    }
}

impl<T> core::ops::IndexMut<usize> for Blocks<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        match self.at(i) {
            (0, k) => &mut self.first[k],
            (b, k) => &mut self.rest[b - 1][k],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Pushes, pops and swaps agree with a `Vec`, and every block but
        /// the last is full.
        #[test]
        fn blocks_act_as_a_vec(ops in proptest::collection::vec((0u8..8, any::<u16>(), any::<u16>()), 0..600)) {
            let mut b: Blocks<[u64; 64]> = Blocks::new();
            let mut v: Vec<[u64; 64]> = Vec::new();
            for (op, x, y) in ops {
                let (x64, n) = (u64::from(x % 256), v.len());
                match op {
                    0 | 1 => {
                        b.push([x64; 64]);
                        v.push([x64; 64]);
                    }
                    2 => prop_assert_eq!(b.pop(), v.pop()),
                    3 if n > 0 => {
                        let (i, j) = (usize::from(x) % n, usize::from(y) % n);
                        b.swap(i, j);
                        v.swap(i, j);
                    }
                    4 => {
                        let i = usize::from(y) % (n + 1);
                        b.insert(i, [x64; 64]);
                        v.insert(i, [x64; 64]);
                    }
                    5 => {
                        let (i, j) = (usize::from(x) % (n + 1), usize::from(y) % (n + 1));
                        let (i, j) = (i.min(j), i.max(j));
                        let mut got = Vec::new();
                        b.drain_range(i, j, |e| got.push(e));
                        let want: Vec<_> = v.drain(i..j).collect();
                        prop_assert_eq!(got, want);
                    }
                    6 => {
                        // Equal keys are equal elements, so an unstable
                        // sort has one result.
                        b.sort_unstable_by_key(|e| e[0]);
                        v.sort_unstable_by_key(|e| e[0]);
                        prop_assert_eq!(
                            b.partition_point(|e| e[0] < x64),
                            v.partition_point(|e| e[0] < x64)
                        );
                    }
                    _ => {
                        // A rotation by `x` as a permutation.
                        let from: Vec<usize> = (0..n).map(|k| (k + usize::from(x)) % n.max(1)).collect();
                        b.arrange(&from);
                        v.rotate_left(if n == 0 { 0 } else { usize::from(x) % n });
                    }
                }
                prop_assert_eq!(b.len(), v.len());
                prop_assert!(b.iter().eq(v.iter()));
                for (i, x) in v.iter().enumerate() {
                    prop_assert_eq!(&b[i], x);
                }
                let per = b.per();
                prop_assert!(b.rest.is_empty() || b.first.len() == per);
                prop_assert!(b.first.capacity() <= per.max(4));
                for (k, blk) in b.rest.iter().enumerate() {
                    prop_assert!(k + 1 == b.rest.len() || blk.len() == per);
                    prop_assert!(!blk.is_empty());
                    prop_assert_eq!(blk.capacity(), per);
                }
            }
        }
    }

    #[test]
    fn from_vec_is_one_block() {
        let mut b = Blocks::from_vec(alloc::vec![1, 2, 3]);
        b.push(4);
        b.swap(0, 3);
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), [4, 2, 3, 1]);
        assert!(b.rest.is_empty());
        assert_eq!(b.pop(), Some(1));
        assert_eq!(b.len(), 3);
    }
}
