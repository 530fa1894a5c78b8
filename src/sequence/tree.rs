//! The document order: an order-statistic B+ tree of runs in an index arena,
//! plus an id → leaf index.
//!
//! Leaves hold up to [`LEAF_CAP`] runs in document order (tombstones
//! included) and are chained left to right; internal nodes hold up to
//! [`NODE_CAP`] children. Every leaf and node caches its visible and total
//! (tombstone-including) unit counts, so a visible index is found in
//! O(log n) by descending, and the absolute position of a unit is found in
//! O(log n) by climbing parent links. Nodes are addressed by `u32` indices
//! into two arenas (`leaves`, `nodes`), so the tree is one `Clone` of two
//! vectors and no pointer is ever dereferenced unsafely.
//!
//! The id index maps disjoint id ranges `[start, end)` of one replica to the
//! leaf that holds them. A run that moves to another leaf (a leaf split)
//! re-assigns its range; splitting a run inside its leaf changes nothing.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use smallvec::SmallVec;

use super::run::{Content, Run};
use crate::causal::{Dot, ReplicaId};

/// Most runs per leaf (tiny in unit tests, so that they split leaves and
/// nodes often).
#[cfg(not(test))]
pub(crate) const LEAF_CAP: usize = 32;
#[cfg(test)]
pub(crate) const LEAF_CAP: usize = 3;
/// Most children per internal node.
#[cfg(not(test))]
const NODE_CAP: usize = 16;
#[cfg(test)]
const NODE_CAP: usize = 3;
const NONE: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub(crate) struct Leaf<C> {
    pub(crate) runs: Vec<Run<C>>,
    parent: u32,
    next: u32,
    vis: u64,
    tot: u64,
}

#[derive(Clone, Debug)]
struct Node {
    children: SmallVec<[u32; NODE_CAP + 1]>,
    leaf_children: bool,
    parent: u32,
    vis: u64,
    tot: u64,
}

/// A position: the unit `off` of run `run` in leaf `leaf`; `run ==
/// runs.len()` (with `off == 0`) in the last leaf is the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) leaf: u32,
    pub(crate) run: usize,
    pub(crate) off: u64,
}

/// See [`Tree::find_visible_cached`].
#[derive(Clone, Copy, Debug)]
struct Cursor {
    leaf: u32,
    start: u64,
    run: usize,
    run_start: u64,
}

impl Cursor {
    const NONE: Cursor = Cursor {
        leaf: NONE,
        start: 0,
        run: 0,
        run_start: 0,
    };
}

#[derive(Clone, Debug)]
pub(crate) struct Tree<C> {
    leaves: Vec<Leaf<C>>,
    nodes: Vec<Node>,
    root: u32,
    /// Whether the root is a leaf (height 0).
    root_is_leaf: bool,
    /// `(replica, start)` → `(end, leaf)`.
    index: BTreeMap<Dot, (u64, u32)>,
    /// The entry local typing extends: `(start, end, leaf)`; its `end`
    /// overrides the (stale) one in `index`, so extending a run costs no
    /// map lookup. Written back before any other index change.
    tail: Option<(Dot, u64, u32)>,
    /// The cursor: the leaf of the last local lookup, the visible units
    /// before it (`NONE`: no cache), and a run of that leaf with the visible
    /// units of the leaf before that run. Edits inside the leaf keep the
    /// leaf part valid (a count change in any other leaf drops it); edits
    /// at or before the run reset the run part to the leaf's start.
    cache: Cursor,
}

impl<C> Default for Tree<C> {
    fn default() -> Self {
        Tree {
            leaves: Vec::new(),
            nodes: Vec::new(),
            root: 0,
            root_is_leaf: true,
            index: BTreeMap::new(),
            tail: None,
            cache: Cursor::NONE,
        }
    }
}

impl<C: Content> Tree<C> {
    /// Visible units.
    pub(crate) fn vis(&self) -> u64 {
        if self.leaves.is_empty() {
            0
        } else if self.root_is_leaf {
            self.leaves[self.root as usize].vis
        } else {
            self.nodes[self.root as usize].vis
        }
    }

    /// Units including tombstones.
    pub(crate) fn tot(&self) -> u64 {
        if self.leaves.is_empty() {
            0
        } else if self.root_is_leaf {
            self.leaves[self.root as usize].tot
        } else {
            self.nodes[self.root as usize].tot
        }
    }

    /// Number of runs.
    pub(crate) fn run_count(&self) -> usize {
        self.leaves.iter().map(|l| l.runs.len()).sum()
    }

    /// Bytes held by the arenas and the index (capacity, approximately).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.leaves.capacity() * core::mem::size_of::<Leaf<C>>()
            + self
                .leaves
                .iter()
                .map(|l| l.runs.capacity() * core::mem::size_of::<Run<C>>())
                .sum::<usize>()
            + self.nodes.capacity() * core::mem::size_of::<Node>()
            + self.index.len() * (core::mem::size_of::<(Dot, (u64, u32))>() + 8)
    }

    /// The runs in document order.
    pub(crate) fn runs(&self) -> impl Iterator<Item = &Run<C>> + '_ {
        let mut leaf = if self.leaves.is_empty() { NONE } else { 0 };
        core::iter::from_fn(move || {
            if leaf == NONE {
                return None;
            }
            let l = &self.leaves[leaf as usize];
            leaf = l.next;
            Some(l.runs.iter())
        })
        .flatten()
    }

    pub(crate) fn run(&self, p: Pos) -> Option<&Run<C>> {
        self.leaves.get(p.leaf as usize)?.runs.get(p.run)
    }

    /// The id of the unit at `p` (`None` at the end).
    #[inline]
    pub(crate) fn id_at(&self, p: Pos) -> Option<Dot> {
        self.run(p).map(|r| r.unit(p.off))
    }

    /// The first unit's position (the end when empty).
    pub(crate) fn start(&self) -> Pos {
        Pos {
            leaf: 0,
            run: 0,
            off: 0,
        }
    }

    /// Normalises `run == runs.len()` to the next leaf's first run.
    #[inline]
    fn norm(&self, mut p: Pos) -> Pos {
        if self.leaves.is_empty() {
            return p;
        }
        loop {
            let l = &self.leaves[p.leaf as usize];
            if p.run < l.runs.len() || l.next == NONE {
                return p;
            }
            p = Pos {
                leaf: l.next,
                run: 0,
                off: 0,
            };
        }
    }

    /// The position after the unit at `p` (`p` not the end).
    #[inline]
    pub(crate) fn after(&self, p: Pos) -> Pos {
        let r = &self.leaves[p.leaf as usize].runs[p.run];
        if p.off + 1 < r.len {
            Pos {
                off: p.off + 1,
                ..p
            }
        } else {
            self.norm(Pos {
                leaf: p.leaf,
                run: p.run + 1,
                off: 0,
            })
        }
    }

    /// The position of the first unit of the run after `p`'s run.
    #[inline]
    pub(crate) fn next_run(&self, p: Pos) -> Pos {
        self.norm(Pos {
            leaf: p.leaf,
            run: p.run + 1,
            off: 0,
        })
    }

    /// [`find_visible`](Self::find_visible) through the cursor (the fast
    /// path of local editing: consecutive edits usually hit the same leaf,
    /// and the same run or one just after it).
    pub(crate) fn find_visible_cached(&mut self, i: u64) -> Pos {
        let c = self.cache;
        if c.leaf != NONE {
            let l = &self.leaves[c.leaf as usize];
            if i >= c.start && i - c.start < l.vis {
                let j = i - c.start;
                let (mut k, mut acc) = if j >= c.run_start && c.run < l.runs.len() {
                    (c.run, c.run_start)
                } else {
                    (0, 0)
                };
                while let Some(r) = l.runs.get(k) {
                    let v = r.visible();
                    if j < acc + v {
                        self.cache.run = k;
                        self.cache.run_start = acc;
                        let p = Pos {
                            leaf: c.leaf,
                            run: k,
                            off: j - acc,
                        };
                        debug_assert_eq!(p, self.find_visible(i), "cursor out of date");
                        return p;
                    }
                    acc += v;
                    k += 1;
                }
            }
        }
        let p = self.find_visible(i);
        let before = self.offset_of(
            Pos {
                run: 0,
                off: 0,
                ..p
            },
            false,
        );
        self.cache = Cursor {
            leaf: p.leaf,
            start: before,
            run: p.run,
            run_start: i - before - p.off,
        };
        p
    }

    /// A change at run `k` of `leaf` that moves the runs from `k` on (an
    /// insert before them), or changes the visible count before them.
    fn shift_cursor(&mut self, leaf: u32, k: usize) {
        if leaf == self.cache.leaf && k <= self.cache.run {
            self.cache.run = 0;
            self.cache.run_start = 0;
        }
    }

    fn scan_leaf(l: &Leaf<C>, leaf: u32, mut i: u64) -> Pos {
        for (k, r) in l.runs.iter().enumerate() {
            let v = r.visible();
            if i < v {
                return Pos {
                    leaf,
                    run: k,
                    off: i,
                };
            }
            i -= v;
        }
        unreachable!("visible counts are consistent")
    }

    /// Position of the visible unit number `i` (`i < vis()`).
    pub(crate) fn find_visible(&self, mut i: u64) -> Pos {
        debug_assert!(i < self.vis());
        let mut node = self.root;
        let mut is_leaf = self.root_is_leaf;
        while !is_leaf {
            let n = &self.nodes[node as usize];
            let mut chosen = *n.children.last().unwrap_or(&0);
            for &c in &n.children {
                let v = if n.leaf_children {
                    self.leaves[c as usize].vis
                } else {
                    self.nodes[c as usize].vis
                };
                if i < v {
                    chosen = c;
                    break;
                }
                i -= v;
            }
            is_leaf = n.leaf_children;
            node = chosen;
        }
        Self::scan_leaf(&self.leaves[node as usize], node, i)
    }

    /// The position of unit `d`, if present.
    pub(crate) fn find_id(&self, d: Dot) -> Option<Pos> {
        let (&start, &(end, leaf)) = self.index.range(..=d).next_back()?;
        let end = self.end_of(start, end);
        if start.replica != d.replica || d.counter >= end {
            return None;
        }
        let l = &self.leaves[leaf as usize];
        let k = l.runs.iter().position(|r| r.contains(d))?;
        Some(Pos {
            leaf,
            run: k,
            off: d.counter - l.runs[k].id.counter,
        })
    }

    /// Whether unit `d` is in the tree.
    #[inline]
    pub(crate) fn contains(&self, d: Dot) -> bool {
        match self.index.range(..=d).next_back() {
            Some((start, &(end, _))) => {
                start.replica == d.replica && d.counter < self.end_of(*start, end)
            }
            None => false,
        }
    }

    /// The first counter `≥ c` of `replica` present in the tree, with the
    /// end of its index entry.
    pub(crate) fn next_present(&self, replica: ReplicaId, c: u64) -> Option<(u64, u64)> {
        if let Some((start, &(end, _))) = self.index.range(..=Dot::new(replica, c)).next_back() {
            let end = self.end_of(*start, end);
            if start.replica == replica && c < end {
                return Some((c, end));
            }
        }
        let (start, &(end, _)) = self.index.range(Dot::new(replica, c)..).next()?;
        (start.replica == replica).then_some((start.counter, self.end_of(*start, end)))
    }

    /// The end of the index entry at `start` (the tail's, if it is the tail).
    #[inline]
    fn end_of(&self, start: Dot, stored: u64) -> u64 {
        match self.tail {
            Some((k, e, _)) if k == start => e,
            _ => stored,
        }
    }

    /// Writes the tail's end back into the index.
    fn flush_tail(&mut self) {
        if let Some((k, e, _)) = self.tail.take() {
            if let Some(v) = self.index.get_mut(&k) {
                v.0 = e;
            }
        }
    }

    fn leaf_index_of_child(&self, parent: u32, child: u32) -> usize {
        self.nodes[parent as usize]
            .children
            .iter()
            .position(|&c| c == child)
            .unwrap_or(self.nodes[parent as usize].children.len() - 1)
    }

    /// Units (total when `total`, else visible) before the unit at `p`.
    pub(crate) fn offset_of(&self, p: Pos, total: bool) -> u64 {
        if self.leaves.is_empty() {
            return 0;
        }
        let l = &self.leaves[p.leaf as usize];
        let mut n = 0;
        for r in &l.runs[..p.run.min(l.runs.len())] {
            n += if total { r.len } else { r.visible() };
        }
        if let Some(r) = l.runs.get(p.run) {
            if total || !r.deleted {
                n += p.off;
            }
        }
        let mut child = p.leaf;
        let mut parent = l.parent;
        let mut child_is_leaf = true;
        while parent != NONE {
            let node = &self.nodes[parent as usize];
            for &c in &node.children {
                if c == child {
                    break;
                }
                n += match (child_is_leaf, total) {
                    (true, true) => self.leaves[c as usize].tot,
                    (true, false) => self.leaves[c as usize].vis,
                    (false, true) => self.nodes[c as usize].tot,
                    (false, false) => self.nodes[c as usize].vis,
                };
            }
            child = parent;
            child_is_leaf = false;
            parent = node.parent;
        }
        n
    }

    fn bump(&mut self, leaf: u32, dvis: i64, dtot: i64) {
        if leaf != self.cache.leaf && dvis != 0 {
            self.cache = Cursor::NONE;
        }
        let l = &mut self.leaves[leaf as usize];
        l.vis = l.vis.wrapping_add_signed(dvis);
        l.tot = l.tot.wrapping_add_signed(dtot);
        let mut p = l.parent;
        while p != NONE {
            let n = &mut self.nodes[p as usize];
            n.vis = n.vis.wrapping_add_signed(dvis);
            n.tot = n.tot.wrapping_add_signed(dtot);
            p = n.parent;
        }
    }

    /// Assigns the id range `[s, e)` of `r` to `leaf` in the index.
    fn assign(&mut self, r: ReplicaId, s: u64, e: u64, leaf: u32) {
        self.flush_tail();
        let (ds, de) = (Dot::new(r, s), Dot::new(r, e));
        // Fast path: nothing of the range is indexed yet (a new run).
        match self.index.range_mut(..de).next_back() {
            Some((k, v)) if k.replica == r && v.0 > s => {}
            Some((k, v)) if k.replica == r && v.0 == s && v.1 == leaf => {
                v.0 = e;
                return;
            }
            _ => {
                self.index.insert(ds, (e, leaf));
                return;
            }
        }
        // Cut an entry that starts before `s` and reaches into the range.
        if let Some((&k, &(end, l))) = self.index.range(..ds).next_back() {
            if k.replica == r && end > s {
                if let Some(v) = self.index.get_mut(&k) {
                    v.0 = s;
                }
                if end > e {
                    self.index.insert(de, (end, l));
                }
            }
        }
        // Entries inside the range go; a tail past `e` stays.
        let inside: SmallVec<[Dot; 4]> = self.index.range(ds..de).map(|(k, _)| *k).collect();
        for k in inside {
            if let Some((end, l)) = self.index.remove(&k) {
                if end > e {
                    self.index.insert(de, (end, l));
                }
            }
        }
        // Extend the previous entry when contiguous in the same leaf.
        if let Some((k, v)) = self.index.range_mut(..ds).next_back() {
            if k.replica == r && v.0 == s && v.1 == leaf {
                v.0 = e;
                return;
            }
        }
        self.index.insert(ds, (e, leaf));
    }

    /// Inserts `run` before the unit at `p` (`p` may be the end).
    pub(crate) fn insert(&mut self, p: Pos, run: Run<C>) {
        if self.leaves.is_empty() {
            self.leaves.push(Leaf {
                runs: Vec::with_capacity(4),
                parent: NONE,
                next: NONE,
                vis: 0,
                tot: 0,
            });
            self.root = 0;
            self.root_is_leaf = true;
        }
        let (leaf, mut at) = (p.leaf, p.run);
        if p.off > 0 {
            let tail = self.leaves[leaf as usize].runs[at].split(p.off);
            self.leaves[leaf as usize].runs.insert(at + 1, tail);
            at += 1;
        }
        let (vis, tot) = (run.visible() as i64, run.len as i64);
        let (r, s, e) = (run.id.replica, run.id.counter, run.end());
        self.leaves[leaf as usize].runs.insert(at, run);
        self.shift_cursor(leaf, at);
        self.bump(leaf, vis, tot);
        self.assign(r, s, e, leaf);
        let l = &self.leaves[leaf as usize];
        let appended = l.next == NONE && at + 1 == l.runs.len();
        self.split_if_full(leaf, appended);
    }

    /// Extends the run at `p` (whose last unit it is) by `extra`, when
    /// `extra` continues it (`can_append`). Returns whether it did.
    pub(crate) fn try_extend(&mut self, p: Pos, extra: &mut Option<Run<C>>) -> bool {
        let Some(l) = self.leaves.get_mut(p.leaf as usize) else {
            return false;
        };
        let Some(r) = l.runs.get_mut(p.run) else {
            return false;
        };
        let Some(x) = extra.as_ref() else {
            return false;
        };
        if p.off + 1 != r.len || !r.can_append(x) {
            return false;
        }
        let Some(x) = extra.take() else {
            return false;
        };
        let (old_end, new_end) = (r.end(), x.end());
        let (vis, tot) = (x.visible() as i64, x.len as i64);
        r.append(x);
        let key = r.id;
        self.shift_cursor(p.leaf, p.run + 1);
        self.bump(p.leaf, vis, tot);
        if let Some((k, e, l)) = self.tail.as_mut() {
            if k.replica == key.replica && *e == old_end && *l == p.leaf {
                *e = new_end;
                return true;
            }
        }
        self.flush_tail();
        let last = Dot::new(key.replica, old_end - 1);
        if let Some((k, v)) = self.index.range(..=last).next_back() {
            if k.replica == key.replica && v.0 == old_end && v.1 == p.leaf {
                self.tail = Some((*k, new_end, p.leaf));
                return true;
            }
        }
        self.assign(key.replica, old_end, new_end, p.leaf);
        true
    }

    /// Marks units `[from, to)` of the run at `(leaf, run)` deleted (they
    /// must be visible); returns the position of the deleted piece.
    pub(crate) fn delete_in_run(&mut self, leaf: u32, run: usize, from: u64, to: u64) -> Pos {
        let runs = &mut self.leaves[leaf as usize].runs;
        let mut at = run;
        debug_assert!(!runs[at].deleted && from < to && to <= runs[at].len);
        if to < runs[at].len {
            let tail = runs[at].split(to);
            runs.insert(at + 1, tail);
        }
        if from > 0 {
            let mid = runs[at].split(from);
            runs.insert(at + 1, mid);
            at += 1;
        }
        let r = &mut runs[at];
        r.tombstone();
        let n = r.len as i64;
        // Merge with a deleted neighbour that continues it.
        if at + 1 < runs.len() && runs[at].can_append(&runs[at + 1]) {
            let next = runs.remove(at + 1);
            runs[at].append(next);
        }
        let mut moved_from = run + 1;
        if at > 0 && runs[at - 1].can_append(&runs[at]) {
            let cur = runs.remove(at);
            runs[at - 1].append(cur);
            at -= 1;
            moved_from = run;
        }
        self.shift_cursor(leaf, moved_from);
        self.bump(leaf, -n, 0);
        let pos = Pos {
            leaf,
            run: at,
            off: 0,
        };
        self.split_if_full(leaf, false);
        pos
    }

    /// Splits a leaf that holds more than [`LEAF_CAP`] runs in two halves;
    /// or, when `appended` (its last run was just inserted at the end of
    /// the document), keeps it full and moves only what is past
    /// [`LEAF_CAP`]: appending then fills leaves instead of leaving each
    /// half empty (a document typed or decoded front to back holds about
    /// half the leaf memory).
    fn split_if_full(&mut self, leaf: u32, appended: bool) {
        if self.leaves[leaf as usize].runs.len() <= LEAF_CAP {
            return;
        }
        let new = self.leaves.len() as u32;
        let l = &mut self.leaves[leaf as usize];
        let cut = if appended { LEAF_CAP } else { l.runs.len() / 2 };
        let moved = l.runs.split_off(cut);
        let kept = l.runs.len();
        // One edit adds at most two runs to a leaf of at most LEAF_CAP (an
        // insert inside a run splits it; a delete inside one cuts it in
        // three) before it splits: no capacity beyond that (decoding
        // memory, C4).
        l.runs.shrink_to(LEAF_CAP + 2);
        if leaf == self.cache.leaf && self.cache.run >= kept {
            self.cache.run = 0;
            self.cache.run_start = 0;
        }
        let (mut vis, mut tot) = (0, 0);
        for r in &moved {
            vis += r.visible();
            tot += r.len;
        }
        l.vis -= vis;
        l.tot -= tot;
        let parent = l.parent;
        let next = l.next;
        l.next = new;
        let ranges: SmallVec<[(ReplicaId, u64, u64); LEAF_CAP]> = moved
            .iter()
            .map(|r| (r.id.replica, r.id.counter, r.end()))
            .collect();
        let mut runs = Vec::with_capacity(LEAF_CAP + 2);
        runs.extend(moved);
        self.leaves.push(Leaf {
            runs,
            parent,
            next,
            vis,
            tot,
        });
        for (r, s, e) in ranges {
            self.assign(r, s, e, new);
        }
        self.add_child(parent, leaf, new, true);
    }

    /// Inserts `new` right after `old` among `parent`'s children (a new root
    /// when `parent` is `NONE`), splitting full nodes upwards.
    fn add_child(&mut self, parent: u32, old: u32, new: u32, leaf_children: bool) {
        let (vis, tot) = if leaf_children {
            let l = &self.leaves[new as usize];
            (l.vis, l.tot)
        } else {
            let n = &self.nodes[new as usize];
            (n.vis, n.tot)
        };
        if parent == NONE {
            let (ovis, otot) = if leaf_children {
                let l = &self.leaves[old as usize];
                (l.vis, l.tot)
            } else {
                let n = &self.nodes[old as usize];
                (n.vis, n.tot)
            };
            let root = self.nodes.len() as u32;
            let mut children = SmallVec::new();
            children.push(old);
            children.push(new);
            self.nodes.push(Node {
                children,
                leaf_children,
                parent: NONE,
                vis: vis + ovis,
                tot: tot + otot,
            });
            self.set_parent(old, root, leaf_children);
            self.set_parent(new, root, leaf_children);
            self.root = root;
            self.root_is_leaf = false;
            return;
        }
        let k = self.leaf_index_of_child(parent, old);
        let n = &mut self.nodes[parent as usize];
        n.children.insert(k + 1, new);
        // `old` already lost what `new` gained: the parent's totals hold.
        if n.children.len() <= NODE_CAP {
            return;
        }
        let moved: SmallVec<[u32; NODE_CAP + 1]> =
            n.children.drain(n.children.len() / 2..).collect();
        let grand = n.parent;
        let sibling = self.nodes.len() as u32;
        let (mut svis, mut stot) = (0, 0);
        for &c in &moved {
            let (v, t) = if leaf_children {
                let l = &self.leaves[c as usize];
                (l.vis, l.tot)
            } else {
                let n = &self.nodes[c as usize];
                (n.vis, n.tot)
            };
            svis += v;
            stot += t;
        }
        let n = &mut self.nodes[parent as usize];
        n.vis -= svis;
        n.tot -= stot;
        for &c in &moved {
            self.set_parent(c, sibling, leaf_children);
        }
        self.nodes.push(Node {
            children: moved,
            leaf_children,
            parent: grand,
            vis: svis,
            tot: stot,
        });
        self.add_child(grand, parent, sibling, false);
    }

    fn set_parent(&mut self, child: u32, parent: u32, is_leaf: bool) {
        if is_leaf {
            self.leaves[child as usize].parent = parent;
        } else {
            self.nodes[child as usize].parent = parent;
        }
    }

    /// Runs per leaf, in arena order (tests).
    #[cfg(test)]
    pub(crate) fn leaf_fill(&self) -> Vec<usize> {
        self.leaves.iter().map(|l| l.runs.len()).collect()
    }

    /// Checks the cached counts, parent links and the id index (tests).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        if self.leaves.is_empty() {
            assert!(self.index.is_empty());
            return;
        }
        for (i, l) in self.leaves.iter().enumerate() {
            let vis: u64 = l.runs.iter().map(|r| r.visible()).sum();
            let tot: u64 = l.runs.iter().map(|r| r.len).sum();
            assert_eq!((l.vis, l.tot), (vis, tot), "leaf {i} counts");
            for r in &l.runs {
                for k in [0, r.len - 1] {
                    let p = self.find_id(r.unit(k));
                    assert_eq!(
                        p.map(|p| p.leaf as usize),
                        Some(i),
                        "index of {:?}",
                        r.unit(k)
                    );
                }
            }
        }
        for n in &self.nodes {
            let (mut vis, mut tot) = (0, 0);
            for &c in &n.children {
                if n.leaf_children {
                    vis += self.leaves[c as usize].vis;
                    tot += self.leaves[c as usize].tot;
                } else {
                    vis += self.nodes[c as usize].vis;
                    tot += self.nodes[c as usize].tot;
                }
            }
            assert_eq!((n.vis, n.tot), (vis, tot));
        }
        let total: u64 = self.runs().map(|r| r.len).sum();
        assert_eq!(total, self.tot());
    }
}
