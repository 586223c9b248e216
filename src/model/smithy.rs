//! A Smithy JSON AST (the `aws/api-models-aws` form) into a [`Model`]. Handles the prelude
//! (`smithy.api#String` and friends, `smithy.api#Unit`), `enum` and `intEnum` shapes, Smithy
//! 1.0 `set` shapes (read as lists), and operations bound to resources.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value};

use super::error::{ModelError, pointer};
use super::traits::{invalid, read_smithy_traits};
use super::types::{
    EnumValue, Example, Member, Model, ModelSource, NumberKind, Operation, Protocol, Service,
    Shape, ShapeKind, Traits, shape_name,
};

const UNIT: &str = "smithy.api#Unit";

/// Protocol traits of other protocols: a service with one of these and no awsJson trait is
/// refused, naming it.
const OTHER_PROTOCOLS: &[&str] = &[
    "aws.protocols#restJson1",
    "aws.protocols#awsQuery",
    "aws.protocols#ec2Query",
    "aws.protocols#restXml",
    "smithy.protocols#rpcv2Cbor",
    "smithy.protocols#rpcv2Json",
];

pub(crate) fn parse(
    path: &Path,
    root: &Map<String, Value>,
    json: Vec<u8>,
) -> Result<Model, ModelError> {
    let shapes_json = root
        .get("shapes")
        .and_then(Value::as_object)
        .ok_or_else(|| ModelError::NotAModel {
            path: path.to_owned(),
            why: "`shapes` is missing or not an object".into(),
        })?;
    let services: Vec<(&String, &Map<String, Value>)> = shapes_json
        .iter()
        .filter_map(|(id, s)| s.as_object().map(|o| (id, o)))
        .filter(|(_, s)| s.get("type").and_then(Value::as_str) == Some("service"))
        .collect();
    let (service_id, service_json) = match services.as_slice() {
        [one] => *one,
        [] => {
            return Err(ModelError::NotAModel {
                path: path.to_owned(),
                why: "no shape of type `service`".into(),
            });
        }
        many => {
            return Err(invalid(
                path,
                "/shapes",
                &format!(
                    "{} service shapes ({}); conform reads one service per model file",
                    many.len(),
                    many.iter()
                        .map(|(id, _)| id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    };
    let service = read_service(path, service_id, service_json)?;

    // Every shape but the service, operations and resources.
    let mut shapes = BTreeMap::new();
    for (id, s) in shapes_json {
        let at = pointer(["shapes", id.as_str()]);
        let Some(obj) = s.as_object() else {
            return Err(invalid(path, &at, "a shape must be an object"));
        };
        let ty = obj
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(path, &at, "a shape needs a `type`"))?;
        if matches!(ty, "service" | "operation" | "resource" | "apply") {
            continue;
        }
        shapes.insert(id.clone(), read_shape(path, &at, id, ty, obj)?);
    }
    add_prelude(&mut shapes);

    // Operations: the service's, and those of its resources (and theirs), once each.
    let common_errors = targets(
        path,
        &pointer(["shapes", service_id]),
        service_json,
        "errors",
    )?;
    let mut op_ids = Vec::new();
    let mut seen_resources = BTreeSet::new();
    collect_operations(
        path,
        shapes_json,
        service_id,
        service_json,
        &mut op_ids,
        &mut seen_resources,
    )?;
    let mut operations = BTreeMap::new();
    for op_id in op_ids {
        let at = pointer(["shapes", op_id.as_str()]);
        let op_json = shapes_json
            .get(&op_id)
            .and_then(Value::as_object)
            .filter(|o| o.get("type").and_then(Value::as_str) == Some("operation"))
            .ok_or_else(|| ModelError::UnknownShape {
                path: path.to_owned(),
                pointer: pointer(["shapes", service_id, "operations"]),
                target: op_id.clone(),
                hint: String::new(),
            })?;
        let op = read_operation(path, &at, &op_id, op_json, &common_errors)?;
        operations.insert(op.name.clone(), op);
    }

    let model = Model {
        source: ModelSource::new(path, super::types::Format::Smithy, json),
        service,
        operations,
        shapes,
    };
    super::load::check_references(&model, |id| pointer(["shapes", id]))?;
    Ok(model)
}

fn read_service(path: &Path, id: &str, json: &Map<String, Value>) -> Result<Service, ModelError> {
    let at = pointer(["shapes", id, "traits"]);
    let traits = json.get("traits").and_then(Value::as_object);
    let has = |t: &str| traits.is_some_and(|tr| tr.contains_key(t));
    let protocol = if has("aws.protocols#awsJson1_1") {
        Protocol::AwsJson1_1
    } else if has("aws.protocols#awsJson1_0") {
        Protocol::AwsJson1_0
    } else if let Some(other) = OTHER_PROTOCOLS.iter().find(|p| has(p)) {
        return Err(ModelError::UnsupportedProtocol {
            path: path.to_owned(),
            pointer: at,
            protocol: other.rsplit('#').next().unwrap_or(other).to_owned(),
        });
    } else {
        return Err(invalid(
            path,
            &at,
            "the service has no protocol trait (expected aws.protocols#awsJson1_0 or aws.protocols#awsJson1_1)",
        ));
    };
    let aws_service = traits
        .and_then(|t| t.get("aws.api#service"))
        .and_then(Value::as_object);
    let field = |key: &str| {
        aws_service
            .and_then(|s| s.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let name = shape_name(id).to_owned();
    // aws.api#service: endpointPrefix defaults to arnNamespace (Smithy AWS traits spec).
    let endpoint_prefix = field("endpointPrefix")
        .or_else(|| field("arnNamespace"))
        .ok_or_else(|| {
            invalid(
                path,
                &at,
                "the service has no `aws.api#service` trait with `endpointPrefix` or `arnNamespace`",
            )
        })?;
    let signing_name = traits
        .and_then(|t| t.get("aws.auth#sigv4"))
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        // Without a sigv4 trait, botocore's fallback: the endpoint prefix.
        .unwrap_or_else(|| endpoint_prefix.clone());
    let read = read_smithy_traits(path, &at, json.get("traits"))?;
    Ok(Service {
        id: id.to_owned(),
        protocol,
        target_prefix: name.clone(),
        signing_name,
        endpoint_prefix,
        api_version: json
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        service_id: field("sdkId").unwrap_or(name),
        full_name: traits
            .and_then(|t| t.get("smithy.api#title"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        documentation: read.documentation,
    })
}

/// `[{"target": "a#B"}, ...]` under `key`, as ids.
fn targets(
    path: &Path,
    at: &str,
    json: &Map<String, Value>,
    key: &str,
) -> Result<Vec<String>, ModelError> {
    let Some(list) = json.get(key) else {
        return Ok(Vec::new());
    };
    let Some(list) = list.as_array() else {
        return Err(invalid(path, &format!("{at}/{key}"), "must be a list"));
    };
    list.iter()
        .enumerate()
        .map(|(i, t)| target(path, &format!("{at}/{key}/{i}"), t))
        .collect()
}

fn target(path: &Path, at: &str, value: &Value) -> Result<String, ModelError> {
    value
        .get("target")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| invalid(path, at, "expected {\"target\": \"<shape id>\"}"))
}

fn collect_operations(
    path: &Path,
    shapes: &Map<String, Value>,
    id: &str,
    json: &Map<String, Value>,
    out: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
) -> Result<(), ModelError> {
    let at = pointer(["shapes", id]);
    for key in ["operations", "collectionOperations"] {
        for op in targets(path, &at, json, key)? {
            if !out.contains(&op) {
                out.push(op);
            }
        }
    }
    for key in ["create", "put", "read", "update", "delete", "list"] {
        if let Some(v) = json.get(key) {
            let op = target(path, &format!("{at}/{key}"), v)?;
            if !out.contains(&op) {
                out.push(op);
            }
        }
    }
    for resource in targets(path, &at, json, "resources")? {
        // Resources may bind each other; each is visited once, so a cycle ends.
        if !seen.insert(resource.clone()) {
            continue;
        }
        let r = shapes
            .get(&resource)
            .and_then(Value::as_object)
            .ok_or_else(|| ModelError::UnknownShape {
                path: path.to_owned(),
                pointer: format!("{at}/resources"),
                target: resource.clone(),
                hint: String::new(),
            })?;
        collect_operations(path, shapes, &resource, r, out, seen)?;
    }
    Ok(())
}

fn read_operation(
    path: &Path,
    at: &str,
    id: &str,
    json: &Map<String, Value>,
    common_errors: &[String],
) -> Result<Operation, ModelError> {
    let io = |key: &str| -> Result<Option<String>, ModelError> {
        match json.get(key) {
            None => Ok(None),
            Some(v) => {
                let t = target(path, &format!("{at}/{key}"), v)?;
                Ok((t != UNIT).then_some(t))
            }
        }
    };
    let mut errors = targets(path, at, json, "errors")?;
    for e in common_errors {
        if !errors.contains(e) {
            errors.push(e.clone());
        }
    }
    let traits = read_smithy_traits(path, &format!("{at}/traits"), json.get("traits"))?;
    let examples = json
        .get("traits")
        .and_then(|t| t.get("smithy.api#examples"))
        .and_then(Value::as_array)
        .map(|list| list.iter().map(read_example).collect())
        .unwrap_or_default();
    Ok(Operation {
        name: shape_name(id).to_owned(),
        id: id.to_owned(),
        input: io("input")?,
        output: io("output")?,
        errors,
        documentation: traits.documentation,
        examples,
        deprecated: traits.traits.deprecated,
    })
}

fn read_example(v: &Value) -> Example {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Example {
        title: text("title").unwrap_or_default(),
        documentation: text("documentation"),
        input: v.get("input").cloned(),
        output: v.get("output").cloned(),
        error: v.get("error").and_then(|e| {
            Some((
                e.get("shapeId")?.as_str()?.to_owned(),
                e.get("content").cloned().unwrap_or(Value::Null),
            ))
        }),
    }
}

fn read_shape(
    path: &Path,
    at: &str,
    id: &str,
    ty: &str,
    json: &Map<String, Value>,
) -> Result<Shape, ModelError> {
    let read = read_smithy_traits(path, &format!("{at}/traits"), json.get("traits"))?;
    let mut traits = read.traits;
    let member = |name: &str| -> Result<Box<Member>, ModelError> {
        let m = json
            .get(name)
            .ok_or_else(|| invalid(path, at, &format!("a {ty} needs a `{name}`")))?;
        Ok(Box::new(read_member(
            path,
            &format!("{at}/{name}"),
            name,
            m,
        )?))
    };
    let kind = match ty {
        "structure" | "union" => {
            let members = members(path, at, json)?
                .into_iter()
                .map(|(m, _)| m)
                .collect();
            if ty == "structure" {
                ShapeKind::Structure(members)
            } else {
                ShapeKind::Union(members)
            }
        }
        "list" | "set" => ShapeKind::List(member("member")?),
        "map" => ShapeKind::Map {
            key: member("key")?,
            value: member("value")?,
        },
        "string" => ShapeKind::String,
        "enum" => {
            // Enum members target Unit; the wire value is `enumValue`, else the member name.
            let mut values = Vec::new();
            for (m, enum_value) in members(path, at, json)? {
                values.push(EnumValue {
                    value: enum_value
                        .as_ref()
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .unwrap_or_else(|| m.name.clone()),
                    name: Some(m.name),
                });
            }
            traits.enum_values = Some(values);
            ShapeKind::String
        }
        "intEnum" => {
            let mut values = Vec::new();
            for (m, enum_value) in members(path, at, json)? {
                let v = enum_value.as_ref().and_then(Value::as_i64).ok_or_else(|| {
                    invalid(
                        path,
                        &format!("{at}/members/{}", m.name),
                        "an intEnum member needs an integer `smithy.api#enumValue`",
                    )
                })?;
                values.push(v);
            }
            traits.int_enum_values = Some(values);
            ShapeKind::Number(NumberKind::Integer)
        }
        "byte" => ShapeKind::Number(NumberKind::Byte),
        "short" => ShapeKind::Number(NumberKind::Short),
        "integer" => ShapeKind::Number(NumberKind::Integer),
        "long" => ShapeKind::Number(NumberKind::Long),
        "float" => ShapeKind::Number(NumberKind::Float),
        "double" => ShapeKind::Number(NumberKind::Double),
        "bigInteger" => ShapeKind::Number(NumberKind::BigInteger),
        "bigDecimal" => ShapeKind::Number(NumberKind::BigDecimal),
        "boolean" => ShapeKind::Boolean,
        "blob" => ShapeKind::Blob,
        "timestamp" => ShapeKind::Timestamp,
        "document" => ShapeKind::Document,
        other => {
            return Err(invalid(
                path,
                &format!("{at}/type"),
                &format!("unknown shape type `{other}`"),
            ));
        }
    };
    Ok(Shape {
        id: id.to_owned(),
        kind,
        traits,
        documentation: read.documentation,
    })
}

fn members(
    path: &Path,
    at: &str,
    json: &Map<String, Value>,
) -> Result<Vec<(Member, Option<Value>)>, ModelError> {
    let Some(members) = json.get("members") else {
        return Ok(Vec::new());
    };
    let Some(members) = members.as_object() else {
        return Err(invalid(path, &format!("{at}/members"), "must be an object"));
    };
    members
        .iter()
        .map(|(name, m)| {
            let here = format!(
                "{at}/members/{}",
                name.replace('~', "~0").replace('/', "~1")
            );
            let member = read_member(path, &here, name, m)?;
            // Only meaningful in enum and intEnum shapes: the member's wire value.
            let enum_value = m
                .get("traits")
                .and_then(|t| t.get("smithy.api#enumValue"))
                .cloned();
            Ok((member, enum_value))
        })
        .collect()
}

fn read_member(path: &Path, at: &str, name: &str, json: &Value) -> Result<Member, ModelError> {
    let target = target(path, at, json)?;
    let read = read_smithy_traits(path, &format!("{at}/traits"), json.get("traits"))?;
    Ok(Member {
        name: name.to_owned(),
        target,
        required: read.required,
        traits: read.traits,
        documentation: read.documentation,
    })
}

/// The prelude shapes (Smithy 2.0 `smithy.api`) members may target, added unless the file
/// defines them itself.
fn add_prelude(shapes: &mut BTreeMap<String, Shape>) {
    let prelude: &[(&str, ShapeKind, bool)] = &[
        ("String", ShapeKind::String, false),
        ("Blob", ShapeKind::Blob, false),
        (
            "BigInteger",
            ShapeKind::Number(NumberKind::BigInteger),
            false,
        ),
        (
            "BigDecimal",
            ShapeKind::Number(NumberKind::BigDecimal),
            false,
        ),
        ("Timestamp", ShapeKind::Timestamp, false),
        ("Document", ShapeKind::Document, false),
        ("Boolean", ShapeKind::Boolean, false),
        ("PrimitiveBoolean", ShapeKind::Boolean, true),
        ("Byte", ShapeKind::Number(NumberKind::Byte), false),
        ("PrimitiveByte", ShapeKind::Number(NumberKind::Byte), true),
        ("Short", ShapeKind::Number(NumberKind::Short), false),
        ("PrimitiveShort", ShapeKind::Number(NumberKind::Short), true),
        ("Integer", ShapeKind::Number(NumberKind::Integer), false),
        (
            "PrimitiveInteger",
            ShapeKind::Number(NumberKind::Integer),
            true,
        ),
        ("Long", ShapeKind::Number(NumberKind::Long), false),
        ("PrimitiveLong", ShapeKind::Number(NumberKind::Long), true),
        ("Float", ShapeKind::Number(NumberKind::Float), false),
        ("PrimitiveFloat", ShapeKind::Number(NumberKind::Float), true),
        ("Double", ShapeKind::Number(NumberKind::Double), false),
        (
            "PrimitiveDouble",
            ShapeKind::Number(NumberKind::Double),
            true,
        ),
        ("Unit", ShapeKind::Unit, false),
    ];
    for (name, kind, primitive) in prelude {
        let id = format!("smithy.api#{name}");
        let mut traits = Traits::default();
        if *primitive {
            // Primitive prelude shapes carry a zero default (Smithy 2.0 prelude).
            traits.default = Some(match kind {
                ShapeKind::Boolean => Value::Bool(false),
                _ => Value::from(0),
            });
        }
        shapes.entry(id.clone()).or_insert(Shape {
            id,
            kind: kind.clone(),
            traits,
            documentation: None,
        });
    }
}
