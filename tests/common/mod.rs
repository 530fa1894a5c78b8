//! Helpers shared by test binaries that opt in with `mod common;`.
#![allow(dead_code, unreachable_pub)]

pub mod alloc;
pub mod rng;
