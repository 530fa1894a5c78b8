//! Causal contexts: a version vector plus a cloud of out-of-order dots.

use alloc::vec::Vec;
use core::cmp::Ordering;
use smallvec::SmallVec;

use crate::causal::{Dot, ReplicaId, VersionVector};
use crate::error::InvariantViolation;
use crate::lattice::{Lattice, Validate};

/// Inclusive ranges `[lo, hi]` of one replica's counters. Normal form: sorted,
/// `1 ≤ lo ≤ hi < u64::MAX` (`≤ Dot::MAX_COUNTER` in validated input), and separated by at least one missing
/// counter (`hi + 1 < next.lo`), never empty.
type Ranges = SmallVec<[(u64, u64); 1]>;

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
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct CausalContext {
    /// Sorted by replica, strictly; every `Ranges` non-empty and in normal
    /// form. One replica is stored inline (a one-writer delta allocates
    /// nothing).
    entries: SmallVec<[(ReplicaId, Ranges); 1]>,
}

impl core::fmt::Debug for CausalContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(r, rs)| (r, &rs[..])))
            .finish()
    }
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

impl CausalContext {
    /// The empty context (bottom).
    pub const fn new() -> Self {
        Self {
            entries: SmallVec::new_const(),
        }
    }

    /// Whether the context has seen `dot`.
    #[inline]
    pub fn contains(&self, dot: Dot) -> bool {
        match find(&self.entries, dot.replica) {
            Ok(i) => ranges_contain(&self.entries[i].1, dot.counter),
            Err(_) => false,
        }
    }

    /// Adds `dot`, compacting adjacent ranges. Returns whether it was new.
    /// Dots with counter 0 or `u64::MAX` (never generated) are ignored.
    pub fn insert(&mut self, dot: Dot) -> bool {
        let c = dot.counter;
        if c == 0 || c == u64::MAX {
            return false;
        }
        match find(&self.entries, dot.replica) {
            Err(i) => {
                let mut r = Ranges::new();
                r.push((c, c));
                self.entries.insert(i, (dot.replica, r));
                true
            }
            Ok(i) => {
                let ranges = &mut self.entries[i].1;
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

    /// This context without the given dots: O(n + ranges) when each
    /// replica's dots are dense in its counter span (sorted through a
    /// bitmap), O(n log n + ranges) otherwise.
    pub(crate) fn minus(&self, dots: Vec<Dot>) -> Self {
        if dots.is_empty() {
            return self.clone();
        }
        // Group the counters by replica (dots of replicas not in the context
        // cannot be removed from it).
        let mut per: Vec<Vec<u64>> = Vec::new();
        per.resize_with(self.entries.len(), Vec::new);
        for d in dots {
            if let Ok(i) = find(&self.entries, d.replica) {
                per[i].push(d.counter);
            }
        }
        let mut entries: SmallVec<[(ReplicaId, Ranges); 1]> =
            SmallVec::with_capacity(self.entries.len());
        for ((r, ranges), counters) in self.entries.iter().zip(per) {
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
        Self { entries }
    }

    /// The highest counter of `replica` seen (contiguous or not), or 0.
    pub fn max_counter(&self, replica: ReplicaId) -> u64 {
        match find(&self.entries, replica) {
            Ok(i) => self.entries[i].1.last().map_or(0, |r| r.1),
            Err(_) => 0,
        }
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
        for (r, ranges) in &self.entries {
            if ranges[0].0 == 1 {
                v.set_max(*r, ranges[0].1);
            }
        }
        v
    }

    /// The dot cloud: seen dots not covered by [`vector`](Self::vector), in order.
    pub fn cloud(&self) -> impl Iterator<Item = Dot> + '_ {
        self.entries.iter().flat_map(|(r, ranges)| {
            let skip = usize::from(ranges[0].0 == 1);
            ranges[skip..]
                .iter()
                .flat_map(move |&(lo, hi)| (lo..=hi).map(move |c| Dot::new(*r, c)))
        })
    }

    /// The ranges `(replica, lo, hi)` of seen counters, sorted.
    pub fn ranges(&self) -> impl Iterator<Item = (ReplicaId, u64, u64)> + '_ {
        self.entries
            .iter()
            .flat_map(|(r, ranges)| ranges.iter().map(move |&(lo, hi)| (*r, lo, hi)))
    }

    /// Number of dots in the context (saturating).
    pub fn dot_count(&self) -> u64 {
        self.ranges()
            .fold(0u64, |n, (_, lo, hi)| n.saturating_add(hi - lo + 1))
    }

    /// Whether the context is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of dots in both contexts (saturating).
    pub(crate) fn overlap(&self, other: &Self) -> u64 {
        if self.entries.len() > other.entries.len() {
            return other.overlap(self);
        }
        let mut n = 0u64;
        for (r, ranges) in &self.entries {
            if let Ok(j) = find(&other.entries, *r) {
                n = n.saturating_add(overlap(ranges, &other.entries[j].1));
            }
        }
        n
    }

    /// The sorted, disjoint, inclusive counter ranges of `replica` (empty
    /// when the context has none).
    pub(crate) fn replica_ranges(&self, replica: ReplicaId) -> &[(u64, u64)] {
        match find(&self.entries, replica) {
            Ok(i) => &self.entries[i].1,
            Err(_) => &[],
        }
    }

    /// Adds the inclusive range `lo..=hi` of `replica`'s counters
    /// (`1 ≤ lo ≤ hi < u64::MAX`; other ranges are ignored).
    pub(crate) fn insert_range(&mut self, replica: ReplicaId, lo: u64, hi: u64) {
        if lo == 0 || lo > hi || hi == u64::MAX {
            return;
        }
        match find(&self.entries, replica) {
            Err(i) => {
                let mut r = Ranges::new();
                r.push((lo, hi));
                self.entries.insert(i, (replica, r));
            }
            Ok(i) => {
                let ranges = &mut self.entries[i].1;
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
        let mut entries = SmallVec::with_capacity(counts.len());
        for (r, n) in counts {
            let mut rs = Ranges::new();
            rs.reserve_exact(n);
            entries.push((r, rs));
        }
        let mut cx = Self { entries };
        for (r, lo, hi) in ranges.filter(valid) {
            cx.insert_range(r, lo, hi);
        }
        cx
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
        let mut entries: SmallVec<[(ReplicaId, Ranges); 1]> = SmallVec::new();
        for (r, lo, hi) in ranges {
            match entries.last_mut() {
                Some((last, rs)) if *last == r => rs.push((lo, hi)),
                Some((last, _)) if *last > r => return Err(InvariantViolation::Unsorted),
                _ => {
                    let mut rs = Ranges::new();
                    rs.push((lo, hi));
                    entries.push((r, rs));
                }
            }
        }
        let cx = Self { entries };
        cx.check_invariants()?;
        Ok(cx)
    }
}

impl From<&VersionVector> for CausalContext {
    fn from(v: &VersionVector) -> Self {
        let mut entries = SmallVec::with_capacity(v.len());
        for (r, n) in v.iter() {
            let mut rs = Ranges::new();
            rs.push((1, n.min(u64::MAX - 1)));
            entries.push((r, rs));
        }
        Self { entries }
    }
}

impl Lattice for CausalContext {
    fn join(&mut self, other: Self) -> bool {
        if other.entries.is_empty() {
            return false;
        }
        if self.entries.is_empty() {
            self.entries = other.entries;
            return true;
        }
        if other
            .entries
            .iter()
            .any(|(r, _)| find(&self.entries, *r).is_err())
        {
            return self.join_merging(other);
        }
        let mut changed = false;
        for (r, theirs) in other.entries {
            match find(&self.entries, r) {
                Ok(i) => {
                    let mine = &mut self.entries[i].1;
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
                    self.entries.insert(i, (r, theirs));
                    changed = true;
                }
            }
        }
        changed
    }

    fn leq(&self, other: &Self) -> bool {
        self.entries
            .iter()
            .all(|(r, ranges)| match find(&other.entries, *r) {
                Ok(j) => subset(ranges, &other.entries[j].1),
                Err(_) => false,
            })
    }
}

impl CausalContext {
    /// Join when `other` has replicas `self` lacks: one merge walk over both
    /// sorted lists, O(R₁ + R₂) plus range unions (inserting them one by one
    /// would be O(R²) on interleaved replica sets).
    fn join_merging(&mut self, other: Self) -> bool {
        let mine = core::mem::take(&mut self.entries);
        let mut out: SmallVec<[(ReplicaId, Ranges); 1]> =
            SmallVec::with_capacity(mine.len() + other.entries.len());
        let mut a = mine.into_iter().peekable();
        let mut b = other.entries.into_iter().peekable();
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
        self.entries = out;
        changed
    }
}

impl Validate for CausalContext {
    fn check_invariants(&self) -> Result<(), InvariantViolation> {
        for w in self.entries.windows(2) {
            if w[0].0 >= w[1].0 {
                return Err(InvariantViolation::Unsorted);
            }
        }
        for (replica, ranges) in &self.entries {
            check_ranges(*replica, ranges)?;
        }
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
            s.collect_seq(self.entries.iter().map(|(r, rs)| (r, &rs[..])))
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
            let cx = CausalContext {
                entries: SmallVec::from_vec(entries),
            };
            cx.check_invariants()
                .map_err(crate::encoding::violation::reject)?;
            Ok(cx)
        }
    }
}
