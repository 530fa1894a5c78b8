//! A vector in fixed-size blocks, for the runs a decode is about to place
//! and for pending runs (C4, decision 0008 step 4).
//!
//! A `Vec` that grows holds its old and its new buffer at once, and one
//! that is read whole and then consumed from the end keeps its full buffer
//! until it is dropped (or copies what is left to shrink). Here the
//! elements after a first block sit in blocks of exactly [`Blocks::PER`]
//! elements (a power of two, so an index is a shift and a mask) but the
//! last; a block is allocated when the last one is full and freed as soon
//! as [`pop`](Blocks::pop) empties it. A decode therefore never holds the
//! runs twice: their blocks shrink as fast as the tree they are placed
//! into grows.
//!
//! The first block keeps one element inline (a local insert's delta has
//! one pending run, and allocates nothing for it) and grows to a full
//! block. [`Blocks::from_vec`] makes a vector the first block, without a
//! copy (joins and `delta_since`, whose runs are already in memory); it
//! is not freed by `pop`, but [`Blocks::shrink_sparse`] gives back most of
//! it once it is mostly drained. An empty `Blocks` is 16 bytes more than
//! its inline element.

use alloc::boxed::Box;
use alloc::vec::Vec;
use smallvec::SmallVec;

/// A clone gives each block the capacity of its length, so a push into a
/// cloned last block may grow it past a block's size (harmless: only the
/// lengths of the blocks define the indexing).
#[derive(Clone)]
pub(crate) struct Blocks<T> {
    /// The first elements, any number (one inline).
    first: SmallVec<[T; 1]>,
    /// The blocks after `first`: `None` or at least one element.
    rest: Option<Box<Rest<T>>>,
}

#[derive(Clone)]
struct Rest<T> {
    /// Every block but the last holds exactly `PER` elements.
    blocks: Vec<Vec<T>>,
    /// Elements in `blocks`.
    len: usize,
}

impl<T: core::fmt::Debug> core::fmt::Debug for Blocks<T> {
    /// As a list: how the elements are blocked does not show.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> Default for Blocks<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Blocks<T> {
    /// Elements per block: sized as a dot map's blocks are (a power of
    /// two, about 4 KiB worth: `causal::table::block_shift`), and at least
    /// 8.
    const SHIFT: u32 = {
        let s = crate::causal::table::block_shift(core::mem::size_of::<T>());
        if s < 3 {
            3
        } else {
            s
        }
    };
    pub(crate) const PER: usize = 1 << Self::SHIFT;

    pub(crate) const fn new() -> Self {
        Blocks {
            first: SmallVec::new_const(),
            rest: None,
        }
    }

    /// `v` as the first block, without a copy.
    pub(crate) fn from_vec(v: Vec<T>) -> Self {
        Blocks {
            first: SmallVec::from_vec(v),
            rest: None,
        }
    }

    /// Where element `i` is: `None` for `first`, else a block of `rest`;
    /// and its index there.
    #[inline]
    fn at(&self, i: usize) -> (Option<usize>, usize) {
        match i.checked_sub(self.first.len()) {
            None => (None, i),
            Some(j) => (Some(j >> Self::SHIFT), j & (Self::PER - 1)),
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.first.len() + self.rest.as_ref().map_or(0, |r| r.len)
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity `first` grows to at the next push, if it does
    /// (`hint`: see [`push_hinted`](Self::push_hinted)).
    fn first_growth(&self, hint: usize) -> Option<usize> {
        let f = &self.first;
        if self.rest.is_some() || f.len() >= Self::PER {
            return None;
        }
        if f.is_empty() {
            // Sized by the hint, up to a block (one element is inline).
            let cap = hint.clamp(1, Self::PER);
            return (cap > f.capacity()).then_some(cap);
        }
        (f.len() == f.capacity()).then(|| len_grown::<T>(f.len()))
    }

    /// The bytes the next [`push_hinted`](Self::push_hinted) allocates (0:
    /// none), so that a decode can charge them to its budget first.
    #[cfg(feature = "serde")]
    pub(crate) fn next_alloc(&self, hint: usize) -> usize {
        let size = core::mem::size_of::<T>();
        let block = Self::PER.saturating_mul(size);
        let list = |blocks: &Vec<Vec<T>>| {
            if blocks.len() == blocks.capacity() {
                blocks.capacity().saturating_mul(2).max(4) * core::mem::size_of::<Vec<T>>()
            } else {
                0
            }
        };
        let f = &self.first;
        match &self.rest {
            None if f.len() < f.capacity() || f.len() < Self::PER => self
                .first_growth(hint)
                .map_or(0, |c| c.saturating_mul(size)),
            None => block
                .saturating_add(core::mem::size_of::<Rest<T>>())
                .saturating_add(list(&Vec::new())),
            Some(r) => match r.blocks.last() {
                Some(b) if b.len() < Self::PER => 0,
                _ => block.saturating_add(list(&r.blocks)),
            },
        }
    }

    /// Appends `x`. `hint` is the number of elements said to remain,
    /// counting `x` (an untrusted claim: it only sizes the first block, up
    /// to a full one); see [`next_alloc`](Self::next_alloc) for what a push
    /// allocates.
    pub(crate) fn push_hinted(&mut self, hint: usize, x: T) {
        if self.rest.is_none() {
            let f = &self.first;
            if f.len() < f.capacity() || f.len() < Self::PER {
                if let Some(cap) = self.first_growth(hint) {
                    let f = &mut self.first;
                    f.reserve_exact(cap - f.len());
                }
                self.first.push(x);
                return;
            }
        }
        let r = self.rest.get_or_insert_with(|| {
            Box::new(Rest {
                blocks: Vec::new(),
                len: 0,
            })
        });
        match r.blocks.last_mut() {
            Some(b) if b.len() < Self::PER => b.push(x),
            _ => {
                let mut b = Vec::with_capacity(Self::PER);
                b.push(x);
                r.blocks.push(b);
            }
        }
        r.len += 1;
    }

    /// Appends `x`.
    #[inline]
    pub(crate) fn push(&mut self, x: T) {
        // Room in `first` (a local delta's one pending run is here).
        if self.rest.is_none() && self.first.len() < self.first.capacity() {
            self.first.push(x);
        } else {
            self.push_hinted(1, x);
        }
    }

    /// Removes the last element, freeing its block if that empties it (the
    /// first block is kept for reuse).
    pub(crate) fn pop(&mut self) -> Option<T> {
        let Some(r) = &mut self.rest else {
            return self.first.pop();
        };
        let b = r.blocks.last_mut()?;
        let x = b.pop();
        if b.is_empty() {
            r.blocks.pop();
        }
        r.len -= 1;
        if r.len == 0 {
            self.rest = None;
        }
        x
    }

    /// Swaps the elements at `i` and `j` (both `< len`).
    pub(crate) fn swap(&mut self, i: usize, j: usize) {
        let ((bi, ki), (bj, kj)) = (self.at(i), self.at(j));
        let (lo, hi, klo, khi) = if bi <= bj {
            (bi, bj, ki, kj)
        } else {
            (bj, bi, kj, ki)
        };
        let first = &mut self.first;
        match (lo, hi, &mut self.rest) {
            (None, None, _) => first.swap(klo, khi),
            (None, Some(h), Some(r)) => core::mem::swap(&mut first[klo], &mut r.blocks[h][khi]),
            (Some(l), Some(h), Some(r)) if l == h => r.blocks[l].swap(klo, khi),
            (Some(l), Some(h), Some(r)) => {
                let (a, b) = r.blocks.split_at_mut(h);
                core::mem::swap(&mut a[l][klo], &mut b[0][khi]);
            }
            _ => panic!("index {i} or {j} out of bounds"),
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
        debug_assert!(i <= self.len());
        self.push(x);
        let mut j = self.len() - 1;
        while j > i {
            self.swap(j - 1, j);
            j -= 1;
        }
    }

    /// Removes the elements `[a, b)` and gives them to `f` in order:
    /// O(len − a).
    pub(crate) fn drain_range(&mut self, a: usize, b: usize, mut f: impl FnMut(T)) {
        debug_assert!(b <= self.len());
        if a >= b {
            return;
        }
        // Reversing `[a, len)` puts `[b, len)` first (reversed) and `[a, b)`
        // last, reversed, so that popping yields it in order; reversing the
        // first part back restores the order of the rest.
        let n = self.len();
        self.reverse(a, n);
        self.reverse(a, a + (n - b));
        for _ in a..b {
            if let Some(x) = self.pop() {
                f(x);
            }
        }
    }

    /// The first index whose element fails `pred`, for a `pred` that holds
    /// on a prefix (as `slice::partition_point`): the block by its last
    /// element, then within it.
    pub(crate) fn partition_point(&self, mut pred: impl FnMut(&T) -> bool) -> usize {
        let f = &self.first;
        let Some(r) = &self.rest else {
            return f.partition_point(pred);
        };
        if f.last().is_some_and(|x| !pred(x)) {
            return f.partition_point(pred);
        }
        let k = r
            .blocks
            .partition_point(|b| b.last().map_or(true, &mut pred));
        match r.blocks.get(k) {
            Some(b) => f.len() + k * Self::PER + b.partition_point(pred),
            None => self.len(),
        }
    }

    /// The elements as one slice, if they are all in `first`.
    pub(crate) fn as_mut_slice(&mut self) -> Option<&mut [T]> {
        if self.rest.is_none() {
            Some(&mut self.first[..])
        } else {
            None
        }
    }

    /// For elements all in `first` (a vector wrapped by
    /// [`from_vec`](Self::from_vec)): once it is large and under a quarter
    /// full, sets its capacity to twice its length, as the stack of a join
    /// drains (blocks after `first` are freed as they empty).
    pub(crate) fn shrink_sparse(&mut self) {
        let f = &mut self.first;
        if self.rest.is_none() && f.capacity() > 256 && f.len() < f.capacity() / 4 {
            f.grow(f.len() * 2);
        }
    }

    /// Reorders the elements in place so that position `k` holds the one
    /// now at `from[k]` (`from` a permutation of `0..len`).
    pub(crate) fn arrange(&mut self, from: &[usize]) {
        debug_assert_eq!(from.len(), self.len());
        match self.as_mut_slice() {
            Some(s) => permute(from, |a, b| s.swap(a, b)),
            None => permute(from, |a, b| self.swap(a, b)),
        }
    }

    /// Sorts by `key` (unstable; keys should be distinct): one block as a
    /// slice, blocks by sorting their positions and then permuting the
    /// elements in place (a cycle of `L` elements takes `L − 1` swaps).
    pub(crate) fn sort_unstable_by_key<K: Ord>(&mut self, mut key: impl FnMut(&T) -> K) {
        if let Some(s) = self.as_mut_slice() {
            s.sort_unstable_by_key(key);
            return;
        }
        let mut from: Vec<usize> = (0..self.len()).collect();
        from.sort_unstable_by_key(|&i| key(&self[i]));
        self.arrange(&from);
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + Clone + '_ {
        let rest = self.rest.iter().flat_map(|r| r.blocks.iter().flatten());
        self.first.iter().chain(rest)
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> + '_ {
        let rest = self
            .rest
            .iter_mut()
            .flat_map(|r| r.blocks.iter_mut().flatten());
        self.first.iter_mut().chain(rest)
    }
}

/// Applies the permutation `from` (position `k` receives the element at
/// `from[k]`) through `swap`, one cycle at a time.
fn permute(from: &[usize], mut swap: impl FnMut(usize, usize)) {
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
            swap(j, k);
            j = k;
        }
    }
}

/// The capacity a full first block of `len < PER` elements grows to.
#[inline]
fn len_grown<T>(len: usize) -> usize {
    len.saturating_mul(2).clamp(4, Blocks::<T>::PER)
}

impl<T> core::ops::Index<usize> for Blocks<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        match (self.at(i), &self.rest) {
            ((None, k), _) => &self.first[k],
            ((Some(b), k), Some(r)) => &r.blocks[b][k],
            ((Some(_), _), None) => panic!("index {i} out of bounds"),
        }
    }
}

impl<T> core::ops::IndexMut<usize> for Blocks<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        match (self.at(i), &mut self.rest) {
            ((None, k), _) => &mut self.first[k],
            ((Some(b), k), Some(r)) => &mut r.blocks[b][k],
            ((Some(_), _), None) => panic!("index {i} out of bounds"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type E = [u64; 64];

    /// A permutation of `0..n` from `seed` (Fisher–Yates with an LCG).
    fn shuffled(n: usize, seed: u64) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        let mut x = seed | 1;
        for i in (1..n).rev() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            p.swap(i, (x >> 33) as usize % (i + 1));
        }
        p
    }

    /// `rest` is `None` or holds elements, in blocks of exactly `PER` (the
    /// last: at most), allocated full size.
    fn check_shape(b: &Blocks<E>) -> Result<(), TestCaseError> {
        if let Some(r) = &b.rest {
            prop_assert!(r.len > 0);
            prop_assert_eq!(r.len, r.blocks.iter().map(Vec::len).sum::<usize>());
            for (k, blk) in r.blocks.iter().enumerate() {
                prop_assert!(!blk.is_empty() && blk.len() <= Blocks::<E>::PER);
                prop_assert!(k + 1 == r.blocks.len() || blk.len() == Blocks::<E>::PER);
                prop_assert_eq!(blk.capacity(), Blocks::<E>::PER);
            }
        }
        Ok(())
    }

    /// Applies one operation to `b` and to the model `v`; `Err` on a
    /// difference.
    fn step(
        b: &mut Blocks<E>,
        v: &mut Vec<E>,
        op: u8,
        x: u16,
        y: u16,
    ) -> Result<(), TestCaseError> {
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
                // Equal keys are equal elements, so an unstable sort has
                // one result.
                b.sort_unstable_by_key(|e| e[0]);
                v.sort_unstable_by_key(|e| e[0]);
                prop_assert_eq!(
                    b.partition_point(|e| e[0] < x64),
                    v.partition_point(|e| e[0] < x64)
                );
            }
            7 => {
                let from = shuffled(n, u64::from(x) << 16 | u64::from(y));
                b.arrange(&from);
                *v = from.iter().map(|&k| v[k]).collect();
            }
            _ => b.shrink_sparse(),
        }
        prop_assert_eq!(b.len(), v.len());
        prop_assert!(b.iter().eq(v.iter()));
        for (i, e) in v.iter().enumerate() {
            prop_assert_eq!(&b[i], e);
        }
        Ok(())
    }

    proptest! {
        /// Every operation agrees with a `Vec`, and every block but the
        /// last is full.
        #[test]
        fn blocks_act_as_a_vec(ops in proptest::collection::vec((0u8..9, any::<u16>(), any::<u16>()), 0..600)) {
            let mut b: Blocks<E> = Blocks::new();
            let mut v: Vec<E> = Vec::new();
            for (op, x, y) in ops {
                step(&mut b, &mut v, op, x, y)?;
                check_shape(&b)?;
                prop_assert!(b.first.capacity() <= Blocks::<E>::PER);
            }
        }

        /// The same, on a vector wrapped as one block.
        #[test]
        fn one_block_acts_as_a_vec(
            start in 0usize..300,
            spare in 0usize..40,
            ops in proptest::collection::vec((0u8..9, any::<u16>(), any::<u16>()), 0..300),
        ) {
            // With spare capacity, as a join's vector has (also more than
            // a block's worth).
            let mut v: Vec<E> = Vec::with_capacity(start + spare);
            v.extend((0..start as u64).map(|i| [i; 64]));
            let mut b = Blocks::from_vec(v.clone());
            for (op, x, y) in ops {
                step(&mut b, &mut v, op, x, y)?;
                check_shape(&b)?;
            }
        }

        /// `next_alloc` is what the next push allocates: the grown or new
        /// block, and the block list when it grows.
        #[cfg(feature = "serde")]
        #[test]
        fn next_alloc_is_what_a_push_allocates(hints in proptest::collection::vec(0usize..100, 0..200)) {
            let size = core::mem::size_of::<E>();
            let mut b: Blocks<E> = Blocks::new();
            for h in hints {
                let said = b.next_alloc(h);
                let empty = b.is_empty();
                let blocks = |b: &Blocks<E>| b.rest.as_ref().map_or((0, 0), |r| (r.blocks.len(), r.blocks.capacity()));
                let (first, (rest, list), boxed) = (b.first.capacity(), blocks(&b), b.rest.is_some());
                b.push_hinted(h, [0; 64]);
                let mut got = 0;
                if b.first.capacity() != first {
                    got += b.first.capacity() * size;
                }
                if b.rest.is_some() != boxed {
                    got += core::mem::size_of::<Rest<E>>();
                }
                let (rest2, list2) = blocks(&b);
                if rest2 != rest {
                    got += Blocks::<E>::PER * size;
                }
                if list2 != list {
                    got += list2 * core::mem::size_of::<Vec<E>>();
                }
                prop_assert_eq!(said, got);
                if empty {
                    // The first block is sized by the hint (one inline).
                    prop_assert_eq!(b.first.capacity(), h.clamp(1, Blocks::<E>::PER));
                }
            }
        }
    }

    #[test]
    fn a_block_is_a_power_of_two_of_at_most_4_kib_and_at_least_8() {
        assert_eq!(Blocks::<u8>::PER, 4096);
        assert_eq!(Blocks::<()>::PER, 4096);
        assert_eq!(Blocks::<[u8; 88]>::PER, 32);
        assert_eq!(Blocks::<[u8; 96]>::PER, 32);
        assert_eq!(Blocks::<[u8; 600]>::PER, 8);
        assert_eq!(Blocks::<E>::PER, 8);
    }

    #[test]
    fn a_clone_acts_as_the_original() {
        let mut b: Blocks<u32> = Blocks::new();
        for i in 0..3000 {
            b.push(i);
        }
        let mut c = b.clone();
        for i in 3000..3100 {
            b.push(i);
            c.push(i);
        }
        assert!(b.iter().eq(c.iter()));
        c.drain_range(10, 2000, |_| {});
        b.drain_range(10, 2000, |_| {});
        assert!(b.iter().eq(c.iter()));
        assert_eq!(c[500], b[500]);
    }

    #[test]
    fn one_element_is_inline_and_debug_lists_the_elements() {
        let mut b: Blocks<u64> = Blocks::new();
        b.push(7);
        assert!(!b.first.spilled());
        assert_eq!(alloc::format!("{b:?}"), "[7]");
        // 16 bytes beside the inline element.
        assert_eq!(
            core::mem::size_of::<Blocks<[u64; 12]>>(),
            core::mem::size_of::<[u64; 12]>() + 16
        );
    }
}
