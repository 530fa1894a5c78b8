//! The sync protocol (`converge::sync`): numbering (D7), acknowledgement GC
//! and the bounded buffer (D10), restart, digest sync (D9), conflict
//! reports, and rejection of bad messages (the node is unchanged).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use converge::sync::{Message, Node, Overwritten, Siblings, SyncConfig, SyncError};
use converge::{
    Embedded, InvariantViolation, Lattice, LwwRegister, MvRegister, OrMap, OrSet, ReplicaId, Text,
};

const A: ReplicaId = ReplicaId::new(1);
const B: ReplicaId = ReplicaId::new(2);
const C: ReplicaId = ReplicaId::new(3);

type Set = OrSet<u32>;

fn node(id: ReplicaId, peers: &[ReplicaId]) -> Node<Set> {
    Node::new(id, peers.iter().copied(), SyncConfig::default())
}

/// Sends `from`'s message for `to` and routes every reply back.
fn push<T>(from: &mut Node<T>, to: &mut Node<T>) -> bool
where
    T: converge::Lattice + converge::DeltaSince + converge::Validate + std::fmt::Debug,
{
    let Some(m) = from.sync_to(to.id()) else {
        return false;
    };
    for reply in to.receive(m).expect("honest message") {
        assert!(from.receive(reply).expect("honest reply").is_empty());
    }
    true
}

#[test]
fn d7_every_update_is_numbered_even_an_empty_one() {
    let mut a = node(A, &[B]);
    let mut b = node(B, &[A]);
    a.update(|s, r| s.insert(r, 1));
    a.update(|s, _| s.remove(&99)); // removes nothing: an empty delta
    a.update(|s, r| s.insert(r, 2));
    assert_eq!(a.seq(), 3);
    let Some(Message::Deltas { start, end, .. }) = a.sync_to(B) else {
        panic!("expected a delta interval")
    };
    assert_eq!((start, end), (0, 3));
    assert!(push(&mut a, &mut b));
    assert_eq!(a.state(), b.state());
    assert_eq!(b.acked_to(A), 3);
    assert_eq!(a.buffered(), 0);
    assert!(a.sync_to(B).is_none());
}

#[test]
fn d10_a_peer_that_never_acknowledges_costs_at_most_the_buffer() {
    let mut a: Node<Set> = Node::new(A, [B, C], SyncConfig::with_max_buffer(16));
    let mut b = node(B, &[A, C]);
    for i in 0..1000 {
        a.update(|s, r| s.insert(r, i));
        // B acknowledges regularly; C never does.
        if i % 10 == 0 {
            push(&mut a, &mut b);
        }
    }
    assert!(a.max_buffered() <= 16, "buffer {}", a.max_buffered());
    // C fell behind the buffer: it gets the full state, once.
    assert!(matches!(
        a.sync_to(C),
        Some(Message::State { end: 1000, .. })
    ));
    let mut c = node(C, &[A, B]);
    assert!(push(&mut a, &mut c));
    assert_eq!(c.state(), a.state());
    assert!(a.sync_to(C).is_none());
}

#[test]
fn acknowledged_deltas_are_collected_once_every_peer_has_them() {
    let mut a = node(A, &[B, C]);
    let (mut b, mut c) = (node(B, &[A, C]), node(C, &[A, B]));
    for i in 0..5 {
        a.update(|s, r| s.insert(r, i));
    }
    push(&mut a, &mut b);
    assert_eq!(a.buffered(), 5, "C has not acknowledged");
    push(&mut a, &mut c);
    assert_eq!(a.buffered(), 0);
}

#[test]
fn lost_and_duplicated_messages_change_nothing_but_timing() {
    let mut a = node(A, &[B]);
    let mut b = node(B, &[A]);
    a.update(|s, r| s.insert(r, 1));
    let lost = a.sync_to(B).expect("message");
    drop(lost); // the network lost it: the acknowledgement did not advance
    a.update(|s, r| s.insert(r, 2));
    let m = a.sync_to(B).expect("message");
    let dup = m.clone();
    let acks = b.receive(m).expect("honest");
    let again = b.receive(dup).expect("duplicate is harmless");
    assert_eq!(acks, again);
    for ack in acks {
        a.receive(ack).expect("ack");
    }
    assert_eq!(a.state(), b.state());
    assert_eq!(a.buffered(), 0);
}

#[test]
fn a_restarted_node_falls_back_to_full_state_and_loses_nothing_acknowledged() {
    let mut a = node(A, &[B]);
    let mut b = node(B, &[A]);
    for i in 0..10 {
        a.update(|s, r| s.insert(r, i));
    }
    push(&mut a, &mut b);
    a.update(|s, r| s.insert(r, 10));
    // Crash: buffer and received acks are gone; state and counter survive.
    a.restart();
    assert_eq!(a.buffered(), 0);
    assert!(matches!(a.sync_to(B), Some(Message::State { end: 11, .. })));
    assert!(push(&mut a, &mut b));
    assert_eq!(a.state(), b.state());
    // Resumed from durable storage in a new process.
    let mut a2: Node<Set> =
        Node::with_state(A, [B], SyncConfig::default(), a.state().clone(), a.seq());
    a2.update(|s, r| s.insert(r, 11));
    assert!(push(&mut a2, &mut b));
    assert_eq!(a2.state(), b.state());
}

#[test]
fn d9_a_digest_is_answered_with_exactly_what_the_asker_lacks() {
    let mut a = node(A, &[B]);
    let mut b = node(B, &[A]);
    for i in 0..100 {
        a.update(|s, r| s.insert(r, i));
    }
    push(&mut a, &mut b);
    a.update(|s, r| s.insert(r, 100));
    let replies = a.receive(b.digest()).expect("digest");
    let [Message::State { end, state, .. }] = replies.as_slice() else {
        panic!("one state reply: {replies:?}")
    };
    assert_eq!(*end, 101);
    assert_eq!(state.len(), 1, "only the missing element");
    let msg = replies[0].clone();
    for ack in b.receive(msg).expect("state") {
        a.receive(ack).expect("ack");
    }
    assert_eq!(a.state(), b.state());
    assert_eq!(a.buffered(), 0);
}

#[test]
fn a_gap_is_an_error_and_a_digest_recovers() {
    let mut a = node(A, &[B]);
    let mut b = node(B, &[A]);
    a.update(|s, r| s.insert(r, 1));
    push(&mut a, &mut b);
    a.update(|s, r| s.insert(r, 2));
    let m = a.sync_to(B).expect("message");
    // B lost its durable state: a fresh node with the same id.
    let mut b2 = node(B, &[A]);
    let before = b2.clone();
    assert_eq!(
        b2.receive(m),
        Err(SyncError::Gap {
            from: A,
            acknowledged: 0,
            start: 1
        })
    );
    assert_eq!(b2.state(), before.state());
    for reply in a.receive(b2.digest()).expect("digest") {
        for ack in b2.receive(reply).expect("state") {
            a.receive(ack).expect("ack");
        }
    }
    assert_eq!(a.state(), b2.state());
}

#[test]
fn bad_messages_are_rejected_and_leave_the_node_unchanged() {
    let mut a = node(A, &[B]);
    a.update(|s, r| s.insert(r, 1));
    let check = |a: &mut Node<Set>, m: Message<Set>, e: SyncError| {
        let (state, seq, buffered) = (a.state().clone(), a.seq(), a.buffered());
        assert_eq!(a.receive(m), Err(e));
        assert_eq!((a.state(), a.seq(), a.buffered()), (&state, seq, buffered));
    };
    let mut stranger = node(C, &[A]);
    stranger.update(|s, r| s.insert(r, 7));
    let m = stranger.sync_to(A).expect("message");
    check(&mut a, m, SyncError::UnknownPeer(C));
    check(
        &mut a,
        Message::Ack { from: A, upto: 1 },
        SyncError::FromSelf,
    );
    check(
        &mut a,
        Message::Ack { from: B, upto: 5 },
        SyncError::AckBeyondSeq {
            from: B,
            upto: 5,
            seq: 1,
        },
    );
    check(
        &mut a,
        Message::Deltas {
            from: B,
            start: 3,
            end: 1,
            delta: Set::new(),
        },
        SyncError::EmptyInterval { from: B },
    );
    // A delta claiming an event of A that A never generated.
    let mut forger = Set::new();
    for _ in 0..5 {
        let _ = forger.insert(A, 9);
    }
    let forged = Message::Deltas {
        from: B,
        start: 0,
        end: 1,
        delta: forger,
    };
    let (state, seq) = (a.state().clone(), a.seq());
    assert!(matches!(
        a.receive(forged),
        Err(SyncError::Invalid(
            InvariantViolation::UnknownLocalEvent { .. }
        ))
    ));
    assert_eq!((a.state(), a.seq()), (&state, seq));
}

#[test]
fn mv_conflicts_are_reported_on_merge_and_resolved_by_writing_back() {
    let mut a: Node<MvRegister<&str>> = Node::new(A, [B], SyncConfig::default());
    let mut b: Node<MvRegister<&str>> = Node::new(B, [A], SyncConfig::default());
    a.update(|s, r| s.write(r, "lunch at 12"));
    b.update(|s, r| s.write(r, "lunch at 13"));
    let mut reports = Vec::new();
    let m = b.sync_to(A).expect("message");
    a.receive_with(m, |c| reports.push(c)).expect("honest");
    assert_eq!(
        reports,
        [Siblings {
            values: vec!["lunch at 12", "lunch at 13"]
        }]
    );
    // Resolve on write: the resolution supersedes both siblings.
    let observed = a.state().read_context();
    a.update(|s, r| s.resolve(r, "lunch at 12:30", &observed));
    reports.clear();
    let m = a.sync_to(B).expect("message");
    b.receive_with(m, |c| reports.push(c)).expect("honest");
    assert!(reports.is_empty(), "{reports:?}");
    assert_eq!(b.state().value(), Some(&"lunch at 12:30"));
}

#[test]
fn lww_overwrites_are_reported_with_the_lost_value() {
    let mut a: Node<LwwRegister<&str>> = Node::new(A, [B], SyncConfig::default());
    let mut b: Node<LwwRegister<&str>> = Node::new(B, [A], SyncConfig::default());
    a.update(|s, r| s.write(r, "blue", 100).expect("clock"));
    b.update(|s, r| s.write(r, "green", 200).expect("clock"));
    let mut reports = Vec::new();
    let m = b.sync_to(A).expect("message");
    a.receive_with(m, |c| reports.push(c)).expect("honest");
    assert_eq!(
        reports,
        [Overwritten {
            kept: Some("green"),
            lost: Some("blue"),
            count: 1
        }]
    );
    assert_eq!(a.state().lost_writes(), 1);
}

#[test]
fn map_key_conflicts_name_the_key() {
    type Doc = OrMap<&'static str, MvRegister<u32>>;
    let mut a: Node<Doc> = Node::new(A, [B], SyncConfig::default());
    let mut b: Node<Doc> = Node::new(B, [A], SyncConfig::default());
    a.update(|s, r| s.update(r, "room", |v| v.write(r, 1)));
    b.update(|s, r| s.update(r, "room", |v| v.write(r, 2)));
    b.update(|s, r| s.update(r, "floor", |v| v.write(r, 7)));
    let mut reports = Vec::new();
    let m = b.sync_to(A).expect("message");
    a.receive_with(m, |c| reports.push(c)).expect("honest");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].key, "room");
    assert_eq!(reports[0].conflict.values, [1, 2]);
}

#[test]
fn texts_in_a_map_sync_through_nodes() {
    type Doc = OrMap<&'static str, Embedded<Text>>;
    let mut a: Node<Doc> = Node::new(A, [B], SyncConfig::default());
    let mut b: Node<Doc> = Node::new(B, [A], SyncConfig::default());
    a.update(|s, r| {
        s.update(r, "title", |e| {
            e.update(r, |t| t.insert(r, 0, "Hello").unwrap_or_default())
        })
    });
    push(&mut a, &mut b);
    b.update(|s, r| {
        s.update(r, "title", |e| {
            e.update(r, |t| t.insert(r, 5, " world").unwrap_or_default())
        })
    });
    push(&mut b, &mut a);
    let title = |n: &Node<Doc>| n.state().get(&"title").map(|e| e.value().to_string());
    assert_eq!(title(&a), Some("Hello world".to_string()));
    assert_eq!(a.state(), b.state());
    assert!(a.state().leq(b.state()));
}

#[test]
fn writes_travel_through_intermediate_nodes() {
    // A — B — C in a line: A and C never talk directly.
    let mut a = node(A, &[B]);
    let mut b = node(B, &[A, C]);
    let mut c = node(C, &[B]);
    for i in 0..3 {
        a.update(|s, r| s.insert(r, i));
    }
    c.update(|s, r| s.insert(r, 100));
    for _ in 0..3 {
        push(&mut a, &mut b);
        push(&mut b, &mut c);
        push(&mut c, &mut b);
        push(&mut b, &mut a);
    }
    assert_eq!(a.state(), c.state());
    assert_eq!(a.state().len(), 4);
    // Quiescent: nothing left to send, buffers collected.
    for (x, y) in [(&a, B), (&c, B), (&b, A), (&b, C)] {
        assert!(x.sync_to(y).is_none());
    }
    assert_eq!(a.buffered() + b.buffered() + c.buffered(), 0);
}

#[test]
fn a_node_resumed_from_its_durable_part_continues_without_a_gap() {
    let mut a = node(A, &[B]);
    let mut b = node(B, &[A]);
    for i in 0..5 {
        b.update(|s, r| s.insert(r, i));
    }
    push(&mut b, &mut a);
    // A persists its durable part (through serde) and restarts.
    let saved = serde_json::to_string(&a.durable()).unwrap();
    let mut a2: Node<Set> = Node::resume(
        A,
        [B],
        SyncConfig::default(),
        serde_json::from_str(&saved).unwrap(),
    );
    assert_eq!(a2.acked_to(B), 5);
    // B's next interval starts at 5: no gap, no digest round trip.
    b.update(|s, r| s.insert(r, 5));
    assert!(matches!(
        b.sync_to(A),
        Some(Message::Deltas { start: 5, .. })
    ));
    assert!(push(&mut b, &mut a2));
    assert_eq!(a2.state(), b.state());
    // A's own buffer was volatile: B gets A's full state once.
    assert!(matches!(a2.sync_to(B), Some(Message::State { .. })));
}

#[test]
fn malformed_message_bytes_are_errors_not_panics() {
    let mut a = node(A, &[B]);
    for i in 0..20 {
        a.update(|s, r| s.insert(r, i));
    }
    let m = a.sync_to(B).unwrap();
    let bytes = postcard::to_allocvec(&m).unwrap();
    // Every strict prefix, and every single-byte corruption, fails to decode
    // or decodes to a valid message; none panics.
    for n in 0..bytes.len() {
        assert!(postcard::from_bytes::<Message<Set>>(&bytes[..n]).is_err());
    }
    let mut b = node(B, &[A]);
    for i in 0..bytes.len() {
        for x in [0x00, 0xff, 0x80] {
            let mut bad = bytes.clone();
            bad[i] = x;
            if let Ok(msg) = postcard::from_bytes::<Message<Set>>(&bad) {
                let before = b.clone();
                if b.receive(msg).is_err() {
                    assert_eq!(b.state(), before.state());
                    assert_eq!(b.seq(), before.seq());
                }
                b = before;
            }
        }
    }
    assert!(serde_json::from_str::<Message<Set>>("{\"Deltas\":{}}").is_err());
}

#[test]
fn a_duplicate_or_a_known_conflict_is_not_reported_again() {
    let mut a: Node<MvRegister<&str>> = Node::new(A, [B], SyncConfig::default());
    let mut b: Node<MvRegister<&str>> = Node::new(B, [A], SyncConfig::default());
    a.update(|s, r| s.write(r, "x"));
    b.update(|s, r| s.write(r, "y"));
    let m = b.sync_to(A).unwrap();
    let mut reports = 0;
    a.receive_with(m.clone(), |_| reports += 1).unwrap();
    a.receive_with(m, |_| reports += 1).unwrap();
    // The same writes again as a full state (a fallback after a restart).
    let state = Message::State {
        from: B,
        end: b.seq(),
        state: b.state().clone(),
    };
    a.receive_with(state, |_| reports += 1).unwrap();
    assert_eq!(reports, 1);
}

#[test]
fn a_node_seeded_with_data_sends_it() {
    let mut seeded = Set::new();
    let _ = seeded.insert(A, 1);
    let a: Node<Set> = Node::with_state(A, [B], SyncConfig::default(), seeded, 0);
    assert!(matches!(a.sync_to(B), Some(Message::State { .. })));
}
