//! JUnit XML through `quick-junit` (nextest's): one `<testcase>` per case; a wrong answer is
//! a `<failure>` (with the diff), no usable answer is an `<error>`, as JUnit readers (GitHub,
//! GitLab, Jenkins) expect. A difference from a labelled guess is a passing testcase with the
//! property `conform.verdict = differs-from-guess` (a `<failure type="differs-from-guess">`
//! under `--strict-inferred`); harmless differences go to `<system-out>` (a
//! `<failure type="harmless-difference">` under `--strict`).

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::RunReport;
use crate::runner::{CaseResult, Note, Outcome};

pub fn render(report: &RunReport<'_>) -> String {
    let total: Duration = report.results.iter().map(|r| r.duration).sum();
    let mut suite = TestSuite::new(format!(
        "conform {} {}",
        report.target_kind, report.endpoint
    ));
    suite.set_time(total);
    for result in report.results {
        suite.add_test_case(test_case(report, result));
    }
    let mut out = Report::new("conform");
    out.set_time(total);
    out.add_test_suite(suite);
    out.to_string()
        .unwrap_or_else(|e| format!("<!-- cannot write the JUnit report: {e} -->\n"))
}

fn test_case(report: &RunReport<'_>, result: &CaseResult) -> TestCase {
    let case = &report.cases[result.index];
    let strict = report.strict;
    let notes = notes_text(&result.notes);
    let status = match &result.outcome {
        // A known divergence (in the ledger) passes; its property and system-out say so.
        Outcome::Passed | Outcome::Differs { .. } | Outcome::Known { .. } => {
            TestCaseStatus::success()
        }
        Outcome::Skipped { reason } => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(xml_safe(reason));
            s
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
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type("mismatch");
            s.set_message(xml_safe(&format!(
                "step {}: {} mismatch(es); {first}",
                step + 1,
                mismatches.len()
            )));
            s.set_description(xml_safe(diff));
            s
        }
        Outcome::Errored { step, message } => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("error");
            s.set_message(xml_safe(&format!("step {}: {message}", step + 1)));
            s.set_description(xml_safe(message));
            s
        }
    };
    // The strict flags turn a passing testcase into a failure of its own type, so a reader
    // can tell a difference from a guess or a harmless difference from a real mismatch.
    let status = match &result.outcome {
        Outcome::Differs {
            step,
            mismatches,
            diff,
            why,
        } if strict.inferred => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type("differs-from-guess");
            s.set_message(xml_safe(&format!(
                "step {}: differs from a labelled guess (inferred): {why}",
                step + 1
            )));
            s.set_description(xml_safe(&format!(
                "{}\n\n{diff}",
                mismatch_lines(mismatches)
            )));
            s
        }
        Outcome::Passed | Outcome::Differs { .. } if strict.notes && !result.notes.is_empty() => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type("harmless-difference");
            s.set_message(xml_safe(&format!(
                "{} harmless difference(s) fail under --strict; {}",
                result.notes.len(),
                result
                    .notes
                    .first()
                    .map(|n| format!("{}: {}", n.path, n.message))
                    .unwrap_or_default()
            )));
            s.set_description(xml_safe(&notes));
            s
        }
        _ => status,
    };

    let mut tc = TestCase::new(xml_safe(&case.name), status);
    tc.set_classname(classname(&case.file));
    tc.set_time(result.duration);
    tc.extra
        .insert("file".into(), case.file.display().to_string().into());
    let mut system_out = String::new();
    if let Outcome::Differs {
        step,
        mismatches,
        diff,
        why,
    } = &result.outcome
    {
        tc.add_property(Property::new("conform.verdict", "differs-from-guess"));
        system_out.push_str(&format!(
            "step {}: differs from a labelled guess (inferred)\nwhy: {why}\n{}\n\n{diff}",
            step + 1,
            mismatch_lines(mismatches)
        ));
    }
    if let Outcome::Known {
        step,
        mismatches,
        diff,
        why,
        at,
    } = &result.outcome
    {
        tc.add_property(Property::new("conform.verdict", "known-divergence"));
        system_out.push_str(&format!(
            "step {}: known divergence ({at})\nwhy: {why}\n{}\n\n{diff}",
            step + 1,
            mismatch_lines(mismatches)
        ));
    }
    if !notes.is_empty() {
        if !system_out.is_empty() {
            system_out.push('\n');
        }
        system_out.push_str(&notes);
    }
    if !system_out.is_empty() {
        tc.set_system_out(xml_safe(&system_out));
    }
    tc
}

/// Text XML 1.0 can hold: quick-junit escapes markup and drops ANSI colours, but characters XML
/// cannot hold at all (`U+0000`, `U+FFFF`, ...) come through from an endpoint's body and would
/// make the report unreadable; they are dropped here.
pub(crate) fn xml_safe(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r')
                || ('\u{20}'..='\u{D7FF}').contains(&c)
                || ('\u{E000}'..='\u{FFFD}').contains(&c)
                || c >= '\u{10000}'
        })
        .collect()
}

fn mismatch_lines(mismatches: &[crate::matching::Mismatch]) -> String {
    mismatches
        .iter()
        .map(|m| format!("{}: {}", m.path, m.message))
        .collect::<Vec<_>>()
        .join("\n")
}

fn notes_text(notes: &[Note]) -> String {
    notes
        .iter()
        .map(|n| format!("note: step {}: {}: {}\n", n.step + 1, n.path, n.message))
        .collect()
}

/// The case file's folder, dotted (`cases.inspector.StartAssessmentRun`).
fn classname(file: &std::path::Path) -> String {
    file.parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default()
}
