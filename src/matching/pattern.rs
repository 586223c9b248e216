//! Expected values: JSON with matchers in it.
//!
//! A `Pattern` is parsed from the JSON value a case file gives (`body`, header values, error
//! members) and is resolved against variables before each comparison. Pure: no I/O.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use regex::Regex;
use serde_json::Value;

use crate::vars::{self, UndefinedVar, Vars};

/// One step in a path into a YAML/JSON document, used to point errors at their place.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// An expected value.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum Pattern {
    /// `null`, booleans and numbers, compared exactly.
    Scalar(Value),
    /// A string, which may contain `{{variables}}`.
    String(String),
    Array(#[serde(deserialize_with = "exact_vec")] Vec<Pattern>),
    Object(#[serde(deserialize_with = "exact_vec")] Vec<(String, Pattern)>),
    Matcher(Box<Matcher>),
}

/// A check on a value that varies, named after what it checks.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum Matcher {
    Uuid,
    Arn,
    AnyString,
    Any,
    Regex(RegexPattern),
    Length {
        min: Option<usize>,
        max: Option<usize>,
    },
    OneOf(#[serde(deserialize_with = "exact_vec")] Vec<Pattern>),
    Type(JsonType),
    Not(Pattern),
    /// Every item of a list matches the inner pattern.
    Each(Pattern),
    /// Every inner pattern matches (for example a length and `each`).
    AllOf(#[serde(deserialize_with = "exact_vec")] Vec<Pattern>),
    /// A literal that would otherwise read as a matcher. Strings in it may hold variables.
    Literal(Value),
}

/// A regex as written, and compiled once when it holds no variables.
#[derive(Clone, Debug)]
pub struct RegexPattern {
    pub source: String,
    compiled: Option<Arc<Regex>>,
}

/// A list read back at its own size: serde's `Vec` grows by doubling from four, and a case read
/// from the parsed cache is mostly one- and two-item lists kept for the whole run.
pub fn exact_vec<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    let mut items = <Vec<T> as serde::Deserialize>::deserialize(deserializer)?;
    items.shrink_to_fit();
    Ok(items)
}

/// Kept (in the parsed cache of converted cases) as its source; read back, it is compiled
/// again (once per process, `compile`), having been checked when its case was first read.
impl serde::Serialize for RegexPattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> serde::Deserialize<'de> for RegexPattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        let compiled = if vars::has_vars(&source) {
            None
        } else {
            Some(compile(&source).map_err(serde::de::Error::custom)?)
        };
        Ok(Self { source, compiled })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
    Null,
}

impl JsonType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "number" => Self::Number,
            "integer" => Self::Integer,
            "boolean" => Self::Boolean,
            "array" => Self::Array,
            "object" => Self::Object,
            "null" => Self::Null,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
            Self::Array => "array",
            Self::Object => "object",
            Self::Null => "null",
        }
    }

    pub fn of(value: &Value) -> Self {
        match value {
            Value::String(_) => Self::String,
            Value::Number(n) if n.is_i64() || n.is_u64() => Self::Integer,
            Value::Number(_) => Self::Number,
            Value::Bool(_) => Self::Boolean,
            Value::Array(_) => Self::Array,
            Value::Object(_) => Self::Object,
            Value::Null => Self::Null,
        }
    }

    pub fn accepts(self, value: &Value) -> bool {
        let actual = Self::of(value);
        actual == self || (self == Self::Number && actual == Self::Integer)
    }
}

/// The keys that make a one-key mapping a matcher.
pub const MATCHER_KEYS: &[&str] = &[
    "matches", "regex", "length", "one_of", "type", "not", "literal", "each", "all_of",
];

/// Named values for `matches:`.
pub const MATCHES_NAMES: &[&str] = &["uuid", "arn", "any-string", "any"];

/// A pattern that could not be parsed, with where (relative to the value parsed) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    pub path: Vec<Seg>,
    pub message: String,
}

impl Pattern {
    /// Parses a value from a case file. A mapping with exactly one key from [`MATCHER_KEYS`]
    /// is a matcher; anything else is literal JSON (whose strings may hold variables).
    pub fn parse(value: &Value) -> Result<Pattern, PatternError> {
        let mut path = Vec::new();
        parse_at(value, &mut path)
    }

    /// A literal value, with no matchers in it (recorded requests are literal).
    pub fn literal(value: &Value) -> Pattern {
        match value {
            Value::String(s) => Pattern::String(s.clone()),
            Value::Array(items) => Pattern::Array(items.iter().map(Pattern::literal).collect()),
            Value::Object(map) => Pattern::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Pattern::literal(v)))
                    .collect(),
            ),
            other => Pattern::Scalar(other.clone()),
        }
    }

    /// Every variable name used anywhere in the pattern.
    pub fn var_names(&self, out: &mut Vec<String>) {
        match self {
            Pattern::Scalar(_) => {}
            Pattern::String(s) => out.extend(vars::names(s).map(str::to_owned)),
            Pattern::Array(items) => items.iter().for_each(|p| p.var_names(out)),
            Pattern::Object(members) => members.iter().for_each(|(_, p)| p.var_names(out)),
            Pattern::Matcher(m) => match &**m {
                Matcher::Regex(r) => out.extend(vars::names(&r.source).map(str::to_owned)),
                Matcher::OneOf(items) => items.iter().for_each(|p| p.var_names(out)),
                Matcher::Not(p) | Matcher::Each(p) => p.var_names(out),
                Matcher::AllOf(items) => items.iter().for_each(|p| p.var_names(out)),
                Matcher::Literal(v) => Pattern::literal(v).var_names(out),
                _ => {}
            },
        }
    }

    /// Fills in variables and compiles the regexes that hold them.
    pub fn resolve(&self, vars: &Vars) -> Result<Pattern, ResolveError> {
        Ok(match self {
            Pattern::Scalar(v) => Pattern::Scalar(v.clone()),
            Pattern::String(s) => Pattern::String(vars::substitute(s, vars, false)?),
            Pattern::Array(items) => Pattern::Array(
                items
                    .iter()
                    .map(|p| p.resolve(vars))
                    .collect::<Result<_, _>>()?,
            ),
            Pattern::Object(members) => Pattern::Object(
                members
                    .iter()
                    .map(|(k, p)| Ok((k.clone(), p.resolve(vars)?)))
                    .collect::<Result<_, ResolveError>>()?,
            ),
            Pattern::Matcher(m) => Pattern::Matcher(Box::new(match &**m {
                Matcher::Regex(r) if r.compiled.is_none() => {
                    let source = vars::substitute(&r.source, vars, true)?;
                    let compiled = compile(&source).map_err(|e| ResolveError::Regex {
                        pattern: source.clone(),
                        message: e.to_string(),
                    })?;
                    Matcher::Regex(RegexPattern {
                        source,
                        compiled: Some(compiled),
                    })
                }
                Matcher::OneOf(items) => Matcher::OneOf(
                    items
                        .iter()
                        .map(|p| p.resolve(vars))
                        .collect::<Result<_, _>>()?,
                ),
                Matcher::Not(p) => Matcher::Not(p.resolve(vars)?),
                Matcher::Each(p) => Matcher::Each(p.resolve(vars)?),
                Matcher::AllOf(items) => Matcher::AllOf(
                    items
                        .iter()
                        .map(|p| p.resolve(vars))
                        .collect::<Result<_, _>>()?,
                ),
                Matcher::Literal(v) => Matcher::Literal(resolve_value(v, vars)?),
                other => other.clone(),
            })),
        })
    }
}

/// Why a pattern could not be made ready for a comparison.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Undefined(#[from] UndefinedVar),
    #[error("invalid regex `{pattern}`: {message}")]
    Regex { pattern: String, message: String },
}

/// Fills variables into every string of a JSON value (request bodies, literals).
pub fn resolve_value(value: &Value, vars: &Vars) -> Result<Value, UndefinedVar> {
    Ok(match value {
        Value::String(s) => Value::String(vars::substitute(s, vars, false)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve_value(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), resolve_value(v, vars)?)))
                .collect::<Result<_, UndefinedVar>>()?,
        ),
        other => other.clone(),
    })
}

fn parse_at(value: &Value, path: &mut Vec<Seg>) -> Result<Pattern, PatternError> {
    let err = |path: &Vec<Seg>, message: String| PatternError {
        path: path.clone(),
        message,
    };
    match value {
        Value::String(s) => Ok(Pattern::String(s.clone())),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                out.push(parse_at(item, path)?);
                path.pop();
            }
            Ok(Pattern::Array(out))
        }
        Value::Object(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next().expect("one member");
            if !MATCHER_KEYS.contains(&key.as_str()) {
                path.push(Seg::Key(key.clone()));
                let inner = parse_at(arg, path)?;
                path.pop();
                return Ok(Pattern::Object(vec![(key.clone(), inner)]));
            }
            path.push(Seg::Key(key.clone()));
            let matcher = parse_matcher(key, arg, path).map_err(|m| err(path, m))?;
            let matcher = match matcher {
                Parsed::Done(m) => m,
                Parsed::Nested(kind) => parse_nested(kind, arg, path)?,
            };
            path.pop();
            Ok(Pattern::Matcher(Box::new(matcher)))
        }
        Value::Object(map) => {
            let mut members = Vec::with_capacity(map.len());
            for (k, v) in map {
                path.push(Seg::Key(k.clone()));
                members.push((k.clone(), parse_at(v, path)?));
                path.pop();
            }
            Ok(Pattern::Object(members))
        }
        other => Ok(Pattern::Scalar(other.clone())),
    }
}

enum Parsed {
    Done(Matcher),
    Nested(&'static str),
}

fn parse_matcher(key: &str, arg: &Value, path: &[Seg]) -> Result<Parsed, String> {
    let _ = path;
    let text = |what: &str| -> Result<&str, String> {
        arg.as_str()
            .ok_or_else(|| format!("`{key}` takes {what}, found {}", describe(arg)))
    };
    Ok(Parsed::Done(match key {
        "matches" => match text("a name (uuid, arn, any-string, any) or a regex")? {
            "uuid" => Matcher::Uuid,
            "arn" => Matcher::Arn,
            "any-string" => Matcher::AnyString,
            "any" => Matcher::Any,
            regex => Matcher::Regex(RegexPattern::new(regex)?),
        },
        "regex" => Matcher::Regex(RegexPattern::new(text("a regex string")?)?),
        "type" => {
            let name = text("a JSON type name")?;
            Matcher::Type(JsonType::parse(name).ok_or_else(|| {
                format!(
                    "unknown JSON type `{name}`, expected one of string, number, integer, boolean, array, object, null"
                )
            })?)
        }
        "length" => {
            let obj = arg.as_object().ok_or_else(|| {
                format!(
                    "`length` takes a mapping like {{min: 1, max: 140}}, found {}",
                    describe(arg)
                )
            })?;
            let mut min = None;
            let mut max = None;
            for (k, v) in obj {
                let n = v.as_u64().ok_or_else(|| {
                    format!("`length.{k}` must be a whole number, found {}", describe(v))
                })? as usize;
                match k.as_str() {
                    "min" => min = Some(n),
                    "max" => max = Some(n),
                    other => {
                        return Err(format!(
                            "unknown key `{other}` in `length`, expected `min` or `max`"
                        ));
                    }
                }
            }
            if min.is_none() && max.is_none() {
                return Err("`length` needs `min`, `max` or both".into());
            }
            if let (Some(a), Some(b)) = (min, max)
                && a > b
            {
                return Err(format!("`length` has min {a} above max {b}"));
            }
            Matcher::Length { min, max }
        }
        "literal" => Matcher::Literal(arg.clone()),
        "one_of" | "all_of" => {
            if !arg.is_array() || arg.as_array().is_some_and(Vec::is_empty) {
                return Err(format!(
                    "`{key}` takes a non-empty list, found {}",
                    describe(arg)
                ));
            }
            return Ok(Parsed::Nested(if key == "one_of" {
                "one_of"
            } else {
                "all_of"
            }));
        }
        "not" => return Ok(Parsed::Nested("not")),
        "each" => return Ok(Parsed::Nested("each")),
        _ => unreachable!("only MATCHER_KEYS reach here"),
    }))
}

fn parse_nested(kind: &str, arg: &Value, path: &mut Vec<Seg>) -> Result<Matcher, PatternError> {
    match kind {
        "one_of" | "all_of" => {
            let mut items = Vec::new();
            for (i, item) in arg.as_array().into_iter().flatten().enumerate() {
                path.push(Seg::Index(i));
                items.push(parse_at(item, path)?);
                path.pop();
            }
            Ok(if kind == "one_of" {
                Matcher::OneOf(items)
            } else {
                Matcher::AllOf(items)
            })
        }
        "each" => Ok(Matcher::Each(parse_at(arg, path)?)),
        _ => Ok(Matcher::Not(parse_at(arg, path)?)),
    }
}

impl RegexPattern {
    /// Checks the regex now (with every variable standing in as plain text) so that a bad one
    /// is a case-file error, not a run-time surprise; compiles it for good if it has no
    /// variables.
    pub fn new(source: &str) -> Result<Self, String> {
        let probe_vars: Vars = vars::names(source)
            .map(|n| (n.to_owned(), "x".to_owned()))
            .collect();
        let probe = vars::substitute(source, &probe_vars, true).map_err(|e| e.to_string())?;
        let compiled = compile(&probe)
            .map_err(|e| format!("invalid regex: {}", first_line(&e.to_string())))?;
        Ok(Self {
            source: source.to_owned(),
            compiled: (!vars::has_vars(source)).then_some(compiled),
        })
    }

    pub fn is_match(&self, text: &str) -> bool {
        match &self.compiled {
            Some(r) => r.is_match(text),
            // Unresolved (still has variables): never matches; `resolve` compiles it first.
            None => false,
        }
    }
}

/// Compiles `source` once per process. A suite compiles the same few regexes (with the same
/// variables) once per case otherwise, which was half the runner's CPU; sharing one `Arc<Regex>`
/// (not a clone, which gets a cold cache pool) also keeps its lazy DFA warm across cases.
fn compile(source: &str) -> Result<Arc<Regex>, regex::Error> {
    static CACHE: LazyLock<Mutex<HashMap<String, Arc<Regex>>>> = LazyLock::new(Default::default);
    if let Some(r) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get(source) {
        return Ok(r.clone());
    }
    let compiled = Arc::new(Regex::new(source)?);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    // Bounded: a suite with a regex per distinct variable value must not grow without end.
    if cache.len() >= 4096 {
        cache.clear();
    }
    cache.insert(source.to_owned(), compiled.clone());
    Ok(compiled)
}

fn first_line(s: &str) -> String {
    // regex errors are multi-line with their own caret; keep the last line, the reason.
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_owned()
}

/// "a string", "a number 3", ... for error messages.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_key_mappings_with_matcher_keys_are_matchers() {
        let p = Pattern::parse(&json!({"a": {"matches": "uuid"}, "b": {"c": 1}})).unwrap();
        let Pattern::Object(members) = p else {
            panic!()
        };
        assert!(matches!(&members[0].1, Pattern::Matcher(m) if matches!(**m, Matcher::Uuid)));
        assert!(matches!(&members[1].1, Pattern::Object(_)));
    }

    #[test]
    fn bad_matchers_name_their_path() {
        let e = Pattern::parse(&json!({"a": [1, {"regex": "("}]})).unwrap_err();
        assert_eq!(
            e.path,
            vec![
                Seg::Key("a".into()),
                Seg::Index(1),
                Seg::Key("regex".into())
            ]
        );
        assert!(e.message.contains("invalid regex"), "{}", e.message);
        let e = Pattern::parse(&json!({"type": "str"})).unwrap_err();
        assert!(e.message.contains("unknown JSON type `str`"));
        let e = Pattern::parse(&json!({"length": {"min": 3, "max": 1}})).unwrap_err();
        assert!(e.message.contains("min 3 above max 1"));
    }

    #[test]
    fn regexes_with_variables_compile_on_resolve() {
        let p = Pattern::parse(&json!({"regex": "^{{arn}}/run$"})).unwrap();
        let mut names = Vec::new();
        p.var_names(&mut names);
        assert_eq!(names, ["arn"]);
        let vars: Vars = [("arn".to_string(), "a.b".to_string())].into();
        let Pattern::Matcher(m) = p.resolve(&vars).unwrap() else {
            panic!()
        };
        let Matcher::Regex(r) = *m else { panic!() };
        assert!(r.is_match("a.b/run"));
        assert!(!r.is_match("aXb/run"));
    }
}
