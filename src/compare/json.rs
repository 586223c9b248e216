//! The `conform compare --json` report: the scores, the counts, and every exchange with its
//! class, differences, diff and normalised views. Pure: returns a string.

use serde::Serialize;

use super::fidelity::{Class, CompareReport, Score};
use crate::matching::Mismatch;

#[derive(Serialize)]
struct JsonReport<'a> {
    conform_version: &'static str,
    endpoint: &'a str,
    recordings: &'a str,
    summary: JsonSummary,
    exchanges: Vec<JsonExchange<'a>>,
}

#[derive(Serialize)]
struct JsonSummary {
    #[serde(flatten)]
    score: Score,
    exchange_score: f64,
    field_score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_fidelity: Option<f64>,
    passed: bool,
}

#[derive(Serialize)]
struct JsonExchange<'a> {
    name: &'a str,
    file: String,
    exchange: usize,
    request: &'a str,
    class: Class,
    duration_ms: f64,
    fields: usize,
    equal_fields: usize,
    #[serde(skip_serializing_if = "<[Mismatch]>::is_empty")]
    differences: &'a [Mismatch],
    #[serde(skip_serializing_if = "String::is_empty")]
    diff: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    expected: &'a str,
    actual: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    model_violations: &'a [String],
}

pub fn render(report: &CompareReport<'_>) -> String {
    let score = report.score();
    let exchanges = report
        .results
        .iter()
        .map(|r| JsonExchange {
            name: &r.name,
            file: r.file.display().to_string(),
            exchange: r.position,
            request: &r.request_line,
            class: r.class(),
            duration_ms: r.duration.as_secs_f64() * 1000.0,
            fields: r.comparison.fields,
            equal_fields: r.comparison.equal_fields,
            differences: &r.comparison.differences,
            diff: r.comparison.diff(),
            message: r.error.as_deref(),
            expected: &r.comparison.expected,
            actual: &r.comparison.actual,
            model_violations: &r.model_violations,
        })
        .collect();
    let report = JsonReport {
        conform_version: env!("CARGO_PKG_VERSION"),
        endpoint: report.endpoint,
        recordings: report.recordings,
        summary: JsonSummary {
            score,
            exchange_score: score.exchange_score(),
            field_score: score.field_score(),
            min_fidelity: report.min_fidelity,
            passed: score.passes(report.min_fidelity),
        },
        exchanges,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}
