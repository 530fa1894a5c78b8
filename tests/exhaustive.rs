//! Exhaustive small scope (TESTPLAN b.2 "optional small-scope exhaustive
//! mode", figure F7): for small op scripts, explore *every* interleaving of
//! local operations and deliveries — reordered, and each message possibly
//! delivered twice — with a plain depth-first search that prunes global
//! states it has already seen. At every delivery the receiver's invariants
//! hold and its state only grows; at every quiescent leaf all replicas are
//! equal. Drops are covered: a dropped-then-resent message is a late delivery.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use converge::laws::{CounterOp, MapOp, RegisterOp, Replay, SetOp};
use converge::{
    CausalCounter, Embedded, EwFlag, GCounter, LwwRegister, MvRegister, OrMap, OrSet, PnCounter,
    RemoveWins, ReplicaId, RwSet, UpdateWins,
};
use serde::Serialize;

struct Explorer<'a, T: Replay> {
    scripts: &'a [Vec<T::Op>],
    duplicates: bool,
    seen: HashSet<Vec<u8>>,
    leaves: u64,
    nodes: u64,
}

#[derive(Clone)]
struct World<T> {
    states: Vec<T>,
    next: Vec<usize>,
    /// (to, delta, may still be duplicated)
    flight: Vec<(usize, T, bool)>,
}

impl<T: Replay + Serialize> Explorer<'_, T> {
    fn key(w: &World<T>) -> Vec<u8> {
        let mut msgs: Vec<Vec<u8>> = w
            .flight
            .iter()
            .map(|(to, d, dup)| postcard::to_allocvec(&(to, d, dup)).unwrap())
            .collect();
        msgs.sort();
        postcard::to_allocvec(&(&w.states, &w.next, msgs)).unwrap()
    }

    fn dfs(&mut self, w: World<T>) {
        self.nodes += 1;
        if !self.seen.insert(Self::key(&w)) {
            return;
        }
        let n = w.states.len();
        let mut leaf = true;
        for r in 0..n {
            if w.next[r] < self.scripts[r].len() {
                leaf = false;
                let mut v = w.clone();
                let op = &self.scripts[r][v.next[r]];
                let delta = v.states[r].apply(ReplicaId::new(r as u64 + 1), op);
                v.next[r] += 1;
                for to in (0..n).filter(|&to| to != r) {
                    v.flight.push((to, delta.clone(), true));
                }
                self.dfs(v);
            }
        }
        for m in 0..w.flight.len() {
            leaf = false;
            for duplicate in [false, true] {
                if duplicate && !(self.duplicates && w.flight[m].2) {
                    continue;
                }
                let mut v = w.clone();
                let (to, d, _) = if duplicate {
                    v.flight[m].2 = false;
                    v.flight[m].clone()
                } else {
                    v.flight.swap_remove(m)
                };
                let before = v.states[to].clone();
                v.states[to].join(d);
                assert!(before.leq(&v.states[to]), "inflation");
                v.states[to].check_invariants().unwrap();
                self.dfs(v);
            }
        }
        if leaf {
            self.leaves += 1;
            for s in &w.states[1..] {
                assert_eq!(s, &w.states[0], "diverged after scripts {:?}", self.scripts);
            }
        }
    }
}

/// Every script of `len` ops per replica over `alphabet`, for `replicas`
/// replicas; explores each. Returns (scripts, leaves, nodes).
fn explore_all<T: Replay + Serialize>(
    replicas: usize,
    len: usize,
    alphabet: &[T::Op],
    duplicates: bool,
) -> (u64, u64, u64) {
    let per_replica: Vec<Vec<T::Op>> = {
        let mut acc: Vec<Vec<T::Op>> = vec![vec![]];
        for _ in 0..len {
            acc = acc
                .into_iter()
                .flat_map(|p| {
                    alphabet.iter().map(move |o| {
                        let mut q = p.clone();
                        q.push(o.clone());
                        q
                    })
                })
                .collect();
        }
        acc
    };
    let mut combos: Vec<Vec<Vec<T::Op>>> = vec![vec![]];
    for _ in 0..replicas {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                per_replica.iter().map(move |s| {
                    let mut c = c.clone();
                    c.push(s.clone());
                    c
                })
            })
            .collect();
    }
    let (mut leaves, mut nodes) = (0, 0);
    for scripts in &combos {
        let mut e = Explorer::<T> {
            scripts,
            duplicates,
            seen: HashSet::new(),
            leaves: 0,
            nodes: 0,
        };
        e.dfs(World {
            states: vec![T::default(); replicas],
            next: vec![0; replicas],
            flight: vec![],
        });
        leaves += e.leaves;
        nodes += e.nodes;
    }
    (combos.len() as u64, leaves, nodes)
}

fn both_scopes<T: Replay + Serialize>(alphabet: &[T::Op]) {
    let t = std::time::Instant::now();
    let (s2, l2, n2) = explore_all::<T>(2, 3, alphabet, true);
    let took = t.elapsed();
    eprintln!(
        "{}: 2 replicas x 3 ops (with duplicates): {s2} scripts, {l2} distinct leaves, {n2} nodes in {took:?}",
        std::any::type_name::<T>()
    );
    assert!(l2 > 0);
    // 3 replicas x 2 ops (no duplicates) explores ~10^7 nodes per type: long tier only.
    if std::env::var("CONVERGE_TEST_TIER").as_deref() == Ok("long") {
        let t = std::time::Instant::now();
        let (s3, l3, n3) = explore_all::<T>(3, 2, alphabet, false);
        eprintln!(
            "{}: 3 replicas x 2 ops: {s3} scripts, {l3} leaves, {n3} nodes in {:?}",
            std::any::type_name::<T>(),
            t.elapsed()
        );
        assert!(l3 > 0);
    }
}

#[test]
fn f7_orset_every_order_converges() {
    both_scopes::<OrSet<u8>>(&[SetOp::Insert(0), SetOp::Remove(0)]);
}

#[test]
fn f7_rwset_every_order_converges() {
    both_scopes::<RwSet<u8>>(&[SetOp::Insert(0), SetOp::Remove(0)]);
}

#[test]
fn f7_ew_flag_every_order_converges() {
    both_scopes::<EwFlag>(&[SetOp::Insert(0), SetOp::Remove(0)]);
}

#[test]
fn f7_mv_register_every_order_converges() {
    both_scopes::<MvRegister<u8>>(&[RegisterOp::Write(1, 0), RegisterOp::Clear]);
}

#[test]
fn f7_lww_register_every_order_converges() {
    both_scopes::<LwwRegister<u8>>(&[RegisterOp::Write(1, 1), RegisterOp::Write(2, 1)]);
}

#[test]
fn f7_counters_every_order_converge() {
    both_scopes::<GCounter>(&[CounterOp::Inc(1), CounterOp::Inc(u64::MAX)]);
    both_scopes::<PnCounter>(&[CounterOp::Inc(1), CounterOp::Dec(2)]);
    both_scopes::<CausalCounter>(&[CounterOp::Inc(1), CounterOp::Reset]);
}

#[test]
fn f7_ormap_every_order_converges_under_each_policy() {
    let ops = [MapOp::Update(0, SetOp::Insert(1)), MapOp::Remove(0)];
    both_scopes::<OrMap<u8, OrSet<u8>>>(&ops);
    both_scopes::<OrMap<u8, OrSet<u8>, UpdateWins>>(&ops);
    both_scopes::<OrMap<u8, OrSet<u8>, RemoveWins>>(&ops);
    both_scopes::<OrMap<u8, Embedded<LwwRegister<u8>>, RemoveWins>>(&[
        MapOp::Update(0, RegisterOp::Write(1, 1)),
        MapOp::Remove(0),
    ]);
}
