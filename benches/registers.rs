//! `MvRegister` and `LwwRegister` write+merge rounds against plain
//! `Option<u64>` assignment.
//!
//! One round: two replicas each write concurrently, then each joins the
//! other's write. Every group holds the converge workloads and the plain
//! baseline at 1k, 10k and 100k rounds. Run with
//! `cargo bench --bench registers`; see `docs/benchmarks.md`.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;
use common::{configure, SIZES};

use converge::{Lattice, LwwRegister, MvRegister, ReplicaId};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

const A: ReplicaId = ReplicaId::new(1);
const B: ReplicaId = ReplicaId::new(2);

/// n rounds of: both write, then each joins the other's delta. Every join
/// leaves two concurrent siblings, which the next write supersedes.
fn mv_rounds_delta(n: u64) -> (MvRegister<u64>, MvRegister<u64>) {
    let (mut x, mut y) = (MvRegister::new(), MvRegister::new());
    for i in 0..n {
        let dx = x.write(A, black_box(2 * i));
        let dy = y.write(B, black_box(2 * i + 1));
        black_box(x.join(dy));
        black_box(y.join(dx));
    }
    (x, y)
}

/// As [`mv_rounds_delta`], joining full-state snapshots instead of deltas.
fn mv_rounds_state(n: u64) -> (MvRegister<u64>, MvRegister<u64>) {
    let (mut x, mut y) = (MvRegister::new(), MvRegister::new());
    for i in 0..n {
        let _ = x.write(A, black_box(2 * i));
        let _ = y.write(B, black_box(2 * i + 1));
        let (sx, sy) = (x.clone(), y.clone());
        black_box(x.join(sy));
        black_box(y.join(sx));
    }
    (x, y)
}

/// n rounds of LWW writes (B one tick later) joined crosswise as deltas.
fn lww_rounds(n: u64) -> (LwwRegister<u64>, LwwRegister<u64>) {
    let (mut x, mut y) = (LwwRegister::new(), LwwRegister::new());
    for i in 0..n {
        let dx = x.write(A, black_box(2 * i), 2 * i + 1).ok();
        let dy = y.write(B, black_box(2 * i + 1), 2 * i + 2).ok();
        if let (Some(dx), Some(dy)) = (dx, dy) {
            black_box(x.join(dy));
            black_box(y.join(dx));
        }
    }
    (x, y)
}

/// The plain analogue: two `Option<u64>` slots, each written, then each
/// replaced by the larger of the two.
fn plain_rounds(n: u64) -> (Option<u64>, Option<u64>) {
    let (mut x, mut y) = (None, None);
    for i in 0..n {
        let old_x = x.replace(black_box(2 * i));
        let old_y = y.replace(black_box(2 * i + 1));
        black_box((old_x, old_y));
        let m = x.max(y);
        x = black_box(m);
        y = black_box(m);
    }
    (x, y)
}

fn rounds(c: &mut Criterion) {
    let mut g = c.benchmark_group("register_write_merge_rounds");
    for n in SIZES {
        configure(&mut g, n, n);
        // Sanity: the last round leaves both replicas with the same siblings.
        let (x, y) = mv_rounds_delta(n);
        assert!(x == y && x.values().len() == 2);
        let (x, y) = lww_rounds(n);
        assert!(x == y && x.value() == Some(&(2 * n - 1)));

        g.bench_with_input(BenchmarkId::new("mvregister_delta", n), &n, |b, &n| {
            b.iter(|| mv_rounds_delta(n))
        });
        g.bench_with_input(BenchmarkId::new("mvregister_state", n), &n, |b, &n| {
            b.iter(|| mv_rounds_state(n))
        });
        g.bench_with_input(BenchmarkId::new("lwwregister", n), &n, |b, &n| {
            b.iter(|| lww_rounds(n))
        });
        g.bench_with_input(BenchmarkId::new("option", n), &n, |b, &n| {
            b.iter(|| plain_rounds(n))
        });
    }
    g.finish();
}

criterion_group!(benches, rounds);
criterion_main!(benches);
