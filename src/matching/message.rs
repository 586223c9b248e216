//! Expectations on a whole HTTP message (start line, headers, body, error type) and their
//! evaluation into a `Verdict`: the mismatches, and two normalised text views (expected and
//! actual) whose diff shows exactly what differs.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::check::{Mismatch, Mode, check, check_response, expected_view, short};
use super::error_type;
use super::pattern::Pattern;
use crate::exchange::{BodyPreview, Headers};

/// One accepted status: a code, or a class (`4xx` is 400 to 499).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum StatusSpec {
    Code(u16),
    /// The hundreds digit: `Class(4)` is `4xx`.
    Class(u8),
}

impl StatusSpec {
    pub fn accepts(self, code: u16) -> bool {
        match self {
            StatusSpec::Code(c) => c == code,
            StatusSpec::Class(h) => code / 100 == u16::from(h),
        }
    }

    /// `4xx` and the like (case-insensitive `x`); `None` for anything else.
    pub fn parse_class(text: &str) -> Option<StatusSpec> {
        let b = text.trim().as_bytes();
        (b.len() == 3
            && (b'1'..=b'5').contains(&b[0])
            && b[1].eq_ignore_ascii_case(&b'x')
            && b[2].eq_ignore_ascii_case(&b'x'))
        .then(|| StatusSpec::Class(b[0] - b'0'))
    }
}

impl std::fmt::Display for StatusSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatusSpec::Code(c) => write!(f, "{c}"),
            StatusSpec::Class(h) => write!(f, "{h}xx"),
        }
    }
}

/// What the first line must say.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum StartExpect {
    /// A response: one of these status codes or classes.
    Status(#[serde(deserialize_with = "super::exact_vec")] Vec<StatusSpec>),
    /// A request: this method (compared case-insensitively) and path.
    Request {
        method: String,
        path: String,
    },
    Any,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum BodyExpect {
    /// The body parsed as JSON, checked against a pattern.
    Json { pattern: Pattern, mode: Mode },
    /// The body's exact bytes.
    Raw(Vec<u8>),
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ErrorExpect {
    /// Accepted error types (bare shape names).
    #[serde(deserialize_with = "super::exact_vec")]
    pub types: Vec<String>,
    /// Body members, checked partially.
    #[serde(deserialize_with = "super::exact_vec")]
    pub members: Vec<(String, Pattern)>,
}

/// Everything expected of one message. Header names are lower-case.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MessageExpect {
    pub start: StartExpect,
    #[serde(deserialize_with = "super::exact_vec")]
    pub headers: Vec<(String, Pattern)>,
    #[serde(deserialize_with = "super::exact_vec")]
    pub absent_headers: Vec<String>,
    pub body: Option<BodyExpect>,
    pub error: Option<ErrorExpect>,
}

#[derive(Clone, Copy, Debug)]
pub enum Start<'a> {
    Status(u16),
    Request { method: &'a str, path: &'a str },
}

/// A message as observed.
#[derive(Clone, Copy, Debug)]
pub struct Observed<'a> {
    pub start: Start<'a>,
    pub headers: &'a Headers,
    pub body: &'a [u8],
}

/// The result of an evaluation. `expected` and `actual` are normalised views: keys sorted,
/// header names lower-cased, values a matcher accepted replaced by its token.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    pub mismatches: Vec<Mismatch>,
    /// Harmless differences of a response, which every client reads alike: a parameter on
    /// the Content-Type, members an exact body does not name. Never decide `passed()`; always
    /// empty for a request (an extra member in a request is a different request).
    pub notes: Vec<Mismatch>,
    pub expected: String,
    pub actual: String,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }

    /// The unified diff of the two views.
    pub fn diff(&self) -> String {
        crate::diff::unified(&self.expected, &self.actual)
    }
}

pub fn evaluate(expect: &MessageExpect, observed: &Observed<'_>) -> Verdict {
    // Most evaluations pass (every request the replay answers, every passing case), and only a
    // failure shows the text views: check first without them, render them only on failure.
    let quick = evaluate_with(expect, observed, false);
    if quick.passed() {
        return quick;
    }
    evaluate_with(expect, observed, true)
}

/// The mismatches and notes alone, without the text views (`expected`, `actual` stay empty):
/// for callers that only rank or count, such as the replay's scan for the closest recording.
pub fn evaluate_quick(expect: &MessageExpect, observed: &Observed<'_>) -> Verdict {
    evaluate_with(expect, observed, false)
}

fn evaluate_with(expect: &MessageExpect, observed: &Observed<'_>, render: bool) -> Verdict {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut exp = String::new();
    let mut act = String::new();
    let is_response = matches!(observed.start, Start::Status(_));

    // Start line.
    match (&expect.start, observed.start) {
        (StartExpect::Status(codes), Start::Status(code)) => {
            let accepted = codes.is_empty() || codes.iter().any(|c| c.accepts(code));
            // Written out only for a view or a mismatch: a passing check needs neither.
            if render || !accepted {
                let want = codes
                    .iter()
                    .map(StatusSpec::to_string)
                    .collect::<Vec<_>>()
                    .join(" | ");
                let _ = writeln!(exp, "status: {want}");
                if accepted {
                    let _ = writeln!(act, "status: {want}");
                } else {
                    let _ = writeln!(act, "status: {code}");
                    out.push(Mismatch {
                        path: "status".into(),
                        message: format!("expected {want}, found {code}"),
                    });
                }
            }
        }
        (StartExpect::Request { method, path }, Start::Request { method: m, path: p }) => {
            let _ = writeln!(exp, "{method} {path}");
            let _ = writeln!(act, "{m} {p}");
            if !method.eq_ignore_ascii_case(m) {
                out.push(Mismatch {
                    path: "method".into(),
                    message: format!("expected {method}, found {m}"),
                });
            }
            if path != p {
                out.push(Mismatch {
                    path: "path".into(),
                    message: format!("expected {path}, found {p}"),
                });
            }
        }
        _ => {}
    }

    // Headers: a case-insensitive subset, then the ones that must be absent.
    let mut header_lines: Vec<(String, String, String)> = Vec::new();
    for (name, pattern) in &expect.headers {
        let actual = observed
            .headers
            .get(name)
            .map(|v| Value::String(v.to_owned()));
        let path = format!("header {name}");
        let view = match (pattern, actual.as_ref()) {
            // A response's media type is what clients read: `; charset=utf-8` or another
            // case changes nothing for them (they parse the body as JSON either way).
            (Pattern::String(want), Some(Value::String(got)))
                if is_response
                    && name == "content-type"
                    && want != got
                    && same_media_type(want, got) =>
            {
                notes.push(Mismatch {
                    path: path.clone(),
                    message: format!(
                        "{got:?} has the expected media type {want:?} (parameters and case ignored)"
                    ),
                });
                Some(Value::String(want.clone()))
            }
            _ => check(pattern, actual.as_ref(), Mode::Exact, &path, &mut out),
        };
        if !render {
            continue;
        }
        let e = format!("{name}: {}", plain(&expected_view(pattern)));
        let a = match view {
            Some(v) => format!("{name}: {}", plain(&v)),
            None => format!("{name}: <absent>"),
        };
        header_lines.push((name.clone(), e, a));
    }
    for name in &expect.absent_headers {
        let e = format!("{name}: <absent>");
        let a = match observed.headers.get(name) {
            Some(v) => {
                out.push(Mismatch {
                    path: format!("header {name}"),
                    message: format!("expected no such header, found {v:?}"),
                });
                format!("{name}: {v}")
            }
            None => e.clone(),
        };
        header_lines.push((name.clone(), e, a));
    }
    header_lines.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, e, a) in header_lines {
        let _ = writeln!(exp, "header {e}");
        let _ = writeln!(act, "header {a}");
    }

    // The body, parsed once.
    let parsed: Option<Value> = serde_json::from_slice(observed.body).ok();

    if let Some(error) = &expect.error {
        let readings = error_type::read(observed.headers, parsed.as_ref());
        let want = error.types.join(" | ");
        for (who, reading) in [
            ("botocore (body __type)", &readings.botocore),
            ("aws-sdk-rust/js (header, code, __type)", &readings.sdk),
        ] {
            let _ = writeln!(exp, "error type as {who}: {want}");
            match reading {
                Some(t) if error.types.iter().any(|w| w == t) => {
                    let _ = writeln!(act, "error type as {who}: {want}");
                }
                other => {
                    let found = other.as_deref().unwrap_or("<none>");
                    let _ = writeln!(act, "error type as {who}: {found}");
                    out.push(Mismatch {
                        path: format!("error type as {who}"),
                        message: format!("expected {want}, found {found}"),
                    });
                }
            }
        }
        let mut exp_members = Map::new();
        let mut act_members = Map::new();
        for (name, pattern) in &error.members {
            // Clients accept `Message` for `message`.
            let key = if name == "message"
                && parsed.as_ref().is_some_and(|b| b.get("message").is_none())
                && parsed.as_ref().is_some_and(|b| b.get("Message").is_some())
            {
                "Message"
            } else {
                name.as_str()
            };
            let actual = parsed.as_ref().and_then(|b| b.get(key));
            let path = format!("body.{key}");
            if render {
                exp_members.insert(name.clone(), expected_view(pattern));
            }
            if let Some(v) = check(pattern, actual, Mode::Partial, &path, &mut out) {
                act_members.insert(name.clone(), v);
            }
        }
        if render && !error.members.is_empty() {
            let _ = writeln!(
                exp,
                "error members: {}",
                indent(&pretty(&Value::Object(exp_members)))
            );
            let _ = writeln!(
                act,
                "error members: {}",
                indent(&pretty(&Value::Object(act_members)))
            );
        }
    }

    match &expect.body {
        None => {}
        Some(BodyExpect::Raw(bytes)) => {
            let _ = writeln!(exp, "body: {}", indent(&BodyPreview(bytes).to_string()));
            let _ = writeln!(
                act,
                "body: {}",
                indent(&BodyPreview(observed.body).to_string())
            );
            if bytes.as_slice() != observed.body {
                out.push(Mismatch {
                    path: "body".into(),
                    message: format!(
                        "expected {} bytes {:?}, found {} bytes {:?}",
                        bytes.len(),
                        BodyPreview(bytes).to_string(),
                        observed.body.len(),
                        BodyPreview(observed.body).to_string()
                    ),
                });
            }
        }
        Some(BodyExpect::Json { pattern, mode }) => {
            if render {
                let _ = writeln!(exp, "body: {}", indent(&pretty(&expected_view(pattern))));
            }
            match &parsed {
                Some(value) => {
                    let view = if is_response {
                        check_response(pattern, Some(value), *mode, "body", &mut out, &mut notes)
                    } else {
                        check(pattern, Some(value), *mode, "body", &mut out)
                    };
                    if render {
                        let view = view.unwrap_or(Value::Null);
                        let _ = writeln!(act, "body: {}", indent(&pretty(&view)));
                    }
                }
                None => {
                    let preview = BodyPreview(observed.body).to_string();
                    let _ = writeln!(act, "body (not JSON): {}", indent(&preview));
                    out.push(Mismatch {
                        path: "body".into(),
                        message: if observed.body.is_empty() {
                            "expected a JSON body, found an empty body".into()
                        } else {
                            format!(
                                "expected a JSON body, found {}",
                                short(&Value::String(preview))
                            )
                        },
                    });
                }
            }
        }
    }

    Verdict {
        mismatches: out,
        notes,
        expected: exp,
        actual: act,
    }
}

/// Same `type/subtype`, compared case-insensitively, parameters (`; charset=...`) ignored.
fn same_media_type(a: &str, b: &str) -> bool {
    let media = |s: &str| {
        s.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let (a, b) = (media(a), media(b));
    !a.is_empty() && a == b
}

/// Header values and other single values: strings without quotes.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Pretty JSON with keys sorted at every level, whatever order the map keeps.
pub(crate) fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(&sorted(v)).unwrap_or_default()
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<_> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&map[k]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Multi-line text continued under a `label:` line.
fn indent(text: &str) -> String {
    text.replace('\n', "\n  ")
}

impl MessageExpect {
    /// The same expectation with variables filled in and regexes compiled.
    pub fn resolve(&self, vars: &crate::vars::Vars) -> Result<MessageExpect, super::ResolveError> {
        let resolve_all =
            |items: &[(String, Pattern)]| -> Result<Vec<(String, Pattern)>, super::ResolveError> {
                items
                    .iter()
                    .map(|(n, p)| Ok((n.clone(), p.resolve(vars)?)))
                    .collect()
            };
        Ok(MessageExpect {
            start: self.start.clone(),
            headers: resolve_all(&self.headers)?,
            absent_headers: self.absent_headers.clone(),
            body: match &self.body {
                None => None,
                Some(BodyExpect::Raw(b)) => Some(BodyExpect::Raw(b.clone())),
                Some(BodyExpect::Json { pattern, mode }) => Some(BodyExpect::Json {
                    pattern: pattern.resolve(vars)?,
                    mode: *mode,
                }),
            },
            error: match &self.error {
                None => None,
                Some(e) => Some(ErrorExpect {
                    types: e.types.clone(),
                    members: resolve_all(&e.members)?,
                }),
            },
        })
    }

    /// Every variable the expectation uses.
    pub fn var_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (_, p) in &self.headers {
            p.var_names(&mut out);
        }
        if let Some(BodyExpect::Json { pattern, .. }) = &self.body {
            pattern.var_names(&mut out);
        }
        if let Some(e) = &self.error {
            for (_, p) in &e.members {
                p.var_names(&mut out);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response_expect() -> MessageExpect {
        MessageExpect {
            start: StartExpect::Status(vec![StatusSpec::Code(400)]),
            headers: vec![(
                "x-amzn-requestid".into(),
                Pattern::parse(&json!({"matches": "uuid"})).unwrap(),
            )],
            absent_headers: vec![],
            body: None,
            error: Some(ErrorExpect {
                types: vec!["NoSuchEntityException".into()],
                members: vec![
                    (
                        "errorCode".into(),
                        Pattern::parse(&json!("ASSESSMENT_TEMPLATE_DOES_NOT_EXIST")).unwrap(),
                    ),
                    ("canRetry".into(), Pattern::parse(&json!(false)).unwrap()),
                    (
                        "message".into(),
                        Pattern::parse(&json!({"matches": "any-string"})).unwrap(),
                    ),
                ],
            }),
        }
    }

    #[test]
    fn a_right_error_passes_and_a_missing_type_fails_for_botocore_only() {
        let headers: Headers = [("x-amzn-RequestId", "ed349455-f76d-11e5-b473-ed8493878c40")]
            .into_iter()
            .collect();
        let body = br#"{"__type":"NoSuchEntityException","errorCode":"ASSESSMENT_TEMPLATE_DOES_NOT_EXIST","canRetry":false,"Message":"m"}"#;
        let obs = Observed {
            start: Start::Status(400),
            headers: &headers,
            body,
        };
        let v = evaluate(&response_expect(), &obs);
        assert!(v.passed(), "{:?}", v.mismatches);
        assert_eq!(v.expected, v.actual);

        let mut headers = headers;
        headers.append("x-amzn-errortype", "NoSuchEntityException");
        let body =
            br#"{"errorCode":"ASSESSMENT_TEMPLATE_DOES_NOT_EXIST","canRetry":false,"message":"m"}"#;
        let obs = Observed {
            start: Start::Status(400),
            headers: &headers,
            body,
        };
        let v = evaluate(&response_expect(), &obs);
        let paths: Vec<_> = v.mismatches.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["error type as botocore (body __type)"]);
        assert!(
            v.diff()
                .contains("+error type as botocore (body __type): <none>"),
            "{}",
            v.diff()
        );
    }

    #[test]
    fn html_bodies_are_reported_not_parsed() {
        let mut e = response_expect();
        e.error = None;
        e.body = Some(BodyExpect::Json {
            pattern: Pattern::parse(&json!({})).unwrap(),
            mode: Mode::Exact,
        });
        let obs = Observed {
            start: Start::Status(500),
            headers: &Headers::new(),
            body: b"<html>oops</html>",
        };
        let v = evaluate(&e, &obs);
        let paths: Vec<_> = v.mismatches.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["status", "header x-amzn-requestid", "body"]);
        assert!(v.actual.contains("body (not JSON): <html>oops</html>"));
    }
}

#[cfg(test)]
mod harmless_tests {
    use super::*;
    use serde_json::json;

    fn ok_expect() -> MessageExpect {
        MessageExpect {
            start: StartExpect::Status(vec![StatusSpec::Code(200)]),
            headers: vec![(
                "content-type".into(),
                Pattern::String("application/x-amz-json-1.1".into()),
            )],
            absent_headers: vec![],
            body: Some(BodyExpect::Json {
                pattern: Pattern::parse(&json!({"assessmentRunArn": {"matches": "arn"}})).unwrap(),
                mode: Mode::Exact,
            }),
            error: None,
        }
    }

    const BODY: &[u8] = br#"{ "conformExtra": {"nested": true},
        "assessmentRunArn": "arn:aws:inspector:us-west-2:123456789012:target/0-a/template/0-b/run/0-c" }"#;

    #[test]
    fn a_charset_and_an_unknown_member_are_notes_of_a_response() {
        let headers: Headers = [("content-type", "Application/X-Amz-Json-1.1; charset=utf-8")]
            .into_iter()
            .collect();
        let v = evaluate(
            &ok_expect(),
            &Observed {
                start: Start::Status(200),
                headers: &headers,
                body: BODY,
            },
        );
        assert!(v.passed(), "{:?}", v.mismatches);
        let paths: Vec<_> = v.notes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(paths, ["header content-type", "body.conformExtra"]);
        assert!(
            v.notes[0].message.contains("charset=utf-8"),
            "{:?}",
            v.notes
        );
    }

    #[test]
    fn the_same_differences_in_a_request_are_mismatches() {
        let mut e = ok_expect();
        e.start = StartExpect::Request {
            method: "POST".into(),
            path: "/".into(),
        };
        let headers: Headers = [("content-type", "application/x-amz-json-1.1; charset=utf-8")]
            .into_iter()
            .collect();
        let v = evaluate(
            &e,
            &Observed {
                start: Start::Request {
                    method: "POST",
                    path: "/",
                },
                headers: &headers,
                body: BODY,
            },
        );
        assert!(v.notes.is_empty());
        let paths: Vec<_> = v.mismatches.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["header content-type", "body.conformExtra"]);
    }

    #[test]
    fn another_media_type_is_still_a_mismatch() {
        let headers: Headers = [("content-type", "application/json; charset=utf-8")]
            .into_iter()
            .collect();
        let v = evaluate(
            &ok_expect(),
            &Observed {
                start: Start::Status(200),
                headers: &headers,
                body: BODY,
            },
        );
        let paths: Vec<_> = v.mismatches.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["header content-type"]);
        // The extra member stays a note, shown in the diff as context only.
        assert_eq!(v.notes.len(), 1);
        assert!(v.diff().contains("+    \"conformExtra\""), "{}", v.diff());
    }

    #[test]
    fn unknown_members_inside_matchers_are_harmless_too() {
        let mut e = ok_expect();
        e.headers.clear();
        e.body = Some(BodyExpect::Json {
            pattern: Pattern::parse(&json!({"items": {"each": {"id": {"type": "string"}}}}))
                .unwrap(),
            mode: Mode::Exact,
        });
        let none = Headers::new();
        let obs = |start| Observed {
            start,
            headers: &none,
            body: br#"{"items":[{"id":"a","extra":1}]}"#,
        };
        assert!(evaluate(&e, &obs(Start::Status(200))).passed());
        let request = Start::Request {
            method: "POST",
            path: "/",
        };
        e.start = StartExpect::Any;
        assert!(!evaluate(&e, &obs(request)).passed());
    }

    #[test]
    fn status_classes_accept_their_hundred_only() {
        let class = StatusSpec::parse_class("4xx").unwrap();
        assert_eq!(class, StatusSpec::Class(4));
        assert_eq!(StatusSpec::parse_class("5XX"), Some(StatusSpec::Class(5)));
        assert_eq!(StatusSpec::parse_class("4yy"), None);
        assert_eq!(StatusSpec::parse_class("6xx"), None);
        assert!(class.accepts(400) && class.accepts(499));
        assert!(!class.accepts(500) && !class.accepts(399));
        let e = MessageExpect {
            start: StartExpect::Status(vec![class, StatusSpec::Code(503)]),
            headers: vec![],
            absent_headers: vec![],
            body: None,
            error: None,
        };
        let at = |code| {
            evaluate(
                &e,
                &Observed {
                    start: Start::Status(code),
                    headers: &Headers::new(),
                    body: b"",
                },
            )
        };
        assert!(at(413).passed() && at(503).passed());
        let v = at(500);
        assert_eq!(v.mismatches[0].message, "expected 4xx | 503, found 500");
    }
}
