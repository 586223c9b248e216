//! JUnit XML: one `<testcase>` per case; a wrong answer is a `<failure>` (with the diff), no
//! usable answer is an `<error>`, as JUnit readers (GitHub, GitLab, Jenkins) expect.

use std::fmt::Write as _;

use super::RunReport;
use crate::runner::{Outcome, Summary};

pub fn render(report: &RunReport<'_>) -> String {
    let summary = Summary::of(report.results);
    let total: f64 = report
        .results
        .iter()
        .map(|r| r.duration.as_secs_f64())
        .sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\"",
        report.results.len(),
        summary.failed,
        summary.errored,
        summary.skipped,
        total
    );
    let _ = writeln!(out, "<testsuites name=\"conform\" {counts}>");
    let _ = writeln!(
        out,
        "  <testsuite name=\"conform {} {}\" {counts}>",
        escape(&report.target_kind),
        escape(&report.endpoint)
    );
    for result in report.results {
        let case = &report.cases[result.index];
        let classname = case
            .file
            .parent()
            .map(|p| {
                p.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .unwrap_or_default();
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" time=\"{:.3}\"",
            escape(&case.name),
            escape(&classname),
            escape(&case.file.display().to_string()),
            result.duration.as_secs_f64()
        );
        match &result.outcome {
            Outcome::Passed => out.push_str("/>\n"),
            Outcome::Skipped { reason } => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    escape(reason)
                );
            }
            Outcome::Failed {
                step,
                mismatches,
                diff,
            } => {
                let first = mismatches
                    .first()
                    .map(|m| format!("{}: {}", m.path, m.message))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"mismatch\" message=\"step {}: {} mismatch(es); {}\">{}</failure>\n    </testcase>",
                    step + 1,
                    mismatches.len(),
                    escape(&first),
                    escape(diff)
                );
            }
            Outcome::Errored { step, message } => {
                let _ = writeln!(
                    out,
                    ">\n      <error type=\"error\" message=\"step {}: {}\">{}</error>\n    </testcase>",
                    step + 1,
                    escape(message),
                    escape(message)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Escapes text for XML attributes and content, dropping characters XML 1.0 cannot hold.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push('\n'),
            '\t' => out.push('\t'),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            super::escape("a<b>&\"'\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;"
        );
    }
}
