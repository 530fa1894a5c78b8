//! Replica identifiers and dots.

use core::fmt;

/// The identity of one replica: a data center, a phone, a browser tab.
///
/// A `u64` newtype. Pick ids at random (64 random bits make collisions
/// negligible) or assign them centrally; two replicas must never share an id
/// while both accept writes (a reused id makes two different writes carry the
/// same [`Dot`], which [`Validate`](crate::Validate) reports as
/// [`ConflictingDot`](crate::InvariantViolation::ConflictingDot)).
///
/// ```
/// use converge::ReplicaId;
/// let a = ReplicaId::new(7);
/// assert_eq!(a.get(), 7);
/// assert_eq!(a.to_string(), "r7");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct ReplicaId(u64);

impl ReplicaId {
    /// Wraps a raw id.
    pub const fn new(id: u64) -> Self {
        Self(id)
    }

    /// The raw id.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for ReplicaId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

impl fmt::Debug for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

impl fmt::Display for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// The unique name of one write event: the `counter`-th event of `replica`.
///
/// Counters start at 1. Validation accepts counters up to
/// [`Dot::MAX_COUNTER`] (`2^62`) only, so whatever a replica accepts from its
/// peers, it keeps at least `2^63` counters of headroom for its own events:
/// naming the next event can never overflow.
///
/// ```
/// use converge::{Dot, ReplicaId};
/// let d = Dot::new(ReplicaId::new(2), 5);
/// assert_eq!(d.to_string(), "r2:5");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Dot {
    /// The replica that generated the event.
    pub replica: ReplicaId,
    /// Its sequence number at that replica, from 1.
    pub counter: u64,
}

impl Dot {
    /// The largest counter a state from a peer may carry (`2^62`).
    /// Validation rejects larger ones, so local counters can never overflow.
    pub const MAX_COUNTER: u64 = 1 << 62;

    /// A dot.
    pub const fn new(replica: ReplicaId, counter: u64) -> Self {
        Self { replica, counter }
    }
}

impl fmt::Debug for Dot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.replica, self.counter)
    }
}

impl fmt::Display for Dot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.replica, self.counter)
    }
}
