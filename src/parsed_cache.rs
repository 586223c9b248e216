//! The parsed-files cache: one file, `.conform-cache` in a recordings folder (or a cases folder),
//! holding every file of the folder as conform last read it (a recording as parsed, a case as
//! converted), so that a start with many files reads one file instead of parsing every YAML file
//! again (YAML parsing was nearly all of a replay's start-up, and most of a large suite's). The recording loader and the case loader
//! both keep one; `kind` tells the two apart.
//!
//! It is only ever a copy. A file is taken from the cache only when its size, modification time
//! and (on Unix) change time and inode are those the cache saw, and the cache was written by this
//! very conform binary (its size and modification time); anything else is parsed again. Like
//! git's index, a file changed within `RACY` of the cache's own writing is never cached (a file
//! can be rewritten within one tick of the file system's clock with the same size), so it is
//! parsed on every start until it is older. A cache that cannot be read, or one of another
//! shape, counts as empty; one that cannot be written (a read-only folder) is not written.
//! Nothing is in it that is not in the files themselves (and, for a case, the suite settings it
//! was converted under, which its fingerprint names). `CONFORM_NO_CACHE=1` turns it off.

use std::collections::HashMap;
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The cache's file name in a recordings folder (not `*.yaml`, so never read as a recording).
pub const CACHE_FILE: &str = ".conform-cache";

/// Files changed this recently before the cache is written are left out of it.
const RACY: Duration = Duration::from_secs(2);

/// Bumped whenever what the cache holds changes meaning.
const FORMAT: u32 = 3;

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

/// The cache file's first line.
#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    /// What the files are ("recordings" or "cases").
    kind: String,
    /// The conform binary that wrote it.
    binary: String,
    /// How many files it holds: one index line each follows.
    files: usize,
}

/// The file's bytes: mapped where the system can (nothing is copied, and only the pages of
/// entries asked for are read), read otherwise.
enum Bytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Read(v) => v,
        }
    }
}

/// The file's bytes and the stamp of the file they are (taken from the open file, so the two
/// belong together).
fn read_bytes(path: &Path) -> Option<(Bytes, Option<Stamp>)> {
    let file = fs::File::open(path).ok()?;
    let stamp = file.metadata().ok().map(|m| Stamp::of(&m));
    // Safety: the cache is only ever replaced whole, by a rename (`write_with`), so the mapped
    // file itself never changes while it is mapped. A user truncating it in place by hand is
    // the one way to break that, as for any mapped file (ripgrep takes the same view).
    let bytes = match unsafe { memmap2::Mmap::map(&file) } {
        Ok(map) => Bytes::Mapped(map),
        Err(_) => {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut &file, &mut bytes).ok()?;
            Bytes::Read(bytes)
        }
    };
    Some((bytes, stamp))
}

/// What a folder's cache holds, by path, with the files' stamps.
pub struct Cache {
    /// The cache file's bytes.
    bytes: Bytes,
    /// The cache file's stamp when it was read.
    stamp: Option<Stamp>,
    /// Whether the loads that read it write it back (`CONFORM_NO_CACHE` as it was then).
    writes: bool,
    /// Where in `bytes` each file's JSON is, by the file's path as the loaders spell it: the
    /// folder as given joined with the path the cache keeps (relative to the folder, so that
    /// it serves whatever path the folder is reached by). A look-up walks no path components.
    by_path: HashMap<PathBuf, (Stamp, Range<usize>)>,
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
    /// The cache of `dir` if it holds files of `kind`, or an empty one.
    ///
    /// The file is a JSON header line, one index line per file (`len mtime_ns ctime_ns ino
    /// json_len path`), then every file's JSON, one after another in index order. Reading it
    /// is reading the index: no entry's JSON is looked at until it is asked for.
    pub fn read(dir: &Path, kind: &str) -> Cache {
        let mut cache = Cache {
            bytes: Bytes::Read(Vec::new()),
            stamp: None,
            writes: enabled(),
            by_path: HashMap::new(),
        };
        if !cache.writes {
            return cache;
        }
        let Some((bytes, stamp)) = read_bytes(&dir.join(CACHE_FILE)) else {
            return cache;
        };
        if let Some(by_path) = index(&bytes, kind, dir) {
            cache.by_path = by_path;
            cache.bytes = bytes;
            cache.stamp = stamp;
        }
        cache
    }

    /// The cache file's stamp, as a key part for a [`memo_read`]: when every file a load asked
    /// for was taken from this cache and the cache is left as it is, the files are the ones it
    /// was written from, and this stamp names them all (a cache is only ever replaced whole, by
    /// a rename, so another cache has another inode). `None` for no cache.
    pub fn unchanged(&self) -> Option<String> {
        serde_json::to_string(self.stamp.as_ref()?).ok()
    }

    /// Whether a load's results are written back (not under `CONFORM_NO_CACHE=1`): a loader
    /// turns what it parsed into cache JSON only then.
    pub fn writes(&self) -> bool {
        self.writes
    }

    /// How many files it holds.
    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    /// True when the cache holds `path` as it is now (its stamp is `stamp`).
    pub fn holds(&self, path: &Path, stamp: &Stamp) -> bool {
        self.by_path
            .get(path)
            .is_some_and(|(cached, _)| cached == stamp)
    }

    /// The same cache with its bytes in memory rather than mapped, for a cache kept as long as
    /// a server runs: a mapped file cut short in place (by hand; conform only ever replaces it
    /// whole) would end the process at the next read of a page it lost.
    pub fn in_memory(self) -> Cache {
        match self.bytes {
            Bytes::Mapped(map) => Cache {
                bytes: Bytes::Read(map.to_vec()),
                ..self
            },
            Bytes::Read(_) => self,
        }
    }

    /// What `path` parsed to (as the JSON the cache keeps, and as a `T`), when the file is
    /// still the one the cache saw; `None` too when the entry does not read as a `T`.
    pub fn get<T: DeserializeOwned>(&self, path: &Path, stamp: &Stamp) -> Option<(T, &[u8])> {
        let (cached, range) = self.by_path.get(path)?;
        if cached != stamp {
            return None;
        }
        let json = self.bytes.get(range.clone())?;
        // One UTF-8 check of the whole entry, then a reader that trusts it: serde_json's slice
        // reader checks every string on its own, a twelfth of loading a large suite.
        let parsed = serde_json::from_str(std::str::from_utf8(json).ok()?).ok()?;
        Some((parsed, json))
    }
}

/// Each file's stamp and the place of its JSON, when `bytes` is a whole cache of `kind` written
/// by this binary.
fn index(bytes: &[u8], kind: &str, dir: &Path) -> Option<HashMap<PathBuf, (Stamp, Range<usize>)>> {
    let mut lines = bytes.split(|&b| b == b'\n');
    let first = lines.next()?;
    let header: Header = serde_json::from_slice(first).ok()?;
    if header.format != FORMAT || header.kind != kind || Some(header.binary) != binary() {
        return None;
    }
    let mut entries = Vec::with_capacity(header.files);
    let mut at = 0;
    for _ in 0..header.files {
        let line = std::str::from_utf8(lines.next()?).ok()?;
        at += line.len() + 1;
        let mut fields = line.splitn(6, ' ');
        let mut number = || fields.next()?.parse::<i128>().ok();
        let stamp = Stamp {
            len: u64::try_from(number()?).ok()?,
            mtime_ns: number()?,
            ctime_ns: number()?,
            ino: u64::try_from(number()?).ok()?,
        };
        let json_len = usize::try_from(number()?).ok()?;
        let path = dir.join(fields.next()?);
        entries.push((path, stamp, json_len));
    }
    // The JSON starts after the header line and the index.
    let mut start = first.len() + 1 + at;
    let mut by_path = HashMap::with_capacity(entries.len());
    for (path, stamp, len) in entries {
        let end = start.checked_add(len)?;
        by_path.insert(path, (stamp, start..end));
        start = end;
    }
    // A cut-short or overlong file is no cache.
    (start == bytes.len()).then_some(by_path)
}

/// `value` as the JSON the cache keeps.
pub fn to_raw<T: Serialize>(value: &T) -> Option<Box<RawValue>> {
    serde_json::value::to_raw_value(value).ok()
}

/// Writes `dir`'s cache of `kind`: every file that parsed (its path, what it parsed to, its
/// stamp when it was read), but those changed too recently to trust their stamps. Best effort:
/// a cache that cannot be written is simply not there next time.
/// Each file's `parsed` is JSON text: from `to_raw`, or as `Cache::get` gave it.
pub fn write(dir: &Path, kind: &str, loaded: &[(&Path, &[u8], &Stamp)]) {
    #[cfg(test)]
    let racy = RACY_IN_TESTS.with(|r| r.get());
    #[cfg(not(test))]
    let racy = RACY;
    write_with(dir, kind, loaded, racy);
}

/// The cache file's bytes, as `Cache::read` reads them. Each entry's JSON goes in as it is (it
/// is JSON already: serde_json wrote it, now or when the cache was last written). A path that
/// is not UTF-8 or holds a line break is left out: its file is parsed on every start.
fn render(
    kind: &str,
    binary: &str,
    files: &[(&Path, &Stamp, &[u8])],
) -> serde_json::Result<Vec<u8>> {
    use std::io::Write as _;
    let files: Vec<(&str, &Stamp, &[u8])> = files
        .iter()
        .filter_map(|&(p, s, j)| Some((p.to_str().filter(|p| !p.contains('\n'))?, s, j)))
        .collect();
    let size: usize = files.iter().map(|(p, _, j)| j.len() + p.len() + 80).sum();
    let mut out = Vec::with_capacity(size + 256);
    serde_json::to_writer(
        &mut out,
        &Header {
            format: FORMAT,
            kind: kind.to_owned(),
            binary: binary.to_owned(),
            files: files.len(),
        },
    )?;
    out.push(b'\n');
    for (path, stamp, json) in &files {
        let Stamp {
            len,
            mtime_ns,
            ctime_ns,
            ino,
        } = stamp;
        writeln!(
            out,
            "{len} {mtime_ns} {ctime_ns} {ino} {} {path}",
            json.len()
        )
        .map_err(serde_json::Error::io)?;
    }
    for (_, _, json) in &files {
        out.extend_from_slice(json);
    }
    Ok(out)
}

/// A memo beside a folder's cache (`.conform-cache.<name>`): a value worked out from the
/// folder's files, kept under a key that names everything it was worked out from (the caller
/// builds it, from [`Cache::unchanged`] and the stamps of whatever else it read). It is read
/// back only under the same key and by the same binary; anything else, or a broken file, is no
/// memo. Like the cache, it is a copy of a result, never a source, and `CONFORM_NO_CACHE=1`
/// turns it off.
pub fn memo_read<T: DeserializeOwned>(dir: &Path, name: &str, key: &str) -> Option<T> {
    #[derive(Deserialize)]
    struct Memo<T> {
        format: u32,
        binary: String,
        key: String,
        value: T,
    }
    if !enabled() {
        return None;
    }
    let bytes = fs::read(memo_path(dir, name)).ok()?;
    let memo: Memo<T> = serde_json::from_str(std::str::from_utf8(&bytes).ok()?).ok()?;
    (memo.format == FORMAT && Some(memo.binary) == binary() && memo.key == key)
        .then_some(memo.value)
}

/// Writes the memo [`memo_read`] reads, whole (renamed into place). Best effort, as the cache.
pub fn memo_write<T: Serialize>(dir: &Path, name: &str, key: &str, value: &T) {
    #[derive(Serialize)]
    struct Memo<'a, T> {
        format: u32,
        binary: String,
        key: &'a str,
        value: &'a T,
    }
    if !enabled() {
        return;
    }
    let Some(binary) = binary() else {
        return;
    };
    let Ok(bytes) = serde_json::to_vec(&Memo {
        format: FORMAT,
        binary,
        key,
        value,
    }) else {
        return;
    };
    replace_whole(&memo_path(dir, name), &bytes);
}

fn memo_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{CACHE_FILE}.{name}"))
}

#[cfg(test)]
thread_local! {
    /// A test's files are always just written: tests of the loaders that need them cached set
    /// this to zero on their own thread.
    pub(crate) static RACY_IN_TESTS: std::cell::Cell<Duration> = const { std::cell::Cell::new(RACY) };
}

fn write_with(dir: &Path, kind: &str, loaded: &[(&Path, &[u8], &Stamp)], racy: Duration) {
    if !enabled() {
        return;
    }
    let Some(binary) = binary() else {
        return;
    };
    let now = nanos(SystemTime::now());
    let files: Vec<(&Path, &Stamp, &[u8])> = loaded
        .iter()
        .filter(|(_, _, stamp)| !stamp.racy(now, racy))
        .filter_map(|&(path, parsed, stamp)| Some((path.strip_prefix(dir).ok()?, stamp, parsed)))
        .collect();
    let Ok(bytes) = render(kind, &binary, &files) else {
        return;
    };
    replace_whole(&dir.join(CACHE_FILE), &bytes);
}

/// Writes `path` whole: a temporary file beside it, renamed over it. A cache or a memo is a
/// copy, not worth a sync; a write that fails leaves no temporary file behind.
fn replace_whole(path: &Path, bytes: &[u8]) {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    if fs::write(&tmp, bytes).is_err() || fs::rename(&tmp, path).is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Recording, load_recordings};

    fn cache(dir: &Path, loaded: &[(Recording, Stamp)], racy: Duration) {
        let raws: Vec<_> = loaded.iter().map(|(r, _)| to_raw(r).unwrap()).collect();
        let refs: Vec<_> = loaded
            .iter()
            .zip(&raws)
            .map(|((r, s), raw)| (r.file.as_path(), raw.get().as_bytes(), s))
            .collect();
        write_with(dir, "recordings", &refs, racy);
    }

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
        cache(dir.path(), &stamps(dir.path()), Duration::ZERO);
        // The cache, not the file, is what is read now: tamper with the cached copy to see it.
        let cache = dir.path().join(CACHE_FILE);
        let text = fs::read_to_string(&cache).unwrap();
        fs::write(&cache, text.replace("the test", "the fake")).unwrap();
        let again = load_recordings(dir.path()).unwrap();
        assert_eq!(again[0].source, "the fake");
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
        cache(dir.path(), &stamps(dir.path()), RACY);
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
        cache(dir.path(), &stamps(dir.path()), Duration::ZERO);
        fs::remove_file(dir.path().join("b.yaml")).unwrap();
        let left = load_recordings(dir.path()).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].source, "the test");
    }
}
