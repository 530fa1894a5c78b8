//! Decode throughput of the compact encoding on valid input and on the
//! worst adversarial input of the same size we know (TESTPLAN b.6: the ratio
//! should stay ≤ 10×; C6), with encode for scale. The plain baseline is
//! postcard decoding a `Vec<u64>` of the same byte size: parsing with no
//! CRDT behind it. Run with `cargo bench --bench encoding`; results in
//! `docs/testing.md`.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use converge::encoding::{self, Encodable};
use converge::{Lattice, MvRegister, OrSet, ReplicaId, Text};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn varint(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Two writers typing concurrently, syncing every 50 edits, some deletes.
fn valid_text(edits: usize) -> Text {
    let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
    let (mut x, mut y) = (Text::new(), Text::new());
    let mut seed = 7u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    for i in 0..edits {
        let (t, r) = if i % 2 == 0 { (&mut x, a) } else { (&mut y, b) };
        let len = t.len();
        if len > 10 && next() % 5 == 0 {
            let at = next() as usize % (len - 1);
            t.delete(r, at..at + 1).unwrap();
        } else {
            let at = if next() % 8 == 0 {
                next() as usize % (len + 1)
            } else {
                len
            };
            t.insert(r, at, "ab").unwrap();
        }
        if i % 50 == 49 {
            let (dx, dy) = (x.clone(), y.clone());
            x.join(dy);
            y.join(dx);
        }
    }
    x.join(y);
    x
}

/// Adversarial `Text`s of about `size` bytes (compact encoding, tag 0x0b).
/// `siblings`: one item per replica, all at one position (the quadratic
/// placement; rejected by the scan budget). `split_runs`: one char per run,
/// replicas alternating, each after the previous (no run merges: the most
/// runs per input byte).
fn forged_text(size: usize, siblings: bool) -> Vec<u8> {
    let mut body = Vec::new();
    let mut n = 0u64;
    while body.len() < size {
        n += 1;
        let (replica, counter) = if siblings {
            (n, 1)
        } else {
            (1 + n % 2, n.div_ceil(2))
        };
        varint(replica, &mut body);
        varint(counter, &mut body);
        body.push(1); // len
        if siblings || n == 1 {
            body.push(0); // left: None
        } else {
            body.push(1);
            varint(1 + (n - 1) % 2, &mut body);
            varint((n - 1).div_ceil(2), &mut body);
        }
        body.push(0); // right: None
        body.extend_from_slice(&[1, 1, b'x']); // content Some("x")
    }
    let mut out = b"cv\x01\x0b".to_vec();
    varint(n, &mut out);
    out.extend_from_slice(&body);
    out.push(0); // no deletes
    out
}

/// C6: one replica's run of `n` two-byte chars with another replica's
/// char after every other one, typed back to front, so that each insert
/// splits the head of what is left of the run (a decode splits it the same
/// way). With near-linear splits the time per input byte stays flat as `n`
/// grows; copying the tail at every split made it quadratic.
fn split_run_text(n: usize) -> Text {
    let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
    let mut t = Text::new();
    t.insert(a, 0, &"\u{e9}".repeat(n)).unwrap();
    for i in (0..n / 2).rev() {
        t.insert(b, 2 * i + 1, "b").unwrap();
    }
    t
}

fn valid_orset(n: u64) -> OrSet<u64> {
    let mut s = OrSet::new();
    for i in 0..n {
        s.insert(ReplicaId::new(1 + i % 3), i);
        if i % 10 == 0 {
            s.remove(&(i / 2));
        }
    }
    s
}

/// An `OrSet<u64>` whose elements each carry a dot of a different replica:
/// a causal context of one entry per element.
fn many_replicas_orset(n: u64) -> OrSet<u64> {
    let mut s = OrSet::new();
    for i in 0..n {
        s.insert(ReplicaId::new(1_000 + i), i);
    }
    s
}

/// An `MvRegister<String>` with `n` concurrent siblings, one per replica
/// (joined pairwise: O(n log n) to build).
fn many_siblings(n: u64) -> MvRegister<String> {
    let mut level: Vec<MvRegister<String>> = (0..n)
        .map(|i| {
            let mut r = MvRegister::new();
            r.write(ReplicaId::new(1 + i), format!("v{i}"));
            r
        })
        .collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut it = level.into_iter();
        while let Some(mut a) = it.next() {
            if let Some(b) = it.next() {
                a.join(b);
            }
            next.push(a);
        }
        level = next;
    }
    level.pop().unwrap_or_default()
}

fn baseline(size: usize) -> Vec<u8> {
    // u64s that take 3 bytes as varints.
    let n = size / 3;
    postcard::to_allocvec(&vec![20_000u64; n]).unwrap()
}

fn decode_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    let text = encoding::encode(&valid_text(20_000)).unwrap();
    let size = text.len();
    let inputs: Vec<(&str, Vec<u8>, bool)> = vec![
        ("text_valid", text, true),
        ("text_split_runs", forged_text(size, false), true),
        ("text_forged_siblings", forged_text(size, true), false),
    ];
    for (name, bytes, ok) in &inputs {
        assert_eq!(encoding::decode::<Text>(bytes).is_ok(), *ok, "{name}");
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new(*name, bytes.len()), bytes, |b, bytes| {
            b.iter(|| black_box(encoding::decode::<Text>(black_box(bytes))))
        });
    }
    let split: Vec<Vec<u8>> = [1 << 12, 1 << 15]
        .map(|n| encoding::encode(&split_run_text(n)).unwrap())
        .into();
    for bytes in &split {
        decode_bench::<Text>(&mut g, "text_one_run_split", bytes);
    }
    let sets = [
        (
            "orset_valid",
            encoding::encode(&valid_orset(20_000)).unwrap(),
        ),
        (
            "orset_many_replicas",
            encoding::encode(&many_replicas_orset(20_000)).unwrap(),
        ),
    ];
    for (name, bytes) in &sets {
        decode_bench::<OrSet<u64>>(&mut g, name, bytes);
    }
    let register = many_siblings(20_000);
    assert_eq!(register.values().len(), 20_000);
    let siblings = encoding::encode(&register).unwrap();
    decode_bench::<MvRegister<String>>(&mut g, "mvregister_siblings", &siblings);
    for size in [
        inputs[0].1.len(),
        sets[0].1.len(),
        siblings.len(),
        split[0].len(),
        split[1].len(),
    ] {
        let plain = baseline(size);
        g.throughput(Throughput::Bytes(plain.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("baseline_postcard_vec_u64", plain.len()),
            &plain,
            |b, p| b.iter(|| black_box(postcard::from_bytes::<Vec<u64>>(black_box(p)).unwrap())),
        );
    }
    g.finish();
}

fn decode_bench<T: Encodable>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    bytes: &[u8],
) {
    assert!(encoding::decode::<T>(bytes).is_ok(), "{name}");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_with_input(BenchmarkId::new(name, bytes.len()), bytes, |b, bytes| {
        b.iter(|| black_box(encoding::decode::<T>(black_box(bytes)).unwrap()))
    });
}

fn encode_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    let text = valid_text(20_000);
    let set = valid_orset(20_000);
    let n = encoding::encode(&text).unwrap().len();
    g.throughput(Throughput::Bytes(n as u64));
    g.bench_function(BenchmarkId::new("text_valid", n), |b| {
        b.iter(|| black_box(encoding::encode(black_box(&text)).unwrap()))
    });
    let n = encoding::encode(&set).unwrap().len();
    g.throughput(Throughput::Bytes(n as u64));
    g.bench_function(BenchmarkId::new("orset_valid", n), |b| {
        b.iter(|| black_box(encoding::encode(black_box(&set)).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, decode_group, encode_group);
criterion_main!(benches);
