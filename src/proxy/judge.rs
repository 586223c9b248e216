//! `--compare`: every upstream answer judged against the matching recording, with the code
//! `conform compare` uses (`crate::compare::compare`), and collected for the shutdown report.
//!
//! The recording is found with the replay's matcher (`Replay::answer`), so "matching" means
//! exactly what it means to `conform serve`, sequences included. A request no recording
//! matches, and an upstream that gave no usable answer, become `errored` results that say so:
//! the report lists them with everything else, through compare's own writers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use crate::compare::{Class, Comparison, ExchangeResult, Tokens, compare, unanswered};
use crate::exchange::{Request, Response};
use crate::recording::Recording;
use crate::replay::{Answer, Replay};

/// The recordings answers are judged against, and the results so far.
pub struct Judge {
    root: PathBuf,
    replay: Replay,
    /// Exchanges per recording file, to name them as `conform compare` does (`file #N`).
    counts: HashMap<PathBuf, usize>,
    results: Mutex<Vec<ExchangeResult>>,
}

impl Judge {
    pub fn new(root: &Path, recordings: &[Recording]) -> Result<Judge, String> {
        Ok(Judge {
            root: root.to_owned(),
            replay: Replay::new(recordings)?,
            counts: recordings
                .iter()
                .map(|r| (r.file.clone(), r.exchanges.len()))
                .collect(),
            results: Mutex::new(Vec::new()),
        })
    }

    pub fn exchange_count(&self) -> usize {
        self.replay.exchange_count()
    }

    /// Judges one answer (or the reason there was none) and keeps the result.
    pub(crate) fn judge(
        &self,
        request: &Request,
        answer: Result<&Response, String>,
        request_line: &str,
    ) -> ExchangeResult {
        let started = Instant::now();
        let result = match self.replay.answer(request) {
            Answer::Recorded(entry) => {
                let expected = Response {
                    status: entry.status,
                    headers: entry.headers.iter().map(|(n, v)| (n, v.clone())).collect(),
                    body: entry.body.to_vec(),
                };
                let relative = entry
                    .file
                    .strip_prefix(&self.root)
                    .unwrap_or(&entry.file)
                    .display()
                    .to_string()
                    .replace('\\', "/");
                let name = if self.counts.get(&entry.file).copied().unwrap_or(1) > 1 {
                    format!("{relative} #{}", entry.position)
                } else {
                    relative
                };
                let mut expected_tokens = Tokens::new();
                let actual = answer.as_ref().ok().map(|r| (*r).clone());
                let (comparison, error) = match answer {
                    Ok(actual) => (
                        compare(&expected, actual, &mut expected_tokens, &mut Tokens::new()),
                        None,
                    ),
                    Err(reason) => (unanswered(&expected, &mut expected_tokens), Some(reason)),
                };
                ExchangeResult {
                    name,
                    file: entry.file.clone(),
                    position: entry.position,
                    request_line: request_line.to_owned(),
                    comparison,
                    error,
                    duration: started.elapsed(),
                    actual,
                    // The proxy judges against recordings only; validating live answers against
                    // the service model is `conform compare`'s (the proxy knows no model yet).
                    model_violations: Vec::new(),
                }
            }
            Answer::Miss(_) | Answer::TooLarge(_) => unmatched_result(request_line, &self.root),
        };
        self.results
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(result.clone());
        result
    }

    pub fn results(&self) -> Vec<ExchangeResult> {
        self.results
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A request no recording matched: an `errored` result named after the request, so that the
/// report lists it (nothing to compare it with is no evidence of fidelity).
pub fn unmatched_result(request_line: &str, root: &Path) -> ExchangeResult {
    ExchangeResult {
        name: format!("unmatched: {request_line}"),
        file: PathBuf::new(),
        position: 0,
        request_line: request_line.to_owned(),
        comparison: Comparison {
            class: Class::Errored,
            differences: Vec::new(),
            fields: 0,
            equal_fields: 0,
            expected: String::new(),
            actual: String::new(),
        },
        error: Some(format!(
            "no recording in {} matches this request",
            root.display()
        )),
        duration: std::time::Duration::ZERO,
        actual: None,
        model_violations: Vec::new(),
    }
}
