//! Three replicas, three threads, loopback TCP: the same sans-IO protocol over
//! a real socket.
//!
//! Each replica is a thread that owns a [`Node`] over a room-booking document
//! (`OrMap<room, OrSet<attendee>>`) and one TCP connection (`std::net`) to
//! each other replica. Frames are a 4-byte little-endian length followed by
//! the compact encoding (`converge::encoding`) of a protocol [`Message`]; an
//! empty frame means "done". Received bytes are decoded with the crate's
//! hostile-input guards and validated before the node sees them.
//! A reader thread per connection decodes frames into a channel; the replica
//! thread writes, sends each peer [`Node::sync_to`] every tick, and answers
//! what arrives with the replies [`Node::receive`] returns.
//!
//! Midway, replica 2 crashes and restarts: its delta buffer and the
//! acknowledgements it had received are lost ([`Node::restart`]); its state,
//! delta counter and acknowledgements sent are durable, so it loses nothing
//! and its next message to each peer is its full state.
//!
//! A replica that has finished writing and whose deltas every peer
//! acknowledged sends "done"; it stops once every peer said "done" (every
//! peer's deltas are then joined here). The main thread compares the three
//! final states and exits with status 1 if they differ, a replica rejected a
//! message, or the run exceeds its deadline.
//!
//! Run it with `cargo run --release --example tcp_replicas`.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use converge::encoding;
use converge::sync::{Message, Node, SyncConfig};
use converge::{OrMap, OrSet, ReplicaId, Validate};

/// room -> attendees.
type Doc = OrMap<String, OrSet<String>>;

/// What travels in one frame.
enum Frame {
    /// A protocol message.
    Sync(Box<Message<Doc>>),
    /// The sender has finished writing and every peer acknowledged its deltas.
    Done,
}

const NAMES: [&str; 3] = ["replica-1", "replica-2", "replica-3"];
const WRITES: usize = 300;
const WRITES_PER_TICK: usize = 6;
const TICK: Duration = Duration::from_millis(2);
/// Replica 2 (index 1) restarts after this many of its writes.
const RESTART_AFTER: usize = 150;
const DEADLINE: Duration = Duration::from_secs(20);
const ROOMS: [&str; 6] = ["4B", "5A", "aula", "lab", "roof", "cafe"];
/// Largest frame accepted.
const MAX_FRAME: usize = 16 << 20;

fn id(i: usize) -> ReplicaId {
    ReplicaId::new(i as u64 + 1)
}

/// xorshift64.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn write_frame(stream: &mut TcpStream, frame: &Frame) -> io::Result<usize> {
    let payload = match frame {
        Frame::Sync(m) => encoding::encode(m.as_ref()).map_err(io::Error::other)?,
        Frame::Done => Vec::new(),
    };
    let len = u32::try_from(payload.len()).map_err(io::Error::other)?;
    stream.write_all(&len.to_le_bytes())?;
    stream.write_all(&payload)?;
    Ok(4 + payload.len())
}

fn read_frame(stream: &mut TcpStream) -> io::Result<Frame> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::other(format!("frame of {len} bytes")));
    }
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload)?;
    if payload.is_empty() {
        return Ok(Frame::Done);
    }
    // Decoding validates every invariant of the payload.
    let message = encoding::decode::<Message<Doc>>(&payload).map_err(io::Error::other)?;
    Ok(Frame::Sync(Box::new(message)))
}

/// Per-replica traffic and outcome.
#[derive(Default)]
struct Report {
    writes: usize,
    frames_sent: usize,
    bytes_sent: usize,
    frames_received: usize,
    states_sent: usize,
    error: Option<String>,
    state: Doc,
    millis: u128,
}

/// Prints a timeline line.
fn log(start: Instant, me: usize, what: &str) {
    println!(
        "  {:>5.1} ms  {:<9}  {what}",
        start.elapsed().as_secs_f64() * 1000.0,
        NAMES[me]
    );
}

/// Connects replica `me` to every other: it dials the replicas after it and
/// accepts the ones before it. Each connection starts with the dialer's index.
fn connect(
    me: usize,
    listener: &TcpListener,
    addrs: &[std::net::SocketAddr],
) -> io::Result<Vec<(usize, TcpStream)>> {
    let mut streams = Vec::new();
    for (peer, addr) in addrs.iter().enumerate().skip(me + 1) {
        let mut s = TcpStream::connect(addr)?;
        s.write_all(&[me as u8])?;
        streams.push((peer, s));
    }
    for _ in 0..me {
        let (mut s, _) = listener.accept()?;
        let mut who = [0u8; 1];
        s.read_exact(&mut who)?;
        streams.push((usize::from(who[0]), s));
    }
    for (_, s) in &streams {
        s.set_nodelay(true)?;
    }
    Ok(streams)
}

/// One replica's whole life.
fn replica(
    me: usize,
    listener: TcpListener,
    addrs: Vec<std::net::SocketAddr>,
    start: Instant,
) -> Report {
    let mut report = Report::default();
    if let Err(e) = run(me, &listener, &addrs, start, &mut report) {
        report.error = Some(e);
    }
    report.millis = start.elapsed().as_millis();
    report
}

fn run(
    me: usize,
    listener: &TcpListener,
    addrs: &[std::net::SocketAddr],
    start: Instant,
    report: &mut Report,
) -> Result<(), String> {
    let n = addrs.len();
    let streams = connect(me, listener, addrs).map_err(|e| format!("connect: {e}"))?;
    log(start, me, &format!("connected to {} peers", streams.len()));
    let (tx, rx) = mpsc::channel::<(usize, Frame)>();
    let mut writers: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
    for (peer, stream) in streams {
        let mut reader = stream.try_clone().map_err(|e| format!("clone: {e}"))?;
        let tx = tx.clone();
        thread::spawn(move || {
            // Ends at EOF or on a broken frame; the replica notices missing peers by the deadline.
            while let Ok(frame) = read_frame(&mut reader) {
                if tx.send((peer, frame)).is_err() {
                    break;
                }
            }
        });
        writers[peer] = Some(stream);
    }
    drop(tx);

    let mut node: Node<Doc> = Node::new(id(me), (0..n).map(id), SyncConfig::default());
    let mut rng = Rng(0x7c9_0000 + me as u64 * 7919);
    let mut done_from = vec![false; n];
    done_from[me] = true;
    let mut done_sent = false;
    let mut send = |peer: usize, frame: &Frame, report: &mut Report| -> Result<(), String> {
        let Some(stream) = writers[peer].as_mut() else {
            return Err(format!("no connection to {}", NAMES[peer]));
        };
        let bytes =
            write_frame(stream, frame).map_err(|e| format!("send to {}: {e}", NAMES[peer]))?;
        report.frames_sent += 1;
        report.bytes_sent += bytes;
        if matches!(frame, Frame::Sync(m) if matches!(**m, Message::State { .. })) {
            report.states_sent += 1;
        }
        Ok(())
    };

    loop {
        if start.elapsed() > DEADLINE {
            return Err("deadline exceeded".to_owned());
        }
        // Local writes: book or cancel attendees.
        for _ in 0..WRITES_PER_TICK.min(WRITES - report.writes) {
            let room = ROOMS[rng.below(ROOMS.len())].to_owned();
            let present = node.state().get(&room).map(OrSet::to_sorted_vec);
            let cancel = present.filter(|p| !p.is_empty() && rng.below(4) == 0);
            match cancel {
                Some(people) => {
                    let who = people[rng.below(people.len())].clone();
                    node.update(|doc, r| doc.update(r, room, |set| set.remove(&who)));
                }
                None => {
                    let who = format!("{}.{}", me + 1, report.writes);
                    node.update(|doc, r| doc.update(r, room, |set| set.insert(r, who)));
                }
            }
            report.writes += 1;
            if me == 1 && report.writes == RESTART_AFTER {
                node.restart();
                log(start, me, &format!(
                    "crash and restart after {RESTART_AFTER} writes: delta buffer and received acks lost; state, seq {} and acks sent kept",
                    node.seq()
                ));
            }
            if report.writes == WRITES {
                log(start, me, &format!("finished its {WRITES} writes"));
            }
        }
        // Anti-entropy: what each peer lacks.
        for peer in (0..n).filter(|&p| p != me) {
            if let Some(msg) = node.sync_to(id(peer)) {
                send(peer, &Frame::Sync(Box::new(msg)), report)?;
            }
        }
        let all_acked = (0..n).all(|p| p == me || node.sync_to(id(p)).is_none());
        if report.writes == WRITES && all_acked && !done_sent {
            for peer in (0..n).filter(|&p| p != me) {
                send(peer, &Frame::Done, report)?;
            }
            done_sent = true;
            log(start, me, "every peer acknowledged every delta: sent done");
        }
        if done_sent && done_from.iter().all(|&d| d) {
            log(start, me, "every peer is done: stopping");
            report.state = node.state().clone();
            return Ok(());
        }
        // Handle what arrived during one tick.
        let until = Instant::now() + TICK;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let (peer, frame) = match rx.recv_timeout(left) {
                Ok(x) => x,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err("every connection closed early".to_owned())
                }
            };
            report.frames_received += 1;
            match frame {
                Frame::Done => done_from[peer] = true,
                Frame::Sync(msg) => {
                    let replies = node
                        .receive(*msg)
                        .map_err(|e| format!("rejected a message from {}: {e}", NAMES[peer]))?;
                    for reply in replies {
                        send(peer, &Frame::Sync(Box::new(reply)), report)?;
                    }
                }
            }
        }
    }
}

fn main() {
    println!(
        "Three replicas over loopback TCP: length-prefixed frames of sync::Message in the compact encoding\n"
    );
    let listeners: Vec<TcpListener> = match (0..NAMES.len())
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect()
    {
        Ok(l) => l,
        Err(e) => fail(&format!("cannot listen on loopback: {e}")),
    };
    let addrs: Vec<std::net::SocketAddr> = listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .unwrap_or_else(|e| fail(&format!("local_addr: {e}")))
        })
        .collect();
    for (i, a) in addrs.iter().enumerate() {
        println!("  {} listens on {a}", NAMES[i]);
    }
    let start = Instant::now();
    let handles: Vec<_> = listeners
        .into_iter()
        .enumerate()
        .map(|(me, listener)| {
            let addrs = addrs.clone();
            thread::spawn(move || replica(me, listener, addrs, start))
        })
        .collect();
    let mut reports = Vec::new();
    for h in handles {
        match h.join() {
            Ok(r) => reports.push(r),
            Err(_) => fail("a replica thread panicked"),
        }
    }

    println!("\n== summary ==");
    let mut ok = true;
    for (i, r) in reports.iter().enumerate() {
        println!(
            "  {:<9} {} writes; sent {} frames ({:.1} kB, {} full states); received {}; stopped at {} ms",
            NAMES[i],
            r.writes,
            r.frames_sent,
            r.bytes_sent as f64 / 1000.0,
            r.states_sent,
            r.frames_received,
            r.millis
        );
        if let Some(e) = &r.error {
            println!("    ERROR: {e}");
            ok = false;
        } else if let Err(e) = r.state.check_invariants() {
            println!("    ERROR: invariant broken: {e}");
            ok = false;
        }
    }
    let equal = reports.windows(2).all(|w| w[0].state == w[1].state);
    let doc = &reports[0].state;
    let mut rooms: Vec<(&String, usize)> = doc.iter().map(|(k, v)| (k, v.len())).collect();
    rooms.sort();
    let rooms: Vec<String> = rooms.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    println!("  final bookings per room: {}", rooms.join(", "));
    println!(
        "  the three final states are {}",
        if equal { "equal" } else { "DIFFERENT" }
    );
    if !ok || !equal {
        fail("the replicas did not converge");
    }
    println!("\nOK: three replicas converged over TCP.");
}

fn fail(why: &str) -> ! {
    println!("\nFAILED: {why}");
    std::process::exit(1);
}
