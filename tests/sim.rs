//! The deterministic network simulator (TESTPLAN b.2), D10 and the catch-up
//! goal.
//!
//! Tier (`CONVERGE_TEST_TIER`): `ci` (default) runs 200 seeds per type × 7
//! types × {3, 5} replicas × 200 operations (800 steps) in all four modes;
//! `long` runs 10,000 seeds × {2, 3, 5, 8} replicas × 1,000 operations.
//! `CONVERGE_SIM_SEEDS` overrides the seed count, `CONVERGE_SIM_SEED`
//! replays one seed, `CONVERGE_SIM_ONLY=Text` runs the types whose name
//! contains the string. On a failure the seed and configuration are printed,
//! then the script is shrunk and the shrunk script printed.
//!
//! The F5/F6 table is written to stderr directly (not captured by the test
//! harness) when the sweep finishes.
#![cfg(all(feature = "sim", feature = "serde"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

use converge::laws::Replay;
use converge::sim::{minimise, run, script, Mode, SimConfig, SimReport};
use converge::sync::{Message, Node, SyncConfig};
use converge::{
    CausalCounter, DeltaSince, Lattice, List, LwwRegister, MvRegister, OrMap, OrSet, ReplicaId,
    Text, Validate,
};
use serde::Serialize;

fn long() -> bool {
    std::env::var("CONVERGE_TEST_TIER").as_deref() == Ok("long")
}

struct Tier {
    seeds: u64,
    replicas: &'static [usize],
    ops: usize,
}

fn tier() -> Tier {
    let mut t = if long() {
        Tier {
            seeds: 10_000,
            replicas: &[2, 3, 5, 8],
            ops: 1_000,
        }
    } else {
        Tier {
            seeds: 200,
            replicas: &[3, 5],
            ops: 200,
        }
    };
    if let Some(s) = std::env::var("CONVERGE_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        t.seeds = s;
    }
    t
}

fn bytes<T: Serialize>(x: &T) -> usize {
    postcard::to_allocvec(x).unwrap().len()
}

/// Aggregate of one (type, replicas) sweep, per mode.
#[derive(Clone, Debug, Default)]
struct Row {
    ty: &'static str,
    replicas: usize,
    mode: &'static str,
    runs: u64,
    ops: u64,
    bottom_ops: u64,
    sent: u64,
    delivered: u64,
    reordered: u64,
    dropped: u64,
    duplicated: u64,
    partitions: u64,
    crashes: u64,
    max_buffered: usize,
    max_in_flight: usize,
    rounds_sum: u64,
    rounds_max: usize,
    quiesce_max: usize,
    heal_messages: u64,
    causal_checks: u64,
    bytes_sum: u64,
    bytes_max: usize,
    secs: f64,
}

fn add<T: Replay + Serialize>(rows: &mut [Row], report: &SimReport<T>) {
    for (row, m) in rows.iter_mut().zip(&report.modes) {
        let s = &m.stats;
        row.runs += 1;
        row.ops += s.ops as u64;
        row.bottom_ops += s.bottom_ops as u64;
        row.sent += s.sent as u64;
        row.delivered += s.delivered as u64;
        row.reordered += s.reordered as u64;
        row.dropped += s.dropped as u64;
        row.duplicated += s.duplicated as u64;
        row.partitions += s.partitions as u64;
        row.crashes += s.crashes as u64;
        row.max_buffered = row.max_buffered.max(s.max_buffered);
        row.max_in_flight = row.max_in_flight.max(s.max_in_flight);
        row.rounds_sum += s.rounds_to_converge as u64;
        row.rounds_max = row.rounds_max.max(s.rounds_to_converge);
        row.quiesce_max = row.quiesce_max.max(s.rounds_to_quiesce);
        row.heal_messages += s.heal_messages as u64;
        row.causal_checks += s.causal_checks as u64;
        let b = bytes(&m.final_state);
        row.bytes_sum += b as u64;
        row.bytes_max = row.bytes_max.max(b);
    }
}

fn sweep<T: Replay + Serialize>(ty: &'static str, replicas: usize, check_causal: bool) -> Vec<Row> {
    let t = tier();
    let mut config = SimConfig::new(replicas, t.ops);
    config.check_causal = check_causal;
    let mut rows: Vec<Row> = Mode::ALL
        .iter()
        .map(|m| Row {
            ty,
            replicas,
            mode: m.name(),
            ..Row::default()
        })
        .collect();
    let started = Instant::now();
    let seeds: Vec<u64> = match std::env::var("CONVERGE_SIM_SEED") {
        Ok(s) => vec![parse_seed(&s)],
        Err(_) => (0..t.seeds)
            .map(|i| type_seed(ty) ^ (replicas as u64) << 40 ^ i)
            .collect(),
    };
    for seed in seeds {
        match run::<T>(seed, &config) {
            Ok(report) => add(&mut rows, &report),
            Err(failure) => shrink_and_panic::<T>(ty, seed, &config, &failure),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    for r in &mut rows {
        r.secs = secs;
    }
    rows
}

/// Seeds differ per type (FNV-1a of its name), so types do not share
/// network schedules.
fn type_seed(ty: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in ty.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h & !((1 << 48) - 1)
}

/// Prints the failure, shrinks the script, prints the shrunk script, panics.
fn shrink_and_panic<T: Replay>(
    ty: &str,
    seed: u64,
    config: &SimConfig,
    failure: &converge::sim::SimFailure,
) -> ! {
    eprintln!("{ty}: {failure}");
    let events = script::<T>(seed, config).unwrap();
    if let Some((small, f)) = minimise::<T>(seed, config, events) {
        eprintln!("{ty}: shrunk to {} events:\n{small:#?}\n{f}", small.len());
    }
    panic!("{ty}: {failure}");
}

fn parse_seed(s: &str) -> u64 {
    s.strip_prefix("0x").map_or_else(
        || s.parse().unwrap(),
        |h| u64::from_str_radix(h, 16).unwrap(),
    )
}

fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(
        "| type | N | mode | runs | ops (⊥) | sent | delivered (reordered) | dropped | duplicated | partitions | crashes | max buffer | max in flight | rounds mean/max (quiesce max) | heal msgs/run | D5 checks | final bytes mean/max |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in rows {
        let runs = r.runs.max(1);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} ({}) | {} | {} ({}) | {} | {} | {} | {} | {} | {} | {:.2}/{} ({}) | {:.1} | {} | {:.0}/{} |\n",
            r.ty,
            r.replicas,
            r.mode,
            r.runs,
            r.ops,
            r.bottom_ops,
            r.sent,
            r.delivered,
            r.reordered,
            r.dropped,
            r.duplicated,
            r.partitions,
            r.crashes,
            r.max_buffered,
            r.max_in_flight,
            r.rounds_sum as f64 / runs as f64,
            r.rounds_max,
            r.quiesce_max,
            r.heal_messages as f64 / runs as f64,
            r.causal_checks,
            r.bytes_sum as f64 / runs as f64,
            r.bytes_max,
        ));
    }
    out
}

type Sweep = fn(usize) -> Vec<Row>;
type Job = (&'static str, usize, Sweep);

/// The whole tier on up to two threads; prints the F5/F6 table.
#[test]
fn sim_all_modes_converge() {
    let t = tier();
    // D5 is checked separately (`d5_protocol_mode_is_causally_consistent`).
    let kinds: Vec<(&'static str, Sweep)> = vec![
        ("OrSet<u8>", |n| sweep::<OrSet<u8>>("OrSet<u8>", n, false)),
        ("MvRegister<u8>", |n| {
            sweep::<MvRegister<u8>>("MvRegister<u8>", n, false)
        }),
        ("CausalCounter", |n| {
            sweep::<CausalCounter>("CausalCounter", n, false)
        }),
        ("LwwRegister<u8>", |n| {
            sweep::<LwwRegister<u8>>("LwwRegister<u8>", n, false)
        }),
        ("OrMap<u8, OrSet<u8>>", |n| {
            sweep::<OrMap<u8, OrSet<u8>>>("OrMap<u8,OrSet<u8>>", n, false)
        }),
        ("Text", |n| sweep::<Text>("Text", n, false)),
        ("List<u8>", |n| sweep::<List<u8>>("List<u8>", n, false)),
    ];
    let only = std::env::var("CONVERGE_SIM_ONLY").ok();
    let jobs: Vec<Job> = kinds
        .iter()
        .filter(|(name, _)| only.as_deref().is_none_or(|o| name.contains(o)))
        .flat_map(|&(name, f)| t.replicas.iter().map(move |&n| (name, n, f)))
        .collect();
    let queue = Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>());
    let results: Mutex<Vec<(usize, Vec<Row>)>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(2);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let next = queue.lock().unwrap().pop();
                let Some((i, (_, n, f))) = next else { break };
                let rows = f(n);
                results.lock().unwrap().push((i, rows));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    let rows: Vec<Row> = results.into_iter().flat_map(|(_, r)| r).collect();
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "\nsimulator, tier {}: {} seeds × {:?} replicas × {} ops per type, {:.1} s on {threads} threads\n{}",
        if long() { "long" } else { "ci" },
        t.seeds,
        t.replicas,
        t.ops,
        started.elapsed().as_secs_f64(),
        table(&rows)
    );
    for r in &rows {
        let _ = writeln!(
            err,
            "  {} N={} {}: {:.1} s",
            r.ty, r.replicas, r.mode, r.secs
        );
    }
}

/// D7 (Akka #22655, TESTPLAN b.3 #5 shape): an update with a delta, one
/// without, one with: the numbering has no hole and the receiver of the
/// interval holds all three.
#[test]
fn d7_bottom_delta_keeps_numbering() {
    let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
    let mut x: Node<OrSet<u8>> = Node::new(a, [b], SyncConfig::default());
    let mut y: Node<OrSet<u8>> = Node::new(b, [a], SyncConfig::default());
    x.update(|s, r| s.insert(r, 1));
    x.update(|s, _| s.remove(&9)); // nothing to remove: bottom delta
    x.update(|s, r| s.insert(r, 2));
    assert_eq!(x.seq(), 3);
    match x.sync_to(b).unwrap() {
        Message::Deltas { start, end, .. } => assert_eq!((start, end), (0, 3)),
        m => panic!("expected an interval, got {m:?}"),
    }
    let m = x.sync_to(b).unwrap();
    for reply in y.receive(m).unwrap() {
        x.receive(reply).unwrap();
    }
    assert_eq!(y.state(), x.state());
    assert_eq!(y.acked_to(a), 3);
    assert_eq!(x.buffered(), 0);
}

/// D10: a peer that never acknowledges costs at most `max_buffer` deltas;
/// it then gets the full state; once every peer acknowledged `k`, no delta
/// below `k` is buffered.
#[test]
fn d10_silent_peer_costs_bounded_buffer() {
    let (a, b, c) = (ReplicaId::new(1), ReplicaId::new(2), ReplicaId::new(3));
    let cap = 32;
    let mut x: Node<OrSet<u32>> = Node::new(a, [b, c], SyncConfig::with_max_buffer(cap));
    let mut y: Node<OrSet<u32>> = Node::new(b, [a, c], SyncConfig::with_max_buffer(cap));
    // `c` never acknowledges anything.
    let mut z: Node<OrSet<u32>> = Node::new(c, [a, b], SyncConfig::with_max_buffer(cap));
    for i in 0..(cap as u32 * 50) {
        x.update(|s, r| s.insert(r, i));
        assert!(x.buffered() <= cap, "buffer {} > cap {cap}", x.buffered());
        if i % 7 == 0 {
            // `y` acknowledges regularly.
            let m = x.sync_to(b).unwrap();
            for reply in y.receive(m).unwrap() {
                x.receive(reply).unwrap();
            }
        }
    }
    assert!(x.max_buffered() <= cap);
    assert_eq!(x.buffered(), cap);
    // The silent peer fell behind the buffer: full-state fallback.
    let m = x.sync_to(c).unwrap();
    assert!(matches!(m, Message::State { .. }), "{m:?}");
    let replies = z.receive(m).unwrap();
    assert_eq!(z.state(), x.state());
    // Its acknowledgement arrives now; with `y` caught up too, the buffer empties.
    for reply in replies {
        x.receive(reply).unwrap();
    }
    let m = x.sync_to(b).unwrap();
    for reply in y.receive(m).unwrap() {
        x.receive(reply).unwrap();
    }
    assert_eq!(x.buffered(), 0);
    assert!(x.sync_to(b).is_none() && x.sync_to(c).is_none());
    // Acknowledgement GC with a partial ack: only deltas >= k remain.
    for i in 0..10 {
        x.update(|s, r| s.insert(r, 100_000 + i));
    }
    let k = x.seq() - 4;
    x.receive(Message::Ack { from: b, upto: k }).unwrap();
    x.receive(Message::Ack { from: c, upto: k }).unwrap();
    assert_eq!(x.buffered(), 4);
}

/// Catch-up after 10,000 missed writes: one message, ≤ 2× the size of
/// those writes' deltas joined (issue goal). Prints the figures.
fn catch_up<T>(
    name: &str,
    shared: usize,
    missed: usize,
    mut write: impl FnMut(&mut T, ReplicaId, usize) -> T,
) where
    T: Lattice + DeltaSince + Validate + Serialize + std::fmt::Debug,
    T::Summary: Serialize,
{
    let (a, phone) = (ReplicaId::new(1), ReplicaId::new(2));
    let mut dc: Node<T> = Node::new(a, [phone], SyncConfig::default());
    let mut ph: Node<T> = Node::new(phone, [a], SyncConfig::default());
    for i in 0..shared {
        dc.update(|s, r| write(s, r, i));
    }
    let m = dc.sync_to(phone).unwrap();
    for reply in ph.receive(m).unwrap() {
        dc.receive(reply).unwrap();
    }
    assert_eq!(dc.state(), ph.state());
    // The phone goes offline; 10,000 writes happen at the data center.
    let mut missed_join = T::default();
    for i in shared..shared + missed {
        let mut d = T::default();
        dc.update(|s, r| {
            d = write(s, r, i);
            d.clone()
        });
        missed_join.join(d);
    }
    let want = bytes(&missed_join);
    // One message: the phone's digest is answered with what it lacks.
    let digest = ph.digest();
    let digest_bytes = bytes(&digest);
    let mut replies = dc.receive(digest).unwrap();
    assert_eq!(replies.len(), 1);
    let reply = replies.pop().unwrap();
    let got = bytes(&reply);
    ph.receive(reply).unwrap();
    assert_eq!(ph.state(), dc.state());
    // The protocol's own path (buffer of 1,024 overflowed: full state).
    let fallback = bytes(&dc.sync_to(phone).unwrap());
    let full = bytes(dc.state());
    let _ = writeln!(
        std::io::stderr(),
        "catch-up {name}: {missed} missed writes ({shared} shared before): digest {digest_bytes} B, \
         reply {got} B, missed deltas joined {want} B (ratio {:.3}); sync_to fallback {fallback} B; full state {full} B",
        got as f64 / want.max(1) as f64
    );
    assert!(
        got <= 2 * want,
        "{name}: catch-up message {got} B > 2 × {want} B"
    );
}

#[test]
fn catch_up_10000_missed_writes_in_one_message() {
    catch_up::<OrSet<u32>>("OrSet<u32>", 1_000, 10_000, |s, r, i| {
        if i % 5 == 4 {
            s.remove(&(i as u32 - 2))
        } else {
            s.insert(r, i as u32)
        }
    });
    catch_up::<OrMap<u16, MvRegister<u8>>>(
        "OrMap<u16,MvRegister<u8>>",
        1_000,
        10_000,
        |s, r, i| s.update(r, (i % 3_000) as u16, |v| v.write(r, i as u8)),
    );
    catch_up::<CausalCounter>("CausalCounter", 1_000, 10_000, |s, r, _| {
        s.increment(r, 1).unwrap()
    });
    catch_up::<Text>("Text", 1_000, 10_000, |s, r, i| {
        let len = s.len();
        if i % 10 == 9 && len > 0 {
            s.delete(r, len - 1..len).unwrap()
        } else {
            s.insert(r, len, "x").unwrap()
        }
    });
}

/// D5 (TESTPLAN a.3): under the delta-interval protocol a replica that
/// reflects an operation reflects everything that happened before it.
/// First the smallest case by hand (three nodes), then the simulator's D5
/// oracle (M3, hb bookkeeping, checked after every delivery) over seeds.
#[test]
fn d5_protocol_mode_is_causally_consistent() {
    let (a, b, c) = (ReplicaId::new(1), ReplicaId::new(2), ReplicaId::new(3));
    let cfg = SyncConfig::default();
    let mut x: Node<OrSet<u8>> = Node::new(a, [b, c], cfg);
    let mut y: Node<OrSet<u8>> = Node::new(b, [a, c], cfg);
    let mut z: Node<OrSet<u8>> = Node::new(c, [a, b], cfg);
    x.update(|s, r| s.insert(r, 1)); // o1
    let m = x.sync_to(b).unwrap();
    for reply in y.receive(m).unwrap() {
        x.receive(reply).unwrap();
    }
    y.update(|s, r| s.insert(r, 2)); // o2: o1 happened before it
    let m = y.sync_to(c).unwrap();
    z.receive(m).unwrap();
    assert!(
        !z.state().contains(&2) || z.state().contains(&1),
        "D5: c reflects b's insert(2) but not a's insert(1), which b had seen before: {:?}",
        z.state()
    );

    let seeds = tier().seeds.min(50);
    for n in [3, 5] {
        for seed in 0..seeds {
            let mut config = SimConfig::new(n, tier().ops);
            config.check_causal = true;
            let seed = type_seed("D5") ^ (n as u64) << 40 ^ seed;
            if let Err(f) = run::<OrSet<u8>>(seed, &config) {
                shrink_and_panic::<OrSet<u8>>("OrSet<u8>", seed, &config, &f);
            }
            if let Err(f) = run::<Text>(seed, &config) {
                shrink_and_panic::<Text>("Text", seed, &config, &f);
            }
        }
    }
}
