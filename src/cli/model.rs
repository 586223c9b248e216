//! `conform model check FILE` (load a service model and say what it holds) and
//! `conform model validate` (check one response body against an operation of a model).
//! Exit codes: 0 fine (notes allowed), 1 the response breaks the model, 2 a bad model, an
//! unknown operation or an unreadable body file.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use conform::exchange::Headers;
use conform::model::{self, Severity};

use super::UsageError;

#[derive(Args, Debug)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub command: ModelCommand,
}

#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// Load a model (Smithy JSON AST or botocore service-2.json, plain or .gz) and summarise it
    Check(CheckModelArgs),
    /// Validate a response body against an operation's output or error shape
    Validate(ValidateArgs),
}

#[derive(Args, Debug)]
pub struct CheckModelArgs {
    /// The model file
    pub model: PathBuf,
    /// Also check the endpoints extract (default: endpoints.json beside the model, if any)
    #[arg(long, value_name = "FILE")]
    pub endpoints: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// The model file
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// The operation the response answers
    #[arg(long, value_name = "NAME")]
    pub operation: String,
    /// The response's HTTP status
    #[arg(long, default_value_t = 200)]
    pub status: u16,
    /// A response header (repeatable), e.g. `X-Amzn-Errortype: NoSuchEntityException`
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// The response body file (`-` for stdin)
    pub body: PathBuf,
}

pub fn model(args: ModelArgs) -> Result<ExitCode> {
    match args.command {
        ModelCommand::Check(a) => check(a),
        ModelCommand::Validate(a) => validate(a),
    }
}

fn check(args: CheckModelArgs) -> Result<ExitCode> {
    let m = model::load_model(&args.model).map_err(|e| UsageError(e.to_string()))?;
    let s = &m.service;
    println!(
        "{}: {:?} model, sha256 {}",
        args.model.display(),
        m.source.format,
        m.source.sha256()
    );
    println!(
        "service {} ({}), API version {}, protocol {} ({})",
        s.service_id,
        s.id,
        s.api_version,
        s.protocol.name(),
        s.content_type()
    );
    println!(
        "target prefix {}, signing name {}, endpoint prefix {}",
        s.target_prefix, s.signing_name, s.endpoint_prefix
    );
    println!(
        "{} operations, {} shapes",
        m.operations.len(),
        m.shapes.len()
    );
    let endpoints = args
        .endpoints
        .clone()
        .or_else(|| Some(model::endpoints_path_for(&args.model)).filter(|p| p.exists()));
    if let Some(path) = endpoints {
        let e = model::Endpoints::load(&path).map_err(|e| UsageError(e.to_string()))?;
        println!(
            "{}: {} regions ({} with FIPS)",
            path.display(),
            e.regions().len(),
            e.fips_regions().len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ValidateArgs) -> Result<ExitCode> {
    let m = model::load_model(&args.model).map_err(|e| UsageError(e.to_string()))?;
    let op = m
        .operation(&args.operation)
        .map_err(|e| UsageError(e.to_string()))?;
    let mut headers = Headers::new();
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| UsageError(format!("--header `{h}`: expected NAME:VALUE")))?;
        headers.append(name.trim(), value.trim());
    }
    let body = if args.body.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|e| UsageError(format!("cannot read stdin: {e}")))?;
        b
    } else {
        std::fs::read(&args.body)
            .map_err(|e| UsageError(format!("{}: cannot read: {e}", args.body.display())))?
    };
    let v = model::validate_response(&m, op, args.status, &headers, &body);
    for f in &v.findings {
        let label = match f.severity {
            Severity::Violation => "violation",
            Severity::Note => "note",
        };
        println!("{label}: {f}");
    }
    let violations = v.violations().count();
    println!(
        "{violations} violations, {} notes ({} {})",
        v.notes().count(),
        args.operation,
        args.status
    );
    Ok(if violations == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What validating recordings against their models found, one line each
/// (`file: exchange N: finding`).
#[derive(Debug, Default)]
pub struct RecordingFindings {
    pub violations: Vec<String>,
    pub notes: Vec<String>,
    /// Recordings validated (those under a service.yaml whose model loads).
    pub checked: usize,
    /// service.yaml files that do not read, or name a model that does not load: their
    /// recordings are not validated (a copy of a recordings folder without the model it
    /// points to still serves).
    pub unchecked: Vec<String>,
    /// The model of each checked recording, by the recording's file.
    pub models: std::collections::HashMap<PathBuf, std::sync::Arc<model::Model>>,
}

/// Validates every exchange of every recording under a `service.yaml` (the nearest above it,
/// up to `root`) against the model it names. A broken service.yaml or a model that does not
/// load is reported in `unchecked`; recordings under no service.yaml are not checked.
pub fn validate_recordings(
    root: &std::path::Path,
    recordings: &[conform::recording::Recording],
) -> Result<RecordingFindings> {
    use std::collections::HashMap;
    use std::sync::Arc;

    let mut models: HashMap<PathBuf, Option<Arc<model::Model>>> = HashMap::new();
    // The service.yaml that governs a folder, looked up once per folder.
    let mut service_of_dir: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut out = RecordingFindings::default();
    let mut to_check: Vec<(&conform::recording::Recording, Arc<model::Model>)> = Vec::new();
    for r in recordings {
        let dir = r
            .file
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .to_owned();
        let service_file = service_of_dir
            .entry(dir)
            .or_insert_with(|| model::find_service_file(root, &r.file))
            .clone();
        let Some(service_file) = service_file else {
            continue;
        };
        let m = match models.get(&service_file) {
            Some(m) => m.clone(),
            None => {
                let loaded = model::read_service_file(&service_file).and_then(|s| {
                    model::load_model(&s.model).map_err(|e| {
                        format!("{}: the model does not load: {e}", service_file.display())
                    })
                });
                let m = match loaded {
                    Ok(m) => Some(Arc::new(m)),
                    Err(e) => {
                        out.unchecked.push(e);
                        None
                    }
                };
                models.insert(service_file.clone(), m.clone());
                m
            }
        };
        let Some(m) = m else { continue };
        out.checked += 1;
        out.models.insert(r.file.clone(), m.clone());
        to_check.push((r, m));
    }
    // Each recording is checked on its own: on every core, then reported in order.
    let findings: Vec<Vec<(Severity, String)>> =
        conform::parallel::map_in_order(&to_check, |(r, m)| recording_findings(r, m));
    for (severity, line) in findings.into_iter().flatten() {
        match severity {
            Severity::Violation => out.violations.push(line),
            Severity::Note => out.notes.push(line),
        }
    }
    Ok(out)
}

/// What [`validate_recordings`] found, as kept between starts of `conform serve`.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptFindings {
    violations: Vec<String>,
    notes: Vec<String>,
    checked: usize,
    unchecked: Vec<String>,
}

/// [`validate_recordings`], or what it found at an earlier start when nothing it read has
/// changed since: every recording came from the folder's cache, which was left as it was, and
/// the `service.yaml` files and the models they name have the stamps they had then
/// (`unchanged` from `recording::Folder`). The findings are kept beside the cache
/// (`parsed_cache::memo_write`). Taken from there, no recording is read, and `models` is
/// empty: only `serve`, which does not use it, calls this.
pub fn validate_recordings_kept(
    root: &std::path::Path,
    recordings: &super::common::Recordings<'_>,
    unchanged: Option<&conform::recording::Unchanged>,
) -> Result<RecordingFindings> {
    const MEMO: &str = "findings";
    // The key: the recordings (through the cache's stamp), the service files, the models they
    // name with their stamps (a model that does not read is named as missing), and the folder as
    // it was spelled (the findings name files by that path).
    let key = unchanged.map(|u| {
        let mut key = format!("{}\n{}", root.display(), u.key);
        for service in &u.service_files {
            let model = model::read_service_file(service).ok().map(|s| s.model);
            let stamp = model
                .as_ref()
                .and_then(|m| std::fs::metadata(m).ok())
                .map(|m| conform::parsed_cache::Stamp::of(&m));
            key.push_str(&format!(
                "\n{} -> {:?} {}",
                service.display(),
                model,
                serde_json::to_string(&stamp).unwrap_or_default()
            ));
        }
        key
    });
    if let Some(key) = &key
        && let Some(kept) = conform::parsed_cache::memo_read::<KeptFindings>(root, MEMO, key)
    {
        return Ok(RecordingFindings {
            violations: kept.violations,
            notes: kept.notes,
            checked: kept.checked,
            unchecked: kept.unchecked,
            models: Default::default(),
        });
    }
    let found = validate_recordings(root, recordings.get()?)?;
    if let Some(key) = &key {
        conform::parsed_cache::memo_write(
            root,
            MEMO,
            key,
            &KeptFindings {
                violations: found.violations.clone(),
                notes: found.notes.clone(),
                checked: found.checked,
                unchecked: found.unchecked.clone(),
            },
        );
    }
    Ok(found)
}

/// One recording's findings against its model, one line each (`file: exchange N: finding`).
fn recording_findings(
    r: &conform::recording::Recording,
    m: &model::Model,
) -> Vec<(Severity, String)> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for (i, x) in r.exchanges.iter().enumerate() {
        let request = conform::exchange::Request {
            method: x.request.method.clone(),
            path: x.request.path.clone(),
            headers: x.request.headers.iter().collect(),
            body: match (&x.request.body, &x.request.raw_body) {
                (Some(v), _) => v.to_string().into_bytes(),
                (None, Some(raw)) => raw.clone().into_bytes(),
                (None, None) => Vec::new(),
            },
        };
        let body = match (&x.response.body, &x.response.body_base64) {
            (Some(b), _) => b.clone().into_bytes(),
            (None, Some(b)) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        let response = conform::exchange::Response {
            status: x.response.status,
            headers: x.response.headers.iter().collect(),
            body,
        };
        let v = model::validate_exchange(m, &request, &response);
        for f in v.findings {
            let line = format!("{}: exchange {}: {f}", r.file.display(), i + 1);
            out.push((f.severity, line));
        }
    }
    out
}
