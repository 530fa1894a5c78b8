//! `OrMap<u64, CausalCounter>` and `OrMap<u64, MvRegister<u64>>` against a
//! plain `hashbrown::HashMap<u64, u64>`.
//!
//! Every group holds both map types and the plain baseline at 1k, 10k and
//! 100k keys. Run with `cargo bench --bench maps`; see `docs/benchmarks.md`.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;
use common::{configure, SIZES};

use converge::{CausalCounter, DeltaSince, Lattice, MvRegister, OrMap, ReplicaId};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use hashbrown::HashMap;

const A: ReplicaId = ReplicaId::new(1);
const B: ReplicaId = ReplicaId::new(2);

type Counters = OrMap<u64, CausalCounter>;
type Registers = OrMap<u64, MvRegister<u64>>;

fn update_counters(m: &mut Counters, r: ReplicaId, keys: std::ops::Range<u64>) {
    for k in keys {
        black_box(m.update(r, k, |c| c.increment(r, 1).unwrap_or_default()));
    }
}

fn update_registers(m: &mut Registers, r: ReplicaId, keys: std::ops::Range<u64>) {
    for k in keys {
        black_box(m.update(r, k, |v| v.write(r, k)));
    }
}

fn counters(r: ReplicaId, keys: std::ops::Range<u64>) -> Counters {
    let mut m = OrMap::new();
    update_counters(&mut m, r, keys);
    m
}

fn registers(r: ReplicaId, keys: std::ops::Range<u64>) -> Registers {
    let mut m = OrMap::new();
    update_registers(&mut m, r, keys);
    m
}

fn hashmap(keys: std::ops::Range<u64>) -> HashMap<u64, u64> {
    keys.map(|k| (k, k)).collect()
}

/// Update n distinct keys on one replica (each update returns a delta).
fn update(c: &mut Criterion) {
    let mut g = c.benchmark_group("map_update");
    for n in SIZES {
        configure(&mut g, n, n);
        g.bench_with_input(BenchmarkId::new("ormap_counter", n), &n, |b, &n| {
            b.iter_with_large_drop(|| counters(A, 0..n))
        });
        g.bench_with_input(BenchmarkId::new("ormap_mvregister", n), &n, |b, &n| {
            b.iter_with_large_drop(|| registers(A, 0..n))
        });
        g.bench_with_input(BenchmarkId::new("hashmap", n), &n, |b, &n| {
            b.iter_with_large_drop(|| {
                let mut m = HashMap::new();
                for k in 0..n {
                    *m.entry(black_box(k)).or_insert(0u64) += 1;
                }
                m
            })
        });
    }
    g.finish();
}

/// Two replicas with half the keys shared: A updated `0..n`, B `n/2..3n/2`.
fn merge(c: &mut Criterion) {
    let mut g = c.benchmark_group("map_merge_half_overlap");
    for n in SIZES {
        configure(&mut g, n, n);
        let (x, y) = (counters(A, 0..n), counters(B, n / 2..3 * n / 2));
        assert_eq!(x.clone().joined(y.clone()).len() as u64, 3 * n / 2);
        g.bench_function(BenchmarkId::new("ormap_counter", n), |b| {
            b.iter_batched(
                || (x.clone(), y.clone()),
                |(mut x, y)| {
                    black_box(x.join(y));
                    x
                },
                BatchSize::LargeInput,
            )
        });
        let (x, y) = (registers(A, 0..n), registers(B, n / 2..3 * n / 2));
        g.bench_function(BenchmarkId::new("ormap_mvregister", n), |b| {
            b.iter_batched(
                || (x.clone(), y.clone()),
                |(mut x, y)| {
                    black_box(x.join(y));
                    x
                },
                BatchSize::LargeInput,
            )
        });
        let (x, y) = (hashmap(0..n), hashmap(n / 2..3 * n / 2));
        g.bench_function(BenchmarkId::new("hashmap", n), |b| {
            b.iter_batched(
                || (x.clone(), y.clone()),
                |(mut x, y)| {
                    x.extend(y);
                    x
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

/// Remove all n keys, one at a time (each remove returns a delta).
fn remove(c: &mut Criterion) {
    let mut g = c.benchmark_group("map_remove");
    for n in SIZES {
        configure(&mut g, n, n);
        let full = counters(A, 0..n);
        g.bench_with_input(BenchmarkId::new("ormap_counter", n), &n, |b, &n| {
            b.iter_batched(
                || full.clone(),
                |mut m| {
                    for k in 0..n {
                        black_box(m.remove(A, &k));
                    }
                    m
                },
                BatchSize::LargeInput,
            )
        });
        let full = registers(A, 0..n);
        g.bench_with_input(BenchmarkId::new("ormap_mvregister", n), &n, |b, &n| {
            b.iter_batched(
                || full.clone(),
                |mut m| {
                    for k in 0..n {
                        black_box(m.remove(A, &k));
                    }
                    m
                },
                BatchSize::LargeInput,
            )
        });
        let full = hashmap(0..n);
        g.bench_with_input(BenchmarkId::new("hashmap", n), &n, |b, &n| {
            b.iter_batched(
                || full.clone(),
                |mut m| {
                    for k in 0..n {
                        black_box(m.remove(&k));
                    }
                    m
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

/// What a peer that missed the last 1% of the updates lacks. The baseline
/// collects the entries of one `HashMap` whose keys another lacks.
fn delta_since(c: &mut Criterion) {
    let mut g = c.benchmark_group("map_delta_since_1pct");
    for n in SIZES {
        configure(&mut g, n, n);
        let missing = n / 100;
        let peer = counters(A, 0..n - missing);
        let mut full = peer.clone();
        update_counters(&mut full, A, n - missing..n);
        let summary = peer.summary();
        assert_eq!(full.delta_since(&summary).len() as u64, missing);
        g.bench_function(BenchmarkId::new("ormap_counter", n), |b| {
            b.iter_with_large_drop(|| full.delta_since(black_box(&summary)))
        });
        let peer = registers(A, 0..n - missing);
        let mut full = peer.clone();
        update_registers(&mut full, A, n - missing..n);
        let summary = peer.summary();
        assert_eq!(full.delta_since(&summary).len() as u64, missing);
        g.bench_function(BenchmarkId::new("ormap_mvregister", n), |b| {
            b.iter_with_large_drop(|| full.delta_since(black_box(&summary)))
        });
        let (peer, full) = (hashmap(0..n - missing), hashmap(0..n));
        g.bench_function(BenchmarkId::new("hashmap", n), |b| {
            b.iter_with_large_drop(|| {
                full.iter()
                    .filter(|(k, _)| !black_box(&peer).contains_key(*k))
                    .map(|(k, v)| (*k, *v))
                    .collect::<Vec<(u64, u64)>>()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, update, merge, remove, delta_since);
criterion_main!(benches);
