//! `conform serve`: the replay server in the foreground until Ctrl-C, with a near-miss report
//! on stderr for every request no recording matches, and `--strict` accounting at shutdown.
//!
//! At shutdown every recorded sequence some run left part-way is listed (file, run id,
//! position of total), whatever the flags: it is what makes the next run against a server
//! behave differently, so it is never silent. With `--strict` it makes the exit code 1.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::Args;

use conform::replay::{Miss, ReplayServer};

use super::UsageError;
use super::common;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Recordings to serve
    #[arg(long, value_name = "DIR", default_value = "recordings")]
    pub recordings: PathBuf,
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:4566")]
    pub addr: SocketAddr,
    /// Allow an address other than loopback (the server has no authentication)
    #[arg(long)]
    pub allow_remote: bool,
    /// At shutdown, exit 1 if any request missed, any recording went unused or any sequence was left part-way, and list them
    #[arg(long)]
    pub strict: bool,
}

pub async fn serve(args: ServeArgs) -> Result<ExitCode> {
    if !args.addr.ip().is_loopback() && !args.allow_remote {
        return Err(UsageError(format!(
            "{} is not a loopback address; pass --allow-remote to serve recordings beyond this machine",
            args.addr
        ))
        .into());
    }
    // Bound before the recordings are read: a port already taken is said at once, and a client
    // that connects while they load waits in the listen queue for its answer instead of being
    // refused (and retrying, as a poller does). Nothing is accepted until the replay is ready.
    // The server's thread and runtime start now too, while the recordings load.
    let listener =
        TcpListener::bind(args.addr).with_context(|| format!("cannot listen on {}", args.addr))?;
    let on_miss = Arc::new(|miss: &Miss| eprint!("{}", miss.report()));
    let pending = ReplayServer::pending(listener, Some(on_miss))
        .with_context(|| format!("cannot serve on {}", args.addr))?;
    // Recordings under a service.yaml are validated against their model. With --strict a
    // violation is a refusal to serve, so the check runs before the server starts; otherwise
    // violations are warnings, and the check runs once the server answers, on threads of its
    // own (the warnings follow the "listening on" line), so it never delays the first answer.
    let (replay, later) = if args.strict {
        let replay = common::load_replay_with(&args.recordings, |recordings, unchanged| {
            let found =
                super::model::validate_recordings_kept(&args.recordings, recordings, unchanged)?;
            warn_of(&found);
            if !(found.violations.is_empty() && found.unchecked.is_empty()) {
                return Err(UsageError(format!(
                    "{} recorded responses break their service model, {} service files do not load (--strict)",
                    found.violations.len(),
                    found.unchecked.len()
                ))
                .into());
            }
            Ok(())
        })?;
        (replay, None)
    } else {
        let (replay, loaded) = common::load_replay_checking_later(&args.recordings)?;
        (replay, Some(loaded))
    };
    for s in &replay.shadowed {
        eprintln!("warning: {s}");
    }
    let exchanges = replay.exchange_count();
    let server = pending
        .serve(replay)
        .with_context(|| format!("cannot serve on {}", args.addr))?;
    eprintln!(
        "conform serve: {exchanges} recorded exchanges from {}; Ctrl-C stops",
        args.recordings.display()
    );
    println!("listening on {}", server.uri());
    let check = later.map(|loaded| {
        let dir = args.recordings.clone();
        std::thread::spawn(move || {
            // The recordings' cache, when this start read them from their files, is written
            // now that the server answers, before the check.
            loaded.write_cache();
            let found = loaded.check(|recordings, unchanged| {
                super::model::validate_recordings_kept(&dir, recordings, unchanged)
            });
            match found {
                Ok(found) => warn_of(&found),
                Err(e) => eprintln!("warning: the recorded responses were not checked against their service model: {e:#}"),
            }
        })
    });

    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    // Whatever the check finds is said before the shutdown's report.
    if let Some(check) = check {
        check
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    }
    let stats = server.replay().stats();
    eprintln!(
        "conform serve: {} requests answered, {} missed",
        stats.served, stats.missed
    );
    // Up to a thousand runs can be part-way: list enough to act on, count the rest.
    const SHOWN_PART_WAY: usize = 100;
    for p in stats.part_way.iter().take(SHOWN_PART_WAY) {
        eprintln!("part-way: {}", p.describe());
    }
    if stats.part_way.len() > SHOWN_PART_WAY {
        eprintln!(
            "part-way: ... and {} more",
            stats.part_way.len() - SHOWN_PART_WAY
        );
    }
    if stats.states.evicted > 0 {
        eprintln!(
            "conform serve: {} run states evicted (over {} runs at once), {} of them part-way",
            stats.states.evicted,
            conform::replay::MAX_RUNS,
            stats.states.evicted_part_way
        );
    }
    if !args.strict {
        return Ok(ExitCode::SUCCESS);
    }
    for m in &stats.missed_requests {
        eprintln!("missed: {m}");
    }
    if stats.missed as usize > stats.missed_requests.len() {
        eprintln!(
            "missed: ... and {} more",
            stats.missed as usize - stats.missed_requests.len()
        );
    }
    for u in stats.unused.iter().chain(&server.replay().shadowed) {
        eprintln!("unused: {u}");
    }
    let clean = stats.missed == 0
        && stats.unused.is_empty()
        && server.replay().shadowed.is_empty()
        && stats.part_way.is_empty()
        && stats.states.evicted_part_way == 0;
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The notes and warnings of the recordings' check against their models, on stderr.
fn warn_of(found: &super::model::RecordingFindings) {
    for n in &found.notes {
        eprintln!("note: {n}");
    }
    for v in found.unchecked.iter().chain(&found.violations) {
        eprintln!("warning: {v}");
    }
}
