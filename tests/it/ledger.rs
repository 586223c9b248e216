//! The ledger of known divergences, driven through the binary against wiremock stubs on
//! 127.0.0.1:0: a listed divergence passes the run, an unlisted one fails it, a fixed one
//! fails it with "remove it from the ledger", broken ledgers stop the run with
//! `file:line:col`, and `--write-ledger` writes a ledger the next run accepts.

use std::path::Path;

use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// A two-case suite of a made-up awsJson1_1 service, in a temporary folder.
fn suite(dir: &Path) {
    std::fs::write(dir.join("suite.yaml"), "target_prefix: Svc\nvars: {}\n").unwrap();
    std::fs::create_dir_all(dir.join("Describe")).unwrap();
    std::fs::write(
        dir.join("Describe/describe_issued.yaml"),
        "name: describe issued\nsource: test model, Describe output Status\nprovenance: modeled\n\
         expect:\n  status: 200\n  body:\n    Status: ISSUED\n    Items: [{ Name: a }]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("Describe/describe_unknown.yaml"),
        "name: describe unknown\nsource: test model, Describe errors\nprovenance: modeled\n\
         request:\n  body: { Id: nope }\nexpect:\n  status: 4xx\n",
    )
    .unwrap();
}

/// A stub answering every request with `status` and `body`.
async fn stub(status: u16, body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", "Svc.Describe"))
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_raw(body.to_owned(), "application/x-amz-json-1.1"),
        )
        .mount(&server)
        .await;
    server
}

fn ledger(dir: &Path, text: &str) {
    std::fs::write(dir.join("known-divergences.yaml"), text).unwrap();
}

// The endpoint gets `Status` and `Items[0].Name` wrong, and answers 200 where a 4xx is due.
const WRONG: &str = r#"{"Status":"PENDING_VALIDATION","Items":[{"Name":"b"}]}"#;
const RIGHT: &str = r#"{"Status":"ISSUED","Items":[{"Name":"a"}]}"#;
const LEDGER: &str = "divergences:\n  - case: describe issued\n    paths: [body.Status, 'body.Items[*].Name']\n    why: the stub answers PENDING_VALIDATION (test stub, by construction)\n  - case: describe unknown\n    paths: [status]\n    why: the stub answers 200 to everything (test stub, by construction)\n";

#[tokio::test(flavor = "multi_thread")]
async fn listed_divergences_pass_and_unlisted_ones_fail_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path());
    ledger(dir.path(), LEDGER);
    let server = stub(200, WRONG).await;
    let uri = server.uri();

    let out = conform_in(
        dir.path(),
        &[
            "run",
            ".",
            "--endpoint-url",
            &uri,
            "--color",
            "never",
            "--json",
            "r.json",
            "--junit",
            "r.xml",
        ],
    );
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}\n{err}");
    assert!(text.contains("KNOWN  describe issued"), "{text}");
    assert!(
        text.contains("why: the stub answers PENDING_VALIDATION"),
        "{text}"
    );
    assert!(text.contains("known-divergences.yaml:2"), "{text}");
    assert!(
        text.contains("notes: 2 known divergences (in the ledger; not failures)"),
        "{text}"
    );
    assert!(text.ends_with("2 passed, 0 failed, 0 skipped\n"), "{text}");

    // The reports carry them.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["known"], 2, "{json}");
    let first = &json["cases"][0];
    assert_eq!(first["outcome"], "known", "{json}");
    assert_eq!(first["fails_run"], false, "{json}");
    assert!(
        first["why"]
            .as_str()
            .unwrap()
            .contains("PENDING_VALIDATION"),
        "{json}"
    );
    assert!(
        first["ledger"]
            .as_str()
            .unwrap()
            .ends_with("known-divergences.yaml:2"),
        "{json}"
    );
    let xml = std::fs::read_to_string(dir.path().join("r.xml")).unwrap();
    assert!(xml.contains(r#"value="known-divergence""#), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");

    // Without the second entry, its divergence fails the run and is named.
    ledger(
        dir.path(),
        LEDGER.split("  - case: describe unknown").next().unwrap(),
    );
    let out = conform_in(
        dir.path(),
        &["run", ".", "--endpoint-url", &uri, "--color", "never"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL   describe unknown"), "{text}");
    assert!(text.contains("status: expected 4xx, found 200"), "{text}");
    assert!(text.ends_with("1 passed, 1 failed, 0 skipped\n"), "{text}");

    // Listing only one of the two paths: the other is a new divergence.
    ledger(
        dir.path(),
        "divergences:\n  - case: describe issued\n    paths: [body.Status]\n    why: test stub\n",
    );
    let out = conform_in(
        dir.path(),
        &[
            "run",
            ".",
            "--endpoint-url",
            &uri,
            "--color",
            "never",
            "--filter",
            "issued",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("body.Items[0].Name: "), "{text}");
    assert!(text.contains("(not in the ledger)"), "{text}");
    assert!(text.contains("(known: in the ledger)"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fixed_divergence_fails_with_remove_it_from_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path());
    ledger(dir.path(), LEDGER);
    // The endpoint now answers right: the listed divergence of `describe issued` is gone.
    let server = stub(200, RIGHT).await;
    let uri = server.uri();
    let out = conform_in(
        dir.path(),
        &[
            "run",
            ".",
            "--endpoint-url",
            &uri,
            "--color",
            "never",
            "--filter",
            "issued",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL   describe issued"), "{text}");
    assert!(text.contains("remove it from the ledger"), "{text}");
    assert!(text.contains("known-divergences.yaml:2"), "{text}");

    // Half fixed: a listed path that no longer differs is stale too.
    let half = stub(
        200,
        r#"{"Status":"PENDING_VALIDATION","Items":[{"Name":"a"}]}"#,
    )
    .await;
    let out = conform_in(
        dir.path(),
        &[
            "run",
            ".",
            "--endpoint-url",
            &half.uri(),
            "--color",
            "never",
            "--filter",
            "issued",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "listed path `body.Items[*].Name` no longer differs: remove it from the ledger"
        ),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_ledgers_stop_the_run_with_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path());
    // A stub that counts requests: nothing may be sent.
    let server = stub(200, WRONG).await;
    let uri = server.uri();
    for (text, at, says) in [
        (
            "divergences:\n  - case: describe issued\n    whyy: x\n",
            ":3:5",
            "unknown field `whyy`",
        ),
        (
            "divergences:\n  - case: describe isued\n    why: x\n",
            ":2:11",
            "no case named `describe isued`",
        ),
        (
            "divergences:\n  - case: describe issued\n    paths: [body.Status, 'body..x']\n    why: x\n",
            ":3:26",
            "malformed mismatch path",
        ),
        (
            "divergences:\n  - case: describe issued\n    paths: [status]\n",
            ":2:",
            "missing field `why`",
        ),
        (
            "divergences:\n  - case: describe issued\n    why: ''\n",
            ":3:10",
            "`why` is empty",
        ),
        ("divergence: []\n", ":1:1", "unknown field `divergence`"),
    ] {
        ledger(dir.path(), text);
        let out = conform_in(
            dir.path(),
            &["run", ".", "--endpoint-url", &uri, "--color", "never"],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text}\n{err}");
        assert!(
            err.contains(&format!("known-divergences.yaml{at}")),
            "{text}\n{err}"
        );
        assert!(err.contains(says), "{text}\n{err}");
        assert!(err.contains("(no case was run)"), "{err}");
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    }
    assert!(server.received_requests().await.unwrap().is_empty());

    // --ledger FILE is checked the same way.
    // (Outside the suite folder: every other YAML file in it is a case file.)
    let elsewhere = tempfile::tempdir().unwrap();
    let other = elsewhere.path().join("other.yaml");
    std::fs::remove_file(dir.path().join("known-divergences.yaml")).unwrap();
    std::fs::write(&other, "divergences:\n  - case: nope\n    why: x\n").unwrap();
    let out = conform_in(
        dir.path(),
        &[
            "run",
            ".",
            "--endpoint-url",
            &uri,
            "--ledger",
            other.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("other.yaml:2:11"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn write_ledger_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path());
    let server = stub(200, WRONG).await;
    let uri = server.uri();
    let out = conform_in(
        dir.path(),
        &[
            "run",
            ".",
            "--endpoint-url",
            &uri,
            "--write-ledger",
            "known-divergences.yaml",
        ],
    );
    // Today's failures still fail today's run; the ledger starts from them.
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let written = std::fs::read_to_string(dir.path().join("known-divergences.yaml")).unwrap();
    assert!(written.contains("case: describe issued"), "{written}");
    assert!(written.contains("- body.Status"), "{written}");
    assert!(written.contains("- body.Items[0].Name"), "{written}");
    assert!(written.contains("- status"), "{written}");
    assert!(written.contains("why: 'TODO: "), "{written}");
    assert!(written.contains("applies_to:\n- endpoint\n"), "{written}");

    // The next run accepts it, warning about each placeholder why.
    let out = conform_in(
        dir.path(),
        &["run", ".", "--endpoint-url", &uri, "--color", "never"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let err = stderr(&out);
    assert_eq!(err.matches("placeholder why").count(), 2, "{err}");
    assert!(stdout(&out).ends_with("2 passed, 0 failed, 0 skipped\n"));

    // Never over an existing file without --force; with it, the known ones keep their entries.
    let out = conform_in(
        dir.path(),
        &[
            "run",
            ".",
            "--endpoint-url",
            &uri,
            "--write-ledger",
            "known-divergences.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("pass --force"), "{}", stderr(&out));
    assert!(
        server.received_requests().await.unwrap().len() == 4,
        "nothing sent when refused"
    );
    let out = conform_in(
        dir.path(),
        &[
            "run",
            ".",
            "--endpoint-url",
            &uri,
            "--write-ledger",
            "known-divergences.yaml",
            "--force",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let again = std::fs::read_to_string(dir.path().join("known-divergences.yaml")).unwrap();
    assert_eq!(again, written);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ledger_applies_only_to_the_kinds_of_target_it_names() {
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path());
    // The ledger of a signed emulator's divergences: left aside against an unsigned endpoint.
    ledger(dir.path(), &format!("applies_to: [signed]\n{LEDGER}"));
    let server = stub(200, WRONG).await;
    let uri = server.uri();
    let out = conform_in(
        dir.path(),
        &["run", ".", "--endpoint-url", &uri, "--color", "never"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("left aside: its applies_to does not name endpoint targets"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("KNOWN"), "{}", stdout(&out));
    ledger(
        dir.path(),
        &format!("applies_to: [endpoint, signed]\n{LEDGER}"),
    );
    let out = conform_in(
        dir.path(),
        &["run", ".", "--endpoint-url", &uri, "--color", "never"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // An unknown kind is an error where it stands, even in a ledger that would be left aside.
    ledger(dir.path(), &format!("applies_to: [moto]\n{LEDGER}"));
    let out = conform_in(dir.path(), &["run", ".", "--endpoint-url", &uri]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("known-divergences.yaml:1:"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_of_one_file_keeps_the_ledger_of_its_whole_suite() {
    // The ledger names `describe unknown` too, which this run does not load: not an error.
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path());
    ledger(dir.path(), LEDGER);
    let server = stub(200, WRONG).await;
    let out = conform_in(
        dir.path(),
        &[
            "run",
            "Describe/describe_issued.yaml",
            "--endpoint-url",
            &server.uri(),
            "--color",
            "never",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(text.contains("KNOWN  describe issued"), "{text}");
    assert!(text.ends_with("1 passed, 0 failed, 0 skipped\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_of_a_folder_above_the_suite_reads_its_cases_once() {
    // `cases/` holds the suite, as in this project: the ledger beside the suite may name only
    // cases the run has already loaded, so the suite's own folder is not loaded again (which
    // would have written a parsed cache of its own there).
    let dir = tempfile::tempdir().unwrap();
    let suite_dir = dir.path().join("cases/svc");
    std::fs::create_dir_all(&suite_dir).unwrap();
    suite(&suite_dir);
    ledger(&suite_dir, LEDGER);
    let server = stub(200, WRONG).await;
    let out = conform_in(
        dir.path(),
        &["run", "--endpoint-url", &server.uri(), "--color", "never"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(text.ends_with("2 passed, 0 failed, 0 skipped\n"), "{text}");
    assert!(dir.path().join("cases/.conform-cache").exists());
    assert!(
        !suite_dir.join(".conform-cache").exists(),
        "the suite's folder was loaded a second time"
    );
}
