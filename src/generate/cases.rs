//! The cases of one operation, built from the model: the valid request, one case per
//! declared error, and one per constraint edge of every member (required, length, range,
//! enum, pattern, list and map sizes, JSON type). Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::model::{Member, Model, Operation, Shape, ShapeKind};
use crate::recording::{RecordingProvenance, canonical};

use super::examples::ExampleSet;
use super::expect::{Expectation, error_shorthand, guessed, modeled, required_members};
use super::values::{Fill, Synth, json_type, number_value, string_of_length, wrong_type};

/// The header a generated error request carries so that a replay (or an emulator's fault
/// injection) can tell it from the valid request it otherwise equals.
pub use crate::recording::FAULT_HEADER;

/// What stands in for the message text the model does not give.
const MODELED_MESSAGE: &str = "conform: modeled response; the service's message text is not known";
const INFERRED_MESSAGE: &str = "conform: inferred response; neither this error nor its message text is known to come from the service";

/// Nested structures deeper than this get no edge cases of their own (the valid request
/// still holds them).
const EDGE_DEPTH: usize = 3;
/// Lists longer than this are not built past their maximum (a file of 10,000 items helps
/// nobody).
const MAX_ITEMS: u64 = 1000;

/// The answer a generated recording holds.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub provenance: RecordingProvenance,
    pub source: String,
    pub note: String,
}

/// One generated case and the recording that answers it.
#[derive(Clone, Debug)]
pub struct GenCase {
    /// File name without `.yaml`, the same for the case and its recording.
    pub stem: String,
    pub name: String,
    pub description: String,
    pub source: String,
    pub expectation: Expectation,
    pub tags: Vec<String>,
    pub covers: Vec<String>,
    pub skip: BTreeMap<String, String>,
    /// `x-conform-fault` value, for error cases.
    pub fault: Option<String>,
    pub body: Value,
    pub answer: Answer,
}

impl GenCase {
    /// What identifies the request to a replay: the body as a canonical JSON value and the
    /// fault header.
    pub fn identity(&self) -> String {
        format!(
            "{}\n{}",
            self.fault.as_deref().unwrap_or(""),
            canonical(&self.body)
        )
    }
}

/// Whether a documented example value is valid against the structure `shape_id` (the model
/// module's validator; `None`: no input or output, which only `{}` or nothing fits).
fn structure_fits(model: &Model, shape_id: Option<&str>, value: &Value) -> bool {
    match shape_id {
        Some(id) => crate::model::validate_value(model, id, value, "$").is_valid(),
        None => value.is_null() || value.as_object().is_some_and(|m| m.is_empty()),
    }
}

/// One step of a path into a request body.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A member somewhere in the valid request.
struct Site<'m> {
    path: Vec<Step>,
    member: &'m Member,
    /// `assessmentRunName`, `attributes[0].key`.
    label: String,
    /// The structure member is required (and so may be left out as a violation).
    required: bool,
    /// The valid request with the optional structures and lists above this member filled in
    /// (so a member of an optional filter is tested inside a valid filter).
    base: Value,
}

/// The cases of one operation, in a fixed order, without two of the same request.
pub fn operation_cases(model: &Model, op: &Operation, examples: &ExampleSet) -> Vec<GenCase> {
    let synth = Synth::new(model);
    let ctx = Ctx::new(model, op, &synth, examples);
    let mut out = vec![ctx.valid_case()];
    for id in &op.errors {
        if let Some(shape) = model.shape(id) {
            out.push(ctx.error_case(shape));
        }
    }
    if let Some(input) = op.input.as_deref().and_then(|id| model.shape(id)) {
        let mut sites = Vec::new();
        collect_sites(
            model,
            &synth,
            input.members(),
            &ctx.valid_body,
            &ctx.valid_body,
            &mut Vec::new(),
            "",
            0,
            &mut sites,
        );
        for site in &sites {
            ctx.edge_cases(site, &mut out);
        }
    }
    // No two cases send the same request: the replay could not tell them apart.
    let mut seen = BTreeSet::new();
    let mut stems = BTreeSet::new();
    out.retain(|c| seen.insert(c.identity()));
    for c in &mut out {
        let mut stem = c.stem.clone();
        let mut n = 2;
        while !stems.insert(stem.clone()) {
            stem = format!("{}_{n}", c.stem);
            n += 1;
        }
        if stem != c.stem {
            c.name = format!("{} ({n})", c.name, n = n - 1);
            c.stem = stem;
        }
    }
    out
}

/// Every member reachable in `value` (and the absent optional members of the structures it
/// holds, which get a valid value first), down to [`EDGE_DEPTH`].
#[allow(clippy::too_many_arguments)]
fn collect_sites<'m>(
    model: &'m Model,
    synth: &Synth,
    members: &'m [Member],
    value: &Value,
    base: &Value,
    path: &mut Vec<Step>,
    prefix: &str,
    depth: usize,
    out: &mut Vec<Site<'m>>,
) {
    if depth >= EDGE_DEPTH {
        return;
    }
    for m in members {
        let label = if prefix.is_empty() {
            m.name.clone()
        } else {
            format!("{prefix}.{}", m.name)
        };
        path.push(Step::Key(m.name.clone()));
        out.push(Site {
            path: path.clone(),
            member: m,
            label: label.clone(),
            required: m.required,
            base: base.clone(),
        });
        match value.get(&m.name) {
            Some(v) => collect_inner(model, synth, m, v, base, path, &label, depth, out),
            None => {
                // An absent optional structure or list: its members are tested inside a
                // valid value of it.
                let aggregate = matches!(
                    model.target(m).map(|s| &s.kind),
                    Some(ShapeKind::Structure(_) | ShapeKind::List(_))
                );
                if aggregate {
                    let v = synth.member_value(m, path.len(), Fill::Required);
                    let filled = set_at(base, path, Some(v.clone()));
                    collect_inner(model, synth, m, &v, &filled, path, &label, depth, out);
                }
            }
        }
        path.pop();
    }
}

#[allow(clippy::too_many_arguments)]
fn collect_inner<'m>(
    model: &'m Model,
    synth: &Synth,
    member: &'m Member,
    value: &Value,
    base: &Value,
    path: &mut Vec<Step>,
    label: &str,
    depth: usize,
    out: &mut Vec<Site<'m>>,
) {
    match model.target(member).map(|s| &s.kind) {
        Some(ShapeKind::Structure(ms)) => {
            collect_sites(model, synth, ms, value, base, path, label, depth + 1, out)
        }
        Some(ShapeKind::List(item)) => {
            if let Some(first) = value.get(0) {
                path.push(Step::Index(0));
                let item_label = format!("{label}[0]");
                out.push(Site {
                    path: path.clone(),
                    member: item,
                    label: item_label.clone(),
                    required: false,
                    base: base.clone(),
                });
                collect_inner(
                    model,
                    synth,
                    item,
                    first,
                    base,
                    path,
                    &item_label,
                    depth + 1,
                    out,
                );
                path.pop();
            }
        }
        _ => {}
    }
}

/// `value` with the member at `path` replaced (`Some`) or removed (`None`). Missing
/// structures on the way are created.
fn set_at(value: &Value, path: &[Step], new: Option<Value>) -> Value {
    let mut out = value.clone();
    let mut cur = &mut out;
    for (i, step) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        match step {
            Step::Key(k) => {
                if !cur.is_object() {
                    *cur = Value::Object(Map::new());
                }
                let Value::Object(map) = cur else { break };
                if last {
                    match new {
                        Some(v) => {
                            map.insert(k.clone(), v);
                        }
                        None => {
                            map.remove(k);
                        }
                    }
                    break;
                }
                cur = map
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
            }
            Step::Index(n) => {
                let Value::Array(items) = cur else { break };
                if *n >= items.len() {
                    break;
                }
                if last {
                    match new {
                        Some(v) => items[*n] = v,
                        None => {
                            items.remove(*n);
                        }
                    }
                    break;
                }
                cur = &mut items[*n];
            }
        }
    }
    out
}

fn get_at<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    let mut cur = value;
    for step in path {
        cur = match step {
            Step::Key(k) => cur.get(k)?,
            Step::Index(n) => cur.get(n)?,
        };
    }
    Some(cur)
}

/// `attributes[0].key` → `attributes_0_key`, `assessmentRunName` → `assessment_run_name`.
pub fn snake(label: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in label.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    out.trim_end_matches('_').to_owned()
}

/// `NoSuchEntityException` → `no-such-entity`.
fn kebab_error(name: &str) -> String {
    snake(name.strip_suffix("Exception").unwrap_or(name)).replace('_', "-")
}

struct Ctx<'a> {
    model: &'a Model,
    op: &'a Operation,
    synth: &'a Synth<'a>,
    input: Option<&'a Shape>,
    output: Option<&'a Shape>,
    content_type: &'static str,
    valid_body: Value,
    valid_source: String,
    from_example: bool,
    depth_cut: bool,
    output_body: Value,
    output_source: String,
}

impl<'a> Ctx<'a> {
    fn new(
        model: &'a Model,
        op: &'a Operation,
        synth: &'a Synth<'a>,
        examples: &ExampleSet,
    ) -> Self {
        let input = op.input.as_deref().and_then(|id| model.shape(id));
        let output = op.output.as_deref().and_then(|id| model.shape(id));
        let mut valid = None;
        for ex in examples.for_operation(model, op) {
            let body = ex.input.clone().unwrap_or_else(|| json!({}));
            if structure_fits(model, op.input.as_deref(), &body) {
                let out = ex
                    .output
                    .clone()
                    .filter(|o| structure_fits(model, op.output.as_deref(), o));
                valid = Some((body, ex.source.clone(), out));
                break;
            }
        }
        let input_name = input.map_or("(no input)".to_owned(), |s| s.name().to_owned());
        let output_name = output.map_or("(no output)".to_owned(), |s| s.name().to_owned());
        let (valid_body, valid_source, from_example, example_output) = match valid {
            Some((body, source, out)) => (body, source, true, out),
            None => (
                synth.shape_value(op.input.as_deref(), Fill::Required),
                format!(
                    "service model, {input_name}: every required member, each value meeting its traits"
                ),
                false,
                None,
            ),
        };
        // A required member that recurses admits no finite valid value: the value stops at
        // the depth limit, and the valid case says so.
        let depth_cut = !structure_fits(model, op.input.as_deref(), &valid_body);
        let (output_body, output_source) = match example_output {
            Some(out) => (
                out,
                format!("{valid_source} (its output, which meets {output_name})"),
            ),
            None => (
                synth.shape_value(op.output.as_deref(), Fill::All),
                format!("service model, {output_name}: a value valid against the shape"),
            ),
        };
        Ctx {
            model,
            op,
            synth,
            input,
            output,
            content_type: model.service.content_type(),
            valid_body,
            valid_source,
            from_example,
            depth_cut,
            output_body,
            output_source,
        }
    }

    fn headers_expect(&self) -> Value {
        json!({ "content-type": self.content_type, "x-amzn-requestid": { "matches": "any-string" } })
    }

    /// The firm expectation of a success: 200, the protocol's content type, a request id, and
    /// every required output member by type and constraint.
    fn success_expect(&self) -> Value {
        let mut e = Map::new();
        e.insert("status".into(), json!(200));
        e.insert("headers".into(), self.headers_expect());
        let body = required_members(self.model, self.output);
        if !body.is_empty() {
            e.insert("body_includes".into(), Value::Object(body));
        }
        Value::Object(e)
    }

    fn success_answer(&self, provenance: RecordingProvenance, note: &str) -> Answer {
        Answer {
            status: 200,
            body: self.output_body.clone(),
            provenance,
            source: self.output_source.clone(),
            note: note.to_owned(),
        }
    }

    fn client_errors(&self) -> Vec<&'a Shape> {
        self.op
            .errors
            .iter()
            .filter_map(|id| self.model.shape(id))
            .filter(|s| s.error_status().is_some_and(|st| st < 500))
            .collect()
    }

    fn declared_error(&self, name: &str) -> Option<&'a Shape> {
        self.model.operation_error(self.op, name)
    }

    fn base_tags(&self) -> Vec<String> {
        Vec::new()
    }

    fn valid_case(&self) -> GenCase {
        let mut covers: Vec<String> = self
            .valid_body
            .as_object()
            .map(|m| m.keys().map(|k| format!("member:{k}")).collect())
            .unwrap_or_default();
        for m in self.output.map(Shape::members).unwrap_or_default() {
            if m.required {
                covers.push(format!("output:{}", m.name));
            }
        }
        let mut tags = self.base_tags();
        tags.push("happy-path".into());
        if self.from_example {
            tags.push("example".into());
        }
        let mut cut = String::new();
        if self.depth_cut {
            tags.push("depth-limited".into());
            cut = format!(
                " The model admits no finite valid request (a required member recurses): the generated value stops after {} levels, so its innermost structure lacks a required member.",
                super::values::HARD_DEPTH
            );
        }
        GenCase {
            stem: "valid_request".into(),
            name: format!("{}: a valid request is answered with 200", self.op.name),
            description: format!(
                "A request with every required member, each value meeting its traits ({}). The answer must be a 200 with every required output member of the right type and within its constraints. Against a live account the entities the request names must exist.",
                if self.from_example { "the documented example" } else { "built from the model" }
            ) + &cut,
            source: format!("{}; output: {}", self.valid_source, self.output.map_or("none", |s| s.name())),
            expectation: modeled(self.success_expect()),
            tags,
            covers,
            skip: BTreeMap::new(),
            fault: None,
            body: self.valid_body.clone(),
            answer: self.success_answer(
                RecordingProvenance::Modeled,
                "Built from the service model: a value valid against the output shape (from the documented example where it has one). Not recorded from AWS.",
            ),
        }
    }

    fn error_case(&self, shape: &'a Shape) -> GenCase {
        let name = shape.name().to_owned();
        let status = shape.error_status().unwrap_or(400);
        let status_source = match (shape.traits.http_error, status >= 500) {
            (Some(s), _) => format!("httpError {s}"),
            (None, true) => "a server error: 500".into(),
            (None, false) => "a client error: 400".into(),
        };
        let server = status >= 500;
        let tag = if server {
            "fault-only".to_owned()
        } else {
            format!("needs-{}", kebab_error(&name))
        };
        let reason = if server {
            format!(
                "{name} is a server fault: it cannot be caused on demand against AWS (the request carries {FAULT_HEADER}, which AWS ignores)"
            )
        } else {
            format!(
                "the request is the valid one marked with {FAULT_HEADER}: {name}, which AWS ignores; against AWS this error needs an account in the state it describes"
            )
        };
        let mut expect = Map::new();
        expect.insert("status".into(), json!(status));
        expect.insert("headers".into(), self.headers_expect());
        expect.insert("error".into(), error_shorthand(self.model, shape));
        let required: Vec<&str> = shape
            .members()
            .iter()
            .filter(|m| m.required)
            .map(|m| m.name.as_str())
            .collect();
        GenCase {
            stem: format!("error_{}", snake(name.strip_suffix("Exception").unwrap_or(&name))),
            name: format!("{}: {name} (fault injection)", self.op.name),
            description: format!(
                "The declared error {name}: HTTP {status} with every required member ({}) of the right type and within its constraints. The request is the valid one with the header {FAULT_HEADER}: {name}, so the replay answers it with the error and an emulator can key its fault injection on it.",
                if required.is_empty() { "none".to_owned() } else { required.join(", ") }
            ),
            source: format!(
                "service model: {} errors, {name} ({status_source}; required members and their traits)",
                self.op.name
            ),
            expectation: modeled(Value::Object(expect)),
            tags: vec!["error".into(), tag],
            covers: vec![format!("error:{name}")],
            skip: BTreeMap::from([("aws".to_owned(), reason)]),
            fault: Some(name.clone()),
            body: self.valid_body.clone(),
            answer: Answer {
                status,
                body: self.error_body(shape, MODELED_MESSAGE),
                provenance: RecordingProvenance::Modeled,
                source: format!("service model, {} errors, {name}", self.op.name),
                note: "Built from the service model: the error shape, its status and its required members (an errorCode is the enum's first value). Not recorded from AWS: the message text is not known (the body says so) and other values are placeholders of the right type.".into(),
            },
        }
    }

    /// `{"__type": name, ...required members}` with the message placeholder.
    fn error_body(&self, shape: &Shape, message: &str) -> Value {
        let mut body = Map::new();
        body.insert("__type".into(), json!(shape.name()));
        if let Value::Object(members) = self.synth.structure(shape.members(), 0, Fill::Required) {
            body.extend(members);
        }
        for m in shape.members() {
            if m.name.eq_ignore_ascii_case("message") && body.contains_key(&m.name) {
                let traits = self.model.effective_traits(m);
                body.insert(
                    m.name.clone(),
                    json!(super::values::fit_length(message, &traits)),
                );
            }
        }
        Value::Object(body)
    }

    /// The alternatives of a value the model forbids, and the recording of the first.
    fn rejected(&self, trait_text: &str, label: &str, wrong_type: bool) -> (Expectation, Answer) {
        let mut alts = vec![json!({
            "status": 400,
            "headers": { "x-amzn-requestid": { "matches": "any-string" } },
            // PROTOCOL-NOTES' common-errors list spells it ValidationError.
            "error": { "type": ["ValidationException", "ValidationError"] }
        })];
        if wrong_type {
            alts.push(json!({
                "status": 400,
                "headers": { "x-amzn-requestid": { "matches": "any-string" } },
                "error": { "type": "SerializationException" }
            }));
        }
        let invalid_input = self.declared_error("InvalidInputException");
        if let Some(shape) = invalid_input {
            alts.push(json!({
                "status": 400,
                "headers": self.headers_expect(),
                "error": error_shorthand(self.model, shape)
            }));
        }
        let why = format!(
            "The model says {label} breaks its {trait_text}, not which error that draws. Plausible: ValidationException, the generic constraint-violation error of AWS JSON services (not in this operation's errors){}{}. The recording holds the first.",
            if wrong_type {
                "; SerializationException, for a value that does not deserialise"
            } else {
                ""
            },
            if invalid_input.is_some() {
                "; or the declared InvalidInputException"
            } else {
                ""
            }
        );
        let firm = format!(
            "a constraint violation is the caller's fault, a 4xx (Smithy constraint traits; {} error responses).",
            self.model.service.protocol.name()
        );
        let e = guessed(Some(json!({ "status": "4xx" })), &firm, &why, alts);
        let answer = Answer {
            status: 400,
            body: json!({ "__type": "ValidationException", "message": INFERRED_MESSAGE }),
            provenance: RecordingProvenance::Inferred,
            source: format!("service model, {}: {label}, {trait_text}", self.op.name),
            note: "Inferred: the case's first alternative, ValidationException (HTTP 400). Neither the error type nor the message is known to come from the service.".into(),
        };
        (e, answer)
    }

    /// The alternatives of a value the model allows at an edge, and the recording (a 200).
    fn allowed(&self, trait_text: &str, label: &str) -> (Expectation, Answer) {
        let mut alts = vec![self.success_expect()];
        let names: Vec<String> = self
            .client_errors()
            .iter()
            .map(|s| s.name().to_owned())
            .collect();
        if !names.is_empty() {
            alts.push(json!({ "status": 400, "error": { "type": names } }));
        }
        let why = format!(
            "The model allows {label} at this edge of its {trait_text}, so no constraint error is due; whether the service accepts what the value names (an entity, a name of this length) the model does not say, so one of the declared client errors is accepted too. The recording holds the 200."
        );
        let e = guessed(
            None,
            "the value meets the model's constraints (no constraint-violation error).",
            &why,
            alts,
        );
        (
            e,
            self.success_answer(
                RecordingProvenance::Inferred,
                "Inferred: the case's first alternative, a 200 with a value valid against the output shape. Not recorded from AWS.",
            ),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn push_edge(
        &self,
        out: &mut Vec<GenCase>,
        site: &Site,
        stem: String,
        what: String,
        body: Value,
        tags: &[&str],
        cover: String,
        (expectation, answer): (Expectation, Answer),
    ) {
        let mut covers = vec![cover];
        if let Some(Step::Key(top)) = site.path.first() {
            covers.push(format!("member:{top}"));
        }
        out.push(GenCase {
            stem,
            name: format!("{}: {} {what}", self.op.name, site.label),
            description: format!(
                "The valid request with {} {what}; every other member as in the valid request.",
                site.label
            ),
            source: format!(
                "service model, {}: member {} (shape {})",
                self.input.map_or("input", |s| s.name()),
                site.label,
                crate::model::shape_name(&site.member.target)
            ),
            expectation,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            covers,
            skip: BTreeMap::new(),
            fault: None,
            body,
            answer,
        });
    }

    /// The edge cases of one member.
    fn edge_cases(&self, site: &Site, out: &mut Vec<GenCase>) {
        let model = self.model;
        let m = site.member;
        let s = snake(&site.label);
        let cid = site.label.replace("[0]", "[]");
        let traits = model.effective_traits(m);
        let current = get_at(&site.base, &site.path)
            .cloned()
            .unwrap_or_else(|| self.synth.member_value(m, site.path.len(), Fill::Required));
        let with = |v: Option<Value>| set_at(&site.base, &site.path, v);
        if site.required {
            self.push_edge(
                out,
                site,
                format!("{s}_missing"),
                "missing (it is required)".into(),
                with(None),
                &["constraint", "required"],
                format!("constraint:{cid}.required"),
                self.rejected("required trait", &site.label, false),
            );
        }
        if let Some(v) = wrong_type(model, m) {
            let wrong = json_type_of(&v);
            self.push_edge(
                out,
                site,
                format!("{s}_wrong_type"),
                format!(
                    "of the wrong JSON type ({} for a {})",
                    crate::matching::describe(&v),
                    json_type(model, m)
                ),
                with(Some(v)),
                &["constraint", "wrong-type"],
                // The id the curated suite and the coverage table use for the same edge.
                format!("wrong-type:{cid}.{wrong}"),
                self.rejected("type", &site.label, true),
            );
        }
        let Some(shape) = model.target(m) else { return };
        let len = traits.length.unwrap_or_default();
        match &shape.kind {
            ShapeKind::String => {
                if traits.enum_values.as_ref().is_some_and(|v| !v.is_empty()) {
                    self.push_edge(
                        out,
                        site,
                        format!("{s}_not_in_enum"),
                        "outside its enum (CONFORM_NOT_IN_ENUM)".into(),
                        with(Some(json!("CONFORM_NOT_IN_ENUM"))),
                        &["constraint", "enum"],
                        format!("constraint:{cid}.enum"),
                        self.rejected("enum", &site.label, false),
                    );
                    return;
                }
                if let Some(p) = &traits.pattern {
                    let bad = "!conform: not matching the pattern!";
                    if regex::Regex::new(p).is_ok_and(|re| !re.is_match(bad)) {
                        self.push_edge(
                            out,
                            site,
                            format!("{s}_pattern_mismatch"),
                            format!("not matching its pattern ({bad:?})"),
                            with(Some(json!(bad))),
                            &["constraint", "pattern"],
                            format!("constraint:{cid}.pattern"),
                            self.rejected("pattern trait", &site.label, false),
                        );
                    }
                    // A value of an exact length would rarely match the pattern too.
                    return;
                }
                let seed = current.as_str().map(str::to_owned).unwrap_or_default();
                let seed = if seed.is_empty() {
                    format!("conform-{}", m.name)
                } else {
                    seed
                };
                for (n, edge, ok) in length_edges(len) {
                    let value = string_of_length(&seed, n as usize);
                    let what =
                        format!("of {n} character{} ({edge})", if n == 1 { "" } else { "s" });
                    let cover = format!(
                        "constraint:{cid}.length.{}",
                        if edge.starts_with("min") {
                            "min"
                        } else {
                            "max"
                        }
                    );
                    let ex = if ok {
                        self.allowed("length trait", &site.label)
                    } else {
                        self.rejected("length trait", &site.label, false)
                    };
                    self.push_edge(
                        out,
                        site,
                        format!("{s}_length_{n}"),
                        what,
                        with(Some(json!(value))),
                        &["constraint", "boundary"],
                        cover,
                        ex,
                    );
                }
            }
            ShapeKind::Number(kind) => {
                let range = traits.range.unwrap_or_default();
                let mut edges = Vec::new();
                if let Some(lo) = range.min {
                    edges.push((lo - 1.0, "min - 1", false));
                    edges.push((lo, "min", true));
                }
                if let Some(hi) = range.max {
                    edges.push((hi, "max", true));
                    edges.push((hi + 1.0, "max + 1", false));
                }
                if let Some((lo, hi)) = kind.bounds() {
                    edges.retain(|(v, _, _)| *v >= lo as f64 && *v <= hi as f64);
                }
                for (v, edge, ok) in edges {
                    let value = number_value(*kind, v);
                    let what = format!("of {value} ({edge})");
                    let cover = format!(
                        "constraint:{cid}.range.{}",
                        if edge.starts_with("min") {
                            "min"
                        } else {
                            "max"
                        }
                    );
                    let ex = if ok {
                        self.allowed("range trait", &site.label)
                    } else {
                        self.rejected("range trait", &site.label, false)
                    };
                    let stem = format!("{s}_range_{}", value.to_string().replace(['-', '.'], "_"));
                    self.push_edge(
                        out,
                        site,
                        stem,
                        what,
                        with(Some(value)),
                        &["constraint", "boundary"],
                        cover,
                        ex,
                    );
                }
            }
            ShapeKind::List(item) => {
                for (n, edge, ok) in length_edges(len) {
                    if ok || n > MAX_ITEMS {
                        continue;
                    }
                    let items: Vec<Value> = (0..n as usize)
                        .map(|i| match (i, current.get(0)) {
                            (0, Some(first)) => first.clone(),
                            _ => {
                                self.synth
                                    .item_value(item, site.path.len() + 1, Fill::Required, i)
                            }
                        })
                        .collect();
                    let what = format!("of {n} item{} ({edge})", if n == 1 { "" } else { "s" });
                    let cover = format!(
                        "constraint:{cid}.length.{}",
                        if edge.starts_with("min") {
                            "min"
                        } else {
                            "max"
                        }
                    );
                    let ex = self.rejected("length trait (list size)", &site.label, false);
                    self.push_edge(
                        out,
                        site,
                        format!("{s}_items_{n}"),
                        what,
                        with(Some(Value::Array(items))),
                        &["constraint", "boundary"],
                        cover,
                        ex,
                    );
                }
            }
            ShapeKind::Map { key, value } => {
                for (n, edge, ok) in length_edges(len) {
                    if ok || n > MAX_ITEMS {
                        continue;
                    }
                    let mut map = Map::new();
                    for i in 0..n as usize {
                        map.insert(
                            self.synth.key_value(key, i),
                            self.synth
                                .member_value(value, site.path.len() + 1, Fill::Required),
                        );
                    }
                    if map.len() as u64 != n {
                        continue; // an enum key with fewer values than entries
                    }
                    let what = format!("of {n} entr{} ({edge})", if n == 1 { "y" } else { "ies" });
                    let cover = format!(
                        "constraint:{cid}.length.{}",
                        if edge.starts_with("min") {
                            "min"
                        } else {
                            "max"
                        }
                    );
                    let ex = self.rejected("length trait (map size)", &site.label, false);
                    self.push_edge(
                        out,
                        site,
                        format!("{s}_entries_{n}"),
                        what,
                        with(Some(Value::Object(map))),
                        &["constraint", "boundary"],
                        cover,
                        ex,
                    );
                }
            }
            _ => {}
        }
    }
}

/// The lengths at the edges of a `length` trait: min - 1, min, max, max + 1 (each with
/// whether the model allows it).
fn length_edges(len: crate::model::Length) -> Vec<(u64, &'static str, bool)> {
    let mut out = Vec::new();
    if let Some(min) = len.min {
        if min > 0 {
            out.push((min - 1, "min - 1", false));
        }
        out.push((min, "min", true));
    }
    if let Some(max) = len.max {
        if Some(max) != len.min {
            out.push((max, "max", true));
        }
        out.push((max + 1, "max + 1", false));
    }
    out
}

/// The JSON type a value has, as `wrong-type:` coverage ids name it.
fn json_type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_of_labels() {
        assert_eq!(snake("assessmentRunName"), "assessment_run_name");
        assert_eq!(snake("attributes[0].key"), "attributes_0_key");
        assert_eq!(snake("NoSuchEntity"), "no_such_entity");
        assert_eq!(kebab_error("NoSuchEntityException"), "no-such-entity");
    }

    #[test]
    fn set_at_replaces_and_removes_nested_members() {
        let v = json!({"a": [{"b": 1, "c": 2}], "d": 3});
        let path = [Step::Key("a".into()), Step::Index(0), Step::Key("b".into())];
        assert_eq!(
            set_at(&v, &path, Some(json!(9))),
            json!({"a": [{"b": 9, "c": 2}], "d": 3})
        );
        assert_eq!(set_at(&v, &path, None), json!({"a": [{"c": 2}], "d": 3}));
        assert_eq!(
            set_at(&v, &[Step::Key("e".into())], Some(json!(1)))["e"],
            json!(1)
        );
    }

    #[test]
    fn length_edges_cover_both_ends() {
        let l = crate::model::Length {
            min: Some(1),
            max: Some(140),
        };
        let e: Vec<u64> = length_edges(l).into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(e, vec![0, 1, 140, 141]);
        let l = crate::model::Length {
            min: Some(0),
            max: None,
        };
        assert_eq!(length_edges(l).len(), 1);
    }
}
