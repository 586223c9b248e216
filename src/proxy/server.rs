//! The proxy's HTTP server: the replay server's front half (body limit, timeouts, admin path,
//! run-id check, all from `crate::replay::server`), then answering from the replay, forwarding
//! to the upstream, recording and judging as the mode says.
//!
//! It runs on its own thread and multi-threaded runtime, as `ReplayServer` does, so it keeps
//! serving while its owner blocks (a test driving an SDK, or the binary waiting for Ctrl-C).

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;

use super::{Mode, ProxyConfig, ProxyError, Shared};
use crate::case::SignatureMode;
use crate::compare::ExchangeResult;
use crate::exchange::{Headers, RUN_ID_HEADER, Request, Response};
use crate::replay::server::{
    Workers, aws_error, read_request, serve_connections, serve_on_own_thread, too_large,
};
use crate::replay::{Answer, admin};

/// What the proxy tells its owner about, one event per request (the binary prints these; the
/// library never does). Every text in it is scrubbed of secrets.
#[derive(Clone, Debug)]
pub enum ProxyEvent {
    /// Answered from a recording.
    Replayed { request_line: String, file: PathBuf },
    /// No recording matched and the mode does not forward: the near-miss report, scrubbed.
    Missed { report: String },
    /// Forwarded; `recorded` is the file written, `not_recorded` why nothing was.
    Forwarded {
        request_line: String,
        status: u16,
        recorded: Option<PathBuf>,
        not_recorded: Option<String>,
    },
    /// The upstream gave no usable answer; the client got a 502.
    UpstreamFailed {
        request_line: String,
        reason: String,
    },
    /// `--compare`: one answer judged.
    Judged(Box<ExchangeResult>),
}

pub type ProxySink = Arc<dyn Fn(&ProxyEvent) + Send + Sync>;

/// Headers of the client's that never travel upstream: its signature and credentials
/// (conform signs again), and what the connection decides.
const DROPPED_UPSTREAM: &[&str] = &[
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "expect",
    "keep-alive",
    "proxy-authorization",
    // An encoded answer could not be recorded or judged as text.
    "accept-encoding",
];

/// Headers of the upstream's answer hyper sets itself from the body and the connection.
const HOP_BY_HOP: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// A running proxy. Dropping it stops it.
pub struct ProxyServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

struct State {
    shared: Arc<Shared>,
    sink: Option<ProxySink>,
    started: Instant,
    /// Milliseconds since `started` of the last request's arrival.
    last_request: AtomicU64,
}

impl ProxyServer {
    /// Serves on an already bound listener; returns once it accepts connections.
    pub fn start(
        config: ProxyConfig,
        listener: TcpListener,
        sink: Option<ProxySink>,
    ) -> Result<ProxyServer, ProxyError> {
        let shared = Arc::new(Shared::new(config)?);
        let address = listener.local_addr().map_err(|source| ProxyError::Bind {
            addr: "the listener".into(),
            source,
        })?;
        let state = Arc::new(State {
            shared: shared.clone(),
            sink,
            started: Instant::now(),
            last_request: AtomicU64::new(0),
        });
        let for_thread = state.clone();
        let stop = serve_on_own_thread(
            "conform-proxy",
            listener,
            Workers::HalfTheCores,
            move |listener| {
                serve_connections(listener, move |request| {
                    let state = for_thread.clone();
                    async move { handle(request, &state).await }
                })
            },
        )
        .map_err(|source| ProxyError::Bind {
            addr: address.to_string(),
            source,
        })?;
        Ok(ProxyServer {
            address,
            shared,
            state,
            stop: Some(stop),
        })
    }

    pub fn uri(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn mode(&self) -> Mode {
        self.shared.mode
    }

    /// How long since the last request arrived (since the start, when none has).
    pub fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.state.last_request.load(Ordering::Relaxed));
        self.state.started.elapsed().saturating_sub(last)
    }

    /// `--compare`: every answer judged so far, unmatched requests included, in arrival order.
    pub fn judged(&self) -> Vec<ExchangeResult> {
        self.shared
            .judge
            .as_ref()
            .map(|j| j.results())
            .unwrap_or_default()
    }

    /// The replay's counters (served, missed, part-way sequences).
    pub fn replay_stats(&self) -> crate::replay::ReplayStats {
        self.shared.replay().stats()
    }

    /// `text` without any secret of conform's or of a client's seen so far.
    pub fn scrub(&self, text: &str) -> String {
        self.shared.scrub(text)
    }
}

impl ProxyServer {
    /// Puts every recording written so far on disk (it is in place already; this is the
    /// flush the syncer would do within `recording::BATCH`). For shutdown.
    pub fn flush_recordings(&self) {
        self.shared.syncer.flush();
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn request_line(request: &Request) -> String {
    format!(
        "{} {} (x-amz-target: {})",
        request.method,
        request.path,
        request.headers.get("x-amz-target").unwrap_or("<none>")
    )
}

async fn handle(request: hyper::Request<Incoming>, state: &State) -> hyper::Response<Full<Bytes>> {
    let elapsed = state.started.elapsed().as_millis() as u64;
    state.last_request.store(elapsed, Ordering::Relaxed);
    let shared = &state.shared;
    let emit = |event: ProxyEvent| {
        if let Some(sink) = &state.sink {
            sink(&event);
        }
    };
    // The front half is the replay server's, answer for answer.
    let incoming = match read_request(request, |method, path, query| {
        admin(&shared.replay(), method, path, query)
    })
    .await
    {
        Ok(incoming) => incoming,
        Err(answer) => return answer,
    };
    shared.learn_client_secrets(&incoming);
    let line = shared.scrub(&request_line(&incoming));

    // Answer from the recordings first, in the modes that do.
    if shared.mode == Mode::New {
        // A miss is forwarded and recorded: the index is enough, and the scan of every
        // recording (with its near-miss report) would cost each new request O(recordings).
        if let Some(entry) = shared.replay().answer_indexed(&incoming) {
            emit(ProxyEvent::Replayed {
                request_line: line.clone(),
                file: entry.file.clone(),
            });
            return entry.response();
        }
    }
    if shared.mode == Mode::Replay {
        let replay = shared.replay();
        match replay.answer(&incoming) {
            Answer::Recorded(entry) => {
                emit(ProxyEvent::Replayed {
                    request_line: line,
                    file: entry.file.clone(),
                });
                return entry.response();
            }
            Answer::TooLarge(_) => return too_large(),
            Answer::Miss(miss) if shared.mode == Mode::Replay => {
                let message = shared.scrub(&miss.message());
                emit(ProxyEvent::Missed {
                    report: shared.scrub(&miss.report()),
                });
                return aws_error(404, "NoMatchingRecordingException", &message);
            }
            Answer::Miss(_) => {}
        }
    }

    let answer = forward(shared, &incoming).await;
    if let Some(judge) = &shared.judge {
        let result = judge.judge(&incoming, answer.as_ref().map_err(String::clone), &line);
        emit(ProxyEvent::Judged(Box::new(result)));
    }
    match answer {
        Err(reason) => {
            let reason = shared.scrub(&reason);
            emit(ProxyEvent::UpstreamFailed {
                request_line: line,
                reason: reason.clone(),
            });
            aws_error(
                502,
                "UpstreamUnavailableException",
                &format!("conform proxy: the upstream gave no usable answer: {reason}"),
            )
        }
        Ok(response) => {
            let (recorded, not_recorded) = if shared.mode.records() {
                match shared.record(&incoming, &response) {
                    Ok(file) => (Some(file), None),
                    Err(why) => (None, Some(shared.scrub(&why))),
                }
            } else {
                (None, None)
            };
            emit(ProxyEvent::Forwarded {
                request_line: line,
                status: response.status,
                recorded,
                not_recorded,
            });
            let headers: Vec<(String, String)> = response
                .headers
                .iter()
                .filter(|(n, _)| !HOP_BY_HOP.contains(&n.to_ascii_lowercase().as_str()))
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect();
            recorded_response(response.status, &headers, &response.body)
        }
    }
}

/// Sends the client's request upstream, signed by conform, and checks the answer is usable.
async fn forward(shared: &Shared, incoming: &Request) -> Result<Response, String> {
    let upstream = shared
        .upstream
        .as_ref()
        .ok_or_else(|| "no upstream configured".to_owned())?;
    let mut headers = Headers::new();
    for (name, value) in incoming.headers.iter() {
        let lower = name.to_ascii_lowercase();
        if !DROPPED_UPSTREAM.contains(&lower.as_str()) && lower != RUN_ID_HEADER {
            headers.append(name, value);
        }
    }
    let request = Request {
        method: incoming.method.clone(),
        path: incoming.path.clone(),
        headers,
        body: incoming.body.clone(),
    };
    // A client's run id goes on to an emulator (which may keep sequences per run); AWS gets none.
    let client = match incoming.headers.get(RUN_ID_HEADER) {
        Some(id) if !upstream.aws => upstream.client.clone().with_run_id(id),
        _ => upstream.client.clone().without_run_id(),
    };
    let mode = if client.is_signing() {
        SignatureMode::Normal
    } else {
        SignatureMode::None
    };
    let (_, result) = client.send(request, mode, upstream.timeout).await;
    let mut response = result.map_err(|e| e.to_string())?;
    // An upstream may quote what it was sent (a signature error's canonical request holds the
    // session token): the client, the recordings and the reports get it without any secret.
    response.headers = response
        .headers
        .iter()
        .map(|(n, v)| (n.to_owned(), shared.scrub(v)))
        .collect();
    response.body = shared.scrub_bytes(&response.body);
    // awsJson1_1 answers are JSON or empty: anything else is junk nobody should record.
    if !response.body.is_empty()
        && serde_json::from_slice::<serde_json::Value>(&response.body).is_err()
    {
        return Err(format!(
            "the upstream answered {} with a body that is not JSON: {}",
            response.status,
            crate::exchange::BodyPreview(&response.body[..response.body.len().min(200)])
        ));
    }
    Ok(response)
}

fn recorded_response(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::copy_from_slice(body)));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    let out = response.headers_mut();
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            out.append(n, v);
        }
    }
    response
}
