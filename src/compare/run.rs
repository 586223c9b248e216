//! Replaying recorded requests against a target and comparing each answer with its recording.
//! Sends through `http::Client`; never prints (each result goes to a callback, as the runner's
//! do) and never decides an exit code.
//!
//! Exchanges are sent one at a time, recordings in path order and exchanges in file order:
//! a recording may be a sequence (the same request answered differently the second time),
//! which only means something when its requests arrive in order. The client sends its run id
//! with each of them, so a `conform serve` compared against answers this comparison's sequences
//! from their start, whatever other runs left behind.

use std::path::Path;
use std::time::{Duration, Instant};

use super::fidelity::{Class, Comparison, ExchangeResult, compare, unanswered};
use super::normalise::Tokens;
use crate::case::SignatureMode;
use crate::exchange::{Headers, Request, Response, VOLATILE_REQUEST_HEADERS};
use crate::http::Client;
use crate::recording::{RecordedRequest, RecordedResponse, Recording};

#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// Per request.
    pub timeout: Duration,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
        }
    }
}

/// Replays every exchange of `recordings` against `client`'s endpoint and compares each
/// answer. `root` is the recordings folder (names are given relative to it); `on_result` sees
/// each result as soon as it is known.
pub async fn compare_recordings(
    root: &Path,
    recordings: &[Recording],
    client: &Client,
    options: &CompareOptions,
    mut on_result: impl FnMut(&ExchangeResult),
) -> Vec<ExchangeResult> {
    let mut results = Vec::new();
    for recording in recordings {
        let relative = recording
            .file
            .strip_prefix(root)
            .unwrap_or(&recording.file)
            .display()
            .to_string()
            // The same name on every platform, for reports compared across CI runners.
            .replace('\\', "/");
        let (mut expected_tokens, mut actual_tokens) = (Tokens::new(), Tokens::new());
        for (i, exchange) in recording.exchanges.iter().enumerate() {
            let name = if recording.exchanges.len() > 1 {
                format!("{relative} #{}", i + 1)
            } else {
                relative.clone()
            };
            let request = request_of(&exchange.request);
            let request_line = format!(
                "{} {} ({})",
                request.method,
                request.path,
                request
                    .headers
                    .get("x-amz-target")
                    .unwrap_or("no x-amz-target")
            );
            let started = Instant::now();
            let mut actual_response = None;
            let (comparison, error) = match response_of(&exchange.response) {
                // `load_recordings` refuses such a file already; this only keeps a bad one
                // from ever panicking here.
                Err(message) => (
                    Comparison {
                        class: Class::Errored,
                        differences: Vec::new(),
                        fields: 0,
                        equal_fields: 0,
                        expected: String::new(),
                        actual: String::new(),
                    },
                    Some(format!("cannot read the recorded response: {message}")),
                ),
                Ok(expected) => {
                    // The client has no signer: compare replays unsigned, like the recordings'
                    // requests, which hold no signature.
                    let (_, answer) = client
                        .send(request, SignatureMode::None, options.timeout)
                        .await;
                    match answer {
                        Ok(actual) => {
                            let c = compare(
                                &expected,
                                &actual,
                                &mut expected_tokens,
                                &mut actual_tokens,
                            );
                            actual_response = Some(actual);
                            (c, None)
                        }
                        Err(e) => (
                            unanswered(&expected, &mut expected_tokens),
                            Some(e.to_string()),
                        ),
                    }
                }
            };
            let result = ExchangeResult {
                name,
                file: recording.file.clone(),
                position: i + 1,
                request_line,
                comparison,
                error,
                duration: started.elapsed(),
                actual: actual_response,
                model_violations: Vec::new(),
            };
            on_result(&result);
            results.push(result);
        }
    }
    results
}

/// The request a recording describes, as it goes on the wire: the recorded method, path and
/// headers, and the body (a JSON value sent compact, or the raw text or bytes as they are).
///
/// Headers that vary per call or per SDK (signatures, dates, lengths, hosts) are left out: a
/// recorded `authorization` is redacted and meaningless, and the client sets `content-length`
/// and `host` itself, so sending recorded ones would only make a malformed request.
pub fn request_of(recorded: &RecordedRequest) -> Request {
    let mut headers = Headers::new();
    for (name, value) in &recorded.headers {
        if !VOLATILE_REQUEST_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            headers.append(name, value.clone());
        }
    }
    let body = match &recorded.body {
        Some(value) => serde_json::to_vec(value).unwrap_or_default(),
        None => recorded.raw_bytes().unwrap_or_default(),
    };
    Request {
        method: recorded.method.clone(),
        path: recorded.path.clone(),
        headers,
        body,
    }
}

/// The response a recording holds, as a `Response`.
pub fn response_of(recorded: &RecordedResponse) -> Result<Response, String> {
    Ok(Response {
        status: recorded.status,
        headers: recorded.headers.iter().collect(),
        body: recorded.body_bytes()?,
    })
}
