//! A botocore `service-2.json` into a [`Model`]. botocore puts constraints on the shape itself
//! (`min`, `max`, `pattern`, `enum`, `required` on the structure), marks errors with
//! `exception` / `fault` / `error.httpStatusCode`, and names shapes without a namespace: the
//! shape ids of a botocore model are its bare shape names.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::error::{ModelError, pointer};
use super::traits::invalid;
use super::types::{
    EnumValue, ErrorKind, Format, Length, Member, Model, ModelSource, NumberKind, Operation,
    Protocol, Range, Service, Shape, ShapeKind, TimestampFormat, Traits,
};

pub(crate) fn parse(
    path: &Path,
    root: &Map<String, Value>,
    json: Vec<u8>,
) -> Result<Model, ModelError> {
    let object = |key: &str| {
        root.get(key)
            .and_then(Value::as_object)
            .ok_or_else(|| ModelError::NotAModel {
                path: path.to_owned(),
                why: format!("`{key}` is missing or not an object"),
            })
    };
    let metadata = object("metadata")?;
    let operations_json = object("operations")?;
    let shapes_json = object("shapes")?;
    let mut service = read_service(path, metadata)?;
    service.documentation = root
        .get("documentation")
        .and_then(Value::as_str)
        .map(str::to_owned);

    let mut shapes = BTreeMap::new();
    for (name, s) in shapes_json {
        let at = pointer(["shapes", name.as_str()]);
        let obj = s
            .as_object()
            .ok_or_else(|| invalid(path, &at, "a shape must be an object"))?;
        shapes.insert(name.clone(), read_shape(path, &at, name, obj)?);
    }

    let mut operations = BTreeMap::new();
    for (name, o) in operations_json {
        let at = pointer(["operations", name.as_str()]);
        let obj = o
            .as_object()
            .ok_or_else(|| invalid(path, &at, "an operation must be an object"))?;
        operations.insert(name.clone(), read_operation(path, &at, name, obj)?);
    }

    let model = Model {
        source: ModelSource::new(path, Format::Botocore, json),
        service,
        operations,
        shapes,
    };
    super::load::check_references(&model, |id| pointer(["shapes", id]))?;
    Ok(model)
}

fn read_service(path: &Path, m: &Map<String, Value>) -> Result<Service, ModelError> {
    let text = |key: &str| m.get(key).and_then(Value::as_str).map(str::to_owned);
    // Newer models list `protocols` in order of preference; `protocol` is the older single one.
    let mut protocols: Vec<String> = m
        .get("protocols")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(p) = text("protocol") {
        protocols.push(p);
    }
    let protocol = if protocols.iter().any(|p| p == "json") {
        let version = text("jsonVersion").ok_or_else(|| {
            invalid(
                path,
                "/metadata/jsonVersion",
                "a `json` protocol model needs `jsonVersion`",
            )
        })?;
        match version.as_str() {
            "1.0" => Protocol::AwsJson1_0,
            "1.1" => Protocol::AwsJson1_1,
            other => {
                return Err(ModelError::UnsupportedProtocol {
                    path: path.to_owned(),
                    pointer: "/metadata/jsonVersion".into(),
                    protocol: format!("json {other}"),
                });
            }
        }
    } else if let Some(first) = protocols.first() {
        let name = match first.as_str() {
            "rest-json" => "restJson1",
            "query" => "awsQuery",
            "ec2" => "ec2Query",
            "rest-xml" => "restXml",
            "smithy-rpc-v2-cbor" => "rpcv2Cbor",
            other => other,
        };
        return Err(ModelError::UnsupportedProtocol {
            path: path.to_owned(),
            pointer: "/metadata/protocol".into(),
            protocol: name.to_owned(),
        });
    } else {
        return Err(invalid(path, "/metadata", "no `protocol` in the metadata"));
    };
    let endpoint_prefix = text("endpointPrefix")
        .ok_or_else(|| invalid(path, "/metadata", "no `endpointPrefix` in the metadata"))?;
    let target_prefix = text("targetPrefix").ok_or_else(|| {
        invalid(
            path,
            "/metadata",
            "no `targetPrefix` in the metadata (an awsJson service needs one for X-Amz-Target)",
        )
    })?;
    let api_version = text("apiVersion").unwrap_or_default();
    Ok(Service {
        id: text("uid").unwrap_or_else(|| format!("{endpoint_prefix}-{api_version}")),
        protocol,
        target_prefix,
        // botocore signs with `signingName`, else the endpoint prefix.
        signing_name: text("signingName").unwrap_or_else(|| endpoint_prefix.clone()),
        service_id: text("serviceId").unwrap_or_else(|| endpoint_prefix.clone()),
        endpoint_prefix,
        api_version,
        full_name: text("serviceFullName"),
        documentation: None,
    })
}

fn read_operation(
    path: &Path,
    at: &str,
    name: &str,
    o: &Map<String, Value>,
) -> Result<Operation, ModelError> {
    let shape_ref = |key: &str| -> Result<Option<String>, ModelError> {
        match o.get(key) {
            None => Ok(None),
            Some(v) => v
                .get("shape")
                .and_then(Value::as_str)
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| invalid(path, &format!("{at}/{key}"), "expected {\"shape\": ...}")),
        }
    };
    let mut errors = Vec::new();
    if let Some(list) = o.get("errors") {
        let list = list
            .as_array()
            .ok_or_else(|| invalid(path, &format!("{at}/errors"), "must be a list"))?;
        for (i, e) in list.iter().enumerate() {
            let id = e.get("shape").and_then(Value::as_str).ok_or_else(|| {
                invalid(
                    path,
                    &format!("{at}/errors/{i}"),
                    "expected {\"shape\": ...}",
                )
            })?;
            if !errors.iter().any(|x| x == id) {
                errors.push(id.to_owned());
            }
        }
    }
    Ok(Operation {
        name: o
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(name)
            .to_owned(),
        id: name.to_owned(),
        input: shape_ref("input")?,
        output: shape_ref("output")?,
        errors,
        documentation: o
            .get("documentation")
            .and_then(Value::as_str)
            .map(str::to_owned),
        examples: Vec::new(),
        deprecated: o
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

fn read_shape(
    path: &Path,
    at: &str,
    name: &str,
    s: &Map<String, Value>,
) -> Result<Shape, ModelError> {
    let ty = s
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(path, at, "a shape needs a `type`"))?;
    let num = |key: &str| -> Result<Option<f64>, ModelError> {
        match s.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| invalid(path, &format!("{at}/{key}"), "must be a number")),
        }
    };
    let mut traits = Traits {
        pattern: s.get("pattern").and_then(Value::as_str).map(str::to_owned),
        sensitive: s.get("sensitive").and_then(Value::as_bool).unwrap_or(false),
        deprecated: s
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        sparse: s.get("sparse").and_then(Value::as_bool).unwrap_or(false),
        ..Traits::default()
    };
    let (min, max) = (num("min")?, num("max")?);
    if min.is_some() || max.is_some() {
        match ty {
            "integer" | "long" | "float" | "double" | "byte" | "short" => {
                traits.range = Some(Range { min, max });
            }
            _ => {
                let whole = |v: Option<f64>, key: &str| -> Result<Option<u64>, ModelError> {
                    v.map(|v| {
                        if v >= 0.0 && v.fract() == 0.0 {
                            Ok(v as u64)
                        } else {
                            Err(invalid(
                                path,
                                &format!("{at}/{key}"),
                                "must be a whole number ≥ 0",
                            ))
                        }
                    })
                    .transpose()
                };
                traits.length = Some(Length {
                    min: whole(min, "min")?,
                    max: whole(max, "max")?,
                });
            }
        }
    }
    if let Some(list) = s.get("enum") {
        let list = list
            .as_array()
            .ok_or_else(|| invalid(path, &format!("{at}/enum"), "must be a list"))?;
        traits.enum_values = Some(
            list.iter()
                .filter_map(Value::as_str)
                .map(|v| EnumValue {
                    value: v.to_owned(),
                    name: None,
                })
                .collect(),
        );
    }
    if let Some(f) = s.get("timestampFormat").and_then(Value::as_str) {
        traits.timestamp_format =
            Some(timestamp_format(path, &format!("{at}/timestampFormat"), f)?);
    }
    if s.get("exception").and_then(Value::as_bool) == Some(true) {
        let fault = s.get("fault").and_then(Value::as_bool) == Some(true);
        traits.error = Some(if fault {
            ErrorKind::Server
        } else {
            ErrorKind::Client
        });
        if let Some(e) = s.get("error").and_then(Value::as_object) {
            traits.http_error = e
                .get("httpStatusCode")
                .and_then(Value::as_u64)
                .map(|c| c as u16);
            traits.error_code = e.get("code").and_then(Value::as_str).map(str::to_owned);
        }
    }
    let member = |key: &str| -> Result<Box<Member>, ModelError> {
        let m = s
            .get(key)
            .ok_or_else(|| invalid(path, at, &format!("a {ty} needs a `{key}`")))?;
        Ok(Box::new(read_member(
            path,
            &format!("{at}/{key}"),
            key,
            m,
            false,
        )?))
    };
    let kind = match ty {
        "structure" if s.get("document").and_then(Value::as_bool) == Some(true) => {
            ShapeKind::Document
        }
        "structure" => {
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut members = Vec::new();
            if let Some(ms) = s.get("members") {
                let ms = ms
                    .as_object()
                    .ok_or_else(|| invalid(path, &format!("{at}/members"), "must be an object"))?;
                for (n, m) in ms {
                    let here = format!("{at}/members/{}", n.replace('~', "~0").replace('/', "~1"));
                    members.push(read_member(
                        path,
                        &here,
                        n,
                        m,
                        required.contains(&n.as_str()),
                    )?);
                }
            }
            for r in &required {
                if !members.iter().any(|m| m.name == *r) {
                    return Err(invalid(
                        path,
                        &format!("{at}/required"),
                        &format!("`{r}` is required but is not a member"),
                    ));
                }
            }
            if s.get("union").and_then(Value::as_bool) == Some(true) {
                ShapeKind::Union(members)
            } else {
                ShapeKind::Structure(members)
            }
        }
        "list" => ShapeKind::List(member("member")?),
        "map" => ShapeKind::Map {
            key: member("key")?,
            value: member("value")?,
        },
        "string" => ShapeKind::String,
        "integer" => ShapeKind::Number(NumberKind::Integer),
        "long" => ShapeKind::Number(NumberKind::Long),
        "byte" => ShapeKind::Number(NumberKind::Byte),
        "short" => ShapeKind::Number(NumberKind::Short),
        "float" => ShapeKind::Number(NumberKind::Float),
        "double" => ShapeKind::Number(NumberKind::Double),
        "boolean" => ShapeKind::Boolean,
        "blob" => ShapeKind::Blob,
        "timestamp" => ShapeKind::Timestamp,
        other => {
            return Err(invalid(
                path,
                &format!("{at}/type"),
                &format!("unknown shape type `{other}`"),
            ));
        }
    };
    Ok(Shape {
        id: name.to_owned(),
        kind,
        traits,
        documentation: s
            .get("documentation")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn read_member(
    path: &Path,
    at: &str,
    name: &str,
    m: &Value,
    required: bool,
) -> Result<Member, ModelError> {
    let target = m
        .get("shape")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(path, at, "expected {\"shape\": ...}"))?;
    let mut traits = Traits {
        deprecated: m
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        ..Traits::default()
    };
    if let Some(f) = m.get("timestampFormat").and_then(Value::as_str) {
        traits.timestamp_format =
            Some(timestamp_format(path, &format!("{at}/timestampFormat"), f)?);
    }
    Ok(Member {
        name: name.to_owned(),
        target: target.to_owned(),
        required,
        traits,
        documentation: m
            .get("documentation")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// botocore's names for the Smithy timestamp formats.
fn timestamp_format(path: &Path, at: &str, f: &str) -> Result<TimestampFormat, ModelError> {
    match f {
        "unixTimestamp" => Ok(TimestampFormat::EpochSeconds),
        "iso8601" => Ok(TimestampFormat::DateTime),
        "rfc822" => Ok(TimestampFormat::HttpDate),
        other => Err(invalid(
            path,
            at,
            &format!("unknown timestampFormat `{other}` (unixTimestamp, iso8601, rfc822)"),
        )),
    }
}
