//! Verdicts as strong as their sources, through the binary against a stub: a firm mismatch is
//! a failure, a difference from a labelled guess is `DIFFERS` (failing only under
//! `--strict-inferred`), harmless differences are notes (failing only under `--strict`), and
//! the JSON and JUnit reports say the same.

use std::path::Path;

use wiremock::matchers::{body_partial_json, header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const ARN: &str =
    "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T/run/0-jOoroxyY";

/// name → case file body (after the common head).
const CASES: &[(&str, &str)] = &[
    (
        "guess_differs",
        r#"name: guess differs
source: model, length constraint
provenance: modeled
request: { body: { assessmentRunName: differs } }
expect:
  status: 4xx
guess:
  why: no source names the error type
  error: { type: InvalidInputException }
"#,
    ),
    (
        "firm_fails",
        r#"name: firm fails
source: model
provenance: modeled
request: { body: { assessmentRunName: differs } }
expect:
  status: 200
guess:
  why: the guess is never reached
  error: { type: ValidationException }
"#,
    ),
    (
        "inferred",
        r#"name: inferred case
source: nothing says
provenance: inferred
why: a throttled start may answer 503
request: { body: { assessmentRunName: differs } }
expect:
  status: 503
"#,
    ),
    (
        "noted",
        r#"name: noted
source: API reference
provenance: documented
request: { body: { assessmentRunName: noted } }
expect:
  status: 200
  headers: { content-type: application/x-amz-json-1.1 }
  body: { assessmentRunArn: { matches: arn } }
"#,
    ),
    (
        "steps",
        r#"name: steps
source: API reference
provenance: documented
steps:
  - name: start
    request: { body: { assessmentRunName: noted } }
    expect: { status: 200 }
    guess: { why: the run id might be longer, body_includes: { assessmentRunArn: { regex: 'run/0-[a-z]{20}$' } } }
    capture: { run_arn: $.assessmentRunArn }
  - name: uses the capture
    request:
      headers: { x-captured: "{{run_arn}}" }
      body: { assessmentRunName: captured }
    expect: { status: 204 }
"#,
    ),
];

fn write_suite(dir: &Path) {
    let op = dir.join("inspector/StartAssessmentRun");
    std::fs::create_dir_all(&op).unwrap();
    std::fs::write(
        dir.join("inspector/suite.yaml"),
        "target_prefix: InspectorService\n",
    )
    .unwrap();
    for (file, body) in CASES {
        std::fs::write(op.join(format!("{file}.yaml")), body).unwrap();
    }
}

/// Answers `differs` with a 400 ValidationException, `noted` with a 200 carrying a charset and
/// an extra member, and `captured` with 204 only when the captured ARN comes back.
async fn stub() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(
            serde_json::json!({"assessmentRunName": "differs"}),
        ))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            r#"{"__type":"ValidationException","message":"too long"}"#,
            "application/x-amz-json-1.1",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(
            serde_json::json!({"assessmentRunName": "noted"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(r#"{{"conformExtra":{{"nested":true}},"assessmentRunArn":"{ARN}"}}"#),
            "application/x-amz-json-1.1; charset=utf-8",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(
            serde_json::json!({"assessmentRunName": "captured"}),
        ))
        .and(header("x-captured", ARN))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

fn run(dir: &Path, server: &MockServer, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["run", dir.to_str().unwrap(), "--endpoint-url"];
    let uri = server.uri();
    args.push(&uri);
    args.extend_from_slice(extra);
    let out = conform(&args);
    (out.status.code(), without_timings(&stdout(&out)))
}

fn last_lines(text: &str) -> (String, String) {
    let lines: Vec<&str> = text.lines().collect();
    (
        lines[lines.len() - 2].to_owned(),
        lines[lines.len() - 1].to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_difference_from_a_guess_is_its_own_word_and_never_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    write_suite(dir.path());
    let server = stub().await;
    let (code, text) = run(
        dir.path(),
        &server,
        &[
            "--filter", "guess", "--filter", "inferred", "--filter", "noted", "--filter", "steps",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("DIFFERS  guess differs  ")
            && text.contains("       differs from a labelled guess (inferred)\n       why: no source names the error type\n"),
        "{text}"
    );
    assert!(
        text.contains("error type as botocore (body __type): expected InvalidInputException, found ValidationException"),
        "{text}"
    );
    assert!(text.contains("--- expected\n"), "the diff is shown: {text}");
    // An inferred case's expect is its guess, with the case's why.
    assert!(
        text.contains("DIFFERS  inferred case  ")
            && text.contains("why: a throttled start may answer 503")
            && text.contains("status: expected 503, found 400"),
        "{text}"
    );
    // The capture of a step whose guess differed still feeds the next step (which passes
    // only with the captured ARN): the case differs, it does not error.
    assert!(text.contains("DIFFERS  steps [step 1: start]"), "{text}");
    assert!(!text.contains("ERROR"), "{text}");
    assert!(text.contains("PASS   noted"), "{text}");
    assert!(
        text.contains("note: header content-type: \"application/x-amz-json-1.1; charset=utf-8\" has the expected media type"),
        "{text}"
    );
    assert!(
        text.contains("note: body.conformExtra: member not in the expectation"),
        "{text}"
    );
    let (notes, last) = last_lines(&text);
    assert_eq!(
        notes,
        "notes: 3 cases differ from a labelled guess (not failures; --strict-inferred fails them); 1 case shows harmless differences (--strict fails them)"
    );
    assert_eq!(last, "4 passed, 0 failed, 0 skipped");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_firm_mismatch_fails_even_when_a_guess_exists() {
    let dir = tempfile::tempdir().unwrap();
    write_suite(dir.path());
    let server = stub().await;
    let (code, text) = run(dir.path(), &server, &["--filter", "firm fails"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("FAIL   firm fails  "), "{text}");
    assert!(text.contains("status: expected 200, found 400"), "{text}");
    assert!(
        !text.contains("DIFFERS") && !text.contains("ValidationException, found"),
        "{text}"
    );
    assert_eq!(
        text.lines().last().unwrap(),
        "0 passed, 1 failed, 0 skipped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn strict_inferred_fails_the_differences_and_strict_the_notes() {
    let dir = tempfile::tempdir().unwrap();
    write_suite(dir.path());
    let server = stub().await;
    let (code, text) = run(
        dir.path(),
        &server,
        &[
            "--filter",
            "guess",
            "--filter",
            "noted",
            "--strict-inferred",
        ],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("FAIL   guess differs  ")
            && text.contains("differs from a labelled guess (inferred) (--strict-inferred)"),
        "{text}"
    );
    let (notes, last) = last_lines(&text);
    assert_eq!(
        notes,
        "notes: 1 case differs from a labelled guess (failures under --strict-inferred); 1 case shows harmless differences (--strict fails them)"
    );
    assert_eq!(last, "1 passed, 1 failed, 0 skipped");

    let (code, text) = run(dir.path(), &server, &["--filter", "noted", "--strict"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("FAIL   noted  ")
            && text.contains("harmless differences fail under --strict"),
        "{text}"
    );
    assert!(
        text.contains("charset=utf-8") && text.contains("body.conformExtra"),
        "{text}"
    );
    assert_eq!(
        text.lines().last().unwrap(),
        "0 passed, 1 failed, 0 skipped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_and_junit_say_differs_and_carry_the_notes() {
    let dir = tempfile::tempdir().unwrap();
    write_suite(dir.path());
    let server = stub().await;
    let reports = tempfile::tempdir().unwrap();
    let json = reports.path().join("r.json");
    let junit = reports.path().join("r.xml");
    let (code, text) = run(
        dir.path(),
        &server,
        &[
            "--filter",
            "guess",
            "--filter",
            "noted",
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["summary"]["differs"], 1);
    assert_eq!(report["summary"]["with_notes"], 1);
    assert_eq!(report["summary"]["passed"], 2);
    let case = |name: &str| {
        report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    let differs = case("guess differs");
    assert_eq!(differs["outcome"], "differs");
    assert_eq!(differs["why"], "no source names the error type");
    assert!(differs["diff"].as_str().unwrap().contains("--- expected"));
    assert!(!differs["mismatches"].as_array().unwrap().is_empty());
    let noted = case("noted");
    assert_eq!(noted["outcome"], "passed");
    let paths: Vec<&str> = noted["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["header content-type", "body.conformExtra"]);

    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("valid XML");
    let testcase = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
            .unwrap()
    };
    let differs = testcase("guess differs");
    assert!(
        !differs.descendants().any(|n| n.has_tag_name("failure")),
        "{xml}"
    );
    assert!(
        differs.descendants().any(|n| n.has_tag_name("property")
            && n.attribute("name") == Some("conform.verdict")
            && n.attribute("value") == Some("differs-from-guess")),
        "{xml}"
    );
    let out = differs
        .descendants()
        .find(|n| n.has_tag_name("system-out"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(
        out.contains("why: no source names the error type") && out.contains("--- expected"),
        "{out}"
    );
    let noted_out = testcase("noted")
        .descendants()
        .find(|n| n.has_tag_name("system-out"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(
        noted_out.contains("note: step 1: body.conformExtra"),
        "{noted_out}"
    );
    assert!(xml.contains("failures=\"0\""), "{xml}");
}
