//! `conform export --wiremock` (issue 13): the repository's recordings exported as WireMock
//! stub mappings, served by WireMock standalone (the jar the npm `wiremock` package bundles,
//! installed by `npm install` in `tests/wiremock/`), answer every recorded request as
//! `conform serve` does: status, body, key headers, and sequences in turn, starting over.
//!
//! Without the jar the test says so and passes, unless `CONFORM_REQUIRE_WIREMOCK` is set
//! (`.ci/run` installs the jar and sets it, so CI never skips it silently).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use conform::compare::request_of;
use conform::exchange::Request;
use conform::recording::{Recording, load_recordings};
use conform::replay::{Replay, ReplayServer};

use crate::support::{conform, root, stderr};

/// The headers clients read from an awsJson1_1 answer.
const KEY_HEADERS: &[&str] = &["content-type", "x-amzn-errortype", "x-amzn-requestid"];

/// A recorded sequence: the same request answered 200, then refused as a duplicate.
const SEQUENCE: &str = "inspector/StartAssessmentRun/state_duplicate_run_name.yaml";

fn jar() -> Option<PathBuf> {
    let dir = root().join("tests/wiremock/node_modules/wiremock/build");
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("wiremock-standalone-") && n.ends_with(".jar"))
        })
}

/// WireMock standalone, stopped (killed) when dropped.
struct WireMock {
    child: Child,
    url: String,
}

impl Drop for WireMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_wiremock(jar: &Path, root_dir: &Path) -> WireMock {
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let child = Command::new("java")
        .arg("-jar")
        .arg(jar)
        .args(["--port", &port.to_string(), "--bind-address", "127.0.0.1"])
        .arg("--root-dir")
        .arg(root_dir)
        .args(["--disable-banner", "--no-request-journal"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("java runs");
    let wiremock = WireMock {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let health = format!("{}/__admin/mappings", wiremock.url);
    let started = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(&health).await
            && r.status().is_success()
        {
            return wiremock;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "WireMock did not start on {}",
            wiremock.url
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Status, body and key headers: what `conform serve` and WireMock must agree on.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    headers: Vec<(String, Option<String>)>,
    body: String,
}

async fn send(http: &reqwest::Client, base: &str, request: &Request) -> Answer {
    let mut builder = http.request(
        reqwest::Method::from_bytes(request.method.as_bytes()).unwrap(),
        format!("{base}{}", request.path),
    );
    for (name, value) in request.headers.iter() {
        builder = builder.header(name, value);
    }
    let response = builder
        .body(request.body.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{base} answers: {e}"));
    let status = response.status().as_u16();
    let headers = KEY_HEADERS
        .iter()
        .map(|h| {
            (
                h.to_string(),
                response
                    .headers()
                    .get(*h)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            )
        })
        .collect();
    let body = String::from_utf8_lossy(&response.bytes().await.unwrap()).into_owned();
    Answer {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn wiremock_serving_the_export_answers_like_conform_serve() {
    let Some(jar) = jar() else {
        assert!(
            std::env::var_os("CONFORM_REQUIRE_WIREMOCK").is_none(),
            "CONFORM_REQUIRE_WIREMOCK is set but no WireMock jar is installed: run `npm install` in tests/wiremock"
        );
        eprintln!(
            "SKIPPED: no WireMock jar under tests/wiremock/node_modules (run `npm install` in tests/wiremock)"
        );
        return;
    };
    let recordings_dir = root().join("recordings");
    let out = tempfile::tempdir().unwrap();
    let export = conform(&[
        "export",
        "--wiremock",
        out.path().to_str().unwrap(),
        "--recordings",
        recordings_dir.to_str().unwrap(),
    ]);
    assert!(export.status.success(), "{}", stderr(&export));
    let recordings: Vec<Recording> = load_recordings(&recordings_dir).unwrap();
    assert!(
        recordings
            .iter()
            .any(|r| r.file.ends_with(SEQUENCE) && r.exchanges.len() > 1),
        "the sample holds a sequence"
    );

    let wiremock = start_wiremock(&jar, out.path()).await;
    let serve = ReplayServer::start(
        Replay::new(&recordings).unwrap(),
        TcpListener::bind("127.0.0.1:0").unwrap(),
        None,
    )
    .await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // Every recorded exchange, in file order (so sequences are met in turn on both sides).
    let mut compared = 0;
    for recording in &recordings {
        for exchange in &recording.exchanges {
            let request = request_of(&exchange.request);
            let expected = send(&http, &serve.uri(), &request).await;
            let actual = send(&http, &wiremock.url, &request).await;
            assert_eq!(
                actual,
                expected,
                "{}: WireMock answers unlike conform serve",
                recording.file.display()
            );
            compared += 1;
        }
    }
    assert!(compared >= 60, "only {compared} exchanges compared");

    // The sequence once more, three times: first, second, then the first again on both.
    let sequence = recordings
        .iter()
        .find(|r| r.file.ends_with(SEQUENCE))
        .unwrap();
    let request = request_of(&sequence.exchanges[0].request);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let expected = send(&http, &serve.uri(), &request).await;
        let actual = send(&http, &wiremock.url, &request).await;
        assert_eq!(actual, expected, "the sequence, call {}", seen.len() + 1);
        seen.push(expected.body);
    }
    assert_ne!(seen[0], seen[1], "the sequence's two answers differ");
    assert_eq!(seen[0], seen[2], "after the last, the sequence starts over");
}

#[test]
fn a_broken_recording_stops_the_export_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recs");
    std::fs::create_dir_all(&recordings).unwrap();
    std::fs::write(
        recordings.join("bad.yaml"),
        "provenance: recorded\nsource: x\nexchanges: []\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let export = conform(&[
        "export",
        "--wiremock",
        out.to_str().unwrap(),
        "--recordings",
        recordings.to_str().unwrap(),
    ]);
    assert_eq!(export.status.code(), Some(2));
    let err = stderr(&export);
    assert!(err.contains("bad.yaml:"), "{err}");
    assert!(err.contains("`exchanges` is empty"), "{err}");
    assert!(!out.join("mappings").exists(), "nothing written");
}
