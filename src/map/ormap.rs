use core::convert::Infallible;
use core::fmt::Debug;
use core::hash::Hash;
use core::marker::PhantomData;

use crate::causal::{context_of, CausalContext, CausalCrdt, DotMap, DotStore, ReplicaId};
use crate::lattice::Lattice;
use crate::map::{Entry, ObservedReset, RemoveKind, RemovePolicy};

/// An observed-remove map from keys to causal CRDTs — counters, registers,
/// sets, flags, other maps — nested to any depth.
///
/// Nested values share the map's causal context, so a remove clears exactly
/// the nested writes it observed and nothing else, at every depth.
///
/// **Conflict rules:**
/// - Concurrent updates of one key merge with the value type's own rule (MV
///   siblings, add-wins elements, counted increments, …).
/// - A key remove concurrent with an update of that key resolves by the map's
///   policy `P` ([`RemoveKind`]): [`ObservedReset`] (default) keeps the key
///   with only the update's unobserved part (for a
///   [`CausalCounter`](crate::CausalCounter), per replica: see its docs); [`UpdateWins`](crate::UpdateWins)
///   keeps the key with all its content; [`RemoveWins`](crate::RemoveWins)
///   keeps the key absent.
/// - An update of a key that is absent here starts from the value type's
///   bottom (a re-added key does not resurrect removed content).
///
/// ```
/// use converge::{Lattice, OrMap, OrSet, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut x: OrMap<&str, OrSet<&str>> = OrMap::new();
/// x.update(a, "alice", |cart| cart.insert(a, "book"));
/// let mut y = x.clone();
///
/// x.remove(a, &"alice");                              // close the cart…
/// y.update(b, "alice", |cart| cart.insert(b, "pen")); // …while she adds a pen
/// x.join(y.clone());
/// y.join(x.clone());
/// let cart = x.get(&"alice").unwrap();
/// assert!(cart.contains(&"pen") && !cart.contains(&"book")); // observed-reset
/// assert_eq!(x, y);
/// ```
///
/// | operation | cost (n = keys) |
/// | --- | --- |
/// | `update` | O(1) expected + O(R + gaps) to check the lent context + the nested mutator |
/// | `remove` | O(dots of the entry) |
/// | `get`, `contains_key` | O(1) expected |
/// | `join` with a delta | O(size of the delta) expected |
/// | `join` with a full state | O(n₁ + n₂) × nested join |
#[derive(Clone, Debug)]
pub struct OrMap<K, V, P = ObservedReset> {
    store: DotMap<K, Entry<V>>,
    ctx: CausalContext,
    policy: PhantomData<P>,
}

impl<K, V, P> Default for OrMap<K, V, P> {
    fn default() -> Self {
        Self {
            store: DotMap::default(),
            ctx: CausalContext::new(),
            policy: PhantomData,
        }
    }
}

impl<K, V, P> PartialEq for OrMap<K, V, P>
where
    K: Hash + Eq + Clone + Debug,
    V: CausalCrdt,
    P: RemovePolicy,
{
    fn eq(&self, other: &Self) -> bool {
        self.store == other.store && self.ctx == other.ctx
    }
}

impl<K, V, P> CausalCrdt for OrMap<K, V, P>
where
    K: Hash + Eq + Clone + Debug,
    V: CausalCrdt,
    P: RemovePolicy,
{
    type Store = DotMap<K, Entry<V>>;

    fn store(&self) -> &Self::Store {
        &self.store
    }

    fn context(&self) -> &CausalContext {
        &self.ctx
    }

    fn parts_mut(&mut self) -> (&mut Self::Store, &mut CausalContext) {
        (&mut self.store, &mut self.ctx)
    }

    fn from_parts(store: Self::Store, ctx: CausalContext) -> Self {
        Self {
            store,
            ctx,
            policy: PhantomData,
        }
    }

    fn into_parts(self) -> (Self::Store, CausalContext) {
        (self.store, self.ctx)
    }

    /// Only [`RemoveWins`](crate::RemoveWins) maps hold remove markers, so
    /// bytes of a map with another policy are rejected.
    fn check_type_invariants(&self) -> Result<(), crate::InvariantViolation> {
        if P::KIND != RemoveKind::RemoveWins {
            // The least marker, whatever the hash map's order: the same bytes
            // are rejected with the same error every time (C2).
            let least = self
                .store
                .raw_iter()
                .filter_map(|(_, entry)| entry.removed().first().copied())
                .min();
            if let Some(dot) = least {
                return Err(crate::InvariantViolation::UnexpectedRemoveMarker { dot });
            }
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
impl<K, V, P> serde::Serialize for OrMap<K, V, P>
where
    K: Hash + Eq + Clone + Debug + Ord + serde::Serialize,
    V: CausalCrdt,
    V::Store: serde::Serialize,
    P: RemovePolicy,
{
    fn serialize<Se: serde::Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
        crate::causal::serialize_causal(&self.store, &self.ctx, s)
    }
}

#[cfg(feature = "serde")]
impl<'de, K, V, P> serde::Deserialize<'de> for OrMap<K, V, P>
where
    K: Hash + Eq + Clone + Debug + Ord + serde::Deserialize<'de>,
    V: CausalCrdt,
    V::Store: serde::Deserialize<'de>,
    P: RemovePolicy,
{
    fn deserialize<De: serde::Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        crate::causal::deserialize_causal(d)
    }
}

fn detach<V: CausalCrdt>(v: V) -> (V::Store, CausalContext) {
    v.into_parts()
}

impl<K, V, P> OrMap<K, V, P>
where
    K: Hash + Eq + Clone + Debug,
    V: CausalCrdt,
    P: RemovePolicy,
{
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The remove semantics of this map.
    pub const fn remove_kind() -> RemoveKind {
        P::KIND
    }

    /// Applies `f` to the value under `key` (starting from the value type's
    /// bottom if the key is absent) on behalf of `replica`. `f` receives the
    /// nested value with the map's context attached and must return the delta
    /// of what it did — the return value of the nested mutator, or several
    /// joined. Returns the map's delta.
    ///
    /// ```
    /// use converge::{OrMap, PnCounter, CausalCounter, ReplicaId};
    /// let a = ReplicaId::new(1);
    /// let mut likes: OrMap<u32, CausalCounter> = OrMap::new();
    /// likes.update(a, 7, |c| c.increment(a, 1).unwrap());
    /// assert_eq!(likes.get(&7).unwrap().value(), 1);
    /// ```
    ///
    /// # Panics
    ///
    /// If `f` replaces the nested value instead of mutating it (for example
    /// `*v = OrSet::new()`): the lent context would be lost and dots reused,
    /// so the map refuses to continue. `f` must also return only the
    /// mutators' deltas — returning the value itself carries the whole
    /// context and would remove other keys at peers.
    pub fn update(&mut self, replica: ReplicaId, key: K, f: impl FnOnce(&mut V) -> V) -> Self {
        match self.apply(replica, key, false, |v| Ok::<V, Infallible>(f(v))) {
            Ok(delta) => delta,
            Err(never) => match never {},
        }
    }

    /// Like [`update`](Self::update), for fallible nested mutators (such as a
    /// counter increment that would overflow).
    ///
    /// The map lends its context to the nested value while `f` runs; if `f`
    /// panics, the map is left without its context and must not be used
    /// again (rebuild it from a peer).
    ///
    /// `try_update` is transactional: it snapshots the nested value and the
    /// context first (O(size of the value)), so an `Err` after some nested
    /// mutations succeeded still leaves the map exactly as it was.
    ///
    /// # Errors
    ///
    /// Returns `f`'s error; the map is then unchanged.
    ///
    /// # Panics
    ///
    /// As [`update`](Self::update).
    pub fn try_update<E>(
        &mut self,
        replica: ReplicaId,
        key: K,
        f: impl FnOnce(&mut V) -> Result<V, E>,
    ) -> Result<Self, E> {
        self.apply(replica, key, true, f)
    }

    fn apply<E>(
        &mut self,
        replica: ReplicaId,
        key: K,
        snapshot: bool,
        f: impl FnOnce(&mut V) -> Result<V, E>,
    ) -> Result<Self, E> {
        let old_entry = snapshot.then(|| self.store.get(&key).cloned());
        // The lent context must come back grown, never replaced: O(R + gaps).
        let old_ctx = self.ctx.clone();
        let entry = self.store.entry(key.clone()).or_default();
        // A key absent here restarts from bottom: its hidden content (update-
        // wins) and remove markers (remove-wins) are superseded.
        let reset = !entry.is_visible() && !DotStore::is_empty(entry);
        let hidden = if reset {
            Some((core::mem::take(&mut entry.value), entry.take_removed()))
        } else {
            None
        };
        // Lend the map's context to the nested value for the mutation.
        let (store, _) = detach(core::mem::take(&mut entry.value));
        let mut value = V::from_parts(store, core::mem::take(&mut self.ctx));
        let result = f(&mut value);
        let (store, ctx) = detach(value);
        assert!(
            old_ctx.leq(&ctx),
            "OrMap::update: the closure replaced the nested value and lost the map's context; \
             mutate it and return the mutators' deltas instead"
        );
        self.ctx = ctx;
        let nested_delta = match result {
            Ok(d) => d,
            Err(e) => {
                match hidden {
                    Some((v, removed)) => {
                        entry.value = v;
                        entry.set_removed(&removed);
                    }
                    None => entry.value = V::from_parts(store, CausalContext::new()),
                }
                if let Some(old_entry) = old_entry {
                    *entry = old_entry.unwrap_or_default();
                    self.ctx = old_ctx;
                }
                if DotStore::is_empty(&*entry) {
                    self.store.remove(&key);
                }
                return Err(e);
            }
        };
        let (delta_store, mut delta_ctx) = detach(nested_delta);
        if let Some((v, removed)) = hidden {
            delta_ctx.join(context_of(&v));
            delta_ctx.join(CausalContext::from_dots(removed));
        }
        for d in entry.take_present() {
            delta_ctx.insert(d);
        }
        let p = self.ctx.next_dot(replica);
        self.ctx.insert(p);
        delta_ctx.insert(p);
        entry.set_present(&[p]);
        entry.value = V::from_parts(store, CausalContext::new());

        let mut delta = Self::new();
        delta.store.insert(
            key,
            Entry::new(&[p], &[], V::from_parts(delta_store, CausalContext::new())),
        );
        delta.ctx = delta_ctx;
        Ok(delta)
    }

    /// Removes `key` as observed here, on behalf of `replica`; returns the
    /// delta. What a concurrent update of the key does is decided by `P`.
    /// A no-op if the key is absent.
    pub fn remove(&mut self, replica: ReplicaId, key: &K) -> Self {
        let mut delta = Self::new();
        let Some(mut entry) = self.store.remove(key) else {
            return delta;
        };
        if !entry.is_visible() {
            self.store.insert(key.clone(), entry);
            return delta;
        }
        let mut hint = Entry::default();
        match P::KIND {
            RemoveKind::ObservedReset => {
                delta.ctx = context_of(&entry);
            }
            RemoveKind::UpdateWins => {
                for d in entry.take_present() {
                    delta.ctx.insert(d);
                }
                self.store.insert(key.clone(), entry);
            }
            RemoveKind::RemoveWins => {
                delta.ctx = context_of(&entry);
                let m = self.ctx.next_dot(replica);
                self.ctx.insert(m);
                delta.ctx.insert(m);
                hint.set_removed(&[m]);
                self.store
                    .insert(key.clone(), Entry::new(&[], &[m], V::default()));
            }
        }
        delta.store.insert(key.clone(), hint);
        delta
    }

    /// The value under `key`, if the key is visible. Its own
    /// [`context`](CausalCrdt::context) is empty: nested values share the
    /// map's.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.store
            .get(key)
            .filter(|e| e.is_visible())
            .map(|e| &e.value)
    }

    /// Whether `key` is visible.
    pub fn contains_key(&self, key: &K) -> bool {
        self.store.get(key).is_some_and(Entry::is_visible)
    }

    /// The visible entries, in arbitrary order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.store
            .iter()
            .filter(|(_, e)| e.is_visible())
            .map(|(k, e)| (k, &e.value))
    }

    /// The visible keys, in arbitrary order.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// Number of visible keys.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether no key is visible.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Number of stored entries, visible or not (hidden content and remove
    /// markers count): the map's metadata footprint.
    pub fn stored_entries(&self) -> usize {
        self.store.len()
    }
}
