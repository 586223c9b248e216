//! What several commands share: the `--aws`/`--sign` flags, loading the suite (printing every
//! case-file error), reading `--var`/`--vars`, and starting the embedded replay.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Args;

use conform::case::{Suite, load_suite};
use conform::recording::load_recordings;
use conform::replay::{Replay, ReplayServer};
use conform::vars::Vars;

use super::UsageError;

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

/// The case paths to load: the ones given, or `cases/`.
pub fn case_paths(given: &[PathBuf]) -> Vec<PathBuf> {
    if given.is_empty() {
        vec![PathBuf::from("cases")]
    } else {
        given.to_vec()
    }
}

/// `--vars FILE` (a YAML mapping of names to values), then `--var name=value` on top.
pub fn read_vars(file: Option<&Path>, pairs: &[String]) -> Result<Vars> {
    let mut vars = Vars::new();
    if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read --vars file {}", file.display()))?;
        let raw: std::collections::BTreeMap<String, serde_json::Value> =
            conform::yaml::parse(file, &text, "vars file")
                .map_err(|e| UsageError(e.to_string()))?;
        for (name, value) in raw {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => {
                    return Err(UsageError(format!(
                        "--vars {}: variable `{name}` must be a string, number or boolean, found {}",
                        file.display(),
                        conform::matching::describe(&other)
                    ))
                    .into());
                }
            };
            vars.insert(name, text);
        }
    }
    for pair in pairs {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| UsageError(format!("--var takes name=value, found {pair:?}")))?;
        vars.insert(name.trim().to_owned(), value.to_owned());
    }
    Ok(vars)
}

/// Loads the suite; on case-file errors prints every one of them and fails with exit 2.
pub fn load(paths: &[PathBuf], vars: &Vars) -> Result<Suite> {
    load_suite(&case_paths(paths), vars).map_err(|errors| {
        let n = errors.0.len();
        eprintln!("{errors}\n");
        UsageError(format!(
            "{n} case-file error{} (no case was run)",
            if n == 1 { "" } else { "s" }
        ))
        .into()
    })
}

/// Loads recordings and builds the replay index; errors name file and line.
pub fn load_replay(dir: &Path) -> Result<Replay> {
    if !dir.is_dir() {
        return Err(UsageError(format!(
            "no recordings folder at {} (run from the project folder, or pass --recordings DIR or --endpoint-url URL)",
            dir.display()
        ))
        .into());
    }
    let recordings = load_recordings(dir).map_err(|errors| {
        let n = errors.0.len();
        eprintln!("{errors}\n");
        UsageError(format!(
            "{n} recording error{}",
            if n == 1 { "" } else { "s" }
        ))
    })?;
    Replay::new(&recordings).map_err(|e| UsageError(e).into())
}

/// Starts the replay of `dir` on an ephemeral loopback port.
pub async fn start_embedded_replay(dir: &Path) -> Result<ReplayServer> {
    let replay = load_replay(dir)?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .context("cannot bind a loopback port for the built-in replay")?;
    Ok(ReplayServer::start(replay, listener, None).await)
}
