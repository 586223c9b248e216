//! `coverage.json` beside a service model: what a service's suite covers beyond what the model
//! names (items only the API reference or the protocol give, the `errorCode` values a source
//! says fit an operation) and the gaps it knows of, each with why. Service data, so nothing in
//! `src/` names a service. The file is optional; a broken one is an error naming the file and
//! where in it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::CoverageError;

/// The file name, beside the model file.
pub const EXTRAS_FILE: &str = "coverage.json";

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Extras {
    /// What the file is for (free text, not read).
    #[serde(default)]
    pub about: Option<String>,
    #[serde(default)]
    pub operations: BTreeMap<String, OperationExtras>,
    #[serde(default)]
    pub known_gaps: Vec<KnownGap>,
}

/// What one operation adds.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OperationExtras {
    /// Show the operation's item table in `cases/README.md`.
    #[serde(default)]
    pub detailed: bool,
    /// Groups of protocol edges the operation's cases probe: `protocol`, `json`, `signing`.
    #[serde(default)]
    pub edges: Vec<String>,
    /// The `errorCode` values that fit the operation, instead of every value of every enum of
    /// its errors.
    #[serde(default)]
    pub error_codes: Option<ErrorCodes>,
    #[serde(default)]
    pub items: Vec<ExtraItem>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorCodes {
    pub source: String,
    /// Why only these (kept for readers of the file).
    #[serde(default)]
    pub why: Option<String>,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraItem {
    pub id: String,
    pub source: String,
}

/// An item no case covers, on purpose.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownGap {
    pub operation: String,
    pub id: String,
    pub why: String,
}

/// Where the extras of the model at `model_path` live.
pub fn extras_path_for(model_path: &Path) -> PathBuf {
    model_path
        .parent()
        .unwrap_or_else(|| Path::new(""))
        .join(EXTRAS_FILE)
}

/// Reads the extras beside a model; none when there is no such file.
pub fn load_extras(model_path: &Path) -> Result<Extras, CoverageError> {
    let path = extras_path_for(model_path);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Extras::default()),
        Err(source) => return Err(CoverageError::Read { path, source }),
    };
    parse_extras(&path, &text)
}

/// [`load_extras`] from text already read; `path` names it in messages.
pub fn parse_extras(path: &Path, text: &str) -> Result<Extras, CoverageError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        CoverageError::Extras {
            path: path.to_owned(),
            line: inner.line(),
            column: inner.column(),
            message: format!("{}: {}", e.path(), strip_position(&inner.to_string())),
        }
    })
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
