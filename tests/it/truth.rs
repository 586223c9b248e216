//! The suite catches what the model backs (issue 10, "Done when"): an endpoint that answers every
//! start with one canned run ARN, an errorCode outside its shape's enum, or a message past
//! ErrorMessage's 1000 characters fails the run.
//!
//! Each faulty endpoint is the built-in replay of `recordings/` behind a small proxy on
//! 127.0.0.1:0 that rewrites one thing in every answer; the built binary runs the whole of
//! `cases/` against it, and the test checks exactly which cases fail.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use bytes::Bytes;
use conform::replay::{Replay, ReplayServer};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;

use crate::support::{conform, root, stdout};

/// What the proxy does to a JSON answer body (status, body) before passing it on.
type Rewrite = fn(u16, &mut Value);

/// The replay, and a proxy in front of it that applies `rewrite` to every JSON answer.
async fn faulty_endpoint(rewrite: Rewrite) -> (ReplayServer, SocketAddr) {
    let recordings = conform::recording::load_recordings(&root().join("recordings")).unwrap();
    let replay = ReplayServer::start(
        Replay::new(&recordings).unwrap(),
        TcpListener::bind("127.0.0.1:0").unwrap(),
        None,
    )
    .await;
    let upstream = Arc::new(replay.uri());
    let client = reqwest::Client::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (client, upstream) = (client.clone(), upstream.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let (client, upstream) = (client.clone(), upstream.clone());
                    async move {
                        Ok::<_, Infallible>(forward(&client, &upstream, request, rewrite).await)
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (replay, address)
}

/// Sends the request on unchanged (every header, the run id included, so the replay keeps its
/// per-run sequences), and rewrites the answer's JSON body.
async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    request: hyper::Request<hyper::body::Incoming>,
    rewrite: Rewrite,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = client.request(parts.method.clone(), format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.body(body).send().await.unwrap();
    let status = answer.status();
    let headers = answer.headers().clone();
    let mut bytes = answer.bytes().await.unwrap().to_vec();
    if let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) {
        rewrite(status.as_u16(), &mut json);
        bytes = serde_json::to_vec(&json).unwrap();
    }
    let mut response = hyper::Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    for (name, value) in &headers {
        // The body's length changed; hyper sets it from the new body.
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

/// Runs the curated StartAssessmentRun suite against `endpoint`; returns the exit code, the
/// names of the cases that failed (or errored), and the output.
fn run_suite(endpoint: SocketAddr) -> (Option<i32>, BTreeSet<String>, String) {
    let cases = root().join("cases/inspector/StartAssessmentRun");
    let out = conform(&[
        "run",
        cases.to_str().unwrap(),
        "--color",
        "never",
        "--endpoint-url",
        &format!("http://{endpoint}"),
    ]);
    let text = stdout(&out);
    let failed = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("FAIL   ")
                .or_else(|| l.strip_prefix("ERROR  "))
        })
        // `FAIL   <name> [step N: <step>]  <file>`: keep the name.
        .map(|rest| {
            let name = rest.split("  ").next().unwrap();
            name.split(" [step ").next().unwrap().trim().to_owned()
        })
        .collect();
    (out.status.code(), failed, text)
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The sample's run ARN: a well-formed ARN of the right length, so only the distinct-answers
/// checks can tell that it is canned.
const CANNED_ARN: &str =
    "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T/run/0-jOoroxyY";

// Guards the distinct-answers cases: an emulator that answers every start with one canned ARN.
#[tokio::test(flavor = "multi_thread")]
async fn a_canned_run_arn_fails_the_distinct_answers_cases() {
    let (_replay, proxy) = faulty_endpoint(|status, body| {
        if status == 200 && body.get("assessmentRunArn").is_some() {
            body["assessmentRunArn"] = Value::from(CANNED_ARN);
        }
    })
    .await;
    let (code, failed, text) = run_suite(proxy);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(
        failed,
        names(&[
            "two starts with different names get different run ARNs",
            "the same run name on a second template is accepted",
        ]),
        "{text}"
    );
    assert!(
        text.contains(&format!("<not {CANNED_ARN}>")),
        "the second ARN was not compared with the first: {text}"
    );
}

/// The failure blocks of `text`: each `FAIL`/`ERROR` line with the indented lines under it.
fn failure_blocks(text: &str) -> Vec<String> {
    let mut blocks: Vec<String> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        if line.starts_with("FAIL ") || line.starts_with("ERROR ") {
            blocks.push(format!("{line}\n"));
            open = true;
        } else if open && line.starts_with("       ") {
            let block = blocks.last_mut().expect("a block is open");
            block.push_str(line);
            block.push('\n');
        } else {
            open = false;
        }
    }
    blocks
}

// Guards the firm errorCode check: a value outside the shape's enum fails where the error type
// is firm (the LimitExceeded fault), and, through validation against the model, every case
// whose answer is a declared error with an errorCode, whatever its guess said.
#[tokio::test(flavor = "multi_thread")]
async fn an_error_code_outside_the_enum_fails() {
    let (_replay, proxy) = faulty_endpoint(|_, body| {
        if body.get("errorCode").is_some() {
            body["errorCode"] = Value::from("CONFORM_NOT_IN_ANY_ENUM");
        }
    })
    .await;
    let (code, failed, text) = run_suite(proxy);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        failed.contains("LimitExceededException (fault injection)"),
        "{text}"
    );
    assert!(
        failed.contains("a template ARN that names no template is refused"),
        "the model's enum must fail a guessed NoSuchEntityException too: {text}"
    );
    let blocks = failure_blocks(&text);
    assert_eq!(blocks.len(), failed.len(), "{text}");
    for block in &blocks {
        assert!(
            block.contains("body.errorCode: modeled:") && block.contains("CONFORM_NOT_IN_ANY_ENUM"),
            "a case failed for something other than the errorCode: {block}"
        );
    }
}

fn message_of(length: usize) -> impl Fn(u16, &mut Value) {
    move |_, body: &mut Value| {
        if body.get("message").is_some() {
            body["message"] = Value::from("m".repeat(length));
        }
    }
}

// Guards the firm message check: ErrorMessage is 0..1000 characters, so 1,001 fails every case
// whose error type is firm, and exactly 1,000 passes (the edge, not the rewrite, is what fails).
#[tokio::test(flavor = "multi_thread")]
async fn a_message_of_1001_characters_fails_and_1000_passes() {
    let (_replay, proxy) = faulty_endpoint(|s, b| message_of(1001)(s, b)).await;
    let (code, failed, text) = run_suite(proxy);
    assert_eq!(code, Some(1), "{text}");
    for firm in [
        "InternalException (fault injection)",
        "LimitExceededException (fault injection)",
        "ServiceTemporarilyUnavailableException (fault injection)",
    ] {
        assert!(failed.contains(firm), "{firm} did not fail: {text}");
    }
    let blocks = failure_blocks(&text);
    assert_eq!(blocks.len(), failed.len(), "{text}");
    for block in &blocks {
        assert!(
            block.contains("body.message"),
            "a case failed for something other than the message: {block}"
        );
    }

    let (_replay, proxy) = faulty_endpoint(|s, b| message_of(1000)(s, b)).await;
    let (code, failed, text) = run_suite(proxy);
    assert_eq!(code, Some(0), "{text}");
    assert!(failed.is_empty(), "{failed:?}\n{text}");
}
