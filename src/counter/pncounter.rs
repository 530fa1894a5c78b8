use crate::causal::{ReplicaId, VersionVector};
use crate::counter::GCounter;
use crate::error::{InvariantViolation, OverflowError};
use crate::lattice::{DeltaSince, Lattice, Validate};

/// A counter that goes up and down: a pair of [`GCounter`]s, one for
/// increments and one for decrements.
///
/// **Conflict rule:** none is possible; the value is
/// `Σ increments − Σ decrements`, exact in `i128`.
///
/// ```
/// use converge::{Lattice, PnCounter, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut stock_eu = PnCounter::new();
/// let mut stock_us = PnCounter::new();
/// stock_eu.increment(a, 10).unwrap();
/// stock_us.decrement(b, 3).unwrap(); // concurrently
/// stock_eu.join(stock_us.clone());
/// stock_us.join(stock_eu.clone());
/// assert_eq!(stock_eu.value(), 7);
/// assert_eq!(stock_eu, stock_us);
/// ```
///
/// | operation | cost (R = replicas) |
/// | --- | --- |
/// | `increment`, `decrement` | O(log R), O(R) for a new replica |
/// | `value` | O(R) |
/// | `join`, `leq`, `delta_since` | O(R₁ + R₂) |
#[derive(Clone, Default, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PnCounter {
    /// Increments per replica.
    inc: GCounter,
    /// Decrements per replica.
    dec: GCounter,
}

impl PnCounter {
    /// A counter at zero.
    pub const fn new() -> Self {
        Self {
            inc: GCounter::new(),
            dec: GCounter::new(),
        }
    }

    /// Adds `amount` on behalf of `replica`; returns the delta.
    ///
    /// # Errors
    ///
    /// [`OverflowError`] if the replica's increment total would overflow; the
    /// counter is unchanged.
    pub fn increment(&mut self, replica: ReplicaId, amount: u64) -> Result<Self, OverflowError> {
        Ok(Self {
            inc: self.inc.increment(replica, amount)?,
            dec: GCounter::new(),
        })
    }

    /// Subtracts `amount` on behalf of `replica`; returns the delta.
    ///
    /// # Errors
    ///
    /// [`OverflowError`] if the replica's decrement total would overflow; the
    /// counter is unchanged.
    pub fn decrement(&mut self, replica: ReplicaId, amount: u64) -> Result<Self, OverflowError> {
        Ok(Self {
            inc: GCounter::new(),
            dec: self.dec.increment(replica, amount)?,
        })
    }

    /// `Σ increments − Σ decrements`, exactly.
    pub fn value(&self) -> i128 {
        // Each sum is below 2^64 · R ≤ 2^127 for any R that fits in memory.
        let p = i128::try_from(self.inc.value()).unwrap_or(i128::MAX);
        let n = i128::try_from(self.dec.value()).unwrap_or(i128::MAX);
        p - n
    }

    /// The increments half.
    pub fn increments(&self) -> &GCounter {
        &self.inc
    }

    /// The decrements half.
    pub fn decrements(&self) -> &GCounter {
        &self.dec
    }
}

impl Lattice for PnCounter {
    fn join(&mut self, other: Self) -> bool {
        self.inc.join(other.inc) | self.dec.join(other.dec)
    }

    fn leq(&self, other: &Self) -> bool {
        self.inc.leq(&other.inc) && self.dec.leq(&other.dec)
    }
}

impl Validate for PnCounter {
    fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.inc.check_invariants()?;
        self.dec.check_invariants()
    }

    fn check_local_claims(&self, local: ReplicaId, other: &Self) -> Result<(), InvariantViolation> {
        self.inc.check_local_claims(local, &other.inc)?;
        self.dec.check_local_claims(local, &other.dec)
    }
}

impl DeltaSince for PnCounter {
    /// The peer's increment and decrement vectors.
    type Summary = (VersionVector, VersionVector);

    fn summary(&self) -> Self::Summary {
        (self.inc.summary(), self.dec.summary())
    }

    fn delta_since(&self, summary: &Self::Summary) -> Self {
        Self {
            inc: self.inc.delta_since(&summary.0),
            dec: self.dec.delta_since(&summary.1),
        }
    }
}
