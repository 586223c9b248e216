//! The parsed-recordings cache: one file, `.conform-cache` in a recordings folder, holding every
//! recording of the folder as conform last parsed it, so that a start with many recordings reads
//! one JSON file instead of parsing every YAML file again (YAML parsing is nearly all of a
//! replay's start-up).
//!
//! It is only ever a copy. A file is taken from the cache only when its size, modification time
//! and (on Unix) change time and inode are those the cache saw, and the cache was written by this
//! very conform binary (its size and modification time); anything else is parsed again. Like
//! git's index, a file changed within `RACY` of the cache's own writing is never cached (a file
//! can be rewritten within one tick of the file system's clock with the same size), so it is
//! parsed on every start until it is older. A cache that cannot be read, or one of another
//! shape, counts as empty; one that cannot be written (a read-only folder) is not written.
//! Nothing is in it that is not in the recordings themselves. `CONFORM_NO_CACHE=1` turns it off.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::model::Recording;

/// The cache's file name in a recordings folder (not `*.yaml`, so never read as a recording).
pub const CACHE_FILE: &str = ".conform-cache";

/// Files changed this recently before the cache is written are left out of it.
const RACY: Duration = Duration::from_secs(2);

/// Bumped whenever what the cache holds changes meaning.
const FORMAT: u32 = 1;

/// What identifies one version of a file without reading it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
}

impl Stamp {
    pub fn of(meta: &fs::Metadata) -> Stamp {
        let mtime_ns = meta.modified().map_or(0, nanos);
        #[cfg(unix)]
        let (ctime_ns, ino) = {
            use std::os::unix::fs::MetadataExt;
            (
                i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
                meta.ino(),
            )
        };
        #[cfg(not(unix))]
        let (ctime_ns, ino) = (0, 0);
        Stamp {
            len: meta.len(),
            mtime_ns,
            ctime_ns,
            ino,
        }
    }

    /// True when the file changed within `RACY` of `now`, or its times are in the future.
    fn racy(&self, now: i128, within: Duration) -> bool {
        let newest = self.mtime_ns.max(self.ctime_ns);
        newest > now - within.as_nanos() as i128
    }
}

fn nanos(t: SystemTime) -> i128 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

#[derive(Serialize)]
struct CacheFile {
    format: u32,
    /// The conform binary that wrote it.
    binary: String,
    /// The cached files, by path as found under the folder.
    files: Vec<Cached>,
}

/// The same file as read: the entries are parsed afterwards, on every core.
#[derive(Deserialize)]
struct CacheFileRead<'a> {
    format: u32,
    binary: String,
    #[serde(borrow)]
    files: Vec<&'a serde_json::value::RawValue>,
}

#[derive(Serialize, Deserialize)]
struct Cached {
    path: PathBuf,
    stamp: Stamp,
    recording: Recording,
}

/// The recordings a folder's cache holds, by path, with their stamps.
pub struct Cache {
    /// The folder; paths in the cache are relative to it, so that it serves whatever path
    /// the folder is reached by.
    dir: PathBuf,
    by_path: HashMap<PathBuf, (Stamp, Recording)>,
}

fn enabled() -> bool {
    std::env::var_os("CONFORM_NO_CACHE").is_none_or(|v| v.is_empty() || v == "0")
}

/// This binary's identity: a rebuilt conform never reads an older one's cache.
fn binary() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = fs::metadata(exe).ok()?;
    Some(format!(
        "{}:{}:{}",
        env!("CARGO_PKG_VERSION"),
        meta.len(),
        meta.modified().map_or(0, nanos)
    ))
}

impl Cache {
    /// The cache of `dir`, or an empty one.
    pub fn read(dir: &Path) -> Cache {
        let empty = Cache {
            dir: dir.to_owned(),
            by_path: HashMap::new(),
        };
        if !enabled() {
            return empty;
        }
        let Ok(bytes) = fs::read(dir.join(CACHE_FILE)) else {
            return empty;
        };
        let Ok(file) = serde_json::from_slice::<CacheFileRead<'_>>(&bytes) else {
            return empty;
        };
        if file.format != FORMAT || Some(file.binary) != binary() {
            return empty;
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per_thread = file.files.len().div_ceil(threads).max(1);
        let parsed: Vec<Option<Cached>> = std::thread::scope(|scope| {
            let parts: Vec<_> = file
                .files
                .chunks(per_thread)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|raw| serde_json::from_str::<Cached>(raw.get()).ok())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|part| part.join().unwrap_or_default())
                .collect()
        });
        Cache {
            dir: dir.to_owned(),
            // An entry that does not parse is not there: its file is parsed again.
            by_path: parsed
                .into_iter()
                .flatten()
                .map(|c| (c.path, (c.stamp, c.recording)))
                .collect(),
        }
    }

    /// True when the cache still holds files not taken: files gone or changed since, so the
    /// cache is out of date and worth writing again.
    pub fn holds_others(&self) -> bool {
        !self.by_path.is_empty()
    }

    /// The cached recording of `path`, when the file is still the one the cache saw.
    pub fn take(&mut self, path: &Path, stamp: &Stamp) -> Option<Recording> {
        let relative = path.strip_prefix(&self.dir).ok()?;
        let (cached, _) = self.by_path.get(relative)?;
        if cached != stamp {
            return None;
        }
        let (_, mut recording) = self.by_path.remove(relative)?;
        recording.file = path.to_owned();
        Some(recording)
    }
}

/// Writes `dir`'s cache: every recording that loaded, with the stamp it was loaded at, but
/// those whose files changed too recently to trust their stamps. Best effort: a cache that
/// cannot be written is simply not there next time.
pub fn write(dir: &Path, loaded: &[(&Recording, &Stamp)]) {
    write_with(dir, loaded, RACY);
}

fn write_with(dir: &Path, loaded: &[(&Recording, &Stamp)], racy: Duration) {
    if !enabled() {
        return;
    }
    let Some(binary) = binary() else {
        return;
    };
    let now = nanos(SystemTime::now());
    let files = loaded
        .iter()
        .filter(|(_, stamp)| !stamp.racy(now, racy))
        .filter_map(|(recording, stamp)| {
            Some(Cached {
                path: recording.file.strip_prefix(dir).ok()?.to_owned(),
                stamp: (*stamp).clone(),
                recording: (*recording).clone(),
            })
        })
        .collect();
    let file = CacheFile {
        format: FORMAT,
        binary,
        files,
    };
    let Ok(bytes) = serde_json::to_vec(&file) else {
        return;
    };
    // A cache is a copy: renamed into place whole, but not worth a sync.
    let tmp = dir.join(format!("{CACHE_FILE}.{}.tmp", std::process::id()));
    if fs::write(&tmp, bytes).is_err() || fs::rename(&tmp, dir.join(CACHE_FILE)).is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::load_recordings;

    const RECORDING: &str = "provenance: modeled\nsource: the test\nnote: a note\nexchanges:\n  - request: { method: POST, path: /, body: { a: 1 } }\n    response: { status: 200, body: '{}' }\n";

    fn stamps(dir: &Path) -> Vec<(Recording, Stamp)> {
        load_recordings(dir)
            .unwrap()
            .into_iter()
            .map(|r| {
                let stamp = Stamp::of(&fs::metadata(&r.file).unwrap());
                (r, stamp)
            })
            .collect()
    }

    #[test]
    fn a_cached_file_is_read_from_the_cache_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        fs::write(&file, RECORDING).unwrap();
        // Cached as if the file were old enough.
        let loaded = stamps(dir.path());
        let refs: Vec<_> = loaded.iter().map(|(r, s)| (r, s)).collect();
        write_with(dir.path(), &refs, Duration::ZERO);
        // The cache, not the file, is what is read now: tamper with the cached copy to see it.
        let cache = dir.path().join(CACHE_FILE);
        let text = fs::read_to_string(&cache).unwrap();
        fs::write(&cache, text.replace("the test", "the cache")).unwrap();
        let again = load_recordings(dir.path()).unwrap();
        assert_eq!(again[0].source, "the cache");
        assert_eq!(again[0].file, file);
        // The file changes: it is parsed again.
        fs::write(&file, RECORDING.replace("the test", "the edit")).unwrap();
        let edited = load_recordings(dir.path()).unwrap();
        assert_eq!(edited[0].source, "the edit");
    }

    #[test]
    fn a_file_changed_just_now_is_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.yaml"), RECORDING).unwrap();
        let loaded = stamps(dir.path());
        let refs: Vec<_> = loaded.iter().map(|(r, s)| (r, s)).collect();
        write(dir.path(), &refs);
        let text = fs::read_to_string(dir.path().join(CACHE_FILE)).unwrap();
        assert!(!text.contains("the test"), "a racy file was cached: {text}");
    }

    #[test]
    fn a_broken_cache_is_ignored_and_a_removed_file_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.yaml"), RECORDING).unwrap();
        fs::write(
            dir.path().join("b.yaml"),
            RECORDING.replace("the test", "b"),
        )
        .unwrap();
        fs::write(dir.path().join(CACHE_FILE), "{ not json").unwrap();
        assert_eq!(load_recordings(dir.path()).unwrap().len(), 2);
        let loaded = stamps(dir.path());
        let refs: Vec<_> = loaded.iter().map(|(r, s)| (r, s)).collect();
        write_with(dir.path(), &refs, Duration::ZERO);
        fs::remove_file(dir.path().join("b.yaml")).unwrap();
        let left = load_recordings(dir.path()).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].source, "the test");
    }
}
