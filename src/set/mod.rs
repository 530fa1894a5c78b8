//! Sets and flags: [`OrSet`] (add-wins observed-remove set), [`RwSet`]
//! (remove-wins variant), and [`EwFlag`] (enable-wins flag).

mod flag;
mod orset;
mod rwset;

pub use flag::EwFlag;
pub use orset::OrSet;
pub use rwset::RwSet;
