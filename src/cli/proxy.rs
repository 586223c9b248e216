//! `conform proxy`: conform between a client and an endpoint. Answers from recordings, forwards
//! (signed again by conform) and records as `--mode` says, or with `--compare DIR` judges every
//! upstream answer against the recordings and writes compare's reports at shutdown (Ctrl-C, or
//! `--until-idle SECONDS` without a request).
//!
//! One line per request on stderr; `listening on URL` on stdout. Exit codes: 0, or with
//! `--compare` 1 when an answer differed, errored or matched no recording; 2 for usage errors.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;

use conform::compare::{self as fidelity, CompareReport};
use conform::http::ClientOptions;
use conform::proxy::{Judge, Mode, ProxyConfig, ProxyEvent, ProxyServer, Upstream};
use conform::recording::{Recording, load_recordings};

use super::UsageError;
use super::common::{self, AwsArgs};
use super::style::{ColorChoice, Style};

#[derive(Args, Debug)]
pub struct ProxyArgs {
    /// replay (answer from recordings; the default), new (replay, forward and record misses),
    /// all (forward and record everything), passthrough (forward, record nothing)
    #[arg(long, value_name = "MODE")]
    pub mode: Option<String>,
    /// Recordings answered from and written to
    #[arg(long, value_name = "DIR", default_value = "recordings")]
    pub recordings: PathBuf,
    /// Where requests are forwarded (an emulator); with --sign, signed for it
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// The service model whose signing name and endpoints --aws and --sign use [default: the
    /// model the service.yaml in a folder of --recordings names, when there is exactly one]
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:4566")]
    pub addr: SocketAddr,
    /// Allow an address other than loopback (the proxy has no authentication)
    #[arg(long)]
    pub allow_remote: bool,
    /// Replace recordings made from AWS with answers from another upstream
    #[arg(long)]
    pub force: bool,
    /// Judge every upstream answer against the recordings in DIR (forwards, records nothing)
    #[arg(long, value_name = "DIR")]
    pub compare: Option<PathBuf>,
    /// Stop after this many seconds without a request (as well as on Ctrl-C)
    #[arg(long, value_name = "SECONDS")]
    pub until_idle: Option<f64>,
    /// How long the upstream may take to answer, in seconds
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// With --compare: write a JUnit XML report at shutdown
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// With --compare: write a JSON report at shutdown
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// With --compare: write a self-contained HTML report at shutdown
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// Colour: auto, always, never (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

pub async fn proxy(args: ProxyArgs) -> Result<ExitCode> {
    if !args.addr.ip().is_loopback() && !args.allow_remote {
        return Err(UsageError(format!(
            "{} is not a loopback address; pass --allow-remote to proxy beyond this machine",
            args.addr
        ))
        .into());
    }
    let positive = |what: &str, v: f64| -> Result<Duration> {
        if v > 0.0 && v.is_finite() {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(UsageError(format!(
                "{what} must be a positive number of seconds, found {v}"
            ))
            .into())
        }
    };
    let timeout = positive("--timeout", args.timeout)?;
    let until_idle = args
        .until_idle
        .map(|v| positive("--until-idle", v))
        .transpose()?;
    let mode = match (&args.mode, &args.compare) {
        (None, Some(_)) => Mode::Passthrough,
        (None, None) => Mode::Replay,
        (Some(text), compare) => {
            let mode = Mode::parse(text).ok_or_else(|| {
                UsageError(format!(
                    "--mode {text:?}: expected replay, new, all or passthrough"
                ))
            })?;
            if compare.is_some() && mode != Mode::Passthrough {
                return Err(UsageError(format!(
                    "--compare judges the upstream's answers and records nothing: it goes with \
                     --mode passthrough (the default with --compare), not --mode {text}"
                ))
                .into());
            }
            mode
        }
    };
    if args.compare.is_none()
        && (args.junit.is_some() || args.json.is_some() || args.html.is_some())
    {
        return Err(UsageError("--junit, --json and --html go with --compare DIR".into()).into());
    }
    if args.aws.aws && args.upstream.is_some() {
        return Err(UsageError(
            "give --aws (real AWS) or --upstream URL (an emulator), not both".into(),
        )
        .into());
    }
    if args.aws.sign && args.upstream.is_none() {
        return Err(UsageError(
            "--sign signs the requests forwarded to --upstream URL; give one (or use --aws)".into(),
        )
        .into());
    }
    let service = if args.aws.aws || args.aws.sign {
        proxy_service(args.model.as_deref(), &args.recordings)?
    } else {
        None
    };
    let remote = common::remote_target(
        service.as_ref(),
        &args.aws,
        args.upstream.as_deref(),
        ClientOptions::default(),
    )
    .await?;
    if mode != Mode::Replay && remote.is_none() {
        return Err(UsageError(format!(
            "--mode {} forwards requests: give --upstream URL or --aws --region REGION",
            mode.as_str()
        ))
        .into());
    }
    let loaded = match mode {
        Mode::Replay => read_recordings(&args.recordings, false)?,
        Mode::New => read_recordings(&args.recordings, true)?,
        Mode::All | Mode::Passthrough => Vec::new(),
    };
    let judge = match &args.compare {
        Some(dir) => {
            let recordings = read_recordings(dir, false)?;
            let judge = Judge::new(dir, &recordings).map_err(UsageError)?;
            if judge.exchange_count() == 0 {
                return Err(UsageError(format!(
                    "no recorded exchanges in {}: nothing to compare with",
                    dir.display()
                ))
                .into());
            }
            Some(judge)
        }
        None => None,
    };
    let upstream_url = remote.as_ref().map(|r| r.target.client.base().to_owned());
    let upstream = remote.map(|r| Upstream {
        client: r.target.client,
        aws: r.aws,
        region: r.region,
        scrubber: r.scrubber,
        timeout,
    });
    let style = Arc::new(Style::for_stdout(args.color));
    let sink_style = style.clone();
    let sink = Arc::new(move |event: &ProxyEvent| eprint!("{}", describe(event, &sink_style)));
    let listener =
        TcpListener::bind(args.addr).with_context(|| format!("cannot listen on {}", args.addr))?;
    let config = ProxyConfig {
        mode,
        recordings: args.recordings.clone(),
        loaded,
        upstream,
        force: args.force,
        judge,
    };
    let server =
        ProxyServer::start(config, listener, Some(sink)).map_err(|e| UsageError(e.to_string()))?;
    eprintln!(
        "conform proxy: --mode {}{}{}; Ctrl-C stops",
        mode.as_str(),
        upstream_url
            .as_deref()
            .map(|u| format!(" in front of {}", server.scrub(u)))
            .unwrap_or_default(),
        args.compare
            .as_ref()
            .map(|d| format!(", judging against {}", d.display()))
            .unwrap_or_default(),
    );
    println!("listening on {}", server.uri());

    let idle = async {
        match until_idle {
            Some(limit) => loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if server.idle_for() >= limit {
                    break;
                }
            },
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        signal = tokio::signal::ctrl_c() => signal.context("cannot wait for Ctrl-C")?,
        () = idle => {}
    }
    server.flush_recordings();
    let stats = server.replay_stats();
    eprintln!(
        "conform proxy: {} requests answered from recordings, {} not",
        stats.served, stats.missed
    );
    let Some(dir) = &args.compare else {
        return Ok(ExitCode::SUCCESS);
    };
    let results = server.judged();
    let endpoint = upstream_url.map(|u| server.scrub(&u)).unwrap_or_default();
    let recordings = dir.display().to_string();
    let report = CompareReport {
        results: &results,
        endpoint: &endpoint,
        recordings: &recordings,
        min_fidelity: None,
    };
    let write = |path: &Path, text: String| -> Result<()> {
        conform::recording::write_atomically(path, server.scrub(&text).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    };
    if let Some(path) = &args.junit {
        write(path, fidelity::junit(&report))?;
    }
    if let Some(path) = &args.json {
        write(path, fidelity::json(&report))?;
    }
    if let Some(path) = &args.html {
        write(path, fidelity::html(&report))?;
    }
    for r in results.iter().filter(|r| r.name.starts_with("unmatched: ")) {
        println!("unmatched: {}", r.request_line);
    }
    let score = report.score();
    println!("{}", super::compare::summary(&score, None));
    Ok(if score.passes(None) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Loads a recordings folder, printing every error with its location. With `may_be_missing`,
/// a folder that does not exist yet is empty (`--mode new` creates it).
fn read_recordings(dir: &Path, may_be_missing: bool) -> Result<Vec<Recording>> {
    if !dir.is_dir() {
        if may_be_missing && !dir.exists() {
            return Ok(Vec::new());
        }
        return Err(UsageError(format!("no recordings folder at {}", dir.display())).into());
    }
    load_recordings(dir).map_err(super::common::recording_errors)
}

/// One event as a line (or lines) on stderr. Texts come scrubbed from the library.
fn describe(event: &ProxyEvent, style: &Style) -> String {
    match event {
        ProxyEvent::Replayed { request_line, file } => {
            format!("replayed   {request_line} from {}\n", file.display())
        }
        ProxyEvent::Missed { report } => report.clone(),
        ProxyEvent::Forwarded {
            request_line,
            status,
            recorded,
            not_recorded,
        } => {
            let what = match (recorded, not_recorded) {
                (Some(file), _) => format!(", recorded in {}", file.display()),
                (None, Some(why)) => format!(", not recorded: {why}"),
                (None, None) => String::new(),
            };
            format!("forwarded  {request_line}: {status}{what}\n")
        }
        ProxyEvent::UpstreamFailed {
            request_line,
            reason,
        } => format!(
            "{} {request_line}: {reason} (answered 502)\n",
            style.red("upstream  ")
        ),
        ProxyEvent::Judged(result) => super::compare::render_result(result, style),
    }
}

/// The service `--aws`/`--sign` sign for: `--model`, or the model of the one `service.yaml`
/// directly inside a folder of `recordings` (`recordings/<service>/service.yaml`).
fn proxy_service(
    model: Option<&Path>,
    recordings: &Path,
) -> Result<Option<conform::aws::AwsService>> {
    let path = match model {
        Some(path) => path.to_owned(),
        None => {
            let mut found: Vec<PathBuf> = std::fs::read_dir(recordings)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok())
                .map(|e| e.path().join(conform::model::SERVICE_FILE))
                .filter(|p| p.is_file())
                .collect();
            found.sort();
            match found.as_slice() {
                [one] => {
                    conform::model::read_service_file(one)
                        .map_err(UsageError)?
                        .model
                }
                [] => return Ok(None),
                many => {
                    return Err(UsageError(format!(
                        "{} services have recordings in {} ({}): say which with --model FILE",
                        many.len(),
                        recordings.display(),
                        many.iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .into());
                }
            }
        }
    };
    conform::aws::AwsService::load(&path)
        .map(Some)
        .map_err(|e| UsageError(e.to_string()).into())
}
