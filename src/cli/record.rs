//! `conform record`: run cases against real AWS (or any endpoint) and write what it answered
//! under `recordings/`, one file per case. Progress goes to stderr, the summary to stdout.
//!
//! Also the one place that turns `--aws`/`--sign`/`--region`/`--profile`/`--fips` into a
//! signed target (`common::remote_target`), so that `run` and `record` sign the same way. Nothing
//! here prints a credential: every line shown goes through the signer's scrubber first.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};

use conform::aws::SecretScrubber;
use conform::http::ClientOptions;
use conform::record::{
    CaseRecord, RecordEvent, RecordMode, RecordOptions, RecordStatus, RecordSummary, RetryPolicy,
    find_cases_root,
};
use conform::runner::{Outcome, RunOptions, Selection};

use super::UsageError;
use super::common;
use super::common::AwsArgs;

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Case files or folders [default: cases]
    pub paths: Vec<PathBuf>,
    /// The recordings folder written into
    #[arg(long, value_name = "DIR", default_value = "recordings")]
    pub out: PathBuf,
    /// The folder whose layout recordings mirror [default: the top folder with a suite.yaml above the paths]
    #[arg(long, value_name = "DIR")]
    pub cases_root: Option<PathBuf>,
    /// none: run and report, write nothing; new: only cases without a recording file; all: every case again
    #[arg(long, value_enum, default_value_t = ModeArg::New)]
    pub mode: ModeArg,
    /// Replace recordings made against real AWS with ones from another endpoint, and files that are not readable recordings
    #[arg(long)]
    pub force: bool,
    /// Also record cases the endpoint answered differently than they expect
    #[arg(long)]
    pub record_failures: bool,
    /// Replace AWS account ids in everything written by 111111111111, 222222222222, ...
    #[arg(long)]
    pub mask_account: bool,
    /// The endpoint to record, e.g. http://127.0.0.1:4566 (with --aws: instead of the regional endpoint the model names)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Record only cases whose name contains this text (repeatable: any of them)
    #[arg(long, value_name = "TEXT")]
    pub filter: Vec<String>,
    /// Record only cases with this tag (repeatable: any of them)
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Cases in flight at once (keep 1 against a live account: it throttles, and runs on one template compete)
    #[arg(long, short = 'j', default_value_t = 1, value_name = "N")]
    pub jobs: usize,
    /// Per-request timeout in seconds
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Set a variable (repeatable); overrides suite defaults and --vars
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read variables from a YAML file (name: value)
    #[arg(long, value_name = "FILE")]
    pub vars: Option<PathBuf>,
    /// Runs of a throttled case, in all
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub attempts: u32,
    /// Pause after the first throttled run, in milliseconds (doubles each time, up to 20 s)
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub retry_delay_ms: u64,
    /// Largest response body read, in bytes
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    pub max_body: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    None,
    New,
    All,
}

impl From<ModeArg> for RecordMode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::None => RecordMode::None,
            ModeArg::New => RecordMode::New,
            ModeArg::All => RecordMode::All,
        }
    }
}

pub async fn record(args: RecordArgs) -> Result<ExitCode> {
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err(UsageError(format!(
            "--timeout must be a positive number of seconds, found {}",
            args.timeout
        ))
        .into());
    }
    let vars = common::read_vars(args.vars.as_deref(), &args.var)?;
    let suite = common::load(&args.paths, &vars)?;
    let selected = Selection {
        filters: args.filter.clone(),
        tags: args.tag.clone(),
        shard: None,
    }
    .apply(&suite.cases);
    let cases_root = args
        .cases_root
        .clone()
        .unwrap_or_else(|| find_cases_root(&common::case_paths(&args.paths)));

    let client_options = ClientOptions {
        max_body: args.max_body,
        pool_size: args.jobs.max(1),
    };
    let Some(remote) = common::remote_target(
        if args.aws.aws || args.aws.sign {
            common::aws_service(&suite.cases, &selected)?
        } else {
            None
        }
        .as_ref(),
        &args.aws,
        args.endpoint_url.as_deref(),
        client_options,
    )
    .await?
    else {
        return Err(UsageError(
            "conform record needs an endpoint: --aws (real AWS, signed), or --endpoint-url URL (add --sign to sign)"
                .into(),
        )
        .into());
    };

    let options = RecordOptions {
        out: args.out.clone(),
        mode: args.mode.into(),
        force: args.force,
        record_failures: args.record_failures,
        mask_account: args.mask_account,
        aws: remote.aws,
        region: remote.region.clone(),
        run: RunOptions {
            jobs: args.jobs.max(1),
            timeout: Duration::from_secs_f64(args.timeout),
            vars,
            keep_exchanges: true,
        },
        retry: RetryPolicy {
            attempts: args.attempts.max(1),
            base_delay: Duration::from_millis(args.retry_delay_ms),
            ..RetryPolicy::default()
        },
        scrubber: remote.scrubber.clone(),
    };
    let show = Shower(remote.scrubber.clone());
    eprintln!(
        "{}",
        show.text(&format!(
            "conform record: {} of {} cases against {} ({}), mode {}, into {}",
            selected.len(),
            suite.cases.len(),
            remote.target.client.base(),
            remote.target.kind,
            options.mode,
            options.out.display()
        ))
    );

    // What finished so far, for the summary of an interrupted run.
    let finished: Arc<Mutex<Vec<CaseRecord>>> = Arc::default();
    let on_event = {
        let finished = finished.clone();
        let show = show.clone();
        move |event: RecordEvent| {
            if let RecordEvent::Finished { record, .. } = &event {
                finished
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(record.clone());
            }
            if let Some(line) = progress_line(&event) {
                eprintln!("{}", show.text(&line));
            }
        }
    };
    let recording = conform::record::record(
        &suite.cases,
        &selected,
        &cases_root,
        &remote.target,
        &options,
        on_event,
    );
    // Ctrl-C or SIGTERM stops between two cases' writes, never in the middle of one: a write
    // happens inside one poll of `recording`, and dropping it at an await point leaves
    // every file either old and whole or new and whole.
    let (summary, interrupted) = tokio::select! {
        summary = recording => (summary, false),
        () = interruption() => {
            let cases = std::mem::take(&mut *finished.lock().unwrap_or_else(PoisonError::into_inner));
            (RecordSummary { cases }, true)
        }
    };
    print!("{}", show.text(&render_summary(&summary, options.mode)));
    if interrupted {
        eprintln!(
            "conform record: interrupted; the files written so far are whole, the others untouched"
        );
        return Ok(ExitCode::from(130));
    }
    Ok(if summary.has_problems() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints only after scrubbing the signer's secrets (an endpoint's message might quote them).
#[derive(Clone)]
struct Shower(Option<SecretScrubber>);

impl Shower {
    fn text(&self, text: &str) -> String {
        match &self.0 {
            Some(s) => s.scrub(text),
            None => text.to_owned(),
        }
    }
}

fn progress_line(event: &RecordEvent) -> Option<String> {
    match event {
        RecordEvent::Started { .. } => None,
        RecordEvent::Case {
            name,
            position,
            total,
        } => Some(format!("[{position}/{total}] {name}")),
        RecordEvent::Retry {
            name,
            attempt,
            attempts,
            delay,
            reason,
        } => Some(format!(
            "    {name}: throttled ({reason}); run {attempt} of {attempts} in {} ms",
            delay.as_millis()
        )),
        RecordEvent::Finished { record, remaining } => Some(format!(
            "    {}: {} ({remaining} left)",
            record.name,
            short_status(record)
        )),
    }
}

fn short_status(record: &CaseRecord) -> String {
    match (&record.status, &record.file) {
        (RecordStatus::Written, Some(file)) => format!("wrote {}", file.display()),
        (status, _) => status.to_string(),
    }
}

/// One line per case, then `N written, N kept, N not recorded` and the run's counts.
fn render_summary(summary: &RecordSummary, mode: RecordMode) -> String {
    let mut out = String::new();
    for record in &summary.cases {
        let outcome = record
            .outcome
            .as_ref()
            .map(|o| format!(" [{}]", o.label()))
            .unwrap_or_default();
        let file = record
            .file
            .as_ref()
            .map(|f| format!("  {}", f.display()))
            .unwrap_or_default();
        let line = match &record.status {
            RecordStatus::Written => format!("WROTE  {}{outcome}{file}", record.name),
            RecordStatus::KeptExisting(reason) => {
                format!("KEPT   {}{file}  ({reason})", record.name)
            }
            RecordStatus::NotRecorded(reason) => {
                format!("NOT    {}{outcome}  ({reason})", record.name)
            }
        };
        out.push_str(&line);
        out.push('\n');
        if let Some(Outcome::Failed { mismatches, .. }) = &record.outcome {
            for m in mismatches {
                out.push_str(&format!("       {}: {}\n", m.path, m.message));
            }
        }
    }
    let outcomes = summary.outcomes();
    let dry = if mode == RecordMode::None {
        " (--mode none: nothing written)"
    } else {
        ""
    };
    out.push_str(&format!(
        "{} written, {} kept, {} not recorded{dry}; of the cases run: {} passed, {} failed, {} skipped\n",
        summary.written().count(),
        summary.kept_existing().count(),
        summary.not_recorded().count(),
        outcomes.passed,
        outcomes.failed + outcomes.errored,
        outcomes.skipped,
    ));
    out
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM; never when no handler can be installed.
async fn interruption() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    () = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
