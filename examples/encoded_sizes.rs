//! How big are the bytes? Builds realistic states and typical single-operation
//! deltas of every type and prints, as a markdown table, the size of each in
//! the crate's compact encoding (`converge::encoding`, header included) and
//! in serde_json, bincode 1 (`bincode::serialize`, default options) and
//! postcard (`postcard::to_allocvec`), with the ratio of each to compact.
//! `docs/wire-format.md` §11 holds its output.
//!
//! Everything is deterministic: replica ids and values come from a seeded
//! generator, so the table only changes when the encoding or a type's
//! representation does. Replica ids are random 64-bit numbers, as the crate
//! recommends (`ReplicaId`), so most take 10 varint bytes; one row shows the
//! same counter with small, centrally assigned ids. The text row replays the
//! `sveltecomponent` editing trace from `tests/data/traces/` (skipped when the
//! traces are not there, as in the published crate).
//!
//! Run it with `cargo run --release --example encoded_sizes`. It exits
//! non-zero if any value fails to round-trip through the compact encoding.

use std::error::Error;
use std::fmt::Debug;
use std::io::Read;
use std::time::Instant;

use converge::encoding::{self, Encodable};
use converge::sync::Message;
use converge::*;

type Res<T = ()> = Result<T, Box<dyn Error>>;

/// splitmix64: a small seeded generator, enough for reproducible data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn replicas(&mut self, n: usize) -> Vec<ReplicaId> {
        (0..n).map(|_| ReplicaId::new(self.next())).collect()
    }
}

/// One line of the table.
struct Row {
    what: String,
    compact: usize,
    json: usize,
    bincode: usize,
    postcard: usize,
}

struct Table {
    rows: Vec<Row>,
    failures: Vec<String>,
}

impl Table {
    fn add<T>(&mut self, what: &str, value: &T) -> Res
    where
        T: Encodable + PartialEq + Debug,
    {
        let compact = encoding::encode(value)?;
        match encoding::decode::<T>(&compact) {
            Ok(back) if back == *value => {}
            Ok(_) => self
                .failures
                .push(format!("{what}: decodes to another value")),
            Err(e) => self.failures.push(format!("{what}: does not decode: {e}")),
        }
        self.rows.push(Row {
            what: what.to_string(),
            compact: compact.len(),
            json: serde_json::to_vec(value)?.len(),
            bincode: bincode::serialize(value)?.len(),
            postcard: postcard::to_allocvec(value)?.len(),
        });
        Ok(())
    }

    fn print(&self) {
        println!(
            "| value | compact | serde_json | bincode 1 | postcard | json ÷ compact | bincode ÷ compact | postcard ÷ compact |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for r in &self.rows {
            let ratio = |n: usize| n as f64 / r.compact as f64;
            println!(
                "| {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} |",
                r.what,
                r.compact,
                r.json,
                r.bincode,
                r.postcard,
                ratio(r.json),
                ratio(r.bincode),
                ratio(r.postcard)
            );
        }
    }
}

fn counters(t: &mut Table, rng: &mut Rng) -> Res {
    for n in [10, 1000] {
        let ids = rng.replicas(n);
        let mut g = GCounter::new();
        let mut p = PnCounter::new();
        let mut c = CausalCounter::new();
        for &r in &ids {
            g.increment(r, 1 + rng.below(1_000_000))?;
            p.increment(r, 1 + rng.below(1_000_000))?;
            p.decrement(r, 1 + rng.below(1_000))?;
            for _ in 0..1 + rng.below(5) {
                c.increment(r, 1 + rng.below(100))?;
            }
        }
        t.add(&format!("GCounter, {n} replicas"), &g)?;
        if n == 1000 {
            let small = GCounter::from_entries(
                (1..=1000u64).map(|i| (ReplicaId::new(i), 1 + rng.below(1_000_000))),
            );
            t.add("GCounter, 1000 replicas, ids 1..=1000", &small)?;
        }
        t.add(&format!("PnCounter, {n} replicas"), &p)?;
        t.add(&format!("CausalCounter, {n} replicas"), &c)?;
        if n == 1000 {
            let r = ids[17];
            t.add("δ GCounter increment", &g.increment(r, 1)?)?;
            t.add("δ PnCounter decrement", &p.decrement(r, 1)?)?;
            t.add("δ CausalCounter increment", &c.increment(r, 1)?)?;
        }
    }
    Ok(())
}

fn registers(t: &mut Table, rng: &mut Rng) -> Res {
    let ids = rng.replicas(3);
    // Millisecond timestamps around 2025: six varint bytes.
    let now = 1_750_000_000_000u64;
    let mut lww = LwwRegister::new();
    for (i, &r) in ids.iter().enumerate() {
        let mut other = LwwRegister::new();
        other.write(r, format!("status from writer {i}"), now + i as u64)?;
        lww.join(other);
    }
    t.add("`LwwRegister<String>`, 3 writers", &lww)?;
    let d = lww.write(ids[0], "back at my desk".to_string(), now + 60_000)?;
    t.add("δ LwwRegister write", &d)?;

    let mut mv = MvRegister::new();
    for (i, &r) in ids.iter().enumerate() {
        let mut other = MvRegister::new();
        other.write(r, format!("2025-06-1{i} 10:00 meeting room {i}"));
        mv.join(other);
    }
    t.add("`MvRegister<String>`, 3 siblings", &mv)?;
    let d = mv.write(ids[1], "2025-06-12 10:00 room 2".to_string());
    t.add("δ MvRegister write (supersedes 3)", &d)?;
    Ok(())
}

fn sets(t: &mut Table, rng: &mut Rng) -> Res {
    let ids = rng.replicas(3);
    let name = |i: u64| format!("user-{i:06}");

    // 1,200 inserts spread over 3 replicas, 200 removes: 1,000 elements.
    let mut set = OrSet::new();
    for i in 0..1200u64 {
        set.insert(ids[(i % 3) as usize], name(i));
    }
    for i in (0..1200u64).step_by(6) {
        set.remove(&name(i));
    }
    t.add("`OrSet<String>`, 1000 elements, 3 writers", &set)?;
    t.add("δ OrSet insert", &set.insert(ids[0], name(5000)))?;
    t.add("δ OrSet remove", &set.remove(&name(1)))?;

    let mut rw = RwSet::new();
    for i in 0..1200u64 {
        rw.insert(ids[(i % 3) as usize], name(i));
    }
    for i in (0..1200u64).step_by(6) {
        rw.remove(ids[(i % 3) as usize], name(i));
    }
    t.add("`RwSet<String>`, 1000 elements + 200 removed", &rw)?;
    t.add("δ RwSet remove", &rw.remove(ids[1], name(1)))?;

    let mut flag = EwFlag::new();
    for &r in &ids {
        let mut other = EwFlag::new();
        other.enable(r);
        flag.join(other);
    }
    t.add("EwFlag, enabled by 3", &flag)?;
    t.add("δ EwFlag disable", &flag.disable())?;
    Ok(())
}

fn maps(t: &mut Table, rng: &mut Rng) -> Res {
    let ids = rng.replicas(3);
    let mut m: OrMap<String, MvRegister<u64>> = OrMap::new();
    for i in 0..300u64 {
        let r = ids[(i % 3) as usize];
        let v = rng.below(1_000_000);
        m.update(r, format!("setting.{:03}", i % 100), |reg| reg.write(r, v));
    }
    t.add("`OrMap<String, MvRegister<u64>>`, 100 keys", &m)?;
    let r = ids[0];
    t.add(
        "δ OrMap update (one MvRegister write)",
        &m.update(r, "setting.042".to_string(), |reg| reg.write(r, 7)),
    )?;
    t.add("δ OrMap remove", &m.remove(r, &"setting.043".to_string()))?;
    let d = Message::Deltas {
        from: r,
        start: 41,
        end: 42,
        delta: m.update(r, "setting.044".to_string(), |reg| reg.write(r, 8)),
    };
    t.add("sync Message::Deltas (one OrMap update)", &d)?;
    t.add(
        "sync Message::Ack",
        &Message::<OrMap<String, MvRegister<u64>>>::Ack { from: r, upto: 42 },
    )
}

fn lists(t: &mut Table, rng: &mut Rng) -> Res {
    let ids = rng.replicas(2);
    let mut l = List::new();
    for i in 0..10_000u32 {
        l.push(ids[0], i.wrapping_mul(2_654_435_761) % 100_000);
    }
    for _ in 0..1000 {
        let i = rng.below(l.len() as u64) as usize;
        l.delete(ids[0], i)?;
    }
    t.add("`List<u32>`, 10000 pushed, 1000 deleted", &l)?;
    let mid = l.len() / 2;
    t.add("δ List insert", &l.insert(ids[1], mid, 42)?)?;
    t.add("δ List delete", &l.delete(ids[1], mid)?)
}

#[derive(serde::Deserialize)]
struct Trace {
    #[serde(rename = "endContent")]
    end_content: String,
    txns: Vec<Txn>,
}

#[derive(serde::Deserialize)]
struct Txn {
    patches: Vec<(usize, usize, String)>,
}

fn read_trace(name: &str) -> Option<Trace> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/traces")
        .join(format!("{name}.json.gz"));
    let file = std::fs::File::open(path).ok()?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(std::io::BufReader::new(file))
        .read_to_end(&mut json)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// Replays a trace on one replica.
fn replay(trace: &Trace, replica: ReplicaId) -> Res<Text> {
    let mut doc = Text::new();
    for txn in &trace.txns {
        for (pos, del, ins) in &txn.patches {
            if *del > 0 {
                doc.delete(replica, *pos..pos + del)?;
            }
            if !ins.is_empty() {
                doc.insert(replica, *pos, ins)?;
            }
        }
    }
    if doc.to_string() != trace.end_content {
        return Err("the trace replay does not give endContent".into());
    }
    Ok(doc)
}

fn text(t: &mut Table, rng: &mut Rng) -> Res {
    let ids = rng.replicas(2);
    let Some(trace) = read_trace("sveltecomponent") else {
        eprintln!("tests/data/traces/sveltecomponent.json.gz not found: no Text rows");
        return Ok(());
    };
    let mut doc = replay(&trace, ids[0])?;
    // The runs on the wire: the serde representation's two sequences.
    let repr = serde_json::to_value(&doc)?;
    let count = |field: &str| repr[field].as_array().map_or(0, Vec::len);
    let (runs, deletes) = (count("items"), count("deletes"));
    let chars = doc.len();
    let ops: usize = trace.txns.iter().map(|t| t.patches.len()).sum();
    t.add(
        &format!(
            "Text, sveltecomponent trace ({ops} patches → {chars} chars, \
             {runs} item runs, {deletes} delete runs)"
        ),
        &doc,
    )?;
    t.add(
        "Text, the same trace, replica id 1",
        &replay(&trace, ReplicaId::new(1))?,
    )?;
    let mid = chars / 2;
    t.add("δ Text insert 1 char", &doc.insert(ids[1], mid, "x")?)?;
    t.add("δ Text delete 1 char", &doc.delete(ids[1], mid..mid + 1)?)
}

fn run() -> Res<Table> {
    let mut rng = Rng(0x5eed_c0de);
    let mut t = Table {
        rows: Vec::new(),
        failures: Vec::new(),
    };
    counters(&mut t, &mut rng)?;
    registers(&mut t, &mut rng)?;
    sets(&mut t, &mut rng)?;
    maps(&mut t, &mut rng)?;
    lists(&mut t, &mut rng)?;
    text(&mut t, &mut rng)?;
    Ok(t)
}

fn main() {
    let started = Instant::now();
    let t = match run() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    t.print();
    eprintln!("built and encoded in {:.2?}", started.elapsed());
    if !t.failures.is_empty() {
        for f in &t.failures {
            eprintln!("round trip failed: {f}");
        }
        std::process::exit(1);
    }
}
