use core::cmp::Ordering;

use crate::causal::{ReplicaId, VersionVector};
use crate::error::{InvariantViolation, OverflowError};
use crate::lattice::{DeltaSince, Lattice, Validate};
use crate::register::Clock;

/// The name of one LWW write: its timestamp, ties broken by replica id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Stamp {
    /// When the write happened (see [`Clock`]).
    pub timestamp: u64,
    /// Who wrote; decides between equal timestamps.
    pub replica: ReplicaId,
}

/// A last-writer-wins register. **Lossy by design.**
///
/// **Conflict rule:** of two writes, the one with the higher [`Stamp`]
/// `(timestamp, replica)` wins; the other is discarded. Equal stamps with
/// different values can only come from a reused replica id or forged input:
/// [`Validate`] rejects them (`ConflictingWrite`), and a plain `join` still
/// breaks the tie by `T`'s order so it stays commutative
/// (`docs/decisions/0002-lww-tie-break.md`).
///
/// A local write is always later than anything the replica has seen:
/// its timestamp is `max(now, latest + 1)`. The register also records the
/// highest timestamp seen from each replica, so it can tell a *concurrent*
/// write it discarded (counted by [`lost_writes`](Self::lost_writes)) from one
/// that was causally overwritten.
///
/// ```
/// use converge::{Lattice, LwwRegister, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut x = LwwRegister::new();
/// let mut y = LwwRegister::new();
/// x.write(a, "away", 10).unwrap();
/// y.write(b, "busy", 12).unwrap();  // concurrently, later clock
/// x.join(y.clone());
/// y.join(x.clone());
/// assert_eq!(x.value(), Some(&"busy"));
/// assert_eq!(x, y);
/// assert_eq!(x.lost_writes(), 1);   // "away" was silently dropped
/// ```
///
/// | operation | cost (R = writers seen) |
/// | --- | --- |
/// | `write` | O(R) (the delta carries the `seen` vector) |
/// | `value` | O(1) |
/// | `join`, `leq` | O(R₁ + R₂) |
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LwwRegister<T> {
    /// The winning write, if any.
    current: Option<(Stamp, T)>,
    /// The highest timestamp seen from each replica; covers `current`.
    seen: VersionVector,
    /// Concurrent writes this replica discarded (a local metric: not part of
    /// the state, its equality, or its encoding).
    #[cfg_attr(feature = "serde", serde(skip))]
    lost: u64,
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct RawLww<T> {
    current: Option<(Stamp, T)>,
    seen: VersionVector,
}

#[cfg(feature = "serde")]
impl<'de, T> serde::Deserialize<'de> for LwwRegister<T>
where
    T: serde::Deserialize<'de> + Ord + Clone,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawLww::<T>::deserialize(d)?;
        let r = Self {
            current: raw.current,
            seen: raw.seen,
            lost: 0,
        };
        r.check_invariants()
            .map_err(crate::encoding::violation::reject)?;
        Ok(r)
    }
}

impl<T> Default for LwwRegister<T> {
    fn default() -> Self {
        Self {
            current: None,
            seen: VersionVector::new(),
            lost: 0,
        }
    }
}

impl<T: PartialEq> PartialEq for LwwRegister<T> {
    fn eq(&self, other: &Self) -> bool {
        self.current == other.current && self.seen == other.seen
    }
}

impl<T: Eq> Eq for LwwRegister<T> {}

/// Total order on writes: stamp, then value (only equal stamps from malformed
/// input ever reach the value comparison).
fn cmp_writes<T: Ord>(a: &(Stamp, T), b: &(Stamp, T)) -> Ordering {
    a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1))
}

impl<T: Clone + Ord> LwwRegister<T> {
    /// An empty register.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `value` at time `now` (or later: `max(now, latest + 1)`), on
    /// behalf of `replica`; returns the delta.
    ///
    /// # Errors
    ///
    /// [`OverflowError`] if the register has already seen timestamp
    /// `u64::MAX`, so no later write exists; the register is unchanged.
    pub fn write(&mut self, replica: ReplicaId, value: T, now: u64) -> Result<Self, OverflowError> {
        let latest = self.current.as_ref().map_or(0, |c| c.0.timestamp);
        let own = self.seen.get(replica);
        let floor = latest.max(own);
        let timestamp = if self.current.is_none() && own == 0 {
            now.max(1)
        } else {
            now.max(floor.checked_add(1).ok_or(OverflowError {
                replica,
                current: floor,
                amount: 1,
            })?)
        };
        let stamp = Stamp { timestamp, replica };
        self.current = Some((stamp, value.clone()));
        self.seen.set_max(replica, timestamp);
        // The delta carries the writer's whole `seen` vector: it tells the
        // receiver which writes this one overwrote knowingly, so that only
        // concurrent losses are counted (O(writers), not O(1)).
        Ok(Self {
            current: Some((stamp, value)),
            seen: self.seen.clone(),
            lost: 0,
        })
    }

    /// Writes `value` at `clock.now()`; see [`write`](Self::write).
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    pub fn write_with(
        &mut self,
        replica: ReplicaId,
        value: T,
        clock: &mut impl Clock,
    ) -> Result<Self, OverflowError> {
        let now = clock.now();
        self.write(replica, value, now)
    }
}

impl<T> LwwRegister<T> {
    /// The winning value, if any write happened.
    pub fn value(&self) -> Option<&T> {
        self.current.as_ref().map(|c| &c.1)
    }

    /// The winning write's stamp.
    pub fn stamp(&self) -> Option<Stamp> {
        self.current.as_ref().map(|c| c.0)
    }

    /// The highest timestamp seen from each writer.
    pub fn seen(&self) -> &VersionVector {
        &self.seen
    }

    /// How many concurrent writes this replica has discarded in joins: its
    /// value lost to a write from a state that had not seen it, or an incoming
    /// write it had not seen lost to its value. A write overwritten by one
    /// that had seen it is not counted, and neither is a duplicate delivery.
    /// A local metric, reset on decode; it is not part of the replicated
    /// state.
    pub fn lost_writes(&self) -> u64 {
        self.lost
    }
}

impl<T: Clone + Ord> Lattice for LwwRegister<T> {
    fn join(&mut self, other: Self) -> bool {
        let mut changed = false;
        match (self.current.take(), other.current) {
            (None, theirs) => {
                changed = theirs.is_some();
                self.current = theirs;
            }
            (mine, None) => self.current = mine,
            (Some(mine), Some(theirs)) => match cmp_writes(&mine, &theirs) {
                Ordering::Equal => self.current = Some(mine),
                Ordering::Greater => {
                    // Theirs loses. It is a concurrent loss if we had not seen it.
                    if self.seen.get(theirs.0.replica) < theirs.0.timestamp {
                        self.lost += 1;
                    }
                    self.current = Some(mine);
                }
                Ordering::Less => {
                    if other.seen.get(mine.0.replica) < mine.0.timestamp {
                        self.lost += 1;
                    }
                    self.current = Some(theirs);
                    changed = true;
                }
            },
        }
        let seen_changed = self.seen.join(other.seen);
        changed | seen_changed
    }

    fn leq(&self, other: &Self) -> bool {
        let current_leq = match (&self.current, &other.current) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => cmp_writes(a, b) != Ordering::Greater,
        };
        current_leq && self.seen.leq(&other.seen)
    }
}

impl<T: Clone + Ord> Validate for LwwRegister<T> {
    fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.seen.check_invariants()?;
        // The winner is the latest write seen: recorded in `seen`, and no
        // write seen is later (otherwise `delta_since` would withhold it).
        let latest = self.current.as_ref().map_or(0, |(s, _)| s.timestamp);
        if let Some((stamp, _)) = &self.current {
            if self.seen.get(stamp.replica) < stamp.timestamp {
                return Err(InvariantViolation::UnseenWinner {
                    replica: stamp.replica,
                });
            }
        }
        for (replica, t) in self.seen.iter() {
            if t > latest || (self.current.is_none() && t > 0) {
                return Err(InvariantViolation::SeenBeyondWinner { replica });
            }
        }
        Ok(())
    }

    /// Only `local` writes with its own id: a later stamp from a peer is forged.
    fn check_local_claims(&self, local: ReplicaId, other: &Self) -> Result<(), InvariantViolation> {
        let claimed = other.seen.get(local);
        if claimed > self.seen.get(local) {
            return Err(InvariantViolation::UnknownLocalEvent {
                dot: crate::causal::Dot::new(local, claimed),
            });
        }
        Ok(())
    }

    fn check_compatible(&self, other: &Self) -> Result<(), InvariantViolation> {
        if let (Some(a), Some(b)) = (&self.current, &other.current) {
            if a.0 == b.0 && a.1 != b.1 {
                return Err(InvariantViolation::ConflictingWrite {
                    timestamp: a.0.timestamp,
                    replica: a.0.replica,
                });
            }
        }
        Ok(())
    }
}

impl<T: Clone + Ord> DeltaSince for LwwRegister<T> {
    /// The peer's `seen` vector: it covers the peer's winning write.
    type Summary = VersionVector;

    fn summary(&self) -> VersionVector {
        self.seen.clone()
    }

    /// Bottom if the peer has seen everything this state has; otherwise the
    /// whole state: the winning write and the `seen` vector, which the peer
    /// needs to tell a knowing overwrite of its value from a concurrent one
    /// (see [`lost_writes`](Self::lost_writes)). A `seen` vector never travels
    /// without the write that bounds it (`SeenBeyondWinner`).
    fn delta_since(&self, summary: &VersionVector) -> Self {
        if self.seen.leq(summary) {
            return Self::default();
        }
        self.clone()
    }
}
