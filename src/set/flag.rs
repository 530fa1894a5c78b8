use crate::causal::{causal_crdt, CausalContext, DotSet, DotStore, ReplicaId};

/// An enable-wins flag: a boolean where a concurrent enable beats a disable.
///
/// **Conflict rule:** `disable` clears exactly the enables its replica
/// observed; an enable concurrent with it survives.
///
/// ```
/// use converge::{EwFlag, Lattice, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut x = EwFlag::new();
/// x.enable(a);
/// let mut y = x.clone();
/// x.disable();
/// y.enable(b);                 // concurrently
/// x.join(y);
/// assert!(x.is_enabled());     // enable wins
/// ```
///
/// | operation | cost (k = concurrent enables, usually 1) |
/// | --- | --- |
/// | `enable`, `disable` | O(k) |
/// | `is_enabled` | O(1) |
/// | `join` | O(k₁ + k₂) plus context join |
#[derive(Clone, Default, Debug)]
pub struct EwFlag {
    store: DotSet,
    ctx: CausalContext,
}

causal_crdt!(EwFlag<> where [], DotSet);

impl EwFlag {
    /// A disabled flag.
    pub fn new() -> Self {
        Self::default()
    }

    /// Enables the flag; returns the delta.
    pub fn enable(&mut self, replica: ReplicaId) -> Self {
        let dot = self.ctx.next_dot(replica);
        let mut ctx = CausalContext::from_dots(self.store.take());
        ctx.insert(dot);
        self.ctx.insert(dot);
        self.store = DotSet::single(dot);
        Self {
            store: DotSet::single(dot),
            ctx,
        }
    }

    /// Disables the flag (clearing the enables observed here); returns the delta.
    pub fn disable(&mut self) -> Self {
        Self {
            store: DotSet::new(),
            ctx: CausalContext::from_dots(self.store.take()),
        }
    }

    /// Whether the flag is enabled.
    pub fn is_enabled(&self) -> bool {
        !DotStore::is_empty(&self.store)
    }
}
