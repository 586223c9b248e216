//! What several commands share: loading the suite (printing every case-file error), reading
//! `--var`/`--vars`, and starting the embedded replay.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use conform::case::{Suite, load_suite};
use conform::recording::load_recordings;
use conform::replay::{Replay, ReplayServer};
use conform::vars::Vars;

use super::UsageError;

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
    load_replay_with(dir, |_| Ok(()))
}

/// [`load_replay`], with `check` seeing the recordings before the replay is built (validation
/// against their service model).
pub fn load_replay_with(
    dir: &Path,
    check: impl FnOnce(&[conform::recording::Recording]) -> Result<()>,
) -> Result<Replay> {
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
    check(&recordings)?;
    Replay::new(&recordings).map_err(|e| UsageError(e).into())
}

/// Starts the replay of `dir` on an ephemeral loopback port.
pub async fn start_embedded_replay(dir: &Path) -> Result<ReplayServer> {
    let replay = load_replay(dir)?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .context("cannot bind a loopback port for the built-in replay")?;
    Ok(ReplayServer::start(replay, listener, None).await)
}

/// The AWS side (signing name, endpoints) of the service the selected cases test, from the
/// model their suite.yaml names; `None` when none names one. Cases of several models cannot
/// share one signed target.
pub fn aws_service(
    cases: &[conform::case::Case],
    selected: &[usize],
) -> Result<Option<conform::aws::AwsService>> {
    let mut models: Vec<&std::sync::Arc<conform::model::Model>> = Vec::new();
    for &i in selected {
        if let Some(m) = &cases[i].model
            && !models.iter().any(|x| std::sync::Arc::ptr_eq(x, m))
        {
            models.push(m);
        }
    }
    match models.as_slice() {
        [] => Ok(None),
        [one] => conform::aws::AwsService::for_model(one)
            .map(Some)
            .map_err(|e| UsageError(e.to_string()).into()),
        many => Err(UsageError(format!(
            "the selected cases test {} services ({}); select the cases of one",
            many.len(),
            many.iter()
                .map(|m| m.service.service_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()),
    }
}
