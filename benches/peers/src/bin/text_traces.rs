//! Text CRDTs on real editing traces: converge's `Text` next to jumprope (a
//! plain rope, no CRDT), diamond-types, yrs, automerge, loro and cola.
//!
//! ```text
//! cd benches/peers
//! nice -n 15 cargo run --release --bin text_traces      # all traces, all libraries
//! cargo run --release --bin text_traces -- --runs 5 --trace svelte --lib loro,yrs,converge
//! cargo run --release --bin text_traces -- --dir /path/to/traces
//! cargo run --release --bin text_traces --no-default-features   # peers only, no converge
//! ```
//!
//! Whole run (all four traces, default runs): about 4–5 minutes on 2 cores;
//! yrs and automerge take most of it.
//!
//! Traces: the four `*.json.gz` files of josephg/editing-traces
//! (`sequential_traces/`) in `tests/data/traces/` (or `--dir`). Every patch
//! `[pos, del, ins]` (Unicode code points) of every txn is replayed in order,
//! from an empty document, as **one local edit**, and the final text is
//! checked against `endContent` (the program panics otherwise). All
//! libraries are driven in code points (yrs in UTF-16 units, which coincide
//! with code points here: no trace inserts a character above U+FFFF).
//!
//! # What one edit is, per library
//!
//! A patch with `del > 0` deletes first, then inserts `ins` at `pos` if it is
//! not empty. Creating the empty document (and its text object) is setup and
//! is not timed.
//!
//! * **jumprope 1.1.2** (baseline, no CRDT): `JumpRope::remove(pos..pos+del)`,
//!   `JumpRope::insert(pos, ins)`.
//! * **diamond-types 1.0.0**: `ListCRDT::delete(agent, pos..pos+del)`,
//!   `ListCRDT::insert(agent, pos, ins)` (oplog + branch of one agent; `delete`
//!   keeps the deleted content in the oplog, as the plain API does).
//! * **yrs 0.28.1**: one `Doc::transact_mut()` per patch holding
//!   `TextRef::remove_range` and `TextRef::insert`, committed when the
//!   transaction drops (`OffsetKind::Utf16`, default GC on).
//! * **automerge 0.12.0**: `AutoCommit::splice_text(text, pos, del, ins)` then
//!   `AutoCommit::commit()`: one change (with its hash) per patch;
//!   `TextEncoding::UnicodeCodePoint`.
//! * **loro 1.17.1**: `LoroText::delete(pos, del)`, `LoroText::insert(pos,
//!   ins)`, then `LoroDoc::commit()` (loro itself may fold consecutive local
//!   commits into one change; timestamps off, the default).
//! * **cola-crdt 0.1.1** (the requested 0.5.1 is not served by the registry
//!   reachable here): `Replica::deleted(pos..pos+del)` and
//!   `Replica::inserted(pos, ins_chars)` for the CRDT, paired with a
//!   `JumpRope` holding the text, as cola's README pairs it with a `String`
//!   (cola counts lengths in whatever unit its user picks: code points here).
//!   The returned `Deletion` / `Insertion` are dropped in the timed replay.
//! * **converge** (default feature `converge-text`): `Text::delete(ReplicaId 1,
//!   pos..pos+del)`, `Text::insert(ReplicaId 1, pos, ins)`; each returns a
//!   delta (a `Text`), which is dropped.
//!
//! # What "merge into a fresh replica" is, per library
//!
//! The replayed document is encoded once, untimed. The timed part decodes
//! those bytes, applies them to a newly created empty replica (created inside
//! the timed part, so lazy setup costs count) and reads the text back as a
//! `String` (this forces any lazily materialised state; the result is
//! compared with `endContent` outside the timing).
//!
//! * **jumprope** (baseline): bytes are the UTF-8 text; "merge" is
//!   `JumpRope::from(&str)`. No history: a lower bound, not a merge.
//! * **diamond-types**: `OpLog::encode(ENCODE_FULL)` (its default full
//!   format, inserted content lz4-compressed); merge is
//!   `ListCRDT::new().merge_data_and_ff(bytes)` (decode into the oplog, then
//!   bring the branch to the new tip).
//! * **yrs**: `encode_state_as_update_v1` / `_v2` against the empty state
//!   vector; merge is `Update::decode_v1` / `decode_v2` +
//!   `TransactionMut::apply_update` into a fresh `Doc`.
//! * **automerge**: `AutoCommit::save()` (compressed columnar document);
//!   merge is `AutoCommit::load_incremental(bytes)` on an empty document.
//! * **loro**: `export(ExportMode::all_updates())` (history only) and
//!   `export(ExportMode::Snapshot)` (history + state); merge is
//!   `LoroDoc::import(bytes)` into a fresh `LoroDoc`.
//! * **cola**: "ops" are the replay's `Insertion` (with its text) and
//!   `Deletion` values, serialised with postcard; merge integrates each into
//!   a fresh fork of the empty origin replica (`integrate_insertion` /
//!   `integrate_deletion`) and applies the returned offsets to a fresh
//!   `JumpRope`. "snapshot" is `Replica::encode()` plus the text, postcard;
//!   merge is `Replica::decode` + `JumpRope::from(text)` (a load, not a
//!   merge, since a cola replica holds no text).
//! * **converge**: `postcard::to_allocvec(&text)`; merge is
//!   `postcard::from_bytes::<Text>` (which validates every invariant) then
//!   `Lattice::join(&mut Text::new(), decoded)`.
//!
//! # Measurements
//!
//! * Times are medians of `--runs` timed runs (default: 11, or 5 for a job
//!   whose untimed first run took over a second), after that untimed first
//!   run, which also checks the text. Runs of all jobs of a trace are
//!   interleaved (run `i` of each job before run `i + 1` of any), so a change
//!   in machine load hits all libraries alike. Dropping the document is not
//!   timed.
//! * Live memory: a counting `#[global_allocator]` (over `System`) sums the
//!   bytes requested and not yet freed from just before the empty document is
//!   created until the last edit returns, during the untimed first replay.
//!   Allocator overhead per block is not included; blocks are counted too.
//! * Ratios: replay ÷ jumprope; "÷ best peer" divides by the best value among
//!   the CRDT peers (converge excluded, so converge's ratio reads "how far
//!   from the best other library"); bytes and memory ÷ the final UTF-8 length.

#[path = "../counting.rs"]
mod counting;
#[path = "../format.rs"]
mod format;
use format::fmt_ns;

use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;


// ---------------------------------------------------------------------------
// Traces

#[derive(Deserialize)]
struct RawTrace {
    #[serde(rename = "endContent")]
    end_content: String,
    txns: Vec<RawTxn>,
}

#[derive(Deserialize)]
struct RawTxn {
    patches: Vec<(usize, usize, String)>,
}

/// One `[pos, del, ins]` patch, in Unicode code points.
struct Patch {
    pos: usize,
    del: usize,
    ins: String,
    /// `ins.chars().count()`, precomputed for libraries that need it.
    ins_chars: usize,
}

struct Trace {
    name: String,
    patches: Vec<Patch>,
    end: String,
}

fn load_trace(path: &Path) -> Trace {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut json)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let raw: RawTrace =
        serde_json::from_slice(&json).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let patches = raw
        .txns
        .into_iter()
        .flat_map(|t| t.patches)
        .map(|(pos, del, ins)| Patch {
            pos,
            del,
            ins_chars: ins.chars().count(),
            ins,
        })
        .collect();
    let name = path.file_name().and_then(|n| n.to_str()).map_or_else(
        || path.display().to_string(),
        |n| n.trim_end_matches(".json.gz").to_string(),
    );
    Trace {
        name,
        patches,
        end: raw.end_content,
    }
}

// ---------------------------------------------------------------------------
// Libraries

/// One library under test. Every function is a plain API call sequence; the
/// harness decides what is timed.
trait Subject {
    type Doc;
    const NAME: &'static str;
    /// False for the plain-rope baseline (excluded from "best peer").
    const CRDT: bool = true;
    /// Encodings, by name; `encode` and `merge` take an index into this.
    const FORMATS: &'static [&'static str];

    /// An empty document (untimed setup).
    fn new_doc() -> Self::Doc;
    /// One patch as one local edit (timed).
    fn edit(doc: &mut Self::Doc, p: &Patch);
    fn text(doc: &Self::Doc) -> String;
    /// Encodes the replayed document (untimed, once). `trace` is there for
    /// libraries whose ops are not kept by the document itself (cola).
    fn encode(doc: &mut Self::Doc, trace: &Trace, format: usize) -> Vec<u8>;
    /// Decodes `bytes` into a fresh empty replica and returns its text (timed).
    fn merge(format: usize, bytes: &[u8]) -> String;
}

// --- jumprope ---------------------------------------------------------------

struct Rope;

impl Subject for Rope {
    type Doc = jumprope::JumpRope;
    const NAME: &'static str = "jumprope 1.1.2 (plain rope)";
    const CRDT: bool = false;
    const FORMATS: &'static [&'static str] = &["UTF-8 text"];

    fn new_doc() -> Self::Doc {
        jumprope::JumpRope::new()
    }
    fn edit(doc: &mut Self::Doc, p: &Patch) {
        if p.del > 0 {
            doc.remove(p.pos..p.pos + p.del);
        }
        if !p.ins.is_empty() {
            doc.insert(p.pos, &p.ins);
        }
    }
    fn text(doc: &Self::Doc) -> String {
        doc.to_string()
    }
    fn encode(doc: &mut Self::Doc, _: &Trace, _: usize) -> Vec<u8> {
        doc.to_string().into_bytes()
    }
    fn merge(_: usize, bytes: &[u8]) -> String {
        let s = std::str::from_utf8(bytes).expect("UTF-8");
        jumprope::JumpRope::from(s).to_string()
    }
}

// --- diamond-types ------------------------------------------------------------

struct Diamond;

impl Subject for Diamond {
    type Doc = (diamond_types::list::ListCRDT, diamond_types::AgentId);
    const NAME: &'static str = "diamond-types 1.0.0";
    const FORMATS: &'static [&'static str] = &["ENCODE_FULL"];

    fn new_doc() -> Self::Doc {
        let mut doc = diamond_types::list::ListCRDT::new();
        let agent = doc.get_or_create_agent_id("a");
        (doc, agent)
    }
    fn edit((doc, agent): &mut Self::Doc, p: &Patch) {
        if p.del > 0 {
            doc.delete(*agent, p.pos..p.pos + p.del);
        }
        if !p.ins.is_empty() {
            doc.insert(*agent, p.pos, &p.ins);
        }
    }
    fn text((doc, _): &Self::Doc) -> String {
        doc.branch.content().to_string()
    }
    fn encode((doc, _): &mut Self::Doc, _: &Trace, _: usize) -> Vec<u8> {
        doc.oplog.encode(diamond_types::list::encoding::ENCODE_FULL)
    }
    fn merge(_: usize, bytes: &[u8]) -> String {
        let mut fresh = diamond_types::list::ListCRDT::new();
        fresh
            .merge_data_and_ff(bytes)
            .expect("diamond-types decode");
        fresh.branch.content().to_string()
    }
}

// --- yrs -------------------------------------------------------------------

struct Yrs;

fn yrs_doc(client: u64) -> (yrs::Doc, yrs::TextRef) {
    let options = yrs::Options {
        offset_kind: yrs::OffsetKind::Utf16,
        ..yrs::Options::with_client_id(yrs::ClientID::new(client))
    };
    let doc = yrs::Doc::with_options(options);
    let text = doc.get_or_insert_text("text");
    (doc, text)
}

impl Subject for Yrs {
    type Doc = (yrs::Doc, yrs::TextRef);
    const NAME: &'static str = "yrs 0.28.1";
    const FORMATS: &'static [&'static str] = &["update v1", "update v2"];

    fn new_doc() -> Self::Doc {
        yrs_doc(1)
    }
    fn edit((doc, text): &mut Self::Doc, p: &Patch) {
        use yrs::{Text, Transact};
        let mut txn = doc.transact_mut();
        if p.del > 0 {
            text.remove_range(&mut txn, p.pos as u32, p.del as u32);
        }
        if !p.ins.is_empty() {
            text.insert(&mut txn, p.pos as u32, &p.ins);
        }
    }
    fn text((doc, text): &Self::Doc) -> String {
        use yrs::{GetString, Transact};
        text.get_string(&doc.transact())
    }
    fn encode((doc, _): &mut Self::Doc, _: &Trace, format: usize) -> Vec<u8> {
        use yrs::{ReadTxn, StateVector, Transact};
        let txn = doc.transact();
        match format {
            0 => txn.encode_state_as_update_v1(&StateVector::default()),
            _ => txn.encode_state_as_update_v2(&StateVector::default()),
        }
    }
    fn merge(format: usize, bytes: &[u8]) -> String {
        use yrs::updates::decoder::Decode;
        use yrs::{GetString, Transact, Update};
        let (doc, text) = yrs_doc(2);
        let update = match format {
            0 => Update::decode_v1(bytes),
            _ => Update::decode_v2(bytes),
        }
        .expect("yrs decode");
        let mut txn = doc.transact_mut();
        txn.apply_update(update).expect("yrs apply");
        text.get_string(&txn)
    }
}

// --- automerge -------------------------------------------------------------

struct Automerge;

impl Subject for Automerge {
    type Doc = (automerge::AutoCommit, automerge::ObjId);
    const NAME: &'static str = "automerge 0.12.0";
    const FORMATS: &'static [&'static str] = &["save()"];

    fn new_doc() -> Self::Doc {
        use automerge::transaction::Transactable;
        let mut doc =
            automerge::AutoCommit::new_with_encoding(automerge::TextEncoding::UnicodeCodePoint)
                .with_actor(automerge::ActorId::from(&[1u8][..]));
        let text = doc
            .put_object(automerge::ROOT, "text", automerge::ObjType::Text)
            .expect("automerge put_object");
        doc.commit();
        (doc, text)
    }
    fn edit((doc, text): &mut Self::Doc, p: &Patch) {
        use automerge::transaction::Transactable;
        doc.splice_text(&*text, p.pos, p.del as isize, &p.ins)
            .expect("automerge splice_text");
        doc.commit();
    }
    fn text((doc, text): &Self::Doc) -> String {
        use automerge::ReadDoc;
        doc.text(text).expect("automerge text")
    }
    fn encode((doc, _): &mut Self::Doc, _: &Trace, _: usize) -> Vec<u8> {
        doc.save()
    }
    fn merge(_: usize, bytes: &[u8]) -> String {
        use automerge::ReadDoc;
        let mut fresh =
            automerge::AutoCommit::new_with_encoding(automerge::TextEncoding::UnicodeCodePoint)
                .with_actor(automerge::ActorId::from(&[2u8][..]));
        fresh
            .load_incremental(bytes)
            .expect("automerge load_incremental");
        let (_, text) = fresh
            .get(automerge::ROOT, "text")
            .expect("automerge get")
            .expect("text object");
        fresh.text(&text).expect("automerge text")
    }
}

// --- loro ------------------------------------------------------------------

struct Loro;

impl Subject for Loro {
    type Doc = (loro::LoroDoc, loro::LoroText);
    const NAME: &'static str = "loro 1.17.1";
    const FORMATS: &'static [&'static str] = &["all updates", "snapshot"];

    fn new_doc() -> Self::Doc {
        let doc = loro::LoroDoc::new();
        doc.set_peer_id(1).expect("loro peer id");
        let text = doc.get_text("text");
        (doc, text)
    }
    fn edit((doc, text): &mut Self::Doc, p: &Patch) {
        if p.del > 0 {
            text.delete(p.pos, p.del).expect("loro delete");
        }
        if !p.ins.is_empty() {
            text.insert(p.pos, &p.ins).expect("loro insert");
        }
        doc.commit();
    }
    fn text((_, text): &Self::Doc) -> String {
        text.to_string()
    }
    fn encode((doc, _): &mut Self::Doc, _: &Trace, format: usize) -> Vec<u8> {
        let mode = match format {
            0 => loro::ExportMode::all_updates(),
            _ => loro::ExportMode::Snapshot,
        };
        doc.export(mode).expect("loro export")
    }
    fn merge(_: usize, bytes: &[u8]) -> String {
        let fresh = loro::LoroDoc::new();
        fresh.set_peer_id(2).expect("loro peer id");
        fresh.import(bytes).expect("loro import");
        fresh.get_text("text").to_string()
    }
}

// --- cola ------------------------------------------------------------------

struct Cola;

/// What a cola user ships to peers: the CRDT edit plus, for insertions, the
/// inserted text (cola stores no text).
#[derive(serde::Serialize, serde::Deserialize)]
enum ColaOp {
    Ins(cola::Insertion, String),
    Del(cola::Deletion),
}

struct ColaDoc {
    crdt: cola::Replica,
    rope: jumprope::JumpRope,
}

/// The empty document every cola replica starts from (cola replicas must
/// descend from one origin via `fork`).
fn cola_origin() -> cola::Replica {
    cola::Replica::new(1, 0)
}

impl Cola {
    /// One patch; returns the CRDT edits (the timed replay drops them).
    fn edit_ops(doc: &mut ColaDoc, p: &Patch) -> (Option<cola::Deletion>, Option<cola::Insertion>) {
        let mut out = (None, None);
        if p.del > 0 {
            doc.rope.remove(p.pos..p.pos + p.del);
            out.0 = Some(doc.crdt.deleted(p.pos..p.pos + p.del));
        }
        if !p.ins.is_empty() {
            doc.rope.insert(p.pos, &p.ins);
            out.1 = Some(doc.crdt.inserted(p.pos, p.ins_chars));
        }
        out
    }
}

impl Subject for Cola {
    type Doc = ColaDoc;
    const NAME: &'static str = "cola-crdt 0.1.1 + jumprope";
    const FORMATS: &'static [&'static str] = &["ops (postcard)", "snapshot + text"];

    fn new_doc() -> Self::Doc {
        ColaDoc {
            crdt: cola_origin(),
            rope: jumprope::JumpRope::new(),
        }
    }
    fn edit(doc: &mut Self::Doc, p: &Patch) {
        black_box(Cola::edit_ops(doc, p));
    }
    fn text(doc: &Self::Doc) -> String {
        doc.rope.to_string()
    }
    fn encode(doc: &mut Self::Doc, trace: &Trace, format: usize) -> Vec<u8> {
        match format {
            0 => {
                // Replay again, this time keeping the ops.
                let mut again = Cola::new_doc();
                let mut ops = Vec::new();
                for p in &trace.patches {
                    let (del, ins) = Cola::edit_ops(&mut again, p);
                    ops.extend(del.map(ColaOp::Del));
                    ops.extend(ins.map(|i| ColaOp::Ins(i, p.ins.clone())));
                }
                postcard::to_allocvec(&ops).expect("postcard")
            }
            _ => {
                postcard::to_allocvec(&(doc.crdt.encode(), doc.rope.to_string())).expect("postcard")
            }
        }
    }
    fn merge(format: usize, bytes: &[u8]) -> String {
        match format {
            0 => {
                let ops: Vec<ColaOp> = postcard::from_bytes(bytes).expect("postcard");
                let mut fresh = ColaDoc {
                    crdt: cola_origin().fork(2),
                    rope: jumprope::JumpRope::new(),
                };
                for op in ops {
                    match op {
                        ColaOp::Ins(ins, text) => {
                            if let Some(at) = fresh.crdt.integrate_insertion(&ins) {
                                fresh.rope.insert(at, &text);
                            }
                        }
                        ColaOp::Del(del) => {
                            for r in fresh.crdt.integrate_deletion(&del).into_iter().rev() {
                                fresh.rope.remove(r);
                            }
                        }
                    }
                }
                fresh.rope.to_string()
            }
            _ => {
                let (encoded, text): (cola::EncodedReplica, String) =
                    postcard::from_bytes(bytes).expect("postcard");
                let crdt = cola::Replica::decode(2, &encoded).expect("cola decode");
                let rope = jumprope::JumpRope::from(text.as_str());
                black_box(&crdt);
                rope.to_string()
            }
        }
    }
}

// --- converge (lands with src/sequence/) -------------------------------------

#[cfg(feature = "converge-text")]
mod converge_text {
    //! converge's sequence `Text`, kept apart so that the peers still build
    //! without it (`--no-default-features`, feature `converge-text`).

    use super::{Patch, Subject, Trace};
    use converge::{Lattice, ReplicaId, Text};

    const R1: ReplicaId = ReplicaId::new(1);

    pub(crate) struct Converge;

    impl Subject for Converge {
        type Doc = Text;
        const NAME: &'static str = "converge Text";
        const FORMATS: &'static [&'static str] = &["postcard"];

        fn new_doc() -> Text {
            Text::new()
        }
        fn edit(doc: &mut Text, p: &Patch) {
            if p.del > 0 {
                let delta = doc
                    .delete(R1, p.pos..p.pos + p.del)
                    .expect("converge delete");
                std::hint::black_box(delta);
            }
            if !p.ins.is_empty() {
                let delta = doc.insert(R1, p.pos, &p.ins).expect("converge insert");
                std::hint::black_box(delta);
            }
        }
        fn text(doc: &Text) -> String {
            doc.to_string()
        }
        fn encode(doc: &mut Text, _: &Trace, _: usize) -> Vec<u8> {
            postcard::to_allocvec(doc).expect("postcard")
        }
        fn merge(_: usize, bytes: &[u8]) -> String {
            let decoded: Text = postcard::from_bytes(bytes).expect("converge decode");
            let mut fresh = Text::new();
            Lattice::join(&mut fresh, decoded);
            fresh.to_string()
        }
    }
}

// ---------------------------------------------------------------------------
// Harness

struct Config {
    /// `Some(n)`: every job runs `n` times; `None`: 11, or 5 for slow jobs.
    runs: Option<usize>,
    dir: PathBuf,
    trace_filter: Option<String>,
    lib_filter: Option<Vec<String>>,
}

impl Config {
    fn runs_for(&self, first_run: Duration) -> usize {
        self.runs
            .unwrap_or(if first_run > Duration::from_secs(1) {
                5
            } else {
                11
            })
            .max(1)
    }

    /// Whether `--lib` selects this library (matched against its crate name).
    fn wants(&self, lib: &str) -> bool {
        let krate = lib.split(' ').next().unwrap_or(lib).to_lowercase();
        self.lib_filter
            .as_ref()
            .is_none_or(|f| f.iter().any(|w| krate.contains(w.as_str())))
    }
}

/// One timed run.
type Job<'a> = Box<dyn FnMut() -> Duration + 'a>;

struct Timed<'a> {
    job: Job<'a>,
    runs: usize,
    times: Vec<Duration>,
}

impl<'a> Timed<'a> {
    fn new(job: Job<'a>, runs: usize) -> Self {
        Timed {
            job,
            runs,
            times: Vec::with_capacity(runs),
        }
    }

    fn median(&self) -> Duration {
        let mut t = self.times.clone();
        t.sort_unstable();
        t[t.len() / 2]
    }
}

struct Encoding {
    format: &'static str,
    bytes: usize,
    merge: usize, // index into the trace's timed jobs
}

struct Measured {
    name: &'static str,
    crdt: bool,
    replay: usize, // index into the trace's timed jobs
    live_bytes: i64,
    live_blocks: i64,
    encodings: Vec<Encoding>,
}

fn check(lib: &str, what: &str, trace: &Trace, got: &str) {
    if got != trace.end {
        let at = got
            .chars()
            .zip(trace.end.chars())
            .take_while(|(a, b)| a == b)
            .count();
        panic!(
            "{lib}: {what} of {} gives {} chars, expected {} (first difference at char {at})",
            trace.name,
            got.chars().count(),
            trace.end.chars().count()
        );
    }
}

/// Untimed first replay (memory, correctness, encodings), then registers the
/// timed replay and merge jobs.
fn measure<'a, S: Subject + 'a>(
    cfg: &Config,
    trace: &'a Trace,
    jobs: &mut Vec<Timed<'a>>,
) -> Option<Measured> {
    if !cfg.wants(S::NAME) {
        return None;
    }
    eprint!("  {} …", S::NAME);
    let start = Instant::now();
    let (mut doc, live_bytes, live_blocks) = counting::live_after(|| {
        let mut doc = S::new_doc();
        for p in &trace.patches {
            S::edit(&mut doc, p);
        }
        doc
    });
    let first = start.elapsed();
    check(S::NAME, "replay", trace, &S::text(&doc));

    let replay = jobs.len();
    jobs.push(Timed::new(
        Box::new(move || {
            let mut doc = S::new_doc();
            let start = Instant::now();
            for p in &trace.patches {
                S::edit(&mut doc, black_box(p));
            }
            let elapsed = start.elapsed();
            drop(black_box(doc));
            elapsed
        }),
        cfg.runs_for(first),
    ));

    let mut encodings = Vec::new();
    for (i, &format) in S::FORMATS.iter().enumerate() {
        let bytes = S::encode(&mut doc, trace, i);
        let start = Instant::now();
        let merged = S::merge(i, &bytes);
        let first = start.elapsed();
        check(S::NAME, &format!("merge ({format})"), trace, &merged);
        drop(merged);
        let len = bytes.len();
        encodings.push(Encoding {
            format,
            bytes: len,
            merge: jobs.len(),
        });
        jobs.push(Timed::new(
            Box::new(move || {
                let start = Instant::now();
                let text = S::merge(i, black_box(&bytes));
                let elapsed = start.elapsed();
                drop(black_box(text));
                elapsed
            }),
            cfg.runs_for(first),
        ));
    }
    drop(doc);
    eprintln!(" checked ({})", fmt_time(first));
    Some(Measured {
        name: S::NAME,
        crdt: S::CRDT,
        replay,
        live_bytes,
        live_blocks,
        encodings,
    })
}

/// Runs every job its number of times, interleaved.
fn run_all(jobs: &mut [Timed<'_>]) {
    let max = jobs.iter().map(|j| j.runs).max().unwrap_or(0);
    for run in 0..max {
        eprint!("\r  timing: run {}/{max}   ", run + 1);
        for j in jobs.iter_mut() {
            if run < j.runs {
                let t = (j.job)();
                j.times.push(t);
            }
        }
    }
    eprintln!();
}

fn fmt_time(d: Duration) -> String {
    fmt_ns(d.as_secs_f64() * 1e9)
}

fn fmt_bytes(b: f64) -> String {
    let (v, unit) = if b.abs() >= 1024.0 * 1024.0 {
        (b / (1024.0 * 1024.0), "MiB")
    } else if b.abs() >= 1024.0 {
        (b / 1024.0, "KiB")
    } else {
        return format!("{b:.0} B");
    };
    if v.abs() >= 100.0 {
        format!("{v:.0} {unit}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

fn fmt_ratio(r: f64) -> String {
    if !r.is_finite() {
        "–".into()
    } else if r >= 100.0 {
        format!("{r:.0}×")
    } else if r >= 10.0 {
        format!("{r:.1}×")
    } else {
        format!("{r:.2}×")
    }
}

fn print_table(trace: &Trace, rows: &[Measured], jobs: &[Timed<'_>]) {
    let text_len = trace.end.len() as f64;
    let secs = |i: usize| jobs[i].median().as_secs_f64();
    let rope = rows.iter().find(|r| !r.crdt).map(|r| secs(r.replay));
    let is_peer = |r: &Measured| r.crdt && !r.name.starts_with("converge");
    let best = |f: &dyn Fn(&Measured) -> Vec<f64>| {
        rows.iter()
            .filter(|r| is_peer(r))
            .flat_map(f)
            .fold(f64::INFINITY, f64::min)
    };
    let best_replay = best(&|r| vec![secs(r.replay)]);
    let best_merge = best(&|r| r.encodings.iter().map(|e| secs(e.merge)).collect());
    let best_bytes = best(&|r| r.encodings.iter().map(|e| e.bytes as f64).collect());
    let best_mem = best(&|r| vec![r.live_bytes as f64]);

    println!(
        "### {} — {} edits, final text {} chars / {} UTF-8 bytes\n",
        trace.name,
        trace.patches.len(),
        trace.end.chars().count(),
        trace.end.len()
    );
    println!(
        "| library | replay | ÷ jumprope | ÷ best peer | live memory (blocks) | ÷ text | ÷ best peer \
         | encoding | bytes | ÷ text | ÷ best peer | merge into fresh | ÷ best peer |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        let replay = secs(r.replay);
        let vs_best = |v: f64, b: f64| {
            if r.crdt && b.is_finite() {
                fmt_ratio(v / b)
            } else {
                "–".into()
            }
        };
        for (k, e) in r.encodings.iter().enumerate() {
            let head = if k == 0 {
                format!(
                    "| {} | {} | {} | {} | {} ({}) | {} | {} ",
                    r.name,
                    fmt_time(jobs[r.replay].median()),
                    rope.map_or_else(|| "–".into(), |j| fmt_ratio(replay / j)),
                    vs_best(replay, best_replay),
                    fmt_bytes(r.live_bytes as f64),
                    r.live_blocks,
                    fmt_ratio(r.live_bytes as f64 / text_len),
                    vs_best(r.live_bytes as f64, best_mem),
                )
            } else {
                "| 〃 | | | | | | ".into()
            };
            println!(
                "{head}| {} | {} | {} | {} | {} | {} |",
                e.format,
                fmt_bytes(e.bytes as f64),
                fmt_ratio(e.bytes as f64 / text_len),
                vs_best(e.bytes as f64, best_bytes),
                fmt_time(jobs[e.merge].median()),
                vs_best(secs(e.merge), best_merge),
            );
        }
    }
    let runs: Vec<String> = rows
        .iter()
        .map(|r| {
            let merges: Vec<String> = r
                .encodings
                .iter()
                .map(|e| jobs[e.merge].runs.to_string())
                .collect();
            format!(
                "{} {}/{}",
                r.name.split(' ').next().unwrap_or(r.name),
                jobs[r.replay].runs,
                merges.join("+")
            )
        })
        .collect();
    println!("\nRuns per median (replay/merges): {}.\n", runs.join(", "));
}

fn parse_args() -> Config {
    let mut cfg = Config {
        runs: None,
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/traces"),
        trace_filter: None,
        lib_filter: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--runs" => cfg.runs = Some(value().parse().expect("--runs N")),
            "--dir" => cfg.dir = PathBuf::from(value()),
            "--trace" => cfg.trace_filter = Some(value()),
            "--lib" => {
                cfg.lib_filter = Some(
                    value()
                        .split(',')
                        .map(|s| s.trim().to_lowercase())
                        .collect(),
                )
            }
            "-h" | "--help" => {
                println!(
                    "text_traces [--runs N] [--dir DIR] [--trace SUBSTRING] [--lib NAME,NAME]\n\
                     libraries: jumprope, diamond, yrs, automerge, loro, cola, converge"
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument {other} (try --help)"),
        }
    }
    cfg
}

fn main() {
    let cfg = parse_args();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&cfg.dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (pass --dir DIR with the *.json.gz traces)",
                cfg.dir.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .filter(|p| {
            cfg.trace_filter
                .as_ref()
                .is_none_or(|f| p.to_string_lossy().contains(f.as_str()))
        })
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no *.json.gz trace in {}",
        cfg.dir.display()
    );

    println!("## Text editing traces: converge vs peers\n");
    println!(
        "Every patch replayed as one local edit from an empty document; final text checked \
         against `endContent`. Times are medians; see the header of \
         `benches/peers/src/bin/text_traces.rs` for what each library's edit, encoding and merge are.\n"
    );
    if !cfg!(feature = "converge-text") {
        println!("(converge's `Text` not included: built with `--no-default-features`.)\n");
    }

    for path in &paths {
        let trace = load_trace(path);
        eprintln!("{}: {} patches", trace.name, trace.patches.len());
        let mut jobs = Vec::new();
        let mut rows = Vec::new();
        rows.extend(measure::<Rope>(&cfg, &trace, &mut jobs));
        rows.extend(measure::<Diamond>(&cfg, &trace, &mut jobs));
        rows.extend(measure::<Yrs>(&cfg, &trace, &mut jobs));
        rows.extend(measure::<Automerge>(&cfg, &trace, &mut jobs));
        rows.extend(measure::<Loro>(&cfg, &trace, &mut jobs));
        rows.extend(measure::<Cola>(&cfg, &trace, &mut jobs));
        #[cfg(feature = "converge-text")]
        rows.extend(measure::<converge_text::Converge>(&cfg, &trace, &mut jobs));
        run_all(&mut jobs);
        print_table(&trace, &rows, &jobs);
    }
}
