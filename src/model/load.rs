//! Reading a model file: plain or gzipped JSON, Smithy or botocore (told apart by their top-level
//! keys), hashed, and checked so that every shape reference resolves. Reading is the only I/O in
//! the model module; nothing is ever written.

use std::io::Read;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::ModelError;
use super::types::{Model, shape_name};

/// Loads a Smithy JSON AST or a botocore `service-2.json`, plain or `.gz`.
pub fn load_model(path: &Path) -> Result<Model, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_model(path, &bytes)
}

/// [`load_model`] from bytes already read; `path` is only used in messages. Gzip is recognised
/// by its magic bytes, so a `.gz` name is not required (but a `.gz` name on plain bytes is an
/// error, since the file is then not what it says).
pub fn parse_model(path: &Path, bytes: &[u8]) -> Result<Model, ModelError> {
    let json = decompress(path, bytes)?;
    let root: Value = serde_json::from_slice(&json).map_err(|e| ModelError::NotJson {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    let Some(obj) = root.as_object() else {
        return Err(ModelError::NotAModel {
            path: path.to_owned(),
            why: "the top level is not a JSON object".into(),
        });
    };
    if obj.contains_key("smithy") {
        super::smithy::parse(path, obj, json)
    } else if obj.contains_key("metadata") && obj.contains_key("operations") {
        super::botocore::parse(path, obj, json)
    } else {
        Err(ModelError::NotAModel {
            path: path.to_owned(),
            why: "neither a `smithy` version nor botocore `metadata` and `operations`".into(),
        })
    }
}

/// sha256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decompress(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, ModelError> {
    let gz_name = path.extension().is_some_and(|e| e == "gz");
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|source| ModelError::Gzip {
                path: path.to_owned(),
                source,
            })?;
        Ok(out)
    } else if gz_name {
        Err(ModelError::Gzip {
            path: path.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "it does not start with the gzip magic bytes",
            ),
        })
    } else {
        Ok(bytes.to_vec())
    }
}

/// serde_json appends " at line L column C"; the message puts the position first instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Every member target and every operation input, output and error names a shape of the
/// model; the first that does not is an error naming where it is referred to and the closest
/// shape name. `at` turns a shape id into its JSON pointer in the file.
pub(crate) fn check_references(
    model: &Model,
    at: impl Fn(&str) -> String,
) -> Result<(), ModelError> {
    let missing = |pointer: String, target: &str| {
        let hint =
            crate::case::did_you_mean(shape_name(target), model.shapes.values().map(|s| s.name()))
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
        ModelError::UnknownShape {
            path: model.source.path.clone(),
            pointer,
            target: target.to_owned(),
            hint,
        }
    };
    for shape in model.shapes.values() {
        let members: Vec<&super::types::Member> = match &shape.kind {
            super::types::ShapeKind::Structure(m) | super::types::ShapeKind::Union(m) => {
                m.iter().collect()
            }
            super::types::ShapeKind::List(m) => vec![m.as_ref()],
            super::types::ShapeKind::Map { key, value } => vec![key.as_ref(), value.as_ref()],
            _ => Vec::new(),
        };
        for m in members {
            if !model.shapes.contains_key(&m.target) {
                let pointer = match &shape.kind {
                    super::types::ShapeKind::Structure(_) | super::types::ShapeKind::Union(_) => {
                        format!("{}/members/{}", at(&shape.id), m.name)
                    }
                    _ => format!("{}/{}", at(&shape.id), m.name),
                };
                return Err(missing(pointer, &m.target));
            }
        }
    }
    for op in model.operations.values() {
        let op_at = match model.source.format {
            super::types::Format::Smithy => at(&op.id),
            super::types::Format::Botocore => super::error::pointer(["operations", &op.id]),
        };
        for (key, target) in [("input", &op.input), ("output", &op.output)] {
            if let Some(t) = target
                && !model.shapes.contains_key(t)
            {
                return Err(missing(format!("{op_at}/{key}"), t));
            }
        }
        for (i, e) in op.errors.iter().enumerate() {
            match model.shapes.get(e) {
                None => return Err(missing(format!("{op_at}/errors/{i}"), e)),
                Some(s) if s.traits.error.is_none() => {
                    return Err(super::traits::invalid(
                        &model.source.path,
                        &format!("{op_at}/errors/{i}"),
                        &format!("`{e}` is listed as an error but is not an error shape"),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;
    use crate::model::{ErrorKind, Format, Protocol, ShapeKind, TimestampFormat};

    fn inspector(file: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("cases/inspector/model")
            .join(file)
    }

    /// A tiny Smithy model of service `ex#Svc` with the given extra shapes.
    fn smithy(protocol: &str, shapes: Value) -> Vec<u8> {
        let mut all = json!({
            "ex#Svc": {
                "type": "service",
                "version": "2020-01-01",
                "operations": [{"target": "ex#Op"}],
                "traits": {
                    protocol: {},
                    "aws.api#service": {"sdkId": "Ex", "endpointPrefix": "ex"},
                    "aws.auth#sigv4": {"name": "exsign"}
                }
            },
            "ex#Op": {"type": "operation", "input": {"target": "ex#In"}, "output": {"target": "smithy.api#Unit"}},
            "ex#In": {"type": "structure", "members": {}}
        });
        for (k, v) in shapes.as_object().unwrap() {
            all[k] = v.clone();
        }
        serde_json::to_vec(&json!({"smithy": "2.0", "shapes": all})).unwrap()
    }

    fn err(bytes: &[u8]) -> String {
        parse_model(Path::new("m.json"), bytes)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn inspector_smithy_metadata_and_shapes() {
        let m = load_model(&inspector("inspector-2016-02-16.json")).unwrap();
        assert_eq!(m.source.format, Format::Smithy);
        let s = &m.service;
        assert_eq!(s.protocol, Protocol::AwsJson1_1);
        assert_eq!(s.content_type(), "application/x-amz-json-1.1");
        assert_eq!(
            (
                s.target_prefix.as_str(),
                s.signing_name.as_str(),
                s.endpoint_prefix.as_str()
            ),
            ("InspectorService", "inspector", "inspector")
        );
        assert_eq!(
            (s.api_version.as_str(), s.service_id.as_str()),
            ("2016-02-16", "Inspector")
        );
        assert_eq!(m.operations.len(), 37);
        let op = m.operation("StartAssessmentRun").unwrap();
        assert_eq!(op.errors.len(), 8);
        assert_eq!(op.examples.len(), 1);
        let input = m.shape(op.input.as_deref().unwrap()).unwrap();
        let name = input
            .members()
            .iter()
            .find(|x| x.name == "assessmentRunName")
            .unwrap();
        assert!(!name.required);
        let len = m.effective_traits(name).length.unwrap();
        assert_eq!((len.min, len.max), (Some(1), Some(140)));
        let denied = m
            .shape("com.amazonaws.inspector#AccessDeniedException")
            .unwrap();
        assert_eq!(denied.traits.error, Some(ErrorKind::Client));
        assert_eq!(denied.error_status(), Some(403));
        let internal = m
            .shape("com.amazonaws.inspector#InternalException")
            .unwrap();
        assert_eq!(internal.error_status(), Some(500));
        // `enum` shapes: the wire values.
        let code = m
            .shape("com.amazonaws.inspector#AccessDeniedErrorCode")
            .unwrap();
        assert!(matches!(code.kind, ShapeKind::String));
        let values = code.traits.enum_values.as_ref().unwrap();
        assert!(
            values
                .iter()
                .any(|v| v.value == "ACCESS_DENIED_TO_ASSESSMENT_TEMPLATE")
        );
        // The prelude is there for members that target it.
        assert!(m.shape("smithy.api#String").is_some());
        assert!(m.shape("smithy.api#Unit").is_some());
    }

    #[test]
    fn inspector_botocore_agrees_with_smithy() {
        let b = load_model(&inspector("service-2.json")).unwrap();
        let s = load_model(&inspector("inspector-2016-02-16.json")).unwrap();
        assert_eq!(b.source.format, Format::Botocore);
        assert_eq!(b.service.protocol, s.service.protocol);
        assert_eq!(b.service.target_prefix, s.service.target_prefix);
        assert_eq!(b.service.signing_name, s.service.signing_name);
        assert_eq!(b.service.endpoint_prefix, s.service.endpoint_prefix);
        assert_eq!(b.service.api_version, s.service.api_version);
        assert_eq!(b.service.service_id, s.service.service_id);
        assert_eq!(
            b.operation_names().collect::<Vec<_>>(),
            s.operation_names().collect::<Vec<_>>()
        );
        // Every operation declares the same errors, and every structure requires the same
        // members, in both files.
        for (name, bop) in &b.operations {
            let sop = &s.operations[name];
            let names = |m: &Model, ids: &[String]| {
                let mut v: Vec<String> = ids
                    .iter()
                    .map(|i| m.shape(i).unwrap().name().to_owned())
                    .collect();
                v.sort();
                v
            };
            assert_eq!(names(&b, &bop.errors), names(&s, &sop.errors), "{name}");
        }
        for bs in b.shapes.values() {
            let ss = &s.shapes[&format!("com.amazonaws.inspector#{}", bs.id)];
            let req = |sh: &crate::model::Shape| {
                sh.members()
                    .iter()
                    .filter(|m| m.required)
                    .map(|m| m.name.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(req(bs), req(ss), "{}", bs.id);
            // botocore leaves out `min: 0`, which Smithy writes; both mean the same.
            let norm =
                |l: Option<crate::model::Length>| l.map(|l| (l.min.filter(|&m| m > 0), l.max));
            assert_eq!(norm(bs.traits.length), norm(ss.traits.length), "{}", bs.id);
        }
        assert_eq!(
            b.shape("InternalException").unwrap().traits.error,
            Some(ErrorKind::Server)
        );
    }

    #[test]
    fn gzip_loads_and_hashes_like_plain() {
        let plain = std::fs::read(inspector("service-2.json")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        let a = parse_model(Path::new("service-2.json"), &plain).unwrap();
        let b = parse_model(Path::new("service-2.json.gz"), &gz).unwrap();
        assert_eq!(a.source.sha256(), b.source.sha256());
        assert_eq!(a.operations.len(), b.operations.len());
        assert_eq!(a.source.sha256(), sha256_hex(&plain));
        let e = parse_model(Path::new("x.json.gz"), &plain)
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.json.gz") && e.contains("gzip"), "{e}");
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn not_json_not_a_model() {
        let e = err(b"{\n  \"smithy\": ");
        assert!(e.starts_with("m.json:2:"), "{e}");
        assert!(e.contains("not JSON"), "{e}");
        let e = err(b"[1, 2]");
        assert!(e.contains("not a service model"), "{e}");
        let e = err(b"{\"openapi\": \"3.0.0\"}");
        assert!(e.contains("not a service model"), "{e}");
        let e = err(br#"{"smithy": "2.0", "shapes": {}}"#);
        assert!(e.contains("no shape of type `service`"), "{e}");
    }

    #[test]
    fn other_protocols_are_refused_by_name() {
        for (trait_id, name) in [
            ("aws.protocols#restJson1", "restJson1"),
            ("aws.protocols#awsQuery", "awsQuery"),
            ("smithy.protocols#rpcv2Cbor", "rpcv2Cbor"),
            ("aws.protocols#ec2Query", "ec2Query"),
            ("aws.protocols#restXml", "restXml"),
        ] {
            let e = err(&smithy(trait_id, json!({})));
            assert!(e.contains(&format!("protocol `{name}`")), "{e}");
            assert!(e.contains("/shapes/ex#Svc/traits"), "{e}");
        }
        for (boto_name, name) in [
            ("rest-json", "restJson1"),
            ("query", "awsQuery"),
            ("ec2", "ec2Query"),
            ("rest-xml", "restXml"),
            ("smithy-rpc-v2-cbor", "rpcv2Cbor"),
        ] {
            let boto = json!({"metadata": {"protocol": boto_name, "endpointPrefix": "x"},
                              "operations": {}, "shapes": {}});
            let e = err(&serde_json::to_vec(&boto).unwrap());
            assert!(e.contains(&format!("protocol `{name}`")), "{e}");
            assert!(e.contains("/metadata/protocol"), "{e}");
        }
        let m = parse_model(
            Path::new("m.json"),
            &smithy("aws.protocols#awsJson1_0", json!({})),
        )
        .unwrap();
        assert_eq!(m.service.protocol, Protocol::AwsJson1_0);
        assert_eq!(m.service.target("Op"), "Svc.Op");
        assert_eq!(m.service.signing_name, "exsign");
        assert_eq!(m.operation("Op").unwrap().output, None);
    }

    #[test]
    fn a_missing_shape_is_named_with_its_pointer() {
        let bytes = smithy(
            "aws.protocols#awsJson1_0",
            json!({"ex#In": {"type": "structure", "members": {
                "a": {"target": "ex#Strng"}}},
                "ex#String": {"type": "string"}}),
        );
        let e = err(&bytes);
        assert!(e.contains("/shapes/ex#In/members/a"), "{e}");
        assert!(e.contains("`ex#Strng` does not exist"), "{e}");
        assert!(e.contains("did you mean `String`?"), "{e}");
    }

    #[test]
    fn recursive_shapes_load() {
        let bytes = smithy(
            "aws.protocols#awsJson1_0",
            json!({
                "ex#In": {"type": "structure", "members": {"tree": {"target": "ex#Tree"}}},
                "ex#Tree": {"type": "structure", "members": {
                    "children": {"target": "ex#Trees"}, "name": {"target": "smithy.api#String"}}},
                "ex#Trees": {"type": "list", "member": {"target": "ex#Tree"}}
            }),
        );
        let m = parse_model(Path::new("m.json"), &bytes).unwrap();
        assert!(matches!(
            m.shape("ex#Trees").unwrap().kind,
            ShapeKind::List(_)
        ));
    }

    #[test]
    fn unknown_operation_has_did_you_mean() {
        let m = load_model(&inspector("inspector-2016-02-16.json")).unwrap();
        let e = m.operation("StartAssesmentRun").unwrap_err().to_string();
        assert!(e.contains("no operation `StartAssesmentRun`"), "{e}");
        assert!(e.contains("did you mean `StartAssessmentRun`?"), "{e}");
    }

    #[test]
    fn member_traits_override_target_traits() {
        let bytes = smithy(
            "aws.protocols#awsJson1_1",
            json!({
                "ex#In": {"type": "structure", "members": {
                    "s": {"target": "ex#Name", "traits": {"smithy.api#length": {"max": 5}}},
                    "t": {"target": "smithy.api#Timestamp", "traits": {"smithy.api#timestampFormat": "date-time"}}
                }},
                "ex#Name": {"type": "string", "traits": {"smithy.api#length": {"min": 1, "max": 10},
                                                         "smithy.api#pattern": "^a"}},
                "ex#Color": {"type": "enum", "members": {
                    "RED": {"target": "smithy.api#Unit", "traits": {"smithy.api#enumValue": "red"}},
                    "BLUE": {"target": "smithy.api#Unit"}}}
            }),
        );
        let m = parse_model(Path::new("m.json"), &bytes).unwrap();
        let input = m.shape("ex#In").unwrap();
        let s = m.effective_traits(&input.members()[0]);
        assert_eq!(s.length.unwrap().max, Some(5));
        assert_eq!(s.pattern.as_deref(), Some("^a"));
        let t = m.effective_traits(&input.members()[1]);
        assert_eq!(t.timestamp_format, Some(TimestampFormat::DateTime));
        let colors: Vec<_> = m
            .shape("ex#Color")
            .unwrap()
            .traits
            .enum_values
            .clone()
            .unwrap()
            .into_iter()
            .map(|v| v.value)
            .collect();
        // Members come in name order (serde_json's map order), not file order.
        assert_eq!(colors, ["BLUE", "red"]);
    }

    #[test]
    fn a_malformed_trait_is_an_error_not_dropped() {
        let bytes = smithy(
            "aws.protocols#awsJson1_1",
            json!({"ex#Name": {"type": "string", "traits": {"smithy.api#length": {"min": "one"}}}}),
        );
        let e = err(&bytes);
        assert!(
            e.contains("/shapes/ex#Name/traits/smithy.api#length/min"),
            "{e}"
        );
    }
}
