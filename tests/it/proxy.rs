//! `conform proxy` (issue 13): the Rust SDK through the proxy in front of the local
//! SigV4-checking stand-in, recordings replayed back, `--compare` naming the one wrong field,
//! the modes, a dead or junk upstream, AWS recordings protected, and no credential (the
//! client's or conform's) in any file or output. Every server is local; every credential is a
//! distinctive fake.

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_inspector::config::retry::RetryConfig;
use aws_sdk_inspector::config::{BehaviorVersion, Region};
use aws_sdk_inspector::error::ProvideErrorMetadata;
use conform::aws::SigV4Signer;
use conform::compare::Class;
use conform::http::{Client, ClientOptions, Signer};
use conform::proxy::{Judge, Mode, ProxyConfig, ProxyServer, Upstream};
use conform::recording::{RecordingProvenance, load_recordings};
use conform::replay::{Replay, ReplayServer};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support_sigv4::{Keys, StandIn};

const TEMPLATE_ARN: &str =
    "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T";
const TARGET: &str = "InspectorService.StartAssessmentRun";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// What the client signs with: the proxy must drop it, and never write it anywhere.
const CLIENT_KEY: &str = "AKIDPROXYCLIENTKEY8Q";
const CLIENT_SECRET: &str = "proxyClientSecretWv3Nq8Lz5Kt2Rb7Xm4Hj9Pd6";
const CLIENT_TOKEN: &str = "proxyClientSessionTokenFz2Yk7Mw4Qs9Vn1Bt6Lc3";
/// What conform signs with (the stand-in knows these, and only these).
const CONFORM_KEY: &str = "AKIDPROXYCONFORMKEY3";
const CONFORM_SECRET: &str = "proxyConformSecretGh5Tr8Mn2Kq7Wz4Xb1Lv6Jd";
const CONFORM_TOKEN: &str = "proxyConformSessionTokenPs4Nd8Rw2Hy6Qk1Zm9";
const SECRETS: [&str; 6] = [
    CLIENT_KEY,
    CLIENT_SECRET,
    CLIENT_TOKEN,
    CONFORM_KEY,
    CONFORM_SECRET,
    CONFORM_TOKEN,
];

fn conform_keys() -> Keys {
    Keys {
        access_key_id: CONFORM_KEY.into(),
        secret_access_key: CONFORM_SECRET.into(),
        session_token: Some(CONFORM_TOKEN.into()),
        region: "us-west-2".into(),
        expired: None,
    }
}

/// The SDK as an application would build it, pointed at `endpoint`, with the client's own
/// (fake) temporary credentials.
fn sdk(endpoint: &str) -> aws_sdk_inspector::Client {
    let config = aws_sdk_inspector::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-west-2"))
        .credentials_provider(Credentials::new(
            CLIENT_KEY,
            CLIENT_SECRET,
            Some(CLIENT_TOKEN.into()),
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_inspector::Client::from_conf(config)
}

async fn start_run(endpoint: &str, run_name: &str) -> Result<String, String> {
    sdk(endpoint)
        .start_assessment_run()
        .assessment_template_arn(TEMPLATE_ARN)
        .assessment_run_name(run_name)
        .send()
        .await
        .map(|out| out.assessment_run_arn().to_owned())
        .map_err(|e| {
            let e = e.into_service_error();
            format!("{}: {}", e.code().unwrap_or("?"), e.message().unwrap_or(""))
        })
}

/// An upstream `conform` signs for, with the stand-in's keys.
fn signed_upstream(url: &str, aws: bool) -> Upstream {
    let service = conform::aws::AwsService::load(
        &crate::support::root().join("cases/inspector/model/inspector-2016-02-16.json"),
    )
    .unwrap();
    let signer = SigV4Signer::from_credentials(
        &service,
        CONFORM_KEY,
        CONFORM_SECRET,
        Some(CONFORM_TOKEN.into()),
        "us-west-2",
    );
    let scrubber = signer.scrubber();
    let client = Client::new(
        url,
        Some(Arc::new(signer) as Arc<dyn Signer>),
        ClientOptions::default(),
    )
    .expect("a valid URL")
    .without_run_id();
    Upstream {
        client,
        aws,
        region: Some("us-west-2".into()),
        scrubber: Some(scrubber),
        timeout: Duration::from_secs(5),
    }
}

fn plain_upstream(url: &str, timeout: Duration) -> Upstream {
    Upstream {
        client: Client::new(url, None, ClientOptions::default()).expect("a valid URL"),
        aws: false,
        region: None,
        scrubber: None,
        timeout,
    }
}

fn start(mode: Mode, dir: &Path, upstream: Option<Upstream>, force: bool) -> ProxyServer {
    let loaded = if dir.is_dir() && matches!(mode, Mode::Replay | Mode::New) {
        load_recordings(dir).expect("recordings load")
    } else {
        Vec::new()
    };
    let config = ProxyConfig {
        mode,
        recordings: dir.to_owned(),
        loaded,
        upstream,
        force,
        judge: None,
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    ProxyServer::start(config, listener, None).expect("the proxy starts")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} holds a credential:\n{text}");
    }
}

/// Sends a raw StartAssessmentRun-shaped request (no SDK) to `url`.
async fn post(url: &str, body: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", CONTENT_TYPE)
        .header("x-amz-target", TARGET)
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential={CLIENT_KEY}/20260101/us-west-2/inspector/aws4_request, SignedHeaders=host, Signature=00"),
        )
        .header("x-amz-security-token", CLIENT_TOKEN)
        .body(body.to_owned())
        .send()
        .await
        .expect("the proxy answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn the_rust_sdk_through_mode_new_gets_the_stand_ins_answers_and_the_recording_replays_them() {
    let stand_in = StandIn::start(conform_keys()).await;
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recordings");
    let proxy = start(
        Mode::New,
        &recordings,
        Some(signed_upstream(&stand_in.uri(), false)),
        false,
    );

    let first = start_run(&proxy.uri(), "proxyrun")
        .await
        .expect("the stand-in's answer");
    assert_eq!(first, format!("{TEMPLATE_ARN}/run/0-run00001"));
    // The client's own signature (unknown to the stand-in) never reached it: every request it
    // saw carried conform's valid signature.
    assert_eq!(stand_in.requests(), 1);
    assert_eq!(stand_in.accepted(), 1);

    // Mode new: the same request again is a hit on the recording just written.
    let again = start_run(&proxy.uri(), "proxyrun").await.unwrap();
    assert_eq!(again, first);
    assert_eq!(stand_in.requests(), 1, "answered from the new recording");
    // Another request is a miss, forwarded and recorded in a file of its own.
    let other = start_run(&proxy.uri(), "otherrun").await.unwrap();
    assert_eq!(other, format!("{TEMPLATE_ARN}/run/0-run00002"));
    assert_eq!((stand_in.requests(), stand_in.accepted()), (2, 2));
    drop(proxy);

    let files = files_under(&recordings);
    assert_eq!(files.len(), 2, "{files:?}");
    for file in &files {
        assert_no_secret(
            &file.display().to_string(),
            &std::fs::read_to_string(file).unwrap(),
        );
    }
    let loaded = load_recordings(&recordings).expect("the recordings load");
    for r in &loaded {
        assert_eq!(r.provenance, RecordingProvenance::Recorded);
        let from = r.recorded.as_ref().unwrap();
        assert_eq!(from.endpoint, stand_in.uri());
        assert_eq!(from.region.as_deref(), Some("us-west-2"));
        assert!(!from.aws);
        assert_eq!(from.conform_version, env!("CARGO_PKG_VERSION"));
        let headers = &r.exchanges[0].request.headers;
        for dropped in ["authorization", "x-amz-date", "x-amz-security-token"] {
            assert!(!headers.contains_key(dropped), "{dropped} was recorded");
        }
    }

    // The recordings replay the stand-in's answers back, without it.
    let replay = ReplayServer::start(
        Replay::new(&loaded).unwrap(),
        TcpListener::bind("127.0.0.1:0").unwrap(),
        None,
    )
    .await;
    assert_eq!(start_run(&replay.uri(), "proxyrun").await.unwrap(), first);
    assert_eq!(start_run(&replay.uri(), "otherrun").await.unwrap(), other);
    // And so does the proxy in replay mode; a request never recorded is the replay's miss.
    let proxy = start(Mode::Replay, &recordings, None, false);
    assert_eq!(start_run(&proxy.uri(), "proxyrun").await.unwrap(), first);
    let miss = start_run(&proxy.uri(), "neverrecorded").await.unwrap_err();
    assert!(miss.starts_with("NoMatchingRecordingException"), "{miss}");
    assert_eq!(stand_in.requests(), 2);
}

#[tokio::test]
async fn mode_all_records_a_repeated_request_as_a_sequence_and_passthrough_records_nothing() {
    let stand_in = StandIn::start(conform_keys()).await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = start(
        Mode::All,
        dir.path(),
        Some(signed_upstream(&stand_in.uri(), false)),
        false,
    );
    let a = start_run(&proxy.uri(), "seq").await.unwrap();
    let b = start_run(&proxy.uri(), "seq").await.unwrap();
    assert_ne!(a, b, "mode all forwards every request");
    drop(proxy);
    let loaded = load_recordings(dir.path()).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(
        loaded[0].exchanges.len(),
        2,
        "the repeat is the sequence's second exchange"
    );
    // The replay answers the sequence in turn, then starts over.
    let replay = ReplayServer::start(
        Replay::new(&loaded).unwrap(),
        TcpListener::bind("127.0.0.1:0").unwrap(),
        None,
    )
    .await;
    for expected in [&a, &b, &a] {
        assert_eq!(&start_run(&replay.uri(), "seq").await.unwrap(), expected);
    }

    let empty = tempfile::tempdir().unwrap();
    let proxy = start(
        Mode::Passthrough,
        empty.path(),
        Some(signed_upstream(&stand_in.uri(), false)),
        false,
    );
    start_run(&proxy.uri(), "seq").await.unwrap();
    assert!(files_under(empty.path()).is_empty());
    assert_eq!(stand_in.requests(), stand_in.accepted());
}

#[tokio::test]
async fn a_dead_slow_or_junk_upstream_is_a_502_saying_why_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let body = json!({ "assessmentTemplateArn": TEMPLATE_ARN }).to_string();

    // Down: a port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let proxy = start(
        Mode::All,
        dir.path(),
        Some(plain_upstream(&dead, Duration::from_secs(2))),
        false,
    );
    let (status, answer) = post(&proxy.uri(), &body).await;
    assert_eq!(status, 502);
    assert_eq!(answer["__type"], "UpstreamUnavailableException");
    assert!(
        answer["message"].as_str().unwrap().contains("refused"),
        "{answer}"
    );
    assert_no_secret("the 502", &answer.to_string());

    // Junk: an answer that is not JSON.
    let junk = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
        .mount(&junk)
        .await;
    let proxy = start(
        Mode::All,
        dir.path(),
        Some(plain_upstream(&junk.uri(), Duration::from_secs(2))),
        false,
    );
    let (status, answer) = post(&proxy.uri(), &body).await;
    assert_eq!(status, 502);
    assert!(
        answer["message"].as_str().unwrap().contains("not JSON"),
        "{answer}"
    );

    // Slow: past the upstream timeout.
    let slow = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&slow)
        .await;
    let proxy = start(
        Mode::All,
        dir.path(),
        Some(plain_upstream(&slow.uri(), Duration::from_millis(300))),
        false,
    );
    let (status, answer) = post(&proxy.uri(), &body).await;
    assert_eq!(status, 502);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("no response within"),
        "{answer}"
    );

    assert!(files_under(dir.path()).is_empty(), "nothing recorded");
}

#[tokio::test]
async fn a_recording_from_aws_is_replaced_only_with_force() {
    let stand_in = StandIn::start(conform_keys()).await;
    let dir = tempfile::tempdir().unwrap();
    // Marked as AWS (the stand-in plays AWS here), so what it answers is protected.
    let proxy = start(
        Mode::All,
        dir.path(),
        Some(signed_upstream(&stand_in.uri(), true)),
        false,
    );
    let from_aws = start_run(&proxy.uri(), "guarded").await.unwrap();
    drop(proxy);
    let file = files_under(dir.path()).pop().unwrap();
    let before = std::fs::read_to_string(&file).unwrap();
    assert!(before.contains("aws: true"), "{before}");

    let proxy = start(
        Mode::All,
        dir.path(),
        Some(signed_upstream(&stand_in.uri(), false)),
        false,
    );
    let forwarded = start_run(&proxy.uri(), "guarded").await.unwrap();
    assert_ne!(forwarded, from_aws, "still forwarded, only not recorded");
    drop(proxy);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

    let proxy = start(
        Mode::All,
        dir.path(),
        Some(signed_upstream(&stand_in.uri(), false)),
        true,
    );
    start_run(&proxy.uri(), "guarded").await.unwrap();
    drop(proxy);
    let after = std::fs::read_to_string(&file).unwrap();
    assert_ne!(after, before);
    assert!(after.contains("aws: false"), "{after}");
}

/// A recording of the sample exchange, and a stub that gets one field of the answer wrong.
fn sample_recording(dir: &Path) {
    let text = format!(
        r#"provenance: inferred
source: test fixture
note: the API reference's sample exchange, for the proxy's --compare test
exchanges:
  - request:
      method: POST
      path: /
      headers:
        content-type: {CONTENT_TYPE}
        x-amz-target: {TARGET}
      body: {{ assessmentTemplateArn: "{TEMPLATE_ARN}", assessmentRunName: examplerun }}
    response:
      status: 200
      headers:
        content-type: {CONTENT_TYPE}
        x-amzn-requestid: ed349455-f76d-11e5-b473-ed8493878c40
      body: '{{"assessmentRunArn":"{TEMPLATE_ARN}/run/0-jOoroxyY"}}'
"#
    );
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("sample.yaml"), text).unwrap();
}

async fn wrong_stub() -> MockServer {
    let stub = MockServer::start().await;
    // The template part of the ARN is wrong (the run id part would be tokenised away).
    let wrong = TEMPLATE_ARN.replace("0-it5r2S4T", "0-WRONG000");
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-amzn-requestid", "11111111-2222-4333-8444-555555555555")
                .set_body_raw(
                    json!({ "assessmentRunArn": format!("{wrong}/run/0-abcdefgh") }).to_string(),
                    CONTENT_TYPE,
                ),
        )
        .mount(&stub)
        .await;
    stub
}

#[tokio::test]
async fn compare_judges_each_answer_and_names_the_wrong_field_and_the_unmatched_request() {
    let dir = tempfile::tempdir().unwrap();
    let expected = dir.path().join("expected");
    sample_recording(&expected);
    let stub = wrong_stub().await;
    let recordings = load_recordings(&expected).unwrap();
    let config = ProxyConfig {
        mode: Mode::Passthrough,
        recordings: dir.path().join("unused"),
        loaded: Vec::new(),
        upstream: Some(plain_upstream(&stub.uri(), Duration::from_secs(5))),
        force: false,
        judge: Some(Judge::new(&expected, &recordings).unwrap()),
    };
    let proxy =
        ProxyServer::start(config, TcpListener::bind("127.0.0.1:0").unwrap(), None).unwrap();
    // The client gets the upstream's answer, wrong field and all.
    let got = start_run(&proxy.uri(), "examplerun").await.unwrap();
    assert!(got.contains("0-WRONG000"), "{got}");
    start_run(&proxy.uri(), "not-in-the-recordings")
        .await
        .unwrap();

    let judged = proxy.judged();
    assert_eq!(judged.len(), 2);
    assert_eq!(judged[0].name, "sample.yaml");
    assert_eq!(judged[0].class(), Class::Different);
    let paths: Vec<&str> = judged[0]
        .comparison
        .differences
        .iter()
        .map(|m| m.path.as_str())
        .collect();
    assert_eq!(
        paths,
        ["body.assessmentRunArn"],
        "{:?}",
        judged[0].comparison.differences
    );
    assert_eq!(judged[1].class(), Class::Errored);
    assert!(
        judged[1].name.starts_with("unmatched: "),
        "{}",
        judged[1].name
    );
    assert!(
        !dir.path().join("unused").exists(),
        "--compare records nothing"
    );
}

/// Runs the binary until it exits by itself (`--until-idle`), after `drive` has used the
/// address it printed. Returns stdout (after the first line), stderr and the exit code.
async fn run_proxy_binary<F, Fut>(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    drive: F,
) -> (String, String, i32)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_conform"));
    command
        .arg("proxy")
        .args(args)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--until-idle",
            "1",
            "--color",
            "never",
        ])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("the conform binary runs");
    let stdout = child.stdout.take().unwrap();
    let (first, rest) = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        (first, reader)
    })
    .await
    .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("no address printed: {first:?}"))
        .to_owned();
    drive(url).await;
    let (out, err, code) = tokio::task::spawn_blocking(move || {
        let mut rest = rest;
        let mut out = String::new();
        std::io::Read::read_to_string(&mut rest, &mut out).unwrap();
        let output = child.wait_with_output().unwrap();
        (
            out,
            String::from_utf8_lossy(&output.stderr).into_owned(),
            output.status.code().unwrap_or(-1),
        )
    })
    .await
    .unwrap();
    (out, err, code)
}

#[tokio::test]
async fn the_binary_in_mode_new_signs_with_its_own_credentials_and_leaks_none() {
    let stand_in = StandIn::start(conform_keys()).await;
    let dir = tempfile::tempdir().unwrap();
    let upstream = stand_in.uri();
    let (out, err, code) = run_proxy_binary(
        dir.path(),
        &[
            "--mode",
            "new",
            "--upstream",
            &upstream,
            "--sign",
            "--region",
            "us-west-2",
            "--recordings",
            "recs",
            "--model",
            crate::support::root()
                .join("cases/inspector/model/inspector-2016-02-16.json")
                .to_str()
                .unwrap(),
        ],
        &[
            ("AWS_ACCESS_KEY_ID", CONFORM_KEY),
            ("AWS_SECRET_ACCESS_KEY", CONFORM_SECRET),
            ("AWS_SESSION_TOKEN", CONFORM_TOKEN),
        ],
        |url| async move {
            assert!(
                start_run(&url, "cli")
                    .await
                    .unwrap()
                    .ends_with("/run/0-run00001")
            );
            // A request the stand-in refuses: its 400 is passed back (and recorded).
            let (status, _) = post(&url, "{}").await;
            assert_eq!(
                status, 400,
                "the stand-in's InvalidInputException, passed back"
            );
        },
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(stand_in.requests(), 2);
    assert_eq!(stand_in.accepted(), 2, "only conform's valid signatures");
    assert!(
        err.contains("recorded in recs/proxy/StartAssessmentRun/"),
        "{err}"
    );
    assert_no_secret("stdout", &out);
    assert_no_secret("stderr", &err);
    let files = files_under(&dir.path().join("recs"));
    assert_eq!(files.len(), 2);
    for file in files {
        assert_no_secret(
            &file.display().to_string(),
            &std::fs::read_to_string(&file).unwrap(),
        );
    }
}

#[tokio::test]
async fn the_binary_with_compare_writes_the_reports_of_all_traffic_seen() {
    let dir = tempfile::tempdir().unwrap();
    sample_recording(&dir.path().join("expected"));
    let stub = wrong_stub().await;
    let upstream = stub.uri();
    let (out, err, code) = run_proxy_binary(
        dir.path(),
        &[
            "--upstream",
            &upstream,
            "--compare",
            "expected",
            "--json",
            "report.json",
            "--junit",
            "report.xml",
            "--html",
            "report.html",
        ],
        &[],
        |url| async move {
            start_run(&url, "examplerun").await.unwrap();
            start_run(&url, "stranger").await.unwrap();
        },
    )
    .await;
    assert_eq!(code, 1, "a difference fails the run\n{out}\n{err}");
    assert!(err.contains("body.assessmentRunArn"), "{err}");
    assert!(
        out.contains("unmatched: POST / (x-amz-target: InspectorService.StartAssessmentRun)"),
        "{out}"
    );
    assert!(
        out.contains("0 identical, 0 equivalent, 1 different, 1 errored"),
        "{out}"
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let text = json.to_string();
    assert!(
        text.contains("body.assessmentRunArn") && text.contains("unmatched: "),
        "{text}"
    );
    let junit = std::fs::read_to_string(dir.path().join("report.xml")).unwrap();
    roxmltree::Document::parse(&junit).expect("the JUnit report is XML");
    assert_no_secret("stdout", &out);
    assert_no_secret("stderr", &err);
    for file in files_under(dir.path()) {
        assert_no_secret(
            &file.display().to_string(),
            &std::fs::read_to_string(&file).unwrap(),
        );
    }
    assert!(
        std::fs::read_to_string(dir.path().join("report.html"))
            .unwrap()
            .contains("assessmentRunArn")
    );
}

#[test]
fn the_binary_refuses_what_cannot_work() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_conform"))
            .arg("proxy")
            .args(args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let cases: [(&[&str], &str); 5] = [
        (
            &["--sign", "--region", "us-west-2", "--addr", "127.0.0.1:0"],
            "forwarded to --upstream URL",
        ),
        (&["--addr", "0.0.0.0:0"], "not a loopback address"),
        (
            &["--mode", "new", "--addr", "127.0.0.1:0"],
            "forwards requests",
        ),
        (
            &["--mode", "sometimes", "--addr", "127.0.0.1:0"],
            "expected replay, new, all or passthrough",
        ),
        (
            &[
                "--mode",
                "all",
                "--compare",
                "x",
                "--upstream",
                "http://127.0.0.1:9",
                "--addr",
                "127.0.0.1:0",
            ],
            "goes with --mode passthrough",
        ),
    ];
    for (args, message) in cases {
        let output = run(args);
        let err = String::from_utf8_lossy(&output.stderr).replace("  ", " ");
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
}

/// An upstream that quotes back the credentials it was sent, as a signature error's canonical
/// request does.
struct Echo;

impl wiremock::Respond for Echo {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let message = format!(
            "canonical request: x-amz-security-token:{}; authorization: {}",
            header("x-amz-security-token"),
            header("authorization")
        );
        ResponseTemplate::new(403)
            .insert_header("x-echo-token", header("x-amz-security-token").as_str())
            .set_body_raw(
                json!({ "__type": "InvalidSignatureException", "message": message }).to_string(),
                CONTENT_TYPE,
            )
    }
}

#[tokio::test]
async fn secrets_an_upstream_quotes_back_reach_neither_the_client_nor_a_recording() {
    let echo = MockServer::start().await;
    Mock::given(any()).respond_with(Echo).mount(&echo).await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = start(
        Mode::All,
        dir.path(),
        Some(signed_upstream(&echo.uri(), false)),
        false,
    );
    let error = start_run(&proxy.uri(), "echo").await.unwrap_err();
    assert!(error.starts_with("InvalidSignatureException"), "{error}");
    assert!(
        error.contains("<redacted>"),
        "the quote is there, scrubbed: {error}"
    );
    assert_no_secret("the answer passed back", &error);
    let (_, raw) = post(&proxy.uri(), "{}").await;
    assert_no_secret("the answer passed back", &raw.to_string());
    drop(proxy);
    let files = files_under(dir.path());
    assert_eq!(files.len(), 2);
    for file in files {
        assert_no_secret(
            &file.display().to_string(),
            &std::fs::read_to_string(&file).unwrap(),
        );
    }
}

#[tokio::test]
async fn a_bad_client_gets_what_conform_serve_gives() {
    let dir = tempfile::tempdir().unwrap();
    sample_recording(dir.path());
    let proxy = start(Mode::Replay, dir.path(), None, false);
    let http = reqwest::Client::new();
    let send = |body: Vec<u8>, run_id: &'static str| {
        http.post(proxy.uri())
            .header("content-type", CONTENT_TYPE)
            .header("x-amz-target", TARGET)
            .header("x-conform-run-id", run_id)
            .body(body)
            .send()
    };
    let too_large = send(vec![b' '; 11 * 1024 * 1024], "run-1").await.unwrap();
    assert_eq!(too_large.status().as_u16(), 413);
    let bad_run = send(b"{}".to_vec(), "not a valid id!").await.unwrap();
    assert_eq!(bad_run.status().as_u16(), 400);
    let body: Value = serde_json::from_slice(&bad_run.bytes().await.unwrap()).unwrap();
    assert_eq!(body["__type"], "InvalidRunIdException");
    let reset = http
        .post(format!("{}/__conform/reset", proxy.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 200, "the replay's admin path");
    // A client that connects and sends nothing holds up no one (serve's header timeout, which
    // the proxy shares, ends it later).
    let _hung = std::net::TcpStream::connect(proxy.address()).unwrap();
    assert_eq!(
        start_run(&proxy.uri(), "examplerun").await.unwrap(),
        format!("{TEMPLATE_ARN}/run/0-jOoroxyY")
    );
}
