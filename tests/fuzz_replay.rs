//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) and every crasher
//! (`fuzz/regressions/<target>/`) through the harness of
//! `converge::fuzzing`, so `cargo test --all-features` re-checks what the
//! fuzzers found (TESTPLAN b.4, F9, F12), and measures the C4 allocation
//! bound on every input of the decode targets (F11).
//!
//! `cargo test --all-features --test fuzz_replay -- --ignored
//! generate_seed_corpora` rewrites the seed files (`seed-*`) of every corpus
//! from `converge::fuzzing::seeds`.
#![cfg(feature = "fuzzing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use converge::fuzzing::{self, DecodeTarget};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
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

/// C4 (F11): decoding any corpus input of a decode target holds at most
/// `16 × len + 64 KiB` of heap at once. Prints the largest ratio of peak
/// heap to input length.
#[test]
fn c4_allocation_bound_on_decode_corpora() {
    let mut worst: (f64, String, usize, usize) = (0.0, String::new(), 0, 0);
    let mut n = 0;
    for (target, which) in [
        ("decode_state", DecodeTarget::State),
        ("decode_delta", DecodeTarget::Delta),
        ("decode_header_valid", DecodeTarget::HeaderValid),
    ] {
        for kind in ["corpus", "regressions"] {
            for (path, data) in inputs(kind, target) {
                let (_, peak) = common::alloc::measure(|| fuzzing::decode_only(which, &data));
                let bound = common::alloc::c4_bound(data.len());
                assert!(
                    peak <= bound,
                    "C4: {} ({} bytes) peaked at {peak} bytes > {bound}",
                    path.display(),
                    data.len()
                );
                let ratio = peak as f64 / data.len().max(1) as f64;
                if ratio > worst.0 {
                    worst = (ratio, path.display().to_string(), data.len(), peak);
                }
                n += 1;
            }
        }
    }
    assert!(n > 0, "no decode corpora");
    println!(
        "C4: {n} inputs; max peak/len = {:.1} ({} bytes -> {} bytes peak, {})",
        worst.0, worst.2, worst.3, worst.1
    );
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
