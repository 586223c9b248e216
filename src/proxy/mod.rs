//! `conform proxy`: conform between any client and any endpoint, recording and judging live
//! traffic (VCR's record modes, WireMock's recorder, Hoverfly's capture and spy).
//!
//! - Answering from recordings is `crate::replay::Replay` (the one matcher); a recording written
//!   here is added to that replay at once, so the next identical request is answered from it.
//! - Forwarding is `crate::http::Client`: the client's own `authorization`, `x-amz-date` and
//!   `x-amz-security-token` are dropped and the request is signed again by conform's own
//!   signer (`crate::aws::SigV4Signer`, `aws-sigv4`), when it has one.
//! - Writing is `crate::record::recorded_exchange` plus `crate::recording::write_recording`
//!   (the one format, atomic writes, volatile and secret headers out, secrets scrubbed). The
//!   client's own access key id and session token are scrubbed from everything written too.
//! - Judging (`--compare`) is `crate::compare::compare`, the code of `conform compare`.
//!
//! The server is the replay server's: same body limit, timeouts and AWS-style errors for bad
//! clients. An upstream that is down, slow or answers junk gives the client a 502
//! `UpstreamUnavailableException` saying why, and nothing is recorded.

mod judge;
mod server;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::Duration;

pub use judge::{Judge, unmatched_result};
pub use server::{ProxyEvent, ProxyServer, ProxySink};

use crate::aws::SecretScrubber;
use crate::exchange::{Request, Response};
use crate::http::Client;
use crate::recording::{Created, RecordedFrom, Recording, RecordingProvenance, load_recording};
use crate::replay::Replay;

/// What the proxy does with a request, named as VCR names its record modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Answer from the recordings; a miss is the replay's AWS-style 404.
    #[default]
    Replay,
    /// Answer from the recordings; on a miss, forward and record.
    New,
    /// Forward and record everything.
    All,
    /// Forward, record nothing.
    Passthrough,
}

impl Mode {
    pub fn parse(text: &str) -> Option<Mode> {
        Some(match text {
            "replay" => Mode::Replay,
            "new" => Mode::New,
            "all" => Mode::All,
            "passthrough" => Mode::Passthrough,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Replay => "replay",
            Mode::New => "new",
            Mode::All => "all",
            Mode::Passthrough => "passthrough",
        }
    }

    fn forwards(self) -> bool {
        self != Mode::Replay
    }

    fn records(self) -> bool {
        matches!(self, Mode::New | Mode::All)
    }
}

/// Where forwarded requests go.
pub struct Upstream {
    /// Sends to the upstream; signs when it has a signer.
    pub client: Client,
    /// True for real AWS: what it answers is written `aws: true`, and is protected.
    pub aws: bool,
    pub region: Option<String>,
    /// Removes conform's own secrets (the signer's) from text.
    pub scrubber: Option<SecretScrubber>,
    /// How long the upstream may take to answer.
    pub timeout: Duration,
}

/// Everything the proxy needs.
pub struct ProxyConfig {
    pub mode: Mode,
    /// The recordings folder: answered from (`replay`, `new`) and written to (`new`, `all`).
    pub recordings: PathBuf,
    /// The recordings loaded from it (empty in `all` and `passthrough`).
    pub loaded: Vec<Recording>,
    /// Required by every mode but `replay`.
    pub upstream: Option<Upstream>,
    /// Replace a recording made from AWS with one from another upstream.
    pub force: bool,
    /// `--compare`: every upstream answer is judged against these recordings.
    pub judge: Option<Judge>,
}

/// Why a proxy cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("--mode {0} forwards requests: give --upstream URL or --aws")]
    NoUpstream(&'static str),
    #[error("cannot build the replay of {dir}: {message}")]
    Replay { dir: PathBuf, message: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// The hook for the service model's hash: `recorded:` gets a `model_hash` once the model
/// module (`crate::model`, on another branch) is merged and `RecordedFrom` grows that field.
/// Until then there is no model to hash, and nothing is claimed.
pub fn model_hash() -> Option<String> {
    None
}

/// The state every request shares.
pub(crate) struct Shared {
    pub mode: Mode,
    pub recordings_dir: PathBuf,
    pub upstream: Option<Upstream>,
    /// The upstream as recordings name it (user and password out, conform's secrets
    /// scrubbed): the same for every recording, so worked out once.
    endpoint: String,
    pub force: bool,
    pub judge: Option<Judge>,
    /// The replay answering requests; a recording written joins it at once.
    pub replay: RwLock<Replay>,
    /// The recordings the replay is built from, and what this session wrote (by file).
    pub recordings: Mutex<Recordings>,
    /// Access key ids and session tokens clients sent: never written anywhere.
    pub client_secrets: Mutex<Vec<String>>,
    /// Flushes written recordings to disk in batches, off the request path.
    pub syncer: crate::recording::Syncer,
}

#[derive(Default)]
pub(crate) struct Recordings {
    pub all: Vec<Recording>,
    /// Where each file of `all` is, so that a write finds its recording in O(1).
    pub by_file: HashMap<PathBuf, usize>,
    /// Files written in this session: in `all` mode, a request seen again is appended to its
    /// file as the next exchange of a sequence instead of replacing the first answer.
    pub written: HashMap<PathBuf, usize>,
}

impl Shared {
    pub(crate) fn new(config: ProxyConfig) -> Result<Shared, ProxyError> {
        if config.mode.forwards() && config.upstream.is_none() {
            return Err(ProxyError::NoUpstream(config.mode.as_str()));
        }
        let replay = Replay::new(&config.loaded).map_err(|message| ProxyError::Replay {
            dir: config.recordings.clone(),
            message,
        })?;
        let recordings_dir = config.recordings;
        let endpoint = config.upstream.as_ref().map_or_else(String::new, |u| {
            crate::record::recorded_endpoint(u.client.base(), u.scrubber.as_ref())
        });
        Ok(Shared {
            endpoint,
            mode: config.mode,
            recordings_dir: recordings_dir.clone(),
            upstream: config.upstream,
            force: config.force,
            judge: config.judge,
            replay: RwLock::new(replay),
            recordings: Mutex::new(Recordings {
                by_file: config
                    .loaded
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (r.file.clone(), i))
                    .collect(),
                all: config.loaded,
                written: HashMap::new(),
            }),
            client_secrets: Mutex::new(Vec::new()),
            syncer: crate::recording::Syncer::new(&recordings_dir),
        })
    }

    /// The replay, read-locked: hold it only for a lookup, never across an await.
    pub(crate) fn replay(&self) -> std::sync::RwLockReadGuard<'_, Replay> {
        self.replay.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers the client's access key id (from `Credential=AKID/...`) and session token,
    /// so that no text this proxy writes or shows ever holds them.
    pub(crate) fn learn_client_secrets(&self, request: &Request) {
        let mut found = Vec::new();
        if let Some(auth) = request.headers.get("authorization")
            && let Some(rest) = auth.split("Credential=").nth(1)
        {
            let key = rest.split('/').next().unwrap_or_default();
            found.push(key.to_owned());
        }
        if let Some(token) = request.headers.get("x-amz-security-token") {
            found.push(token.to_owned());
        }
        let mut known = self
            .client_secrets
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for value in found {
            // Too short to be a credential, and replacing it would mangle ordinary text.
            if value.len() >= 8 && !known.contains(&value) {
                known.push(value);
            }
        }
        known.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// `text` without any secret of conform's or of a client's.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = match self.upstream.as_ref().and_then(|u| u.scrubber.as_ref()) {
            Some(s) => s.scrub(text),
            None => text.to_owned(),
        };
        for value in self
            .client_secrets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), crate::exchange::REDACTED);
            }
        }
        out
    }

    pub(crate) fn scrub_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.scrub(text).into_bytes(),
            // Not text: kept byte for byte, as `record` keeps it.
            Err(_) => bytes.to_vec(),
        }
    }

    /// Writes the exchange into its recording (a new file, or the next exchange of one this
    /// session wrote), and rebuilds the replay so that it answers it. Returns the file, or why
    /// nothing was written.
    pub(crate) fn record(&self, request: &Request, response: &Response) -> Result<PathBuf, String> {
        let Some(upstream) = &self.upstream else {
            return Err("no upstream".into());
        };
        // Client secrets out first (the recorder knows only conform's), then the common path.
        let mut request = request.clone();
        request.path = self.scrub(&request.path);
        request.body = self.scrub_bytes(&request.body);
        let mut response = response.clone();
        response.headers = response
            .headers
            .iter()
            .map(|(n, v)| (n.to_owned(), self.scrub(v)))
            .collect();
        response.body = self.scrub_bytes(&response.body);
        let exchange =
            crate::record::recorded_exchange(&request, &response, upstream.scrubber.as_ref());
        let path = self.recordings_dir.join(file_for(&exchange.request));

        let mut recordings = self
            .recordings
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let endpoint = self.scrub(&self.endpoint);
        // A file loaded at start that this session replaces (rare: `all` mode, or a name
        // collision) takes a rebuild; every other write joins the replay in O(1).
        let replaces_loaded =
            !recordings.written.contains_key(&path) && recordings.by_file.contains_key(&path);
        // No file there that this proxy knows of (the usual case in `new` mode): it is made only
        // if none is there by then, with no look first (a system call per request).
        let fresh =
            !recordings.written.contains_key(&path) && !recordings.by_file.contains_key(&path);
        let recording = match recordings.written.get(&path).copied() {
            Some(index) => {
                let mut r = recordings.all[index].clone();
                r.exchanges.push(exchange);
                r
            }
            None => {
                if !fresh {
                    self.may_replace(&path)?;
                }
                Recording {
                    provenance: RecordingProvenance::Recorded,
                    source: format!(
                        "conform proxy --mode {} against {endpoint}",
                        self.mode.as_str()
                    ),
                    note: None,
                    recorded: Some(RecordedFrom {
                        endpoint,
                        region: upstream.region.clone(),
                        date: crate::record::now_rfc3339(),
                        conform_version: env!("CARGO_PKG_VERSION").to_owned(),
                        aws: upstream.aws,
                    }),
                    exchanges: vec![exchange],
                    file: path.clone(),
                }
            }
        };
        // In place and whole at once; on disk within `recording::BATCH` (the syncer's next
        // sync), so the client does not wait for the disk.
        let cannot = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
        let replace = || {
            crate::recording::write_recording_later(&path, &recording, &self.syncer).map_err(cannot)
        };
        if fresh {
            match crate::recording::create_recording_later(&path, &recording, &self.syncer) {
                Ok(Created::Created) => {}
                // One made since this proxy started (or one it could not read then).
                Ok(Created::Exists) => {
                    self.may_replace(&path)?;
                    replace()?;
                }
                Err(e) => return Err(cannot(e)),
            }
        } else {
            replace()?;
        }
        let index = match recordings.by_file.get(&path).copied() {
            Some(i) => {
                recordings.all[i] = recording;
                i
            }
            None => {
                recordings.all.push(recording);
                let i = recordings.all.len() - 1;
                recordings.by_file.insert(path.clone(), i);
                i
            }
        };
        recordings.written.insert(path.clone(), index);
        let mut replay = self.replay.write().unwrap_or_else(PoisonError::into_inner);
        if replaces_loaded {
            if let Ok(rebuilt) = Replay::new(&recordings.all) {
                *replay = rebuilt;
            }
        } else {
            let written = &recordings.all[index];
            if let Some(exchange) = written.exchanges.last() {
                // Validated when it was made; a body that cannot be served stays unanswered.
                let _ = replay.add_exchange(&path, written.exchanges.len(), exchange);
            }
        }
        Ok(path)
    }

    /// A recording made from AWS stays unless this upstream is AWS or `--force` was given.
    fn may_replace(&self, path: &Path) -> Result<(), String> {
        let from_aws = self.upstream.as_ref().is_some_and(|u| u.aws);
        if !path.exists() || from_aws || self.force {
            return Ok(());
        }
        match load_recording(path) {
            Ok(existing)
                if existing.provenance == RecordingProvenance::Recorded
                    && existing.recorded.as_ref().is_some_and(|r| r.aws) =>
            {
                Err(format!(
                    "{} was recorded from AWS; not replaced from another upstream without --force",
                    path.display()
                ))
            }
            Ok(_) => Ok(()),
            Err(_) => Err(format!(
                "{} exists and cannot be read; not replaced without --force",
                path.display()
            )),
        }
    }
}

/// `proxy/<operation>/<16 hex digits>.yaml`: the operation from `x-amz-target`, and a hash of
/// the request's index key, so the same request always lands in the same file.
pub fn file_for(request: &crate::recording::RecordedRequest) -> PathBuf {
    let operation = request
        .headers
        .get("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .filter(|op| {
            !op.is_empty()
                && op.len() <= 64
                && op.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .unwrap_or("no-target");
    PathBuf::from("proxy").join(operation).join(format!(
        "{:016x}.yaml",
        fnv1a(request.index_key().as_bytes())
    ))
}

/// FNV-1a, 64 bits: stable across builds and platforms (std's hasher is not).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{HeaderMap, RecordedRequest};

    fn request(target: &str, body: serde_json::Value) -> RecordedRequest {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-target".to_owned(), target.to_owned());
        RecordedRequest {
            method: "POST".into(),
            path: "/".into(),
            headers,
            body: Some(body),
            raw_body: None,
            raw_body_base64: None,
        }
    }

    #[test]
    fn modes_parse_as_vcr_names_them() {
        for m in [Mode::Replay, Mode::New, Mode::All, Mode::Passthrough] {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        assert_eq!(Mode::parse("once"), None);
        assert!(!Mode::Replay.forwards() && !Mode::Passthrough.records());
        assert!(Mode::New.records() && Mode::All.records());
    }

    #[test]
    fn files_are_stable_per_request_and_differ_between_requests() {
        let a = request(
            "InspectorService.StartAssessmentRun",
            serde_json::json!({"a": 1}),
        );
        let b = request(
            "InspectorService.StartAssessmentRun",
            serde_json::json!({"a": 2}),
        );
        assert_eq!(file_for(&a), file_for(&a.clone()));
        assert_ne!(file_for(&a), file_for(&b));
        assert!(file_for(&a).starts_with("proxy/StartAssessmentRun"));
        let odd = request("../../etc", serde_json::json!({}));
        assert!(file_for(&odd).starts_with("proxy/no-target"));
    }

    #[test]
    fn client_secrets_are_learned_and_scrubbed() {
        let shared = Shared::new(ProxyConfig {
            mode: Mode::Replay,
            recordings: PathBuf::from("r"),
            loaded: Vec::new(),
            upstream: None,
            force: false,
            judge: None,
        })
        .expect("a replay proxy needs no upstream");
        let mut headers = crate::exchange::Headers::new();
        headers.append(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDCLIENTKEY123/20260101/us-west-2/inspector/aws4_request, SignedHeaders=host, Signature=abc",
        );
        headers.append("x-amz-security-token", "clientSessionToken0123456789");
        let r = Request {
            method: "POST".into(),
            path: "/".into(),
            headers,
            body: Vec::new(),
        };
        shared.learn_client_secrets(&r);
        let text = "key AKIDCLIENTKEY123 token clientSessionToken0123456789";
        assert_eq!(shared.scrub(text), "key <redacted> token <redacted>");
    }

    #[test]
    fn replay_mode_needs_no_upstream_and_the_others_do() {
        let config = |mode| ProxyConfig {
            mode,
            recordings: PathBuf::from("r"),
            loaded: Vec::new(),
            upstream: None,
            force: false,
            judge: None,
        };
        assert!(Shared::new(config(Mode::Replay)).is_ok());
        for mode in [Mode::New, Mode::All, Mode::Passthrough] {
            assert!(matches!(
                Shared::new(config(mode)),
                Err(ProxyError::NoUpstream(_))
            ));
        }
    }
}
