//! How clients find the error type in an awsJson1_1 error response.
//!
//! botocore reads only the body's `__type`; aws-sdk-rust and aws-sdk-js read the header
//! `X-Amzn-Errortype`, then the body's `code`, then `__type` (PROTOCOL-NOTES.md, "What real
//! clients do with a response"). Every reading is sanitised the same way.

use serde_json::Value;

use crate::exchange::Headers;

/// `NoSuchEntityException`, `com.amazonaws.inspector#NoSuchEntityException` and
/// `NoSuchEntityException:http://internal.amazon.com/...` all name the same error: cut at the
/// first `:`, then keep what follows the last `#` (Smithy awsJson1_1 spec).
pub fn sanitise(raw: &str) -> &str {
    let cut = raw.split(':').next().unwrap_or(raw);
    cut.rsplit('#').next().unwrap_or(cut).trim()
}

/// The error type as each family of clients would read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Readings {
    /// botocore (boto3, the aws CLI): body `__type` only.
    pub botocore: Option<String>,
    /// aws-sdk-rust and aws-sdk-js: header, then body `code`, then body `__type`.
    pub sdk: Option<String>,
}

pub fn read(headers: &Headers, body: Option<&Value>) -> Readings {
    // Only top-level members count: a nested `__type` is never the error type.
    let member = |name: &str| {
        body.and_then(|b| b.get(name))
            .and_then(Value::as_str)
            .map(|s| sanitise(s).to_owned())
    };
    let botocore = member("__type");
    let sdk = headers
        .get("x-amzn-errortype")
        .map(|h| sanitise(h).to_owned())
        .or_else(|| member("code"))
        .or_else(|| botocore.clone());
    Readings { botocore, sdk }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sanitises_like_clients() {
        assert_eq!(sanitise("NoSuchEntityException"), "NoSuchEntityException");
        assert_eq!(
            sanitise("com.amazonaws.inspector#NoSuchEntityException"),
            "NoSuchEntityException"
        );
        assert_eq!(
            sanitise("NoSuchEntityException:http://internal.amazon.com/coral/com.amazon#x"),
            "NoSuchEntityException"
        );
    }

    #[test]
    fn botocore_reads_only_the_body_type() {
        let headers: Headers = [("X-Amzn-Errortype", "A:x")].into_iter().collect();
        let r = read(&headers, Some(&json!({"code": "B"})));
        assert_eq!(r.botocore, None);
        assert_eq!(r.sdk.as_deref(), Some("A"));
        let r = read(
            &Headers::new(),
            Some(&json!({"code": "B", "__type": "ns#C"})),
        );
        assert_eq!(
            (r.botocore.as_deref(), r.sdk.as_deref()),
            (Some("C"), Some("B"))
        );
        let r = read(&Headers::new(), Some(&json!({"x": {"__type": "C"}})));
        assert_eq!(r, Readings::default());
    }
}
