//! Coverage per operation: for every operation of a suite's service model, its items (input
//! members, every constraint of every member, required output members, declared errors, the
//! `errorCode` values of those errors, the enum values of input members, and what the
//! service's `coverage.json` adds), each with the cases that cover it. Gaps show as gaps.
//!
//! A case covers the items it names in `covers:`, of the operation its folder names (the
//! folder is the operation, as it is for the request's `X-Amz-Target`), so `member:resourceArn`
//! under `ListTagsForResource/` and under `SetTagsForResource/` are two items. An enum value is
//! covered by the cases whose request sends it where a 2xx is expected.
//!
//! A case *forces* what its firm expectations check (`covers: [error:X]`), and only *offers* what
//! it checks in a labelled guess (`covers: ['guess:error:X']`): a case that aims a request at
//! NoSuchEntityException but accepts any 4xx firmly must not be counted as proof that an endpoint
//! answers NoSuchEntityException. The report keeps the two apart.
//!
//! I/O: only `coverage.json` beside the model ([`extras`]) and, to locate an unknown id, the
//! case file that names it.

pub mod extras;
mod items;
mod render;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::case::{BodyTemplate, Case, Provenance, Suite};
use crate::matching::{StartExpect, StatusSpec};
use crate::model::{Model, Operation, ShapeKind};

pub use extras::{EXTRAS_FILE, Extras, extras_path_for, load_extras, parse_extras};
pub use items::{error_codes, model_items};
pub use render::{markdown, text};

/// The prefix of a `covers:` id that the case checks only in its guess.
pub const GUESS_PREFIX: &str = "guess:";

/// The awsJson edges an operation's cases may probe (Smithy awsJson1_1 spec and protocol
/// tests; AWS common errors), by the group name `coverage.json` gives them.
pub const EDGE_GROUPS: &[(&str, &str, &[&str])] = &[
    (
        "protocol",
        "awsJson1_1 spec / AWS common errors",
        &[
            "protocol:malformed-json",
            "protocol:empty-body",
            "protocol:array-body",
            "protocol:charset",
            "protocol:content-type",
            "protocol:content-type-json-1.0",
            "protocol:content-type-application-json",
            "protocol:missing-target",
            "protocol:unknown-operation",
            "protocol:target-prefix",
            "protocol:target-without-dot",
            "protocol:method",
            "protocol:path",
            "protocol:unknown-member",
            "protocol:body-too-large",
        ],
    ),
    (
        "json",
        "awsJson1_1 (JSON bodies)",
        &[
            "json:escapes",
            "json:surrogate-pair",
            "json:lone-surrogate",
            "json:invalid-utf8",
            "json:duplicate-keys",
        ],
    ),
    (
        "signing",
        "SigV4 / AWS common errors",
        &[
            "signing:none",
            "signing:corrupt",
            "signing:expired",
            "signing:unknown-key",
            "signing:wrong-region",
            "signing:wrong-service",
            "signing:expired-token",
        ],
    ),
];

/// The JSON types a `wrong-type:<member>.<type>` id may name.
const JSON_TYPES: &[&str] = &["null", "boolean", "number", "string", "array", "object"];

/// What kind of thing an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `member:<name>`: an input member a request sends.
    Member,
    /// `constraint:<path>.<rule>`: required, length/range min and max, enum, pattern.
    Constraint,
    /// `wrong-type:<path>`: another JSON type than the member's (a case may name the type it
    /// sends: `wrong-type:<path>.number`).
    WrongType,
    /// `output:<name>`: a required output member.
    Output,
    /// `error:<shape>`: a declared error.
    Error,
    /// `errorCode:<value>`: a value of an error's errorCode enum.
    ErrorCode,
    /// `enum:<path>=<value>`: a value of an input member's enum, sent where a 2xx is expected.
    EnumValue,
    /// What `coverage.json` adds: protocol edges, the documented sample, state.
    Extra,
}

impl Kind {
    /// Whether a gap of this kind must be explained (a known gap with why). `errorCode` and
    /// enum values stay visible gaps: the model lists every code of the whole service, and a
    /// generated suite sends one value of each enum.
    pub fn required(self) -> bool {
        !matches!(self, Kind::ErrorCode | Kind::EnumValue)
    }
}

/// One thing the suite should cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub operation: String,
    /// The id cases name in `covers:`, e.g. `error:NoSuchEntityException`.
    pub id: String,
    pub kind: Kind,
    /// Where the item comes from.
    pub source: String,
    /// For `wrong-type:` items: the member's JSON type (a case may not name it as wrong).
    pub member_type: Option<&'static str>,
    /// Why no case covers it, when the service's `coverage.json` lists it as a known gap.
    pub known_gap: Option<String>,
}

impl Item {
    pub fn required(&self) -> bool {
        self.kind.required()
    }
}

/// Why coverage could not be computed. Each message names the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Extras {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    ExtrasContent { path: PathBuf, message: String },
    #[error(
        "{}: the suite names no service model (add `model: <file>` to a suite.yaml above it)",
        file.display()
    )]
    NoModel { file: PathBuf },
    #[error("{}", unknown.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    UnknownIds { unknown: Vec<UnknownId> },
}

/// A `covers:` id that names no item of its case's operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnknownId {
    /// `path:line:column` of the id in the case file (the file alone if it cannot be found).
    pub location: String,
    pub case: String,
    pub operation: String,
    pub id: String,
    pub hint: String,
}

impl std::fmt::Display for UnknownId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: case {:?}: covers id `{}` names no item of {}{}",
            self.location, self.case, self.id, self.operation, self.hint
        )
    }
}

/// Every operation's items of one model, with what its `coverage.json` adds.
#[derive(Clone, Debug)]
pub struct ServiceItems {
    pub model_path: PathBuf,
    pub service: String,
    /// By operation name, sorted.
    pub operations: BTreeMap<String, Vec<Item>>,
    /// Operations whose item table `cases/README.md` shows.
    pub detailed: Vec<String>,
}

/// The items of every operation of `model`, with `extras` applied.
pub fn service_items(model: &Model, extras: &Extras) -> Result<ServiceItems, CoverageError> {
    let path = extras_path_for(&model.source.path);
    let bad = |message: String| CoverageError::ExtrasContent {
        path: path.clone(),
        message,
    };
    for name in extras.operations.keys() {
        model
            .operation(name)
            .map_err(|e| bad(format!("operations: {e}")))?;
    }
    let mut operations = BTreeMap::new();
    let mut detailed = Vec::new();
    for op in model.operations.values() {
        let extra = extras.operations.get(&op.name);
        let mut items = model_items(model, op);
        let codes = error_codes(model, op);
        match extra.and_then(|e| e.error_codes.as_ref()) {
            Some(fitting) => {
                for v in &fitting.values {
                    if !codes.contains(v) {
                        return Err(bad(format!(
                            "operations.{}.errorCodes: `{v}` is no errorCode value of the operation's errors",
                            op.name
                        )));
                    }
                    items.push(plain(
                        op,
                        format!("errorCode:{v}"),
                        Kind::ErrorCode,
                        &fitting.source,
                    ));
                }
            }
            None => {
                for v in codes {
                    items.push(plain(
                        op,
                        format!("errorCode:{v}"),
                        Kind::ErrorCode,
                        "service model (errorCode enum)",
                    ));
                }
            }
        }
        if let Some(extra) = extra {
            if extra.detailed {
                detailed.push(op.name.clone());
            }
            for group in &extra.edges {
                let Some((_, source, ids)) = EDGE_GROUPS.iter().find(|(g, _, _)| g == group) else {
                    let names: Vec<&str> = EDGE_GROUPS.iter().map(|(g, _, _)| *g).collect();
                    return Err(bad(format!(
                        "operations.{}.edges: no edge group `{group}` (there are {})",
                        op.name,
                        names.join(", ")
                    )));
                };
                for id in *ids {
                    items.push(plain(op, (*id).to_owned(), Kind::Extra, source));
                }
            }
            for x in &extra.items {
                items.push(plain(op, x.id.clone(), Kind::Extra, &x.source));
            }
        }
        operations.insert(op.name.clone(), items);
    }
    for gap in &extras.known_gaps {
        let items = operations.get_mut(&gap.operation).ok_or_else(|| {
            bad(format!(
                "knownGaps: no operation `{}` in the model",
                gap.operation
            ))
        })?;
        let item = items.iter_mut().find(|i| i.id == gap.id).ok_or_else(|| {
            bad(format!(
                "knownGaps: `{}` is no item of {}",
                gap.id, gap.operation
            ))
        })?;
        item.known_gap = Some(gap.why.clone());
    }
    Ok(ServiceItems {
        model_path: model.source.path.clone(),
        service: model.service.service_id.clone(),
        operations,
        detailed,
    })
}

fn plain(op: &Operation, id: String, kind: Kind, source: &str) -> Item {
    Item {
        operation: op.name.clone(),
        id,
        kind,
        source: source.to_owned(),
        member_type: None,
        known_gap: None,
    }
}

/// The operation a case belongs to: the folder it is in.
pub fn case_operation(case: &Case) -> &str {
    case.file
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("")
}

/// The item of `items` an id (without `guess:`) names: the same id, or for
/// `wrong-type:<path>.<type>` the member's wrong-type item when `<type>` is a JSON type other
/// than the member's.
pub fn resolve<'a>(items: &'a [Item], id: &str) -> Option<&'a Item> {
    if let Some(i) = items.iter().find(|i| i.id == id) {
        return Some(i);
    }
    let (base, ty) = id.strip_prefix("wrong-type:")?.rsplit_once('.')?;
    if !JSON_TYPES.contains(&ty) {
        return None;
    }
    items.iter().find(|i| {
        i.kind == Kind::WrongType
            && i.id.strip_prefix("wrong-type:") == Some(base)
            && i.member_type != Some(ty)
    })
}

/// Which cases cover one item, and how.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Cases whose firm expectations check the item.
    pub forced: Vec<String>,
    /// Cases that check it only in a labelled guess.
    pub offered: Vec<String>,
}

/// Whether an item is forced, only offered, or a gap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Forced,
    Offered,
    Gap,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemReport {
    pub id: String,
    pub kind: Kind,
    pub source: String,
    /// Whether a gap must be explained (false for errorCode and enum values).
    pub required: bool,
    pub status: Status,
    pub forced_by: Vec<String>,
    pub offered_by: Vec<String>,
    /// Why it is a gap, for a gap the service's `coverage.json` knows of.
    pub known_gap: Option<String>,
}

/// Counts. `covered = forced + offered`, `items = covered + gaps`,
/// `gaps = known_gaps + unexplained_gaps + open_values` where `open_values` are the gaps of
/// errorCode and enum values (which need no why).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub items: usize,
    pub covered: usize,
    pub forced: usize,
    /// Covered only by a guess.
    pub offered: usize,
    pub gaps: usize,
    pub known_gaps: usize,
    /// Gaps of errorCode and enum values.
    pub open_values: usize,
    /// Gaps of required items with no why: the coverage test keeps these at zero.
    pub unexplained_gaps: usize,
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.items += o.items;
        self.covered += o.covered;
        self.forced += o.forced;
        self.offered += o.offered;
        self.gaps += o.gaps;
        self.known_gaps += o.known_gaps;
        self.open_values += o.open_values;
        self.unexplained_gaps += o.unexplained_gaps;
    }

    fn count(&mut self, item: &ItemReport) {
        self.items += 1;
        match item.status {
            Status::Forced => {
                self.covered += 1;
                self.forced += 1;
            }
            Status::Offered => {
                self.covered += 1;
                self.offered += 1;
            }
            Status::Gap => {
                self.gaps += 1;
                if item.known_gap.is_some() {
                    self.known_gaps += 1;
                } else if item.required {
                    self.unexplained_gaps += 1;
                } else {
                    self.open_values += 1;
                }
            }
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct OperationReport {
    pub operation: String,
    /// Cases in the operation's folder.
    pub cases: usize,
    pub totals: Totals,
    pub items: Vec<ItemReport>,
    /// Known gaps that a case covers now (the entry in `coverage.json` is stale).
    pub stale_known_gaps: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServiceReport {
    pub model: String,
    pub service: String,
    pub totals: Totals,
    pub operations: Vec<OperationReport>,
    #[serde(skip)]
    pub detailed: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub totals: Totals,
    pub services: Vec<ServiceReport>,
}

/// The coverage of `cases` (all of one model) against `items`, and the ids that name nothing.
pub fn service_report(
    model: &Model,
    items: &ServiceItems,
    cases: &[&Case],
) -> (ServiceReport, Vec<UnknownId>) {
    let mut cov: BTreeMap<(&str, &str), Coverage> = BTreeMap::new();
    let mut unknown = Vec::new();
    let mut case_count: BTreeMap<&str, usize> = BTreeMap::new();
    for case in cases {
        let op_name = case_operation(case);
        let op_items = items.operations.get(op_name);
        if op_items.is_some() {
            *case_count.entry(op_name).or_default() += 1;
        }
        for raw in &case.covers {
            let (bare, guessed) = match raw.strip_prefix(GUESS_PREFIX) {
                Some(b) => (b, true),
                None => (raw.as_str(), false),
            };
            let Some(item) = op_items.and_then(|list| resolve(list, bare)) else {
                let hint = match op_items {
                    None => format!(
                        " (the case's folder `{op_name}` names no operation of {}{})",
                        items.model_path.display(),
                        crate::case::did_you_mean(
                            op_name,
                            items.operations.keys().map(String::as_str)
                        )
                        .map(|h| format!("; {h}"))
                        .unwrap_or_default()
                    ),
                    Some(list) => {
                        crate::case::did_you_mean(bare, list.iter().map(|i| i.id.as_str()))
                            .map(|h| format!("; {h}"))
                            .unwrap_or_default()
                    }
                };
                unknown.push(UnknownId {
                    location: locate(&case.file, raw),
                    case: case.name.clone(),
                    operation: op_name.to_owned(),
                    id: raw.clone(),
                    hint,
                });
                continue;
            };
            let entry = cov.entry((&item.operation, &item.id)).or_default();
            let list = if guessed {
                &mut entry.offered
            } else {
                &mut entry.forced
            };
            if !list.contains(&case.name) {
                list.push(case.name.clone());
            }
        }
        if let (Some(op), Some(_)) = (model.operations.get(op_name), op_items) {
            enum_values_sent(model, op, case, &mut |id, forced| {
                if let Some(item) = op_items.and_then(|l| l.iter().find(|i| i.id == id)) {
                    let entry = cov.entry((&item.operation, &item.id)).or_default();
                    let list = if forced {
                        &mut entry.forced
                    } else {
                        &mut entry.offered
                    };
                    if !list.contains(&case.name) {
                        list.push(case.name.clone());
                    }
                }
            });
        }
    }
    let mut operations = Vec::new();
    let mut totals = Totals::default();
    for (name, list) in &items.operations {
        let mut op_totals = Totals::default();
        let mut reports = Vec::new();
        let mut stale = Vec::new();
        for item in list {
            let c = cov
                .get(&(item.operation.as_str(), item.id.as_str()))
                .cloned()
                .unwrap_or_default();
            let status = if !c.forced.is_empty() {
                Status::Forced
            } else if !c.offered.is_empty() {
                Status::Offered
            } else {
                Status::Gap
            };
            if status != Status::Gap && item.known_gap.is_some() {
                stale.push(item.id.clone());
            }
            let r = ItemReport {
                id: item.id.clone(),
                kind: item.kind,
                source: item.source.clone(),
                required: item.required(),
                status,
                forced_by: c.forced,
                offered_by: c.offered,
                known_gap: item.known_gap.clone().filter(|_| status == Status::Gap),
            };
            op_totals.count(&r);
            reports.push(r);
        }
        totals.add(&op_totals);
        operations.push(OperationReport {
            operation: name.clone(),
            cases: case_count.get(name.as_str()).copied().unwrap_or(0),
            totals: op_totals,
            items: reports,
            stale_known_gaps: stale,
        });
    }
    (
        ServiceReport {
            model: items.model_path.display().to_string(),
            service: items.service.clone(),
            totals,
            operations,
            detailed: items.detailed.clone(),
        },
        unknown,
    )
}

/// The coverage of a loaded suite: its cases grouped by the model their suite names, each
/// model's `coverage.json` read. A case without a model, a broken `coverage.json` or a
/// `covers:` id that names nothing is an error.
pub fn report(suite: &Suite) -> Result<Report, CoverageError> {
    let mut groups: Vec<(Arc<Model>, Vec<&Case>)> = Vec::new();
    for case in &suite.cases {
        let Some(model) = &case.model else {
            return Err(CoverageError::NoModel {
                file: case.file.clone(),
            });
        };
        match groups
            .iter_mut()
            .find(|(m, _)| Arc::ptr_eq(m, model) || m.source.path == model.source.path)
        {
            Some((_, cases)) => cases.push(case),
            None => groups.push((model.clone(), vec![case])),
        }
    }
    let mut services = Vec::new();
    let mut unknown = Vec::new();
    let mut totals = Totals::default();
    for (model, cases) in &groups {
        let extras = load_extras(&model.source.path)?;
        let items = service_items(model, &extras)?;
        let (r, u) = service_report(model, &items, cases);
        totals.add(&r.totals);
        services.push(r);
        unknown.extend(u);
    }
    if !unknown.is_empty() {
        return Err(CoverageError::UnknownIds { unknown });
    }
    Ok(Report { totals, services })
}

/// `path:line:column` of `id` in a case file (its first occurrence after `covers:`), or the
/// path alone.
fn locate(file: &Path, id: &str) -> String {
    let Ok(text) = std::fs::read_to_string(file) else {
        return file.display().to_string();
    };
    let start = text.find("covers:").unwrap_or(0);
    match text[start..].find(id) {
        Some(off) => {
            let at = start + off;
            let line = text[..at].matches('\n').count() + 1;
            let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("{}:{line}:{column}", file.display())
        }
        None => file.display().to_string(),
    }
}

/// Calls `found(enum:<path>=<value>, forced)` for each enum value a step of `case` sends in
/// its JSON body where a 2xx is expected: forced when every firm alternative of a case with a
/// firm part is a 2xx, offered when a 2xx is only among the alternatives (or the guess).
fn enum_values_sent(model: &Model, op: &Operation, case: &Case, found: &mut dyn FnMut(&str, bool)) {
    let Some(input) = op.input.as_deref().and_then(|id| model.shape(id)) else {
        return;
    };
    let two_xx = |specs: &StartExpect| match specs {
        StartExpect::Status(s) => {
            !s.is_empty()
                && s.iter().all(|x| match x {
                    StatusSpec::Code(c) => (200..300).contains(c),
                    StatusSpec::Class(h) => *h == 2,
                })
        }
        _ => false,
    };
    for step in &case.steps {
        let BodyTemplate::Json(body) = &step.request.body else {
            continue;
        };
        let firm = case.provenance != Provenance::Inferred
            && !step.expect.is_empty()
            && step.expect.iter().all(|a| two_xx(&a.expect.start));
        let offered = step
            .expect
            .iter()
            .chain(step.guess.iter().flat_map(|g| &g.expect))
            .any(|a| two_xx(&a.expect.start));
        if !firm && !offered {
            continue;
        }
        let mut ids = Vec::new();
        walk_enums(model, input.members(), body, "", 0, &mut ids);
        for id in ids {
            found(&id, firm);
        }
    }
}

fn walk_enums(
    model: &Model,
    members: &[crate::model::Member],
    value: &Value,
    prefix: &str,
    depth: usize,
    out: &mut Vec<String>,
) {
    // A request body is finite, so the walk ends; the depth only bounds a pathological file.
    if depth > 32 {
        return;
    }
    let Some(obj) = value.as_object() else { return };
    for m in members {
        let Some(v) = obj.get(&m.name) else { continue };
        let cid = if prefix.is_empty() {
            m.name.clone()
        } else {
            format!("{prefix}.{}", m.name)
        };
        member_enums(model, m, v, &cid, depth, out);
    }
}

fn member_enums(
    model: &Model,
    m: &crate::model::Member,
    v: &Value,
    cid: &str,
    depth: usize,
    out: &mut Vec<String>,
) {
    match model.target(m).map(|s| &s.kind) {
        Some(ShapeKind::String) => {
            if let (Some(values), Some(s)) = (model.effective_traits(m).enum_values, v.as_str())
                && values.iter().any(|e| e.value == s)
            {
                out.push(format!("enum:{cid}={s}"));
            }
        }
        Some(ShapeKind::Structure(ms)) => walk_enums(model, ms, v, cid, depth + 1, out),
        Some(ShapeKind::List(inner)) => {
            for x in v.as_array().into_iter().flatten() {
                member_enums(model, inner, x, &format!("{cid}[]"), depth + 1, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
