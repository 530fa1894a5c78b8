//! Settings shared by the criterion benches (`mod common;` in each).

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, SamplingMode, Throughput};

/// The state sizes every family is measured at.
pub(crate) const SIZES: [u64; 3] = [1_000, 10_000, 100_000];

/// Short, size-dependent measurement settings so the whole suite stays fast;
/// `elements` is the throughput unit count of one iteration.
pub(crate) fn configure(g: &mut BenchmarkGroup<'_, WallTime>, n: u64, elements: u64) {
    g.throughput(Throughput::Elements(elements));
    g.warm_up_time(Duration::from_millis(500));
    match n {
        0..=1_000 => {
            g.sample_size(20)
                .measurement_time(Duration::from_secs(1))
                .sampling_mode(SamplingMode::Auto);
        }
        1_001..=10_000 => {
            g.sample_size(15)
                .measurement_time(Duration::from_millis(1500))
                .sampling_mode(SamplingMode::Auto);
        }
        _ => {
            g.sample_size(10)
                .measurement_time(Duration::from_secs(2))
                .sampling_mode(SamplingMode::Flat);
        }
    }
}
