//! The binary as a user drives it: the embedded default, stubs that answer rightly and
//! wrongly, dead endpoints, broken case files, reports and shards.

use std::collections::BTreeSet;
use std::time::Duration;

use wiremock::matchers::{body_partial_json, header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const SAMPLE_ARN: &str =
    "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T";

/// A stub that answers the fixture suite the way the documented service would.
async fn right_stub() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", "InspectorService.StartAssessmentRun"))
        .and(body_partial_json(serde_json::json!({"assessmentRunName": "missing"})))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .insert_header("x-amzn-requestid", "ed349455-f76d-11e5-b473-ed8493878c40")
                .set_body_raw(
                    r#"{"__type":"NoSuchEntityException","errorCode":"ASSESSMENT_TEMPLATE_DOES_NOT_EXIST","canRetry":false,"message":"no"}"#,
                    "application/x-amz-json-1.1",
                ),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header(
            "x-amz-target",
            "InspectorService.StartAssessmentRun",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-amzn-requestid", "ed349455-f76d-11e5-b473-ed8493878c40")
                .set_body_raw(
                    format!(r#"{{"assessmentRunArn":"{SAMPLE_ARN}/run/0-jOoroxyY"}}"#),
                    "application/x-amz-json-1.1",
                ),
        )
        .mount(&server)
        .await;
    server
}

#[test]
fn the_embedded_default_passes_the_whole_suite() {
    let out = conform(&["run", "--color", "never"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    let last = text.lines().last().unwrap();
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 40, "{last}");
    assert!(last.ends_with(" passed, 0 failed, 0 skipped"), "{last}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_right_stub_passes_and_a_wrong_one_fails_with_a_diff() {
    let server = right_stub().await;
    let fixtures = fixture("stub");
    let out = conform(&[
        "run",
        fixtures.to_str().unwrap(),
        "--endpoint-url",
        &server.uri(),
        "--filter",
        "sample",
        "--filter",
        "no such",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    // Wrong: the error type only in the header (botocore sees none), and canRetry a string.
    let wrong = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("x-amzn-errortype", "NoSuchEntityException")
                .set_body_raw(
                    r#"{"errorCode":"ASSESSMENT_TEMPLATE_DOES_NOT_EXIST","canRetry":"false","message":"no"}"#,
                    "application/json",
                ),
        )
        .mount(&wrong)
        .await;
    let out = conform(&[
        "run",
        fixtures.to_str().unwrap(),
        "--endpoint-url",
        &wrong.uri(),
        "--filter",
        "no such",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = without_timings(&stdout(&out));
    insta::with_settings!({filters => vec![(r"\S*tests/fixtures/\S+\.yaml", "[file]")]}, {
        insta::assert_snapshot!("wrong_stub_diff", text);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn captures_flow_between_steps() {
    let server = right_stub().await;
    // The stub answers the second start with the same ARN: the `not` alternative must fail.
    // The fixture is `inferred`, so that is a difference from a guess: --strict-inferred
    // makes it the failure this test looks for.
    let out = conform(&[
        "run",
        fixture("stub").to_str().unwrap(),
        "--endpoint-url",
        &server.uri(),
        "--filter",
        "two steps",
        "--strict-inferred",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("FAIL   two steps [step 2: again]"), "{text}");
    assert!(
        text.contains("<not arn:aws:inspector"),
        "captured value was not used: {text}"
    );
}

#[test]
fn a_dead_endpoint_is_an_error_outcome_and_the_run_ends() {
    // Bind then drop: the port is closed, so connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = conform(&[
        "run",
        fixture("stub").to_str().unwrap(),
        "--endpoint-url",
        &url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("ERROR  sample"), "{text}");
    assert!(text.contains("connection refused"), "{text}");
    assert!(text.ends_with("0 passed, 3 failed, 0 skipped\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn misbehaving_endpoints_get_clear_outcomes() {
    let server = MockServer::start().await;
    Mock::given(body_partial_json(
        serde_json::json!({"assessmentRunName": "examplerun"}),
    ))
    .respond_with(
        ResponseTemplate::new(500).set_body_raw("<html><body>Oops</body></html>", "text/html"),
    )
    .mount(&server)
    .await;
    Mock::given(body_partial_json(
        serde_json::json!({"assessmentRunName": "missing"}),
    ))
    .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
    .mount(&server)
    .await;
    Mock::given(body_partial_json(
        serde_json::json!({"assessmentRunName": "twice"}),
    ))
    .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 3 * 1024 * 1024]))
    .mount(&server)
    .await;
    let out = conform(&[
        "run",
        fixture("stub").to_str().unwrap(),
        "--endpoint-url",
        &server.uri(),
        "--timeout",
        "0.5",
        "--max-body",
        "1048576",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("body (not JSON): <html><body>Oops</body></html>"),
        "{text}"
    );
    assert!(text.contains("no response within 500ms"), "{text}");
    assert!(
        text.contains("response body larger than 1048576 bytes"),
        "{text}"
    );
}

#[test]
fn check_reports_every_broken_file_with_its_location() {
    let out = conform(&["check", fixture("broken").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out).replace(&root().display().to_string(), "[root]");
    for needle in [
        "bad_provenance.yaml:3:13",
        "did you mean `documented`?",
        "bad_regex.yaml:7:32",
        "bad_yaml.yaml:",
        "undefined_variable.yaml:6:29",
        "did you mean `template_arn`?",
        "unknown_key.yaml:5:3",
        "did you mean `status`?",
        "wrong_type.yaml:5:11",
        "6 case-file errors (no case was run)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    insta::assert_snapshot!("broken_fixtures", text);
    // `run` refuses too, before running anything.
    let out = conform(&[
        "run",
        fixture("broken").to_str().unwrap(),
        "--endpoint-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
}

#[test]
fn shards_cover_the_suite_exactly_once_and_reports_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for k in 1..=3 {
        let json = dir.path().join(format!("{k}.json"));
        let junit = dir.path().join(format!("{k}.xml"));
        let shard = format!("{k}/3");
        let out = conform(&[
            "run",
            "--shard",
            &shard,
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        for case in report["cases"].as_array().unwrap() {
            seen.push(case["name"].as_str().unwrap().to_owned());
        }
        let xml = std::fs::read_to_string(&junit).unwrap();
        let doc = roxmltree::Document::parse(&xml).expect("valid XML");
        let cases = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count();
        assert_eq!(cases, report["cases"].as_array().unwrap().len());
    }
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a case ran in two shards");
    let list = stdout(&conform(&["list"]));
    let total: usize = list
        .lines()
        .last()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(seen.len(), total, "a case ran in no shard");
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_keeps_failures_and_errors_apart() {
    let server = right_stub().await;
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _ = server;
    let out = conform(&[
        "run",
        fixture("stub").to_str().unwrap(),
        "--endpoint-url",
        &format!("http://127.0.0.1:{port}"),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("error"))
            .count(),
        3
    );
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        0
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(conform(&["run", "--shard", "4/3"]).status.code(), Some(2));
    assert_eq!(conform(&["run", "--var", "novalue"]).status.code(), Some(2));
    assert_eq!(
        conform(&["run", "--endpoint-url", "ftp://x"]).status.code(),
        Some(2)
    );
    let out = conform(&["serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--allow-remote"));
}

/// Each way of getting LimitExceededException wrong fails the suite's case with a diff that
/// names it (its fault-injection case checks the error type and members firmly; the cases whose
/// error type is a labelled guess would only differ, not fail). The wrong stub is the replay of a mutated copy of the recordings.
#[test]
fn the_suite_catches_each_wrong_error_answer() {
    let original = std::fs::read_to_string(
        root().join("recordings/inspector/StartAssessmentRun/error_limit_exceeded_fault.yaml"),
    )
    .unwrap();
    let mutations: &[(&str, &str, &str, &str)] = &[
        (
            "wrong status",
            "status: 400",
            "status: 404",
            "status: expected 400, found 404",
        ),
        (
            "missing __type",
            r#"{"__type":"LimitExceededException","#,
            "{",
            "error type as botocore (body __type): expected LimitExceededException, found <none>",
        ),
        (
            "wrong errorCode",
            r#""errorCode":"ASSESSMENT_RUN_LIMIT_EXCEEDED""#,
            r#""errorCode":"ASSESSMENT_RUN_DOES_NOT_EXIST""#,
            "body.errorCode: expected <one of",
        ),
        (
            "missing canRetry",
            r#","canRetry":false"#,
            "",
            "body.canRetry: missing",
        ),
        (
            "wrong content type",
            "content-type: application/x-amz-json-1.1 }",
            "content-type: application/json }",
            "header content-type: expected \"application/x-amz-json-1.1\"",
        ),
    ];
    for (what, from, to, expected_line) in mutations {
        assert!(
            original.contains(from),
            "{what}: the recording no longer contains {from:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&root().join("recordings"), dir.path());
        std::fs::write(
            dir.path()
                .join("inspector/StartAssessmentRun/error_limit_exceeded_fault.yaml"),
            original.replacen(from, to, 1),
        )
        .unwrap();
        let out = conform(&[
            "run",
            "--recordings",
            dir.path().to_str().unwrap(),
            "--filter",
            "LimitExceededException",
        ]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {text}");
        assert!(
            text.contains(expected_line),
            "{what}: expected {expected_line:?} in\n{text}"
        );
        assert!(
            text.contains("--- expected\n") || text.contains("--- expected"),
            "{what}: no diff in\n{text}"
        );
    }
}

/// A request that differs from a recording in one body member is reported with that member.
#[test]
fn a_near_miss_names_the_member_that_differs() {
    let dir = tempfile::tempdir().unwrap();
    let case_dir = dir.path().join("inspector/StartAssessmentRun");
    std::fs::create_dir_all(&case_dir).unwrap();
    std::fs::copy(
        root().join("cases/inspector/suite.yaml"),
        dir.path().join("inspector/suite.yaml"),
    )
    .unwrap();
    // The suite.yaml names its model by a relative path.
    crate::support::copy_tree(
        &root().join("cases/inspector/model"),
        &dir.path().join("inspector/model"),
    );
    let case = std::fs::read_to_string(
        root().join("cases/inspector/StartAssessmentRun/documented_sample_exchange.yaml"),
    )
    .unwrap();
    std::fs::write(
        case_dir.join("near.yaml"),
        case.replacen(
            "assessmentRunName: examplerun",
            "assessmentRunName: examplerunX",
            1,
        ),
    )
    .unwrap();
    let out = conform(&["run", dir.path().to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("NoMatchingRecordingException"), "{text}");
    assert!(
        text.contains(
            "body.assessmentRunName: expected \\\"examplerun\\\", found \\\"examplerunX\\\""
        ),
        "{text}"
    );
}

/// `--snapshots` from the binary alone: lock, then a changed recorded member fails exactly the
/// affected case with a diff; nothing is written in CI unless asked.
#[test]
fn binary_snapshots_catch_exactly_the_changed_response() {
    let snaps = tempfile::tempdir().unwrap();
    let snap_dir = snaps.path().to_str().unwrap();
    // The curated operation only: `--snapshots` names a snapshot by case file name, which
    // repeats across operations' folders (error_internal.yaml).
    let curated = "cases/inspector/StartAssessmentRun";
    let out = conform(&[
        "run",
        curated,
        "--snapshots",
        snap_dir,
        "--update-snapshots",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let locked = std::fs::read_dir(snaps.path()).unwrap().count();
    assert!(locked >= 40, "{locked} snapshots");

    let recordings = tempfile::tempdir().unwrap();
    copy_tree(&root().join("recordings"), recordings.path());
    let file = recordings
        .path()
        .join("inspector/StartAssessmentRun/error_internal_fault.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    // canRetry is checked only as a boolean by the case: the expectation passes, the snapshot does not.
    let changed = if text.contains(r#""canRetry":true"#) {
        text.replacen(r#""canRetry":true"#, r#""canRetry":false"#, 1)
    } else {
        text.replacen(r#""canRetry":false"#, r#""canRetry":true"#, 1)
    };
    assert_ne!(text, changed, "the recording no longer has canRetry");
    std::fs::write(&file, changed).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .args([
            "run",
            curated,
            "--snapshots",
            snap_dir,
            "--recordings",
            recordings.path().to_str().unwrap(),
        ])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.trim_end().ends_with("42 passed, 1 failed, 0 skipped")
            || text.contains(" passed, 1 failed, "),
        "{text}"
    );
    assert!(text.contains("FAIL   InternalException"), "{text}");
    assert!(
        text.contains("-      canRetry:") && text.contains("+      canRetry:"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_dir(snaps.path()).unwrap().count(),
        locked,
        "CI wrote a pending snapshot"
    );
}

/// `conform serve --strict`: a missed request and the unused recordings are listed at
/// shutdown, and the exit code says so; the near-miss report goes to stderr.
#[test]
fn serve_strict_reports_misses_and_unused_recordings() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["serve", "--addr", "127.0.0.1:0", "--strict"])
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("listening on http://")
        .expect(&line)
        .to_owned();
    let body = r#"{"assessmentRunName":"examplerunX","assessmentTemplateArn":"arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T"}"#;
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: InspectorService.StartAssessmentRun\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains("NoMatchingRecordingException"), "{answer}");
    assert!(answer.contains("body.assessmentRunName"), "{answer}");
    // Ctrl-C.
    interrupt(child.id());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no recording matches POST /"), "{err}");
    assert!(err.contains("missed: POST /"), "{err}");
    assert!(
        err.contains("unused: ") && err.contains("documented_sample_exchange.yaml (exchange 1)"),
        "{err}"
    );
}

fn interrupt(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The port is bound before the recordings are read: a port already taken is what a start
/// with a broken folder reports, not the folder, and the folder is never read.
#[test]
fn serve_binds_its_port_before_it_reads_the_recordings() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "provenance: [\n").unwrap();
    let out = conform(&[
        "serve",
        "--recordings",
        dir.path().to_str().unwrap(),
        "--addr",
        &addr,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(!err.contains("bad.yaml"), "{err}");
}

/// A broken recordings folder is reported with file and line before the server starts.
#[test]
fn serve_refuses_a_broken_recordings_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "provenance: documented\nsource: x\nnote: y\nexchanges:\n  - request: {method: POST}\n",
    )
    .unwrap();
    let out = conform(&[
        "serve",
        "--recordings",
        dir.path().to_str().unwrap(),
        "--addr",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.yaml:5:"), "{err}");
    assert!(
        err.contains("missing field `path`") || err.contains("missing field"),
        "{err}"
    );
}
