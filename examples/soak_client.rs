//! Load client for the replay soak (`bench/soak.sh`, described in `bench/SOAK.md`).
//!
//! Sends a bounded number of requests to a running `conform serve` on loopback, over several
//! keep-alive connections, mixing the recorded requests with malformed ones; checks every
//! answer to a recorded request against its recording, byte for byte; samples the server's
//! resident memory every 100 000 requests; prints one `soak:` line per figure. Raw TCP, so
//! that it can also send what no HTTP library would: slow and cut-off requests, garbage.
//!
//! ```text
//! soak_client --url http://127.0.0.1:PORT --pid PID [--requests 1000000] [--connections 8]
//!             [--recordings recordings] [--sample-every 100000]
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use conform::recording::{RecordedExchange, load_recordings};

/// No request may take longer than this; one that does counts as unanswered.
const ANSWER_BOUND: Duration = Duration::from_secs(30);
/// How much the server may grow between the first sample after start-up and the last.
const GROWTH_LIMIT_MIB: u64 = 64;

struct Args {
    addr: String,
    pid: u32,
    requests: u64,
    connections: usize,
    recordings: PathBuf,
    sample_every: u64,
}

fn args() -> Args {
    let mut a = Args {
        addr: String::new(),
        pid: 0,
        requests: 1_000_000,
        connections: 8,
        recordings: "recordings".into(),
        sample_every: 100_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => {
                a.addr = value
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .into()
            }
            "--pid" => a.pid = value.parse().expect("--pid"),
            "--requests" => a.requests = value.parse().expect("--requests"),
            "--connections" => a.connections = value.parse().expect("--connections"),
            "--recordings" => a.recordings = value.into(),
            "--sample-every" => a.sample_every = value.parse().expect("--sample-every"),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        !a.addr.is_empty() && a.pid != 0,
        "--url and --pid are required"
    );
    a
}

/// One recorded request, ready to send, and the answers it may get: the exchanges of its
/// sequence (answered in turn, shared by every connection, so any of them is right).
struct Valid {
    label: String,
    head: Vec<(String, String)>,
    method: String,
    body: Vec<u8>,
    answers: Vec<Expected>,
}

#[derive(Clone)]
struct Expected {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn expected(x: &RecordedExchange) -> Expected {
    Expected {
        status: x.response.status,
        headers: x
            .response
            .served_headers()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
            .collect(),
        body: x.response.body_bytes().expect("recorded body"),
    }
}

/// The recorded requests, grouped as the replay groups them: per recording, by request; a
/// later recording repeating an earlier one's request is shadowed (never answers).
fn valid_requests(dir: &std::path::Path) -> Vec<Valid> {
    let recordings = load_recordings(dir).expect("the recordings load");
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut owner: Vec<PathBuf> = Vec::new();
    let mut out: Vec<Valid> = Vec::new();
    for r in &recordings {
        for (i, x) in r.exchanges.iter().enumerate() {
            let key = x.request.index_key();
            match by_key.get(&key) {
                Some(&k) if owner[k] == r.file => out[k].answers.push(expected(x)),
                Some(_) => {}
                None => {
                    let body = match (&x.request.body, &x.request.raw_body) {
                        (Some(v), _) => serde_json::to_vec(v).unwrap(),
                        (None, Some(raw)) => raw.clone().into_bytes(),
                        (None, None) => Vec::new(),
                    };
                    by_key.insert(key, out.len());
                    owner.push(r.file.clone());
                    out.push(Valid {
                        label: format!("{} (exchange {})", r.file.display(), i + 1),
                        head: x
                            .request
                            .headers
                            .iter()
                            .map(|(n, v)| (n.clone(), v.clone()))
                            .collect(),
                        method: x.request.method.clone(),
                        body,
                        answers: vec![expected(x)],
                    });
                }
            }
        }
    }
    out
}

fn request(method: &str, addr: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} / HTTP/1.1\r\nhost: {addr}\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    close: bool,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A keep-alive connection with a read buffer.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::new(),
        })
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 16384];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    async fn line(&mut self) -> std::io::Result<String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 2);
                return Ok(line);
            }
            self.fill().await?;
        }
    }

    async fn take(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        while self.buf.len() < n {
            self.fill().await?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads one response (content-length, chunked, or up to the close).
    async fn response(&mut self) -> std::io::Result<Response> {
        let status_line = self.line().await?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = self.line().await?;
            if line.is_empty() {
                break;
            }
            if let Some((n, v)) = line.split_once(':') {
                headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v): &(String, String)| v.clone())
        };
        let close = get("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let body = if let Some(n) = get("content-length") {
            let n: usize = n.parse().map_err(std::io::Error::other)?;
            self.take(n).await?
        } else if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            let mut body = Vec::new();
            loop {
                let size = usize::from_str_radix(self.line().await?.trim(), 16)
                    .map_err(std::io::Error::other)?;
                if size == 0 {
                    self.line().await?;
                    break;
                }
                body.extend(self.take(size).await?);
                self.line().await?;
            }
            body
        } else {
            let mut body = std::mem::take(&mut self.buf);
            self.stream.read_to_end(&mut body).await?;
            body
        };
        Ok(Response {
            status,
            headers,
            body,
            close,
        })
    }
}

/// What one connection's worker counts.
#[derive(Default)]
struct Counts {
    sent: AtomicU64,
    valid: AtomicU64,
    valid_right: AtomicU64,
    wrong: AtomicU64,
    malformed: AtomicU64,
    miss_named: AtomicU64,
    miss_unexpected: AtomicU64,
    big: AtomicU64,
    aborted: AtomicU64,
    garbage: AtomicU64,
    garbage_400: AtomicU64,
    slow: AtomicU64,
    slow_right: AtomicU64,
    unanswered: AtomicU64,
    reconnects: AtomicU64,
    status: Mutex<HashMap<String, u64>>,
    wrong_examples: Mutex<Vec<String>>,
}

impl Counts {
    fn status(&self, what: &str, status: u16) {
        *self
            .status
            .lock()
            .unwrap()
            .entry(format!("{what} -> {status}"))
            .or_default() += 1;
    }

    fn wrong(&self, text: String) {
        self.wrong.fetch_add(1, Ordering::Relaxed);
        let mut w = self.wrong_examples.lock().unwrap();
        if w.len() < 5 {
            w.push(text);
        }
    }
}

fn check_valid(v: &Valid, r: &Response) -> Result<(), String> {
    let fits = |e: &Expected| {
        e.status == r.status
            && e.body == r.body
            && e.headers
                .iter()
                .all(|(n, val)| r.header(n) == Some(val.as_str()))
    };
    if v.answers.iter().any(fits) {
        Ok(())
    } else {
        Err(format!(
            "{}: got {} {:?} {}",
            v.label,
            r.status,
            r.headers,
            String::from_utf8_lossy(&r.body[..r.body.len().min(300)])
        ))
    }
}

/// A miss is a 404 NoMatchingRecordingException whose message names the closest recording.
fn is_named_miss(r: &Response) -> bool {
    r.status == 404
        && r.header("x-amzn-errortype") == Some("NoMatchingRecordingException")
        && String::from_utf8_lossy(&r.body).contains("closest is ")
}

/// Resident memory of the server, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

struct Shared {
    addr: String,
    pid: u32,
    requests: u64,
    sample_every: u64,
    valid: Vec<Valid>,
    counts: Counts,
    issued: AtomicU64,
    done: AtomicBool,
    rss: Mutex<Vec<(u64, u64)>>,
}

impl Shared {
    /// Takes the next request number, or None when the budget is spent.
    fn next(&self) -> Option<u64> {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        if n >= self.requests {
            self.done.store(true, Ordering::Relaxed);
            return None;
        }
        if n.is_multiple_of(self.sample_every) {
            self.rss.lock().unwrap().push((n, rss_kib(self.pid)));
        }
        Some(n)
    }
}

/// What request number `n` sends (per mille of the traffic).
enum Kind {
    Valid,
    NotJson,
    NoTarget,
    WrongMethod,
    NearMiss,
    Big,
    Aborted,
    Garbage,
}

fn kind(n: u64) -> Kind {
    // Spread the rare kinds with a multiplicative hash so they are not periodic per worker.
    match n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54 {
        // 0..1024
        0..=39 => Kind::NotJson,
        40..=79 => Kind::NoTarget,
        80..=119 => Kind::WrongMethod,
        120..=159 => Kind::NearMiss,
        160 => {
            if n.is_multiple_of(4) {
                Kind::Big
            } else {
                Kind::Valid
            }
        }
        161 => {
            if n.is_multiple_of(8) {
                Kind::Aborted
            } else if n % 8 == 1 {
                Kind::Garbage
            } else {
                Kind::Valid
            }
        }
        _ => Kind::Valid,
    }
}

async fn worker(shared: Arc<Shared>) {
    let s = &*shared;
    let c = &s.counts;
    let mut conn: Option<Conn> = None;
    let big_body = {
        let mut b = br#"{"assessmentRunName":""#.to_vec();
        b.extend(std::iter::repeat_n(b'a', 1024 * 1024));
        b.extend_from_slice(br#"","assessmentTemplateArn":"x"}"#);
        b
    };
    while let Some(n) = s.next() {
        c.sent.fetch_add(1, Ordering::Relaxed);
        if conn.is_none() {
            match Conn::open(&s.addr).await {
                Ok(k) => conn = Some(k),
                Err(_) => {
                    c.unanswered.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let k = conn.as_mut().unwrap();
        let v = &s.valid[(n as usize) % s.valid.len()];
        let target = (
            "x-amz-target".to_owned(),
            "InspectorService.StartAssessmentRun".to_owned(),
        );
        let json_ct = (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        );
        let (what, bytes, expect_valid) = match kind(n) {
            Kind::Valid => ("valid", request(&v.method, &s.addr, &v.head, &v.body), true),
            Kind::NotJson => (
                "not JSON",
                request("POST", &s.addr, &[json_ct, target], b"{this is not json"),
                false,
            ),
            Kind::NoTarget => (
                "no target",
                request(
                    "POST",
                    &s.addr,
                    &[json_ct],
                    br#"{"assessmentRunName":"examplerun"}"#,
                ),
                false,
            ),
            Kind::WrongMethod => (
                "wrong method",
                request("PUT", &s.addr, &v.head, &v.body),
                false,
            ),
            Kind::NearMiss => {
                let mut body = v.body.clone();
                body.extend_from_slice(b" x");
                (
                    "near miss",
                    request(&v.method, &s.addr, &v.head, &body),
                    false,
                )
            }
            Kind::Big => (
                "1 MB body",
                request("POST", &s.addr, &[json_ct, target], &big_body),
                false,
            ),
            Kind::Aborted => {
                // Announces a body, sends half of it, and closes: the server must carry on.
                c.aborted.fetch_add(1, Ordering::Relaxed);
                let bytes = request(&v.method, &s.addr, &v.head, &v.body);
                let _ = k
                    .stream
                    .write_all(&bytes[..bytes.len() - v.body.len() / 2 - 1])
                    .await;
                conn = None;
                continue;
            }
            Kind::Garbage => ("garbage", b"HELLO SERVER\r\n\r\n".to_vec(), false),
        };
        let result = tokio::time::timeout(ANSWER_BOUND, async {
            k.stream.write_all(&bytes).await?;
            k.response().await
        })
        .await;
        let response = match result {
            Ok(Ok(r)) => r,
            Ok(Err(_)) | Err(_) => {
                if what == "garbage" {
                    // hyper may close without a response to something that is not HTTP.
                    c.garbage.fetch_add(1, Ordering::Relaxed);
                } else {
                    c.unanswered.fetch_add(1, Ordering::Relaxed);
                }
                c.reconnects.fetch_add(1, Ordering::Relaxed);
                conn = None;
                continue;
            }
        };
        c.status(what, response.status);
        if expect_valid {
            c.valid.fetch_add(1, Ordering::Relaxed);
            match check_valid(v, &response) {
                Ok(()) => c.valid_right.fetch_add(1, Ordering::Relaxed),
                Err(e) => {
                    c.wrong(e);
                    0
                }
            };
        } else if what == "garbage" {
            c.garbage.fetch_add(1, Ordering::Relaxed);
            if response.status == 400 {
                c.garbage_400.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            c.malformed.fetch_add(1, Ordering::Relaxed);
            if what == "1 MB body" {
                c.big.fetch_add(1, Ordering::Relaxed);
            }
            if is_named_miss(&response) {
                c.miss_named.fetch_add(1, Ordering::Relaxed);
            } else {
                c.miss_unexpected.fetch_add(1, Ordering::Relaxed);
            }
        }
        if response.close {
            conn = None;
        }
    }
}

/// A client that sends a recorded request a few bytes at a time (headers, or only the body),
/// 5 ms apart, again and again until the others are done.
async fn slow_client(shared: Arc<Shared>, index: usize) {
    let s = &*shared;
    let c = &s.counts;
    let mut round = index;
    while !s.done.load(Ordering::Relaxed) {
        let v = &s.valid[round % s.valid.len()];
        round += 1;
        let Ok(mut k) = Conn::open(&s.addr).await else {
            c.unanswered.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let bytes = request(&v.method, &s.addr, &v.head, &v.body);
        let split = if round.is_multiple_of(2) {
            0
        } else {
            bytes.len() - v.body.len()
        };
        let result = tokio::time::timeout(ANSWER_BOUND, async {
            k.stream.write_all(&bytes[..split]).await?;
            for piece in bytes[split..].chunks(4) {
                k.stream.write_all(piece).await?;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            k.response().await
        })
        .await;
        c.slow.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(Ok(r)) => match check_valid(v, &r) {
                Ok(()) => {
                    c.slow_right.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => c.wrong(e),
            },
            _ => {
                c.unanswered.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    let valid = valid_requests(&a.recordings);
    let shared = Arc::new(Shared {
        addr: a.addr.clone(),
        pid: a.pid,
        requests: a.requests,
        sample_every: a.sample_every,
        valid,
        counts: Counts::default(),
        issued: AtomicU64::new(0),
        done: AtomicBool::new(false),
        rss: Mutex::new(Vec::new()),
    });
    println!(
        "soak: {} recorded requests, {} connections + 2 slow clients, {} requests, server pid {}, RSS at start {} KiB",
        shared.valid.len(),
        a.connections,
        a.requests,
        a.pid,
        rss_kib(a.pid)
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.connections {
        tasks.push(tokio::spawn(worker(shared.clone())));
    }
    let slow: Vec<_> = (0..2)
        .map(|i| tokio::spawn(slow_client(shared.clone(), i)))
        .collect();
    for t in tasks {
        t.await.expect("a worker panicked");
    }
    shared.done.store(true, Ordering::Relaxed);
    for t in slow {
        t.await.expect("a slow client panicked");
    }
    let took = started.elapsed();
    let c = &shared.counts;
    let n = |x: &AtomicU64| x.load(Ordering::Relaxed);
    shared
        .rss
        .lock()
        .unwrap()
        .push((n(&c.sent), rss_kib(a.pid)));

    // After the load, the server still answers every recorded request rightly.
    let mut after = 0;
    for v in &shared.valid {
        let ok = async {
            let mut k = Conn::open(&a.addr).await.ok()?;
            k.stream
                .write_all(&request(&v.method, &a.addr, &v.head, &v.body))
                .await
                .ok()?;
            let r = k.response().await.ok()?;
            check_valid(v, &r).ok()
        }
        .await;
        if ok.is_some() {
            after += 1;
        }
    }

    let total = n(&c.sent) + n(&c.slow);
    println!(
        "soak: {total} requests in {:.1} s ({:.0}/s): {} from {} connections, {} from 2 slow clients",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64(),
        n(&c.sent),
        a.connections,
        n(&c.slow)
    );
    println!(
        "soak: valid {} ({} right, {} wrong); slow valid {} ({} right)",
        n(&c.valid),
        n(&c.valid_right),
        n(&c.wrong),
        n(&c.slow),
        n(&c.slow_right)
    );
    println!(
        "soak: malformed {} (of which 1 MB bodies {}): {} named misses (404 naming the closest recording), {} other answers",
        n(&c.malformed),
        n(&c.big),
        n(&c.miss_named),
        n(&c.miss_unexpected)
    );
    println!(
        "soak: cut-off requests {}, garbage {} ({} answered 400), unanswered {}, reconnects {}",
        n(&c.aborted),
        n(&c.garbage),
        n(&c.garbage_400),
        n(&c.unanswered),
        n(&c.reconnects)
    );
    let mut statuses: Vec<_> = c.status.lock().unwrap().clone().into_iter().collect();
    statuses.sort();
    for (what, count) in statuses {
        println!("soak: status {what}: {count}");
    }
    for w in c.wrong_examples.lock().unwrap().iter() {
        println!("soak: WRONG {w}");
    }
    let series: Vec<String> = shared
        .rss
        .lock()
        .unwrap()
        .iter()
        .map(|(at, kib)| format!("{at}:{:.1}MiB", *kib as f64 / 1024.0))
        .collect();
    println!("soak: RSS series (requests:VmRSS) {}", series.join(" "));
    println!(
        "soak: after the load, {after} of {} recorded requests answered rightly",
        shared.valid.len()
    );
    // Memory must level off: from the first sample after start-up to the last, the server
    // may grow by its caches and allocator slack, not by the traffic.
    let samples = shared.rss.lock().unwrap().clone();
    let warm = samples.get(1).or(samples.first()).map_or(0, |s| s.1);
    let growth = samples.last().map_or(0, |s| s.1).saturating_sub(warm);
    println!(
        "soak: RSS growth after warm-up {:.1} MiB (limit {GROWTH_LIMIT_MIB} MiB)",
        growth as f64 / 1024.0
    );
    let failed = n(&c.wrong) > 0
        || after != shared.valid.len()
        || n(&c.unanswered) > 0
        || growth > GROWTH_LIMIT_MIB * 1024;
    std::process::exit(if failed { 1 } else { 0 });
}
