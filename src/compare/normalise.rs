//! Normalising a response for `conform compare`, so that two answers that differ only in what
//! varies per call (request ids, dates, run ids, UUIDs) compare equal. Pure: no I/O.
//!
//! The rule, written down once:
//! - **Volatile headers** ([`VOLATILE_RESPONSE_HEADERS`]: request ids, `date`, and what the
//!   connection decides, such as `content-length`) are removed before the byte-for-byte check
//!   that makes an exchange `identical`.
//! - **Compared headers** ([`COMPARED_HEADERS`]) are the only ones the normalised comparison
//!   looks at, names lower-cased: `content-type` and `x-amzn-errortype` by value (as sent,
//!   trimmed: both are read by clients), `x-amzn-requestid` by presence only (its value is new
//!   on every call, but clients and support cases rely on it being there).
//! - **Bodies** that parse as JSON are compared as values, keys sorted; every string has its run
//!   ids (`/run/0-XXXXXXXX`) and UUIDs replaced by tokens. Other bodies are compared as text
//!   with the same replacements (bytes when not UTF-8).
//! - **Tokens** are handed out per side and per recording, in the order values are met, the
//!   same token for the same value: a run id returned twice in a sequence gets the same token
//!   twice, so an endpoint that returns two different ids there is caught. Scoping tokens to
//!   one recording keeps one difference from renumbering every later exchange.
//!
//! It must not decide anything: `fidelity.rs` does, with the fields this module lists.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::exchange::{BodyPreview, Response};

/// Headers left out of the byte-for-byte comparison: they vary per call or per connection.
pub const VOLATILE_RESPONSE_HEADERS: &[&str] = &[
    "x-amzn-requestid",
    "x-amz-request-id",
    "x-amz-id-2",
    "date",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "server",
    "via",
    "x-cache",
    "x-amz-cf-id",
    "x-amz-cf-pop",
];

/// The headers the normalised comparison looks at, each one field of the score.
pub const COMPARED_HEADERS: &[&str] = &["content-type", "x-amzn-errortype", "x-amzn-requestid"];

/// Compared headers whose value varies per call: only their presence counts.
pub const PRESENCE_ONLY_HEADERS: &[&str] = &["x-amzn-requestid"];

/// What a presence-only header's value becomes.
pub const PRESENT: &str = "<present>";

static RUN_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/run/0-[A-Za-z0-9]+").expect("valid regex"));
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
        .expect("valid regex")
});

/// Hands out `<kind-N>` tokens: the same token for the same value, numbered in order of first
/// sight. One `Tokens` per side and per recording.
#[derive(Debug, Default)]
pub struct Tokens {
    seen: HashMap<(&'static str, String), String>,
    counts: HashMap<&'static str, usize>,
}

impl Tokens {
    pub fn new() -> Tokens {
        Tokens::default()
    }

    fn token(&mut self, kind: &'static str, value: &str) -> String {
        if let Some(t) = self.seen.get(&(kind, value.to_owned())) {
            return t.clone();
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        let t = format!("<{kind}-{n}>");
        self.seen.insert((kind, value.to_owned()), t.clone());
        t
    }

    /// Replaces run ids and UUIDs inside a text by their tokens.
    pub fn scrub(&mut self, text: &str) -> String {
        // Run ids first: a run id is never a UUID, but a UUID inside an ARN path would
        // otherwise be cut by the run-id pattern.
        let text = RUN_ID.replace_all(text, |c: &regex::Captures<'_>| {
            format!("/run/{}", self.token("run-id", &c[0]))
        });
        UUID.replace_all(&text, |c: &regex::Captures<'_>| self.token("uuid", &c[0]))
            .into_owned()
    }

    fn scrub_json(&mut self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.scrub(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.scrub_json(v)).collect()),
            Value::Object(map) => {
                // Sorted keys, so that tokens are numbered the same whatever order the endpoint
                // wrote the members in.
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    let v = self.scrub_json(&map[k]);
                    out.insert(k.clone(), v);
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }
}

/// A normalised body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// Parsed JSON, strings tokenised.
    Json(Value),
    /// Anything else: the text tokenised (the raw bytes when not UTF-8).
    Raw(Vec<u8>),
}

/// A response reduced to what the comparison looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalised {
    pub status: u16,
    /// Compared headers present in the response, name lower-cased; presence-only ones hold
    /// [`PRESENT`].
    pub headers: BTreeMap<String, String>,
    pub body: Body,
}

pub fn normalise(response: &Response, tokens: &mut Tokens) -> Normalised {
    let mut headers = BTreeMap::new();
    for name in COMPARED_HEADERS {
        if let Some(value) = response.headers.get(name) {
            let value = if PRESENCE_ONLY_HEADERS.contains(name) {
                PRESENT.to_owned()
            } else {
                value.trim().to_owned()
            };
            headers.insert((*name).to_owned(), value);
        }
    }
    let body = match serde_json::from_slice::<Value>(&response.body) {
        Ok(value) => Body::Json(tokens.scrub_json(&value)),
        Err(_) => match std::str::from_utf8(&response.body) {
            Ok(text) => Body::Raw(tokens.scrub(text).into_bytes()),
            Err(_) => Body::Raw(response.body.clone()),
        },
    };
    Normalised {
        status: response.status,
        headers,
        body,
    }
}

/// The headers left for the byte-for-byte check: every header but the volatile ones, names
/// lower-cased, sorted (order carries no meaning in HTTP between different names).
pub fn stable_headers(response: &Response) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = response
        .headers
        .iter()
        .filter(|(n, _)| !VOLATILE_RESPONSE_HEADERS.contains(&n.to_ascii_lowercase().as_str()))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
        .collect();
    out.sort();
    out
}

/// Every leaf of a JSON value with its path (`body.a.b`, `body.items[0]`, `body["odd key"]`),
/// keys in sorted order. Empty objects and lists are leaves: `{}` and `[]` are values too.
pub fn leaves(value: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for k in keys {
                leaves(&map[k], &join(path, k), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, &format!("{path}[{i}]"), out);
            }
        }
        other => out.push((path.to_owned(), other.clone())),
    }
}

/// The path of a member: `.name` when the name is plain, `["name"]` otherwise (the same
/// spelling `conform run` uses in its mismatches).
fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{key:?}]")
    }
}

impl Normalised {
    /// The text view a diff is made of: status, then the headers named (absent ones say so),
    /// then the body pretty-printed with sorted keys.
    pub fn view(&self, header_names: &[String]) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "status: {}", self.status);
        for name in header_names {
            let value = self.headers.get(name).map(String::as_str);
            let _ = writeln!(out, "header {name}: {}", value.unwrap_or("<absent>"));
        }
        match &self.body {
            Body::Json(v) => {
                let text = serde_json::to_string_pretty(v).unwrap_or_default();
                let _ = writeln!(out, "body: {}", text.replace('\n', "\n  "));
            }
            Body::Raw(bytes) if bytes.is_empty() => {
                let _ = writeln!(out, "body: <empty>");
            }
            Body::Raw(bytes) => {
                let text = BodyPreview(bytes).to_string();
                let _ = writeln!(out, "body (not JSON): {}", text.replace('\n', "\n  "));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Headers;
    use serde_json::json;

    fn response(headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status: 200,
            headers: headers.iter().copied().collect::<Headers>(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn same_value_same_token_per_kind() {
        let mut t = Tokens::new();
        let a = t.scrub("arn:x/run/0-AAAAAAAA and arn:x/run/0-BBBBBBBB and /run/0-AAAAAAAA");
        assert_eq!(
            a,
            "arn:x/run/<run-id-1> and arn:x/run/<run-id-2> and /run/<run-id-1>"
        );
        let b = t.scrub("id ed349455-f76d-11e5-b473-ed8493878c40, /run/0-BBBBBBBB");
        assert_eq!(b, "id <uuid-1>, /run/<run-id-2>");
    }

    #[test]
    fn headers_lower_cased_request_id_by_presence_body_sorted() {
        let r = response(
            &[
                ("Content-Type", " application/x-amz-json-1.1 "),
                ("X-Amzn-RequestId", "ed349455-f76d-11e5-b473-ed8493878c40"),
                ("Date", "Thu, 31 Mar 2016 18:25:22 GMT"),
            ],
            r#"{"b":"/run/0-jOoroxyY","a":1}"#,
        );
        let n = normalise(&r, &mut Tokens::new());
        assert_eq!(n.headers["content-type"], "application/x-amz-json-1.1");
        assert_eq!(n.headers["x-amzn-requestid"], PRESENT);
        assert!(!n.headers.contains_key("date"));
        assert_eq!(n.body, Body::Json(json!({"a": 1, "b": "/run/<run-id-1>"})));
        let names = vec!["content-type".to_owned(), "x-amzn-errortype".to_owned()];
        assert_eq!(
            n.view(&names),
            "status: 200\nheader content-type: application/x-amz-json-1.1\n\
             header x-amzn-errortype: <absent>\nbody: {\n    \"a\": 1,\n    \"b\": \"/run/<run-id-1>\"\n  }\n"
        );
        assert_eq!(
            stable_headers(&r),
            [(
                "content-type".to_owned(),
                " application/x-amz-json-1.1 ".to_owned()
            )]
        );
    }

    #[test]
    fn leaves_have_paths_and_empty_containers_are_leaves() {
        let mut out = Vec::new();
        leaves(
            &json!({"z": [1, {}], "a b": {"c": null}, "e": []}),
            "body",
            &mut out,
        );
        let paths: Vec<_> = out.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            ["body[\"a b\"].c", "body.e", "body.z[0]", "body.z[1]"]
        );
    }

    #[test]
    fn bodies_that_are_not_json_are_text_or_bytes() {
        let n = normalise(&response(&[], "<html>/run/0-x1</html>"), &mut Tokens::new());
        assert_eq!(n.body, Body::Raw(b"<html>/run/<run-id-1></html>".to_vec()));
        let mut r = response(&[], "");
        r.body = vec![0xff, 0x00];
        let n = normalise(&r, &mut Tokens::new());
        assert_eq!(n.body, Body::Raw(vec![0xff, 0x00]));
    }
}
