//! `List<T>`: a replicated sequence of values.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt::Debug;
use core::ops::Range;

use super::seq::Seq;
use super::{Anchor, Bias, IndexError};
use crate::causal::{CausalContext, ReplicaId};

/// A replicated list (FugueMax order; see the [module docs](super)).
///
/// Insert and delete by index on the local replica; each edit returns a
/// delta (a `List`) for the other replicas to [`join`](crate::Lattice::join).
///
/// | operation | cost (n items, r runs, l log-factor of the tree) |
/// | --- | --- |
/// | `insert`, `delete` (one position) | O(log r) (+ O(1) amortised id index update) |
/// | `get` | O(log r) |
/// | join of a delta of k runs | O(k log r) when no concurrent insert shares its origins |
/// | `len` | O(1) |
///
/// ```
/// use converge::{Lattice, List, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut x: List<char> = List::new();
/// let d = x.insert_from(a, 0, "abc".chars())?;
/// let mut y = List::new();
/// y.join(d);
/// let d1 = x.delete(a, 1)?;                 // x: a c
/// let d2 = y.insert(b, 3, 'd')?;            // y: a b c d
/// x.join(d2);
/// y.join(d1);
/// assert_eq!(x, y);
/// assert_eq!(x.to_vec(), vec!['a', 'c', 'd']);
/// # Ok::<(), converge::IndexError>(())
/// ```
#[derive(Clone, Debug)]
pub struct List<T> {
    seq: Seq<VecDeque<T>>,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List {
            seq: Seq::default(),
        }
    }
}

impl<T: Clone + PartialEq + Debug> List<T> {
    /// The empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list whose pending buffer (items waiting for their origins)
    /// holds at most `limit` runs; a [`validated_join`](crate::Validate::validated_join)
    /// that would exceed it fails with
    /// [`InvariantViolation::PendingLimit`](crate::InvariantViolation::PendingLimit).
    pub fn with_pending_limit(limit: usize) -> Self {
        List {
            seq: Seq::with_pending_limit(limit),
        }
    }

    /// Changes the pending limit (see [`with_pending_limit`](Self::with_pending_limit)).
    pub fn set_pending_limit(&mut self, limit: usize) {
        self.seq.set_pending_limit(limit);
    }

    /// Number of visible elements.
    pub fn len(&self) -> usize {
        self.seq.len() as usize
    }

    /// Whether no element is visible.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element at `index`.
    pub fn get(&self, index: usize) -> Option<&T> {
        if index >= self.len() {
            return None;
        }
        let p = self.seq.tree.find_visible(index as u64);
        self.seq.tree.run(p)?.content().get(p.off as usize)
    }

    /// The visible elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.seq.live_runs().flat_map(|r| r.content().iter())
    }

    /// The visible elements, cloned.
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().cloned().collect()
    }

    /// Inserts `value` at `index` (`≤ len`) on behalf of `replica`.
    #[inline]
    pub fn insert(
        &mut self,
        replica: ReplicaId,
        index: usize,
        value: T,
    ) -> Result<Self, IndexError> {
        self.seq
            .insert(replica, index as u64, VecDeque::from([value]), 1)
            .map(|seq| List { seq })
    }

    /// Inserts `values` at `index` (`≤ len`), in order, as one run.
    #[inline]
    pub fn insert_from(
        &mut self,
        replica: ReplicaId,
        index: usize,
        values: impl IntoIterator<Item = T>,
    ) -> Result<Self, IndexError> {
        let v: VecDeque<T> = values.into_iter().collect();
        let n = v.len() as u64;
        self.seq
            .insert(replica, index as u64, v, n)
            .map(|seq| List { seq })
    }

    /// Appends `value`.
    pub fn push(&mut self, replica: ReplicaId, value: T) -> Self {
        let len = self.len();
        match self.insert(replica, len, value) {
            Ok(d) => d,
            Err(_) => unreachable!("the end is a valid index"),
        }
    }

    /// Deletes the element at `index` (`< len`).
    pub fn delete(&mut self, replica: ReplicaId, index: usize) -> Result<Self, IndexError> {
        let len = self.len();
        if index >= len {
            return Err(IndexError { index, len });
        }
        self.delete_range(replica, index..index + 1)
    }

    /// Deletes the elements in `range` (`end ≤ len`).
    #[inline]
    pub fn delete_range(
        &mut self,
        replica: ReplicaId,
        range: Range<usize>,
    ) -> Result<Self, IndexError> {
        self.seq
            .delete(replica, range.start as u64, range.end as u64)
            .map(|seq| List { seq })
    }

    /// A stable position at `index` (`≤ len`); see [`Anchor`].
    pub fn anchor(&self, index: usize, bias: Bias) -> Result<Anchor, IndexError> {
        super::anchor_at(&self.seq, index, bias)
    }

    /// The current index of `anchor`, or `None` when the element it sticks
    /// to has not arrived here yet.
    pub fn resolve(&self, anchor: &Anchor) -> Option<usize> {
        super::resolve(&self.seq, anchor)
    }

    /// Item runs waiting for origins that have not arrived (0 once every
    /// replica's edits have been delivered).
    pub fn pending_len(&self) -> usize {
        self.seq.pending_len()
    }

    /// Every event this list holds (inserted units and deletes).
    pub fn context(&self) -> &CausalContext {
        self.seq.context()
    }
}

seq_impls!(
    impl[T: Clone + PartialEq + Debug]
    ser[T: Clone + PartialEq + Debug + serde::Serialize]
    de['de, T: Clone + PartialEq + Debug + serde::Deserialize<'de>]
    List<T>, VecDeque<T>
);

impl<T: Clone + Eq + Debug> Eq for List<T> {}
