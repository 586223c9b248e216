//! What several commands share: the `--aws`/`--sign` flags and the target they describe,
//! loading the suite (printing every case-file error), reading `--var`/`--vars`, and starting
//! the embedded replay.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::Args;

use conform::aws::{AwsService, SecretScrubber, load_signer};
use conform::case::{Suite, TargetKind, load_suite};
use conform::http::{Client, ClientOptions, Signer};
use conform::parsed_cache::{memo_read, memo_write};
use conform::recording::{Folder, Recording, Unchanged};
use conform::replay::{IndexMemo, Replay, ReplayServer};
use conform::runner::Target;
use conform::vars::Vars;

use super::UsageError;

/// Real AWS and signing endpoints.
#[derive(Args, Debug, Clone)]
pub struct AwsArgs {
    /// Run against real AWS (the regional endpoint from the service model), requests signed with SigV4
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
    load_replay_with(dir, |_, _| Ok(()))
}

/// The memo of a folder's replay index (`.conform-cache.replay`), kept under the key of the
/// recordings' cache.
const REPLAY_MEMO: &str = "replay";

/// The recordings of a folder as a replay's check sees them: loaded already, or loaded when
/// the check first asks for them (a replay started from the memo of its index reads none).
pub struct Recordings<'a> {
    folder: &'a Folder,
    given: Option<&'a [Recording]>,
    loaded: std::cell::OnceCell<Vec<Recording>>,
}

impl<'a> Recordings<'a> {
    /// The recordings of `folder`, read when first asked for.
    fn later(folder: &'a Folder) -> Recordings<'a> {
        Recordings {
            folder,
            given: None,
            loaded: std::cell::OnceCell::new(),
        }
    }

    /// The recordings of `folder`, read already.
    fn given(folder: &'a Folder, recordings: &'a [Recording]) -> Recordings<'a> {
        Recordings {
            given: Some(recordings),
            ..Recordings::later(folder)
        }
    }

    /// Every recording of the folder, in path order; read now if they were not yet.
    pub fn get(&self) -> Result<&[Recording]> {
        if let Some(given) = self.given {
            return Ok(given);
        }
        if let Some(loaded) = self.loaded.get() {
            return Ok(loaded);
        }
        let (loaded, _) = load_folder(self.folder)?;
        Ok(self.loaded.get_or_init(|| loaded))
    }

    /// The recordings it read, if it read them.
    fn into_loaded(self) -> Option<Vec<Recording>> {
        self.loaded.into_inner()
    }
}

/// `folder.load()`, each error printed, as one usage error.
fn load_folder(folder: &Folder) -> Result<(Vec<Recording>, Option<Unchanged>)> {
    folder.load().map_err(recording_errors)
}

/// Prints every error of a recordings folder that does not load (file and line each) and
/// counts them in one usage error.
pub fn recording_errors(errors: conform::case::LoadErrors) -> anyhow::Error {
    let n = errors.0.len();
    eprintln!("{errors}\n");
    UsageError(format!(
        "{n} recording error{}",
        if n == 1 { "" } else { "s" }
    ))
    .into()
}

/// What a replay was built from, kept for a check that runs once the server answers
/// ([`load_replay_checking_later`]).
pub struct Loaded {
    folder: Arc<Folder>,
    /// `None` when the replay started from the memo of its index and read no recording.
    recordings: Option<Arc<Vec<Recording>>>,
    unchanged: Option<Unchanged>,
}

impl Loaded {
    /// Writes the recordings' cache, when the load left it to be written once the server
    /// answers (`recording::Folder::open_to_serve`).
    pub fn write_cache(&self) {
        if let Some(recordings) = &self.recordings {
            self.folder.write_cache_later(recordings);
        }
    }

    /// `check` over the recordings the replay was built from (read now, from the folder's
    /// cache, if the replay read none), and whether the folder is unchanged since an earlier
    /// load.
    pub fn check<T>(self, check: impl FnOnce(&Recordings<'_>, Option<&Unchanged>) -> T) -> T {
        let recordings = match &self.recordings {
            Some(given) => Recordings::given(&self.folder, given),
            None => Recordings::later(&self.folder),
        };
        check(&recordings, self.unchanged.as_ref())
    }
}

/// [`load_replay`], with `check` seeing the recordings before the replay is built (validation
/// against their service model), and whether the folder is unchanged since an earlier load
/// (`recording::Folder::unchanged`).
///
/// When it is, and an earlier start left the memo of its index, the replay starts from that
/// memo and reads no recording: each exchange is read from the recordings' cache when it is
/// first asked for (`Replay::from_memo`). A start that read every recording from the cache
/// writes the memo for the next.
pub fn load_replay_with(
    dir: &Path,
    check: impl FnOnce(&Recordings<'_>, Option<&Unchanged>) -> Result<()>,
) -> Result<Replay> {
    let (replay, _) = build_replay(dir, When::Now(check))?;
    Ok(replay)
}

/// [`load_replay`], and what it was built from, for a check the caller runs later: a server
/// that only warns of what the check finds answers without waiting for it.
pub fn load_replay_checking_later(dir: &Path) -> Result<(Replay, Loaded)> {
    type Check = fn(&Recordings<'_>, Option<&Unchanged>) -> Result<()>;
    let (replay, loaded) = build_replay(dir, When::<Check>::Later)?;
    Ok((
        replay,
        loaded.expect("a later check is given what the replay was built from"),
    ))
}

/// When a replay's check runs.
enum When<F> {
    /// Beside the index's build.
    Now(F),
    /// It ran already.
    Done,
    /// After the replay is built: [`build_replay`] returns what it was built from.
    Later,
}

impl<F: FnOnce(&Recordings<'_>, Option<&Unchanged>) -> Result<()>> When<F> {
    /// The check, when it is to run now (it is then done); nothing otherwise.
    fn run_now(
        &mut self,
        recordings: &Recordings<'_>,
        unchanged: Option<&Unchanged>,
    ) -> Result<()> {
        match std::mem::replace(self, When::Done) {
            When::Now(check) => check(recordings, unchanged),
            other => {
                *self = other;
                Ok(())
            }
        }
    }
}

/// The replay of `dir`, with the check run when `when` says; for [`When::Later`], what the
/// replay was built from, for the caller's check.
fn build_replay(
    dir: &Path,
    mut when: When<impl FnOnce(&Recordings<'_>, Option<&Unchanged>) -> Result<()>>,
) -> Result<(Replay, Option<Loaded>)> {
    if !dir.is_dir() {
        return Err(UsageError(format!(
            "no recordings folder at {} (run from the project folder, or pass --recordings DIR or --endpoint-url URL)",
            dir.display()
        ))
        .into());
    }
    // A server that answers before its check runs writes the recordings' cache then too.
    let folder = if matches!(when, When::Later) {
        Folder::open_to_serve(dir)
    } else {
        Folder::open_to_index(dir)
    };
    let memo = folder
        .unchanged()
        .and_then(|u| memo_read::<IndexMemo>(dir, REPLAY_MEMO, &u.recordings));
    let (folder, loaded) = match memo {
        Some(memo) => {
            let folder = Arc::new(folder.in_memory());
            let recordings = Recordings::later(&folder);
            // The check and the index's rebuild from its memo run side by side.
            let (checked, replay) = std::thread::scope(|scope| {
                let index = scope.spawn(|| Replay::from_memo(memo, Arc::clone(&folder)));
                let checked = when.run_now(&recordings, folder.unchanged());
                (checked, join(index))
            });
            checked?;
            let loaded = recordings.into_loaded();
            if let Some(replay) = replay {
                if !matches!(when, When::Later) {
                    drop_later(loaded);
                    return Ok((replay, None));
                }
                let later = Loaded {
                    unchanged: folder.unchanged().cloned(),
                    folder: Arc::clone(&folder),
                    recordings: loaded.map(Arc::new),
                };
                return Ok((replay, Some(later)));
            }
            // The memo does not fit the folder: index the recordings as they are.
            let folder = Arc::into_inner(folder).expect("the index's thread has ended");
            (folder, loaded)
        }
        None => (folder, None),
    };
    let (recordings, keys, unchanged) = match loaded {
        Some(loaded) => (loaded, None, folder.unchanged().cloned()),
        None => folder.load_keyed().map_err(recording_errors)?,
    };
    // The replay keeps the recordings, to build each entry from when it is first used.
    let recordings = Arc::new(recordings);
    // The check and the index read the same recordings and neither needs the other: each
    // runs while the other does (a serial part of one, loading a model, say, overlaps the other).
    // With no check to run now, the index is built on this thread.
    let index = || Replay::new_shared_keyed(Arc::clone(&recordings), keys);
    let (checked, replay) = if matches!(when, When::Now(_)) {
        std::thread::scope(|scope| {
            let index = scope.spawn(index);
            let checked =
                when.run_now(&Recordings::given(&folder, &recordings), unchanged.as_ref());
            (checked, join(index))
        })
    } else {
        (Ok(()), index())
    };
    checked?;
    let replay = replay.map_err(UsageError)?;
    if let Some(u) = &unchanged
        && let Some(memo) = replay.memo(&folder)
    {
        memo_write(dir, REPLAY_MEMO, &u.recordings, &memo);
    }
    if !matches!(when, When::Later) {
        return Ok((replay, None));
    }
    let later = Loaded {
        folder: Arc::new(folder),
        recordings: Some(recordings),
        unchanged,
    };
    Ok((replay, Some(later)))
}

/// A scoped thread's result; its panic goes on in the caller.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Frees loaded recordings on a thread of their own, off the way to the first answer.
fn drop_later(recordings: Option<Vec<Recording>>) {
    if let Some(recordings) = recordings {
        std::thread::spawn(move || drop(recordings));
    }
}

/// Starts the replay of `dir` on an ephemeral loopback port. The server's thread and runtime
/// start while the recordings load.
pub async fn start_embedded_replay(dir: &Path) -> Result<ReplayServer> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .context("cannot bind a loopback port for the built-in replay")?;
    let pending = ReplayServer::pending(listener, None)
        .context("cannot start the built-in replay's server")?;
    let replay = load_replay(dir)?;
    pending
        .serve(replay)
        .context("cannot start the built-in replay's server")
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

/// A target that is not the built-in replay: real AWS, or an endpoint, signed or not.
pub struct RemoteTarget {
    pub target: Target,
    /// True for real AWS (`--aws`).
    pub aws: bool,
    pub region: Option<String>,
    /// Removes the signer's secrets from text; `None` when requests are not signed.
    pub scrubber: Option<SecretScrubber>,
}

/// The target `--aws`, `--sign` and `--endpoint-url` describe; `Ok(None)` when none of them is
/// given (the caller picks its default). Credentials are loaded here, so that a missing one
/// stops the command before any request is sent.
pub async fn remote_target(
    service: Option<&AwsService>,
    aws: &AwsArgs,
    endpoint_url: Option<&str>,
    options: ClientOptions,
) -> Result<Option<RemoteTarget>> {
    if aws.fips && !aws.aws {
        return Err(UsageError("--fips goes with --aws".into()).into());
    }
    let region = || {
        aws.region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                let flag = if aws.aws { "--aws" } else { "--sign" };
                UsageError(format!(
                    "{flag} needs a region: pass --region REGION or set AWS_REGION"
                ))
            })
    };
    let service = || {
        service.ok_or_else(|| {
            UsageError(
                "--aws and --sign need the service's signing name and endpoints: no suite.yaml \
                 above the selected cases names a `model:`"
                    .into(),
            )
        })
    };
    let (url, kind, region) = if aws.aws {
        let region = region()?;
        let url = match endpoint_url {
            Some(url) => url.to_owned(),
            None => service()?
                .endpoint_for(region, aws.fips)
                .map_err(|e| UsageError(e.to_string()))?,
        };
        (url, TargetKind::Aws, Some(region))
    } else if aws.sign {
        let url = endpoint_url.ok_or_else(|| {
            UsageError(
                "--sign signs requests to --endpoint-url URL; give one (or use --aws)".into(),
            )
        })?;
        (url.to_owned(), TargetKind::Signed, Some(region()?))
    } else if let Some(url) = endpoint_url {
        (url.to_owned(), TargetKind::Endpoint, None)
    } else {
        return Ok(None);
    };

    let (signer, scrubber) = match region {
        Some(region) if kind != TargetKind::Endpoint => {
            let signer = load_signer(service()?, region, aws.profile.as_deref())
                .await
                .map_err(|e| UsageError(e.to_string()))?;
            let scrubber = signer.scrubber();
            (Some(Arc::new(signer) as Arc<dyn Signer>), Some(scrubber))
        }
        _ => (None, None),
    };
    let client = Client::new(&url, signer, options).map_err(|e| UsageError(e.to_string()))?;
    // Real AWS is sent nothing conform does not need: the run id is for replay servers.
    let client = if aws.aws {
        client.without_run_id()
    } else {
        client
    };
    Ok(Some(RemoteTarget {
        target: Target { kind, client },
        aws: aws.aws,
        region: region.map(str::to_owned),
        scrubber,
    }))
}
