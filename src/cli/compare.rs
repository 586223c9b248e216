//! `conform compare`: replay every recorded request against an endpoint, print one line per
//! exchange (with the differing paths and a diff for each difference), write `--junit`,
//! `--json` and `--html`, and end with the fidelity score.
//!
//! Exit codes: 0 when nothing differs (or, with `--min-fidelity`, when the exchange score
//! reaches it); 1 otherwise; 2 for usage and recording errors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;

use conform::compare::{
    self as fidelity, Class, CompareOptions, CompareReport, ExchangeResult, Score, percent,
};
use conform::http::{Client, ClientOptions};

use super::UsageError;
use super::common;
use super::style::{ColorChoice, Style};

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Recordings whose requests are replayed and whose responses are the reference
    #[arg(long, value_name = "DIR", default_value = "recordings")]
    pub recordings: PathBuf,
    /// The endpoint to compare, e.g. http://127.0.0.1:4566
    #[arg(long, value_name = "URL")]
    pub endpoint_url: String,
    /// Exit 0 when at least this share of exchanges is equivalent or identical (0.0 to 1.0),
    /// instead of only when nothing differs
    #[arg(long, value_name = "SHARE")]
    pub min_fidelity: Option<f64>,
    /// Per-request timeout in seconds
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Write a JUnit XML report
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// Largest response body read, in bytes
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    pub max_body: usize,
    /// Colour: auto, always, never (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

pub async fn compare(args: CompareArgs) -> Result<ExitCode> {
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err(UsageError(format!(
            "--timeout must be a positive number of seconds, found {}",
            args.timeout
        ))
        .into());
    }
    // NaN is outside every range, so it is refused too.
    if let Some(min) = args.min_fidelity.filter(|m| !(0.0..=1.0).contains(m)) {
        return Err(UsageError(format!(
            "--min-fidelity is a share of exchanges from 0.0 to 1.0 (0.95 for 95%), found {min}"
        ))
        .into());
    }
    // `load_replay` reports every broken recording (with path:line:column) exactly as `serve`
    // and `run` do, and checks what only the replay index sees; its warnings about shadowed
    // exchanges matter here too: a replay of these recordings can never give those answers.
    let replay = common::load_replay(&args.recordings)?;
    for s in &replay.shadowed {
        eprintln!("warning: {s}");
    }
    let recordings = conform::recording::load_recordings(&args.recordings)
        .map_err(|e| UsageError(format!("{e}")))?;
    // The recordings are the reference: say where they break their service model (a
    // service.yaml above them names it), before comparing anything with them.
    let model_findings = super::model::validate_recordings(&args.recordings, &recordings)?;
    if replay.exchange_count() == 0 {
        return Err(UsageError(format!(
            "no recorded exchanges in {}: nothing to compare",
            args.recordings.display()
        ))
        .into());
    }
    let client = Client::new(
        &args.endpoint_url,
        None,
        ClientOptions {
            max_body: args.max_body,
            pool_size: 1,
        },
    )
    .map_err(|e| UsageError(e.to_string()))?;

    let style = Style::for_stdout(args.color);
    eprintln!(
        "conform compare: {} recorded exchanges from {} against {}",
        replay.exchange_count(),
        args.recordings.display(),
        client.base()
    );
    let options = CompareOptions {
        timeout: Duration::from_secs_f64(args.timeout),
    };
    let mut results =
        fidelity::compare_recordings(&args.recordings, &recordings, &client, &options, |result| {
            print!("{}", render_result(result, &style))
        })
        .await;

    // The endpoint's answers against the same model: what it says that the model forbids
    // (also in the JSON report, per exchange).
    let mut answer_violations = Vec::new();
    for r in &mut results {
        let (Some(actual), Some(m)) = (&r.actual, model_findings.models.get(&r.file)) else {
            continue;
        };
        let Some(exchange) = recordings
            .iter()
            .find(|x| x.file == r.file)
            .and_then(|x| x.exchanges.get(r.position - 1))
        else {
            continue;
        };
        let request = conform::compare::request_of(&exchange.request);
        let v = conform::model::validate_exchange(m, &request, actual);
        r.model_violations = v.violations().map(ToString::to_string).collect();
        for f in &r.model_violations {
            answer_violations.push(format!("{}: {f}", r.name));
        }
    }

    let recordings_dir = args.recordings.display().to_string();
    let report = CompareReport {
        results: &results,
        endpoint: client.base(),
        recordings: &recordings_dir,
        min_fidelity: args.min_fidelity,
    };
    write_reports(&args, &report)?;
    let score = report.score();
    for u in &model_findings.unchecked {
        eprintln!("warning: {u}");
    }
    if model_findings.checked > 0 {
        for v in &answer_violations {
            println!("model: the endpoint's answer to {v}");
        }
        println!(
            "model: {} violations in the endpoint's answers",
            answer_violations.len()
        );
        for v in &model_findings.violations {
            println!("model: {v}");
        }
        println!(
            "model: {} of {} recordings checked against their service model, {} violations",
            model_findings.checked,
            recordings.len(),
            model_findings.violations.len()
        );
    }
    println!("{}", summary(&score, args.min_fidelity));
    Ok(if score.passes(args.min_fidelity) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn write_reports(args: &CompareArgs, report: &CompareReport<'_>) -> Result<()> {
    let write = |path: &Path, text: String| -> Result<()> {
        conform::recording::write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    };
    if let Some(path) = &args.junit {
        write(path, fidelity::junit(report))?;
    }
    if let Some(path) = &args.json {
        write(path, fidelity::json(report))?;
    }
    if let Some(path) = &args.html {
        write(path, fidelity::html(report))?;
    }
    Ok(())
}

/// One line per exchange; for a difference, the paths that differ and the diff, indented.
pub fn render_result(r: &ExchangeResult, style: &Style) -> String {
    let ms = style.dim(&format!("({:.1} ms)", r.duration.as_secs_f64() * 1000.0));
    let label = match r.class() {
        Class::Identical => style.green("IDENTICAL "),
        Class::Equivalent => style.green("EQUIVALENT"),
        Class::Different => style.red("DIFFERENT "),
        Class::Errored => style.red("ERROR     "),
    };
    let mut out = format!("{label}  {} {ms}\n", r.name);
    if let Some(message) = &r.error {
        out.push_str(&format!("            {message}\n"));
    }
    if r.class() == Class::Different {
        for m in &r.comparison.differences {
            out.push_str(&format!("            {}: {}\n", m.path, m.message));
        }
        for line in style.diff(&r.comparison.diff()).lines() {
            out.push_str(&format!("            {line}\n"));
        }
    }
    out
}

/// The score, then the counts; the last line is what a CI log reader looks for.
pub fn summary(s: &Score, min_fidelity: Option<f64>) -> String {
    let verdict = match min_fidelity {
        Some(min) if s.passes(min_fidelity) => {
            format!(" (at least {} required: passed)", percent(min))
        }
        Some(min) => format!(" (at least {} required: failed)", percent(min)),
        None => String::new(),
    };
    format!(
        "fidelity: {} of exchanges ({} of {} equivalent or identical){verdict}, {} of fields ({} of {} equal)\n\
         {} identical, {} equivalent, {} different, {} errored",
        percent(s.exchange_score()),
        s.identical + s.equivalent,
        s.exchanges,
        percent(s.field_score()),
        s.equal_fields,
        s.fields,
        s.identical,
        s.equivalent,
        s.different,
        s.errored
    )
}
