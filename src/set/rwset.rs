use core::fmt::Debug;
use core::hash::Hash;

use crate::causal::{causal_crdt, CausalContext, DotFun, DotMap, ReplicaId};

/// A remove-wins observed-remove set.
///
/// Each add or remove of an element writes a token (`true` for add, `false`
/// for remove) that supersedes the tokens its replica observed for that
/// element. The element is present iff it has tokens and all are adds.
///
/// **Conflict rule:** a remove concurrent with an add wins; an add that
/// observed the remove brings the element back. Unlike [`OrSet`](crate::OrSet)
/// this costs a tombstone: a removed element keeps one remove token (one per
/// concurrent remover) so a late concurrent add can still be overruled.
///
/// ```
/// use converge::{Lattice, RwSet, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut x = RwSet::new();
/// x.insert(a, "banned-user");
/// let mut y = x.clone();
/// x.remove(a, "banned-user");          // a moderator removes…
/// y.insert(b, "banned-user");          // …while a stale client re-adds
/// x.join(y.clone());
/// y.join(x.clone());
/// assert!(!x.contains(&"banned-user")); // remove wins
/// assert_eq!(x, y);
/// ```
///
/// | operation | cost (k = tokens of one element, usually 1) |
/// | --- | --- |
/// | `insert`, `remove`, `contains` | O(k) expected |
/// | `join` with a delta | O(size of the delta) expected |
/// | memory | one entry per element ever added and not re-added, plus 6–12 bytes of index |
#[derive(Clone, Debug)]
pub struct RwSet<E> {
    store: DotMap<E, DotFun<bool>>,
    ctx: CausalContext,
}

impl<E> Default for RwSet<E> {
    fn default() -> Self {
        Self {
            store: DotMap::default(),
            ctx: CausalContext::new(),
        }
    }
}

causal_crdt!(RwSet<E> where [E: Hash + Eq + Clone + Debug,], DotMap<E, DotFun<bool>>);

impl<E: Hash + Eq + Clone + Debug> RwSet<E> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    fn token(&mut self, replica: ReplicaId, element: E, add: bool) -> Self {
        let dot = self.ctx.next_dot(replica);
        self.ctx.insert(dot);
        let mut delta_ctx = CausalContext::new();
        let tokens = self.store.remove(&element).unwrap_or_default();
        for (d, _) in tokens.iter() {
            delta_ctx.insert(d);
        }
        delta_ctx.insert(dot);
        self.store.insert(element.clone(), DotFun::single(dot, add));
        let mut store = DotMap::new();
        store.insert(element, DotFun::single(dot, add));
        Self {
            store,
            ctx: delta_ctx,
        }
    }

    /// Adds `element`; returns the delta.
    pub fn insert(&mut self, replica: ReplicaId, element: E) -> Self {
        self.token(replica, element, true)
    }

    /// Removes `element` (winning over concurrent adds); returns the delta.
    pub fn remove(&mut self, replica: ReplicaId, element: E) -> Self {
        self.token(replica, element, false)
    }

    /// Whether `element` is present: it has tokens and all are adds.
    pub fn contains(&self, element: &E) -> bool {
        self.store
            .get(element)
            .is_some_and(|t| !t.is_empty() && t.iter().all(|(_, &add)| add))
    }

    /// The present elements, in arbitrary order.
    pub fn iter(&self) -> impl Iterator<Item = &E> + '_ {
        self.store
            .iter()
            .filter(|(_, t)| t.iter().all(|(_, &add)| add))
            .map(|(e, _)| e)
    }

    /// Number of present elements.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether no element is present.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}
