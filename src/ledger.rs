//! The ledger of known divergences: `known-divergences.yaml` beside a suite (or `--ledger
//! FILE`) lists the cases, and optionally the mismatch paths, an endpoint is known to get wrong,
//! each with why. A listed divergence does not fail the run; a new one does; a listed one that
//! no longer occurs fails too ("remove it from the ledger"), so the ledger never goes stale (as
//! smithy-rs treats its expected failures and LocalStack its skipped snapshot paths).
//!
//! Loading checks a ledger like a case file (unknown keys, unknown cases, malformed paths,
//! missing `why`) with `path:line:column`, through `crate::yaml` and `case::locate`. Applying it
//! is pure: results in, results out; nothing here prints.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::case::{Case, CaseError, LoadErrors, TargetKind, did_you_mean, locate};
use crate::matching::{Mismatch, Seg};
use crate::runner::{CaseResult, Outcome};

/// The file name looked for beside a suite's `suite.yaml`.
pub const LEDGER_FILE: &str = "known-divergences.yaml";

/// What `--write-ledger` puts in `why`; the validator accepts it, the run warns about it.
pub const TODO_WHY: &str = "TODO: say why the endpoint differs and name the source that shows it";

/// Known divergences, by case name.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    entries: BTreeMap<String, Entry>,
}

/// One case's known divergence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub case: String,
    /// Mismatch paths excused (a path also excuses what lies below it); empty: every mismatch.
    pub paths: Vec<String>,
    pub why: String,
    /// `file:line` of the entry, so a message can point at it.
    pub at: String,
}

impl Entry {
    /// A placeholder `why` (as `--write-ledger` writes it) is accepted but worth a warning.
    pub fn why_is_placeholder(&self) -> bool {
        self.why.trim_start().starts_with("TODO")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLedger {
    /// The kinds of target the divergences are of (`replay`, `endpoint`, `signed`, `aws`);
    /// absent: every kind. A ledger of an emulator's divergences must not fail a run against
    /// the replay, where the same cases pass.
    #[serde(default)]
    applies_to: Option<Vec<TargetKind>>,
    #[serde(default)]
    divergences: Vec<RawEntry>,
}

/// One ledger file, parsed and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerFile {
    /// `None`: every kind of target.
    pub applies_to: Option<Vec<TargetKind>>,
    pub entries: Vec<Entry>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    case: String,
    #[serde(default)]
    paths: Vec<String>,
    why: String,
}

/// Whether `dir` is one of `folders` or inside one (compared where they really are).
fn within(dir: &Path, folders: &[PathBuf]) -> bool {
    let real = |p: &Path| std::fs::canonicalize(p).ok();
    let Some(dir) = real(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return false;
    };
    folders
        .iter()
        .filter_map(|f| real(f))
        .any(|f| dir.starts_with(f))
}

/// The ledger files beside the suites the cases come from: every folder above a case file
/// that holds both a `suite.yaml` and a `known-divergences.yaml`.
pub fn discover(cases: &[Case]) -> Vec<PathBuf> {
    let mut found: Vec<(PathBuf, PathBuf)> = Vec::new();
    // Each folder is looked at once, however many cases sit under it (ten thousand cases in
    // one folder would otherwise cost ten thousand look-ups of each folder above it).
    let mut looked: HashSet<&Path> = HashSet::new();
    for case in cases {
        for dir in case.file.ancestors().skip(1) {
            if !looked.insert(dir) {
                // Seen before, and so were all the folders above it.
                break;
            }
            let ledger = dir.join(LEDGER_FILE);
            if !(dir.join(crate::case::SUITE_FILE).is_file() && ledger.is_file()) {
                continue;
            }
            // `./a` and `a` (or `` and `.`) are one file: compare where they really are.
            let real = std::fs::canonicalize(&ledger).unwrap_or_else(|_| ledger.clone());
            if !found.iter().any(|(r, _)| *r == real) {
                found.push((real, ledger));
            }
        }
    }
    let mut files: Vec<PathBuf> = found.into_iter().map(|(_, shown)| shown).collect();
    files.sort();
    files
}

/// Loads and checks ledger files, keeping the entries of those that apply to `kind` (the rest
/// are returned by path, so the caller can say they were left aside). A discovered ledger
/// (`scoped`) may only name cases of the suite it sits beside; a ledger given with `--ledger`
/// may name any case of the run. Every file is checked, whether it applies or not.
/// `whole`: the folders the run loaded whole; a suite under one of them has every case in
/// `cases`, so its cases are not read again to know the names its ledger may use.
pub fn load(
    files: &[PathBuf],
    cases: &[Case],
    scoped: bool,
    whole: &[PathBuf],
    kind: TargetKind,
) -> Result<(Ledger, Vec<PathBuf>), LoadErrors> {
    let mut ledger = Ledger::default();
    let mut left_aside = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        let source = match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                errors.push(CaseError::whole_file(
                    file,
                    format!("cannot read the ledger: {e}"),
                ));
                continue;
            }
        };
        let suite_dir = file.parent().unwrap_or(Path::new(""));
        let mut known: Vec<String> = cases
            .iter()
            .filter(|c| !scoped || c.file.starts_with(suite_dir))
            .map(|c| c.name.clone())
            .collect();
        if scoped && !within(suite_dir, whole) {
            // A run of one folder or file of the suite: the ledger beside it may name the
            // suite's other cases too. Only read when a ledger is there.
            let dir = if suite_dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                suite_dir
            };
            if let Ok(whole) = crate::case::load_suite(&[dir.to_path_buf()], &Default::default()) {
                known.extend(whole.cases.into_iter().map(|c| c.name));
            }
        }
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        match parse(file, &source, &known) {
            Ok(parsed) => {
                if parsed
                    .applies_to
                    .as_ref()
                    .is_some_and(|k| !k.contains(&kind))
                {
                    left_aside.push(file.clone());
                    continue;
                }
                for e in parsed.entries {
                    if let Some(first) = ledger.entries.get(&e.case) {
                        errors.push(CaseError::whole_file(
                            file,
                            format!(
                                "case `{}` is in two ledgers ({} and {})",
                                e.case, first.at, e.at
                            ),
                        ));
                        continue;
                    }
                    ledger.entries.insert(e.case.clone(), e);
                }
            }
            Err(mut e) => errors.append(&mut e.0),
        }
    }
    if errors.is_empty() {
        Ok((ledger, left_aside))
    } else {
        Err(LoadErrors(errors))
    }
}

/// Parses one ledger file and checks every entry against the case names it may use.
pub fn parse(file: &Path, source: &str, known: &[&str]) -> Result<LedgerFile, LoadErrors> {
    let raw: RawLedger =
        crate::yaml::parse(file, source, "ledger").map_err(|e| LoadErrors(vec![e]))?;
    let mut errors = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    let at = |segs: Vec<Seg>| locate(source, &segs);
    let seg = |i: usize, key: &str| {
        vec![
            Seg::Key("divergences".into()),
            Seg::Index(i),
            Seg::Key(key.into()),
        ]
    };
    let lines = crate::case::item_positions(source, &[Seg::Key("divergences".into())]);
    for (i, e) in raw.divergences.iter().cloned().enumerate() {
        let mut ok = true;
        if !known.contains(&e.case.as_str()) {
            errors.push(CaseError::at(
                file,
                source,
                at(seg(i, "case")),
                format!("invalid ledger: no case named `{}` in this suite", e.case),
                did_you_mean(&e.case, known.iter().copied()),
            ));
            ok = false;
        } else if entries.iter().any(|x| x.case == e.case) {
            errors.push(CaseError::at(
                file,
                source,
                at(seg(i, "case")),
                format!("invalid ledger: case `{}` is listed twice", e.case),
                None,
            ));
            ok = false;
        }
        if e.why.trim().is_empty() {
            errors.push(CaseError::at(
                file,
                source,
                at(seg(i, "why")),
                "invalid ledger: `why` is empty: say why the endpoint differs and the source that shows it",
                None,
            ));
            ok = false;
        }
        for (j, p) in e.paths.iter().enumerate() {
            if let Err(problem) = MismatchPath::parse(p) {
                let mut segs = seg(i, "paths");
                segs.push(Seg::Index(j));
                errors.push(CaseError::at(
                    file,
                    source,
                    at(segs),
                    format!("invalid ledger: malformed mismatch path {p:?}: {problem}"),
                    Some("paths look like `status`, `header content-type`, `error type`, `body.Items[0].Name`".into()),
                ));
                ok = false;
            }
        }
        if ok {
            let (line, _) = lines.get(i).copied().unwrap_or((1, 1));
            entries.push(Entry {
                case: e.case,
                paths: e.paths,
                why: e.why.split_whitespace().collect::<Vec<_>>().join(" "),
                at: format!("{}:{line}", file.display()),
            });
        }
    }
    if errors.is_empty() {
        Ok(LedgerFile {
            applies_to: raw.applies_to,
            entries,
        })
    } else {
        Err(LoadErrors(errors))
    }
}

/// A mismatch path as the runner reports it: a head (`status`, `method`, `path`, `snapshot`,
/// `header <name>`, `error type[ as ...]`, `body`) and, under `body`, members and indices.
#[derive(Clone, Debug, PartialEq, Eq)]
struct MismatchPath {
    head: String,
    segs: Vec<PathSeg>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PathSeg {
    Key(String),
    Index(usize),
    /// `[*]` in a ledger: any index or key.
    Any,
}

impl MismatchPath {
    fn parse(text: &str) -> Result<MismatchPath, String> {
        let plain = |head: &str| {
            Ok(MismatchPath {
                head: head.to_owned(),
                segs: vec![],
            })
        };
        match text {
            "status" | "method" | "path" | "snapshot" => return plain(text),
            "error type"
            | "error type as botocore (body __type)"
            | "error type as aws-sdk-rust/js (header, code, __type)" => return plain(text),
            _ => {}
        }
        if let Some(name) = text.strip_prefix("header ") {
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if name.is_empty() || !name.chars().all(token) {
                return Err("a header name is a token (letters, digits, `-`)".into());
            }
            return plain(&format!("header {}", name.to_ascii_lowercase()));
        }
        let Some(mut rest) = text.strip_prefix("body") else {
            return Err(
                "it starts with none of status, method, path, snapshot, header, error type, body"
                    .into(),
            );
        };
        let mut segs = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(r.len());
                if end == 0 {
                    return Err("a `.` must be followed by a member name".into());
                }
                segs.push(PathSeg::Key(r[..end].to_owned()));
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                if let Some(r) = r.strip_prefix("*]") {
                    segs.push(PathSeg::Any);
                    rest = r;
                } else if r.starts_with('"') {
                    // A quoted key, as the runner writes keys that are not simple names.
                    let mut stream =
                        serde_json::Deserializer::from_str(r).into_iter::<serde_json::Value>();
                    let Some(Ok(serde_json::Value::String(key))) = stream.next() else {
                        return Err("a `[\"` must hold a JSON string".into());
                    };
                    let r = &r[stream.byte_offset()..];
                    let Some(r) = r.strip_prefix(']') else {
                        return Err("a quoted key must be closed with `]`".into());
                    };
                    segs.push(PathSeg::Key(key));
                    rest = r;
                } else {
                    let end = r.find(']').ok_or("a `[` must be closed with `]`")?;
                    let index = r[..end]
                        .parse()
                        .map_err(|_| format!("`[{}]` is not an index", &r[..end]))?;
                    segs.push(PathSeg::Index(index));
                    rest = &r[end + 1..];
                }
            } else {
                return Err(format!("unexpected {rest:?} after a member"));
            }
        }
        Ok(MismatchPath {
            head: "body".into(),
            segs,
        })
    }

    /// Whether this ledger path excuses `mismatch`: the same path or one below it (`error
    /// type` covers both readings of the error type).
    fn excuses(&self, mismatch: &str) -> bool {
        let Ok(m) = MismatchPath::parse(mismatch) else {
            return false;
        };
        let head =
            self.head == m.head || (self.head == "error type" && m.head.starts_with("error type"));
        head && self.segs.len() <= m.segs.len()
            && self.segs.iter().zip(&m.segs).all(|(l, s)| match (l, s) {
                (PathSeg::Any, _) => true,
                (l, s) => l == s,
            })
    }
}

impl Ledger {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    pub fn get(&self, case: &str) -> Option<&Entry> {
        self.entries.get(case)
    }

    /// The result with the ledger applied: a failure whose every mismatch is listed becomes
    /// `Known`; a listed case that passes (or passes its firm part), or a listed path that no
    /// longer differs, becomes a failure saying "remove it from the ledger". Errors and skips
    /// are left alone: an endpoint that did not answer shows nothing about a divergence.
    pub fn apply<'r>(&self, case: &Case, result: &'r CaseResult) -> Cow<'r, CaseResult> {
        // Most cases are in no ledger: their result is shown as it is, not copied.
        let Some(entry) = self.entries.get(&case.name) else {
            return Cow::Borrowed(result);
        };
        let mut out = result.clone();
        let stale = |step: usize, what: String| Outcome::Failed {
            step,
            mismatches: vec![Mismatch {
                path: "ledger".into(),
                message: format!(
                    "{what}: remove it from the ledger ({}; why it was listed: {})",
                    entry.at, entry.why
                ),
            }],
            diff: String::new(),
        };
        out.outcome = match &result.outcome {
            Outcome::Passed | Outcome::Differs { .. } => stale(
                case.steps.len().saturating_sub(1),
                "the known divergence no longer occurs (the case passes)".into(),
            ),
            Outcome::Failed {
                step,
                mismatches,
                diff,
            } => {
                let paths: Vec<MismatchPath> = entry
                    .paths
                    .iter()
                    .filter_map(|p| MismatchPath::parse(p).ok())
                    .collect();
                let excused =
                    |m: &Mismatch| paths.is_empty() || paths.iter().any(|p| p.excuses(&m.path));
                let unlisted: Vec<&Mismatch> = mismatches.iter().filter(|m| !excused(m)).collect();
                let gone: Vec<&String> = entry
                    .paths
                    .iter()
                    .zip(&paths)
                    .filter(|(_, p)| !mismatches.iter().any(|m| p.excuses(&m.path)))
                    .map(|(text, _)| text)
                    .collect();
                if !unlisted.is_empty() {
                    // A new divergence: the case fails; the listed ones say they are known.
                    let mismatches = mismatches
                        .iter()
                        .map(|m| {
                            let mut m = m.clone();
                            if excused(&m) {
                                m.message.push_str(" (known: in the ledger)");
                            } else {
                                m.message.push_str(" (not in the ledger)");
                            }
                            m
                        })
                        .collect();
                    Outcome::Failed {
                        step: *step,
                        mismatches,
                        diff: diff.clone(),
                    }
                } else if !gone.is_empty() {
                    stale(
                        *step,
                        format!(
                            "listed path{} {} no longer differ{}",
                            if gone.len() == 1 { "" } else { "s" },
                            gone.iter()
                                .map(|p| format!("`{p}`"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            if gone.len() == 1 { "s" } else { "" }
                        ),
                    )
                } else {
                    Outcome::Known {
                        step: *step,
                        mismatches: mismatches.clone(),
                        diff: diff.clone(),
                        why: entry.why.clone(),
                        at: entry.at.clone(),
                    }
                }
            }
            Outcome::Errored { .. } | Outcome::Skipped { .. } | Outcome::Known { .. } => {
                result.outcome.clone()
            }
        };
        Cow::Owned(out)
    }
}

#[derive(Serialize)]
struct WrittenLedger {
    applies_to: Vec<TargetKind>,
    divergences: Vec<WrittenEntry>,
}

#[derive(Serialize)]
struct WrittenEntry {
    case: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    paths: Vec<String>,
    why: String,
}

/// A ledger listing today's divergences of a `kind` of target: every failed case with its
/// mismatch paths and a `TODO` why, and every known one as the ledger had it. Errors are not
/// divergences.
pub fn render(
    cases: &[Case],
    results: &[CaseResult],
    ledger: &Ledger,
    kind: TargetKind,
) -> Result<String, String> {
    let mut divergences = Vec::new();
    for r in results {
        let case = &cases[r.index];
        match &r.outcome {
            Outcome::Failed { mismatches, .. } => {
                let mut paths: Vec<String> = Vec::new();
                for m in mismatches {
                    // A stale entry is dropped: the case passes now.
                    if m.path == "ledger" {
                        continue;
                    }
                    if !paths.contains(&m.path) {
                        paths.push(m.path.clone());
                    }
                }
                if paths.is_empty() {
                    continue;
                }
                divergences.push(WrittenEntry {
                    case: case.name.clone(),
                    paths,
                    why: TODO_WHY.into(),
                });
            }
            Outcome::Known { .. } => {
                if let Some(e) = ledger.get(&case.name) {
                    divergences.push(WrittenEntry {
                        case: e.case.clone(),
                        paths: e.paths.clone(),
                        why: e.why.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    let body = crate::yaml::to_string(&WrittenLedger {
        applies_to: vec![kind],
        divergences,
    })?;
    Ok(format!(
        "# Known divergences: cases (and mismatch paths) this endpoint is known to get wrong.\n\
         # A listed divergence does not fail `conform run`; a new one does, and so does a listed\n\
         # one that no longer occurs. Replace each TODO with why, naming the source. It applies\n\
         # to runs against the kind of target it was written from (`applies_to`).\n{body}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_paths_the_runner_reports() {
        for ok in [
            "status",
            "header content-type",
            "error type",
            "error type as botocore (body __type)",
            "body",
            "body.CertificateSummaryList[0].Status",
            "body[\"a b\"].c",
            "body.Items[*].Name",
        ] {
            assert!(MismatchPath::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "statuss", "body.", "body[x]", "body[0", "header ", "body..a", "Body.x",
        ] {
            assert!(MismatchPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_path_excuses_itself_and_below() {
        let p = MismatchPath::parse("body.List[*]").unwrap();
        assert!(p.excuses("body.List[3].Status"));
        assert!(p.excuses("body.List[0]"));
        assert!(!p.excuses("body.List"));
        assert!(!p.excuses("body.Other[0]"));
        let e = MismatchPath::parse("error type").unwrap();
        assert!(e.excuses("error type as aws-sdk-rust/js (header, code, __type)"));
        assert!(!e.excuses("status"));
        assert!(
            MismatchPath::parse("header Content-Type")
                .unwrap()
                .excuses("header content-type")
        );
    }

    #[test]
    fn errors_point_at_the_entry() {
        let src = "divergences:\n  - case: a\n    why: x\n  - case: nope\n    paths: [status, 'body.']\n    why: ' '\n";
        let errs = parse(Path::new("l.yaml"), src, &["a", "b"]).unwrap_err().0;
        let at: Vec<(usize, usize)> = errs.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(at, [(4, 11), (6, 10), (5, 21)], "{errs:?}");
        let unknown = parse(
            Path::new("l.yaml"),
            "divergences:\n  - case: a\n    whyy: x\n",
            &["a"],
        )
        .unwrap_err()
        .0;
        assert_eq!(unknown[0].line, 3, "{unknown:?}");
        let missing = parse(Path::new("l.yaml"), "divergences:\n  - case: a\n", &["a"])
            .unwrap_err()
            .0;
        assert!(missing[0].message.contains("why"), "{missing:?}");
        assert!(missing[0].line > 0, "{missing:?}");
    }
}
