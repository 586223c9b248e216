//! `conform check` and `conform list`: reading the suite without running it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::common;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Case files or folders [default: cases]
    pub paths: Vec<PathBuf>,
    /// Also check the recordings in this folder
    #[arg(long, value_name = "DIR")]
    pub recordings: Option<PathBuf>,
    /// Variables the target will give (so cases that need them check)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    #[arg(long, value_name = "FILE")]
    pub vars: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Case files or folders [default: cases]
    pub paths: Vec<PathBuf>,
}

pub fn check(args: CheckArgs) -> Result<ExitCode> {
    let vars = common::read_vars(args.vars.as_deref(), &args.var)?;
    let suite = common::load(&args.paths, &vars)?;
    let steps: usize = suite.cases.iter().map(|c| c.steps.len()).sum();
    println!("{} cases ({} steps): no errors", suite.cases.len(), steps);
    if let Some(dir) = &args.recordings {
        let replay = common::load_replay(dir)?;
        println!(
            "{} recorded exchanges in {}: no errors",
            replay.exchange_count(),
            dir.display()
        );
        for s in &replay.shadowed {
            eprintln!("warning: {s}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list(args: ListArgs) -> Result<ExitCode> {
    let suite = common::load(&args.paths, &Default::default())?;
    let width = suite
        .cases
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("{:<width$}  {:<10}  TAGS", "NAME", "PROVENANCE");
    for case in &suite.cases {
        println!(
            "{:<width$}  {:<10}  {}",
            case.name,
            case.provenance.to_string(),
            case.tags.join(", ")
        );
    }
    println!("{} cases", suite.cases.len());
    Ok(ExitCode::SUCCESS)
}

#[derive(Args, Debug)]
pub struct SnapshotsArgs {
    #[command(subcommand)]
    pub action: SnapshotAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum SnapshotAction {
    /// Accept every pending snapshot (.snap.new) in DIR
    Accept {
        dir: PathBuf,
        /// Let a snapshot from a non-AWS target replace one taken from AWS
        #[arg(long)]
        force: bool,
    },
    /// Delete every pending snapshot in DIR
    Reject { dir: PathBuf },
}

pub fn snapshots(args: SnapshotsArgs) -> Result<ExitCode> {
    match args.action {
        SnapshotAction::Accept { dir, force } => {
            let (accepted, refused) = conform::snapshot::accept(&dir, force)?;
            for p in &accepted {
                println!("accepted {}", p.display());
            }
            for p in &refused {
                eprintln!(
                    "refused {}: it would replace a snapshot taken from AWS (use --force)",
                    p.display()
                );
            }
            println!("{} accepted, {} refused", accepted.len(), refused.len());
            Ok(if refused.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        SnapshotAction::Reject { dir } => {
            let rejected = conform::snapshot::reject(&dir)?;
            for p in &rejected {
                println!("rejected {}", p.display());
            }
            println!("{} rejected", rejected.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}
