//! [`OrMap`]: an observed-remove map whose values are causal CRDTs, nested
//! to any depth, with a remove semantics chosen per map.

mod embedded;
mod entry;
mod ormap;
mod policy;

pub use embedded::Embedded;
pub use entry::Entry;
pub use ormap::OrMap;
pub use policy::{ObservedReset, RemoveKind, RemovePolicy, RemoveWins, UpdateWins};
