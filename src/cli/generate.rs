//! `conform generate`: case files and modeled recordings from a service model. Exit 0 when
//! written (or, with `--check`, up to date), 1 when `--check` finds the files stale, 2 for a
//! bad model, an unknown operation or a file that cannot be written (nothing is written then).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::Args;

use conform::generate::{self, ExampleSet, Options};

use super::UsageError;

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The service model: a Smithy JSON AST or a botocore service-2.json (plain or .gz)
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Only this operation (repeatable; default: every operation)
    #[arg(long = "operation", value_name = "NAME")]
    pub operations: Vec<String>,
    /// Where case files go: <DIR>/<service>/<Operation>/
    #[arg(long, value_name = "DIR", default_value = "cases")]
    pub out: PathBuf,
    /// Where recordings go: <DIR>/<service>/<Operation>/
    #[arg(long, value_name = "DIR", default_value = "recordings")]
    pub recordings: PathBuf,
    /// botocore examples-1.json to take valid requests from (default: the one beside a
    /// service-2.json, if any; a Smithy model carries its own)
    #[arg(long, value_name = "FILE")]
    pub examples: Option<PathBuf>,
    /// Write nothing; exit 1 listing what is stale, missing or extra when the files differ
    #[arg(long)]
    pub check: bool,
}

pub fn generate(args: GenerateArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let model = conform::model::load_model(&args.model).map_err(|e| UsageError(e.to_string()))?;
    let examples_file = args
        .examples
        .clone()
        .or_else(|| ExampleSet::beside(&args.model));
    let examples = match &examples_file {
        Some(file) => ExampleSet::load(file).map_err(|e| UsageError(e.to_string()))?,
        None => ExampleSet::default(),
    };
    let options = Options {
        operations: args.operations.clone(),
        out: args.out.clone(),
        recordings: args.recordings.clone(),
    };
    let generated =
        generate::plan(&model, &examples, &options).map_err(|e| UsageError(e.to_string()))?;
    for o in &generated.overlaps {
        eprintln!(
            "overlap: {} left out: the hand-written {} {} (the curated case wins)",
            o.generated,
            o.hand_written.display(),
            o.why
        );
    }
    if args.check {
        let drift = generate::drift(&generated.plan).map_err(|e| UsageError(e.to_string()))?;
        if drift.is_current() {
            eprintln!(
                "conform generate --check: {} files up to date ({} operations, {} cases)",
                drift.unchanged, generated.operations, generated.cases
            );
            return Ok(ExitCode::SUCCESS);
        }
        for (what, paths) in [
            ("stale", &drift.stale),
            ("missing", &drift.missing),
            ("extra", &drift.extra),
        ] {
            for p in paths {
                println!("{what}: {}", p.display());
            }
        }
        eprintln!(
            "conform generate --check: {} stale, {} missing, {} extra; run `conform generate --model {}` to update",
            drift.stale.len(),
            drift.missing.len(),
            drift.extra.len(),
            args.model.display()
        );
        return Ok(ExitCode::from(1));
    }
    let done = generate::apply(&generated.plan).map_err(|e| UsageError(e.to_string()))?;
    for p in &done.hand_written {
        eprintln!("kept hand-written {}", p.display());
    }
    eprintln!(
        "conform generate: {} operations, {} cases; {} files written, {} unchanged, {} deleted ({} ms)",
        generated.operations,
        generated.cases,
        done.missing.len() + done.stale.len(),
        done.unchanged,
        done.extra.len(),
        started.elapsed().as_millis()
    );
    Ok(ExitCode::SUCCESS)
}
