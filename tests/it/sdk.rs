//! SDK regression checks (issue #4): the real `aws-sdk-inspector` client against conform.
//!
//! Every recording an SDK can send is replayed to the Rust SDK, and what the SDK makes of each
//! answer (output, error variant, modeled members, metadata) is locked in a snapshot, so a
//! change to a recording or to the replay server that Rust users would notice shows up as a
//! diff. A second check holds what the SDK sends against the API reference's sample request.
//! Nothing here talks to AWS: every server is local, every credential a placeholder.

use std::collections::BTreeMap;
use std::net::TcpListener;

use aws_credential_types::Credentials;
use aws_sdk_inspector::Client;
use aws_sdk_inspector::config::retry::RetryConfig;
use aws_sdk_inspector::config::{BehaviorVersion, Region};
use aws_sdk_inspector::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_inspector::operation::RequestId;
use aws_sdk_inspector::operation::start_assessment_run::{
    StartAssessmentRunError, StartAssessmentRunOutput,
};
use conform::matching::{Observed, Start, evaluate};
use conform::recording::{RecordedRequest, Recording, load_recordings};
use conform::replay::{Replay, ReplayServer, request_from_parts};
use serde::Serialize;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TARGET: &str = "InspectorService.StartAssessmentRun";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The API reference's "Sample Request" and "Sample Response" for StartAssessmentRun.
const SAMPLE_TEMPLATE_ARN: &str =
    "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T";
const SAMPLE_RUN_NAME: &str = "examplerun";
const SAMPLE_RESPONSE: &str = r#"{"assessmentRunArn": "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T/run/0-jOoroxyY"}"#;
const SAMPLE_REQUEST_ID: &str = "ed349455-f76d-11e5-b473-ed8493878c40";

/// Request headers that vary per call, per machine or per SDK build, or carry a signature:
/// their values never go into a snapshot.
const VOLATILE: &[&str] = &[
    "amz-sdk-invocation-id",
    "host",
    "user-agent",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-user-agent",
];

/// The SDK as a user would build it, pointed at `endpoint` over plain HTTP. Retries are off
/// so a recorded 5xx is answered once, as recorded, and not replayed to a retrying client.
fn client(endpoint: &str) -> Client {
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

/// The input of a recorded request the SDK could have sent, or why it could not.
#[derive(Debug)]
struct Input {
    template_arn: String,
    run_name: Option<String>,
}

/// Only a request the SDK would put on the wire byte for byte the same way can be replayed to
/// it: anything else (raw bodies, extra or mistyped members, other headers) is a case for a
/// raw HTTP client, and is named in the `skipped` snapshot instead.
fn sdk_input(request: &RecordedRequest) -> Result<Input, String> {
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if !request.method.eq_ignore_ascii_case("POST") {
        return Err(format!("method is {}, the SDK sends POST", request.method));
    }
    if request.path != "/" {
        return Err(format!("path is {}, the SDK sends /", request.path));
    }
    match header("x-amz-target") {
        Some(TARGET) => {}
        Some(other) => {
            return Err(format!(
                "x-amz-target is {other:?}, the SDK sends {TARGET:?}"
            ));
        }
        None => return Err(format!("no x-amz-target, the SDK sends {TARGET:?}")),
    }
    match header("content-type") {
        Some(CONTENT_TYPE) => {}
        Some(other) => {
            return Err(format!(
                "content-type is {other:?}, the SDK sends {CONTENT_TYPE:?}"
            ));
        }
        None => return Err(format!("no content-type, the SDK sends {CONTENT_TYPE:?}")),
    }
    let body = match (&request.body, &request.raw_body) {
        (Some(body), _) => body,
        (None, Some(_)) => return Err("raw_body: bytes the SDK does not produce".into()),
        (None, None) => return Err("no body: the SDK always sends a JSON object".into()),
    };
    let Value::Object(members) = body else {
        return Err(format!("body is {}, not a JSON object", json_type(body)));
    };
    if let Some(extra) = members
        .keys()
        .find(|k| !matches!(k.as_str(), "assessmentTemplateArn" | "assessmentRunName"))
    {
        return Err(format!("member {extra:?} is not in the input shape"));
    }
    let template_arn = match members.get("assessmentTemplateArn") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(format!("assessmentTemplateArn is {}", json_type(other))),
        None => return Err("assessmentTemplateArn is missing".into()),
    };
    let run_name = match members.get("assessmentRunName") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(format!("assessmentRunName is {}", json_type(other))),
        None => None,
    };
    Ok(Input {
        template_arn,
        run_name,
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What the SDK made of one answer. Only stable values: no Debug output, no ports.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Output {
        assessment_run_arn: String,
        request_id: Option<String>,
    },
    ServiceError {
        variant: &'static str,
        http_status: u16,
        code: Option<String>,
        message: Option<String>,
        request_id: Option<String>,
        /// The variant's modeled members, as the SDK parsed them.
        #[serde(skip_serializing_if = "Option::is_none")]
        members: Option<Value>,
        /// When the SDK found no error code: why, as its errors display (never Debug output).
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    /// Not an answer from the server (timeout, connection, a response the SDK could not read).
    OtherError {
        kind: &'static str,
        description: String,
    },
}

fn outcome(
    result: Result<StartAssessmentRunOutput, SdkError<StartAssessmentRunError>>,
    endpoint: &str,
) -> Outcome {
    let error = match result {
        Ok(output) => {
            return Outcome::Output {
                assessment_run_arn: output.assessment_run_arn().to_owned(),
                request_id: output.request_id().map(str::to_owned),
            };
        }
        Err(SdkError::ServiceError(context)) => context,
        Err(other) => {
            let kind = match &other {
                SdkError::ConstructionFailure(_) => "ConstructionFailure",
                SdkError::TimeoutError(_) => "TimeoutError",
                SdkError::DispatchFailure(_) => "DispatchFailure",
                SdkError::ResponseError(_) => "ResponseError",
                _ => "unknown SdkError variant",
            };
            let description = display_chain(&other).replace(endpoint, "<endpoint>");
            return Outcome::OtherError { kind, description };
        }
    };
    let http_status = error.raw().status().as_u16();
    let err = error.err();
    let (variant, members) = error_members(err);
    let description = err.code().is_none().then(|| display_chain(err));
    Outcome::ServiceError {
        variant,
        http_status,
        code: err.code().map(str::to_owned),
        message: err.message().map(str::to_owned),
        request_id: err.request_id().map(str::to_owned),
        members,
        description,
    }
}

/// An error and its sources by their `Display`, joined with ": " (`DisplayErrorContext` would
/// add the `Debug` form, which changes with the SDK's internals).
fn display_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

impl Outcome {
    fn request_id(&self) -> Option<&str> {
        match self {
            Outcome::Output { request_id, .. } | Outcome::ServiceError { request_id, .. } => {
                request_id.as_deref()
            }
            Outcome::OtherError { .. } => None,
        }
    }
}

/// The variant's name and its modeled members.
fn error_members(err: &StartAssessmentRunError) -> (&'static str, Option<Value>) {
    use StartAssessmentRunError as E;
    #[allow(deprecated)]
    match err {
        E::AccessDeniedException(e) => (
            "AccessDeniedException",
            Some(json!({
                "error_code": e.error_code().as_str(),
                "can_retry": e.can_retry(),
                "message": e.message(),
            })),
        ),
        E::AgentsAlreadyRunningAssessmentException(e) => (
            "AgentsAlreadyRunningAssessmentException",
            Some(json!({
                "agents": e.agents().iter().map(|a| json!({
                    "agent_id": a.agent_id(),
                    "assessment_run_arn": a.assessment_run_arn(),
                })).collect::<Vec<_>>(),
                "agents_truncated": e.agents_truncated(),
                "can_retry": e.can_retry(),
                "message": e.message(),
            })),
        ),
        E::InternalException(e) => (
            "InternalException",
            Some(json!({ "can_retry": e.can_retry(), "message": e.message() })),
        ),
        E::InvalidCrossAccountRoleException(e) => (
            "InvalidCrossAccountRoleException",
            Some(json!({
                "error_code": e.error_code().as_str(),
                "can_retry": e.can_retry(),
                "message": e.message(),
            })),
        ),
        E::InvalidInputException(e) => (
            "InvalidInputException",
            Some(json!({
                "error_code": e.error_code().as_str(),
                "can_retry": e.can_retry(),
                "message": e.message(),
            })),
        ),
        E::LimitExceededException(e) => (
            "LimitExceededException",
            Some(json!({
                "error_code": e.error_code().as_str(),
                "can_retry": e.can_retry(),
                "message": e.message(),
            })),
        ),
        E::NoSuchEntityException(e) => (
            "NoSuchEntityException",
            Some(json!({
                "error_code": e.error_code().as_str(),
                "can_retry": e.can_retry(),
                "message": e.message(),
            })),
        ),
        E::ServiceTemporarilyUnavailableException(e) => (
            "ServiceTemporarilyUnavailableException",
            Some(json!({ "can_retry": e.can_retry(), "message": e.message() })),
        ),
        E::Unhandled(_) => ("Unhandled", None),
        _ => ("<variant unknown to this test>", None),
    }
}

#[derive(Serialize)]
struct Call {
    assessment_template_arn: String,
    assessment_run_name: Option<String>,
    outcome: Outcome,
}

/// Recordings the SDK cannot send, and why: locked too, so none is left out silently.
#[derive(Serialize)]
struct NotReplayed {
    skipped: Vec<String>,
    shadowed: Vec<String>,
}

fn stem(recording: &Recording) -> String {
    recording
        .file
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("recording files have UTF-8 names")
        .to_owned()
}

// Guards what the Rust SDK makes of every recorded answer it can ask for.
#[tokio::test]
async fn sdk_reads_every_recorded_answer() {
    let recordings =
        load_recordings(&crate::support::curated_recordings()).expect("the recordings load");
    let replay = Replay::new(&recordings).expect("the recordings make a replay");
    let shadowed = replay.shadowed.clone();
    let listener = TcpListener::bind("127.0.0.1:0").expect("an ephemeral port");
    let server = ReplayServer::start(replay, listener, None).await;
    let endpoint = server.uri();
    let sdk = client(&endpoint);

    let mut skipped = Vec::new();
    let mut calls_made = 0;
    for recording in &recordings {
        let name = stem(recording);
        let inputs: Result<Vec<Input>, String> = recording
            .exchanges
            .iter()
            .map(|e| sdk_input(&e.request))
            .collect();
        let inputs = match inputs {
            Ok(inputs) => inputs,
            Err(reason) => {
                skipped.push(format!("{name}: {reason}"));
                continue;
            }
        };
        // Exchanges of one recording are asked for in order, so a sequence (same request
        // twice) gets its first answer, then its second.
        let mut calls = Vec::new();
        for (input, exchange) in inputs.into_iter().zip(&recording.exchanges) {
            let result = sdk
                .start_assessment_run()
                .assessment_template_arn(&input.template_arn)
                .set_assessment_run_name(input.run_name.clone())
                .send()
                .await;
            calls_made += 1;
            let outcome = outcome(result, &endpoint);
            // The request id says which exchange answered: this one, in sequence order.
            let recorded_id = exchange
                .response
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("x-amzn-requestid"))
                .map(|(_, v)| v.as_str());
            assert_eq!(
                outcome.request_id(),
                recorded_id,
                "{name}: the SDK's request was not answered by its own exchange"
            );
            calls.push(Call {
                assessment_template_arn: input.template_arn,
                assessment_run_name: input.run_name,
                outcome,
            });
        }
        insta::with_settings!({
            description => format!("aws-sdk-inspector reading {}", recording.file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(&recording.file).display()),
            omit_expression => true,
        }, {
            insta::assert_yaml_snapshot!(name.as_str(), calls);
        });
    }

    // Every SDK request must have been answered by a recording, not by the replay's 404.
    let stats = server.replay().stats();
    assert_eq!(
        stats.missed, 0,
        "the SDK sent requests no recording matched: {:#?}",
        stats.missed_requests
    );
    assert_eq!(stats.served, calls_made);
    insta::with_settings!({
        description => "recordings not replayed to aws-sdk-inspector, and why",
        omit_expression => true,
    }, {
        insta::assert_yaml_snapshot!("not_replayed_to_the_sdk", NotReplayed { skipped, shadowed });
    });
}

// Guards the request the SDK sends for the documented sample, and that replay would match it.
#[tokio::test]
async fn sdk_sends_the_documented_sample_request() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-amzn-RequestId", SAMPLE_REQUEST_ID)
                .insert_header("Content-Type", CONTENT_TYPE)
                .set_body_string(SAMPLE_RESPONSE),
        )
        .expect(1)
        .mount(&server)
        .await;

    let output = client(&server.uri())
        .start_assessment_run()
        .assessment_run_name(SAMPLE_RUN_NAME)
        .assessment_template_arn(SAMPLE_TEMPLATE_ARN)
        .send()
        .await
        .expect("the SDK reads the sample response");
    assert_eq!(
        output.assessment_run_arn(),
        format!("{SAMPLE_TEMPLATE_ARN}/run/0-jOoroxyY")
    );
    assert_eq!(output.request_id(), Some(SAMPLE_REQUEST_ID));

    let received = server.received_requests().await.expect("recording is on");
    let [sent] = received.as_slice() else {
        panic!("expected one request, got {}", received.len());
    };
    let request = request_from_parts(
        sent.method.as_str(),
        sent.url.path(),
        sent.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
        sent.body.clone(),
    );

    // The documented sample request, header by header, body as a JSON value.
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/");
    assert_eq!(request.headers.get("x-amz-target"), Some(TARGET));
    assert_eq!(request.headers.get("content-type"), Some(CONTENT_TYPE));
    let body: Value = serde_json::from_slice(&request.body).expect("the SDK sends JSON");
    assert_eq!(
        body,
        json!({
            "assessmentRunName": SAMPLE_RUN_NAME,
            "assessmentTemplateArn": SAMPLE_TEMPLATE_ARN,
        })
    );

    // The replay decides with this same code whether the documented recording answers it.
    let recordings =
        load_recordings(&crate::support::curated_recordings()).expect("the recordings load");
    let documented = recordings
        .iter()
        .find(|r| stem(r) == "documented_sample_exchange")
        .expect("the documented sample is recorded");
    let verdict = evaluate(
        &documented.exchanges[0].request.expectation(),
        &Observed {
            start: Start::Request {
                method: &request.method,
                path: &request.path,
            },
            headers: &request.headers,
            body: &request.body,
        },
    );
    assert!(
        verdict.passed(),
        "the recording does not match the SDK's request:\n{}",
        verdict.diff()
    );

    // What the SDK sends, with everything volatile or secret replaced.
    let headers: BTreeMap<&str, String> = request
        .headers
        .iter()
        .map(|(n, v)| {
            let value = if VOLATILE.contains(&n) {
                "<redacted>".to_owned()
            } else if n == "authorization" {
                redact_authorization(v)
            } else {
                v.to_owned()
            };
            (n, value)
        })
        .collect();
    assert_eq!(
        headers.len(),
        request.headers.len(),
        "no header is sent twice"
    );
    insta::with_settings!({
        description => "what aws-sdk-inspector sends for the API reference's sample request",
        omit_expression => true,
    }, {
        insta::assert_yaml_snapshot!(
            "documented_sample_request",
            json!({
                "method": request.method,
                "path": request.path,
                "headers": headers,
                "body": body,
            })
        );
    });
}

/// Keeps what the signature covers and where it is scoped; drops the key id, the date and the
/// signature itself.
fn redact_authorization(value: &str) -> String {
    let re = regex::Regex::new(
        r"^(?P<alg>\S+) Credential=[^/]+/\d{8}/(?P<scope>[^,]+), SignedHeaders=(?P<signed>[^,]+), Signature=[0-9a-f]+$",
    )
    .expect("a valid regex");
    match re.captures(value) {
        Some(c) => format!(
            "{} Credential=<redacted>/<date>/{}, SignedHeaders={}, Signature=<redacted>",
            &c["alg"], &c["scope"], &c["signed"]
        ),
        None => "<redacted: not in the SigV4 form>".to_owned(),
    }
}
