//! The lattice, delta and convergence laws (TESTPLAN a.1, a.3, b.1), run on
//! every type — nested maps included — through the one reusable checker in
//! `converge::laws`.
//!
//! Case counts come from the tier: `CONVERGE_TEST_TIER=ci` (default, 256
//! cases per property) or `long` (10,000). `PROPTEST_CASES` overrides both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use converge::laws::{
    check_any_delivery_order, check_delta_group, check_delta_since, check_join_laws, check_network,
    delivery_order, net_steps, replica_base, run_steps, steps, Replay,
};
use converge::{
    CausalCounter, Embedded, EwFlag, GCounter, List, LwwRegister, MvRegister, ObservedReset, OrMap,
    OrSet, PnCounter, RemoveWins, RwSet, Text, UpdateWins,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(match std::env::var("CONVERGE_TEST_TIER").as_deref() {
            Ok("long") => 10_000,
            _ => 256,
        });
    Config {
        cases,
        max_shrink_iters: 4096,
        rng_seed: seed(),
        ..Config::default()
    }
}

/// CI runs are reproducible: a fixed seed unless `CONVERGE_SEED` gives one;
/// the long tier explores a fresh seed each run (proptest records failures
/// in `proptest-regressions/`).
fn seed() -> RngSeed {
    match std::env::var("CONVERGE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(s) => RngSeed::Fixed(s),
        None if std::env::var("CONVERGE_TEST_TIER").as_deref() == Ok("long") => RngSeed::Random,
        None => RngSeed::Fixed(0x00C0_FFEE),
    }
}

fn script_len() -> std::ops::Range<usize> {
    match std::env::var("CONVERGE_TEST_TIER").as_deref() {
        Ok("long") => 0..512,
        _ => 0..64,
    }
}

/// Serde round trips (L12) in JSON and postcard, and canonical bytes: equal
/// states built in different orders serialise identically (L11). The same
/// for the compact encoding (F3), whose re-encoding is also stable.
fn check_serde<T>(x: &T, y: &T) -> Result<(), TestCaseError>
where
    T: Replay + converge::encoding::Encodable,
{
    let compact = converge::encoding::encode(x).unwrap();
    let back: T = converge::encoding::decode(&compact)
        .map_err(|e| TestCaseError::fail(format!("{e}: {compact:?}")))?;
    prop_assert_eq!(&back, x, "L12 compact round trip");
    prop_assert_eq!(
        converge::encoding::encode(&back).unwrap(),
        compact,
        "compact re-encoding is stable"
    );
    let xy = x.clone().joined(y.clone());
    let yx = y.clone().joined(x.clone());
    prop_assert_eq!(
        converge::encoding::encode(&xy).unwrap(),
        converge::encoding::encode(&yx).unwrap(),
        "L11 equal states have equal compact encodings"
    );

    let json = serde_json::to_string(x).unwrap();
    let back: T =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(&back, x, "L12 serde_json round trip");
    let bytes = postcard::to_allocvec(x).unwrap();
    let back: T = postcard::from_bytes(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(&back, x, "L12 postcard round trip");
    let xy = x.clone().joined(y.clone());
    let yx = y.clone().joined(x.clone());
    prop_assert_eq!(
        postcard::to_allocvec(&xy).unwrap(),
        postcard::to_allocvec(&yx).unwrap(),
        "L11 equal states encode to equal bytes"
    );
    Ok(())
}

macro_rules! law_suite {
    ($name:ident, $ty:ty) => {
        mod $name {
            use super::*;
            type T = $ty;

            proptest! {
                #![proptest_config(config())]

                /// L1–L6 on three replicas of one run (shared history and
                /// concurrency), with L7–L9 and I1–I4 checked on every step.
                #[test]
                fn l1_to_l9_lattice_and_delta_laws(
                    base in replica_base(),
                    script in steps::<T>(3, script_len()),
                ) {
                    let run = run_steps::<T>(3, base, &script).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let [x, y, z] = [&run.replicas[0], &run.replicas[1], &run.replicas[2]];
                    check_join_laws(x, y, z).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }

                /// D2 (delta groups) and D3 (any order, duplicates, resends)
                /// reach the state of full-state sync.
                #[test]
                fn d2_d3_deltas_in_any_order_reach_the_full_state_join(
                    base in replica_base(),
                    script in steps::<T>(3, script_len()),
                    order in delivery_order(),
                ) {
                    let run = run_steps::<T>(3, base, &script).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    check_any_delivery_order(&run, &order).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    for w in run.deltas.windows(2) {
                        check_delta_group(&run.replicas[0], &w[0].1, &w[1].1)
                            .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    }
                }

                /// D9: what a peer lacks, computed from its summary, is
                /// enough and minimal — for every ordered pair of replicas.
                #[test]
                fn d9_delta_since_a_summary(
                    base in replica_base(),
                    script in steps::<T>(3, script_len()),
                ) {
                    let run = run_steps::<T>(3, base, &script).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    for x in &run.replicas {
                        for y in &run.replicas {
                            check_delta_since(x, y).map_err(|e| TestCaseError::fail(e.to_string()))?;
                        }
                        check_delta_since(x, &T::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    }
                }

                /// L14 / SEC-1: replicas converge under reordered,
                /// duplicated, dropped-then-resent deliveries, with full-state
                /// and digest syncs mixed in, without partitions.
                #[test]
                fn l14_convergence_under_an_unreliable_network(
                    base in replica_base(),
                    schedule in net_steps::<T>(4, script_len(), false),
                ) {
                    check_network::<T>(4, base, &schedule).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }

                /// L14 with partitions that split and heal.
                #[test]
                fn l14_convergence_across_partitions(
                    base in replica_base(),
                    schedule in net_steps::<T>(5, script_len(), true),
                ) {
                    check_network::<T>(5, base, &schedule).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }

                /// L9, L11, L12, F3: every state and delta round-trips through
                /// serde (JSON and postcard) and the compact encoding, and
                /// equal states encode equally.
                #[test]
                fn l9_l11_l12_serde_round_trip_and_canonical_bytes(
                    base in replica_base(),
                    script in steps::<T>(3, script_len()),
                ) {
                    let run = run_steps::<T>(3, base, &script).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    check_serde(&run.replicas[0], &run.replicas[1])?;
                    for (_, d) in run.deltas.iter().take(8) {
                        check_serde(d, &run.replicas[2])?;
                    }
                }
            }
        }
    };
}

law_suite!(gcounter, GCounter);
law_suite!(pncounter, PnCounter);
law_suite!(causal_counter, CausalCounter);
law_suite!(lww_register, LwwRegister<u8>);
law_suite!(mv_register, MvRegister<u8>);
law_suite!(orset, OrSet<u8>);
law_suite!(rwset, RwSet<u8>);
law_suite!(ew_flag, EwFlag);
law_suite!(ormap_of_sets, OrMap<u8, OrSet<u8>>);
law_suite!(ormap_of_counters_update_wins, OrMap<u8, CausalCounter, UpdateWins>);
law_suite!(ormap_of_registers_remove_wins, OrMap<u8, MvRegister<u8>, RemoveWins>);
law_suite!(
    ormap_nested_three_levels,
    OrMap<u8, OrMap<u8, MvRegister<u8>, RemoveWins>, ObservedReset>
);
law_suite!(
    ormap_nested_update_wins_of_remove_wins_sets,
    OrMap<u8, OrMap<u8, RwSet<u8>, UpdateWins>, UpdateWins>
);
law_suite!(embedded_lww, Embedded<LwwRegister<u8>>);
law_suite!(embedded_gcounter, Embedded<GCounter>);
law_suite!(
    ormap_of_embedded_lww_remove_wins,
    OrMap<u8, Embedded<LwwRegister<u8>>, RemoveWins>
);
law_suite!(list, List<u8>);
law_suite!(text, Text);
law_suite!(ormap_of_embedded_text, OrMap<u8, Embedded<Text>>);
