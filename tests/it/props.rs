//! Property tests (issue #7): the case loader, the recording loader and the replay index take
//! any input without panicking or hanging, and every error says where it is.
//!
//! Inputs are arbitrary bytes and text, and mutations of the real case and recording files:
//! lines deleted, duplicated or re-indented, values swapped or replaced by huge numbers, YAML
//! oddities or random unicode, structures nested thousands deep, alias bombs. Each input runs
//! on its own thread with a deadline, so a hang fails the test instead of stalling it. Case
//! counts keep the module within a few seconds in a debug build; each test prints how many
//! inputs it tried (the figures in BENCHMARKS.md).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

use conform::case::{CaseError, load_suite};
use conform::exchange::Request;
use conform::matching::{Observed, Start, evaluate};
use conform::recording::{Recording, load_recording, load_recordings};
use conform::replay::{Answer, Replay, request_from_parts};
use conform::vars::Vars;

use crate::support::root;

/// Far above what one input takes in a debug build (milliseconds); only a hang reaches it.
const DEADLINE: Duration = Duration::from_secs(20);

/// `cases` by default; `PROPTEST_CASES` asks for a longer run (`PROPTEST_CASES=100000`).
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    Config {
        // Shrinking a failure is worth a little time; a hang must not multiply it.
        max_shrink_iters: 200,
        // No regression files written into the work tree.
        failure_persistence: None,
        ..Config::with_cases(cases)
    }
}

/// Inputs tried, how many were rejected (or missed), and the slowest one.
#[derive(Default)]
struct Tally {
    tried: AtomicUsize,
    rejected: AtomicUsize,
    slowest: Mutex<Duration>,
}

impl Tally {
    fn note(&self, took: Duration) {
        let mut slowest = self.slowest.lock().unwrap();
        *slowest = (*slowest).max(took);
    }

    /// The line BENCHMARKS.md quotes.
    fn report(&self, what: &str, rejected: &str, started: Instant) {
        eprintln!(
            "props: {what}: {} inputs tried, {} {rejected}, slowest input {:.1?}, {:.1?} in all",
            self.tried.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
            *self.slowest.lock().unwrap(),
            started.elapsed()
        );
    }
}

/// Runs `f` on its own thread: a panic or a hang becomes a test failure that names the input.
fn within<T: Send + 'static>(
    tally: &Tally,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, TestCaseError> {
    tally.tried.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let received = rx.recv_timeout(DEADLINE);
    tally.note(started.elapsed());
    match received {
        Ok(v) => Ok(v),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(TestCaseError::fail(format!(
            "{what} did not return within {DEADLINE:?}"
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(TestCaseError::fail(format!("{what} panicked")))
        }
    }
}

// ---- Mutating YAML text ----

/// One edit of a YAML file. Indices pick a line or a character position at apply time.
#[derive(Clone, Debug)]
enum Edit {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapValues(Index, Index),
    SetValue(Index, String),
    Insert(Index, String),
    Indent(Index, i8),
    Truncate(Index),
    Nest(Index, usize, Nesting),
    Bomb(Index),
}

#[derive(Clone, Copy, Debug)]
enum Nesting {
    FlowSeq,
    FlowMap,
    Block,
}

/// Byte offset where the value of a `key: value` or `- value` line starts.
fn value_start(line: &str) -> Option<usize> {
    if let Some(i) = line.find(": ") {
        return Some(i + 2);
    }
    let trimmed = line.trim_start();
    trimmed
        .starts_with("- ")
        .then(|| line.len() - trimmed.len() + 2)
}

fn set_value(line: &str, value: &str) -> String {
    match value_start(line) {
        Some(i) => format!("{}{value}", &line[..i]),
        None if line.trim_end().ends_with(':') => format!("{} {value}", line.trim_end()),
        None => value.to_owned(),
    }
}

fn char_boundary(text: &str, at: &Index) -> usize {
    let count = text.chars().count();
    let n = at.index(count + 1);
    text.char_indices()
        .map(|(b, _)| b)
        .nth(n)
        .unwrap_or(text.len())
}

fn nested(kind: Nesting, depth: usize, indent: usize) -> String {
    match kind {
        Nesting::FlowSeq => format!("{}1{}", "[".repeat(depth), "]".repeat(depth)),
        Nesting::FlowMap => format!("{}1{}", "{a: ".repeat(depth), "}".repeat(depth)),
        Nesting::Block => {
            // Block nesting grows quadratically in bytes; a few hundred levels is plenty.
            let depth = depth.min(300);
            let mut s = String::new();
            for k in 1..=depth {
                s.push('\n');
                s.push_str(&" ".repeat(indent + 2 * k));
                s.push_str("a:");
            }
            s.push_str(" 1");
            s
        }
    }
}

/// A flow sequence whose last item expands to 9^9 scalars (the "billion laughs").
fn alias_bomb() -> String {
    let mut items = vec![format!("&b0 [{}]", ["lol"; 9].join(", "))];
    for k in 1..9 {
        items.push(format!(
            "&b{k} [{}]",
            vec![format!("*b{}", k - 1); 9].join(", ")
        ));
    }
    items.push("*b8".into());
    format!("[{}]", items.join(", "))
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let n = lines.len();
    match edit {
        Edit::DeleteLine(i) => {
            lines.remove(i.index(n));
        }
        Edit::DuplicateLine(i) => {
            let k = i.index(n);
            lines.insert(k, lines[k].clone());
        }
        Edit::SwapValues(a, b) => {
            let (a, b) = (a.index(n), b.index(n));
            let va = value_start(&lines[a]).map(|i| lines[a][i..].to_owned());
            let vb = value_start(&lines[b]).map(|i| lines[b][i..].to_owned());
            if let (Some(va), Some(vb)) = (va, vb) {
                lines[a] = set_value(&lines[a], &vb);
                lines[b] = set_value(&lines[b], &va);
            } else {
                lines.swap(a, b);
            }
        }
        Edit::SetValue(i, v) => {
            let k = i.index(n);
            lines[k] = set_value(&lines[k], v);
        }
        Edit::Insert(at, s) => {
            let mut text = text.to_owned();
            text.insert_str(char_boundary(&text, at), s);
            return text;
        }
        Edit::Indent(i, d) => {
            let k = i.index(n);
            let line = &lines[k];
            lines[k] = match d {
                0 => format!("\t{line}"),
                d if *d > 0 => format!("{}{line}", " ".repeat(*d as usize)),
                d => {
                    let lead = line.len() - line.trim_start_matches(' ').len();
                    line[lead.min(d.unsigned_abs() as usize)..].to_owned()
                }
            };
        }
        Edit::Truncate(at) => return text[..char_boundary(text, at)].to_owned(),
        Edit::Nest(i, depth, kind) => {
            let k = i.index(n);
            let indent = lines[k].len() - lines[k].trim_start().len();
            lines[k] = set_value(&lines[k], &nested(*kind, *depth, indent));
        }
        Edit::Bomb(i) => {
            // Where a JSON value is read (a body, vars), so the aliases would be expanded.
            let k = lines
                .iter()
                .position(|l| {
                    let t = l.trim_start();
                    t.starts_with("body:") || t.starts_with("assessmentRunName:")
                })
                .unwrap_or_else(|| i.index(n));
            lines[k] = set_value(&lines[k], &alias_bomb());
        }
    }
    lines.join("\n")
}

/// Values that stress a YAML reader or a case checker.
fn odd_value() -> impl Strategy<Value = String> {
    const SPECIAL: &[&str] = &[
        "99999999999999999999999999999999999999",
        "18446744073709551616",
        "-9223372036854775809",
        "1e999",
        "-1e999",
        "4.9e-325",
        "200.5",
        "0x1F4",
        "0o777",
        ".inf",
        "-.inf",
        ".nan",
        "~",
        "null",
        "true",
        "yes",
        "''",
        "\"\"",
        "[]",
        "{}",
        "[",
        "{",
        "'",
        "\"",
        "\"\\uD800\"",
        "*undefined",
        "&anchor",
        "!!binary aGk=",
        "!!str 200",
        "!!int x",
        "!custom x",
        "|",
        ">-",
        "? complex",
        "- item",
        "--- ",
        "...",
        "%YAML 1.2",
        "{{template_arn}}",
        "{{nope}}",
        "'{{'",
        "{ regex: '(' }",
        "{ regex: 'a{1000}{1000}{1000}' }",
        "{ matches: nope }",
        "{ matches: '[' }",
        "{ length: { min: 5, max: 1 } }",
        "{ length: { min: -1 } }",
        "{ not: }",
        "{ each: 1 }",
        "{ all_of: [] }",
        "{ one_of: [] }",
        "{ type: nothing }",
        "{ literal: {} }",
        "{ regex: x, matches: uuid }",
        "header:",
        "$.",
        "$[99999999999999999999]",
        "$.a[",
    ];
    prop_oneof![
        3 => proptest::sample::select(SPECIAL).prop_map(str::to_owned),
        1 => "[1-9][0-9]{20,400}",
        1 => "-?[0-9]{1,3}\\.[0-9]{1,3}e[+-]?[0-9]{3,6}",
        2 => any::<String>(),
        1 => "\\PC{0,40}",
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    let nesting = prop_oneof![
        Just(Nesting::FlowSeq),
        Just(Nesting::FlowMap),
        Just(Nesting::Block)
    ];
    prop_oneof![
        30 => any::<Index>().prop_map(Edit::DeleteLine),
        20 => any::<Index>().prop_map(Edit::DuplicateLine),
        30 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapValues(a, b)),
        60 => (any::<Index>(), odd_value()).prop_map(|(i, v)| Edit::SetValue(i, v)),
        30 => (any::<Index>(), any::<String>()).prop_map(|(i, s)| Edit::Insert(i, s)),
        20 => (any::<Index>(), -4i8..=4).prop_map(|(i, d)| Edit::Indent(i, d)),
        10 => any::<Index>().prop_map(Edit::Truncate),
        // Far past the YAML reader's recursion limit (128). Deeper costs time, not coverage:
        // libyaml's flow parsing is quadratic in depth (20 000 levels take a second).
        20 => (any::<Index>(), 1usize..3_000, nesting).prop_map(|(i, d, k)| Edit::Nest(i, d, k)),
        // Rare: the YAML reader's alias limit stops a bomb, but only after ~0.2 s in debug.
        1 => any::<Index>().prop_map(Edit::Bomb),
    ]
}

/// The content of the file under test: bytes, text, or a real file after some edits.
#[derive(Clone, Debug)]
enum Content {
    Bytes(Vec<u8>),
    Text(String),
    Mutated { seed: Index, edits: Vec<Edit> },
}

fn content() -> impl Strategy<Value = Content> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..2048).prop_map(Content::Bytes),
        1 => any::<String>().prop_map(Content::Text),
        8 => (any::<Index>(), proptest::collection::vec(edit(), 1..5))
            .prop_map(|(seed, edits)| Content::Mutated { seed, edits }),
    ]
}

impl Content {
    fn bytes(&self, seeds: &[String]) -> Vec<u8> {
        match self {
            Content::Bytes(b) => b.clone(),
            Content::Text(t) => t.clone().into_bytes(),
            Content::Mutated { seed, edits } => edits
                .iter()
                .fold(seeds[seed.index(seeds.len())].clone(), |t, e| apply(&t, e))
                .into_bytes(),
        }
    }
}

fn yaml_files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = dirs.to_vec();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The error's own rendering names where it is: `path:line:column`, or the file alone.
fn check_located(e: &CaseError, source: &[u8]) -> Result<(), TestCaseError> {
    let shown = e.to_string();
    let file = e.file.display();
    if e.line == 0 {
        prop_assert!(
            shown.contains(&format!("--> {file}")),
            "no file in:\n{shown}"
        );
    } else {
        prop_assert!(e.column >= 1, "column 0 in:\n{shown}");
        prop_assert!(
            shown.contains(&format!("--> {file}:{}:{}", e.line, e.column)),
            "no path:line:column in:\n{shown}"
        );
        let lines = String::from_utf8_lossy(source).split('\n').count();
        prop_assert!(
            e.line <= lines + 1,
            "line {} of a {lines}-line file:\n{shown}",
            e.line
        );
    }
    Ok(())
}

// ---- (a) the case loader ----

#[test]
fn the_case_loader_takes_any_file() {
    let cases_dir = root().join("cases");
    let mut seed_files = yaml_files(&[
        cases_dir.join("inspector"),
        root().join("tests/fixtures/stub"),
        root().join("tests/fixtures/broken"),
    ]);
    seed_files.retain(|p| p.file_name().is_some_and(|n| n != "suite.yaml"));
    let seeds: Vec<String> = seed_files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let suite_top = std::fs::read_to_string(cases_dir.join("suite.yaml")).unwrap();
    let suite_inspector = std::fs::read_to_string(cases_dir.join("inspector/suite.yaml")).unwrap();
    let suite_seeds = vec![suite_inspector.clone()];
    let sample_case = std::fs::read_to_string(
        cases_dir.join("inspector/StartAssessmentRun/documented_sample_exchange.yaml"),
    )
    .unwrap();

    // The layout of cases/: settings above, one case file in its operation's folder.
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().to_owned();
    let suite_file = top.join("inspector/suite.yaml");
    let case_file = top.join("inspector/StartAssessmentRun/case.yaml");
    std::fs::create_dir_all(case_file.parent().unwrap()).unwrap();
    std::fs::write(top.join("suite.yaml"), &suite_top).unwrap();
    // The suite.yaml names its model by a relative path.
    crate::support::copy_tree(
        &cases_dir.join("inspector/model"),
        &top.join("inspector/model"),
    );

    // The unmutated real cases load: the layout is right, so errors below come from edits.
    std::fs::write(&suite_file, &suite_inspector).unwrap();
    for (path, text) in seed_files.iter().zip(&seeds) {
        if path.starts_with(&cases_dir) {
            std::fs::write(&case_file, text).unwrap();
            let loaded = load_suite(std::slice::from_ref(&top), &Vars::new());
            assert!(loaded.is_ok(), "{}: {:?}", path.display(), loaded.err());
        }
    }

    let tally = Tally::default();
    let started = Instant::now();
    let mut runner = TestRunner::new(config(300));
    // Mostly the case file is broken; sometimes the suite.yaml above it, under a good case.
    let inputs = (content(), proptest::bool::weighted(0.15));
    let result = runner.run(&inputs, |(content, in_suite_file)| {
        let (broken, bytes) = if in_suite_file {
            std::fs::write(&case_file, &sample_case).unwrap();
            (&suite_file, content.bytes(&suite_seeds))
        } else {
            std::fs::write(&suite_file, &suite_inspector).unwrap();
            (&case_file, content.bytes(&seeds))
        };
        std::fs::write(broken, &bytes).unwrap();
        let paths = vec![top.clone()];
        let loaded = within(&tally, "load_suite", move || {
            load_suite(&paths, &Vars::new())
        })?;
        let Err(errors) = loaded else { return Ok(()) };
        tally.rejected.fetch_add(1, Ordering::Relaxed);
        prop_assert!(!errors.0.is_empty());
        for e in &errors.0 {
            prop_assert!(
                e.file == case_file || e.file == suite_file,
                "an error about another file: {e}"
            );
            check_located(e, &std::fs::read(&e.file).unwrap())?;
        }
        // A broken suite.yaml may show as an error in the case (a variable it no longer
        // defines); a broken case file always shows in that file.
        if !in_suite_file {
            prop_assert!(
                errors.0.iter().any(|e| e.file == case_file),
                "no error names the broken case file:\n{errors}"
            );
        }
        Ok(())
    });
    tally.report("case loader", "rejected with located errors", started);
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---- (b) the recording loader ----

#[test]
fn the_recording_loader_takes_any_file() {
    let seed_files = yaml_files(&[root().join("recordings")]);
    let seeds: Vec<String> = seed_files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recording.yaml");

    let tally = Tally::default();
    let started = Instant::now();
    let mut runner = TestRunner::new(config(300));
    let result = runner.run(&content(), |content| {
        let bytes = content.bytes(&seeds);
        std::fs::write(&file, &bytes).unwrap();
        let path = file.clone();
        let loaded = within(&tally, "load_recording", move || load_recording(&path))?;
        let Err(errors) = loaded else { return Ok(()) };
        tally.rejected.fetch_add(1, Ordering::Relaxed);
        prop_assert!(!errors.is_empty());
        for e in &errors {
            prop_assert_eq!(&e.file, &file);
            check_located(e, &bytes)?;
        }
        Ok(())
    });
    tally.report("recording loader", "rejected with located errors", started);
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Guards the folder walks against symlink loops: a folder linking to its parent twice made
/// `load_suite` and `load_recordings` walk 2^40 paths (a hang), once made every case a
/// duplicate of itself 40 times.
#[test]
fn folders_that_link_to_themselves_load_once() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().to_owned();
    let cases = top.join("cases/inspector/StartAssessmentRun");
    let recordings = top.join("recordings/inspector/StartAssessmentRun");
    std::fs::create_dir_all(&cases).unwrap();
    std::fs::create_dir_all(&recordings).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/stub/inspector/suite.yaml"),
        top.join("cases/inspector/suite.yaml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("tests/fixtures/stub/inspector/StartAssessmentRun/sample.yaml"),
        cases.join("sample.yaml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("recordings/inspector/StartAssessmentRun/documented_sample_exchange.yaml"),
        recordings.join("sample.yaml"),
    )
    .unwrap();
    for folder in [&cases, &recordings] {
        for name in ["up", "up_again"] {
            std::os::unix::fs::symlink("..", folder.join(name)).unwrap();
        }
    }
    let tally = Tally::default();
    let paths = vec![top.join("cases")];
    let suite = within(&tally, "load_suite", move || {
        load_suite(&paths, &Vars::new())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let suite = suite.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(suite.cases.len(), 1);
    let folder = top.join("recordings");
    let loaded = within(&tally, "load_recordings", move || load_recordings(&folder))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.unwrap_or_else(|e| panic!("{e}")).len(), 1);
}

// ---- (c) the replay index ----

const TARGETS: &[&str] = &[
    "InspectorService.StartAssessmentRun",
    "inspectorservice.startassessmentrun",
    "InspectorService.StartAssessmentRun ",
    "InspectorService.ListAssessmentRuns",
    "InspectorService.",
    ".StartAssessmentRun",
    "",
    "InspectorService.StartAssessmentRun, InspectorService.StartAssessmentRun",
    "InspectorService.StartAssessmentRün",
];

const CONTENT_TYPES: &[&str] = &[
    "application/x-amz-json-1.1",
    "application/x-amz-json-1.1; charset=utf-8",
    "APPLICATION/X-AMZ-JSON-1.1",
    "application/x-amz-json-1.0",
    "application/json",
    "text/plain",
    "",
    "application/x-amz-json-1.1;",
];

/// Headers that never decide a match (FORMAT.md): adding them keeps a request the same.
const VOLATILE: &[(&str, &str)] = &[
    ("user-agent", "aws-sdk-rust/1.0 os/linux"),
    ("x-amz-date", "20260101T000000Z"),
    (
        "authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-west-2/inspector/aws4_request",
    ),
    (
        "amz-sdk-invocation-id",
        "0d0b5c4a-7d1e-4c43-9b0e-9a1f0b7a1b2c",
    ),
    ("host", "127.0.0.1:4566"),
    ("accept", "*/*"),
    ("x-amz-security-token", "token"),
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[a-zA-Z0-9:/._-]{0,30}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{0,20}|\\PC{0,8}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON text with keys in reverse order, optionally spaced: the same value, other bytes.
fn write_json(v: &Value, spaced: bool) -> String {
    let (colon, comma) = if spaced { (": ", ", ") } else { (":", ",") };
    match v {
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .rev()
                .map(|(k, v)| {
                    format!(
                        "{}{colon}{}",
                        Value::String(k.clone()),
                        write_json(v, spaced)
                    )
                })
                .collect();
            format!("{{{}}}", members.join(comma))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| write_json(v, spaced))
                .collect::<Vec<_>>()
                .join(comma)
        ),
        other => other.to_string(),
    }
}

/// How a recorded request is sent again without becoming another request.
#[derive(Clone, Debug)]
struct Same {
    upper_case_names: bool,
    extra: Vec<Index>,
    body_form: u8,
}

fn same() -> impl Strategy<Value = Same> {
    (
        any::<bool>(),
        proptest::collection::vec(any::<Index>(), 0..4),
        0u8..3,
    )
        .prop_map(|(upper_case_names, extra, body_form)| Same {
            upper_case_names,
            extra,
            body_form,
        })
}

/// A change that may make a recorded request another request.
#[derive(Clone, Debug)]
enum Change {
    Method(String),
    Path(String),
    DropHeader(bool),
    SetHeader(bool, String),
    DuplicateHeader(bool, String),
    FlipByte(Index, u8),
    TruncateBody(Index),
    InsertBytes(Index, Vec<u8>),
    SetMember(Index, Value),
    RemoveMember(Index),
    Body(Vec<u8>),
    JsonBody(Value),
    DeepBody(usize, bool),
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(&["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "post"][..])
            .prop_map(str::to_owned),
        "[A-Z]{1,12}",
        any::<String>(),
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("//".to_owned()),
        Just("/?".to_owned()),
        "/[a-zA-Z0-9/?=&%._-]{0,30}",
        any::<String>(),
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(TARGETS).prop_map(str::to_owned),
        proptest::sample::select(CONTENT_TYPES).prop_map(str::to_owned),
        any::<String>(),
    ]
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        1 => method().prop_map(Change::Method),
        1 => path().prop_map(Change::Path),
        1 => any::<bool>().prop_map(Change::DropHeader),
        1 => (any::<bool>(), header_value()).prop_map(|(t, v)| Change::SetHeader(t, v)),
        1 => (any::<bool>(), header_value()).prop_map(|(t, v)| Change::DuplicateHeader(t, v)),
        3 => (any::<Index>(), 1u8..=255).prop_map(|(i, x)| Change::FlipByte(i, x)),
        2 => any::<Index>().prop_map(Change::TruncateBody),
        2 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Change::InsertBytes(i, b)),
        3 => (any::<Index>(), json_value()).prop_map(|(i, v)| Change::SetMember(i, v)),
        2 => any::<Index>().prop_map(Change::RemoveMember),
        1 => proptest::collection::vec(any::<u8>(), 0..4096).prop_map(Change::Body),
        1 => json_value().prop_map(Change::JsonBody),
        1 => (1usize..400, any::<bool>()).prop_map(|(d, seq)| Change::DeepBody(d, seq)),
    ]
}

#[derive(Clone, Debug)]
enum Incoming {
    Recorded(Index, Same),
    Changed(Index, Vec<Change>),
    Random {
        method: String,
        path: String,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    },
}

fn incoming() -> impl Strategy<Value = Incoming> {
    let name = prop_oneof![
        Just("x-amz-target".to_owned()),
        Just("X-Amz-Target".to_owned()),
        Just("content-type".to_owned()),
        Just("Content-Type".to_owned()),
        "[a-z][a-z0-9-]{0,20}",
    ];
    let value = prop_oneof![
        header_value().prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..40),
    ];
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2048),
        json_value().prop_map(|v| v.to_string().into_bytes()),
    ];
    prop_oneof![
        3 => (any::<Index>(), same()).prop_map(|(i, s)| Incoming::Recorded(i, s)),
        4 => (any::<Index>(), proptest::collection::vec(change(), 1..4))
            .prop_map(|(i, c)| Incoming::Changed(i, c)),
        2 => (
            method(),
            path(),
            proptest::collection::vec((name, value), 0..8),
            body,
        )
            .prop_map(|(method, path, headers, body)| Incoming::Random {
                method,
                path,
                headers,
                body,
            }),
    ]
}

/// One recorded request, as parts a server would see.
#[derive(Clone, Debug)]
pub(crate) struct Parts {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Vec<u8>,
}

impl Parts {
    pub(crate) fn request(&self) -> Request {
        request_from_parts(
            &self.method,
            &self.path,
            self.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
            self.body.clone(),
        )
    }

    fn identity(&self, target: bool) -> &'static str {
        if target {
            "x-amz-target"
        } else {
            "content-type"
        }
    }

    fn apply(&mut self, change: &Change) {
        match change {
            Change::Method(m) => self.method = m.clone(),
            Change::Path(p) => self.path = p.clone(),
            Change::DropHeader(t) => {
                let name = self.identity(*t);
                self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            }
            Change::SetHeader(t, v) => {
                let name = self.identity(*t);
                self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                self.headers.push((name.into(), v.clone().into_bytes()));
            }
            Change::DuplicateHeader(t, v) => {
                self.headers
                    .push((self.identity(*t).into(), v.clone().into_bytes()));
            }
            Change::FlipByte(i, x) => {
                if !self.body.is_empty() {
                    let k = i.index(self.body.len());
                    self.body[k] ^= x;
                }
            }
            Change::TruncateBody(i) => self.body.truncate(i.index(self.body.len() + 1)),
            Change::InsertBytes(i, b) => {
                let k = i.index(self.body.len() + 1);
                self.body.splice(k..k, b.iter().copied());
            }
            Change::SetMember(i, v) => {
                if let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(&self.body) {
                    let key = match map.keys().nth(i.index(map.len() + 1)) {
                        Some(k) => k.clone(),
                        None => "extraMember".into(),
                    };
                    map.insert(key, v.clone());
                    self.body = Value::Object(map).to_string().into_bytes();
                }
            }
            Change::RemoveMember(i) => {
                if let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(&self.body)
                    && !map.is_empty()
                {
                    let key = map.keys().nth(i.index(map.len())).unwrap().clone();
                    map.remove(&key);
                    self.body = Value::Object(map).to_string().into_bytes();
                }
            }
            Change::Body(b) => self.body = b.clone(),
            Change::JsonBody(v) => self.body = v.to_string().into_bytes(),
            Change::DeepBody(depth, seq) => {
                self.body = if *seq {
                    format!("{}{}", "[".repeat(*depth), "]".repeat(*depth))
                } else {
                    format!("{}1{}", "{\"a\":".repeat(*depth), "}".repeat(*depth))
                }
                .into_bytes();
            }
        }
    }
}

/// Every recorded request with the file that answers it: the first recording (in load
/// order) holding that request; a later one with the same request is shadowed.
pub(crate) fn recorded_requests(recordings: &[Recording]) -> Vec<(Parts, PathBuf)> {
    let mut answered_by: Vec<(String, PathBuf)> = Vec::new();
    let mut out = Vec::new();
    for recording in recordings {
        for exchange in &recording.exchanges {
            let r = &exchange.request;
            let key = r.index_key();
            let file = match answered_by.iter().find(|(k, _)| *k == key) {
                Some((_, f)) => f.clone(),
                None => {
                    answered_by.push((key, recording.file.clone()));
                    recording.file.clone()
                }
            };
            // `raw_bytes` covers `raw_body` and `raw_body_base64` (bytes that are not UTF-8).
            let body = match (&r.body, r.raw_bytes()) {
                (Some(v), _) => v.to_string().into_bytes(),
                (None, Some(raw)) => raw,
                (None, None) => Vec::new(),
            };
            let parts = Parts {
                method: r.method.clone(),
                path: r.path.clone(),
                headers: r
                    .headers
                    .iter()
                    .map(|(n, v)| (n.clone(), v.clone().into_bytes()))
                    .collect(),
                body,
            };
            out.push((parts, file));
        }
    }
    out
}

#[test]
fn the_replay_answers_any_request() {
    let recordings = load_recordings(&root().join("recordings")).expect("the recordings load");
    let files: BTreeSet<PathBuf> = recordings.iter().map(|r| r.file.clone()).collect();
    let requests = recorded_requests(&recordings);
    let replay = Arc::new(Replay::new(&recordings).expect("the recordings make a replay"));

    let tally = Tally::default();
    let exact = AtomicUsize::new(0);
    let answered = AtomicUsize::new(0);
    let started = Instant::now();
    let mut runner = TestRunner::new(config(600));
    let result = runner.run(&incoming(), |input| {
        let (parts, answerer) = match &input {
            Incoming::Recorded(i, same) => {
                let (mut parts, file) = requests[i.index(requests.len())].clone();
                if same.upper_case_names {
                    for (n, _) in &mut parts.headers {
                        *n = n.to_ascii_uppercase();
                    }
                }
                for k in &same.extra {
                    let (n, v) = VOLATILE[k.index(VOLATILE.len())];
                    parts.headers.push((n.into(), v.as_bytes().to_vec()));
                }
                // A JSON body may be written with other spacing and key order.
                if let Ok(v) = serde_json::from_slice::<Value>(&parts.body) {
                    let is_raw = recordings.iter().flat_map(|r| &r.exchanges).any(|x| {
                        x.request.raw_body.as_deref().map(str::as_bytes) == Some(&parts.body)
                    });
                    if !is_raw && same.body_form > 0 {
                        parts.body = write_json(&v, same.body_form == 2).into_bytes();
                    }
                }
                (parts, Some(file))
            }
            Incoming::Changed(i, changes) => {
                let (mut parts, _) = requests[i.index(requests.len())].clone();
                for c in changes {
                    parts.apply(c);
                }
                (parts, None)
            }
            Incoming::Random {
                method,
                path,
                headers,
                body,
            } => (
                Parts {
                    method: method.clone(),
                    path: path.clone(),
                    headers: headers.clone(),
                    body: body.clone(),
                },
                None,
            ),
        };
        let request = parts.request();
        let (shared, asked) = (replay.clone(), request.clone());
        // What the server needs from an answer, taken out on the worker thread.
        let answer = within(&tally, "Replay::answer", move || {
            match shared.answer(&asked) {
                Answer::Recorded(entry) => {
                    let observed = Observed {
                        start: Start::Request {
                            method: &asked.method,
                            path: &asked.path,
                        },
                        headers: &asked.headers,
                        body: &asked.body,
                    };
                    Ok((
                        entry.file.clone(),
                        evaluate(&entry.expect, &observed).passed(),
                    ))
                }
                Answer::Miss(miss) => {
                    Err(Some((miss.message(), miss.report(), miss.closest.len())))
                }
                Answer::TooLarge(_) => Err(None),
            }
        })?;
        match (answer, answerer) {
            (Ok((file, confirmed)), answerer) => {
                answered.fetch_add(1, Ordering::Relaxed);
                prop_assert!(
                    confirmed,
                    "answered by {} without matching it",
                    file.display()
                );
                if let Some(want) = answerer {
                    exact.fetch_add(1, Ordering::Relaxed);
                    prop_assert_eq!(file, want);
                }
            }
            (Err(Some((message, report, closest))), answerer) => {
                tally.rejected.fetch_add(1, Ordering::Relaxed);
                prop_assert!(
                    answerer.is_none(),
                    "a recorded request missed: {}\n{report}",
                    request.method
                );
                prop_assert!(closest > 0, "no closest recording: {message}");
                prop_assert!(
                    files
                        .iter()
                        .any(|f| message.contains(&f.display().to_string())),
                    "the miss names no recording: {message}"
                );
                prop_assert!(report.starts_with("no recording matches "), "{report}");
            }
            (Err(None), _) => {
                prop_assert!(false, "a small request was refused as too large");
            }
        }
        Ok(())
    });
    tally.report("replay", "misses naming the closest recording", started);
    eprintln!(
        "props: replay: {} answered from recordings, {} of them recorded requests sent again (each by its own recording)",
        answered.into_inner(),
        exact.into_inner()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
