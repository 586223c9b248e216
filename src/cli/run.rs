//! `conform run`: select cases, run them against a target, print one line per case with a
//! diff for each failure, write `--junit`/`--json`, end with `N passed, N failed, N skipped`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;

use conform::case::{Case, TargetKind};
use conform::http::{Client, ClientOptions};
use conform::report::{self, RunReport};
use conform::runner::{self, CaseResult, Outcome, RunOptions, Selection, Summary, Target};

use super::UsageError;
use super::common;
use super::style::{ColorChoice, Style};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Case files or folders [default: cases]
    pub paths: Vec<PathBuf>,
    /// The endpoint to test, e.g. http://127.0.0.1:4566 [default: the built-in replay of --recordings]
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Recordings the built-in replay serves when no --endpoint-url is given
    #[arg(long, value_name = "DIR", default_value = "recordings")]
    pub recordings: PathBuf,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Run only cases whose name contains this text (repeatable: any of them)
    #[arg(long, value_name = "TEXT")]
    pub filter: Vec<String>,
    /// Run only cases with this tag (repeatable: any of them)
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Cases in flight at once
    #[arg(long, short = 'j', default_value_t = 8, value_name = "N")]
    pub jobs: usize,
    /// Run the K-th of N deterministic shards, e.g. 2/3
    #[arg(long, value_name = "K/N", value_parser = runner::parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Per-request timeout in seconds
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Set a variable (repeatable); overrides suite defaults and --vars
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read variables from a YAML file (name: value)
    #[arg(long, value_name = "FILE")]
    pub vars: Option<PathBuf>,
    /// Write a JUnit XML report
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Largest response body read, in bytes
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    pub max_body: usize,
    /// Colour: auto, always, never (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Real AWS and signing endpoints.
#[derive(Args, Debug, Clone)]
pub struct AwsArgs {
    /// Run against real AWS (inspector.<region>.amazonaws.com), requests signed with SigV4
    #[arg(long)]
    pub aws: bool,
    /// AWS region (with --aws or --sign)
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
    /// Shared-config profile for credentials
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Use the FIPS endpoint (with --aws)
    #[arg(long)]
    pub fips: bool,
    /// Sign requests to --endpoint-url with SigV4 (for emulators that check signatures)
    #[arg(long)]
    pub sign: bool,
}

pub async fn run(args: RunArgs) -> Result<ExitCode> {
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err(UsageError(format!(
            "--timeout must be a positive number of seconds, found {}",
            args.timeout
        ))
        .into());
    }
    let vars = common::read_vars(args.vars.as_deref(), &args.var)?;
    let suite = common::load(&args.paths, &vars)?;
    let selection = Selection {
        filters: args.filter.clone(),
        tags: args.tag.clone(),
        shard: args.shard,
    };
    let selected = selection.apply(&suite.cases);

    // The target, and the built-in replay kept alive for the run when it is the target.
    let (target, _replay) = build_target(&args).await?;
    let options = RunOptions {
        jobs: args.jobs,
        timeout: Duration::from_secs_f64(args.timeout),
        vars,
    };
    let style = Style::for_stdout(args.color);
    eprintln!(
        "conform: {} of {} cases against {} ({})",
        selected.len(),
        suite.cases.len(),
        target.client.base(),
        target.kind
    );
    let results = runner::run_cases(
        &suite.cases,
        &selected,
        &target,
        &options,
        |case, result| {
            print!("{}", render_result(case, result, &style));
        },
    )
    .await;

    let summary = Summary::of(&results);
    write_reports(&args, &suite.cases, &results, &target)?;
    println!("{}", summary_line(&summary));
    Ok(if summary.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The target the flags describe. Returns the embedded replay server too, when it is the
/// target, so that it lives as long as the run.
pub async fn build_target(
    args: &RunArgs,
) -> Result<(Target, Option<conform::replay::ReplayServer>)> {
    let options = ClientOptions {
        max_body: args.max_body,
        pool_size: args.jobs.max(1),
    };
    let client = |url: &str, signer| {
        Client::new(url, signer, options.clone())
            .map_err(|e| anyhow::Error::from(UsageError(e.to_string())))
    };
    if args.aws.aws || args.aws.sign {
        return Err(UsageError(
            "signed targets (--aws, --sign) are not available in this build".into(),
        )
        .into());
    }
    match &args.endpoint_url {
        Some(url) => Ok((
            Target {
                kind: TargetKind::Endpoint,
                client: client(url, None)?,
            },
            None,
        )),
        None => {
            let server = common::start_embedded_replay(&args.recordings).await?;
            let target = Target {
                kind: TargetKind::Replay,
                client: client(&server.uri(), None)?,
            };
            Ok((target, Some(server)))
        }
    }
}

fn write_reports(
    args: &RunArgs,
    cases: &[Case],
    results: &[CaseResult],
    target: &Target,
) -> Result<()> {
    let report = RunReport {
        cases,
        results,
        target_kind: target.kind.to_string(),
        endpoint: target.client.base().to_owned(),
    };
    let write = |path: &Path, text: String| -> Result<()> {
        conform::recording::write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    };
    if let Some(path) = &args.junit {
        write(path, report::junit(&report))?;
    }
    if let Some(path) = &args.json {
        write(path, report::json(&report))?;
    }
    Ok(())
}

/// One line per case; for a failure, what differs and the diff, indented.
pub fn render_result(case: &Case, result: &CaseResult, style: &Style) -> String {
    let ms = result.duration.as_secs_f64() * 1000.0;
    let step_label = |step: usize| {
        if case.steps.len() > 1 {
            let name = case.steps[step]
                .name
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default();
            format!(" [step {}{name}]", step + 1)
        } else {
            String::new()
        }
    };
    match &result.outcome {
        Outcome::Passed => format!(
            "{}  {} {}\n",
            style.green("PASS "),
            case.name,
            style.dim(&format!("({ms:.1} ms)"))
        ),
        Outcome::Skipped { reason } => format!(
            "{}  {} {}\n",
            style.yellow("SKIP "),
            case.name,
            style.dim(&format!("({reason})"))
        ),
        Outcome::Errored { step, message } => {
            format!(
                "{}  {}{}\n       {message}\n",
                style.red("ERROR"),
                case.name,
                step_label(*step)
            )
        }
        Outcome::Failed {
            step,
            mismatches,
            diff,
        } => {
            let mut out = format!(
                "{}  {}{}  {}\n",
                style.red("FAIL "),
                case.name,
                step_label(*step),
                style.dim(&case.file.display().to_string())
            );
            for m in mismatches {
                out.push_str(&format!("       {}: {}\n", m.path, m.message));
            }
            for line in style.diff(diff).lines() {
                out.push_str(&format!("       {line}\n"));
            }
            out
        }
    }
}

/// `N passed, N failed, N skipped`; cases that errored count as failed.
pub fn summary_line(s: &Summary) -> String {
    let errors = if s.errored > 0 {
        format!("({} of the failures got no usable response)\n", s.errored)
    } else {
        String::new()
    };
    format!(
        "{errors}{} passed, {} failed, {} skipped",
        s.passed,
        s.failed + s.errored,
        s.skipped
    )
}
