//! Documented example exchanges the generator prefers over values it builds: the model's own
//! (Smithy `smithy.api#examples`) and botocore's `examples-1.json` (`--examples FILE`, or the
//! file beside a `service-2.json`). Reading that small file is all this does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::model::{Model, Operation};

use super::error::GenerateError;

/// One example's request and response, with where it comes from.
#[derive(Clone, Debug)]
pub struct Ex {
    pub source: String,
    pub input: Option<Value>,
    pub output: Option<Value>,
}

/// botocore examples by operation name.
#[derive(Clone, Debug, Default)]
pub struct ExampleSet {
    file: Option<String>,
    by_operation: BTreeMap<String, Vec<FileExample>>,
}

#[derive(Clone, Debug, Deserialize)]
struct FileExample {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    output: Option<Value>,
}

#[derive(Deserialize)]
struct ExamplesFile {
    examples: BTreeMap<String, Vec<FileExample>>,
}

impl ExampleSet {
    /// Reads botocore's `examples-1.json` format.
    pub fn load(file: &Path) -> Result<Self, GenerateError> {
        let err = |message: String| GenerateError::Examples {
            file: file.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(file).map_err(|e| {
            err(format!(
                "{}: cannot read the examples file: {e}",
                file.display()
            ))
        })?;
        let parsed: ExamplesFile = serde_json::from_str(&text).map_err(|e| {
            let message = e.to_string();
            // serde_json ends with " at line L column C": the location goes in front instead.
            let message = message
                .rfind(" at line ")
                .map_or(message.as_str(), |at| &message[..at]);
            err(format!(
                "{}:{}:{}: not botocore's examples-1.json format: {message}",
                file.display(),
                e.line(),
                e.column()
            ))
        })?;
        Ok(Self {
            file: Some(
                file.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            by_operation: parsed.examples,
        })
    }

    /// The examples file botocore keeps beside `service-2.json` (`<prefix>-examples-1.json`
    /// beside `<prefix>-service-2.json`, or `examples-1.json` in the model's folder, which is
    /// how a service's data folder keeps it beside a Smithy model too), when there is one.
    pub fn beside(model_file: &Path) -> Option<PathBuf> {
        let name = model_file.file_name()?.to_str()?;
        let stem = name.strip_suffix(".gz").unwrap_or(name);
        let candidates = [
            stem.strip_suffix("service-2.json")
                .map(|prefix| format!("{prefix}examples-1.json")),
            Some("examples-1.json".to_owned()),
        ];
        candidates
            .into_iter()
            .flatten()
            .map(|n| model_file.with_file_name(n))
            .find(|p| p.is_file())
    }

    /// The examples of an operation: the model's own first, then the file's.
    pub fn for_operation(&self, _model: &Model, op: &Operation) -> Vec<Ex> {
        let mut out: Vec<Ex> = op
            .examples
            .iter()
            .filter(|e| e.error.is_none())
            .map(|e| Ex {
                source: format!("service model, {} example \"{}\"", op.name, e.title),
                input: e.input.clone(),
                output: e.output.clone(),
            })
            .collect();
        for e in self.by_operation.get(&op.name).into_iter().flatten() {
            let label = e.id.clone().or_else(|| e.title.clone()).unwrap_or_default();
            out.push(Ex {
                source: format!(
                    "botocore {}, {label}",
                    self.file.as_deref().unwrap_or("examples-1.json")
                ),
                input: e.input.clone(),
                output: e.output.clone(),
            });
        }
        out
    }
}
