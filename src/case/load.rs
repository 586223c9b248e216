//! Reading case files and `suite.yaml` settings into a checked `Suite`.
//!
//! Every file is read and checked, and every error in every file is collected, before the
//! caller gets either a suite or the errors: no case runs from a suite with a broken file.
//! This module owns the YAML crate (serde_yaml_ng, the maintained fork of the archived
//! serde_yaml); nothing else in conform knows which one is used.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use serde_json::Value;

use crate::parsed_cache::{Cache, Stamp};

use super::error::{CaseError, LoadErrors, did_you_mean};
use super::locate::locate;
use super::model::*;
use crate::matching::{
    BodyExpect, ErrorExpect, MessageExpect, Mode, Pattern, Seg, StartExpect, StatusSpec, describe,
};
use crate::vars::Vars;

/// The file that holds settings for every case in its folder and below.
pub const SUITE_FILE: &str = "suite.yaml";

pub const DEFAULT_CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Loads every case file under `paths` (files or folders; folders are searched for `*.yaml`
/// and `*.yml`, `suite.yaml` excepted). `extra_vars` are the values the command line gives,
/// which count as defined when checking variables.
pub fn load_suite(paths: &[PathBuf], extra_vars: &Vars) -> Result<Suite, LoadErrors> {
    let mut errors = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, &mut files, &mut errors, &mut HashSet::new());
    }
    // One folder's walk is in path order already (`collect_files` sorts each folder); checking
    // that is a tenth of sorting again.
    if !files.is_sorted() {
        files.sort();
    }
    files.dedup();

    let mut settings = SettingsCache::default();
    // Files of one folder are neighbours: their folder's settings are looked up once.
    let mut last: Option<(&Path, std::sync::Arc<Defaults>)> = None;
    let defaults: Vec<std::sync::Arc<Defaults>> = files
        .iter()
        .map(|file| {
            let dir = file.parent().unwrap_or(Path::new(""));
            match &last {
                Some((d, defaults)) if d.as_os_str() == dir.as_os_str() => defaults.clone(),
                _ => {
                    let defaults = settings.for_file(file, &mut errors);
                    last = Some((dir, defaults.clone()));
                    defaults
                }
            }
        })
        .collect();
    // One folder given (the usual `cases/`): its parsed cache (`parsed_cache`) holds what each
    // file parsed to when it last changed.
    let cache_dir = match paths {
        [one] if one.is_dir() => Some(one.as_path()),
        _ => None,
    };
    let cache = cache_dir.map(|d| Cache::read(d, "cases"));
    let cache = cache.as_ref();
    // Reading and checking case files is most of a large suite's start, and each file is
    // independent: load them on every core, then keep the results in file order.
    // A converted case is taken from the cache only under the settings it was converted with.
    let mut fingerprints: HashMap<*const Defaults, u64> = HashMap::new();
    let with_defaults: Vec<(&PathBuf, &Defaults, u64)> = files
        .iter()
        .zip(defaults.iter().map(|d| &**d))
        .map(|(file, d)| {
            let fingerprint = *fingerprints
                .entry(std::ptr::from_ref(d))
                .or_insert_with(|| fingerprint(d, extra_vars));
            (file, d, fingerprint)
        })
        .collect();
    let read: Vec<ReadCase<'_>> =
        crate::parallel::map_in_order(&with_defaults, |&(file, defaults, fingerprint)| {
            read_case(file, defaults, extra_vars, fingerprint, cache)
        });
    if let (Some(dir), Some(cache)) = (cache_dir, cache) {
        let hits = read.iter().filter(|r| r.cached.is_some()).count();
        if cache.writes() && (hits < files.len() || hits < cache.len()) {
            let good: Vec<(&Path, &[u8], &Stamp)> = files
                .iter()
                .zip(&read)
                .filter_map(|(file, r)| {
                    let raw = r
                        .cached
                        .or(r.fresh.as_deref().map(|f| f.get().as_bytes()))?;
                    Some((file.as_path(), raw, r.stamp.as_ref()?))
                })
                .collect();
            crate::parsed_cache::write(dir, "cases", &good);
        }
    }
    let loaded: Vec<Result<Case, Vec<CaseError>>> = read.into_iter().map(|r| r.result).collect();
    let mut suite = Suite::default();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for (file, loaded) in files.into_iter().zip(loaded) {
        match loaded {
            Ok(case) => {
                if let Some(first) = seen.get(&case.name) {
                    let source = fs::read_to_string(&file).unwrap_or_default();
                    errors.push(CaseError::at(
                        &file,
                        &source,
                        locate(&source, &[Seg::Key("name".into())]),
                        format!(
                            "invalid case: the name `{}` is already used by {}",
                            case.name,
                            first.display()
                        ),
                        Some("case names must be unique in a suite".into()),
                    ));
                } else {
                    seen.insert(case.name.clone(), file.clone());
                    suite.cases.push(case);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if suite.cases.is_empty() && errors.is_empty() {
        let shown: Vec<_> = paths.iter().map(|p| p.display().to_string()).collect();
        errors.push(CaseError::whole_file(
            shown.join(", "),
            "no case files found (looked for *.yaml and *.yml)",
        ));
    }
    if errors.is_empty() {
        Ok(suite)
    } else {
        Err(LoadErrors(errors))
    }
}

fn collect_files(
    path: &Path,
    files: &mut Vec<PathBuf>,
    errors: &mut Vec<CaseError>,
    seen: &mut HashSet<PathBuf>,
) {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            errors.push(CaseError::whole_file(path, format!("cannot read: {e}")));
            return;
        }
    };
    if meta.is_file() {
        files.push(path.to_owned());
        return;
    }
    // A folder reached twice (a symlink back up the tree) is read once: no duplicate cases,
    // no endless walk.
    if !seen.insert(fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())) {
        return;
    }
    let entries = match fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => {
            errors.push(CaseError::whole_file(
                path,
                format!("cannot read folder: {e}"),
            ));
            return;
        }
    };
    // The entry's own type needs no look-up of its own on most file systems; a symlink is
    // followed to see what it points at.
    let mut children: Vec<(std::ffi::OsString, PathBuf, bool)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let path = e.path();
            let is_dir = match e.file_type() {
                Ok(t) if !t.is_symlink() => t.is_dir(),
                _ => path.is_dir(),
            };
            Some((e.file_name(), path, is_dir))
        })
        .collect();
    // By name: the order of their paths (they share the folder), without comparing paths.
    children.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (_, child, is_dir) in children {
        if is_dir {
            collect_files(&child, files, errors, seen);
        } else if is_case_file(&child) {
            files.push(child);
        }
    }
}

fn is_case_file(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str());
    let name = path.file_name().and_then(|n| n.to_str());
    // A ledger of known divergences sits beside a suite.yaml and is no case (crate::ledger).
    matches!(ext, Some("yaml" | "yml"))
        && name != Some(SUITE_FILE)
        && name != Some(crate::ledger::LEDGER_FILE)
}

/// Settings merged from the `suite.yaml` files above a case file.
#[derive(Clone, Debug, Default)]
struct Defaults {
    target_prefix: Option<String>,
    /// Shared with every case that adds no variables of its own.
    vars: std::sync::Arc<Vars>,
    /// The service model a `suite.yaml` names (`model:`), loaded once per file.
    model: Option<std::sync::Arc<crate::model::Model>>,
}

#[derive(Default)]
struct SettingsCache {
    /// Shared by every file of the folder: a suite's defaults are not copied per case.
    by_dir: HashMap<PathBuf, std::sync::Arc<Defaults>>,
    reported: HashSet<PathBuf>,
    models: HashMap<PathBuf, std::sync::Arc<crate::model::Model>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    target_prefix: Option<String>,
    /// A service model, relative to the suite.yaml: every response is validated against it.
    model: Option<PathBuf>,
    #[serde(default)]
    vars: BTreeMap<String, Value>,
}

impl SettingsCache {
    fn for_file(&mut self, file: &Path, errors: &mut Vec<CaseError>) -> std::sync::Arc<Defaults> {
        let dir = file.parent().unwrap_or(Path::new("")).to_owned();
        self.for_dir(&dir, errors)
    }

    fn for_dir(&mut self, dir: &Path, errors: &mut Vec<CaseError>) -> std::sync::Arc<Defaults> {
        if let Some(d) = self.by_dir.get(dir) {
            return d.clone();
        }
        // Settings of the parent first, then this folder's own on top. Stops at the file
        // system root, or at the working directory when the path is relative.
        let mut defaults = match dir.parent() {
            Some(parent) if !dir.as_os_str().is_empty() && dir != Path::new("/") => {
                Defaults::clone(&self.for_dir(parent, errors))
            }
            _ => Defaults::default(),
        };
        let file = dir.join(SUITE_FILE);
        if file.is_file() {
            match read_suite_file(&file) {
                Ok(raw) => {
                    if raw.target_prefix.is_some() {
                        defaults.target_prefix = raw.target_prefix;
                    }
                    std::sync::Arc::make_mut(&mut defaults.vars).extend(raw.vars);
                    if let Some(model) = raw.model {
                        defaults.model = self.model(&file, &dir.join(model), errors);
                    }
                }
                Err(e) => {
                    if self.reported.insert(file.clone()) {
                        errors.extend(e);
                    }
                }
            }
        }
        let defaults = std::sync::Arc::new(defaults);
        self.by_dir.insert(dir.to_owned(), defaults.clone());
        defaults
    }
}

impl SettingsCache {
    /// The model a suite.yaml names, loaded once; a model that does not load is an error
    /// located at the suite.yaml's `model:` key.
    fn model(
        &mut self,
        suite_file: &Path,
        path: &Path,
        errors: &mut Vec<CaseError>,
    ) -> Option<std::sync::Arc<crate::model::Model>> {
        if let Some(m) = self.models.get(path) {
            return Some(m.clone());
        }
        match crate::model::load_model(path) {
            Ok(m) => {
                let m = std::sync::Arc::new(m);
                self.models.insert(path.to_owned(), m.clone());
                Some(m)
            }
            Err(e) => {
                let source = fs::read_to_string(suite_file).unwrap_or_default();
                errors.push(CaseError::at(
                    suite_file,
                    &source,
                    locate(&source, &[Seg::Key("model".into())]),
                    format!("invalid suite: the model does not load: {e}"),
                    None,
                ));
                None
            }
        }
    }
}

struct SuiteFile {
    target_prefix: Option<String>,
    model: Option<PathBuf>,
    vars: Vars,
}

fn read_suite_file(file: &Path) -> Result<SuiteFile, Vec<CaseError>> {
    let source = fs::read_to_string(file)
        .map_err(|e| vec![CaseError::whole_file(file, format!("cannot read: {e}"))])?;
    let raw: RawSuite = crate::yaml::parse(file, &source, "case").map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let vars = convert_vars(
        &raw.vars,
        &[Seg::Key("vars".into())],
        file,
        &source,
        &mut errors,
    );
    if errors.is_empty() {
        Ok(SuiteFile {
            target_prefix: raw.target_prefix,
            model: raw.model,
            vars,
        })
    } else {
        Err(errors)
    }
}

// ---- The raw shapes of a case file (what serde reads) ----

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    description: Option<String>,
    source: String,
    provenance: Provenance,
    why: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    covers: Vec<String>,
    #[serde(default)]
    skip: BTreeMap<TargetKind, String>,
    #[serde(default)]
    vars: BTreeMap<String, Value>,
    request: Option<RawRequest>,
    expect: Option<RawExpect>,
    guess: Option<RawGuess>,
    capture: Option<BTreeMap<String, String>>,
    steps: Option<Vec<RawStep>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: Option<String>,
    #[serde(default)]
    request: RawRequest,
    expect: RawExpect,
    guess: Option<RawGuess>,
    #[serde(default)]
    capture: BTreeMap<String, String>,
}

/// `guess:`: an expectation (or `any_of`) no source settles, with the reason.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuess {
    why: Option<String>,
    source: Option<String>,
    any_of: Option<Vec<RawAlternative>>,
    status: Option<RawStatus>,
    #[serde(default)]
    headers: BTreeMap<String, Value>,
    #[serde(default)]
    absent_headers: Vec<String>,
    body: Option<Value>,
    body_includes: Option<Value>,
    error: Option<serde_json::Map<String, Value>>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    operation: Option<String>,
    method: Option<String>,
    path: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    remove_headers: Vec<String>,
    body: Option<Value>,
    raw_body: Option<String>,
    raw_body_base64: Option<String>,
    raw_body_fill: Option<RawFill>,
    #[serde(default)]
    signature: SignatureMode,
}

/// `raw_body_fill: { byte: "a", length: 10485761 }`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFill {
    byte: Value,
    length: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    any_of: Option<Vec<RawAlternative>>,
    status: Option<RawStatus>,
    #[serde(default)]
    headers: BTreeMap<String, Value>,
    #[serde(default)]
    absent_headers: Vec<String>,
    body: Option<Value>,
    body_includes: Option<Value>,
    error: Option<serde_json::Map<String, Value>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlternative {
    status: Option<RawStatus>,
    #[serde(default)]
    headers: BTreeMap<String, Value>,
    #[serde(default)]
    absent_headers: Vec<String>,
    body: Option<Value>,
    body_includes: Option<Value>,
    error: Option<serde_json::Map<String, Value>>,
}

/// `200`, `4xx`, `[400, 503]`, or `[{code: 503, source: ...}, ...]`.
struct RawStatus(Vec<(StatusSpec, Option<String>)>);

/// Written (for the parsed cache, `crate::parsed_cache`) as a list its own `Deserialize`
/// reads back: each item a code (`200`), a class (`"4xx"`) or `{code, source}`.
impl Serialize for RawStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Code(StatusSpec);
        impl Serialize for Code {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self.0 {
                    StatusSpec::Code(c) => s.serialize_u16(c),
                    class => s.serialize_str(&class.to_string()),
                }
            }
        }
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (spec, source) in &self.0 {
            match source {
                None => seq.serialize_element(&Code(*spec))?,
                Some(source) => {
                    struct WithSource<'a>(StatusSpec, &'a str);
                    impl Serialize for WithSource<'_> {
                        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                            let mut map = s.serialize_map(Some(2))?;
                            map.serialize_entry("code", &Code(self.0))?;
                            map.serialize_entry("source", self.1)?;
                            map.end()
                        }
                    }
                    seq.serialize_element(&WithSource(*spec, source))?;
                }
            }
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for RawStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const WHAT: &str = "an integer HTTP status (like 200) or a class (4xx, 5xx), a list of them, or a list of {code, source}";
        impl<'de> Visitor<'de> for V {
            type Value = RawStatus;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(WHAT)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawStatus, E> {
                Ok(RawStatus(vec![(StatusSpec::Code(code::<E>(v)?), None)]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawStatus, E> {
                Err(E::custom(format!("{v} is not an HTTP status (100 to 599)")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawStatus, E> {
                Ok(RawStatus(vec![(status_text::<E>(v)?, None)]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<RawStatus, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<StatusItem>()? {
                    out.push((item.code, item.source));
                }
                if out.is_empty() {
                    return Err(de::Error::custom("expected at least one status"));
                }
                Ok(RawStatus(out))
            }
        }
        d.deserialize_any(V)
    }
}

struct StatusItem {
    code: StatusSpec,
    source: Option<String>,
}

/// A status written as text: a class like `4xx`, or a clear error.
fn status_text<E: de::Error>(v: &str) -> Result<StatusSpec, E> {
    if let Some(class) = StatusSpec::parse_class(v) {
        return Ok(class);
    }
    let t = v.trim();
    if let Ok(n) = t.parse::<u64>() {
        return Err(E::custom(format!(
            "expected an integer HTTP status, found the string {v:?} (write {n} without quotes)"
        )));
    }
    // `4yy`, `4XY`, `40x`: a class misspelt; suggest the class of its first digit.
    let hint = match t.as_bytes().first() {
        Some(d @ b'1'..=b'5') if t.len() == 3 => format!(" (did you mean {}xx?)", *d as char),
        _ => String::new(),
    };
    Err(E::custom(format!(
        "expected an integer HTTP status (like 200) or a status class (4xx, 5xx), found {v:?}{hint}"
    )))
}

/// `503` or `5xx`, for `{code, source}`.
struct CodeOrClass(StatusSpec);

impl<'de> Deserialize<'de> for CodeOrClass {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = CodeOrClass;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an integer HTTP status (like 200) or a class (4xx, 5xx)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CodeOrClass, E> {
                Ok(CodeOrClass(StatusSpec::Code(code::<E>(v)?)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CodeOrClass, E> {
                Err(E::custom(format!("{v} is not an HTTP status (100 to 599)")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CodeOrClass, E> {
                status_text::<E>(v).map(CodeOrClass)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for StatusItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct WithSource {
            code: CodeOrClass,
            source: String,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusItem;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an integer HTTP status or {code, source}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusItem, E> {
                Ok(StatusItem {
                    code: StatusSpec::Code(code::<E>(v)?),
                    source: None,
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusItem, E> {
                Ok(StatusItem {
                    code: status_text::<E>(v)?,
                    source: None,
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<StatusItem, A::Error> {
                let w = WithSource::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(StatusItem {
                    code: w.code.0,
                    source: Some(w.source),
                })
            }
        }
        d.deserialize_any(V)
    }
}

fn code<E: de::Error>(v: u64) -> Result<u16, E> {
    if (100..=599).contains(&v) {
        Ok(v as u16)
    } else {
        Err(E::custom(format!("{v} is not an HTTP status (100 to 599)")))
    }
}

// ---- From raw to checked ----

struct Ctx<'a> {
    file: &'a Path,
    source: &'a str,
    errors: Vec<CaseError>,
}

impl Ctx<'_> {
    fn error(&mut self, path: &[Seg], message: impl Into<String>, hint: Option<String>) {
        let at = locate(self.source, path);
        self.errors.push(CaseError::at(
            self.file,
            self.source,
            at,
            format!("invalid case: {}", message.into()),
            hint,
        ));
    }
}

fn key(parent: &[Seg], k: &str) -> Vec<Seg> {
    let mut p = parent.to_vec();
    p.push(Seg::Key(k.to_owned()));
    p
}

/// One case file as the loader read it: its case (or errors), its stamp, and what the parsed
/// cache holds for it (`cached`: taken from the cache; `fresh`: parsed now, to be cached).
struct ReadCase<'a> {
    result: Result<Case, Vec<CaseError>>,
    stamp: Option<Stamp>,
    cached: Option<&'a [u8]>,
    fresh: Option<Box<serde_json::value::RawValue>>,
}

fn read_case<'a>(
    file: &Path,
    defaults: &Defaults,
    extra_vars: &Vars,
    fingerprint: u64,
    cache: Option<&'a Cache>,
) -> ReadCase<'a> {
    let stamp = fs::metadata(file).ok().map(|m| Stamp::of(&m));
    // The case as converted when the file last changed, if that was under these settings.
    if let Some((cached, json)) = cache
        .zip(stamp.as_ref())
        .and_then(|(c, s)| c.get::<CachedCase>(file, s))
        && cached.fingerprint == fingerprint
    {
        return ReadCase {
            result: Ok(cached.into_case(file, defaults)),
            stamp,
            cached: Some(json),
            fresh: None,
        };
    }
    let (result, fresh) = match fs::read_to_string(file) {
        Err(e) => (
            Err(vec![CaseError::whole_file(
                file,
                format!("cannot read: {e}"),
            )]),
            None,
        ),
        Ok(source) => match crate::yaml::parse::<RawCase>(file, &source, "case") {
            Err(e) => (Err(vec![e]), None),
            Ok(raw) => match convert_case(file, &source, raw, defaults, extra_vars) {
                // Only a case without errors is cached: one with errors is read from its
                // file each time, so that they are located in its text.
                Ok((case, own_vars)) => {
                    let fresh = cache.filter(|c| c.writes()).and_then(|_| {
                        crate::parsed_cache::to_raw(&CachedCaseRef::of(
                            &case,
                            &own_vars,
                            fingerprint,
                        ))
                    });
                    (Ok(case), fresh)
                }
                Err(e) => (Err(e), None),
            },
        },
    };
    ReadCase {
        result,
        stamp,
        cached: None,
        fresh,
    }
}

/// What a case's conversion depends on besides its file: the target prefix, the model's
/// content type and target prefix, and which variables are defined (the suite's and the command
/// line's; their values are filled in only when a case runs).
fn fingerprint(defaults: &Defaults, extra_vars: &Vars) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    defaults.target_prefix.hash(&mut h);
    if let Some(model) = &defaults.model {
        model.service.content_type().hash(&mut h);
        model.service.target_prefix.hash(&mut h);
    }
    let names: BTreeSet<&String> = defaults.vars.keys().chain(extra_vars.keys()).collect();
    names.hash(&mut h);
    h.finish()
}

/// A converted case as the parsed cache keeps it (`parsed_cache`): everything `convert_case`
/// made of the file but what comes from elsewhere (the suite's variables and model, the path),
/// with the `fingerprint` of the settings it was converted under. Reading it back skips the
/// YAML's meaning being worked out again, which was half of a large suite's start.
#[derive(Serialize)]
struct CachedCaseRef<'a> {
    fingerprint: u64,
    own_vars: &'a Vars,
    name: &'a str,
    description: &'a Option<String>,
    source: &'a str,
    provenance: Provenance,
    why: &'a Option<String>,
    tags: &'a [String],
    covers: &'a [String],
    skip: &'a BTreeMap<TargetKind, String>,
    steps: &'a [Step],
}

impl<'a> CachedCaseRef<'a> {
    fn of(case: &'a Case, own_vars: &'a Vars, fingerprint: u64) -> Self {
        CachedCaseRef {
            fingerprint,
            own_vars,
            name: &case.name,
            description: &case.description,
            source: &case.source,
            provenance: case.provenance,
            why: &case.why,
            tags: &case.tags,
            covers: &case.covers,
            skip: &case.skip,
            steps: &case.steps,
        }
    }
}

/// `CachedCaseRef`, read back.
#[derive(Deserialize)]
struct CachedCase {
    fingerprint: u64,
    own_vars: Vars,
    name: String,
    description: Option<String>,
    source: String,
    provenance: Provenance,
    why: Option<String>,
    tags: Vec<String>,
    covers: Vec<String>,
    skip: BTreeMap<TargetKind, String>,
    #[serde(deserialize_with = "crate::matching::exact_vec")]
    steps: Vec<Step>,
}

impl CachedCase {
    fn into_case(self, file: &Path, defaults: &Defaults) -> Case {
        Case {
            name: self.name,
            description: self.description,
            source: self.source,
            provenance: self.provenance,
            why: self.why,
            tags: self.tags,
            covers: self.covers,
            skip: self.skip,
            vars: merged_vars(defaults, self.own_vars),
            steps: self.steps,
            file: file.to_owned(),
            model: defaults.model.clone(),
        }
    }
}

/// The suite's variables with a case's own on top; most cases add none and share the suite's
/// (a copy each was 2 KB a case).
fn merged_vars(defaults: &Defaults, own: Vars) -> std::sync::Arc<Vars> {
    if own.is_empty() {
        defaults.vars.clone()
    } else {
        let mut merged = Vars::clone(&defaults.vars);
        merged.extend(own);
        std::sync::Arc::new(merged)
    }
}

fn convert_case(
    file: &Path,
    source: &str,
    raw: RawCase,
    defaults: &Defaults,
    extra_vars: &Vars,
) -> Result<(Case, Vars), Vec<CaseError>> {
    let source = source.to_owned();
    let mut ctx = Ctx {
        file,
        source: &source,
        errors: Vec::new(),
    };

    if raw.name.trim().is_empty() {
        ctx.error(&[Seg::Key("name".into())], "`name` must not be empty", None);
    }
    if raw.source.trim().is_empty() {
        ctx.error(
            &[Seg::Key("source".into())],
            "`source` must say where the expectations come from",
            None,
        );
    }
    if raw.provenance == Provenance::Inferred
        && raw.why.as_deref().is_none_or(|w| w.trim().is_empty())
    {
        ctx.error(
            &[Seg::Key("provenance".into())],
            "an `inferred` case must say `why:` no source settles it",
            None,
        );
    }

    let own = convert_vars(
        &raw.vars,
        &[Seg::Key("vars".into())],
        file,
        &source,
        &mut ctx.errors,
    );
    let vars = merged_vars(defaults, own.clone());

    let operation_default = file
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_owned();

    // One step at the top level, or `steps:`.
    let raw_steps: Vec<(Vec<Seg>, RawStep)> = match raw.steps {
        Some(steps) => {
            if raw.request.is_some()
                || raw.expect.is_some()
                || raw.capture.is_some()
                || raw.guess.is_some()
            {
                ctx.error(
                    &[Seg::Key("steps".into())],
                    "`steps` cannot be combined with top-level `request`, `expect`, `guess` or `capture`",
                    Some("move them into a step".into()),
                );
            }
            if steps.is_empty() {
                ctx.error(&[Seg::Key("steps".into())], "`steps` is empty", None);
            }
            steps
                .into_iter()
                .enumerate()
                .map(|(i, s)| (vec![Seg::Key("steps".into()), Seg::Index(i)], s))
                .collect()
        }
        None => match raw.expect {
            Some(expect) => vec![(
                Vec::new(),
                RawStep {
                    name: None,
                    request: raw.request.unwrap_or_default(),
                    expect,
                    guess: raw.guess,
                    capture: raw.capture.unwrap_or_default(),
                },
            )],
            None => {
                ctx.error(
                    &[],
                    "a case needs `expect:` (or `steps:`, each with `expect:`)",
                    None,
                );
                Vec::new()
            }
        },
    };

    // Names defined so far: suite and case vars, the command line's, then captures.
    let mut known: HashSet<String> = vars
        .keys()
        .cloned()
        .chain(extra_vars.keys().cloned())
        .collect();
    let mut steps = Vec::with_capacity(raw_steps.len());
    for (at, raw_step) in raw_steps {
        let request = convert_request(
            &mut ctx,
            &key(&at, "request"),
            raw_step.request,
            defaults,
            &operation_default,
        );
        let expect = convert_expect(&mut ctx, &key(&at, "expect"), raw_step.expect);
        let guess = raw_step
            .guess
            .and_then(|g| convert_guess(&mut ctx, &key(&at, "guess"), g));
        if let Some(request) = &request {
            check_defined(&mut ctx, &known, request.var_names(), &key(&at, "request"));
        }
        for alt in &expect {
            check_defined(
                &mut ctx,
                &known,
                alt.expect.var_names(),
                &key(&at, "expect"),
            );
        }
        for alt in guess.iter().flat_map(|g| &g.expect) {
            check_defined(&mut ctx, &known, alt.expect.var_names(), &key(&at, "guess"));
        }
        let mut capture = Vec::new();
        for (name, expression) in raw_step.capture {
            let here = key(&key(&at, "capture"), &name);
            match parse_capture(&expression) {
                Ok(from) => {
                    known.insert(name.clone());
                    capture.push(Capture {
                        name,
                        from,
                        expression,
                    });
                }
                Err(m) => ctx.error(
                    &here,
                    m,
                    Some("write `$.member.list[0]` or `header:name`".into()),
                ),
            }
        }
        if let Some(request) = request {
            steps.push(Step {
                name: raw_step.name,
                request,
                expect,
                guess,
                capture,
            });
        }
    }

    if ctx.errors.is_empty() {
        let case = Case {
            name: raw.name,
            description: raw.description,
            source: raw.source,
            provenance: raw.provenance,
            why: raw.why,
            tags: raw.tags,
            covers: raw.covers,
            skip: raw.skip,
            vars,
            steps,
            file: file.to_owned(),
            model: defaults.model.clone(),
        };
        Ok((case, own))
    } else {
        Err(ctx.errors)
    }
}

fn convert_vars(
    raw: &BTreeMap<String, Value>,
    at: &[Seg],
    file: &Path,
    source: &str,
    errors: &mut Vec<CaseError>,
) -> Vars {
    let mut vars = Vars::new();
    for (name, value) in raw {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                errors.push(CaseError::at(
                    file,
                    source,
                    locate(source, &key(at, name)),
                    format!("invalid case: variable `{name}` must be a string, number or boolean, found {}", describe(other)),
                    None,
                ));
                continue;
            }
        };
        vars.insert(name.clone(), text);
    }
    vars
}

fn check_defined(ctx: &mut Ctx<'_>, known: &HashSet<String>, used: Vec<String>, at: &[Seg]) {
    let mut reported = HashSet::new();
    for name in used {
        if !known.contains(&name) && reported.insert(name.clone()) {
            // Point at the first place the variable is written, if we can find it.
            let needle = format!("{{{{{name}}}}}");
            let location = ctx
                .source
                .lines()
                .enumerate()
                .find_map(|(i, l)| l.find(&needle).map(|c| (i + 1, l[..c].chars().count() + 1)))
                .unwrap_or_else(|| locate(ctx.source, at));
            let hint = did_you_mean(&name, known.iter().map(String::as_str)).or_else(|| {
                Some("define it in suite.yaml or the case's `vars:`, or pass --var".into())
            });
            ctx.errors.push(CaseError::at(
                ctx.file,
                ctx.source,
                location,
                format!("invalid case: undefined variable `{name}`"),
                hint,
            ));
        }
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn convert_request(
    ctx: &mut Ctx<'_>,
    at: &[Seg],
    raw: RawRequest,
    defaults: &Defaults,
    operation_default: &str,
) -> Option<RequestTemplate> {
    let errors_before = ctx.errors.len();
    let operation = raw
        .operation
        .unwrap_or_else(|| operation_default.to_owned());
    let method = raw.method.unwrap_or_else(|| "POST".into());
    if !is_token(&method) && !crate::vars::has_vars(&method) {
        ctx.error(
            &key(at, "method"),
            format!("`{method}` is not an HTTP method"),
            None,
        );
    }
    let path = raw.path.unwrap_or_else(|| "/".into());
    if !path.starts_with('/') && !crate::vars::has_vars(&path) {
        ctx.error(
            &key(at, "path"),
            format!("a request path must start with `/`, found {path:?}"),
            None,
        );
    }

    // The suite's model, when it names one, gives the content type (awsJson 1.0 or 1.1) and
    // the target prefix a suite.yaml does not set.
    let content_type = defaults
        .model
        .as_ref()
        .map_or(DEFAULT_CONTENT_TYPE, |m| m.service.content_type());
    let mut headers: Vec<(String, String)> = vec![("content-type".into(), content_type.into())];
    let sets_target = raw
        .headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("x-amz-target"));
    let removes_target = raw
        .remove_headers
        .iter()
        .any(|k| k.eq_ignore_ascii_case("x-amz-target"));
    if !sets_target && !removes_target {
        let model_prefix = defaults.model.as_ref().map(|m| &m.service.target_prefix);
        match defaults.target_prefix.as_ref().or(model_prefix) {
            Some(prefix) => headers.push(("x-amz-target".into(), format!("{prefix}.{operation}"))),
            None => ctx.error(
                at,
                "no `target_prefix` for the X-Amz-Target header",
                Some("add `target_prefix: <the service's target prefix>` to a suite.yaml above the case (`conform model check MODEL` shows it), or set the header".into()),
            ),
        }
    }
    for (name, value) in raw.headers {
        if !is_token(&name) {
            ctx.error(
                &key(&key(at, "headers"), &name),
                format!("`{name}` is not a valid header name"),
                None,
            );
            continue;
        }
        let name = name.to_ascii_lowercase();
        headers.retain(|(n, _)| *n != name);
        headers.push((name, value));
    }
    for (i, name) in raw.remove_headers.iter().enumerate() {
        let before = headers.len();
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        let is_default = ["content-type", "x-amz-target"]
            .iter()
            .any(|d| d.eq_ignore_ascii_case(name));
        if before == headers.len() && !is_default {
            let mut here = key(at, "remove_headers");
            here.push(Seg::Index(i));
            ctx.error(
                &here,
                format!("`{name}` is not a header conform sends by default"),
                did_you_mean(name, ["content-type", "x-amz-target"]),
            );
        }
    }

    let given: Vec<&str> = [
        ("body", raw.body.is_some()),
        ("raw_body", raw.raw_body.is_some()),
        ("raw_body_base64", raw.raw_body_base64.is_some()),
        ("raw_body_fill", raw.raw_body_fill.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    let body = if given.len() > 1 {
        ctx.error(
            &key(at, given[1]),
            format!(
                "give one of `body`, `raw_body`, `raw_body_base64`, `raw_body_fill`, not {}",
                given
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            None,
        );
        BodyTemplate::Raw(String::new())
    } else if let Some(v) = raw.body {
        BodyTemplate::Json(v)
    } else if let Some(s) = raw.raw_body {
        BodyTemplate::Raw(s)
    } else if let Some(b64) = raw.raw_body_base64 {
        use base64::Engine as _;
        // Whitespace is allowed so that a long value can be folded over lines in YAML.
        let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
        match base64::engine::general_purpose::STANDARD.decode(compact) {
            Ok(bytes) => BodyTemplate::Bytes(bytes),
            Err(e) => {
                ctx.error(
                    &key(at, "raw_body_base64"),
                    format!("`raw_body_base64` is not valid base64: {e}"),
                    Some(
                        "standard alphabet with `=` padding, e.g. `/w==` for the byte 0xFF".into(),
                    ),
                );
                BodyTemplate::Bytes(Vec::new())
            }
        }
    } else if let Some(fill) = raw.raw_body_fill {
        let byte = match &fill.byte {
            Value::String(s) if s.len() == 1 => Some(s.as_bytes()[0]),
            Value::Number(n) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
            _ => None,
        };
        match byte {
            Some(byte) => BodyTemplate::Fill {
                byte,
                length: fill.length,
            },
            None => {
                ctx.error(
                    &key(&key(at, "raw_body_fill"), "byte"),
                    format!(
                        "`byte` must be one ASCII character or an integer 0 to 255, found {}",
                        describe(&fill.byte)
                    ),
                    None,
                );
                BodyTemplate::Bytes(Vec::new())
            }
        }
    } else {
        BodyTemplate::Json(Value::Object(Default::default()))
    };
    (ctx.errors.len() == errors_before).then_some(RequestTemplate {
        method,
        path,
        headers,
        body,
        signature: raw.signature,
    })
}

fn convert_expect(ctx: &mut Ctx<'_>, at: &[Seg], raw: RawExpect) -> Vec<Alternative> {
    let single = RawAlternative {
        status: raw.status,
        headers: raw.headers,
        absent_headers: raw.absent_headers,
        body: raw.body,
        body_includes: raw.body_includes,
        error: raw.error,
    };
    match raw.any_of {
        Some(alternatives) => {
            let has_single = single.status.is_some()
                || !single.headers.is_empty()
                || !single.absent_headers.is_empty()
                || single.body.is_some()
                || single.body_includes.is_some()
                || single.error.is_some();
            if has_single {
                ctx.error(
                    &key(at, "any_of"),
                    "`any_of` cannot be combined with other expectations beside it",
                    Some("put what every alternative shares into each alternative".into()),
                );
            }
            if alternatives.is_empty() {
                ctx.error(&key(at, "any_of"), "`any_of` is empty", None);
            }
            alternatives
                .into_iter()
                .enumerate()
                .filter_map(|(i, alt)| {
                    let mut here = key(at, "any_of");
                    here.push(Seg::Index(i));
                    convert_alternative(ctx, &here, alt)
                })
                .collect()
        }
        None => convert_alternative(ctx, at, single).into_iter().collect(),
    }
}

fn convert_guess(ctx: &mut Ctx<'_>, at: &[Seg], raw: RawGuess) -> Option<Guess> {
    let why = match raw.why {
        Some(w) if !w.trim().is_empty() => w,
        _ => {
            ctx.error(
                at,
                "a `guess` must say `why:` no source settles it",
                Some("add `why: ...` under `guess:`".into()),
            );
            String::new()
        }
    };
    let errors_before = ctx.errors.len();
    let expect = convert_expect(
        ctx,
        at,
        RawExpect {
            any_of: raw.any_of,
            status: raw.status,
            headers: raw.headers,
            absent_headers: raw.absent_headers,
            body: raw.body,
            body_includes: raw.body_includes,
            error: raw.error,
        },
    );
    let empty = expect.iter().all(|a| {
        let e = &a.expect;
        matches!(e.start, StartExpect::Any)
            && e.headers.is_empty()
            && e.absent_headers.is_empty()
            && e.body.is_none()
            && e.error.is_none()
    });
    if empty && ctx.errors.len() == errors_before {
        ctx.error(
            at,
            "a `guess` needs an expectation (status, headers, absent_headers, body, body_includes, error or any_of)",
            None,
        );
    }
    (ctx.errors.len() == errors_before).then_some(Guess {
        why,
        source: raw.source,
        expect,
    })
}

fn convert_alternative(ctx: &mut Ctx<'_>, at: &[Seg], raw: RawAlternative) -> Option<Alternative> {
    let errors_before = ctx.errors.len();
    let (codes, status_sources) = match raw.status {
        Some(RawStatus(items)) => {
            let codes = items.iter().map(|(c, _)| *c).collect();
            let sources = items
                .into_iter()
                .filter_map(|(c, s)| s.map(|s| (c, s)))
                .collect();
            (codes, sources)
        }
        None => (Vec::new(), Vec::new()),
    };
    let start = if codes.is_empty() {
        StartExpect::Any
    } else {
        StartExpect::Status(codes)
    };

    let parse = |ctx: &mut Ctx<'_>, here: Vec<Seg>, value: &Value| -> Option<Pattern> {
        match Pattern::parse(value) {
            Ok(p) => Some(p),
            Err(e) => {
                let mut full = here;
                full.extend(e.path);
                let hint = if e.message.starts_with("`matches` takes") {
                    Some(format!(
                        "named matchers: {}",
                        crate::matching::MATCHES_NAMES.join(", ")
                    ))
                } else {
                    None
                };
                ctx.error(&full, e.message, hint);
                None
            }
        }
    };

    let mut headers = Vec::new();
    for (name, value) in &raw.headers {
        if let Some(p) = parse(ctx, key(&key(at, "headers"), name), value) {
            headers.push((name.to_ascii_lowercase(), p));
        }
    }
    let absent_headers = raw
        .absent_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();

    let body = match (&raw.body, &raw.body_includes) {
        (Some(_), Some(_)) => {
            ctx.error(
                &key(at, "body_includes"),
                "give `body` or `body_includes`, not both",
                None,
            );
            None
        }
        (Some(v), None) => parse(ctx, key(at, "body"), v).map(|pattern| BodyExpect::Json {
            pattern,
            mode: Mode::Exact,
        }),
        (None, Some(v)) => {
            parse(ctx, key(at, "body_includes"), v).map(|pattern| BodyExpect::Json {
                pattern,
                mode: Mode::Partial,
            })
        }
        (None, None) => None,
    };

    let error = match raw.error {
        None => None,
        Some(map) => {
            let here = key(at, "error");
            let types = match map.get("type") {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(items))
                    if !items.is_empty() && items.iter().all(Value::is_string) =>
                {
                    items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                }
                Some(other) => {
                    ctx.error(
                        &key(&here, "type"),
                        format!(
                            "`error.type` must be an error shape name or a list of them, found {}",
                            describe(other)
                        ),
                        None,
                    );
                    Vec::new()
                }
                None => {
                    ctx.error(
                        &here,
                        "`error` needs `type:` (the error shape name, like NoSuchEntityException)",
                        None,
                    );
                    Vec::new()
                }
            };
            let mut members = Vec::new();
            for (name, value) in &map {
                if name == "type" {
                    continue;
                }
                if let Some(p) = parse(ctx, key(&here, name), value) {
                    members.push((name.clone(), p));
                }
            }
            Some(ErrorExpect { types, members })
        }
    };

    (ctx.errors.len() == errors_before).then(|| {
        let expect = MessageExpect {
            start,
            headers,
            absent_headers,
            body,
            error,
        };
        Alternative {
            uses_vars: !expect.var_names().is_empty(),
            expect,
            status_sources,
        }
    })
}

/// `$.a.b[0]` (or `$`) into the body, or `header:name`.
fn parse_capture(expression: &str) -> Result<CaptureFrom, String> {
    if let Some(name) = expression.strip_prefix("header:") {
        let name = name.trim();
        return if is_token(name) {
            Ok(CaptureFrom::Header(name.to_ascii_lowercase()))
        } else {
            Err(format!("`{name}` is not a header name"))
        };
    }
    let rest = expression
        .strip_prefix('$')
        .ok_or_else(|| format!("cannot read the capture `{expression}`"))?;
    let mut segs = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    name.push(c);
                    chars.next();
                }
                if name.is_empty() {
                    return Err(format!("empty member name in `{expression}`"));
                }
                segs.push(Seg::Key(name));
            }
            '[' => {
                let mut digits = String::new();
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    digits.push(c);
                }
                let i = digits
                    .trim()
                    .parse()
                    .map_err(|_| format!("`[{digits}]` is not a list index in `{expression}`"))?;
                segs.push(Seg::Index(i));
            }
            other => return Err(format!("unexpected `{other}` in `{expression}`")),
        }
    }
    Ok(CaptureFrom::Body(segs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_parse() {
        assert!(
            matches!(parse_capture("header:X-Amzn-RequestId"), Ok(CaptureFrom::Header(h)) if h == "x-amzn-requestid")
        );
        let Ok(CaptureFrom::Body(segs)) = parse_capture("$.agents[0].agentId") else {
            panic!()
        };
        assert_eq!(
            segs,
            vec![
                Seg::Key("agents".into()),
                Seg::Index(0),
                Seg::Key("agentId".into())
            ]
        );
        assert!(parse_capture("agents").is_err());
        assert!(parse_capture("$.a[x]").is_err());
    }

    /// Loads one case file (with a suite.yaml giving the target prefix) and returns the case
    /// or the rendered errors.
    #[test]
    fn a_cases_folder_is_read_through_its_parsed_cache() {
        crate::parsed_cache::RACY_IN_TESTS.with(|r| r.set(std::time::Duration::ZERO));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        let case = "name: first\nsource: s\nprovenance: modeled\nrequest: { headers: { x-amz-target: S.Op } }\nexpect: { status: 200 }\n";
        fs::write(&file, case).unwrap();
        let paths = [dir.path().to_owned()];
        let load = || {
            load_suite(&paths, &Vars::new()).unwrap().cases[0]
                .name
                .clone()
        };
        assert_eq!(load(), "first");
        let cache = dir.path().join(crate::parsed_cache::CACHE_FILE);
        let text = fs::read_to_string(&cache).unwrap();
        // The cache is what is read: a name changed in it shows.
        // (Of the same length: the cache's index gives each entry's length.)
        fs::write(&cache, text.replace("\"first\"", "\"cachd\"")).unwrap();
        assert_eq!(load(), "cachd");
        // A cached copy that does not read is read again from the file.
        fs::write(&cache, text.replace("\"first\"", "[first]")).unwrap();
        assert_eq!(load(), "first");
        // The file changes: parsed again.
        fs::write(&file, case.replace("first", "second one")).unwrap();
        assert_eq!(load(), "second one");
        // Other settings (a variable the command line defines): converted again, not taken
        // from the cache, whose copy was converted without it.
        let text = fs::read_to_string(&cache).unwrap();
        fs::write(&cache, text.replace("\"second one\"", "\"second two\"")).unwrap();
        assert_eq!(load(), "second two");
        let with_var: Vars = [("extra".to_owned(), "1".to_owned())].into();
        assert_eq!(
            load_suite(&paths, &with_var).unwrap().cases[0].name,
            "second one"
        );
    }

    /// Every case of the repository's suite, loaded through a warm cache, is the case its file
    /// converts to.
    #[test]
    fn a_cached_case_is_the_case_its_file_converts_to() {
        crate::parsed_cache::RACY_IN_TESTS.with(|r| r.set(std::time::Duration::ZERO));
        fn copy(from: &Path, to: &Path) {
            fs::create_dir_all(to).unwrap();
            for entry in fs::read_dir(from).unwrap() {
                let entry = entry.unwrap();
                let target = to.join(entry.file_name());
                if entry.file_type().unwrap().is_dir() {
                    copy(&entry.path(), &target);
                } else if entry.file_name() != crate::parsed_cache::CACHE_FILE {
                    fs::copy(entry.path(), &target).unwrap();
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        copy(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("cases"),
            dir.path(),
        );
        let paths = [dir.path().to_owned()];
        let shown = |case: &Case| {
            format!(
                "{} {:?} {} {} {:?} {:?} {:?} {:?} {:?} {:?} {} {}",
                case.name,
                case.description,
                case.source,
                case.provenance,
                case.why,
                case.tags,
                case.covers,
                case.skip,
                case.vars,
                case.steps,
                case.file.display(),
                case.model.is_some(),
            )
        };
        // Parsed from the files (and the cache written), then read through the cache.
        let fresh: Vec<String> = load_suite(&paths, &Vars::new())
            .unwrap()
            .cases
            .iter()
            .map(shown)
            .collect();
        let cache = fs::read_to_string(dir.path().join(crate::parsed_cache::CACHE_FILE)).unwrap();
        assert!(
            cache.contains("\"fingerprint\""),
            "no converted case cached"
        );
        let cached: Vec<String> = load_suite(&paths, &Vars::new())
            .unwrap()
            .cases
            .iter()
            .map(shown)
            .collect();
        assert!(fresh.len() > 900, "{}", fresh.len());
        assert_eq!(fresh.len(), cached.len());
        for (a, b) in fresh.iter().zip(&cached) {
            assert_eq!(a, b);
        }
    }

    fn load_one(yaml: &str) -> Result<Case, String> {
        let dir = tempfile::tempdir().unwrap();
        let op = dir.path().join("StartAssessmentRun");
        fs::create_dir(&op).unwrap();
        fs::write(
            dir.path().join(SUITE_FILE),
            "target_prefix: InspectorService\n",
        )
        .unwrap();
        let file = op.join("c.yaml");
        fs::write(&file, yaml).unwrap();
        load_suite(&[file], &Vars::new())
            .map(|mut s| s.cases.remove(0))
            .map_err(|e| e.to_string())
    }

    const HEAD: &str = "name: c\nsource: model\nprovenance: modeled\n";

    #[test]
    fn a_guess_loads_at_the_top_and_per_step() {
        let case = load_one(&format!(
            "{HEAD}expect:\n  status: 4xx\nguess:\n  why: no source names it\n  source: notes\n  any_of:\n    - {{ error: {{ type: ValidationException }} }}\n    - {{ status: 400 }}\n"
        ))
        .unwrap();
        let guess = case.steps[0].guess.as_ref().unwrap();
        assert_eq!(guess.why, "no source names it");
        assert_eq!(guess.source.as_deref(), Some("notes"));
        assert_eq!(guess.expect.len(), 2);
        assert!(matches!(
            &case.steps[0].expect[0].expect.start,
            StartExpect::Status(s) if s == &[StatusSpec::Class(4)]
        ));

        let case = load_one(&format!(
            "{HEAD}steps:\n  - expect: {{ status: 200 }}\n  - expect: {{ status: 200 }}\n    guess: {{ why: w, body_includes: {{ a: 1 }} }}\n"
        ))
        .unwrap();
        assert!(case.steps[0].guess.is_none());
        assert!(case.steps[1].guess.is_some());
    }

    #[test]
    fn a_guess_without_why_is_located() {
        let err = load_one(&format!(
            "{HEAD}expect:\n  status: 4xx\nguess:\n  status: 400\n"
        ))
        .unwrap_err();
        assert!(err.contains("a `guess` must say `why:`"), "{err}");
        assert!(err.contains("c.yaml:6:"), "{err}");
    }

    #[test]
    fn unknown_keys_in_a_guess_get_a_did_you_mean() {
        let err = load_one(&format!(
            "{HEAD}expect:\n  status: 4xx\nguess:\n  why: w\n  stauts: 400\n"
        ))
        .unwrap_err();
        assert!(err.contains("unknown field `stauts`"), "{err}");
        assert!(err.contains("did you mean `status`?"), "{err}");
        assert!(err.contains("c.yaml:8:"), "{err}");
    }

    #[test]
    fn an_empty_guess_or_one_beside_steps_is_an_error() {
        let err = load_one(&format!(
            "{HEAD}expect: {{ status: 200 }}\nguess: {{ why: w }}\n"
        ))
        .unwrap_err();
        assert!(err.contains("a `guess` needs an expectation"), "{err}");
        let err = load_one(&format!(
            "{HEAD}guess: {{ why: w, status: 400 }}\nsteps:\n  - expect: {{ status: 200 }}\n"
        ))
        .unwrap_err();
        assert!(err.contains("cannot be combined with top-level"), "{err}");
    }

    #[test]
    fn status_classes_and_their_errors() {
        let case = load_one(&format!(
            "{HEAD}expect:\n  status:\n    - {{ code: 5xx, source: model }}\n    - 400\n"
        ))
        .unwrap();
        let alt = &case.steps[0].expect[0];
        assert_eq!(
            alt.status_sources,
            [(StatusSpec::Class(5), "model".to_owned())]
        );
        assert!(matches!(
            &alt.expect.start,
            StartExpect::Status(s) if s == &[StatusSpec::Class(5), StatusSpec::Code(400)]
        ));

        let err = load_one(&format!("{HEAD}expect:\n  status: 4yy\n")).unwrap_err();
        assert!(err.contains("found \"4yy\" (did you mean 4xx?)"), "{err}");
        assert!(err.contains("c.yaml:5:11"), "{err}");
        let err = load_one(&format!("{HEAD}expect:\n  status: [200, 9xx]\n")).unwrap_err();
        assert!(
            err.contains("status class (4xx, 5xx), found \"9xx\""),
            "{err}"
        );
    }

    #[test]
    fn raw_bodies_as_base64_and_as_a_fill() {
        let case = load_one(&format!(
            "{HEAD}request:\n  raw_body_base64: eyJh\n    Ijoi/yJ9\nexpect: {{ status: 200 }}\n"
        ))
        .unwrap();
        let sent = case.steps[0].request.render(&Vars::new()).unwrap();
        assert_eq!(sent.body, b"{\"a\":\"\xFF\"}");

        let case = load_one(&format!(
            "{HEAD}request:\n  raw_body_fill: {{ byte: \"a\", length: 5 }}\nexpect: {{ status: 413 }}\n"
        ))
        .unwrap();
        assert_eq!(
            case.steps[0].request.render(&Vars::new()).unwrap().body,
            b"aaaaa"
        );

        let err = load_one(&format!(
            "{HEAD}request:\n  raw_body_base64: '***'\nexpect: {{ status: 200 }}\n"
        ))
        .unwrap_err();
        assert!(
            err.contains("`raw_body_base64` is not valid base64"),
            "{err}"
        );
        let err = load_one(&format!(
            "{HEAD}request:\n  raw_body_fill: {{ byte: \"ab\", length: 5 }}\nexpect: {{ status: 200 }}\n"
        ))
        .unwrap_err();
        assert!(err.contains("`byte` must be one ASCII character"), "{err}");
        let err = load_one(&format!(
            "{HEAD}request:\n  body: {{}}\n  raw_body_fill: {{ byte: 97, length: 5 }}\nexpect: {{ status: 200 }}\n"
        ))
        .unwrap_err();
        assert!(err.contains("not `body` and `raw_body_fill`"), "{err}");
        assert!(err.contains("c.yaml:6:"), "{err}");
    }
}
