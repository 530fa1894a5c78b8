//! Fixed scenario tests (TESTPLAN b.3, with the per-type properties of a.2 and
//! the delta properties of a.3 that they pin down).
//!
//! Every test is a short, hand-written history; each names the TESTPLAN ids it
//! covers and, for ported regressions, the bug it pins.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use converge::*;

const A: ReplicaId = ReplicaId::new(1);
const B: ReplicaId = ReplicaId::new(2);
const C: ReplicaId = ReplicaId::new(3);
const D: ReplicaId = ReplicaId::new(4);

/// All orders of three items.
const PERMUTATIONS_3: [[usize; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

/// Joins `states` into bottom in the given order.
fn join_in_order<T: Lattice>(states: &[T], order: &[usize]) -> T {
    let mut acc = T::default();
    for &i in order {
        acc.join(states[i].clone());
    }
    acc
}

/// Joins three states in all six orders and checks that every order gives the
/// same, valid state, which is returned.
fn join_all_orders<T: Validate + Debug>(states: &[T; 3]) -> T {
    let first = join_in_order(states, &PERMUTATIONS_3[0]);
    for order in &PERMUTATIONS_3[1..] {
        assert_eq!(
            join_in_order(states, order),
            first,
            "join order {order:?} disagrees"
        );
    }
    first.check_invariants().unwrap();
    first
}

fn sorted<T: Ord + Clone, I: IntoIterator<Item = T>>(it: I) -> Vec<T> {
    let mut v: Vec<T> = it.into_iter().collect();
    v.sort();
    v
}

// ===========================================================================
// OR-set: riak_dt regressions (TESTPLAN S3, b.3 item 1)
// ===========================================================================

/// riak_dt `present_but_removed_test` (riak_dt_orswot.erl), found by EQC: merge
/// did not drop dots of an element present in both sets, so a removed element
/// stayed after merge. A adds Z, C copies A, A removes Z, B adds Z, A merges B,
/// B removes Z; merging A3, C, B2 must give the empty set (S3).
#[test]
fn s3_riak_present_but_removed_element_stays_removed_after_merging_a3_c_b2() {
    let mut a = OrSet::new();
    a.insert(A, "Z");
    let c = a.clone(); // replicate A to C: C has Z -> {a:1}
    let mut a2 = a.clone();
    a2.remove(&"Z");
    let mut b = OrSet::new();
    b.insert(B, "Z");
    let a3 = b.clone().joined(a2); // A now holds B's Z, clock {a:1, b:1}
    let mut b2 = b.clone();
    b2.remove(&"Z");

    // riak folds merge(Set, Acc) from A3 over [C, B2]: the two replicas that
    // hold Z merge first, which provoked the bug (Z with two dots).
    let mut merged = a3.clone();
    merged.join(c.clone());
    merged.join(b2.clone());
    assert!(merged.to_sorted_vec().is_empty(), "got {merged:?}");
    assert!(merged.store().is_empty());

    // And in every other order.
    let all = join_all_orders(&[a3, c, b2]);
    assert!(all.to_sorted_vec().is_empty());
    assert!(all.store().is_empty());
    assert_eq!(all, merged);
}

/// riak_dt `no_dots_left_test`, found by EQC: dropping the dots in merge was not
/// enough when the element was then stored with an empty dot set, so Z stayed
/// "present" with no dots. A adds Z, B adds Z, C copies A, A removes Z, A merges
/// B, B removes Z, B merges C; merging A3, B3, C must give the empty set, with
/// no entry left for Z (S3).
#[test]
fn s3_riak_no_dots_left_element_does_not_survive_with_an_empty_dot_set() {
    let mut a = OrSet::new();
    a.insert(A, "Z");
    let mut b = OrSet::new();
    b.insert(B, "Z");
    let c = a.clone();
    let mut a2 = a.clone();
    a2.remove(&"Z");
    let a3 = a2.joined(b.clone()); // A has B's Z
    let mut b2 = b.clone();
    b2.remove(&"Z");
    let b3 = b2.joined(c.clone()); // B has A's old Z

    let mut merged = a3.clone();
    merged.join(b3.clone());
    merged.join(c.clone());
    assert!(!merged.contains(&"Z"));
    assert_eq!(merged.len(), 0);
    assert!(merged.store().get(&"Z").is_none(), "Z kept with no dots");
    assert!(merged.store().is_empty());
    let json = serde_json::to_string(&merged).unwrap();
    assert!(!json.contains('Z'), "{json}");

    let all = join_all_orders(&[a3, b3, c]);
    assert!(all.store().is_empty());
    assert_eq!(all, merged);
}

/// riak_dt `dead_node_update_test`: A and B hold {A}; B adds 'B' but never tells
/// anyone (B dies); a client that read from B removes 'A' at replica a with B's
/// context. The remove must still take effect at a. Here the client's
/// context-carrying remove is the remove delta computed on B's state and
/// shipped to a alone (S2, S3).
#[test]
fn s3_riak_dead_node_update_remove_with_a_dead_replicas_context_applies() {
    let mut a = OrSet::new();
    a.insert(A, "A");
    let mut b = a.clone();
    b.insert(B, "B"); // never communicated
    let remove_from_b_context = b.remove(&"A");
    a.join(remove_from_b_context);
    assert!(a.to_sorted_vec().is_empty());
    a.check_invariants().unwrap();
    // The dead replica's add is not implied by the remove's context.
    assert!(!a.context().contains(Dot::new(B, 1)));
}

/// riak_dt `batch_order_test`: a batch `[remove baz, add baz]` must not be
/// re-ordered: baz stays. Here a batch is a delta group (the join of the two
/// deltas), which may be shipped as one message (D2).
#[test]
fn s3_riak_batch_order_remove_then_add_in_one_delta_group_keeps_the_element() {
    let mut set = OrSet::new();
    set.insert(A, "bar");
    set.insert(A, "baz");
    let base = set.clone();

    let mut s2 = base.clone();
    let rm = s2.remove(&"baz");
    let add = s2.insert(A, "baz");
    assert_eq!(s2.to_sorted_vec(), ["bar", "baz"]);

    // The batch as one delta group, joined in either order.
    let group = rm.clone().joined(add.clone());
    assert_eq!(group, add.clone().joined(rm.clone()));
    let mut remote = base.clone();
    remote.join(group);
    assert_eq!(remote.to_sorted_vec(), ["bar", "baz"]);
    assert_eq!(remote, s2);

    // The deltas one by one, in either order.
    for (first, second) in [(rm.clone(), add.clone()), (add, rm)] {
        let mut r = base.clone();
        r.join(first);
        r.join(second);
        assert_eq!(r.to_sorted_vec(), ["bar", "baz"]);
        assert_eq!(r, s2);
    }

    // And sequentially: remove; add (S2: remove;add => present).
    let mut s5 = base.clone();
    s5.remove(&"baz");
    s5.insert(A, "baz");
    assert_eq!(s5.to_sorted_vec(), ["bar", "baz"]);
}

// ===========================================================================
// OR-set: shopping cart, tombstones, gaps (S1, S2, S4, D4, I3)
// ===========================================================================

/// The Dynamo shopping-cart anomaly (S3, S2): with a union merge, an item
/// deleted on one replica reappears when a stale replica that still holds it
/// merges back. Here it never reappears, whatever the merge order and however
/// often replicas re-merge; an unrelated concurrent add survives.
#[test]
fn s1_s2_shopping_cart_removed_item_never_reappears_after_merges() {
    let mut alice_phone = OrSet::new();
    alice_phone.insert(A, "milk");
    alice_phone.insert(A, "eggs");
    let mut alice_laptop = alice_phone.clone();
    let stale_backup = alice_phone.clone(); // a replica partitioned before the remove

    alice_phone.remove(&"eggs");
    alice_laptop.insert(B, "tea"); // concurrently

    let states = [
        alice_phone.clone(),
        alice_laptop.clone(),
        stale_backup.clone(),
    ];
    let merged = join_all_orders(&states);
    assert_eq!(merged.to_sorted_vec(), ["milk", "tea"]);

    // Anti-entropy rounds: every replica merges every other, twice.
    let mut reps = states.to_vec();
    for _ in 0..2 {
        for i in 0..3 {
            for j in 0..3 {
                let other = reps[j].clone();
                reps[i].join(other);
                if i != 2 {
                    assert!(!reps[i].contains(&"eggs"), "eggs came back at replica {i}");
                }
            }
        }
    }
    for r in &reps {
        assert_eq!(r.to_sorted_vec(), ["milk", "tea"]);
        assert_eq!(r, &merged);
    }
    // The stale replica learns of the remove rather than resurrecting eggs.
    let mut stale = stale_backup;
    stale.join(alice_phone);
    assert_eq!(stale.to_sorted_vec(), ["milk"]);
}

/// S1 add-wins: a concurrent add and remove of the same element leave it present,
/// with only the unobserved add's dot.
#[test]
fn s1_concurrent_add_survives_a_remove_of_the_same_item() {
    let mut x = OrSet::new();
    x.insert(A, "eggs");
    let mut y = x.clone();
    x.remove(&"eggs");
    y.insert(B, "eggs"); // concurrent re-add
    let xy = x.clone().joined(y.clone());
    let yx = y.joined(x);
    assert_eq!(xy, yx);
    assert!(xy.contains(&"eggs"));
    let dots: Vec<Dot> = xy.store().get(&"eggs").unwrap().iter().collect();
    assert_eq!(dots, [Dot::new(B, 1)], "only the unobserved add remains");
}

/// S2 sequential semantics: `add; remove` => absent, `remove; add` => present.
#[test]
fn s2_sequential_add_remove_and_remove_add() {
    let mut s = OrSet::new();
    s.insert(A, 1);
    s.remove(&1);
    assert!(!s.contains(&1));
    s.remove(&2);
    s.insert(A, 2);
    assert!(s.contains(&2));
    assert_eq!(s.to_sorted_vec(), [2]);
}

/// S4 no tombstones: after every element is removed and all replicas synced, the
/// store holds no entries and the context has compacted to one range per
/// replica (no dot cloud): the state is O(#replicas).
#[test]
fn s4_after_removing_everything_and_syncing_the_store_is_empty() {
    let replicas = [A, B, C];
    let mut reps: Vec<OrSet<u32>> = vec![OrSet::new(); 3];
    for (i, r) in replicas.iter().enumerate() {
        for e in 0..20 {
            reps[i].insert(*r, e * 3 + i as u32);
        }
    }
    // Sync all.
    let all = join_in_order(&reps, &[0, 1, 2]);
    for r in &mut reps {
        r.join(all.clone());
    }
    // Each replica removes a third of the elements, concurrently.
    for (i, r) in reps.iter_mut().enumerate() {
        for e in 0..60u32 {
            if e % 3 == i as u32 {
                r.remove(&e);
            }
        }
    }
    let all = join_in_order(&reps, &[2, 0, 1]);
    for r in &mut reps {
        r.join(all.clone());
    }
    for r in &reps {
        assert_eq!(r, &all);
        assert!(r.is_empty());
        assert!(r.store().is_empty(), "store kept entries: {:?}", r.store());
        assert!(DotStore::is_empty(r.store()));
        assert_eq!(r.context().cloud().count(), 0);
        assert_eq!(r.context().ranges().count(), replicas.len());
        for rep in replicas {
            assert_eq!(r.context().vector().get(rep), 20);
        }
        r.check_invariants().unwrap();
    }
    let json = serde_json::to_string(&all).unwrap();
    assert_eq!(json, "[[],[[1,[[1,20]]],[2,[[1,20]]],[3,[[1,20]]]]]");
}

/// D4 gap safety: a remove-delta joined before the add it removes leaves the
/// element absent, and joining the add afterwards keeps it absent, because the
/// context recorded the add's dot in its cloud (and does not fill the gap
/// before it, I3).
#[test]
fn d4_remove_delta_before_its_add_keeps_the_element_absent() {
    let mut origin = OrSet::new();
    let add_y = origin.insert(A, "y"); // a:1
    let add_x = origin.insert(A, "x"); // a:2
    let rm_x = origin.remove(&"x");

    let mut r = OrSet::new();
    r.join(rm_x.clone());
    assert!(!r.contains(&"x"));
    assert!(r.context().contains(Dot::new(A, 2)));
    assert!(!r.context().contains(Dot::new(A, 1)), "gap filled");
    assert_eq!(r.context().vector().get(A), 0);
    r.check_invariants().unwrap();

    r.join(add_x.clone());
    assert!(!r.contains(&"x"), "late add resurrected a removed element");
    r.join(add_y.clone());
    assert_eq!(r.to_sorted_vec(), ["y"]);
    assert_eq!(r.context().vector().get(A), 2); // now contiguous
    assert_eq!(r.context().cloud().count(), 0);
    assert_eq!(r, origin);

    // Duplicated and in reverse order: same result (D3).
    let mut r2 = OrSet::new();
    for d in [rm_x.clone(), add_y, rm_x, add_x.clone(), add_x] {
        r2.join(d);
    }
    assert_eq!(r2, origin);
}

/// Akka #22188 shape (b.3 item 6, I3): out-of-order delta merges must not leave
/// "holes that work as deletes" — a context that filled a gap would make the
/// replica look as if it had seen and removed the missing add, and merging with
/// a third replica that holds it would then delete it. No element may be lost.
#[test]
fn akka_22188_out_of_order_deltas_then_merge_with_third_replica_loses_nothing() {
    let mut origin = OrSet::new();
    let d1 = origin.insert(A, "e1");
    let d2 = origin.insert(A, "e2");
    let d3 = origin.insert(A, "e3");

    let mut b = OrSet::new();
    b.join(d3.clone());
    b.join(d1.clone()); // d2 is still in flight
    assert_eq!(b.to_sorted_vec(), ["e1", "e3"]);
    assert_eq!(b.context().vector().get(A), 1);
    assert_eq!(b.context().cloud().collect::<Vec<_>>(), [Dot::new(A, 3)]);
    b.check_invariants().unwrap();

    let mut c = OrSet::new();
    c.join(d2.clone()); // the third replica got only the missing delta
    c.insert(C, "c1");

    let bc = b.clone().joined(c.clone());
    let cb = c.clone().joined(b.clone());
    assert_eq!(bc, cb);
    assert_eq!(bc.to_sorted_vec(), ["c1", "e1", "e2", "e3"]);

    // Merging with the origin and the late delta changes nothing.
    let mut all = bc.clone();
    all.join(d2);
    all.join(origin.clone());
    assert_eq!(all.to_sorted_vec(), ["c1", "e1", "e2", "e3"]);
    assert_eq!(all.context().cloud().count(), 0);
}

/// b.3 item 8 (same-content independent init), OR-set form: two replicas insert
/// the same element independently; after merge it is present once, with two
/// dots, and one remove that observed both removes it everywhere.
#[test]
fn same_content_independent_init_orset_element_present_once_with_two_dots() {
    let mut x = OrSet::new();
    let mut y = OrSet::new();
    x.insert(A, "todo");
    y.insert(B, "todo");
    let mut m = x.clone().joined(y.clone());
    assert_eq!(m, y.clone().joined(x.clone()));
    assert!(m.contains(&"todo"));
    assert_eq!(m.len(), 1);
    assert_eq!(m.to_sorted_vec(), ["todo"]);
    let dots: Vec<Dot> = m.store().get(&"todo").unwrap().iter().collect();
    assert_eq!(dots, [Dot::new(A, 1), Dot::new(B, 1)]);

    let rm = m.remove(&"todo");
    x.join(rm.clone());
    y.join(rm);
    assert!(x.is_empty() && y.is_empty() && m.is_empty());
}

// ===========================================================================
// Multi-value register (M2, M3, resolve)
// ===========================================================================

/// M2: a write that observed all current siblings replaces them all.
#[test]
fn m2_write_that_observed_all_siblings_replaces_them() {
    let mut x = MvRegister::new();
    let mut y = MvRegister::new();
    let mut z = MvRegister::new();
    x.write(A, "x");
    y.write(B, "y");
    z.write(C, "z");
    x.join(y.clone());
    x.join(z.clone());
    assert_eq!(x.values().count(), 3);
    assert!(x.is_conflicted());

    let d = x.write(A, "merged");
    assert_eq!(x.values().collect::<Vec<_>>(), [&"merged"]);
    assert_eq!(x.value(), Some(&"merged"));
    // The write's delta alone is enough for the others.
    y.join(d.clone());
    assert_eq!(y.values().collect::<Vec<_>>(), [&"merged"]);
    z.join(d);
    z.join(y.clone());
    assert_eq!(z, x);
    x.check_invariants().unwrap();
}

/// Two siblings written by one replica are reachable, so a decoder must
/// accept them (decision 0008, step 2, proposed rejecting them): by a
/// resolve against a read taken before the replica's own write, and by a
/// write's delta delivered before the delta that superseded the replica's
/// earlier sibling.
#[test]
fn mv_siblings_of_one_replica_are_reachable() {
    let dots = |r: &MvRegister<String>| r.store().iter().map(|(d, _)| d).collect::<Vec<_>>();

    // A stale read: resolve keeps what the read did not see, own writes too.
    let mut x = MvRegister::new();
    let read = x.read_context();
    x.write(A, "first".to_string());
    x.resolve(A, "second".to_string(), &read);
    assert_eq!(dots(&x), [Dot::new(A, 1), Dot::new(A, 2)]);
    x.check_invariants().unwrap();

    // Out-of-order deltas: (A, 1) is superseded by B's write, which A then
    // sees and overwrites; a third replica gets A's second delta before B's.
    let mut a = MvRegister::new();
    let mut b = MvRegister::new();
    let mut c = MvRegister::new();
    let d1 = a.write(A, "a1".to_string());
    b.join(d1.clone());
    let db = b.write(B, "b".to_string());
    a.join(db.clone());
    let d2 = a.write(A, "a2".to_string());
    c.join(d1);
    c.join(d2);
    assert_eq!(dots(&c), [Dot::new(A, 1), Dot::new(A, 2)]);
    c.check_invariants().unwrap();
    let bytes = converge::encoding::encode(&c).unwrap();
    let back: MvRegister<String> = converge::encoding::decode(&bytes).unwrap();
    assert_eq!(back.values().count(), 2);
    // Once B's delta arrives, (A, 1) goes, as everywhere else.
    c.join(db);
    assert_eq!(dots(&c), [Dot::new(A, 2)]);
    assert_eq!(c, a);
}

/// M3: merging k mutually concurrent writes gives exactly k siblings, in every
/// order, and they read in the same (dot) order everywhere.
#[test]
fn m3_k_concurrent_writes_give_k_siblings() {
    for k in 1..=6u64 {
        let regs: Vec<MvRegister<u64>> = (0..k)
            .map(|i| {
                let mut r = MvRegister::new();
                r.write(ReplicaId::new(i + 1), i * 10);
                r
            })
            .collect();
        let forward: Vec<usize> = (0..regs.len()).collect();
        let backward: Vec<usize> = forward.iter().rev().copied().collect();
        let m1 = join_in_order(&regs, &forward);
        let m2 = join_in_order(&regs, &backward);
        assert_eq!(m1, m2);
        assert_eq!(m1.values().count() as u64, k);
        assert_eq!(
            m1.values().collect::<Vec<_>>(),
            m2.values().collect::<Vec<_>>()
        );
        assert_eq!(
            sorted(m1.values().copied()),
            (0..k).map(|i| i * 10).collect::<Vec<_>>()
        );
        m1.check_invariants().unwrap();
    }
}

/// `resolve` supersedes exactly the siblings that were read: a sibling that
/// arrived after the read survives beside the resolution.
#[test]
fn mv_resolve_supersedes_exactly_what_was_read() {
    let mut x = MvRegister::new();
    let mut y = MvRegister::new();
    let mut z = MvRegister::new();
    x.write(A, "a");
    y.write(B, "b");
    x.join(y.clone());
    let read = x.read_context();
    assert_eq!(sorted(x.values().copied()), ["a", "b"]);

    z.write(C, "c"); // concurrent, arrives after the read
    x.join(z.clone());
    assert_eq!(x.values().count(), 3);

    let d = x.resolve(A, "a+b", &read);
    assert_eq!(sorted(x.values().copied()), ["a+b", "c"]);

    // Every replica converges on the same two siblings.
    y.join(d.clone());
    y.join(z.clone());
    z.join(x.clone());
    assert_eq!(sorted(y.values().copied()), ["a+b", "c"]);
    assert_eq!(y, x);
    assert_eq!(z, x);
}

// ===========================================================================
// LWW register (W1, W3, W4, W5)
// ===========================================================================

/// W1: equal timestamps are broken by replica id, and join is commutative on
/// such ties (CBaquero/delta-enabled-crdts#7: the reference LWWReg was not).
#[test]
fn w1_lww_ties_are_broken_by_replica_id_commutatively() {
    let mut regs = Vec::new();
    for (r, v) in [(B, "b"), (A, "a"), (C, "c")] {
        let mut reg = LwwRegister::new();
        reg.write(r, v, 10).unwrap();
        regs.push(reg);
    }
    let states: [LwwRegister<&str>; 3] = [regs[0].clone(), regs[1].clone(), regs[2].clone()];
    let m = join_all_orders(&states);
    assert_eq!(m.value(), Some(&"c"));
    assert_eq!(
        m.stamp(),
        Some(Stamp {
            timestamp: 10,
            replica: C
        })
    );
    for x in &regs {
        for y in &regs {
            assert_eq!(x.clone().joined(y.clone()), y.clone().joined(x.clone()));
        }
    }
}

/// W3: after receiving a write stamped in the future by a skewed peer, a local
/// write with a lagging clock still wins locally (timestamp =
/// `max(now, latest + 1)`), and at the peer.
#[test]
fn w3_local_write_after_a_future_write_still_wins_locally() {
    let mut skewed = LwwRegister::new();
    skewed.write(B, "from the future", 1_000_000).unwrap();
    let mut local = LwwRegister::new();
    local.write(A, "old", 50).unwrap();
    local.join(skewed.clone());
    assert_eq!(local.value(), Some(&"from the future"));

    let d = local.write(A, "mine", 100).unwrap(); // our clock says 100
    assert_eq!(local.value(), Some(&"mine"));
    assert_eq!(local.stamp().unwrap().timestamp, 1_000_001);
    skewed.join(d);
    assert_eq!(skewed.value(), Some(&"mine"));
    assert_eq!(skewed, local);
}

/// W4: `lost_writes` counts exactly the concurrent writes this replica
/// discarded in a small hand-built history; a causally overwritten write is not
/// a loss, and re-delivering a write is not counted twice.
#[test]
fn w4_lost_writes_counts_concurrent_discards_once() {
    let mut x = LwwRegister::new();
    let mut y = LwwRegister::new();
    let mut z = LwwRegister::new();
    x.write(A, "x", 10).unwrap();
    y.write(B, "y", 20).unwrap();
    z.write(C, "z", 15).unwrap();

    let mut r = LwwRegister::new();
    r.join(x.clone());
    assert_eq!(r.lost_writes(), 0);
    r.join(y.clone()); // x loses to a write that had not seen it
    assert_eq!(r.lost_writes(), 1);
    r.join(z.clone()); // z loses on arrival
    assert_eq!(r.lost_writes(), 2);
    // Duplicates are not double counted.
    r.join(x.clone());
    r.join(z.clone());
    r.join(y.clone());
    r.join(r.clone());
    assert_eq!(r.lost_writes(), 2);
    assert_eq!(r.value(), Some(&"y"));

    // A write that observed the previous one is no loss.
    let mut seq = LwwRegister::new();
    seq.join(x.clone());
    let mut w = x.clone();
    w.write(A, "x2", 11).unwrap();
    let mut v = y.clone();
    v.join(x.clone());
    v.write(B, "y2", 30).unwrap(); // observed x, and y
    seq.join(w);
    seq.join(v);
    assert_eq!(seq.value(), Some(&"y2"));
    // "x2" at 11 was concurrent with "y2" (v had not seen it): one loss.
    assert_eq!(seq.lost_writes(), 1);

    let mut caus = LwwRegister::new();
    caus.join(x.clone());
    let mut after = x.clone();
    after.write(B, "after x", 12).unwrap();
    caus.join(after);
    assert_eq!(caus.lost_writes(), 0, "a causal overwrite is not a loss");
}

/// W4 under delta shipping (the crate's main sync mode): a write that observed
/// the previous winner overwrites it causally, so no replica may count the
/// overwritten write as lost — whether it receives the overwrite as a full
/// state, as the write's delta, or as a `delta_since` answer.
#[test]
fn w4_a_causal_overwrite_shipped_as_a_delta_is_not_counted_as_lost() {
    let mut x = LwwRegister::new();
    x.write(A, "x", 10).unwrap();
    let mut y = LwwRegister::new();
    y.join(x.clone());
    let write_delta = y.write(B, "y overwrites x", 20).unwrap();

    let via_state = x.clone().joined(y.clone());
    assert_eq!(via_state.lost_writes(), 0);

    let via_delta = x.clone().joined(write_delta);
    assert_eq!(via_delta, via_state);
    assert_eq!(
        via_delta.lost_writes(),
        0,
        "write delta: a causal overwrite counted as lost"
    );

    let via_sync = x.clone().joined(y.delta_since(&x.summary()));
    assert_eq!(via_sync, via_state);
    assert_eq!(
        via_sync.lost_writes(),
        0,
        "delta_since: a causal overwrite counted as lost"
    );
}

/// W5 (documented behaviour): LWW decides by clock, so a replica whose clock is
/// one hour fast keeps winning concurrent writes until real time catches up
/// with its timestamps. A replica that *received* the fast write wins locally
/// afterwards (W3), but its concurrent writes lose until then.
#[test]
fn w5_a_replica_one_hour_fast_keeps_winning_concurrent_writes() {
    const HOUR_MS: u64 = 3_600_000;
    let real = std::rc::Rc::new(std::cell::Cell::new(1_700_000_000_000u64));
    let (r1, r2) = (real.clone(), real.clone());
    let mut fast_clock = HybridClock::new(move || r1.get() + HOUR_MS);
    let mut true_clock = HybridClock::new(move || r2.get());

    let mut fast = LwwRegister::new();
    let mut honest = LwwRegister::new();
    fast.write_with(A, "fast@0", &mut fast_clock).unwrap();
    // 59 minutes later in real time, the honest replica writes concurrently...
    real.set(real.get() + 59 * 60_000);
    honest
        .write_with(B, "honest@59min", &mut true_clock)
        .unwrap();
    let m = honest.clone().joined(fast.clone());
    assert_eq!(m.value(), Some(&"fast@0"), "the fast clock wins");
    assert_eq!(m.lost_writes(), 1);

    // ...and just after the hour has passed, its concurrent write wins.
    real.set(real.get() + 2 * 60_000);
    let mut honest2 = LwwRegister::new();
    honest2
        .write_with(C, "honest@61min", &mut true_clock)
        .unwrap();
    let m2 = fast.clone().joined(honest2);
    assert_eq!(m2.value(), Some(&"honest@61min"));

    // A replica that has seen the fast write wins locally regardless (W3).
    let mut seen_it = fast.clone();
    seen_it.write(B, "after seeing", 1).unwrap();
    assert_eq!(seen_it.value(), Some(&"after seeing"));
}

// ===========================================================================
// Counters (G4/B12, P1/B13, CausalCounter)
// ===========================================================================

/// G4/B12: a local increment that would overflow the replica's entry returns
/// `Err` and leaves the counter unchanged; remote entries at `u64::MAX` join
/// fine (max never overflows) and `value()` is exact in `u128`.
#[test]
fn g4_b12_gcounter_overflow_is_an_error_and_max_entries_sum_exactly() {
    let mut g = GCounter::new();
    g.increment(A, u64::MAX - 1).unwrap();
    let before = g.clone();
    let err = g.increment(A, 2).unwrap_err();
    assert_eq!(err.replica, A);
    assert_eq!(err.current, u64::MAX - 1);
    assert_eq!(err.amount, 2);
    assert_eq!(g, before);
    g.increment(A, 1).unwrap();
    assert_eq!(g.get(A), u64::MAX);
    assert!(g.increment(A, 1).is_err());
    assert_eq!(g.increment(A, 0).unwrap(), GCounter::new()); // a no-op, not an error

    let remote1 = GCounter::from_entries([(B, u64::MAX), (C, u64::MAX)]);
    let remote2 = GCounter::from_entries([(B, u64::MAX), (D, u64::MAX)]);
    g.join(remote1.clone());
    g.join(remote2);
    assert_eq!(g.value(), 4 * u128::from(u64::MAX));
    assert_eq!(
        g,
        GCounter::from_entries([(A, u64::MAX), (B, u64::MAX), (C, u64::MAX), (D, u64::MAX)])
    );
    assert_eq!(remote1.value(), 2 * u128::from(u64::MAX));
    g.check_invariants().unwrap();
}

/// P1/B13: a PN-counter's value is exact in `i128` with both halves at the
/// extremes; overflow of either half is an error that changes nothing (P3).
#[test]
fn p1_b13_pncounter_extremes_are_exact_in_i128() {
    let max = i128::from(u64::MAX);
    let mut p = PnCounter::new();
    for r in [A, B, C] {
        p.increment(r, u64::MAX).unwrap();
    }
    assert_eq!(p.value(), 3 * max);
    for r in [A, B, C, D] {
        p.decrement(r, u64::MAX).unwrap();
    }
    assert_eq!(p.value(), -max);

    let before = p.clone();
    assert!(p.increment(A, 1).is_err());
    assert!(p.decrement(D, 1).is_err());
    assert_eq!(p, before);

    let mut n = PnCounter::new();
    for r in 1..=8 {
        n.decrement(ReplicaId::new(r), u64::MAX).unwrap();
    }
    assert_eq!(n.value(), -8 * max);
    // inc = {1,2,3: MAX}, dec = {1..=8: MAX}.
    let both = n.clone().joined(p.clone());
    assert_eq!(both.value(), 3 * max - 8 * max);
    assert_eq!(both, p.joined(n));
    both.check_invariants().unwrap();
}

/// CausalCounter overflow: the replica's running total would overflow => `Err`,
/// unchanged, for increments and decrements; also inside a map via
/// `try_update`.
#[test]
fn causal_counter_overflow_is_an_error_and_leaves_it_unchanged() {
    let mut c = CausalCounter::new();
    c.increment(A, u64::MAX).unwrap();
    c.decrement(A, u64::MAX).unwrap();
    assert_eq!(c.value(), 0);
    let before = c.clone();
    let e = c.increment(A, 1).unwrap_err();
    assert_eq!((e.replica, e.current, e.amount), (A, u64::MAX, 1));
    assert!(c.decrement(A, 1).is_err());
    assert_eq!(c, before);
    c.increment(B, 5).unwrap();
    assert_eq!(c.value(), 5);

    let mut m: OrMap<&str, CausalCounter> = OrMap::new();
    m.update(A, "likes", |c| c.increment(A, u64::MAX).unwrap());
    let before = m.clone();
    let r = m.try_update(A, "likes", |c| c.increment(A, 1));
    assert!(r.is_err());
    assert_eq!(m, before);
    assert_eq!(m.get(&"likes").unwrap().value(), i128::from(u64::MAX));
    m.check_invariants().unwrap();
}

/// The CausalCounter reset rule (O4, `docs/decisions/0006-causal-counter-reset.md`):
/// a reset is observed-remove per replica. y resets what it saw (5 from A and
/// 3 from B) while A concurrently adds 2: B's contribution is reset, A's new
/// dot carries A's running total 7, which the reset never saw, so it survives
/// whole. Nothing is counted twice; a reset that saw everything clears it.
#[test]
fn o4_causal_counter_reset_is_observed_remove_per_replica() {
    let mut x = CausalCounter::new();
    x.increment(A, 5).unwrap();
    x.increment(B, 3).unwrap();
    let mut y = x.clone();
    y.reset();
    x.increment(A, 2).unwrap();
    let xy = x.clone().joined(y.clone());
    let yx = y.joined(x);
    assert_eq!(xy, yx);
    assert_eq!(
        xy.value(),
        7,
        "B's observed 3 is reset; A's concurrent update keeps A's running total"
    );
    let mut z = xy.clone();
    z.reset();
    assert_eq!(xy.joined(z).value(), 0);
}

// ===========================================================================
// OR-map nested remove semantics (O2, O3, O4, O5)
// ===========================================================================

type Map<V, P> = OrMap<&'static str, V, P>;

/// Two replicas of one map.
type Pair<V, P> = (Map<V, P>, Map<V, P>);

/// The O2 schedule: A updates key `k` and syncs it to B; then A removes `k`
/// while B concurrently updates `k`; both sync (by delta and by full state,
/// which must agree). Returns the two converged replicas.
fn nested_remove_schedule<V, P>(
    first: impl FnOnce(&mut V) -> V,
    concurrent: impl FnOnce(&mut V) -> V,
) -> Pair<V, P>
where
    V: CausalCrdt,
    P: RemovePolicy,
{
    let mut a: Map<V, P> = OrMap::new();
    let d1 = a.update(A, "k", first);
    let mut b: Map<V, P> = OrMap::new();
    b.join(d1);
    assert_eq!(a, b);

    let rm = a.remove(A, &"k");
    assert!(!a.contains_key(&"k"));
    let up = b.update(B, "k", concurrent);

    let a_full = a.clone().joined(b.clone());
    let b_full = b.clone().joined(a.clone());
    assert_eq!(a_full, b_full, "full-state sync diverged");
    let a_delta = a.clone().joined(up);
    let b_delta = b.clone().joined(rm);
    assert_eq!(
        a_delta, a_full,
        "delta sync differs from full-state sync at A"
    );
    assert_eq!(
        b_delta, b_full,
        "delta sync differs from full-state sync at B"
    );
    a_full.check_invariants().unwrap();
    (a_full, b_full)
}

/// O3: after the schedule, A removes `k` (if visible) and updates it again
/// having observed the merged state; the new value starts from bottom. Ships
/// the two deltas to B; returns both replicas, which must be equal.
fn restart_from_bottom<V, P>(
    mut a: Map<V, P>,
    mut b: Map<V, P>,
    fresh: impl FnOnce(&mut V) -> V,
) -> Pair<V, P>
where
    V: CausalCrdt,
    P: RemovePolicy,
{
    let rm = a.remove(A, &"k");
    let up = a.update(A, "k", fresh);
    b.join(rm);
    b.join(up);
    assert_eq!(a, b);
    assert!(a.contains_key(&"k"));
    a.check_invariants().unwrap();
    (a, b)
}

fn set_items<P: RemovePolicy>(m: &Map<OrSet<&'static str>, P>) -> Option<Vec<&'static str>> {
    m.get(&"k").map(OrSet::to_sorted_vec)
}

fn run_orset_schedule<P: RemovePolicy>() -> Pair<OrSet<&'static str>, P> {
    nested_remove_schedule::<OrSet<&'static str>, P>(
        |s| s.insert(A, "a-item"),
        |s| s.insert(B, "b-item"),
    )
}

fn check_orset_restart<P: RemovePolicy>(
    a: Map<OrSet<&'static str>, P>,
    b: Map<OrSet<&'static str>, P>,
) {
    let (a, b) = restart_from_bottom(a, b, |s| s.insert(A, "fresh"));
    assert_eq!(set_items(&a), Some(vec!["fresh"]));
    assert_eq!(set_items(&b), Some(vec!["fresh"]));
    // Nothing hidden survives a restart either.
    assert_eq!(a.stored_entries(), 1);
}

/// O2 with ObservedReset and a nested OR-set: the key stays, showing only B's
/// unobserved update; O3: a later update starts from bottom.
#[test]
fn o2_o3_observed_reset_orset_in_map_keeps_only_the_unobserved_update() {
    let (a, b) = run_orset_schedule::<ObservedReset>();
    assert_eq!(set_items(&a), Some(vec!["b-item"]));
    assert_eq!(a, b);
    check_orset_restart(a, b);
}

/// Update-wins with a nested OR-set: the key stays with A's old content plus
/// B's update; O3: a remove then update starts from bottom.
#[test]
fn o2_o3_update_wins_orset_in_map_keeps_old_content_and_the_update() {
    let (a, b) = run_orset_schedule::<UpdateWins>();
    assert_eq!(set_items(&a), Some(vec!["a-item", "b-item"]));
    assert_eq!(a, b);
    check_orset_restart(a, b);
}

/// Remove-wins with a nested OR-set: the key is absent; O3: an update that
/// observed the merged state brings it back from bottom.
#[test]
fn o2_o3_remove_wins_orset_in_map_keeps_the_key_absent() {
    let (a, b) = run_orset_schedule::<RemoveWins>();
    assert_eq!(set_items(&a), None);
    assert!(!a.contains_key(&"k") && !b.contains_key(&"k"));
    assert_eq!(a.len(), 0);
    assert_eq!(a, b);
    check_orset_restart(a, b);
}

fn run_counter_schedule<P: RemovePolicy>() -> Pair<CausalCounter, P> {
    nested_remove_schedule::<CausalCounter, P>(
        |c| c.increment(A, 5).unwrap(),
        |c| c.increment(B, 2).unwrap(),
    )
}

fn counter_value<P: RemovePolicy>(m: &Map<CausalCounter, P>) -> Option<i128> {
    m.get(&"k").map(CausalCounter::value)
}

fn check_counter_restart<P: RemovePolicy>(a: Map<CausalCounter, P>, b: Map<CausalCounter, P>) {
    let (a, b) = restart_from_bottom(a, b, |c| c.increment(A, 1).unwrap());
    assert_eq!(counter_value(&a), Some(1));
    assert_eq!(counter_value(&b), Some(1));
}

/// O2/O4 with ObservedReset and a nested CausalCounter: the reset drops the
/// observed 5; B's concurrent +2 survives; a restart counts from zero (O3).
#[test]
fn o2_o3_observed_reset_counter_in_map_keeps_only_the_unobserved_increment() {
    let (a, b) = run_counter_schedule::<ObservedReset>();
    assert_eq!(counter_value(&a), Some(2));
    assert_eq!(a, b);
    check_counter_restart(a, b);
}

/// Update-wins with a nested CausalCounter: 5 + 2.
#[test]
fn o2_o3_update_wins_counter_in_map_keeps_all_increments() {
    let (a, b) = run_counter_schedule::<UpdateWins>();
    assert_eq!(counter_value(&a), Some(7));
    assert_eq!(a, b);
    check_counter_restart(a, b);
}

/// Remove-wins with a nested CausalCounter: absent.
#[test]
fn o2_o3_remove_wins_counter_in_map_keeps_the_key_absent() {
    let (a, b) = run_counter_schedule::<RemoveWins>();
    assert_eq!(counter_value(&a), None);
    assert_eq!(a, b);
    check_counter_restart(a, b);
}

fn mv_values<P: RemovePolicy>(m: &Map<MvRegister<&'static str>, P>) -> Option<Vec<&'static str>> {
    m.get(&"k").map(|r| sorted(r.values().copied()))
}

/// The MV schedules: B either writes normally (superseding A's value, which it
/// observed) or blindly (`resolve` with an empty read: keeps A's value as a
/// sibling), concurrently with A's remove.
fn run_mv_schedules<P: RemovePolicy>() -> [Pair<MvRegister<&'static str>, P>; 2] {
    [
        nested_remove_schedule::<MvRegister<&'static str>, P>(
            |r| r.write(A, "a-v"),
            |r| r.write(B, "b-v"),
        ),
        nested_remove_schedule::<MvRegister<&'static str>, P>(
            |r| r.write(A, "a-v"),
            |r| r.resolve(B, "b-v", &CausalContext::new()),
        ),
    ]
}

fn check_mv_restart<P: RemovePolicy>(
    a: Map<MvRegister<&'static str>, P>,
    b: Map<MvRegister<&'static str>, P>,
) {
    let (a, b) = restart_from_bottom(a, b, |r| r.resolve(A, "fresh", &CausalContext::new()));
    assert_eq!(
        mv_values(&a),
        Some(vec!["fresh"]),
        "a blind write after a restart sees no old sibling"
    );
    assert_eq!(mv_values(&b), Some(vec!["fresh"]));
}

/// ObservedReset with MV values: only B's write remains in both variants.
#[test]
fn o2_o3_observed_reset_mv_register_in_map() {
    let [(a, b), (a2, b2)] = run_mv_schedules::<ObservedReset>();
    assert_eq!(mv_values(&a), Some(vec!["b-v"]));
    assert_eq!(mv_values(&a2), Some(vec!["b-v"]));
    assert_eq!(a, b);
    assert_eq!(a2, b2);
    check_mv_restart(a, b);
    check_mv_restart(a2, b2);
}

/// UpdateWins with MV values: A's value survives where B did not supersede it.
#[test]
fn o2_o3_update_wins_mv_register_in_map() {
    let [(a, b), (a2, b2)] = run_mv_schedules::<UpdateWins>();
    assert_eq!(
        mv_values(&a),
        Some(vec!["b-v"]),
        "B's write superseded a-v itself"
    );
    assert_eq!(mv_values(&a2), Some(vec!["a-v", "b-v"]));
    assert_eq!(a, b);
    assert_eq!(a2, b2);
    check_mv_restart(a, b);
    check_mv_restart(a2, b2);
}

/// RemoveWins with MV values: absent in both variants.
#[test]
fn o2_o3_remove_wins_mv_register_in_map() {
    let [(a, b), (a2, b2)] = run_mv_schedules::<RemoveWins>();
    assert_eq!(mv_values(&a), None);
    assert_eq!(mv_values(&a2), None);
    assert_eq!(a, b);
    assert_eq!(a2, b2);
    check_mv_restart(a, b);
    check_mv_restart(a2, b2);
}

type Inner = OrMap<&'static str, MvRegister<u32>>;

fn inner_view<P: RemovePolicy>(m: &Map<Inner, P>) -> Option<Vec<(&'static str, Vec<u32>)>> {
    m.get(&"k").map(|inner| {
        let mut v: Vec<(&'static str, Vec<u32>)> = inner
            .iter()
            .map(|(k, r)| (*k, sorted(r.values().copied())))
            .collect();
        v.sort();
        v
    })
}

fn run_nested3_schedule<P: RemovePolicy>() -> Pair<Inner, P> {
    nested_remove_schedule::<Inner, P>(
        |inner| inner.update(A, "x", |r| r.write(A, 1)),
        |inner| inner.update(B, "y", |r| r.write(B, 2)),
    )
}

fn check_nested3_restart<P: RemovePolicy>(a: Map<Inner, P>, b: Map<Inner, P>) {
    let (a, b) = restart_from_bottom(a, b, |inner| inner.update(A, "z", |r| r.write(A, 3)));
    assert_eq!(inner_view(&a), Some(vec![("z", vec![3])]));
    assert_eq!(inner_view(&b), Some(vec![("z", vec![3])]));
}

/// Three levels, `OrMap<&str, OrMap<&str, MvRegister<u32>>>`, ObservedReset at
/// the top: only B's nested key survives.
#[test]
fn o2_o3_observed_reset_three_level_nesting() {
    let (a, b) = run_nested3_schedule::<ObservedReset>();
    assert_eq!(inner_view(&a), Some(vec![("y", vec![2])]));
    assert_eq!(a, b);
    check_nested3_restart(a, b);
}

/// Three levels, UpdateWins at the top: A's nested key and B's.
#[test]
fn o2_o3_update_wins_three_level_nesting() {
    let (a, b) = run_nested3_schedule::<UpdateWins>();
    assert_eq!(inner_view(&a), Some(vec![("x", vec![1]), ("y", vec![2])]));
    assert_eq!(a, b);
    check_nested3_restart(a, b);
}

/// Three levels, RemoveWins at the top: absent.
#[test]
fn o2_o3_remove_wins_three_level_nesting() {
    let (a, b) = run_nested3_schedule::<RemoveWins>();
    assert_eq!(inner_view(&a), None);
    assert_eq!(a, b);
    check_nested3_restart(a, b);
}

/// O4: a counter inside a map, with a reset-remove concurrent with an
/// increment by a replica whose earlier contribution the remover had
/// observed. Per the documented per-replica reset rule, the incrementing
/// replica's running total (3 + 2) survives and A's observed 5 is reset;
/// nothing is counted twice (riak_dt PR #53's double-count edge) and both
/// replicas agree.
#[test]
fn o4_counter_in_map_concurrent_remove_and_increment_does_not_double_count() {
    let mut a: OrMap<&str, CausalCounter> = OrMap::new();
    a.update(A, "k", |c| c.increment(A, 5).unwrap());
    let mut b = a.clone();
    b.update(B, "k", |c| c.increment(B, 3).unwrap());
    a.join(b.clone());
    assert_eq!(a.get(&"k").unwrap().value(), 8);

    let rm = a.remove(A, &"k"); // observed 5 (from A) and 3 (from B)
    let inc = b.update(B, "k", |c| c.increment(B, 2).unwrap()); // concurrent
    a.join(inc.clone());
    b.join(rm.clone());
    assert_eq!(a, b);
    assert_eq!(
        a.get(&"k").map(CausalCounter::value),
        Some(5),
        "A's observed 5 is reset; B's running total 3 + 2 survives, once"
    );
    // Duplicated deliveries change nothing.
    a.join(inc);
    b.join(rm);
    assert_eq!(a, b);
    assert_eq!(a.get(&"k").map(CausalCounter::value), Some(5));
}

/// O4: concurrent removes of the same observed counter do not reset twice, and
/// an increment concurrent with both survives exactly once.
#[test]
fn o4_counter_in_map_concurrent_removes_do_not_double_reset() {
    let mut a: OrMap<&str, CausalCounter> = OrMap::new();
    a.update(A, "k", |c| c.increment(A, 5).unwrap());
    let mut b = a.clone();
    let mut c = a.clone();
    let rm_a = a.remove(A, &"k");
    let rm_b = b.remove(B, &"k");
    let inc_c = c.update(C, "k", |x| x.increment(C, 4).unwrap());
    for r in [&mut a, &mut b, &mut c] {
        r.join(rm_a.clone());
        r.join(rm_b.clone());
        r.join(inc_c.clone());
    }
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_eq!(a.get(&"k").map(CausalCounter::value), Some(4));

    // Without the increment: absent, not negative.
    let mut x: OrMap<&str, CausalCounter> = OrMap::new();
    x.update(A, "k", |c| c.increment(A, 5).unwrap());
    let mut y = x.clone();
    let r1 = x.remove(A, &"k");
    let r2 = y.remove(B, &"k");
    x.join(r2);
    y.join(r1);
    assert_eq!(x, y);
    assert!(x.get(&"k").is_none());
}

/// riak_dt `non-commute-counter-example.eqc` shape (b.3 item 3): a counter in a
/// map, removes carrying another replica's context and concurrent increments;
/// every pair of reachable states joins commutatively, every triple
/// associatively, and all delivery orders of the deltas converge.
#[test]
fn riak_non_commute_counter_in_map_joins_commute() {
    type M = OrMap<&'static str, CausalCounter>;
    let mut a: M = OrMap::new();
    a.update(A, "k", |c| c.increment(A, 1).unwrap());
    let mut b = a.clone();
    let mut c = a.clone();
    let mut states: Vec<M> = vec![a.clone()];

    let rm_b = b.remove(B, &"k"); // a context-remove, shipped elsewhere
    states.push(b.clone());
    let inc_c = c.update(C, "k", |x| x.increment(C, 1).unwrap());
    states.push(c.clone());
    let inc_a = a.update(A, "k", |x| x.increment(A, 2).unwrap());
    states.push(a.clone());
    let dec_c = c.update(C, "k", |x| x.decrement(C, 1).unwrap());
    states.push(c.clone());
    let rm_c = c.remove(C, &"k");
    states.push(c.clone());
    let mut d: M = OrMap::new();
    d.join(rm_b.clone()); // a remove before anything it removes (D4)
    d.join(inc_a.clone());
    states.push(d.clone());
    let deltas = [rm_b, inc_c, inc_a, dec_c, rm_c];
    states.extend(deltas.iter().cloned());

    for x in &states {
        for y in &states {
            let xy = x.clone().joined(y.clone());
            let yx = y.clone().joined(x.clone());
            assert_eq!(xy, yx, "not commutative:\n x = {x:?}\n y = {y:?}");
            assert_eq!(
                xy.get(&"k").map(CausalCounter::value),
                yx.get(&"k").map(CausalCounter::value)
            );
            for z in states.iter().step_by(2) {
                assert_eq!(
                    xy.clone().joined(z.clone()),
                    x.clone().joined(y.clone().joined(z.clone()))
                );
            }
        }
    }

    // Every delivery order of the five deltas gives one state.
    let mut reference: Option<M> = None;
    let mut idx = [0usize, 1, 2, 3, 4];
    permute(&mut idx, 0, &mut |order| {
        let mut r: M = OrMap::new();
        for &i in order {
            r.join(deltas[i].clone());
        }
        match &reference {
            None => reference = Some(r),
            Some(s) => assert_eq!(&r, s, "order {order:?}"),
        }
    });
}

fn permute(v: &mut [usize], k: usize, f: &mut dyn FnMut(&[usize])) {
    if k == v.len() {
        f(v);
        return;
    }
    for i in k..v.len() {
        v.swap(k, i);
        permute(v, k + 1, f);
        v.swap(k, i);
    }
}

/// Whether a type implements `CausalCrdt` (and so can be an `OrMap` value),
/// decided at compile time by inherent-over-trait associated const lookup.
struct Probe<T>(std::marker::PhantomData<T>);
trait NotCausal {
    const IS_CAUSAL: bool = false;
}
impl<T> NotCausal for Probe<T> {}
impl<T: CausalCrdt> Probe<T> {
    const IS_CAUSAL: bool = true;
}

/// O5 (riak_dt#100, "LWW registers in maps may go backwards in time"):
/// `LwwRegister` is not a causal CRDT, so it cannot be an `OrMap` value as is;
/// LWW in a map is an explicit opt-in through `Embedded` (pinned in the next
/// test). The default for values where a lost write is a bug,
/// `OrMap<K, MvRegister<_>>`, keeps concurrent writes to a key as siblings
/// instead of dropping one.
#[test]
fn o5_maps_hold_mv_registers_not_lww_and_keep_concurrent_writes_as_siblings() {
    const {
        assert!(!Probe::<LwwRegister<u32>>::IS_CAUSAL);
        assert!(!Probe::<GCounter>::IS_CAUSAL);
        assert!(Probe::<Embedded<LwwRegister<u32>>>::IS_CAUSAL);
        assert!(Probe::<MvRegister<u32>>::IS_CAUSAL);
        assert!(Probe::<CausalCounter>::IS_CAUSAL);
    }

    let mut x: OrMap<&str, MvRegister<&str>> = OrMap::new();
    x.update(A, "title", |r| r.write(A, "draft"));
    let mut y = x.clone();
    x.update(A, "title", |r| r.write(A, "Final"));
    y.update(B, "title", |r| r.write(B, "final v2")); // concurrently
    let xy = x.clone().joined(y.clone());
    assert_eq!(xy, y.joined(x));
    let title = xy.get(&"title").unwrap();
    assert!(title.is_conflicted());
    assert_eq!(sorted(title.values().copied()), ["Final", "final v2"]);
}

/// riak_dt#100 sequence (b.3 item 2, O5), with the documented outcome of
/// `Embedded<LwwRegister>`: after a key is removed and re-created, the embedded
/// register restarts from bottom, so its timestamp can be *lower* than the
/// removed value's ("backwards in time"); an update of the removed key that was
/// concurrent with the remove survives beside the new value and still wins if
/// its stamp is higher. All replicas agree.
#[test]
fn riak_dt_100_embedded_lww_in_map_documented_outcome_after_remove_and_recreate() {
    type M = OrMap<&'static str, Embedded<LwwRegister<&'static str>>>;
    let mut x: M = OrMap::new();
    x.update(A, "status", |e| {
        e.update(A, |r| r.write(A, "online", 100).unwrap())
    });
    let mut y = x.clone();

    let rm = x.remove(A, &"status");
    let recreate = x.update(A, "status", |e| {
        e.update(A, |r| r.write(A, "idle", 50).unwrap())
    });
    let stamp = x.get(&"status").unwrap().value().stamp().unwrap();
    assert_eq!(
        stamp.timestamp, 50,
        "restarted from bottom: earlier than the removed 100"
    );

    let concurrent = y.update(B, "status", |e| {
        e.update(B, |r| r.write(B, "away", 120).unwrap())
    });
    x.join(concurrent);
    y.join(rm);
    y.join(recreate);
    assert_eq!(x, y);
    let status = x.get(&"status").unwrap();
    assert_eq!(status.siblings(), 2);
    assert_eq!(status.value().value(), Some(&"away"));
    x.check_invariants().unwrap();

    // Without the concurrent update, the re-created value stands at 50.
    let mut z: M = OrMap::new();
    z.update(A, "status", |e| {
        e.update(A, |r| r.write(A, "online", 100).unwrap())
    });
    z.remove(A, &"status");
    z.update(B, "status", |e| {
        e.update(B, |r| r.write(B, "idle", 50).unwrap())
    });
    assert_eq!(z.get(&"status").unwrap().value().value(), Some(&"idle"));
}

// ===========================================================================
// Actor reuse (b.3 item 7)
// ===========================================================================

/// Two replicas sharing one `ReplicaId` write different elements concurrently:
/// the same dot names two writes. `check_compatible`/`validated_join` report
/// `ConflictingDot` and leave the target unchanged. (A plain `join` silently
/// drops both writes: each side's dot is in the other's context.)
#[test]
fn actor_reuse_orset_same_dot_on_different_elements_is_a_conflicting_dot() {
    let mut x = OrSet::new();
    let mut y = OrSet::new();
    x.insert(A, "milk");
    y.insert(A, "eggs");
    let dot = Dot::new(A, 1);
    assert_eq!(
        x.check_compatible(&y),
        Err(InvariantViolation::ConflictingDot { dot })
    );
    assert_eq!(
        y.check_compatible(&x),
        Err(InvariantViolation::ConflictingDot { dot })
    );
    let before = x.clone();
    assert_eq!(
        x.validated_join(y.clone()),
        Err(InvariantViolation::ConflictingDot { dot })
    );
    assert_eq!(x, before);

    // Documented silent loss if the check is skipped.
    let joined = x.joined(y);
    assert!(joined.is_empty());
}

/// Actor reuse for the MV register: two different values under one dot.
#[test]
fn actor_reuse_mv_register_same_dot_two_values_is_a_conflicting_dot() {
    let mut x = MvRegister::new();
    let mut y = MvRegister::new();
    x.write(A, 1u32);
    y.write(A, 2u32);
    let dot = Dot::new(A, 1);
    assert_eq!(
        x.check_compatible(&y),
        Err(InvariantViolation::ConflictingDot { dot })
    );
    let before = x.clone();
    assert_eq!(
        x.validated_join(y),
        Err(InvariantViolation::ConflictingDot { dot })
    );
    assert_eq!(x, before);
}

/// Actor reuse for maps and causal counters: different nested content (or
/// totals) under one dot.
#[test]
fn actor_reuse_map_and_causal_counter_are_conflicting_dots() {
    let mut x = CausalCounter::new();
    let mut y = CausalCounter::new();
    x.increment(A, 1).unwrap();
    y.increment(A, 7).unwrap();
    assert!(matches!(
        x.validated_join(y),
        Err(InvariantViolation::ConflictingDot { .. })
    ));

    let mut m: OrMap<&str, OrSet<&str>> = OrMap::new();
    let mut n: OrMap<&str, OrSet<&str>> = OrMap::new();
    m.update(A, "k", |s| s.insert(A, "p"));
    n.update(A, "k", |s| s.insert(A, "q"));
    let before = m.clone();
    assert!(matches!(
        m.validated_join(n),
        Err(InvariantViolation::ConflictingDot { .. })
    ));
    assert_eq!(m, before);
}

/// Actor reuse for the G-counter is undetectable and loses data (riak_kv PR
/// #1094): both "replica A" counters count their own increments, and join keeps
/// the max of the two entries, so 3 + 5 reads as 5. This documents the loss.
#[test]
fn actor_reuse_gcounter_silently_keeps_the_max_entry() {
    let mut x = GCounter::new();
    let mut y = GCounter::new();
    x.increment(A, 3).unwrap();
    y.increment(A, 5).unwrap();
    assert_eq!(x.validated_join(y), Ok(true), "no error is possible");
    assert_eq!(x.value(), 5, "the 3 increments of the other 'A' are lost");
    assert_eq!(x.get(A), 5);
}

// ===========================================================================
// D9: delta_since per type
// ===========================================================================

/// `y ⊔ x.delta_since(&y.summary()) == x ⊔ y`, and the delta is a valid state.
fn check_delta_since<T: DeltaSince + Validate + Debug>(x: &T, y: &T) -> T {
    let delta = x.delta_since(&y.summary());
    delta.check_invariants().unwrap();
    let expected = x.clone().joined(y.clone());
    assert_eq!(
        y.clone().joined(delta.clone()),
        expected,
        "delta = {delta:?}"
    );
    // Nothing to send once y has caught up.
    let caught_up = y.clone().joined(delta.clone());
    assert_eq!(
        caught_up
            .clone()
            .joined(x.delta_since(&caught_up.summary())),
        expected
    );
    delta
}

/// Minimality for dot-based types: no dot of the delta's store is already in
/// `y`'s context.
fn check_causal_delta_since<T>(x: &T, y: &T) -> T
where
    T: CausalCrdt + DeltaSince<Summary = CausalContext> + Validate,
{
    let delta = check_delta_since(x, y);
    delta.store().for_each_dot(&mut |d| {
        assert!(!y.context().contains(d), "delta resends {d}");
    });
    delta
}

#[test]
fn d9_delta_since_orset_carries_removes_and_is_minimal() {
    let mut x = OrSet::new();
    x.insert(A, "milk");
    x.insert(A, "eggs");
    let mut y = x.clone();
    x.remove(&"eggs"); // y still holds eggs: the remove must reach it
    x.insert(A, "tea");
    y.insert(B, "jam");
    let delta = check_causal_delta_since(&x, &y);
    assert_eq!(delta.to_sorted_vec(), ["tea"]);
    let y2 = y.clone().joined(delta);
    assert_eq!(y2.to_sorted_vec(), ["jam", "milk", "tea"]);
    check_causal_delta_since(&y, &x);
    check_causal_delta_since(&x, &OrSet::new());
    check_causal_delta_since(&OrSet::new(), &x);
    check_causal_delta_since(&x, &x);
}

#[test]
fn d9_delta_since_mv_register() {
    let mut x = MvRegister::new();
    x.write(A, 1u32);
    let mut y = x.clone();
    x.write(A, 2); // supersedes the value y still holds
    y.write(B, 3);
    let delta = check_causal_delta_since(&x, &y);
    assert_eq!(delta.values().collect::<Vec<_>>(), [&2]);
    check_causal_delta_since(&y, &x);
    let mut z = x.clone();
    z.clear();
    let merged = check_causal_delta_since(&z, &y);
    assert!(merged.is_empty());
    assert_eq!(sorted(y.joined(merged).values().copied()), [3]);
}

#[test]
fn d9_delta_since_rwset_ewflag_and_causal_counter() {
    let mut x = RwSet::new();
    x.insert(A, "u");
    x.insert(A, "v");
    let mut y = x.clone();
    x.remove(A, "u");
    y.insert(B, "w");
    check_causal_delta_since(&x, &y);
    check_causal_delta_since(&y, &x);
    assert!(!y.clone().joined(x.delta_since(&y.summary())).contains(&"u"));

    let mut f = EwFlag::new();
    f.enable(A);
    let mut g = f.clone();
    f.disable();
    check_causal_delta_since(&f, &g);
    g.enable(B);
    check_causal_delta_since(&f, &g);
    check_causal_delta_since(&g, &f);

    let mut c = CausalCounter::new();
    c.increment(A, 4).unwrap();
    let mut d = c.clone();
    c.reset();
    c.increment(C, 1).unwrap();
    d.increment(B, 2).unwrap();
    check_causal_delta_since(&c, &d);
    check_causal_delta_since(&d, &c);
}

#[test]
fn d9_delta_since_ormap_under_each_policy_carries_key_removes() {
    fn run<P: RemovePolicy>() {
        let mut x: OrMap<&str, OrSet<&str>, P> = OrMap::new();
        x.update(A, "k", |s| s.insert(A, "1"));
        x.update(A, "j", |s| s.insert(A, "2"));
        let mut y = x.clone();
        x.remove(A, &"k"); // y still holds k
        x.update(A, "j", |s| s.insert(A, "3"));
        y.update(B, "i", |s| s.insert(B, "4"));
        let delta = check_causal_delta_since(&x, &y);
        let y2 = y.clone().joined(delta);
        assert!(
            !y2.contains_key(&"k"),
            "{:?}: the key remove did not reach y",
            P::KIND
        );
        assert_eq!(y2.get(&"j").unwrap().to_sorted_vec(), ["2", "3"]);
        check_causal_delta_since(&y, &x);
    }
    run::<ObservedReset>();
    run::<UpdateWins>();
    run::<RemoveWins>();
}

#[test]
fn d9_delta_since_counters_send_only_entries_above_the_peer() {
    let mut x = GCounter::new();
    x.increment(A, 5).unwrap();
    x.increment(B, 1).unwrap();
    let mut y = x.clone();
    x.increment(A, 1).unwrap();
    y.increment(B, 3).unwrap();
    y.increment(C, 2).unwrap();
    let delta = check_delta_since(&x, &y);
    for (r, n) in delta.entries() {
        assert!(n > y.get(r), "entry {r}={n} not above the peer's");
    }
    assert_eq!(delta.entries().collect::<Vec<_>>(), [(A, 6)]);

    let mut p = PnCounter::new();
    p.increment(A, 2).unwrap();
    let mut q = p.clone();
    p.decrement(A, 7).unwrap();
    q.increment(B, 1).unwrap();
    let delta = check_delta_since(&p, &q);
    for (r, n) in delta.increments().entries() {
        assert!(n > q.increments().get(r));
    }
    for (r, n) in delta.decrements().entries() {
        assert!(n > q.decrements().get(r));
    }
    assert_eq!(delta.increments().entries().count(), 0);
    check_delta_since(&q, &p);
}

#[test]
fn d9_delta_since_lww_register() {
    let mut x = LwwRegister::new();
    x.write(A, "a", 10).unwrap();
    let mut y = x.clone();
    x.write(A, "a2", 20).unwrap();
    y.write(B, "b", 15).unwrap();
    let delta = check_delta_since(&x, &y);
    assert_eq!(delta.value(), Some(&"a2"));
    let back = check_delta_since(&y, &x);
    assert_eq!(back.value(), Some(&"b")); // x has not seen it, even though it loses
    assert_eq!(check_delta_since(&x, &x).value(), None);
}

// ===========================================================================
// SEC-2 for deltas
// ===========================================================================

/// SEC-2: a delta produced by a correct replica never fails validation. Every
/// mutator's delta (including removes, which carry key hints) passes
/// `check_invariants`, and `validated_join` of it gives the same state as
/// `join`.
#[test]
fn sec2_every_mutator_delta_passes_validated_join() {
    fn check<T: Validate + Debug>(before: &T, delta: T, label: &str) {
        assert_eq!(delta.check_invariants(), Ok(()), "{label}: delta {delta:?}");
        let mut v = before.clone();
        v.validated_join(delta.clone())
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(v, before.clone().joined(delta), "{label}");
    }
    let mut s = OrSet::new();
    let d = s.insert(A, "e");
    check(&OrSet::new(), d, "orset insert");
    let base = s.clone();
    let d = s.remove(&"e");
    check(&base, d, "orset remove");
    s.insert(A, "f");
    let base = s.clone();
    let d = s.clear();
    check(&base, d, "orset clear");

    let mut r = MvRegister::new();
    let d = r.write(A, 1u8);
    check(&MvRegister::new(), d, "mv write");
    let base = r.clone();
    let d = r.clear();
    check(&base, d, "mv clear");

    let mut rw = RwSet::new();
    let d = rw.insert(A, 1u8);
    check(&RwSet::new(), d, "rwset insert");
    let base = rw.clone();
    let d = rw.remove(A, 1u8);
    check(&base, d, "rwset remove");

    fn maps<P: RemovePolicy>() {
        let mut m: OrMap<&str, OrSet<&str>, P> = OrMap::new();
        let d = m.update(A, "k", |s| s.insert(A, "x"));
        check(&OrMap::new(), d, "map update");
        let base = m.clone();
        let d = m.update(A, "k", |s| s.remove(&"x"));
        check(&base, d, "map update with nested remove");
        m.update(A, "k", |s| s.insert(A, "y"));
        let base = m.clone();
        let d = m.remove(A, &"k");
        check(&base, d, "map remove");
    }
    maps::<ObservedReset>();
    maps::<UpdateWins>();
    maps::<RemoveWins>();
}
