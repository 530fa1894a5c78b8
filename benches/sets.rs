//! `OrSet<u64>` against a plain `hashbrown::HashSet<u64>`.
//!
//! Every group holds the converge workload (`orset`) and the plain baseline
//! (`hashset`) at 1k, 10k and 100k elements, so ratios can be read from one
//! run. Run with `cargo bench --bench sets`; see `docs/benchmarks.md`.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;
use common::{configure, SIZES};

use converge::{DeltaSince, Lattice, OrSet, ReplicaId};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use hashbrown::HashSet;

const A: ReplicaId = ReplicaId::new(1);
const B: ReplicaId = ReplicaId::new(2);

fn orset(replica: ReplicaId, range: std::ops::Range<u64>) -> OrSet<u64> {
    let mut s = OrSet::new();
    for x in range {
        let _ = s.insert(replica, x);
    }
    s
}

fn hashset(range: std::ops::Range<u64>) -> HashSet<u64> {
    range.collect()
}

fn insert(c: &mut Criterion) {
    let mut g = c.benchmark_group("set_insert");
    for n in SIZES {
        configure(&mut g, n, n);
        g.bench_with_input(BenchmarkId::new("orset", n), &n, |b, &n| {
            b.iter_with_large_drop(|| {
                let mut s = OrSet::new();
                for x in 0..n {
                    black_box(s.insert(A, black_box(x)));
                }
                s
            })
        });
        g.bench_with_input(BenchmarkId::new("hashset", n), &n, |b, &n| {
            b.iter_with_large_drop(|| {
                let mut s = HashSet::new();
                for x in 0..n {
                    black_box(s.insert(black_box(x)));
                }
                s
            })
        });
    }
    g.finish();
}

fn remove(c: &mut Criterion) {
    let mut g = c.benchmark_group("set_remove");
    for n in SIZES {
        configure(&mut g, n, n);
        let full = orset(A, 0..n);
        g.bench_with_input(BenchmarkId::new("orset", n), &n, |b, &n| {
            b.iter_batched(
                || full.clone(),
                |mut s| {
                    for x in 0..n {
                        black_box(s.remove(&x));
                    }
                    s
                },
                BatchSize::LargeInput,
            )
        });
        let full = hashset(0..n);
        g.bench_with_input(BenchmarkId::new("hashset", n), &n, |b, &n| {
            b.iter_batched(
                || full.clone(),
                |mut s| {
                    for x in 0..n {
                        black_box(s.remove(&x));
                    }
                    s
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

/// Two replicas with half overlap: A holds `0..n`, B holds `n/2..3n/2`.
fn merge(c: &mut Criterion) {
    let mut g = c.benchmark_group("set_merge_half_overlap");
    for n in SIZES {
        configure(&mut g, n, n);
        let a = orset(A, 0..n);
        let bset = orset(B, n / 2..3 * n / 2);
        let merged = a.clone().joined(bset.clone());
        assert_eq!(merged.len() as u64, 3 * n / 2);
        g.bench_function(BenchmarkId::new("orset", n), |b| {
            b.iter_batched(
                || (a.clone(), bset.clone()),
                |(mut x, y)| {
                    black_box(x.join(y));
                    x
                },
                BatchSize::LargeInput,
            )
        });
        let ha = hashset(0..n);
        let hb = hashset(n / 2..3 * n / 2);
        g.bench_function(BenchmarkId::new("hashset", n), |b| {
            b.iter_batched(
                || (ha.clone(), hb.clone()),
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

/// Joining one insert-delta into an n-element set. The deltas come from a
/// second replica that re-adds existing elements (cycling through `0..n`), so
/// the set keeps n elements and one dot per element.
fn delta_join(c: &mut Criterion) {
    let mut g = c.benchmark_group("set_join_one_delta");
    for n in SIZES {
        configure(&mut g, n, 1);
        g.bench_function(BenchmarkId::new("orset", n), |b| {
            let mut target = orset(A, 0..n);
            let mut source = target.clone();
            let mut next = 0u64;
            b.iter_batched(
                || {
                    next = (next + 1) % n;
                    source.insert(B, next)
                },
                |delta| target.join(delta),
                BatchSize::SmallInput,
            );
            assert_eq!(target.len() as u64, n);
        });
        g.bench_function(BenchmarkId::new("hashset", n), |b| {
            let mut target = hashset(0..n);
            let mut next = 0u64;
            b.iter_batched(
                || {
                    next = (next + 1) % n;
                    next
                },
                |x| target.insert(x),
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

/// What a peer that misses the last 1% of the elements lacks. The baseline
/// collects the elements of one `HashSet` missing from another.
fn delta_since(c: &mut Criterion) {
    let mut g = c.benchmark_group("set_delta_since_1pct");
    for n in SIZES {
        configure(&mut g, n, n);
        let missing = n / 100;
        let peer = orset(A, 0..n - missing);
        let mut full = peer.clone();
        for x in n - missing..n {
            let _ = full.insert(A, x);
        }
        let summary = peer.summary();
        assert_eq!(full.delta_since(&summary).len() as u64, missing);
        g.bench_function(BenchmarkId::new("orset", n), |b| {
            b.iter_with_large_drop(|| full.delta_since(black_box(&summary)))
        });
        let hpeer = hashset(0..n - missing);
        let hfull = hashset(0..n);
        g.bench_function(BenchmarkId::new("hashset", n), |b| {
            b.iter_with_large_drop(|| {
                hfull
                    .difference(black_box(&hpeer))
                    .copied()
                    .collect::<Vec<u64>>()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, insert, remove, merge, delta_join, delta_since);
criterion_main!(benches);
