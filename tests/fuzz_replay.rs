//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) and every crasher
//! (`fuzz/regressions/<target>/`) through the harness of
//! `converge::fuzzing`, so `cargo test --all-features` re-checks what the
//! fuzzers found (TESTPLAN b.4, F9, F12), and measures the C4 allocation
//! bound on every input of the decode targets (F11).
//!
//! `CONVERGE_FUZZ_DIR=<dir>` replays `<dir>/corpus/<target>/` and
//! `<dir>/regressions/<target>/` instead of `fuzz/`.
//!
//! `cargo test --all-features --test fuzz_replay -- --ignored
//! generate_seed_corpora` rewrites the seed files (`seed-*`) of every corpus
//! from `converge::fuzzing::seeds`.
#![cfg(feature = "fuzzing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use converge::fuzzing::{self, DecodeTarget, Decoder};

/// `fuzz/`, or `$CONVERGE_FUZZ_DIR` (a directory with `corpus/<target>/`
/// and `regressions/<target>/`, e.g. a campaign's working corpus).
fn fuzz_dir() -> PathBuf {
    match std::env::var_os("CONVERGE_FUZZ_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz"),
    }
}

/// Every file under `fuzz/<kind>/<target>/`, sorted by name.
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = fs::read(&p).unwrap();
            (p, data)
        })
        .collect()
}

/// Runs every corpus and regression input of `target`; the target panics on
/// a violated property, naming the file here first.
fn replay(target: &str) {
    let mut n = 0;
    for kind in ["corpus", "regressions"] {
        for (path, data) in inputs(kind, target) {
            eprintln!("{}", path.display());
            assert!(fuzzing::run_target(target, &data), "unknown target");
            n += 1;
        }
    }
    // The seed corpora are committed: an empty replay means a broken path.
    assert!(
        n > 0,
        "no inputs for {target} under {}",
        fuzz_dir().display()
    );
    println!("{target}: {n} inputs replayed");
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            replay(stringify!($name).trim_start_matches("replay_"));
        }
    )*};
}

replay_tests!(
    replay_decode_state,
    replay_decode_delta,
    replay_decode_header_valid,
    replay_join_untrusted,
    replay_laws,
    replay_multi_replica,
    replay_network_sim,
    replay_sequence_model,
    replay_sequence_orders,
    replay_ormap_nested,
    replay_truncate_and_flip,
);

/// Inputs that broke C4, found by the campaign: a nested `OrMap` reserved
/// up to 64 KiB for its entries at every level before they arrived, so the
/// slack of the bound was spent once per nesting level. Fixed (collections
/// allocate at most 4 KiB before their elements arrive, `DotMap` reserves
/// nothing); the named tests below hold each to the bound.
fn c4_holds(target: &str, which: DecodeTarget, name: &str) {
    let path = fuzz_dir().join("regressions").join(target).join(name);
    let data = fs::read(&path).unwrap();
    let (_, peak) = common::alloc::measure(|| fuzzing::decode_only(which, Decoder::Compact, &data));
    let bound = common::alloc::c4_bound(data.len());
    assert!(
        peak <= bound,
        "C4: {name} ({} bytes) peaked at {peak} bytes > {bound}",
        data.len()
    );
}

/// `OrMap<u8, OrMap<u8, MvRegister<u8>>>` body of 417 bytes:
/// about 147 KB peak against a bound of 72 KB.
#[test]
fn regression_c4_nested_map_3_deep_prealloc() {
    c4_holds(
        "decode_header_valid",
        DecodeTarget::HeaderValid,
        "c4-nested-map-3-deep-prealloc",
    );
}

/// A map nested six deep, 291 bytes with its header: about 109 KB peak
/// against a bound of 70 KB.
#[test]
fn regression_c4_nested_map_6_deep_prealloc() {
    c4_holds(
        "decode_state",
        DecodeTarget::State,
        "c4-nested-map-6-deep-prealloc",
    );
}

/// A map nested six deep, 202-byte body: about 90 KB peak against a bound
/// of 69 KB.
#[test]
fn regression_c4_nested_map_6_deep_prealloc_header() {
    c4_holds(
        "decode_header_valid",
        DecodeTarget::HeaderValid,
        "c4-nested-map-6-deep-prealloc-header",
    );
}

/// The largest ratio of peak heap to input length over the decode corpora,
/// with the input that reached it, and the largest share of the C4 bound.
#[derive(Default)]
struct Worst {
    ratio: f64,
    path: String,
    len: usize,
    peak: usize,
    inputs: usize,
    /// The largest peak as a share of the C4 bound, and its input length.
    of_bound: f64,
    of_bound_len: usize,
}

/// Measures every corpus and regression input of the decode targets with
/// `decoder`; with `enforce`, asserts C4 on each.
fn measure_decoding(decoder: Decoder, enforce: bool) -> Worst {
    let mut worst = Worst::default();
    for (target, which) in [
        ("decode_state", DecodeTarget::State),
        ("decode_delta", DecodeTarget::Delta),
        ("decode_header_valid", DecodeTarget::HeaderValid),
    ] {
        let mut accepted = 0;
        for kind in ["corpus", "regressions"] {
            for (path, data) in inputs(kind, target) {
                let (ok, peak) =
                    common::alloc::measure(|| fuzzing::decode_only(which, decoder, &data));
                let bound = common::alloc::c4_bound(data.len());
                assert!(
                    !enforce || peak <= bound,
                    "C4: {} ({} bytes) peaked at {peak} bytes > {bound}",
                    path.display(),
                    data.len()
                );
                let ratio = peak as f64 / data.len().max(1) as f64;
                if ratio > worst.ratio {
                    worst.ratio = ratio;
                    worst.path = path.display().to_string();
                    worst.len = data.len();
                    worst.peak = peak;
                }
                let share = peak as f64 / bound as f64;
                if share > worst.of_bound {
                    worst.of_bound = share;
                    worst.of_bound_len = data.len();
                }
                worst.inputs += 1;
                accepted += usize::from(ok);
            }
        }
        // The accepted-value checks of the target only run on accepted
        // inputs: a corpus without any would leave them untested.
        assert!(
            accepted > 0,
            "{target}: no corpus input is accepted by {decoder:?}"
        );
        println!("{target}: {accepted} inputs accepted by {decoder:?}");
    }
    assert!(worst.inputs > 0, "no decode corpora");
    println!(
        "{decoder:?}: {} inputs; max peak/len = {:.1} ({} bytes -> {} bytes peak, {}); \
         max peak/C4 bound = {:.3} (a {}-byte input)",
        worst.inputs,
        worst.ratio,
        worst.len,
        worst.peak,
        worst.path,
        worst.of_bound,
        worst.of_bound_len
    );
    worst
}

/// C4 (F11): the compact decoder holds at most `16 × len + 64 KiB` of heap
/// at once on every corpus input of the decode targets. Prints the largest
/// ratio of peak heap to input length.
#[test]
fn c4_allocation_bound_on_decode_corpora() {
    measure_decoding(Decoder::Compact, true);
}

/// C4's hard cap (`Limits::max_alloc`) on every corpus input of the decode
/// targets: under a cap of the input's length and of four times it, the
/// decode's peak never passes the cap (plus the slack of
/// `c4_hard_cap_bounds_every_flood` and, for `decode_header_valid`, the
/// harness's copy of the input behind a header).
#[test]
fn c4_hard_cap_on_decode_corpora() {
    let mut inputs_seen = 0;
    let mut refused = 0;
    for (target, which) in [
        ("decode_state", DecodeTarget::State),
        ("decode_delta", DecodeTarget::Delta),
        ("decode_header_valid", DecodeTarget::HeaderValid),
    ] {
        for kind in ["corpus", "regressions"] {
            for (path, data) in inputs(kind, target) {
                for cap in [data.len(), 4 * data.len()] {
                    let (ok, peak) = common::alloc::measure(|| {
                        fuzzing::decode_only(which, Decoder::CompactCapped(cap), &data)
                    });
                    let slack = (8 << 10) + data.len() + 8;
                    assert!(
                        peak <= cap + slack,
                        "{} ({} bytes): peak {peak} B under a cap of {cap} B",
                        path.display(),
                        data.len()
                    );
                    refused += usize::from(!ok);
                }
                inputs_seen += 1;
            }
        }
    }
    assert!(inputs_seen > 0, "no decode corpora");
    println!("hard cap: {inputs_seen} inputs, {refused} decodes refused or invalid");
}

/// The same measurement through postcard, for the record only: postcard
/// hands the crate's serde impls its declared lengths as size hints, and
/// serde's `Vec` impl preallocates up to 1 MiB per container from them, so
/// C4 is not a property of that path (see docs/testing.md).
#[test]
fn allocation_through_postcard_on_decode_corpora() {
    measure_decoding(Decoder::Postcard, false);
}

/// Writes the seed corpora (`fuzz/corpus/<target>/seed-NNN`).
#[test]
#[ignore = "writes files; run by hand to regenerate the seeds"]
fn generate_seed_corpora() {
    for target in fuzzing::TARGETS {
        let dir = fuzz_dir().join("corpus").join(target);
        fs::create_dir_all(&dir).unwrap();
        for (i, input) in fuzzing::seeds(target, 0xC0_4E46E).iter().enumerate() {
            // Every seed passes its own target.
            assert!(fuzzing::run_target(target, input));
            fs::write(dir.join(format!("seed-{i:03}")), input).unwrap();
        }
    }
}
