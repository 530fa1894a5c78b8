//! splitmix64 (Steele, Lea, Flood 2014): a small seeded generator for the
//! bad-input tests' random and mutated bytes. Test binaries without the
//! counting allocator include this file alone (`#[path = "common/rng.rs"]`).
#![allow(dead_code, unreachable_pub)]

/// The generator: the crate's own (`converge::sim::SplitMix64`), with the
/// draws these tests were written against (`below` by modulo).
pub struct SplitMix64(converge::sim::SplitMix64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64(converge::sim::SplitMix64::new(seed))
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A uniformly random byte.
    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }

    /// A byte biased towards small values, which are far more likely to
    /// form valid lengths and dots.
    pub fn small_byte(&mut self) -> u8 {
        match self.below(4) {
            0 | 1 => self.below(4) as u8,
            2 => self.below(16) as u8,
            _ => self.next() as u8,
        }
    }
}
