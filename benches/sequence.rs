//! `Text` over the four real editing traces, against a plain `String`.
//!
//! Each trace group holds: `string_replay` (the baseline: the same edits on
//! a `String`, no replication), `text_replay` (every edit on a `Text`,
//! keeping the delta each returns), `encode` / `decode` (postcard, the full
//! state), `merge_fresh` (decode the full state from bytes and
//! `validated_join` it into an empty replica: "merge all changes into a fresh
//! replica"), and `delta_since` (the delta for a peer that misses the last
//! 1 % of the edits). Run with `cargo bench --bench sequence`; results in
//! `docs/benchmarks.md`.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::io::Read;
use std::time::Duration;

use converge::{DeltaSince, ReplicaId, Text, Validate};
use criterion::{black_box, criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

const A: ReplicaId = ReplicaId::new(1);
const TRACES: [&str; 4] = [
    "automerge-paper",
    "seph-blog1",
    "rustcode",
    "sveltecomponent",
];

/// `(position, deleted, inserted)` in chars, and the final text.
type Trace = (Vec<(usize, usize, String)>, String);

fn load(name: &str) -> Trace {
    let path = format!(
        "{}/tests/data/traces/{name}.json.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut json = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut json)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    let mut ops = Vec::new();
    for txn in v["txns"].as_array().into_iter().flatten() {
        for p in txn["patches"].as_array().into_iter().flatten() {
            let n = |i: usize| p[i].as_u64().map_or(0, |x| x as usize);
            ops.push((n(0), n(1), p[2].as_str().unwrap_or("").to_owned()));
        }
    }
    (ops, v["endContent"].as_str().unwrap_or("").to_owned())
}

fn replay_text(ops: &[(usize, usize, String)]) -> (Text, usize) {
    let mut t = Text::new();
    let mut deltas = 0;
    for (pos, del, ins) in ops {
        if *del > 0 {
            if let Ok(d) = t.delete(A, *pos..*pos + *del) {
                deltas += usize::from(!d.context().is_empty());
                black_box(d);
            }
        }
        if !ins.is_empty() {
            if let Ok(d) = t.insert(A, *pos, ins) {
                deltas += usize::from(!d.context().is_empty());
                black_box(d);
            }
        }
    }
    (t, deltas)
}

fn replay_string(ops: &[(usize, usize, String)]) -> String {
    let mut s = String::new();
    let byte = |s: &str, c: usize| s.char_indices().nth(c).map_or(s.len(), |(b, _)| b);
    for (pos, del, ins) in ops {
        let at = byte(&s, *pos);
        if *del > 0 {
            let end = at + byte(&s[at..], *del);
            s.replace_range(at..end, "");
        }
        s.insert_str(at, ins);
    }
    s
}

fn traces(c: &mut Criterion) {
    for name in TRACES {
        let (ops, end) = load(name);
        let (text, _) = replay_text(&ops);
        assert_eq!(text.to_string(), end, "{name}: converge replay");
        assert_eq!(replay_string(&ops), end, "{name}: String replay");
        let bytes = postcard::to_allocvec(&text).unwrap_or_default();
        let cut = ops.len() - ops.len() / 100;
        let (behind, _) = replay_text(&ops[..cut]);
        let summary = behind.summary();

        let mut g = c.benchmark_group(format!("seq_{name}"));
        g.throughput(Throughput::Elements(ops.len() as u64));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3))
            .sampling_mode(SamplingMode::Flat);
        g.bench_function("string_replay", |b| {
            b.iter_with_large_drop(|| replay_string(black_box(&ops)))
        });
        g.bench_function("text_replay", |b| {
            b.iter_with_large_drop(|| replay_text(black_box(&ops)))
        });
        g.bench_function("encode", |b| {
            b.iter_with_large_drop(|| postcard::to_allocvec(black_box(&text)))
        });
        g.bench_function("decode", |b| {
            b.iter_with_large_drop(|| postcard::from_bytes::<Text>(black_box(&bytes)))
        });
        g.bench_function("merge_fresh", |b| {
            b.iter_with_large_drop(|| {
                let mut fresh = Text::new();
                if let Ok(state) = postcard::from_bytes::<Text>(black_box(&bytes)) {
                    let _ = fresh.validated_join(state);
                }
                fresh
            })
        });
        g.bench_function("delta_since_1pct", |b| {
            b.iter_with_large_drop(|| text.delta_since(black_box(&summary)))
        });
        g.finish();
    }
}

criterion_group!(benches, traces);
criterion_main!(benches);
