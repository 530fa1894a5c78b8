//! Sequence CRDTs for collaborative editing: [`List<T>`] and [`Text`].
//!
//! Every replica edits its own copy at once (insert and delete by index);
//! each edit returns a delta, a small state of the same type, that any other
//! replica joins in any order, any number of times. Concurrent inserts at the
//! same place never interleave: the order is **FugueMax** (Weidner &
//! Kleppmann, *The Art of the Fugue*), which is maximally non-interleaving,
//! computed with the YjsMod integration of `reference-crdts` and
//! diamond-types, which gives the same order.
//!
//! ```
//! use converge::{Lattice, ReplicaId, Text};
//! let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
//! let mut alice = Text::new();
//! let hello = alice.insert(a, 0, "hello")?;
//! let mut bob = Text::new();
//! bob.join(hello);
//! // Concurrent edits at the same place: each passage stays whole.
//! let d1 = alice.insert(a, 5, " world")?;
//! let d2 = bob.insert(b, 5, " there")?;
//! alice.join(d2);
//! bob.join(d1);
//! assert_eq!(alice, bob);
//! assert_eq!(alice.to_string(), "hello world there");
//! # Ok::<(), converge::IndexError>(())
//! ```
//!
//! How it works (details and measurements in `docs/sequence.md`):
//! - Each inserted unit has an id (a [`Dot`]), an origin-left and
//!   an origin-right: its neighbours when it was inserted. Consecutive units
//!   typed by one replica form one *run* (run-length encoded).
//! - Runs live in document order (tombstones included) in an order-statistic
//!   B+ tree in an index arena, so a visible index is found in O(log n); an
//!   id → leaf index finds a remote item's origins.
//! - A delete is an operation with its own dot that tombstones its targets;
//!   a tombstone keeps the run's ids and origins but not its content.
//! - An item whose origins have not arrived waits in a bounded pending
//!   buffer and is integrated as soon as they do.

/// The lattice, validation, delta-since and serde impls shared by the
/// sequence types, each a wrapper `Self { seq: Seq<C> }`: the generic list
/// of the plain impls, of `Serialize`, and of `Deserialize<'de>`, then the
/// type and its content `C`.
macro_rules! seq_impls {
    (
        impl[$($g:tt)*] ser[$($sg:tt)*] de[$($dg:tt)*] $ty:ty, $content:ty
    ) => {
        impl<$($g)*> PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.seq == other.seq
            }
        }

        impl<$($g)*> crate::lattice::Lattice for $ty {
            fn join(&mut self, other: Self) -> bool {
                self.seq.join(other.seq)
            }
            fn leq(&self, other: &Self) -> bool {
                self.seq.leq(&other.seq)
            }
            fn is_bottom(&self) -> bool {
                self.seq.is_bottom()
            }
            fn number_events_from(&mut self, replica: crate::causal::ReplicaId, floor: u64) {
                self.seq.set_floor(replica, floor);
            }
            fn last_event(&self, replica: crate::causal::ReplicaId) -> u64 {
                self.seq.context().max_counter(replica)
            }
        }

        impl<$($g)*> crate::lattice::Validate for $ty {
            fn check_invariants(&self) -> Result<(), crate::error::InvariantViolation> {
                self.seq.check_invariants()
            }
            fn check_compatible(&self, other: &Self) -> Result<(), crate::error::InvariantViolation> {
                self.seq.check_compatible(&other.seq)
            }
            fn check_local_claims(
                &self,
                local: crate::causal::ReplicaId,
                other: &Self,
            ) -> Result<(), crate::error::InvariantViolation> {
                match self.seq.claims_beyond(&other.seq, local) {
                    Some(dot) => Err(crate::error::InvariantViolation::UnknownLocalEvent { dot }),
                    None => Ok(()),
                }
            }
            fn validated_join(&mut self, other: Self) -> Result<bool, crate::error::InvariantViolation> {
                other.check_invariants()?;
                self.check_compatible(&other)?;
                self.seq.join_bounded(other.seq)
            }
            fn validated_join_as(
                &mut self,
                local: crate::causal::ReplicaId,
                other: Self,
            ) -> Result<bool, crate::error::InvariantViolation> {
                other.check_invariants()?;
                self.check_compatible(&other)?;
                self.check_local_claims(local, &other)?;
                self.seq.join_bounded(other.seq)
            }
        }

        impl<$($g)*> crate::lattice::DeltaSince for $ty {
            type Summary = crate::causal::CausalContext;
            fn summary(&self) -> crate::causal::CausalContext {
                self.seq.context().clone()
            }
            fn delta_since(&self, summary: &crate::causal::CausalContext) -> Self {
                Self {
                    seq: self.seq.delta_since(summary),
                }
            }
        }

        #[cfg(feature = "serde")]
        impl<$($sg)*> serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serde::Serialize::serialize(&self.seq.to_repr(), s)
            }
        }

        #[cfg(feature = "serde")]
        impl<$($dg)*> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let repr = <crate::sequence::seq::repr::ReprIn<$content> as serde::Deserialize>::deserialize(d)?;
                crate::sequence::seq::Seq::from_repr(repr)
                    .map(|seq| Self { seq })
                    .map_err(crate::encoding::budget::refuse)
            }
        }
    };
}

mod blocks;
mod list;
mod run;
mod seq;
mod text;
mod tree;

use core::fmt;

pub use list::List;
pub use seq::DEFAULT_PENDING_LIMIT;
pub use text::Text;

use crate::causal::Dot;

/// A local index past the end of the sequence; nothing was changed.
///
/// ```
/// use converge::{IndexError, List, ReplicaId};
/// let mut l: List<u8> = List::new();
/// assert_eq!(l.insert(ReplicaId::new(1), 1, 7), Err(IndexError { index: 1, len: 0 }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexError {
    /// The offending index.
    pub index: usize,
    /// The sequence's length at the time.
    pub len: usize,
}

impl fmt::Display for IndexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "index {} is out of bounds (length {})",
            self.index, self.len
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for IndexError {}

/// Which neighbour an [`Anchor`] sticks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Bias {
    /// Sticks to the element before the position: text inserted at the
    /// position later lands after the anchor.
    Left,
    /// Sticks to the element at the position: text inserted at the position
    /// later lands before the anchor.
    Right,
}

/// A stable position (a cursor or a selection end) that survives concurrent
/// edits: it names an element by id, not by index.
///
/// ```
/// use converge::{Bias, Lattice, ReplicaId, Text};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut t = Text::new();
/// let d = t.insert(a, 0, "world")?;
/// let mut other = Text::new();
/// other.join(d);
/// let cursor = t.anchor(0, Bias::Right)?;     // before "w"
/// t.join(other.insert(b, 0, "hello ")?);       // a concurrent insert before it
/// assert_eq!(t.resolve(&cursor), Some(6));
/// # Ok::<(), converge::IndexError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Anchor {
    /// The element stuck to (`None`: the start for `Left`, the end for
    /// `Right`).
    id: Option<Dot>,
    bias: Bias,
}

impl Anchor {
    /// The anchor's bias.
    pub fn bias(&self) -> Bias {
        self.bias
    }
}

/// The anchor API shared by both types.
fn anchor_at<C: run::Content>(
    s: &seq::Seq<C>,
    index: usize,
    bias: Bias,
) -> Result<Anchor, IndexError> {
    let len = s.len() as usize;
    if index > len {
        return Err(IndexError { index, len });
    }
    let id = match bias {
        Bias::Left if index == 0 => None,
        Bias::Left => s.tree.id_at(s.tree.find_visible(index as u64 - 1)),
        Bias::Right if index == len => None,
        Bias::Right => s.tree.id_at(s.tree.find_visible(index as u64)),
    };
    Ok(Anchor { id, bias })
}

fn resolve<C: run::Content>(s: &seq::Seq<C>, a: &Anchor) -> Option<usize> {
    let Some(id) = a.id else {
        return Some(match a.bias {
            Bias::Left => 0,
            Bias::Right => s.len() as usize,
        });
    };
    let p = s.tree.find_id(id)?;
    let before = s.tree.offset_of(p, false) as usize;
    let live = !s.tree.run(p)?.deleted;
    Some(match a.bias {
        Bias::Left => before + usize::from(live),
        Bias::Right => before,
    })
}
