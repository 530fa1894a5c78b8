//! Replay of real editing traces (TESTPLAN a.4 Q8; acceptance F8).
//!
//! The four traces in `tests/data/traces/` (josephg/editing-traces, CC BY 4.0,
//! see the README there) are replayed patch by patch — `[pos, del, ins]` in
//! Unicode code points, i.e. `Text`'s char indices — and must give exactly
//! `endContent`:
//!
//! * on one replica (every trace in full, in every tier);
//! * split across two replicas (ids 1 and 2) that take turns owning blocks of
//!   `BLOCK` txns; the owner's deltas (the `Text`s returned by `insert` and
//!   `delete`) reach the other replica every `EXCHANGE` txns and at every
//!   hand-over, so the new owner has caught up before it edits and the trace's
//!   positions stay valid; at every hand-over both replicas must be equal
//!   (`==`) with nothing pending, and at the end both must be equal to each
//!   other, with `endContent` and nothing pending;
//! * the same, with every batch of deltas delivered in a shuffled order
//!   (xorshift, fixed seed) and about half of them twice.
//!
//! Every replay covers whole traces in every tier (at `opt-level = 1` all
//! twelve tests take about 10 s wall on 2 cores, the slowest, automerge-paper
//! shuffled, about 5.5 s). `CONVERGE_TEST_TIER=long` adds three more block /
//! exchange / seed splits per two-replica test. `CONVERGE_TRACE_TXNS=n` replays
//! only the first `n` txns of each trace (checked against a plain `Vec<char>`
//! replay of that prefix), to bisect a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use converge::{Lattice, ReplicaId, Text};

/// Txns per ownership block in the two-replica replays.
const BLOCK: usize = 300;
/// The owner's deltas reach the other replica every `EXCHANGE` txns (and at
/// every hand-over).
const EXCHANGE: usize = 128;

#[derive(serde::Deserialize)]
struct Trace {
    #[serde(rename = "startContent")]
    start_content: String,
    #[serde(rename = "endContent")]
    end_content: String,
    txns: Vec<Txn>,
}

#[derive(serde::Deserialize)]
struct Txn {
    /// `[pos, del, ins]`, applied in order.
    patches: Vec<(usize, usize, String)>,
}

fn long_tier() -> bool {
    std::env::var("CONVERGE_TEST_TIER").as_deref() == Ok("long")
}

/// How many txns of `trace` to replay: all, unless `CONVERGE_TRACE_TXNS` says.
fn txn_limit(trace: &Trace) -> usize {
    std::env::var("CONVERGE_TRACE_TXNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(trace.txns.len(), |n: usize| n.min(trace.txns.len()))
}

fn read_trace(name: &str) -> Trace {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", "traces"]
        .iter()
        .collect::<PathBuf>()
        .join(format!("{name}.json.gz"));
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(std::io::BufReader::new(file))
        .read_to_end(&mut json)
        .unwrap_or_else(|e| panic!("cannot gunzip {}: {e}", path.display()));
    let trace: Trace = serde_json::from_slice(&json)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    assert_eq!(trace.start_content, "", "{name}: startContent is not empty");
    trace
}

/// Each trace is parsed once per test binary.
fn trace(name: &str) -> &'static Trace {
    static AUTOMERGE_PAPER: OnceLock<Trace> = OnceLock::new();
    static SEPH_BLOG1: OnceLock<Trace> = OnceLock::new();
    static RUSTCODE: OnceLock<Trace> = OnceLock::new();
    static SVELTECOMPONENT: OnceLock<Trace> = OnceLock::new();
    let cell = match name {
        "automerge-paper" => &AUTOMERGE_PAPER,
        "seph-blog1" => &SEPH_BLOG1,
        "rustcode" => &RUSTCODE,
        "sveltecomponent" => &SVELTECOMPONENT,
        _ => panic!("unknown trace {name}"),
    };
    cell.get_or_init(|| read_trace(name))
}

/// Applies one txn on `text` as `replica`, handing every returned delta to `out`.
fn apply_txn(
    name: &str,
    k: usize,
    text: &mut Text,
    replica: ReplicaId,
    txn: &Txn,
    out: &mut Vec<Text>,
) {
    for (pos, del, ins) in &txn.patches {
        if *del > 0 {
            let d = text
                .delete(replica, *pos..*pos + *del)
                .unwrap_or_else(|e| panic!("{name}: txn {k}: delete {pos}..{}: {e:?}", pos + del));
            out.push(d);
        }
        if !ins.is_empty() {
            let d = text
                .insert(replica, *pos, ins)
                .unwrap_or_else(|e| panic!("{name}: txn {k}: insert at {pos}: {e:?}"));
            out.push(d);
        }
    }
}

/// What the first `limit` txns give, replayed on a plain `Vec<char>`.
fn model(trace: &Trace, limit: usize) -> String {
    if limit == trace.txns.len() {
        return trace.end_content.clone();
    }
    let mut doc: Vec<char> = trace.start_content.chars().collect();
    for txn in &trace.txns[..limit] {
        for (pos, del, ins) in &txn.patches {
            doc.splice(*pos..*pos + *del, ins.chars());
        }
    }
    doc.into_iter().collect()
}

fn assert_content(name: &str, what: &str, text: &Text, expected: &str) {
    let got = text.to_string();
    if got != expected {
        let at = got
            .chars()
            .zip(expected.chars())
            .position(|(a, b)| a != b)
            .unwrap_or(got.chars().count().min(expected.chars().count()));
        panic!(
            "{name}: {what}: content differs from char {at} on (got {} chars, expected {})",
            got.chars().count(),
            expected.chars().count()
        );
    }
    assert_eq!(
        text.len(),
        expected.chars().count(),
        "{name}: {what}: len()"
    );
    assert_eq!(
        text.len_utf8(),
        expected.len(),
        "{name}: {what}: len_utf8()"
    );
    assert_eq!(
        text.len_utf16(),
        expected.encode_utf16().count(),
        "{name}: {what}: len_utf16()"
    );
    assert_eq!(text.pending_len(), 0, "{name}: {what}: pending_len()");
}

/// The whole trace on one replica.
fn one_replica(name: &str) {
    let trace = trace(name);
    let replica = ReplicaId::new(1);
    let mut text = Text::new();
    let mut sink = Vec::new();
    let limit = txn_limit(trace);
    for (k, txn) in trace.txns[..limit].iter().enumerate() {
        // every 997th txn, check the mutators' contract old ⊔ deltas == new
        let before = (k % 997 == 0).then(|| text.clone());
        apply_txn(name, k, &mut text, replica, txn, &mut sink);
        if let Some(mut old) = before {
            for d in sink.drain(..) {
                old.join(d);
            }
            assert!(old == text, "{name}: txn {k}: old.join(deltas) != new");
        }
        sink.clear();
    }
    let label = format!("one replica, {limit} of {} txns", trace.txns.len());
    assert_content(name, &label, &text, &model(trace, limit));
}

/// A tiny xorshift64 for the shuffled deliveries.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Delivers `batch` to `to`: in order, or (with `rng`) shuffled with about half
/// of the deltas twice.
fn deliver(to: &mut Text, batch: &mut Vec<Text>, rng: Option<&mut Rng>) {
    match rng {
        None => {
            for d in batch.drain(..) {
                to.join(d);
            }
        }
        Some(rng) => {
            let n = batch.len();
            for i in 0..n {
                if rng.below(2) == 0 {
                    let twice = batch[i].clone();
                    batch.push(twice);
                }
            }
            for i in (1..batch.len()).rev() {
                let j = rng.below(i + 1);
                batch.swap(i, j);
            }
            for d in batch.drain(..) {
                to.join(d);
            }
        }
    }
}

/// How a two-replica replay is cut up.
#[derive(Clone, Copy, Debug)]
struct Split {
    /// Txns per ownership block.
    block: usize,
    /// The owner's deltas reach the other replica every `exchange` txns (and
    /// at every hand-over).
    exchange: usize,
    /// `Some(seed)`: every batch is delivered shuffled, about half of it twice.
    shuffle: Option<u64>,
}

/// The splits each trace is replayed with: one in the default tier, more in
/// the long tier.
fn splits(shuffled: bool) -> Vec<Split> {
    let seed = |k: u64| shuffled.then_some(0x5EED_0000_0000_0001 ^ (k << 32));
    let mut v = vec![Split {
        block: BLOCK,
        exchange: EXCHANGE,
        shuffle: seed(0),
    }];
    if long_tier() {
        v.push(Split {
            block: 41,
            exchange: 17,
            shuffle: seed(1),
        });
        v.push(Split {
            block: 2_000,
            exchange: 700,
            shuffle: seed(2),
        });
        v.push(Split {
            block: 500,
            exchange: 500,
            shuffle: seed(3),
        });
    }
    v
}

/// The first `limit` txns split across replicas 1 and 2 (see the module docs).
fn two_replicas(name: &str, shuffled: bool) {
    for split in splits(shuffled) {
        two_replicas_with(name, split);
    }
}

fn two_replicas_with(name: &str, split: Split) {
    let trace = trace(name);
    let limit = txn_limit(trace);
    let what = format!("two replicas, {split:?}");
    let ids = [ReplicaId::new(1), ReplicaId::new(2)];
    let mut reps = [Text::new(), Text::new()];
    let mut owner = 0;
    let mut outbox: Vec<Text> = Vec::new();
    let mut rng = split.shuffle.map(Rng);
    let mut handovers = 0usize;

    for (k, txn) in trace.txns[..limit].iter().enumerate() {
        if k > 0 && k % split.block == 0 {
            // the other replica catches up, then takes over
            let (a, b) = reps.split_at_mut(1);
            let other = if owner == 0 { &mut b[0] } else { &mut a[0] };
            deliver(other, &mut outbox, rng.as_mut());
            assert_eq!(
                other.pending_len(),
                0,
                "{name}: {what}: replica {} waits after catching up at txn {k}",
                2 - owner
            );
            if reps[0] != reps[1] {
                panic!(
                    "{name}: {what}: replicas differ at the hand-over before txn {k} (same ops delivered): {} vs {} chars, equal text: {}",
                    reps[0].len(),
                    reps[1].len(),
                    reps[0].to_string() == reps[1].to_string()
                );
            }
            owner = 1 - owner;
            handovers += 1;
        } else if k > 0 && k % split.exchange == 0 {
            let (a, b) = reps.split_at_mut(1);
            let other = if owner == 0 { &mut b[0] } else { &mut a[0] };
            deliver(other, &mut outbox, rng.as_mut());
        }
        apply_txn(name, k, &mut reps[owner], ids[owner], txn, &mut outbox);
    }
    let (a, b) = reps.split_at_mut(1);
    let other = if owner == 0 { &mut b[0] } else { &mut a[0] };
    deliver(other, &mut outbox, rng.as_mut());

    assert!(handovers > 0 || limit <= split.block);
    let expected = model(trace, limit);
    let label = format!("{what}, {limit} of {} txns", trace.txns.len());
    assert_content(name, &format!("{label}, replica 1"), &reps[0], &expected);
    assert_content(name, &format!("{label}, replica 2"), &reps[1], &expected);
    assert!(reps[0] == reps[1], "{name}: {label}: replicas differ (==)");
}

macro_rules! trace_tests {
    ($name:literal: $one:ident, $two:ident, $shuffled:ident) => {
        #[test]
        fn $one() {
            one_replica($name);
        }

        #[test]
        fn $two() {
            two_replicas($name, false);
        }

        #[test]
        fn $shuffled() {
            two_replicas($name, true);
        }
    };
}

trace_tests!("automerge-paper":
    q8_automerge_paper_one_replica,
    q8_automerge_paper_two_replicas,
    q8_automerge_paper_two_replicas_shuffled_duplicated);

trace_tests!("seph-blog1":
    q8_seph_blog1_one_replica,
    q8_seph_blog1_two_replicas,
    q8_seph_blog1_two_replicas_shuffled_duplicated);

trace_tests!("rustcode":
    q8_rustcode_one_replica,
    q8_rustcode_two_replicas,
    q8_rustcode_two_replicas_shuffled_duplicated);

trace_tests!("sveltecomponent":
    q8_sveltecomponent_one_replica,
    q8_sveltecomponent_two_replicas,
    q8_sveltecomponent_two_replicas_shuffled_duplicated);
