//! Comparing the response an endpoint gave with the recorded one, and scoring a whole run.
//! Pure: no I/O, no async; the sending lives in `run.rs`, the rendering in the report files.
//!
//! An exchange is `identical` when status, body bytes and every header but the volatile ones
//! are equal, and the normalised forms agree too; `equivalent` when only the normalised forms
//! agree; `different` otherwise, with one [`Mismatch`] per field that differs. Fields are the
//! status, each compared header present on either side, and each leaf JSON path in the union
//! of both bodies (or the whole body, when either is not JSON). `errored` means no usable
//! answer came back: it counts as not equivalent, and every expected field as unequal.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::normalise::{Body, Normalised, Tokens, leaves, normalise, stable_headers};
use crate::exchange::Response;
use crate::matching::{Mismatch, short};

/// How close an answer came to the recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Identical,
    Equivalent,
    Different,
    Errored,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Identical => "identical",
            Class::Equivalent => "equivalent",
            Class::Different => "different",
            Class::Errored => "errored",
        }
    }

    /// Identical or equivalent: what the exchange score counts.
    pub fn agrees(self) -> bool {
        matches!(self, Class::Identical | Class::Equivalent)
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The comparison of one answer with its recording.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub class: Class,
    /// One per differing field, in view order: status, headers, body paths.
    pub differences: Vec<Mismatch>,
    pub fields: usize,
    pub equal_fields: usize,
    /// The normalised views of the recorded and the actual response.
    pub expected: String,
    pub actual: String,
}

impl Comparison {
    /// The unified diff of the views (empty when they are the same).
    pub fn diff(&self) -> String {
        if self.expected == self.actual {
            String::new()
        } else {
            crate::diff::unified(&self.expected, &self.actual)
        }
    }
}

/// Compares `actual` with `expected`. Each side has its own `Tokens`, shared by the exchanges
/// of one recording (see `normalise.rs`).
pub fn compare(
    expected: &Response,
    actual: &Response,
    expected_tokens: &mut Tokens,
    actual_tokens: &mut Tokens,
) -> Comparison {
    let exp = normalise(expected, expected_tokens);
    let act = normalise(actual, actual_tokens);
    let exp_fields = fields(&exp, matches!(act.body, Body::Json(_)));
    let act_fields = fields(&act, matches!(exp.body, Body::Json(_)));

    // The union of both sides' fields, in the expected side's order, then the actual side's
    // extra ones: status, headers and body paths stay grouped because both lists are.
    let mut differences = Vec::new();
    let mut total = 0;
    let mut equal = 0;
    let mut visit = |path: &str, e: Option<&Value>, a: Option<&Value>| {
        total += 1;
        match (e, a) {
            (Some(e), Some(a)) if same(e, a) => equal += 1,
            _ => differences.push(Mismatch {
                path: path.to_owned(),
                message: describe(e, a),
            }),
        }
    };
    for (path, e) in &exp_fields {
        visit(path, Some(e), lookup(&act_fields, path));
    }
    for (path, a) in &act_fields {
        if lookup(&exp_fields, path).is_none() {
            visit(path, None, Some(a));
        }
    }
    // Keep the status first, headers next, body last, whichever side listed a field.
    differences.sort_by_key(|m| rank(&m.path));

    let names = header_union(&exp, &act);
    let bytes_equal = expected.status == actual.status
        && expected.body == actual.body
        && stable_headers(expected) == stable_headers(actual);
    let class = if !differences.is_empty() {
        Class::Different
    } else if bytes_equal {
        Class::Identical
    } else {
        Class::Equivalent
    };
    Comparison {
        class,
        differences,
        fields: total,
        equal_fields: equal,
        expected: exp.view(&names),
        actual: act.view(&names),
    }
}

/// The comparison when no answer came: every expected field counts as unequal.
pub fn unanswered(expected: &Response, tokens: &mut Tokens) -> Comparison {
    let exp = normalise(expected, tokens);
    let names: Vec<String> = exp.headers.keys().cloned().collect();
    Comparison {
        class: Class::Errored,
        differences: Vec::new(),
        fields: fields(&exp, true).len(),
        equal_fields: 0,
        expected: exp.view(&names),
        actual: String::new(),
    }
}

/// The fields of one side. The body is split into leaf paths only when both sides are JSON
/// (`other_is_json`), so that a JSON answer against an HTML one is one differing field, not
/// one per member.
fn fields(n: &Normalised, other_is_json: bool) -> Vec<(String, Value)> {
    let mut out = vec![("status".to_owned(), Value::from(n.status))];
    for (name, value) in &n.headers {
        out.push((format!("header {name}"), Value::String(value.clone())));
    }
    match &n.body {
        Body::Json(v) if other_is_json => leaves(v, "body", &mut out),
        // The other side is not JSON: the whole body is one field, as compact sorted JSON.
        Body::Json(v) => out.push(("body".into(), Value::String(v.to_string()))),
        // The whole text, not a preview: a difference after the first 2 KiB still counts.
        Body::Raw(bytes) => out.push((
            "body".into(),
            match std::str::from_utf8(bytes) {
                Ok(text) => Value::String(text.to_owned()),
                Err(_) => Value::String(format!(
                    "<{} bytes, not UTF-8, base64 {}>",
                    bytes.len(),
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                )),
            },
        )),
    }
    out
}

fn lookup<'a>(fields: &'a [(String, Value)], path: &str) -> Option<&'a Value> {
    fields.iter().find(|(p, _)| p == path).map(|(_, v)| v)
}

fn rank(path: &str) -> u8 {
    if path == "status" {
        0
    } else if path.starts_with("header ") {
        1
    } else {
        2
    }
}

/// Header names either side has, sorted: both views show the same lines, so a header that
/// only one side sends shows as `<absent>` on the other.
fn header_union(a: &Normalised, b: &Normalised) -> Vec<String> {
    let mut names: Vec<String> = a.headers.keys().chain(b.headers.keys()).cloned().collect();
    names.sort();
    names.dedup();
    names
}

/// Numbers compare by value (`1` and `1.0` are the same JSON number).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn describe(expected: Option<&Value>, actual: Option<&Value>) -> String {
    let show = |v: &Value| match v {
        Value::String(s) => short(&Value::String(s.clone())),
        other => short(other),
    };
    match (expected, actual) {
        (Some(e), Some(a)) => format!("expected {}, found {}", show(e), show(a)),
        (Some(e), None) => format!("missing; expected {}", show(e)),
        (None, Some(a)) => format!("unexpected, found {}", show(a)),
        (None, None) => "missing on both sides".into(),
    }
}

/// One recorded exchange, replayed and judged.
#[derive(Clone, Debug)]
pub struct ExchangeResult {
    /// The recording's path under the recordings folder, with `#N` when it holds several
    /// exchanges.
    pub name: String,
    pub file: PathBuf,
    /// 1-based position in its recording.
    pub position: usize,
    /// `POST / (InspectorService.StartAssessmentRun)`: what was sent, for people.
    pub request_line: String,
    pub comparison: Comparison,
    /// Why no usable answer came back (with `Class::Errored`).
    pub error: Option<String>,
    pub duration: Duration,
    /// The endpoint's answer, when there was one (validated against the service model by
    /// the caller).
    pub actual: Option<crate::exchange::Response>,
    /// Where the answer breaks the recordings' service model (filled by the caller, which
    /// knows the model), one finding each.
    pub model_violations: Vec<String>,
}

impl ExchangeResult {
    pub fn class(&self) -> Class {
        self.comparison.class
    }
}

/// Counts and the two fidelity scores of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Score {
    pub exchanges: usize,
    pub identical: usize,
    pub equivalent: usize,
    pub different: usize,
    pub errored: usize,
    pub fields: usize,
    pub equal_fields: usize,
}

impl Score {
    pub fn of(results: &[ExchangeResult]) -> Score {
        let mut s = Score::default();
        for r in results {
            s.exchanges += 1;
            match r.class() {
                Class::Identical => s.identical += 1,
                Class::Equivalent => s.equivalent += 1,
                Class::Different => s.different += 1,
                Class::Errored => s.errored += 1,
            }
            s.fields += r.comparison.fields;
            s.equal_fields += r.comparison.equal_fields;
        }
        s
    }

    /// The share of exchanges that are identical or equivalent (0.0 when there are none:
    /// nothing compared is no evidence of fidelity).
    pub fn exchange_score(&self) -> f64 {
        ratio(self.identical + self.equivalent, self.exchanges)
    }

    /// The share of compared fields that are equal.
    pub fn field_score(&self) -> f64 {
        ratio(self.equal_fields, self.fields)
    }

    pub fn nothing_differs(&self) -> bool {
        self.exchanges > 0 && self.different == 0 && self.errored == 0
    }

    /// Whether the run passes: nothing differs, or, with a threshold, the exchange score
    /// reaches it.
    pub fn passes(&self, min_fidelity: Option<f64>) -> bool {
        match min_fidelity {
            None => self.nothing_differs(),
            Some(min) => self.exchanges > 0 && self.exchange_score() >= min,
        }
    }
}

/// What the reports are about: the results in run order, and where they came from.
#[derive(Clone, Copy, Debug)]
pub struct CompareReport<'a> {
    pub results: &'a [ExchangeResult],
    /// The endpoint compared (never carries credentials).
    pub endpoint: &'a str,
    /// The recordings folder, as given.
    pub recordings: &'a str,
    /// `--min-fidelity`, when given.
    pub min_fidelity: Option<f64>,
}

impl CompareReport<'_> {
    pub fn score(&self) -> Score {
        Score::of(self.results)
    }
}

fn ratio(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// A score as people read it: `93.0%`, never rounded up to 100% while something differs.
pub fn percent(score: f64) -> String {
    // The epsilon keeps 0.95 (949.999… after the multiplication) from showing as 94.9%.
    let p = (score * 1000.0 + 1e-6).floor() / 10.0;
    format!("{p:.1}%")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Headers;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers.iter().copied().collect::<Headers>(),
            body: body.as_bytes().to_vec(),
        }
    }

    const CT: (&str, &str) = ("content-type", "application/x-amz-json-1.1");

    fn run(e: &Response, a: &Response) -> Comparison {
        compare(e, a, &mut Tokens::new(), &mut Tokens::new())
    }

    #[test]
    fn volatile_headers_leave_an_exchange_identical() {
        let e = response(200, &[CT, ("x-amzn-requestid", "1")], r#"{"a":1}"#);
        let a = response(
            200,
            &[
                ("X-Amzn-RequestId", "2"),
                ("Date", "now"),
                ("Content-Type", "application/x-amz-json-1.1"),
                ("content-length", "7"),
            ],
            r#"{"a":1}"#,
        );
        let c = run(&e, &a);
        assert_eq!(c.class, Class::Identical, "{:?}", c.differences);
        // status, content-type, x-amzn-requestid, body.a
        assert_eq!((c.fields, c.equal_fields), (4, 4));
        assert_eq!(c.diff(), "");
    }

    #[test]
    fn run_ids_key_order_and_spacing_leave_it_equivalent() {
        let e = response(200, &[CT], r#"{"arn":"t/run/0-AAAAAAAA","b":1}"#);
        let a = response(200, &[CT], r#"{ "b": 1.0, "arn": "t/run/0-ZZZZZZZZ" }"#);
        assert_eq!(run(&e, &a).class, Class::Equivalent);
    }

    #[test]
    fn the_same_run_id_twice_must_stay_the_same() {
        let (mut te, mut ta) = (Tokens::new(), Tokens::new());
        let e = response(200, &[CT], r#"{"arn":"t/run/0-AAAAAAAA"}"#);
        let a1 = response(200, &[CT], r#"{"arn":"t/run/0-XXXXXXXX"}"#);
        let a2 = response(200, &[CT], r#"{"arn":"t/run/0-YYYYYYYY"}"#);
        assert_eq!(compare(&e, &a1, &mut te, &mut ta).class, Class::Equivalent);
        let c = compare(&e, &a2, &mut te, &mut ta);
        assert_eq!(c.class, Class::Different);
        assert_eq!(
            c.differences[0].message,
            "expected \"t/run/<run-id-1>\", found \"t/run/<run-id-2>\""
        );
    }

    #[test]
    fn differences_have_paths_in_view_order() {
        let e = response(
            400,
            &[CT, ("x-amzn-requestid", "1")],
            r#"{"__type":"X","errorCode":"A","canRetry":false}"#,
        );
        let a = response(
            500,
            &[
                ("content-type", "application/json"),
                ("x-amzn-errortype", "X"),
            ],
            r#"{"__type":"X","errorCode":"B","extra":true}"#,
        );
        let c = run(&e, &a);
        let paths: Vec<_> = c.differences.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "status",
                "header content-type",
                "header x-amzn-requestid",
                "header x-amzn-errortype",
                "body.canRetry",
                "body.errorCode",
                "body.extra"
            ]
        );
        // status, 3 headers, __type, canRetry, errorCode, extra
        assert_eq!((c.fields, c.equal_fields), (8, 1));
        let d = c.diff();
        assert!(
            d.contains("-status: 400\n") && d.contains("+status: 500\n"),
            "{d}"
        );
        assert!(d.contains("+header x-amzn-errortype: X"), "{d}");
    }

    #[test]
    fn a_body_that_is_not_json_is_one_field() {
        let e = response(200, &[CT], r#"{"a":1,"b":2}"#);
        let a = response(200, &[CT], "<html>oops</html>");
        let c = run(&e, &a);
        let paths: Vec<_> = c.differences.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["body"]);
        assert_eq!((c.fields, c.equal_fields), (3, 2));
    }

    #[test]
    fn scores_and_thresholds() {
        let s = Score {
            exchanges: 43,
            identical: 40,
            equivalent: 0,
            different: 3,
            errored: 0,
            fields: 200,
            equal_fields: 197,
        };
        assert_eq!(percent(s.exchange_score()), "93.0%");
        assert!(!s.passes(None));
        assert!(!s.passes(Some(0.95)));
        assert!(s.passes(Some(0.93)));
        assert_eq!(percent(0.99999), "99.9%");
        assert!(!Score::default().passes(Some(0.0)));
    }
}
