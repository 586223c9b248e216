//! The `conform compare --junit` report: one `<testcase>` per exchange. A different answer is
//! a `<failure>` (its differences and diff), no usable answer an `<error>`, as for
//! `conform run`; the scores go in the suite's `<properties>`. Pure: returns a string.

use std::fmt::Write as _;

use crate::report::xml_escape as escape;

use super::fidelity::{Class, CompareReport, percent};

pub fn render(report: &CompareReport<'_>) -> String {
    let score = report.score();
    let total: f64 = report
        .results
        .iter()
        .map(|r| r.duration.as_secs_f64())
        .sum();
    let counts = format!(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{total:.3}\"",
        score.exchanges, score.different, score.errored
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"conform compare\" {counts}>");
    let _ = writeln!(
        out,
        "  <testsuite name=\"conform compare {}\" {counts}>",
        escape(report.endpoint)
    );
    out.push_str("    <properties>\n");
    let mut property = |name: &str, value: String| {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            escape(&value)
        );
    };
    property("recordings", report.recordings.to_owned());
    property("fidelity.exchanges", percent(score.exchange_score()));
    property("fidelity.fields", percent(score.field_score()));
    property("identical", score.identical.to_string());
    property("equivalent", score.equivalent.to_string());
    if let Some(min) = report.min_fidelity {
        property("min-fidelity", min.to_string());
    }
    out.push_str("    </properties>\n");
    for r in report.results {
        let classname = r
            .name
            .rsplit_once('/')
            .map(|(dir, _)| dir.replace('/', "."))
            .unwrap_or_default();
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" time=\"{:.3}\"",
            escape(&r.name),
            escape(&classname),
            escape(&r.file.display().to_string()),
            r.duration.as_secs_f64()
        );
        match r.class() {
            Class::Identical | Class::Equivalent => out.push_str("/>\n"),
            Class::Different => {
                let c = &r.comparison;
                let listed: Vec<String> = c
                    .differences
                    .iter()
                    .map(|m| format!("{}: {}", m.path, m.message))
                    .collect();
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"different\" message=\"{} difference(s): {}\">{}\n\n{}</failure>\n    </testcase>",
                    c.differences.len(),
                    escape(
                        &c.differences
                            .iter()
                            .map(|m| m.path.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    escape(&listed.join("\n")),
                    escape(&c.diff())
                );
            }
            Class::Errored => {
                let message = r.error.as_deref().unwrap_or("no usable answer");
                let _ = writeln!(
                    out,
                    ">\n      <error type=\"error\" message=\"{}\">{}</error>\n    </testcase>",
                    escape(message),
                    escape(message)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
