//! The `--json` report: every case with its outcome, mismatches and diff, its notes, and the
//! totals (differences from labelled guesses and cases with notes counted apart).

use serde::Serialize;

use super::RunReport;
use crate::case::Provenance;
use crate::matching::Mismatch;
use crate::runner::{Judgement, Note, Outcome, Summary};

#[derive(Serialize)]
struct JsonReport<'a> {
    conform_version: &'static str,
    target: Target<'a>,
    strict: JsonStrict,
    summary: JsonSummary,
    cases: Vec<JsonCase<'a>>,
}

#[derive(Serialize)]
struct Target<'a> {
    kind: &'a str,
    endpoint: &'a str,
}

#[derive(Serialize)]
struct JsonStrict {
    inferred: bool,
    notes: bool,
}

#[derive(Serialize)]
struct JsonSummary {
    passed: usize,
    failed: usize,
    errored: usize,
    skipped: usize,
    differs: usize,
    with_notes: usize,
    known: usize,
}

#[derive(Serialize)]
struct JsonCase<'a> {
    name: &'a str,
    file: String,
    provenance: Provenance,
    tags: &'a [String],
    outcome: &'static str,
    /// Whether the case fails the run under the strict flags given.
    fails_run: bool,
    duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<&'a str>,
    /// `file:line` of the ledger entry of a known divergence.
    #[serde(skip_serializing_if = "Option::is_none")]
    ledger: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mismatches: Option<&'a [Mismatch]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    notes: Vec<JsonNote<'a>>,
}

#[derive(Serialize)]
struct JsonNote<'a> {
    /// 1-based, like `step`.
    step: usize,
    path: &'a str,
    message: &'a str,
}

impl<'a> From<&'a Note> for JsonNote<'a> {
    fn from(n: &'a Note) -> Self {
        JsonNote {
            step: n.step + 1,
            path: &n.path,
            message: &n.message,
        }
    }
}

pub fn render(report: &RunReport<'_>) -> String {
    let s = Summary::judged(report.results, report.strict);
    let cases = report
        .results
        .iter()
        .map(|r| {
            let case = &report.cases[r.index];
            let mut c = JsonCase {
                name: &case.name,
                file: case.file.display().to_string(),
                provenance: case.provenance,
                tags: &case.tags,
                outcome: match r.outcome {
                    Outcome::Passed => "passed",
                    Outcome::Failed { .. } => "failed",
                    Outcome::Differs { .. } => "differs",
                    Outcome::Errored { .. } => "errored",
                    Outcome::Skipped { .. } => "skipped",
                    Outcome::Known { .. } => "known",
                },
                fails_run: matches!(
                    r.judge(report.strict),
                    Judgement::Failed | Judgement::Errored
                ),
                duration_ms: r.duration.as_secs_f64() * 1000.0,
                step: None,
                why: None,
                ledger: None,
                mismatches: None,
                diff: None,
                message: None,
                notes: r.notes.iter().map(JsonNote::from).collect(),
            };
            match &r.outcome {
                Outcome::Passed => {}
                Outcome::Failed {
                    step,
                    mismatches,
                    diff,
                } => {
                    c.step = Some(step + 1);
                    c.mismatches = Some(mismatches);
                    c.diff = Some(diff);
                }
                Outcome::Differs {
                    step,
                    mismatches,
                    diff,
                    why,
                } => {
                    c.step = Some(step + 1);
                    c.why = Some(why);
                    c.mismatches = Some(mismatches);
                    c.diff = Some(diff);
                }
                Outcome::Errored { step, message } => {
                    c.step = Some(step + 1);
                    c.message = Some(message);
                }
                Outcome::Skipped { reason } => c.message = Some(reason),
                // A failure the ledger lists: its why, and where the ledger says so.
                Outcome::Known {
                    step,
                    mismatches,
                    diff,
                    why,
                    at,
                } => {
                    c.step = Some(step + 1);
                    c.why = Some(why);
                    c.ledger = Some(at);
                    c.mismatches = Some(mismatches);
                    c.diff = Some(diff);
                }
            }
            c
        })
        .collect();
    let out = JsonReport {
        conform_version: env!("CARGO_PKG_VERSION"),
        target: Target {
            kind: &report.target_kind,
            endpoint: &report.endpoint,
        },
        strict: JsonStrict {
            inferred: report.strict.inferred,
            notes: report.strict.notes,
        },
        summary: JsonSummary {
            passed: s.passed,
            failed: s.failed,
            errored: s.errored,
            skipped: s.skipped,
            differs: s.differs,
            with_notes: s.with_notes,
            known: s.known,
        },
        cases,
    };
    serde_json::to_string_pretty(&out).unwrap_or_default() + "\n"
}
