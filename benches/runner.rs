//! Runner speed (issue #2): cases per second against a local server, load time and CPU time
//! per case, and the wall time of the real binary running the whole suite, process start
//! included. A benchmark, not a test: it prints figures and never fails on a slow machine.
//!
//! `cargo bench --bench runner` (or `bench/run.sh`, which builds the binary first). Every
//! figure is a median over runs made in this one process, printed with its spread, so that
//! two figures side by side were measured under the same load. See `bench/README.md`.
//!
//! Settings (environment):
//! - `CONFORM_BENCH_SIZES`: suite sizes, default `10,1000,10000`; `CONFORM_BENCH_LARGE=1`
//!   adds 100000.
//! - `CONFORM_BENCH_RUNS`: measured runs per figure (default 5).
//! - `CONFORM_BENCH_SERVERS`: `stub`, `replay` or `stub,replay` (default both); the replay
//!   server runs only up to 10,000 cases unless `CONFORM_BENCH_REPLAY_LARGE=1`.
//! - `CONFORM_BIN`: the binary timed end to end (default `target/release/conform`);
//!   `CONFORM_BENCH_BIN_RUNS` runs of it (default 20).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use conform::case::{Case, TargetKind, load_suite};
use conform::http::{Client, ClientOptions};
use conform::recording::Recording;
use conform::replay::{Replay, ReplayServer};
use conform::runner::{RunOptions, Summary, Target, run_cases};
use conform::vars::Vars;

const TEMPLATE_ARN: &str =
    "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T";
/// The documented sample response body (116 bytes).
const SAMPLE_BODY: &str = r#"{"assessmentRunArn":"arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T/run/0-jOoroxyY"}"#;
const SAMPLE_REQUEST_ID: &str = "ed349455-f76d-11e5-b473-ed8493878c40";
const SAMPLE_CASE: &str = "cases/inspector/StartAssessmentRun/documented_sample_exchange.yaml";

/// Issue #2 targets, printed beside the measured figures.
const TARGET_CASES_PER_SEC: f64 = 10_000.0;
const TARGET_SUITE_WALL_MS: f64 = 150.0;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let runs = env_usize("CONFORM_BENCH_RUNS", 5).max(1);
    let mut sizes: Vec<usize> = std::env::var("CONFORM_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 1_000, 10_000]);
    if env_flag("CONFORM_BENCH_LARGE") && !sizes.contains(&100_000) {
        sizes.push(100_000);
    }
    let servers: Vec<String> = std::env::var("CONFORM_BENCH_SERVERS")
        .unwrap_or_else(|_| "stub,replay".into())
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect();

    // The same runtime shape as the binary: multi-threaded, one worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("== runner (benches/runner.rs) ==");
    println!(
        "{cores} cores; client runtime: tokio multi-thread ({cores} workers); servers run in this process on their own thread"
    );
    println!("each figure: median of {runs} runs [min..max]; CPU from /proc/self/task/*/schedstat");
    println!();

    let template = std::fs::read_to_string(root.join(SAMPLE_CASE)).expect("read the sample case");
    let stub = if servers.iter().any(|s| s == "stub") {
        Some(Stub::start())
    } else {
        None
    };
    let mut best_rate = 0.0_f64;
    for &n in &sizes {
        // tmpfs when there is one: creating 100,000 files on ext4 takes longer than the runs.
        let dir = match Path::new("/dev/shm").is_dir() {
            true => tempfile::tempdir_in("/dev/shm"),
            false => tempfile::tempdir(),
        }
        .expect("temp dir");
        write_suite(root, dir.path(), &template, n);
        let paths = [dir.path().to_owned()];

        // Load time: the whole `load_suite`, files already in the page cache.
        let mut load = Vec::new();
        let mut cases = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let suite = load_suite(&paths, &Vars::new()).expect("generated suite loads");
            load.push(started.elapsed().as_secs_f64());
            cases = suite.cases;
        }
        assert_eq!(cases.len(), n, "every generated case loads");
        let selected: Vec<usize> = (0..n).collect();
        println!("N = {n} cases");
        println!(
            "  load_suite          {:>9.1} ms total, {:>7.1} µs/case {}",
            median(&load) * 1e3,
            median(&load) * 1e6 / n as f64,
            spread_ms(&load)
        );

        for server in &servers {
            if server == "replay" && n > 10_000 && !env_flag("CONFORM_BENCH_REPLAY_LARGE") {
                // The wiremock-based server keeps a copy of every request it matched (about
                // 7 KB each): twelve runs of 100,000 cases would hold gigabytes.
                println!(
                    "  replay              skipped above 10,000 cases (CONFORM_BENCH_REPLAY_LARGE=1 runs it)"
                );
                continue;
            }
            let (base, server_tids, _keep) = match server.as_str() {
                "stub" => {
                    let stub = stub.as_ref().unwrap();
                    (format!("http://{}", stub.addr), vec![stub.tid], None)
                }
                "replay" => {
                    let before = thread_ids();
                    let replay = Replay::new(&recordings(n)).expect("generated recordings");
                    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                    let started = runtime.block_on(ReplayServer::start(replay, listener, None));
                    let tids: Vec<u32> = thread_ids().difference(&before).copied().collect();
                    (started.uri(), tids, Some(started))
                }
                other => panic!("unknown server {other:?} in CONFORM_BENCH_SERVERS"),
            };
            for jobs in [8, 32] {
                let m = measure(&runtime, &cases, &selected, &base, jobs, runs, &server_tids);
                let rate = n as f64 / median(&m.wall);
                if server == "stub" {
                    best_rate = best_rate.max(rate);
                }
                // A server on the client's own runtime has no threads of its own to tell apart.
                let server_cpu = match server_tids.is_empty() {
                    true => "server CPU  (in the runner's threads)".to_owned(),
                    false => format!(
                        "server CPU {:>6.1} µs/case",
                        median(&m.server_cpu) * 1e6 / n as f64
                    ),
                };
                println!(
                    "  {server:<6} jobs {jobs:<2}  {:>9.0} cases/s [{:.0}..{:.0}]  wall {:>8.1} ms  runner CPU {:>6.1} µs/case  {server_cpu}{}",
                    rate,
                    n as f64 / max(&m.wall),
                    n as f64 / min(&m.wall),
                    median(&m.wall) * 1e3,
                    median(&m.runner_cpu) * 1e6 / n as f64,
                    if m.failures.is_empty() {
                        String::new()
                    } else {
                        format!("  NOT ALL PASSED: {}", m.failures)
                    }
                );
            }
        }
        println!();
    }

    let bin = std::env::var_os("CONFORM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/conform"));
    time_binary(root, &bin, env_usize("CONFORM_BENCH_BIN_RUNS", 20).max(1));

    if stub.is_some() {
        println!(
            "target ≥{TARGET_CASES_PER_SEC:.0} cases/s against the stub (issue #2): best median {best_rate:.0} cases/s, {}",
            if best_rate >= TARGET_CASES_PER_SEC {
                "met"
            } else {
                "MISSED"
            }
        );
    }
}

struct Measured {
    wall: Vec<f64>,
    runner_cpu: Vec<f64>,
    server_cpu: Vec<f64>,
    failures: String,
}

/// One warm-up run, then `runs` measured runs, each with a fresh client (so connection
/// set-up counts, as it does in a real `conform run`).
fn measure(
    runtime: &tokio::runtime::Runtime,
    cases: &[Case],
    selected: &[usize],
    base: &str,
    jobs: usize,
    runs: usize,
    server_tids: &[u32],
) -> Measured {
    let options = RunOptions {
        jobs,
        ..RunOptions::default()
    };
    let mut m = Measured {
        wall: Vec::new(),
        runner_cpu: Vec::new(),
        server_cpu: Vec::new(),
        failures: String::new(),
    };
    for run in 0..=runs {
        let target = Target {
            kind: TargetKind::Endpoint,
            client: Client::new(
                base,
                None,
                ClientOptions {
                    pool_size: jobs,
                    ..ClientOptions::default()
                },
            )
            .expect("client"),
        };
        let cpu_before = cpu_by_thread();
        let started = Instant::now();
        let results = runtime.block_on(run_cases(cases, selected, &target, &options, |_, _| {}));
        let wall = started.elapsed().as_secs_f64();
        let cpu_after = cpu_by_thread();
        let summary = Summary::of(&results);
        if summary.passed != selected.len() && m.failures.is_empty() {
            let first = results
                .iter()
                .find(|r| !matches!(r.outcome, conform::runner::Outcome::Passed));
            m.failures = format!("{summary:?}; first: {:?}", first.map(|r| &r.outcome));
        }
        if run == 0 {
            continue;
        }
        let (total, server) = cpu_delta(&cpu_before, &cpu_after, server_tids);
        m.wall.push(wall);
        m.runner_cpu.push(total - server);
        m.server_cpu.push(server);
    }
    m
}

/// `target/release/conform run` on the real suite (embedded replay), process start included;
/// `--version` and `list` beside it split the time into start-up, loading and running.
fn time_binary(root: &Path, bin: &Path, runs: usize) {
    println!("== {} (whole process, wall) ==", bin.display());
    if !bin.is_file() {
        println!(
            "  skipped: {} not found (bench/run.sh builds it)",
            bin.display()
        );
        println!();
        return;
    }
    let commands: [(&str, &[&str]); 4] = [
        ("--version (process start only)", &["--version"]),
        ("list (start + load cases)", &["list"]),
        ("run (full suite, embedded replay)", &["run"]),
        ("run --jobs 32", &["run", "--jobs", "32"]),
    ];
    let mut suite_ms = None;
    for (label, args) in commands {
        let mut times = Vec::new();
        let mut status = None;
        for run in 0..=runs {
            let started = Instant::now();
            let s = Command::new(bin)
                .args(args)
                .current_dir(root)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("spawn the binary");
            let wall = started.elapsed().as_secs_f64();
            status = Some(s);
            if run > 0 {
                times.push(wall);
            }
        }
        let status = status.unwrap();
        println!(
            "  {label:<36} {:>7.1} ms median of {runs} {}  exit {}",
            median(&times) * 1e3,
            spread_ms(&times),
            status.code().map_or("signal".into(), |c| c.to_string())
        );
        if args == ["run"] {
            suite_ms = Some(median(&times) * 1e3);
        }
    }
    if let Some(ms) = suite_ms {
        println!(
            "target: whole suite under {TARGET_SUITE_WALL_MS:.0} ms wall (issue #2): {ms:.1} ms, {}",
            if ms < TARGET_SUITE_WALL_MS {
                "met"
            } else {
                "MISSED"
            }
        );
    }
    println!();
}

// ---- The generated suite and recordings ----

/// `n` copies of the documented sample case, each with its own name and run name, under the
/// real `suite.yaml` settings.
fn write_suite(root: &Path, dir: &Path, template: &str, n: usize) {
    let ops = dir.join("inspector/StartAssessmentRun");
    std::fs::create_dir_all(&ops).unwrap();
    std::fs::copy(root.join("cases/suite.yaml"), dir.join("suite.yaml")).unwrap();
    std::fs::copy(
        root.join("cases/inspector/suite.yaml"),
        dir.join("inspector/suite.yaml"),
    )
    .unwrap();
    for needle in [
        "name: documented sample exchange\n",
        "assessmentRunName: examplerun\n",
    ] {
        assert!(
            template.contains(needle),
            "{SAMPLE_CASE} no longer contains {needle:?}: update benches/runner.rs"
        );
    }
    for i in 0..n {
        let text = template
            .replace(
                "name: documented sample exchange\n",
                &format!("name: documented sample exchange {i:06}\n"),
            )
            .replace(
                "assessmentRunName: examplerun\n",
                &format!("assessmentRunName: examplerun-{i:06}\n"),
            );
        std::fs::write(ops.join(format!("sample_{i:06}.yaml")), text).unwrap();
    }
}

/// One recording per generated case: its request, the documented response.
fn recordings(n: usize) -> Vec<Recording> {
    (0..n)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "provenance": "documented",
                "source": "benches/runner.rs",
                "note": "generated",
                "exchanges": [{
                    "request": {
                        "method": "POST",
                        "path": "/",
                        "headers": {
                            "content-type": "application/x-amz-json-1.1",
                            "x-amz-target": "InspectorService.StartAssessmentRun",
                        },
                        "body": {
                            "assessmentRunName": format!("examplerun-{i:06}"),
                            "assessmentTemplateArn": TEMPLATE_ARN,
                        },
                    },
                    "response": {
                        "status": 200,
                        "headers": {
                            "x-amzn-requestid": SAMPLE_REQUEST_ID,
                            "content-type": "application/x-amz-json-1.1",
                        },
                        "body": SAMPLE_BODY,
                    },
                }],
            }))
            .expect("recording")
        })
        .collect()
}

// ---- The stub: the least an HTTP/1.1 server can do ----

/// A keep-alive HTTP/1.1 server on its own thread and single-threaded runtime that answers
/// every request with the documented sample response, so the figures measure the runner.
struct Stub {
    addr: SocketAddr,
    tid: u32,
}

impl Stub {
    fn start() -> Stub {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the stub");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let response: &'static [u8] = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\nx-amzn-requestid: {SAMPLE_REQUEST_ID}\r\ncontent-length: {}\r\n\r\n{SAMPLE_BODY}",
            SAMPLE_BODY.len()
        )
        .into_bytes()
        .leak();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("stub".into())
            .spawn(move || {
                tx.send(current_tid()).unwrap();
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    loop {
                        if let Ok((stream, _)) = listener.accept().await {
                            let _ = stream.set_nodelay(true);
                            tokio::spawn(serve_connection(stream, response));
                        }
                    }
                });
            })
            .unwrap();
        Stub {
            addr,
            tid: rx.recv().unwrap(),
        }
    }
}

async fn serve_connection(mut stream: tokio::net::TcpStream, response: &'static [u8]) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        while let Some(len) = complete_request(&buf) {
            buf.drain(..len);
            if stream.write_all(response).await.is_err() {
                return;
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The length of the first whole request in `buf` (head and `content-length` body).
fn complete_request(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..head_end]);
    let body_len: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    (buf.len() >= head_end + body_len).then_some(head_end + body_len)
}

// ---- CPU time per thread, from /proc ----

fn current_tid() -> u32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .unwrap_or(0)
}

fn thread_ids() -> HashSet<u32> {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Nanoseconds on CPU per live thread (first field of `schedstat`).
fn cpu_by_thread() -> HashMap<u32, u64> {
    thread_ids()
        .into_iter()
        .filter_map(|tid| {
            let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
            Some((tid, text.split_whitespace().next()?.parse().ok()?))
        })
        .collect()
}

/// Seconds of CPU between two snapshots: all threads, and the server's threads.
fn cpu_delta(before: &HashMap<u32, u64>, after: &HashMap<u32, u64>, server: &[u32]) -> (f64, f64) {
    let mut total = 0;
    let mut in_server = 0;
    for (tid, &ns) in after {
        let d = ns.saturating_sub(before.get(tid).copied().unwrap_or(0));
        total += d;
        if server.contains(tid) {
            in_server += d;
        }
    }
    (total as f64 / 1e9, in_server as f64 / 1e9)
}

// ---- Small statistics ----

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn min(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(0.0, f64::max)
}

fn spread_ms(xs: &[f64]) -> String {
    format!("[{:.1}..{:.1} ms]", min(xs) * 1e3, max(xs) * 1e3)
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
