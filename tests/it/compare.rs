//! `conform compare` (issue #6, fidelity reports): the replay of the recordings scores 100%; a
//! replay of a copy changed in exactly three places shows exactly those three differences,
//! with their paths, in the console, JUnit, JSON and HTML reports; `--min-fidelity` decides
//! the exit code; broken recordings and dead endpoints end the way `run` ends.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use conform::compare::{Class, CompareOptions, Score, compare_recordings};
use conform::http::{Client, ClientOptions};
use conform::recording::load_recordings;
use conform::replay::{Replay, ReplayServer};

use crate::support::*;

/// The curated recordings (the generated ones of the other operations left out): the counts
/// and snapshots below are about them.
fn recordings() -> PathBuf {
    curated_recordings()
}

/// The built-in replay of `dir` on an ephemeral loopback port.
async fn serve(dir: &Path) -> ReplayServer {
    let replay = Replay::new(&load_recordings(dir).unwrap()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    ReplayServer::start(replay, listener, None).await
}

/// The three changes the mutated copy makes: (file, text, replacement, the path that differs).
const MUTATIONS: &[(&str, &str, &str, &str)] = &[
    (
        "error_access_denied.yaml",
        "      status: 403",
        "      status: 500",
        "status",
    ),
    (
        "error_no_such_entity.yaml",
        r#""errorCode":"ASSESSMENT_TEMPLATE_DOES_NOT_EXIST""#,
        // Markup in an answer: the HTML report must show it, not obey it.
        r#""errorCode":"NO_SUCH_<TEMPLATE>""#,
        "body.errorCode",
    ),
    (
        "error_internal_fault.yaml",
        "c8fda571b2ac, content-type: application/x-amz-json-1.1 }",
        "c8fda571b2ac, content-type: application/json }",
        "header content-type",
    ),
];

/// A copy of recordings/ whose responses differ in exactly the three places above.
fn mutated_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&recordings(), dir.path());
    for (file, from, to, _) in MUTATIONS {
        let path = dir.path().join("inspector/StartAssessmentRun").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches(from).count(), 1, "{file}: {from}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
    }
    dir
}

fn client(uri: &str) -> Client {
    Client::new(uri, None, ClientOptions::default()).unwrap()
}

fn options() -> CompareOptions {
    CompareOptions {
        timeout: Duration::from_secs(10),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_replay_of_the_recordings_is_identical_to_them() {
    let server = serve(&recordings()).await;
    let loaded = load_recordings(&recordings()).unwrap();
    let results = compare_recordings(
        &recordings(),
        &loaded,
        &client(&server.uri()),
        &options(),
        |_| {},
    )
    .await;
    let recorded: usize = loaded.iter().map(|r| r.exchanges.len()).sum();
    assert_eq!(results.len(), recorded);
    for r in &results {
        assert_eq!(
            r.class(),
            Class::Identical,
            "{}: {:?}",
            r.name,
            r.comparison
        );
    }
    let score = Score::of(&results);
    assert_eq!(score.exchange_score(), 1.0);
    assert_eq!(score.field_score(), 1.0);
    assert!(score.passes(None));
    // The sequence's second exchange was sent second and answered with the recorded 400.
    assert!(
        results
            .iter()
            .any(|r| r.name == "inspector/StartAssessmentRun/state_duplicate_run_name.yaml #2")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn three_changes_are_exactly_three_differences_with_their_paths() {
    let mutated = mutated_copy();
    let server = serve(mutated.path()).await;
    let loaded = load_recordings(&recordings()).unwrap();
    let results = compare_recordings(
        &recordings(),
        &loaded,
        &client(&server.uri()),
        &options(),
        |_| {},
    )
    .await;
    let mut found: Vec<(String, Vec<String>)> = results
        .iter()
        .filter(|r| r.class() != Class::Identical)
        .map(|r| {
            assert_eq!(r.class(), Class::Different, "{}", r.name);
            let paths = r.comparison.differences.iter().map(|m| m.path.clone());
            (r.name.clone(), paths.collect())
        })
        .collect();
    found.sort();
    let mut expected: Vec<(String, Vec<String>)> = MUTATIONS
        .iter()
        .map(|(file, _, _, path)| {
            (
                format!("inspector/StartAssessmentRun/{file}"),
                vec![path.to_string()],
            )
        })
        .collect();
    expected.sort();
    assert_eq!(found, expected);

    let by_path = |p: &str| {
        results
            .iter()
            .flat_map(|r| &r.comparison.differences)
            .find(|m| m.path == p)
            .unwrap()
            .message
            .clone()
    };
    assert_eq!(by_path("status"), "expected 403, found 500");
    assert_eq!(
        by_path("body.errorCode"),
        r#"expected "ASSESSMENT_TEMPLATE_DOES_NOT_EXIST", found "NO_SUCH_<TEMPLATE>""#
    );
    assert_eq!(
        by_path("header content-type"),
        r#"expected "application/x-amz-json-1.1", found "application/json""#
    );
    let score = Score::of(&results);
    assert_eq!((score.different, score.equal_fields + 3), (3, score.fields));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_scores_the_replay_at_100_percent() {
    let server = serve(&recordings()).await;
    let curated = recordings();
    let out = conform(&[
        "compare",
        "--recordings",
        curated.to_str().unwrap(),
        "--endpoint-url",
        &server.uri(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[lines.len() - 2].starts_with("fidelity: 100.0% of exchanges (66 of 66"),
        "{text}"
    );
    assert_eq!(
        lines[lines.len() - 1],
        "66 identical, 0 equivalent, 0 different, 0 errored"
    );
    assert!(lines.iter().take(66).all(|l| l.starts_with("IDENTICAL ")));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_reports_the_three_differences_everywhere() {
    let mutated = mutated_copy();
    let server = serve(mutated.path()).await;
    let out_dir = tempfile::tempdir().unwrap();
    let report = |name: &str| out_dir.path().join(name);
    let curated = recordings();
    let out = conform(&[
        "compare",
        "--recordings",
        curated.to_str().unwrap(),
        "--endpoint-url",
        &server.uri(),
        "--junit",
        report("fidelity.xml").to_str().unwrap(),
        "--json",
        report("fidelity.json").to_str().unwrap(),
        "--html",
        report("fidelity.html").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = without_timings(&stdout(&out));
    insta::assert_snapshot!("three_differences_console", text);

    // JUnit: three failures, named after the recordings, the paths in the message.
    let xml = std::fs::read_to_string(report("fidelity.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failures: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .map(|f| {
            let case = f.parent().unwrap().attribute("name").unwrap().to_owned();
            (case, f.attribute("message").unwrap().to_owned())
        })
        .collect();
    assert_eq!(failures.len(), 3, "{xml}");
    for (file, _, _, path) in MUTATIONS {
        assert!(
            failures
                .iter()
                .any(|(case, message)| case.ends_with(file) && message.ends_with(path)),
            "{file} {path}: {failures:?}"
        );
    }

    // JSON: the counts and the paths.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report("fidelity.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["different"], 3);
    assert_eq!(json["summary"]["identical"], 63);
    assert_eq!(json["summary"]["passed"], false);
    let paths: Vec<&str> = json["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["differences"].as_array().into_iter().flatten())
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["status", "header content-type", "body.errorCode"]);

    // HTML: the three differences, escaped, and nothing fetched from elsewhere.
    let html = std::fs::read_to_string(report("fidelity.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<section class=\"difference\"").count(), 3);
    for (file, _, _, path) in MUTATIONS {
        assert!(html.contains(file), "{file}");
        assert!(
            html.contains(&format!("<code class=\"path\">{path}</code>")),
            "{path}"
        );
    }
    assert!(html.contains("NO_SUCH_&lt;TEMPLATE&gt;"));
    assert!(!html.contains("<TEMPLATE>"));
    assert!(html.contains("&lt;present&gt;"), "tokens are escaped too");
    for external in ["src=", "href=", "url(", "@import", "<script", "<link"] {
        assert!(!html.contains(external), "{external}");
    }
    for tag in ["table", "tr", "td", "section", "ul", "li", "code", "mark"] {
        let open =
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        let close = html.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "<{tag}> opened {open} times, closed {close}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn min_fidelity_sets_the_bar() {
    let mutated = mutated_copy();
    let server = serve(mutated.path()).await;
    let uri = server.uri();
    let curated = recordings();
    let code = |extra: &[&str]| {
        let mut args = vec![
            "compare",
            "--recordings",
            curated.to_str().unwrap(),
            "--endpoint-url",
            &uri,
        ];
        args.extend_from_slice(extra);
        let out = conform(&args);
        (out.status.code(), stdout(&out), stderr(&out))
    };
    // 63 of 66 agree: 95.4%.
    let (c, text, _) = code(&["--min-fidelity", "0.96"]);
    assert_eq!(c, Some(1));
    assert!(
        text.contains("fidelity: 95.4% of exchanges (63 of 66 equivalent or identical) (at least 96.0% required: failed)"),
        "{text}"
    );
    let (c, text, _) = code(&["--min-fidelity", "0.95"]);
    assert_eq!(c, Some(0), "{text}");
    assert!(text.contains("(at least 95.0% required: passed)"), "{text}");
    let (c, _, err) = code(&["--min-fidelity", "95"]);
    assert_eq!(c, Some(2));
    assert!(
        err.contains("--min-fidelity is a share of exchanges from 0.0 to 1.0"),
        "{err}"
    );

    // Against a faithful endpoint, the strictest bar passes.
    let faithful = serve(&recordings()).await;
    let out = conform(&[
        "compare",
        "--recordings",
        curated.to_str().unwrap(),
        "--endpoint-url",
        &faithful.uri(),
        "--min-fidelity",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn broken_recordings_and_dead_endpoints() {
    // A broken recording: exit 2 and the file's location, as `serve` reports it.
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&recordings(), dir.path());
    let file = dir
        .path()
        .join("inspector/StartAssessmentRun/documented_sample_exchange.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("status: 200", "status: twohundred")).unwrap();
    let out = conform(&[
        "compare",
        "--recordings",
        dir.path().to_str().unwrap(),
        "--endpoint-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("documented_sample_exchange.yaml:"), "{err}");
    assert!(err.contains("1 recording error"), "{err}");

    let out = conform(&[
        "compare",
        "--recordings",
        "no/such/dir",
        "--endpoint-url",
        "http://x",
    ]);
    assert_eq!(out.status.code(), Some(2));

    // A dead endpoint: every exchange errored, exit 1, the run still ends.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let curated = recordings();
    let out = conform(&[
        "compare",
        "--recordings",
        curated.to_str().unwrap(),
        "--endpoint-url",
        &format!("http://127.0.0.1:{port}"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("connection refused"), "{text}");
    assert!(
        text.ends_with("0 identical, 0 equivalent, 0 different, 66 errored\n"),
        "{text}"
    );
    assert!(
        text.contains("fidelity: 0.0% of exchanges (0 of 66"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn new_ids_and_another_key_order_are_equivalent_not_different() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
    // An emulator's own answer to the documented sample: its own request id and run id, keys
    // and spacing its own, a date header; what clients read is the same.
    let stub = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Amzn-RequestId", "0f6e4a8e-1c1b-4e47-9d0a-3c3f2f1d9a77")
                .insert_header("Date", "Fri, 28 Nov 2026 00:00:00 GMT")
                .set_body_raw(
                    r#"{ "assessmentRunArn": "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T/run/0-Zz9Yy8Xx" }"#,
                    "application/x-amz-json-1.1",
                ),
        )
        .mount(&stub)
        .await;
    let file = recordings().join("inspector/StartAssessmentRun/documented_sample_exchange.yaml");
    let loaded = vec![conform::recording::load_recording(&file).unwrap()];
    let results = compare_recordings(
        &recordings(),
        &loaded,
        &client(&stub.uri()),
        &options(),
        |_| {},
    )
    .await;
    let c = &results[0].comparison;
    assert_eq!(c.class, Class::Equivalent, "{c:?}");
    assert_eq!((c.fields, c.equal_fields), (4, 4));
    assert!(c.actual.contains("/run/<run-id-1>"), "{}", c.actual);
}
