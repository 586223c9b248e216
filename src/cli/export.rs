//! `conform export --wiremock DIR`: the recordings as WireMock stub mappings under
//! `DIR/mappings/`, for `java -jar wiremock-standalone.jar --root-dir DIR`.
//!
//! Exit codes: 0 written; 2 for usage and recording errors, or a write that failed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::UsageError;
use super::common;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Write WireMock stub mappings under DIR/mappings/ (DIR is WireMock's --root-dir)
    #[arg(long, value_name = "DIR", required = true)]
    pub wiremock: PathBuf,
    /// Recordings to export
    #[arg(long, value_name = "DIR", default_value = "recordings")]
    pub recordings: PathBuf,
}

pub fn export(args: ExportArgs) -> Result<ExitCode> {
    // The replay's own loading: every broken recording reported with path:line:column, and the
    // exchanges it shadows named, since the export leaves them out as the replay does.
    let replay = common::load_replay(&args.recordings)?;
    for s in &replay.shadowed {
        eprintln!("warning: {s} (left out of the export)");
    }
    let recordings = conform::recording::load_recordings(&args.recordings)
        .map_err(|e| UsageError(format!("{e}")))?;
    let mappings = conform::export::wiremock_mappings(&recordings, &args.recordings)
        .map_err(|e| UsageError(e.to_string()))?;
    let written = conform::export::write_wiremock(&args.wiremock, &mappings)
        .map_err(|e| UsageError(e.to_string()))?;
    println!(
        "wrote {} WireMock stub mappings from {} recorded exchanges to {}",
        written.len(),
        replay.exchange_count(),
        args.wiremock.join("mappings").display()
    );
    Ok(ExitCode::SUCCESS)
}
