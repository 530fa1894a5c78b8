//! A phone's calendar keeps working offline, and catches up with one message.
//!
//! Three replicas of one calendar — the cloud, a laptop and a phone — are
//! [`Node`]s over `OrMap<day, OrMap<time, MvRegister<event>>>`. The calendar
//! starts with a year of history, replicated everywhere. Then the phone goes
//! offline (and its owner books a few events on it), while 10,000 writes
//! happen elsewhere: bookings, rescheduled events and cancellations, at the
//! cloud (the web UI) and on the laptop, which syncs with the cloud.
//!
//! When the phone reconnects it sends each peer a digest (its causal
//! context); the cloud answers with exactly what the phone lacks — one
//! message. The example prints its size against the cloud's full state, the
//! sum of the 10,000 deltas, and their join (the goal: at most 2× the join),
//! and shows what the delta-interval path alone would have sent: the cloud's
//! buffer holds at most [`SyncConfig::max_buffer`] deltas, so it would fall
//! back to the full state.
//!
//! Exits with status 1 if the replicas fail to converge, a message is
//! rejected, or the catch-up misses the goal.
//!
//! Run it with `cargo run --release --example offline_calendar`.

use converge::sync::{Message, Node, SyncConfig};
use converge::{Lattice, MvRegister, OrMap, ReplicaId, Validate};
use serde::Serialize;

/// day ("d123") -> time ("14:30") -> event; concurrent bookings are siblings.
type Calendar = OrMap<String, OrMap<String, MvRegister<String>>>;

const CLOUD: ReplicaId = ReplicaId::new(1);
const LAPTOP: ReplicaId = ReplicaId::new(2);
const PHONE: ReplicaId = ReplicaId::new(3);

/// Writes before the phone goes offline (days 0..200).
const HISTORY: usize = 20_000;
/// Writes elsewhere while the phone is offline.
const MISSED: usize = 10_000;
/// Writes on the phone while it is offline.
const OFFLINE_WRITES: usize = 25;
/// The laptop syncs with the cloud every this many of its writes.
const LAPTOP_SYNC_EVERY: usize = 250;
const SEED: u64 = 0x0ca1_e0da_2024_0042;

const EVENTS: [&str; 10] = [
    "standup",
    "dentist",
    "1:1 with sam",
    "flight LH400",
    "gym",
    "lunch",
    "design review",
    "demo",
    "school run",
    "dinner",
];

/// xorshift64.
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
}

fn fail(why: &str) -> ! {
    println!("\nFAILED: {why}");
    std::process::exit(1);
}

fn encoded_len<S: Serialize>(value: &S) -> usize {
    match postcard::to_allocvec(value) {
        Ok(bytes) => bytes.len(),
        Err(e) => fail(&format!("cannot encode: {e}")),
    }
}

fn kb(bytes: usize) -> String {
    format!("{:.1} kB", bytes as f64 / 1000.0)
}

/// One calendar write on days `days`: a booking (or a reschedule over an
/// existing one), or a cancellation. Returns the delta.
fn write(node: &mut Node<Calendar>, rng: &mut Rng, days: std::ops::Range<usize>) -> Calendar {
    let day = format!("d{:03}", days.start + rng.below(days.len()));
    let time = format!("{:02}:{:02}", 8 + rng.below(10), 30 * rng.below(2));
    let cancel = rng.below(10) == 0;
    let event = EVENTS[rng.below(EVENTS.len())].to_owned();
    let mut delta = Calendar::new();
    node.update(|cal, r| {
        let d = if cancel {
            cal.update(r, day, |slots| slots.remove(r, &time))
        } else {
            cal.update(r, day, |slots| {
                slots.update(r, time, |booking| booking.write(r, event))
            })
        };
        delta = d.clone();
        d
    });
    delta
}

/// Sends `from`'s pending message to `to` and the replies back; returns the
/// bytes of the first message (0 if none was due).
fn sync(from: &mut Node<Calendar>, to: &mut Node<Calendar>) -> usize {
    let Some(msg) = from.sync_to(to.id()) else {
        return 0;
    };
    let size = encoded_len(&msg);
    deliver(msg, to, from);
    size
}

/// Delivers `msg` to `to` and `to`'s replies back to `from`.
fn deliver(msg: Message<Calendar>, to: &mut Node<Calendar>, from: &mut Node<Calendar>) {
    let replies = to
        .receive(msg)
        .unwrap_or_else(|e| fail(&format!("{} rejected a message: {e}", to.id())));
    for reply in replies {
        if let Err(e) = from.receive(reply) {
            fail(&format!("{} rejected a reply: {e}", from.id()));
        }
    }
}

/// Syncs every pair both ways until nothing is due.
fn settle(nodes: &mut [&mut Node<Calendar>]) {
    for _ in 0..8 {
        let mut sent = 0;
        for i in 0..nodes.len() {
            for j in 0..nodes.len() {
                if i != j {
                    let (a, b) = two(nodes, i, j);
                    sent += sync(a, b);
                }
            }
        }
        if sent == 0 {
            return;
        }
    }
    fail("the replicas did not settle");
}

fn two<'a>(
    nodes: &'a mut [&mut Node<Calendar>],
    i: usize,
    j: usize,
) -> (&'a mut Node<Calendar>, &'a mut Node<Calendar>) {
    if i < j {
        let (l, r) = nodes.split_at_mut(j);
        (&mut *l[i], &mut *r[0])
    } else {
        let (l, r) = nodes.split_at_mut(i);
        (&mut *r[0], &mut *l[j])
    }
}

fn events(cal: &Calendar) -> usize {
    cal.iter().map(|(_, slots)| slots.len()).sum()
}

fn main() {
    println!(
        "Offline calendar: a phone catches up after {MISSED} missed writes (seed {SEED:#x})\n"
    );
    let config = SyncConfig::default();
    let mut cloud: Node<Calendar> = Node::new(CLOUD, [LAPTOP, PHONE], config);
    let mut laptop: Node<Calendar> = Node::new(LAPTOP, [CLOUD, PHONE], config);
    let mut phone: Node<Calendar> = Node::new(PHONE, [CLOUD, LAPTOP], config);
    let mut rng = Rng(SEED);

    for i in 0..HISTORY {
        if i % 2 == 0 {
            write(&mut cloud, &mut rng, 0..200);
        } else {
            write(&mut laptop, &mut rng, 0..200);
        }
        if i % 500 == 499 {
            settle(&mut [&mut cloud, &mut laptop, &mut phone]);
        }
    }
    settle(&mut [&mut cloud, &mut laptop, &mut phone]);
    let state_before = encoded_len(phone.state());
    println!(
        "  t1  {HISTORY} writes of history, replicated everywhere: {} events, state {}",
        events(phone.state()),
        kb(state_before)
    );

    println!("  t2  the phone goes offline");
    for _ in 0..OFFLINE_WRITES {
        write(&mut phone, &mut rng, 200..366);
    }
    println!("  t3  on the phone, offline: {OFFLINE_WRITES} bookings, accepted locally");

    let mut deltas: Vec<Calendar> = Vec::with_capacity(MISSED);
    let mut laptop_writes = 0;
    for i in 0..MISSED {
        if i % 2 == 0 {
            deltas.push(write(&mut cloud, &mut rng, 150..366));
        } else {
            deltas.push(write(&mut laptop, &mut rng, 150..366));
            laptop_writes += 1;
            if laptop_writes % LAPTOP_SYNC_EVERY == 0 {
                sync(&mut laptop, &mut cloud);
                sync(&mut cloud, &mut laptop);
            }
        }
    }
    sync(&mut laptop, &mut cloud);
    sync(&mut cloud, &mut laptop);
    println!(
        "  t4  elsewhere: {MISSED} writes ({} at the cloud, {laptop_writes} on the laptop, synced with each other)",
        MISSED - laptop_writes
    );
    let full = encoded_len(cloud.state());
    println!(
        "      the cloud now holds {} events, full state {}; it buffered {} of its deltas (max_buffer {})",
        events(cloud.state()),
        kb(full),
        cloud.buffered(),
        config.max_buffer
    );

    // What the delta-interval path alone would send the phone.
    let interval = cloud.sync_to(PHONE).map_or(0, |m| {
        let kind = match m {
            Message::Deltas { .. } => "a delta interval",
            Message::State { .. } => "the full state (the interval is no longer buffered)",
            _ => "something else",
        };
        println!(
            "      (the cloud's next delta-interval message to the phone would be {kind}: {})",
            kb(encoded_len(&m))
        );
        encoded_len(&m)
    });

    println!("\n  t5  the phone reconnects and sends each peer a digest (its causal context)");
    let to_cloud = phone.digest();
    let digest_size = encoded_len(&to_cloud);
    let mut replies = cloud
        .receive(to_cloud)
        .unwrap_or_else(|e| fail(&format!("the cloud rejected the digest: {e}")));
    if replies.len() != 1 {
        fail(&format!(
            "the cloud answered a digest with {} messages",
            replies.len()
        ));
    }
    let reply = replies.remove(0);
    let reply_size = encoded_len(&reply);
    if !matches!(reply, Message::State { .. }) {
        fail("the cloud's answer to a digest is not a state");
    }
    deliver(reply, &mut phone, &mut cloud);
    println!(
        "      phone -> cloud  digest            {:>9}",
        kb(digest_size)
    );
    println!(
        "      cloud -> phone  the missing delta {:>9}   <- the catch-up: one message",
        kb(reply_size)
    );
    let to_laptop = phone.digest();
    let laptop_digest = encoded_len(&to_laptop);
    let mut laptop_reply_size = 0;
    for reply in laptop
        .receive(to_laptop)
        .unwrap_or_else(|e| fail(&format!("the laptop rejected the digest: {e}")))
    {
        laptop_reply_size += encoded_len(&reply);
        if let Err(e) = phone.receive(reply) {
            fail(&format!("the phone rejected the laptop's answer: {e}"));
        }
    }
    println!(
        "      phone -> laptop digest            {:>9}",
        kb(laptop_digest)
    );
    println!(
        "      laptop -> phone nothing new       {:>9}   (it only tells the laptop the phone is up to date)",
        kb(laptop_reply_size)
    );
    let equal_after_one = cloud.state().leq(phone.state());
    println!(
        "      the phone {} everything the cloud has",
        if equal_after_one {
            "now holds"
        } else {
            "does NOT hold"
        }
    );

    // The phone's offline bookings go up the ordinary way.
    let up = sync(&mut phone, &mut cloud) + sync(&mut phone, &mut laptop);
    settle(&mut [&mut cloud, &mut laptop, &mut phone]);
    println!(
        "  t6  the phone's {OFFLINE_WRITES} offline bookings go up as delta intervals: {}",
        kb(up)
    );

    let sum: usize = deltas.iter().map(encoded_len).sum();
    let joined = deltas
        .into_iter()
        .fold(Calendar::new(), |acc, d| acc.joined(d));
    let joined_size = encoded_len(&joined);
    println!("\n== sizes (postcard) ==");
    println!(
        "  the {MISSED} missed deltas, each encoded      {:>9}",
        kb(sum)
    );
    println!(
        "  the {MISSED} missed deltas, joined             {:>9}",
        kb(joined_size)
    );
    println!(
        "  the catch-up message                      {:>9}   = {:.2}x the joined deltas (goal <= 2x), {:.2}x the sum",
        kb(reply_size),
        reply_size as f64 / joined_size as f64,
        reply_size as f64 / sum as f64
    );
    println!(
        "  the cloud's full state                    {:>9}   ({:.1}x the catch-up)",
        kb(full),
        full as f64 / reply_size as f64
    );
    if interval > 0 {
        println!(
            "  the delta-interval fallback               {:>9}",
            kb(interval)
        );
    }

    let converged = phone.state() == cloud.state() && laptop.state() == cloud.state();
    for (name, node) in [("cloud", &cloud), ("laptop", &laptop), ("phone", &phone)] {
        if let Err(e) = node.state().check_invariants() {
            fail(&format!("the {name} breaks an invariant: {e}"));
        }
    }
    if !equal_after_one {
        fail("one message did not bring the phone up to date");
    }
    if !converged {
        fail("the replicas diverged");
    }
    if reply_size > 2 * joined_size {
        fail("the catch-up message is more than twice the joined deltas");
    }
    println!("\nOK: one message caught the phone up; all three replicas converged.");
}
