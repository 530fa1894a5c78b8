//! Conflict avoidance: route each user's writes to a home leader.
//!
//! Three data centers replicate user profiles, `OrMap<user, OrMap<field,
//! MvRegister<value>>>`, as [`Node`]s; replication runs every few ticks, so
//! the data centers lag behind each other. Each user's writes go to the
//! user's *home* data center. Writes at different homes touch different keys,
//! and one leader orders its own writes, so no conflict ever arises however
//! late replication is.
//!
//! Then two users change home mid-stream:
//!
//! - ann's home moves abruptly (a failover): her last writes at the old home
//!   have not replicated when she writes at the new one. Those writes are
//!   concurrent, and the profile fields both touched hold two siblings;
//! - ben's home moves with a hand-off: the old home first syncs to the new
//!   one until it acknowledges every delta ([`Node::sync_to`] returns
//!   `None`), and only then are ben's writes routed there. No conflict.
//!
//! ann's conflicts are resolved on read at her new home: the client numbers
//! its own edits, so the application keeps the sibling with the highest
//! number and writes it back with [`MvRegister::resolve`]. The stream then
//! continues with the new homes, conflict-free.
//!
//! Exits with status 1 if the replicas fail to converge, a conflict appears
//! where none should, or ann's move does not produce the expected conflicts.
//!
//! Run it with `cargo run --release --example conflict_avoidance`.

use std::collections::BTreeMap;

use converge::sync::{Node, SyncConfig};
use converge::{MvRegister, OrMap, ReplicaId, Validate};

/// user -> field -> value.
type Profiles = OrMap<String, OrMap<String, MvRegister<String>>>;

const DCS: [&str; 3] = ["eu", "us", "ap"];
const EU: usize = 0;
const US: usize = 1;
const AP: usize = 2;
/// Users and their first home.
const USERS: [(&str, usize); 4] = [("ann", EU), ("ben", US), ("chen", AP), ("dora", EU)];
const FIELDS: [&str; 2] = ["status", "location"];
/// Replication runs after every this many ticks.
const SYNC_EVERY: u32 = 4;
const TICKS: u32 = 24;
/// At this tick ann fails over eu -> us, and ben is handed off us -> ap.
const MOVE_AT: u32 = 15;

fn fail(why: &str) -> ! {
    println!("\nFAILED: {why}");
    std::process::exit(1);
}

fn id(dc: usize) -> ReplicaId {
    ReplicaId::new(dc as u64 + 1)
}

/// Sends `from`'s pending message to `to` and the replies back; returns the
/// number of messages.
fn exchange(nodes: &mut [Node<Profiles>], from: usize, to: usize) -> usize {
    let Some(msg) = nodes[from].sync_to(id(to)) else {
        return 0;
    };
    let replies = nodes[to].receive(msg).unwrap_or_else(|e| {
        fail(&format!(
            "{} rejected {}'s message: {e}",
            DCS[to], DCS[from]
        ))
    });
    let mut sent = 1;
    for reply in replies {
        sent += 1;
        if let Err(e) = nodes[from].receive(reply) {
            fail(&format!("{} rejected {}'s reply: {e}", DCS[from], DCS[to]));
        }
    }
    sent
}

/// One replication round over every link.
fn replicate(nodes: &mut [Node<Profiles>]) -> usize {
    let mut sent = 0;
    for from in 0..nodes.len() {
        for to in 0..nodes.len() {
            if from != to {
                sent += exchange(nodes, from, to);
            }
        }
    }
    sent
}

/// Conflicted fields at a data center: (user, field, siblings).
fn conflicts(doc: &Profiles) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for (user, fields) in doc.iter() {
        for (field, reg) in fields.iter() {
            if reg.is_conflicted() {
                out.push((user.clone(), field.clone(), reg.values().cloned().collect()));
            }
        }
    }
    out.sort();
    out
}

fn converged(nodes: &[Node<Profiles>]) -> bool {
    nodes.windows(2).all(|w| w[0].state() == w[1].state())
        && nodes.iter().all(|n| n.state().check_invariants().is_ok())
}

/// The client's edit number, the suffix of a value ("... #12").
fn edit_number(value: &str) -> u32 {
    value
        .rsplit_once('#')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

fn main() {
    println!("Conflict avoidance: each user's writes go to a home data center");
    println!("(replication every {SYNC_EVERY} ticks; a write is \"user@dc field\")\n");
    let mut nodes: Vec<Node<Profiles>> = (0..DCS.len())
        .map(|dc| Node::new(id(dc), (0..DCS.len()).map(id), SyncConfig::default()))
        .collect();
    let mut home: BTreeMap<&str, usize> = USERS.iter().copied().collect();
    let mut edits: BTreeMap<&str, u32> = BTreeMap::new();
    let mut conflicts_before_move = 0;
    let mut ann_conflicts = Vec::new();
    let mut conflicts_after = 0;

    for tick in 1..=TICKS {
        if tick == MOVE_AT {
            home.insert("ann", US);
            println!("  -- t{tick}: failover: ann's home moves eu -> us at once (eu's last writes not yet replicated) --");
            let mut handoff = 0;
            while nodes[US].sync_to(id(AP)).is_some() {
                handoff += exchange(&mut nodes, US, AP);
            }
            home.insert("ben", AP);
            println!("  -- t{tick}: hand-off: us syncs to ap until every delta is acknowledged ({handoff} messages), then ben's home moves us -> ap --");
        }
        let mut line = Vec::new();
        for (user, _) in USERS {
            let dc = home[user];
            let n = edits.entry(user).or_insert(0);
            *n += 1;
            let field = FIELDS[(*n as usize) % FIELDS.len()].to_owned();
            let value = format!("{user} {field} #{n}");
            line.push(format!("{user}@{} {field}", DCS[dc]));
            nodes[dc].update(|doc, r| {
                doc.update(r, user.to_owned(), |fields| {
                    fields.update(r, field, |reg| reg.write(r, value))
                })
            });
        }
        println!("  t{tick:<2} {}", line.join(", "));
        if tick % SYNC_EVERY == 0 {
            let sent = replicate(&mut nodes);
            let found = conflicts(nodes[EU].state());
            println!(
                "       replication: {sent} messages; replicas {}; conflicted fields: {}",
                if converged(&nodes) {
                    "equal"
                } else {
                    "NOT equal"
                },
                found.len()
            );
            if tick < MOVE_AT {
                conflicts_before_move += found.len();
            } else if found.is_empty() {
                continue;
            } else if ann_conflicts.is_empty() {
                ann_conflicts.clone_from(&found);
                resolve_on_read(&mut nodes, &found);
            } else {
                conflicts_after += found.len();
            }
        }
    }
    let sent = replicate(&mut nodes);
    println!("  final replication: {sent} messages");

    println!("\n== summary ==");
    println!("  conflicts while every user had one home: {conflicts_before_move}");
    println!(
        "  conflicts after ann's failover: {} (fields {}); after ben's hand-off: {}",
        ann_conflicts.len(),
        ann_conflicts
            .iter()
            .map(|(u, f, _)| format!("{u}.{f}"))
            .collect::<Vec<_>>()
            .join(", "),
        ann_conflicts.iter().filter(|(u, ..)| u != "ann").count()
    );
    println!("  conflicts after the resolution: {conflicts_after}");
    if !converged(&nodes) {
        fail("the replicas diverged");
    }
    if conflicts_before_move != 0 || conflicts_after != 0 {
        fail("a conflict appeared where routing should have avoided it");
    }
    if ann_conflicts.is_empty() || ann_conflicts.iter().any(|(u, ..)| u != "ann") {
        fail("expected conflicts from ann's failover, and only those");
    }
    println!("\nOK: routed writes never conflicted; the failover's conflicts were resolved; all replicas converged.");
}

/// Resolves conflicts on read at the user's new home (us): keep the value
/// with the highest client edit number, superseding exactly the siblings read.
fn resolve_on_read(nodes: &mut [Node<Profiles>], found: &[(String, String, Vec<String>)]) {
    for (user, field, values) in found {
        println!("       conflict: {user}.{field} = {}", values.join(" | "));
        let Some(keep) = values.iter().max_by_key(|v| edit_number(v)).cloned() else {
            continue;
        };
        let read = nodes[US]
            .state()
            .get(user)
            .and_then(|fields| fields.get(field))
            .map(MvRegister::read_context)
            .unwrap_or_default();
        let (user, field) = (user.clone(), field.clone());
        println!("       us resolves on read: {user}.{field} = \"{keep}\" (highest edit number), written back");
        nodes[US].update(|doc, r| {
            doc.update(r, user, |fields| {
                fields.update(r, field, |reg| reg.resolve(r, keep, &read))
            })
        });
    }
    let sent = replicate(nodes);
    println!(
        "       replication: {sent} messages; replicas {}; conflicted fields: {}",
        if converged(nodes) {
            "equal"
        } else {
            "NOT equal"
        },
        conflicts(nodes[AP].state()).len()
    );
}
