//! Small, per-area error types.

use core::fmt;

use crate::causal::{Dot, ReplicaId};

/// A state (or delta) breaks an invariant, or is inconsistent with the state
/// it is joined into. Every variant names the offending item.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvariantViolation {
    /// I1: a dot in the store is not covered by the causal context.
    DotNotInContext {
        /// The uncovered dot.
        dot: Dot,
    },
    /// I2: one dot appears twice in one state (on two elements, two values,
    /// or twice in one element).
    DuplicateDot {
        /// The repeated dot.
        dot: Dot,
    },
    /// I2 across states: the same dot names different content in the two
    /// states being joined (a reused replica id, or a forged delta).
    ConflictingDot {
        /// The dot with two meanings.
        dot: Dot,
    },
    /// A dot with counter 0 (counters start at 1).
    ZeroDot {
        /// The replica of the dot.
        replica: ReplicaId,
    },
    /// I4: a version vector or counter entry is zero (absent entries are
    /// implicit zeros; an explicit zero would make equal states compare unequal).
    ZeroEntry {
        /// The replica of the entry.
        replica: ReplicaId,
    },
    /// I3: a causal context is not in normal form for this replica (ranges
    /// unsorted, overlapping, adjacent, or empty).
    NonCanonicalContext {
        /// The replica whose ranges are malformed.
        replica: ReplicaId,
    },
    /// Entries of a map, vector or set are not strictly sorted (or repeat).
    Unsorted,
    /// A map entry whose nested value is empty (normal form has none).
    EmptyEntry,
    /// A value nested in a map carries its own causal context (nested values
    /// share the map's context, so their own must be empty).
    NestedContext,
    /// A peer's state claims an event of the local replica that the local
    /// replica never generated (forged, or a reused replica id).
    UnknownLocalEvent {
        /// The highest claimed event of the local replica.
        dot: Dot,
    },
    /// A map whose remove policy has no remove markers
    /// ([`ObservedReset`](crate::ObservedReset), [`UpdateWins`](crate::UpdateWins))
    /// holds one: the bytes come from a map with another policy.
    UnexpectedRemoveMarker {
        /// The marker's dot.
        dot: Dot,
    },
    /// An LWW register has seen a write later than its winning write (or
    /// has seen writes but holds none).
    SeenBeyondWinner {
        /// The replica of the later write.
        replica: ReplicaId,
    },
    /// W2: two different values carry the same LWW stamp `(timestamp, replica)`.
    ConflictingWrite {
        /// The timestamp of both writes.
        timestamp: u64,
        /// The replica of both writes.
        replica: ReplicaId,
    },
    /// An LWW register's winning write is not recorded in its `seen` vector.
    UnseenWinner {
        /// The replica of the winning write.
        replica: ReplicaId,
    },
    /// A sequence item names an origin that can never exist: an item of its
    /// own replica generated at or after it (or the item itself).
    ImpossibleOrigin {
        /// The first unit of the offending item run.
        dot: Dot,
    },
    /// A sequence item's content does not match its tombstone state or its
    /// length (a live item without content, a deleted one with content, or a
    /// length that disagrees with the content).
    MalformedItem {
        /// The first unit of the offending item run.
        dot: Dot,
    },
    /// A sequence would hold more units (tombstones included) than the
    /// crate supports from peers.
    SequenceTooLong {
        /// The bound (units).
        limit: u64,
    },
    /// Placing a sequence's item runs would take more scan steps than the
    /// budget for untrusted input allows: runs forged to share one position
    /// (see `docs/sequence.md`, "Cost on adversarial input").
    ScanLimit {
        /// The scan steps that were allowed.
        allowed: u64,
    },
    /// Joining would leave more sequence items waiting for their origins than
    /// the replica's configured pending limit.
    PendingLimit {
        /// The configured limit (runs).
        limit: usize,
    },
}

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DotNotInContext { dot } => {
                write!(f, "dot {dot} is in the store but not in the causal context")
            }
            Self::DuplicateDot { dot } => write!(f, "dot {dot} appears more than once"),
            Self::ConflictingDot { dot } => {
                write!(f, "dot {dot} names different content in the two states")
            }
            Self::ZeroDot { replica } => write!(f, "dot of replica {replica} has counter 0"),
            Self::ZeroEntry { replica } => write!(f, "entry for replica {replica} is zero"),
            Self::NonCanonicalContext { replica } => {
                write!(
                    f,
                    "causal context ranges of replica {replica} are not in normal form"
                )
            }
            Self::Unsorted => f.write_str("entries are not strictly sorted"),
            Self::EmptyEntry => f.write_str("map entry with an empty value"),
            Self::NestedContext => f.write_str("nested value carries its own causal context"),
            Self::UnknownLocalEvent { dot } => write!(
                f,
                "peer claims local event {dot}, which this replica never generated"
            ),
            Self::UnexpectedRemoveMarker { dot } => {
                write!(f, "remove marker {dot} in a map whose policy has none")
            }
            Self::SeenBeyondWinner { replica } => write!(
                f,
                "register has seen a write of replica {replica} later than its value"
            ),
            Self::ConflictingWrite { timestamp, replica } => write!(
                f,
                "two different values written with the same stamp ({timestamp}, {replica})"
            ),
            Self::UnseenWinner { replica } => {
                write!(
                    f,
                    "winning write of replica {replica} is not in the seen vector"
                )
            }
            Self::ImpossibleOrigin { dot } => {
                write!(f, "sequence item {dot} names an origin that cannot exist")
            }
            Self::MalformedItem { dot } => write!(
                f,
                "sequence item {dot} has content that disagrees with its length or tombstone"
            ),
            Self::SequenceTooLong { limit } => {
                write!(f, "a sequence would hold more than {limit} units")
            }
            Self::ScanLimit { allowed } => write!(
                f,
                "placing the sequence items would take more than {allowed} scan steps"
            ),
            Self::PendingLimit { limit } => write!(
                f,
                "more than {limit} sequence item runs would wait for missing origins"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for InvariantViolation {}

/// A local counter update would overflow the replica's `u64` entry. The state
/// is unchanged (see `docs/decisions/0003-overflow-policy.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OverflowError {
    /// The replica whose entry would overflow.
    pub replica: ReplicaId,
    /// The entry's current value.
    pub current: u64,
    /// The amount that was asked for.
    pub amount: u64,
}

impl fmt::Display for OverflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "adding {} to the entry {} of replica {} would overflow u64",
            self.amount, self.current, self.replica
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for OverflowError {}
