//! The sequence core shared by [`List`](super::List) and [`Text`](super::Text):
//! FugueMax integration over runs, delete operations with their own dots,
//! a pending buffer for items whose origins have not arrived, and the
//! lattice, validation and delta-since operations.

use alloc::vec::Vec;
use smallvec::SmallVec;

use super::blocks::Blocks;
use super::run::{Content, Run};
use super::tree::{Pos, Tree};
use super::IndexError;
use crate::causal::{CausalContext, Dot, ReplicaId};
use crate::error::InvariantViolation;
use crate::lattice::Lattice;

/// Default bound on item runs waiting for their origins.
pub const DEFAULT_PENDING_LIMIT: usize = 1 << 16;

/// Most units (tombstones included) a sequence holds from peers: every
/// position then fits in an `i64`.
pub(crate) const MAX_UNITS: u64 = 1 << 62;

/// Scan steps allowed before any run is placed when integrating untrusted
/// runs (C6; see [`Budget`]).
pub(crate) const SCAN_BASE: u64 = 1 << 20;
/// Scan steps allowed per integrated run, on top of [`SCAN_BASE`].
pub(crate) const SCAN_PER_RUN: u64 = 64;
/// Joins of at most this many incoming runs are not budgeted: their cost is
/// at most this many scans of the local state, linear in its size.
pub(crate) const UNBUDGETED_RUNS: usize = 256;

/// Work accounting for integrating untrusted runs (C6). Placing a run scans
/// the concurrent runs between its origins, so runs forged to share origins
/// (k "concurrent" inserts at one position) cost O(k²) to place. Decoding
/// and large validated joins carry a budget of `SCAN_BASE + SCAN_PER_RUN ×
/// runs placed` scan steps and are rejected, atomically, when it runs out:
/// their cost stays linear in their size. Honest histories stay far below
/// it (about 1,500 concurrent inserts at one position fit).
#[derive(Clone, Debug)]
pub(crate) struct Budget {
    used: u64,
    allowed: u64,
    exceeded: bool,
}

impl Budget {
    fn new() -> Self {
        Budget {
            used: 0,
            allowed: SCAN_BASE,
            exceeded: false,
        }
    }
}

/// A delete operation run: dots `dot .. dot + len` delete the target units
/// `target, target ± 1, …` (`-` when `reversed`: backspacing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct DelRun {
    pub(crate) dot: Dot,
    pub(crate) len: u64,
    pub(crate) target: Dot,
    pub(crate) reversed: bool,
}

impl DelRun {
    /// Lowest target counter.
    fn lo(&self) -> u64 {
        if self.reversed {
            self.target.counter + 1 - self.len
        } else {
            self.target.counter
        }
    }

    /// Dots `[from, to)` (offsets) of this run.
    fn slice(&self, from: u64, to: u64) -> Self {
        let t = if self.reversed {
            self.target.counter - from
        } else {
            self.target.counter + from
        };
        DelRun {
            dot: Dot::new(self.dot.replica, self.dot.counter + from),
            len: to - from,
            target: Dot::new(self.target.replica, t),
            reversed: self.reversed && to - from > 1,
        }
    }

    /// Appends `d` when it continues this run (consecutive dots deleting the
    /// next target forwards, or the previous one backwards).
    fn try_append(&mut self, d: &DelRun) -> bool {
        if self.dot.replica != d.dot.replica
            || self.dot.counter + self.len != d.dot.counter
            || self.target.replica != d.target.replica
        {
            return false;
        }
        if !self.reversed && !d.reversed && self.target.counter + self.len == d.target.counter {
            self.len += d.len;
            return true;
        }
        let backwards_ok = self.reversed || self.len == 1;
        let d_backwards = d.reversed || d.len == 1;
        if backwards_ok && d_backwards && d.target.counter + 1 == self.lo() {
            self.len += d.len;
            self.reversed = true;
            return true;
        }
        false
    }
}

/// The sorted sub-ranges `[a, b)` of `[s, e)` that `ranges` (inclusive,
/// sorted, disjoint) do **not** cover.
fn uncovered(ranges: &[(u64, u64)], s: u64, e: u64) -> SmallVec<[(u64, u64); 2]> {
    let mut out = SmallVec::new();
    let mut c = s;
    let mut i = ranges.partition_point(|&(_, hi)| hi < s);
    while c < e {
        match ranges.get(i) {
            Some(&(lo, hi)) if lo < e => {
                if lo > c {
                    out.push((c, lo));
                }
                c = c.max(hi.saturating_add(1));
                i += 1;
            }
            _ => {
                out.push((c, e));
                break;
            }
        }
    }
    out
}

/// The sorted sub-ranges `[a, b)` of `[s, e)` that `ranges` cover.
fn covered(ranges: &[(u64, u64)], s: u64, e: u64) -> SmallVec<[(u64, u64); 2]> {
    let mut out = SmallVec::new();
    let mut i = ranges.partition_point(|&(_, hi)| hi < s);
    while let Some(&(lo, hi)) = ranges.get(i) {
        if lo >= e {
            break;
        }
        out.push((lo.max(s), hi.saturating_add(1).min(e)));
        i += 1;
    }
    out
}

/// The units the delete runs target, built from sorted ranges.
fn targets(dels: &[DelRun]) -> CausalContext {
    let mut t: Vec<(Dot, u64)> = dels
        .iter()
        .map(|d| (Dot::new(d.target.replica, d.lo()), d.lo() + d.len - 1))
        .collect();
    t.sort_unstable();
    CausalContext::from_sorted_ranges(t.iter().map(|&(d, last)| (d.replica, d.counter, last)))
}

/// Orders `runs` (new ids, disjoint) so that every run comes after the
/// runs of the set that hold its origins, and returns them reversed (a stack
/// to pop from): integrating in that order parks nothing whose origin is in
/// the set. O(k log k). A cycle (only possible in forged input) is cut; its
/// runs then wait in pending.
///
/// Runs in one block are sorted by id in place, as a slice. Runs in blocks
/// (a decode's) stay where they are until the final permutation: unless
/// they are sorted already (a canonical encoding's are), they are found
/// through their positions sorted by id, 8 bytes a run, where a sort of
/// the runs themselves would need them in one vector (decoding memory, C4).
fn causal_stack<C: Content>(mut runs: Blocks<Run<C>>) -> Blocks<Run<C>> {
    let n = runs.len();
    let idx: Option<Vec<usize>> = if let Some(s) = runs.as_mut_slice() {
        s.sort_unstable_by_key(|r| r.id);
        None
    } else if runs
        .iter()
        .zip(runs.iter().skip(1))
        .all(|(a, b)| a.id < b.id)
    {
        None
    } else {
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_unstable_by_key(|&i| runs[i].id);
        Some(idx)
    };
    let mut order: Vec<usize> = Vec::with_capacity(n);
    {
        // The position of the `k`-th run by id.
        let at = |k: usize| idx.as_ref().map_or(k, |v| v[k]);
        let find = |d: Dot| -> Option<usize> {
            let k = match &idx {
                Some(v) => v.partition_point(|&i| runs[i].id <= d),
                None => runs.partition_point(|r| r.id <= d),
            };
            let i = at(k.checked_sub(1)?);
            runs[i].contains(d).then_some(i)
        };
        // 0: unvisited, 1: on the path, 2: done.
        let mut state = alloc::vec![0u8; n];
        let mut path: Vec<(usize, u8)> = Vec::new();
        for start in (0..n).map(at) {
            if state[start] != 0 {
                continue;
            }
            state[start] = 1;
            path.push((start, 0));
            while let Some(&mut (i, ref mut next)) = path.last_mut() {
                let origin = match *next {
                    0 => runs[i].left(),
                    1 => runs[i].right(),
                    _ => {
                        state[i] = 2;
                        order.push(i);
                        path.pop();
                        continue;
                    }
                };
                *next += 1;
                if let Some(j) = origin.and_then(find) {
                    if state[j] == 0 {
                        state[j] = 1;
                        path.push((j, 0));
                    }
                }
            }
        }
    }
    drop(idx);
    // The stack pops from the end: position `k` receives the run now at
    // `order[n - 1 - k]`.
    order.reverse();
    runs.arrange(&order);
    runs
}

/// Appends the pieces of `run` whose ids `seen` lacks.
fn unseen_pieces<C: Content>(run: &Run<C>, seen: &CausalContext, out: &mut Vec<Run<C>>) {
    let (s, e) = (run.id.counter, run.end());
    for (a, b) in uncovered(&seen.replica_ranges(run.id.replica), s, e) {
        out.push(if a == s && b == e {
            run.clone()
        } else {
            run.slice(a - s, b - s)
        });
    }
}

/// Merges runs that continue each other (`can_append`) in iteration order.
fn canonical<'a, C: Content + 'a>(runs: impl Iterator<Item = &'a Run<C>>) -> Vec<Run<C>> {
    let mut out: Vec<Run<C>> = Vec::new();
    for r in runs {
        match out.last_mut() {
            Some(last) if last.can_append(r) => last.append(r.clone()),
            _ => out.push(r.clone()),
        }
    }
    out
}

/// The sequence state (see the module docs of [`sequence`](super)).
#[derive(Clone, Debug)]
pub(crate) struct Seq<C> {
    /// Integrated items in document order.
    pub(crate) tree: Tree<C>,
    /// Item runs waiting for a missing origin, sorted by that origin
    /// ([`Run::waiting_for`]) and id; in blocks, as the runs a decode
    /// places are, so that a decode can leave them there (C4), and with
    /// one run inline (a local insert's delta allocates no buffer).
    pending: Blocks<Run<C>>,
    /// Delete operations (any order).
    deletes: SmallVec<[DelRun; 1]>,
    /// Deleted target units that may not be integrated yet (targets of
    /// deletes received from peers; a local delete only targets integrated
    /// units, which a later join can never bring again).
    deleted: CausalContext,
    /// Every dot held: item units (integrated or pending) and delete dots.
    ctx: CausalContext,
    pending_limit: usize,
    /// Local only (not part of the state): `replica`'s next events are
    /// numbered from this counter on, at least (see
    /// `Lattice::number_events_from`).
    floor: Option<(ReplicaId, u64)>,
    /// Local only: set while integrating untrusted runs (see [`Budget`]).
    budget: Option<Budget>,
}

impl<C> Default for Seq<C> {
    fn default() -> Self {
        Seq {
            tree: Tree::default(),
            pending: Blocks::new(),
            deletes: SmallVec::new(),
            deleted: CausalContext::new(),
            ctx: CausalContext::new(),
            pending_limit: DEFAULT_PENDING_LIMIT,
            floor: None,
            budget: None,
        }
    }
}

impl<C: Content> Seq<C> {
    pub(crate) fn with_pending_limit(limit: usize) -> Self {
        Seq {
            pending_limit: limit,
            ..Self::default()
        }
    }

    /// The next dot of `replica`, respecting the floor.
    fn next_dot(&self, replica: ReplicaId) -> Dot {
        let d = self.ctx.next_dot(replica);
        match self.floor {
            Some((r, f)) if r == replica && f > d.counter => Dot::new(replica, f),
            _ => d,
        }
    }

    pub(crate) fn set_floor(&mut self, replica: ReplicaId, floor: u64) {
        self.floor = Some((replica, floor));
    }

    pub(crate) fn set_pending_limit(&mut self, limit: usize) {
        self.pending_limit = limit;
    }

    pub(crate) fn len(&self) -> u64 {
        self.tree.vis()
    }

    pub(crate) fn context(&self) -> &CausalContext {
        &self.ctx
    }

    pub(crate) fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Parks `run` until `missing` is integrated.
    fn park(&mut self, missing: Dot, mut run: Run<C>) {
        run.wait_for(missing);
        let key = (missing, run.id);
        let i = self
            .pending
            .partition_point(|r| (r.waiting_for(), r.id) <= key);
        self.pending.insert(i, run);
    }

    fn pending_runs(&self) -> impl Iterator<Item = &Run<C>> + '_ {
        self.pending.iter()
    }

    /// Live runs in document order.
    pub(crate) fn live_runs(&self) -> impl Iterator<Item = &Run<C>> + '_ {
        self.tree.runs().filter(|r| !r.deleted)
    }

    /// Approximate heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.tree.heap_bytes() + self.deletes.capacity() * core::mem::size_of::<DelRun>()
    }

    /// Runs in the tree, delete runs, pending runs (diagnostics).
    pub(crate) fn shape(&self) -> (usize, usize, usize) {
        (
            self.tree.run_count(),
            self.deletes.len(),
            self.pending.len(),
        )
    }

    // ---------------------------------------------------------------- local

    /// Inserts `content` (`n ≥ 1` units) before visible index `index`.
    #[inline]
    pub(crate) fn insert(
        &mut self,
        replica: ReplicaId,
        index: u64,
        content: C,
        n: u64,
    ) -> Result<Self, IndexError> {
        let len = self.len();
        if index > len {
            return Err(IndexError {
                index: index as usize,
                len: len as usize,
            });
        }
        if n == 0 {
            return Ok(Self::default());
        }
        let first = self.next_dot(replica);
        let (left_pos, pos) = if index == 0 {
            (None, self.tree.start())
        } else {
            let p = self.tree.find_visible_cached(index - 1);
            (Some(p), self.tree.after(p))
        };
        let left = left_pos.and_then(|p| self.tree.id_at(p));
        let right = self.tree.id_at(pos);
        let run = Run::new(first, n, left, right, Some(content));
        self.ctx
            .insert_range(replica, first.counter, first.counter + n - 1);
        let delta = Self::from_local_run(run.clone());
        let mut slot = Some(run);
        if let Some(lp) = left_pos {
            if self.tree.try_extend(lp, &mut slot) {
                return Ok(delta);
            }
        }
        if let Some(run) = slot {
            self.tree.insert(pos, run);
        }
        Ok(delta)
    }

    #[inline]
    fn from_local_run(run: Run<C>) -> Self {
        let mut d = Self::default();
        d.ctx
            .insert_range(run.id.replica, run.id.counter, run.end() - 1);
        match run.left().or(run.right()) {
            Some(missing) => {
                let mut run = run;
                run.wait_for(missing);
                d.pending.push(run);
            }
            None => d.tree.insert(d.tree.start(), run),
        }
        d
    }

    /// Deletes visible units `[from, to)`.
    #[inline]
    pub(crate) fn delete(
        &mut self,
        replica: ReplicaId,
        from: u64,
        to: u64,
    ) -> Result<Self, IndexError> {
        let len = self.len();
        if from > to || to > len {
            return Err(IndexError {
                index: if from > len { from } else { to } as usize,
                len: len as usize,
            });
        }
        let mut delta = Self::default();
        if from == to {
            return Ok(delta);
        }
        let mut p = self.tree.find_visible_cached(from);
        let Some(run) = self.tree.run(p) else {
            return Ok(delta);
        };
        if run.len - p.off >= to - from {
            // One piece (the common case): delete in place.
            let (target, k) = (run.unit(p.off), to - from);
            let dot = self.next_dot(replica);
            self.ctx
                .insert_range(replica, dot.counter, dot.counter + k - 1);
            self.tree.delete_in_run(p.leaf, p.run, p.off, p.off + k);
            let d = DelRun {
                dot,
                len: k,
                target,
                reversed: false,
            };
            self.push_delete(d);
            delta
                .ctx
                .insert_range(replica, dot.counter, dot.counter + k - 1);
            delta.record_delete(d);
            return Ok(delta);
        }
        // The visible pieces, as id ranges.
        let mut pieces: SmallVec<[(Dot, u64); 2]> = SmallVec::new();
        let mut left = to - from;
        while left > 0 {
            let Some(r) = self.tree.run(p) else { break };
            if !r.deleted {
                let k = left.min(r.len - p.off);
                pieces.push((r.unit(p.off), k));
                left -= k;
            }
            p = self.tree.next_run(p);
        }
        for (target, k) in pieces {
            let dot = self.next_dot(replica);
            self.ctx
                .insert_range(replica, dot.counter, dot.counter + k - 1);
            let d = DelRun {
                dot,
                len: k,
                target,
                reversed: false,
            };
            self.push_delete(d);
            self.delete_ids(target.replica, target.counter, target.counter + k);
            delta
                .ctx
                .insert_range(replica, dot.counter, dot.counter + k - 1);
            delta.record_delete(d);
        }
        Ok(delta)
    }

    /// Records a delete run (its dots are already in `ctx`) and applies it
    /// to present units.
    fn apply_delete(&mut self, d: DelRun) {
        self.record_delete(d);
        self.delete_ids(d.target.replica, d.lo(), d.lo() + d.len);
    }

    fn record_delete(&mut self, d: DelRun) {
        self.deleted
            .insert_range(d.target.replica, d.lo(), d.lo() + d.len - 1);
        self.push_delete(d);
    }

    /// Records a delete run without noting its targets in `deleted`.
    fn push_delete(&mut self, d: DelRun) {
        if let Some(last) = self.deletes.last_mut() {
            if last.try_append(&d) {
                return;
            }
        }
        self.deletes.push(d);
    }

    /// Tombstones the present units of `r` in `[lo, hi)`.
    fn delete_ids(&mut self, r: ReplicaId, lo: u64, hi: u64) {
        let mut c = lo;
        while c < hi {
            let Some(p) = self.tree.find_id(Dot::new(r, c)) else {
                match self.tree.next_present(r, c) {
                    Some((s, _)) if s > c && s < hi => {
                        c = s;
                        continue;
                    }
                    _ => break,
                }
            };
            let Some(run) = self.tree.run(p) else { break };
            let end = hi.min(run.end());
            if !run.deleted {
                self.tree
                    .delete_in_run(p.leaf, p.run, p.off, p.off + (end - c));
            }
            c = end;
        }
    }

    // --------------------------------------------------------------- remote

    /// The first origin of `run` that is not integrated.
    fn missing_origin(&self, run: &Run<C>) -> Option<Dot> {
        [run.left(), run.right()]
            .into_iter()
            .flatten()
            .find(|&o| !self.tree.contains(o))
    }

    /// Integrates `runs` (new ids, not yet integrated) and every pending run
    /// they unblock; runs with a missing origin wait in `pending`.
    fn integrate_all(&mut self, mut stack: Blocks<Run<C>>) {
        // With nothing pending at the start, no run parked here can be woken
        // here (the stack is in causal order: in-set origins come first), so
        // parked runs are sorted once at the end — O(k log k), not O(k·P) —
        // and stay where they are: the stack is `..top`, the parked runs
        // `top..`, one contiguous range, and the runs they keep become the
        // pending list (no second buffer; decoding memory, C4). A stack in
        // blocks gives back its memory as it is drained, while the tree
        // grows.
        let defer = self.pending.is_empty();
        let mut top = stack.len();
        while top > 0 {
            if let Some(m) = self.missing_origin(&stack[top - 1]) {
                if defer {
                    stack[top - 1].wait_for(m);
                    top -= 1;
                } else if let Some(run) = stack.pop() {
                    top -= 1;
                    self.park(m, run);
                }
                continue;
            }
            if self.budget.as_ref().is_some_and(|b| b.exceeded) {
                // The caller discards this state.
                return;
            }
            if top < stack.len() {
                // The last parked run takes the place of this one.
                stack.swap(top - 1, stack.len() - 1);
            }
            let Some(run) = stack.pop() else { break };
            top -= 1;
            stack.shrink_sparse();
            let (r, s, e) = (run.id.replica, run.id.counter, run.end());
            let steps = self.integrate(run);
            if let Some(b) = &mut self.budget {
                b.used = b.used.saturating_add(steps);
                b.allowed = b.allowed.saturating_add(SCAN_PER_RUN);
                if b.used > b.allowed {
                    b.exceeded = true;
                    return;
                }
            }
            if !self.pending.is_empty() {
                let (lo, hi) = (Dot::new(r, s), Dot::new(r, e));
                let a = self.pending.partition_point(|x| x.waiting_for() < lo);
                let b = self.pending.partition_point(|x| x.waiting_for() < hi);
                self.pending.drain_range(a, b, |run| {
                    // Onto the top of the stack, under the parked runs.
                    stack.push(run);
                    stack.swap(top, stack.len() - 1);
                    top += 1;
                });
                self.pending.shrink_sparse();
            }
        }
        if stack.is_empty() {
            return;
        }
        // Only with `defer` are runs left here, all parked.
        debug_assert!(defer && self.pending.is_empty());
        stack.sort_unstable_by_key(|r| (r.waiting_for(), r.id));
        stack.shrink_sparse();
        if self.pending.is_empty() {
            self.pending = stack;
        } else {
            // Not reached (see above); kept so that no run is ever lost:
            // with pending non-empty, this places or parks each run again.
            self.integrate_all(stack);
        }
    }

    /// A waiting run split where deletes already received tombstone it
    /// (waiting runs stay whole; their tombstones are applied when they are
    /// integrated, and shown in every canonical view).
    fn split_dead(&self, run: &Run<C>) -> SmallVec<[Run<C>; 1]> {
        let (r, s, e) = (run.id.replica, run.id.counter, run.end());
        let dead = if run.deleted {
            SmallVec::new()
        } else {
            covered(&self.deleted.replica_ranges(r), s, e)
        };
        let mut out = SmallVec::new();
        if dead.is_empty() {
            out.push(run.clone());
            return out;
        }
        let mut c = s;
        let mut push = |a: u64, b: u64, is_dead: bool| {
            let mut piece = run.slice(a - s, b - s);
            if is_dead {
                piece.tombstone();
            }
            out.push(piece);
        };
        for (a, b) in dead {
            if c < a {
                push(c, a, false);
            }
            push(a, b, true);
            c = b;
        }
        if c < e {
            push(c, e, false);
        }
        out
    }

    /// The waiting runs, tombstones applied.
    fn pending_view(&self) -> Vec<Run<C>> {
        let mut out = Vec::with_capacity(self.pending.len());
        for r in self.pending_runs() {
            out.extend(self.split_dead(r));
        }
        out
    }

    /// Integrates one run whose origins are present (FugueMax, in the
    /// YjsMod formulation of reference-crdts / diamond-types). Returns the
    /// scan steps it took.
    fn integrate(&mut self, mut run: Run<C>) -> u64 {
        let left_pos = match run.left() {
            Some(l) => match self.tree.find_id(l) {
                Some(p) => Some(p),
                None => {
                    self.park(l, run);
                    return 0;
                }
            },
            None => None,
        };
        let start = match left_pos {
            Some(p) => self.tree.after(p),
            None => self.tree.start(),
        };
        let (dest, steps) = if self.tree.id_at(start) == run.right() {
            (start, 0)
        } else {
            self.scan(&run, left_pos, start)
        };
        let (r, s, e) = (run.id.replica, run.id.counter, run.end());
        let dead = covered(&self.deleted.replica_ranges(r), s, e);
        if dead.len() == 1 && dead[0] == (s, e) {
            run.tombstone();
        }
        let mut slot = Some(run);
        let extended = match left_pos {
            Some(lp) if dest == start => self.tree.try_extend(lp, &mut slot),
            _ => false,
        };
        if !extended {
            if let Some(run) = slot {
                self.tree.insert(dest, run);
            }
        }
        if !(dead.len() == 1 && dead[0] == (s, e)) {
            for (a, b) in dead {
                self.delete_ids(r, a, b);
            }
        }
        steps
    }

    /// The YjsMod scan between the origins of `run` (they are not adjacent):
    /// the destination and the number of runs looked at.
    fn scan(&self, run: &Run<C>, left_pos: Option<Pos>, start: Pos) -> (Pos, u64) {
        let tree = &self.tree;
        let tot = tree.tot();
        let abs = |d: Option<Dot>, none: i64| -> i64 {
            match d {
                Some(d) => tree
                    .find_id(d)
                    .map_or(none, |p| tree.offset_of(p, true) as i64),
                None => none,
            }
        };
        let left_abs: i64 = match left_pos {
            Some(p) => tree.offset_of(p, true) as i64,
            None => -1,
        };
        let right_abs = abs(run.right(), tot as i64);
        let mut cur = start;
        let mut cur_abs = left_abs + 1;
        let mut dest = cur;
        let mut scanning = false;
        let mut steps: u64 = 0;
        loop {
            steps += 1;
            if !scanning {
                dest = cur;
            }
            if cur_abs >= tot as i64 || cur_abs == right_abs {
                break;
            }
            let Some(other) = tree.run(cur) else { break };
            let k = cur.off;
            let oleft = if k == 0 {
                abs(other.left(), -1)
            } else {
                cur_abs - 1
            };
            let oright = abs(other.right(), tot as i64);
            if oleft < left_abs {
                break;
            } else if oleft == left_abs {
                if oright < right_abs {
                    scanning = true;
                } else if oright == right_abs {
                    if run.id < other.unit(k) {
                        break;
                    }
                    scanning = false;
                } else {
                    scanning = false;
                }
            }
            // The run's later units have their predecessor as origin-left
            // (bottom row: skip) — jump to the run's end or to `right`.
            let rest = (other.len - k) as i64;
            if right_abs > cur_abs && right_abs < cur_abs + rest {
                cur.off += (right_abs - cur_abs) as u64;
                cur_abs = right_abs;
            } else {
                cur = tree.next_run(cur);
                cur_abs += rest;
            }
        }
        (dest, steps)
    }

    /// Joins `other` (trusted: see `validated_join` for peers' data).
    pub(crate) fn join_impl(&mut self, other: Self) -> bool {
        if other.ctx.is_empty() || other.ctx.leq(&self.ctx) {
            return false;
        }
        if self.ctx.is_empty() {
            let (limit, floor) = (self.pending_limit, self.floor);
            *self = other;
            self.pending_limit = limit;
            self.floor = floor;
            return true;
        }
        let mut incoming: Vec<Run<C>> = Vec::new();
        for run in other.tree.runs().chain(other.pending_runs()) {
            unseen_pieces(run, &self.ctx, &mut incoming);
        }
        let mut new_deletes: SmallVec<[DelRun; 2]> = SmallVec::new();
        for d in &other.deletes {
            for (a, b) in uncovered(
                &self.ctx.replica_ranges(d.dot.replica),
                d.dot.counter,
                d.dot.counter + d.len,
            ) {
                new_deletes.push(d.slice(a - d.dot.counter, b - d.dot.counter));
            }
        }
        self.ctx.join(other.ctx);
        for d in new_deletes {
            self.apply_delete(d);
        }
        self.integrate_all(causal_stack(Blocks::from_vec(incoming)));
        true
    }

    /// Joins on a copy when the pending bound could be exceeded, so that a
    /// rejected join leaves `self` unchanged.
    pub(crate) fn join_bounded(&mut self, other: Self) -> Result<bool, InvariantViolation> {
        // Total units (tombstones included) stay below MAX_UNITS, so every
        // position and count fits in an i64.
        let units = |s: &Self| s.tree.tot() + s.pending_runs().map(|r| r.len).sum::<u64>();
        if units(self).saturating_add(units(&other)) > MAX_UNITS {
            return Err(InvariantViolation::SequenceTooLong { limit: MAX_UNITS });
        }
        // Pending grows by at most one entry per new piece of an item run.
        let mut growth = 0;
        let mut runs = 0;
        for run in other.tree.runs().chain(other.pending_runs()) {
            runs += 1;
            growth += uncovered(
                &self.ctx.replica_ranges(run.id.replica),
                run.id.counter,
                run.end(),
            )
            .len();
        }
        // Many incoming runs are placed under a scan budget (C6), on a copy
        // so that running out leaves `self` unchanged.
        let budgeted = runs > UNBUDGETED_RUNS && !self.ctx.is_empty();
        if !budgeted && self.pending.len() + growth <= self.pending_limit {
            return Ok(self.join_impl(other));
        }
        let mut copy = self.clone();
        if budgeted {
            copy.budget = Some(Budget::new());
        }
        let changed = copy.join_impl(other);
        copy.take_budget()?;
        if copy.pending.len() > self.pending_limit.max(self.pending.len()) {
            return Err(InvariantViolation::PendingLimit {
                limit: self.pending_limit,
            });
        }
        *self = copy;
        Ok(changed)
    }

    /// Ends budgeted integration: `Err` if the budget ran out (the state is
    /// then incomplete and must be discarded).
    pub(crate) fn take_budget(&mut self) -> Result<(), InvariantViolation> {
        match self.budget.take() {
            Some(b) if b.exceeded => Err(InvariantViolation::ScanLimit { allowed: b.allowed }),
            _ => Ok(()),
        }
    }

    /// The highest event of `local` that `other` claims beyond this state.
    pub(crate) fn claims_beyond(&self, other: &Self, local: ReplicaId) -> Option<Dot> {
        let mine = self.ctx.max_counter(local);
        let theirs = other.ctx.max_counter(local);
        (theirs > mine).then(|| Dot::new(local, theirs))
    }

    // ----------------------------------------------------------- delta since

    /// Everything whose dots are not in `seen`.
    pub(crate) fn delta_since(&self, seen: &CausalContext) -> Self {
        let mut items: Vec<Run<C>> = Vec::new();
        for run in self.tree.runs().chain(self.pending_view().iter()) {
            unseen_pieces(run, seen, &mut items);
        }
        // Tombstones shipped: their deletes go along even when the peer has
        // them (it lacks the item), so that every state's tombstones are
        // exactly the targets of its deletes (invariant S4).
        let mut dead = CausalContext::new();
        for r in items.iter().filter(|r| r.deleted) {
            dead.insert_range(r.id.replica, r.id.counter, r.end() - 1);
        }
        let mut dels = Vec::new();
        for d in &self.deletes {
            let mut wanted: SmallVec<[(u64, u64); 2]> = uncovered(
                &seen.replica_ranges(d.dot.replica),
                d.dot.counter,
                d.dot.counter + d.len,
            )
            .into_iter()
            .map(|(a, b)| (a - d.dot.counter, b - d.dot.counter))
            .collect();
            if !dead.is_empty() {
                let lo = d.lo();
                for (a, b) in covered(&dead.replica_ranges(d.target.replica), lo, lo + d.len) {
                    // Target range [a, b) back to dot offsets.
                    wanted.push(if d.reversed {
                        (d.target.counter - (b - 1), d.target.counter - a + 1)
                    } else {
                        (a - d.target.counter, b - d.target.counter)
                    });
                }
                wanted.sort_unstable();
            }
            let mut merged: SmallVec<[(u64, u64); 2]> = SmallVec::new();
            for (a, b) in wanted {
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            for (a, b) in merged {
                dels.push(d.slice(a, b));
            }
        }
        Self::from_parts(Blocks::from_vec(items), dels, None)
    }

    /// Builds a state from item runs and delete runs (trusted, consistent).
    /// Builds a state from its item runs and deletes. With a `budget`, the
    /// runs are placed under it (untrusted input): check
    /// [`Self::take_budget`] after.
    pub(crate) fn from_parts(
        mut items: Blocks<Run<C>>,
        dels: Vec<DelRun>,
        budget: Option<Budget>,
    ) -> Self {
        let mut s = Self {
            budget,
            ..Self::default()
        };
        // Contexts are built from sorted ranges: every insert appends.
        let mut dots: Vec<(Dot, u64)> = Vec::with_capacity(items.len() + dels.len());
        dots.extend(items.iter().map(|r| (r.id, r.end() - 1)));
        dots.extend(dels.iter().map(|d| (d.dot, d.dot.counter + d.len - 1)));
        dots.sort_unstable();
        s.ctx = CausalContext::from_sorted_ranges(
            dots.iter().map(|&(d, last)| (d.replica, d.counter, last)),
        );
        drop(dots);
        s.deleted = targets(&dels);
        let mut dels = dels;
        dels.sort_unstable_by_key(|d| d.dot);
        for d in dels {
            s.push_delete(d);
        }
        for r in items.iter_mut() {
            // Content of deleted units is not needed (and not shipped).
            if covered(
                &s.deleted.replica_ranges(r.id.replica),
                r.id.counter,
                r.end(),
            )
            .first()
            .is_some_and(|&(a, b)| a == r.id.counter && b == r.end())
            {
                r.tombstone();
            }
        }
        s.integrate_all(causal_stack(items));
        s
    }

    // ------------------------------------------------------------ canonical

    /// Item runs (integrated and pending) sorted by id, merged where one
    /// continues the other, split where the tombstone state changes.
    pub(crate) fn canonical_items(&self) -> Vec<Run<C>> {
        let waiting = self.pending_view();
        let mut all: Vec<&Run<C>> = self.tree.runs().collect();
        all.extend(waiting.iter());
        all.sort_unstable_by_key(|r| r.id);
        canonical(all.into_iter())
    }

    /// Delete runs sorted by dot, merged where one continues the other.
    pub(crate) fn canonical_deletes(&self) -> Vec<DelRun> {
        let mut all = self.deletes.to_vec();
        all.sort_unstable_by_key(|d| d.dot);
        let mut out: Vec<DelRun> = Vec::with_capacity(all.len());
        for d in all {
            if !out.last_mut().is_some_and(|last| last.try_append(&d)) {
                out.push(d);
            }
        }
        out
    }

    // ----------------------------------------------------------- validation

    /// The checks of one item on its own: a length within the crate's unit
    /// bound, a non-zero id whose units fit under [`Dot::MAX_COUNTER`],
    /// content that matches the length (none for a tombstone), and possible
    /// origins. Decoding runs them as each item arrives, so an input of bad
    /// items is rejected at the first (C4); [`Self::check_parts`] runs them
    /// on in-memory states.
    pub(crate) fn check_item(r: &Run<C>) -> Result<(), InvariantViolation> {
        Self::check_item_with(r, [r.left(), r.right()])
    }

    /// [`Self::check_item`] with the item's origins as read.
    pub(crate) fn check_item_with(
        r: &Run<C>,
        origins: [Option<Dot>; 2],
    ) -> Result<(), InvariantViolation> {
        // A run longer than the crate's unit bound is that error first.
        if r.len > MAX_UNITS {
            return Err(InvariantViolation::SequenceTooLong { limit: MAX_UNITS });
        }
        let max = Dot::MAX_COUNTER;
        let d = r.id;
        if d.counter == 0 {
            return Err(InvariantViolation::ZeroDot { replica: d.replica });
        }
        if r.len == 0 || d.counter > max || r.len > max - d.counter + 1 {
            return Err(InvariantViolation::MalformedItem { dot: d });
        }
        let units = r.content_units() as u64;
        if (r.deleted && units != 0) || (!r.deleted && units != r.len) {
            return Err(InvariantViolation::MalformedItem { dot: d });
        }
        for o in origins.into_iter().flatten() {
            if o.counter == 0 {
                return Err(InvariantViolation::ZeroDot { replica: o.replica });
            }
            if o.counter > max || (o.replica == d.replica && o.counter >= d.counter) {
                return Err(InvariantViolation::ImpossibleOrigin { dot: d });
            }
        }
        Ok(())
    }

    /// Checks the item and delete runs of a state from a peer.
    pub(crate) fn check_parts(items: &[Run<C>], dels: &[DelRun]) -> Result<(), InvariantViolation> {
        Self::check_across(items.iter(), items.len(), dels, true)
    }

    /// The checks of [`Self::check_parts`]; `each_item` says whether the
    /// items still need [`Self::check_item`] (decoding ran it as each
    /// arrived).
    fn check_across<'a>(
        items: impl Iterator<Item = &'a Run<C>> + Clone,
        items_len: usize,
        dels: &[DelRun],
        each_item: bool,
    ) -> Result<(), InvariantViolation>
    where
        C: 'a,
    {
        let max = Dot::MAX_COUNTER;
        let mut units: u64 = 0;
        for r in items.clone() {
            units = units.saturating_add(r.len);
        }
        if units > MAX_UNITS {
            return Err(InvariantViolation::SequenceTooLong { limit: MAX_UNITS });
        }
        let mut ids: Vec<(Dot, u64)> = Vec::with_capacity(items_len.saturating_add(dels.len()));
        for r in items.clone() {
            if each_item {
                Self::check_item(r)?;
            }
            ids.push((r.id, r.len));
        }
        for x in dels {
            let d = x.dot;
            for z in [d, x.target] {
                if z.counter == 0 {
                    return Err(InvariantViolation::ZeroDot { replica: z.replica });
                }
            }
            let target_ok = x.target.counter <= max
                && if x.reversed {
                    x.target.counter >= x.len && x.len > 1
                } else {
                    x.len <= max - x.target.counter + 1
                };
            if x.len == 0 || d.counter > max || x.len > max - d.counter + 1 || !target_ok {
                return Err(InvariantViolation::MalformedItem { dot: d });
            }
            ids.push((d, x.len));
        }
        // The tombstone state must agree with the deletes.
        let deleted = targets(dels);
        for r in items {
            let dead = covered(&deleted.replica_ranges(r.id.replica), r.id.counter, r.end());
            let all_dead = dead.len() == 1 && dead[0] == (r.id.counter, r.end());
            if (r.deleted && !all_dead) || (!r.deleted && !dead.is_empty()) {
                return Err(InvariantViolation::MalformedItem { dot: r.id });
            }
        }
        ids.sort_unstable();
        for w in ids.windows(2) {
            let (a, n) = w[0];
            let (b, _) = w[1];
            if a.replica == b.replica && a.counter + n > b.counter {
                return Err(InvariantViolation::DuplicateDot { dot: b });
            }
        }
        Ok(())
    }

    /// Checks this state's invariants (the same checks as decoding).
    pub(crate) fn check_invariants(&self) -> Result<(), InvariantViolation> {
        Self::check_parts(&self.canonical_items(), &self.canonical_deletes())
    }

    /// Checks that `other` agrees with `self` on every dot both hold.
    pub(crate) fn check_compatible(&self, other: &Self) -> Result<(), InvariantViolation> {
        if other.ctx.is_empty() || self.ctx.is_empty() {
            return Ok(());
        }
        let unit_left = |r: &Run<C>, c: u64| r.left_of(c - r.id.counter);
        let item_at = |d: Dot| -> Option<&Run<C>> {
            match self.tree.find_id(d) {
                Some(p) => self.tree.run(p),
                None => self.pending_runs().find(|r| r.contains(d)),
            }
        };
        let theirs: Vec<&Run<C>> = other.tree.runs().chain(other.pending_runs()).collect();
        for r in theirs {
            let shared = covered(
                &self.ctx.replica_ranges(r.id.replica),
                r.id.counter,
                r.end(),
            );
            for (a, b) in shared {
                let mut c = a;
                while c < b {
                    let d = Dot::new(r.id.replica, c);
                    let Some(m) = item_at(d) else {
                        // A dot of ours that is not an item: a delete.
                        return Err(InvariantViolation::ConflictingDot { dot: d });
                    };
                    let end = b.min(m.end());
                    if unit_left(m, c) != unit_left(r, c) || m.right() != r.right() {
                        return Err(InvariantViolation::ConflictingDot { dot: d });
                    }
                    if !m.deleted && !r.deleted {
                        let x = m.content_slice(c - m.id.counter, end - m.id.counter);
                        let y = r.content_slice(c - r.id.counter, end - r.id.counter);
                        if let Some(k) = x.first_difference(&y) {
                            // Name the first unit that differs.
                            return Err(InvariantViolation::ConflictingDot {
                                dot: Dot::new(d.replica, c + k as u64),
                            });
                        }
                    }
                    c = end;
                }
            }
        }
        let overlap = other.deletes.iter().any(|x| {
            !covered(
                &self.ctx.replica_ranges(x.dot.replica),
                x.dot.counter,
                x.dot.counter + x.len,
            )
            .is_empty()
        });
        if !overlap {
            return Ok(());
        }
        let my_dels = self.canonical_deletes();
        for x in other.canonical_deletes() {
            let shared = covered(
                &self.ctx.replica_ranges(x.dot.replica),
                x.dot.counter,
                x.dot.counter + x.len,
            );
            for (a, b) in shared {
                let mut c = a;
                while c < b {
                    let d = Dot::new(x.dot.replica, c);
                    let i = my_dels.partition_point(|m| m.dot <= d);
                    let m = match i.checked_sub(1).map(|i| &my_dels[i]) {
                        Some(m) if m.dot.replica == d.replica && c < m.dot.counter + m.len => m,
                        _ => return Err(InvariantViolation::ConflictingDot { dot: d }),
                    };
                    let end = b.min(m.dot.counter + m.len);
                    let mine = m.slice(c - m.dot.counter, end - m.dot.counter);
                    let theirs = x.slice(c - x.dot.counter, end - x.dot.counter);
                    if mine != theirs {
                        return Err(InvariantViolation::ConflictingDot { dot: d });
                    }
                    c = end;
                }
            }
        }
        Ok(())
    }

    /// Tree consistency for tests.
    #[cfg(test)]
    pub(crate) fn check_tree(&self) {
        self.tree.check();
        // Pending: sorted by the origin each run waits for, then id; that
        // origin is one of the run's, and missing.
        let keys = self.pending.iter().map(|r| (r.waiting_for(), r.id));
        assert!(keys.clone().zip(keys.skip(1)).all(|(a, b)| a < b));
        for r in self.pending.iter() {
            let w = Some(r.waiting_for());
            assert!(w == r.left() || w == r.right(), "{r:?}");
            assert!(!self.tree.contains(r.waiting_for()), "{r:?}");
        }
    }

    /// Runs per leaf, in arena order (tests).
    #[cfg(test)]
    pub(crate) fn leaf_fill(&self) -> Vec<usize> {
        self.tree.leaf_fill()
    }

    /// The units before and after unit `d` in the full sequence (tests).
    #[cfg(test)]
    pub(crate) fn neighbours(&self, d: Dot) -> Option<(Option<Dot>, Option<Dot>)> {
        let ids: Vec<Dot> = self
            .tree
            .runs()
            .flat_map(|r| (0..r.len).map(move |k| r.unit(k)))
            .collect();
        let i = ids.iter().position(|&x| x == d)?;
        Some((i.checked_sub(1).map(|j| ids[j]), ids.get(i + 1).copied()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc::string::String;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u8, u16, String),
        Delete(u8, u16, u8),
        Sync(u8, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..3, any::<u16>(), "[a-d]{1,3}").prop_map(|(r, i, s)| Op::Insert(r, i, s)),
            2 => (0u8..3, any::<u16>(), 1u8..4).prop_map(|(r, i, n)| Op::Delete(r, i, n)),
            1 => (0u8..3, 0u8..3).prop_map(|(a, b)| Op::Sync(a, b)),
        ]
    }

    /// The three ways `causal_stack` finds runs (one vector sorted as a
    /// slice; blocks already sorted by id; blocks through their positions
    /// sorted by id) build the same state, pending runs included.
    #[test]
    fn runs_placed_from_blocks_in_any_order_build_the_same_state() {
        let mut x: u64 = 0x9e37_79b9;
        let mut next = move || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            x >> 33
        };
        let mut s: Seq<String> = Seq::default();
        for k in 0..400u64 {
            let r = ReplicaId::new(1 + next() % 3);
            let i = next() % (s.len() + 1);
            s.insert(r, i, String::from("ab"), 2).unwrap();
            if k % 5 == 0 {
                let i = next() % s.len();
                s.delete(r, i, i + 1).unwrap();
            }
        }
        let mut items = s.canonical_items();
        assert!(items.len() > 3 * Blocks::<Run<String>>::PER);
        // Every 7th run left out: runs after it wait in pending.
        let mut k = 0;
        items.retain(|_| {
            k += 1;
            k % 7 != 0
        });
        let dels = s.canonical_deletes();
        let want = Seq::from_parts(Blocks::from_vec(items.clone()), dels.clone(), None);
        want.check_tree();
        assert!(want.pending_len() > 0);
        let blocks = |runs: &[Run<String>]| {
            let mut b = Blocks::new();
            for r in runs {
                b.push(r.clone());
            }
            b
        };
        let sorted = Seq::from_parts(blocks(&items), dels.clone(), None);
        sorted.check_tree();
        assert!(sorted == want && sorted.pending_len() == want.pending_len());
        for _ in 0..4 {
            for i in (1..items.len()).rev() {
                let j = (next() as usize) % (i + 1);
                items.swap(i, j);
            }
            let got = Seq::from_parts(blocks(&items), dels.clone(), None);
            got.check_tree();
            assert!(got == want && got.pending_len() == want.pending_len());
        }
    }

    /// Runs appended at the end of the document fill their leaves: every
    /// leaf but the last holds `LEAF_CAP` runs (an even split would leave
    /// each about half full), and the tree stays consistent when edits in
    /// the middle and more appends follow.
    #[test]
    fn appending_fills_leaves() {
        let mut s: Seq<String> = Seq::default();
        // Alternating replicas: no run continues the one before it.
        for k in 0..100u64 {
            s.insert(ReplicaId::new(1 + k % 2), s.len(), String::from("x"), 1)
                .unwrap();
            s.check_tree();
        }
        assert_eq!(s.tree.run_count(), 100);
        let fill = s.leaf_fill();
        assert_eq!(
            fill.len(),
            100usize.div_ceil(crate::sequence::tree::LEAF_CAP)
        );
        assert_eq!(
            fill.iter()
                .filter(|&&n| n != crate::sequence::tree::LEAF_CAP)
                .count(),
            1
        );
        for k in 0..50u64 {
            s.insert(ReplicaId::new(3), (k * 7) % s.len(), String::from("y"), 1)
                .unwrap();
            s.insert(ReplicaId::new(1 + k % 2), s.len(), String::from("z"), 1)
                .unwrap();
            s.check_tree();
        }
        let text: String = s.live_runs().map(|r| r.content()).collect();
        assert_eq!(text.len(), 200);
        assert_eq!(text.matches('z').count(), 50);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Tree invariants (counts, parent links, id index) and Q12 (a local
        /// item's origins are its neighbours in the full sequence) after
        /// every step, with joins in between; Q4 against a `String` on each
        /// replica's own edits.
        #[test]
        fn tree_invariants_and_q12(ops in proptest::collection::vec(op(), 1..300)) {
            let mut reps: Vec<Seq<String>> = (0..3).map(|_| Seq::default()).collect();
            let mut log: Vec<Vec<Seq<String>>> = alloc::vec![Vec::new(), Vec::new(), Vec::new()];
            for op in ops {
                match op {
                    Op::Insert(r, i, text) => {
                        let s = &mut reps[r as usize];
                        // One insert in four at the end (leaves split
                        // unevenly there).
                        let i = if i % 4 == 0 { s.len() } else { u64::from(i) % (s.len() + 1) };
                        let before: String = s.live_runs().map(|r| r.content()).collect();
                        let n = text.chars().count() as u64;
                        let d = s.insert(ReplicaId::new(u64::from(r) + 1), i, text.clone(), n).unwrap();
                        let id = d.canonical_items()[0].id;
                        let run = d.canonical_items()[0].clone();
                        prop_assert_eq!(s.neighbours(id).map(|x| x.0), Some(run.left()));
                        let last = Dot::new(id.replica, id.counter + n - 1);
                        prop_assert_eq!(s.neighbours(last).map(|x| x.1), Some(run.right()));
                        let mut model = before.clone();
                        let b = model.char_indices().nth(i as usize).map_or(model.len(), |x| x.0);
                        model.insert_str(b, &text);
                        let now: String = s.live_runs().map(|r| r.content()).collect();
                        prop_assert_eq!(now, model);
                        log[r as usize].push(d);
                    }
                    Op::Delete(r, i, n) => {
                        let s = &mut reps[r as usize];
                        if s.len() == 0 { continue; }
                        let i = u64::from(i) % s.len();
                        let j = (i + u64::from(n)).min(s.len());
                        let d = s.delete(ReplicaId::new(u64::from(r) + 1), i, j).unwrap();
                        log[r as usize].push(d);
                    }
                    Op::Sync(a, b) => {
                        let deltas = log[a as usize].clone();
                        for d in deltas.into_iter().rev() {
                            reps[b as usize].join(d);
                        }
                    }
                }
                for s in &reps {
                    s.check_tree();
                }
            }
            // Quiescence: everybody gets everything, in reverse order.
            let all: Vec<Seq<String>> = log.iter().flatten().cloned().collect();
            for s in &mut reps {
                for d in all.iter().rev() {
                    s.join(d.clone());
                }
                s.check_tree();
                prop_assert_eq!(s.pending_len(), 0);
            }
            prop_assert!(reps[0] == reps[1] && reps[1] == reps[2]);
        }
    }
}

impl<C: Content> PartialEq for Seq<C> {
    fn eq(&self, other: &Self) -> bool {
        self.ctx == other.ctx
            && self.tree.vis() == other.tree.vis()
            && self.tree.tot() == other.tree.tot()
            && canonical(self.tree.runs()) == canonical(other.tree.runs())
            && self.canonical_items() == other.canonical_items()
            && self.canonical_deletes() == other.canonical_deletes()
    }
}

impl<C: Content> Eq for Seq<C> {}

impl<C: Content> Lattice for Seq<C> {
    fn join(&mut self, other: Self) -> bool {
        self.join_impl(other)
    }

    fn leq(&self, other: &Self) -> bool {
        self.ctx.leq(&other.ctx)
    }

    fn is_bottom(&self) -> bool {
        self.ctx.is_empty()
    }
}

// ------------------------------------------------------------------- serde

/// The serialised form: item runs sorted by id and delete runs sorted by
/// dot, both canonical (equal states give equal bytes). Deleted items carry
/// no content.
#[cfg(feature = "serde")]
pub(crate) mod repr {
    use super::*;
    use crate::encoding::budget::Refusal;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    pub(crate) struct Item<C> {
        pub(crate) id: Dot,
        pub(crate) len: u64,
        pub(crate) left: Option<Dot>,
        pub(crate) right: Option<Dot>,
        pub(crate) content: Option<C>,
    }

    /// The deserialising side of [`Item`]: the content is read by
    /// [`ContentIn`], which charges a list's values vector to the decode's
    /// allocation budget as it grows (a text's string is charged by the
    /// reader).
    #[derive(Deserialize)]
    #[serde(bound(deserialize = "C: ContentIn<'de>"))]
    struct ItemIn<C> {
        id: Dot,
        len: u64,
        left: Option<Dot>,
        right: Option<Dot>,
        content: Option<In<C>>,
    }

    /// Content read through [`ContentIn`].
    struct In<C>(C);

    impl<'de, C: ContentIn<'de>> Deserialize<'de> for In<C> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            C::read(d).map(In)
        }
    }

    /// How a sequence's content is read from untrusted bytes.
    pub(crate) trait ContentIn<'de>: Content {
        /// Reads the content of one item.
        fn read<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
    }

    impl<'de, T: Clone + PartialEq + core::fmt::Debug + Deserialize<'de>> ContentIn<'de>
        for alloc::collections::VecDeque<T>
    {
        fn read<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            // Gathered in charged blocks, not by serde's `Vec`, which
            // preallocates from the declared count.
            use crate::encoding::collect;
            // A ring buffer is made from the vector without a copy.
            collect::checked_vec(
                d,
                || collect::leasable::<T>(collect::flat_wire::<T>()),
                |_, _| Ok(()),
            )
            .map(Self::from)
        }
    }

    impl<'de> ContentIn<'de> for crate::sequence::run::Utf8 {
        fn read<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            crate::sequence::run::Utf8::deserialize(d)
        }
    }

    #[derive(Serialize)]
    pub(crate) struct Repr<C> {
        pub(crate) items: Vec<Item<C>>,
        pub(crate) deletes: Vec<DelRun>,
    }

    /// The deserialising side of [`Repr`]: the same fields, with each item
    /// turned into a run as it is read, so decoding never holds the items
    /// and the runs at once (C4).
    #[derive(Deserialize)]
    #[serde(bound(deserialize = "C: ContentIn<'de>"))]
    pub(crate) struct ReprIn<C> {
        #[serde(deserialize_with = "runs_from_items")]
        pub(crate) items: Blocks<Run<C>>,
        #[serde(deserialize_with = "bounded_deletes")]
        pub(crate) deletes: Vec<DelRun>,
    }

    fn bounded_deletes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<DelRun>, D::Error> {
        // A delete run takes at least 6 bytes (two dots, a length, a flag).
        use crate::encoding::collect;
        collect::checked_vec(d, || collect::leasable::<DelRun>(Some(6)), |_, _| Ok(()))
    }

    fn runs_from_items<'de, D, C>(d: D) -> Result<Blocks<Run<C>>, D::Error>
    where
        D: serde::Deserializer<'de>,
        C: ContentIn<'de>,
    {
        struct Items<C>(core::marker::PhantomData<C>);
        impl<'de, C: ContentIn<'de>> serde::de::Visitor<'de> for Items<C> {
            type Value = Blocks<Run<C>>;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a sequence of items")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Blocks<Run<C>>, A::Error> {
                // A hint is a claim of the input: it only caps the size of
                // the first block the items are gathered in (C4; no lease,
                // as an item's content is a nested sequence). The blocks
                // are placed as they are, never copied into one vector.
                let hint = seq.size_hint().unwrap_or(0);
                let mut out = Blocks::new();
                while let Some(i) = seq.next_element::<ItemIn<C>>()? {
                    let run = Run::new(i.id, i.len, i.left, i.right, i.content.map(|c| c.0));
                    // Checked as it arrives: bad items are not collected.
                    // The origins are checked as read: a run packs "no
                    // origin" as counter 0, which the check rejects.
                    Seq::check_item_with(&run, [i.left, i.right])
                        .map_err(crate::encoding::violation::reject)?;
                    let left = hint.saturating_sub(out.len());
                    crate::encoding::budget::charge(out.next_alloc(left))
                        .map_err(crate::encoding::budget::over_budget)?;
                    out.push_hinted(left, run);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(Items(core::marker::PhantomData))
    }

    impl<C: Content> Seq<C> {
        pub(crate) fn to_repr(&self) -> Repr<C> {
            Repr {
                items: self
                    .canonical_items()
                    .into_iter()
                    .map(|r| Item {
                        id: r.id,
                        len: r.len,
                        left: r.left(),
                        right: r.right(),
                        content: r.into_content(),
                    })
                    .collect(),
                deletes: self.canonical_deletes(),
            }
        }

        /// Validates and builds a state (atomic: nothing is built on error).
        pub(crate) fn from_repr(repr: ReprIn<C>) -> Result<Self, Refusal> {
            // An upper estimate (from the structures, checked by the
            // `c4_hard_cap_*` tests, not proved) of what the checks and the
            // build below allocate: per item run, the run in a leaf (leaves
            // are at least half full, so up to about twice the run), its
            // id-index entry, its context and id ranges and the sort's
            // positions (the runs read were charged as their blocks were
            // read, and the stack and pending keep them there); per delete
            // run, its copy, its targets' ranges and its id. Charged before
            // anything is built.
            let per_item = 3 * core::mem::size_of::<Run<C>>() + 96;
            let per_del = 4 * core::mem::size_of::<DelRun>() + 64;
            crate::encoding::budget::charge(
                repr.items
                    .len()
                    .saturating_mul(per_item)
                    .saturating_add(repr.deletes.len().saturating_mul(per_del)),
            )?;
            let items = repr.items;
            // Each item was checked on its own as it was read.
            Self::check_across(items.iter(), items.len(), &repr.deletes, false)?;
            let mut s = Self::from_parts(items, repr.deletes, Some(Budget::new()));
            s.take_budget()?;
            Ok(s)
        }
    }
}
