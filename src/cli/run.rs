//! `conform run`: select cases, run them against a target, print one line per case with a
//! diff for each failure or difference from a labelled guess and the harmless differences
//! under it, write `--junit`/`--json`, end with `N passed, N failed, N skipped`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;

use conform::aws::SecretScrubber;
use conform::case::{Case, TargetKind};
use conform::http::{Client, ClientOptions};
use conform::report::{self, RunReport};
use conform::runner::{
    self, CaseResult, Judgement, Outcome, RunOptions, Selection, Strictness, Summary, Target,
};
use conform::snapshot::{self, SnapFile, SnapshotCheck, SnapshotInfo, WriteMode, snapshot_path};

use super::UsageError;
use super::common::{self, AwsArgs};
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
    /// Lock each case's normalised response in insta-format snapshots in this folder
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Write new and changed snapshots as accepted (instead of pending .snap.new)
    #[arg(long, requires = "snapshots")]
    pub update_snapshots: bool,
    /// Let a snapshot from a non-AWS target replace one taken from AWS
    #[arg(long, requires = "snapshots")]
    pub force_snapshots: bool,
    /// Suffix naming the target in snapshot files (<case>@<suffix>.snap) [default: the target kind]
    #[arg(long, value_name = "NAME", requires = "snapshots")]
    pub snapshot_suffix: Option<String>,
    /// Fail cases whose answer differs from a labelled guess (inferred expectations)
    #[arg(long)]
    pub strict_inferred: bool,
    /// Fail cases that show harmless differences (a Content-Type parameter, unknown members)
    #[arg(long)]
    pub strict: bool,
    /// The ledger of known divergences [default: known-divergences.yaml beside each suite.yaml]
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
    /// Write a ledger listing today's divergences (failures, with their mismatch paths)
    #[arg(long, value_name = "FILE")]
    pub write_ledger: Option<PathBuf>,
    /// Let --write-ledger replace an existing file
    #[arg(long, requires = "write_ledger")]
    pub force: bool,
    /// Colour: auto, always, never (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

impl RunArgs {
    pub fn strictness(&self) -> Strictness {
        Strictness {
            inferred: self.strict_inferred,
            notes: self.strict,
        }
    }
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
    // Shared with the runtime's workers, which run the cases.
    let cases: std::sync::Arc<[conform::case::Case]> = suite.cases.into();
    let selection = Selection {
        filters: args.filter.clone(),
        tags: args.tag.clone(),
        shard: args.shard,
    };
    let selected = selection.apply(&cases);
    if let Some(path) = &args.write_ledger
        && path.exists()
        && !args.force
    {
        return Err(UsageError(format!(
            "--write-ledger {}: the file exists; pass --force to replace it",
            path.display()
        ))
        .into());
    }

    // The target, and the built-in replay kept alive for the run when it is the target.
    // Signing and AWS endpoints come from the suite's model (only read when asked for).
    let service = if args.aws.aws || args.aws.sign {
        common::aws_service(&cases, &selected)?
    } else {
        None
    };
    let (target, _replay, scrubber) = build_target(&args, service.as_ref()).await?;
    // Before any case runs: a broken ledger stops the run. Which ledgers apply depends on
    // the kind of target (a ledger of an emulator's divergences is not the replay's).
    let ledger = load_ledger(&args, &cases, target.kind)?;
    // An endpoint may quote a credential back (a session token in a signature error): nothing
    // printed or written carries one.
    let scrub = |text: String| match &scrubber {
        Some(s) => s.scrub(&text),
        None => text,
    };
    let options = RunOptions {
        jobs: args.jobs,
        timeout: Duration::from_secs_f64(args.timeout),
        vars,
        // Only snapshots read the exchanges of a run.
        keep_exchanges: args.snapshots.is_some(),
    };
    let style = Style::for_stdout(args.color);
    let strict = args.strictness();
    eprintln!(
        "conform: {} of {} cases against {} ({})",
        selected.len(),
        cases.len(),
        target.client.base(),
        target.kind
    );
    let snapshots = args
        .snapshots
        .as_ref()
        .map(|dir| Snapshots::new(dir, &args, &target));
    let mut overrides: Vec<(usize, Outcome)> = Vec::new();
    let mut snapshot_error = None;
    let printer = Printer {
        out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
        render: |case: &Case, result: &CaseResult| {
            // The ledger first: snapshots and output see what the run judges.
            let mut shown = ledger.apply(case, result);
            if !matches!(
                (&shown.outcome, &result.outcome),
                (Outcome::Passed, Outcome::Passed)
            ) {
                overrides.push((result.index, shown.outcome.clone()));
            }
            if let Some(snapshots) = &snapshots {
                match snapshots.apply(case, result) {
                    Ok(Some(outcome)) => {
                        shown.to_mut().outcome = outcome.clone();
                        overrides.push((result.index, outcome));
                    }
                    Ok(None) => {}
                    Err(e) => snapshot_error = Some(e),
                }
            }
            scrub(render_result(case, &shown, strict, &style))
        },
    };
    let mut results =
        runner::run_cases_shared(cases.clone(), &selected, &target, &options, printer).await;
    if let Some(e) = snapshot_error {
        return Err(e.context("cannot write snapshots"));
    }
    for (index, outcome) in overrides {
        if let Some(r) = results.iter_mut().find(|r| r.index == index) {
            r.outcome = outcome;
        }
    }

    let summary = Summary::judged(&results, strict);
    write_reports(&args, &cases, &results, &target, &scrub)?;
    if let Some(path) = &args.write_ledger {
        let text = conform::ledger::render(&cases, &results, &ledger, target.kind)
            .map_err(anyhow::Error::msg)?;
        conform::recording::write_atomically(path, scrub(text).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("conform: wrote the ledger {}", path.display());
    }
    println!("{}", summary_lines(&summary, strict));
    // The process ends now: freeing ten thousand cases and results one by one would only
    // delay the exit (the operating system takes the memory back at once).
    std::mem::forget(results);
    std::mem::forget(cases);
    Ok(if summary.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Prints each result as the runner hands it over, in batches: what is ready is written
/// together, and flushed whenever the next result has to be waited for.
struct Printer<F> {
    out: std::io::BufWriter<std::io::Stdout>,
    render: F,
}

impl<F: FnMut(&Case, &CaseResult) -> String> runner::Progress for Printer<F> {
    fn result(&mut self, case: &Case, result: &CaseResult) {
        let text = (self.render)(case, result);
        // A closed stdout (`| head`) stops the printing, not the run: its results still count.
        let _ = self.out.write_all(text.as_bytes());
    }

    fn waiting(&mut self) {
        let _ = self.out.flush();
    }
}

/// `--ledger FILE`, or the `known-divergences.yaml` files beside the suites; every error of
/// every ledger is printed and nothing runs. A placeholder `why` is a warning.
fn load_ledger(
    args: &RunArgs,
    cases: &[Case],
    kind: TargetKind,
) -> Result<conform::ledger::Ledger> {
    let (files, scoped) = match &args.ledger {
        Some(file) => (vec![file.clone()], false),
        None => (conform::ledger::discover(cases), true),
    };
    // The folders this run loaded whole (a file given is not one).
    let whole: Vec<PathBuf> = common::case_paths(&args.paths)
        .into_iter()
        .filter(|p| p.is_dir())
        .collect();
    let (ledger, left_aside) =
        conform::ledger::load(&files, cases, scoped, &whole, kind).map_err(|errors| {
            let n = errors.0.len();
            eprintln!("{errors}\n");
            anyhow::Error::from(UsageError(format!(
                "{n} ledger error{} (no case was run)",
                if n == 1 { "" } else { "s" }
            )))
        })?;
    for file in &files {
        if left_aside.contains(file) {
            eprintln!(
                "conform: ledger {} left aside: its applies_to does not name {kind} targets",
                file.display()
            );
        } else {
            eprintln!("conform: ledger {}", file.display());
        }
    }
    for e in ledger.entries().filter(|e| e.why_is_placeholder()) {
        eprintln!(
            "warning: {}: the ledger entry for `{}` has a placeholder why; say why the endpoint differs and name the source",
            e.at, e.case
        );
    }
    Ok(ledger)
}

/// The target the flags describe. Returns the embedded replay server too, when it is the
/// target, so that it lives as long as the run.
pub async fn build_target(
    args: &RunArgs,
    service: Option<&conform::aws::AwsService>,
) -> Result<(
    Target,
    Option<conform::replay::ReplayServer>,
    Option<SecretScrubber>,
)> {
    let options = ClientOptions {
        max_body: args.max_body,
        pool_size: args.jobs.max(1),
    };
    let client = |url: &str, signer| {
        Client::new(url, signer, options.clone())
            .map_err(|e| anyhow::Error::from(UsageError(e.to_string())))
    };
    if let Some(remote) = common::remote_target(
        service,
        &args.aws,
        args.endpoint_url.as_deref(),
        options.clone(),
    )
    .await?
    {
        return Ok((remote.target, None, remote.scrubber));
    }
    match &args.endpoint_url {
        Some(url) => Ok((
            Target {
                kind: TargetKind::Endpoint,
                client: client(url, None)?,
            },
            None,
            None,
        )),
        None => {
            let server = common::start_embedded_replay(&args.recordings).await?;
            let target = Target {
                kind: TargetKind::Replay,
                client: client(&server.uri(), None)?,
            };
            Ok((target, Some(server), None))
        }
    }
}

fn write_reports(
    args: &RunArgs,
    cases: &[Case],
    results: &[CaseResult],
    target: &Target,
    scrub: &dyn Fn(String) -> String,
) -> Result<()> {
    let report = RunReport {
        cases,
        results,
        target_kind: target.kind.to_string(),
        endpoint: target.client.base().to_owned(),
        strict: args.strictness(),
    };
    let write = |path: &Path, text: String| -> Result<()> {
        conform::recording::write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    };
    if let Some(path) = &args.junit {
        write(path, scrub(report::junit(&report)))?;
    }
    if let Some(path) = &args.json {
        write(path, scrub(report::json(&report)))?;
    }
    Ok(())
}

/// One line per case; for a failure or a difference from a labelled guess, what differs and
/// the diff, indented; then the harmless differences (`note: ...`).
pub fn render_result(
    case: &Case,
    result: &CaseResult,
    strict: Strictness,
    style: &Style,
) -> String {
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
    let failed = result.judge(strict) == Judgement::Failed;
    let mut out = match &result.outcome {
        Outcome::Known { .. } => String::new(),
        // Passing, but for the harmless differences that --strict fails.
        Outcome::Passed if failed => format!(
            "{}  {}  {}\n       harmless differences fail under --strict\n",
            style.red("FAIL "),
            case.name,
            style.dim(&case.file.display().to_string())
        ),
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
            push_mismatches(&mut out, mismatches, diff, style);
            out
        }
        Outcome::Differs {
            step,
            mismatches,
            diff,
            why,
        } => {
            // Its own word, so nobody mistakes a guess for a fact; FAIL only when asked.
            let (word, tail) = if failed {
                (
                    style.red("FAIL "),
                    if strict.inferred {
                        " (--strict-inferred)"
                    } else {
                        " (--strict: harmless differences too)"
                    },
                )
            } else {
                (style.yellow("DIFFERS"), "")
            };
            let mut out = format!(
                "{word}  {}{}  {}\n       differs from a labelled guess (inferred){tail}\n       why: {}\n",
                case.name,
                step_label(*step),
                style.dim(&case.file.display().to_string()),
                why.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            push_mismatches(&mut out, mismatches, diff, style);
            out
        }
    };
    if let Outcome::Known {
        step,
        mismatches,
        why,
        at,
        ..
    } = &result.outcome
    {
        // The diff stays in the reports: a known divergence is read once, then skimmed.
        out = format!(
            "{}  {}{}  {}\n       known divergence ({at})\n       why: {why}\n",
            style.yellow("KNOWN"),
            case.name,
            step_label(*step),
            style.dim(&case.file.display().to_string()),
        );
        for m in mismatches {
            out.push_str(&format!("       {}: {}\n", m.path, m.message));
        }
    }
    for n in &result.notes {
        let step = if case.steps.len() > 1 {
            format!("step {}: ", n.step + 1)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "       {} {step}{}: {}\n",
            style.dim("note:"),
            n.path,
            n.message
        ));
    }
    out
}

fn push_mismatches(
    out: &mut String,
    mismatches: &[conform::matching::Mismatch],
    diff: &str,
    style: &Style,
) {
    for m in mismatches {
        out.push_str(&format!("       {}: {}\n", m.path, m.message));
    }
    for line in style.diff(diff).lines() {
        out.push_str(&format!("       {line}\n"));
    }
}

/// The line before the last: what differs from labelled guesses and what shows harmless
/// differences, counted apart from the failures; `None` when there is neither.
pub fn notes_line(s: &Summary, strict: Strictness) -> Option<String> {
    let cases = |n: usize| {
        if n == 1 {
            "1 case".to_owned()
        } else {
            format!("{n} cases")
        }
    };
    let verb = |n: usize, one: &str, many: &str| {
        if n == 1 {
            one.to_owned()
        } else {
            many.to_owned()
        }
    };
    let mut parts = Vec::new();
    if s.known > 0 {
        parts.push(format!(
            "{} known {} (in the ledger; not failures)",
            s.known,
            verb(s.known, "divergence", "divergences")
        ));
    }
    if s.differs > 0 {
        parts.push(format!(
            "{} {} from a labelled guess ({})",
            cases(s.differs),
            verb(s.differs, "differs", "differ"),
            if strict.inferred {
                "failures under --strict-inferred"
            } else {
                "not failures; --strict-inferred fails them"
            }
        ));
    }
    if s.with_notes > 0 {
        parts.push(format!(
            "{} {} harmless differences ({})",
            cases(s.with_notes),
            verb(s.with_notes, "shows", "show"),
            if strict.notes {
                "failures under --strict"
            } else {
                "--strict fails them"
            }
        ));
    }
    (!parts.is_empty()).then(|| format!("notes: {}", parts.join("; ")))
}

/// The closing lines: how many failures got no usable response, then `notes_line`, then
/// `N passed, N failed, N skipped` (cases that errored count as failed), always last.
pub fn summary_lines(s: &Summary, strict: Strictness) -> String {
    let mut out = String::new();
    if s.errored > 0 {
        out.push_str(&format!(
            "({} of the failures got no usable response)\n",
            s.errored
        ));
    }
    if let Some(line) = notes_line(s, strict) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!(
        "{} passed, {} failed, {} skipped",
        s.passed,
        s.failed + s.errored,
        s.skipped
    ));
    out
}

/// `--snapshots DIR`: after each case, its normalised response is checked against the
/// accepted snapshot; a difference fails the case with the diff.
struct Snapshots {
    dir: PathBuf,
    suffix: String,
    mode: WriteMode,
    force: bool,
    info: SnapshotInfo,
}

impl Snapshots {
    fn new(dir: &Path, args: &RunArgs, target: &Target) -> Snapshots {
        let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        let mode = if args.update_snapshots {
            WriteMode::Update
        } else if in_ci {
            WriteMode::Nothing
        } else {
            WriteMode::Pending
        };
        Snapshots {
            dir: dir.to_owned(),
            suffix: args
                .snapshot_suffix
                .clone()
                .unwrap_or_else(|| target.kind.to_string()),
            mode,
            force: args.force_snapshots,
            info: SnapshotInfo {
                target: target.kind.to_string(),
                endpoint: target.client.base().to_owned(),
                region: args
                    .aws
                    .region
                    .clone()
                    .filter(|_| args.aws.aws || args.aws.sign),
                conform_version: env!("CARGO_PKG_VERSION").to_owned(),
                date: now_utc(),
            },
        }
    }

    /// The outcome to report instead of the runner's, when the snapshot changes it.
    fn apply(&self, case: &Case, result: &CaseResult) -> Result<Option<Outcome>> {
        // A difference from a guess passed its firm part: its response is locked like any.
        if !matches!(
            result.outcome,
            Outcome::Passed | Outcome::Failed { .. } | Outcome::Differs { .. }
        ) {
            return Ok(None);
        }
        let stem = case
            .file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("case");
        let path = snapshot_path(&self.dir, stem, &self.suffix);
        let content = conform::yaml::to_string(&snapshot::document(&result.exchanges))
            .map_err(anyhow::Error::msg)?;
        let new = SnapFile {
            case: case.name.clone(),
            info: self.info.clone(),
            content,
        };
        let check = snapshot::check(&path, &new, self.mode, self.force)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let failed = |message: String, diff: String| Outcome::Failed {
            step: case.steps.len().saturating_sub(1),
            mismatches: vec![conform::matching::Mismatch {
                path: "snapshot".into(),
                message,
            }],
            diff,
        };
        if matches!(result.outcome, Outcome::Failed { .. }) {
            // The case already failed on its expectations; that diff says more.
            return Ok(None);
        }
        Ok(match check {
            SnapshotCheck::Matched | SnapshotCheck::Updated => None,
            SnapshotCheck::New { pending } => Some(failed(
                match pending {
                    Some(p) => format!(
                        "new snapshot, pending as {} (accept with `conform snapshots accept`)",
                        p.display()
                    ),
                    None => format!(
                        "no snapshot at {} (run with --update-snapshots to write it)",
                        path.display()
                    ),
                },
                String::new(),
            )),
            SnapshotCheck::Changed { diff, pending } => Some(failed(
                match pending {
                    Some(p) => format!(
                        "response differs from {}; new version pending as {}",
                        path.display(),
                        p.display()
                    ),
                    None => format!("response differs from {}", path.display()),
                },
                diff,
            )),
            SnapshotCheck::Protected { diff } => Some(failed(
                format!(
                    "{} was taken from AWS; not replaced by a {} snapshot without --force-snapshots",
                    path.display(),
                    self.info.target
                ),
                diff,
            )),
        })
    }
}

/// RFC 3339 UTC time, without a date crate: days since the epoch to a civil date.
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
