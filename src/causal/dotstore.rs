//! Dot stores and the one causal join they share (DESIGN §3).
//!
//! A causal CRDT is a pair *(dot store, causal context)*. Joining two of them
//! keeps a dot iff it is in both stores, or in one store and not yet seen by
//! the other side's context. That single rule gives observed-remove semantics
//! to every causal type in this crate; no type has a merge of its own.

use core::fmt::Debug;
use core::hash::Hash;

use alloc::boxed::Box;
use alloc::vec::Vec;
use smallvec::SmallVec;

use crate::causal::table::{Entry, Table};
use crate::causal::{CausalContext, Dot};
use crate::error::InvariantViolation;

/// A store of dots: the payload half of a causal CRDT.
///
/// Implemented by [`DotSet`], [`DotFun`], [`DotMap`], and (through
/// [`CausalCrdt`](crate::CausalCrdt)) by every causal type, so that causal
/// types nest inside maps and share the map's context.
pub trait DotStore: Clone + Default + PartialEq + Debug {
    /// Whether the store holds no dot.
    fn is_empty(&self) -> bool;

    /// Calls `f` for every dot in the store.
    fn for_each_dot(&self, f: &mut dyn FnMut(Dot));

    /// The causal join: `(self, ctx) ⊔ (other, other_ctx)`, leaving the
    /// contexts to the caller. Returns whether `self` changed.
    ///
    /// `scan` says whether entries of `self` under keys that `other` does not
    /// mention may hold dots that `other_ctx` has seen, so that they must be
    /// visited. `true` is always correct; `false` is a promise, made by
    /// [`needs_scan`] for deltas, that lets a join cost O(|other|) instead of
    /// O(|self|).
    fn join_store(
        &mut self,
        ctx: &CausalContext,
        other: Self,
        other_ctx: &CausalContext,
        scan: bool,
    ) -> bool;

    /// Whether the store holds anything at all, key hints included (a
    /// nested remove's delta holds hints but no dot). Only [`DotMap`] differs
    /// from `!is_empty()`.
    fn has_entries(&self) -> bool {
        !self.is_empty()
    }

    /// Counts the dots of `self` that `other_ctx` has seen, visiting only the
    /// entries under `other`'s keys (recursively), or `None` once more than
    /// `budget` entries were visited.
    fn count_along(
        &self,
        other: &Self,
        other_ctx: &CausalContext,
        budget: &mut usize,
    ) -> Option<u64> {
        let _ = other;
        *budget = budget.checked_sub(1)?;
        Some(self.count_dots_in(other_ctx))
    }

    /// The sub-store of entries whose dots satisfy `keep`.
    fn filter_dots(&self, keep: &dyn Fn(Dot) -> bool) -> Self;

    /// Checks I1 (every dot in `ctx`) and the store's own normal form. I2
    /// (no dot twice) spans the whole store, so the caller checks it over
    /// [`for_each_dot`](Self::for_each_dot), afterwards.
    ///
    /// Must check I1 for every dot `for_each_dot` yields: the search for a
    /// repeated dot sorts them in one bucket per replica of `ctx`, and
    /// relies on it.
    fn check_store(&self, ctx: &CausalContext) -> Result<(), InvariantViolation>;

    /// Checks I1, I2 and the normal form of a whole store (not nested in
    /// another). The default looks for a dot that appears twice among all
    /// of them; stores whose dots are strictly sorted by construction skip
    /// that search.
    fn check_all(&self, ctx: &CausalContext) -> Result<(), InvariantViolation> {
        self.check_store(ctx)?;
        find_duplicate(self, ctx)
    }

    /// Number of dots in the store that `ctx` has seen.
    fn count_dots_in(&self, ctx: &CausalContext) -> u64 {
        let mut n = 0u64;
        self.for_each_dot(&mut |d| {
            if ctx.contains(d) {
                n += 1;
            }
        });
        n
    }
}

/// The context of exactly the dots of `store`, built from sorted dots in
/// O(n log n) (inserting them in hash order could cost O(n²)).
pub(crate) fn context_of<S: DotStore>(store: &S) -> CausalContext {
    let mut dots = alloc::vec::Vec::new();
    store.for_each_dot(&mut |d| dots.push(d));
    CausalContext::from_dots(dots)
}

/// Whether joining `(other, other_ctx)` into `(store, ctx)` must visit
/// entries of `store` that `other` does not mention.
///
/// Such entries lose the dots `other_ctx` has seen, and their dots are all
/// in `ctx` (I1). So if every dot in both contexts is found in `store` under
/// `other`'s keys, no other entry can be touched and the join costs
/// O(|other|): the common case for deltas, whose contexts only name the dots
/// of the keys they carry (a remove carries its key as an empty hint).
/// For large `other`s (full states) the count gives up after a small budget
/// and the join scans.
pub fn needs_scan<S: DotStore>(
    store: &S,
    ctx: &CausalContext,
    other: &S,
    other_ctx: &CausalContext,
) -> bool {
    let relevant = ctx.overlap(other_ctx);
    if relevant == 0 {
        return false;
    }
    let mut budget = 256;
    match store.count_along(other, other_ctx, &mut budget) {
        Some(accounted) => accounted < relevant,
        None => true,
    }
}

/// The causal join of two strictly sorted dot sets `(a, ctx) ⊔ (b,
/// other_ctx)`, appended to `out` in order: a dot in both is kept, a dot in
/// one only if the other side has not seen it. Returns whether the result
/// differs from `a`.
pub(crate) fn merge_dots(
    a: &[Dot],
    b: &[Dot],
    ctx: &CausalContext,
    other_ctx: &CausalContext,
    out: &mut SmallVec<[Dot; 1]>,
) -> bool {
    let mut changed = false;
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                out.push(*x);
                i += 1;
                j += 1;
            }
            (Some(x), y) if y.map_or(true, |y| x < y) => {
                if other_ctx.contains(*x) {
                    changed = true;
                } else {
                    out.push(*x);
                }
                i += 1;
            }
            (_, Some(y)) => {
                if !ctx.contains(*y) {
                    out.push(*y);
                    changed = true;
                }
                j += 1;
            }
            _ => break,
        }
    }
    changed
}

/// The normal form (strictly sorted) and I1 of a flat store's dots.
pub(crate) fn check_sorted_dots<I>(dots: I, ctx: &CausalContext) -> Result<(), InvariantViolation>
where
    I: Iterator<Item = Dot> + Clone,
{
    let mut prev: Option<Dot> = None;
    for d in dots.clone() {
        if prev.is_some_and(|p| p >= d) {
            return Err(InvariantViolation::DuplicateDot { dot: d });
        }
        prev = Some(d);
    }
    for d in dots {
        if d.counter == 0 {
            return Err(InvariantViolation::ZeroDot { replica: d.replica });
        }
        if !ctx.contains(d) {
            return Err(InvariantViolation::DotNotInContext { dot: d });
        }
    }
    Ok(())
}

/// I2 over a whole store whose every dot is in `ctx` (I1, checked first):
/// the least dot that appears twice, if any, whatever the store's order.
///
/// The counters are sorted in one bucket per replica of `ctx`: 8 bytes a
/// dot, where collecting the dots took 16 (C4: a map entry of a few wire
/// bytes holds one or two dots).
pub(crate) fn find_duplicate<S: DotStore>(
    store: &S,
    ctx: &CausalContext,
) -> Result<(), InvariantViolation> {
    // Counted first, so that the vector is allocated once at its size (a
    // growing one would hold old and new buffers at once: C4). `ends[i + 1]`
    // counts replica `i`'s dots, then is made the end of its bucket; while
    // filling, `ends[i]` is where its next counter goes, so that afterwards
    // bucket `i` is `ends[i - 1]..ends[i]` (from 0 for `i = 0`).
    let mut ends: Vec<usize> = alloc::vec![0; ctx.replica_count() + 1];
    store.for_each_dot(&mut |d| {
        debug_assert!(ctx.contains(d), "find_duplicate before I1: {d:?}");
        if let Some(i) = ctx.replica_index(d.replica) {
            ends[i + 1] += 1;
        }
    });
    for i in 1..ends.len() {
        ends[i] += ends[i - 1];
    }
    let mut counters: Vec<u64> = alloc::vec![0; ends[ends.len() - 1]];
    store.for_each_dot(&mut |d| {
        if let Some(i) = ctx.replica_index(d.replica) {
            counters[ends[i]] = d.counter;
            ends[i] += 1;
        }
    });
    let mut start = 0;
    for ((replica, _), &end) in ctx.replicas().zip(&ends) {
        let bucket = &mut counters[start..end];
        start = end;
        bucket.sort_unstable();
        if let Some(w) = bucket.windows(2).find(|w| w[0] == w[1]) {
            return Err(InvariantViolation::DuplicateDot {
                dot: Dot::new(replica, w[0]),
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// DotSet

/// A set of dots: the presence of an element, an enable-wins flag.
///
/// Sorted and free of repeats; one dot is stored inline.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct DotSet {
    dots: SmallVec<[Dot; 1]>,
}

impl Debug for DotSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_set().entries(self.dots.iter()).finish()
    }
}

impl DotSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set holding one dot.
    pub fn single(dot: Dot) -> Self {
        let mut dots = SmallVec::new();
        dots.push(dot);
        Self { dots }
    }

    /// The dots, sorted.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Dot> + '_ {
        self.dots.iter().copied()
    }

    /// Number of dots.
    pub fn len(&self) -> usize {
        self.dots.len()
    }

    /// Whether the set holds no dot.
    pub fn is_empty(&self) -> bool {
        self.dots.is_empty()
    }

    /// Whether `dot` is in the set.
    pub fn contains(&self, dot: Dot) -> bool {
        self.dots.binary_search(&dot).is_ok()
    }

    /// Removes every dot, returning them.
    pub(crate) fn take(&mut self) -> SmallVec<[Dot; 1]> {
        core::mem::take(&mut self.dots)
    }

    /// Inserts a dot (keeps the order).
    pub(crate) fn insert(&mut self, dot: Dot) {
        if let Err(i) = self.dots.binary_search(&dot) {
            self.dots.insert(i, dot);
        }
    }

    /// Builds a set from sorted, strictly increasing dots.
    #[cfg(feature = "serde")]
    pub(crate) fn from_sorted(dots: SmallVec<[Dot; 1]>) -> Result<Self, InvariantViolation> {
        for w in dots.windows(2) {
            if w[0] >= w[1] {
                return Err(InvariantViolation::Unsorted);
            }
        }
        Ok(Self { dots })
    }
}

impl DotStore for DotSet {
    fn is_empty(&self) -> bool {
        self.dots.is_empty()
    }

    fn for_each_dot(&self, f: &mut dyn FnMut(Dot)) {
        self.dots.iter().for_each(|&d| f(d));
    }

    fn join_store(
        &mut self,
        ctx: &CausalContext,
        other: Self,
        other_ctx: &CausalContext,
        _scan: bool,
    ) -> bool {
        // Fast paths: identical sets, or one side empty.
        if self.dots == other.dots {
            return false;
        }
        if other.dots.is_empty() {
            let before = self.dots.len();
            self.dots.retain(|d| !other_ctx.contains(*d));
            return self.dots.len() != before;
        }
        if self.dots.is_empty() {
            self.dots = other.dots;
            self.dots.retain(|d| !ctx.contains(*d));
            return !self.dots.is_empty();
        }
        let mut out: SmallVec<[Dot; 1]> =
            SmallVec::with_capacity(self.dots.len().max(other.dots.len()));
        let changed = merge_dots(&self.dots, &other.dots, ctx, other_ctx, &mut out);
        self.dots = out;
        changed
    }

    fn filter_dots(&self, keep: &dyn Fn(Dot) -> bool) -> Self {
        Self {
            dots: self.dots.iter().copied().filter(|d| keep(*d)).collect(),
        }
    }

    fn check_store(&self, ctx: &CausalContext) -> Result<(), InvariantViolation> {
        check_sorted_dots(self.dots.iter().copied(), ctx)
    }

    fn check_all(&self, ctx: &CausalContext) -> Result<(), InvariantViolation> {
        // Strictly sorted, so no dot repeats: no duplicate search (C4: no
        // second copy of the dots).
        check_sorted_dots(self.dots.iter().copied(), ctx)
    }
}

// ---------------------------------------------------------------------------
// DotFun

/// A function from dots to immutable values: the siblings of a multi-value
/// register, the per-replica contributions of a causal counter.
///
/// A dot names one write, so two valid states never map one dot to two
/// different values; [`Validate`](crate::Validate) rejects states that do.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DotFun<V> {
    /// Sorted by dot, strictly.
    entries: SmallVec<[(Dot, V); 1]>,
}

impl<V> Default for DotFun<V> {
    fn default() -> Self {
        Self {
            entries: SmallVec::new(),
        }
    }
}

impl<V: Debug> Debug for DotFun<V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(d, v)| (d, v)))
            .finish()
    }
}

impl<V> DotFun<V> {
    /// The empty function.
    pub fn new() -> Self {
        Self::default()
    }

    /// The function holding one entry.
    pub fn single(dot: Dot, value: V) -> Self {
        let mut entries = SmallVec::new();
        entries.push((dot, value));
        Self { entries }
    }

    /// The entries, sorted by dot.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Dot, &V)> + '_ {
        self.entries.iter().map(|(d, v)| (*d, v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the function has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `dot`, if present.
    pub fn get(&self, dot: Dot) -> Option<&V> {
        self.entries
            .binary_search_by_key(&dot, |e| e.0)
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// Builds from entries sorted strictly by dot.
    #[cfg(feature = "serde")]
    pub(crate) fn from_sorted(
        entries: SmallVec<[(Dot, V); 1]>,
    ) -> Result<Self, InvariantViolation> {
        for w in entries.windows(2) {
            if w[0].0 >= w[1].0 {
                return Err(InvariantViolation::Unsorted);
            }
        }
        Ok(Self { entries })
    }

    /// Inserts an entry for a dot not yet present (keeps the order).
    pub(crate) fn insert(&mut self, dot: Dot, value: V) {
        match self.entries.binary_search_by_key(&dot, |e| e.0) {
            Ok(i) => self.entries[i].1 = value,
            Err(i) => self.entries.insert(i, (dot, value)),
        }
    }

    /// Removes every entry, returning their dots.
    pub(crate) fn take_dots(&mut self) -> impl Iterator<Item = Dot> {
        core::mem::take(&mut self.entries).into_iter().map(|e| e.0)
    }

    /// Keeps the entries for which `f` holds.
    pub(crate) fn retain(&mut self, mut f: impl FnMut(Dot, &V) -> bool) {
        self.entries.retain(|(d, v)| f(*d, v));
    }
}

impl<V: Clone + PartialEq + Debug> DotStore for DotFun<V> {
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn for_each_dot(&self, f: &mut dyn FnMut(Dot)) {
        self.entries.iter().for_each(|e| f(e.0));
    }

    /// For a dot in both stores the value of `self` is kept: in valid states
    /// the two values are equal (see `check_compatible`).
    fn join_store(
        &mut self,
        ctx: &CausalContext,
        other: Self,
        other_ctx: &CausalContext,
        _scan: bool,
    ) -> bool {
        if other.entries.is_empty() {
            let before = self.entries.len();
            self.entries.retain(|e| !other_ctx.contains(e.0));
            return self.entries.len() != before;
        }
        if self.entries.is_empty() {
            self.entries = other.entries;
            self.entries.retain(|e| !ctx.contains(e.0));
            return !self.entries.is_empty();
        }
        let a = core::mem::take(&mut self.entries);
        let mut out: SmallVec<[(Dot, V); 1]> = SmallVec::with_capacity(a.len().max(other.len()));
        let mut changed = false;
        let mut a = a.into_iter().peekable();
        let mut b = other.entries.into_iter().peekable();
        loop {
            match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.0 == y.0 => {
                    out.extend(a.next());
                    b.next();
                }
                (Some(x), y) if y.map_or(true, |y| x.0 < y.0) => {
                    let x = a.next();
                    if let Some(x) = x {
                        if other_ctx.contains(x.0) {
                            changed = true;
                        } else {
                            out.push(x);
                        }
                    }
                }
                (_, Some(_)) => {
                    if let Some(y) = b.next() {
                        if !ctx.contains(y.0) {
                            out.push(y);
                            changed = true;
                        }
                    }
                }
                _ => break,
            }
        }
        self.entries = out;
        changed
    }

    fn filter_dots(&self, keep: &dyn Fn(Dot) -> bool) -> Self {
        Self {
            entries: self.entries.iter().filter(|e| keep(e.0)).cloned().collect(),
        }
    }

    fn check_store(&self, ctx: &CausalContext) -> Result<(), InvariantViolation> {
        check_sorted_dots(self.entries.iter().map(|e| e.0), ctx)
    }

    fn check_all(&self, ctx: &CausalContext) -> Result<(), InvariantViolation> {
        // Strictly sorted by dot: no duplicate search (C4).
        check_sorted_dots(self.entries.iter().map(|e| e.0), ctx)
    }
}

// ---------------------------------------------------------------------------
// DotMap

/// A map from keys to nested dot stores: an OR-set (`DotMap<E, DotSet>`), an
/// OR-map of any causal CRDT.
///
/// Equality is semantic: entries with an empty nested store are ignored.
/// States never hold such entries (joins prune them); a delta may carry one as
/// a *key hint* that tells the receiver which key a remove touched, so the join
/// need not scan the whole map. Hints are dropped when serialising.
#[derive(Clone)]
pub struct DotMap<K, S> {
    /// A map of one entry lives here, without a hash table: every mutator's
    /// delta is such a map, so building one allocates nothing.
    /// Invariant: `one.is_some()` implies `map.is_empty()`.
    one: Option<(K, S)>,
    /// Every entry when there are two or more (or after `entry`/`reserve`):
    /// entries in blocks, found through a hash index (`causal::table`).
    /// Boxed: most maps nested in an `OrMap` hold one entry or none, and
    /// then cost 8 bytes here instead of the table's 64.
    map: Option<Box<Table<K, S>>>,
}

impl<K, S> Default for DotMap<K, S> {
    fn default() -> Self {
        Self {
            one: None,
            map: None,
        }
    }
}

impl<K: Debug, S: Debug> Debug for DotMap<K, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.raw_iter()).finish()
    }
}

impl<K: Hash + Eq, S: DotStore> PartialEq for DotMap<K, S> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<K: Hash + Eq, S: DotStore + Eq> Eq for DotMap<K, S> {}

impl<K, S> DotMap<K, S> {
    /// Entries in arbitrary order (may include empty hints in deltas).
    pub(crate) fn raw_iter(&self) -> impl Iterator<Item = (&K, &S)> + '_ {
        self.one
            .iter()
            .map(|(k, v)| (k, v))
            .chain(self.map.iter().flat_map(|t| t.iter()))
    }

    fn raw_values(&self) -> impl Iterator<Item = &S> + '_ {
        self.raw_iter().map(|(_, v)| v)
    }

    /// Whether the table (not the inline entry) holds nothing.
    fn table_is_empty(&self) -> bool {
        self.map.as_ref().map_or(true, |t| t.is_empty())
    }

    fn raw_is_empty(&self) -> bool {
        self.one.is_none() && self.table_is_empty()
    }

    fn into_raw_entries(self) -> impl Iterator<Item = (K, S)> {
        self.one
            .into_iter()
            .chain(self.map.into_iter().flat_map(|t| *t))
    }
}

impl<K: Hash + Eq, S> DotMap<K, S> {
    /// The empty map.
    pub fn new() -> Self {
        Self {
            one: None,
            map: None,
        }
    }

    /// The nested store of `key`.
    pub fn get(&self, key: &K) -> Option<&S> {
        match &self.one {
            Some((k, v)) => (k == key).then_some(v),
            None => self.map.as_ref()?.get(key),
        }
    }

    /// The table, created empty if there is none.
    fn table(&mut self) -> &mut Table<K, S> {
        self.map.get_or_insert_with(Default::default)
    }

    /// Moves the inline entry into the table.
    fn promote(&mut self) {
        if let Some((k, v)) = self.one.take() {
            self.table().insert(k, v);
        }
    }

    /// The slot of `key`, for one-lookup updates.
    pub(crate) fn entry(&mut self, key: K) -> Entry<'_, K, S> {
        self.promote();
        self.table().entry(key)
    }

    /// Inserts or replaces an entry.
    pub(crate) fn insert(&mut self, key: K, value: S) {
        if self.table_is_empty() {
            match &mut self.one {
                None => {
                    self.one = Some((key, value));
                    return;
                }
                Some((k, v)) if *k == key => {
                    *v = value;
                    return;
                }
                Some(_) => self.promote(),
            }
        }
        self.table().insert(key, value);
    }

    /// Removes an entry.
    pub(crate) fn remove(&mut self, key: &K) -> Option<S> {
        match &self.one {
            Some((k, _)) if k == key => self.one.take().map(|(_, v)| v),
            Some(_) => None,
            None => self.map.as_mut()?.remove(key),
        }
    }

    /// Reserves room for `n` more entries.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.promote();
        self.table().reserve(n);
    }
}

impl<K: Hash + Eq, S: DotStore> DotMap<K, S> {
    /// The non-empty entries, in arbitrary order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &S)> + '_ {
        self.raw_iter().filter(|(_, v)| !v.is_empty())
    }

    /// Number of non-empty entries.
    pub fn len(&self) -> usize {
        self.raw_values().filter(|v| !v.is_empty()).count()
    }

    /// Whether every entry is empty.
    pub fn is_empty(&self) -> bool {
        self.raw_values().all(DotStore::is_empty)
    }
}

impl<K, S> DotStore for DotMap<K, S>
where
    K: Hash + Eq + Clone + Debug,
    S: DotStore,
{
    fn is_empty(&self) -> bool {
        self.raw_values().all(DotStore::is_empty)
    }

    fn for_each_dot(&self, f: &mut dyn FnMut(Dot)) {
        for v in self.raw_values() {
            v.for_each_dot(f);
        }
    }

    fn has_entries(&self) -> bool {
        !self.raw_is_empty()
    }

    fn join_store(
        &mut self,
        ctx: &CausalContext,
        mut other: Self,
        other_ctx: &CausalContext,
        scan: bool,
    ) -> bool {
        let mut changed = false;
        if scan && !self.raw_is_empty() {
            // Every entry of `self`, joined with `other`'s entry or bottom.
            self.promote();
            self.table().retain(|k, v| {
                let theirs = other.remove(k).unwrap_or_default();
                changed |= v.join_store(ctx, theirs, other_ctx, true);
                !v.is_empty()
            });
        }
        // Into an empty map, a one-entry `other` stays inline.
        if self.raw_is_empty() && other.table_is_empty() {
            if let Some((k, theirs)) = other.one {
                let scan = scan || !theirs.has_entries();
                let mut v = S::default();
                if v.join_store(ctx, theirs, other_ctx, scan) && !v.is_empty() {
                    self.one = Some((k, v));
                    changed = true;
                }
            }
            return changed;
        }
        // As `HashMap::extend` does: index room for half the new keys up front.
        let n = usize::from(other.one.is_some()) + other.map.as_ref().map_or(0, |t| t.len());
        let additional = if self.raw_is_empty() {
            n
        } else {
            n.div_ceil(2)
        };
        self.reserve(additional);
        for (k, theirs) in other.into_raw_entries() {
            // Under an empty hint (a removed key) the whole entry is visited,
            // as `count_along` assumed.
            let scan = scan || !theirs.has_entries();
            match self.table().entry(k) {
                Entry::Occupied(mut slot) => {
                    changed |= slot.get_mut().join_store(ctx, theirs, other_ctx, scan);
                    if slot.get().is_empty() {
                        slot.remove();
                    }
                }
                Entry::Vacant(slot) => {
                    let mut v = S::default();
                    if v.join_store(ctx, theirs, other_ctx, scan) && !v.is_empty() {
                        slot.insert(v);
                        changed = true;
                    }
                }
            }
        }
        changed
    }

    /// Visits `other`'s keys; under an empty hint (a removed key) counts the
    /// whole entry of `self`, which the remove's context covers.
    fn count_along(
        &self,
        other: &Self,
        other_ctx: &CausalContext,
        budget: &mut usize,
    ) -> Option<u64> {
        let mut n = 0u64;
        for (k, theirs) in other.raw_iter() {
            *budget = budget.checked_sub(1)?;
            if let Some(mine) = self.get(k) {
                n += if !theirs.has_entries() {
                    mine.count_dots_in(other_ctx)
                } else {
                    mine.count_along(theirs, other_ctx, budget)?
                };
            }
        }
        Some(n)
    }

    fn filter_dots(&self, keep: &dyn Fn(Dot) -> bool) -> Self {
        let mut out = Self::new();
        for (k, v) in self.raw_iter() {
            let f = v.filter_dots(keep);
            if !f.is_empty() {
                out.insert(k.clone(), f);
            }
        }
        out
    }

    fn check_store(&self, ctx: &CausalContext) -> Result<(), InvariantViolation> {
        // Empty entries are key hints (see the type docs): harmless, and never
        // serialised; the deserialiser rejects them in input.
        let mut first = None;
        for v in self.raw_values() {
            if let Err(e) = v.check_store(ctx) {
                first = Some(e);
                break;
            }
        }
        match first {
            None => Ok(()),
            Some(e) => Err(self.least_violation(ctx).unwrap_or(e)),
        }
    }
}

impl<K, S> DotMap<K, S>
where
    K: Hash + Eq + Clone + Debug,
    S: DotStore,
{
    /// The violation to report for a map that has one: which one the check
    /// meets first depends on the map's iteration order, and the same
    /// bytes must be rejected with the same error every time (C2). Every
    /// entry is checked on its own and the least violation (by its `Debug`
    /// form) is reported. Only on the error path. A dot repeated across
    /// entries is looked for only once every entry is sound
    /// ([`find_duplicate`], after the check), so nothing is collected
    /// here. `None` if no entry is at fault.
    fn least_violation(&self, ctx: &CausalContext) -> Option<InvariantViolation> {
        // The running least only (C4: a state whose every entry is bad, e.g.
        // under an empty context, must not collect a violation per entry).
        let mut least: Option<(alloc::string::String, InvariantViolation)> = None;
        for v in self.raw_values() {
            if let Err(e) = v.check_store(ctx) {
                let key = alloc::format!("{e:?}");
                if least.as_ref().map_or(true, |(k, _)| key < *k) {
                    least = Some((key, e));
                }
            }
        }
        least.map(|(_, e)| e)
    }
}

/// Sorted entries for canonical output (serialisation, debugging).
#[cfg(feature = "serde")]
pub(crate) fn sorted_entries<K: Ord + Hash + Eq, S: DotStore>(
    m: &DotMap<K, S>,
) -> alloc::vec::Vec<(&K, &S)> {
    let mut v: alloc::vec::Vec<(&K, &S)> = m.iter().collect();
    v.sort_unstable_by(|a, b| a.0.cmp(b.0));
    v
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::*;
    use crate::encoding::collect;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Wire shape: a sorted sequence of dots.
    impl Serialize for DotSet {
        fn serialize<Se: Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
            self.dots.as_slice().serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for DotSet {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            // Checked as they arrive (C4); growth bounded from the untrusted
            // count (smallvec's own visitor preallocates it).
            let dots = collect::checked_vec(
                d,
                || collect::leasable::<Dot>(Some(2)),
                |prev: Option<&Dot>, d: &Dot| {
                    if prev.is_some_and(|p| p >= d) {
                        return Err(InvariantViolation::Unsorted);
                    }
                    Ok(())
                },
            )?;
            DotSet::from_sorted(SmallVec::from_vec(dots))
                .map_err(crate::encoding::violation::reject)
        }
    }

    /// Wire shape: a sequence of `(dot, value)` sorted by dot.
    impl<V: Serialize> Serialize for DotFun<V> {
        fn serialize<Se: Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
            self.entries.as_slice().serialize(s)
        }
    }

    impl<'de, V: Deserialize<'de>> Deserialize<'de> for DotFun<V> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            // Reserved at once (lease) only for values known to nest no
            // sequence; a dot takes at least 2 bytes.
            let entries = collect::checked_vec(
                d,
                || collect::leasable::<(Dot, V)>(collect::flat_wire::<V>().map(|w| w + 2)),
                |prev: Option<&(Dot, V)>, e: &(Dot, V)| {
                    if prev.is_some_and(|p| p.0 >= e.0) {
                        return Err(InvariantViolation::Unsorted);
                    }
                    Ok(())
                },
            )?;
            DotFun::from_sorted(SmallVec::from_vec(entries))
                .map_err(crate::encoding::violation::reject)
        }
    }

    /// Wire shape: a sequence of `(key, store)` sorted by key, without empty
    /// entries: equal maps serialise to equal bytes.
    impl<K: Serialize + Ord + Hash + Eq, S: Serialize + DotStore> Serialize for DotMap<K, S> {
        fn serialize<Se: Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
            s.collect_seq(sorted_entries(self))
        }
    }

    impl<'de, K, S> Deserialize<'de> for DotMap<K, S>
    where
        K: Deserialize<'de> + Ord + Hash + Eq + Clone,
        S: Deserialize<'de> + DotStore,
    {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            // Entries go straight into the table's blocks, each checked as it
            // arrives (sorted keys, so distinct; no empty value), and are
            // indexed once at the end, at the exact size: no intermediate
            // vector, no table grown or reserved on the strength of the
            // declared count (C4). One entry stays inline.
            use crate::causal::table::Unindexed;
            use crate::encoding::budget::{self, Refusal};
            let mut one: Option<(K, S)> = None;
            let mut more = Unindexed::new();
            crate::encoding::collect::for_each_element(d, |_, (k, v): (K, S)| {
                // The last key is the one stored last (no copy of it).
                let last = match &one {
                    Some((k0, _)) => Some(k0),
                    None => more.last_key(),
                };
                if last.is_some_and(|p| *p >= k) {
                    return Err(InvariantViolation::Unsorted.into());
                }
                if v.is_empty() {
                    return Err(InvariantViolation::EmptyEntry.into());
                }
                if one.is_none() && more.len() == 0 {
                    one = Some((k, v));
                } else {
                    // A table's blocks take at most twice its entries in
                    // total (the first block grows like a vector; the
                    // others are allocated at their size).
                    let entry = 2 * core::mem::size_of::<(K, S)>();
                    if let Some((k0, v0)) = one.take() {
                        budget::charge(entry)?;
                        more.push(k0, v0).map_err(|_| Refusal::TooManyEntries)?;
                    }
                    budget::charge(entry)?;
                    more.push(k, v).map_err(|_| Refusal::TooManyEntries)?;
                }
                Ok(())
            })?;
            let map = if more.len() > 0 {
                let boxed = core::mem::size_of::<Table<K, S>>();
                budget::charge(boxed.saturating_add(Unindexed::<K, S>::index_bytes(more.len())))
                    .map_err(budget::over_budget)?;
                Some(Box::new(more.index()))
            } else {
                None
            };
            Ok(DotMap { one, map })
        }
    }
}
