//! A deterministic network simulator (feature `sim`, which implies
//! `proptest`).
//!
//! `N` replicas of one [`Replay`] type run an operation script over a
//! network that loses, duplicates and reorders messages, partitions and
//! heals, and crashes nodes (their volatile state is lost, see
//! [`Node::restart`]). A run is a pure function of `(seed, config)`: the
//! pseudo-random generator is [`SplitMix64`], operations are drawn from
//! [`Replay::op_strategy`] with a ChaCha [`TestRng`] seeded from it, and
//! no collection iterates in hash order.
//!
//! The script ([`Event`]s) is generated once and interpreted by four sync
//! modes ([`Mode`]): full-state gossip, raw deltas, the [`Node`]
//! delta-interval protocol and digest sync. Partitions, heals, crashes and
//! operations happen at the same steps in every mode; the [`Mode::Protocol`]
//! run applies the operations for real and records their deltas, and the
//! other three modes apply those same deltas at the same steps, so all four
//! must reach the same final state (TESTPLAN D6). Which message is
//! delivered, dropped or duplicated is chosen by the same event, relative to
//! what is in flight in that mode.
//!
//! Oracles, checked after every step on every replica the step changed:
//! invariants ([`Validate::check_invariants`](crate::Validate::check_invariants)); inflation (the new state is
//! `≥` the old one); L7/L8 for each local operation; no `Err` from
//! [`Node::receive`] or [`Validate::validated_join_as`](crate::Validate::validated_join_as) on an honest message
//! (SEC-2); D7 (an operation whose delta is bottom still takes a sequence
//! number, and a receiver that acknowledges `end` holds every delta of the
//! sender numbered `< end`); optionally D5 in the protocol mode (a replica
//! that reflects an operation reflects everything that happened before it).
//! After the heal phase (no partitions, no losses, all-pairs sync rounds):
//! every replica equal, within `2·N` rounds, and the four modes equal.
//!
//! Clock skew is not simulated: the only clock-dependent type,
//! [`LwwRegister`](crate::LwwRegister), draws its timestamps from the
//! operation strategy (ties and extreme stamps included).
//!
//! ```
//! use converge::sim::{run, SimConfig};
//! use converge::OrSet;
//! let report = run::<OrSet<u8>>(7, &SimConfig::new(3, 50)).unwrap();
//! assert!(report.modes.iter().all(|m| m.stats.rounds_to_converge <= 6));
//! ```

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::laws::{check_mutation, Replay};
use crate::sync::{Message, Node, SyncConfig};
use crate::ReplicaId;

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, dependency-free,
/// reproducible generator.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// `true` with probability `bp / 10_000` (basis points).
    pub fn chance(&mut self, bp: u32) -> bool {
        self.below(10_000) < u64::from(bp)
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(u64::from(hi.saturating_sub(lo)) + 1) as u32
    }
}

/// Fault rates in basis points (1/10,000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Faults {
    /// A delivery attempt loses the message instead.
    pub drop: u32,
    /// A delivery attempt duplicates the message instead (both copies stay
    /// in flight).
    pub duplicate: u32,
    /// Per step, while connected: a partition starts.
    pub partition: u32,
    /// Per step, while partitioned: it heals.
    pub heal: u32,
    /// Per step: a node crashes and restarts.
    pub crash: u32,
    /// Share of non-operation steps that are sync sends (the rest are
    /// delivery attempts).
    pub sync: u32,
}

impl Default for Faults {
    /// TESTPLAN b.2's rates at their upper ends: drop 30 %, duplicate 20 %,
    /// partition 2 %, heal 5 %, crash 0.5 %; a third of the other steps
    /// are sync sends.
    fn default() -> Self {
        Faults {
            drop: 3_000,
            duplicate: 2_000,
            partition: 200,
            heal: 500,
            crash: 50,
            sync: 3_333,
        }
    }
}

impl Faults {
    /// Rates drawn in TESTPLAN b.2's ranges: drop 0–30 %, duplicate 0–20 %,
    /// partition 2 %, heal 5 %, crash 0.5 %, sync sends 20–50 %.
    pub fn random(rng: &mut SplitMix64) -> Self {
        Faults {
            drop: rng.between(0, 3_000),
            duplicate: rng.between(0, 2_000),
            partition: 200,
            heal: 500,
            crash: 50,
            sync: rng.between(2_000, 5_000),
        }
    }
}

/// Settings of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Number of replicas (at most 64).
    pub replicas: usize,
    /// Local operations in the script.
    pub ops: usize,
    /// Script length (operations included); TESTPLAN: 4 × ops.
    pub steps: usize,
    /// Fault rates; `None`: drawn per seed with [`Faults::random`].
    pub faults: Option<Faults>,
    /// [`SyncConfig::max_buffer`] of the nodes.
    pub max_buffer: usize,
    /// Check D5 (causal consistency) in the protocol mode. Needs `leq` to
    /// mean "reflects": true for every type but
    /// [`LwwRegister`](crate::LwwRegister), whose order is by timestamp.
    pub check_causal: bool,
    /// Replica ids are `base + i`; `None`: drawn per seed (mostly small,
    /// sometimes near `u64::MAX`).
    pub replica_base: Option<u64>,
}

impl SimConfig {
    /// `replicas` replicas, `ops` operations, `4 × ops` steps, fault rates
    /// drawn per seed, a buffer of 64 deltas, D5 checked.
    pub fn new(replicas: usize, ops: usize) -> Self {
        SimConfig {
            replicas,
            ops,
            steps: ops.saturating_mul(4),
            faults: None,
            max_buffer: 64,
            check_causal: true,
            replica_base: None,
        }
    }
}

/// One step of a script. Indices (`pick`) select among the messages that
/// can currently be delivered (not across a partition), modulo their count.
#[derive(Clone, Debug)]
pub enum Event<O> {
    /// Replica `r` applies an operation.
    Op(usize, O),
    /// `from` sends a sync message to `to` (full state, delta interval or
    /// digest by mode; nothing in the raw-delta mode, which broadcasts each
    /// operation's delta when it happens).
    Sync(usize, usize),
    /// Deliver an in-flight message.
    Deliver(u64),
    /// Lose an in-flight message (the raw-delta mode resends it at heal).
    Drop(u64),
    /// Duplicate an in-flight message.
    Duplicate(u64),
    /// Split the replicas by a bit mask; messages across the cut wait.
    Partition(u64),
    /// Remove the partition.
    Heal,
    /// Replica `r` crashes and restarts: its volatile state is lost.
    Crash(usize),
}

/// The four sync modes of TESTPLAN b.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// M1: full-state gossip.
    FullState,
    /// M2: raw deltas only, each broadcast to every peer; lost ones are
    /// resent at heal.
    Deltas,
    /// M3: the [`Node`] protocol (delta intervals, acknowledgements,
    /// full-state fallback).
    Protocol,
    /// M4: digest sync ([`Node::digest`], answered with what is missing).
    Digest,
}

impl Mode {
    /// All four, in the order they run.
    pub const ALL: [Mode; 4] = [Mode::Protocol, Mode::FullState, Mode::Deltas, Mode::Digest];

    /// Short name (`M1`..`M4`).
    pub fn name(self) -> &'static str {
        match self {
            Mode::FullState => "M1 full state",
            Mode::Deltas => "M2 raw deltas",
            Mode::Protocol => "M3 protocol",
            Mode::Digest => "M4 digest",
        }
    }
}

/// Counters of one mode's run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Local operations applied.
    pub ops: usize,
    /// Operations whose delta was bottom (failed or no-op), still numbered.
    pub bottom_ops: usize,
    /// Messages put on the network (replies, resends and heal included).
    pub sent: usize,
    /// Messages delivered.
    pub delivered: usize,
    /// Delivered while an older deliverable message was still in flight.
    pub reordered: usize,
    /// Messages lost.
    pub dropped: usize,
    /// Messages duplicated.
    pub duplicated: usize,
    /// Partitions started.
    pub partitions: usize,
    /// Crash-restarts.
    pub crashes: usize,
    /// Largest delta buffer of any node (protocol and digest modes).
    pub max_buffered: usize,
    /// Most messages in flight at once.
    pub max_in_flight: usize,
    /// Heal phase: all-pairs rounds until every replica was equal (after
    /// the messages still in flight were delivered).
    pub rounds_to_converge: usize,
    /// Heal phase: rounds until no node had anything to send (protocol
    /// mode; equal to `rounds_to_converge` otherwise).
    pub rounds_to_quiesce: usize,
    /// Heal phase: messages sent.
    pub heal_messages: usize,
    /// D5 checks made (operation reflected somewhere, its past checked).
    pub causal_checks: usize,
}

/// One mode's outcome.
#[derive(Clone, Debug)]
pub struct ModeReport<T> {
    /// The mode.
    pub mode: Mode,
    /// Its counters.
    pub stats: SimStats,
    /// The converged state (every replica's).
    pub final_state: T,
}

/// A run's outcome: one report per mode, in [`Mode::ALL`] order.
#[derive(Clone, Debug)]
pub struct SimReport<T> {
    /// The seed.
    pub seed: u64,
    /// The configuration.
    pub config: SimConfig,
    /// The fault rates used.
    pub faults: Faults,
    /// Per-mode reports.
    pub modes: Vec<ModeReport<T>>,
}

/// A failed oracle, with everything needed to replay it.
#[derive(Clone, Debug)]
pub struct SimFailure {
    /// The seed.
    pub seed: u64,
    /// The configuration.
    pub config: SimConfig,
    /// The mode that failed (`None`: the cross-mode comparison or script
    /// generation).
    pub mode: Option<Mode>,
    /// Script step (`None`: heal phase or end).
    pub step: Option<usize>,
    /// The oracle, e.g. `"D5 causal consistency"`.
    pub oracle: &'static str,
    /// What was seen.
    pub detail: String,
}

impl fmt::Display for SimFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "simulation failed: {} in {} at {}: {}\n  replay: seed = {:#x}, config = {:?}",
            self.oracle,
            self.mode.map_or("comparison", Mode::name),
            self.step
                .map_or_else(|| String::from("heal/end"), |s| format!("step {s}")),
            self.detail,
            self.seed,
            self.config,
        )
    }
}

impl std::error::Error for SimFailure {}

fn seed_bytes(rng: &mut SplitMix64) -> [u8; 32] {
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    out
}

/// The fault rates and replica id base a seed uses under `config`.
pub fn parameters(seed: u64, config: &SimConfig) -> (Faults, u64) {
    let mut rng = SplitMix64::new(seed ^ 0x5EED_FA17);
    let faults = config.faults.unwrap_or_else(|| Faults::random(&mut rng));
    let base = config.replica_base.unwrap_or_else(|| {
        if rng.chance(2_000) {
            u64::MAX - 64 - rng.below(64)
        } else {
            1 + rng.below(3)
        }
    });
    (faults, base)
}

/// The script of a seed: `config.steps` events, `config.ops` of them
/// operations drawn from [`Replay::op_strategy`].
///
/// # Errors
///
/// When the strategy rejects (this crate's never do).
pub fn script<T: Replay>(
    seed: u64,
    config: &SimConfig,
) -> Result<Vec<Event<T::Op>>, Box<SimFailure>> {
    let n = config.replicas.clamp(1, 64);
    let (faults, _) = parameters(seed, config);
    let mut rng = SplitMix64::new(seed);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(&mut rng)),
    );
    let strategy = T::op_strategy();
    let steps = config.steps.max(config.ops);
    let mut ops_left = config.ops;
    let mut split = false;
    let mut out = Vec::with_capacity(steps);
    for s in 0..steps {
        let remaining = (steps - s) as u64;
        if ops_left > 0 && rng.below(remaining) < ops_left as u64 {
            let op = strategy
                .new_tree(&mut runner)
                .map_err(|e| {
                    Box::new(SimFailure {
                        seed,
                        config: *config,
                        mode: None,
                        step: Some(s),
                        oracle: "op strategy",
                        detail: format!("{e}"),
                    })
                })?
                .current();
            out.push(Event::Op(rng.below(n as u64) as usize, op));
            ops_left -= 1;
            continue;
        }
        if n > 1 && !split && rng.chance(faults.partition) {
            // A proper, non-empty subset.
            let full = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            let mask = 1 + rng.below(full - 1);
            out.push(Event::Partition(mask));
            split = true;
            continue;
        }
        if split && rng.chance(faults.heal) {
            out.push(Event::Heal);
            split = false;
            continue;
        }
        if rng.chance(faults.crash) {
            out.push(Event::Crash(rng.below(n as u64) as usize));
            continue;
        }
        if n > 1 && rng.chance(faults.sync) {
            let from = rng.below(n as u64) as usize;
            let to = (from + 1 + rng.below(n as u64 - 1) as usize) % n;
            out.push(Event::Sync(from, to));
            continue;
        }
        let pick = rng.next_u64();
        if rng.chance(faults.drop) {
            out.push(Event::Drop(pick));
        } else if rng.chance(faults.duplicate) {
            out.push(Event::Duplicate(pick));
        } else {
            out.push(Event::Deliver(pick));
        }
    }
    Ok(out)
}

/// Generates the script of `seed` and runs it in every mode.
///
/// # Errors
///
/// The first oracle that fails.
pub fn run<T: Replay>(seed: u64, config: &SimConfig) -> Result<SimReport<T>, Box<SimFailure>> {
    let events = script::<T>(seed, config)?;
    run_script::<T>(seed, config, &events)
}

/// Runs a given script (e.g. a shrunk one) in every mode; `seed` picks the
/// fault parameters, the replica ids and the heal-phase delivery order.
///
/// # Errors
///
/// The first oracle that fails.
pub fn run_script<T: Replay>(
    seed: u64,
    config: &SimConfig,
    events: &[Event<T::Op>],
) -> Result<SimReport<T>, Box<SimFailure>> {
    let (faults, _) = parameters(seed, config);
    let mut modes = Vec::with_capacity(4);
    let mut recorded: Vec<Option<T>> = Vec::new();
    for mode in Mode::ALL {
        let mut world = World::<T>::new(seed, config, mode)?;
        let report = world.run(events, &mut recorded)?;
        modes.push(report);
    }
    let first = &modes[0];
    for m in &modes[1..] {
        if m.final_state != first.final_state {
            return Err(Box::new(SimFailure {
                seed,
                config: *config,
                mode: None,
                step: None,
                oracle: "D6 all modes reach the same state",
                detail: format!(
                    "{}: {:?}\n  {}: {:?}",
                    first.mode.name(),
                    first.final_state,
                    m.mode.name(),
                    m.final_state
                ),
            }));
        }
    }
    Ok(SimReport {
        seed,
        config: *config,
        faults,
        modes,
    })
}

/// A shrunk script and its failure.
pub type Shrunk<O> = (Vec<Event<O>>, Box<SimFailure>);

/// Shrinks a failing script by delta debugging (remove chunks of events
/// while the run still fails with the same oracle). Returns the smallest
/// script found and its failure.
pub fn minimise<T: Replay>(
    seed: u64,
    config: &SimConfig,
    mut events: Vec<Event<T::Op>>,
) -> Option<Shrunk<T::Op>> {
    let mut failure = run_script::<T>(seed, config, &events).err()?;
    let oracle = failure.oracle;
    let mut chunk = (events.len() / 2).max(1);
    loop {
        let mut i = 0;
        let mut progressed = false;
        while i < events.len() {
            let mut candidate = events.clone();
            let end = (i + chunk).min(candidate.len());
            candidate.drain(i..end);
            match run_script::<T>(seed, config, &candidate) {
                Err(f) if f.oracle == oracle => {
                    events = candidate;
                    failure = f;
                    progressed = true;
                }
                _ => i += chunk,
            }
        }
        if chunk == 1 && !progressed {
            return Some((events, failure));
        }
        if !progressed {
            chunk = (chunk / 2).max(1);
        }
    }
}

/// What travels on the network.
#[derive(Clone, Debug)]
enum Payload<T: Replay> {
    /// M1: a full state; M2: a raw delta.
    State(T),
    /// M3, M4: a protocol message.
    Node(Message<T>),
}

#[derive(Clone, Debug)]
struct Envelope<T: Replay> {
    id: u64,
    from: usize,
    to: usize,
    payload: Payload<T>,
    /// Protocol `Deltas` and `State`: the sender's state when it built the
    /// message (what the receiver must hold once it acknowledges it).
    covers: Option<T>,
}

/// A protocol message's kind and numbers, for failure reports.
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)] // the fields are read through `Debug`
enum Desc {
    Deltas(u64, u64),
    Ack(u64),
    Digest,
    State(u64),
}

impl Desc {
    fn of<T: Replay>(m: &Message<T>) -> Self {
        match m {
            Message::Deltas { start, end, .. } => Desc::Deltas(*start, *end),
            Message::Ack { upto, .. } => Desc::Ack(*upto),
            Message::Digest { .. } => Desc::Digest,
            Message::State { end, .. } => Desc::State(*end),
        }
    }
}

/// A fixed-size bit set over operation indices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Bits(Vec<u64>);

impl Bits {
    fn set(&mut self, i: usize) {
        let w = i / 64;
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << (i % 64);
    }
    fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }
    /// The first element of `self` missing from `other`.
    fn first_missing_in(&self, other: &Bits) -> Option<usize> {
        for (w, &bits) in self.0.iter().enumerate() {
            let missing = bits & !other.0.get(w).copied().unwrap_or(0);
            if missing != 0 {
                return Some(w * 64 + missing.trailing_zeros() as usize);
            }
        }
        None
    }
}

/// D5 bookkeeping: every operation's delta, origin and causal past.
struct Causal<T> {
    /// Per operation: (origin, delta, past), `None` when the delta is
    /// bottom (nothing to observe).
    ops: Vec<Option<(usize, T, Bits)>>,
    /// Per replica: operations it reflects.
    reflected: Vec<Bits>,
}

struct World<T: Replay> {
    seed: u64,
    config: SimConfig,
    mode: Mode,
    n: usize,
    ids: Vec<ReplicaId>,
    /// M1, M2: plain states.
    states: Vec<T>,
    /// M3, M4: nodes.
    nodes: Vec<Node<T>>,
    flight: Vec<Envelope<T>>,
    /// M2: lost deltas, resent at heal.
    lost: Vec<Envelope<T>>,
    next_id: u64,
    cut: Option<u64>,
    stats: SimStats,
    causal: Option<Causal<T>>,
    rng: SplitMix64,
    step: Option<usize>,
}

impl<T: Replay> World<T> {
    fn new(seed: u64, config: &SimConfig, mode: Mode) -> Result<Self, Box<SimFailure>> {
        let n = config.replicas.clamp(1, 64);
        let (_, base) = parameters(seed, config);
        let ids: Vec<ReplicaId> = (0..n)
            .map(|i| ReplicaId::new(base.wrapping_add(i as u64)))
            .collect();
        let sync = SyncConfig::with_max_buffer(config.max_buffer);
        let nodes = match mode {
            Mode::Protocol | Mode::Digest => ids
                .iter()
                .map(|&id| Node::new(id, ids.iter().copied(), sync))
                .collect(),
            Mode::FullState | Mode::Deltas => Vec::new(),
        };
        let states = match mode {
            Mode::FullState | Mode::Deltas => (0..n).map(|_| T::default()).collect(),
            Mode::Protocol | Mode::Digest => Vec::new(),
        };
        let causal = (mode == Mode::Protocol && config.check_causal).then(|| Causal {
            ops: Vec::new(),
            reflected: (0..n).map(|_| Bits::default()).collect(),
        });
        Ok(World {
            seed,
            config: *config,
            mode,
            n,
            ids,
            states,
            nodes,
            flight: Vec::new(),
            lost: Vec::new(),
            next_id: 0,
            cut: None,
            stats: SimStats::default(),
            causal,
            rng: SplitMix64::new(seed ^ 0x4EA1_0000 ^ (mode as u64)),
            step: None,
        })
    }

    fn fail(&self, oracle: &'static str, detail: String) -> Box<SimFailure> {
        Box::new(SimFailure {
            seed: self.seed,
            config: self.config,
            mode: Some(self.mode),
            step: self.step,
            oracle,
            detail,
        })
    }

    fn state(&self, r: usize) -> &T {
        match self.mode {
            Mode::FullState | Mode::Deltas => &self.states[r],
            Mode::Protocol | Mode::Digest => self.nodes[r].state(),
        }
    }

    fn crosses(&self, a: usize, b: usize) -> bool {
        self.cut.is_some_and(|m| (m >> a) & 1 != (m >> b) & 1)
    }

    fn send(&mut self, from: usize, to: usize, payload: Payload<T>) {
        let covers = match &payload {
            Payload::Node(Message::Deltas { .. } | Message::State { .. }) => {
                Some(self.nodes[from].state().clone())
            }
            _ => None,
        };
        self.flight.push(Envelope {
            id: self.next_id,
            from,
            to,
            payload,
            covers,
        });
        self.next_id += 1;
        self.stats.sent += 1;
        self.stats.max_in_flight = self.stats.max_in_flight.max(self.flight.len());
    }

    fn run(
        &mut self,
        events: &[Event<T::Op>],
        recorded: &mut Vec<Option<T>>,
    ) -> Result<ModeReport<T>, Box<SimFailure>> {
        for (s, event) in events.iter().enumerate() {
            self.step = Some(s);
            match event {
                Event::Op(r, op) => self.local_op(*r % self.n, s, op, recorded)?,
                Event::Sync(a, b) => {
                    let (a, b) = (*a % self.n, *b % self.n);
                    if a != b {
                        self.sync(a, b);
                    }
                }
                Event::Deliver(k) | Event::Drop(k) | Event::Duplicate(k) => {
                    let open: Vec<usize> = (0..self.flight.len())
                        .filter(|&m| !self.crosses(self.flight[m].from, self.flight[m].to))
                        .collect();
                    if open.is_empty() {
                        continue;
                    }
                    let m = open[(*k % open.len() as u64) as usize];
                    match event {
                        Event::Deliver(_) => {
                            let oldest = open.iter().map(|&i| self.flight[i].id).min();
                            if oldest != Some(self.flight[m].id) {
                                self.stats.reordered += 1;
                            }
                            let env = self.flight.swap_remove(m);
                            self.deliver(env)?;
                        }
                        Event::Duplicate(_) => {
                            let mut copy = self.flight[m].clone();
                            copy.id = self.next_id;
                            self.next_id += 1;
                            self.flight.push(copy);
                            self.stats.duplicated += 1;
                            self.stats.max_in_flight =
                                self.stats.max_in_flight.max(self.flight.len());
                        }
                        _ => {
                            let env = self.flight.swap_remove(m);
                            self.stats.dropped += 1;
                            if self.mode == Mode::Deltas {
                                self.lost.push(env);
                            }
                        }
                    }
                }
                Event::Partition(mask) => {
                    if self.cut.is_none() {
                        self.stats.partitions += 1;
                    }
                    self.cut = Some(*mask);
                }
                Event::Heal => self.cut = None,
                Event::Crash(r) => {
                    self.stats.crashes += 1;
                    if !self.nodes.is_empty() {
                        self.nodes[*r % self.n].restart();
                    }
                }
            }
        }
        self.step = None;
        self.heal()?;
        self.stats.max_buffered = self.nodes.iter().map(Node::max_buffered).max().unwrap_or(0);
        Ok(ModeReport {
            mode: self.mode,
            stats: self.stats,
            final_state: self.state(0).clone(),
        })
    }

    fn local_op(
        &mut self,
        r: usize,
        s: usize,
        op: &T::Op,
        recorded: &mut Vec<Option<T>>,
    ) -> Result<(), Box<SimFailure>> {
        if recorded.len() <= s {
            recorded.resize(s + 1, None);
        }
        let before = self.state(r).clone();
        let seq_before = self.nodes.get(r).map(Node::seq);
        let delta = match self.mode {
            Mode::Protocol => {
                let mut out = T::default();
                self.nodes[r].update(|x, id| {
                    let d = x.apply(id, op);
                    out = d.clone();
                    d
                });
                check_mutation(&before, self.nodes[r].state(), &out)
                    .map_err(|e| self.fail("L7/L8 local operation", format!("{e}")))?;
                recorded[s] = Some(out.clone());
                out
            }
            _ => {
                let Some(d) = recorded[s].clone() else {
                    return Err(self.fail(
                        "script replay",
                        String::from("no delta recorded for this step in the protocol mode"),
                    ));
                };
                match self.mode {
                    Mode::Digest => self.nodes[r].update(|x, _| {
                        x.join(d.clone());
                        d.clone()
                    }),
                    _ => {
                        self.states[r].join(d.clone());
                    }
                }
                if !before.leq(self.state(r)) {
                    return Err(
                        self.fail("inflation", format!("{before:?} -> {:?}", self.state(r)))
                    );
                }
                self.state(r)
                    .check_invariants()
                    .map_err(|e| self.fail("invariants after an op", format!("{e}")))?;
                d
            }
        };
        self.stats.ops += 1;
        if delta.is_bottom() {
            self.stats.bottom_ops += 1;
        }
        // D7: every operation takes a number, bottom or not.
        if let Some(b) = seq_before {
            let after = self.nodes[r].seq();
            if after != b + 1 {
                return Err(self.fail(
                    "D7 every operation is numbered",
                    format!(
                        "seq {b} -> {after} for an operation (delta bottom: {})",
                        delta.is_bottom()
                    ),
                ));
            }
        }
        if self.mode == Mode::Deltas {
            for to in 0..self.n {
                if to != r {
                    self.send(r, to, Payload::State(delta.clone()));
                }
            }
        }
        // An operation is checked for D5 only when it introduces an event
        // id (the replica's summary grows: a dot). One without (an OR-set
        // remove, a key removal) has no identity a state can be tested
        // for: its effect — dots leaving the store — can equally come from
        // a concurrent operation (a re-insert observes the same dots), so
        // "its delta ≤ the state" would not mean "it was received".
        let introduces = self.state(r).summary() != before.summary();
        if let Some(c) = self.causal.as_mut() {
            let o = c.ops.len();
            if delta.is_bottom() || !introduces {
                // Nothing to observe: reflected everywhere.
                c.ops.push(None);
                for bits in &mut c.reflected {
                    bits.set(o);
                }
            } else {
                c.ops.push(Some((r, delta, c.reflected[r].clone())));
                c.reflected[r].set(o);
            }
        }
        Ok(())
    }

    fn sync(&mut self, a: usize, b: usize) {
        match self.mode {
            Mode::FullState => {
                let s = self.states[a].clone();
                self.send(a, b, Payload::State(s));
            }
            Mode::Deltas => {}
            Mode::Protocol => {
                if let Some(m) = self.nodes[a].sync_to(self.ids[b]) {
                    self.send(a, b, Payload::Node(m));
                }
            }
            Mode::Digest => {
                let m = self.nodes[a].digest();
                self.send(a, b, Payload::Node(m));
            }
        }
    }

    fn deliver(&mut self, env: Envelope<T>) -> Result<(), Box<SimFailure>> {
        self.stats.delivered += 1;
        let to = env.to;
        let before = self.state(to).clone();
        match env.payload {
            Payload::State(x) => {
                let id = self.ids[to];
                self.states[to]
                    .validated_join_as(id, x)
                    .map_err(|e| self.fail("SEC-2 no Err on honest input", format!("{e}")))?;
            }
            Payload::Node(msg) => {
                let desc = Desc::of(&msg);
                let replies = self.nodes[to].receive(msg).map_err(|e| {
                    self.fail(
                        "SEC-2 no Err on honest input",
                        format!("{e:?} receiving {desc:?} from {} at {to}", env.from),
                    )
                })?;
                // D7 / causal merging: the receiver now acknowledges the
                // sender's deltas `< end`, so it must hold the sender's
                // state as of number `end` (Almeida et al.: `X_j ⊒ X_i^b`
                // after joining `Δ_i^{a,b}`); `covers` is the sender's
                // state when it built the message, when every change
                // of the sender's state is numbered, that is `X_i^end`.
                if let Some(c) = &env.covers {
                    if !c.leq(self.nodes[to].state()) {
                        return Err(self.fail(
                            "D7 acknowledged deltas are held",
                            format!(
                                "{to} acknowledges {desc:?} from {} but lacks part of the sender's state {c:?}; receiver {:?}",
                                env.from,
                                self.nodes[to].state()
                            ),
                        ));
                    }
                }
                for m in replies {
                    self.send(to, env.from, Payload::Node(m));
                }
            }
        }
        let after = self.state(to);
        if !before.leq(after) {
            return Err(self.fail("inflation", format!("{before:?} -> {after:?}")));
        }
        if before != *after {
            after
                .check_invariants()
                .map_err(|e| self.fail("invariants after a delivery", format!("{e}")))?;
            self.check_causal(to)?;
        }
        Ok(())
    }

    /// D5: every operation `to` reflects has its causal past reflected too.
    fn check_causal(&mut self, to: usize) -> Result<(), Box<SimFailure>> {
        let Some(mut c) = self.causal.take() else {
            return Ok(());
        };
        let state = self.nodes[to].state();
        let mut newly = Vec::new();
        for (o, entry) in c.ops.iter().enumerate() {
            if let Some((_, d, _)) = entry {
                if !c.reflected[to].get(o) && d.leq(state) {
                    newly.push(o);
                }
            }
        }
        for &o in &newly {
            c.reflected[to].set(o);
        }
        let mut bad = None;
        for &o in &newly {
            self.stats.causal_checks += 1;
            if let Some((origin, _, past)) = &c.ops[o] {
                if let Some(missing) = past.first_missing_in(&c.reflected[to]) {
                    bad = Some((o, *origin, missing));
                    break;
                }
            }
        }
        let failure = bad.map(|(o, origin, missing)| {
            let origin_of = |k: usize| {
                c.ops
                    .get(k)
                    .and_then(|e| e.as_ref().map(|(r, _, _)| *r))
            };
            self.fail(
                "D5 causal consistency",
                format!(
                    "replica {to} reflects op #{o} (made at replica {origin}) but not op #{missing} (made at replica {:?}) that happened before it; state {:?}",
                    origin_of(missing),
                    self.nodes[to].state()
                ),
            )
        });
        self.causal = Some(c);
        match failure {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }

    fn all_equal(&self) -> bool {
        (1..self.n).all(|r| self.state(r) == self.state(0))
    }

    /// Delivers everything in `flight` (and the replies it causes) in a
    /// random order, with no losses.
    fn flush(&mut self) -> Result<(), Box<SimFailure>> {
        while !self.flight.is_empty() {
            let m = self.rng.below(self.flight.len() as u64) as usize;
            let env = self.flight.swap_remove(m);
            self.deliver(env)?;
        }
        Ok(())
    }

    fn quiet(&self) -> bool {
        match self.mode {
            Mode::Protocol => (0..self.n).all(|a| {
                (0..self.n).all(|b| a == b || self.nodes[a].sync_to(self.ids[b]).is_none())
            }),
            _ => true,
        }
    }

    fn heal(&mut self) -> Result<(), Box<SimFailure>> {
        self.cut = None;
        let sent_before = self.stats.sent;
        let lost = core::mem::take(&mut self.lost);
        for env in lost {
            self.send(env.from, env.to, env.payload);
        }
        self.flush()?;
        let limit = 4 * self.n + 4;
        let mut rounds = 0;
        let mut converged = self.all_equal().then_some(0);
        let mut quiet = (converged.is_some() && self.quiet()).then_some(0);
        while converged.is_none() || quiet.is_none() {
            if rounds >= limit {
                let states: Vec<String> = (0..self.n)
                    .map(|r| format!("{:?}", self.state(r)))
                    .collect();
                return Err(self.fail(
                    "SEC-1 convergence after heal",
                    format!("not converged after {limit} rounds: {states:#?}"),
                ));
            }
            rounds += 1;
            for a in 0..self.n {
                for b in 0..self.n {
                    if a != b {
                        self.sync(a, b);
                    }
                }
            }
            self.flush()?;
            if converged.is_none() && self.all_equal() {
                converged = Some(rounds);
            }
            if converged.is_some() && quiet.is_none() && self.quiet() {
                quiet = Some(rounds);
            }
        }
        self.stats.rounds_to_converge = converged.unwrap_or(rounds);
        self.stats.rounds_to_quiesce = quiet.unwrap_or(rounds);
        self.stats.heal_messages = self.stats.sent - sent_before;
        if self.stats.rounds_to_converge > 2 * self.n {
            return Err(self.fail(
                "F6 converge within 2N rounds",
                format!(
                    "{} rounds for {} replicas",
                    self.stats.rounds_to_converge, self.n
                ),
            ));
        }
        Ok(())
    }
}
