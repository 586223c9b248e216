//! The replay server: `Replay` behind a small hyper server.
//!
//! It began on wiremock's `MockServer`, and wiremock stays the tool for the stubs in tests. It
//! cannot carry a long-running replay server: wiremock 0.6 keeps a copy of every request a
//! mock matches (`MountedMock::matched_requests`, whatever `disable_request_recording` says),
//! so memory grows with traffic; it reads any body whole with no limit; it panics in the
//! connection's task when a client hangs up mid-body; and it serves every request on one
//! thread under one write lock. Here: bodies are read through a limit (413 past it), slow
//! clients time out, a broken connection ends only that request, nothing is kept per request,
//! and the server runs on its own multi-threaded runtime on its own thread, so it keeps serving
//! while its owner blocks (tests that run the binary against it, for example).
//!
//! Requests under `/__conform/` go to the admin path (`admin.rs`), never to the recordings. A
//! request whose `x-conform-run-id` is not a valid run id is refused with a 400 before any
//! matching, so that what the server keeps per run is always short, printable text.

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderName;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use super::admin::{AdminAnswer, admin, is_admin_path};
use super::index::{Answer, MAX_REQUEST_BODY, Miss, Replay, request_from_parts};
use super::state::{MAX_RUN_ID_LEN, valid_run_id};
use crate::exchange::{RUN_ID_HEADER, Request};
use crate::recording::IDENTITY_HEADERS;

/// What the server tells its owner about (the binary prints these; the library never does).
pub type MissSink = Arc<dyn Fn(&Miss) + Send + Sync>;

/// How long a connection may go without sending a whole request head while none of its requests
/// is being answered (it is closed after one to two of these: `watched`), and how long a
/// request's body may then take.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The headers looked up in every request, parsed once: a lookup by `&str` parses the name
/// every time (a twentieth of a served request's work for these four).
static RUN_ID: HeaderName = HeaderName::from_static(RUN_ID_HEADER);
static IDENTITY: [HeaderName; IDENTITY_HEADERS.len()] = [
    HeaderName::from_static(IDENTITY_HEADERS[0]),
    HeaderName::from_static(IDENTITY_HEADERS[1]),
    HeaderName::from_static(IDENTITY_HEADERS[2]),
];

/// A running replay server. Dropping it stops the server.
pub struct ReplayServer {
    address: SocketAddr,
    replay: Arc<Replay>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

struct Shared {
    replay: Arc<Replay>,
    on_miss: Option<MissSink>,
}

impl ReplayServer {
    /// Serves `replay` on an already bound listener (bind `127.0.0.1:0` for an ephemeral port).
    /// Returns once the server accepts connections.
    pub async fn start(
        replay: Replay,
        listener: TcpListener,
        on_miss: Option<MissSink>,
    ) -> ReplayServer {
        Self::start_blocking(replay, listener, on_miss)
    }

    /// The same, from code that is not async.
    pub fn start_blocking(
        replay: Replay,
        listener: TcpListener,
        on_miss: Option<MissSink>,
    ) -> ReplayServer {
        ReplayServer::pending(listener, on_miss)
            .and_then(|pending| pending.serve(replay))
            .unwrap_or_else(|e| panic!("cannot start the replay server: {e}"))
    }

    /// A server on `listener` that accepts nothing until [`PendingReplayServer::serve`] gives it
    /// its replay. Its thread and runtime start now, while the caller builds the replay; a
    /// client that connects meanwhile waits in the listen queue.
    pub fn pending(
        listener: TcpListener,
        on_miss: Option<MissSink>,
    ) -> std::io::Result<PendingReplayServer> {
        let address = listener.local_addr()?;
        let (give, given) = tokio::sync::oneshot::channel::<Arc<Shared>>();
        let started = spawn_server(
            "conform-replay",
            listener,
            Workers::EveryCore,
            move |listener| async move {
                // No replay (the caller's load failed, and it dropped the pending server):
                // the server ends without accepting.
                if let Ok(shared) = given.await {
                    serve_connections(listener, move |request| {
                        let shared = shared.clone();
                        async move { handle(request, &shared).await }
                    })
                    .await;
                }
            },
        )?;
        Ok(PendingReplayServer {
            address,
            on_miss,
            give,
            started,
        })
    }

    pub fn uri(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn replay(&self) -> &Replay {
        &self.replay
    }
}

/// A replay server started before its replay was ready ([`ReplayServer::pending`]). Dropping
/// it stops the server.
pub struct PendingReplayServer {
    address: SocketAddr,
    on_miss: Option<MissSink>,
    give: tokio::sync::oneshot::Sender<Arc<Shared>>,
    started: Started,
}

impl PendingReplayServer {
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves `replay` from now on: the connections waiting are accepted. Fails when the
    /// server's runtime could not be built.
    pub fn serve(self, replay: Replay) -> std::io::Result<ReplayServer> {
        let stop = self.started.wait()?;
        let replay = Arc::new(replay);
        let shared = Arc::new(Shared {
            replay: replay.clone(),
            on_miss: self.on_miss,
        });
        if self.give.send(shared).is_err() {
            return Err(std::io::Error::other(
                "the replay server ended before it was given its recordings",
            ));
        }
        Ok(ReplayServer {
            address: self.address,
            replay,
            stop: Some(stop),
        })
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// How many workers a server's runtime has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Workers {
    /// One per core (tokio's default, or TOKIO_WORKER_THREADS): the replay, whose throughput
    /// under many connections is what it is measured by.
    EveryCore,
    /// One per two cores (TOKIO_WORKER_THREADS overrides): the proxy, whose every request is
    /// a hop from the client's connection to the upstream's and back. On 2 cores a second
    /// worker only passed each request between threads: half of its forwarding CPU went on
    /// the wake-ups (bench/proxy.py, 93 µs per request against 47 µs with one worker).
    HalfTheCores,
}

/// Runs `accept` on `listener` on a thread of its own, with its own multi-threaded runtime,
/// until the returned sender is dropped or sent to; returns once the listener accepts (or why it
/// cannot). The server keeps serving while its owner blocks (tests that run a binary against it).
pub(crate) fn serve_on_own_thread<F, Fut>(
    name: &str,
    listener: TcpListener,
    workers: Workers,
    accept: F,
) -> std::io::Result<tokio::sync::oneshot::Sender<()>>
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    spawn_server(name, listener, workers, accept)?.wait()
}

/// A server thread started by [`spawn_server`], its runtime perhaps still being built.
struct Started {
    stop: tokio::sync::oneshot::Sender<()>,
    is_ready: std::sync::mpsc::Receiver<std::io::Result<()>>,
}

impl Started {
    /// Once the runtime is built and the listener is its own: the sender that stops the server
    /// (when sent to or dropped), or why it could not start.
    fn wait(self) -> std::io::Result<tokio::sync::oneshot::Sender<()>> {
        match self.is_ready.recv() {
            Ok(Err(e)) => Err(e),
            _ => Ok(self.stop),
        }
    }
}

/// [`serve_on_own_thread`], returning as soon as the thread is spawned.
fn spawn_server<F, Fut>(
    name: &str,
    listener: TcpListener,
    workers: Workers,
    accept: F,
) -> std::io::Result<Started>
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, is_ready) = std::sync::mpsc::channel::<std::io::Result<()>>();
    let worker = format!("{name}-worker");
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.thread_name(worker).enable_all();
            if workers == Workers::HalfTheCores
                && let Some(n) = crate::parallel::half_the_cores()
            {
                builder.worker_threads(n);
            }
            let runtime = match builder.build() {
                Ok(r) => r,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                let listener = match listener
                    .set_nonblocking(true)
                    .and_then(|()| tokio::net::TcpListener::from_std(listener))
                {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                tokio::select! {
                    _ = accept(listener) => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime ends every connection still open.
            runtime.shutdown_timeout(Duration::from_millis(100));
        })?;
    Ok(Started { stop, is_ready })
}

/// Accepts connections on `listener` until the runtime ends, each served over HTTP/1.1 by
/// `handle` and closed by `watched` when it idles. The replay server and the proxy both serve
/// this way.
pub(crate) async fn serve_connections<H, Fut>(listener: tokio::net::TcpListener, handle: H)
where
    H: Fn(hyper::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = hyper::Response<Full<Bytes>>> + Send + 'static,
{
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            // Out of file descriptors or similar: wait a little rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let handle = handle.clone();
        tokio::spawn(async move {
            let activity = Arc::new(AtomicU64::new(0));
            let watched_activity = activity.clone();
            let service = service_fn(move |request| {
                // Odd while a request is being answered (see `watched`).
                let answering = Answering::begin(&activity);
                let answer = handle(request);
                async move {
                    let answer = answer.await;
                    drop(answering);
                    Ok::<_, Infallible>(answer)
                }
            });
            // HTTP/1.1 only: the AWS SDKs and CLIs speak it to an `http://` endpoint, and the
            // auto-detecting builder (HTTP/1 or HTTP/2 prior knowledge) cost a tenth of the
            // throughput on the documented request (bench/issue11.sh). No hyper timer: its
            // header read timeout armed and disarmed a timer for every request, an eighth of a
            // bare server's whole work per request (callgrind); `watched` does its job.
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            // A client that breaks the connection ends only its own exchange.
            watched(connection, &watched_activity, HEADER_TIMEOUT).await;
        });
    }
}

/// A request being answered, for `watched`: bumps a connection's activity when it begins and
/// when it ends, however it ends (answered, or its answer dropped with the connection).
struct Answering(Arc<AtomicU64>);

impl Answering {
    fn begin(activity: &Arc<AtomicU64>) -> Answering {
        activity.fetch_add(1, Ordering::Relaxed);
        Answering(Arc::clone(activity))
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Drives `connection` to its end, or closes it once it has gone a whole `period`
/// (`HEADER_TIMEOUT`: so 10 to 20 s after its last request began or was answered) without
/// beginning a request while none was being answered: an idle keep-alive connection, or a
/// client sending its request head too slowly, does not hold its socket for ever. `activity`
/// is bumped by the service when a request begins and when it is answered (odd while one is
/// being answered). One timer per connection, checked only when it fires: the requests
/// themselves arm none.
async fn watched<F: std::future::Future>(connection: F, activity: &AtomicU64, period: Duration) {
    let mut connection = std::pin::pin!(connection);
    let mut tick = std::pin::pin!(tokio::time::sleep(period));
    let mut last = activity.load(Ordering::Relaxed);
    let mut armed = false;
    std::future::poll_fn(|cx| {
        if connection.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        if armed && !tick.is_elapsed() {
            return Poll::Pending;
        }
        if armed {
            let now = activity.load(Ordering::Relaxed);
            if now == last && now.is_multiple_of(2) {
                // Dropping the connection closes its socket.
                return Poll::Ready(());
            }
            last = now;
            tick.as_mut().reset(tokio::time::Instant::now() + period);
        }
        armed = true;
        // Registers the timer, which wakes this task when it fires.
        if tick.as_mut().poll(cx).is_ready() {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    })
    .await
}

async fn handle(
    request: hyper::Request<Incoming>,
    shared: &Shared,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = match read_checked(request, |method, path, query| {
        admin(&shared.replay, method, path, query)
    })
    .await
    {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    // A request sent exactly as recorded is answered from hyper's head; only the others are
    // turned into a `Request` to be matched (building it was a sixth of a request's work).
    // A header value that is not UTF-8 is left to that second path.
    let header = |name: &HeaderName| match parts.headers.get(name) {
        None => Some(None),
        Some(value) => std::str::from_utf8(value.as_bytes()).ok().map(Some),
    };
    let exact = || {
        let mut identity = [None; IDENTITY_HEADERS.len()];
        for (value, name) in identity.iter_mut().zip(&IDENTITY) {
            *value = header(name)?;
        }
        let run = header(&RUN_ID)?;
        shared
            .replay
            .answer_exact(parts.method.as_str(), path_of(&parts), identity, run, &body)
    };
    if let Some(entry) = exact() {
        return entry.response();
    }
    let incoming = into_request(&parts, body);
    match shared.replay.answer(&incoming) {
        Answer::Recorded(entry) => entry.response(),
        Answer::TooLarge(_) => too_large(),
        Answer::Miss(miss) => {
            if let Some(sink) = &shared.on_miss {
                sink(&miss);
            }
            aws_error(404, "NoMatchingRecordingException", &miss.message())
        }
    }
}

/// What the replay server and the proxy do before they match anything: read the body through
/// the size limit and the timeout, answer the admin path (`/__conform/`) with `admin` (which
/// takes the method, path and query to `admin::admin` on its replay), refuse a request with more
/// than one or an invalid run id. `Err` is the answer to send instead of going on.
pub(crate) async fn read_request(
    request: hyper::Request<Incoming>,
    admin: impl FnOnce(&str, &str, Option<&str>) -> AdminAnswer,
) -> Result<Request, hyper::Response<Full<Bytes>>> {
    let (parts, body) = read_checked(request, admin).await?;
    Ok(into_request(&parts, body))
}

/// `read_request` before its `Request` is built: the head as hyper parsed it and the body.
async fn read_checked(
    request: hyper::Request<Incoming>,
    admin: impl FnOnce(&str, &str, Option<&str>) -> AdminAnswer,
) -> Result<(hyper::http::request::Parts, Vec<u8>), hyper::Response<Full<Bytes>>> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = match tokio::time::timeout(BODY_TIMEOUT, read_body(body, declared)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(BodyFault::TooLarge)) => return Err(too_large()),
        Ok(Err(BodyFault::Broken)) => {
            return Err(aws_error(
                400,
                "SerializationException",
                "conform replay: the request body could not be read",
            ));
        }
        Err(_) => {
            return Err(aws_error(
                408,
                "RequestTimeoutException",
                "conform replay: the request body did not arrive in time",
            ));
        }
    };
    if is_admin_path(parts.uri.path()) {
        let answer = admin(parts.method.as_str(), parts.uri.path(), parts.uri.query());
        return Err(json_response(
            answer.status,
            answer.error_type,
            serde_json::to_vec(&answer.body).unwrap_or_default(),
        ));
    }
    let run_ids = parts.headers.get_all(&RUN_ID);
    let mut run_ids = run_ids.iter();
    let refused = match (run_ids.next(), run_ids.next()) {
        (Some(_), Some(_)) => Some("only one"),
        (Some(id), None) if !id.to_str().is_ok_and(valid_run_id) => Some("a valid"),
        _ => None,
    };
    if let Some(what) = refused {
        return Err(aws_error(
            400,
            "InvalidRunIdException",
            &format!(
                "conform replay: a request carries {what} {RUN_ID_HEADER} header: 1 to \
                 {MAX_RUN_ID_LEN} letters, digits, `-`, `_`, `.` or `:`"
            ),
        ));
    }
    Ok((parts, body))
}

/// The path and query a request was sent to.
fn path_of(parts: &hyper::http::request::Parts) -> &str {
    parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
}

fn into_request(parts: &hyper::http::request::Parts, body: Vec<u8>) -> Request {
    request_from_parts(
        parts.method.as_str(),
        path_of(parts),
        parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes())),
        body,
    )
}

/// A body too large to keep is still read to its end (and thrown away), up to this many bytes:
/// a server that answers 413 while the client is still sending makes the client fail with a
/// broken pipe before it reads the answer. Past this, the connection is closed.
const MAX_DRAINED_BODY: u64 = 8 * MAX_REQUEST_BODY as u64;

pub(crate) enum BodyFault {
    TooLarge,
    Broken,
}

/// Reads a request body of at most `MAX_REQUEST_BODY` bytes. A larger one (declared or not) is
/// drained without being kept, so that the client gets to read the 413.
pub(crate) async fn read_body(
    mut body: Incoming,
    declared: Option<u64>,
) -> Result<Vec<u8>, BodyFault> {
    let mut kept = Vec::new();
    let mut seen: u64 = 0;
    let mut too_large = declared.is_some_and(|n| n > MAX_REQUEST_BODY as u64);
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(if too_large {
                BodyFault::TooLarge
            } else {
                BodyFault::Broken
            });
        };
        let Some(data) = frame.data_ref() else {
            continue;
        };
        seen += data.len() as u64;
        if seen > MAX_REQUEST_BODY as u64 {
            too_large = true;
            kept = Vec::new();
        }
        if too_large {
            if seen > MAX_DRAINED_BODY {
                break;
            }
        } else {
            kept.extend_from_slice(data);
        }
    }
    if too_large {
        Err(BodyFault::TooLarge)
    } else {
        Ok(kept)
    }
}

pub(crate) fn too_large() -> hyper::Response<Full<Bytes>> {
    aws_error(
        413,
        "RequestEntityTooLargeException",
        &format!("conform replay: request body larger than {MAX_REQUEST_BODY} bytes"),
    )
}

/// An awsJson1_1-style error that no client mistakes for a recorded answer.
pub(crate) fn aws_error(
    status: u16,
    error_type: &str,
    message: &str,
) -> hyper::Response<Full<Bytes>> {
    let body = serde_json::json!({ "__type": error_type, "message": message });
    json_response(
        status,
        Some(error_type),
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

/// A JSON answer of the server's own; with `error_type`, shaped as an awsJson1_1 error.
pub(crate) fn json_response(
    status: u16,
    error_type: Option<&str>,
    body: Vec<u8>,
) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    if let Some(v) = error_type.and_then(|t| hyper::header::HeaderValue::from_str(t).ok()) {
        headers.insert("x-amzn-errortype", v);
    }
    headers.insert(
        "x-amzn-requestid",
        hyper::header::HeaderValue::from_static("00000000-0000-0000-0000-000000000000"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    const PERIOD: Duration = Duration::from_secs(10);

    /// How long `watched` keeps a connection that never ends by itself open; it must close it
    /// within 100 periods.
    async fn time_to_close(activity: &AtomicU64) -> Duration {
        let start = Instant::now();
        let closed = tokio::time::timeout(
            100 * PERIOD,
            watched(std::future::pending::<()>(), activity, PERIOD),
        )
        .await;
        let waited = start.elapsed();
        assert!(closed.is_ok(), "still open after {waited:?}");
        waited
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_is_closed_after_one_to_two_periods() {
        let waited = time_to_close(&AtomicU64::new(0)).await;
        assert!(
            (PERIOD..=2 * PERIOD).contains(&waited),
            "closed after {waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_ends_is_not_waited_for() {
        let activity = AtomicU64::new(0);
        let start = Instant::now();
        watched(async {}, &activity, PERIOD).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_being_answered_keeps_its_connection() {
        // Odd: a request began and has not been answered.
        let activity = AtomicU64::new(1);
        let closed = tokio::time::timeout(
            20 * PERIOD,
            watched(std::future::pending::<()>(), &activity, PERIOD),
        )
        .await;
        assert!(closed.is_err(), "closed while answering a request");
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_dropped_unfinished_leaves_its_connection_idle() {
        let activity = Arc::new(AtomicU64::new(0));
        let answering = Answering::begin(&activity);
        assert_eq!(activity.load(Ordering::Relaxed), 1, "being answered");
        // As hyper drops a service's future whose connection broke mid-answer.
        drop(answering);
        let waited = time_to_close(&activity).await;
        assert!(waited <= 2 * PERIOD, "closed after {waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn requests_keep_a_connection_open_until_they_stop() {
        let activity = Arc::new(AtomicU64::new(0));
        let client = activity.clone();
        // A request every 4 s (begun and answered) for 60 s, then nothing.
        tokio::spawn(async move {
            for _ in 0..15 {
                tokio::time::sleep(Duration::from_secs(4)).await;
                client.fetch_add(2, Ordering::Relaxed);
            }
        });
        let waited = time_to_close(&activity).await;
        let last = Duration::from_secs(60);
        assert!(
            (last + PERIOD..=last + 2 * PERIOD).contains(&waited),
            "closed after {waited:?}"
        );
    }
}
