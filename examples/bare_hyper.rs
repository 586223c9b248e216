//! The bare hyper server of the issue #11 benchmarks (`bench/issue11.sh`): the peer that
//! `conform serve` is measured against, and the "bare local server" that both `conform run`
//! and hurl run their asserts against.
//!
//! It answers every request, whatever it is, with the documented StartAssessmentRun sample
//! response (status 200, the published `content-type` and `x-amzn-requestid`, the 116-byte
//! body): the least work an HTTP/1.1 server on hyper can do to give that answer. It reads each
//! request body to its end (as any real server must, to keep the connection usable) but does
//! not look at it. The same runtime shape as `conform serve` (tokio multi-thread, one worker per
//! core, hyper http1 with keep-alive), so the difference between the two is the replay's own
//! work: parsing, matching, building the answer.
//!
//! With `--read-first DIR` it first reads every `.yaml`/`.yml` file under `DIR` (on every
//! core, as `conform serve` does) and only then accepts: the peer of a cold start, for what a
//! replay that reads its recordings must spend on the file system before any parsing (walking
//! the folder, opening, reading and closing each file), measured on the same files. As
//! `conform serve` does, it binds its port before it reads, so a client that connects early
//! waits in the listen queue rather than being refused.
//!
//! ```text
//! cargo run --release --example bare_hyper -- 127.0.0.1:PORT [--read-first DIR]
//! ```
//!
//! Prints `listening on ADDR` once it accepts, then serves until killed.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// The documented sample response body (API reference, StartAssessmentRun, "Sample Response";
/// the same bytes as `recordings/inspector/StartAssessmentRun/documented_sample_exchange.yaml`).
const SAMPLE_BODY: &str = r#"{"assessmentRunArn":"arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T/run/0-jOoroxyY"}"#;
const SAMPLE_REQUEST_ID: &str = "ed349455-f76d-11e5-b473-ed8493878c40";

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Drain the body; an error here (client gone) changes nothing about the answer.
    let _ = req.into_body().collect().await;
    let mut resp = Response::new(Full::new(Bytes::from_static(SAMPLE_BODY.as_bytes())));
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    h.insert(
        "x-amzn-requestid",
        hyper::header::HeaderValue::from_static(SAMPLE_REQUEST_ID),
    );
    Ok(resp)
}

/// Every `.yaml`/`.yml` file under `dir` (symlinked folders not followed).
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            yaml_files(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads every file of `files` on every core, each worker taking the next file.
fn read_all(files: &[PathBuf]) -> std::io::Result<()> {
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    while let Some(f) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        std::fs::read(f)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().expect("a reading thread panicked"))
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr: SocketAddr = match args.first().map_or("127.0.0.1:0", String::as_str).parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bare_hyper: the first argument must be IP:PORT: {e}");
            std::process::exit(2);
        }
    };
    let listener = match std::net::TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("bare_hyper: cannot listen on {addr}: {e}");
            std::process::exit(2);
        }
    };
    match &args[1.min(args.len())..] {
        [] => {}
        [flag, dir] if flag == "--read-first" => {
            let dir = Path::new(dir);
            let mut files = Vec::new();
            let read = yaml_files(dir, &mut files).and_then(|()| read_all(&files));
            if let Err(e) = read {
                eprintln!("bare_hyper: cannot read {}: {e}", dir.display());
                std::process::exit(2);
            }
        }
        other => {
            eprintln!(
                "bare_hyper: after IP:PORT, only --read-first DIR is understood, not {other:?}"
            );
            std::process::exit(2);
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let listener = listener
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpListener::from_std(listener))
            .expect("a bound listener for tokio");
        println!(
            "listening on {}",
            listener.local_addr().expect("local addr")
        );
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service_fn(answer))
                    .await;
            });
        }
    });
}
