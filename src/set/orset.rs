use core::fmt::Debug;
use core::hash::Hash;

use crate::causal::{causal_crdt, context_of, CausalContext, DotMap, DotSet, DotStore, ReplicaId};

/// An add-wins observed-remove set without tombstones (the "ORSWOT" of
/// Bieniusa et al., built on [`DotMap<E, DotSet>`](DotMap)).
///
/// **Conflict rule:** a remove deletes exactly the adds its replica had
/// observed, so an add concurrent with a remove survives (add wins). A removed
/// element never comes back unless someone adds it again: the shopping-cart
/// anomaly (removed items reappearing after a merge) cannot happen. Removal
/// leaves no tombstone: the context remembers the removed dots as ranges of
/// counters, which compact to one range per replica.
///
/// ```
/// use converge::{Lattice, OrSet, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut phone = OrSet::new();
/// phone.insert(a, "milk");
/// phone.insert(a, "eggs");
/// let mut laptop = phone.clone();
///
/// phone.remove(&"eggs");        // removed on one replica…
/// laptop.insert(b, "tea");      // …while the other adds something else
/// phone.join(laptop.clone());
/// laptop.join(phone.clone());
/// assert!(!phone.contains(&"eggs")); // stays removed
/// assert_eq!(phone.len(), 2);
/// assert_eq!(phone, laptop);
/// ```
///
/// | operation | cost (n = elements, k = dots of one element, usually 1) |
/// | --- | --- |
/// | `insert`, `remove`, `contains` | O(k) expected |
/// | `len`, `iter` | O(n) |
/// | `join` with a delta | O(size of the delta) expected |
/// | `join` with a full state | O(n₁ + n₂) |
/// | `delta_since` | O(n) |
/// | memory | one entry (key + one inline dot) per element, plus 6–12 bytes of index |
#[derive(Clone, Debug)]
pub struct OrSet<E> {
    store: DotMap<E, DotSet>,
    ctx: CausalContext,
}

impl<E> Default for OrSet<E> {
    fn default() -> Self {
        Self {
            store: DotMap::default(),
            ctx: CausalContext::new(),
        }
    }
}

causal_crdt!(OrSet<E> where [E: Hash + Eq + Clone + Debug,], DotMap<E, DotSet>);

impl<E: Hash + Eq + Clone + Debug> OrSet<E> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `element` on behalf of `replica`; returns the delta (one element,
    /// one new dot, and the element's old dots it supersedes).
    pub fn insert(&mut self, replica: ReplicaId, element: E) -> Self {
        let dot = self.ctx.next_dot(replica);
        self.ctx.insert(dot);
        let mut delta_ctx = CausalContext::new();
        match self.store.entry(element.clone()) {
            crate::causal::table::Entry::Occupied(mut slot) => {
                for d in slot.get_mut().take() {
                    delta_ctx.insert(d);
                }
                slot.get_mut().insert(dot);
            }
            crate::causal::table::Entry::Vacant(slot) => {
                slot.insert(DotSet::single(dot));
            }
        }
        delta_ctx.insert(dot);
        let mut store = DotMap::new();
        store.insert(element, DotSet::single(dot));
        Self {
            store,
            ctx: delta_ctx,
        }
    }

    /// Removes `element` as observed here; returns the delta (the removed
    /// dots, and the element as a key hint). A no-op if absent.
    pub fn remove(&mut self, element: &E) -> Self {
        let Some(dots) = self.store.remove(element) else {
            return Self::new();
        };
        let mut store = DotMap::new();
        store.insert(element.clone(), DotSet::new());
        Self {
            store,
            ctx: CausalContext::from_dots(dots.iter()),
        }
    }

    /// Removes every element observed here; returns the delta.
    pub fn clear(&mut self) -> Self {
        let old = core::mem::take(&mut self.store);
        let mut store = DotMap::new();
        store.reserve(old.raw_iter().count());
        for (e, _) in old.raw_iter() {
            store.insert(e.clone(), DotSet::new());
        }
        Self {
            store,
            ctx: context_of(&old),
        }
    }

    /// Whether `element` is in the set.
    pub fn contains(&self, element: &E) -> bool {
        self.store.get(element).is_some_and(|d| !d.is_empty())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        DotStore::is_empty(&self.store)
    }

    /// The elements, in arbitrary order (sort them for a deterministic order).
    pub fn iter(&self) -> impl Iterator<Item = &E> + '_ {
        self.store.iter().map(|(e, _)| e)
    }

    /// Reserves room for `additional` more elements.
    pub fn reserve(&mut self, additional: usize) {
        self.store.reserve(additional);
    }
}

impl<E: Hash + Eq + Clone + Debug + Ord> OrSet<E> {
    /// The elements in ascending order.
    pub fn to_sorted_vec(&self) -> alloc::vec::Vec<E> {
        let mut v: alloc::vec::Vec<E> = self.iter().cloned().collect();
        v.sort_unstable();
        v
    }
}
