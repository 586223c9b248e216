//! The one recording format, shared by the recorder (which writes it) and the replay server
//! (which reads it). Pure data plus the conversion of a recorded request into the same
//! `MessageExpect` the runner evaluates responses with.

use std::path::PathBuf;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::exchange::Headers;
use crate::matching::{BodyExpect, MessageExpect, Mode, Pattern, StartExpect};

/// A recorded message's headers, name to value, in name order: a map on a sorted vector. A
/// `BTreeMap`'s first node has room for eleven entries, about 540 bytes for a message's two or
/// three headers, and the headers' maps were a third of a loaded recording's memory. Fresh
/// memory is dear at a replay's cold start: a page touched for the first time cost about 5 µs
/// on the bench's machine (BENCHMARKS.md, twelfth round).
pub type HeaderMap = litemap::LiteMap<String, String>;

/// A [`HeaderMap`] as a map, always: litemap writes an empty map as an empty list (and reads
/// a list of pairs as a map). Read, a name given twice keeps its last value, as in a `BTreeMap`.
mod header_map {
    use super::HeaderMap;
    use serde::ser::SerializeMap as _;

    pub fn serialize<S: serde::Serializer>(
        headers: &HeaderMap,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(headers.len()))?;
        for (name, value) in headers.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<HeaderMap, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = HeaderMap;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<HeaderMap, M::Error> {
                let mut headers = HeaderMap::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((name, value)) = map.next_entry::<String, String>()? {
                    headers.insert(name, value);
                }
                Ok(headers)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Where a recording's content comes from. Only `recorded` ever comes from a real endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordingProvenance {
    /// Published by AWS (the API reference's sample exchange), byte for byte.
    Documented,
    /// Built from the service model; texts the model does not give are placeholders.
    Modeled,
    /// A guess where no source says: the note says what is guessed.
    Inferred,
    /// Captured from a real endpoint by `conform record`.
    Recorded,
}

/// What identifies a request besides method, path and body: a recorded request without one
/// of these only matches requests without it. `x-conform-fault` marks a generated error
/// request (`conform generate`): the valid request plus the error shape to answer with.
pub const IDENTITY_HEADERS: [&str; 3] = ["content-type", "x-amz-target", FAULT_HEADER];

/// The header a generated error case adds to the valid request, naming the error shape the
/// replay (or an emulator's fault injection) answers it with.
pub const FAULT_HEADER: &str = "x-conform-fault";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    pub provenance: RecordingProvenance,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<RecordedFrom>,
    #[serde(deserialize_with = "crate::matching::exact_vec")]
    pub exchanges: Vec<RecordedExchange>,
    /// The file it was read from (not part of the format).
    #[serde(skip)]
    pub file: PathBuf,
}

/// Where and when a `recorded` recording was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedFrom {
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub date: String,
    pub conform_version: String,
    /// True when the endpoint was real AWS (a recording from AWS is only replaced by one from
    /// another endpoint with `--force`).
    #[serde(default)]
    pub aws: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedExchange {
    pub request: RecordedRequest,
    pub response: RecordedResponse,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    #[serde(default, with = "header_map")]
    pub headers: HeaderMap,
    /// The body as a JSON value (compared as a value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// The body's exact text, when it is not JSON (or must match byte for byte).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<String>,
    /// The body's exact bytes, base64, when they are not UTF-8 (matched byte for byte).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_body_base64: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default, with = "header_map")]
    pub headers: HeaderMap,
    /// The exact body text sent back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The exact body bytes, base64, for a body that is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

/// The keys the replay files a recorded request under ([`RecordedRequest::keys`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestKeys {
    /// The index key ([`RecordedRequest::index_key`]).
    pub key: String,
    /// The exact-bytes key ([`exact_key`]): method, path, identity headers, and the body as
    /// most clients send it (a JSON body compact, with its keys sorted).
    pub exact: Vec<u8>,
    /// True for a JSON `body`, false for a raw one.
    pub json: bool,
}

impl RecordedRequest {
    /// The exact bytes a request must have, when the recording says `raw_body` or
    /// `raw_body_base64` (`None` for a JSON `body`). An invalid base64 gives no bytes; the
    /// loader reports it with its location.
    pub fn raw_bytes(&self) -> Option<Vec<u8>> {
        match (&self.raw_body, &self.raw_body_base64) {
            (Some(raw), _) => Some(raw.as_bytes().to_vec()),
            (None, Some(b64)) => Some(decode_base64(b64).unwrap_or_default()),
            (None, None) => None,
        }
    }

    /// Builds the recorded form of a body that is not JSON: text when it is UTF-8, base64
    /// otherwise (`(raw_body, raw_body_base64)`).
    pub fn raw_fields(bytes: &[u8]) -> (Option<String>, Option<String>) {
        RecordedResponse::body_fields(bytes)
    }

    /// The expectation an incoming request must meet to be answered by this exchange: the
    /// same shape `conform run` evaluates responses with.
    pub fn expectation(&self) -> MessageExpect {
        let mut headers = Vec::new();
        let mut absent_headers = Vec::new();
        for name in IDENTITY_HEADERS {
            let value = self
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v);
            match value {
                Some(v) => headers.push((name.to_string(), Pattern::String(v.clone()))),
                None => absent_headers.push(name.to_string()),
            }
        }
        let body = match (&self.body, &self.raw_body) {
            (Some(v), _) => Some(BodyExpect::Json {
                pattern: Pattern::literal(v),
                mode: Mode::Exact,
            }),
            (None, _) => Some(BodyExpect::Raw(self.raw_bytes().unwrap_or_default())),
        };
        MessageExpect {
            start: StartExpect::Request {
                method: self.method.clone(),
                path: self.path.clone(),
            },
            headers,
            absent_headers,
            body,
            error: None,
        }
    }

    /// Both keys the replay files this request under, from one serialisation of its body: the
    /// index key, and the exact-bytes key ([`exact_key`], whose body is a JSON body compact with
    /// its keys sorted, as most clients send it).
    pub fn keys(&self) -> RequestKeys {
        let header = |name: &str| {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let (bytes, json) = match (&self.body, self.raw_bytes()) {
            (Some(v), _) => (canonical(v).into_bytes(), true),
            (None, raw) => (raw.unwrap_or_default(), false),
        };
        let key =
            self.index_key_with(json.then(|| std::str::from_utf8(&bytes).unwrap_or_default()));
        let exact = exact_key(
            &self.method,
            &self.path,
            IDENTITY_HEADERS.map(header),
            &bytes,
        );
        RequestKeys { key, exact, json }
    }

    /// The key the replay index files this request under: method, path, identity headers and
    /// the body in canonical form (JSON re-serialised with sorted keys).
    pub fn index_key(&self) -> String {
        self.index_key_with(self.body.as_ref().map(canonical).as_deref())
    }

    /// [`index_key`](Self::index_key), given the JSON body's canonical form when the caller
    /// has it already (the replay serialises each body once for both of its keys).
    pub fn index_key_with(&self, canonical_body: Option<&str>) -> String {
        // Raw bodies are keyed by their lossy text, as incoming requests are (`request_keys`);
        // two byte strings with the same lossy text share a key, and `expectation()` (exact
        // bytes) tells them apart.
        let raw = match canonical_body {
            Some(_) => None,
            None => self.raw_bytes(),
        };
        let body = match (canonical_body, &raw) {
            (Some(c), _) => Body::Json(c),
            (None, Some(raw)) => Body::Raw(String::from_utf8_lossy(raw)),
            (None, None) => Body::Raw("".into()),
        };
        let header = |name: &str| {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        key_of(
            &self.method,
            &self.path,
            [header("content-type"), header("x-amz-target")],
            body,
            header(FAULT_HEADER),
        )
    }
}

/// The replay's exact-bytes key: method, path, the identity headers' values (a NUL byte for one that is
/// absent; header values cannot hold one) and the body's bytes.
pub fn exact_key<const N: usize>(
    method: &str,
    path: &str,
    identity: [Option<&str>; N],
    body: &[u8],
) -> Vec<u8> {
    let mut key = Vec::with_capacity(method.len() + path.len() + body.len() + 96);
    for part in [Some(method), Some(path)].into_iter().chain(identity) {
        key.extend_from_slice(part.unwrap_or("\u{0}").as_bytes());
        key.push(b'\n');
    }
    key.extend_from_slice(body);
    key
}

/// The index keys of an incoming request: its JSON form when the body parses as JSON (a
/// recording with `body`), and its raw form (a recording with `raw_body`), computed only when
/// asked for, since most requests are found by the first.
pub fn request_keys<'a>(
    method: &'a str,
    path: &'a str,
    headers: &'a Headers,
    body: &'a [u8],
) -> (Option<String>, impl FnOnce() -> String + 'a) {
    let identity = [headers.get("content-type"), headers.get("x-amz-target")];
    let fault = headers.get(FAULT_HEADER);
    let json = serde_json::from_slice::<Value>(body)
        .ok()
        .map(|v| key_of(method, path, identity, Body::Json(&canonical(&v)), fault));
    let raw = move || {
        let body = Body::Raw(String::from_utf8_lossy(body));
        key_of(method, path, identity, body, fault)
    };
    (json, raw)
}

/// A body as an index key holds it.
enum Body<'a> {
    /// Canonical JSON (`canonical`).
    Json(&'a str),
    /// Any other body, as lossy text.
    Raw(std::borrow::Cow<'a, str>),
}

/// An index key: the method (upper case), path, content type and target (a NUL byte for one
/// that is absent), each on a line of its own, then the body (`json:` or `raw:` and its text),
/// then, only when there is a fault header, a line with a NUL byte, `fault:` and its value.
/// Written into one buffer of the size it needs.
fn key_of(
    method: &str,
    path: &str,
    [ct, target]: [Option<&str>; 2],
    body: Body<'_>,
    fault: Option<&str>,
) -> String {
    let (kind, text) = match &body {
        Body::Json(text) => ("json:", *text),
        Body::Raw(text) => ("raw:", text.as_ref()),
    };
    let (ct, target) = (ct.unwrap_or("\u{0}"), target.unwrap_or("\u{0}"));
    const FAULT: &str = "\n\u{0}fault:";
    let size = method.len() + path.len() + ct.len() + target.len() + kind.len() + text.len() + 4;
    let mut key = String::with_capacity(size + fault.map_or(0, |f| FAULT.len() + f.len()));
    key.push_str(method);
    key.make_ascii_uppercase();
    for part in [path, ct, target] {
        key.push('\n');
        key.push_str(part);
    }
    key.push('\n');
    key.push_str(kind);
    key.push_str(text);
    if let Some(f) = fault {
        key.push_str(FAULT);
        key.push_str(f);
    }
    key
}

/// Standard base64; whitespace is ignored so that long values can be folded in YAML.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact)
}

/// JSON with object keys sorted at every level, compact. serde_json's map is a `BTreeMap`
/// (its `preserve_order` feature is off), so its compact form has the keys sorted already; a
/// test (`canonical_sorts_keys_at_every_level`) fails if a dependency ever turns that feature on.
pub fn canonical(v: &Value) -> String {
    // Straight to a buffer: `Value`'s `Display` goes through `fmt::Formatter` for every piece.
    serde_json::to_string(v).expect("a JSON value serialises")
}

impl RecordedResponse {
    /// The recorded headers a server sends as they are: all but `content-length`,
    /// `transfer-encoding` and `connection`, which the server computes from the body and the
    /// connection.
    pub fn served_headers(&self) -> impl Iterator<Item = (&String, &String)> {
        self.headers.iter().filter(|(n, _)| {
            !["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|framing| n.eq_ignore_ascii_case(framing))
        })
    }

    /// The body's bytes, exactly as recorded.
    pub fn body_bytes(&self) -> Result<Vec<u8>, String> {
        match (&self.body, &self.body_base64) {
            (Some(text), _) => Ok(text.as_bytes().to_vec()),
            (None, Some(b64)) => {
                decode_base64(b64).map_err(|e| format!("`body_base64` is not valid base64: {e}"))
            }
            (None, None) => Ok(Vec::new()),
        }
    }

    /// Builds the recorded form of a body: text when it is UTF-8, base64 otherwise.
    pub fn body_fields(bytes: &[u8]) -> (Option<String>, Option<String>) {
        match std::str::from_utf8(bytes) {
            Ok(text) => (Some(text.to_owned()), None),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn headers_are_a_map_in_name_order_written_as_a_map_even_when_empty() {
        let yaml = "status: 200\nheaders: { x-b: '2', content-type: a, x-b: '3' }\n";
        // A name given twice keeps its last value (serde_yaml_ng reads this file; the subset
        // reader leaves files with a repeated key to it).
        let response: RecordedResponse = crate::yaml::from_node(
            crate::yaml::subset::read("status: 200\nheaders: { x-b: '2', content-type: a }\n")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            response.headers.iter().collect::<Vec<_>>(),
            [
                (&"content-type".to_owned(), &"a".to_owned()),
                (&"x-b".to_owned(), &"2".to_owned())
            ]
        );
        let twice: RecordedResponse = serde_yaml_ng::from_str(yaml).unwrap();
        assert_eq!(twice.headers.get("x-b").map(String::as_str), Some("3"));
        let json = r#"{"status":200,"headers":{"b":"1","a":"2","b":"3"}}"#;
        let twice: RecordedResponse = serde_json::from_str(json).unwrap();
        assert_eq!(twice.headers.len(), 2);
        assert_eq!(twice.headers.get("b").map(String::as_str), Some("3"));
        // Written as a map, and an empty one as an empty map (litemap's own form is a list).
        let written = serde_json::to_value(&twice).unwrap();
        assert_eq!(written["headers"], json!({"a": "2", "b": "3"}));
        let empty = RecordedResponse {
            status: 204,
            headers: HeaderMap::new(),
            body: None,
            body_base64: None,
        };
        assert_eq!(serde_json::to_value(&empty).unwrap()["headers"], json!({}));
        // A list of pairs is not a map.
        let listed =
            serde_json::from_str::<RecordedResponse>(r#"{"status":200,"headers":[["a","b"]]}"#);
        assert!(listed.unwrap_err().to_string().contains("expected a map"));
    }

    #[test]
    fn index_keys_ignore_key_order_and_spacing() {
        let recorded = RecordedRequest {
            method: "POST".into(),
            path: "/".into(),
            headers: HeaderMap::from_iter([("X-Amz-Target".to_string(), "S.Op".to_string())]),
            body: Some(json!({"b": 1, "a": [true]})),
            raw_body: None,
            raw_body_base64: None,
        };
        let headers: Headers = [("x-amz-target", "S.Op")].into_iter().collect();
        let (json_key, _) = request_keys("post", "/", &headers, br#"{"a": [true], "b": 1}"#);
        assert_eq!(json_key.unwrap(), recorded.index_key());
    }

    /// The keys' text is what memos of replay indexes hold: it stays as it was written.
    #[test]
    fn index_keys_are_lines_of_their_parts() {
        let mut recorded = RecordedRequest {
            method: "post".into(),
            path: "/".into(),
            headers: HeaderMap::from_iter([("X-Amz-Target".to_string(), "S.Op".to_string())]),
            body: None,
            raw_body: Some("é x".into()),
            raw_body_base64: None,
        };
        assert_eq!(recorded.index_key(), "POST\n/\n\u{0}\nS.Op\nraw:é x");
        recorded.headers.insert("content-type".into(), "a/b".into());
        recorded
            .headers
            .insert(FAULT_HEADER.into(), "ThrottlingException".into());
        recorded.raw_body = None;
        recorded.body = Some(json!({"b": 1, "a": "z"}));
        assert_eq!(
            recorded.index_key(),
            "POST\n/\na/b\nS.Op\njson:{\"a\":\"z\",\"b\":1}\n\u{0}fault:ThrottlingException"
        );
        let headers: Headers = [
            ("content-type", "a/b"),
            ("x-amz-target", "S.Op"),
            (FAULT_HEADER, "ThrottlingException"),
        ]
        .into_iter()
        .collect();
        let (json_key, raw_key) = request_keys("POST", "/", &headers, br#"{"b":1,"a":"z"}"#);
        assert_eq!(json_key.unwrap(), recorded.index_key());
        assert_eq!(
            raw_key(),
            "POST\n/\na/b\nS.Op\nraw:{\"b\":1,\"a\":\"z\"}\n\u{0}fault:ThrottlingException"
        );
    }

    #[test]
    fn canonical_sorts_keys_at_every_level() {
        let v: Value =
            serde_json::from_str(r#"{"z": {"b": [{"y": 1, "x": "\u00e9"}], "a": null}, "m": 1.5}"#)
                .unwrap();
        assert_eq!(
            canonical(&v),
            r#"{"m":1.5,"z":{"a":null,"b":[{"x":"é","y":1}]}}"#
        );
    }

    #[test]
    fn a_base64_raw_body_matches_its_bytes_only() {
        use crate::matching::{Observed, Start, evaluate};
        let recorded = RecordedRequest {
            method: "POST".into(),
            path: "/".into(),
            headers: HeaderMap::new(),
            body: None,
            raw_body: None,
            raw_body_base64: Some("eyJhIjoi/yJ9".into()), // {"a":"\xFF"}
        };
        assert_eq!(recorded.raw_bytes().unwrap(), b"{\"a\":\"\xFF\"}");
        let headers = Headers::new();
        let observe = |body: &'static [u8]| {
            evaluate(
                &recorded.expectation(),
                &Observed {
                    start: Start::Request {
                        method: "POST",
                        path: "/",
                    },
                    headers: &headers,
                    body,
                },
            )
        };
        assert!(observe(b"{\"a\":\"\xFF\"}").passed());
        // The same text once made lossy is another request.
        assert!(!observe("{\"a\":\"\u{FFFD}\"}".as_bytes()).passed());
        let (_, raw_key) = request_keys("POST", "/", &headers, b"{\"a\":\"\xFF\"}");
        assert_eq!(raw_key(), recorded.index_key());
    }
}
