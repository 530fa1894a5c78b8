//! `Text` over the four real editing traces, against a plain gap buffer.
//!
//! Each trace group holds: `gap_buffer_replay` (the baseline: the same edits
//! on a plain gap buffer of chars, no replication), `text_replay` (every edit on a `Text`,
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

/// The plain baseline: a gap buffer of chars (no replication). Local
/// edits move the gap to the cursor, so sequential typing is O(1) per char.
struct GapBuffer {
    buf: Vec<char>,
    gap_start: usize,
    gap_end: usize,
}

impl GapBuffer {
    fn new() -> Self {
        GapBuffer {
            buf: vec!['\0'; 64],
            gap_start: 0,
            gap_end: 64,
        }
    }

    fn move_gap(&mut self, pos: usize) {
        if pos < self.gap_start {
            let n = self.gap_start - pos;
            self.buf.copy_within(pos..self.gap_start, self.gap_end - n);
            self.gap_start = pos;
            self.gap_end -= n;
        } else if pos > self.gap_start {
            let n = pos - self.gap_start;
            self.buf
                .copy_within(self.gap_end..self.gap_end + n, self.gap_start);
            self.gap_start += n;
            self.gap_end += n;
        }
    }

    fn insert(&mut self, pos: usize, text: &str) {
        self.move_gap(pos);
        for c in text.chars() {
            if self.gap_start == self.gap_end {
                let grow = self.buf.len().max(64);
                let tail = self.buf.len() - self.gap_end;
                self.buf.resize(self.buf.len() + grow, '\0');
                let end = self.buf.len();
                self.buf
                    .copy_within(self.gap_end..self.gap_end + tail, end - tail);
                self.gap_end = end - tail;
            }
            self.buf[self.gap_start] = c;
            self.gap_start += 1;
        }
    }

    fn delete(&mut self, pos: usize, n: usize) {
        self.move_gap(pos);
        self.gap_end += n;
    }

    fn text(&self) -> String {
        self.buf[..self.gap_start]
            .iter()
            .chain(&self.buf[self.gap_end..])
            .collect()
    }
}

fn replay_gap_buffer(ops: &[(usize, usize, String)]) -> GapBuffer {
    let mut g = GapBuffer::new();
    for (pos, del, ins) in ops {
        if *del > 0 {
            g.delete(*pos, *del);
        }
        if !ins.is_empty() {
            g.insert(*pos, ins);
        }
    }
    g
}

fn traces(c: &mut Criterion) {
    for name in TRACES {
        let (ops, end) = load(name);
        let (text, _) = replay_text(&ops);
        assert_eq!(text.to_string(), end, "{name}: converge replay");
        assert_eq!(
            replay_gap_buffer(&ops).text(),
            end,
            "{name}: gap buffer replay"
        );
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
        g.bench_function("gap_buffer_replay", |b| {
            b.iter_with_large_drop(|| replay_gap_buffer(black_box(&ops)))
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
