//! Validating a JSON response against the model: a 2xx body against the operation's output shape,
//! an error against the error shape its type names (read as clients read it), which must be one
//! of the operation's declared errors or an AWS common error.
//!
//! Each finding names the JSON path (`body.agents[0].agentId`), the shape id, the trait broken
//! and the value found. A member the shape lacks is a *note*, not a violation: clients ignore
//! unknown members (Smithy awsJson specification; PROTOCOL-NOTES). In error bodies `__type`,
//! `code` and `message` / `Message` are protocol members, never extras.
//!
//! The walk follows the JSON value, not the shape graph, so recursive shapes end: the value is
//! finite (and serde_json bounds its depth).
//!
//! Patterns: Smithy patterns are ECMA 262 regular expressions, checked here with the `regex`
//! crate, unanchored as Smithy says. They differ in that `regex` has no look-around and no
//! backreferences (a pattern using them does not compile and is reported as a note, unchecked),
//! and `\d`, `\w`, `\s` and `\b` are Unicode-aware in `regex` but ASCII in ECMA 262 without the
//! `u` flag, so `regex` accepts a few values (other scripts' digits) ECMA 262 would refuse.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Mutex, OnceLock, PoisonError};

use base64::Engine as _;
use regex::Regex;
use serde_json::Value;

use super::types::{
    Member, Model, NumberKind, Operation, Shape, ShapeKind, TimestampFormat, Traits,
};
use crate::exchange::{Headers, Request, Response};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The response breaks the model.
    Violation,
    /// Worth knowing, not wrong (an unknown member, an unchecked pattern, a status the sources
    /// disagree on).
    Note,
}

/// One thing the validator found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// `body`, `body.agents[0].agentId`, `status`.
    pub path: String,
    /// The shape id whose rule applies (empty where no shape does, e.g. a non-JSON body).
    pub shape: String,
    /// The trait or rule: `smithy.api#length`, `smithy.api#required`, `type`, `errors`...
    pub rule: String,
    /// The value found, as short JSON (`"x"`, `141 characters`, `absent`).
    pub found: String,
    /// What the rule wants, for people.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({}", self.path, self.message, self.rule)?;
        if !self.shape.is_empty() {
            write!(f, " of {}", self.shape)?;
        }
        write!(f, "), found {}", self.found)
    }
}

/// All findings for one response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validation {
    pub findings: Vec<Finding>,
}

impl Validation {
    pub fn violations(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Violation)
    }

    pub fn notes(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Note)
    }

    /// No violations (notes allowed).
    pub fn is_valid(&self) -> bool {
        self.violations().next().is_none()
    }
}

/// One AWS common error (data: `data/common-errors.json`, with its sources).
#[derive(Clone, Debug, serde::Deserialize)]
pub struct CommonError {
    pub name: String,
    pub status: Vec<u16>,
    /// Set when no source file names the error: why it is listed anyway.
    #[serde(default)]
    pub inferred: Option<String>,
}

#[derive(serde::Deserialize)]
struct CommonErrors {
    #[serde(rename = "_source")]
    source: String,
    errors: Vec<CommonError>,
}

fn common() -> &'static CommonErrors {
    static DATA: OnceLock<CommonErrors> = OnceLock::new();
    DATA.get_or_init(|| {
        serde_json::from_str(include_str!("data/common-errors.json"))
            .expect("data/common-errors.json is valid (a unit test reads it)")
    })
}

/// The errors any AWS JSON service may answer besides an operation's declared ones.
pub fn common_errors() -> &'static [CommonError] {
    &common().errors
}

/// Where [`common_errors`] come from.
pub fn common_errors_source() -> &'static str {
    &common().source
}

/// Validates a response of `op` (status, headers, raw body) against the model.
pub fn validate_response(
    model: &Model,
    op: &Operation,
    status: u16,
    headers: &Headers,
    body: &[u8],
) -> Validation {
    let mut v = Validator::new(model);
    let text = String::from_utf8_lossy(body);
    // An empty body reads as `{}`: clients accept `""` for an empty output (PROTOCOL-NOTES).
    let json = if text.trim().is_empty() {
        Some(Value::Object(Default::default()))
    } else {
        serde_json::from_slice::<Value>(body).ok()
    };
    let Some(json) = json else {
        v.violation(
            "body",
            "",
            "protocol",
            short_text(&text),
            "an awsJson response body must be JSON".into(),
        );
        return v.done();
    };
    if (200..300).contains(&status) {
        if status != 200 {
            v.note(
                "status",
                "",
                "protocol",
                status.to_string(),
                "awsJson answers a success with 200".into(),
            );
        }
        match &op.output {
            Some(id) => v.value(id, None, &json, "body", false),
            None => v.unit(&json, "body", &format!("{} output", op.name)),
        }
    } else {
        v.error(op, status, headers, &json);
    }
    v.done()
}

/// Validates the response to `request`, the operation named by the request's `X-Amz-Target`
/// (`<target prefix>.<operation>`). A request naming no operation of the model (an unknown
/// operation, another service, no header) gets a response that can only be an error: its type
/// must then be an AWS common error, as no operation declares it.
pub fn validate_exchange(model: &Model, request: &Request, response: &Response) -> Validation {
    let target = request.headers.get("x-amz-target").unwrap_or_default();
    let operation = target
        .strip_prefix(model.service.target_prefix.as_str())
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|name| model.operations.get(name));
    match operation {
        Some(op) => validate_response(
            model,
            op,
            response.status,
            &response.headers,
            &response.body,
        ),
        None => {
            // No operation: validate as one that declares nothing, so only common errors pass.
            let none = Operation {
                name: format!("a request for `{target}`"),
                id: String::new(),
                input: None,
                output: None,
                errors: Vec::new(),
                documentation: None,
                examples: Vec::new(),
                deprecated: false,
            };
            if (200..300).contains(&response.status) {
                let mut v = Validation::default();
                v.findings.push(Finding {
                    severity: Severity::Note,
                    path: "status".into(),
                    shape: model.service.id.clone(),
                    rule: "operations".into(),
                    found: response.status.to_string(),
                    message: format!(
                        "X-Amz-Target `{target}` names no operation of {}, so the success body has no shape to check",
                        model.service.service_id
                    ),
                });
                return v;
            }
            validate_response(
                model,
                &none,
                response.status,
                &response.headers,
                &response.body,
            )
        }
    }
}

/// Validates `value` against shape `shape_id`; `path` names the value's place (`body`).
pub fn validate_value(model: &Model, shape_id: &str, value: &Value, path: &str) -> Validation {
    let mut v = Validator::new(model);
    v.value(shape_id, None, value, path, false);
    v.done()
}

struct Validator<'m> {
    model: &'m Model,
    findings: Vec<Finding>,
}

impl<'m> Validator<'m> {
    fn new(model: &'m Model) -> Self {
        Validator {
            model,
            findings: Vec::new(),
        }
    }

    fn done(self) -> Validation {
        Validation {
            findings: self.findings,
        }
    }

    fn push(
        &mut self,
        severity: Severity,
        path: &str,
        shape: &str,
        rule: &str,
        found: String,
        message: String,
    ) {
        self.findings.push(Finding {
            severity,
            path: path.to_owned(),
            shape: shape.to_owned(),
            rule: rule.to_owned(),
            found,
            message,
        });
    }

    fn violation(&mut self, path: &str, shape: &str, rule: &str, found: String, message: String) {
        self.push(Severity::Violation, path, shape, rule, found, message);
    }

    fn note(&mut self, path: &str, shape: &str, rule: &str, found: String, message: String) {
        self.push(Severity::Note, path, shape, rule, found, message);
    }

    fn error(&mut self, op: &Operation, status: u16, headers: &Headers, body: &Value) {
        let readings = crate::matching::read_error_type(headers, Some(body));
        let Some(name) = readings.botocore.clone().or_else(|| readings.sdk.clone()) else {
            self.violation(
                "body.__type",
                "",
                "protocol",
                "absent".into(),
                format!(
                    "an error response ({status}) must name its type in the body's `__type`, the header X-Amzn-Errortype or the body's `code`"
                ),
            );
            return;
        };
        if readings.botocore.is_none() {
            // PROTOCOL-NOTES: botocore reads only `__type`; without it boto3 sees a generic error.
            self.violation(
                "body.__type",
                "",
                "protocol",
                "absent".into(),
                format!(
                    "the error type `{name}` is not in the body's `__type`, the only place botocore reads it"
                ),
            );
        } else if readings.sdk != readings.botocore {
            self.note(
                "body.__type",
                "",
                "protocol",
                format!("{:?}", readings.sdk.as_deref().unwrap_or("")),
                format!(
                    "botocore reads `{name}`, the Rust and JS SDKs read `{}`",
                    readings.sdk.as_deref().unwrap_or("nothing")
                ),
            );
        }
        if let Some(shape) = self.model.operation_error(op, &name) {
            let id = shape.id.clone();
            if let Some(expected) = shape.error_status()
                && expected != status
            {
                // A note: where the model and the API reference disagree (PROTOCOL-NOTES), the
                // model's status is one source of two.
                self.note(
                    "status",
                    &id,
                    if shape.traits.http_error.is_some() {
                        "smithy.api#httpError"
                    } else {
                        "smithy.api#error"
                    },
                    status.to_string(),
                    format!("the model gives {name} status {expected}"),
                );
            }
            self.value(&id, None, body, "body", true);
            return;
        }
        if let Some(common) = common_errors().iter().find(|c| c.name == name) {
            if !body.is_object() {
                self.violation(
                    "body",
                    "",
                    "type",
                    short(body),
                    "an error body must be a JSON object".into(),
                );
            }
            // A common error at its documented status is simply right; only a status the
            // sources do not give is worth a note (the body has no shape to check either way).
            if !common.status.contains(&status) {
                let label = if common.inferred.is_some() {
                    "common error (inferred)"
                } else {
                    "common error"
                };
                self.note(
                    "status",
                    "",
                    label,
                    status.to_string(),
                    format!(
                        "{name} is an AWS common error, not declared by {}, whose documented status is {}",
                        op.name,
                        join(&common.status)
                    ),
                );
            }
            return;
        }
        let declared: Vec<&str> = op
            .errors
            .iter()
            .map(|e| super::types::shape_name(e))
            .collect();
        let hint = crate::case::did_you_mean(
            &name,
            declared
                .iter()
                .copied()
                .chain(common_errors().iter().map(|c| c.name.as_str())),
        )
        .map(|h| format!("; {h}"))
        .unwrap_or_default();
        self.violation(
            "body.__type",
            &op.id,
            "errors",
            format!("{name:?}"),
            format!(
                "{name} is neither an error {} declares ({}) nor an AWS common error{hint}",
                op.name,
                if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.join(", ")
                }
            ),
        );
    }

    /// A `Unit` output (or none): `{}` is right, members are notes.
    fn unit(&mut self, value: &Value, path: &str, what: &str) {
        match value {
            Value::Object(map) => {
                for key in map.keys() {
                    self.note(
                        &member_path(path, key),
                        "smithy.api#Unit",
                        "member",
                        short(&map[key]),
                        format!("{what} has no members; clients ignore this one"),
                    );
                }
            }
            other => self.violation(
                path,
                "smithy.api#Unit",
                "type",
                short(other),
                "expected a JSON object (`{}`)".into(),
            ),
        }
    }

    /// `value` at `path` against shape `id`, with the member's traits over the shape's when it
    /// is reached through a member. `error_body`: the top level of an error response.
    fn value(
        &mut self,
        id: &str,
        member: Option<&Member>,
        value: &Value,
        path: &str,
        error_body: bool,
    ) {
        let model = self.model;
        let Some(shape) = model.shape(id) else {
            // Cannot happen for a loaded model (references are checked at load).
            self.violation(
                path,
                id,
                "model",
                short(value),
                "the shape does not exist".into(),
            );
            return;
        };
        // Most members carry no constraint of their own: borrow the target's traits then,
        // rather than copy enum lists for every value.
        let merged;
        let traits = match member {
            Some(m) if m.traits != Traits::default() => {
                merged = shape.traits.overridden_by(&m.traits);
                &merged
            }
            _ => &shape.traits,
        };
        match &shape.kind {
            ShapeKind::Structure(members) => {
                self.structure(shape, members, value, path, error_body)
            }
            ShapeKind::Union(members) => self.union(shape, members, value, path),
            ShapeKind::List(item) => {
                let Some(items) = value.as_array() else {
                    return self.wrong_type(path, shape, value, "a JSON array");
                };
                self.length(path, shape, traits, items.len() as u64, "items", value);
                for (i, it) in items.iter().enumerate() {
                    let here = format!("{path}[{i}]");
                    if it.is_null() {
                        if !traits.sparse {
                            self.violation(
                                &here,
                                &shape.id,
                                "smithy.api#sparse",
                                "null".into(),
                                "a list that is not sparse holds no nulls".into(),
                            );
                        }
                        continue;
                    }
                    self.value(&item.target, Some(item), it, &here, false);
                }
            }
            ShapeKind::Map { key, value: val } => {
                let Some(map) = value.as_object() else {
                    return self.wrong_type(path, shape, value, "a JSON object");
                };
                self.length(path, shape, traits, map.len() as u64, "entries", value);
                for (k, v) in map {
                    let here = member_path(path, k);
                    self.value(
                        &key.target,
                        Some(key),
                        &Value::String(k.clone()),
                        &format!("{here} (key)"),
                        false,
                    );
                    if v.is_null() {
                        if !traits.sparse {
                            self.violation(
                                &here,
                                &shape.id,
                                "smithy.api#sparse",
                                "null".into(),
                                "a map that is not sparse holds no null values".into(),
                            );
                        }
                        continue;
                    }
                    self.value(&val.target, Some(val), v, &here, false);
                }
            }
            ShapeKind::String => {
                let Some(s) = value.as_str() else {
                    return self.wrong_type(path, shape, value, "a JSON string");
                };
                self.string(path, shape, traits, s);
            }
            ShapeKind::Number(kind) => self.number(path, shape, traits, *kind, value),
            ShapeKind::Boolean => {
                if !value.is_boolean() {
                    self.wrong_type(path, shape, value, "true or false");
                }
            }
            ShapeKind::Blob => match value.as_str() {
                None => self.wrong_type(path, shape, value, "a base64 string"),
                Some(s) => match base64::engine::general_purpose::STANDARD.decode(s) {
                    Err(e) => self.violation(
                        path,
                        &shape.id,
                        "type",
                        short(value),
                        format!("a blob travels as base64 ({e})"),
                    ),
                    Ok(bytes) => {
                        self.length(path, shape, traits, bytes.len() as u64, "bytes", value)
                    }
                },
            },
            ShapeKind::Timestamp => self.timestamp(path, shape, traits, value),
            ShapeKind::Document => {}
            ShapeKind::Unit => self.unit(value, path, &shape.id),
        }
    }

    fn wrong_type(&mut self, path: &str, shape: &Shape, value: &Value, want: &str) {
        self.violation(
            path,
            &shape.id,
            "type",
            short(value),
            format!("a {} is {want}", shape.kind.name()),
        );
    }

    fn structure(
        &mut self,
        shape: &Shape,
        members: &[Member],
        value: &Value,
        path: &str,
        error_body: bool,
    ) {
        let Some(map) = value.as_object() else {
            return self.wrong_type(path, shape, value, "a JSON object");
        };
        let by_name: BTreeMap<&str, &Member> =
            members.iter().map(|m| (m.name.as_str(), m)).collect();
        // Error bodies may spell `message` with a capital M (clients read both).
        let message_alias = |name: &str| -> Option<&Member> {
            if error_body && name == "Message" && !by_name.contains_key("Message") {
                by_name.get("message").copied()
            } else {
                None
            }
        };
        for (key, v) in map {
            let member = by_name
                .get(key.as_str())
                .copied()
                .or_else(|| message_alias(key));
            match member {
                Some(m) => {
                    // awsJson clients read a null member as absent.
                    if !v.is_null() {
                        self.value(&m.target, Some(m), v, &member_path(path, key), false);
                    }
                }
                None if error_body
                    && matches!(key.as_str(), "__type" | "code" | "message" | "Message") => {}
                None => self.note(
                    &member_path(path, key),
                    &shape.id,
                    "member",
                    short(v),
                    format!("{} has no member `{key}`; clients ignore it", shape.name()),
                ),
            }
        }
        for m in members.iter().filter(|m| m.required) {
            let present = |k: &str| map.get(k).is_some_and(|v| !v.is_null());
            let found =
                present(&m.name) || (error_body && m.name == "message" && present("Message"));
            if !found {
                self.violation(
                    &member_path(path, &m.name),
                    &shape.id,
                    "smithy.api#required",
                    if map.contains_key(&m.name) {
                        "null".into()
                    } else {
                        "absent".into()
                    },
                    format!("{}.{} is required", shape.name(), m.name),
                );
            }
        }
    }

    fn union(&mut self, shape: &Shape, members: &[Member], value: &Value, path: &str) {
        let Some(map) = value.as_object() else {
            return self.wrong_type(path, shape, value, "a JSON object");
        };
        let mut set = 0;
        for (key, v) in map {
            // Clients ignore `__type` inside a union (Smithy awsJson specification).
            if key == "__type" || v.is_null() {
                continue;
            }
            match members.iter().find(|m| &m.name == key) {
                Some(m) => {
                    set += 1;
                    self.value(&m.target, Some(m), v, &member_path(path, key), false);
                }
                None => self.note(
                    &member_path(path, key),
                    &shape.id,
                    "member",
                    short(v),
                    format!("{} has no member `{key}`; clients ignore it", shape.name()),
                ),
            }
        }
        if set != 1 {
            self.violation(
                path,
                &shape.id,
                "union",
                format!("{set} members set"),
                "a union has exactly one member set".into(),
            );
        }
    }

    fn length(
        &mut self,
        path: &str,
        shape: &Shape,
        traits: &Traits,
        n: u64,
        unit: &str,
        value: &Value,
    ) {
        let Some(len) = traits.length else { return };
        let low = len.min.is_some_and(|min| n < min);
        let high = len.max.is_some_and(|max| n > max);
        if low || high {
            self.violation(
                path,
                &shape.id,
                "smithy.api#length",
                format!("{n} {unit}: {}", short(value)),
                format!(
                    "{} allows {} {unit}",
                    shape.name(),
                    bounds(len.min, len.max)
                ),
            );
        }
    }

    fn string(&mut self, path: &str, shape: &Shape, traits: &Traits, s: &str) {
        let value = Value::String(s.to_owned());
        // Smithy's length trait counts Unicode scalar values for strings.
        self.length(
            path,
            shape,
            traits,
            s.chars().count() as u64,
            "characters",
            &value,
        );
        if let Some(values) = &traits.enum_values
            && !values.iter().any(|e| e.value == s)
        {
            let list: Vec<&str> = values.iter().map(|e| e.value.as_str()).collect();
            let hint = crate::case::did_you_mean(s, list.iter().copied())
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            self.violation(
                path,
                &shape.id,
                "smithy.api#enum",
                short(&value),
                format!("{} is one of {}{hint}", shape.name(), list.join(", ")),
            );
        }
        if let Some(p) = &traits.pattern {
            let re = compiled(p);
            match re {
                Some(re) if !re.is_match(s) => self.violation(
                    path,
                    &shape.id,
                    "smithy.api#pattern",
                    short(&value),
                    format!("{} matches /{p}/", shape.name()),
                ),
                Some(_) => {}
                None => self.note(
                    path,
                    &shape.id,
                    "smithy.api#pattern",
                    short(&value),
                    format!("the pattern /{p}/ is not supported by the regex crate (look-around or backreference?), so it was not checked"),
                ),
            }
        }
    }

    fn number(
        &mut self,
        path: &str,
        shape: &Shape,
        traits: &Traits,
        kind: NumberKind,
        value: &Value,
    ) {
        let n = match value {
            Value::Number(n) => n,
            // awsJson sends non-finite floats as these strings (Smithy awsJson specification).
            Value::String(s)
                if !kind.is_integral()
                    && kind != NumberKind::BigDecimal
                    && matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") =>
            {
                return;
            }
            _ => return self.wrong_type(path, shape, value, "a JSON number"),
        };
        if kind.is_integral() {
            let whole = n.is_i64() || n.is_u64();
            if !whole {
                return self.wrong_type(path, shape, value, "a whole JSON number");
            }
            if let Some((lo, hi)) = kind.bounds() {
                let fits = n.as_i64().is_some_and(|i| (lo..=hi).contains(&i));
                if !fits {
                    self.violation(
                        path,
                        &shape.id,
                        "type",
                        short(value),
                        format!("a {} lies in {lo}..={hi}", kind.name()),
                    );
                    return;
                }
            }
            if let Some(values) = &traits.int_enum_values
                && !n.as_i64().is_some_and(|i| values.contains(&i))
            {
                self.violation(
                    path,
                    &shape.id,
                    "smithy.api#enum",
                    short(value),
                    format!("{} is one of {values:?}", shape.name()),
                );
            }
        }
        if let Some(range) = traits.range {
            let f = n.as_f64().unwrap_or(f64::NAN);
            let low = range.min.is_some_and(|min| f < min);
            let high = range.max.is_some_and(|max| f > max);
            if low || high {
                self.violation(
                    path,
                    &shape.id,
                    "smithy.api#range",
                    short(value),
                    format!(
                        "{} lies in {}",
                        shape.name(),
                        bounds(range.min.map(Num), range.max.map(Num))
                    ),
                );
            }
        }
    }

    fn timestamp(&mut self, path: &str, shape: &Shape, traits: &Traits, value: &Value) {
        let format = traits
            .timestamp_format
            .unwrap_or(TimestampFormat::EpochSeconds);
        let ok = match (format, value) {
            (TimestampFormat::EpochSeconds, Value::Number(_)) => true,
            (TimestampFormat::DateTime, Value::String(s)) => is_date_time(s),
            (TimestampFormat::HttpDate, Value::String(s)) => is_http_date(s),
            _ => false,
        };
        if !ok {
            self.violation(
                path,
                &shape.id,
                "smithy.api#timestampFormat",
                short(value),
                match format {
                    TimestampFormat::EpochSeconds => {
                        "awsJson sends a timestamp as epoch seconds, a JSON number".into()
                    }
                    TimestampFormat::DateTime => "an RFC 3339 date-time string".into(),
                    TimestampFormat::HttpDate => "an IMF-fixdate (http-date) string".into(),
                },
            );
        }
    }
}

/// The compiled form of a pattern (`None`: it does not compile with `regex`), compiled once per
/// process: a suite validates the same few patterns in every response.
fn compiled(pattern: &str) -> Option<Regex> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Regex>>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    cache
        .entry(pattern.to_owned())
        .or_insert_with(|| Regex::new(pattern).ok())
        .clone()
}

/// A number shown without a needless `.0`.
struct Num(f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.fract() == 0.0 && self.0.abs() < 1e15 {
            write!(f, "{}", self.0 as i64)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

fn bounds<T: fmt::Display>(min: Option<T>, max: Option<T>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("{a}..={b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "any".into(),
    }
}

fn join(codes: &[u16]) -> String {
    codes
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `body.name` for identifier-like names, `body["a b"]` for others.
fn member_path(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", Value::String(key.to_owned()))
    }
}

/// A value as compact JSON, cut at 80 characters.
fn short(value: &Value) -> String {
    short_text(&value.to_string())
}

fn short_text(s: &str) -> String {
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s.to_owned()
    }
}

fn is_date_time(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
        )
        .expect("valid")
    });
    let Some(c) = re.captures(s) else {
        return false;
    };
    let n = |i: usize| c[i].parse::<u32>().unwrap_or(99);
    (1..=12).contains(&n(2)) && (1..=31).contains(&n(3)) && n(4) < 24 && n(5) < 60 && n(6) <= 60
}

fn is_http_date(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (0[1-9]|[12]\d|3[01]) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} ([01]\d|2[0-3]):[0-5]\d:[0-5]\d GMT$",
        )
        .expect("valid")
    })
    .is_match(s)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::model::{load_model, parse_model};

    fn inspector() -> Model {
        load_model(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("cases/inspector/model/inspector-2016-02-16.json"),
        )
        .unwrap()
    }

    fn check(
        m: &Model,
        op: &str,
        status: u16,
        headers: &[(&str, &str)],
        body: Value,
    ) -> Validation {
        let headers: Headers = headers.iter().copied().collect();
        let op = m.operation(op).unwrap();
        validate_response(m, op, status, &headers, body.to_string().as_bytes())
    }

    fn start(status: u16, body: Value) -> Validation {
        check(&inspector(), "StartAssessmentRun", status, &[], body)
    }

    /// The one violation, with its path and rule.
    fn only(v: &Validation) -> &Finding {
        let all: Vec<_> = v.violations().collect();
        assert_eq!(all.len(), 1, "{all:#?}");
        all[0]
    }

    const RUN: &str = "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T/run/0-jOoroxyY";

    #[test]
    fn common_errors_data_reads() {
        assert!(
            common_errors()
                .iter()
                .any(|c| c.name == "UnknownOperationException")
        );
        assert!(common_errors_source().contains("PROTOCOL-NOTES"));
    }

    #[test]
    fn the_documented_sample_is_valid() {
        let v = start(200, json!({ "assessmentRunArn": RUN }));
        assert!(v.findings.is_empty(), "{v:#?}");
    }

    #[test]
    fn a_wrong_type_fails_with_path_and_trait() {
        let v = start(200, json!({ "assessmentRunArn": 5 }));
        let f = only(&v);
        assert_eq!(
            (f.path.as_str(), f.rule.as_str()),
            ("body.assessmentRunArn", "type")
        );
        assert_eq!(f.shape, "com.amazonaws.inspector#Arn");
        assert_eq!(f.found, "5");
    }

    #[test]
    fn a_missing_required_member_fails() {
        for body in [json!({}), json!({ "assessmentRunArn": null })] {
            let v = start(200, body);
            let f = only(&v);
            assert_eq!(f.path, "body.assessmentRunArn");
            assert_eq!(f.rule, "smithy.api#required");
            assert_eq!(
                f.shape,
                "com.amazonaws.inspector#StartAssessmentRunResponse"
            );
        }
        // An empty body reads as `{}`.
        let m = inspector();
        let op = m.operation("StartAssessmentRun").unwrap();
        let v = validate_response(&m, op, 200, &Headers::new(), b"");
        assert_eq!(only(&v).rule, "smithy.api#required");
    }

    #[test]
    fn a_too_long_string_fails_counting_scalar_values() {
        let v = start(200, json!({ "assessmentRunArn": "a".repeat(301) }));
        let f = only(&v);
        assert_eq!(f.rule, "smithy.api#length");
        assert!(f.found.starts_with("301 characters"), "{f}");
        // 300 astral-plane characters are 600 UTF-16 units but 300 scalar values: valid.
        let v = start(200, json!({ "assessmentRunArn": "😀".repeat(300) }));
        assert!(v.is_valid(), "{v:#?}");
        let v = start(200, json!({ "assessmentRunArn": "" }));
        assert_eq!(only(&v).rule, "smithy.api#length");
    }

    #[test]
    fn an_out_of_enum_value_fails() {
        let body = json!({"__type": "NoSuchEntityException", "message": "m",
                          "errorCode": "NOT_A_CODE", "canRetry": false});
        let v = start(400, body);
        let f = only(&v);
        assert_eq!(
            (f.path.as_str(), f.rule.as_str()),
            ("body.errorCode", "smithy.api#enum")
        );
        assert_eq!(f.shape, "com.amazonaws.inspector#NoSuchEntityErrorCode");
        assert_eq!(f.found, "\"NOT_A_CODE\"");
    }

    #[test]
    fn declared_errors_are_checked_against_their_shape() {
        let ok = json!({"__type": "com.amazonaws.inspector#NoSuchEntityException",
                        "Message": "m", "errorCode": "ASSESSMENT_TEMPLATE_DOES_NOT_EXIST",
                        "canRetry": false});
        let v = start(400, ok);
        assert!(v.findings.is_empty(), "{v:#?}");
        let v = start(
            400,
            json!({"__type": "NoSuchEntityException", "message": "m"}),
        );
        let missing: Vec<_> = v.violations().map(|f| f.path.as_str()).collect();
        assert_eq!(missing, ["body.canRetry", "body.errorCode"]);
        // The model's status for AccessDenied is 403; a 400 (the API reference's) is a note.
        let v = start(
            400,
            json!({"__type": "AccessDeniedException", "message": "m",
            "errorCode": "ACCESS_DENIED_TO_ASSESSMENT_TEMPLATE", "canRetry": false}),
        );
        assert!(v.is_valid(), "{v:#?}");
        assert_eq!(v.notes().next().unwrap().rule, "smithy.api#httpError");
        // A nested list element is named by index.
        let v = start(
            400,
            json!({"__type": "AgentsAlreadyRunningAssessmentException",
            "message": "m", "canRetry": false, "agentsTruncated": false,
            "agents": [{"agentId": "i-1", "assessmentRunArn": RUN},
                       {"agentId": "x".repeat(129), "assessmentRunArn": RUN}]}),
        );
        let f = only(&v);
        assert_eq!(
            (f.path.as_str(), f.rule.as_str()),
            ("body.agents[1].agentId", "smithy.api#length")
        );
        let v = start(
            400,
            json!({"__type": "AgentsAlreadyRunningAssessmentException",
            "message": "m", "canRetry": false, "agentsTruncated": false, "agents": []}),
        );
        assert_eq!(only(&v).rule, "smithy.api#length");
    }

    #[test]
    fn an_undeclared_error_type_fails() {
        let v = start(
            400,
            json!({"__type": "NoSuchEntityExceptio", "message": "m"}),
        );
        let f = only(&v);
        assert_eq!(
            (f.path.as_str(), f.rule.as_str()),
            ("body.__type", "errors")
        );
        assert!(
            f.message.contains("did you mean `NoSuchEntityException`?"),
            "{f}"
        );
        // An error other operations declare is not this one's.
        let v = start(
            400,
            json!({"__type": "AssessmentRunInProgressException", "message": "m"}),
        );
        assert_eq!(only(&v).rule, "errors");
        // A common error is known (its body has no shape); at a status its sources do not
        // give, a note.
        let v = start(404, json!({"__type": "UnknownOperationException"}));
        assert!(v.findings.is_empty(), "{v:#?}");
        let v = start(400, json!({"__type": "UnknownOperationException"}));
        assert!(v.is_valid(), "{v:#?}");
        assert_eq!(v.notes().next().unwrap().path, "status");
        // No type anywhere, or only where botocore does not look.
        let v = start(400, json!({"message": "m"}));
        assert_eq!(only(&v).path, "body.__type");
        let m = inspector();
        let v = check(
            &m,
            "StartAssessmentRun",
            400,
            &[("x-amzn-errortype", "InternalException")],
            json!({"message": "m", "canRetry": true}),
        );
        assert_eq!(only(&v).rule, "protocol");
    }

    #[test]
    fn extras_are_notes() {
        let v = start(200, json!({ "assessmentRunArn": RUN, "extra": {"x": 1} }));
        assert!(v.is_valid());
        let n: Vec<_> = v.notes().collect();
        assert_eq!(
            (n.len(), n[0].path.as_str(), n[0].rule.as_str()),
            (1, "body.extra", "member")
        );
        let v = start(200, json!([]));
        assert_eq!(only(&v).rule, "type");
        let m = inspector();
        let op = m.operation("StartAssessmentRun").unwrap();
        let v = validate_response(&m, op, 200, &Headers::new(), b"<html>");
        assert_eq!(only(&v).rule, "protocol");
    }

    /// A small awsJson1_0 model with every kind of shape and trait validation reads.
    fn kitchen() -> Model {
        let model = json!({"smithy": "2.0", "shapes": {
            "ex#Svc": {"type": "service", "version": "1", "operations": [{"target": "ex#Op"}],
                "traits": {"aws.protocols#awsJson1_0": {}, "aws.api#service": {"sdkId": "Ex", "endpointPrefix": "ex"}}},
            "ex#Op": {"type": "operation", "output": {"target": "ex#Out"}},
            "ex#Out": {"type": "structure", "members": {
                "tree": {"target": "ex#Tree"},
                "when": {"target": "smithy.api#Timestamp"},
                "iso": {"target": "smithy.api#Timestamp", "traits": {"smithy.api#timestampFormat": "date-time"}},
                "http": {"target": "smithy.api#Timestamp", "traits": {"smithy.api#timestampFormat": "http-date"}},
                "data": {"target": "ex#Data"},
                "count": {"target": "ex#Count"},
                "ratio": {"target": "smithy.api#Double"},
                "small": {"target": "smithy.api#Byte"},
                "id": {"target": "ex#Id"},
                "tags": {"target": "ex#Tags"},
                "pick": {"target": "ex#Pick"},
                "doc": {"target": "smithy.api#Document"}
            }},
            "ex#Tree": {"type": "structure", "members": {
                "name": {"target": "ex#Id", "traits": {"smithy.api#required": {}}},
                "children": {"target": "ex#Trees"}}},
            "ex#Trees": {"type": "list", "member": {"target": "ex#Tree"}},
            "ex#Data": {"type": "blob", "traits": {"smithy.api#length": {"max": 3}}},
            "ex#Count": {"type": "integer", "traits": {"smithy.api#range": {"min": 1, "max": 10}}},
            "ex#Id": {"type": "string", "traits": {"smithy.api#pattern": "^[a-z]+$"}},
            "ex#Tags": {"type": "map", "key": {"target": "ex#Id"}, "value": {"target": "smithy.api#String"},
                        "traits": {"smithy.api#length": {"max": 1}}},
            "ex#Pick": {"type": "union", "members": {"a": {"target": "smithy.api#String"}, "b": {"target": "smithy.api#Integer"}}}
        }});
        parse_model(
            Path::new("kitchen.json"),
            &serde_json::to_vec(&model).unwrap(),
        )
        .unwrap()
    }

    fn out(body: Value) -> Validation {
        check(&kitchen(), "Op", 200, &[], body)
    }

    #[test]
    fn recursion_ends_and_finds_deep_faults() {
        let mut tree = json!({"name": "leaf"});
        for _ in 0..50 {
            tree = json!({"name": "node", "children": [tree]});
        }
        assert!(out(json!({ "tree": tree.clone() })).findings.is_empty());
        let mut bad = json!({"name": "LEAF"});
        for _ in 0..3 {
            bad = json!({"name": "node", "children": [bad]});
        }
        let v = out(json!({ "tree": bad }));
        let f = only(&v);
        assert_eq!(f.path, "body.tree.children[0].children[0].children[0].name");
        assert_eq!(f.rule, "smithy.api#pattern");
        let v = out(json!({"tree": {"children": [null]}}));
        let rules: Vec<_> = v.violations().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, ["smithy.api#sparse", "smithy.api#required"]);
    }

    #[test]
    fn timestamps_as_awsjson_encodes_them() {
        assert!(
            out(json!({"when": 1700000000, "iso": "2024-01-02T03:04:05.5Z",
                           "http": "Tue, 02 Jan 2024 03:04:05 GMT"}))
            .findings
            .is_empty()
        );
        assert!(out(json!({"when": 1.5})).findings.is_empty());
        for body in [
            json!({"when": "2024-01-02T03:04:05Z"}),
            json!({"iso": 1700000000}),
            json!({"iso": "2024-13-02T03:04:05Z"}),
            json!({"http": "2024-01-02"}),
        ] {
            assert_eq!(only(&out(body)).rule, "smithy.api#timestampFormat");
        }
    }

    #[test]
    fn blobs_numbers_maps_unions() {
        assert!(
            out(
                json!({"data": "YWJj", "count": 10, "ratio": "NaN", "small": -128,
                           "tags": {"k": "v"}, "pick": {"b": 1}, "doc": [1, {"x": null}]})
            )
            .findings
            .is_empty()
        );
        let rule = |body| only(&out(body)).rule.clone();
        assert_eq!(rule(json!({"data": "not base64!"})), "type");
        assert_eq!(rule(json!({"data": "YWJjZA=="})), "smithy.api#length");
        assert_eq!(rule(json!({"count": 0})), "smithy.api#range");
        assert_eq!(rule(json!({"count": 11})), "smithy.api#range");
        assert_eq!(rule(json!({"count": 1.5})), "type");
        assert_eq!(rule(json!({"count": "1"})), "type");
        assert_eq!(rule(json!({"small": 128})), "type");
        assert_eq!(rule(json!({"ratio": "1.5"})), "type");
        assert_eq!(
            rule(json!({"tags": {"a": "1", "b": "2"}})),
            "smithy.api#length"
        );
        assert_eq!(rule(json!({"tags": {"A": "1"}})), "smithy.api#pattern");
        assert_eq!(rule(json!({"pick": {"a": "x", "b": 1}})), "union");
        assert_eq!(rule(json!({"pick": {}})), "union");
        let v = out(json!({"tags": {"A": "1"}}));
        assert_eq!(only(&v).path, "body.tags.A (key)");
    }

    #[test]
    fn findings_read_well() {
        let v = start(200, json!({ "assessmentRunArn": 5 }));
        assert_eq!(
            only(&v).to_string(),
            "body.assessmentRunArn: a string is a JSON string (type of com.amazonaws.inspector#Arn), found 5"
        );
    }
}
