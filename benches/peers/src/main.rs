//! converge vs crdts 7.3.2 vs plain collections, same workloads, one process.
//!
//! ```text
//! cd benches/peers && cargo run --release            # 11 runs, n = 100,000
//! cargo run --release -- --runs 21 --n 100000
//! ```
//!
//! Every timing is the median of `runs` runs (after one warm-up run); setup
//! (building inputs, cloning states) is outside the timed region and so is
//! dropping the result. Memory is counted by a `#[global_allocator]` that
//! tracks the bytes requested from the system allocator and still live (the
//! allocator's own per-block overhead is not included; the number of live
//! blocks is printed so it can be estimated).

mod counting;
mod format;
use format::fmt_ns;

use std::hint::black_box;
use std::time::{Duration, Instant};

use converge::{
    CausalCounter, DeltaSince, GCounter, Lattice, LwwRegister, MvRegister, OrMap, OrSet, PnCounter,
    ReplicaId,
};
use crdts::{CmRDT, CvRDT};


// ---------------------------------------------------------------------------
// Timing

struct Config {
    runs: usize,
    n: u64,
}

/// One timed run: builds its input, times the routine, drops the output.
type Job<'a> = Box<dyn FnMut() -> Duration + 'a>;

/// Workloads timed together: run `i` of every job happens before run `i + 1`
/// of any, so a change in machine load affects all of them alike.
#[derive(Default)]
struct Jobs<'a> {
    jobs: Vec<Job<'a>>,
}

impl<'a> Jobs<'a> {
    /// Adds `routine(setup())`; only `routine` is timed. Returns its index.
    fn add<S, R>(
        &mut self,
        mut setup: impl FnMut() -> S + 'a,
        mut routine: impl FnMut(S) -> R + 'a,
    ) -> usize {
        self.jobs.push(Box::new(move || {
            let input = setup();
            let start = Instant::now();
            let out = black_box(routine(black_box(input)));
            let elapsed = start.elapsed();
            drop(out);
            elapsed
        }));
        self.jobs.len() - 1
    }

    /// Median of `cfg.runs` interleaved runs of every job, after one warm-up.
    fn run(mut self, cfg: &Config) -> Vec<Duration> {
        let mut times = vec![Vec::with_capacity(cfg.runs); self.jobs.len()];
        for run in 0..=cfg.runs {
            for (job, t) in self.jobs.iter_mut().zip(&mut times) {
                let elapsed = job();
                if run > 0 {
                    t.push(elapsed);
                }
            }
        }
        times
            .into_iter()
            .map(|mut t| {
                t.sort_unstable();
                t[t.len() / 2]
            })
            .collect()
    }
}

/// A duration with three significant digits in a readable unit.
fn fmt_time(d: Duration) -> String {
    fmt_ns(d.as_secs_f64() * 1e9)
}

fn fmt_opt(d: Option<Duration>) -> String {
    d.map_or_else(|| "–".into(), fmt_time)
}

fn ratio(num: Option<Duration>, den: Option<Duration>) -> String {
    match (num, den) {
        (Some(a), Some(b)) if b.as_nanos() > 0 => {
            let r = a.as_secs_f64() / b.as_secs_f64();
            if r >= 10.0 {
                format!("{r:.0}×")
            } else {
                format!("{r:.2}×")
            }
        }
        _ => "–".into(),
    }
}

/// One row of the timing table; `T` is a job index until the jobs have run.
struct Row<T = Duration> {
    workload: String,
    converge: Option<T>,
    crdts: Option<T>,
    plain: Option<T>,
    plain_name: &'static str,
}

/// Runs the jobs and turns the job indices of `pending` into medians.
fn finish(cfg: &Config, jobs: Jobs<'_>, pending: Vec<Row<usize>>, rows: &mut Vec<Row>) {
    let t = jobs.run(cfg);
    rows.extend(pending.into_iter().map(|r| Row {
        workload: r.workload,
        converge: r.converge.map(|i| t[i]),
        crdts: r.crdts.map(|i| t[i]),
        plain: r.plain.map(|i| t[i]),
        plain_name: r.plain_name,
    }));
}

fn print_rows(rows: &[Row]) {
    println!("| workload | converge | crdts 7.3.2 | plain baseline | converge ÷ plain | crdts ÷ converge |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        let plain = match r.plain {
            Some(d) => format!("{} ({})", fmt_time(d), r.plain_name),
            None => "–".into(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.workload,
            fmt_opt(r.converge),
            fmt_opt(r.crdts),
            plain,
            ratio(r.converge, r.plain),
            ratio(r.crdts, r.converge),
        );
    }
}

// ---------------------------------------------------------------------------
// Builders (identical inputs for both libraries)

const R1: ReplicaId = ReplicaId::new(1);
const R2: ReplicaId = ReplicaId::new(2);

type Orswot = crdts::Orswot<u64, u64>;

fn cv_set(r: ReplicaId, xs: std::ops::Range<u64>) -> OrSet<u64> {
    let mut s = OrSet::new();
    for x in xs {
        black_box(s.insert(r, x));
    }
    s
}

fn cr_set(actor: u64, xs: std::ops::Range<u64>) -> Orswot {
    let mut s = Orswot::new();
    for x in xs {
        let ctx = s.read_ctx().derive_add_ctx(actor);
        let op = s.add(x, ctx);
        s.apply(op);
    }
    s
}

fn hb_set(xs: std::ops::Range<u64>) -> hashbrown::HashSet<u64> {
    let mut s = hashbrown::HashSet::new();
    for x in xs {
        s.insert(x);
    }
    s
}

fn std_set(xs: std::ops::Range<u64>) -> std::collections::HashSet<u64> {
    let mut s = std::collections::HashSet::new();
    for x in xs {
        s.insert(x);
    }
    s
}

type CrMvMap = crdts::Map<u64, crdts::MVReg<u64, u64>, u64>;
type CrCounterMap = crdts::Map<u64, crdts::GCounter<u64>, u64>;
type CvMvMap = OrMap<u64, MvRegister<u64>>;
type CvCounterMap = OrMap<u64, CausalCounter>;

fn cv_mv_map(r: ReplicaId, keys: std::ops::Range<u64>) -> CvMvMap {
    let mut m = OrMap::new();
    for k in keys {
        black_box(m.update(r, k, |v: &mut MvRegister<u64>| v.write(r, k)));
    }
    m
}

fn cr_mv_map(actor: u64, keys: std::ops::Range<u64>) -> CrMvMap {
    let mut m = CrMvMap::new();
    for k in keys {
        let ctx = m.read_ctx().derive_add_ctx(actor);
        let op = m.update(k, ctx, |reg, ctx| reg.write(k, ctx));
        m.apply(op);
    }
    m
}

fn cv_counter_map(r: ReplicaId, keys: std::ops::Range<u64>) -> CvCounterMap {
    let mut m = OrMap::new();
    for k in keys {
        black_box(m.update(r, k, |c: &mut CausalCounter| {
            c.increment(r, 1).unwrap_or_default()
        }));
    }
    m
}

fn cr_counter_map(actor: u64, keys: std::ops::Range<u64>) -> CrCounterMap {
    let mut m = CrCounterMap::new();
    for k in keys {
        let ctx = m.read_ctx().derive_add_ctx(actor);
        let op = m.update(k, ctx, |c, _| c.inc(actor));
        m.apply(op);
    }
    m
}

fn hb_map(keys: std::ops::Range<u64>) -> hashbrown::HashMap<u64, u64> {
    let mut m = hashbrown::HashMap::new();
    for k in keys {
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

fn bincode_len<T: serde::Serialize>(x: &T) -> usize {
    bincode::serialized_size(x).map_or(0, |n| n as usize)
}

fn postcard_len<T: serde::Serialize>(x: &T) -> usize {
    postcard::to_allocvec(x).map_or(0, |v| v.len())
}

// ---------------------------------------------------------------------------
// Workloads

fn sets(cfg: &Config, rows: &mut Vec<Row>) {
    let n = cfg.n;
    let mut js = Jobs::default();
    let mut pending = Vec::new();
    let cv = js.add(|| (), move |()| cv_set(R1, 0..n));
    let cr = js.add(|| (), move |()| cr_set(1, 0..n));
    let hb = js.add(|| (), move |()| hb_set(0..n));
    let st = js.add(|| (), move |()| std_set(0..n));
    pending.push(Row {
        workload: format!("{n} `u64` set adds (OrSet / Orswot)"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: Some(hb),
        plain_name: "hashbrown HashSet",
    });
    pending.push(Row {
        workload: format!("{n} `u64` set adds, std `HashSet` (SipHash) for reference"),
        converge: None,
        crdts: None,
        plain: Some(st),
        plain_name: "std HashSet",
    });

    let (a, b) = (cv_set(R1, 0..n), cv_set(R2, n / 2..3 * n / 2));
    let (ca, cb) = (cr_set(1, 0..n), cr_set(2, n / 2..3 * n / 2));
    let (ha, hb2) = (hb_set(0..n), hb_set(n / 2..3 * n / 2));
    {
        // Sanity: both libraries agree on the merged contents.
        let m = a.clone().joined(b.clone());
        let mut cm = ca.clone();
        cm.merge(cb.clone());
        assert_eq!(m.len(), cm.read().val.len());
        assert_eq!(m.len() as u64, 3 * n / 2);
    }
    let cv = js.add(
        move || (a.clone(), b.clone()),
        move |(mut x, y)| {
            x.join(y);
            x
        },
    );
    let cr = js.add(
        move || (ca.clone(), cb.clone()),
        move |(mut x, y)| {
            x.merge(y);
            x
        },
    );
    let hb = js.add(
        move || (ha.clone(), hb2.clone()),
        move |(mut x, y)| {
            x.extend(y);
            x
        },
    );
    pending.push(Row {
        workload: format!("merge two {n}-element sets, half overlap"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: Some(hb),
        plain_name: "HashSet extend",
    });

    // Sync: what a peer missing 1% of the elements lacks.
    let missing = n / 100;
    let peer = cv_set(R1, 0..n - missing);
    let mut full = peer.clone();
    for x in n - missing..n {
        black_box(full.insert(R1, x));
    }
    let summary = peer.summary();
    let cv = js.add(|| (), move |()| full.delta_since(&summary));
    let (hfull, hpeer) = (hb_set(0..n), hb_set(0..n - missing));
    let hb = js.add(
        move || (),
        move |()| hfull.difference(&hpeer).copied().collect::<Vec<u64>>(),
    );
    pending.push(Row {
        workload: format!("`delta_since` a peer missing 1% of {n} elements (crdts: no equivalent)"),
        converge: Some(cv),
        crdts: None,
        plain: Some(hb),
        plain_name: "HashSet difference",
    });
    finish(cfg, js, pending, rows);
}

fn registers(cfg: &Config, rows: &mut Vec<Row>) {
    let n = cfg.n;
    let mut js = Jobs::default();
    let mut pending = Vec::new();
    // One round: both replicas write concurrently, then each merges the other.
    let cv_delta = js.add(
        move || (),
        move |()| {
            let (mut x, mut y) = (MvRegister::new(), MvRegister::new());
            for i in 0..n {
                let dx = x.write(R1, 2 * i);
                let dy = y.write(R2, 2 * i + 1);
                x.join(dy);
                y.join(dx);
            }
            (x, y)
        },
    );
    let cv_state = js.add(
        move || (),
        move |()| {
            let (mut x, mut y) = (MvRegister::new(), MvRegister::new());
            for i in 0..n {
                let _ = x.write(R1, 2 * i);
                let _ = y.write(R2, 2 * i + 1);
                let (sx, sy) = (x.clone(), y.clone());
                x.join(sy);
                y.join(sx);
            }
            (x, y)
        },
    );
    let cr_op = js.add(
        move || (),
        move |()| {
            let (mut x, mut y) = (crdts::MVReg::<u64, u64>::new(), crdts::MVReg::new());
            for i in 0..n {
                let ox = x.write(2 * i, x.read_ctx().derive_add_ctx(1));
                let oy = y.write(2 * i + 1, y.read_ctx().derive_add_ctx(2));
                x.apply(ox.clone());
                y.apply(oy.clone());
                x.apply(oy);
                y.apply(ox);
            }
            (x, y)
        },
    );
    let cr_state = js.add(
        move || (),
        move |()| {
            let (mut x, mut y) = (crdts::MVReg::<u64, u64>::new(), crdts::MVReg::new());
            for i in 0..n {
                let ox = x.write(2 * i, x.read_ctx().derive_add_ctx(1));
                x.apply(ox);
                let oy = y.write(2 * i + 1, y.read_ctx().derive_add_ctx(2));
                y.apply(oy);
                let (sx, sy) = (x.clone(), y.clone());
                x.merge(sy);
                y.merge(sx);
            }
            (x, y)
        },
    );
    let plain = js.add(|| (), move |()| plain_rounds(n));
    {
        // Sanity: both end with the two concurrent siblings.
        let (mut x, mut y) = (MvRegister::new(), MvRegister::new());
        let (mut cx, mut cy) = (crdts::MVReg::<u64, u64>::new(), crdts::MVReg::new());
        for i in 0..3 {
            let (dx, dy) = (x.write(R1, 2 * i), y.write(R2, 2 * i + 1));
            x.join(dy);
            y.join(dx);
            let ox = cx.write(2 * i, cx.read_ctx().derive_add_ctx(1));
            let oy = cy.write(2 * i + 1, cy.read_ctx().derive_add_ctx(2));
            cx.apply(ox.clone());
            cy.apply(oy.clone());
            cx.apply(oy);
            cy.apply(ox);
        }
        let mut mine: Vec<u64> = x.values().copied().collect();
        let mut theirs = cx.read().val;
        mine.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(mine, theirs);
    }
    pending.push(Row {
        workload: format!("{n} MV-register write+merge rounds, deltas / ops"),
        converge: Some(cv_delta),
        crdts: Some(cr_op),
        plain: Some(plain),
        plain_name: "Option replace",
    });
    pending.push(Row {
        workload: format!("{n} MV-register write+merge rounds, full states"),
        converge: Some(cv_state),
        crdts: Some(cr_state),
        plain: Some(plain),
        plain_name: "Option replace",
    });

    // LWW: n local writes, then n write+merge rounds.
    let cv = js.add(
        move || (),
        move |()| {
            let mut x = LwwRegister::new();
            for i in 0..n {
                black_box(x.write(R1, i, i + 1).ok());
            }
            x
        },
    );
    let cr = js.add(
        move || (),
        move |()| {
            let mut x = crdts::LWWReg {
                val: 0u64,
                marker: 0u64,
            };
            for i in 0..n {
                x.update(black_box(i), i + 1);
            }
            x
        },
    );
    let pl = js.add(
        move || (),
        move |()| {
            let mut x = None;
            for i in 0..n {
                black_box(x.replace(black_box(i)));
            }
            x
        },
    );
    pending.push(Row {
        workload: format!("{n} LWW-register writes"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: Some(pl),
        plain_name: "Option replace",
    });
    let cv = js.add(
        move || (),
        move |()| {
            let (mut x, mut y) = (LwwRegister::new(), LwwRegister::new());
            for i in 0..n {
                let dx = x.write(R1, 2 * i, 2 * i + 1).ok();
                let dy = y.write(R2, 2 * i + 1, 2 * i + 2).ok();
                if let (Some(dx), Some(dy)) = (dx, dy) {
                    x.join(dy);
                    y.join(dx);
                }
            }
            (x, y)
        },
    );
    let cr = js.add(
        move || (),
        move |()| {
            // Markers `(timestamp, actor)`, as converge's stamps.
            let mut x = crdts::LWWReg {
                val: 0u64,
                marker: (0u64, 0u64),
            };
            let mut y = x.clone();
            for i in 0..n {
                x.update(black_box(2 * i), (2 * i + 1, 1));
                y.update(black_box(2 * i + 1), (2 * i + 2, 2));
                let (sx, sy) = (x.clone(), y.clone());
                x.merge(sy);
                y.merge(sx);
            }
            (x, y)
        },
    );
    pending.push(Row {
        workload: format!("{n} LWW-register write+merge rounds"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: Some(plain),
        plain_name: "Option replace",
    });
    finish(cfg, js, pending, rows);
}

fn plain_rounds(n: u64) -> (Option<u64>, Option<u64>) {
    let (mut x, mut y) = (None, None);
    for i in 0..n {
        black_box(x.replace(black_box(2 * i)));
        black_box(y.replace(black_box(2 * i + 1)));
        let m = x.max(y);
        x = black_box(m);
        y = black_box(m);
    }
    (x, y)
}

fn counters(cfg: &Config, rows: &mut Vec<Row>) {
    let n = cfg.n;
    let mut js = Jobs::default();
    let mut pending = Vec::new();
    let plain_inc = js.add(
        move || (),
        move |()| {
            let mut s = 0u64;
            for _ in 0..n {
                s = black_box(s + black_box(1));
            }
            s
        },
    );
    let cv = js.add(
        move || (),
        move |()| {
            let mut c = GCounter::new();
            for _ in 0..n {
                black_box(c.increment(R1, 1).ok());
            }
            c
        },
    );
    let cr = js.add(
        move || (),
        move |()| {
            let mut c = crdts::GCounter::<u64>::new();
            for _ in 0..n {
                let op = c.inc(black_box(1));
                c.apply(op);
            }
            c
        },
    );
    pending.push(Row {
        workload: format!("{n} G-counter increments"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: Some(plain_inc),
        plain_name: "u64 +=",
    });
    let cv = js.add(
        move || (),
        move |()| {
            let mut c = PnCounter::new();
            for i in 0..n {
                if i % 2 == 0 {
                    black_box(c.increment(R1, 1).ok());
                } else {
                    black_box(c.decrement(R1, 1).ok());
                }
            }
            c
        },
    );
    let cr = js.add(
        move || (),
        move |()| {
            let mut c = crdts::PNCounter::<u64>::new();
            for i in 0..n {
                let op = if i % 2 == 0 {
                    c.inc(black_box(1))
                } else {
                    c.dec(black_box(1))
                };
                c.apply(op);
            }
            c
        },
    );
    pending.push(Row {
        workload: format!("{n} PN-counter increments/decrements (alternating)"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: Some(plain_inc),
        plain_name: "u64 +=",
    });

    // Merge of two counters with n replica entries each, half shared.
    let cv_g =
        |rs: std::ops::Range<u64>| GCounter::from_entries(rs.map(|r| (ReplicaId::new(r), r + 1)));
    let cr_g = |rs: std::ops::Range<u64>| {
        let mut c = crdts::GCounter::<u64>::new();
        for r in rs {
            let op = c.inc_many(r, r + 1);
            c.apply(op);
        }
        c
    };
    let (a, b) = (cv_g(0..n), cv_g(n / 2..3 * n / 2));
    let (ca, cb) = (cr_g(0..n), cr_g(n / 2..3 * n / 2));
    {
        let m = a.clone().joined(b.clone());
        let mut cm = ca.clone();
        cm.merge(cb.clone());
        assert_eq!(m.value().to_string(), cm.read().to_string());
    }
    let cv = js.add(
        move || (a.clone(), b.clone()),
        move |(mut x, y)| {
            x.join(y);
            x
        },
    );
    let cr = js.add(
        move || (ca.clone(), cb.clone()),
        move |(mut x, y)| {
            x.merge(y);
            x
        },
    );
    let len = (3 * n / 2) as usize;
    let dense = |rs: std::ops::Range<u64>| {
        let mut v = vec![0u64; len];
        for r in rs {
            v[r as usize] = r + 1;
        }
        v
    };
    let (pa, pb) = (dense(0..n), dense(n / 2..3 * n / 2));
    let pl = js.add(
        move || (pa.clone(), pb.clone()),
        move |(mut x, y)| {
            for (a, b) in x.iter_mut().zip(&y) {
                *a = (*a).max(*b);
            }
            x
        },
    );
    pending.push(Row {
        workload: format!("merge two G-counters with {n} replica entries, half shared"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: Some(pl),
        plain_name: "dense Vec max",
    });
    let cv_pn = |rs: std::ops::Range<u64>| {
        let mut c = PnCounter::new();
        for r in rs {
            let id = ReplicaId::new(r);
            black_box(c.increment(id, 2 * r + 2).ok());
            black_box(c.decrement(id, r + 1).ok());
        }
        c
    };
    let cr_pn = |rs: std::ops::Range<u64>| {
        let mut c = crdts::PNCounter::<u64>::new();
        for r in rs {
            let op = c.inc_many(r, 2 * r + 2);
            c.apply(op);
            let op = c.dec_many(r, r + 1);
            c.apply(op);
        }
        c
    };
    let (a, b) = (cv_pn(0..n), cv_pn(n / 2..3 * n / 2));
    let (ca, cb) = (cr_pn(0..n), cr_pn(n / 2..3 * n / 2));
    let cv = js.add(
        move || (a.clone(), b.clone()),
        move |(mut x, y)| {
            x.join(y);
            x
        },
    );
    let cr = js.add(
        move || (ca.clone(), cb.clone()),
        move |(mut x, y)| {
            x.merge(y);
            x
        },
    );
    pending.push(Row {
        workload: format!("merge two PN-counters with {n} replica entries, half shared"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: None,
        plain_name: "",
    });
    finish(cfg, js, pending, rows);
}

fn maps(cfg: &Config, rows: &mut Vec<Row>) {
    let n = cfg.n;
    let mut js = Jobs::default();
    let mut pending = Vec::new();
    let plain = js.add(|| (), move |()| hb_map(0..n));
    let cv = js.add(|| (), move |()| cv_mv_map(R1, 0..n));
    let cr = js.add(|| (), move |()| cr_mv_map(1, 0..n));
    pending.push(Row {
        workload: format!("update {n} keys of a map of MV-registers"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: Some(plain),
        plain_name: "hashbrown HashMap",
    });
    let cv = js.add(|| (), move |()| cv_counter_map(R1, 0..n));
    let cr = js.add(|| (), move |()| cr_counter_map(1, 0..n));
    pending.push(Row {
        workload: format!("update {n} keys of a map of counters (CausalCounter / GCounter)"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: Some(plain),
        plain_name: "hashbrown HashMap",
    });

    let (a, b) = (cv_mv_map(R1, 0..n), cv_mv_map(R2, n / 2..3 * n / 2));
    let (ca, cb) = (cr_mv_map(1, 0..n), cr_mv_map(2, n / 2..3 * n / 2));
    {
        let m = a.clone().joined(b.clone());
        let mut cm = ca.clone();
        cm.merge(cb.clone());
        assert_eq!(m.len(), cm.len().val);
    }
    let cv = js.add(
        move || (a.clone(), b.clone()),
        move |(mut x, y)| {
            x.join(y);
            x
        },
    );
    let cr = js.add(
        move || (ca.clone(), cb.clone()),
        move |(mut x, y)| {
            x.merge(y);
            x
        },
    );
    let (ha, hb) = (hb_map(0..n), hb_map(n / 2..3 * n / 2));
    let pl = js.add(
        move || (ha.clone(), hb.clone()),
        move |(mut x, y)| {
            x.extend(y);
            x
        },
    );
    pending.push(Row {
        workload: format!("merge two {n}-key maps of MV-registers, half overlap"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: Some(pl),
        plain_name: "HashMap extend",
    });

    // Remove every key, one at a time.
    let (a, ca, ha) = (cv_mv_map(R1, 0..n), cr_mv_map(1, 0..n), hb_map(0..n));
    let cv = js.add(
        move || a.clone(),
        move |mut m| {
            for k in 0..n {
                black_box(m.remove(R1, &k));
            }
            m
        },
    );
    let cr = js.add(
        move || ca.clone(),
        move |mut m| {
            for k in 0..n {
                let ctx = m.read_ctx().derive_rm_ctx();
                let op = m.rm(k, ctx);
                m.apply(op);
            }
            m
        },
    );
    let pl = js.add(
        move || ha.clone(),
        move |mut m| {
            for k in 0..n {
                black_box(m.remove(&k));
            }
            m
        },
    );
    pending.push(Row {
        workload: format!("remove all {n} keys of a map of MV-registers, one by one"),
        converge: Some(cv),
        crdts: Some(cr),
        plain: Some(pl),
        plain_name: "HashMap remove",
    });
    finish(cfg, js, pending, rows);
}

/// Where the time of an `OrSet::insert` goes: the same n inserts into plain
/// tables with 8-byte and with 32-byte buckets (an `OrSet<u64>` bucket is a
/// `u64` and a 24-byte `SmallVec<[Dot; 1]>`), and n allocations and frees of
/// a delta-shaped pair (a one-entry hash table of 32-byte buckets and a
/// one-entry vector), which is what each returned delta costs.
fn breakdown(cfg: &Config) {
    type Ranges = smallvec::SmallVec<[(u64, u64); 1]>;
    type Wide = hashbrown::HashMap<u64, Ranges>;
    let n = cfg.n;
    let mut js = Jobs::default();
    let orset = js.add(|| (), move |()| cv_set(R1, 0..n));
    let narrow = js.add(|| (), move |()| hb_set(0..n));
    let wide = js.add(
        || (),
        move |()| {
            let mut m = Wide::new();
            for x in 0..n {
                m.insert(x, smallvec::smallvec![(1, x)]);
            }
            m
        },
    );
    let delta = js.add(
        || (),
        move |()| {
            for x in 0..n {
                let mut m = Wide::new();
                m.insert(black_box(x), smallvec::smallvec![(1, x)]);
                let v: Vec<(u64, Ranges)> = vec![(1, smallvec::smallvec![(x, x)])];
                black_box((m, v));
            }
        },
    );
    let t = js.run(cfg);
    let per = |d: Duration| format!("{:.1} ns", d.as_secs_f64() * 1e9 / n as f64);
    println!("| where an `OrSet<u64>` insert's time goes ({n} inserts) | per insert |");
    println!("| --- | ---: |");
    println!(
        "| `OrSet::insert` (delta returned and dropped) | {} |",
        per(t[orset])
    );
    println!(
        "| `HashSet<u64>::insert` (8-byte buckets) | {} |",
        per(t[narrow])
    );
    println!(
        "| `HashMap<u64, SmallVec<[(u64, u64); 1]>>::insert` (32-byte buckets, as `OrSet`) | {} |",
        per(t[wide])
    );
    println!(
        "| allocate and free a delta-shaped one-entry table + one-entry vector | {} |",
        per(t[delta])
    );
}

// ---------------------------------------------------------------------------
// Memory and encodings

fn memory(cfg: &Config) {
    let n = cfg.n;
    let nf = n as f64;
    println!("| structure after {n} adds / updates | live bytes per element | live allocations per element |");
    println!("| --- | ---: | ---: |");
    let line = |name: &str, bytes: i64, blocks: i64| {
        println!(
            "| {name} | {:.1} | {:.2} |",
            bytes as f64 / nf,
            blocks as f64 / nf
        );
    };
    let (s, b, k) = counting::live_after(|| cv_set(R1, 0..n));
    line("converge `OrSet<u64>`", b, k);
    drop(s);
    let (s, b, k) = counting::live_after(|| cr_set(1, 0..n));
    line("crdts `Orswot<u64, u64>`", b, k);
    drop(s);
    let (s, b, k) = counting::live_after(|| hb_set(0..n));
    line("hashbrown `HashSet<u64>`", b, k);
    drop(s);
    let (s, b, k) = counting::live_after(|| std_set(0..n));
    line("std `HashSet<u64>`", b, k);
    drop(s);
    let (s, b, k) = counting::live_after(|| cv_mv_map(R1, 0..n));
    line("converge `OrMap<u64, MvRegister<u64>>`", b, k);
    drop(s);
    let (s, b, k) = counting::live_after(|| cr_mv_map(1, 0..n));
    line("crdts `Map<u64, MVReg<u64, u64>, u64>`", b, k);
    drop(s);
    let (s, b, k) = counting::live_after(|| cv_counter_map(R1, 0..n));
    line("converge `OrMap<u64, CausalCounter>`", b, k);
    drop(s);
    let (s, b, k) = counting::live_after(|| cr_counter_map(1, 0..n));
    line("crdts `Map<u64, GCounter<u64>, u64>`", b, k);
    drop(s);
    let (s, b, k) = counting::live_after(|| hb_map(0..n));
    line("hashbrown `HashMap<u64, u64>`", b, k);
    drop(s);

    // The same sets just after the hash table doubled: the least favourable
    // element count near n (hashbrown keeps the load factor ≤ 7/8).
    let buckets = (n * 8 / 7).next_power_of_two();
    let worst = buckets * 7 / 8 + 1;
    let wf = worst as f64;
    let line = |name: &str, bytes: i64, blocks: i64| {
        println!(
            "| {name}, {worst} elements (just after a resize) | {:.1} | {:.2} |",
            bytes as f64 / wf,
            blocks as f64 / wf
        );
    };
    let (s, b, k) = counting::live_after(|| cv_set(R1, 0..worst));
    line("converge `OrSet<u64>`", b, k);
    drop(s);
    let (s, b, k) = counting::live_after(|| cr_set(1, 0..worst));
    line("crdts `Orswot<u64, u64>`", b, k);
    drop(s);
    let (s, b, k) = counting::live_after(|| hb_set(0..worst));
    line("hashbrown `HashSet<u64>`", b, k);
    drop(s);
}

fn encodings(cfg: &Config) {
    let n = cfg.n;
    let nf = n as f64;
    let cv = cv_set(R1, 0..n);
    let cr = cr_set(1, 0..n);
    let plain: Vec<u64> = (0..n).collect();
    println!("| encoding of a {n}-element set | bincode 1 | postcard 1 |");
    println!("| --- | ---: | ---: |");
    println!(
        "| converge `OrSet<u64>` (bytes per element) | {:.2} | {:.2} |",
        bincode_len(&cv) as f64 / nf,
        postcard_len(&cv) as f64 / nf
    );
    println!(
        "| crdts `Orswot<u64, u64>` (bytes per element) | {:.2} | {:.2} |",
        bincode_len(&cr) as f64 / nf,
        postcard_len(&cr) as f64 / nf
    );
    println!(
        "| plain `Vec<u64>` (bytes per element) | {:.2} | {:.2} |",
        bincode_len(&plain) as f64 / nf,
        postcard_len(&plain) as f64 / nf
    );
    let cvm = cv_mv_map(R1, 0..n);
    let crm = cr_mv_map(1, 0..n);
    println!(
        "| converge `OrMap<u64, MvRegister<u64>>` (bytes per key) | {:.2} | {:.2} |",
        bincode_len(&cvm) as f64 / nf,
        postcard_len(&cvm) as f64 / nf
    );
    println!(
        "| crdts `Map<u64, MVReg<u64, u64>, u64>` (bytes per key) | {:.2} | {:.2} |",
        bincode_len(&crm) as f64 / nf,
        postcard_len(&crm) as f64 / nf
    );
    println!();

    // One add's delta (converge) / op (crdts), added to the n-element set.
    let (mut cv, mut cr) = (cv, cr);
    println!("| one add to a {n}-element set, element `x` | bincode 1 | postcard 1 |");
    println!("| --- | ---: | ---: |");
    for x in [n, u64::MAX / 3, 7u64] {
        let what = if x < n {
            format!("x = {x} (re-add of a present element)")
        } else {
            format!("x = {x} (new element)")
        };
        let delta = cv.insert(R1, x);
        let op = cr.add(x, cr.read_ctx().derive_add_ctx(1));
        println!(
            "| converge `OrSet::insert` delta, {what} | {} | {} |",
            bincode_len(&delta),
            postcard_len(&delta)
        );
        println!(
            "| crdts `Orswot::add` op, {what} | {} | {} |",
            bincode_len(&op),
            postcard_len(&op)
        );
        cr.apply(op);
    }
    let delta = cv_counter_map(R1, 0..n).update(R1, n, |c| c.increment(R1, 1).unwrap_or_default());
    println!(
        "| converge `OrMap<u64, CausalCounter>` update delta | {} | {} |",
        bincode_len(&delta),
        postcard_len(&delta)
    );
    let delta = cv_mv_map(R1, 0..n).update(R1, n, |v| v.write(R1, n));
    println!(
        "| converge `OrMap<u64, MvRegister<u64>>` update delta | {} | {} |",
        bincode_len(&delta),
        postcard_len(&delta)
    );
    let mut m = cr_mv_map(1, 0..n);
    let ctx = m.read_ctx().derive_add_ctx(1);
    let op = m.update(n, ctx, |reg, ctx| reg.write(n, ctx));
    println!(
        "| crdts `Map<u64, MVReg>` update op | {} | {} |",
        bincode_len(&op),
        postcard_len(&op)
    );
    m.apply(op);
}

fn main() {
    let mut cfg = Config {
        runs: 11,
        n: 100_000,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().and_then(|v| v.parse::<u64>().ok());
        match (a.as_str(), v) {
            ("--runs", Some(v)) if v > 0 => cfg.runs = v as usize,
            ("--n", Some(v)) if v >= 100 => cfg.n = v,
            _ => {
                eprintln!(
                    "usage: converge-peers [--runs R (default 11)] [--n N ≥ 100 (default 100000)]"
                );
                std::process::exit(2);
            }
        }
    }
    println!(
        "Medians of {} runs (plus one warm-up), n = {}, `cargo run --release`.\n",
        cfg.runs, cfg.n
    );
    // First, while the allocator's heap is fresh (see `breakdown`).
    breakdown(&cfg);
    println!();
    let mut rows = Vec::new();
    sets(&cfg, &mut rows);
    registers(&cfg, &mut rows);
    counters(&cfg, &mut rows);
    maps(&cfg, &mut rows);
    print_rows(&rows);
    println!();
    memory(&cfg);
    println!();
    encodings(&cfg);
}
