//! Last-writer-wins silently loses concurrent writes; a multi-value register
//! keeps them as siblings until the application resolves them.
//!
//! Three offices book the same meeting room for the same slot while the
//! network between them is down. One office's clock runs five minutes fast.
//! The same writes are replayed twice, on three [`Node`]s each:
//!
//! 1. [`LwwRegister`]: after the sync every office shows one booking — the
//!    one with the highest timestamp, which is the skewed clock's, not the
//!    last one made. The other two are gone; nobody was told, except the
//!    [`lost_writes`](LwwRegister::lost_writes) counter.
//! 2. [`MvRegister`]: after the sync every office shows all three bookings as
//!    siblings. An application resolves them *on read*: it reads the siblings
//!    and their context, decides, and writes the resolution back with
//!    [`resolve`](MvRegister::resolve), which supersedes exactly what was
//!    read. A booking made concurrently with the resolution (not read by it)
//!    survives as a new sibling and is resolved in turn.
//!
//! Exits with status 1 if the replicas fail to converge, the LWW run loses a
//! different number of writes than expected, or the MV run loses any.
//!
//! Run it with `cargo run --release --example lww_data_loss`.

use converge::sync::{Node, SyncConfig};
use converge::{Lattice, LwwRegister, MvRegister, OverflowError, ReplicaId, Validate};

const OFFICES: [&str; 3] = ["berlin", "boston", "tokyo"];

/// A booking: (office, real time in seconds after 10:00:00, clock skew in
/// seconds, what).
const BOOKINGS: [(usize, u64, u64, &str); 3] = [
    (0, 10, 0, "berlin: sprint planning"),
    (1, 40, 0, "boston: customer call"),
    // Tokyo books first, but its clock is 5 minutes fast.
    (2, 5, 300, "tokyo: interview"),
];

fn fail(why: &str) -> ! {
    println!("\nFAILED: {why}");
    std::process::exit(1);
}

fn id(i: usize) -> ReplicaId {
    ReplicaId::new(i as u64 + 1)
}

fn nodes<T: Lattice + converge::DeltaSince + Validate>() -> Vec<Node<T>> {
    (0..OFFICES.len())
        .map(|i| Node::new(id(i), (0..OFFICES.len()).map(id), SyncConfig::default()))
        .collect()
}

/// Syncs every ordered pair until no message is due; returns the messages sent.
fn sync_all<T: Lattice + converge::DeltaSince + Validate>(nodes: &mut [Node<T>]) -> usize {
    let mut sent = 0;
    for _ in 0..2 * nodes.len() {
        let before = sent;
        for from in 0..nodes.len() {
            for to in 0..nodes.len() {
                if from == to {
                    continue;
                }
                let Some(msg) = nodes[from].sync_to(nodes[to].id()) else {
                    continue;
                };
                sent += 1;
                let replies = nodes[to]
                    .receive(msg)
                    .unwrap_or_else(|e| fail(&format!("{} rejected a message: {e}", OFFICES[to])));
                for reply in replies {
                    sent += 1;
                    if let Err(e) = nodes[from].receive(reply) {
                        fail(&format!("{} rejected a reply: {e}", OFFICES[from]));
                    }
                }
            }
        }
        if sent == before {
            return sent;
        }
    }
    fail("the replicas did not settle");
}

fn converged<T: Lattice + converge::DeltaSince + Validate>(nodes: &[Node<T>]) -> bool {
    nodes.windows(2).all(|w| w[0].state() == w[1].state())
        && nodes.iter().all(|n| n.state().check_invariants().is_ok())
}

fn clock(real: u64) -> String {
    format!("10:{:02}:{:02}", real / 60, real % 60)
}

fn lww() -> Result<u64, OverflowError> {
    println!("== 1. LwwRegister<String>: the highest timestamp wins ==");
    let mut offices: Vec<Node<LwwRegister<String>>> = nodes();
    println!("  -- the network between the offices is down --");
    let mut by_time = BOOKINGS;
    by_time.sort_by_key(|b| b.1);
    for (office, real, skew, what) in by_time {
        let stamp = 36_000 + real + skew;
        offices[office].try_update(|reg, r| reg.write(r, what.to_owned(), stamp))?;
        let note = if skew > 0 { "  (clock 5 min fast)" } else { "" };
        println!(
            "  {} {:<7} books \"{what}\", timestamp {stamp}{note}",
            clock(real),
            OFFICES[office]
        );
    }
    println!("  -- the network is back --");
    let messages = sync_all(&mut offices);
    let value = offices[0].state().value().cloned().unwrap_or_default();
    println!("  after {messages} messages every office shows: \"{value}\"");
    let mut lost = 0;
    for (i, node) in offices.iter().enumerate() {
        println!(
            "    {:<7} lost_writes() = {}",
            OFFICES[i],
            node.state().lost_writes()
        );
        lost = lost.max(node.state().lost_writes());
    }
    let last = by_time[by_time.len() - 1].3;
    println!("  the last booking made (\"{last}\") lost to a clock that ran fast;");
    println!(
        "  {} of {} bookings vanished without an error; only lost_writes() tells ({lost} at each office)",
        BOOKINGS.len() - 1,
        BOOKINGS.len()
    );
    if !converged(&offices) {
        fail("the LWW replicas diverged");
    }
    Ok(lost)
}

fn siblings(reg: &MvRegister<String>) -> String {
    let values: Vec<String> = reg.values().map(|v| format!("\"{v}\"")).collect();
    values.join(" | ")
}

fn mv() -> usize {
    println!("\n== 2. MvRegister<String>: concurrent writes are kept as siblings ==");
    let mut offices: Vec<Node<MvRegister<String>>> = nodes();
    println!("  -- the network between the offices is down --");
    let mut by_time = BOOKINGS;
    by_time.sort_by_key(|b| b.1);
    for (office, real, _, what) in by_time {
        offices[office].update(|reg, r| reg.write(r, what.to_owned()));
        println!("  {} {:<7} books \"{what}\"", clock(real), OFFICES[office]);
    }
    println!("  -- the network is back --");
    let messages = sync_all(&mut offices);
    let kept = offices[0].state().values().len();
    println!(
        "  after {messages} messages every office shows {kept} siblings: {}",
        siblings(offices[0].state())
    );

    // Berlin's app reads the conflict and resolves it; meanwhile Tokyo, not
    // yet having heard of the resolution, adds a booking of its own.
    let read = offices[0].state().read_context();
    let resolution = "berlin: interview 10:00, planning + call moved to 11:00".to_owned();
    offices[0].update(|reg, r| reg.resolve(r, resolution.clone(), &read));
    println!("  10:05:00 berlin  reads the 3 siblings, resolves: \"{resolution}\"");
    offices[2].update(|reg, r| reg.write(r, "tokyo: room needed for a demo too".to_owned()));
    println!("  10:05:01 tokyo   (has not seen the resolution) books \"tokyo: room needed for a demo too\"");
    // Tokyo's write observed the three siblings, so it supersedes them too;
    // Berlin's resolution did not observe Tokyo's new write.
    let messages = sync_all(&mut offices);
    println!(
        "  after {messages} messages: {}",
        siblings(offices[1].state())
    );
    let second = offices[1].state().values().len();

    let read = offices[1].state().read_context();
    let merged = offices[1]
        .state()
        .values()
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    offices[1].update(|reg, r| reg.resolve(r, merged.clone(), &read));
    println!("  10:06:00 boston  resolves the remaining conflict on read");
    let messages = sync_all(&mut offices);
    println!(
        "  after {messages} messages every office shows: {}",
        siblings(offices[2].state())
    );
    if !converged(&offices) {
        fail("the MV replicas diverged");
    }
    if offices[0].state().is_conflicted() {
        fail("the resolution did not settle the conflict");
    }
    if kept != BOOKINGS.len() || second != 2 {
        fail(&format!(
            "expected {} then 2 siblings, saw {kept} then {second}",
            BOOKINGS.len()
        ));
    }
    kept
}

fn main() {
    println!("Concurrent bookings of room 4B, Thursday 10:00, from three offices\n");
    let lost = match lww() {
        Ok(lost) => lost,
        Err(e) => fail(&format!("clock overflow: {e}")),
    };
    let kept = mv();
    println!("\n== summary ==");
    println!(
        "  LwwRegister: 1 of {} bookings survived; lost_writes() = {lost} at each office, no error raised",
        BOOKINGS.len()
    );
    println!("  MvRegister:  {kept} of {} bookings surfaced as siblings, resolved on read and written back; none lost", BOOKINGS.len());
    if lost == 0 {
        fail("LWW should have discarded concurrent writes");
    }
    println!("\nOK: both runs converged; only LWW lost writes.");
}
