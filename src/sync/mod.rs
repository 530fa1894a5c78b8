//! Replication without I/O: delta-interval anti-entropy with
//! acknowledgements, digest ("what am I missing?") sync, and full-state
//! fallback, as plain values.
//!
//! A [`Node`] wraps one replica's state. Local updates go through
//! [`Node::update`], which records each delta under a sequence number.
//! [`Node::sync_to`] produces the message a peer needs; [`Node::receive`]
//! handles a peer's message and returns the replies to send. Transport,
//! timing and persistence are the application's: messages are values with
//! serde support (feature `serde`).
//!
//! The protocol is Algorithm 2 of Almeida, Shoker and Baquero, *Delta State
//! Replicated Data Types* (2018):
//!
//! - node `i` numbers its deltas `0, 1, 2, …` (an update that changes
//!   nothing still takes a number, so acknowledgements never skip one);
//! - to peer `j` it sends the *delta interval* `Δ[a, b)`: the join of its
//!   deltas `a..b`, where `a` is the last number `j` acknowledged;
//! - `j` joins it (validated), and acknowledges `b`; what it learned is
//!   numbered and buffered in `j` too, so it travels on to `j`'s peers;
//! - deltas every peer acknowledged are dropped from the buffer;
//! - a peer whose interval is no longer buffered (it fell behind more than
//!   [`SyncConfig::max_buffer`] deltas, or acknowledgements were lost in a
//!   crash) gets the full state instead, or answers a digest with exactly
//!   what it lacks.
//!
//! Because `join` is commutative, associative and idempotent, messages may
//! be lost, duplicated or reordered: a lost interval is re-sent (the
//! acknowledgement did not advance), a duplicate changes nothing.
//!
//! **What to persist** (the durable part, [`Node::durable`]): the state,
//! the delta counter ([`Node::seq`]) and the highest interval end
//! acknowledged to each peer ([`Node::acked_to`]) — after every `update`
//! and every `receive`, before anything is sent (an `Ack` lets the peer
//! forget what it acknowledges; a relayed delta takes a number). The delta buffer and the
//! acknowledgements received are volatile: after a restart
//! ([`Node::resume`], or [`Node::restart`] in tests) the node falls back to
//! full state for every peer once, and loses nothing that was acknowledged.
//!
//! ```
//! use converge::sync::{Node, SyncConfig};
//! use converge::{OrSet, ReplicaId};
//! let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
//! let mut x: Node<OrSet<&'static str>> = Node::new(a, [b], SyncConfig::default());
//! let mut y: Node<OrSet<&'static str>> = Node::new(b, [a], SyncConfig::default());
//! x.update(|s, r| s.insert(r, "milk"));
//! y.update(|s, r| s.insert(r, "eggs"));
//! // One round each way; every reply goes back.
//! fn round(from: &mut Node<OrSet<&'static str>>, to: &mut Node<OrSet<&'static str>>) {
//!     if let Some(m) = from.sync_to(to.id()) {
//!         for reply in to.receive(m).unwrap() {
//!             from.receive(reply).unwrap();
//!         }
//!     }
//! }
//! round(&mut x, &mut y);
//! round(&mut y, &mut x);
//! assert_eq!(x.state(), y.state());
//! assert_eq!(x.buffered(), 0); // acknowledged by its only peer: collected
//! ```

mod conflicts;

pub use conflicts::{Concurrent, Conflicts, KeyConflict, Overwritten, Siblings};

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::fmt;

use crate::causal::ReplicaId;
use crate::error::InvariantViolation;
use crate::lattice::{DeltaSince, Lattice, Validate};

/// Settings of a [`Node`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncConfig {
    /// Most deltas kept for peers that have not acknowledged them. Beyond
    /// it the oldest are dropped and a peer that still needs them gets the
    /// full state: a peer that never acknowledges costs at most this many
    /// deltas.
    pub max_buffer: usize,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig { max_buffer: 1024 }
    }
}

impl SyncConfig {
    /// A configuration with the given buffer bound.
    pub fn with_max_buffer(max_buffer: usize) -> Self {
        SyncConfig { max_buffer }
    }
}

/// A protocol message between two nodes.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "T: serde::Serialize, T::Summary: serde::Serialize",
        deserialize = "T: serde::Deserialize<'de>, T::Summary: serde::Deserialize<'de>"
    ))
)]
pub enum Message<T: DeltaSince> {
    /// The join of the sender's deltas numbered `start..end`.
    Deltas {
        /// The sender.
        from: ReplicaId,
        /// First delta number included.
        start: u64,
        /// One past the last delta number included.
        end: u64,
        /// The delta interval.
        delta: T,
    },
    /// The sender has joined every delta of the receiver numbered `< upto`.
    Ack {
        /// The sender.
        from: ReplicaId,
        /// Acknowledged delta numbers end here (exclusive).
        upto: u64,
    },
    /// "What am I missing?": the sender's summary; the answer is
    /// [`Message::State`] with exactly the delta the sender lacks.
    Digest {
        /// The sender.
        from: ReplicaId,
        /// The sender's summary ([`DeltaSince::summary`]).
        summary: T::Summary,
    },
    /// A state (the whole state, or the delta a digest asked for) that
    /// covers every delta of the sender numbered `< end`.
    State {
        /// The sender.
        from: ReplicaId,
        /// The sender's delta counter when it was built.
        end: u64,
        /// The state or delta.
        state: T,
    },
}

impl<T: DeltaSince> Message<T> {
    /// The sender.
    pub fn from(&self) -> ReplicaId {
        match self {
            Message::Deltas { from, .. }
            | Message::Ack { from, .. }
            | Message::Digest { from, .. }
            | Message::State { from, .. } => *from,
        }
    }
}

/// A peer's message was rejected; the node is unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncError {
    /// The sender is not one of this node's peers.
    UnknownPeer(ReplicaId),
    /// The message is addressed from this node itself.
    FromSelf,
    /// A delta interval starts after the last number this node
    /// acknowledged to the sender: something in between was never joined
    /// (the sender is confused, or this node lost its durable state). Send
    /// the sender [`Node::digest`] to recover.
    Gap {
        /// The sender.
        from: ReplicaId,
        /// The highest interval end acknowledged to the sender.
        acknowledged: u64,
        /// The interval's start.
        start: u64,
    },
    /// An interval whose end is before its start.
    EmptyInterval {
        /// The sender.
        from: ReplicaId,
    },
    /// An acknowledgement of deltas this node never numbered.
    AckBeyondSeq {
        /// The sender.
        from: ReplicaId,
        /// The acknowledged end.
        upto: u64,
        /// This node's delta counter.
        seq: u64,
    },
    /// The payload breaks an invariant or conflicts with this node's state.
    Invalid(InvariantViolation),
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncError::UnknownPeer(r) => write!(f, "message from unknown peer {r}"),
            SyncError::FromSelf => f.write_str("message claims to come from this node"),
            SyncError::Gap {
                from,
                acknowledged,
                start,
            } => write!(
                f,
                "interval from {from} starts at {start}, after the acknowledged {acknowledged}"
            ),
            SyncError::EmptyInterval { from } => {
                write!(f, "interval from {from} ends before it starts")
            }
            SyncError::AckBeyondSeq { from, upto, seq } => {
                write!(f, "{from} acknowledges {upto} deltas, only {seq} exist")
            }
            SyncError::Invalid(e) => write!(f, "invalid payload: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SyncError {}

/// The durable part of a [`Node`]: what must be persisted (atomically)
/// so that a restart loses nothing that was acknowledged. Persist it after
/// every [`Node::update`] and every [`Node::receive`], before sending what
/// they produced (`sync_to` output or the returned replies).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Durable<T> {
    /// The state.
    pub state: T,
    /// Deltas numbered so far ([`Node::seq`]).
    pub seq: u64,
    /// Per peer, the end of what this node acknowledged to it
    /// ([`Node::acked_to`]).
    pub acked_to: Vec<(ReplicaId, u64)>,
}

/// Per-peer bookkeeping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Peer {
    /// Volatile: the peer acknowledged our deltas `< acked` (`None`:
    /// unknown since a restart).
    acked: Option<u64>,
    /// Durable: we acknowledged the peer's deltas `< acked_to`.
    acked_to: u64,
}

/// One replica and its side of the protocol (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct Node<T> {
    id: ReplicaId,
    state: T,
    /// Durable: number of deltas recorded.
    seq: u64,
    /// Volatile: deltas numbered `first..seq` (`first = seq - buffer.len()`),
    /// each with the peer it was learned from (`None`: a local update).
    buffer: VecDeque<(Option<ReplicaId>, T)>,
    /// Volatile: deltas numbered below this were dropped by the buffer
    /// bound (a peer still needing one gets the full state).
    overflowed: u64,
    peers: BTreeMap<ReplicaId, Peer>,
    config: SyncConfig,
    max_buffered: usize,
}

impl<T: Lattice + DeltaSince + Validate> Node<T> {
    /// A node for replica `id` with the given peers and an empty state.
    pub fn new(
        id: ReplicaId,
        peers: impl IntoIterator<Item = ReplicaId>,
        config: SyncConfig,
    ) -> Self {
        Self::with_state(id, peers, config, T::default(), 0)
    }

    /// A node resumed from durable storage: its state and delta counter
    /// (acknowledgements received and the delta buffer were volatile; the
    /// first sync to each peer falls back to the full state).
    pub fn with_state(
        id: ReplicaId,
        peers: impl IntoIterator<Item = ReplicaId>,
        config: SyncConfig,
        state: T,
        seq: u64,
    ) -> Self {
        let peers = peers
            .into_iter()
            .filter(|&p| p != id)
            .map(|p| {
                (
                    p,
                    Peer {
                        // A fresh, empty node: peers have all of it.
                        acked: if seq == 0 && state.is_bottom() {
                            Some(0)
                        } else {
                            None
                        },
                        acked_to: 0,
                    },
                )
            })
            .collect();
        Node {
            id,
            state,
            seq,
            buffer: VecDeque::new(),
            overflowed: seq,
            peers,
            config,
            max_buffered: 0,
        }
    }

    /// A node resumed from its [`Durable`] part (after a crash or a
    /// restart): nothing acknowledged is lost; every peer gets the full
    /// state once, since the delta buffer was volatile.
    pub fn resume(
        id: ReplicaId,
        peers: impl IntoIterator<Item = ReplicaId>,
        config: SyncConfig,
        durable: Durable<T>,
    ) -> Self {
        let mut node = Self::with_state(id, peers, config, durable.state, durable.seq);
        for (peer, upto) in durable.acked_to {
            if let Some(p) = node.peers.get_mut(&peer) {
                p.acked_to = upto;
            }
        }
        node
    }

    /// The durable part to persist (see the [module docs](self)).
    pub fn durable(&self) -> Durable<T> {
        Durable {
            state: self.state.clone(),
            seq: self.seq,
            acked_to: self.peers.iter().map(|(&r, p)| (r, p.acked_to)).collect(),
        }
    }

    /// This node's replica id.
    pub fn id(&self) -> ReplicaId {
        self.id
    }

    /// The current state.
    pub fn state(&self) -> &T {
        &self.state
    }

    /// Durable: the number of deltas recorded so far.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Durable: the highest interval end acknowledged to `peer`.
    pub fn acked_to(&self, peer: ReplicaId) -> u64 {
        self.peers.get(&peer).map_or(0, |p| p.acked_to)
    }

    /// Deltas currently buffered.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The most deltas ever buffered at once.
    pub fn max_buffered(&self) -> usize {
        self.max_buffered
    }

    /// Applies a local mutation: `f` gets the state and this node's replica
    /// id and returns the delta (as every mutator of this crate does). The
    /// delta is numbered and buffered, even when it is empty.
    pub fn update(&mut self, f: impl FnOnce(&mut T, ReplicaId) -> T) {
        let delta = f(&mut self.state, self.id);
        self.record(None, delta);
    }

    /// Like [`update`](Self::update) for fallible mutators: on error nothing
    /// is recorded (the mutator must leave the state unchanged, as this
    /// crate's do).
    ///
    /// # Errors
    ///
    /// `f`'s error.
    pub fn try_update<E>(
        &mut self,
        f: impl FnOnce(&mut T, ReplicaId) -> Result<T, E>,
    ) -> Result<(), E> {
        let delta = f(&mut self.state, self.id)?;
        self.record(None, delta);
        Ok(())
    }

    fn record(&mut self, origin: Option<ReplicaId>, delta: T) {
        self.seq += 1;
        self.buffer.push_back((origin, delta));
        if self.buffer.len() > self.config.max_buffer {
            self.buffer.pop_front();
            self.overflowed = self.first();
        }
        self.max_buffered = self.max_buffered.max(self.buffer.len());
        self.collect();
    }

    /// Number of the oldest buffered delta.
    fn first(&self) -> u64 {
        self.seq - self.buffer.len() as u64
    }

    /// Drops deltas every peer acknowledged.
    ///
    /// A delta learned from a peer counts as acknowledged by that peer.
    fn collect(&mut self) {
        while let Some((origin, _)) = self.buffer.front() {
            let n = self.first();
            let done = self
                .peers
                .iter()
                .all(|(r, p)| p.acked.is_some_and(|a| a > n) || *origin == Some(*r));
            if !done {
                break;
            }
            self.buffer.pop_front();
        }
    }

    /// The message `peer` needs from this node now: the delta interval since
    /// its last acknowledgement, or the full state when part of that
    /// interval was dropped by the buffer bound (or lost in a restart);
    /// `None` when it has nothing to learn (everything since its
    /// acknowledgement came from it).
    pub fn sync_to(&self, peer: ReplicaId) -> Option<Message<T>> {
        let p = self.peers.get(&peer)?;
        match p.acked {
            Some(a) if a >= self.seq => None,
            // Deltas below `first` that the bound did not drop were
            // collected: `peer` acknowledged them or sent them.
            Some(a) if a >= self.overflowed => {
                // What was learned from `peer` does not go back to it.
                let skip = a.saturating_sub(self.first()) as usize;
                let mut delta = T::default();
                let mut any = false;
                for (origin, d) in self.buffer.iter().skip(skip) {
                    if *origin != Some(peer) {
                        delta.join(d.clone());
                        any = true;
                    }
                }
                if !any {
                    return None;
                }
                Some(Message::Deltas {
                    from: self.id,
                    start: a,
                    end: self.seq,
                    delta,
                })
            }
            _ => Some(Message::State {
                from: self.id,
                end: self.seq,
                state: self.state.clone(),
            }),
        }
    }

    /// A digest request for `peer`: it answers with exactly what this node
    /// lacks ([`Message::State`] holding `delta_since(summary)`).
    pub fn digest(&self) -> Message<T> {
        Message::Digest {
            from: self.id,
            summary: self.state.summary(),
        }
    }

    /// Handles a peer's message; returns the replies to send back to it.
    ///
    /// # Errors
    ///
    /// [`SyncError`] for a message from an unknown peer, an interval that
    /// skips deltas never joined, an acknowledgement of deltas that do not
    /// exist, or an invalid payload; the node is then unchanged.
    pub fn receive(&mut self, msg: Message<T>) -> Result<Vec<Message<T>>, SyncError> {
        let from = msg.from();
        if from == self.id {
            return Err(SyncError::FromSelf);
        }
        let Some(peer) = self.peers.get(&from) else {
            return Err(SyncError::UnknownPeer(from));
        };
        let acked_to = peer.acked_to;
        match msg {
            Message::Deltas {
                start, end, delta, ..
            } => {
                if end < start {
                    return Err(SyncError::EmptyInterval { from });
                }
                if start > acked_to {
                    return Err(SyncError::Gap {
                        from,
                        acknowledged: acked_to,
                        start,
                    });
                }
                self.join_and_forward(from, delta)?;
                self.note_received(from, end);
                Ok(alloc::vec![Message::Ack {
                    from: self.id,
                    upto: self.acked_to(from),
                }])
            }
            Message::State { end, state, .. } => {
                self.join_and_forward(from, state)?;
                self.note_received(from, end);
                Ok(alloc::vec![Message::Ack {
                    from: self.id,
                    upto: self.acked_to(from),
                }])
            }
            Message::Ack { upto, .. } => {
                if upto > self.seq {
                    return Err(SyncError::AckBeyondSeq {
                        from,
                        upto,
                        seq: self.seq,
                    });
                }
                if let Some(p) = self.peers.get_mut(&from) {
                    p.acked = Some(p.acked.map_or(upto, |a| a.max(upto)));
                }
                self.collect();
                Ok(Vec::new())
            }
            Message::Digest { summary, .. } => Ok(alloc::vec![Message::State {
                from: self.id,
                end: self.seq,
                state: self.state.delta_since(&summary),
            }]),
        }
    }

    /// [`receive`](Self::receive), reporting every conflict the merge
    /// reveals to `on_conflict` (see [`Conflicts`]): the on-merge hook.
    ///
    /// ```
    /// use converge::sync::{Node, Siblings, SyncConfig};
    /// use converge::{MvRegister, ReplicaId};
    /// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
    /// let mut x: Node<MvRegister<&str>> = Node::new(a, [b], SyncConfig::default());
    /// let mut y: Node<MvRegister<&str>> = Node::new(b, [a], SyncConfig::default());
    /// x.update(|s, r| s.write(r, "10:00"));
    /// y.update(|s, r| s.write(r, "11:00"));
    /// let mut seen = Vec::new();
    /// let msg = y.sync_to(a).unwrap();
    /// x.receive_with(msg, |c| seen.push(c)).unwrap();
    /// assert_eq!(seen, [Siblings { values: vec!["10:00", "11:00"] }]);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`receive`](Self::receive); nothing is reported then.
    pub fn receive_with(
        &mut self,
        msg: Message<T>,
        mut on_conflict: impl FnMut(T::Conflict),
    ) -> Result<Vec<Message<T>>, SyncError>
    where
        T: Conflicts,
    {
        let snapshot = match &msg {
            Message::Deltas { delta, .. } => Some(self.state.snapshot(delta)),
            Message::State { state, .. } => Some(self.state.snapshot(state)),
            _ => None,
        };
        let seq = self.seq;
        let replies = self.receive(msg)?;
        // A merge that changed nothing (a duplicate, a known state) reveals
        // nothing: a change is always numbered.
        if let Some(s) = snapshot.filter(|_| self.seq > seq) {
            self.state.conflicts(s, &mut on_conflict);
        }
        Ok(replies)
    }

    /// Joins a peer's payload; when it adds something, it is also numbered
    /// and buffered like a local delta, so it travels on to the other peers
    /// (Algorithm 2: a node relays what it learns, and a write reaches
    /// nodes with no direct link to its origin).
    ///
    /// Only the part that was new here is buffered (the payload minus what
    /// this node already had: `delta_since` of its summary), and it is not
    /// sent back to the peer it came from — the "remove redundant" and
    /// "avoid back-propagation" refinements of the paper's Algorithm 2.
    fn join_and_forward(&mut self, from: ReplicaId, payload: T) -> Result<(), SyncError> {
        let fresh = payload.delta_since(&self.state.summary());
        let changed = self
            .state
            .validated_join_as(self.id, payload)
            .map_err(SyncError::Invalid)?;
        if changed {
            self.record(Some(from), fresh);
        }
        Ok(())
    }

    fn note_received(&mut self, from: ReplicaId, end: u64) {
        if let Some(p) = self.peers.get_mut(&from) {
            p.acked_to = p.acked_to.max(end);
        }
    }

    /// Simulates a crash and restart: the volatile part (delta buffer,
    /// acknowledgements received) is lost; the durable part (state, delta
    /// counter, acknowledgements sent) survives.
    pub fn restart(&mut self) {
        self.buffer.clear();
        self.overflowed = self.seq;
        for p in self.peers.values_mut() {
            p.acked = None;
        }
    }
}
