//! Fault injection against the runner (issue #7). Each test starts a raw TCP server on
//! 127.0.0.1:0 that misbehaves in one way, runs the one-case suite in
//! `tests/fixtures/faults` against it through the library (`run_cases`, 0.5 s request
//! timeout), and checks three things: the case ends with an outcome whose message says what
//! happened, the run ends within its timeout, and the server stops (its connection handlers
//! end) once conform has given up. The 100 MB answers also check conform's peak memory.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use conform::case::{TargetKind, load_suite};
use conform::http::{Client, ClientOptions};
use conform::runner::{Outcome, RunOptions, Target, run_cases};
use conform::vars::Vars;

use crate::support::fixture;

/// The request timeout, as `--timeout 0.5`.
const TIMEOUT: Duration = Duration::from_millis(500);
/// What one run may take at most: the timeout plus slack for a machine busy compiling.
const RUN_BOUND: Duration = Duration::from_secs(10);
/// How long a server may go on after conform has given up.
const QUIET_BOUND: Duration = Duration::from_secs(3);
/// conform's `--max-body` default.
const MAX_BODY: usize = 10 * 1024 * 1024;

const SAMPLE_BODY: &str = r#"{"assessmentRunArn":"arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T/run/0-jOoroxyY"}"#;
const REQUEST_ID: &str = "ed349455-f76d-11e5-b473-ed8493878c40";

/// What a misbehaving server did, for the assertions.
#[derive(Default)]
struct Stats {
    connections: AtomicUsize,
    /// Connection handlers still running.
    open: AtomicUsize,
    written: AtomicU64,
}

/// A raw TCP server whose every connection is handled by `behave`.
struct Server {
    url: String,
    stats: Arc<Stats>,
    accept: JoinHandle<()>,
}

impl Server {
    async fn start<F, Fut>(behave: F) -> Server
    where
        F: Fn(Conn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stats = Arc::new(Stats::default());
        let behave = Arc::new(behave);
        let accept = tokio::spawn({
            let stats = stats.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    stats.connections.fetch_add(1, Ordering::SeqCst);
                    stats.open.fetch_add(1, Ordering::SeqCst);
                    let conn = Conn {
                        stream,
                        stats: stats.clone(),
                    };
                    tokio::spawn(behave(conn));
                }
            }
        });
        Server { url, stats, accept }
    }

    /// How long until every connection handler has ended, if they end within `bound`.
    async fn quiet_within(&self, bound: Duration) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < bound {
            if self.stats.open.load(Ordering::SeqCst) == 0 {
                return Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }

    fn written(&self) -> u64 {
        self.stats.written.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// One accepted connection; its handler counts as running until it is dropped.
struct Conn {
    stream: TcpStream,
    stats: Arc<Stats>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.stats.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Conn {
    /// Reads one request: headers, then as many body bytes as `content-length` says.
    async fn read_request(&mut self) -> io::Result<()> {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = self.stream.read(&mut buf).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            seen.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut have = seen.len() - head_end;
        while have < length {
            let n = self.stream.read(&mut buf).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            have += n;
        }
        Ok(())
    }

    async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stats
            .written
            .fetch_add(bytes.len() as u64, Ordering::SeqCst);
        Ok(())
    }

    /// Waits, writing nothing, until the client closes the connection.
    async fn wait_for_close(&mut self) {
        let mut buf = [0u8; 1024];
        while matches!(self.stream.read(&mut buf).await, Ok(n) if n > 0) {}
    }

    /// Closes with a TCP reset instead of an orderly FIN.
    fn reset(self) {
        let _ = self.stream.set_zero_linger();
    }
}

/// Response head with these extra header lines.
fn head(status_line: &str, headers: &[&str]) -> Vec<u8> {
    let mut out = format!("{status_line}\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// Runs the fixture's one case against `url`, as `conform run --timeout 0.5` would. Returns
/// the target too, so a test decides when conform's connections go away.
async fn run_against(url: &str) -> (Outcome, Duration, Target) {
    let suite = load_suite(&[fixture("faults")], &Vars::new()).expect("the fixture loads");
    let client = Client::new(
        url,
        None,
        ClientOptions {
            max_body: MAX_BODY,
            pool_size: 1,
        },
    )
    .unwrap();
    let target = Target {
        kind: TargetKind::Endpoint,
        client,
    };
    let options = RunOptions {
        jobs: 1,
        timeout: TIMEOUT,
        vars: Vars::new(),
        keep_exchanges: true,
    };
    let started = Instant::now();
    let results = tokio::time::timeout(
        RUN_BOUND,
        run_cases(&suite.cases, &[0], &target, &options, |_, _| {}),
    )
    .await
    .expect("the run ends within its bound");
    let took = started.elapsed();
    (results[0].outcome.clone(), took, target)
}

/// What a person reads about the outcome.
fn message(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Errored { message, .. } => format!("ERROR {message}"),
        Outcome::Failed {
            mismatches, diff, ..
        } => {
            let lines: Vec<String> = mismatches
                .iter()
                .map(|m| format!("{}: {}", m.path, m.message))
                .collect();
            format!("FAIL {}\n{diff}", lines.join("\n"))
        }
        Outcome::Differs { why, diff, .. } => format!("DIFFERS {why}\n{diff}"),
        Outcome::Passed => "PASS".into(),
        Outcome::Skipped { reason } => format!("SKIP {reason}"),
        Outcome::Known { why, .. } => format!("KNOWN {why}"),
    }
}

fn assert_errored(outcome: &Outcome, needles: &[&str]) {
    let text = message(outcome);
    assert!(
        matches!(outcome, Outcome::Errored { .. }),
        "expected an error outcome, got:\n{text}"
    );
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
}

/// Ends the run (drops conform's client) only after the server went quiet on its own: conform
/// closes a connection it gave up on, it does not leave it to the pool or to the drop.
async fn assert_server_stops(server: &Server, target: Target) -> Duration {
    let quiet = server.quiet_within(QUIET_BOUND).await;
    drop(target);
    quiet.unwrap_or_else(|| {
        panic!(
            "the server was still writing {QUIET_BOUND:?} after conform gave up ({} bytes written)",
            server.written()
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_refused_at_once() {
    // Bind then drop: the port is closed, so connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (outcome, took, _) = run_against(&url).await;
    assert_errored(
        &outcome,
        &[&format!(
            "connection refused by {url}/: is the endpoint running?"
        )],
    );
    assert!(took < TIMEOUT, "a refusal took {took:?}");
    eprintln!("faults: refused: {took:?}: {}", message(&outcome));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reset_mid_response_is_an_error() {
    // Half a status line, then a TCP reset.
    let half_status = Server::start(|mut c: Conn| async move {
        if c.read_request().await.is_ok() && c.write(b"HTTP/1.1 2").await.is_ok() {
            c.reset();
        }
    })
    .await;
    // Half the headers, then an orderly close.
    let half_headers = Server::start(|mut c: Conn| async move {
        if c.read_request().await.is_ok() {
            let _ = c
                .write(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-")
                .await;
        }
    })
    .await;
    // Half the body that content-length announced, then a reset.
    let half_body = Server::start(|mut c: Conn| async move {
        if c.read_request().await.is_ok() {
            let mut bytes = head(
                "HTTP/1.1 200 OK",
                &[
                    "content-type: application/x-amz-json-1.1",
                    "content-length: 116",
                ],
            );
            bytes.extend_from_slice(&SAMPLE_BODY.as_bytes()[..58]);
            if c.write(&bytes).await.is_ok() {
                c.reset();
            }
        }
    })
    .await;
    for (server, needles) in [
        (&half_status, &["connection failed", "reset"][..]),
        (&half_headers, &["connection failed", "closed"][..]),
        (&half_body, &["the response broke off"][..]),
    ] {
        let (outcome, took, target) = run_against(&server.url).await;
        assert_errored(&outcome, needles);
        assert!(
            took < TIMEOUT,
            "a reset took {took:?}: {}",
            message(&outcome)
        );
        assert_eq!(
            server.stats.connections.load(Ordering::SeqCst),
            1,
            "conform retried"
        );
        assert_server_stops(server, target).await;
        eprintln!("faults: reset: {took:?}: {}", message(&outcome));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stalls_times_out() {
    // Reads the request and never answers.
    let silent = Server::start(|mut c: Conn| async move {
        if c.read_request().await.is_ok() {
            c.wait_for_close().await;
        }
    })
    .await;
    // Sends headers announcing 100 bytes, then nothing.
    let after_headers = Server::start(|mut c: Conn| async move {
        if c.read_request().await.is_ok() {
            let bytes = head(
                "HTTP/1.1 200 OK",
                &[
                    "content-type: application/x-amz-json-1.1",
                    "content-length: 100",
                ],
            );
            if c.write(&bytes).await.is_ok() {
                c.wait_for_close().await;
            }
        }
    })
    .await;
    for server in [&silent, &after_headers] {
        let (outcome, took, target) = run_against(&server.url).await;
        assert_errored(
            &outcome,
            &["no response within 500ms (the request timeout; change it with --timeout)"],
        );
        assert!(took >= TIMEOUT, "timed out early: {took:?}");
        assert_server_stops(server, target).await;
        eprintln!("faults: stall: {took:?}: {}", message(&outcome));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_server_times_out_and_is_left() {
    // One byte every 50 ms: a whole answer would take far longer than the timeout. Once from
    // the status line on, once with the headers at once and the body trickled.
    async fn trickle(mut c: Conn, from_body: bool) {
        if c.read_request().await.is_err() {
            return;
        }
        let mut bytes = head(
            "HTTP/1.1 200 OK",
            &[
                "content-type: application/x-amz-json-1.1",
                &format!("x-amzn-requestid: {REQUEST_ID}"),
                &format!("content-length: {}", SAMPLE_BODY.len()),
            ],
        );
        if from_body {
            if c.write(&bytes).await.is_err() {
                return;
            }
            bytes.clear();
        }
        bytes.extend_from_slice(SAMPLE_BODY.as_bytes());
        for b in bytes {
            if c.write(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let whole = Server::start(|c: Conn| trickle(c, false)).await;
    let body = Server::start(|c: Conn| trickle(c, true)).await;
    for server in [&whole, &body] {
        let (outcome, took, target) = run_against(&server.url).await;
        assert_errored(&outcome, &["no response within 500ms"]);
        assert!(took >= TIMEOUT, "timed out early: {took:?}");
        let quiet = assert_server_stops(server, target).await;
        eprintln!(
            "faults: trickle: {took:?}, server stopped {quiet:?} later after {} bytes: {}",
            server.written(),
            message(&outcome)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_in_headers_and_body_fails_with_a_readable_diff() {
    let server = Server::start(|mut c: Conn| async move {
        if c.read_request().await.is_ok() {
            let body: &[u8] = b"\xff\xfe{\"assessmentRunArn\":\"\xc3\x28\"}";
            let mut bytes = b"HTTP/1.1 200 \xd0K\r\n".to_vec();
            bytes.extend_from_slice(b"content-type: application/x-amz-json-1.1\r\n");
            bytes.extend_from_slice(b"x-amzn-requestid: \xff\xfe\xfd-not-a-uuid\r\n");
            bytes.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
            bytes.extend_from_slice(body);
            // A whole answer: conform may keep the connection for the next request, so the
            // server closes it.
            let _ = c.write(&bytes).await;
        }
    })
    .await;
    let (outcome, took, target) = run_against(&server.url).await;
    let text = message(&outcome);
    assert!(
        matches!(outcome, Outcome::Failed { .. }),
        "expected a failure:\n{text}"
    );
    for needle in [
        "header x-amzn-requestid: expected a UUID",
        "body: expected a JSON body, found",
        "not UTF-8 (invalid byte at offset 0)",
        "--- expected",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    assert_server_stops(&server, target).await;
    eprintln!("faults: invalid UTF-8: {took:?}: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_http_is_an_error() {
    let server = Server::start(|mut c: Conn| async move {
        if c.read_request().await.is_ok() {
            let _ = c.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
        }
    })
    .await;
    let (outcome, took, target) = run_against(&server.url).await;
    assert_errored(&outcome, &["connection failed", "invalid HTTP version"]);
    assert_server_stops(&server, target).await;
    eprintln!("faults: not HTTP: {took:?}: {}", message(&outcome));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_1_0_answer_ended_by_close_is_read_whole() {
    // No content-length: the body ends where the connection does (RFC 9112, 6.3).
    async fn answer(mut c: Conn, body: &'static str) {
        if c.read_request().await.is_ok() {
            let mut bytes = head(
                "HTTP/1.0 200 OK",
                &[
                    "content-type: application/x-amz-json-1.1",
                    &format!("x-amzn-requestid: {REQUEST_ID}"),
                ],
            );
            bytes.extend_from_slice(body.as_bytes());
            if c.write(&bytes).await.is_ok() {
                let _ = c.stream.shutdown().await;
            }
        }
    }
    let right = Server::start(|c: Conn| answer(c, SAMPLE_BODY)).await;
    let (outcome, _, target) = run_against(&right.url).await;
    assert!(matches!(outcome, Outcome::Passed), "{}", message(&outcome));
    assert_server_stops(&right, target).await;

    let wrong = Server::start(|c: Conn| answer(c, r#"{"assessmentRunArn":"arn:nope"}"#)).await;
    let (outcome, _, target) = run_against(&wrong.url).await;
    let text = message(&outcome);
    assert!(matches!(outcome, Outcome::Failed { .. }), "{text}");
    assert!(text.contains("body.assessmentRunArn"), "{text}");
    assert!(text.contains("arn:nope"), "{text}");
    assert_server_stops(&wrong, target).await;
    eprintln!("faults: HTTP/1.0: passes whole, fails on a wrong body: {text}");
}

/// Peak resident memory of this process since the last reset, in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Resets the peak to the current resident size (Linux 4.0+), so that the next reading is the
/// peak of what happens in between. Other tests of this binary run at the same time; the
/// bound below leaves them room and still catches a 100 MB body held in memory.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

const HUNDRED_MB: usize = 100 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_answer_is_cut_off_at_max_body() {
    // Writes 100 MB in 64 KiB slices until done or until the client has gone away.
    async fn huge(mut c: Conn, chunked: bool) {
        if c.read_request().await.is_err() {
            return;
        }
        let framing = if chunked {
            "transfer-encoding: chunked".to_owned()
        } else {
            format!("content-length: {HUNDRED_MB}")
        };
        let bytes = head(
            "HTTP/1.1 200 OK",
            &["content-type: application/x-amz-json-1.1", &framing],
        );
        if c.write(&bytes).await.is_err() {
            return;
        }
        let slice = vec![b'x'; 64 * 1024];
        let mut framed = format!("{:x}\r\n", slice.len()).into_bytes();
        framed.extend_from_slice(&slice);
        framed.extend_from_slice(b"\r\n");
        for _ in 0..HUNDRED_MB / slice.len() {
            let piece = if chunked { &framed } else { &slice };
            if c.write(piece).await.is_err() {
                return;
            }
        }
        if chunked {
            let _ = c.write(b"0\r\n\r\n").await;
        }
    }
    let declared = Server::start(|c: Conn| huge(c, false)).await;
    let chunked = Server::start(|c: Conn| huge(c, true)).await;
    for (what, server) in [("declared", &declared), ("chunked", &chunked)] {
        let reset = reset_peak_rss();
        let before = peak_rss().unwrap_or(0);
        let (outcome, took, target) = run_against(&server.url).await;
        let peak = peak_rss().unwrap_or(0);
        assert_errored(
            &outcome,
            &["response body larger than 10485760 bytes; conform stopped reading it"],
        );
        let quiet = assert_server_stops(server, target).await;
        let written = server.written();
        assert!(
            written < HUNDRED_MB as u64 / 2,
            "{what}: the server wrote {written} bytes: conform went on reading"
        );
        let grew = peak.saturating_sub(before);
        assert!(
            grew < 50 * 1024 * 1024,
            "{what}: peak memory grew by {grew} bytes during the run"
        );
        eprintln!(
            "faults: 100 MB {what}: {took:?}, server wrote {:.1} MiB and stopped {quiet:?} later, peak RSS +{:.1} MiB{}: {}",
            written as f64 / 1048576.0,
            grew as f64 / 1048576.0,
            if reset { "" } else { " (peak not reset)" },
            message(&outcome)
        );
    }
}

// ---- The replay server under load and abuse ----

/// Resident memory of another process, in bytes.
fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// `conform serve` on an ephemeral port, its stderr going to a file.
struct Serve {
    child: std::process::Child,
    url: String,
    stderr: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Serve {
    fn start() -> Serve {
        use std::io::BufRead as _;
        let dir = tempfile::tempdir().unwrap();
        let stderr = dir.path().join("stderr");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
            .args([
                "serve",
                "--recordings",
                "recordings",
                "--addr",
                "127.0.0.1:0",
            ])
            .current_dir(crate::support::root())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("conform serve starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Serve {
            child,
            url,
            stderr,
            _dir: dir,
        }
    }

    /// Ctrl-C, as a person stops it; returns the exit code and stderr.
    fn interrupt(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        (
            status.code(),
            std::fs::read_to_string(&self.stderr).unwrap(),
        )
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Guards the replay server's memory: it keeps no request it has answered, and refuses an
/// oversized body without holding it (ARCHITECTURE.md, `replay`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replay_server_keeps_no_request_it_answered() {
    const REQUESTS: usize = 16_000;
    let serve = Serve::start();
    let pid = serve.child.id();
    let client = reqwest::Client::new();
    let sample = serde_json::json!({
        "assessmentRunName": "examplerun",
        "assessmentTemplateArn": "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T",
    })
    .to_string();
    let send = |body: Vec<u8>| {
        client
            .post(&serve.url)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "InspectorService.StartAssessmentRun")
            .body(body)
            .send()
    };
    // Warm up (first connections, allocator arenas), then measure.
    for _ in 0..200 {
        send(sample.clone().into_bytes()).await.unwrap();
    }
    let before = rss_of(pid);

    let work = async {
        // Four connections' worth of recorded requests, each answered with its recording.
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (client, url, sample) = (client.clone(), serve.url.clone(), sample.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..REQUESTS / 4 {
                    let r = client
                        .post(&url)
                        .header("content-type", "application/x-amz-json-1.1")
                        .header("x-amz-target", "InspectorService.StartAssessmentRun")
                        .body(sample.clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    assert_eq!(r.text().await.unwrap(), SAMPLE_BODY);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // One body far over the 10 MiB limit: refused with 413, or cut off by a server that
        // answers before reading it all (the client may then see its upload fail instead).
        match send(vec![b'x'; 64 * 1024 * 1024]).await {
            Ok(r) => assert_eq!(r.status(), 413),
            Err(e) => eprintln!("faults: the 64 MiB upload was cut off: {e}"),
        }
        // A client that announces a body and hangs up halfway.
        let mut s = TcpStream::connect(serve.url.trim_start_matches("http://"))
            .await
            .unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{\"a\":")
            .await
            .unwrap();
        drop(s);
        // Still answering.
        let r = send(sample.clone().into_bytes()).await.unwrap();
        assert_eq!(r.status(), 200);
    };
    tokio::time::timeout(Duration::from_secs(120), work)
        .await
        .expect("the load ends within two minutes");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let grew = rss_of(pid).saturating_sub(before);

    let (code, stderr) = serve.interrupt();
    eprintln!(
        "faults: replay server: {REQUESTS} requests + a 64 MiB body + a cut-off body, RSS +{:.1} MiB",
        grew as f64 / 1048576.0
    );
    assert!(
        grew < 40 * 1024 * 1024,
        "the replay server grew by {:.1} MiB over {REQUESTS} requests",
        grew as f64 / 1048576.0
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
