//! Sequential specifications and model equivalence (TESTPLAN a.2, b.1):
//! G3, P2, L13 for counters; S5 for the OR-set against a naive OR-set with
//! explicit tombstones; M1 for the MV register against a happens-before
//! oracle; LWW against "max stamp of the writes seen"; and D8 delta sizes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use converge::{
    CausalCounter, DeltaSince, GCounter, Lattice, LwwRegister, MvRegister, OrSet, PnCounter,
    ReplicaId, Validate,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn config() -> Config {
    let cases = match std::env::var("CONVERGE_TEST_TIER").as_deref() {
        Ok("long") => 10_000,
        _ => 256,
    };
    Config {
        cases,
        rng_seed: match std::env::var("CONVERGE_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            Some(s) => RngSeed::Fixed(s),
            None => RngSeed::Fixed(0x00C0_FFEE),
        },
        ..Config::default()
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Replica applies a local operation on element/value `v`.
    Add(usize, u8),
    Remove(usize, u8),
    /// Replica `i` joins replica `j`.
    Join(usize, usize),
}

fn ops(replicas: usize) -> impl Strategy<Value = Vec<Op>> {
    // Removes are biased towards elements that exist (tiny domain).
    let op = prop_oneof![
        5 => (0..replicas, 0u8..5).prop_map(|(i, v)| Op::Add(i, v)),
        3 => (0..replicas, 0u8..5).prop_map(|(i, v)| Op::Remove(i, v)),
        3 => (0..replicas, 0..replicas).prop_map(|(i, j)| Op::Join(i, j)),
    ];
    proptest::collection::vec(op, 0..80)
}

fn id(i: usize) -> ReplicaId {
    ReplicaId::new(i as u64 + 1)
}

/// A naive OR-set: every add is a unique tag; removes tombstone the tags
/// they observed; merge is union of both sets (riak_dt compares its ORSWOT
/// against the older `riak_dt_orset` the same way).
#[derive(Clone, Default)]
struct NaiveOrSet {
    adds: BTreeSet<(u8, u64)>,
    tombstones: BTreeSet<(u8, u64)>,
}

impl NaiveOrSet {
    fn value(&self) -> BTreeSet<u8> {
        self.adds
            .difference(&self.tombstones)
            .map(|&(e, _)| e)
            .collect()
    }
}

/// The MV oracle: every write knows the writes its replica had seen.
#[derive(Clone, Default)]
struct MvModel {
    known: BTreeSet<u64>,
}

proptest! {
    #![proptest_config(config())]

    /// S5: the OR-set's value equals the naive tombstone OR-set's after every
    /// step; S4: once all replicas have synced, removed elements leave no entry.
    #[test]
    fn s5_orset_matches_a_naive_tombstone_orset(script in ops(3)) {
        let mut real: Vec<OrSet<u8>> = vec![OrSet::new(); 3];
        let mut model: Vec<NaiveOrSet> = vec![NaiveOrSet::default(); 3];
        let mut tag = 0u64;
        for op in &script {
            match *op {
                Op::Add(i, e) => {
                    tag += 1;
                    real[i].insert(id(i), e);
                    // The model's add supersedes nothing: OR-set adds of an
                    // element already present keep it present either way.
                    model[i].adds.insert((e, tag));
                }
                Op::Remove(i, e) => {
                    real[i].remove(&e);
                    let observed: Vec<_> = model[i]
                        .adds
                        .iter()
                        .filter(|&&(x, _)| x == e)
                        .copied()
                        .collect();
                    model[i].tombstones.extend(observed);
                }
                Op::Join(i, j) => {
                    let other = real[j].clone();
                    real[i].join(other);
                    let m = model[j].clone();
                    model[i].adds.extend(m.adds);
                    model[i].tombstones.extend(m.tombstones);
                }
            }
            for k in 0..3 {
                let got: BTreeSet<u8> = real[k].iter().copied().collect();
                prop_assert_eq!(got, model[k].value(), "replica {}", k);
                real[k].check_invariants().unwrap();
            }
        }
        let all = real.iter().cloned().fold(OrSet::new(), |a, b| a.joined(b));
        let live = all.len();
        let mut entries = 0;
        converge::DotStore::for_each_dot(converge::CausalCrdt::store(&all), &mut |_| entries += 1);
        // S4: no tombstones: one dot per (element, concurrent adder) at most.
        prop_assert!(entries <= live * 3, "{} dots for {} live elements", entries, live);
    }

    /// M1: the MV register reads exactly the writes that are maximal under
    /// happens-before among those its replica has seen; M3 follows.
    #[test]
    fn m1_mv_register_reads_the_hb_maximal_writes(script in ops(3)) {
        let mut real: Vec<MvRegister<u64>> = vec![MvRegister::new(); 3];
        let mut model: Vec<MvModel> = vec![MvModel::default(); 3];
        // write id -> writes it observed
        let mut observed: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        let mut next = 0u64;
        for op in &script {
            match *op {
                Op::Add(i, _) | Op::Remove(i, _) => {
                    next += 1;
                    real[i].write(id(i), next);
                    observed.insert(next, model[i].known.clone());
                    model[i].known.insert(next);
                }
                Op::Join(i, j) => {
                    let other = real[j].clone();
                    real[i].join(other);
                    let k = model[j].known.clone();
                    model[i].known.extend(k);
                }
            }
            for k in 0..3 {
                let known = &model[k].known;
                let maximal: BTreeSet<u64> = known
                    .iter()
                    .copied()
                    .filter(|w| !known.iter().any(|v| observed[v].contains(w)))
                    .collect();
                let got: BTreeSet<u64> = real[k].values().copied().collect();
                prop_assert_eq!(got, maximal, "replica {}", k);
            }
        }
    }

    /// G3, P2, L13: after full sync, counters equal the sum of every
    /// successful increment and decrement; a failed (overflowing) update
    /// changes nothing.
    #[test]
    fn g3_p2_counters_sum_every_update(
        script in proptest::collection::vec(
            (0usize..3, any::<bool>(), prop_oneof![0u64..1000, Just(u64::MAX)], any::<bool>()),
            0..60,
        )
    ) {
        let mut g = vec![GCounter::new(); 3];
        let mut p = vec![PnCounter::new(); 3];
        let mut c = vec![CausalCounter::new(); 3];
        let (mut g_sum, mut p_sum, mut c_sum) = (0i128, 0i128, 0i128);
        for &(i, dec, n, sync) in &script {
            if g[i].increment(id(i), n).is_ok() { g_sum += i128::from(n) }
            let before = p[i].clone();
            let r = if dec { p[i].decrement(id(i), n) } else { p[i].increment(id(i), n) };
            match r {
                Ok(_) => p_sum += if dec { -i128::from(n) } else { i128::from(n) },
                Err(_) => prop_assert_eq!(&p[i], &before),
            }
            let before = c[i].clone();
            let r = if dec { c[i].decrement(id(i), n) } else { c[i].increment(id(i), n) };
            match r {
                Ok(_) => c_sum += if dec { -i128::from(n) } else { i128::from(n) },
                Err(_) => prop_assert_eq!(&c[i], &before),
            }
            if sync {
                let j = (i + 1) % 3;
                let (gj, pj, cj) = (g[j].clone(), p[j].clone(), c[j].clone());
                g[i].join(gj);
                p[i].join(pj);
                c[i].join(cj);
            }
        }
        let g_all = g.into_iter().fold(GCounter::new(), |a, b| a.joined(b));
        let p_all = p.into_iter().fold(PnCounter::new(), |a, b| a.joined(b));
        let c_all = c.into_iter().fold(CausalCounter::new(), |a, b| a.joined(b));
        prop_assert_eq!(i128::try_from(g_all.value()).unwrap(), g_sum);
        prop_assert_eq!(p_all.value(), p_sum);
        prop_assert_eq!(c_all.value(), c_sum);
    }

    /// W1, L13: an LWW register holds the write with the highest stamp among
    /// the writes it has seen, whatever the join order.
    #[test]
    fn w1_lww_holds_the_highest_stamp_seen(
        script in proptest::collection::vec((0usize..3, 0u8..4, 0u64..6, 0usize..3), 0..60)
    ) {
        let mut regs: Vec<LwwRegister<u8>> = vec![LwwRegister::new(); 3];
        // Model: the set of writes (stamp, value) each replica has seen.
        let mut seen: Vec<BTreeSet<((u64, u64), u8)>> = vec![BTreeSet::new(); 3];
        for &(i, v, t, j) in &script {
            let d = regs[i].write(id(i), v, t).unwrap();
            let s = d.stamp().unwrap();
            prop_assert!(s.timestamp >= t, "W3: never earlier than asked");
            seen[i].insert(((s.timestamp, s.replica.get()), v));
            let other = regs[j].clone();
            regs[i].join(other);
            let sj = seen[j].clone();
            seen[i].extend(sj);
            for k in 0..3 {
                let want = seen[k].iter().max().map(|&(_, v)| v);
                prop_assert_eq!(regs[k].value().copied(), want);
            }
        }
    }
}

/// D8: a counter increment's delta encodes in a constant number of bytes,
/// whatever the state size; an OR-set add's delta too (goal: ≤ 32 bytes in a
/// compact serde format, with small replica ids).
#[test]
fn d8_delta_sizes_do_not_grow_with_the_state() {
    let a = ReplicaId::new(1);
    let mut g = GCounter::new();
    let mut s = OrSet::new();
    for r in 0..1000u64 {
        g.increment(ReplicaId::new(r + 2), r + 1).unwrap();
    }
    for e in 0..10_000u64 {
        s.insert(a, e);
    }
    let gd = g.increment(a, 5).unwrap();
    let sd = s.insert(a, 123_456);
    let g_bytes = postcard::to_allocvec(&gd).unwrap().len();
    let s_bytes = postcard::to_allocvec(&sd).unwrap().len();
    assert!(g_bytes <= 64, "counter delta is {g_bytes} bytes");
    assert!(s_bytes <= 32, "OR-set add delta is {s_bytes} bytes");
    // With random 64-bit replica ids the varints are longer; still O(1).
    let big = ReplicaId::new(u64::MAX - 3);
    let sd = s.insert(big, 7);
    let big_bytes = postcard::to_allocvec(&sd).unwrap().len();
    assert!(
        big_bytes <= 48,
        "OR-set add delta with a 64-bit id is {big_bytes} bytes"
    );
    // Remove: O(observed dots of the element).
    let rd = s.remove(&123_456);
    assert!(postcard::to_allocvec(&rd).unwrap().len() <= 32);
}

fn dot_sets() -> impl Strategy<Value = BTreeSet<(u64, u64)>> {
    proptest::collection::btree_set((0u64..4, 1u64..24), 0..40)
}

fn context_of(dots: &BTreeSet<(u64, u64)>) -> converge::CausalContext {
    converge::CausalContext::from_dots(
        dots.iter()
            .map(|&(r, c)| converge::Dot::new(ReplicaId::new(r), c)),
    )
}

fn dots_of(cx: &converge::CausalContext) -> BTreeSet<(u64, u64)> {
    cx.ranges()
        .flat_map(|(r, lo, hi)| (lo..=hi).map(move |c| (r.get(), c)))
        .collect()
}

proptest! {
    #![proptest_config(config())]

    /// The causal context equals a plain set of dots under insert, join,
    /// `leq` and `contains`; it stays in normal form (I3, I4): ranges sorted,
    /// disjoint and non-adjacent, so equal sets are equal contexts; and the
    /// vector is exactly the contiguous prefix, which never fills a gap.
    #[test]
    fn i3_i4_causal_context_is_a_set_of_dots_in_normal_form(a in dot_sets(), b in dot_sets()) {
        let (x, y) = (context_of(&a), context_of(&b));
        prop_assert_eq!(dots_of(&x), a.clone());
        x.check_invariants().unwrap();
        let mut j = x.clone();
        let changed = j.join(y.clone());
        let union: BTreeSet<_> = a.union(&b).copied().collect();
        prop_assert_eq!(dots_of(&j), union.clone());
        prop_assert_eq!(changed, union != a);
        prop_assert_eq!(&j, &context_of(&union), "normal form: equal sets, equal contexts");
        j.check_invariants().unwrap();
        prop_assert_eq!(x.leq(&y), a.is_subset(&b));
        for r in 0..4u64 {
            let prefix = (1..).take_while(|c| a.contains(&(r, *c))).count() as u64;
            prop_assert_eq!(x.vector().get(ReplicaId::new(r)), prefix);
            for c in 0..26 {
                prop_assert_eq!(
                    x.contains(converge::Dot::new(ReplicaId::new(r), c)),
                    a.contains(&(r, c))
                );
            }
        }
        let cloud: BTreeSet<(u64, u64)> = x.cloud().map(|d| (d.replica.get(), d.counter)).collect();
        let vector = x.vector();
        let expected: BTreeSet<_> = a
            .iter()
            .filter(|&&(r, c)| c > vector.get(ReplicaId::new(r)))
            .copied()
            .collect();
        prop_assert_eq!(cloud, expected);
    }
}

proptest! {
    #![proptest_config(config())]

    /// D9 on sets large enough for `delta_since` to carve the context through
    /// its bitmap path (≥ 64 live dots the peer knows, dense counters), with
    /// removes on both sides and a second writer.
    #[test]
    fn d9_delta_since_on_large_sets(
        n in 64usize..400,
        split in 0usize..400,
        removes in proptest::collection::vec((any::<bool>(), 0usize..400), 0..120),
        extra in 0usize..80,
    ) {
        let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
        let mut x = OrSet::new();
        let mut y = OrSet::new();
        for e in 0..n {
            x.insert(a, e);
            if e == split.min(n - 1) {
                y = x.clone();
            }
        }
        for e in 0..extra {
            y.insert(b, 1000 + e);
        }
        for &(on_x, e) in &removes {
            if on_x { x.remove(&(e % n)); } else { y.remove(&(e % n)); }
        }
        let delta = x.delta_since(&y.summary());
        delta.check_invariants().unwrap();
        let want = x.clone().joined(y.clone());
        prop_assert_eq!(y.clone().joined(delta.clone()), want);
        let mut minimal = true;
        converge::DotStore::for_each_dot(converge::CausalCrdt::store(&delta), &mut |d| {
            minimal &= !converge::CausalCrdt::context(&y).contains(d);
        });
        prop_assert!(minimal);
    }
}
