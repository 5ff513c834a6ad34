//! The fuzz corpus on the stable toolchain: every checked-in seed of the cargo-fuzz target
//! (`adapters/http/fuzz/corpus/http_command/`) and a few thousand deterministic mutations of
//! them (seeded RNG) go through the same harness as the fuzzer (`obliged_http::fuzzing`): each
//! input is sent as a filing and as a command to a complaint in a known state, and no answer
//! may be a 5xx, every refusal must be a problem that appended nothing, and every acceptance
//! must have appended exactly what it reports. The coverage-guided long run is `cargo fuzz`
//! (see the README).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use obliged_domain::{ComplaintCommand, PlainText};
use obliged_http::fuzzing::{CommandTarget, Outcome};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::support::{for_each_store, Backend, TestApp};

for_each_store!(the_corpus_and_its_mutations_keep_the_properties);

/// How many mutated inputs each run sends, after the seeds.
const MUTATIONS: usize = 2_000;
/// The seed of the mutations: the same inputs on every run, so a failure replays.
const SEED: u64 = 0x0b11_9ed5;

fn corpus_directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("adapters/http/fuzz/corpus/http_command")
}

/// The seeds, by file name, in a stable order.
pub(crate) fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_directory())
        .expect("the fuzz corpus is checked in")
        .map(|entry| {
            let path = entry.expect("a corpus entry").path();
            let name = path
                .file_stem()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("read a seed"))
        })
        .collect();
    seeds.sort();
    seeds
}

/// What a run saw, to show that the inputs reached every stage.
#[derive(Debug, Default)]
struct Tally {
    accepted_filings: usize,
    accepted_commands: BTreeMap<String, usize>,
    problems: BTreeMap<String, usize>,
}

impl Tally {
    fn count(&mut self, outcome: &Outcome, is_filing: bool) {
        match outcome {
            Outcome::Accepted(_) if is_filing => self.accepted_filings += 1,
            Outcome::Accepted(events) => {
                *self
                    .accepted_commands
                    .entry(events.first().cloned().unwrap_or_default())
                    .or_default() += 1;
            }
            Outcome::Refused { status, problem } => {
                *self
                    .problems
                    .entry(format!("{status} {problem}"))
                    .or_default() += 1;
            }
        }
    }
}

async fn the_corpus_and_its_mutations_keep_the_properties(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let mut target = CommandTarget::new(app.state.clone()).await;
    let corpus = corpus();
    assert!(corpus.len() >= 50, "the corpus lost its seeds");

    // Every valid seed reaches the engine: the filing is accepted, and each command is either
    // accepted or refused by a rule of the complaint (422), never by the decoder.
    let mut seeded_commands = BTreeSet::new();
    for (name, body) in &corpus {
        let verdict = target.check(body).await;
        let Some(command) = name.strip_prefix("valid-") else {
            continue;
        };
        if command == "FileComplaint" {
            assert!(
                matches!(verdict.filing, Outcome::Accepted(_)),
                "{name}: {verdict:?}"
            );
        } else {
            assert!(
                matches!(
                    verdict.command,
                    Outcome::Accepted(_) | Outcome::Refused { status: 422, .. }
                ),
                "{name} did not reach the engine: {verdict:?}"
            );
        }
        seeded_commands.insert(command.to_owned());
    }
    let every_command: BTreeSet<String> = ComplaintCommand::<PlainText>::NAMES
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    assert_eq!(seeded_commands, every_command, "a valid seed per command");

    let mut rng = StdRng::seed_from_u64(SEED);
    let mut tally = Tally::default();
    for _ in 0..MUTATIONS {
        let body = mutate(&corpus, &mut rng);
        let verdict = target.check(&body).await;
        tally.count(&verdict.filing, true);
        tally.count(&verdict.command, false);
    }

    // The mutations are no use if they all die in the decoder: many must get through, and the
    // refusals must come from every stage.
    // (The seed is fixed, so these counts are too: 10 filings, 150 commands of 17 kinds, 12
    // kinds of rule refusal when this was written. Every input also goes to the endpoint it
    // was not written for, hence the many unknown fields.)
    assert!(tally.accepted_filings >= 5, "{tally:#?}");
    let accepted: usize = tally.accepted_commands.values().sum();
    assert!(accepted >= 100, "{tally:#?}");
    assert!(tally.accepted_commands.len() >= 12, "{tally:#?}");
    for problem in [
        "400 malformed-json",
        "400 missing-field",
        "400 unknown-field",
        "400 invalid-field",
        "400 unknown-command",
    ] {
        assert!(
            tally.problems.contains_key(problem),
            "no {problem}: {tally:#?}"
        );
    }
    let rule_refusals = tally
        .problems
        .keys()
        .filter(|problem| problem.starts_with("422 "))
        .count();
    assert!(rule_refusals >= 8, "{tally:#?}");
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

/// One to three mutations of a random seed, most often of a valid one and most often one:
/// mostly structure-aware edits of its JSON (so that the result often still decodes and
/// reaches the engine), otherwise byte-level damage.
fn mutate(corpus: &[(String, Vec<u8>)], rng: &mut StdRng) -> Vec<u8> {
    let valid: Vec<&(String, Vec<u8>)> = corpus
        .iter()
        .filter(|(name, _)| name.starts_with("valid-"))
        .collect();
    let mut body = if rng.gen_bool(0.75) {
        valid.choose(rng).expect("valid seeds").1.clone()
    } else {
        corpus.choose(rng).expect("seeds").1.clone()
    };
    let rounds = [1, 1, 1, 1, 1, 1, 2, 2, 2, 3];
    for _ in 0..*rounds.choose(rng).expect("rounds") {
        body = if rng.gen_bool(0.85) {
            mutate_json(&body, corpus, rng).unwrap_or_else(|| mutate_bytes(body, corpus, rng))
        } else {
            mutate_bytes(body, corpus, rng)
        };
    }
    body
}

fn mutate_json(body: &[u8], corpus: &[(String, Vec<u8>)], rng: &mut StdRng) -> Option<Vec<u8>> {
    let Value::Object(mut object) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    // Edit the customer of a filing half of the time it has one.
    let edit_customer = object.get("customer").is_some_and(Value::is_object) && rng.gen_bool(0.5);
    let fields = if edit_customer {
        object
            .get_mut("customer")
            .and_then(Value::as_object_mut)
            .expect("checked")
    } else {
        &mut object
    };
    let key = fields
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .choose(rng)
        .cloned();
    match rng.gen_range(0..7) {
        0 | 1 => {
            if let Some(key) = key {
                fields.insert(key, nasty_value(rng));
            }
        }
        2 => {
            if let Some(key) = key {
                fields.remove(&key);
            }
        }
        3 => {
            let name = ["priority", "Type", "type ", "__proto__", "events", "owner"]
                .choose(rng)
                .expect("names");
            fields.insert((*name).to_owned(), nasty_value(rng));
        }
        4 => {
            let name = ComplaintCommand::<PlainText>::NAMES
                .choose(rng)
                .expect("names");
            fields.insert("type".to_owned(), json!(name));
        }
        5 => {
            // A field of another seed, which may belong to another command.
            let (_, other) = corpus.choose(rng).expect("seeds");
            if let Ok(Value::Object(other)) = serde_json::from_slice::<Value>(other) {
                if let Some((key, value)) = other.iter().collect::<Vec<_>>().choose(rng).cloned() {
                    fields.insert(key.clone(), value.clone());
                }
            }
        }
        _ => {
            if let Some(key) = key {
                if let Some(Value::String(text)) = fields.get_mut(&key) {
                    mutate_text(text, rng);
                }
            }
        }
    }
    Some(serde_json::to_vec(&Value::Object(object)).expect("a value serializes"))
}

fn mutate_text(text: &mut String, rng: &mut StdRng) {
    let mut characters: Vec<char> = text.chars().collect();
    let at = rng.gen_range(0..=characters.len());
    match rng.gen_range(0..4) {
        0 => characters.truncate(at),
        1 => characters.insert(
            at,
            *['\0', '\'', '"', '\\', ' ', 'é', '\u{202e}', '🦀', ':']
                .choose(rng)
                .expect("characters"),
        ),
        2 if !characters.is_empty() => {
            characters.remove(at.min(characters.len() - 1));
        }
        _ => characters.extend(characters.clone()),
    }
    *text = characters.into_iter().collect();
}

fn nasty_value(rng: &mut StdRng) -> Value {
    let deep = (0..130).fold(json!([]), |inner, _| json!([inner]));
    let values = [
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(u64::MAX),
        json!(1.5),
        json!(""),
        json!("   "),
        json!("x".repeat(PlainText::MAX_BYTES + 1)),
        json!("'; DROP TABLE events; --"),
        json!("\" OR 1=1 --"),
        json!("\u{0}"),
        json!("team:"),
        json!("team:billing"),
        json!("alice"),
        json!("2030-01-01T00:00:00Z"),
        json!("1970-01-01T00:00:00Z"),
        json!("9999-12-31T23:59:59Z"),
        json!("0192f0c4-7d5e-7000-8000-000000000001"),
        json!("0192f0c4-7d5e-7000-8000-0000000000f1"),
        json!("00000000-0000-0000-0000-000000000000"),
        json!("statutory-fee"),
        json!("inbound"),
        json!("outbound"),
        json!("phone"),
        json!("special-care"),
        json!("threat"),
        json!("police-report"),
        json!([]),
        json!({}),
        json!({"reference": "C-1", "name": "N"}),
        deep,
    ];
    values.choose(rng).expect("values").clone()
}

/// Bytes that matter to a JSON parser.
const INTERESTING_BYTES: &[u8] = b"\"\\{}[],:0-e .\n\x00\xff\xc3\xed";
/// Fragments that matter to a JSON parser or to the decoder.
const FRAGMENTS: &[&[u8]] = &[
    b"null",
    b"\"type\"",
    b"\"Close\"",
    b"\\u0000",
    b"\\ud800",
    b"1e999",
    b"-0",
    b"{\"type\":\"Close\"}",
    b"\xef\xbb\xbf",
    b"\xf0\x9f\xa6",
];

fn mutate_bytes(mut body: Vec<u8>, corpus: &[(String, Vec<u8>)], rng: &mut StdRng) -> Vec<u8> {
    let at = rng.gen_range(0..=body.len());
    match rng.gen_range(0..8) {
        0 if !body.is_empty() => {
            let index = at.min(body.len() - 1);
            body[index] ^= 1 << rng.gen_range(0..8);
        }
        1 if !body.is_empty() => {
            let index = at.min(body.len() - 1);
            body[index] = *INTERESTING_BYTES.choose(rng).expect("bytes");
        }
        2 => body.insert(at, *INTERESTING_BYTES.choose(rng).expect("bytes")),
        3 => {
            let end = rng.gen_range(at..=body.len().min(at + 16));
            body.drain(at..end);
        }
        4 => {
            let end = rng.gen_range(at..=body.len().min(at + 32));
            let copy = body[at..end].to_vec();
            body.splice(at..at, copy);
        }
        5 => body.truncate(at),
        6 => {
            let (_, other) = corpus.choose(rng).expect("seeds");
            let from = rng.gen_range(0..=other.len());
            body.truncate(at);
            body.extend_from_slice(&other[from..]);
        }
        _ => {
            let fragment = FRAGMENTS.choose(rng).expect("fragments");
            body.splice(at..at, fragment.iter().copied());
        }
    }
    body
}

#[test]
fn mutations_are_deterministic() {
    let corpus = corpus();
    let run = || {
        let mut rng = StdRng::seed_from_u64(SEED);
        (0..50)
            .map(|_| mutate(&corpus, &mut rng))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
    let distinct: BTreeSet<Vec<u8>> = run().into_iter().collect();
    assert!(distinct.len() > 40, "the mutations hardly differ");
}
