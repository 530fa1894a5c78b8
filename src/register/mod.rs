//! Registers: [`LwwRegister`] (last writer wins, lossy by design) and
//! [`MvRegister`] (multi-value: concurrent writes are all kept as siblings).
//!
//! Pick [`MvRegister`] when a lost write is a bug (a calendar entry, a
//! document title); pick [`LwwRegister`] when only the latest value matters and
//! losing a concurrent write is acceptable (a presence status, a cursor). The
//! LWW register counts the concurrent writes it discarded so the loss is
//! visible ([`LwwRegister::lost_writes`]).

mod clock;
mod lww;
mod mv;

pub use clock::{Clock, HybridClock, ManualClock};
pub use lww::{LwwRegister, Stamp};
pub use mv::MvRegister;
