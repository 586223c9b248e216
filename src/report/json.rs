//! The `--json` report: every case with its outcome, mismatches and diff, and the totals.

use serde::Serialize;

use super::RunReport;
use crate::case::Provenance;
use crate::matching::Mismatch;
use crate::runner::{Outcome, Summary};

#[derive(Serialize)]
struct JsonReport<'a> {
    conform_version: &'static str,
    target: Target<'a>,
    summary: JsonSummary,
    cases: Vec<JsonCase<'a>>,
}

#[derive(Serialize)]
struct Target<'a> {
    kind: &'a str,
    endpoint: &'a str,
}

#[derive(Serialize)]
struct JsonSummary {
    passed: usize,
    failed: usize,
    errored: usize,
    skipped: usize,
}

#[derive(Serialize)]
struct JsonCase<'a> {
    name: &'a str,
    file: String,
    provenance: Provenance,
    tags: &'a [String],
    outcome: &'static str,
    duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mismatches: Option<&'a [Mismatch]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

pub fn render(report: &RunReport<'_>) -> String {
    let s = Summary::of(report.results);
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
                    Outcome::Errored { .. } => "errored",
                    Outcome::Skipped { .. } => "skipped",
                },
                duration_ms: r.duration.as_secs_f64() * 1000.0,
                step: None,
                mismatches: None,
                diff: None,
                message: None,
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
                Outcome::Errored { step, message } => {
                    c.step = Some(step + 1);
                    c.message = Some(message);
                }
                Outcome::Skipped { reason } => c.message = Some(reason),
            }
            c
        })
        .collect();
    let report = JsonReport {
        conform_version: env!("CARGO_PKG_VERSION"),
        target: Target {
            kind: &report.target_kind,
            endpoint: &report.endpoint,
        },
        summary: JsonSummary {
            passed: s.passed,
            failed: s.failed,
            errored: s.errored,
            skipped: s.skipped,
        },
        cases,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}
