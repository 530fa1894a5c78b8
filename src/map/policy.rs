//! What removing a key does to concurrent updates of its value
//! (`docs/decisions/0004-nested-remove.md`).

use core::fmt::Debug;

/// The three nested-remove semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RemoveKind {
    /// A remove clears exactly what it observed; a concurrent update survives,
    /// showing only what the remover had not seen (Riak maps, DSON). No
    /// tombstones.
    ObservedReset,
    /// A concurrent update cancels the remove entirely: the key survives with
    /// all its content, including what the remover saw. A removed key's
    /// content is kept, hidden, until the key is next updated.
    UpdateWins,
    /// A remove beats concurrent updates: the key stays absent until an update
    /// that observed the remove. A removed key keeps one remove marker per
    /// concurrent remover.
    RemoveWins,
}

/// A type-level choice of [`RemoveKind`], so two maps with different
/// semantics can never be joined by mistake.
pub trait RemovePolicy: Clone + Copy + Default + PartialEq + Eq + Debug + 'static {
    /// The semantics this policy selects.
    const KIND: RemoveKind;
}

/// Observed-reset removal (the default). See [`RemoveKind::ObservedReset`].
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug, Hash)]
pub struct ObservedReset;

/// Update-wins removal. See [`RemoveKind::UpdateWins`].
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug, Hash)]
pub struct UpdateWins;

/// Remove-wins removal. See [`RemoveKind::RemoveWins`].
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug, Hash)]
pub struct RemoveWins;

impl RemovePolicy for ObservedReset {
    const KIND: RemoveKind = RemoveKind::ObservedReset;
}
impl RemovePolicy for UpdateWins {
    const KIND: RemoveKind = RemoveKind::UpdateWins;
}
impl RemovePolicy for RemoveWins {
    const KIND: RemoveKind = RemoveKind::RemoveWins;
}
