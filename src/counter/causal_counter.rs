use crate::causal::{causal_crdt, CausalContext, DotFun, ReplicaId};
use crate::error::OverflowError;

/// A counter built on dots, so it can live inside an [`OrMap`](crate::OrMap)
/// and be reset by removing its key.
///
/// Each replica's contribution is one dot mapped to its running totals
/// `(increments, decrements)`; an update replaces the replica's dot with a new
/// one. Removing the counter (or its map key) drops exactly the dots the
/// remover observed. State stays O(replicas) whatever the number of updates.
///
/// **Conflict rule:** concurrent updates all count, and nothing is ever
/// counted twice (TESTPLAN O4). A reset is observed-remove **per replica**:
/// it clears the contribution of every replica whose latest update it had
/// seen — unless that replica updates concurrently with the reset. Such an
/// update carries the replica's running total in a dot the reset never saw,
/// so that replica's whole contribution survives, not only the part added
/// after the reset. This is the embedded counter of Riak maps and of the
/// delta-CRDT reference `ccounter`; resetting exactly the observed *amounts*
/// would need one dot per update (unbounded state) or causal stability.
/// See `docs/decisions/0006-causal-counter-reset.md`.
///
/// ```
/// use converge::{CausalCounter, Lattice, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut x = CausalCounter::new();
/// x.increment(a, 5).unwrap();
/// x.increment(b, 3).unwrap();
/// let mut y = x.clone();
/// y.reset();                    // y resets what it saw (5 from a, 3 from b)…
/// x.increment(a, 2).unwrap();   // …while a adds 2 concurrently
/// x.join(y.clone());
/// y.join(x.clone());
/// assert_eq!(x.value(), 7);     // b's 3 is reset; a's running total 5 + 2 survives
/// assert_eq!(x, y);
/// let mut z = x.clone();
/// z.reset();                    // a reset that saw everything clears everything
/// x.join(z);
/// assert_eq!(x.value(), 0);
/// ```
///
/// | operation | cost (R = replicas with a live contribution) |
/// | --- | --- |
/// | `increment`, `decrement` | O(R) |
/// | `value` | O(R) |
/// | `reset` | O(R) |
/// | `join` | O(R₁ + R₂) plus context join |
#[derive(Clone, Default, Debug)]
pub struct CausalCounter {
    store: DotFun<(u64, u64)>,
    ctx: CausalContext,
}

causal_crdt!(CausalCounter<> where [], DotFun<(u64, u64)>);

impl CausalCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    fn update(
        &mut self,
        replica: ReplicaId,
        amount: u64,
        decrement: bool,
    ) -> Result<Self, OverflowError> {
        if amount == 0 {
            return Ok(Self::new());
        }
        // The replica's own dots (one, unless its id was reused or its state
        // lost): their sum is its running total.
        let overflow = |current| OverflowError {
            replica,
            current,
            amount,
        };
        let (mut inc, mut dec) = (0u64, 0u64);
        for (d, &(p, n)) in self.store.iter() {
            if d.replica == replica {
                inc = inc.checked_add(p).ok_or(overflow(inc))?;
                dec = dec.checked_add(n).ok_or(overflow(dec))?;
            }
        }
        let slot = if decrement { &mut dec } else { &mut inc };
        *slot = slot.checked_add(amount).ok_or(overflow(*slot))?;
        let dot = self.ctx.next_dot(replica);
        let mut delta_ctx = CausalContext::new();
        self.store.retain(|d, _| {
            if d.replica == replica {
                delta_ctx.insert(d);
                false
            } else {
                true
            }
        });
        self.store.insert(dot, (inc, dec));
        self.ctx.insert(dot);
        delta_ctx.insert(dot);
        Ok(Self {
            store: DotFun::single(dot, (inc, dec)),
            ctx: delta_ctx,
        })
    }

    /// Adds `amount` on behalf of `replica`; returns the delta.
    ///
    /// # Errors
    ///
    /// [`OverflowError`] if the replica's running total would overflow; the
    /// counter is unchanged.
    pub fn increment(&mut self, replica: ReplicaId, amount: u64) -> Result<Self, OverflowError> {
        self.update(replica, amount, false)
    }

    /// Subtracts `amount` on behalf of `replica`; returns the delta.
    ///
    /// # Errors
    ///
    /// [`OverflowError`] if the replica's running total would overflow; the
    /// counter is unchanged.
    pub fn decrement(&mut self, replica: ReplicaId, amount: u64) -> Result<Self, OverflowError> {
        self.update(replica, amount, true)
    }

    /// Resets the counter to zero, removing every contribution observed here;
    /// returns the delta.
    pub fn reset(&mut self) -> Self {
        let ctx = CausalContext::from_dots(self.store.take_dots());
        Self {
            store: DotFun::new(),
            ctx,
        }
    }

    /// `Σ increments − Σ decrements` of the live contributions, exactly.
    pub fn value(&self) -> i128 {
        self.store
            .iter()
            .map(|(_, &(p, n))| i128::from(p) - i128::from(n))
            .sum()
    }
}
