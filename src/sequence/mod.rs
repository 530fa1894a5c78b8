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
