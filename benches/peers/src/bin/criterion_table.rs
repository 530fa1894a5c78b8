//! Turns the medians of a `cargo bench` run into markdown tables with ratios
//! to each group's plain baseline.
//!
//! ```text
//! cd /path/to/converge && cargo bench
//! cd benches/peers && cargo run --release --bin criterion_table [-- ../../target/criterion]
//! ```
//!
//! Reads `<dir>/<group>/<function>/<size>/new/{benchmark,estimates}.json`.

#[path = "../format.rs"]
mod format;
use format::fmt_ns;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Function names that are plain baselines (one per group).
const BASELINES: [&str; 5] = ["hashset", "hashmap", "u64", "option", "vec"];

fn read_json(path: &Path) -> Option<serde_json::Value> {
    let text = fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Every `new/benchmark.json` below `dir`.
fn find(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "base" || n == "change") {
                continue;
            }
            find(&p, out);
        } else if p.file_name().is_some_and(|n| n == "benchmark.json")
            && p.parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "new")
        {
            out.push(p);
        }
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("../../target/criterion"), PathBuf::from);
    let mut files = Vec::new();
    find(&dir, &mut files);
    if files.is_empty() {
        eprintln!("no criterion results under {}", dir.display());
        std::process::exit(1);
    }
    // group -> size -> function -> median ns
    let mut groups: BTreeMap<String, BTreeMap<u64, BTreeMap<String, f64>>> = BTreeMap::new();
    for f in files {
        let (Some(meta), Some(est)) = (
            read_json(&f),
            f.parent()
                .and_then(|p| read_json(&p.join("estimates.json"))),
        ) else {
            continue;
        };
        let group = meta["group_id"].as_str().unwrap_or_default().to_string();
        let function = meta["function_id"].as_str().unwrap_or_default().to_string();
        let size = meta["value_str"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or_default();
        let Some(median) = est["median"]["point_estimate"].as_f64() else {
            continue;
        };
        groups
            .entry(group)
            .or_default()
            .entry(size)
            .or_default()
            .insert(function, median);
    }
    for (group, sizes) in &groups {
        let mut functions: Vec<&String> = sizes.values().flat_map(|m| m.keys()).collect();
        functions.sort_by_key(|f| (BASELINES.contains(&f.as_str()), f.as_str()));
        functions.dedup();
        let baseline = functions
            .iter()
            .find(|f| BASELINES.contains(&f.as_str()))
            .copied();
        println!("#### `{group}`\n");
        let mut header = String::from("| n |");
        let mut rule = String::from("| ---: |");
        for f in &functions {
            header.push_str(&format!(" `{f}` |"));
            rule.push_str(" ---: |");
        }
        println!("{header}\n{rule}");
        for (size, medians) in sizes {
            let base = baseline.and_then(|b| medians.get(b)).copied();
            let mut line = format!("| {size} |");
            for f in &functions {
                match (medians.get(*f), base) {
                    (Some(&m), Some(b)) if Some(*f) != baseline && b > 0.0 => {
                        line.push_str(&format!(" {} ({:.1}×) |", fmt_ns(m), m / b));
                    }
                    (Some(&m), _) => line.push_str(&format!(" {} |", fmt_ns(m))),
                    (None, _) => line.push_str(" – |"),
                }
            }
            println!("{line}");
        }
        println!();
    }
    println!("Medians; the factor in parentheses is the ratio to the plain baseline (last column) at the same n.");
}
