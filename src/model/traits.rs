//! Reading Smithy traits (`"smithy.api#length": {"min": 1}`) into [`Traits`]. Traits conform does
//! not use are ignored; a trait it uses with a value of the wrong form is an error at its JSON
//! pointer, because a silently dropped constraint would make validation pass what it should not.

use std::path::Path;

use serde_json::{Map, Value};

use super::error::ModelError;
use super::types::{EnumValue, ErrorKind, Length, Range, TimestampFormat, Traits};

/// What a traits object says besides [`Traits`]: documentation and `required`.
pub(crate) struct ReadTraits {
    pub traits: Traits,
    pub documentation: Option<String>,
    pub required: bool,
}

pub(crate) fn read_smithy_traits(
    path: &Path,
    pointer: &str,
    traits: Option<&Value>,
) -> Result<ReadTraits, ModelError> {
    let mut out = ReadTraits {
        traits: Traits::default(),
        documentation: None,
        required: false,
    };
    let Some(traits) = traits else {
        return Ok(out);
    };
    let Some(traits) = traits.as_object() else {
        return Err(invalid(path, pointer, "`traits` must be an object"));
    };
    for (name, value) in traits {
        let here = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
        let t = &mut out.traits;
        match name.as_str() {
            "smithy.api#documentation" => out.documentation = value.as_str().map(str::to_owned),
            "smithy.api#required" => out.required = true,
            "smithy.api#length" => {
                let (min, max) = bounds(path, &here, value)?;
                t.length = Some(Length {
                    min: min.map(|v| non_negative(path, &here, v)).transpose()?,
                    max: max.map(|v| non_negative(path, &here, v)).transpose()?,
                });
            }
            "smithy.api#range" => {
                let (min, max) = bounds(path, &here, value)?;
                t.range = Some(Range { min, max });
            }
            "smithy.api#pattern" => t.pattern = Some(string(path, &here, value)?.to_owned()),
            "smithy.api#enum" => {
                let Some(items) = value.as_array() else {
                    return Err(invalid(path, &here, "`smithy.api#enum` must be a list"));
                };
                let mut values = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{here}/{i}");
                    let v = item
                        .get("value")
                        .and_then(Value::as_str)
                        .ok_or_else(|| invalid(path, &at, "an enum definition needs a `value`"))?;
                    values.push(EnumValue {
                        value: v.to_owned(),
                        name: item.get("name").and_then(Value::as_str).map(str::to_owned),
                    });
                }
                t.enum_values = Some(values);
            }
            "smithy.api#timestampFormat" => {
                t.timestamp_format = Some(match string(path, &here, value)? {
                    "epoch-seconds" => TimestampFormat::EpochSeconds,
                    "date-time" => TimestampFormat::DateTime,
                    "http-date" => TimestampFormat::HttpDate,
                    other => {
                        return Err(invalid(
                            path,
                            &here,
                            &format!(
                                "unknown timestampFormat `{other}` (epoch-seconds, date-time, http-date)"
                            ),
                        ));
                    }
                });
            }
            "smithy.api#error" => {
                t.error = Some(match string(path, &here, value)? {
                    "client" => ErrorKind::Client,
                    "server" => ErrorKind::Server,
                    other => {
                        return Err(invalid(
                            path,
                            &here,
                            &format!("`smithy.api#error` is `client` or `server`, not `{other}`"),
                        ));
                    }
                });
            }
            "smithy.api#httpError" => {
                let code = value
                    .as_u64()
                    .filter(|c| (100..=599).contains(c))
                    .ok_or_else(|| invalid(path, &here, "`httpError` must be a status code"))?;
                t.http_error = Some(code as u16);
            }
            "smithy.api#default" => t.default = Some(value.clone()),
            "smithy.api#jsonName" => t.json_name = Some(string(path, &here, value)?.to_owned()),
            "smithy.api#sparse" => t.sparse = true,
            "smithy.api#sensitive" => t.sensitive = true,
            "smithy.api#deprecated" => t.deprecated = true,
            _ => {}
        }
    }
    Ok(out)
}

fn bounds(
    path: &Path,
    pointer: &str,
    value: &Value,
) -> Result<(Option<f64>, Option<f64>), ModelError> {
    let Some(obj) = value.as_object() else {
        return Err(invalid(
            path,
            pointer,
            "must be an object with `min` and/or `max`",
        ));
    };
    Ok((
        number(path, pointer, obj, "min")?,
        number(path, pointer, obj, "max")?,
    ))
}

fn number(
    path: &Path,
    pointer: &str,
    obj: &Map<String, Value>,
    key: &str,
) -> Result<Option<f64>, ModelError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        // Smithy allows big decimals written as strings; the AWS models do not use them, so
        // a string that parses is accepted and anything else refused.
        Some(Value::String(s)) => s
            .parse::<f64>()
            .map(Some)
            .map_err(|_| invalid(path, &format!("{pointer}/{key}"), "must be a number")),
        Some(_) => Err(invalid(
            path,
            &format!("{pointer}/{key}"),
            "must be a number",
        )),
    }
}

fn non_negative(path: &Path, pointer: &str, v: f64) -> Result<u64, ModelError> {
    if v >= 0.0 && v.fract() == 0.0 {
        Ok(v as u64)
    } else {
        Err(invalid(
            path,
            pointer,
            "a length bound must be a whole number ≥ 0",
        ))
    }
}

fn string<'a>(path: &Path, pointer: &str, value: &'a Value) -> Result<&'a str, ModelError> {
    value
        .as_str()
        .ok_or_else(|| invalid(path, pointer, "must be a string"))
}

pub(crate) fn invalid(path: &Path, pointer: &str, message: &str) -> ModelError {
    ModelError::Invalid {
        path: path.to_owned(),
        pointer: if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer.to_owned()
        },
        message: message.to_owned(),
    }
}
