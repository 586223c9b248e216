//! Comparing one JSON value with a pattern: the list of what differs (with JSON paths) and a
//! view of the actual value in which whatever a matcher accepted is replaced by the matcher's
//! token, so that a diff of the two views shows only what really differs.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::pattern::{JsonType, Matcher, Pattern};

/// One thing that differs, at a path like `body.agents[0].agentId` or `header content-type`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    pub path: String,
    pub message: String,
}

/// Exact: members the pattern does not name are differences. Partial: they are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    Exact,
    Partial,
}

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
        .expect("valid regex")
});
static ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("^arn:[a-z0-9-]+:[a-z0-9-]*:[a-z0-9-]*:[0-9]*:.+$").expect("valid regex")
});

impl Matcher {
    /// The stable text that stands for this matcher in views and diffs.
    pub fn token(&self) -> String {
        match self {
            Matcher::Uuid => "<uuid>".into(),
            Matcher::Arn => "<arn>".into(),
            Matcher::AnyString => "<any string>".into(),
            Matcher::Any => "<any>".into(),
            Matcher::Regex(r) => format!("<regex {}>", r.source),
            Matcher::Length { min, max } => format!(
                "<length {}..{}>",
                min.map(|n| n.to_string()).unwrap_or_default(),
                max.map(|n| n.to_string()).unwrap_or_default()
            ),
            Matcher::OneOf(items) => format!(
                "<one of {}>",
                items
                    .iter()
                    .map(|p| compact(&expected_view(p)))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
            Matcher::Type(t) => format!("<{}>", t.name()),
            Matcher::Not(p) => format!("<not {}>", compact(&expected_view(p))),
            Matcher::Each(p) => format!("<each {}>", compact(&expected_view(p))),
            Matcher::AllOf(items) => format!(
                "<all of {}>",
                items
                    .iter()
                    .map(|p| compact(&expected_view(p)))
                    .collect::<Vec<_>>()
                    .join(" & ")
            ),
            Matcher::Literal(v) => compact(v),
        }
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What the pattern looks like in a view: literals as themselves, matchers as tokens.
pub fn expected_view(pattern: &Pattern) -> Value {
    match pattern {
        Pattern::Scalar(v) => v.clone(),
        Pattern::String(s) => Value::String(s.clone()),
        Pattern::Array(items) => Value::Array(items.iter().map(expected_view).collect()),
        Pattern::Object(members) => Value::Object(
            members
                .iter()
                .map(|(k, p)| (k.clone(), expected_view(p)))
                .collect(),
        ),
        Pattern::Matcher(m) => match &**m {
            Matcher::Literal(v) => v.clone(),
            other => Value::String(other.token()),
        },
    }
}

/// Checks `actual` (absent when `None`) against `pattern`. Mismatches are pushed to `out`; the
/// return value is the actual value's view (`None` when absent).
pub fn check(
    pattern: &Pattern,
    actual: Option<&Value>,
    mode: Mode,
    path: &str,
    out: &mut Vec<Mismatch>,
) -> Option<Value> {
    walk(pattern, actual, mode, path, out, &mut Notes::Strict)
}

/// Like `check`, for a response: members an `Exact` pattern does not name are pushed to
/// `notes` instead of `out`, since clients ignore unknown members of a response (Smithy's
/// awsJson1_1 tests; PROTOCOL-NOTES "Clients ignore unknown members in a 200 body"). They stay
/// in the view, which is only shown when something else fails.
pub fn check_response(
    pattern: &Pattern,
    actual: Option<&Value>,
    mode: Mode,
    path: &str,
    out: &mut Vec<Mismatch>,
    notes: &mut Vec<Mismatch>,
) -> Option<Value> {
    walk(pattern, actual, mode, path, out, &mut Notes::To(notes))
}

/// Where members an exact pattern does not name go.
enum Notes<'a> {
    /// They are mismatches (requests, and `check`).
    Strict,
    /// They are notes (responses).
    To(&'a mut Vec<Mismatch>),
}

impl Notes<'_> {
    fn lenient(&self) -> bool {
        matches!(self, Notes::To(_))
    }
}

/// A check inside a matcher (`one_of`, `not`, `each`, `all_of`): only whether it passes counts,
/// so the notes it would give are dropped, but extra members stay harmless in a response.
fn scratch_check(
    pattern: &Pattern,
    actual: &Value,
    mode: Mode,
    path: &str,
    lenient: bool,
) -> Vec<Mismatch> {
    let mut scratch = Vec::new();
    let mut dropped = Vec::new();
    let mut notes = if lenient {
        Notes::To(&mut dropped)
    } else {
        Notes::Strict
    };
    walk(pattern, Some(actual), mode, path, &mut scratch, &mut notes);
    scratch
}

fn walk(
    pattern: &Pattern,
    actual: Option<&Value>,
    mode: Mode,
    path: &str,
    out: &mut Vec<Mismatch>,
    notes: &mut Notes<'_>,
) -> Option<Value> {
    let Some(actual) = actual else {
        // `not` accepts absence (for example `{not: {matches: any}}` = must be absent).
        if let Pattern::Matcher(m) = pattern
            && let Matcher::Not(inner) = &**m
        {
            let mut scratch = Vec::new();
            walk(inner, None, mode, path, &mut scratch, &mut Notes::Strict);
            if !scratch.is_empty() {
                return None;
            }
        }
        out.push(Mismatch {
            path: path.to_owned(),
            message: format!("missing; expected {}", compact(&expected_view(pattern))),
        });
        return None;
    };
    Some(match pattern {
        Pattern::Scalar(expected) => {
            if !same_scalar(expected, actual) {
                out.push(differs(path, &expected_view(pattern), actual));
            }
            actual.clone()
        }
        Pattern::String(expected) => {
            if actual.as_str() != Some(expected) {
                out.push(differs(path, &expected_view(pattern), actual));
            }
            actual.clone()
        }
        Pattern::Array(items) => {
            let Some(actual_items) = actual.as_array() else {
                out.push(differs(path, &expected_view(pattern), actual));
                return Some(actual.clone());
            };
            if actual_items.len() != items.len() {
                out.push(Mismatch {
                    path: path.to_owned(),
                    message: format!(
                        "expected {} items, found {}",
                        items.len(),
                        actual_items.len()
                    ),
                });
            }
            let mut view = Vec::with_capacity(actual_items.len());
            for (i, a) in actual_items.iter().enumerate() {
                match items.get(i) {
                    Some(p) => {
                        view.extend(walk(p, Some(a), mode, &format!("{path}[{i}]"), out, notes))
                    }
                    None => view.push(a.clone()),
                }
            }
            Value::Array(view)
        }
        Pattern::Object(members) => {
            let Some(actual_map) = actual.as_object() else {
                out.push(differs(path, &expected_view(pattern), actual));
                return Some(actual.clone());
            };
            let mut view = Map::new();
            for (key, p) in members {
                let child = join(path, key);
                if let Some(v) = walk(p, actual_map.get(key), mode, &child, out, notes) {
                    view.insert(key.clone(), v);
                }
            }
            if mode == Mode::Exact {
                for (key, v) in actual_map {
                    if !members.iter().any(|(k, _)| k == key) {
                        match notes {
                            Notes::Strict => {
                                out.push(Mismatch {
                                    path: join(path, key),
                                    message: format!("unexpected member, value {}", short(v)),
                                });
                                view.insert(key.clone(), v.clone());
                            }
                            Notes::To(notes) => {
                                notes.push(Mismatch {
                                    path: join(path, key),
                                    message: format!(
                                        "member not in the expectation (clients ignore it), value {}",
                                        short(v)
                                    ),
                                });
                                // Kept in the view: when something else fails, what the
                                // endpoint said (an error message, say) is the best context.
                                view.insert(key.clone(), v.clone());
                            }
                        }
                    }
                }
            }
            Value::Object(view)
        }
        Pattern::Matcher(m) => match accepts(m, actual, mode, path, notes.lenient()) {
            Ok(()) => Value::String(m.token()),
            Err(message) => {
                out.push(Mismatch {
                    path: path.to_owned(),
                    message,
                });
                actual.clone()
            }
        },
    })
}

/// Numbers compare by value (`1` and `1.0` are the same number in JSON).
fn same_scalar(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
        _ => expected == actual,
    }
}

fn accepts(
    m: &Matcher,
    actual: &Value,
    mode: Mode,
    path: &str,
    lenient: bool,
) -> Result<(), String> {
    let want = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("expected {what}, found {}", short(actual)))
        }
    };
    match m {
        Matcher::Uuid => want(actual.as_str().is_some_and(|s| UUID.is_match(s)), "a UUID"),
        Matcher::Arn => want(actual.as_str().is_some_and(|s| ARN.is_match(s)), "an ARN"),
        Matcher::AnyString => want(actual.is_string(), "a string"),
        Matcher::Any => Ok(()),
        Matcher::Regex(r) => want(
            actual.as_str().is_some_and(|s| r.is_match(s)),
            &format!("a string matching /{}/", r.source),
        ),
        Matcher::Length { min, max } => {
            let len = match actual {
                // Lengths of strings count Unicode scalar values, as Smithy's @length does.
                Value::String(s) => s.chars().count(),
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                _ => {
                    return Err(format!(
                        "expected something with a length, found {}",
                        short(actual)
                    ));
                }
            };
            let ok = min.is_none_or(|m| len >= m) && max.is_none_or(|m| len <= m);
            if ok {
                Ok(())
            } else {
                Err(format!("expected length {}, found length {len}", m.token()))
            }
        }
        Matcher::OneOf(items) => {
            let ok = items
                .iter()
                .any(|p| scratch_check(p, actual, mode, path, lenient).is_empty());
            want(ok, &m.token())
        }
        Matcher::Type(t) => want(t.accepts(actual), &format!("a {}", t.name())),
        Matcher::Not(p) => {
            let scratch = scratch_check(p, actual, mode, path, lenient);
            want(!scratch.is_empty(), &m.token())
        }
        Matcher::Each(p) => {
            let Some(items) = actual.as_array() else {
                return want(false, "a list");
            };
            for (i, item) in items.iter().enumerate() {
                let scratch = scratch_check(p, item, mode, &format!("{path}[{i}]"), lenient);
                if let Some(first) = scratch.first() {
                    return Err(format!("item [{i}]: {}: {}", first.path, first.message));
                }
            }
            Ok(())
        }
        Matcher::AllOf(items) => {
            for p in items {
                let scratch = scratch_check(p, actual, mode, path, lenient);
                if let Some(first) = scratch.first() {
                    return Err(first.message.clone());
                }
            }
            Ok(())
        }
        Matcher::Literal(v) => want(same_literal(v, actual), &short(v)),
    }
}

fn same_literal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_literal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_literal(v, w)))
        }
        _ => same_scalar(a, b),
    }
}

fn differs(path: &str, expected: &Value, actual: &Value) -> Mismatch {
    let kind = |v: &Value| JsonType::of(v).name();
    let message = if kind(expected) != kind(actual) && !(expected.is_number() && actual.is_number())
    {
        format!(
            "expected {} {}, found {}",
            kind(expected),
            short(expected),
            short(actual)
        )
    } else {
        format!("expected {}, found {}", short(expected), short(actual))
    };
    Mismatch {
        path: path.to_owned(),
        message,
    }
}

/// A value in a message, cut to a readable length.
pub fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 120 {
        let cut: String = text.chars().take(117).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn join(path: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if simple {
        format!("{path}.{key}")
    } else {
        format!("{path}[{key:?}]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(p: Value, a: Value, mode: Mode) -> (Vec<Mismatch>, Option<Value>) {
        let p = Pattern::parse(&p).unwrap();
        let mut out = Vec::new();
        let view = check(&p, Some(&a), mode, "body", &mut out);
        (out, view)
    }

    #[test]
    fn matched_values_become_tokens() {
        let (m, view) = run(
            json!({"id": {"matches": "uuid"}, "n": 1}),
            json!({"id": "ed349455-f76d-11e5-b473-ed8493878c40", "n": 1.0}),
            Mode::Exact,
        );
        assert!(m.is_empty(), "{m:?}");
        assert_eq!(view.unwrap(), json!({"id": "<uuid>", "n": 1.0}));
    }

    #[test]
    fn exact_reports_missing_and_unexpected_members_partial_ignores_extras() {
        let (m, _) = run(
            json!({"a": 1, "b": 2}),
            json!({"a": 1, "c": 3}),
            Mode::Exact,
        );
        let paths: Vec<_> = m.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["body.b", "body.c"]);
        let (m, view) = run(json!({"a": 1}), json!({"a": 1, "c": 3}), Mode::Partial);
        assert!(m.is_empty());
        assert_eq!(view.unwrap(), json!({"a": 1}));
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let (m, _) = run(json!({"length": {"max": 3}}), json!("ééé"), Mode::Exact);
        assert!(m.is_empty());
        let (m, _) = run(json!({"length": {"min": 1}}), json!(""), Mode::Exact);
        assert_eq!(m[0].message, "expected length <length 1..>, found length 0");
    }

    #[test]
    fn not_and_one_of() {
        let (m, _) = run(json!({"not": "x"}), json!("y"), Mode::Exact);
        assert!(m.is_empty());
        let (m, _) = run(json!({"one_of": [400, 503]}), json!(500), Mode::Exact);
        assert_eq!(m[0].message, "expected <one of 400 | 503>, found 500");
        // `not any` means absent.
        let p = Pattern::parse(&json!({"not": {"matches": "any"}})).unwrap();
        let mut out = Vec::new();
        check(&p, None, Mode::Exact, "body.x", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn each_and_all_of_check_every_item() {
        let p = json!({"all_of": [{"length": {"min": 1, "max": 2}}, {"each": {"id": {"matches": "any-string"}}}]});
        let (m, view) = run(p.clone(), json!([{"id": "a"}, {"id": "b"}]), Mode::Exact);
        assert!(m.is_empty(), "{m:?}");
        assert!(
            view.unwrap()
                .as_str()
                .unwrap()
                .starts_with("<all of <length 1..2> & <each")
        );
        let (m, _) = run(p.clone(), json!([{"id": "a"}, {"id": 3}]), Mode::Exact);
        assert_eq!(
            m[0].message,
            "item [1]: body[1].id: expected a string, found 3"
        );
        let (m, _) = run(p, json!([]), Mode::Exact);
        assert_eq!(
            m[0].message,
            "expected length <length 1..2>, found length 0"
        );
    }

    #[test]
    fn type_mismatches_say_both_types() {
        let (m, _) = run(
            json!({"canRetry": false}),
            json!({"canRetry": "false"}),
            Mode::Exact,
        );
        assert_eq!(m[0].message, "expected boolean false, found \"false\"");
    }
}
