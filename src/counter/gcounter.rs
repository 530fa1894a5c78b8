use crate::causal::{ReplicaId, VersionVector};
use crate::error::{InvariantViolation, OverflowError};
use crate::lattice::{DeltaSince, Lattice, Validate};

/// A grow-only counter: one `u64` entry per replica, joined by pointwise max.
///
/// **Conflict rule:** none is possible. Each replica only raises its own entry,
/// so concurrent increments land in different entries and the value — the sum
/// of all entries — counts every increment exactly once.
///
/// ```
/// use converge::{GCounter, Lattice, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut phone = GCounter::new();
/// let mut laptop = GCounter::new();
/// let delta = phone.increment(a, 3).unwrap(); // offline
/// laptop.increment(b, 4).unwrap();            // concurrently
/// laptop.join(delta);                         // ship the delta
/// phone.join(laptop.clone());                 // or the full state
/// assert_eq!(phone.value(), 7);
/// assert_eq!(phone, laptop);
/// ```
///
/// | operation | cost (R = replicas) |
/// | --- | --- |
/// | `increment` | O(log R), O(R) for a new replica |
/// | `value` | O(R) |
/// | `join`, `leq`, `delta_since` | O(R₁ + R₂) |
/// | delta of `increment` | one entry |
#[derive(Clone, Default, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct GCounter {
    /// Entry `r` is the total of `r`'s increments; no zero entries (I4).
    counts: VersionVector,
}

impl GCounter {
    /// A counter at zero.
    pub const fn new() -> Self {
        Self {
            counts: VersionVector::new(),
        }
    }

    /// Adds `amount` on behalf of `replica` and returns the delta (one entry).
    ///
    /// # Errors
    ///
    /// [`OverflowError`] if the replica's entry would exceed `u64::MAX`; the
    /// counter is unchanged.
    pub fn increment(&mut self, replica: ReplicaId, amount: u64) -> Result<Self, OverflowError> {
        let current = self.counts.get(replica);
        let next = current.checked_add(amount).ok_or(OverflowError {
            replica,
            current,
            amount,
        })?;
        if amount == 0 {
            return Ok(Self::new());
        }
        self.counts.set(replica, next);
        let mut delta = Self::new();
        delta.counts.set(replica, next);
        Ok(delta)
    }

    /// The exact sum of all increments.
    pub fn value(&self) -> u128 {
        self.counts.sum()
    }

    /// The total increments of one replica.
    pub fn get(&self, replica: ReplicaId) -> u64 {
        self.counts.get(replica)
    }

    /// The per-replica totals, sorted by replica.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (ReplicaId, u64)> + '_ {
        self.counts.iter()
    }

    /// The per-replica totals as a version vector.
    pub fn as_vector(&self) -> &VersionVector {
        &self.counts
    }

    /// Builds a counter from per-replica totals (zeros skipped).
    pub fn from_entries(entries: impl IntoIterator<Item = (ReplicaId, u64)>) -> Self {
        Self {
            counts: VersionVector::from_entries(entries),
        }
    }
}

impl Lattice for GCounter {
    fn join(&mut self, other: Self) -> bool {
        self.counts.join(other.counts)
    }

    fn leq(&self, other: &Self) -> bool {
        self.counts.leq(&other.counts)
    }
}

impl Validate for GCounter {
    fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.counts.check_invariants()
    }

    /// Only `local` raises its own entry: a higher one from a peer is forged.
    fn check_local_claims(&self, local: ReplicaId, other: &Self) -> Result<(), InvariantViolation> {
        let claimed = other.get(local);
        if claimed > self.get(local) {
            return Err(InvariantViolation::UnknownLocalEvent {
                dot: crate::causal::Dot::new(local, claimed),
            });
        }
        Ok(())
    }
}

impl DeltaSince for GCounter {
    type Summary = VersionVector;

    fn summary(&self) -> VersionVector {
        self.counts.clone()
    }

    /// The entries above the peer's (every one exceeds the peer's entry).
    fn delta_since(&self, summary: &VersionVector) -> Self {
        Self {
            counts: self.counts.entries_above(summary),
        }
    }
}
