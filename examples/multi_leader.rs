//! Multi-leader replication: three data centers and a phone, a partition, and
//! convergence after it heals.
//!
//! Every site is a [`Node`] holding one replicated document: shopping carts
//! (`OrMap<user, OrSet<item>>`), calendars (`OrMap<user, OrMap<slot,
//! MvRegister<event>>>`) and page-view counters (`OrMap<page, CausalCounter>`).
//! Every site accepts writes at all times, the phone included.
//!
//! The timeline:
//!
//! 1. all links up: the sites write and sync one round per tick;
//! 2. the inter-DC links to `dc-us` fail (`dc-us` | `dc-eu` + `dc-ap`) and the
//!    phone goes offline; every site keeps accepting writes; later the phone
//!    comes back, but reaches only `dc-us` (the phone's link always loses a
//!    fifth of the messages);
//! 3. the links heal; the writes stop; sync rounds run until every replica
//!    holds the same state and every delta is acknowledged;
//! 4. the calendar conflicts the partition produced (MV siblings) are resolved
//!    on read at one site, and the resolution replicates.
//!
//! The document is a struct of three maps that implements [`Lattice`],
//! [`Validate`] and [`DeltaSince`] field by field: an `OrMap` holds values of
//! one type, and the crate has no product type to hold a cart, a calendar and
//! a counter side by side under one map.
//!
//! Every pair of sites is a peer (a full mesh), the phone with every data
//! center. A [`Node`] also relays what it learns (not back to where it came
//! from), so a sparser topology would converge too; in a full mesh the relays
//! are partly redundant, which shows in the bytes shipped.
//!
//! Printed: writes accepted per site, messages, bytes shipped (postcard
//! encoding of every message) versus what full-state sync would have shipped
//! for the same transmissions, and rounds to converge after the heal. Exits
//! with status 1 if the replicas diverge, break an invariant, lose a write or
//! reject an honest message.
//!
//! Run it with `cargo run --release --example multi_leader`.

use std::collections::BTreeSet;

use converge::sync::{Message, Node, SyncConfig};
use converge::{
    CausalContext, CausalCounter, DeltaSince, InvariantViolation, Lattice, MvRegister, OrMap,
    OrSet, ReplicaId, Validate,
};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------
// The document.

/// Carts, calendars and counters: the state every site replicates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Doc {
    /// user -> items in the cart.
    carts: OrMap<String, OrSet<String>>,
    /// user -> slot ("tue 10:00") -> event; concurrent bookings are siblings.
    calendars: OrMap<String, OrMap<String, MvRegister<String>>>,
    /// page -> views.
    views: OrMap<String, CausalCounter>,
}

impl Lattice for Doc {
    fn join(&mut self, other: Self) -> bool {
        self.carts.join(other.carts)
            | self.calendars.join(other.calendars)
            | self.views.join(other.views)
    }

    fn leq(&self, other: &Self) -> bool {
        self.carts.leq(&other.carts)
            && self.calendars.leq(&other.calendars)
            && self.views.leq(&other.views)
    }
}

impl Validate for Doc {
    fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.carts.check_invariants()?;
        self.calendars.check_invariants()?;
        self.views.check_invariants()
    }

    fn check_compatible(&self, other: &Self) -> Result<(), InvariantViolation> {
        self.carts.check_compatible(&other.carts)?;
        self.calendars.check_compatible(&other.calendars)?;
        self.views.check_compatible(&other.views)
    }

    fn check_local_claims(&self, local: ReplicaId, other: &Self) -> Result<(), InvariantViolation> {
        self.carts.check_local_claims(local, &other.carts)?;
        self.calendars.check_local_claims(local, &other.calendars)?;
        self.views.check_local_claims(local, &other.views)
    }
}

impl DeltaSince for Doc {
    type Summary = (CausalContext, CausalContext, CausalContext);

    fn summary(&self) -> Self::Summary {
        (
            self.carts.summary(),
            self.calendars.summary(),
            self.views.summary(),
        )
    }

    fn delta_since(&self, (carts, calendars, views): &Self::Summary) -> Self {
        Doc {
            carts: self.carts.delta_since(carts),
            calendars: self.calendars.delta_since(calendars),
            views: self.views.delta_since(views),
        }
    }
}

// ---------------------------------------------------------------------------
// Sites, links and the workload.

const SITES: [&str; 4] = ["dc-us", "dc-eu", "dc-ap", "phone"];
const US: usize = 0;
const PHONE: usize = 3;

/// Users served by each site (alice travels: she writes at dc-us, dc-eu and
/// on her phone).
const USERS: [&[&str]; 4] = [
    &["alice", "bob"],
    &["carol", "dave", "alice"],
    &["erin", "bob"],
    &["alice"],
];
const ITEMS: [&str; 10] = [
    "book", "pen", "mug", "tea", "lamp", "cable", "socks", "map", "soap", "jam",
];
const EVENTS: [&str; 8] = [
    "standup", "dentist", "1:1", "flight", "gym", "lunch", "review", "demo",
];
const DAYS: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];
const PAGES: [&str; 6] = ["home", "book", "mug", "tea", "lamp", "sale"];

/// Writes per tick at each site.
const WRITES_PER_TICK: [usize; 4] = [6, 6, 6, 2];
const TICKS_BEFORE: u32 = 10;
const TICKS_PARTITION: u32 = 30;
/// The phone is offline for this many ticks of the partition.
const PHONE_OFFLINE: u32 = 15;
/// One message in this many is lost on the phone's link.
const PHONE_LOSS: u64 = 5;
/// A rounds budget after the heal; the goal is 2N.
const MAX_ROUNDS: u32 = 50;
const SEED: u64 = 0x00c0_ffee_d00d_2024;

/// xorshift64: a deterministic workload and loss pattern.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Connected,
    /// `true` while the phone is offline.
    Partition(bool),
    Healed,
}

/// Whether the link between sites `a` and `b` is up.
fn link_up(phase: Phase, a: usize, b: usize) -> bool {
    match phase {
        Phase::Connected | Phase::Healed => true,
        Phase::Partition(phone_offline) => {
            let (a, b) = (a.min(b), a.max(b));
            if b == PHONE {
                // Back online, the phone reaches only the nearest data center.
                !phone_offline && a == US
            } else {
                a != US
            }
        }
    }
}

/// Everything the oracle needs to know about the writes issued.
#[derive(Default)]
struct Issued {
    /// Writes accepted per site, per phase (before, during, total).
    writes: [[u64; 3]; 4],
    /// (user, item) pairs ever added, and ever removed at any site.
    added: BTreeSet<(String, String)>,
    removed: BTreeSet<(String, String)>,
    /// Total views issued per page.
    views: [i128; PAGES.len()],
}

/// One write at `site`; every write is accepted.
fn write(node: &mut Node<Doc>, site: usize, rng: &mut Rng, issued: &mut Issued) {
    let user = rng.pick(USERS[site]).to_owned();
    match rng.below(10) {
        0..=3 => {
            let item = rng.pick(&ITEMS).to_owned();
            issued.added.insert((user.clone(), item.clone()));
            node.update(|doc, r| {
                let carts = doc.carts.update(r, user, |cart| cart.insert(r, item));
                Doc {
                    carts,
                    ..Doc::default()
                }
            });
        }
        4 => {
            // Remove an item the user sees in the cart here, if any.
            let cart = node.state().carts.get(&user).map(OrSet::to_sorted_vec);
            let Some(items) = cart.filter(|c| !c.is_empty()) else {
                return write(node, site, rng, issued);
            };
            let item = items[rng.below(items.len())].clone();
            issued.removed.insert((user.clone(), item.clone()));
            node.update(|doc, r| {
                let carts = doc.carts.update(r, user, |cart| cart.remove(&item));
                Doc {
                    carts,
                    ..Doc::default()
                }
            });
        }
        5..=7 => {
            let slot = format!("{} {:02}:00", rng.pick(&DAYS), 9 + rng.below(8));
            let event = format!("{} ({})", rng.pick(&EVENTS), SITES[site]);
            node.update(|doc, r| {
                let calendars = doc.calendars.update(r, user, |cal| {
                    cal.update(r, slot, |booking| booking.write(r, event))
                });
                Doc {
                    calendars,
                    ..Doc::default()
                }
            });
        }
        _ => {
            let page = rng.below(PAGES.len());
            let amount = 1 + rng.below(3) as u64;
            let result = node.try_update(|doc, r| {
                let views = doc
                    .views
                    .try_update(r, PAGES[page].to_owned(), |n| n.increment(r, amount))?;
                Ok::<_, converge::OverflowError>(Doc {
                    views,
                    ..Doc::default()
                })
            });
            if let Err(e) = result {
                fail(&format!("{}: counter overflow: {e}", SITES[site]));
            }
            issued.views[page] += i128::from(amount);
        }
    }
}

// ---------------------------------------------------------------------------
// The network.

/// Traffic counters.
#[derive(Default, Clone, Copy)]
struct Traffic {
    /// Messages sent (data and acknowledgements), dropped ones included.
    messages: u64,
    /// Of which delta intervals or states.
    data: u64,
    dropped: u64,
    /// Postcard bytes of every message sent.
    bytes: u64,
    /// What shipping the sender's whole state in each data message would cost.
    full_state_bytes: u64,
}

impl Traffic {
    fn minus(self, before: Traffic) -> Traffic {
        Traffic {
            messages: self.messages - before.messages,
            data: self.data - before.data,
            dropped: self.dropped - before.dropped,
            bytes: self.bytes - before.bytes,
            full_state_bytes: self.full_state_bytes - before.full_state_bytes,
        }
    }
}

fn fail(why: &str) -> ! {
    println!("\nFAILED: {why}");
    std::process::exit(1);
}

fn encoded_len<S: Serialize>(value: &S) -> u64 {
    match postcard::to_allocvec(value) {
        Ok(bytes) => bytes.len() as u64,
        Err(e) => fail(&format!("cannot encode a message: {e}")),
    }
}

fn id(site: usize) -> ReplicaId {
    ReplicaId::new(site as u64 + 1)
}

/// Two distinct nodes, mutably.
fn pair(nodes: &mut [Node<Doc>], a: usize, b: usize) -> (&mut Node<Doc>, &mut Node<Doc>) {
    if a < b {
        let (left, right) = nodes.split_at_mut(b);
        (&mut left[a], &mut right[0])
    } else {
        let (left, right) = nodes.split_at_mut(a);
        (&mut right[0], &mut left[b])
    }
}

/// One network hop: counts the message and decides whether it is lost.
fn ship(
    msg: &Message<Doc>,
    sender: &Node<Doc>,
    lossy: bool,
    rng: &mut Rng,
    t: &mut Traffic,
) -> bool {
    t.messages += 1;
    t.bytes += encoded_len(msg);
    if matches!(msg, Message::Deltas { .. } | Message::State { .. }) {
        t.data += 1;
        let full: Message<Doc> = Message::State {
            from: sender.id(),
            end: sender.seq(),
            state: sender.state().clone(),
        };
        t.full_state_bytes += encoded_len(&full);
    }
    let lost = lossy && rng.next() % PHONE_LOSS == 0;
    t.dropped += u64::from(lost);
    !lost
}

/// One sync round: every site sends every reachable peer what it lacks, and
/// the replies go back.
fn round(nodes: &mut [Node<Doc>], phase: Phase, rng: &mut Rng, t: &mut Traffic) {
    for (from, from_name) in SITES.iter().enumerate() {
        for (to, to_name) in SITES.iter().enumerate() {
            if from == to || !link_up(phase, from, to) {
                continue;
            }
            let lossy = from == PHONE || to == PHONE;
            let (sender, receiver) = pair(nodes, from, to);
            let Some(msg) = sender.sync_to(receiver.id()) else {
                continue;
            };
            if !ship(&msg, sender, lossy, rng, t) {
                continue;
            }
            let replies = receiver.receive(msg).unwrap_or_else(|e| {
                fail(&format!("{to_name} rejected {from_name}'s message: {e}"))
            });
            for reply in replies {
                if !ship(&reply, receiver, lossy, rng, t) {
                    continue;
                }
                if let Err(e) = sender.receive(reply) {
                    fail(&format!("{from_name} rejected {to_name}'s reply: {e}"));
                }
            }
        }
    }
}

/// Whether every replica holds the same state.
fn converged(nodes: &[Node<Doc>]) -> bool {
    nodes.windows(2).all(|w| w[0].state() == w[1].state())
}

/// Whether every delta has been acknowledged by every peer.
fn quiescent(nodes: &[Node<Doc>]) -> bool {
    nodes.iter().all(|n| {
        nodes
            .iter()
            .all(|p| p.id() == n.id() || n.sync_to(p.id()).is_none())
    })
}

fn kb(bytes: u64) -> String {
    format!("{:.1} kB", bytes as f64 / 1000.0)
}

fn traffic_line(t: Traffic) -> String {
    let dropped = if t.dropped > 0 {
        format!(" ({} lost)", t.dropped)
    } else {
        String::new()
    };
    format!(
        "{} msgs{dropped}, {} shipped (full state: {})",
        t.messages,
        kb(t.bytes),
        kb(t.full_state_bytes)
    )
}

/// Calendar slots holding concurrent bookings, as (user, slot, siblings).
fn conflicts(doc: &Doc) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for (user, cal) in doc.calendars.iter() {
        for (slot, booking) in cal.iter() {
            if booking.is_conflicted() {
                out.push((
                    user.clone(),
                    slot.clone(),
                    booking.values().cloned().collect(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// The oracle: invariants, no lost add, every view counted.
fn check(nodes: &[Node<Doc>], issued: &Issued) {
    for (site, node) in nodes.iter().enumerate() {
        if let Err(e) = node.state().check_invariants() {
            fail(&format!("{} breaks an invariant: {e}", SITES[site]));
        }
    }
    let doc = nodes[0].state();
    for (user, item) in issued.added.difference(&issued.removed) {
        if !doc.carts.get(user).is_some_and(|c| c.contains(item)) {
            fail(&format!(
                "{user}'s {item} was added, never removed, and is lost"
            ));
        }
    }
    for (page, &expected) in PAGES.iter().zip(&issued.views) {
        let have = doc
            .views
            .get(&(*page).to_owned())
            .map_or(0, CausalCounter::value);
        if have != expected {
            fail(&format!("page {page}: {have} views, {expected} issued"));
        }
    }
}

fn main() {
    println!("Multi-leader replication: 3 data centers + 1 phone (workload seed {SEED:#x})");
    println!("one document per site: carts (OrSet), calendars (MvRegister), page views (CausalCounter)\n");
    let n = SITES.len();
    let mut nodes: Vec<Node<Doc>> = (0..n)
        .map(|i| Node::new(id(i), (0..n).map(id), SyncConfig::default()))
        .collect();
    let mut rng = Rng(SEED);
    let mut issued = Issued::default();
    let mut traffic = Traffic::default();

    let schedule = (1..=TICKS_BEFORE + TICKS_PARTITION).map(|tick| {
        if tick <= TICKS_BEFORE {
            (tick, Phase::Connected)
        } else {
            (tick, Phase::Partition(tick <= TICKS_BEFORE + PHONE_OFFLINE))
        }
    });
    let mut block_start = (1, traffic, [0u64; 4]);
    let mut previous = Phase::Connected;
    for (tick, phase) in schedule {
        if phase != previous {
            previous = phase;
            match phase {
                Phase::Partition(true) => println!(
                    "  -- t{tick}: the links dc-us<->dc-eu and dc-us<->dc-ap fail; the phone goes offline --"
                ),
                Phase::Partition(false) => println!(
                    "  -- t{tick}: the phone is back online, but reaches only dc-us ({}% loss) --",
                    100 / PHONE_LOSS
                ),
                _ => {}
            }
        }
        let p = usize::from(phase != Phase::Connected);
        for site in 0..n {
            // Every site writes, the offline phone included.
            for _ in 0..WRITES_PER_TICK[site] {
                write(&mut nodes[site], site, &mut rng, &mut issued);
                issued.writes[site][p] += 1;
                issued.writes[site][2] += 1;
            }
        }
        round(&mut nodes, phase, &mut rng, &mut traffic);
        // One timeline line per 5 ticks (or phase change).
        let next_phase_differs = match tick + 1 {
            t if t == TICKS_BEFORE + 1 || t == TICKS_BEFORE + PHONE_OFFLINE + 1 => true,
            t => t > TICKS_BEFORE + TICKS_PARTITION,
        };
        if tick % 5 == 0 || next_phase_differs {
            let (start, before, writes_before) = block_start;
            let writes: Vec<String> = (0..n)
                .map(|s| format!("{} +{}", SITES[s], issued.writes[s][2] - writes_before[s]))
                .collect();
            println!(
                "  t{start:<2}-t{tick:<2} writes {:<44} | {}",
                writes.join(", "),
                traffic_line(traffic.minus(before))
            );
            let totals = [0, 1, 2, 3].map(|s| issued.writes[s][2]);
            block_start = (tick + 1, traffic, totals);
        }
    }

    let during = traffic;
    let diverged = !converged(&nodes);
    println!(
        "\n  at the end of the partition the replicas {}",
        if diverged {
            "have diverged (as expected)"
        } else {
            "are equal"
        }
    );
    for (site, node) in nodes.iter().enumerate() {
        println!(
            "    {:<6} seq {:>3}, {:>3} deltas buffered for peers, {} calendar conflicts visible",
            SITES[site],
            node.seq(),
            node.buffered(),
            conflicts(node.state()).len()
        );
    }

    println!("\n  -- the links heal; writes stop; sync rounds until convergence --");
    let mut equal_at = None;
    let mut rounds = 0;
    while rounds < MAX_ROUNDS && !(converged(&nodes) && quiescent(&nodes)) {
        rounds += 1;
        let before = traffic;
        round(&mut nodes, Phase::Healed, &mut rng, &mut traffic);
        let equal = converged(&nodes);
        if equal && equal_at.is_none() {
            equal_at = Some(rounds);
        }
        println!(
            "  heal round {rounds}: {} | replicas {}",
            traffic_line(traffic.minus(before)),
            if equal { "equal" } else { "not yet equal" }
        );
    }
    if !(converged(&nodes) && quiescent(&nodes)) {
        fail(&format!("no convergence after {MAX_ROUNDS} rounds"));
    }
    let heal = traffic.minus(during);
    check(&nodes, &issued);

    // Conflicts the partition produced, resolved on read at dc-us.
    let found = conflicts(nodes[US].state());
    println!(
        "\n  {} calendar slots hold concurrent bookings (MV siblings), e.g.:",
        found.len()
    );
    for (user, slot, values) in found.iter().take(3) {
        println!("    {user} {slot}: {}", values.join(" | "));
    }
    for (user, slot, values) in &found {
        let observed = nodes[US]
            .state()
            .calendars
            .get(user)
            .and_then(|cal| cal.get(slot))
            .map_or_else(CausalContext::new, MvRegister::read_context);
        let merged = values.join(" + ");
        let (user, slot) = (user.clone(), slot.clone());
        nodes[US].update(|doc, r| {
            let calendars = doc.calendars.update(r, user, |cal| {
                cal.update(r, slot, |booking| booking.resolve(r, merged, &observed))
            });
            Doc {
                calendars,
                ..Doc::default()
            }
        });
    }
    let mut resolve_rounds = 0;
    while resolve_rounds < MAX_ROUNDS && !(converged(&nodes) && quiescent(&nodes)) {
        resolve_rounds += 1;
        round(&mut nodes, Phase::Healed, &mut rng, &mut traffic);
    }
    let left = conflicts(nodes[PHONE].state()).len();
    println!(
        "  dc-us resolves them on read (keeps both bookings in one entry) and writes back: \
         after {resolve_rounds} more round(s) every site agrees, {left} conflicts left"
    );
    if !converged(&nodes) || left != 0 {
        fail("the resolution did not converge");
    }
    check(&nodes, &issued);

    println!("\n== summary ==");
    println!("  writes accepted (before / during partition / total):");
    for (site, w) in issued.writes.iter().enumerate() {
        println!(
            "    {:<6} {:>3} / {:>3} / {:>3}",
            SITES[site], w[0], w[1], w[2]
        );
    }
    let total: u64 = issued.writes.iter().map(|w| w[2]).sum();
    println!("    all    {total} writes, none rejected, none lost");
    let t = traffic;
    println!(
        "  messages: {} ({} delta intervals or states, {} acks; {} lost on the phone's link)",
        t.messages,
        t.data,
        t.messages - t.data,
        t.dropped
    );
    println!(
        "  bytes shipped: {} with delta intervals vs {} for full-state sync of the same transmissions ({:.1}x less)",
        kb(t.bytes),
        kb(t.full_state_bytes),
        t.full_state_bytes as f64 / t.bytes.max(1) as f64
    );
    println!(
        "  after the heal: {} to catch up ({:.1}x less than full state)",
        kb(heal.bytes),
        heal.full_state_bytes as f64 / heal.bytes.max(1) as f64
    );
    let goal = 2 * n as u32;
    println!(
        "  rounds to converge after the heal: states equal after {}, all acknowledged after {rounds} (goal: <= 2N = {goal})",
        equal_at.unwrap_or(rounds)
    );
    let max_buffer = nodes.iter().map(Node::max_buffered).max().unwrap_or(0);
    let final_state = encoded_len(nodes[0].state());
    println!(
        "  largest delta buffer: {max_buffer} deltas; final state: {}",
        kb(final_state)
    );
    if rounds > goal {
        fail(&format!(
            "converging took {rounds} rounds, more than 2N = {goal}"
        ));
    }
    println!("\nOK: all {n} replicas converged; every write survived.");
}
