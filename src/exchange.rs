//! Plain data for one HTTP exchange: the request conform sends (or the replay server receives)
//! and the response that comes back. No I/O here: the `http` module fills these in, the
//! `matching` module reads them, and recordings store them.

use std::fmt;

/// Header names are kept lower-cased (HTTP/1.1 names are case-insensitive, and SDKs differ in
/// the case they send), values as received. Order and repeats are preserved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    /// Adds a header, keeping any earlier one of the same name.
    pub fn append(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_ascii_lowercase(), value.into()));
    }

    /// Replaces every header of this name by one with this value.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.remove(name);
        self.append(name, value);
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The first value of this header, name compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<N: AsRef<str>, V: Into<String>> FromIterator<(N, V)> for Headers {
    fn from_iter<T: IntoIterator<Item = (N, V)>>(iter: T) -> Self {
        let mut headers = Headers::new();
        for (n, v) in iter {
            headers.append(n.as_ref(), v);
        }
        headers
    }
}

/// A request as it goes on the wire, minus the host: `path` is the request target
/// (`/` for every awsJson1_1 operation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// A response as received, body as raw bytes (it may not be JSON, or not even UTF-8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl Response {
    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Shows a body for people: UTF-8 text as is, anything else as a short note, and long bodies
/// cut, so a 100 MB answer never floods a terminal or a report.
pub struct BodyPreview<'a>(pub &'a [u8]);

impl fmt::Display for BodyPreview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LIMIT: usize = 2048;
        let shown = &self.0[..self.0.len().min(LIMIT)];
        match std::str::from_utf8(shown) {
            Ok(text) => f.write_str(text)?,
            Err(e) if e.valid_up_to() + 4 > shown.len() && shown.len() == LIMIT => {
                // Cut in the middle of a character by the limit: show what is whole.
                f.write_str(std::str::from_utf8(&shown[..e.valid_up_to()]).unwrap_or(""))?
            }
            Err(e) => write!(
                f,
                "<{} bytes, not UTF-8 (invalid byte at offset {})>",
                self.0.len(),
                e.valid_up_to()
            )?,
        }
        if self.0.len() > LIMIT {
            write!(f, "… <{} more bytes>", self.0.len() - LIMIT)?;
        }
        Ok(())
    }
}

/// A header value as received, as text: as it is when it is UTF-8 (nearly always), lossily
/// otherwise.
pub fn header_text(value: &[u8]) -> String {
    match std::str::from_utf8(value) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(value).into_owned(),
    }
}

/// Headers that carry secrets or signatures. They are replaced by [`REDACTED`] before anything
/// is written or shown: recordings, snapshots, logs, reports, error messages.
pub const SECRET_HEADERS: &[&str] = &["authorization", "x-amz-security-token"];

/// The header conform's runner, recorder and comparer send with every request to say which
/// invocation it belongs to (never to real AWS). The replay server keeps recorded sequences'
/// positions per run id; nothing else reads it, and it is volatile, so it never decides a
/// match and is never written into a recording or snapshot.
pub const RUN_ID_HEADER: &str = "x-conform-run-id";

/// Headers that vary per call or per SDK and never decide whether two requests are the same.
pub const VOLATILE_REQUEST_HEADERS: &[&str] = &[
    RUN_ID_HEADER,
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "user-agent",
    "x-amz-user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "host",
    "content-length",
    "accept",
    "accept-encoding",
    "connection",
    "expect",
    "transfer-encoding",
];

/// What stands in for a secret.
pub const REDACTED: &str = "<redacted>";

impl Headers {
    /// A copy with every secret-bearing header's value replaced by [`REDACTED`].
    pub fn redacted(&self) -> Headers {
        Headers(
            self.0
                .iter()
                .map(|(n, v)| {
                    if SECRET_HEADERS.contains(&n.as_str()) {
                        (n.clone(), REDACTED.to_owned())
                    } else {
                        (n.clone(), v.clone())
                    }
                })
                .collect(),
        )
    }
}

impl Request {
    /// The request with secrets replaced, fit to be written or shown.
    pub fn redacted(&self) -> Request {
        Request {
            headers: self.headers.redacted(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_case_insensitive() {
        let mut h = Headers::new();
        h.append("X-Amz-Target", "A");
        assert_eq!(h.get("x-amz-target"), Some("A"));
        h.set("x-AMZ-target", "B");
        assert_eq!(h.len(), 1);
        assert_eq!(h.get("X-Amz-Target"), Some("B"));
        h.remove("X-AMZ-TARGET");
        assert!(h.is_empty());
    }

    #[test]
    fn preview_cuts_long_and_binary_bodies() {
        let long = vec![b'a'; 5000];
        let shown = BodyPreview(&long).to_string();
        assert!(shown.ends_with("… <2952 more bytes>"));
        assert_eq!(
            BodyPreview(&[0xff, 0xfe]).to_string(),
            "<2 bytes, not UTF-8 (invalid byte at offset 0)>"
        );
    }
}
