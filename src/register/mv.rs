use crate::causal::{causal_crdt, CausalContext, DotFun, DotStore, ReplicaId};

/// A multi-value register: concurrent writes are all kept as *siblings*
/// until a write that observed them supersedes them.
///
/// **Conflict rule:** nothing is lost. A write replaces exactly the siblings
/// its replica had observed; writes concurrent with it survive beside it. The
/// application sees the conflict on read ([`values`](Self::values) yields
/// more than one value) and resolves it with [`resolve`](Self::resolve), which
/// supersedes exactly the siblings that were read — a sibling that arrived
/// after the read survives.
///
/// ```
/// use converge::{Lattice, MvRegister, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut x = MvRegister::new();
/// let mut y = MvRegister::new();
/// x.write(a, "10:00 dentist");
/// y.write(b, "10:00 standup");          // concurrently
/// x.join(y.clone());
/// let mut seen: Vec<_> = x.values().collect();
/// seen.sort();
/// assert_eq!(seen, [&"10:00 dentist", &"10:00 standup"]); // both kept
///
/// let read = x.read_context();           // what the user looked at
/// x.resolve(a, "10:00 dentist, standup moved", &read);
/// y.join(x.clone());
/// assert_eq!(y.values().collect::<Vec<_>>(), [&"10:00 dentist, standup moved"]);
/// ```
///
/// | operation | cost (S = siblings) |
/// | --- | --- |
/// | `write`, `resolve` | O(S) |
/// | `values` | O(S) |
/// | `join` | O(S₁ + S₂) plus context join |
/// | delta of `write` | one value and S + 1 dots of context |
#[derive(Clone, Debug)]
pub struct MvRegister<T> {
    store: DotFun<T>,
    ctx: CausalContext,
}

impl<T> Default for MvRegister<T> {
    fn default() -> Self {
        Self {
            store: DotFun::new(),
            ctx: CausalContext::new(),
        }
    }
}

causal_crdt!(MvRegister<T> where [T: Clone + PartialEq + core::fmt::Debug,], DotFun<T>);

impl<T: Clone + PartialEq + core::fmt::Debug> MvRegister<T> {
    /// An empty register.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `value`, superseding every sibling observed here; returns the delta.
    pub fn write(&mut self, replica: ReplicaId, value: T) -> Self {
        let dot = self.ctx.next_dot(replica);
        let mut delta_ctx = CausalContext::from_dots(self.store.take_dots());
        delta_ctx.insert(dot);
        self.store.insert(dot, value.clone());
        self.ctx.insert(dot);
        Self {
            store: DotFun::single(dot, value),
            ctx: delta_ctx,
        }
    }

    /// Writes `value`, superseding exactly the siblings whose dots are in
    /// `observed` (as returned by [`read_context`](Self::read_context) when
    /// the application read them); siblings written since survive. Returns
    /// the delta.
    pub fn resolve(&mut self, replica: ReplicaId, value: T, observed: &CausalContext) -> Self {
        let dot = self.ctx.next_dot(replica);
        let mut delta_ctx = CausalContext::new();
        self.store.retain(|d, _| {
            if observed.contains(d) {
                delta_ctx.insert(d);
                false
            } else {
                true
            }
        });
        self.store.insert(dot, value.clone());
        self.ctx.insert(dot);
        delta_ctx.insert(dot);
        Self {
            store: DotFun::single(dot, value),
            ctx: delta_ctx,
        }
    }

    /// Removes every sibling observed here (the register reads as empty);
    /// returns the delta. A concurrent write survives.
    pub fn clear(&mut self) -> Self {
        let ctx = CausalContext::from_dots(self.store.take_dots());
        Self {
            store: DotFun::new(),
            ctx,
        }
    }

    /// The siblings, in dot order (deterministic across replicas).
    pub fn values(&self) -> impl ExactSizeIterator<Item = &T> + '_ {
        self.store.iter().map(|(_, v)| v)
    }

    /// The single value, if there is exactly one sibling.
    pub fn value(&self) -> Option<&T> {
        match self.store.len() {
            1 => self.values().next(),
            _ => None,
        }
    }

    /// Whether concurrent writes are waiting to be resolved.
    pub fn is_conflicted(&self) -> bool {
        self.store.len() > 1
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        DotStore::is_empty(&self.store)
    }

    /// The dots of the current siblings: pass it to [`resolve`](Self::resolve)
    /// to supersede exactly what was read.
    pub fn read_context(&self) -> CausalContext {
        CausalContext::from_dots(self.store.iter().map(|(d, _)| d))
    }
}
