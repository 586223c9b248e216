//! The case model: what a loaded, checked case file says. Built by `load`, read by the
//! runner and the reports. No I/O.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::exchange::{Headers, Request};
use crate::matching::{MessageExpect, Seg, StatusSpec, resolve_value};
use crate::vars::{self, UndefinedVar, Vars};

/// How sure we are of an expectation, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provenance {
    /// Published by AWS: the API reference page, its sample exchange.
    Documented,
    /// Built from the service model (botocore, Smithy).
    Modeled,
    /// Required by the awsJson1_1 protocol specification or its test vectors.
    Protocol,
    /// A guess where no source says: the case must say why.
    Inferred,
    /// Seen from a real endpoint.
    Recorded,
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Documented => "documented",
            Self::Modeled => "modeled",
            Self::Protocol => "protocol",
            Self::Inferred => "inferred",
            Self::Recorded => "recorded",
        })
    }
}

/// What kind of endpoint a run talks to; cases may be skipped for some kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// The built-in replay of `recordings/`.
    Replay,
    /// Any endpoint, unsigned requests.
    Endpoint,
    /// Any endpoint, SigV4-signed requests (`--sign`).
    Signed,
    /// Real AWS (`--aws`).
    Aws,
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Replay => "replay",
            Self::Endpoint => "endpoint",
            Self::Signed => "signed",
            Self::Aws => "aws",
        })
    }
}

/// How a signed target signs one request. Unsigned targets send no signature whatever this says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureMode {
    #[default]
    Normal,
    /// Send no `Authorization` at all.
    None,
    /// Sign, then spoil the signature.
    Corrupt,
    /// Sign with a date outside the allowed clock skew.
    Expired,
    /// Sign with an access key no account has.
    UnknownKey,
    /// Sign with a credential scope naming another region than the endpoint's (see
    /// `aws::wrong_region_for`).
    WrongRegion,
    /// Sign with a credential scope naming another signing name than the service's
    /// (`aws::wrong_signing_name_for`).
    WrongService,
    /// Sign with stale temporary credentials the user supplies (`CONFORM_EXPIRED_*`), whose
    /// session token has expired; conform cannot make such a token itself.
    ExpiredToken,
}

/// All the cases selected from the files given.
#[derive(Clone, Debug, Default)]
pub struct Suite {
    pub cases: Vec<Case>,
}

#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub description: Option<String>,
    pub source: String,
    pub provenance: Provenance,
    pub why: Option<String>,
    pub tags: Vec<String>,
    pub covers: Vec<String>,
    pub skip: BTreeMap<TargetKind, String>,
    /// Suite defaults merged with the case's own `vars` (shared with the suite's when the
    /// case adds none).
    pub vars: std::sync::Arc<Vars>,
    pub steps: Vec<Step>,
    /// The file the case came from, as given (relative paths stay relative).
    pub file: PathBuf,
    /// The service model the suite names (`suite.yaml` `model:`): every response of the case
    /// is validated against it.
    pub model: Option<std::sync::Arc<crate::model::Model>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    pub name: Option<String>,
    pub request: RequestTemplate,
    /// The case passes this step when any alternative passes (most cases have one).
    #[serde(deserialize_with = "crate::matching::exact_vec")]
    pub expect: Vec<Alternative>,
    /// A labelled guess checked on the same response once `expect` passed: a mismatch is a
    /// difference from a guess (`Outcome::Differs`), never a failure.
    pub guess: Option<Guess>,
    #[serde(deserialize_with = "crate::matching::exact_vec")]
    pub capture: Vec<Capture>,
}

/// What a case expects where no source settles it, and why.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Guess {
    pub why: String,
    pub source: Option<String>,
    /// Passes when any alternative passes, like `Step::expect`.
    #[serde(deserialize_with = "crate::matching::exact_vec")]
    pub expect: Vec<Alternative>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Alternative {
    pub expect: MessageExpect,
    /// Whether `expect` holds any `{{variable}}`: one that holds none is used as it is, with
    /// nothing to fill in.
    pub uses_vars: bool,
    /// Where each accepted status (code or class) comes from, when the case says.
    #[serde(deserialize_with = "crate::matching::exact_vec")]
    pub status_sources: Vec<(StatusSpec, String)>,
}

/// A request with `{{variables}}` still in it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestTemplate {
    pub method: String,
    pub path: String,
    /// The final header list: defaults, then the case's additions, minus removals.
    #[serde(deserialize_with = "crate::matching::exact_vec")]
    pub headers: Vec<(String, String)>,
    pub body: BodyTemplate,
    pub signature: SignatureMode,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum BodyTemplate {
    Json(Value),
    /// UTF-8 text with `{{variables}}` filled in as plain text.
    Raw(String),
    /// Exact bytes (`raw_body_base64`), for bodies that are not UTF-8; no variables.
    Bytes(Vec<u8>),
    /// `length` copies of one byte (`raw_body_fill`), built only when the request is sent, so
    /// a body past a size limit needs neither a huge file nor memory while the suite loads.
    Fill {
        byte: u8,
        length: usize,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Capture {
    pub name: String,
    pub from: CaptureFrom,
    /// As written in the case file, for messages.
    pub expression: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum CaptureFrom {
    Body(Vec<Seg>),
    Header(String),
}

impl RequestTemplate {
    /// The request to send, variables filled in. JSON bodies are sent compact, as the Rust and
    /// JS SDKs send them.
    pub fn render(&self, vars: &Vars) -> Result<Request, UndefinedVar> {
        let mut headers = Headers::new();
        for (name, value) in &self.headers {
            headers.append(name, vars::substitute(value, vars, false)?);
        }
        let body = match &self.body {
            BodyTemplate::Json(v) => {
                serde_json::to_vec(&resolve_value(v, vars)?).expect("JSON values serialise")
            }
            BodyTemplate::Raw(s) => vars::substitute(s, vars, false)?.into_bytes(),
            BodyTemplate::Bytes(b) => b.clone(),
            BodyTemplate::Fill { byte, length } => vec![*byte; *length],
        };
        Ok(Request {
            method: vars::substitute(&self.method, vars, false)?,
            path: vars::substitute(&self.path, vars, false)?,
            headers,
            body,
        })
    }

    pub fn var_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |s: &str| out.extend(vars::names(s).map(str::to_owned));
        add(&self.method);
        add(&self.path);
        for (_, v) in &self.headers {
            add(v);
        }
        match &self.body {
            BodyTemplate::Raw(s) => add(s),
            BodyTemplate::Json(v) => crate::matching::Pattern::literal(v).var_names(&mut out),
            BodyTemplate::Bytes(_) | BodyTemplate::Fill { .. } => {}
        }
        out
    }
}

impl CaptureFrom {
    /// The captured text: strings as they are, other JSON values as JSON.
    pub fn extract(&self, response: &crate::exchange::Response) -> Option<String> {
        match self {
            CaptureFrom::Header(name) => response.headers.get(name).map(str::to_owned),
            CaptureFrom::Body(path) => {
                let body = response.json()?;
                let mut at = &body;
                for seg in path {
                    at = match seg {
                        Seg::Key(k) => at.get(k)?,
                        Seg::Index(i) => at.get(i)?,
                    };
                }
                Some(match at {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            }
        }
    }
}

impl Case {
    /// Why this case does not run against this kind of target, if it does not.
    pub fn skip_reason(&self, target: TargetKind) -> Option<&str> {
        self.skip.get(&target).map(String::as_str)
    }
}
