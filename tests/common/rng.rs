//! splitmix64 (Steele, Lea, Flood 2014): a small seeded generator for the
//! bad-input tests' random and mutated bytes. Test binaries without the
//! counting allocator include this file alone (`#[path = "common/rng.rs"]`).
#![allow(dead_code, unreachable_pub)]

/// The generator; its state is the seed.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
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
