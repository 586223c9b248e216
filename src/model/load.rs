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
    let sha256 = sha256_hex(&json);
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
        super::smithy::parse(path, obj, sha256)
    } else if obj.contains_key("metadata") && obj.contains_key("operations") {
        super::botocore::parse(path, obj, sha256)
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
