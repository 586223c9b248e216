//! Machine-readable reports made from plain result data: JUnit XML and JSON. No I/O: the
//! binary writes the strings where the user asked.

mod json;
mod junit;

pub use json::render as json;
pub use junit::render as junit;
pub(crate) use junit::xml_safe;

use crate::case::Case;
use crate::runner::{CaseResult, Strictness};

/// What a report is about: the cases, their results (in run order) and the target.
pub struct RunReport<'a> {
    pub cases: &'a [Case],
    pub results: &'a [CaseResult],
    /// `replay`, `endpoint`, `signed` or `aws`.
    pub target_kind: String,
    /// The endpoint URL (never carries credentials).
    pub endpoint: String,
    /// Which differences fail the run (`--strict-inferred`, `--strict`).
    pub strict: Strictness,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::matching::Mismatch;
    use crate::runner::{Note, Outcome};

    fn results() -> (Vec<Case>, Vec<CaseResult>) {
        let names = ["passes", "differs", "noted", "fails", "errors"];
        let cases = names
            .iter()
            .map(|n| crate::runner::tests::case(n))
            .collect();
        let mismatch = |p: &str| Mismatch {
            path: p.into(),
            message: "expected X, found Y".into(),
        };
        let result = |index, outcome, notes| CaseResult {
            index,
            outcome,
            notes,
            duration: Duration::from_millis(5),
            exchanges: vec![],
        };
        let note = Note {
            step: 0,
            path: "header content-type".into(),
            message: "has the expected media type".into(),
        };
        let results = vec![
            result(0, Outcome::Passed, vec![]),
            result(
                1,
                Outcome::Differs {
                    step: 0,
                    mismatches: vec![mismatch("error type")],
                    diff: "-a\n+b\n".into(),
                    why: "no source names the type".into(),
                },
                vec![],
            ),
            result(2, Outcome::Passed, vec![note]),
            result(
                3,
                Outcome::Failed {
                    step: 0,
                    mismatches: vec![mismatch("status")],
                    diff: "-200\n+500\n".into(),
                },
                vec![],
            ),
            result(
                4,
                Outcome::Errored {
                    step: 0,
                    message: "refused".into(),
                },
                vec![],
            ),
        ];
        (cases, results)
    }

    fn report<'a>(
        cases: &'a [Case],
        results: &'a [CaseResult],
        strict: Strictness,
    ) -> RunReport<'a> {
        RunReport {
            cases,
            results,
            target_kind: "endpoint".into(),
            endpoint: "http://127.0.0.1:1".into(),
            strict,
        }
    }

    #[test]
    fn json_says_differs_with_why_and_counts_apart() {
        let (cases, results) = results();
        let v: serde_json::Value =
            serde_json::from_str(&json(&report(&cases, &results, Strictness::default()))).unwrap();
        assert_eq!(
            v["summary"],
            serde_json::json!({"passed": 3, "failed": 1, "errored": 1, "skipped": 0, "differs": 1, "with_notes": 1, "known": 0})
        );
        let differs = &v["cases"][1];
        assert_eq!(differs["outcome"], "differs");
        assert_eq!(differs["why"], "no source names the type");
        assert_eq!(differs["mismatches"][0]["path"], "error type");
        assert_eq!(differs["fails_run"], false);
        assert_eq!(v["cases"][2]["notes"][0]["path"], "header content-type");
        assert_eq!(v["cases"][2]["notes"][0]["step"], 1);

        let strict = Strictness {
            inferred: true,
            notes: true,
        };
        let v: serde_json::Value =
            serde_json::from_str(&json(&report(&cases, &results, strict))).unwrap();
        assert_eq!(v["summary"]["passed"], 1);
        assert_eq!(v["summary"]["failed"], 3);
        assert_eq!(v["cases"][1]["fails_run"], true);
        assert_eq!(v["cases"][2]["fails_run"], true);
    }

    /// The testcases' `(name, child elements, property conform.verdict)`.
    fn testcases(xml: &str) -> Vec<(String, Vec<String>, Option<String>)> {
        let doc = roxmltree::Document::parse(xml).expect("valid XML");
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .map(|tc| {
                let children = tc
                    .children()
                    .filter(|c| c.is_element())
                    .map(|c| match c.attribute("type") {
                        Some(t) => format!("{}:{t}", c.tag_name().name()),
                        None => c.tag_name().name().to_owned(),
                    })
                    .collect();
                let verdict = tc
                    .descendants()
                    .find(|p| {
                        p.has_tag_name("property") && p.attribute("name") == Some("conform.verdict")
                    })
                    .and_then(|p| p.attribute("value").map(str::to_owned));
                (tc.attribute("name").unwrap().to_owned(), children, verdict)
            })
            .collect()
    }

    #[test]
    fn junit_passes_a_difference_from_a_guess_unless_strict() {
        let (cases, results) = results();
        let xml = junit(&report(&cases, &results, Strictness::default()));
        let got = testcases(&xml);
        assert_eq!(got[0], ("passes".into(), vec![], None));
        assert_eq!(got[1].1, ["properties", "system-out"]);
        assert_eq!(got[1].2.as_deref(), Some("differs-from-guess"));
        assert_eq!(got[2].1, ["system-out"]);
        assert_eq!(got[3].1, ["failure:mismatch"]);
        assert_eq!(got[4].1, ["error:error"]);
        assert!(xml.contains("why: no source names the type"), "{xml}");
        assert!(xml.contains("note: step 1: header content-type"), "{xml}");
        assert!(
            xml.contains("failures=\"1\"") && xml.contains("errors=\"1\""),
            "{xml}"
        );

        let strict = Strictness {
            inferred: true,
            notes: true,
        };
        let xml = junit(&report(&cases, &results, strict));
        let got = testcases(&xml);
        assert_eq!(
            got[1].1,
            ["properties", "failure:differs-from-guess", "system-out"]
        );
        assert_eq!(got[2].1, ["failure:harmless-difference", "system-out"]);
        assert!(xml.contains("failures=\"3\""), "{xml}");
    }

    #[test]
    fn junit_stays_valid_xml_whatever_the_endpoint_sent() {
        let (cases, mut results) = results();
        results[3].outcome = Outcome::Failed {
            step: 0,
            mismatches: vec![Mismatch {
                path: "body".into(),
                message: "found \"<b>&\u{1}\u{1b}[31m\"".into(),
            }],
            diff: "+<html>\u{0}\u{FFFF}</html>\n".into(),
        };
        let xml = junit(&report(&cases, &results, Strictness::default()));
        let doc = roxmltree::Document::parse(&xml).expect("valid XML");
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert!(
            failure.attribute("message").unwrap().contains("<b>&"),
            "{xml}"
        );
        assert!(failure.text().unwrap().contains("<html>"), "{xml}");
    }
}
