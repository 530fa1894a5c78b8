//! Version vectors: a contiguous history per replica.

use smallvec::SmallVec;

use crate::causal::{Dot, ReplicaId};
use crate::error::InvariantViolation;
use crate::lattice::{Lattice, Validate};

/// A map `ReplicaId → u64` ordered pointwise: entry `r = n` says "every event
/// `1..=n` of replica `r`". Absent entries are zero.
///
/// Invariant (I4): entries are sorted by replica and never zero, so equal
/// vectors are equal values.
///
/// | operation | cost (R = replicas) |
/// | --- | --- |
/// | `get`, `contains` | O(log R) |
/// | `set_max` of a new replica | O(R) |
/// | `join`, `leq` | O(R₁ + R₂) |
///
/// ```
/// use converge::{Dot, Lattice, ReplicaId, VersionVector};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut x = VersionVector::new();
/// x.set_max(a, 3);
/// let mut y = VersionVector::new();
/// y.set_max(b, 1);
/// x.join(y);
/// assert_eq!((x.get(a), x.get(b)), (3, 1));
/// assert!(x.contains(Dot::new(a, 2)));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct VersionVector {
    /// Sorted by replica, strictly; every value ≥ 1. One entry is stored
    /// inline (a one-writer delta allocates nothing).
    entries: SmallVec<[(ReplicaId, u64); 1]>,
}

impl VersionVector {
    /// The empty vector (bottom).
    pub const fn new() -> Self {
        Self {
            entries: SmallVec::new_const(),
        }
    }

    /// The entry for `replica` (0 when absent).
    pub fn get(&self, replica: ReplicaId) -> u64 {
        match self.entries.binary_search_by_key(&replica, |e| e.0) {
            Ok(i) => self.entries[i].1,
            Err(_) => 0,
        }
    }

    /// Whether the dot is in the history this vector summarises.
    pub fn contains(&self, dot: Dot) -> bool {
        dot.counter != 0 && dot.counter <= self.get(dot.replica)
    }

    /// Raises the entry of `replica` to at least `value`. Returns whether it grew.
    pub fn set_max(&mut self, replica: ReplicaId, value: u64) -> bool {
        if value == 0 {
            return false;
        }
        match self.entries.binary_search_by_key(&replica, |e| e.0) {
            Ok(i) => {
                if self.entries[i].1 < value {
                    self.entries[i].1 = value;
                    true
                } else {
                    false
                }
            }
            Err(i) => {
                self.entries.insert(i, (replica, value));
                true
            }
        }
    }

    /// Sets the entry of `replica`, removing it when `value == 0`.
    pub(crate) fn set(&mut self, replica: ReplicaId, value: u64) {
        match self.entries.binary_search_by_key(&replica, |e| e.0) {
            Ok(i) if value == 0 => {
                self.entries.remove(i);
            }
            Ok(i) => self.entries[i].1 = value,
            Err(_) if value == 0 => {}
            Err(i) => self.entries.insert(i, (replica, value)),
        }
    }

    /// The entries, sorted by replica; none is zero.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (ReplicaId, u64)> + '_ {
        self.entries.iter().copied()
    }

    /// Number of non-zero entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether every entry is zero.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Builds a vector from `(replica, value)` pairs in any order; zeros are
    /// skipped and repeated replicas keep their maximum.
    pub fn from_entries(entries: impl IntoIterator<Item = (ReplicaId, u64)>) -> Self {
        let mut v = Self::new();
        for (r, n) in entries {
            v.set_max(r, n);
        }
        v
    }

    /// Builds from already sorted, strictly increasing, non-zero entries, or
    /// reports the first violation.
    #[cfg(feature = "serde")]
    pub(crate) fn from_sorted(
        entries: alloc::vec::Vec<(ReplicaId, u64)>,
    ) -> Result<Self, InvariantViolation> {
        let v = Self {
            entries: SmallVec::from_vec(entries),
        };
        v.check_invariants()?;
        Ok(v)
    }

    /// The entries above `other`'s: the smallest vector `d` with
    /// `other ⊔ d == self ⊔ other`. O(R₁ + R₂).
    pub fn entries_above(&self, other: &Self) -> Self {
        let mut entries = SmallVec::new();
        let mut theirs = other.entries.iter().peekable();
        for &(r, n) in &self.entries {
            while theirs.next_if(|e| e.0 < r).is_some() {}
            let their = theirs.peek().filter(|e| e.0 == r).map_or(0, |e| e.1);
            if n > their {
                entries.push((r, n));
            }
        }
        Self { entries }
    }

    /// Sum of all entries, exactly.
    pub(crate) fn sum(&self) -> u128 {
        self.entries.iter().map(|&(_, n)| u128::from(n)).sum()
    }
}

impl core::fmt::Debug for VersionVector {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(r, n)| (r, n)))
            .finish()
    }
}

impl Lattice for VersionVector {
    fn join(&mut self, other: Self) -> bool {
        if other.entries.is_empty() {
            return false;
        }
        if self.entries.is_empty() {
            self.entries = other.entries;
            return true;
        }
        // Fast path: same replicas in the same order.
        if self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(&other.entries)
                .all(|(a, b)| a.0 == b.0)
        {
            let mut changed = false;
            for (a, b) in self.entries.iter_mut().zip(&other.entries) {
                if b.1 > a.1 {
                    a.1 = b.1;
                    changed = true;
                }
            }
            return changed;
        }
        let mut out: SmallVec<[(ReplicaId, u64); 1]> =
            SmallVec::with_capacity(self.entries.len() + other.entries.len());
        let mut changed = false;
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.entries, &other.entries);
        while i < a.len() || j < b.len() {
            match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if x.0 == y.0 => {
                    changed |= y.1 > x.1;
                    out.push((x.0, x.1.max(y.1)));
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x.0 < y.0 => {
                    out.push(*x);
                    i += 1;
                }
                (Some(x), None) => {
                    out.push(*x);
                    i += 1;
                }
                (_, Some(y)) => {
                    out.push(*y);
                    changed = true;
                    j += 1;
                }
                (None, None) => break,
            }
        }
        self.entries = out;
        changed
    }

    /// O(R₁ + R₂).
    fn leq(&self, other: &Self) -> bool {
        let mut theirs = other.entries.iter().peekable();
        self.entries.iter().all(|&(r, n)| {
            while theirs.next_if(|e| e.0 < r).is_some() {}
            theirs.peek().is_some_and(|e| e.0 == r && n <= e.1)
        })
    }
}

impl Validate for VersionVector {
    fn check_invariants(&self) -> Result<(), InvariantViolation> {
        for w in self.entries.windows(2) {
            if w[0].0 >= w[1].0 {
                return Err(InvariantViolation::Unsorted);
            }
        }
        for &(replica, n) in &self.entries {
            if n == 0 {
                return Err(InvariantViolation::ZeroEntry { replica });
            }
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::*;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    impl Serialize for VersionVector {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.entries.as_slice().serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for VersionVector {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            // Checked as they arrive (C4: a bad input is rejected at its
            // first bad entry, not after all were materialised).
            let entries = crate::encoding::collect::checked_vec(
                d,
                || crate::encoding::collect::leasable::<(ReplicaId, u64)>(Some(2)),
                |prev: Option<&(ReplicaId, u64)>, &(r, n): &(ReplicaId, u64)| {
                    if prev.is_some_and(|p| p.0 >= r) {
                        return Err(InvariantViolation::Unsorted);
                    }
                    if n == 0 {
                        return Err(InvariantViolation::ZeroEntry { replica: r });
                    }
                    Ok(())
                },
            )?;
            VersionVector::from_sorted(entries).map_err(crate::encoding::violation::reject)
        }
    }
}
