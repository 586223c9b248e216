//! From a model to a [`Plan`]: which case files and recordings go where, rendered with the
//! generated header, minus what a hand-written file already covers (the curated suite wins).
//! Reads the output folders (to find hand-written files); writes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::Model;
use crate::recording::{HeaderMap, RecordedExchange, RecordedRequest, RecordedResponse, Recording};

use super::cases::{FAULT_HEADER, GenCase, operation_cases};
use super::error::GenerateError;
use super::examples::ExampleSet;
use super::write::{HEADER_MARK, Plan, PlannedFile, is_generated};

/// What to generate and where.
#[derive(Clone, Debug)]
pub struct Options {
    /// Operations to generate (empty: all).
    pub operations: Vec<String>,
    /// The cases root (`cases/`): files go under `<out>/<service>/<Operation>/`.
    pub out: PathBuf,
    /// The recordings root (`recordings/`).
    pub recordings: PathBuf,
}

/// A generated case that a hand-written file already covers, so it was left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    pub generated: String,
    pub hand_written: PathBuf,
    pub why: String,
}

/// The plan and what the generator noticed on the way.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    pub plan: Plan,
    pub overlaps: Vec<Overlap>,
    pub operations: usize,
    pub cases: usize,
}

/// The service's folder name under the roots: its endpoint prefix (`inspector`).
pub fn service_folder(model: &Model) -> String {
    model.service.endpoint_prefix.clone()
}

/// The first lines of every generated file.
pub fn header(model: &Model) -> String {
    let file = model
        .source
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(
        "{HEADER_MARK} {} (`conform generate`) from {file}, sha256 {}.\n# Do not edit: regenerate instead. A file without this header is hand-written and is never overwritten.\n",
        env!("CARGO_PKG_VERSION"),
        model.source.sha256()
    )
}

/// Builds the plan for the selected operations.
pub fn plan(
    model: &Model,
    examples: &ExampleSet,
    options: &Options,
) -> Result<Generated, GenerateError> {
    let selected: Vec<&crate::model::Operation> = if options.operations.is_empty() {
        model.operations.values().collect()
    } else {
        let mut ops = Vec::new();
        for name in &options.operations {
            ops.push(model.operation(name)?);
        }
        ops.sort_by(|a, b| a.name.cmp(&b.name));
        ops.dedup_by(|a, b| a.name == b.name);
        ops
    };
    let service = service_folder(model);
    let cases_root = options.out.join(&service);
    let recordings_root = options.recordings.join(&service);
    let header = header(model);
    let mut out = Generated {
        operations: selected.len(),
        ..Default::default()
    };
    if options.operations.is_empty() {
        out.plan.scopes = vec![cases_root.clone(), recordings_root.clone()];
    }
    // The suite settings the cases need, unless a hand-written suite.yaml gives them.
    let suite = cases_root.join("suite.yaml");
    if !hand_written(&suite)? {
        let mut text = format!(
            "{header}# {} ({}), protocol {}.\ntarget_prefix: {}\n",
            model
                .service
                .full_name
                .as_deref()
                .unwrap_or(&model.service.service_id),
            model.service.api_version,
            model.service.protocol.name(),
            yaml_scalar(&model.service.target_prefix)?
        );
        // The model, so that `conform run` validates every response against it.
        if let Some(rel) = relative_to(&cases_root, &model.source.path) {
            text.push_str(&format!(
                "# The service model every response is validated against (relative to this file).\nmodel: {}\n",
                yaml_scalar(&rel)?
            ));
        }
        out.plan.files.push(PlannedFile {
            path: suite,
            bytes: text.into_bytes(),
        });
    }
    for op in selected {
        let case_dir = cases_root.join(&op.name);
        let rec_dir = recordings_root.join(&op.name);
        if !options.operations.is_empty() {
            out.plan.scopes.push(case_dir.clone());
            out.plan.scopes.push(rec_dir.clone());
        }
        let curated = Curated::read(&case_dir, &rec_dir)?;
        for case in operation_cases(model, op, examples) {
            let case_path = case_dir.join(format!("{}.yaml", case.stem));
            let rec_path = rec_dir.join(format!("{}.yaml", case.stem));
            let recording = recording_of(model, &op.name, &case);
            let key = recording.exchanges[0].request.index_key();
            if let Some(overlap) = curated.overlap(&case, &key, &case_path, &rec_path) {
                out.overlaps.push(overlap);
                continue;
            }
            let case_text = render(&case_path, &case_doc(model, &case))?;
            let rec_text = render(&rec_path, &recording)?;
            out.plan.files.push(PlannedFile {
                path: case_path,
                bytes: format!("{header}{case_text}").into_bytes(),
            });
            out.plan.files.push(PlannedFile {
                path: rec_path,
                bytes: format!("{header}{rec_text}").into_bytes(),
            });
            out.cases += 1;
        }
    }
    Ok(out)
}

fn render<T: Serialize>(path: &Path, value: &T) -> Result<String, GenerateError> {
    crate::yaml::to_string(value).map_err(|message| GenerateError::Render {
        path: path.to_path_buf(),
        message,
    })
}

fn yaml_scalar(s: &str) -> Result<String, GenerateError> {
    crate::yaml::to_string(&s)
        .map(|t| t.trim_end().to_owned())
        .map_err(|message| GenerateError::Render {
            path: PathBuf::from("suite.yaml"),
            message,
        })
}

/// `target` as a path relative to the folder `from`, `/`-separated, worked out on the paths as
/// written (both made absolute against the current folder, `.` and `..` folded); `None` when
/// that cannot be done.
fn relative_to(from: &Path, target: &Path) -> Option<String> {
    use std::path::Component;
    let cwd = std::env::current_dir().ok()?;
    let absolute = |p: &Path| -> Option<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for c in cwd.join(p).components() {
            match c {
                Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
                Component::ParentDir => {
                    out.pop()?;
                }
                Component::Normal(n) => out.push(n.to_str()?.to_owned()),
            }
        }
        Some(out)
    };
    let (from, target) = (absolute(from)?, absolute(target)?);
    let common = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(target[common..].iter().map(String::as_str));
    Some(parts.join("/"))
}

/// `path` exists and lacks the generated header.
fn hand_written(path: &Path) -> Result<bool, GenerateError> {
    match fs::read(path) {
        Ok(bytes) => Ok(!is_generated(&bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(GenerateError::Io {
            what: "read",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The hand-written files of one operation: their case `covers` and recorded requests.
#[derive(Default)]
struct Curated {
    files: BTreeSet<PathBuf>,
    covers: BTreeMap<String, PathBuf>,
    requests: BTreeMap<String, PathBuf>,
}

#[derive(Deserialize)]
struct CoversOnly {
    #[serde(default)]
    covers: Vec<String>,
}

impl Curated {
    fn read(case_dir: &Path, rec_dir: &Path) -> Result<Self, GenerateError> {
        let mut out = Curated::default();
        for (dir, is_case) in [(case_dir, true), (rec_dir, false)] {
            let entries = match fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(GenerateError::Io {
                        what: "read the folder",
                        path: dir.to_path_buf(),
                        source,
                    });
                }
            };
            let mut paths: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            paths.sort();
            for path in paths {
                let bytes = fs::read(&path).map_err(|source| GenerateError::Io {
                    what: "read",
                    path: path.clone(),
                    source,
                })?;
                if is_generated(&bytes) {
                    continue;
                }
                out.files.insert(path.clone());
                let text = String::from_utf8_lossy(&bytes);
                // A hand-written file that does not parse is `conform check`'s business: it
                // still blocks its own path, it just covers nothing here.
                if is_case {
                    if let Ok(c) = crate::yaml::parse::<CoversOnly>(&path, &text, "case file") {
                        for id in c.covers {
                            out.covers.entry(id).or_insert_with(|| path.clone());
                        }
                    }
                } else if let Ok(r) = crate::yaml::parse::<Recording>(&path, &text, "recording") {
                    for ex in r.exchanges {
                        out.requests
                            .entry(ex.request.index_key())
                            .or_insert_with(|| path.clone());
                    }
                }
            }
        }
        Ok(out)
    }

    /// Why a generated case is left out for a hand-written one, if it is.
    fn overlap(
        &self,
        case: &GenCase,
        key: &str,
        case_path: &Path,
        rec_path: &Path,
    ) -> Option<Overlap> {
        let found = |path: &PathBuf, why: String| Overlap {
            generated: case.name.clone(),
            hand_written: path.clone(),
            why,
        };
        for p in [case_path, rec_path] {
            if self.files.contains(p) {
                return Some(found(&p.to_path_buf(), "holds the same file name".into()));
            }
        }
        if let Some(path) = self.requests.get(key) {
            return Some(found(path, "records the same request".into()));
        }
        // Its first `covers` id is what the case is about (the rest are the members it uses);
        // a `member:` id only says which member a request sends, so no case is about it. A
        // hand-written case that forces the item wins over a generated one that forces or only
        // offers it (`guess:`); one that only offers it wins only over another guess.
        let split = |id: &str| match id.strip_prefix(crate::coverage::GUESS_PREFIX) {
            Some(bare) => (bare.to_owned(), true),
            None => (id.to_owned(), false),
        };
        let (primary, generated_guess) = split(case.covers.first()?);
        if primary.starts_with("member:") {
            return None;
        }
        self.covers
            .iter()
            .find(|(id, _)| {
                let (bare, guess) = split(id);
                bare == primary && (!guess || generated_guess)
            })
            .map(|(id, path)| found(path, format!("covers {id}")))
    }
}

/// The case file's fields, in the order FORMAT.md shows them.
#[derive(Serialize)]
struct CaseDoc {
    name: String,
    description: String,
    source: String,
    provenance: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
    tags: Vec<String>,
    covers: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    skip: BTreeMap<String, String>,
    request: RequestDoc,
    expect: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    guess: Option<Value>,
}

#[derive(Serialize)]
struct RequestDoc {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
    body: Value,
}

fn request_headers(model: &Model, case: &GenCase) -> BTreeMap<String, String> {
    let mut headers = BTreeMap::new();
    // The case format's default content type is awsJson1_1's; another protocol says its own.
    if model.service.content_type() != crate::case::DEFAULT_CONTENT_TYPE {
        headers.insert(
            "content-type".to_owned(),
            model.service.content_type().to_owned(),
        );
    }
    if let Some(fault) = &case.fault {
        headers.insert(FAULT_HEADER.to_owned(), fault.clone());
    }
    headers
}

fn case_doc(model: &Model, case: &GenCase) -> CaseDoc {
    CaseDoc {
        name: case.name.clone(),
        description: case.description.clone(),
        source: case.source.clone(),
        provenance: case.expectation.provenance,
        why: case.expectation.why.clone(),
        tags: case.tags.clone(),
        covers: case.covers.clone(),
        skip: case.skip.clone(),
        request: RequestDoc {
            headers: request_headers(model, case),
            body: case.body.clone(),
        },
        expect: case.expectation.expect.clone(),
        guess: case.expectation.guess.clone(),
    }
}

/// A UUID-shaped request id derived from the case (FNV-1a), so regenerating gives the same.
fn request_id(seed: &str) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in seed.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    let hex = format!("{h:032x}");
    // Version 4 and the RFC 4122 variant, so it reads as the UUIDs AWS sends.
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn recording_of(model: &Model, operation: &str, case: &GenCase) -> Recording {
    let mut headers: HeaderMap = request_headers(model, case).into_iter().collect();
    headers.insert(
        "content-type".to_owned(),
        model.service.content_type().to_owned(),
    );
    headers.insert("x-amz-target".to_owned(), model.service.target(operation));
    let body = serde_json::to_string(&case.answer.body).unwrap_or_default();
    Recording {
        provenance: case.answer.provenance,
        source: case.answer.source.clone(),
        note: Some(case.answer.note.clone()),
        recorded: None,
        exchanges: vec![RecordedExchange {
            request: RecordedRequest {
                method: "POST".into(),
                path: "/".into(),
                headers,
                body: Some(case.body.clone()),
                raw_body: None,
                raw_body_base64: None,
            },
            response: RecordedResponse {
                status: case.answer.status,
                headers: HeaderMap::from_iter([
                    (
                        "content-type".to_owned(),
                        model.service.content_type().to_owned(),
                    ),
                    (
                        "x-amzn-requestid".to_owned(),
                        request_id(&format!("{operation}/{}", case.stem)),
                    ),
                ]),
                body: Some(body),
                body_base64: None,
            },
        }],
        file: PathBuf::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_between_folders() {
        let rel = relative_to(Path::new("cases/svc"), Path::new("models/svc.json"));
        assert_eq!(rel.as_deref(), Some("../../models/svc.json"));
        let rel = relative_to(Path::new("cases/svc"), Path::new("cases/svc/model/m.json"));
        assert_eq!(rel.as_deref(), Some("model/m.json"));
    }

    #[test]
    fn request_ids_are_stable_uuids() {
        let a = request_id("Op/valid_request");
        assert_eq!(a, request_id("Op/valid_request"));
        assert_ne!(a, request_id("Op/other"));
        let re =
            regex::Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$")
                .unwrap();
        assert!(re.is_match(&a), "{a}");
    }
}
