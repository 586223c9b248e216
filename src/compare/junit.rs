//! The `conform compare --junit` report, through `quick-junit` (nextest's): one `<testcase>`
//! per exchange. A different answer is a `<failure>` (its differences and diff), no usable
//! answer an `<error>`, as for `conform run`; the scores go in the suite's `<properties>`.
//! Pure: returns a string.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::fidelity::{Class, CompareReport, percent};
use crate::report::xml_safe;

pub fn render(report: &CompareReport<'_>) -> String {
    let score = report.score();
    let total: Duration = report.results.iter().map(|r| r.duration).sum();
    let mut suite = TestSuite::new(format!("conform compare {}", report.endpoint));
    suite.set_time(total);
    suite.add_property(Property::new("recordings", report.recordings));
    suite.add_property(Property::new(
        "fidelity.exchanges",
        percent(score.exchange_score()),
    ));
    suite.add_property(Property::new(
        "fidelity.fields",
        percent(score.field_score()),
    ));
    suite.add_property(Property::new("identical", score.identical.to_string()));
    suite.add_property(Property::new("equivalent", score.equivalent.to_string()));
    if let Some(min) = report.min_fidelity {
        suite.add_property(Property::new("min-fidelity", min.to_string()));
    }
    for r in report.results {
        let status = match r.class() {
            Class::Identical | Class::Equivalent => TestCaseStatus::success(),
            Class::Different => {
                let c = &r.comparison;
                let listed: Vec<String> = c
                    .differences
                    .iter()
                    .map(|m| format!("{}: {}", m.path, m.message))
                    .collect();
                let paths: Vec<&str> = c.differences.iter().map(|m| m.path.as_str()).collect();
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_type("different");
                s.set_message(xml_safe(&format!(
                    "{} difference(s): {}",
                    c.differences.len(),
                    paths.join(", ")
                )));
                s.set_description(xml_safe(&format!("{}\n\n{}", listed.join("\n"), c.diff())));
                s
            }
            Class::Errored => {
                let message = r.error.as_deref().unwrap_or("no usable answer");
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_type("error");
                s.set_message(xml_safe(message));
                s.set_description(xml_safe(message));
                s
            }
        };
        let mut tc = TestCase::new(r.name.as_str(), status);
        tc.set_classname(
            r.name
                .rsplit_once('/')
                .map(|(dir, _)| dir.replace('/', "."))
                .unwrap_or_default(),
        );
        tc.set_time(r.duration);
        tc.extra
            .insert("file".into(), r.file.display().to_string().into());
        suite.add_test_case(tc);
    }
    let mut out = Report::new("conform compare");
    out.set_time(total);
    out.add_test_suite(suite);
    out.to_string()
        .unwrap_or_else(|e| format!("<!-- cannot write the JUnit report: {e} -->\n"))
}
