//! Choosing the recorded answer for a request. Pure and synchronous (no sockets): the server
//! in `server.rs` calls `Replay::answer` for every request it receives.
//!
//! A hash index on the canonical request (method, path, identity headers, body as sorted JSON)
//! finds the candidate in O(1); the candidate is then confirmed by `matching::evaluate`, the
//! code `conform run` judges responses with. A request the index does not find is compared
//! with every recorded request by that same code, which both catches what the index cannot
//! (JSON numbers written differently) and ranks the near misses for the report.
//!
//! Which exchange of a sequence a request gets depends on its run (`state.rs`): positions are
//! kept per `x-conform-run-id`, so one run cut short never shifts the answers of the next.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use super::state::{Reset, RunStates, StateStats, valid_run_id};
use crate::exchange::{Headers, RUN_ID_HEADER, Request};
use crate::matching::{
    MessageExpect, Mismatch, Observed, Start, Verdict, evaluate, evaluate_quick,
};
use crate::recording::{
    Folder, IDENTITY_HEADERS, RecordedExchange, Recording, RequestKeys, exact_key, request_keys,
};

/// The replay's hash indexes. Their keys are requests (up to a whole body): SipHash, std's
/// default, was a twentieth of a served request's work; foldhash is several times faster on
/// such keys and still seeded per process.
type Index<K> = HashMap<K, usize, foldhash::fast::RandomState>;

/// Requests larger than this are refused with 413 before any matching.
pub const MAX_REQUEST_BODY: usize = 10 * 1024 * 1024;

/// How many missed requests are kept for the `--strict` report (the count goes on).
const KEPT_MISSES: usize = 100;

/// One recorded exchange, ready to serve.
#[derive(Debug)]
pub struct Entry {
    pub file: PathBuf,
    /// 1-based position in its recording.
    pub position: usize,
    pub expect: MessageExpect,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The recorded body; serving it clones a shared buffer.
    pub body: bytes::Bytes,
    /// The headers as hyper sends them, built once at load: serving them clones a header map
    /// instead of parsing every header again.
    served_headers: http::HeaderMap,
    /// The exchange could not be read back from the recordings cache (`Replay::from_memo`):
    /// the entry answers that, and a request the index does not find is never matched to it.
    broken: bool,
}

impl Entry {
    pub fn label(&self) -> String {
        format!("{} (exchange {})", self.file.display(), self.position)
    }

    /// The recorded answer as an HTTP response (content length and framing are hyper's).
    pub fn response(&self) -> http::Response<http_body_util::Full<bytes::Bytes>> {
        let mut response = http::Response::new(http_body_util::Full::new(self.body.clone()));
        *response.status_mut() =
            http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::OK);
        *response.headers_mut() = self.served_headers.clone();
        response
    }
}

/// Where a replay reads the entries it builds on first use from.
#[derive(Debug)]
enum Source {
    /// The recordings' cache (a replay started from a memo of its index).
    Cache(Arc<Folder>),
    /// The recordings it was built from, and which of them each of `Replay::files` is.
    Loaded(Arc<Vec<Recording>>, Vec<usize>),
}

/// One exchange's place: its recording (an index into `Replay::files`) and position, and its
/// entry, built when the replay is or on first use (`Replay::new_shared`, `Replay::from_memo`).
/// The entry is boxed: a slot whose entry is not built yet takes a few words, not an entry's
/// worth of memory the start would touch.
#[derive(Debug)]
struct Slot {
    file: usize,
    position: usize,
    entry: OnceLock<Box<Entry>>,
    used: AtomicBool,
}

/// Exchanges of one recording that share a request: answered in turn, each run in its own
/// turn (the positions live in [`RunStates`]).
#[derive(Debug)]
struct Sequence {
    entries: Vec<usize>,
}

/// What the server should send back.
pub enum Answer<'a> {
    Recorded(&'a Entry),
    Miss(Miss),
    TooLarge(usize),
}

/// A request no recording matched: the closest recordings and what differed.
#[derive(Clone, Debug)]
pub struct Miss {
    pub request_line: String,
    pub closest: Vec<NearMiss>,
}

#[derive(Clone, Debug)]
pub struct NearMiss {
    pub label: String,
    pub mismatches: Vec<Mismatch>,
    pub diff: String,
}

impl Miss {
    /// The report printed on the server's stderr.
    pub fn report(&self) -> String {
        let mut out = format!("no recording matches {}\n", self.request_line);
        if self.closest.is_empty() {
            out.push_str("  (no recordings loaded)\n");
        }
        for (i, near) in self.closest.iter().enumerate() {
            out.push_str(&format!("  closest #{}: {}\n", i + 1, near.label));
            for m in &near.mismatches {
                out.push_str(&format!("    {}: {}\n", m.path, m.message));
            }
            if i == 0 {
                for line in near.diff.lines() {
                    out.push_str(&format!("    {line}\n"));
                }
            }
        }
        out
    }

    /// The one-line message for the AWS-style error body.
    pub fn message(&self) -> String {
        match self.closest.first() {
            None => {
                "conform replay: no recording matches this request, and no recordings are loaded"
                    .into()
            }
            Some(near) => {
                let what: Vec<String> = near
                    .mismatches
                    .iter()
                    .take(3)
                    .map(|m| format!("{}: {}", m.path, m.message))
                    .collect();
                format!(
                    "conform replay: no recording matches this request; closest is {}, which differs in {}",
                    near.label,
                    what.join("; ")
                )
            }
        }
    }
}

/// The loaded recordings and the state of their sequences.
#[derive(Debug)]
pub struct Replay {
    /// The recording files, each once, in the order their exchanges were added.
    files: Vec<PathBuf>,
    slots: Vec<Slot>,
    /// Where entries not yet built are read from.
    source: Option<Source>,
    sequences: Vec<Sequence>,
    by_key: Index<String>,
    /// The same sequences by the exact bytes a client sends for them (`exact_key`): the
    /// recorded body as compact JSON, or its raw bytes. Most clients send what was recorded
    /// byte for byte, and such a request needs no JSON parsing and no evaluation to be found.
    by_bytes: Index<Vec<u8>>,
    /// Exchanges shadowed by an earlier recording with the same request (never served).
    pub shadowed: Vec<String>,
    /// The same, as (shadowed slot, slot that answers), for the memo.
    shadowed_slots: Vec<(usize, usize)>,
    served: AtomicU64,
    missed: AtomicU64,
    misses: Mutex<Vec<String>>,
    states: RunStates,
}

/// A recorded sequence a run left part-way, for the shutdown report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartWaySequence {
    pub file: PathBuf,
    /// `None` for requests that carried no run id.
    pub run: Option<String>,
    /// Exchanges answered in the current round, of `total`.
    pub answered: usize,
    pub total: usize,
}

impl PartWaySequence {
    /// `recordings/x.yaml: run 5f0c…: 1 of 2 exchanges answered`
    pub fn describe(&self) -> String {
        let run = match &self.run {
            Some(id) => format!("run {id}"),
            None => "requests without a run id".to_owned(),
        };
        format!(
            "{}: {run}: {} of {} exchanges answered",
            self.file.display(),
            self.answered,
            self.total
        )
    }
}

/// Counters and lists for the shutdown report.
#[derive(Clone, Debug, Default)]
pub struct ReplayStats {
    pub served: u64,
    pub missed: u64,
    pub missed_requests: Vec<String>,
    pub unused: Vec<String>,
    /// Sequences left part-way, per run.
    pub part_way: Vec<PartWaySequence>,
    pub states: StateStats,
}

impl Replay {
    pub fn new(recordings: &[Recording]) -> Result<Replay, String> {
        Replay::build(recordings, true, None)
    }

    /// [`Replay::new`] keeping `recordings`, from which each entry (expectation, answer as
    /// served) is built when it is first used: only the keys are worked out now, which halves
    /// the index's part of a start.
    pub fn new_shared(recordings: Arc<Vec<Recording>>) -> Result<Replay, String> {
        Replay::new_shared_keyed(recordings, None)
    }

    /// [`Replay::new_shared`] given every exchange's keys, in order, as the loader worked them
    /// out on the threads that read the recordings (`Folder::open_to_index`): filing them is
    /// then all that is left. Keys of another count than the exchanges' are worked out again.
    pub fn new_shared_keyed(
        recordings: Arc<Vec<Recording>>,
        keys: Option<Vec<RequestKeys>>,
    ) -> Result<Replay, String> {
        let mut replay = Replay::build(&recordings, false, keys)?;
        let mut of_file = Vec::with_capacity(replay.files.len());
        let mut next = recordings.iter().enumerate();
        for file in &replay.files {
            // Files are filed in the recordings' order, those without exchanges left out.
            let (i, _) = next
                .find(|(_, r)| same_file(&r.file, file))
                .expect("each file of the replay is one of its recordings");
            of_file.push(i);
        }
        replay.source = Some(Source::Loaded(recordings, of_file));
        Ok(replay)
    }

    fn build(
        recordings: &[Recording],
        entries_now: bool,
        keys: Option<Vec<RequestKeys>>,
    ) -> Result<Replay, String> {
        let all: Vec<(&Path, usize, &RecordedExchange)> = recordings
            .iter()
            .flat_map(|r| {
                r.exchanges
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (r.file.as_path(), i + 1, x))
            })
            .collect();
        let mut replay = Replay::empty();
        replay.slots.reserve_exact(all.len());
        replay.by_key.reserve(all.len());
        replay.by_bytes.reserve(all.len());
        match keys {
            // With the keys at hand, what is left of preparing is too little to share out: each
            // exchange is filed as it is prepared (collected first, the prepared exchanges were
            // a megabyte of fresh memory for 2,000 recordings).
            Some(keys) if keys.len() == all.len() && !entries_now => {
                for (&(file, position, x), keys) in all.iter().zip(keys) {
                    replay.insert(prepare(file, position, x, false, Some(keys))?);
                }
            }
            // Preparing each exchange (keys, and its entry when built now) is independent of
            // the others and is most of the work: done on every core, then filed in order.
            _ => {
                let prepared = crate::parallel::map_in_order(&all, |&(file, position, x)| {
                    prepare(file, position, x, entries_now, None)
                });
                for p in prepared {
                    replay.insert(p?);
                }
            }
        }
        Ok(replay)
    }

    /// A replay with no recordings: every request misses.
    pub fn empty() -> Replay {
        Replay {
            files: Vec::new(),
            slots: Vec::new(),
            source: None,
            sequences: Vec::new(),
            by_key: Index::default(),
            by_bytes: Index::default(),
            shadowed: Vec::new(),
            shadowed_slots: Vec::new(),
            served: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            misses: Mutex::new(Vec::new()),
            states: RunStates::default(),
        }
    }

    /// Adds the `position`-th (1-based) exchange of the recording in `file`, in O(1): an
    /// exchange whose request its own recording already has joins that sequence; one whose
    /// request an earlier recording has is shadowed (never served). `new` is this, in order.
    pub fn add_exchange(
        &mut self,
        file: &Path,
        position: usize,
        exchange: &RecordedExchange,
    ) -> Result<(), String> {
        self.insert(prepare(file, position, exchange, true, None)?);
        Ok(())
    }

    fn insert(&mut self, prepared: Prepared<'_>) {
        let Prepared {
            file,
            position,
            entry,
            key,
            exact,
        } = prepared;
        let index = self.slots.len();
        if !self.files.last().is_some_and(|last| same_file(last, file)) {
            self.files.push(file.to_path_buf());
        }
        self.slots.push(Slot {
            file: self.files.len() - 1,
            position,
            entry: entry
                .map(|e| OnceLock::from(Box::new(e)))
                .unwrap_or_default(),
            used: AtomicBool::new(false),
        });
        match self.by_key.get(&key) {
            // Sequences are per recording: the same request again in its own file is the
            // sequence's next answer.
            Some(&seq)
                if self.slots[self.sequences[seq].entries[0]].file == self.slots[index].file =>
            {
                self.sequences[seq].entries.push(index);
            }
            Some(&seq) => {
                let first = self.sequences[seq].entries[0];
                self.shadow(index, first);
            }
            None => {
                self.sequences.push(Sequence {
                    entries: vec![index],
                });
                let seq = self.sequences.len() - 1;
                self.by_key.insert(key, seq);
                let (exact, json) = exact;
                // A JSON recording answers before a raw one with the same bytes, as in
                // `indexed`, where the JSON key is tried first.
                if json {
                    self.by_bytes.insert(exact, seq);
                } else {
                    self.by_bytes.entry(exact).or_insert(seq);
                }
            }
        }
    }

    /// The same replay keeping at most `capacity` run states (tests of eviction).
    pub fn with_run_capacity(mut self, capacity: usize) -> Replay {
        self.states = RunStates::new(capacity);
        self
    }

    pub fn exchange_count(&self) -> usize {
        self.slots.len()
    }

    fn shadow(&mut self, slot: usize, by: usize) {
        self.shadowed.push(format!(
            "{} repeats the request of {}, which answers it",
            self.label(slot),
            self.label(by)
        ));
        self.shadowed_slots.push((slot, by));
    }

    /// `recordings/x.yaml (exchange 2)`, without building the entry.
    fn label(&self, slot: usize) -> String {
        let s = &self.slots[slot];
        format!("{} (exchange {})", self.files[s.file].display(), s.position)
    }

    /// The slot's entry, built now if it was not yet (a replay started from a memo).
    fn entry(&self, slot: usize) -> &Entry {
        let s = &self.slots[slot];
        s.entry.get_or_init(|| {
            let file = &self.files[s.file];
            let prepared = match &self.source {
                Some(Source::Cache(folder)) => folder
                    .cached_exchange(s.file, s.position)
                    .ok_or_else(|| "it is no longer in the recordings cache".to_owned())
                    .and_then(|x| prepare_entry(file, s.position, &x)),
                Some(Source::Loaded(recordings, of_file)) => recordings[of_file[s.file]]
                    .exchanges
                    .get(s.position - 1)
                    .ok_or_else(|| "the exchange is not in its recording".to_owned())
                    .and_then(|x| prepare_entry(file, s.position, x)),
                None => Err("the replay has no source for it".to_owned()),
            };
            Box::new(prepared.unwrap_or_else(|e| broken_entry(file, s.position, &e)))
        })
    }

    /// The answer to one request.
    pub fn answer(&self, request: &Request) -> Answer<'_> {
        if request.body.len() > MAX_REQUEST_BODY {
            self.missed.fetch_add(1, Ordering::Relaxed);
            return Answer::TooLarge(MAX_REQUEST_BODY);
        }
        if let Some(slot) = self.indexed(request) {
            return Answer::Recorded(self.serve(slot));
        }
        let observed = observed(request);
        let run = run_of(request);
        // Not in the index: judge every sequence's first exchange without rendering views
        // (most differ), then render the diffs of the closest three only.
        let mut ranked: Vec<(usize, usize)> = Vec::new();
        for (seq, sequence) in self.sequences.iter().enumerate() {
            let first = self.entry(sequence.entries[0]);
            if first.broken {
                continue;
            }
            let verdict = evaluate_quick(&first.expect, &observed);
            if verdict.passed() {
                let slot = self.next_in(seq, run);
                return Answer::Recorded(self.serve(slot));
            }
            ranked.push((seq, verdict.mismatches.len()));
        }
        ranked.sort_by_key(|&(_, n)| n);
        let ranked: Vec<(usize, Verdict)> = ranked
            .into_iter()
            .take(3)
            .map(|(seq, _)| {
                let first = self.entry(self.sequences[seq].entries[0]);
                (seq, evaluate(&first.expect, &observed))
            })
            .collect();
        let miss = Miss {
            request_line: format!(
                "{} {} (x-amz-target: {})",
                request.method,
                request.path,
                request.headers.get("x-amz-target").unwrap_or("<none>")
            ),
            closest: ranked
                .into_iter()
                .take(3)
                .map(|(seq, verdict)| NearMiss {
                    label: self.label(self.sequences[seq].entries[0]),
                    diff: verdict.diff(),
                    mismatches: verdict.mismatches,
                })
                .collect(),
        };
        self.missed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut kept) = self.misses.lock()
            && kept.len() < KEPT_MISSES
        {
            kept.push(miss.request_line.clone());
        }
        Answer::Miss(miss)
    }

    /// The recorded answer the index finds for `request`, if any: the first half of `answer`,
    /// without the scan of every recording and the near-miss report a miss costs there. For
    /// callers that forward a miss anyway (`conform proxy --mode new`).
    pub fn answer_indexed(&self, request: &Request) -> Option<&Entry> {
        if request.body.len() > MAX_REQUEST_BODY {
            return None;
        }
        let slot = self.indexed(request)?;
        Some(self.serve(slot))
    }

    /// `answer` for a request whose exact bytes were recorded, found from its parts without a
    /// `Request` being built: the replay server's first try. `identity` holds the first value of
    /// each of `IDENTITY_HEADERS` (in that order) and `run` that of the run id header, if any.
    /// `None`: not recorded byte for byte; ask `answer`, which also counts the miss.
    pub fn answer_exact(
        &self,
        method: &str,
        path: &str,
        identity: [Option<&str>; IDENTITY_HEADERS.len()],
        run: Option<&str>,
        body: &[u8],
    ) -> Option<&Entry> {
        if body.len() > MAX_REQUEST_BODY {
            return None;
        }
        let run = run.filter(|id| valid_run_id(id));
        let slot = self.exact(&exact_key(method, path, identity, body), run)?;
        Some(self.serve(slot))
    }

    /// The sequence's next exchange for `run` when the exact-bytes index holds the request's
    /// `exact_key`. The key holds everything `evaluate` would look at (method, path, each
    /// identity header's value or its absence, the body), so a hit is a match.
    fn exact(&self, key: &[u8], run: Option<&str>) -> Option<usize> {
        let &seq = self.by_bytes.get(key)?;
        Some(self.next_in(seq, run))
    }

    /// The sequence's next exchange when the hash index finds the request and the recorded
    /// request, judged by `matching::evaluate`, confirms it.
    fn indexed(&self, request: &Request) -> Option<usize> {
        // The exact bytes first.
        let exact = exact_key(
            &request.method,
            &request.path,
            IDENTITY_HEADERS.map(|name| request.headers.get(name)),
            &request.body,
        );
        if let Some(slot) = self.exact(&exact, run_of(request)) {
            return Some(slot);
        }
        let (json_key, raw_key) = request_keys(
            &request.method,
            &request.path,
            &request.headers,
            &request.body,
        );
        let seq = json_key
            .and_then(|k| self.by_key.get(&k).copied())
            .or_else(|| self.by_key.get(&raw_key()).copied())?;
        let slot = self.next_in(seq, run_of(request));
        let entry = self.entry(slot);
        (entry.broken || evaluate(&entry.expect, &observed(request)).passed()).then_some(slot)
    }

    /// Takes the sequence's next exchange for `run`; after the last, it starts over, so the
    /// suite can run again and again against one server.
    fn next_in(&self, seq: usize, run: Option<&str>) -> usize {
        let sequence = &self.sequences[seq];
        let n = self.states.take(run, seq, sequence.entries.len());
        sequence.entries[n]
    }

    /// Every run's sequences start from their first exchange again.
    pub fn reset_all(&self) -> Reset {
        self.states.reset_all()
    }

    /// Run `id`'s sequences start from their first exchange again; `None` when the server holds
    /// no state for that run.
    pub fn reset_run(&self, id: &str) -> Option<Reset> {
        self.states.reset_run(id)
    }

    /// Sequences some run has left part-way.
    pub fn part_way(&self) -> Vec<PartWaySequence> {
        self.states
            .part_way(|seq| self.sequences[seq].entries.len())
            .into_iter()
            .map(|p| PartWaySequence {
                file: self.files[self.slots[self.sequences[p.sequence].entries[0]].file].clone(),
                run: p.run,
                answered: p.answered,
                total: p.total,
            })
            .collect()
    }

    /// The entry of `slot`, counted as served.
    fn serve(&self, slot: usize) -> &Entry {
        self.slots[slot].used.store(true, Ordering::Relaxed);
        self.served.fetch_add(1, Ordering::Relaxed);
        self.entry(slot)
    }

    pub fn stats(&self) -> ReplayStats {
        ReplayStats {
            served: self.served.load(Ordering::Relaxed),
            missed: self.missed.load(Ordering::Relaxed),
            missed_requests: self.misses.lock().map(|m| m.clone()).unwrap_or_default(),
            unused: (0..self.slots.len())
                .filter(|&i| !self.slots[i].used.load(Ordering::Relaxed))
                .map(|i| self.label(i))
                .collect(),
            part_way: self.part_way(),
            states: self.states.stats(),
        }
    }
}

/// One exchange made ready to file: its place, its entry (or `None`, to be built on first
/// use), its index key, and its exact-bytes key (with whether the recorded body is JSON).
struct Prepared<'a> {
    file: &'a Path,
    position: usize,
    entry: Option<Entry>,
    key: String,
    exact: (Vec<u8>, bool),
}

/// The exchange's keys, and its entry now when `entry_now` (else on first use).
fn prepare<'a>(
    file: &'a Path,
    position: usize,
    exchange: &RecordedExchange,
    entry_now: bool,
    keys: Option<RequestKeys>,
) -> Result<Prepared<'a>, String> {
    let entry = if entry_now {
        Some(prepare_entry(file, position, exchange)?)
    } else {
        // What building the entry could fail on is found now, as it would be then.
        if exchange.response.body.is_none() {
            exchange
                .response
                .body_bytes()
                .map_err(|e| format!("{}: {e}", file.display()))?;
        }
        None
    };
    // Worked out where the recording was read, when the loader did (`Folder::open_to_index`).
    let RequestKeys { key, exact, json } = keys.unwrap_or_else(|| exchange.request.keys());
    Ok(Prepared {
        file,
        position,
        entry,
        key,
        exact: (exact, json),
    })
}

/// Whether two paths of the same walk name the same file: the same bytes. `Path`'s `==`
/// compares component by component, and two such comparisons per exchange were a sixth of the
/// index's build; a walk names each file one way, so its bytes decide.
fn same_file(a: &Path, b: &Path) -> bool {
    a.as_os_str() == b.as_os_str()
}

/// The exchange's entry: its expectation and its answer as served.
fn prepare_entry(
    file: &Path,
    position: usize,
    exchange: &RecordedExchange,
) -> Result<Entry, String> {
    let body = exchange
        .response
        .body_bytes()
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let headers: Vec<(String, String)> = exchange
        .response
        .served_headers()
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    // Validated when the recording was loaded.
    let served_headers = header_map(&headers);
    Ok(Entry {
        file: file.to_path_buf(),
        position,
        expect: exchange.request.expectation(),
        status: exchange.response.status,
        headers,
        body: bytes::Bytes::from(body),
        served_headers,
        broken: false,
    })
}

/// The headers as hyper sends them; a name or value hyper refuses is left out.
fn header_map(headers: &[(String, String)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            map.append(n, v);
        }
    }
    map
}

/// The entry of an exchange that could not be built on first use: it answers 500 with an
/// AWS-style error that says which exchange and why, and the near-miss scan passes it by.
fn broken_entry(file: &Path, position: usize, why: &str) -> Entry {
    const TYPE: &str = "ReplayRecordingUnreadable";
    let message = format!(
        "conform replay: {} (exchange {position}) could not be read: {why}; restart the server to read the recordings again",
        file.display()
    );
    let body = serde_json::json!({ "__type": TYPE, "message": message }).to_string();
    let headers = vec![
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        ("x-amzn-errortype".to_owned(), TYPE.to_owned()),
    ];
    let served_headers = header_map(&headers);
    Entry {
        file: file.to_path_buf(),
        position,
        expect: MessageExpect {
            start: crate::matching::StartExpect::Any,
            headers: Vec::new(),
            absent_headers: Vec::new(),
            body: None,
            error: None,
        },
        status: 500,
        headers,
        body: bytes::Bytes::from(body),
        served_headers,
        broken: true,
    }
}

/// A replay's index as a memo (`parsed_cache::memo_write`, beside the recordings' cache): what
/// [`Replay::new`] worked out from a folder's recordings, kept under the key of the cache they
/// all came from. [`Replay::from_memo`] starts a replay from it with no recording read: each
/// entry is built from the cache when it is first used.
#[derive(Serialize, Deserialize)]
pub struct IndexMemo {
    /// The recording files, relative to the folder, in the folder's order.
    files: Vec<String>,
    /// Each exchange's file (an index into `files`) and 1-based position.
    slots: Vec<(usize, usize)>,
    sequences: Vec<Vec<usize>>,
    by_key: Vec<(String, usize)>,
    /// The exact-bytes keys: `t` and the key when it is UTF-8, `b` and its base64 otherwise.
    by_bytes: Vec<(String, usize)>,
    shadowed: Vec<(usize, usize)>,
}

fn bytes_to_text(bytes: &[u8]) -> String {
    use base64::Engine as _;
    match std::str::from_utf8(bytes) {
        Ok(text) => format!("t{text}"),
        Err(_) => format!(
            "b{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ),
    }
}

fn text_to_bytes(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    match text.split_at_checked(1)? {
        ("t", key) => Some(key.as_bytes().to_vec()),
        ("b", key) => base64::engine::general_purpose::STANDARD.decode(key).ok(),
        _ => None,
    }
}

impl Replay {
    /// This replay's index as a memo for the recordings of `folder`, when it was built from
    /// exactly them, in order (`Replay::new` over `folder.load()`).
    pub fn memo(&self, folder: &Folder) -> Option<IndexMemo> {
        if self.files != folder.files() {
            return None;
        }
        let files = self
            .files
            .iter()
            .map(|f| Some(f.strip_prefix(folder.dir()).ok()?.to_str()?.to_owned()))
            .collect::<Option<Vec<String>>>()?;
        Some(IndexMemo {
            files,
            slots: self.slots.iter().map(|s| (s.file, s.position)).collect(),
            sequences: self.sequences.iter().map(|s| s.entries.clone()).collect(),
            by_key: self.by_key.iter().map(|(k, &v)| (k.clone(), v)).collect(),
            by_bytes: self
                .by_bytes
                .iter()
                .map(|(k, &v)| (bytes_to_text(k), v))
                .collect(),
            shadowed: self.shadowed_slots.clone(),
        })
    }

    /// The replay `memo` describes, over the recordings of `folder`, building no entry until it
    /// is used; `None` when the memo does not fit the folder (other files, indexes out of range).
    pub fn from_memo(memo: IndexMemo, folder: Arc<Folder>) -> Option<Replay> {
        let files = folder.files();
        if memo.files.len() != files.len()
            || memo
                .files
                .iter()
                .zip(files)
                .any(|(m, f)| f.strip_prefix(folder.dir()).ok() != Some(Path::new(m)))
        {
            return None;
        }
        let slots = memo.slots.len();
        let in_range = |i: &usize| *i < slots;
        let sequences_fit = memo
            .sequences
            .iter()
            .all(|s| !s.is_empty() && s.iter().all(in_range));
        let sequences = memo.sequences.len();
        if !sequences_fit
            || memo.slots.iter().any(|&(f, p)| f >= files.len() || p == 0)
            || memo
                .by_key
                .iter()
                .chain(&memo.by_bytes)
                .any(|(_, s)| *s >= sequences)
            || memo
                .shadowed
                .iter()
                .any(|(a, b)| !in_range(a) || !in_range(b))
        {
            return None;
        }
        let mut replay = Replay::empty();
        replay.files = files.to_vec();
        replay.slots = memo
            .slots
            .into_iter()
            .map(|(file, position)| Slot {
                file,
                position,
                entry: OnceLock::new(),
                used: AtomicBool::new(false),
            })
            .collect();
        replay.sequences = memo
            .sequences
            .into_iter()
            .map(|entries| Sequence { entries })
            .collect();
        replay.by_key = memo.by_key.into_iter().collect();
        replay.by_bytes = memo
            .by_bytes
            .into_iter()
            .map(|(k, v)| Some((text_to_bytes(&k)?, v)))
            .collect::<Option<_>>()?;
        for (slot, by) in memo.shadowed {
            replay.shadow(slot, by);
        }
        replay.source = Some(Source::Cache(folder));
        Some(replay)
    }
}

/// Builds a `Request` from the parts a server sees.
/// A request as the matcher observes it.
fn observed(request: &Request) -> Observed<'_> {
    Observed {
        start: Start::Request {
            method: &request.method,
            path: &request.path,
        },
        headers: &request.headers,
        body: &request.body,
    }
}

/// The run a request says it belongs to. An id the server would refuse (it checks first)
/// counts as none, never as a new run.
fn run_of(request: &Request) -> Option<&str> {
    request
        .headers
        .get(RUN_ID_HEADER)
        .filter(|id| valid_run_id(id))
}

pub fn request_from_parts<'a>(
    method: &str,
    path: &str,
    headers: impl Iterator<Item = (&'a str, &'a [u8])>,
    body: Vec<u8>,
) -> Request {
    let mut h = Headers::with_capacity(headers.size_hint().0);
    for (name, value) in headers {
        h.append(name, crate::exchange::header_text(value));
    }
    Request {
        method: method.to_owned(),
        path: path.to_owned(),
        headers: h,
        body,
    }
}
