//! `conform serve` keeps no state across runs (issue 10, section 5): a run cut short leaves a
//! recorded sequence part-way, and the next `conform run` against the same server must still
//! give the verdicts a fresh server gives. Sequence positions are kept per run id, reset over
//! `POST /__conform/reset`, and a sequence left part-way is reported at shutdown.
//!
//! These tests run the built binary against the real `cases/` and `recordings/`; the sequence
//! used is `state_duplicate_run_name` (a 200, then an error, for the same request).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use conform::case::SignatureMode;
use conform::compare::request_of;
use conform::exchange::{Request, Response};
use conform::http::{Client, ClientOptions};
use conform::recording::load_recording;
use serde_json::{Value, json};

use crate::support::root;

const SEQUENCE: &str = "recordings/inspector/StartAssessmentRun/state_duplicate_run_name.yaml";
const TIMEOUT: Duration = Duration::from_secs(10);

/// A `conform serve` child process, its URL, and its stderr read on a thread (so that a long
/// near-miss report never fills the pipe and blocks the server).
struct Serve {
    child: Child,
    url: String,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Serve {
    fn start(recordings: &Path, strict: bool) -> Serve {
        let mut command = Command::new(env!("CARGO_BIN_EXE_conform"));
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--recordings"])
            .arg(recordings)
            .current_dir(root())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if strict {
            command.arg("--strict");
        }
        let mut child = command.spawn().expect("conform serve starts");
        let mut stderr_pipe = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            text
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no 'listening on' line: {line:?}"))
            .to_owned();
        Serve {
            child,
            url,
            stderr: Some(stderr),
        }
    }

    /// Ctrl-C, then the exit code and everything the server wrote on stderr.
    fn stop(mut self) -> (Option<i32>, String) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let code = self.child.wait().unwrap().code();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        (code, stderr)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        // A failed assertion must not leave the server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The recorded request of the sequence (both exchanges have the same one).
fn sequence_request() -> Request {
    let recording = load_recording(&root().join(SEQUENCE)).expect("the sequence loads");
    request_of(&recording.exchanges[0].request)
}

/// A client that sends `run` as its run id, or none.
fn client(url: &str, run: Option<&str>) -> Client {
    let client = Client::new(url, None, ClientOptions::default()).unwrap();
    match run {
        Some(id) => client.with_run_id(id),
        None => client.without_run_id(),
    }
}

async fn send(client: &Client, request: Request) -> Response {
    let (_, response) = client.send(request, SignatureMode::None, TIMEOUT).await;
    response.expect("the replay answers")
}

async fn admin(url: &str, method: &str, path: &str) -> (u16, Value) {
    let request = Request {
        method: method.into(),
        path: path.into(),
        headers: Default::default(),
        body: Vec::new(),
    };
    let response = send(&client(url, None), request).await;
    let body = response.json().expect("admin answers are JSON");
    (response.status, body)
}

/// `conform run --endpoint-url URL` over the real suite: each case's name → outcome (and
/// whether it fails the run), from the JSON report.
async fn verdicts(url: &str, dir: &Path, name: &str) -> BTreeMap<String, (String, bool)> {
    let report = dir.join(format!("{name}.json"));
    let (url, report_arg) = (url.to_owned(), report.to_string_lossy().into_owned());
    let output: Output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_conform"))
            .args(["run", "--endpoint-url", &url, "--json", &report_arg])
            .current_dir(root())
            .env("NO_COLOR", "1")
            .output()
            .expect("conform run runs")
    })
    .await
    .unwrap();
    let text = std::fs::read_to_string(&report).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let report: Value = serde_json::from_str(&text).unwrap();
    let cases = report["cases"].as_array().expect("a cases list");
    assert!(!cases.is_empty());
    cases
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                (
                    c["outcome"].as_str().unwrap().to_owned(),
                    c["fails_run"].as_bool().unwrap_or(false),
                ),
            )
        })
        .collect()
}

/// `conform compare --endpoint-url URL`: its closing tally line.
async fn compare_tally(url: &str) -> String {
    let url = url.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_conform"))
            .args(["compare", "--endpoint-url", &url])
            .current_dir(root())
            .env("NO_COLOR", "1")
            .output()
            .expect("conform compare runs")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let last = text.lines().last().unwrap_or_default().to_owned();
    assert!(last.ends_with(" errored"), "{text}");
    last
}

fn duplicate_case(verdicts: &BTreeMap<String, (String, bool)>) -> (String, bool) {
    let file = root().join("cases/inspector/StartAssessmentRun/state_duplicate_run_name.yaml");
    let text = std::fs::read_to_string(file).unwrap();
    let name = text
        .lines()
        .find_map(|l| l.strip_prefix("name: "))
        .expect("the case has a name")
        .trim()
        .trim_matches('\'')
        .to_owned();
    verdicts
        .get(&name)
        .unwrap_or_else(|| panic!("no verdict for {name:?}"))
        .clone()
}

/// The scenario of the issue: one stray first request (as a run cut short sends), then two
/// full runs against the same server, each with the verdicts of a fresh server.
#[tokio::test(flavor = "multi_thread")]
async fn runs_after_a_run_cut_short_get_the_verdicts_of_a_fresh_server() {
    let dir = tempfile::tempdir().unwrap();
    let recordings = root().join("recordings");
    let fresh = Serve::start(&recordings, false);
    let expected = verdicts(&fresh.url, dir.path(), "fresh").await;
    let expected_tally = compare_tally(&fresh.url).await;
    let (code, _) = fresh.stop();
    assert_eq!(code, Some(0));

    let used = Serve::start(&recordings, false);
    // Runs cut short after the sequence's first request: one with a run id, one without.
    for run in [Some("cut-short-run"), None] {
        let first = send(&client(&used.url, run), sequence_request()).await;
        assert_eq!(first.status, 200, "the sequence starts with its 200");
    }
    for round in ["second", "third"] {
        let got = verdicts(&used.url, dir.path(), round).await;
        assert_eq!(got, expected, "{round} run against the used server");
    }
    // `conform compare` is a run of its own too.
    assert_eq!(compare_tally(&used.url).await, expected_tally);
    // The duplicate-name case is judged the same as on a fresh server (pass, as recorded).
    assert_eq!(duplicate_case(&expected).0, "passed", "{expected:?}");

    // The cut-short run is where it was left: its next answer is the sequence's second.
    let second = send(
        &client(&used.url, Some("cut-short-run")),
        sequence_request(),
    )
    .await;
    assert_eq!(second.status, 400);
    let (code, stderr) = used.stop();
    assert_eq!(code, Some(0), "{stderr}");
    // Only the request without a run id is left part-way now.
    assert!(
        stderr.lines().any(|l| l.starts_with("part-way: ")
            && l.ends_with(&format!(
                "{SEQUENCE}: requests without a run id: 1 of 2 exchanges answered"
            ))),
        "{stderr}"
    );
    assert!(!stderr.contains("run cut-short-run"), "{stderr}");
}

/// `POST /__conform/reset?run=<id>` starts one run's sequences over, `POST /__conform/reset`
/// every run's; anything else under `/__conform/` is an AWS-style error.
#[tokio::test(flavor = "multi_thread")]
async fn the_admin_path_resets_one_run_or_all() {
    let server = Serve::start(&root().join("recordings"), false);
    let url = server.url.clone();
    let (a, b, none) = (
        client(&url, Some("run-a")),
        client(&url, Some("run-b")),
        client(&url, None),
    );
    for c in [&a, &b, &none] {
        assert_eq!(send(c, sequence_request()).await.status, 200);
    }

    let (status, body) = admin(&url, "POST", "/__conform/reset?run=run-a").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({ "reset": "run-a", "found": true, "partWay": 1 })
    );
    assert_eq!(
        send(&a, sequence_request()).await.status,
        200,
        "run-a starts over"
    );
    assert_eq!(
        send(&b, sequence_request()).await.status,
        400,
        "run-b goes on"
    );

    let (status, body) = admin(&url, "POST", "/__conform/reset").await;
    assert_eq!(status, 200);
    assert_eq!(body["reset"], json!("all"));
    // run-a and the default state were part-way; run-b had finished its round.
    assert_eq!(body["partWay"], json!(2), "{body}");
    for c in [&a, &b, &none] {
        assert_eq!(
            send(c, sequence_request()).await.status,
            200,
            "all start over"
        );
    }

    for (method, path, status) in [
        ("POST", "/__conform/scenarios/reset", 404),
        ("GET", "/__conform/reset", 400),
        ("POST", "/__conform/reset?run=a%20b", 400),
        ("POST", "/__conform/reset?scenario=x", 400),
    ] {
        let (got, body) = admin(&url, method, path).await;
        assert_eq!(got, status, "{method} {path}: {body}");
        assert!(
            body["__type"]
                .as_str()
                .is_some_and(|t| t.ends_with("Exception"))
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("conform replay: ")
        );
    }

    // A malformed run id is refused before any matching, with an AWS-style error.
    let refused = send(&client(&url, Some("not a run id")), sequence_request()).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json().unwrap()["__type"],
        json!("InvalidRunIdException")
    );

    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    for left in ["run run-a", "run run-b", "requests without a run id"] {
        assert!(
            stderr.contains(&format!("{SEQUENCE}: {left}: 1 of 2")),
            "{stderr}"
        );
    }
}

/// With `--strict`, a sequence left part-way makes the exit code 1; the same server with the
/// sequence finished exits 0. Served from a folder holding only the sequence's recording, so
/// that nothing else (misses, unused recordings) decides the exit code.
#[tokio::test(flavor = "multi_thread")]
async fn strict_fails_on_a_sequence_left_part_way() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join(SEQUENCE),
        dir.path().join("state_duplicate_run_name.yaml"),
    )
    .unwrap();
    for leave_part_way in [false, true] {
        let server = Serve::start(dir.path(), true);
        let run = client(&server.url, Some("strict-run"));
        assert_eq!(send(&run, sequence_request()).await.status, 200);
        assert_eq!(send(&run, sequence_request()).await.status, 400);
        if leave_part_way {
            let other = client(&server.url, Some("cut-short"));
            assert_eq!(send(&other, sequence_request()).await.status, 200);
        }
        let (code, stderr) = server.stop();
        let part_way = "state_duplicate_run_name.yaml: run cut-short: 1 of 2 exchanges answered";
        if leave_part_way {
            assert_eq!(code, Some(1), "{stderr}");
            assert!(stderr.contains(part_way), "{stderr}");
        } else {
            assert_eq!(code, Some(0), "{stderr}");
            assert!(!stderr.contains("part-way"), "{stderr}");
        }
    }
}

/// A flood of run ids keeps at most 1,024 run states: the oldest are evicted (and counted at
/// shutdown), and the shutdown report stays short.
#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_run_ids_is_bounded() {
    let server = Serve::start(&root().join("recordings"), false);
    let base = Client::new(&server.url, None, ClientOptions::default()).unwrap();
    for i in 0..1_100 {
        let run = base.clone().with_run_id(format!("flood-{i}"));
        assert_eq!(send(&run, sequence_request()).await.status, 200);
    }
    // The newest run kept its position; the oldest was evicted and starts over.
    let newest = base.clone().with_run_id("flood-1099");
    assert_eq!(send(&newest, sequence_request()).await.status, 400);
    let oldest = base.clone().with_run_id("flood-0");
    assert_eq!(send(&oldest, sequence_request()).await.status, 200);
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    // 1,100 runs and flood-0 again: 1,101 states made, 1,024 kept.
    assert!(
        stderr.contains("77 run states evicted (over 1024 runs at once), 77 of them part-way"),
        "{stderr}"
    );
    assert!(stderr.contains("part-way: ... and 923 more"), "{stderr}");
    assert!(stderr.lines().count() < 200, "{stderr}");
}
