//! The service model as data: a second, unrelated awsJson1_0 model (hand-written `notes`, and
//! botocore's Route 53 Recovery Cluster, gzipped) loads, validates and generates with nothing
//! Inspector-specific; broken models are refused with a located message and exit 2; and no
//! Inspector literal is left in `src/` outside comments and tests.

use std::path::Path;

use conform::exchange::Headers;
use conform::model::{self, Endpoints, Format, Protocol};

use crate::support::{conform, conform_in, fixture, root, stderr, stdout};

fn notes() -> model::Model {
    model::load_model(&fixture("models/notes/notes.json")).unwrap()
}

#[test]
fn a_second_unrelated_model_gives_its_own_metadata() {
    let m = notes();
    let s = &m.service;
    assert_eq!(s.protocol, Protocol::AwsJson1_0);
    assert_eq!(s.content_type(), "application/x-amz-json-1.0");
    assert_eq!(s.target("PutNote"), "NotesApi.PutNote");
    assert_eq!(
        (s.signing_name.as_str(), s.endpoint_prefix.as_str()),
        ("notes-sign", "notes")
    );
    assert_eq!(
        m.operation_names().collect::<Vec<_>>(),
        ["GetNote", "Ping", "PutNote"]
    );
    // The service's common error is every operation's error.
    let ping = m.operation("Ping").unwrap();
    assert_eq!(
        (ping.input.as_deref(), ping.output.as_deref()),
        (None, None)
    );
    assert_eq!(ping.errors, ["example.notes#Throttled"]);
    let e = Endpoints::load(&model::endpoints_path_for(&m.source.path)).unwrap();
    let north = e.resolve("Notes", "north-1", true).unwrap();
    assert_eq!(north.url, "https://notes-fips.north-1.example.test");
    assert!(e.resolve("Notes", "south-1", true).is_err());
    assert!(e.resolve("Notes", "us-west-2", false).is_err());
}

#[test]
fn the_second_model_validates_responses() {
    let m = notes();
    let get = m.operation("GetNote").unwrap();
    let v = |status: u16, body: &str| {
        model::validate_response(&m, get, status, &Headers::new(), body.as_bytes())
    };
    let ok = v(
        200,
        r#"{"id": "n-1", "text": "t", "color": "blue", "stars": 5, "tags": ["a"],
            "attachment": "aGk=", "updated": "2024-01-01T00:00:00Z",
            "folder": {"name": "a", "parent": {"name": "b", "parent": {"name": "c"}}}}"#,
    );
    assert!(ok.findings.is_empty(), "{ok:#?}");
    let bad = v(
        200,
        r#"{"id": "x-1", "text": "t", "color": "red", "stars": 6, "tags": ["a","b","c","d"],
            "updated": 5, "folder": {"parent": {"name": ""}}, "extra": 1}"#,
    );
    let found: Vec<(String, String)> = bad
        .violations()
        .map(|f| (f.path.clone(), f.rule.clone()))
        .collect();
    let want = [
        ("body.color", "smithy.api#enum"),
        ("body.folder.parent.name", "smithy.api#length"),
        ("body.folder.name", "smithy.api#required"),
        ("body.id", "smithy.api#pattern"),
        ("body.stars", "smithy.api#range"),
        ("body.tags", "smithy.api#length"),
        ("body.updated", "smithy.api#timestampFormat"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(found, want);
    assert_eq!(
        bad.notes().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        ["body.extra"]
    );
    // Errors: declared (with httpError 404), the service-wide one, and an unknown one.
    assert!(
        v(404, r#"{"__type": "NoteNotFound", "message": "m"}"#)
            .findings
            .is_empty()
    );
    assert!(
        v(503, r#"{"__type": "example.notes#Throttled"}"#)
            .findings
            .is_empty()
    );
    let unknown = v(400, r#"{"__type": "NoteTooLarge", "limit": 1}"#);
    assert_eq!(unknown.violations().next().unwrap().rule, "errors");
}

#[test]
fn a_gzipped_botocore_model_of_another_service_loads_and_validates() {
    let path = fixture("models/route53-recovery-cluster-2019-12-02.json.gz");
    let m = model::load_model(&path).unwrap();
    assert_eq!(m.source.format, Format::Botocore);
    assert_eq!(m.service.protocol, Protocol::AwsJson1_0);
    assert_eq!(m.service.target_prefix, "ToggleCustomerAPI");
    assert_eq!(m.service.signing_name, "route53-recovery-cluster");
    let op = m.operation("GetRoutingControlState").unwrap();
    let arn = "arn:aws:route53-recovery-control::111122223333:controlpanel/abc/routingcontrol/def";
    let body = format!(r#"{{"RoutingControlArn": "{arn}", "RoutingControlState": "On"}}"#);
    let v = model::validate_response(&m, op, 200, &Headers::new(), body.as_bytes());
    assert!(v.findings.is_empty(), "{v:#?}");
    let body = format!(r#"{{"RoutingControlArn": "{arn}", "RoutingControlState": "Maybe"}}"#);
    let v = model::validate_response(&m, op, 200, &Headers::new(), body.as_bytes());
    assert_eq!(
        v.violations().next().unwrap().path,
        "body.RoutingControlState"
    );
}

#[test]
fn broken_models_are_refused_with_where_and_what() {
    let cases = [
        ("not-json.json", "not-json.json:5:"),
        ("not-a-model.json", "not a service model"),
        ("restjson1.json", "protocol `restJson1` is not supported"),
        (
            "awsquery-botocore.json",
            "/metadata/protocol: protocol `awsQuery` is not supported",
        ),
        (
            "missing-shape.json",
            "/shapes/example.broken#OpInput/members/name: shape `example.broken#Nmae` does not exist in the model; did you mean `Name`?",
        ),
    ];
    for (file, want) in cases {
        let path = fixture(&format!("models/broken/{file}"));
        let out = conform(&["model", "check", &path.display().to_string()]);
        assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(want), "{file}: {err}");
        assert!(err.contains(file), "{file}: {err}");
        assert!(stdout(&out).is_empty(), "{file}");
    }
}

#[test]
fn model_check_and_validate_on_the_command_line() {
    let out = conform(&[
        "model",
        "check",
        "cases/inspector/model/inspector-2016-02-16.json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("target prefix InspectorService, signing name inspector"),
        "{text}"
    );
    assert!(text.contains("37 operations"), "{text}");
    assert!(text.contains("14 regions (6 with FIPS)"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, r#"{"__type": "NoSuchEntityException", "message": "m", "errorCode": "NOPE", "canRetry": false}"#).unwrap();
    let model = root()
        .join("cases/inspector/model/service-2.json")
        .display()
        .to_string();
    let body = body.display().to_string();
    let run = |op: &str| {
        conform_in(
            dir.path(),
            &[
                "model",
                "validate",
                "--model",
                &model,
                "--operation",
                op,
                "--status",
                "400",
                &body,
            ],
        )
    };
    let out = run("StartAssessmentRun");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("violation: body.errorCode:"), "{text}");
    assert!(
        text.contains("(smithy.api#enum of NoSuchEntityErrorCode), found \"NOPE\""),
        "{text}"
    );
    let out = run("StartAssesmentRun");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `StartAssessmentRun`?"),
        "{}",
        stderr(&out)
    );
}

/// Every generated file for the notes model names only what the notes model says, and the
/// generated suite passes against the replay of its generated recordings.
#[test]
fn the_second_model_generates_a_suite_that_passes() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("models/notes/notes.json").display().to_string();
    let out = conform_in(
        dir.path(),
        &[
            "generate",
            "--model",
            &model,
            "--out",
            "cases",
            "--recordings",
            "recs",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut files = 0;
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
            assert!(!text.contains("inspector"), "{}", path.display());
            assert!(!text.contains("x-amz-json-1.1"), "{}", path.display());
        }
    }
    assert!(files > 10, "{files} files");
    let out = conform_in(dir.path(), &["run", "cases", "--recordings", "recs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains(" 0 failed"), "{}", stdout(&out));
}

/// Lines of Rust under `src/` outside comments and `#[cfg(test)]` modules (by the project's
/// convention, unit tests sit at the bottom of each file) that name Inspector.
fn inspector_literals(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            inspector_literals(&path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("#[cfg(test)]") {
                break;
            }
            if code.starts_with("//") {
                continue;
            }
            // A trailing comment after code: only the code counts (a `//` inside a string,
            // such as a URL, keeps the line whole).
            let code = match code.find(" //") {
                Some(at) if !code[..at].contains('"') => &code[..at],
                _ => code,
            };
            let lower = code.to_lowercase();
            if lower.contains("inspector") {
                out.push(format!("{}:{}: {}", path.display(), i + 1, code.trim()));
            }
        }
    }
}

#[test]
fn no_inspector_literal_is_left_in_src() {
    let mut found = Vec::new();
    inspector_literals(&root().join("src"), &mut found);
    assert!(
        found.is_empty(),
        "Inspector-specific literals in src/ (move them to cases/inspector/model/):\n{}",
        found.join("\n")
    );
    // The scan sees literals at all: the same scan over a line that has one finds it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.rs"),
        "// inspector in a comment\nconst A: &str = \"InspectorService\";\n#[cfg(test)]\nconst B: &str = \"inspector\";\n",
    )
    .unwrap();
    let mut probe = Vec::new();
    inspector_literals(dir.path(), &mut probe);
    assert_eq!(probe.len(), 1, "{probe:?}");
}

/// A suite whose suite.yaml names a model: `conform run` fails a response that breaks the
/// model even where the case's own expectation is silent, and shows what is only a note.
#[test]
fn run_validates_every_response_against_the_suite_model() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases/notes/GetNote");
    let recs = dir.path().join("recs/notes/GetNote");
    std::fs::create_dir_all(&cases).unwrap();
    std::fs::create_dir_all(&recs).unwrap();
    let model = fixture("models/notes/notes.json").display().to_string();
    std::fs::write(
        dir.path().join("cases/notes/suite.yaml"),
        // No target_prefix, no content type: the model gives NotesApi and awsJson 1.0.
        format!("model: {model:?}\n"),
    )
    .unwrap();
    let case = |name: &str, id: &str| {
        format!(
            "name: {name}\nsource: test\nprovenance: modeled\n\
             request:\n  body: {{ id: {id} }}\n\
             expect:\n  status: 200\n  body_includes: {{ id: {id} }}\n"
        )
    };
    let recording = |id: &str, body: &str| {
        format!(
            "provenance: inferred\nsource: test\nnote: test\nexchanges:\n  - request:\n      method: POST\n      path: /\n\
             \x20     headers: {{ content-type: application/x-amz-json-1.0, x-amz-target: NotesApi.GetNote }}\n\
             \x20     body: {{ id: {id} }}\n    response:\n      status: 200\n\
             \x20     headers: {{ content-type: application/x-amz-json-1.0 }}\n      body: '{body}'\n"
        )
    };
    std::fs::write(cases.join("good.yaml"), case("good", "n-1")).unwrap();
    std::fs::write(cases.join("bad.yaml"), case("bad", "n-2")).unwrap();
    std::fs::write(
        recs.join("good.yaml"),
        recording("n-1", r#"{"id": "n-1", "text": "t", "zzz": 1}"#),
    )
    .unwrap();
    std::fs::write(
        recs.join("bad.yaml"),
        recording("n-2", r#"{"id": "n-2", "text": 5}"#),
    )
    .unwrap();
    let out = conform_in(dir.path(), &["run", "cases", "--recordings", "recs"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("PASS   good"), "{text}");
    assert!(
        text.contains("note: body.zzz: Note has no member `zzz`"),
        "{text}"
    );
    assert!(text.contains("FAIL   bad"), "{text}");
    assert!(
        text.contains(
            "body.text: modeled: a string is a JSON string (type of example.notes#Text), found 5"
        ),
        "{text}"
    );
    assert!(text.contains("1 passed, 1 failed"), "{text}");

    // A suite.yaml naming a model that does not load is a suite error, located, exit 2.
    std::fs::write(
        dir.path().join("cases/notes/suite.yaml"),
        "target_prefix: NotesApi\nmodel: nowhere.json\n",
    )
    .unwrap();
    let out = conform_in(dir.path(), &["run", "cases", "--recordings", "recs"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("suite.yaml:2:"), "{err}");
    assert!(err.contains("nowhere.json: cannot read"), "{err}");
}

/// A recordings folder of the notes service with a service.yaml, one recording valid and one
/// whose response breaks the model (`text` a number).
fn notes_recordings(dir: &Path) -> std::path::PathBuf {
    let recs = dir.join("recs");
    let op = recs.join("notes/GetNote");
    std::fs::create_dir_all(&op).unwrap();
    std::fs::copy(
        fixture("models/notes/notes.json"),
        recs.join("notes/notes.json"),
    )
    .unwrap();
    std::fs::write(recs.join("notes/service.yaml"), "model: notes.json\n").unwrap();
    for (name, id, body) in [
        ("good", "n-1", r#"{"id": "n-1", "text": "t"}"#),
        ("bad", "n-2", r#"{"id": "n-2", "text": 5}"#),
    ] {
        std::fs::write(
            op.join(format!("{name}.yaml")),
            format!(
                "provenance: inferred\nsource: test\nnote: test\nexchanges:\n  - request:\n      method: POST\n      path: /\n\
                 \x20     headers: {{ content-type: application/x-amz-json-1.0, x-amz-target: NotesApi.GetNote }}\n\
                 \x20     body: {{ id: {id} }}\n    response:\n      status: 200\n\
                 \x20     headers: {{ content-type: application/x-amz-json-1.0 }}\n      body: '{body}'\n"
            ),
        )
        .unwrap();
    }
    recs
}

/// `conform serve --strict` over `recs`, which must refuse to serve (exit 2): its stderr.
fn serve_strict(recs: &str) -> String {
    let out = conform(&[
        "serve",
        "--recordings",
        recs,
        "--addr",
        "127.0.0.1:0",
        "--strict",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    stderr(&out)
}

#[test]
fn serve_validates_its_recordings_at_load_and_strict_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let recs = notes_recordings(dir.path()).display().to_string();
    let err = serve_strict(&recs);
    assert!(
        err.contains("bad.yaml: exchange 1: body.text: a string is a JSON string (type of example.notes#Text), found 5"),
        "{err}"
    );
    assert!(
        err.contains("1 recorded responses break their service model"),
        "{err}"
    );
    assert!(!err.contains("good.yaml"), "{err}");

    // Without --strict the violation is a warning and the server starts: the check runs once
    // it answers, and Ctrl-C waits for it, so the warning is there before the shutdown report.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["serve", "--recordings", &recs, "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout_pipe = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout_pipe, &mut line).unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let err = String::from_utf8_lossy(&output.stderr);
    let warning = err
        .find("warning: ")
        .filter(|_| err.contains("bad.yaml: exchange 1: body.text"))
        .unwrap_or_else(|| panic!("no warning of bad.yaml: {err}"));
    let report = err.find("requests answered").expect("the shutdown report");
    assert!(warning < report, "{err}");
    assert!(!err.contains("good.yaml"), "{err}");
}

#[test]
fn serve_keeps_its_findings_until_the_model_or_a_recording_changes() {
    let dir = tempfile::tempdir().unwrap();
    let recs_path = notes_recordings(dir.path());
    let recs = recs_path.display().to_string();
    // Files changed in the last 2 s are never cached, and the findings are kept only for
    // recordings that all came from the cache.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let strict = || serve_strict(&recs);
    let memo = recs_path.join(".conform-cache.findings");
    let bad = "bad.yaml: exchange 1: body.text: a string is a JSON string (type of example.notes#Text), found 5";
    // The first start writes the cache; the second validates what it read from it and keeps
    // the findings; the third takes them as kept: the same report, word for word.
    let first = strict();
    assert!(first.contains(bad), "{first}");
    assert!(!memo.exists());
    let second = strict();
    assert!(memo.exists());
    let third = strict();
    assert_eq!(second, first);
    assert_eq!(third, first);

    // A changed model is validated against again: `text` of one character now breaks it.
    let model = recs_path.join("notes/notes.json");
    let text = std::fs::read_to_string(&model).unwrap();
    let changed = text.replace(
        r#""smithy.api#length": { "max": 200 }"#,
        r#""smithy.api#length": { "min": 2, "max": 200 }"#,
    );
    assert_ne!(changed, text);
    std::fs::write(&model, changed).unwrap();
    let after = strict();
    assert!(
        after.contains("good.yaml: exchange 1: body.text"),
        "{after}"
    );
    assert!(after.contains(bad), "{after}");

    // So is a changed recording: the bad one made good, and only the model's change remains.
    let bad_file = recs_path.join("notes/GetNote/bad.yaml");
    let fixed = std::fs::read_to_string(&bad_file)
        .unwrap()
        .replace(r#""text": 5"#, r#""text": "long enough""#);
    std::fs::write(&bad_file, fixed).unwrap();
    let err = strict();
    assert!(!err.contains("bad.yaml"), "{err}");
    assert!(err.contains("good.yaml: exchange 1: body.text"), "{err}");
}

#[test]
fn compare_reports_the_recordings_model_violations() {
    let dir = tempfile::tempdir().unwrap();
    let recs = notes_recordings(dir.path()).display().to_string();
    // Nothing listens on a port just released: every exchange errors, and the model
    // section still says what the recordings break.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = conform(&[
        "compare",
        "--recordings",
        &recs,
        "--endpoint-url",
        &url,
        "--timeout",
        "2",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("model: ") && text.contains("bad.yaml: exchange 1: body.text"),
        "{text}{}",
        stderr(&out)
    );
    assert!(
        text.contains("model: 2 of 2 recordings checked against their service model, 1 violations"),
        "{text}"
    );
}

#[tokio::test]
async fn compare_validates_the_endpoints_answers_too() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
    let dir = tempfile::tempdir().unwrap();
    let recs = notes_recordings(dir.path()).display().to_string();
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-amzn-requestid", "r-1")
                .set_body_raw(r#"{"id": "n-1", "text": 5}"#, "application/x-amz-json-1.0"),
        )
        .mount(&server)
        .await;
    let uri = server.uri();
    let json = dir.path().join("report.json");
    let json_arg = json.display().to_string();
    let out = tokio::task::spawn_blocking(move || {
        conform(&[
            "compare",
            "--recordings",
            &recs,
            "--endpoint-url",
            &uri,
            "--json",
            &json_arg,
        ])
    })
    .await
    .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("model: the endpoint's answer to notes/GetNote/good.yaml: body.text: a string is a JSON string"),
        "{text}"
    );
    assert!(
        text.contains("model: 2 violations in the endpoint's answers"),
        "{text}"
    );
    // The JSON report carries them per exchange.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let exchanges = report["exchanges"].as_array().unwrap();
    assert_eq!(exchanges.len(), 2);
    for e in exchanges {
        let v = e["model_violations"].as_array().unwrap();
        assert_eq!(v.len(), 1, "{e}");
        assert!(v[0].as_str().unwrap().starts_with("body.text: "), "{e}");
    }
}

/// `--aws` and `--sign` take the service's endpoints and signing name from the suite's model:
/// an unknown region is named with the regions the data lists, and a suite without a model
/// cannot be signed. (Each error comes before any credential is looked for or request sent.)
#[test]
fn aws_targets_come_from_the_model_data() {
    // Inspector's suite: `cases/` also holds ACM's and SQS's, and one run signs for one service.
    let out = conform(&["run", "cases/inspector", "--aws", "--region", "us-west-3"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(
            "Amazon Inspector has no endpoint in region `us-west-3`, did you mean `us-west-2`?"
        ),
        "{err}"
    );
    assert!(err.contains("us-gov-west-1"), "{err}");
    let out = conform(&[
        "run",
        "cases/inspector",
        "--aws",
        "--region",
        "eu-west-1",
        "--fips",
    ]);
    assert!(
        stderr(&out).contains("has no FIPS endpoint in region `eu-west-1`"),
        "{}",
        stderr(&out)
    );

    // The notes suite: its own (made-up) regions.
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases/notes/Ping");
    std::fs::create_dir_all(&cases).unwrap();
    let model = fixture("models/notes/notes.json").display().to_string();
    std::fs::write(
        dir.path().join("cases/notes/suite.yaml"),
        format!("model: {model:?}\n"),
    )
    .unwrap();
    std::fs::write(
        cases.join("ping.yaml"),
        "name: ping\nsource: test\nprovenance: modeled\nexpect:\n  status: 200\n",
    )
    .unwrap();
    let out = conform_in(
        dir.path(),
        &["run", "cases", "--aws", "--region", "us-west-2"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("Example Notes has no endpoint in region `us-west-2`"),
        "{err}"
    );
    assert!(err.contains("regions with one: north-1, south-1"), "{err}");

    let out = conform(&[
        "run",
        "tests/fixtures/stub",
        "--sign",
        "--region",
        "us-west-2",
        "--endpoint-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no suite.yaml above the selected cases names a `model:`"),
        "{}",
        stderr(&out)
    );
}
