//! Snapshot files in insta's `.snap` format, written and checked by the binary (people who do
//! not build Rust get the same locking as `cargo test`). A changed or new snapshot is left
//! pending beside the accepted one as `.snap.new`; `accept` and `reject` settle pending ones.
//! The format's header records where the snapshot came from.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::recording::write_atomically;

/// Where a snapshot came from (insta's `info:` metadata).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// `replay`, `endpoint`, `signed` or `aws`.
    pub target: String,
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub conform_version: String,
    pub date: String,
}

#[derive(Serialize, Deserialize)]
struct Header {
    source: String,
    expression: String,
    info: SnapshotInfo,
}

/// A snapshot file: its header and its content (YAML text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapFile {
    pub case: String,
    pub info: SnapshotInfo,
    pub content: String,
}

impl SnapFile {
    pub fn render(&self) -> String {
        let header = Header {
            source: "conform run --snapshots".into(),
            expression: self.case.clone(),
            info: self.info.clone(),
        };
        let header = crate::yaml::to_string(&header).unwrap_or_default();
        format!("---\n{header}---\n{}", self.content)
    }

    pub fn parse(text: &str) -> Option<SnapFile> {
        let rest = text.strip_prefix("---\n")?;
        let end = rest.find("\n---\n")?;
        let header: Header = serde_yaml_ng::from_str(&rest[..end + 1]).ok()?;
        Some(SnapFile {
            case: header.expression,
            info: header.info,
            content: rest[end + 5..].to_owned(),
        })
    }
}

/// What checking one case's snapshot found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotCheck {
    /// The accepted snapshot matches.
    Matched,
    /// No accepted snapshot yet: the new one waits as `.snap.new` (or was written, if updating).
    New { pending: Option<PathBuf> },
    /// The response changed: diff from accepted to new; the new one waits as `.snap.new`.
    Changed {
        diff: String,
        pending: Option<PathBuf>,
    },
    /// An AWS snapshot was not replaced by one from another kind of target (no `--force`).
    Protected { diff: String },
    /// Written as accepted (`--update-snapshots`).
    Updated,
}

/// How to treat new and changed snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMode {
    /// Leave them pending as `.snap.new` (the default outside CI).
    Pending,
    /// Write them as accepted (`--update-snapshots`).
    Update,
    /// Write nothing (CI, unless asked).
    Nothing,
}

/// The accepted file for a case file stem and a target suffix: `<stem>@<suffix>.snap`.
pub fn snapshot_path(dir: &Path, stem: &str, suffix: &str) -> PathBuf {
    dir.join(format!("{stem}@{suffix}.snap"))
}

fn pending_path(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.new", path.display()))
}

/// Compares `new` with the accepted snapshot at `path` and writes as `mode` says.
pub fn check(
    path: &Path,
    new: &SnapFile,
    mode: WriteMode,
    force: bool,
) -> std::io::Result<SnapshotCheck> {
    let accepted = fs::read_to_string(path)
        .ok()
        .and_then(|t| SnapFile::parse(&t));
    let pending = pending_path(path);
    let write_pending = |mode: WriteMode| -> std::io::Result<Option<PathBuf>> {
        match mode {
            WriteMode::Pending => {
                write_atomically(&pending, new.render().as_bytes())?;
                Ok(Some(pending.clone()))
            }
            _ => Ok(None),
        }
    };
    match accepted {
        Some(old) if old.content == new.content => {
            // A stale pending file from an earlier run is settled by this match.
            let _ = fs::remove_file(&pending);
            Ok(SnapshotCheck::Matched)
        }
        Some(old) => {
            let diff = crate::diff::unified(&old.content, &new.content);
            if old.info.target == "aws" && new.info.target != "aws" && !force {
                return Ok(SnapshotCheck::Protected { diff });
            }
            if mode == WriteMode::Update {
                write_atomically(path, new.render().as_bytes())?;
                let _ = fs::remove_file(&pending);
                return Ok(SnapshotCheck::Updated);
            }
            Ok(SnapshotCheck::Changed {
                diff,
                pending: write_pending(mode)?,
            })
        }
        None => {
            if mode == WriteMode::Update {
                write_atomically(path, new.render().as_bytes())?;
                return Ok(SnapshotCheck::Updated);
            }
            Ok(SnapshotCheck::New {
                pending: write_pending(mode)?,
            })
        }
    }
}

/// The pending snapshots under `dir`.
pub fn pending(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".snap.new"))
        .collect();
    out.sort();
    out
}

/// Accepts every pending snapshot (an AWS one is replaced by another target's only with
/// `force`). Returns the ones accepted and the ones refused.
pub fn accept(dir: &Path, force: bool) -> std::io::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for new in pending(dir) {
        let target = PathBuf::from(new.to_string_lossy().trim_end_matches(".new"));
        let old = fs::read_to_string(&target)
            .ok()
            .and_then(|t| SnapFile::parse(&t));
        let incoming = fs::read_to_string(&new)
            .ok()
            .and_then(|t| SnapFile::parse(&t));
        let protected = matches!((&old, &incoming), (Some(o), Some(i)) if o.info.target == "aws" && i.info.target != "aws");
        if protected && !force {
            refused.push(new);
            continue;
        }
        fs::rename(&new, &target)?;
        accepted.push(target);
    }
    Ok((accepted, refused))
}

/// Deletes every pending snapshot.
pub fn reject(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let all = pending(dir);
    for p in &all {
        fs::remove_file(p)?;
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(target: &str, content: &str) -> SnapFile {
        SnapFile {
            case: "c".into(),
            info: SnapshotInfo {
                target: target.into(),
                endpoint: "http://x".into(),
                region: None,
                conform_version: "0".into(),
                date: "d".into(),
            },
            content: content.into(),
        }
    }

    #[test]
    fn round_trips_and_settles() {
        let dir = tempfile::tempdir().unwrap();
        let path = snapshot_path(dir.path(), "case", "replay");
        assert_eq!(
            SnapFile::parse(&snap("replay", "a: 1\n").render()),
            Some(snap("replay", "a: 1\n"))
        );
        assert!(matches!(
            check(&path, &snap("replay", "a: 1\n"), WriteMode::Pending, false).unwrap(),
            SnapshotCheck::New { pending: Some(_) }
        ));
        assert_eq!(accept(dir.path(), false).unwrap().0, vec![path.clone()]);
        assert_eq!(
            check(&path, &snap("replay", "a: 1\n"), WriteMode::Pending, false).unwrap(),
            SnapshotCheck::Matched
        );
        let changed = check(&path, &snap("replay", "a: 2\n"), WriteMode::Pending, false).unwrap();
        assert!(
            matches!(&changed, SnapshotCheck::Changed { diff, .. } if diff.contains("-a: 1\n+a: 2"))
        );
        assert_eq!(reject(dir.path()).unwrap().len(), 1);
        assert!(pending(dir.path()).is_empty());
        assert_eq!(
            check(&path, &snap("replay", "a: 3\n"), WriteMode::Nothing, false).unwrap(),
            SnapshotCheck::Changed {
                diff: "--- expected\n+++ actual\n@@ -1 +1 @@\n-a: 1\n+a: 3\n".into(),
                pending: None
            }
        );
        assert!(pending(dir.path()).is_empty());
    }

    #[test]
    fn aws_snapshots_are_protected() {
        let dir = tempfile::tempdir().unwrap();
        let path = snapshot_path(dir.path(), "case", "aws");
        check(&path, &snap("aws", "a: 1\n"), WriteMode::Update, false).unwrap();
        assert!(matches!(
            check(&path, &snap("endpoint", "a: 2\n"), WriteMode::Update, false).unwrap(),
            SnapshotCheck::Protected { .. }
        ));
        assert_eq!(
            check(&path, &snap("endpoint", "a: 2\n"), WriteMode::Update, true).unwrap(),
            SnapshotCheck::Updated
        );
    }
}
