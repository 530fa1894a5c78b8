//! `GCounter` and `PnCounter` against plain `u64` arithmetic.
//!
//! Every group holds the converge workloads and a plain baseline at 1k, 10k
//! and 100k (increments, or replica entries for merge and `delta_since`).
//! Run with `cargo bench --bench counters`; see `docs/benchmarks.md`.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;
use common::{configure, SIZES};

use converge::{DeltaSince, GCounter, Lattice, PnCounter, ReplicaId};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};

const A: ReplicaId = ReplicaId::new(1);

/// Replica `r` has counted `r + 1` (so entries differ between replicas).
fn gcounter(replicas: std::ops::Range<u64>) -> GCounter {
    GCounter::from_entries(replicas.map(|r| (ReplicaId::new(r), r + 1)))
}

fn pncounter(replicas: std::ops::Range<u64>) -> PnCounter {
    let mut c = PnCounter::new();
    for r in replicas {
        let id = ReplicaId::new(r);
        let _ = c.increment(id, 2 * r + 2).ok();
        let _ = c.decrement(id, r + 1).ok();
    }
    c
}

/// A plain per-replica vector: index = replica.
fn plain(replicas: std::ops::Range<u64>, len: u64) -> Vec<u64> {
    let mut v = vec![0u64; len as usize];
    for r in replicas {
        v[r as usize] = r + 1;
    }
    v
}

/// n increments of 1 by one replica (each returns a delta, dropped here).
fn increment(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_increment");
    for n in SIZES {
        configure(&mut g, n, n);
        g.bench_with_input(BenchmarkId::new("gcounter", n), &n, |b, &n| {
            b.iter(|| {
                let mut c = GCounter::new();
                for _ in 0..n {
                    black_box(c.increment(A, black_box(1)).ok());
                }
                c.value()
            })
        });
        g.bench_with_input(BenchmarkId::new("pncounter", n), &n, |b, &n| {
            b.iter(|| {
                let mut c = PnCounter::new();
                for _ in 0..n {
                    black_box(c.increment(A, black_box(1)).ok());
                }
                c.value()
            })
        });
        g.bench_with_input(BenchmarkId::new("u64", n), &n, |b, &n| {
            b.iter(|| {
                let mut s = 0u64;
                for _ in 0..n {
                    s = black_box(s + black_box(1));
                }
                s
            })
        });
    }
    g.finish();
}

/// Merge of two counters with n replica entries each, half of them shared
/// (A knows replicas `0..n`, B knows `n/2..3n/2`). The baseline is the
/// pointwise max of two dense `Vec<u64>` indexed by replica.
fn merge(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_merge_half_overlap");
    for n in SIZES {
        configure(&mut g, n, n);
        let (x, y) = (gcounter(0..n), gcounter(n / 2..3 * n / 2));
        g.bench_function(BenchmarkId::new("gcounter", n), |b| {
            b.iter_batched(
                || (x.clone(), y.clone()),
                |(mut x, y)| {
                    black_box(x.join(y));
                    x
                },
                BatchSize::LargeInput,
            )
        });
        let (x, y) = (pncounter(0..n), pncounter(n / 2..3 * n / 2));
        g.bench_function(BenchmarkId::new("pncounter", n), |b| {
            b.iter_batched(
                || (x.clone(), y.clone()),
                |(mut x, y)| {
                    black_box(x.join(y));
                    x
                },
                BatchSize::LargeInput,
            )
        });
        let (x, y) = (plain(0..n, 3 * n / 2), plain(n / 2..3 * n / 2, 3 * n / 2));
        g.bench_function(BenchmarkId::new("u64", n), |b| {
            b.iter_batched(
                || (x.clone(), y.clone()),
                |(mut x, y)| {
                    for (a, b) in x.iter_mut().zip(&y) {
                        *a = (*a).max(*b);
                    }
                    x
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

/// `delta_since` a peer whose entries are behind on 1% of the n replicas.
/// The baseline collects the indices where one dense vector is ahead.
fn delta_since(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_delta_since_1pct");
    for n in SIZES {
        configure(&mut g, n, n);
        let behind = n / 100;
        let mut full_g = gcounter(0..n);
        let peer = full_g.clone();
        let mut full_pn = pncounter(0..n);
        let peer_pn = full_pn.clone();
        let mut full_plain = plain(0..n, n);
        let peer_plain = full_plain.clone();
        for r in 0..behind {
            let id = ReplicaId::new(r * 100);
            let _ = full_g.increment(id, 1).ok();
            let _ = full_pn.increment(id, 1).ok();
            full_plain[(r * 100) as usize] += 1;
        }
        let summary = peer.summary();
        assert_eq!(full_g.delta_since(&summary).entries().len() as u64, behind);
        g.bench_function(BenchmarkId::new("gcounter", n), |b| {
            b.iter_with_large_drop(|| full_g.delta_since(black_box(&summary)))
        });
        let summary = peer_pn.summary();
        g.bench_function(BenchmarkId::new("pncounter", n), |b| {
            b.iter_with_large_drop(|| full_pn.delta_since(black_box(&summary)))
        });
        g.bench_function(BenchmarkId::new("u64", n), |b| {
            b.iter_with_large_drop(|| {
                full_plain
                    .iter()
                    .zip(black_box(&peer_plain))
                    .enumerate()
                    .filter(|(_, (a, p))| a > p)
                    .map(|(i, (a, _))| (i as u64, *a))
                    .collect::<Vec<(u64, u64)>>()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, increment, merge, delta_since);
criterion_main!(benches);
