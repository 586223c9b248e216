//! `conform coverage`: for each operation of each suite's model, its items and the cases that
//! cover them (text, or `--json`). Exit 0 with the report (gaps are part of it, not a failure);
//! 2 for case-file errors, a model that does not load, a broken `coverage.json`, a case whose
//! suite names no model, or a `covers:` id that names no item.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use conform::case::load_suite;
use conform::coverage;

use super::UsageError;
use super::common::case_paths;

#[derive(Args, Debug)]
pub struct CoverageArgs {
    /// Case files or folders [default: cases]
    pub paths: Vec<PathBuf>,
    /// The report as JSON on stdout (stable field names) instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn coverage(args: CoverageArgs) -> Result<ExitCode> {
    let suite = load_suite(&case_paths(&args.paths), &Default::default()).map_err(|errors| {
        let n = errors.0.len();
        eprintln!("{errors}\n");
        UsageError(format!(
            "{n} case-file error{}: no coverage computed",
            if n == 1 { "" } else { "s" }
        ))
    })?;
    let report = coverage::report(&suite).map_err(|e| match e {
        coverage::CoverageError::UnknownIds { unknown } => {
            for u in &unknown {
                eprintln!("{u}");
            }
            UsageError(format!(
                "{} `covers:` id{} name no item of their operation",
                unknown.len(),
                if unknown.len() == 1 { "" } else { "s" }
            ))
        }
        other => UsageError(other.to_string()),
    })?;
    let out = if args.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        coverage::text(&report)
    };
    // The report is long and often piped into `head` or `less`: a reader that stops early is
    // no error (print! would panic on the closed pipe).
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
