//! Causal contexts: a version vector plus a cloud of out-of-order dots.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::num::NonZeroU64;
use core::ops::Deref;
use smallvec::SmallVec;

use crate::causal::{Dot, ReplicaId, VersionVector};
use crate::error::InvariantViolation;
use crate::lattice::{Lattice, Validate};

/// Inclusive ranges `[lo, hi]` of one replica's counters. Normal form: sorted,
/// `1 ≤ lo ≤ hi < u64::MAX` (`≤ Dot::MAX_COUNTER` in validated input), and separated by at least one missing
/// counter (`hi + 1 < next.lo`), never empty.
type Ranges = SmallVec<[(u64, u64); 1]>;

/// Replicas with their ranges, sorted by replica, strictly; every `Ranges`
/// non-empty and in normal form.
type Entries = SmallVec<[(ReplicaId, Ranges); 1]>;

/// The set of events a replica has seen: a [`VersionVector`] (the contiguous
/// prefix `1..=n` of each replica) plus a *dot cloud* of events received out of
/// order.
///
/// The whole set is stored as sorted, disjoint, non-adjacent ranges of
/// counters per replica. The vector is the range that starts at 1; every other
/// range is the cloud. This representation is its own compaction: a dot that
/// fills the gap before a cloud range merges the two ranges, and nothing ever
/// fills a gap that no event filled (Akka #22188: a compaction that filled
/// gaps turned holes into deletes). See `docs/causality.md`.
///
/// A context of one range of one replica (a one-writer delta, a nested
/// value's context, a one-writer state) is held inline in 24 bytes; any
/// other non-empty context is boxed.
///
/// | operation | cost (R replicas, G gaps per replica) |
/// | --- | --- |
/// | `contains` | O(log R + log G) |
/// | `insert` | O(log R + G) |
/// | `join`, `leq` | O(R₁·G₁ + R₂·G₂) |
///
/// ```
/// use converge::{CausalContext, Dot, ReplicaId};
/// let a = ReplicaId::new(1);
/// let mut cx = CausalContext::new();
/// cx.insert(Dot::new(a, 1));
/// cx.insert(Dot::new(a, 3));          // out of order: goes to the cloud
/// assert_eq!(cx.vector().get(a), 1);
/// assert_eq!(cx.cloud().collect::<Vec<_>>(), vec![Dot::new(a, 3)]);
/// cx.insert(Dot::new(a, 2));          // fills the gap: compacts
/// assert_eq!(cx.vector().get(a), 3);
/// assert_eq!(cx.cloud().count(), 0);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CausalContext {
    repr: Repr,
}

/// The two forms of a context. Canonical, so that equal sets are equal
/// values (the derived `PartialEq` and `Hash` rely on it): a set of one
/// range of one replica is always `One`, and `Many` holds either nothing
/// (`None`, the empty set) or entries that are not one range of one
/// replica.
///
/// 24 bytes (tested): `Many`'s pointer sits beside `lo`, whose zero is its
/// tag. Every map entry's nested value carries a context that is always
/// empty, so its size is paid once per entry and level (C4, decision
/// 0008 step 3).
#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// The counters `lo..=hi` of `replica`.
    One {
        replica: ReplicaId,
        lo: NonZeroU64,
        hi: u64,
    },
    /// The empty set, or two or more ranges.
    Many(Option<Box<Entries>>),
}

impl Default for CausalContext {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for CausalContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map()
            .entries(self.view().iter().map(|(r, rs)| (r, &rs[..])))
            .finish()
    }
}

/// A context's entries: borrowed from the box, or built inline (without
/// allocating) from the `One` form.
enum View<'a> {
    Inline(Entries),
    Boxed(&'a Entries),
}

impl Deref for View<'_> {
    type Target = [(ReplicaId, Ranges)];
    fn deref(&self) -> &Self::Target {
        match self {
            View::Inline(e) => e,
            View::Boxed(e) => e,
        }
    }
}

/// One replica's ranges: borrowed, or copied from the `One` form. Derefs to
/// the sorted ranges.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ReplicaRanges<'a> {
    /// The one range of a `One` context (or none).
    Inline([(u64, u64); 1], bool),
    /// Borrowed from the boxed entries (or empty).
    Borrowed(&'a [(u64, u64)]),
}

impl Deref for ReplicaRanges<'_> {
    type Target = [(u64, u64)];
    fn deref(&self) -> &[(u64, u64)] {
        match self {
            ReplicaRanges::Inline(r, true) => r,
            ReplicaRanges::Inline(_, false) => &[],
            ReplicaRanges::Borrowed(r) => r,
        }
    }
}

fn one_range(lo: u64, hi: u64) -> Ranges {
    let mut r = Ranges::new();
    r.push((lo, hi));
    r
}

fn find(entries: &[(ReplicaId, Ranges)], r: ReplicaId) -> Result<usize, usize> {
    entries.binary_search_by_key(&r, |e| e.0)
}

fn ranges_contain(ranges: &[(u64, u64)], c: u64) -> bool {
    // Fast path: the contiguous prefix.
    if let Some(&(lo, hi)) = ranges.first() {
        if lo <= c && c <= hi {
            return true;
        }
    }
    let i = ranges.partition_point(|&(lo, _)| lo <= c);
    i > 0 && c <= ranges[i - 1].1
}

/// Union of two normal-form range lists, in normal form.
fn union(a: &[(u64, u64)], b: &[(u64, u64)]) -> Ranges {
    let mut out: Ranges = SmallVec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    loop {
        let next = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => {
                if x.0 <= y.0 {
                    i += 1;
                    *x
                } else {
                    j += 1;
                    *y
                }
            }
            (Some(x), None) => {
                i += 1;
                *x
            }
            (None, Some(y)) => {
                j += 1;
                *y
            }
            (None, None) => break,
        };
        match out.last_mut() {
            Some(last) if next.0 <= last.1.saturating_add(1) => last.1 = last.1.max(next.1),
            _ => out.push(next),
        }
    }
    out
}

/// `counters` sorted and without repeats: through a bitmap over their span
/// when it is at most 64 bits per counter (linear), else by sorting.
fn sorted_unique(mut counters: Vec<u64>) -> Vec<u64> {
    let (Some(&min), Some(&max)) = (counters.iter().min(), counters.iter().max()) else {
        return counters;
    };
    let span = max - min;
    let dense = counters.len() >= 64 && span / 64 <= counters.len() as u64;
    if !dense {
        counters.sort_unstable();
        counters.dedup();
        return counters;
    }
    let words = usize::try_from(span / 64 + 1).unwrap_or(usize::MAX);
    let mut bits: Vec<u64> = alloc::vec![0; words];
    for &c in &counters {
        let i = c - min;
        // `i / 64 < words` because `i <= span`.
        if let Some(w) = bits.get_mut((i / 64) as usize) {
            *w |= 1 << (i % 64);
        }
    }
    counters.clear();
    for (w, mut word) in bits.into_iter().enumerate() {
        while word != 0 {
            let bit = u64::from(word.trailing_zeros());
            counters.push(min + (w as u64) * 64 + bit);
            word &= word - 1;
        }
    }
    counters
}

/// Whether every counter of `a` is in `b`.
fn subset(a: &[(u64, u64)], b: &[(u64, u64)]) -> bool {
    a.iter().all(|&(lo, hi)| {
        let i = b.partition_point(|&(blo, _)| blo <= lo);
        i > 0 && hi <= b[i - 1].1
    })
}

/// Number of counters in both.
fn overlap(a: &[(u64, u64)], b: &[(u64, u64)]) -> u64 {
    let (mut i, mut j, mut n) = (0, 0, 0u64);
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo <= hi {
            n = n.saturating_add(hi - lo + 1);
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    n
}

/// Adds `dot` (counter neither 0 nor `u64::MAX`) to `entries`, compacting
/// adjacent ranges. Returns whether it was new.
fn insert_in(entries: &mut Entries, dot: Dot) -> bool {
    let c = dot.counter;
    match find(entries, dot.replica) {
        Err(i) => {
            entries.insert(i, (dot.replica, one_range(c, c)));
            true
        }
        Ok(i) => {
            let ranges = &mut entries[i].1;
            // Fast path: extends the last range (sequential local writes).
            if let Some(last) = ranges.last_mut() {
                if c == last.1 + 1 {
                    last.1 = c;
                    return true;
                }
            }
            let k = ranges.partition_point(|&(lo, _)| lo <= c);
            if k > 0 && c <= ranges[k - 1].1 {
                return false;
            }
            let joins_prev = k > 0 && ranges[k - 1].1 + 1 == c;
            let joins_next = k < ranges.len() && c + 1 == ranges[k].0;
            match (joins_prev, joins_next) {
                (true, true) => {
                    ranges[k - 1].1 = ranges[k].1;
                    ranges.remove(k);
                }
                (true, false) => ranges[k - 1].1 = c,
                (false, true) => ranges[k].0 = c,
                (false, false) => ranges.insert(k, (c, c)),
            }
            true
        }
    }
}

/// Adds `lo..=hi` of `replica` (`1 ≤ lo ≤ hi < u64::MAX`) to `entries`.
fn insert_range_in(entries: &mut Entries, replica: ReplicaId, lo: u64, hi: u64) {
    match find(entries, replica) {
        Err(i) => entries.insert(i, (replica, one_range(lo, hi))),
        Ok(i) => {
            let ranges = &mut entries[i].1;
            if let Some(last) = ranges.last_mut() {
                if lo > last.1 {
                    if lo == last.1 + 1 {
                        last.1 = hi;
                    } else {
                        ranges.push((lo, hi));
                    }
                    return;
                }
            }
            // Ranges that touch `lo..=hi` are `a..b`: merged into one.
            let a = ranges.partition_point(|&(_, h)| h.saturating_add(1) < lo);
            let b = ranges.partition_point(|&(l, _)| l <= hi.saturating_add(1));
            if a == b {
                ranges.insert(a, (lo, hi));
            } else {
                ranges[a] = (lo.min(ranges[a].0), hi.max(ranges[b - 1].1));
                ranges.drain(a + 1..b);
            }
        }
    }
}

impl CausalContext {
    /// The empty context (bottom).
    pub const fn new() -> Self {
        Self {
            repr: Repr::Many(None),
        }
    }

    /// The context of `entries` (sorted, each replica's ranges in normal
    /// form), in canonical form.
    fn from_entries(entries: Entries) -> Self {
        if entries.is_empty() {
            return Self::new();
        }
        if let [(replica, ranges)] = &entries[..] {
            if let [(lo, hi)] = ranges[..] {
                if let Some(lo) = NonZeroU64::new(lo) {
                    return Self {
                        repr: Repr::One {
                            replica: *replica,
                            lo,
                            hi,
                        },
                    };
                }
            }
        }
        Self {
            repr: Repr::Many(Some(Box::new(entries))),
        }
    }

    /// The entries, moved out.
    fn into_entries(self) -> Entries {
        match self.repr {
            Repr::One { replica, lo, hi } => {
                let mut e = Entries::new();
                e.push((replica, one_range(lo.get(), hi)));
                e
            }
            Repr::Many(None) => Entries::new(),
            Repr::Many(Some(e)) => *e,
        }
    }

    /// The entries, to read.
    fn view(&self) -> View<'_> {
        match &self.repr {
            Repr::Many(Some(e)) => View::Boxed(e),
            _ => View::Inline(self.clone().into_entries()),
        }
    }

    /// Applies `f` to the entries, in place when they are boxed, and
    /// restores the canonical form.
    fn update<R>(&mut self, f: impl FnOnce(&mut Entries) -> R) -> R {
        if let Repr::Many(Some(e)) = &mut self.repr {
            let r = f(e);
            if e.len() <= 1 && e.first().map_or(true, |(_, rs)| rs.len() == 1) {
                let e = core::mem::take(&mut **e);
                *self = Self::from_entries(e);
            }
            return r;
        }
        let mut e = core::mem::take(self).into_entries();
        let r = f(&mut e);
        *self = Self::from_entries(e);
        r
    }

    /// Each replica with its ranges, sorted by replica.
    pub(crate) fn replicas(&self) -> impl Iterator<Item = (ReplicaId, ReplicaRanges<'_>)> + '_ {
        let (one, many) = match &self.repr {
            Repr::One { replica, lo, hi } => (
                Some((*replica, ReplicaRanges::Inline([(lo.get(), *hi)], true))),
                &[][..],
            ),
            Repr::Many(None) => (None, &[][..]),
            Repr::Many(Some(e)) => (None, &e[..]),
        };
        one.into_iter().chain(
            many.iter()
                .map(|(r, rs)| (*r, ReplicaRanges::Borrowed(&rs[..]))),
        )
    }

    /// The position of `replica` among [`replicas`](Self::replicas).
    pub(crate) fn replica_index(&self, replica: ReplicaId) -> Option<usize> {
        match &self.repr {
            Repr::One { replica: r, .. } => (*r == replica).then_some(0),
            Repr::Many(None) => None,
            Repr::Many(Some(e)) => find(e, replica).ok(),
        }
    }

    /// Whether the form is canonical (see [`Repr`]).
    fn is_canonical(&self) -> bool {
        match &self.repr {
            Repr::One { lo, hi, .. } => lo.get() <= *hi,
            Repr::Many(None) => true,
            Repr::Many(Some(e)) => e.len() >= 2 || e.first().is_some_and(|(_, rs)| rs.len() >= 2),
        }
    }

    /// Number of replicas with a range.
    pub(crate) fn replica_count(&self) -> usize {
        match &self.repr {
            Repr::One { .. } => 1,
            Repr::Many(None) => 0,
            Repr::Many(Some(e)) => e.len(),
        }
    }

    /// Whether the context has seen `dot`.
    #[inline]
    pub fn contains(&self, dot: Dot) -> bool {
        match &self.repr {
            Repr::One { replica, lo, hi } => {
                *replica == dot.replica && lo.get() <= dot.counter && dot.counter <= *hi
            }
            Repr::Many(None) => false,
            Repr::Many(Some(e)) => match find(e, dot.replica) {
                Ok(i) => ranges_contain(&e[i].1, dot.counter),
                Err(_) => false,
            },
        }
    }

    /// Adds `dot`, compacting adjacent ranges. Returns whether it was new.
    /// Dots with counter 0 or `u64::MAX` (never generated) are ignored.
    pub fn insert(&mut self, dot: Dot) -> bool {
        let c = dot.counter;
        let Some(nz) = NonZeroU64::new(c).filter(|_| c != u64::MAX) else {
            return false;
        };
        match &mut self.repr {
            Repr::Many(None) => {
                self.repr = Repr::One {
                    replica: dot.replica,
                    lo: nz,
                    hi: c,
                };
                return true;
            }
            Repr::One { replica, lo, hi } if *replica == dot.replica => {
                // `hi < u64::MAX` (normal form), so `hi + 1` cannot overflow.
                if c == *hi + 1 {
                    *hi = c;
                    return true;
                }
                if lo.get() <= c && c <= *hi {
                    return false;
                }
                if c + 1 == lo.get() {
                    *lo = nz;
                    return true;
                }
            }
            _ => {}
        }
        self.update(|e| insert_in(e, dot))
    }

    /// This context without the given dots: O(n + ranges) when each
    /// replica's dots are dense in its counter span (sorted through a
    /// bitmap), O(n log n + ranges) otherwise.
    pub(crate) fn minus(&self, dots: Vec<Dot>) -> Self {
        if dots.is_empty() {
            return self.clone();
        }
        let mine = self.view();
        // Group the counters by replica (dots of replicas not in the context
        // cannot be removed from it).
        let mut per: Vec<Vec<u64>> = Vec::new();
        per.resize_with(mine.len(), Vec::new);
        for d in dots {
            if let Ok(i) = find(&mine, d.replica) {
                per[i].push(d.counter);
            }
        }
        let mut entries = Entries::with_capacity(mine.len());
        for ((r, ranges), counters) in mine.iter().zip(per) {
            let counters = sorted_unique(counters);
            let mut k = 0;
            let mut out = Ranges::new();
            for &(lo, hi) in ranges {
                let mut cur = lo;
                while k < counters.len() && counters[k] <= hi {
                    let c = counters[k];
                    k += 1;
                    if c < cur {
                        continue;
                    }
                    if c > cur {
                        out.push((cur, c - 1));
                    }
                    cur = c + 1;
                }
                if cur <= hi {
                    out.push((cur, hi));
                }
            }
            if !out.is_empty() {
                entries.push((*r, out));
            }
        }
        Self::from_entries(entries)
    }

    /// The highest counter of `replica` seen (contiguous or not), or 0.
    pub fn max_counter(&self, replica: ReplicaId) -> u64 {
        self.replica_ranges(replica).last().map_or(0, |r| r.1)
    }

    /// The dot for the next local event of `replica`: one above every counter
    /// of `replica` this context has seen.
    ///
    /// Validation caps received counters at [`Dot::MAX_COUNTER`] (`2^62`),
    /// leaving more local headroom than a replica can use.
    pub fn next_dot(&self, replica: ReplicaId) -> Dot {
        Dot::new(replica, self.max_counter(replica).saturating_add(1))
    }

    /// The contiguous part: for each replica, the largest `n` with `1..=n` seen.
    pub fn vector(&self) -> VersionVector {
        let mut v = VersionVector::new();
        for (r, ranges) in self.replicas() {
            if ranges[0].0 == 1 {
                v.set_max(r, ranges[0].1);
            }
        }
        v
    }

    /// The dot cloud: seen dots not covered by [`vector`](Self::vector), in order.
    pub fn cloud(&self) -> impl Iterator<Item = Dot> + '_ {
        // Only a replica's first range can start at 1.
        self.ranges()
            .filter(|&(_, lo, _)| lo != 1)
            .flat_map(|(r, lo, hi)| (lo..=hi).map(move |c| Dot::new(r, c)))
    }

    /// The ranges `(replica, lo, hi)` of seen counters, sorted.
    pub fn ranges(&self) -> impl Iterator<Item = (ReplicaId, u64, u64)> + '_ {
        let (one, many) = match &self.repr {
            Repr::One { replica, lo, hi } => (Some((*replica, lo.get(), *hi)), &[][..]),
            Repr::Many(None) => (None, &[][..]),
            Repr::Many(Some(e)) => (None, &e[..]),
        };
        one.into_iter().chain(
            many.iter()
                .flat_map(|(r, ranges)| ranges.iter().map(move |&(lo, hi)| (*r, lo, hi))),
        )
    }

    /// Number of dots in the context (saturating).
    pub fn dot_count(&self) -> u64 {
        self.ranges()
            .fold(0u64, |n, (_, lo, hi)| n.saturating_add(hi - lo + 1))
    }

    /// Whether the context is empty.
    pub fn is_empty(&self) -> bool {
        matches!(self.repr, Repr::Many(None))
    }

    /// Number of dots in both contexts (saturating).
    pub(crate) fn overlap(&self, other: &Self) -> u64 {
        if self.replica_count() > other.replica_count() {
            return other.overlap(self);
        }
        let mut n = 0u64;
        for (r, ranges) in self.replicas() {
            n = n.saturating_add(overlap(&ranges, &other.replica_ranges(r)));
        }
        n
    }

    /// The sorted, disjoint, inclusive counter ranges of `replica` (empty
    /// when the context has none).
    pub(crate) fn replica_ranges(&self, replica: ReplicaId) -> ReplicaRanges<'_> {
        match &self.repr {
            Repr::One { replica: r, lo, hi } => {
                ReplicaRanges::Inline([(lo.get(), *hi)], *r == replica)
            }
            Repr::Many(None) => ReplicaRanges::Borrowed(&[]),
            Repr::Many(Some(e)) => match find(e, replica) {
                Ok(i) => ReplicaRanges::Borrowed(&e[i].1),
                Err(_) => ReplicaRanges::Borrowed(&[]),
            },
        }
    }

    /// Adds the inclusive range `lo..=hi` of `replica`'s counters
    /// (`1 ≤ lo ≤ hi < u64::MAX`; other ranges are ignored).
    pub(crate) fn insert_range(&mut self, replica: ReplicaId, lo: u64, hi: u64) {
        let Some(nz) = NonZeroU64::new(lo).filter(|_| lo <= hi && hi != u64::MAX) else {
            return;
        };
        match &mut self.repr {
            Repr::Many(None) => {
                self.repr = Repr::One {
                    replica,
                    lo: nz,
                    hi,
                };
                return;
            }
            Repr::One {
                replica: r,
                lo: mlo,
                hi: mhi,
            } if *r == replica
                && lo <= mhi.saturating_add(1)
                && mlo.get() <= hi.saturating_add(1) =>
            {
                // Overlapping or adjacent: still one range.
                *mlo = (*mlo).min(nz);
                *mhi = (*mhi).max(hi);
                return;
            }
            _ => {}
        }
        self.update(|e| insert_range_in(e, replica, lo, hi));
    }

    /// Builds a context from `(replica, lo, hi)` ranges sorted by replica
    /// and `lo` (adjacent or overlapping ones merge; ranges that
    /// [`insert_range`](Self::insert_range) ignores are ignored), with each
    /// replica's ranges reserved exactly: a context grown range by range
    /// holds up to three times its ranges while it grows (decoding memory,
    /// C4). Two passes over `ranges`.
    pub(crate) fn from_sorted_ranges<I>(ranges: I) -> Self
    where
        I: Iterator<Item = (ReplicaId, u64, u64)> + Clone,
    {
        let valid = |&(_, lo, hi): &(ReplicaId, u64, u64)| lo != 0 && lo <= hi && hi != u64::MAX;
        // Ranges per replica after merging.
        let mut counts: SmallVec<[(ReplicaId, usize); 1]> = SmallVec::new();
        let mut end = 0;
        for (r, lo, hi) in ranges.clone().filter(valid) {
            match counts.last_mut() {
                Some((last, n)) if *last == r => {
                    if lo > end + 1 {
                        *n += 1;
                    }
                    end = end.max(hi);
                }
                _ => {
                    debug_assert!(counts.last().map_or(true, |(last, _)| *last < r));
                    counts.push((r, 1));
                    end = hi;
                }
            }
        }
        let mut entries = Entries::with_capacity(counts.len());
        for (r, n) in counts {
            let mut rs = Ranges::new();
            rs.reserve_exact(n);
            entries.push((r, rs));
        }
        for (r, lo, hi) in ranges.filter(valid) {
            insert_range_in(&mut entries, r, lo, hi);
        }
        Self::from_entries(entries)
    }

    /// Builds a context from a list of dots, in any order: O(n log n).
    pub fn from_dots(dots: impl IntoIterator<Item = Dot>) -> Self {
        let mut dots: SmallVec<[Dot; 4]> = dots.into_iter().collect();
        // In order, every insert extends the last range or appends one.
        dots.sort_unstable();
        let mut cx = Self::new();
        for d in dots {
            cx.insert(d);
        }
        cx
    }

    /// Builds a context from `(replica, lo, hi)` ranges, validating normal form.
    pub fn from_ranges(
        ranges: impl IntoIterator<Item = (ReplicaId, u64, u64)>,
    ) -> Result<Self, InvariantViolation> {
        let mut entries = Entries::new();
        for (r, lo, hi) in ranges {
            match entries.last_mut() {
                Some((last, rs)) if *last == r => rs.push((lo, hi)),
                Some((last, _)) if *last > r => return Err(InvariantViolation::Unsorted),
                _ => entries.push((r, one_range(lo, hi))),
            }
        }
        let cx = Self::from_entries(entries);
        cx.check_invariants()?;
        Ok(cx)
    }
}

impl From<&VersionVector> for CausalContext {
    fn from(v: &VersionVector) -> Self {
        let mut entries = Entries::with_capacity(v.len());
        for (r, n) in v.iter() {
            entries.push((r, one_range(1, n.min(u64::MAX - 1))));
        }
        Self::from_entries(entries)
    }
}

impl Lattice for CausalContext {
    fn join(&mut self, other: Self) -> bool {
        match (&mut self.repr, &other.repr) {
            (_, Repr::Many(None)) => return false,
            (Repr::Many(None), _) => {
                *self = other;
                return true;
            }
            (_, Repr::One { replica, lo, hi }) => {
                // A one-range delta (the usual one): added in place, in
                // either form, by `insert_range`.
                let (replica, lo, hi) = (*replica, lo.get(), *hi);
                if other.leq(self) {
                    return false;
                }
                self.insert_range(replica, lo, hi);
                return true;
            }
            (Repr::One { replica, lo, hi }, Repr::Many(Some(_))) => {
                // Ours into their box, which is kept (no new allocation).
                let (replica, lo, hi) = (*replica, lo.get(), *hi);
                if other.leq(self) {
                    return false;
                }
                let mut other = other;
                other.update(|e| insert_range_in(e, replica, lo, hi));
                *self = other;
                return true;
            }
            _ => {}
        }
        let theirs = other.into_entries();
        self.update(|mine| join_entries(mine, theirs))
    }

    fn leq(&self, other: &Self) -> bool {
        self.replicas()
            .all(|(r, ranges)| subset(&ranges, &other.replica_ranges(r)))
    }
}

/// Joins `other` into `mine`; returns whether `mine` changed.
fn join_entries(mine: &mut Entries, other: Entries) -> bool {
    if other.is_empty() {
        return false;
    }
    if mine.is_empty() {
        *mine = other;
        return true;
    }
    if other.iter().any(|(r, _)| find(mine, *r).is_err()) {
        return join_merging(mine, other);
    }
    let mut changed = false;
    for (r, theirs) in other {
        match find(mine, r) {
            Ok(i) => {
                let mine = &mut mine[i].1;
                // Fast path: a single range extending the prefix.
                if mine.len() == 1
                    && theirs.len() == 1
                    && theirs[0].0 <= mine[0].1 + 1
                    && theirs[0].0 >= mine[0].0
                {
                    if theirs[0].1 > mine[0].1 {
                        mine[0].1 = theirs[0].1;
                        changed = true;
                    }
                    continue;
                }
                if !subset(&theirs, mine) {
                    *mine = union(mine, &theirs);
                    changed = true;
                }
            }
            Err(i) => {
                mine.insert(i, (r, theirs));
                changed = true;
            }
        }
    }
    changed
}

/// Join when `other` has replicas `mine` lacks: one merge walk over both
/// sorted lists, O(R₁ + R₂) plus range unions (inserting them one by one
/// would be O(R²) on interleaved replica sets).
fn join_merging(mine: &mut Entries, other: Entries) -> bool {
    let old = core::mem::take(mine);
    let mut out = Entries::with_capacity(old.len() + other.len());
    let mut a = old.into_iter().peekable();
    let mut b = other.into_iter().peekable();
    let mut changed = false;
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => x.0.cmp(&y.0),
        };
        match order {
            Ordering::Less => out.extend(a.next()),
            Ordering::Greater => {
                changed = true;
                out.extend(b.next());
            }
            Ordering::Equal => {
                if let (Some((r, xs)), Some((_, ys))) = (a.next(), b.next()) {
                    if subset(&ys, &xs) {
                        out.push((r, xs));
                    } else {
                        changed = true;
                        out.push((r, union(&xs, &ys)));
                    }
                }
            }
        }
    }
    *mine = out;
    changed
}

impl Validate for CausalContext {
    fn check_invariants(&self) -> Result<(), InvariantViolation> {
        let mut prev: Option<ReplicaId> = None;
        for (replica, _) in self.replicas() {
            if prev.is_some_and(|p| p >= replica) {
                return Err(InvariantViolation::Unsorted);
            }
            prev = Some(replica);
        }
        for (replica, ranges) in self.replicas() {
            check_ranges(replica, &ranges)?;
        }
        // Every constructor of a valid set keeps the canonical form
        // (checked in debug builds: the tests, and the fuzz corpora as they
        // replay under `cargo test`).
        debug_assert!(self.is_canonical(), "not canonical: {self:?}");
        Ok(())
    }
}

/// One replica's ranges in normal form: non-empty, `1 ≤ lo ≤ hi ≤ MAX`,
/// sorted, neither overlapping nor adjacent.
fn check_ranges(replica: ReplicaId, ranges: &[(u64, u64)]) -> Result<(), InvariantViolation> {
    let bad = InvariantViolation::NonCanonicalContext { replica };
    if ranges.is_empty() {
        return Err(InvariantViolation::ZeroEntry { replica });
    }
    let mut prev_hi: Option<u64> = None;
    for &(lo, hi) in ranges {
        if lo == 0 {
            return Err(InvariantViolation::ZeroDot { replica });
        }
        if lo > hi || hi > Dot::MAX_COUNTER {
            return Err(bad);
        }
        if let Some(p) = prev_hi {
            if lo <= p + 1 {
                return Err(bad);
            }
        }
        prev_hi = Some(hi);
    }
    Ok(())
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::*;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Wire shape: `[(replica, [(lo, hi), ...]), ...]`.
    impl Serialize for CausalContext {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.replicas())
        }
    }

    /// As the slice of ranges.
    impl Serialize for ReplicaRanges<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            (**self).serialize(s)
        }
    }

    /// One replica's ranges on the wire, `[(lo, hi), ...]`, read straight
    /// into their inline form (checked with their replica, below).
    struct RangesIn(Ranges);

    impl<'de> Deserialize<'de> for RangesIn {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            // One range (the usual case) stays inline; more are gathered
            // without reallocating, or reserved at once with the decode's
            // lease (C4: a range is 16 bytes and at least 2 on the wire).
            use crate::encoding::collect::{self, Collector};
            type Gathered = (Option<(u64, u64)>, Collector<(u64, u64)>);
            let (first, more) = collect::fold_elements(
                d,
                |hint| {
                    let lease = || collect::leasable::<(u64, u64)>(Some(2));
                    Ok((None, Collector::for_seq(hint, lease)?))
                },
                |(first, more): &mut Gathered, hint, r: (u64, u64)| {
                    match *first {
                        None => *first = Some(r),
                        Some(f) => {
                            if more.is_empty() {
                                more.push(hint, f)?;
                            }
                            more.push(hint, r)?;
                        }
                    }
                    Ok(())
                },
            )?;
            Ok(RangesIn(match first {
                None => Ranges::new(),
                Some(_) if !more.is_empty() => Ranges::from_vec(
                    more.finish()
                        .map_err(crate::encoding::budget::over_budget)?,
                ),
                Some(f) => smallvec::smallvec![f],
            }))
        }
    }

    impl<'de> Deserialize<'de> for CausalContext {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            // Checked as they arrive (C4), and each replica's ranges read
            // straight into their inline form.
            // No lease: an entry's ranges are a nested sequence.
            let raw = crate::encoding::collect::checked_vec(
                d,
                || false,
                |prev: Option<&(ReplicaId, RangesIn)>, e: &(ReplicaId, RangesIn)| {
                    if prev.is_some_and(|p| p.0 >= e.0) {
                        return Err(InvariantViolation::Unsorted);
                    }
                    check_ranges(e.0, &e.1 .0)
                },
            )?;
            // Same layout: collected in place, then moved (no second copy).
            let entries: Vec<(ReplicaId, Ranges)> =
                raw.into_iter().map(|(r, rs)| (r, rs.0)).collect();
            let cx = CausalContext::from_entries(SmallVec::from_vec(entries));
            cx.check_invariants()
                .map_err(crate::encoding::violation::reject)?;
            Ok(cx)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc::collections::BTreeSet;
    use core::hash::BuildHasher;
    use proptest::prelude::*;

    #[test]
    fn a_context_is_24_bytes() {
        assert_eq!(core::mem::size_of::<CausalContext>(), 24);
    }

    /// Canonical form: one range of one replica is `One`, the empty set is
    /// `Many(None)`, and the box holds anything else.
    fn assert_canonical(cx: &CausalContext) {
        assert!(cx.is_canonical(), "not canonical: {cx:?}");
        cx.check_invariants().unwrap();
    }

    type Model = BTreeSet<(u64, u64)>;

    fn model_of(cx: &CausalContext) -> Model {
        cx.ranges()
            .flat_map(|(r, lo, hi)| (lo..=hi).map(move |c| (r.get(), c)))
            .collect()
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u64, u64),
        InsertRange(u64, u64, u64),
        Join(Vec<(u64, u64)>),
        Minus(Vec<(u64, u64)>),
    }

    fn dots() -> impl Strategy<Value = Vec<(u64, u64)>> {
        prop::collection::vec((0u64..3, 1u64..12), 0..6)
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u64..3, 0u64..13).prop_map(|(r, c)| Op::Insert(r, c)),
            2 => (0u64..3, 0u64..12, 0u64..6).prop_map(|(r, lo, n)| Op::InsertRange(r, lo, lo + n)),
            3 => dots().prop_map(Op::Join),
            1 => dots().prop_map(Op::Minus),
        ]
    }

    fn cx_of(dots: &[(u64, u64)]) -> CausalContext {
        CausalContext::from_dots(dots.iter().map(|&(r, c)| Dot::new(ReplicaId::new(r), c)))
    }

    proptest! {
        /// Every operation agrees with a set of dots, leaves the context
        /// canonical, and equal sets are equal (and equally hashed)
        /// contexts however they were built.
        #[test]
        fn contexts_agree_with_a_set_of_dots_and_stay_canonical(
            ops in prop::collection::vec(op(), 0..40),
        ) {
            let mut cx = CausalContext::new();
            let mut m = Model::new();
            for op in ops {
                match op {
                    Op::Insert(r, c) => {
                        let new = cx.insert(Dot::new(ReplicaId::new(r), c));
                        let want = c != 0 && m.insert((r, c));
                        prop_assert_eq!(new, want);
                    }
                    Op::InsertRange(r, lo, hi) => {
                        cx.insert_range(ReplicaId::new(r), lo, hi);
                        if lo != 0 {
                            m.extend((lo..=hi).map(|c| (r, c)));
                        }
                    }
                    Op::Join(ds) => {
                        let other = cx_of(&ds);
                        let theirs: Model = ds.iter().copied().collect();
                        let before = m.clone();
                        m.extend(ds.iter().copied());
                        prop_assert_eq!(cx.leq(&other), before.is_subset(&theirs));
                        prop_assert_eq!(other.leq(&cx), theirs.is_subset(&before));
                        prop_assert_eq!(cx.join(other), m != before);
                    }
                    Op::Minus(ds) => {
                        cx = cx.minus(ds.iter().map(|&(r, c)| Dot::new(ReplicaId::new(r), c)).collect());
                        for d in &ds {
                            m.remove(d);
                        }
                    }
                }
                assert_canonical(&cx);
                prop_assert_eq!(model_of(&cx), m.clone());
                let rebuilt = cx_of(&m.iter().copied().collect::<Vec<_>>());
                prop_assert_eq!(&rebuilt, &cx);
                let h = hashbrown::DefaultHashBuilder::default();
                prop_assert_eq!(h.hash_one(&rebuilt), h.hash_one(&cx));
                for r in 0..3 {
                    for c in 0..14 {
                        prop_assert_eq!(cx.contains(Dot::new(ReplicaId::new(r), c)), m.contains(&(r, c)));
                    }
                    let max = m.range((r, 0)..(r + 1, 0)).next_back().map_or(0, |d| d.1);
                    prop_assert_eq!(cx.max_counter(ReplicaId::new(r)), max);
                }
                let rs: Vec<_> = cx.ranges().collect();
                prop_assert_eq!(CausalContext::from_ranges(rs.iter().copied()).unwrap(), cx.clone());
                prop_assert_eq!(CausalContext::from_sorted_ranges(rs.iter().copied()), cx.clone());
                prop_assert_eq!(cx.dot_count(), m.len() as u64);
                prop_assert_eq!(cx.is_empty(), m.is_empty());
                // The vector is each replica's prefix from 1; the cloud the rest.
                let v = cx.vector();
                let mut cloud = Vec::new();
                for r in 0..3u64 {
                    let mut n = 0;
                    while m.contains(&(r, n + 1)) {
                        n += 1;
                    }
                    prop_assert_eq!(v.get(ReplicaId::new(r)), n);
                    cloud.extend(m.range((r, n + 1)..(r + 1, 0)).map(|&(r, c)| Dot::new(ReplicaId::new(r), c)));
                }
                prop_assert_eq!(cx.cloud().collect::<Vec<_>>(), cloud);
                let other = cx_of(&[(0, 2), (1, 1), (1, 5), (2, 3), (2, 4)]);
                let both = model_of(&other).intersection(&m).count() as u64;
                prop_assert_eq!(cx.overlap(&other), both);
                prop_assert_eq!(other.overlap(&cx), both);
            }
        }
    }

    /// Counters near the top: `u64::MAX` is never a counter, and a range
    /// may end just below it, in either form.
    #[test]
    fn counters_near_the_top_stay_in_range() {
        let a = ReplicaId::new(1);
        let top = u64::MAX - 1;
        // Above `Dot::MAX_COUNTER`, so built by hand, not validated.
        let mut cx = CausalContext::new();
        cx.insert_range(a, top - 2, top - 2);
        assert!(cx.insert(Dot::new(a, top - 1)));
        assert!(cx.insert(Dot::new(a, top)));
        assert!(!cx.insert(Dot::new(a, u64::MAX)));
        assert!(matches!(cx.repr, Repr::One { hi, .. } if hi == top));
        assert_eq!(cx.next_dot(a).counter, u64::MAX);
        cx.insert_range(a, 5, u64::MAX);
        assert_eq!(cx.dot_count(), 3);
        cx.insert_range(a, 5, top);
        assert_eq!(cx.ranges().collect::<Vec<_>>(), [(a, 5, top)]);
        // Boxed: two ranges, the second ending just below `u64::MAX`.
        let mut boxed = CausalContext::new();
        boxed.insert_range(a, 1, 1);
        boxed.insert_range(a, top - 2, top - 2);
        assert!(matches!(boxed.repr, Repr::Many(Some(_))));
        assert!(boxed.insert(Dot::new(a, top - 1)));
        assert!(!boxed.insert(Dot::new(a, u64::MAX)));
        let mut at_top = CausalContext::new();
        at_top.insert_range(a, top, top);
        assert!(boxed.join(at_top));
        assert_eq!(
            boxed.ranges().collect::<Vec<_>>(),
            [(a, 1, 1), (a, top - 2, top)]
        );
        assert_eq!(boxed.next_dot(a).counter, u64::MAX);
        let mut one = CausalContext::new();
        one.insert_range(a, top, top);
        let mut other = CausalContext::new();
        other.insert_range(a, 1, top - 1);
        assert!(one.join(other));
        assert_eq!(one.ranges().collect::<Vec<_>>(), [(a, 1, top)]);
        assert!(matches!(one.repr, Repr::One { .. }));
    }

    /// Decoded and converted contexts take the same canonical forms as
    /// built ones: equal, equally hashed.
    #[test]
    fn decoded_and_converted_contexts_are_canonical() {
        let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
        let h = hashbrown::DefaultHashBuilder::default();
        let mut v = VersionVector::new();
        v.set_max(a, 4);
        let from_v = CausalContext::from(&v);
        assert!(matches!(from_v.repr, Repr::One { .. }));
        assert_eq!(from_v, CausalContext::from_ranges([(a, 1, 4)]).unwrap());
        for ranges in [
            alloc::vec![],
            alloc::vec![(a, 1, 4)],
            alloc::vec![(a, 1, 4), (a, 6, 6)],
            alloc::vec![(a, 2, 3), (b, 1, 1)],
        ] {
            let built = CausalContext::from_ranges(ranges.iter().copied()).unwrap();
            assert_canonical(&built);
            #[cfg(feature = "serde")]
            {
                let bytes = crate::encoding::encode(&built).unwrap();
                let decoded: CausalContext = crate::encoding::decode(&bytes).unwrap();
                assert_canonical(&decoded);
                assert_eq!(decoded, built);
                assert_eq!(h.hash_one(&decoded), h.hash_one(&built));
            }
            let _ = &h;
        }
    }

    #[test]
    fn a_one_range_delta_joins_a_one_range_context_in_place() {
        let a = ReplicaId::new(1);
        let mut cx = CausalContext::from_ranges([(a, 1, 5)]).unwrap();
        assert!(cx.join(CausalContext::from_ranges([(a, 6, 9)]).unwrap()));
        assert!(matches!(cx.repr, Repr::One { hi: 9, .. }));
        assert!(!cx.join(CausalContext::from_ranges([(a, 2, 3)]).unwrap()));
        // A gap: boxed; filled: inline again.
        assert!(cx.join(CausalContext::from_ranges([(a, 11, 11)]).unwrap()));
        assert!(matches!(cx.repr, Repr::Many(Some(_))));
        assert!(cx.join(CausalContext::from_ranges([(a, 10, 10)]).unwrap()));
        assert!(matches!(cx.repr, Repr::One { hi: 11, .. }));
    }
}
