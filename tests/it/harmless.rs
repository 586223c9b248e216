//! Harmless differences never fail: the whole suite through a proxy in front of the built-in
//! replay that changes every response the ways every client reads alike (a `charset` on the
//! Content-Type, an extra member in every JSON object body, keys reversed and pretty spacing,
//! header names in capitals, another request-id value), and the Rust SDK reading the same
//! through the proxy as without it. boto3 and aws-sdk-js do the same through
//! `tests/sdks/harmless_proxy.py` in `tests/sdks/check.sh`.

use std::net::TcpListener;
use std::path::Path;

use aws_credential_types::Credentials;
use aws_sdk_inspector::Client;
use aws_sdk_inspector::config::retry::RetryConfig;
use aws_sdk_inspector::config::{BehaviorVersion, Region};
use aws_sdk_inspector::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_inspector::operation::RequestId;
use conform::recording::load_recordings;
use conform::replay::{Replay, ReplayServer};
use serde_json::Value;

use crate::support::*;

const RECORDINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/recordings");

async fn replay() -> ReplayServer {
    let recordings = load_recordings(Path::new(RECORDINGS)).expect("the recordings load");
    let replay = Replay::new(&recordings).expect("the recordings make a replay");
    let listener = TcpListener::bind("127.0.0.1:0").expect("an ephemeral port");
    ReplayServer::start(replay, listener, None).await
}

/// Another request id for every one, the same for the same: each hex digit replaced by its
/// complement (`0`↔`f`), so a UUID stays a UUID and distinct ids stay distinct.
pub fn other_request_id(id: &str) -> String {
    id.chars()
        .map(|c| match c.to_digit(16) {
            Some(d) => std::char::from_digit(15 - d, 16).unwrap(),
            None => c,
        })
        .collect()
}

/// JSON with every object's keys in reverse order and two-space indentation.
fn reversed_pretty(v: &Value, depth: usize) -> String {
    let pad = "  ".repeat(depth + 1);
    let end = "  ".repeat(depth);
    match v {
        Value::Object(map) if !map.is_empty() => {
            let members: Vec<String> = map
                .iter()
                .rev()
                .map(|(k, v)| {
                    format!(
                        "{pad}{}: {}",
                        Value::String(k.clone()),
                        reversed_pretty(v, depth + 1)
                    )
                })
                .collect();
            format!("{{\n{}\n{end}}}", members.join(",\n"))
        }
        Value::Array(items) if !items.is_empty() => {
            let items: Vec<String> = items
                .iter()
                .map(|v| format!("{pad}{}", reversed_pretty(v, depth + 1)))
                .collect();
            format!("[\n{}\n{end}]", items.join(",\n"))
        }
        other => other.to_string(),
    }
}

/// The harmless rewrite of one response: `(status, headers, body)` in, the same out.
fn rewrite(headers: &reqwest::header::HeaderMap, body: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let json_response = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("application/x-amz-json-1.1"));
    let mut out = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let value = match name.as_str() {
            "content-type" if json_response => "application/x-amz-json-1.1; charset=utf-8".into(),
            "x-amzn-requestid" => other_request_id(&value),
            "content-length" | "connection" | "transfer-encoding" | "date" => continue,
            _ => value,
        };
        // HTTP header names are case-insensitive: capitals change nothing for a client.
        out.push((name.as_str().to_ascii_uppercase(), value));
    }
    let body = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut map)) if json_response => {
            map.insert("conformExtra".into(), serde_json::json!({"nested": true}));
            reversed_pretty(&Value::Object(map), 0).into_bytes()
        }
        _ => body.to_vec(),
    };
    (out, body)
}

/// The cases that did not pass (`FAIL`/`ERROR` lines) in a run's output.
fn not_passed(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("FAIL ") || l.starts_with("ERROR"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_faithful_endpoint_with_harmless_differences_passes_the_whole_suite() {
    let server = replay().await;
    // The suite against the plain replay first: if it fails there, that is the suite's (or
    // the recordings') business, not a harmless difference.
    let direct = conform(&["run", "--endpoint-url", &server.uri()]);
    let direct_text = stdout(&direct);
    assert_eq!(
        direct.status.code(),
        Some(0),
        "the suite fails against the plain replay already:\n{direct_text}"
    );

    let proxy = start_rewriting_proxy(server.uri(), rewrite).await;
    let out = conform(&["run", "--endpoint-url", &proxy]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(not_passed(&text).is_empty(), "{text}");
    assert!(
        text.contains("note: header content-type: \"application/x-amz-json-1.1; charset=utf-8\""),
        "{text}"
    );
    assert!(
        text.contains("note: body.conformExtra: member not in the expectation"),
        "{text}"
    );
    assert_eq!(
        text.lines().last(),
        direct_text.lines().last(),
        "the same counts as against the plain replay"
    );
    let notes_line = text.lines().rev().nth(1).unwrap();
    assert!(
        notes_line.starts_with("notes: ")
            && notes_line.contains("show harmless differences (--strict fails them)"),
        "{notes_line}"
    );

    // --strict fails them, naming what differs.
    let out = conform(&["run", "--endpoint-url", &proxy, "--strict"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(!not_passed(&text).is_empty(), "{text}");
    assert!(
        text.contains("charset=utf-8") && text.contains("body.conformExtra"),
        "{text}"
    );
    assert!(
        text.contains("harmless differences fail under --strict"),
        "{text}"
    );
}

fn sdk(endpoint: &str) -> Client {
    let config = aws_sdk_inspector::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-west-2"))
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "test-secret",
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(config)
}

/// What the SDK made of an answer: the output's ARN, or the error's variant (with its modeled
/// members, from `Debug` minus the request id), code and message; and the request id apart.
async fn start(client: &Client, template: &str, name: &str) -> (String, Option<String>) {
    let result = client
        .start_assessment_run()
        .assessment_template_arn(template)
        .assessment_run_name(name)
        .send()
        .await;
    match result {
        Ok(out) => (
            format!("output {}", out.assessment_run_arn()),
            out.request_id().map(str::to_owned),
        ),
        Err(SdkError::ServiceError(context)) => {
            let status = context.raw().status().as_u16();
            let err = context.into_err();
            let id = err.request_id().map(str::to_owned);
            let debug = format!("{err:?}");
            let debug = match &id {
                Some(id) => debug.replace(id.as_str(), "<request id>"),
                None => debug,
            };
            (
                format!("{status} {:?} {:?} {debug}", err.code(), err.message()),
                id,
            )
        }
        Err(other) => (format!("no answer: {other:?}"), None),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rust_sdk_reads_the_same_through_the_proxy() {
    let server = replay().await;
    let proxy = start_rewriting_proxy(server.uri(), rewrite).await;
    let (direct, through) = (sdk(&server.uri()), sdk(&proxy));

    // The documented sample request, and an error: the first recording of a single 4xx
    // exchange that an SDK can send (two string members, the documented headers).
    let template = "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T";
    let mut calls = vec![(template.to_owned(), "examplerun".to_owned())];
    let recordings = load_recordings(Path::new(RECORDINGS)).unwrap();
    let error = recordings
        .iter()
        .filter(|r| r.exchanges.len() == 1 && (400..500).contains(&r.exchanges[0].response.status))
        .find_map(|r| {
            let body = r.exchanges[0].request.body.as_ref()?.as_object()?;
            let arn = body.get("assessmentTemplateArn")?.as_str()?;
            let name = body.get("assessmentRunName")?.as_str()?;
            let sdk_like = body.len() == 2
                && r.exchanges[0].request.headers.iter().any(|(k, v)| {
                    k.eq_ignore_ascii_case("content-type") && v == "application/x-amz-json-1.1"
                });
            sdk_like.then(|| (arn.to_owned(), name.to_owned()))
        })
        .expect("a recorded 4xx an SDK can send");
    calls.push(error);

    for (template, name) in &calls {
        let (want, want_id) = start(&direct, template, name).await;
        let (got, got_id) = start(&through, template, name).await;
        assert_eq!(
            got, want,
            "{name}: the SDK read another result through the proxy"
        );
        assert!(!want.starts_with("no answer"), "{want}");
        // The request id is the one value that changed, as the proxy changed it.
        assert_eq!(got_id, want_id.as_deref().map(other_request_id), "{name}");
    }
    assert!(calls.len() == 2);
}

#[test]
fn the_rewrite_changes_what_it_says() {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "content-type",
        "application/x-amz-json-1.1".parse().unwrap(),
    );
    headers.insert(
        "x-amzn-requestid",
        "ed349455-f76d-11e5-b473-ed8493878c40".parse().unwrap(),
    );
    let (h, body) = rewrite(&headers, br#"{"a":1,"b":{"c":[1,2]}}"#);
    assert_eq!(
        h,
        [
            (
                "CONTENT-TYPE".to_owned(),
                "application/x-amz-json-1.1; charset=utf-8".to_owned()
            ),
            (
                "X-AMZN-REQUESTID".to_owned(),
                "12cb6baa-0892-ee1a-4b8c-127b6c7873bf".to_owned()
            ),
        ]
    );
    let text = String::from_utf8(body).unwrap();
    assert_eq!(
        text,
        "{\n  \"conformExtra\": {\n    \"nested\": true\n  },\n  \"b\": {\n    \"c\": [\n      1,\n      2\n    ]\n  },\n  \"a\": 1\n}"
    );
}
