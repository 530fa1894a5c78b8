//! The Dynamo shopping-cart anomaly, and why it cannot happen with `converge`.
//!
//! Amazon's Dynamo (DeCandia et al., SOSP 2007) kept shopping carts on several
//! replicas that all accepted writes. When replicas diverged, Dynamo reconciled
//! the versions by taking the union of the carts: no "add to cart" was ever
//! lost, but an item deleted on one replica could come back from another.
//!
//! This example plays one schedule — two data centers, a partition, removes on
//! one side and adds on the other — against three implementations:
//!
//! 1. carts as plain `BTreeSet`s merged by union: the anomaly appears;
//! 2. one [`OrSet`] per cart: removed items stay removed, a concurrent add wins;
//! 3. a whole shop: carts in an `OrMap<&str, OrSet<&str>>` and quantities in
//!    `OrMap<&str, CausalCounter>` maps (one per user), where checking out
//!    removes a user's cart and quantities at once.
//!
//! Replicas exchange only the deltas returned by the mutators, delivered out of
//! order and duplicated. The program exits with status 1 if a CRDT replica
//! shows the anomaly, loses an add, or the replicas fail to converge.
//!
//! Run it with `cargo run --release --example shopping_cart`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use converge::{CausalCounter, Lattice, OrMap, OrSet, OverflowError, ReplicaId, Validate};

type User = &'static str;
type Item = &'static str;

/// The two data centers. Each is one replica with its own [`ReplicaId`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Site {
    UsEast,
    EuWest,
}

use Site::{EuWest, UsEast};

const SITES: [Site; 2] = [Site::UsEast, Site::EuWest];

impl Site {
    fn name(self) -> &'static str {
        match self {
            Site::UsEast => "us-east",
            Site::EuWest => "eu-west",
        }
    }

    fn id(self) -> ReplicaId {
        match self {
            Site::UsEast => ReplicaId::new(1),
            Site::EuWest => ReplicaId::new(2),
        }
    }

    fn index(self) -> usize {
        match self {
            Site::UsEast => 0,
            Site::EuWest => 1,
        }
    }

    fn other(self) -> Site {
        match self {
            Site::UsEast => Site::EuWest,
            Site::EuWest => Site::UsEast,
        }
    }
}

/// One event of the schedule.
#[derive(Clone, Copy)]
enum Step {
    /// A user adds `quantity` of an item to their cart at a site.
    Add(Site, User, Item, u64),
    /// A user removes an item (all of its quantity) at a site.
    Remove(Site, User, Item),
    /// A user checks out at a site: the whole cart goes.
    Checkout(Site, User),
    /// The network delivers everything pending, both ways.
    Sync(&'static str),
    /// A comment in the timeline.
    Note(&'static str),
}

/// The schedule every implementation replays.
const SCHEDULE: &[Step] = &[
    Step::Add(UsEast, "alice", "book", 1),
    Step::Add(UsEast, "alice", "pen", 2),
    Step::Add(EuWest, "bob", "tea", 1),
    Step::Sync("replicate"),
    Step::Note("-- network partition: the sites cannot talk --"),
    Step::Remove(EuWest, "alice", "book"),
    Step::Remove(EuWest, "alice", "pen"),
    Step::Add(UsEast, "alice", "mug", 1),
    Step::Add(UsEast, "alice", "pen", 1),
    Step::Checkout(UsEast, "bob"),
    Step::Add(EuWest, "bob", "cake", 1),
    Step::Note("(t6 and t8 are concurrent, as are t9 and t10: neither site saw the other)"),
    Step::Note("-- partition heals --"),
    Step::Sync("anti-entropy"),
];

/// What a correct cart holds after the schedule: the removed book and the
/// checked-out tea stay gone; the mug, the pen re-added concurrently with its
/// removal (add wins), and the cake added concurrently with the checkout stay.
///
/// Alice's pen: eu-west removed the 2 pens it saw (t6) while us-east added one
/// more (t8). The item survives (add wins). Its quantity is 3, not 1: a
/// `CausalCounter` resets *per replica*, and us-east's concurrent add carries
/// us-east's running total for the pen, which eu-west's remove never saw
/// (`docs/decisions/0006-causal-counter-reset.md`) — the quantity us-east's
/// user was looking at when adding. Nothing is counted twice.
const EXPECTED: &[(User, &[(Item, i128)])] = &[
    ("alice", &[("mug", 1), ("pen", 3)]),
    ("bob", &[("cake", 1)]),
];

/// Seed of the delivery order; change it to try other interleavings.
const SEED: u64 = 0x5eed_c0ff_ee15_900d;

/// A tiny deterministic generator (xorshift64) for delivery orders.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// A shuffled order of `0..n` followed by about `n / 2` duplicates.
    fn delivery_order(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.below(i + 1);
            order.swap(i, j);
        }
        for _ in 0..n.div_ceil(2) {
            let again = self.below(n);
            order.push(again);
        }
        order
    }
}

/// One replica of the shop, whatever its implementation.
trait Replica {
    /// What a replica sends to the other after a local write.
    type Message: Clone;
    /// What a message is called in the timeline.
    const MESSAGE: &'static str;

    fn new(site: Site) -> Self;
    fn add(
        &mut self,
        user: User,
        item: Item,
        quantity: u64,
    ) -> Result<Self::Message, OverflowError>;
    fn remove(&mut self, user: User, item: Item) -> Self::Message;
    fn checkout(&mut self, user: User) -> Self::Message;
    fn receive(&mut self, message: Self::Message);
    /// The users with a non-empty cart, sorted.
    fn users(&self) -> Vec<User>;
    /// A user's items, sorted.
    fn cart(&self, user: User) -> Vec<Item>;
    /// The quantity of an item, if this implementation tracks quantities.
    fn quantity(&self, _user: User, _item: Item) -> Option<i128> {
        None
    }
    /// The items that have a quantity (sorted), if tracked.
    fn counted(&self, _user: User) -> Vec<Item> {
        Vec::new()
    }
    fn same_state(&self, other: &Self) -> bool;
    /// Checks the replica's invariants (CRDT implementations only).
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Renders a replica's carts on one line: `alice [mug, pen x2]  bob [cake]`.
fn show<R: Replica>(replica: &R) -> String {
    let users = replica.users();
    if users.is_empty() {
        return "(no carts)".to_owned();
    }
    let mut out = String::new();
    for user in users {
        let items: Vec<String> = replica
            .cart(user)
            .into_iter()
            .map(|item| match replica.quantity(user, item) {
                Some(q) => format!("{item} x{q}"),
                None => item.to_owned(),
            })
            .collect();
        let _ = write!(out, "{user} [{}]  ", items.join(", "));
    }
    out.trim_end().to_owned()
}

/// Prints one line of the timeline: time, place, event, state afterwards.
fn line(t: &str, who: &str, what: &str, after: &str) {
    println!("  {t:<4} {who:<8} {what:<34} -> {after}");
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Replays [`SCHEDULE`]; returns both replicas.
fn replay<R: Replica>() -> Result<[R; 2], OverflowError> {
    let mut replicas = [R::new(UsEast), R::new(EuWest)];
    let mut outbox: [Vec<R::Message>; 2] = [Vec::new(), Vec::new()];
    let mut rng = Rng(SEED);
    let mut clock = 0;
    for step in SCHEDULE {
        if let Step::Note(text) = step {
            println!("       {text}");
            continue;
        }
        clock += 1;
        let t = format!("t{clock}");
        match *step {
            Step::Add(site, user, item, quantity) => {
                let r = &mut replicas[site.index()];
                outbox[site.index()].push(r.add(user, item, quantity)?);
                let what = format!("{user} adds {quantity} x {item}");
                line(&t, site.name(), &what, &show(r));
            }
            Step::Remove(site, user, item) => {
                let r = &mut replicas[site.index()];
                outbox[site.index()].push(r.remove(user, item));
                line(&t, site.name(), &format!("{user} removes {item}"), &show(r));
            }
            Step::Checkout(site, user) => {
                let r = &mut replicas[site.index()];
                outbox[site.index()].push(r.checkout(user));
                line(&t, site.name(), &format!("{user} checks out"), &show(r));
            }
            Step::Sync(what) => {
                for from in SITES {
                    let to = from.other();
                    let pending = std::mem::take(&mut outbox[from.index()]);
                    let order = rng.delivery_order(pending.len());
                    for &i in &order {
                        replicas[to.index()].receive(pending[i].clone());
                    }
                    println!(
                        "  {t:<4} network  {what} {} -> {}: {} delivered as {order:?}",
                        from.name(),
                        to.name(),
                        plural(pending.len(), R::MESSAGE),
                    );
                }
                for site in SITES {
                    let state = show(&replicas[site.index()]);
                    line("", site.name(), "holds", &state);
                }
            }
            Step::Note(_) => {}
        }
    }
    Ok(replicas)
}

/// Compares a converged replica with [`EXPECTED`]; returns one line per anomaly.
fn anomalies<R: Replica>(replica: &R) -> Vec<String> {
    let mut found = Vec::new();
    let expected: BTreeMap<User, &[(Item, i128)]> = EXPECTED.iter().copied().collect();
    let mut users: BTreeSet<User> = expected.keys().copied().collect();
    users.extend(replica.users());
    for user in users {
        let want = expected.get(user).copied().unwrap_or_default();
        let have = replica.cart(user);
        for item in &have {
            if !want.iter().any(|(w, _)| w == item) {
                found.push(format!("{user}'s removed {item} is back in the cart"));
            }
        }
        for item in replica.counted(user) {
            if !have.contains(&item) {
                found.push(format!("{user}'s removed {item} still has a quantity"));
            }
        }
        for &(item, quantity) in want {
            if !have.contains(&item) {
                found.push(format!("{user}'s {item} was lost"));
            } else if let Some(q) = replica.quantity(user, item) {
                let why = if q > quantity {
                    "removed units came back"
                } else {
                    "units were lost"
                };
                if q != quantity {
                    found.push(format!(
                        "{user} has {item} x{q}, expected x{quantity}: {why}"
                    ));
                }
            }
        }
    }
    found
}

/// Replays the schedule on `R` and reports; returns `false` on an unexpected outcome.
fn act<R: Replica>(title: &str, anomaly_expected: bool) -> bool {
    println!("\n== {title} ==");
    let [east, west] = match replay::<R>() {
        Ok(replicas) => replicas,
        Err(e) => {
            println!("  FAILED: {e}");
            return false;
        }
    };
    let converged = east.same_state(&west);
    println!(
        "  result: replicas {}",
        if converged { "converged" } else { "DIVERGED" }
    );
    let mut ok = converged;
    for (site, replica) in [(UsEast, &east), (EuWest, &west)] {
        if let Err(e) = replica.check() {
            println!("  FAILED: {} breaks an invariant: {e}", site.name());
            ok = false;
        }
    }
    let mut found = anomalies(&east);
    for line in anomalies(&west) {
        if !found.contains(&line) {
            found.push(line);
        }
    }
    for line in &found {
        println!("  ANOMALY: {line}");
    }
    if found.is_empty() {
        println!("  no anomaly: removed items stayed removed, concurrent adds survived");
    } else if anomaly_expected {
        println!("  (expected: a union cannot tell \"removed here\" from \"not yet added there\")");
    } else {
        ok = false;
    }
    ok
}

// ---------------------------------------------------------------------------
// 1. Plain sets, reconciled by union. Replicas ship their whole cart state.

#[derive(Clone, Default, PartialEq)]
struct UnionCarts {
    carts: BTreeMap<User, BTreeSet<Item>>,
}

impl Replica for UnionCarts {
    type Message = Self;
    const MESSAGE: &'static str = "full cart state";

    fn new(_site: Site) -> Self {
        Self::default()
    }

    fn add(&mut self, user: User, item: Item, _quantity: u64) -> Result<Self, OverflowError> {
        self.carts.entry(user).or_default().insert(item);
        Ok(self.clone())
    }

    fn remove(&mut self, user: User, item: Item) -> Self {
        if let Some(cart) = self.carts.get_mut(user) {
            cart.remove(item);
        }
        self.clone()
    }

    fn checkout(&mut self, user: User) -> Self {
        self.carts.remove(user);
        self.clone()
    }

    fn receive(&mut self, other: Self) {
        for (user, items) in other.carts {
            self.carts.entry(user).or_default().extend(items);
        }
    }

    fn users(&self) -> Vec<User> {
        let users = self.carts.iter().filter(|(_, cart)| !cart.is_empty());
        users.map(|(user, _)| *user).collect()
    }

    fn cart(&self, user: User) -> Vec<Item> {
        self.carts
            .get(user)
            .map_or_else(Vec::new, |c| c.iter().copied().collect())
    }

    fn same_state(&self, other: &Self) -> bool {
        self == other
    }
}

// ---------------------------------------------------------------------------
// 2. One OrSet per cart. Checking out clears the set.

struct OrSetCarts {
    id: ReplicaId,
    carts: BTreeMap<User, OrSet<Item>>,
}

impl Replica for OrSetCarts {
    /// A delta of one user's cart.
    type Message = (User, OrSet<Item>);
    const MESSAGE: &'static str = "delta";

    fn new(site: Site) -> Self {
        Self {
            id: site.id(),
            carts: BTreeMap::new(),
        }
    }

    fn add(
        &mut self,
        user: User,
        item: Item,
        _quantity: u64,
    ) -> Result<Self::Message, OverflowError> {
        Ok((
            user,
            self.carts.entry(user).or_default().insert(self.id, item),
        ))
    }

    fn remove(&mut self, user: User, item: Item) -> Self::Message {
        (user, self.carts.entry(user).or_default().remove(&item))
    }

    fn checkout(&mut self, user: User) -> Self::Message {
        (user, self.carts.entry(user).or_default().clear())
    }

    fn receive(&mut self, (user, delta): Self::Message) {
        self.carts.entry(user).or_default().join(delta);
    }

    fn users(&self) -> Vec<User> {
        let users = self.carts.iter().filter(|(_, cart)| !cart.is_empty());
        users.map(|(user, _)| *user).collect()
    }

    fn cart(&self, user: User) -> Vec<Item> {
        self.carts
            .get(user)
            .map_or_else(Vec::new, OrSet::to_sorted_vec)
    }

    fn same_state(&self, other: &Self) -> bool {
        self.carts == other.carts
    }

    fn check(&self) -> Result<(), String> {
        for (user, cart) in &self.carts {
            cart.check_invariants()
                .map_err(|e| format!("{user}'s cart: {e}"))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// 3. A shop: carts and quantities in nested maps. Checkout removes the user's
//    key from both; nested values share each map's causal context, so a remove
//    clears exactly what it observed.

/// The quantity of each item in one user's cart.
type Quantities = OrMap<Item, CausalCounter>;

struct Shop {
    id: ReplicaId,
    carts: OrMap<User, OrSet<Item>>,
    quantities: OrMap<User, Quantities>,
}

/// A delta is a state: a pair of map deltas (either may be empty).
#[derive(Clone)]
struct ShopDelta {
    carts: OrMap<User, OrSet<Item>>,
    quantities: OrMap<User, Quantities>,
}

impl Replica for Shop {
    type Message = ShopDelta;
    const MESSAGE: &'static str = "delta";

    fn new(site: Site) -> Self {
        Self {
            id: site.id(),
            carts: OrMap::new(),
            quantities: OrMap::new(),
        }
    }

    fn add(&mut self, user: User, item: Item, quantity: u64) -> Result<ShopDelta, OverflowError> {
        let id = self.id;
        // Fallible first: on overflow nothing has changed.
        let quantities = self.quantities.try_update(id, user, |q| {
            q.try_update(id, item, |n| n.increment(id, quantity))
        })?;
        let carts = self.carts.update(id, user, |cart| cart.insert(id, item));
        Ok(ShopDelta { carts, quantities })
    }

    fn remove(&mut self, user: User, item: Item) -> ShopDelta {
        let id = self.id;
        ShopDelta {
            carts: self.carts.update(id, user, |cart| cart.remove(&item)),
            quantities: self.quantities.update(id, user, |q| q.remove(id, &item)),
        }
    }

    fn checkout(&mut self, user: User) -> ShopDelta {
        ShopDelta {
            carts: self.carts.remove(self.id, &user),
            quantities: self.quantities.remove(self.id, &user),
        }
    }

    fn receive(&mut self, delta: ShopDelta) {
        self.carts.join(delta.carts);
        self.quantities.join(delta.quantities);
    }

    fn users(&self) -> Vec<User> {
        let mut users: Vec<User> = self
            .carts
            .iter()
            .filter(|(_, cart)| !cart.is_empty())
            .map(|(user, _)| *user)
            .collect();
        users.sort_unstable();
        users
    }

    fn cart(&self, user: User) -> Vec<Item> {
        self.carts
            .get(&user)
            .map_or_else(Vec::new, OrSet::to_sorted_vec)
    }

    fn quantity(&self, user: User, item: Item) -> Option<i128> {
        let quantities = self.quantities.get(&user)?;
        Some(quantities.get(&item).map_or(0, CausalCounter::value))
    }

    fn counted(&self, user: User) -> Vec<Item> {
        let Some(quantities) = self.quantities.get(&user) else {
            return Vec::new();
        };
        let mut items: Vec<Item> = quantities.keys().copied().collect();
        items.sort_unstable();
        items
    }

    fn same_state(&self, other: &Self) -> bool {
        self.carts == other.carts && self.quantities == other.quantities
    }

    fn check(&self) -> Result<(), String> {
        self.carts
            .check_invariants()
            .map_err(|e| format!("carts: {e}"))?;
        self.quantities
            .check_invariants()
            .map_err(|e| format!("quantities: {e}"))
    }
}

fn main() {
    println!("The Dynamo shopping-cart anomaly (delivery seed {SEED:#x})");
    let mut ok = act::<UnionCarts>("1. carts as plain sets, merged by union", true);
    ok &= act::<OrSetCarts>("2. one converge::OrSet per cart, deltas only", false);
    ok &= act::<Shop>(
        "3. carts in OrMap<&str, OrSet<&str>>, quantities in OrMap<&str, CausalCounter>",
        false,
    );
    if ok {
        println!("\nOK: the CRDT replicas converged without the anomaly.");
    } else {
        println!("\nFAILED: see above.");
        std::process::exit(1);
    }
}
