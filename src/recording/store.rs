//! Reading a folder of recordings (every error in every file, located) and writing one
//! recording atomically: a temporary file in the same folder, flushed, then renamed, so that
//! an interrupted write leaves the old file whole and no half-written file behind.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::model::{RecordedExchange, Recording, RecordingProvenance, RequestKeys};
use crate::case::{CaseError, LoadErrors, locate};
use crate::matching::Seg;
use crate::parsed_cache::{self as cache, Cache, Stamp};

/// Loads every `*.yaml`/`*.yml` under `dir`, sorted by path.
pub fn load_recordings(dir: &Path) -> Result<Vec<Recording>, LoadErrors> {
    load_recordings_noting(dir).map(|(recordings, _)| recordings)
}

/// What says, at a later start, that a recordings folder is still as a load found it.
#[derive(Debug, Clone)]
pub struct Unchanged {
    /// The folder's cache file's stamp (every recording was taken from it, and it was left as
    /// it was) and each `service.yaml`'s path and stamp.
    pub key: String,
    /// The cache file's stamp alone: the key of what depends on the recordings only (the
    /// replay's index), not on the service files.
    pub recordings: String,
    /// The `service.yaml` files under the folder, in path order.
    pub service_files: Vec<PathBuf>,
}

/// [`load_recordings`], and an [`Unchanged`] when every recording came from the folder's cache
/// and the cache was left as it was: what was worked out from these recordings before, under
/// the same key, holds for them now (`parsed_cache::memo_read`).
pub fn load_recordings_noting(
    dir: &Path,
) -> Result<(Vec<Recording>, Option<Unchanged>), LoadErrors> {
    Folder::open_to_load(dir).load()
}

/// A recordings folder as walked, nothing parsed yet: its recording files in path order, each
/// one's stamp when its cache holds any file, and that cache (its `service.yaml` files are in
/// its [`Unchanged`]). When the cache holds every recording as it is now
/// ([`Folder::unchanged`]), a recording can be read from the cache alone, when it is needed
/// ([`Folder::cached_exchange`]): the replay's start-up reads none of them.
pub struct Folder {
    files: Vec<PathBuf>,
    /// Each file's stamp, taken by `open` when the cache holds any file; empty when it holds
    /// none (no cache yet, or `CONFORM_NO_CACHE=1`): then each file's stamp is taken from the
    /// open file as it is read, which spares a look-up of its path.
    stamps: Vec<Option<Stamp>>,
    /// Errors of the walk itself (a folder that cannot be read).
    errors: Vec<CaseError>,
    cache: Cache,
    unchanged: Option<Unchanged>,
    dir: PathBuf,
    /// Every file as `open_to_load` read it during the walk, for `load` to take.
    read_while_walking: std::sync::Mutex<Option<Vec<Read<'static>>>>,
    /// How each file is read: whether its request's replay keys are worked out as it is read
    /// (`open_to_index`), and whether what it parsed to is turned into the cache's JSON then
    /// (not for `open_to_serve`: the cache is written by [`Folder::write_cache_later`]).
    read_as: ReadAs,
    /// What the load left for [`Folder::write_cache_later`]: each recording that goes into the
    /// cache (its place among the loaded ones) and its stamp.
    cache_to_write: std::sync::Mutex<Option<Vec<(usize, Stamp)>>>,
}

impl std::fmt::Debug for Folder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Folder")
            .field("dir", &self.dir)
            .field("files", &self.files.len())
            .field("unchanged", &self.unchanged.is_some())
            .finish()
    }
}

impl Folder {
    /// Walks `dir`, reading no recording, and takes every recording's stamp (on every core)
    /// when its cache holds any file; without one, `load` takes each stamp as it reads the file.
    pub fn open(dir: &Path) -> Folder {
        Folder::walk(dir, false, false, false)
    }

    /// [`Folder::open`], for a [`Folder::load`] that follows: when the cache holds no file (no
    /// cache yet, or `CONFORM_NO_CACHE=1`), every file is read, on the other cores, as the walk
    /// finds it (on this one too once the walk is done), so that a cold start's reading does
    /// not wait for the walk.
    pub fn open_to_load(dir: &Path) -> Folder {
        Folder::walk(dir, true, false, false)
    }

    /// [`Folder::open_to_load`] for a replay: each request's keys
    /// ([`RecordedRequest::keys`](super::RecordedRequest::keys)) are worked out on the thread
    /// that read its recording, while it is at hand, and [`Folder::load_keyed`] gives them.
    /// Worked out after the load, they were a phase of their own in a replay's start.
    pub fn open_to_index(dir: &Path) -> Folder {
        Folder::walk(dir, true, true, false)
    }

    /// [`Folder::open_to_index`] for a server that answers before the recordings' cache is
    /// written: the load leaves the cache to [`Folder::write_cache_later`], which the caller
    /// runs once it answers. A first start has no cache, and writing one (each recording
    /// turned into JSON, then the file) added a quarter to the time to its first answer.
    pub fn open_to_serve(dir: &Path) -> Folder {
        Folder::walk(dir, true, true, true)
    }

    fn walk(dir: &Path, to_load: bool, keyed: bool, cache_later: bool) -> Folder {
        let mut files = Vec::new();
        let mut service_files = Vec::new();
        let mut errors = Vec::new();
        // The cache (`parsed_cache`) holds what the files said when they were last parsed; only
        // files it does not hold as they are now are parsed again. The stamp is taken before
        // a file is read: a change in between makes the next start see another stamp, so the
        // file is parsed again then.
        let cache = Cache::read(dir, "recordings");
        // Each folder is opened for its files to be opened relative to it only when they are
        // read during the walk.
        let mut walk = |found: &mut dyn FnMut(PathBuf, &At), open_folders: bool| {
            collect(
                dir,
                open_folders,
                found,
                &mut service_files,
                &mut errors,
                &mut std::collections::HashSet::new(),
            )
        };
        let mut read_while_walking = None;
        let read_as = ReadAs {
            keyed,
            cache_json: !cache_later,
        };
        if to_load && cache.is_empty() && crate::parallel::cores() > 1 {
            let (walked, read) = read_as_found(&cache, read_as, |found| walk(found, true));
            files = walked;
            read_while_walking = Some(read);
        } else {
            walk(&mut |f, _| files.push(f), false);
        }
        debug_assert!(files.is_sorted());
        let stamps: Vec<Option<Stamp>> = if cache.is_empty() {
            Vec::new()
        } else {
            crate::parallel::map_in_order(&files, |f| fs::metadata(f).ok().map(|m| Stamp::of(&m)))
        };
        let whole = errors.is_empty()
            && files.len() == cache.len()
            && files
                .iter()
                .zip(&stamps)
                .all(|(f, s)| s.as_ref().is_some_and(|s| cache.holds(f, s)));
        let unchanged = if whole {
            unchanged(&cache, service_files)
        } else {
            None
        };
        Folder {
            files,
            stamps,
            errors,
            cache,
            unchanged,
            dir: dir.to_owned(),
            read_while_walking: std::sync::Mutex::new(read_while_walking),
            read_as,
            cache_to_write: std::sync::Mutex::new(None),
        }
    }

    /// Some when the cache holds every recording of the folder as it is now, and nothing else.
    pub fn unchanged(&self) -> Option<&Unchanged> {
        self.unchanged.as_ref()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The recording files, in path order (the order `load` gives the recordings in).
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The `position`-th (1-based) exchange of the `file`-th recording, as the cache holds it;
    /// `None` when the cache does not hold that file as it was stamped, or it has no such
    /// exchange.
    pub fn cached_exchange(&self, file: usize, position: usize) -> Option<RecordedExchange> {
        let path = self.files.get(file)?;
        let (recording, _) = self
            .cache
            .get::<Recording>(path, self.stamps.get(file)?.as_ref()?)?;
        recording
            .exchanges
            .into_iter()
            .nth(position.checked_sub(1)?)
    }

    /// The same folder with its cache in memory, for one kept as long as a server runs
    /// (`Cache::in_memory`).
    pub fn in_memory(self) -> Folder {
        Folder {
            cache: self.cache.in_memory(),
            ..self
        }
    }

    /// Every recording (from the cache where it holds the file as it is, parsed otherwise,
    /// on every core), and an [`Unchanged`] when each came from the cache and it was left as
    /// it was. The cache is rewritten when it did not hold every file as it is.
    pub fn load(&self) -> Result<(Vec<Recording>, Option<Unchanged>), LoadErrors> {
        self.load_keyed()
            .map(|(recordings, _, unchanged)| (recordings, unchanged))
    }

    /// [`Folder::load`], with every exchange's replay keys in order (recording by recording,
    /// exchange by exchange) when the folder was opened with [`Folder::open_to_index`].
    #[allow(clippy::type_complexity)]
    pub fn load_keyed(
        &self,
    ) -> Result<(Vec<Recording>, Option<Vec<RequestKeys>>, Option<Unchanged>), LoadErrors> {
        let items: Vec<(&Path, Stamped<'_>)> = self
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let stamp = match self.stamps.get(i) {
                    Some(s) => Stamped::Taken(s.as_ref()),
                    None => Stamped::WhenRead,
                };
                (f.as_path(), stamp)
            })
            .collect();
        let cache = &self.cache;
        let walked = self
            .read_while_walking
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        // Parsing YAML is nearly all of a replay's start-up with many recordings, and the files
        // are independent: read them on every core, then keep the results in file order.
        let read: Vec<Read<'_>> = match walked {
            Some(read) => read,
            None => crate::parallel::map_in_order(&items, |&(f, s)| {
                read_one(f, None, s, cache, self.read_as)
            }),
        };
        let hits = read.iter().filter(|r| r.cached.is_some()).count();
        let rewrite = hits < self.files.len() || hits < cache.len();
        // Every file a hit and nothing else in the cache is what `open` found (`whole`).
        let unchanged = if rewrite {
            None
        } else {
            self.unchanged.clone()
        };
        // A folder opened to serve leaves the cache to be written once the server answers; one
        // that does not load whole starts no server, and is written now, as by any other load.
        let whole = self.errors.is_empty() && read.iter().all(|r| r.result.is_ok());
        if rewrite && cache.writes() && !self.read_as.cache_json && whole {
            // Every file loaded: each one's place in what was read is its recording's.
            let to_write = read
                .iter()
                .enumerate()
                .filter_map(|(place, r)| Some((place, r.stamp.clone()?)))
                .collect();
            *self
                .cache_to_write
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(to_write);
        } else if rewrite && cache.writes() {
            // Turned into JSON here what was read without (a folder opened to serve).
            let late: Vec<Option<Box<serde_json::value::RawValue>>> = read
                .iter()
                .map(|r| match (&r.result, r.cached, &r.fresh) {
                    (Ok(recording), None, None) => cache::to_raw(recording),
                    _ => None,
                })
                .collect();
            let good: Vec<(&Path, &[u8], &Stamp)> = read
                .iter()
                .zip(&late)
                .filter_map(|(r, late)| {
                    let recording = r.result.as_ref().ok()?;
                    let raw = r
                        .cached
                        .or(r.fresh.as_deref().map(|f| f.get().as_bytes()))
                        .or(late.as_deref().map(|f| f.get().as_bytes()))?;
                    Some((recording.file.as_path(), raw, r.stamp.as_ref()?))
                })
                .collect();
            cache::write(&self.dir, "recordings", &good);
        }
        let mut errors = self.errors.clone();
        let mut recordings = Vec::with_capacity(read.len());
        let mut keys = Vec::with_capacity(if self.read_as.keyed { read.len() } else { 0 });
        for r in read {
            match r.result {
                Ok(recording) => {
                    recordings.push(recording);
                    keys.extend(r.keys);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok((recordings, self.read_as.keyed.then_some(keys), unchanged))
        } else {
            Err(LoadErrors(errors))
        }
    }
}

impl Folder {
    /// Writes the recordings' cache that the load of a folder opened with
    /// [`Folder::open_to_serve`] left to be written: `recordings` are what that load gave.
    /// Nothing to do for any other folder, or once done.
    pub fn write_cache_later(&self, recordings: &[Recording]) {
        let to_write = self
            .cache_to_write
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let Some(to_write) = to_write else {
            return;
        };
        let raws: Vec<(&Path, Box<serde_json::value::RawValue>, &Stamp)> = to_write
            .iter()
            .filter_map(|(place, stamp)| {
                let recording = recordings.get(*place)?;
                Some((recording.file.as_path(), cache::to_raw(recording)?, stamp))
            })
            .collect();
        let entries: Vec<(&Path, &[u8], &Stamp)> = raws
            .iter()
            .map(|(path, raw, stamp)| (*path, raw.get().as_bytes(), *stamp))
            .collect();
        cache::write(&self.dir, "recordings", &entries);
    }
}

/// How a file is read: whether its request keys are worked out (`keyed`), and whether what it
/// parsed to is turned into the cache's JSON as it is read (`cache_json`, when the cache is
/// written by the load and written at all).
#[derive(Clone, Copy)]
struct ReadAs {
    keyed: bool,
    cache_json: bool,
}

/// The [`Unchanged`] of a folder whose every recording `cache` holds: its stamp, and each
/// service file's path and stamp.
fn unchanged(cache: &Cache, service_files: Vec<PathBuf>) -> Option<Unchanged> {
    let recordings = cache.unchanged()?;
    let mut key = recordings.clone();
    for f in &service_files {
        let stamp = Stamp::of(&fs::metadata(f).ok()?);
        key.push_str(&format!(
            "\n{}\t{}",
            f.display(),
            serde_json::to_string(&stamp).ok()?
        ));
    }
    Some(Unchanged {
        key,
        recordings,
        service_files,
    })
}

/// A file's stamp as the loader is handed it.
#[derive(Clone, Copy)]
enum Stamped<'a> {
    /// Taken by `Folder::open` (`None`: the file could not be stat'ed).
    Taken(Option<&'a Stamp>),
    /// To be taken from the open file when it is read (the cache holds no file).
    WhenRead,
}

/// One file as the loader read it: from the cache (with the cached JSON) or parsed (with the
/// JSON the cache will keep, when it is written).
struct Read<'a> {
    result: Result<Recording, Vec<CaseError>>,
    /// Each exchange's replay keys, when the folder is `keyed`.
    keys: Vec<RequestKeys>,
    stamp: Option<Stamp>,
    cached: Option<&'a [u8]>,
    fresh: Option<Box<serde_json::value::RawValue>>,
}

/// What read `file` gives; `at` is the open folder it is in, when the walk that found it has it.
fn read_one<'a>(
    file: &Path,
    at: Option<&OpenFolder>,
    stamped: Stamped<'a>,
    cache: &'a Cache,
    ReadAs { keyed, cache_json }: ReadAs,
) -> Read<'a> {
    let keys_of = |recording: &Recording| {
        if keyed {
            recording
                .exchanges
                .iter()
                .map(|x| x.request.keys())
                .collect()
        } else {
            Vec::new()
        }
    };
    if let Stamped::Taken(Some(taken)) = stamped
        && let Some((mut recording, raw)) = cache.get::<Recording>(file, taken)
    {
        recording.file = file.to_owned();
        return Read {
            keys: keys_of(&recording),
            result: Ok(recording),
            stamp: Some(taken.clone()),
            cached: Some(raw),
            fresh: None,
        };
    }
    let (result, read_stamp) = match read_file_in(at, file) {
        Ok((source, s)) => (parse_recording(file, &source), Some(s)),
        Err(e) => (Err(vec![cannot_read(file, &e)]), None),
    };
    let stamp = match stamped {
        Stamped::Taken(taken) => taken.cloned(),
        Stamped::WhenRead => read_stamp,
    };
    // Turned into the cache's JSON here, on the loader's thread that parsed it (done after the
    // parallel part, it was the longest serial stretch of a cold start).
    let fresh = match &result {
        Ok(recording) if cache_json && cache.writes() => cache::to_raw(recording),
        _ => None,
    };
    Read {
        keys: result.as_ref().map_or_else(|_| Vec::new(), keys_of),
        result,
        stamp,
        cached: None,
        fresh,
    }
}

/// What identifies a folder however it is reached: its device and inode (one stat, where
/// resolving its path would read every component's link), or its resolved path.
#[derive(PartialEq, Eq, Hash)]
enum FolderKey {
    #[cfg_attr(not(unix), allow(dead_code))]
    Inode(u64, u64),
    Path(PathBuf),
}

impl FolderKey {
    fn of(dir: &Path) -> FolderKey {
        #[cfg(unix)]
        if let Ok(meta) = fs::metadata(dir) {
            use std::os::unix::fs::MetadataExt;
            return FolderKey::Inode(meta.dev(), meta.ino());
        }
        FolderKey::Path(fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned()))
    }
}

/// The files `walk` finds (it hands each to its argument, in path order), each read and parsed
/// (`read_one`) on the other cores as soon as it is found, and on this one once the walk is
/// done: the files in order, and what each read gave, in the same order. For an empty cache:
/// nothing is taken from it, so what is read borrows nothing of it.
fn read_as_found(
    cache: &Cache,
    read_as: ReadAs,
    walk: impl FnOnce(&mut dyn FnMut(PathBuf, &At)),
) -> (Vec<PathBuf>, Vec<Read<'static>>) {
    use std::sync::{Condvar, Mutex, PoisonError};
    struct Found {
        files: Vec<PathBuf>,
        /// The open folder of each file, as `files`.
        folders: Vec<At>,
        next: usize,
        walked: bool,
        /// Readers waiting for the walk to find more: only they need waking (a wake is a
        /// system call, and one per file found was as many system calls as files).
        waiting: usize,
    }
    let found = Mutex::new(Found {
        files: Vec::new(),
        folders: Vec::new(),
        next: 0,
        walked: false,
        waiting: 0,
    });
    let more = Condvar::new();
    let lock = || found.lock().unwrap_or_else(PoisonError::into_inner);
    // Reads the files found, one at a time, waiting for the walk when it has found no more;
    // once the walk is done and every file is taken, what this reader read, with each place.
    let read = || {
        let mut done = Vec::new();
        loop {
            let (i, file, at) = {
                let mut f = lock();
                while f.next == f.files.len() && !f.walked {
                    f.waiting += 1;
                    f = more.wait(f).unwrap_or_else(PoisonError::into_inner);
                    f.waiting -= 1;
                }
                if f.next == f.files.len() {
                    return done;
                }
                f.next += 1;
                let i = f.next - 1;
                (i, f.files[i].clone(), f.folders[i].clone())
            };
            let r = read_one(&file, at.as_deref(), Stamped::WhenRead, cache, read_as);
            debug_assert!(r.cached.is_none(), "an empty cache gives nothing");
            done.push((i, Read { cached: None, ..r }));
        }
    };
    let mut all: Vec<Option<Read<'static>>> = Vec::new();
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..crate::parallel::cores())
            .map(|_| scope.spawn(read))
            .collect();
        // However the walk ends, the readers are told it has.
        struct Walked<'a>(&'a Mutex<Found>, &'a Condvar);
        impl Drop for Walked<'_> {
            fn drop(&mut self) {
                self.0.lock().unwrap_or_else(PoisonError::into_inner).walked = true;
                self.1.notify_all();
            }
        }
        {
            let _walked = Walked(&found, &more);
            walk(&mut |file, at| {
                let mut f = lock();
                f.files.push(file);
                f.folders.push(at.clone());
                if f.waiting > 0 {
                    more.notify_one();
                }
            });
        }
        let mut file = |done: Vec<(usize, Read<'static>)>| {
            for (i, r) in done {
                if all.len() <= i {
                    all.resize_with(i + 1, || None);
                }
                all[i] = Some(r);
            }
        };
        file(read());
        for other in others {
            file(
                other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
    });
    let files = found
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .files;
    let read = all
        .into_iter()
        .map(|r| r.expect("every file found is read once"))
        .collect();
    (files, read)
}

fn collect(
    dir: &Path,
    open_folders: bool,
    found: &mut dyn FnMut(PathBuf, &At),
    service_files: &mut Vec<PathBuf>,
    errors: &mut Vec<CaseError>,
    seen: &mut std::collections::HashSet<FolderKey>,
) {
    // A folder reached twice (a symlink back up the tree) is read once.
    if !seen.insert(FolderKey::of(dir)) {
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(CaseError::whole_file(
                dir,
                format!("cannot read the recordings folder: {e}"),
            ));
            return;
        }
    };
    // Each folder's entries in name order, folders walked where they fall: the files come out
    // in path order (component by component, as `Path`'s `Ord` compares), with no sort of the
    // whole list, whose component-wise comparisons were a tenth of a start-up's instructions.
    let mut entries: Vec<(std::ffi::OsString, fs::DirEntry)> =
        entries.flatten().map(|e| (e.file_name(), e)).collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let at = if open_folders { open_folder(dir) } else { None };
    for (_, entry) in entries {
        let path = entry.path();
        // The entry's type comes with the folder listing; only a symlink needs a stat.
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => path.is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => path.is_dir(),
        };
        if is_dir {
            collect(&path, open_folders, found, service_files, errors, seen);
        } else if path
            .file_name()
            .is_some_and(|n| n == crate::model::SERVICE_FILE)
        {
            // A service.yaml names the recordings' model; it is not a recording.
            service_files.push(path);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            found(path, &at);
        }
    }
}

/// A folder the walk found files in, open: each of its files is opened relative to it, so only
/// the file's own name is looked up, not every component of its path again (that lookup was
/// a third of opening a file at a cold start). `None` when it cannot be opened: then by path.
type At = Option<std::sync::Arc<OpenFolder>>;

#[cfg(unix)]
type OpenFolder = std::os::fd::OwnedFd;
#[cfg(not(unix))]
type OpenFolder = ();

fn open_folder(dir: &Path) -> At {
    #[cfg(unix)]
    {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        rustix::fs::open(dir, flags, Mode::empty())
            .ok()
            .map(std::sync::Arc::new)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// Opens `file`, relative to `at` (the folder it is in) when given.
fn open_in(at: Option<&OpenFolder>, file: &Path) -> std::io::Result<fs::File> {
    #[cfg(unix)]
    if let (Some(at), Some(name)) = (at, file.file_name()) {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::openat(at, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
        return Ok(fs::File::from(fd));
    }
    #[cfg(not(unix))]
    let _ = at;
    fs::File::open(file)
}

pub fn load_recording(file: &Path) -> Result<Recording, Vec<CaseError>> {
    let (source, _) = read_file_in(None, file).map_err(|e| vec![cannot_read(file, &e)])?;
    parse_recording(file, &source)
}

fn cannot_read(file: &Path, e: &std::io::Error) -> CaseError {
    CaseError::whole_file(file, format!("cannot read: {e}"))
}

/// A file's text and its stamp, taken from the open file: one open, one stat of the open file
/// and one read of the size it gave. The text is the file as its stamp describes it: a file that
/// grew after the stat is read up to the size the stamp holds (the next start sees another
/// stamp and reads it again), one that shrank, or says it is empty, is read to its end.
fn read_file_in(at: Option<&OpenFolder>, file: &Path) -> std::io::Result<(String, Stamp)> {
    use std::io::{Read as _, Seek as _};
    let mut handle = open_in(at, file)?;
    let meta = handle.metadata()?;
    let size = usize::try_from(meta.len()).unwrap_or(0);
    // Reading to the end would take one more read, which finds nothing, per file: 2,000 of
    // them were a tenth of the system calls of a replay's cold start.
    let mut bytes = vec![0; size];
    let read = match handle.read_exact(&mut bytes) {
        Ok(()) if size > 0 => Ok(()),
        Ok(()) => handle.read_to_end(&mut bytes).map(drop),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            bytes.clear();
            handle.rewind()?;
            handle.read_to_end(&mut bytes).map(drop)
        }
        Err(e) => Err(e),
    };
    read?;
    let text = String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })?;
    Ok((text, Stamp::of(&meta)))
}

/// A recording from its text, checked beyond what serde checks; every error located.
fn parse_recording(file: &Path, source: &str) -> Result<Recording, Vec<CaseError>> {
    let mut recording: Recording =
        crate::yaml::parse(file, source, "recording").map_err(|e| vec![e])?;
    recording.file = file.to_owned();
    let mut errors = Vec::new();
    let mut fail = |path: Vec<Seg>, message: String| {
        errors.push(CaseError::at(
            file,
            source,
            locate(source, &path),
            format!("invalid recording: {message}"),
            None,
        ));
    };
    if recording.exchanges.is_empty() {
        fail(
            vec![Seg::Key("exchanges".into())],
            "`exchanges` is empty".into(),
        );
    }
    match (recording.provenance, &recording.recorded, &recording.note) {
        (RecordingProvenance::Recorded, None, _) => fail(
            vec![Seg::Key("provenance".into())],
            "a `recorded` recording must say where from, in `recorded:`".into(),
        ),
        (p, Some(_), _) if p != RecordingProvenance::Recorded => fail(
            vec![Seg::Key("recorded".into())],
            "`recorded:` belongs only to recordings with provenance `recorded`".into(),
        ),
        (p, _, None) if p != RecordingProvenance::Recorded => fail(
            vec![Seg::Key("provenance".into())],
            "a recording not made from a real endpoint needs a `note:` saying what is known and what is not".into(),
        ),
        _ => {}
    }
    for (i, exchange) in recording.exchanges.iter().enumerate() {
        let at = |k: &str, f: &str| {
            vec![
                Seg::Key("exchanges".into()),
                Seg::Index(i),
                Seg::Key(k.into()),
                Seg::Key(f.into()),
            ]
        };
        let r = &exchange.request;
        let bodies = [
            r.body.is_some(),
            r.raw_body.is_some(),
            r.raw_body_base64.is_some(),
        ];
        if bodies.iter().filter(|b| **b).count() > 1 {
            fail(
                at(
                    "request",
                    if r.raw_body_base64.is_some() {
                        "raw_body_base64"
                    } else {
                        "raw_body"
                    },
                ),
                "give one of `body`, `raw_body`, `raw_body_base64`".into(),
            );
        }
        if let Some(Err(e)) = r
            .raw_body_base64
            .as_deref()
            .map(super::model::decode_base64)
        {
            fail(
                at("request", "raw_body_base64"),
                format!("`raw_body_base64` is not valid base64: {e}"),
            );
        }
        if !(100..=599).contains(&exchange.response.status) {
            fail(
                at("response", "status"),
                format!("{} is not an HTTP status", exchange.response.status),
            );
        }
        if exchange.response.body.is_some() && exchange.response.body_base64.is_some() {
            fail(
                at("response", "body_base64"),
                "give `body` or `body_base64`, not both".into(),
            );
        }
        // Only a base64 body can fail to give its bytes (a text body would only be copied).
        if exchange.response.body.is_none()
            && let Err(m) = exchange.response.body_bytes()
        {
            fail(at("response", "body_base64"), m);
        }
        for name in exchange.response.headers.keys() {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                fail(
                    at("response", "headers"),
                    format!("`{name}` is not a valid header name"),
                );
            }
        }
        for value in exchange.response.headers.values() {
            if http::HeaderValue::from_str(value).is_err() {
                fail(
                    at("response", "headers"),
                    format!("{value:?} is not a valid header value"),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(recording)
    } else {
        Err(errors)
    }
}

/// Writes a recording to `path` atomically, creating folders as needed.
pub fn write_recording(path: &Path, recording: &Recording) -> std::io::Result<()> {
    write_atomically(path, recording_text(recording)?.as_bytes())
}

/// A recording file's text: the header line, then the recording as YAML.
fn recording_text(recording: &Recording) -> std::io::Result<String> {
    let text = crate::yaml::to_string(recording).map_err(std::io::Error::other)?;
    let header = "# conform recording: see cases/FORMAT.md. Secrets are never written here.\n";
    Ok(format!("{header}{text}"))
}

/// Writes a recording like `write_recording`, but leaves the flush to disk to `syncer`: the
/// file is whole and in place when this returns (a crash of conform loses nothing), and on disk
/// once the syncer's next sync has run (a power cut may lose what came after the last one).
pub fn write_recording_later(
    path: &Path,
    recording: &Recording,
    syncer: &Syncer,
) -> std::io::Result<()> {
    write_renamed(path, recording_text(recording)?.as_bytes(), false)?;
    syncer.written();
    Ok(())
}

/// What [`create_recording_later`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The file is there, whole, and nothing was at its path before.
    Created,
    /// A file is already at the path: nothing was written.
    Exists,
}

/// Writes a recording like [`write_recording_later`], but only where no file is yet: a file at
/// `path` (one another process made, or one that could not be read at start) is left as it is
/// and `Created::Exists` returned, so that the caller decides whether it may be replaced.
/// Appearing whole and refusing to replace are one step, with no look first: on Linux an
/// unnamed file in the folder given its name (`O_TMPFILE`, then `linkat`), or else a
/// temporary file renamed with `RENAME_NOREPLACE`. A proxy writes one new file per request,
/// and the look beforehand was a system call each.
pub fn create_recording_later(
    path: &Path,
    recording: &Recording,
    syncer: &Syncer,
) -> std::io::Result<Created> {
    let created = create_new(path, recording_text(recording)?.as_bytes())?;
    if created == Created::Created {
        syncer.written();
    }
    Ok(created)
}

fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<Created> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match create_new_in(dir, path, bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !dir.is_dir() => {
            fs::create_dir_all(dir)?;
            create_new_in(dir, path, bytes)
        }
        other => other,
    }
}

#[cfg(target_os = "linux")]
fn create_new_in(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<Created> {
    use rustix::fs::{AtFlags, CWD, Mode, OFlags, RenameFlags};
    use rustix::io::Errno;
    // An unnamed file, filled, then named: it never exists half-written, and linkat refuses
    // a name that is taken.
    match rustix::fs::openat(
        CWD,
        dir,
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o666),
    ) {
        Ok(fd) => {
            let mut file = fs::File::from(fd);
            file.write_all(bytes)?;
            let fd_path = format!("/proc/self/fd/{}", {
                use std::os::fd::AsRawFd;
                file.as_raw_fd()
            });
            match rustix::fs::linkat(CWD, fd_path.as_str(), CWD, path, AtFlags::SYMLINK_FOLLOW) {
                Ok(()) => return Ok(Created::Created),
                Err(Errno::EXIST) => return Ok(Created::Exists),
                // No /proc: name it the other way.
                Err(e) if e == Errno::NOENT && dir.is_dir() => {}
                Err(e) => return Err(e.into()),
            }
        }
        // The file system has no unnamed files (or the folder is missing: the caller makes it).
        Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL) => {}
        Err(e) => return Err(e.into()),
    }
    let tmp = temporary_beside(dir, path);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        drop(f);
        match rustix::fs::renameat_with(CWD, &tmp, CWD, path, RenameFlags::NOREPLACE) {
            Ok(()) => Ok(Created::Created),
            // A file system without the flag: look, then rename.
            Err(Errno::INVAL | Errno::NOSYS) => {
                if path.exists() {
                    Ok(Created::Exists)
                } else {
                    fs::rename(&tmp, path).map(|()| Created::Created)
                }
            }
            Err(Errno::EXIST) => Ok(Created::Exists),
            Err(e) => Err(e.into()),
        }
    })();
    if result.as_ref().map_or(true, |c| *c == Created::Exists) {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(not(target_os = "linux"))]
fn create_new_in(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<Created> {
    if path.exists() {
        return Ok(Created::Exists);
    }
    if !dir.is_dir() {
        return Err(std::io::ErrorKind::NotFound.into());
    }
    write_renamed(path, bytes, false).map(|()| Created::Created)
}

fn temporary_beside(dir: &Path, path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("recording");
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Temporary file beside the target, renamed over it: whole and in place at once, but on disk
/// only once the file system is synced (`sync_file_system`). For a batch of many files, which
/// one sync at its end puts on disk together.
pub fn write_atomically_unsynced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_renamed(path, bytes, false)
}

/// Flushes the file system that holds `dir` to disk (one `syncfs` for everything written there).
pub fn sync_file_system(dir: &Path) -> std::io::Result<()> {
    let dir = fs::File::open(dir)?;
    rustix::fs::syncfs(&dir).map_err(std::io::Error::from)
}

/// Temporary file beside the target, flushed to disk, then renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_renamed(path, bytes, true)
}

/// Temporary file beside the target, flushed to disk when `sync`, then renamed over it.
fn write_renamed(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = temporary_beside(dir, path);
    let result = (|| {
        // The folder is made only when it is not there: most writes go to one that is, and
        // looking first cost two system calls each (a proxy writes one file per request).
        let mut f = match fs::File::create(&tmp) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(dir)?;
                fs::File::create(&tmp)?
            }
            other => other?,
        };
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Flushes a folder's file system to disk off the request path: `written` marks it dirty, and a
/// thread of its own syncs it (one `syncfs` for any number of files) at most `BATCH` later, and
/// once more when the syncer is dropped. A sync per file cost the proxy about 130 us of CPU for
/// every request it recorded (BENCHMARKS.md); one per batch costs that once.
pub struct Syncer {
    shared: std::sync::Arc<SyncState>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct SyncState {
    dir: PathBuf,
    /// (dirty, stopping)
    flags: std::sync::Mutex<(bool, bool)>,
    wake: std::sync::Condvar,
}

/// How long a written recording may wait for its sync.
pub const BATCH: std::time::Duration = std::time::Duration::from_millis(50);

impl Syncer {
    pub fn new(dir: &Path) -> Syncer {
        let shared = std::sync::Arc::new(SyncState {
            dir: dir.to_owned(),
            flags: std::sync::Mutex::new((false, false)),
            wake: std::sync::Condvar::new(),
        });
        let state = shared.clone();
        let thread = std::thread::Builder::new()
            .name("conform-sync".into())
            .spawn(move || state.run())
            .ok();
        Syncer { shared, thread }
    }

    /// A file was written under the folder: it will be synced within `BATCH`.
    pub fn written(&self) {
        let mut flags = self.shared.lock();
        if !flags.0 {
            flags.0 = true;
            self.shared.wake.notify_one();
        }
    }

    /// Syncs now whatever was written, and returns when it is on disk.
    pub fn flush(&self) {
        let dirty = std::mem::take(&mut self.shared.lock().0);
        if dirty {
            self.shared.sync();
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.shared.lock().1 = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.flush();
    }
}

impl SyncState {
    fn lock(&self) -> std::sync::MutexGuard<'_, (bool, bool)> {
        self.flags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn run(&self) {
        loop {
            let mut flags = self.lock();
            while !flags.0 && !flags.1 {
                flags = self
                    .wake
                    .wait(flags)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            if flags.1 {
                return;
            }
            drop(flags);
            // Let the batch gather, then take it.
            std::thread::sleep(BATCH);
            self.lock().0 = false;
            self.sync();
        }
    }

    fn sync(&self) {
        // One syncfs flushes every file of the folder's file system; where it cannot be had,
        // nothing is lost but the early flush (the kernel writes the files back itself).
        let _ = sync_file_system(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree of recordings over several folders, one of them broken, and a file that is not
    /// a recording.
    fn tree(root: &Path) {
        let good = |source: &str| {
            format!(
                "provenance: modeled\nsource: {source}\nnote: n\nexchanges:\n  - request: {{ method: POST, path: / }}\n    response: {{ status: 200, body: '{{}}' }}\n"
            )
        };
        for (path, text) in [
            ("a.yaml", good("a")),
            ("b/c.yaml", good("c")),
            ("b/d/e.yml", good("e")),
            (
                "b/d/f.yaml",
                "provenance: modeled\nexchanges: []\n".to_owned(),
            ),
            ("b/g.txt", "not a recording".to_owned()),
            ("h.yaml", good("h")),
        ] {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        for i in 0..40 {
            fs::write(root.join(format!("b/d/n{i:02}.yaml")), good(&i.to_string())).unwrap();
        }
    }

    /// Reading the files as the walk finds them gives what reading them after it gives: the
    /// same recordings in the same order, the same errors.
    #[test]
    fn a_folder_read_while_walked_loads_as_one_read_after() {
        let (after, walking) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        tree(after.path());
        tree(walking.path());
        let sources = |dir: &Path, folder: Folder| {
            let files = folder.files().to_vec();
            let loaded = folder.load();
            let files: Vec<_> = files
                .iter()
                .map(|f| f.strip_prefix(dir).unwrap().to_owned())
                .collect();
            let loaded =
                loaded.map(|(r, _)| r.iter().map(|r| r.source.clone()).collect::<Vec<_>>());
            let errors = loaded
                .as_ref()
                .err()
                .map(|e| e.to_string().replace(&dir.display().to_string(), "DIR"));
            (files, loaded.ok(), errors)
        };
        let walked = Folder::open_to_load(walking.path());
        assert!(
            crate::parallel::cores() == 1 || walked.read_while_walking.lock().unwrap().is_some(),
            "an empty cache: the files are read during the walk"
        );
        let (files, loaded, errors) = sources(walking.path(), walked);
        let read_after = sources(after.path(), Folder::open(after.path()));
        assert_eq!(
            (&files, &loaded, &errors),
            (&read_after.0, &read_after.1, &read_after.2)
        );
        assert_eq!(files.len(), 45, "{files:?}");
        assert!(files.is_sorted());
        let errors = errors.expect("the broken recording");
        assert!(errors.contains("f.yaml"), "{errors}");
        assert!(errors.contains("missing field `source`"), "{errors}");
        // Fixed, the folder loads whole, in path order.
        fs::write(walking.path().join("b/d/f.yaml"), "provenance: modeled\nsource: f\nnote: n\nexchanges:\n  - request: { method: POST, path: / }\n    response: { status: 200 }\n").unwrap();
        fs::remove_file(walking.path().join(".conform-cache")).ok();
        let (_, loaded, errors) = sources(walking.path(), Folder::open_to_load(walking.path()));
        assert_eq!(errors, None);
        let loaded = loaded.unwrap();
        assert_eq!(loaded.first().map(String::as_str), Some("a"));
        assert_eq!(loaded.last().map(String::as_str), Some("h"));
        assert_eq!(loaded.len(), 45);
    }

    /// A folder opened to serve leaves its cache to be written when the server answers: the load
    /// writes none, `write_cache_later` writes what the load would have written, once.
    #[test]
    fn a_folder_opened_to_serve_writes_its_cache_when_told_to() {
        crate::parsed_cache::RACY_IN_TESTS.with(|r| r.set(std::time::Duration::ZERO));
        let (served, loaded) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for dir in [served.path(), loaded.path()] {
            tree(dir);
            fs::remove_file(dir.join("b/d/f.yaml")).unwrap();
        }
        let cache_file = |dir: &Path| dir.join(crate::parsed_cache::CACHE_FILE);
        let folder = Folder::open_to_serve(served.path());
        let (recordings, keys, _) = folder.load_keyed().unwrap();
        assert_eq!(keys.map(|k| k.len()), Some(recordings.len()));
        assert!(
            !cache_file(served.path()).exists(),
            "the load wrote the cache"
        );
        folder.write_cache_later(&recordings);
        let written = fs::read(cache_file(served.path())).expect("the cache, written later");
        // Written once: a second call finds nothing left to write.
        fs::remove_file(cache_file(served.path())).unwrap();
        folder.write_cache_later(&recordings);
        assert!(!cache_file(served.path()).exists());
        fs::write(cache_file(served.path()), &written).unwrap();
        // The same cache as a load that writes it itself, but for the folder's own name.
        let (_, _) = Folder::open_to_load(loaded.path()).load().unwrap();
        let rest = |bytes: &[u8], dir: &Path| {
            String::from_utf8_lossy(bytes).replace(&dir.display().to_string(), "DIR")
        };
        let entries = |text: String| {
            text.lines()
                .skip(1)
                .map(|l| {
                    // Each entry's line: length, times, inode, JSON length, path; the inodes differ.
                    let f: Vec<&str> = l.splitn(6, ' ').collect();
                    if f.len() == 6 {
                        format!("{} {} {}", f[0], f[4], f[5])
                    } else {
                        l.to_owned()
                    }
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            entries(rest(&written, served.path())),
            entries(rest(
                &fs::read(cache_file(loaded.path())).unwrap(),
                loaded.path()
            )),
        );
        // And the next start takes every recording from it.
        let again = Folder::open(served.path());
        assert!(again.unchanged().is_some(), "{again:?}");
        let (cached, _) = again.load().unwrap();
        assert_eq!(format!("{cached:?}"), format!("{recordings:?}"));
    }

    /// A folder opened to serve that does not load whole starts no server: what it read is
    /// cached at once, as by any other load, for the start after the fix.
    #[test]
    fn a_folder_opened_to_serve_that_does_not_load_caches_what_it_read_at_once() {
        crate::parsed_cache::RACY_IN_TESTS.with(|r| r.set(std::time::Duration::ZERO));
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path());
        assert!(Folder::open_to_serve(dir.path()).load_keyed().is_err());
        let cache = Cache::read(dir.path(), "recordings");
        assert_eq!(cache.len(), 44, "every recording but the broken one");
    }

    #[test]
    fn a_response_body_that_is_not_base64_is_refused_where_it_stands() {
        let dir = tempfile::tempdir().unwrap();
        let text = "provenance: modeled\nsource: s\nnote: n\nexchanges:\n  - request: { method: POST, path: / }\n    response:\n      status: 200\n      body_base64: 'not base64!'\n";
        fs::write(dir.path().join("a.yaml"), text).unwrap();
        let errors = Folder::open(dir.path()).load().unwrap_err().to_string();
        assert!(errors.contains("a.yaml:8:"), "{errors}");
        assert!(
            errors.contains("`body_base64` is not valid base64"),
            "{errors}"
        );
    }

    #[test]
    fn a_file_is_read_whole_with_the_stamp_of_what_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        let at = open_folder(dir.path());
        assert!(at.is_some() || cfg!(not(unix)));
        for at in [None, at.as_deref()] {
            for text in ["", "x", "provenance: modeled\nnote: é\n"] {
                fs::write(&path, text).unwrap();
                let (read, stamp) = read_file_in(at, &path).unwrap();
                assert_eq!(read, text);
                assert_eq!(stamp, Stamp::of(&fs::metadata(&path).unwrap()));
            }
            fs::write(&path, b"note: \xff\n").unwrap();
            let e = read_file_in(at, &path).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
            assert_eq!(e.to_string(), "stream did not contain valid UTF-8");
        }
    }

    /// A file of an open folder is opened relative to it: by its name alone, which still finds
    /// it when the folder's path no longer does.
    #[cfg(unix)]
    #[test]
    fn a_file_is_opened_relative_to_its_open_folder() {
        let dir = tempfile::tempdir().unwrap();
        let (before, after) = (dir.path().join("before"), dir.path().join("after"));
        fs::create_dir(&before).unwrap();
        fs::write(before.join("a.yaml"), "x").unwrap();
        let at = open_folder(&before).expect("an open folder");
        fs::rename(&before, &after).unwrap();
        let path = before.join("a.yaml");
        assert_eq!(read_file_in(Some(&at), &path).unwrap().0, "x");
        let e = read_file_in(None, &path).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn a_recording_written_later_is_whole_and_in_place_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc/Op/a.yaml");
        fs::create_dir_all(dir.path().join("svc/Op")).unwrap();
        fs::write(
            &path,
            "provenance: modeled\nsource: s\nnote: n\nexchanges:\n  - request: { method: POST, path: / }\n    response: { status: 200, body: '{}' }\n",
        )
        .unwrap();
        let recording = load_recording(&path).unwrap();
        let syncer = Syncer::new(dir.path());
        let copy = dir.path().join("svc/Op/b.yaml");
        write_recording_later(&copy, &recording, &syncer).unwrap();
        // Readable before any sync, with no temporary file left beside it.
        let read = load_recording(&copy).unwrap();
        assert_eq!(read.source, "s");
        let left: Vec<_> = fs::read_dir(dir.path().join("svc/Op"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
        // Only where nothing is yet: a file already there is left as it is.
        let before = fs::read_to_string(&copy).unwrap();
        let mut other = recording.clone();
        other.source = "another".into();
        assert_eq!(
            create_recording_later(&copy, &other, &syncer).unwrap(),
            Created::Exists
        );
        assert_eq!(fs::read_to_string(&copy).unwrap(), before);
        // A new file, in folders that are not there yet, whole and alone.
        let fresh = dir.path().join("svc/New/c.yaml");
        assert_eq!(
            create_recording_later(&fresh, &other, &syncer).unwrap(),
            Created::Created
        );
        assert_eq!(load_recording(&fresh).unwrap().source, "another");
        let left: Vec<_> = fs::read_dir(dir.path().join("svc/New"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, ["c.yaml"]);
        syncer.flush();
        // Dropping it stops its thread (and syncs what is left).
        write_recording_later(&copy, &recording, &syncer).unwrap();
        drop(syncer);
        assert!(load_recording(&copy).is_ok());
    }
}
