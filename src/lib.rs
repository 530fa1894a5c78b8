//! # converge
//!
//! Conflict-free replicated data types for multi-leader replication. Every
//! replica accepts writes on its own and ships small deltas to the others in
//! any order; replicas that have seen the same writes are equal, and no write
//! is lost except where you chose last-writer-wins.
//!
//! ## Two replicas, one minute
//!
//! ```
//! use converge::{Lattice, OrSet, ReplicaId};
//!
//! let (phone, laptop) = (ReplicaId::new(1), ReplicaId::new(2));
//! let mut on_phone = OrSet::new();
//! let mut on_laptop = OrSet::new();
//!
//! // Both replicas accept writes while offline; each write returns a delta.
//! let d1 = on_phone.insert(phone, "milk");
//! let d2 = on_laptop.insert(laptop, "eggs");
//! let d3 = on_laptop.remove(&"eggs");
//!
//! // Ship the deltas in any order, even twice.
//! on_laptop.join(d1.clone());
//! on_phone.join(d3);
//! on_phone.join(d2);
//! on_phone.join(d1);
//!
//! assert_eq!(on_phone, on_laptop);
//! assert_eq!(on_phone.to_sorted_vec(), ["milk"]); // "eggs" stays removed
//! ```
//!
//! ## Which type for which conflict
//!
//! | you need | use | on concurrent writes |
//! | --- | --- | --- |
//! | a count of events | [`GCounter`], [`PnCounter`] | every increment counts |
//! | a counter inside a map, resettable | [`CausalCounter`] | every increment counts; a reset clears the contributions it saw, per replica |
//! | a value where losing a write is fine | [`LwwRegister`] | highest `(timestamp, replica)` wins; losses are counted |
//! | a value where losing a write is a bug | [`MvRegister`] | all kept as siblings; resolve on read |
//! | a set (cart, tags, members) | [`OrSet`] | add wins over a concurrent remove |
//! | a set where removal must stick | [`RwSet`] | remove wins over a concurrent add |
//! | a boolean | [`EwFlag`] | enable wins |
//! | a document of nested values | [`OrMap`] | per key by the value type; key removal by policy |
//! | an LWW register or other plain lattice inside a map | [`Embedded`] | the inner join, on read |
//! | a list or a text edited by several people | [`List`], [`Text`] | concurrent inserts never interleave; deletes are final |
//!
//! ## The algebra
//!
//! Every type is a join semilattice ([`Lattice`]): `join` is commutative,
//! associative and idempotent, so merge order and duplicates never matter.
//! Every mutator returns a delta — a small state of the same type — and
//! `old.join(delta) == new`. [`DeltaSince`] computes what a peer lacks from its
//! summary. [`Validate`] checks a state from an untrusted peer before it is
//! joined. See `docs/ARCHITECTURE.md` and `docs/causality.md`.
//!
//! ## Replication
//!
//! [`sync::Node`] wraps a replica and runs the protocol that ships those
//! deltas: delta intervals with acknowledgements, digest sync, full-state
//! fallback, and an on-merge hook that reports concurrent writes
//! ([`sync::Conflicts`]). It does no I/O: messages are values. See
//! `docs/replication.md` and `cargo run --release --example multi_leader`.
//!
//! ## Features
//!
//! - `std` (default): `std::error::Error` impls and a wall-clock
//!   [`HybridClock::system`]. Without it the crate needs only `alloc`.
//! - `serde` (default): every state and delta serialises; deserialising
//!   validates every invariant.
//! - `proptest`: strategies and reusable law checkers in the `laws` module.
//! - `sim` (implies `proptest`): a deterministic network simulator, the
//!   `sim` module.

#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod causal;
pub mod counter;
#[cfg(feature = "serde")]
pub mod encoding;
mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod lattice;
#[cfg(feature = "proptest")]
pub mod laws;
pub mod map;
pub mod register;
pub mod sequence;
pub mod set;
#[cfg(feature = "sim")]
pub mod sim;
pub mod sync;

pub use causal::{
    CausalContext, CausalCrdt, Dot, DotFun, DotMap, DotSet, DotStore, ReplicaId, VersionVector,
};
pub use counter::{CausalCounter, GCounter, PnCounter};
pub use error::{InvariantViolation, OverflowError};
pub use lattice::{DeltaSince, Lattice, Validate};
pub use map::{Embedded, ObservedReset, OrMap, RemoveKind, RemovePolicy, RemoveWins, UpdateWins};
pub use register::{Clock, HybridClock, LwwRegister, ManualClock, MvRegister, Stamp};
pub use sequence::{Anchor, Bias, IndexError, List, Text};
pub use set::{EwFlag, OrSet, RwSet};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
