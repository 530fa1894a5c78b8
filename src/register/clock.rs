//! Timestamp sources for [`LwwRegister`](crate::LwwRegister).

/// A source of `u64` timestamps for last-writer-wins writes.
///
/// The register itself makes every local write later than anything it has
/// seen (`max(now, latest + 1)`), so a clock only needs to be roughly right;
/// its skew decides who wins between *concurrent* writes.
pub trait Clock {
    /// The current timestamp.
    fn now(&mut self) -> u64;

    /// Tells the clock about a timestamp received from a peer, so that later
    /// local timestamps exceed it (a no-op for plain physical clocks).
    fn observe(&mut self, _timestamp: u64) {}
}

/// A hybrid logical clock (Kulkarni et al., 2014) packed into a `u64`:
/// the upper 48 bits are milliseconds of physical time, the lower 16 bits a
/// logical counter. Timestamps are strictly increasing at one clock and stay
/// above every observed timestamp, while tracking physical time when clocks
/// agree.
///
/// ```
/// use converge::{Clock, HybridClock};
/// let mut ms = 1_000u64;
/// let mut clock = HybridClock::new(move || ms);
/// let t1 = clock.now();
/// let t2 = clock.now();           // same millisecond: logical part ticks
/// assert!(t2 > t1);
/// clock.observe(t2 + 1_000_000);  // a peer ahead of us
/// assert!(clock.now() > t2 + 1_000_000);
/// ```
pub struct HybridClock<F> {
    physical_ms: F,
    last: u64,
}

impl<F: FnMut() -> u64> HybridClock<F> {
    /// A clock reading physical milliseconds from `physical_ms`.
    pub fn new(physical_ms: F) -> Self {
        Self {
            physical_ms,
            last: 0,
        }
    }
}

#[cfg(feature = "std")]
impl HybridClock<fn() -> u64> {
    /// A clock on the system's wall clock.
    pub fn system() -> Self {
        fn wall_ms() -> u64 {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        }
        Self::new(wall_ms)
    }
}

impl<F: FnMut() -> u64> Clock for HybridClock<F> {
    fn now(&mut self) -> u64 {
        let physical = ((self.physical_ms)() & ((1 << 48) - 1)) << 16;
        self.last = physical.max(self.last.saturating_add(1));
        self.last
    }

    fn observe(&mut self, timestamp: u64) {
        self.last = self.last.max(timestamp);
    }
}

impl<F> core::fmt::Debug for HybridClock<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HybridClock")
            .field("last", &self.last)
            .finish()
    }
}

/// A clock set by hand: for tests, simulations and deterministic replays.
///
/// ```
/// use converge::{Clock, ManualClock};
/// let mut c = ManualClock::new(5);
/// assert_eq!(c.now(), 5);
/// c.set(9);
/// assert_eq!(c.now(), 9);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ManualClock(u64);

impl ManualClock {
    /// A clock reading `t`.
    pub const fn new(t: u64) -> Self {
        Self(t)
    }

    /// Sets the reading.
    pub fn set(&mut self, t: u64) {
        self.0 = t;
    }
}

impl Clock for ManualClock {
    fn now(&mut self) -> u64 {
        self.0
    }
}
