//! What a snapshot locks: each exchange of a case (the request's identity and the full
//! response: status, the headers that matter, body), normalised so that only real changes
//! show. Volatile values become tokens that stay consistent within a case: the same run id in
//! two steps gets the same token, so a snapshot still shows that they are the same.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::exchange::{Headers, Request, Response};
use crate::runner::StepExchange;

/// Response headers that vary per call or per connection and say nothing about conformance.
pub const UNLOCKED_RESPONSE_HEADERS: &[&str] = &[
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

/// Request ids are volatile wherever they appear (header values, and messages that quote them).
const REQUEST_ID_HEADERS: &[&str] = &["x-amzn-requestid", "x-amz-request-id", "x-amz-id-2"];

static RUN_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/run/0-[A-Za-z0-9]+").expect("valid regex"));

/// Hands out `[kind-N]` tokens, the same token for the same value.
#[derive(Default)]
pub struct Tokens {
    seen: HashMap<(String, String), String>,
    counts: HashMap<String, usize>,
}

impl Tokens {
    pub fn token(&mut self, kind: &str, value: &str) -> String {
        if let Some(t) = self.seen.get(&(kind.to_owned(), value.to_owned())) {
            return t.clone();
        }
        let n = self.counts.entry(kind.to_owned()).or_insert(0);
        *n += 1;
        let t = format!("[{kind}-{n}]");
        self.seen
            .insert((kind.to_owned(), value.to_owned()), t.clone());
        t
    }

    /// Replaces run ids and known request ids inside a string.
    fn scrub(&mut self, text: &str) -> String {
        // Request ids first: a token's own text must never be scrubbed again.
        let mut out = text.to_owned();
        let known: Vec<(String, String)> = self
            .seen
            .iter()
            .filter(|((k, _), _)| k == "request-id")
            .map(|((_, v), t)| (v.clone(), t.clone()))
            .collect();
        for (value, token) in known {
            if !value.is_empty() {
                out = out.replace(&value, &token);
            }
        }
        RUN_ID
            .replace_all(&out, |c: &regex::Captures<'_>| {
                format!("/run/{}", self.token("run-id", &c[0]))
            })
            .into_owned()
    }

    fn scrub_value(&mut self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.scrub(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|i| self.scrub_value(i)).collect())
            }
            Value::Object(map) => {
                let mut out = Map::new();
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                for k in keys {
                    out.insert(k.clone(), self.scrub_value(&map[k]));
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }
}

/// The snapshot document of a case's exchanges.
pub fn document(exchanges: &[StepExchange]) -> Value {
    let mut tokens = Tokens::default();
    // Request ids first, so that messages quoting them are scrubbed too.
    for e in exchanges {
        if let Some(r) = &e.response {
            for name in REQUEST_ID_HEADERS {
                if let Some(v) = r.headers.get(name) {
                    tokens.token("request-id", v);
                }
            }
        }
    }
    let steps: Vec<Value> = exchanges
        .iter()
        .map(|e| {
            json!({
                "request": request_view(&e.request, &mut tokens),
                "response": match &e.response {
                    Some(r) => response_view(r, &mut tokens),
                    None => Value::String("no response".into()),
                },
            })
        })
        .collect();
    json!({ "exchanges": steps })
}

fn request_view(r: &Request, tokens: &mut Tokens) -> Value {
    let mut headers = Map::new();
    for name in crate::recording::IDENTITY_HEADERS {
        if let Some(v) = r.headers.get(name) {
            headers.insert((*name).to_owned(), Value::String(v.to_owned()));
        }
    }
    let mut out = Map::new();
    out.insert("method".into(), Value::String(r.method.clone()));
    out.insert("path".into(), Value::String(r.path.clone()));
    out.insert("headers".into(), Value::Object(headers));
    insert_body(&mut out, &r.body, tokens);
    Value::Object(out)
}

fn response_view(r: &Response, tokens: &mut Tokens) -> Value {
    let mut out = Map::new();
    out.insert("status".into(), json!(r.status));
    out.insert(
        "headers".into(),
        Value::Object(locked_headers(&r.headers, tokens)),
    );
    insert_body(&mut out, &r.body, tokens);
    Value::Object(out)
}

fn locked_headers(headers: &Headers, tokens: &mut Tokens) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in headers.iter() {
        if UNLOCKED_RESPONSE_HEADERS.contains(&name)
            || crate::exchange::SECRET_HEADERS.contains(&name)
        {
            continue;
        }
        let shown = if REQUEST_ID_HEADERS.contains(&name) {
            tokens.token("request-id", value)
        } else {
            tokens.scrub(value)
        };
        out.insert(name.to_owned(), Value::String(shown));
    }
    out
}

/// Bodies longer than this are locked by their size and ends, not written out whole (a case
/// that sends 10 MiB would otherwise make a 10 MiB snapshot).
const WHOLE_BODY_LIMIT: usize = 64 * 1024;

fn insert_body(out: &mut Map<String, Value>, body: &[u8], tokens: &mut Tokens) {
    if body.len() > WHOLE_BODY_LIMIT {
        let head = String::from_utf8_lossy(&body[..64]);
        let tail = String::from_utf8_lossy(&body[body.len() - 16..]);
        out.insert(
            "body_summary".into(),
            Value::String(format!(
                "{} bytes, starting {:?}, ending {:?}",
                body.len(),
                tokens.scrub(&head),
                tokens.scrub(&tail)
            )),
        );
    } else if body.is_empty() {
        out.insert("body".into(), Value::String(String::new()));
    } else if let Ok(v) = serde_json::from_slice::<Value>(body) {
        out.insert("body".into(), tokens.scrub_value(&v));
    } else {
        match std::str::from_utf8(body) {
            Ok(text) => out.insert("body_text".into(), Value::String(tokens.scrub(text))),
            Err(_) => out.insert(
                "body_bytes".into(),
                Value::String(format!("{} bytes, not UTF-8", body.len())),
            ),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_run_id_gets_the_same_token() {
        let response = |body: &str, id: &str| Response {
            status: 200,
            headers: [("x-amzn-RequestId", id), ("Date", "now")]
                .into_iter()
                .collect(),
            body: body.as_bytes().to_vec(),
        };
        let request = Request {
            method: "POST".into(),
            path: "/".into(),
            headers: Headers::new(),
            body: b"{}".to_vec(),
        };
        let exchanges = vec![
            StepExchange {
                step: 0,
                request: request.clone(),
                response: Some(response(r#"{"a":"x/run/0-AAAA"}"#, "id-1")),
            },
            StepExchange {
                step: 1,
                request,
                response: Some(response(r#"{"a":"x/run/0-AAAA","m":"see id-1"}"#, "id-2")),
            },
        ];
        let doc = document(&exchanges);
        let second = &doc["exchanges"][1]["response"];
        assert_eq!(second["body"]["a"], "x/run/[run-id-1]");
        assert_eq!(second["body"]["m"], "see [request-id-1]");
        assert_eq!(second["headers"]["x-amzn-requestid"], "[request-id-2]");
        assert!(second["headers"].get("date").is_none());
    }
}
