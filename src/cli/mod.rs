//! Command-line interface: flags → one args struct → library calls → exit code.
//! Exit codes: 0 all selected cases passed; 1 a case failed or errored; 2 usage, config or
//! case-file errors (clap exits 2 on usage errors too).

mod common;
mod compare;
mod coverage;
mod export;
mod generate;
mod inspect;
mod model;
mod proxy;
mod record;
mod run;
mod serve;
mod style;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "conform",
    version,
    about = "How faithfully does an endpoint speak an AWS JSON API (awsJson1_0, awsJson1_1)?",
    long_about = None,
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the cases against an endpoint (default: the built-in replay of recordings/)
    Run(run::RunArgs),
    /// Replay the recordings against an endpoint and score how faithfully it answers
    Compare(compare::CompareArgs),
    /// Check case files (and recordings) without running them
    Check(inspect::CheckArgs),
    /// List the cases: name, tags, provenance
    List(inspect::ListArgs),
    /// Run cases against real AWS or an endpoint and write what it answered under recordings/
    Record(record::RecordArgs),
    /// Write case files and modeled recordings for every operation of a service model
    Generate(generate::GenerateArgs),
    /// Load a service model, or validate a response against it
    Model(model::ModelArgs),
    /// Each operation's members, constraints, errors and enum values, and the cases that cover them
    Coverage(coverage::CoverageArgs),
    /// Serve recordings as the endpoint they were recorded from, until Ctrl-C
    Serve(serve::ServeArgs),
    /// Stand between a client and an endpoint: answer from, record and judge live traffic
    Proxy(proxy::ProxyArgs),
    /// Write the recordings in another tool's format (WireMock stub mappings)
    Export(export::ExportArgs),
    /// Settle pending snapshots written by `run --snapshots`
    Snapshots(inspect::SnapshotsArgs),
}

/// A failure that ends the command with exit code 2 and a message (never a credential).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // One worker for every two cores, unless TOKIO_WORKER_THREADS says otherwise. conform's
    // own work is light beside waiting for answers, and the endpoint it judges (an emulator,
    // the built-in replay's own runtime) usually runs on the same machine: on 2 cores, a
    // second worker only made the two fight over the cases' tasks and wake each other
    // (bench/issue11.sh figure 3: a third more CPU for the same wall time). One worker is a
    // current-thread runtime: the answers' readiness is polled on the thread that runs the
    // cases, with no wake-up across threads (figure 3: 15 % less CPU than one worker of a
    // multi-thread runtime). The replay and the proxy serve on runtimes of their own.
    let mut builder = match conform::parallel::half_the_cores() {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all();
    let runtime = match builder.build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            // A task of the runtime, beside the cases' tasks: with a multi-thread runtime, a
            // case that ends wakes the loop that collects results on a worker, not the main
            // thread (a wake-up across threads costs more than a whole case's checks).
            Command::Run(args) => match tokio::spawn(run::run(args)).await {
                Ok(result) => result,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            },
            Command::Compare(args) => compare::compare(args).await,
            Command::Check(args) => inspect::check(args),
            Command::List(args) => inspect::list(args),
            Command::Record(args) => record::record(args).await,
            Command::Generate(args) => generate::generate(args),
            Command::Model(args) => model::model(args),
            Command::Coverage(args) => coverage::coverage(args),
            Command::Serve(args) => serve::serve(args).await,
            Command::Snapshots(args) => inspect::snapshots(args),
            Command::Proxy(args) => proxy::proxy(args).await,
            Command::Export(args) => export::export(args),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
