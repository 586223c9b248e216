//! Recording: run cases against a real endpoint (real AWS, or any endpoint) with the runner and
//! keep what was sent and answered as one recording file per case, in the one format
//! `crate::recording` defines and the replay server reads.
//!
//! What a recording must never hold: a credential or a signature. The runner already redacts
//! the request it hands back; here every header that varies per call or carries a secret is
//! left out, and every text written is scrubbed of the signer's secrets (an endpoint may quote
//! them back, e.g. a canonical request in a signature error). With `mask_account`, AWS account
//! ids are replaced too.
//!
//! What recording must never do: replace a recording made against real AWS with one from
//! another endpoint (unless forced), overwrite anything because of a transport error, or leave
//! a half-written file (writes go through `write_recording`: temporary file, then rename).
//! Like the runner, it never prints: progress goes to a callback, results come back as data.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use regex::Regex;
use serde_json::Value;

use crate::aws::SecretScrubber;
use crate::case::{Case, SUITE_FILE};
use crate::exchange::{Request, Response, SECRET_HEADERS, VOLATILE_REQUEST_HEADERS};
use crate::matching::read_error_type;
use crate::recording::{
    HeaderMap, RecordedExchange, RecordedFrom, RecordedRequest, RecordedResponse, Recording,
    RecordingProvenance, load_recording, write_recording,
};
use crate::runner::{CaseResult, Outcome, RunOptions, StepExchange, Summary, Target, run_case};

/// Which cases get a (new) recording file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordMode {
    /// Run and report; write nothing.
    None,
    /// Only cases that have no recording file yet (the others are not even run, so a live
    /// account sees no request for them).
    #[default]
    New,
    /// Every case, replacing existing files (a recording from real AWS is only replaced by
    /// one from real AWS, unless forced).
    All,
}

impl fmt::Display for RecordMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordMode::None => "none",
            RecordMode::New => "new",
            RecordMode::All => "all",
        })
    }
}

/// Retrying a case the endpoint throttled (ThrottlingException and kin, or HTTP 429): the
/// delay doubles from `base_delay` up to `max_delay`, for at most `attempts` runs in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The pause before run `attempt + 1` (attempt counts from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// The recordings folder; each case's file goes to the same relative path under it as
    /// the case file has under the cases root.
    pub out: PathBuf,
    pub mode: RecordMode,
    /// Replace recordings made against real AWS with ones from another endpoint, and replace
    /// files that cannot be read as recordings.
    pub force: bool,
    /// Record cases the endpoint answered differently than they expect (otherwise they are
    /// reported as not recorded).
    pub record_failures: bool,
    /// Replace AWS account ids by stable stand-ins (see [`AccountMask`]).
    pub mask_account: bool,
    /// The target is real AWS (written into `recorded.aws`).
    pub aws: bool,
    /// The region, written into `recorded.region`.
    pub region: Option<String>,
    pub run: RunOptions,
    pub retry: RetryPolicy,
    /// Removes the signer's secrets from everything written and every reason reported.
    pub scrubber: Option<SecretScrubber>,
}

impl Default for RecordOptions {
    fn default() -> Self {
        Self {
            out: PathBuf::from("recordings"),
            mode: RecordMode::New,
            force: false,
            record_failures: false,
            mask_account: false,
            aws: false,
            region: None,
            // One case at a time: a live account throttles, and cases that start runs on
            // one template compete for its agents.
            run: RunOptions {
                jobs: 1,
                ..RunOptions::default()
            },
            retry: RetryPolicy::default(),
            scrubber: None,
        }
    }
}

/// Progress, as it happens.
#[derive(Clone, Debug)]
pub enum RecordEvent {
    /// Recording starts; `total` cases are selected.
    Started { total: usize },
    /// A case is about to run (or be looked at); `position` counts from 1.
    Case {
        name: String,
        position: usize,
        total: usize,
    },
    /// The endpoint throttled a case; it runs again after `delay` (`attempt` of `attempts`).
    Retry {
        name: String,
        attempt: u32,
        attempts: u32,
        delay: Duration,
        reason: String,
    },
    /// A case is done; `remaining` cases are still to finish.
    Finished {
        record: CaseRecord,
        remaining: usize,
    },
}

/// What became of one case.
#[derive(Clone, Debug)]
pub struct CaseRecord {
    /// Index of the case in the suite.
    pub index: usize,
    pub name: String,
    /// The recording file it maps to (when it maps to one).
    pub file: Option<PathBuf>,
    /// How the run went; `None` when the case was not run.
    pub outcome: Option<Outcome>,
    /// How many times the case ran (more than 1 after throttling).
    pub attempts: u32,
    pub status: RecordStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordStatus {
    Written,
    /// A recording exists and was left as it is.
    KeptExisting(KeepReason),
    NotRecorded(NotRecorded),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeepReason {
    /// `--mode new` and the file exists.
    Exists,
    /// It was recorded against real AWS and this endpoint is not AWS (`--force` replaces it).
    FromAws { date: String },
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::Exists => f.write_str("a recording exists (--mode all records it again)"),
            KeepReason::FromAws { date } => write!(
                f,
                "recorded against real AWS on {date}; only --force replaces it with one from another endpoint"
            ),
        }
    }
}

/// Why nothing was written for a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotRecorded {
    /// `--mode none`.
    DryRun,
    /// The case skips this kind of target.
    SkippedByCase(String),
    /// No usable answer (refused, timeout, capture failed, ...): nothing is overwritten.
    Errored {
        step: usize,
        message: String,
    },
    /// The endpoint answered differently than the case expects, and failures are not recorded.
    Failed {
        step: usize,
    },
    /// The case file has no place under the recordings folder.
    NoPath(String),
    /// The existing file is not a readable recording; only `--force` replaces it.
    UnreadableExisting(String),
    WriteFailed(String),
}

impl NotRecorded {
    /// True when something went wrong (as opposed to a choice: dry run, skipped case).
    pub fn is_problem(&self) -> bool {
        !matches!(self, NotRecorded::DryRun | NotRecorded::SkippedByCase(_))
    }
}

impl fmt::Display for NotRecorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotRecorded::DryRun => f.write_str("not written (--mode none)"),
            NotRecorded::SkippedByCase(reason) => write!(f, "skipped: {reason}"),
            NotRecorded::Errored { step, message } => write!(
                f,
                "no usable answer at step {}: {message} (nothing was overwritten)",
                step + 1
            ),
            NotRecorded::Failed { step } => write!(
                f,
                "the endpoint answered differently than the case expects at step {} \
                 (--record-failures records it anyway)",
                step + 1
            ),
            NotRecorded::NoPath(reason) => f.write_str(reason),
            NotRecorded::UnreadableExisting(reason) => write!(
                f,
                "the existing file is not a readable recording ({reason}); --force replaces it"
            ),
            NotRecorded::WriteFailed(reason) => write!(f, "cannot write the recording: {reason}"),
        }
    }
}

impl fmt::Display for RecordStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordStatus::Written => f.write_str("written"),
            RecordStatus::KeptExisting(reason) => write!(f, "kept: {reason}"),
            RecordStatus::NotRecorded(reason) => write!(f, "not recorded: {reason}"),
        }
    }
}

/// Every case's fate, in suite order.
#[derive(Clone, Debug, Default)]
pub struct RecordSummary {
    pub cases: Vec<CaseRecord>,
}

impl RecordSummary {
    pub fn written(&self) -> impl Iterator<Item = &CaseRecord> {
        self.cases
            .iter()
            .filter(|c| c.status == RecordStatus::Written)
    }

    pub fn kept_existing(&self) -> impl Iterator<Item = &CaseRecord> {
        self.cases
            .iter()
            .filter(|c| matches!(c.status, RecordStatus::KeptExisting(_)))
    }

    pub fn not_recorded(&self) -> impl Iterator<Item = &CaseRecord> {
        self.cases
            .iter()
            .filter(|c| matches!(c.status, RecordStatus::NotRecorded(_)))
    }

    /// True when some case was not recorded because something went wrong.
    pub fn has_problems(&self) -> bool {
        self.cases
            .iter()
            .any(|c| matches!(&c.status, RecordStatus::NotRecorded(r) if r.is_problem()))
    }

    /// Pass/fail counts of the cases that ran.
    pub fn outcomes(&self) -> Summary {
        let mut s = Summary::default();
        for outcome in self.cases.iter().filter_map(|c| c.outcome.as_ref()) {
            match outcome {
                // The firm expectations held: what came back is worth recording.
                Outcome::Passed | Outcome::Differs { .. } => s.passed += 1,
                // `record` applies no ledger; a known divergence is a failure to it.
                Outcome::Failed { .. } | Outcome::Known { .. } => s.failed += 1,
                Outcome::Errored { .. } => s.errored += 1,
                Outcome::Skipped { .. } => s.skipped += 1,
            }
        }
        s
    }
}

/// Error types that mean "slow down", as the AWS SDKs classify them (smithy-rs
/// `THROTTLING_ERRORS`, minus `LimitExceededException`: Inspector models that one as a real
/// error, ASSESSMENT_RUN_LIMIT_EXCEEDED, which no retry fixes).
const THROTTLING_ERRORS: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestThrottled",
];

/// Headers of a response that are never written: they carry secrets.
const SECRET_RESPONSE_HEADERS: &[&str] = &["set-cookie"];

/// Runs the selected cases (`selected` are indices into `cases`) against `target` and writes
/// their recordings under `options.out`, mirroring each case file's path below `cases_root`.
pub async fn record(
    cases: &[Case],
    selected: &[usize],
    cases_root: &Path,
    target: &Target,
    options: &RecordOptions,
    on_event: impl FnMut(RecordEvent) + Send,
) -> RecordSummary {
    let paths = plan_paths(cases, selected, cases_root, &options.out);
    let total = selected.len();
    let context = Context {
        target,
        options,
        on_event: Mutex::new(on_event),
        remaining: AtomicUsize::new(total),
        started: AtomicUsize::new(0),
        total,
        mask: options.mask_account.then(AccountMask::default),
        endpoint: recorded_endpoint(target.client.base(), options.scrubber.as_ref()),
    };
    context.emit(RecordEvent::Started { total });
    let jobs = options.run.jobs.max(1);
    let context = &context;
    let records: Vec<CaseRecord> = futures::stream::iter(selected.iter().copied().zip(paths))
        .map(|(index, path)| async move {
            let record = context.record_case(&cases[index], index, path).await;
            let remaining = context.remaining.fetch_sub(1, Ordering::SeqCst) - 1;
            context.emit(RecordEvent::Finished {
                record: record.clone(),
                remaining,
            });
            record
        })
        .buffered(jobs)
        .collect()
        .await;
    RecordSummary { cases: records }
}

struct Context<'a, F> {
    target: &'a Target,
    options: &'a RecordOptions,
    /// Cases run concurrently (with jobs > 1); the lock is held only while an event is handed
    /// over, never across an await.
    on_event: Mutex<F>,
    remaining: AtomicUsize,
    started: AtomicUsize,
    total: usize,
    mask: Option<AccountMask>,
    endpoint: String,
}

impl<F: FnMut(RecordEvent) + Send> Context<'_, F> {
    fn emit(&self, event: RecordEvent) {
        let mut on_event = self.on_event.lock().unwrap_or_else(PoisonError::into_inner);
        on_event(event);
    }

    fn scrub(&self, text: &str) -> String {
        match &self.options.scrubber {
            Some(s) => s.scrub(text),
            None => text.to_owned(),
        }
    }

    async fn record_case(
        &self,
        case: &Case,
        index: usize,
        path: Result<PathBuf, String>,
    ) -> CaseRecord {
        let position = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        self.emit(RecordEvent::Case {
            name: case.name.clone(),
            position,
            total: self.total,
        });
        let mut record = CaseRecord {
            index,
            name: case.name.clone(),
            file: path.as_ref().ok().cloned(),
            outcome: None,
            attempts: 0,
            status: RecordStatus::Written,
        };
        let path = match path {
            Ok(p) => p,
            Err(reason) => {
                record.status = RecordStatus::NotRecorded(NotRecorded::NoPath(reason));
                return record;
            }
        };
        // Decided before running, so that a case whose file stays as it is sends nothing.
        if let Err(status) = self.may_replace(&path) {
            record.status = status;
            return record;
        }

        let (result, attempts) = self.run_with_retries(case, index).await;
        record.attempts = attempts;
        record.outcome = Some(self.scrubbed_outcome(result.outcome.clone()));
        let not_recorded = match &result.outcome {
            Outcome::Skipped { reason } => Some(NotRecorded::SkippedByCase(reason.clone())),
            Outcome::Errored { step, message } => Some(NotRecorded::Errored {
                step: *step,
                message: self.scrub(message),
            }),
            Outcome::Failed { step, .. } if !self.options.record_failures => {
                Some(NotRecorded::Failed { step: *step })
            }
            _ if self.options.mode == RecordMode::None => Some(NotRecorded::DryRun),
            _ => None,
        };
        if let Some(reason) = not_recorded {
            record.status = RecordStatus::NotRecorded(reason);
            return record;
        }
        let recording = self.recording(case, &result);
        record.status = match write_recording(&path, &recording) {
            Ok(()) => RecordStatus::Written,
            Err(e) => RecordStatus::NotRecorded(NotRecorded::WriteFailed(format!(
                "{}: {e}",
                path.display()
            ))),
        };
        record
    }

    /// Whether the file at `path` may be (re)written, or why it stays.
    fn may_replace(&self, path: &Path) -> Result<(), RecordStatus> {
        let options = self.options;
        if options.mode == RecordMode::None || !path.exists() {
            return Ok(());
        }
        if options.mode == RecordMode::New {
            return Err(RecordStatus::KeptExisting(KeepReason::Exists));
        }
        match load_recording(path) {
            Ok(existing) => match existing.recorded {
                Some(from)
                    if existing.provenance == RecordingProvenance::Recorded
                        && from.aws
                        && !options.aws
                        && !options.force =>
                {
                    Err(RecordStatus::KeptExisting(KeepReason::FromAws {
                        date: from.date,
                    }))
                }
                _ => Ok(()),
            },
            Err(_) if options.force => Ok(()),
            Err(errors) => {
                let first = errors
                    .first()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "unknown error".into());
                let first = first.lines().next().unwrap_or_default().to_owned();
                Err(RecordStatus::NotRecorded(NotRecorded::UnreadableExisting(
                    first,
                )))
            }
        }
    }

    /// Runs the case, again after a pause while the endpoint throttles it.
    async fn run_with_retries(&self, case: &Case, index: usize) -> (CaseResult, u32) {
        let retry = self.options.retry;
        let mut attempt = 1;
        loop {
            let result = run_case(case, index, self.target, &self.options.run).await;
            match throttled(&result) {
                Some(reason) if attempt < retry.attempts.max(1) => {
                    let delay = retry.delay(attempt);
                    attempt += 1;
                    self.emit(RecordEvent::Retry {
                        name: case.name.clone(),
                        attempt,
                        attempts: retry.attempts,
                        delay,
                        reason,
                    });
                    tokio::time::sleep(delay).await;
                }
                _ => return (result, attempt),
            }
        }
    }

    fn scrubbed_outcome(&self, outcome: Outcome) -> Outcome {
        match outcome {
            Outcome::Errored { step, message } => Outcome::Errored {
                step,
                message: self.scrub(&message),
            },
            Outcome::Failed {
                step,
                mismatches,
                diff,
            } => Outcome::Failed {
                step,
                mismatches,
                diff: self.scrub(&diff),
            },
            Outcome::Differs {
                step,
                mismatches,
                diff,
                why,
            } => Outcome::Differs {
                step,
                mismatches,
                diff: self.scrub(&diff),
                why,
            },
            other => other,
        }
    }

    fn recording(&self, case: &Case, result: &CaseResult) -> Recording {
        let clean = Cleaner {
            scrubber: self.options.scrubber.as_ref(),
            mask: self.mask.as_ref(),
        };
        let exchanges = result
            .exchanges
            .iter()
            .filter_map(
                |StepExchange {
                     request, response, ..
                 }| {
                    let response = response.as_ref()?;
                    Some(RecordedExchange {
                        request: recorded_request(request, &clean),
                        response: recorded_response(response, &clean),
                    })
                },
            )
            .collect();
        let note = match &result.outcome {
            Outcome::Failed { step, .. } => Some(format!(
                "Recorded with --record-failures: at step {} the endpoint answered differently than case `{}` expects.",
                step + 1,
                case.name
            )),
            _ => None,
        };
        Recording {
            provenance: RecordingProvenance::Recorded,
            source: format!("conform record against {}", self.endpoint),
            note: note.map(|n| clean.text(&n)),
            recorded: Some(RecordedFrom {
                endpoint: self.endpoint.clone(),
                region: self.options.region.clone(),
                date: now_rfc3339(),
                conform_version: env!("CARGO_PKG_VERSION").to_owned(),
                aws: self.options.aws,
            }),
            exchanges,
            file: PathBuf::new(),
        }
    }
}

/// Why a result looks throttled, if it does (and did not pass: a case that expects to be
/// throttled is not retried).
fn throttled(result: &CaseResult) -> Option<String> {
    if matches!(result.outcome, Outcome::Passed | Outcome::Skipped { .. }) {
        return None;
    }
    result.exchanges.iter().find_map(|exchange| {
        let response = exchange.response.as_ref()?;
        if response.status == 429 {
            return Some("HTTP 429".to_owned());
        }
        let readings = read_error_type(&response.headers, response.json().as_ref());
        [readings.sdk, readings.botocore]
            .into_iter()
            .flatten()
            .find(|t| THROTTLING_ERRORS.contains(&t.as_str()))
    })
}

/// Each selected case's recording path; a case whose file is outside the cases root, or whose
/// path another case already takes, gets the reason instead.
fn plan_paths(
    cases: &[Case],
    selected: &[usize],
    cases_root: &Path,
    out: &Path,
) -> Vec<Result<PathBuf, String>> {
    let mut taken: HashMap<PathBuf, &str> = HashMap::new();
    selected
        .iter()
        .map(|&index| {
            let case = &cases[index];
            let path = recording_path(out, cases_root, &case.file)?;
            if let Some(other) = taken.get(&path) {
                return Err(format!(
                    "case `{other}` records to the same file, {}",
                    path.display()
                ));
            }
            taken.insert(path.clone(), &case.name);
            Ok(path)
        })
        .collect()
}

/// Where the recording of the case in `case_file` goes: the file's path below `cases_root`,
/// below `out`, with the extension `.yaml`
/// (`cases/inspector/StartAssessmentRun/x.yaml` → `recordings/inspector/StartAssessmentRun/x.yaml`).
pub fn recording_path(out: &Path, cases_root: &Path, case_file: &Path) -> Result<PathBuf, String> {
    let relative = match case_file.strip_prefix(cases_root) {
        Ok(r) => r.to_owned(),
        // `./cases/x.yaml` under `cases`, or one absolute and one relative: compare the real
        // paths.
        Err(_) => {
            let file = std::fs::canonicalize(case_file);
            let root = std::fs::canonicalize(cases_root);
            match (file, root) {
                (Ok(file), Ok(root)) => file
                    .strip_prefix(&root)
                    .map(Path::to_owned)
                    .map_err(|_| outside(case_file, cases_root))?,
                _ => return Err(outside(case_file, cases_root)),
            }
        }
    };
    if relative.file_name().is_none() {
        return Err(outside(case_file, cases_root));
    }
    Ok(out.join(relative).with_extension("yaml"))
}

fn outside(case_file: &Path, cases_root: &Path) -> String {
    format!(
        "the case file {} is not under the cases root {}, so it has no place under the recordings folder",
        case_file.display(),
        cases_root.display()
    )
}

/// The folder case paths are taken relative to: for each path given, the highest folder of
/// the unbroken chain of folders holding a `suite.yaml` above it (`cases/` for
/// `cases/inspector/StartAssessmentRun/x.yaml`), or, without any, the folder itself (the
/// file's folder for a file). Several paths give their common ancestor.
pub fn find_cases_root(paths: &[PathBuf]) -> PathBuf {
    let roots: Vec<PathBuf> = paths.iter().map(|p| root_of(p)).collect();
    let Some(first) = roots.first() else {
        return PathBuf::from("cases");
    };
    let mut common: Vec<_> = first.components().collect();
    for root in &roots[1..] {
        let shared = common
            .iter()
            .zip(root.components())
            .take_while(|(a, b)| **a == *b)
            .count();
        common.truncate(shared);
    }
    common.into_iter().collect()
}

fn root_of(path: &Path) -> PathBuf {
    let start = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new(""))
    };
    let mut found: Option<&Path> = None;
    for folder in start.ancestors() {
        if folder.join(SUITE_FILE).is_file() {
            found = Some(folder);
        } else if found.is_some() {
            break;
        }
        if folder.as_os_str().is_empty() {
            break;
        }
    }
    found.unwrap_or(start).to_owned()
}

/// One exchange as a recording holds it, for callers that capture traffic themselves
/// (`conform proxy`): volatile and secret headers left out, every text scrubbed of what
/// `scrubber` knows, exactly as `record` writes its own.
pub fn recorded_exchange(
    request: &Request,
    response: &Response,
    scrubber: Option<&SecretScrubber>,
) -> RecordedExchange {
    let clean = Cleaner {
        scrubber,
        mask: None,
    };
    RecordedExchange {
        request: recorded_request(request, &clean),
        response: recorded_response(response, &clean),
    }
}

/// Makes text fit to be written: scrubbed of secrets, accounts masked.
struct Cleaner<'a> {
    scrubber: Option<&'a SecretScrubber>,
    mask: Option<&'a AccountMask>,
}

impl Cleaner<'_> {
    fn text(&self, text: &str) -> String {
        let scrubbed = match self.scrubber {
            Some(s) => s.scrub(text),
            None => text.to_owned(),
        };
        match self.mask {
            Some(m) => m.mask(&scrubbed),
            None => scrubbed,
        }
    }

    fn json(&self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(&s)),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.text(&k), self.json(v)))
                    .collect(),
            ),
            other => other,
        }
    }
}

fn recorded_request(request: &Request, clean: &Cleaner) -> RecordedRequest {
    let mut headers = HeaderMap::new();
    for (name, value) in request.headers.iter() {
        if VOLATILE_REQUEST_HEADERS.contains(&name) || SECRET_HEADERS.contains(&name) {
            continue;
        }
        add_header(&mut headers, name, clean.text(value));
    }
    let (body, raw_body) = match serde_json::from_slice::<Value>(&request.body) {
        Ok(value) => (Some(clean.json(value)), None),
        // No body: the recording says neither, which means empty.
        Err(_) if request.body.is_empty() => (None, None),
        // Not UTF-8: the bytes as they were (base64), since a lossy text is another request.
        Err(_) if std::str::from_utf8(&request.body).is_err() => {
            let (_, b64) = RecordedRequest::raw_fields(&request.body);
            return RecordedRequest {
                method: request.method.clone(),
                path: clean.text(&request.path),
                headers,
                body: None,
                raw_body: None,
                raw_body_base64: b64,
            };
        }
        Err(_) => (
            None,
            Some(clean.text(&String::from_utf8_lossy(&request.body))),
        ),
    };
    RecordedRequest {
        method: request.method.clone(),
        path: clean.text(&request.path),
        headers,
        body,
        raw_body,
        raw_body_base64: None,
    }
}

fn recorded_response(response: &Response, clean: &Cleaner) -> RecordedResponse {
    let mut headers = HeaderMap::new();
    for (name, value) in response.headers.iter() {
        if SECRET_HEADERS.contains(&name) || SECRET_RESPONSE_HEADERS.contains(&name) {
            continue;
        }
        add_header(&mut headers, name, clean.text(value));
    }
    let (body, body_base64) = match std::str::from_utf8(&response.body) {
        Ok(text) => {
            let cleaned = clean.text(text);
            // A scrubbed secret changes the body's length; keep the recorded header true.
            if cleaned.len() != response.body.len()
                && let Some(length) = headers.get_mut("content-length")
            {
                *length = cleaned.len().to_string();
            }
            RecordedResponse::body_fields(cleaned.as_bytes())
        }
        // Not text: kept byte for byte (secrets and account ids cannot be told apart in it).
        Err(_) => RecordedResponse::body_fields(&response.body),
    };
    RecordedResponse {
        status: response.status,
        headers,
        body,
        body_base64,
    }
}

/// A repeated header becomes one, values joined with ", " (RFC 9110 5.3).
fn add_header(headers: &mut HeaderMap, name: &str, value: String) {
    headers
        .entry(name.to_ascii_lowercase())
        .and_modify(|v| {
            v.push_str(", ");
            v.push_str(&value);
        })
        .or_insert(value);
}

/// The endpoint as written into a recording: no user or password from the URL, no secret.
pub fn recorded_endpoint(base: &str, scrubber: Option<&SecretScrubber>) -> String {
    let shown = match reqwest::Url::parse(base) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.as_str().trim_end_matches('/').to_owned()
        }
        Err(_) => base.to_owned(),
    };
    match scrubber {
        Some(s) => s.scrub(&shown),
        None => shown,
    }
}

/// Now, RFC 3339 in UTC to the second (`2026-11-28T00:00:00Z`).
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    aws_smithy_types::DateTime::from_secs(secs)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// Account ids that AWS documentation uses as examples; they name no one's account and are
/// what the suite's default variables use, so they stay as they are.
const EXAMPLE_ACCOUNTS: &[&str] = &["123456789012", "111122223333", "444455556666"];

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
        .expect("valid regex")
});

/// Replaces AWS account ids (a run of exactly 12 digits, not part of a longer word or of a
/// UUID) by stand-ins that keep ARNs well-formed: the first distinct id becomes
/// `111111111111`, the second `222222222222`, and so on to `999999999999`, then
/// `000000000010`, `000000000011`, ... One mask serves a whole recording run, so an id gets the
/// same stand-in in every file. Ids made of one repeated digit (stand-ins already) and the
/// documentation's example ids are left alone.
#[derive(Debug, Default)]
pub struct AccountMask {
    tokens: Mutex<HashMap<String, String>>,
}

impl AccountMask {
    pub fn mask(&self, text: &str) -> String {
        let bytes = text.as_bytes();
        let uuids: Vec<Range<usize>> = UUID.find_iter(text).map(|m| m.range()).collect();
        let mut out = String::with_capacity(text.len());
        let (mut copied, mut i) = (0, 0);
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let end = i;
            let in_word = (start > 0 && bytes[start - 1].is_ascii_alphabetic())
                || (end < bytes.len() && bytes[end].is_ascii_alphabetic());
            let in_uuid = uuids.iter().any(|r| r.start < end && start < r.end);
            let id = &text[start..end];
            if end - start != 12 || in_word || in_uuid || Self::is_placeholder(id) {
                continue;
            }
            out.push_str(&text[copied..start]);
            out.push_str(&self.token_for(id));
            copied = end;
        }
        out.push_str(&text[copied..]);
        out
    }

    fn is_placeholder(id: &str) -> bool {
        EXAMPLE_ACCOUNTS.contains(&id) || id.bytes().all(|b| b == id.as_bytes()[0])
    }

    fn token_for(&self, id: &str) -> String {
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        let n = tokens.len() + 1;
        tokens
            .entry(id.to_owned())
            .or_insert_with(|| {
                if n <= 9 {
                    n.to_string().repeat(12)
                } else {
                    format!("{n:012}")
                }
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_accounts_stably_and_keeps_arns_well_formed() {
        let mask = AccountMask::default();
        let text = "arn:aws:inspector:us-west-2:210987654321:target/0-a/template/0-b \
                    arn:aws:iam::555566667777:role/x arn:aws:sts::210987654321:assumed-role/y";
        assert_eq!(
            mask.mask(text),
            "arn:aws:inspector:us-west-2:111111111111:target/0-a/template/0-b \
             arn:aws:iam::222222222222:role/x arn:aws:sts::111111111111:assumed-role/y"
        );
        // The same id in another text gets the same stand-in.
        assert_eq!(mask.mask("account 555566667777."), "account 222222222222.");
    }

    #[test]
    fn leaves_what_is_not_an_account_alone() {
        let mask = AccountMask::default();
        let text = "ed349455-f76d-11e5-b473-210987654321 1234567890123 x210987654321 \
                    arn:aws:inspector:us-west-2:123456789012:target/0-a 999999999999";
        assert_eq!(mask.mask(text), text);
    }

    #[test]
    fn retry_delays_double_up_to_the_cap() {
        let p = RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        };
        let delays: Vec<_> = (1..=4).map(|a| p.delay(a).as_millis()).collect();
        assert_eq!(delays, [100, 200, 350, 350]);
    }

    #[test]
    fn recording_paths_mirror_case_paths() {
        let path = recording_path(
            Path::new("recordings"),
            Path::new("cases"),
            Path::new("cases/inspector/StartAssessmentRun/x.yml"),
        )
        .unwrap();
        assert_eq!(
            path,
            Path::new("recordings/inspector/StartAssessmentRun/x.yaml")
        );
        assert!(
            recording_path(
                Path::new("recordings"),
                Path::new("cases"),
                Path::new("elsewhere/x.yaml")
            )
            .is_err()
        );
    }

    #[test]
    fn recorded_requests_keep_identity_and_drop_secrets() {
        let request = Request {
            method: "POST".into(),
            path: "/".into(),
            headers: [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "InspectorService.StartAssessmentRun"),
                ("Authorization", "<redacted>"),
                ("X-Amz-Security-Token", "<redacted>"),
                ("X-Amz-Date", "20260101T000000Z"),
                ("x-custom", "a"),
                ("x-custom", "b"),
            ]
            .into_iter()
            .collect(),
            body: br#"{"b":1}"#.to_vec(),
        };
        let clean = Cleaner {
            scrubber: None,
            mask: None,
        };
        let recorded = recorded_request(&request, &clean);
        let names: Vec<&str> = recorded.headers.keys().map(String::as_str).collect();
        assert_eq!(names, ["content-type", "x-amz-target", "x-custom"]);
        assert_eq!(recorded.headers.get("x-custom").unwrap(), "a, b");
        assert_eq!(recorded.body, Some(serde_json::json!({"b": 1})));

        let raw = Request {
            body: b"{not json".to_vec(),
            ..request
        };
        assert_eq!(
            recorded_request(&raw, &clean).raw_body.as_deref(),
            Some("{not json")
        );
    }

    #[test]
    fn endpoint_urls_lose_their_user_info() {
        assert_eq!(
            recorded_endpoint("https://user:pw@example.com:8443/", None),
            "https://example.com:8443"
        );
    }

    #[test]
    fn dates_are_rfc3339_utc_seconds() {
        let date = now_rfc3339();
        assert_eq!(date.len(), "2026-11-28T00:00:00Z".len(), "{date}");
        assert!(date.ends_with('Z'));
    }
}
