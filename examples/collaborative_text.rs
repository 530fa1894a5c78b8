//! Two editors type into one document at the same place while offline.
//!
//! ann and bob each hold a [`Node`] over a [`Text`]. They share meeting notes,
//! go offline, and both type a new line at the same position — keystroke by
//! keystroke, each keystroke its own edit — while bob also annotates a word
//! that ann has a comment on. Each editor keeps a cursor as an [`Anchor`];
//! the comment is a pair of anchors around the word.
//!
//! When they reconnect, the nodes exchange one delta interval each way (the
//! join of all keystrokes). The merged text is the same at both, each
//! passage is whole — concurrent inserts at one place never interleave
//! (FugueMax) — and every anchor still points where it did: each cursor at
//! the end of its owner's passage, the comment around the same word.
//!
//! Exits with status 1 if the replicas diverge, a passage is interleaved, or
//! an anchor moved.
//!
//! Run it with `cargo run --release --example collaborative_text`.

use converge::sync::{Message, Node, SyncConfig};
use converge::{Anchor, Bias, IndexError, ReplicaId, Text};
use serde::Serialize;

const ANN: ReplicaId = ReplicaId::new(1);
const BOB: ReplicaId = ReplicaId::new(2);

const NOTES: &str = "Meeting notes\n- budget: approved\n- hiring\n";
const ANN_LINE: &str = "- ann: ship v2 on friday\n";
const BOB_LINE: &str = "- bob: we need one more week 🙏\n";
const BOB_NOTE: &str = " (pending Q3 review)";

fn fail(why: &str) -> ! {
    println!("\nFAILED: {why}");
    std::process::exit(1);
}

fn encoded_len<S: Serialize>(value: &S) -> usize {
    match postcard::to_allocvec(value) {
        Ok(bytes) => bytes.len(),
        Err(e) => fail(&format!("cannot encode: {e}")),
    }
}

/// Char index of the first occurrence of `needle`.
fn find(text: &Text, needle: &str) -> Option<usize> {
    let s = text.to_string();
    s.find(needle).map(|byte| s[..byte].chars().count())
}

/// Types `s` one char at a time at `at`; returns the number of keystrokes.
fn type_at(node: &mut Node<Text>, at: usize, s: &str) -> Result<usize, IndexError> {
    let mut buf = [0u8; 4];
    for (i, c) in s.chars().enumerate() {
        let c: &str = c.encode_utf8(&mut buf);
        node.try_update(|t, r| t.insert(r, at + i, c))?;
    }
    Ok(s.chars().count())
}

/// Sends `from`'s pending message to `to`; returns its size in bytes.
fn send(from: &mut Node<Text>, to: &mut Node<Text>) -> usize {
    let Some(msg) = from.sync_to(to.id()) else {
        return 0;
    };
    let size = encoded_len(&msg);
    if let Message::Deltas { start, end, .. } = &msg {
        println!(
            "  {} -> {}: one delta interval, deltas {start}..{end}, {size} bytes",
            name(from.id()),
            name(to.id())
        );
    }
    let replies = to
        .receive(msg)
        .unwrap_or_else(|e| fail(&format!("{} rejected a message: {e}", name(to.id()))));
    for reply in replies {
        if let Err(e) = from.receive(reply) {
            fail(&format!("{} rejected a reply: {e}", name(from.id())));
        }
    }
    size
}

fn name(r: ReplicaId) -> &'static str {
    if r == ANN {
        "ann"
    } else {
        "bob"
    }
}

fn show(label: &str, text: &Text) {
    println!("  {label}:");
    for line in text.to_string().lines() {
        println!("    | {line}");
    }
}

/// Renders `text` with `|` at each cursor position.
fn with_cursors(text: &Text, cursors: &[(char, usize)]) -> String {
    let mut out = String::new();
    for (i, c) in text.to_string().chars().enumerate() {
        for (mark, at) in cursors {
            if *at == i {
                out.push(*mark);
            }
        }
        out.push(c);
    }
    out
}

fn resolve(text: &Text, anchor: &Anchor, what: &str) -> usize {
    text.resolve(anchor)
        .unwrap_or_else(|| fail(&format!("{what} does not resolve")))
}

fn run() -> Result<(), IndexError> {
    println!("Two editors, one text, typing at the same place offline\n");
    let config = SyncConfig::default();
    let mut ann: Node<Text> = Node::new(ANN, [BOB], config);
    let mut bob: Node<Text> = Node::new(BOB, [ANN], config);
    ann.try_update(|t, r| t.insert(r, 0, NOTES))?;
    println!("  t1 ann writes the notes");
    send(&mut ann, &mut bob);
    show("both have", bob.state());

    // ann comments on "budget": anchors around the word.
    let word = find(ann.state(), "budget").unwrap_or_else(|| fail("no budget"));
    let comment = (
        ann.state().anchor(word, Bias::Right)?,
        ann.state().anchor(word + "budget".len(), Bias::Left)?,
    );
    println!(
        "  t2 ann attaches a comment to \"budget\" (chars {word}..{})",
        word + 6
    );

    println!("\n  -- both go offline --");
    // Both start a new line right after the title, at the same index.
    let at = find(ann.state(), "- budget").unwrap_or_else(|| fail("no line"));
    let ann_keys = type_at(&mut ann, at, ANN_LINE)?;
    // Each cursor sits at the end of the typed line, before its newline.
    let ann_cursor = ann
        .state()
        .anchor(at + ANN_LINE.chars().count() - 1, Bias::Left)?;
    let bob_keys = type_at(&mut bob, at, BOB_LINE)?;
    let bob_cursor = bob
        .state()
        .anchor(at + BOB_LINE.chars().count() - 1, Bias::Left)?;
    // bob annotates the approval, right after "budget: approved".
    let after = find(bob.state(), "approved").unwrap_or_else(|| fail("no approved")) + 8;
    let note_keys = type_at(&mut bob, after, BOB_NOTE)?;
    // ann deletes the "- hiring" line.
    let hiring = find(ann.state(), "- hiring\n").unwrap_or_else(|| fail("no hiring"));
    ann.try_update(|t, r| t.delete(r, hiring..hiring + 9))?;
    println!(
        "  t3 ann types {ann_keys} keystrokes at char {at} and deletes \"- hiring\"; bob types {} keystrokes at char {at} and {} after \"approved\"",
        bob_keys, note_keys
    );
    show("ann sees", ann.state());
    show("bob sees", bob.state());

    println!("\n  -- they reconnect --");
    let bytes = send(&mut ann, &mut bob) + send(&mut bob, &mut ann);
    let merged = ann.state().to_string();
    let ann_at = resolve(ann.state(), &ann_cursor, "ann's cursor");
    let bob_at = resolve(ann.state(), &bob_cursor, "bob's cursor");
    let comment_at = (
        resolve(ann.state(), &comment.0, "the comment start"),
        resolve(ann.state(), &comment.1, "the comment end"),
    );
    show("t4 both now have", ann.state());
    println!(
        "  cursors (^ ann, ~ bob) and comment [ ]:\n    {}",
        with_cursors(
            ann.state(),
            &[
                ('^', ann_at),
                ('~', bob_at),
                ('[', comment_at.0),
                (']', comment_at.1)
            ]
        )
        .trim_end()
        .replace('\n', "\n    ")
    );
    println!(
        "\n  {} keystrokes merged with {bytes} bytes in 2 messages (plus 2 acks)",
        ann_keys + bob_keys + note_keys
    );

    // Checks.
    if ann.state() != bob.state() {
        fail("the editors diverged");
    }
    for passage in [ANN_LINE, BOB_LINE, "approved (pending Q3 review)"] {
        if !merged.contains(passage) {
            fail(&format!(
                "the passage {passage:?} is not whole in the merge"
            ));
        }
    }
    if merged.contains("- hiring") {
        fail("a deleted line came back");
    }
    let chars: Vec<char> = merged.chars().collect();
    let slice = |r: std::ops::Range<usize>| chars[r].iter().collect::<String>();
    let ann_end = find(ann.state(), ANN_LINE).map(|i| i + ANN_LINE.chars().count() - 1);
    let bob_end = find(ann.state(), BOB_LINE).map(|i| i + BOB_LINE.chars().count() - 1);
    if Some(ann_at) != ann_end || Some(bob_at) != bob_end {
        fail("a cursor is no longer at the end of its owner's passage");
    }
    if slice(comment_at.0..comment_at.1) != "budget" {
        fail("the comment no longer covers \"budget\"");
    }
    for (who, node) in [("ann", &ann), ("bob", &bob)] {
        let same = [&ann_cursor, &bob_cursor, &comment.0, &comment.1]
            .iter()
            .all(|a| node.state().resolve(a) == ann.state().resolve(a));
        if !same {
            fail(&format!("anchors resolve differently at {who}"));
        }
    }
    println!("  passages whole: yes; deleted line gone: yes; cursors and comment in place at both editors: yes");
    println!("\nOK: the editors converged without interleaving, and every anchor survived.");
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        fail(&format!("an edit was out of range: {e}"));
    }
}
