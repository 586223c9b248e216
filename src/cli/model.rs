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
        m.source.sha256
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
