//! Counters: [`GCounter`] (grow-only), [`PnCounter`] (increments and
//! decrements), and [`CausalCounter`] (a counter that can live in an
//! [`OrMap`](crate::OrMap) and be reset by removing its key).
//!
//! All three count exactly: no increment is lost under concurrency, values are
//! read without overflow (`u128` / `i128`), and a local update that would
//! overflow a replica's `u64` entry returns [`OverflowError`](crate::OverflowError)
//! and changes nothing (`docs/decisions/0003-overflow-policy.md`).

mod causal_counter;
mod gcounter;
mod pncounter;

pub use causal_counter::CausalCounter;
pub use gcounter::GCounter;
pub use pncounter::PnCounter;
