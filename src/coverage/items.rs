//! The items of one operation, read from the service model: its input members, every
//! constraint of every member reachable from the input (required, length and range bounds,
//! enum, pattern, list and map sizes, the JSON type), its required output members, its
//! declared errors, the `errorCode` values of those errors and the enum values of its input
//! members. Ids are those cases name in `covers:`; nested members are written as paths
//! (`filter.agentIds[]`), the way the generator writes them.

use crate::model::{Member, Model, Operation, ShapeKind};

use super::{Item, Kind};

/// Where model items come from.
const MODEL: &str = "service model";

/// The model's items of `op`, in a fixed order: members and their constraints in member
/// order (depth first), output, errors, errorCode values.
pub fn model_items(model: &Model, op: &Operation) -> Vec<Item> {
    let mut out = Vec::new();
    let input = op.input.as_deref().and_then(|id| model.shape(id));
    for m in input.map(|s| s.members()).unwrap_or_default() {
        out.push(item(op, format!("member:{}", m.name), Kind::Member, MODEL));
        let mut on_path = vec![m.target.clone()];
        member_items(model, op, m, &m.name, m.required, &mut on_path, &mut out);
    }
    let output = op.output.as_deref().and_then(|id| model.shape(id));
    for m in output.map(|s| s.members()).unwrap_or_default() {
        // Only required members: an optional one may be absent from every valid answer, so
        // no case can be asked to show it.
        if m.required {
            out.push(item(
                op,
                format!("output:{}", m.name),
                Kind::Output,
                "service model (required output member)",
            ));
        }
    }
    for id in &op.errors {
        if let Some(shape) = model.shape(id) {
            out.push(item(
                op,
                format!("error:{}", shape.name()),
                Kind::Error,
                "service model (declared error)",
            ));
        }
    }
    out
}

/// The `errorCode` values of an operation's declared errors (every value of each enum, in
/// model order, without duplicates).
pub fn error_codes(model: &Model, op: &Operation) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for shape in op.errors.iter().filter_map(|id| model.shape(id)) {
        for m in shape.members().iter().filter(|m| m.name == "errorCode") {
            for v in model.effective_traits(m).enum_values.unwrap_or_default() {
                if !out.contains(&v.value) {
                    out.push(v.value);
                }
            }
        }
    }
    out
}

fn item(op: &Operation, id: String, kind: Kind, source: &str) -> Item {
    Item {
        operation: op.name.clone(),
        id,
        kind,
        source: source.to_owned(),
        member_type: None,
        known_gap: None,
    }
}

/// The constraint items of one member at `cid` and of what it holds. `on_path` holds the
/// shapes above it, so a recursive shape ends (its second visit adds nothing).
fn member_items(
    model: &Model,
    op: &Operation,
    m: &Member,
    cid: &str,
    required: bool,
    on_path: &mut Vec<String>,
    out: &mut Vec<Item>,
) {
    let traits = model.effective_traits(m);
    if required {
        out.push(item(
            op,
            format!("constraint:{cid}.required"),
            Kind::Constraint,
            "service model (required)",
        ));
    }
    let ty = crate::generate::values::json_type(model, m);
    if ty != "any" {
        let mut wrong = item(
            op,
            format!("wrong-type:{cid}"),
            Kind::WrongType,
            "service model (member type)",
        );
        wrong.member_type = Some(ty);
        out.push(wrong);
    }
    let Some(shape) = model.target(m) else { return };
    let length = |out: &mut Vec<Item>, what: &str| {
        if let Some(len) = traits.length {
            // A minimum of 0 is no bound a request can break (botocore leaves it out).
            if len.min.is_some_and(|m| m > 0) {
                out.push(item(
                    op,
                    format!("constraint:{cid}.length.min"),
                    Kind::Constraint,
                    &format!("service model (length min, {what})"),
                ));
            }
            if len.max.is_some() {
                out.push(item(
                    op,
                    format!("constraint:{cid}.length.max"),
                    Kind::Constraint,
                    &format!("service model (length max, {what})"),
                ));
            }
        }
    };
    match &shape.kind {
        ShapeKind::String => {
            if let Some(values) = traits.enum_values.as_ref().filter(|v| !v.is_empty()) {
                out.push(item(
                    op,
                    format!("constraint:{cid}.enum"),
                    Kind::Constraint,
                    "service model (enum)",
                ));
                for v in values {
                    out.push(item(
                        op,
                        format!("enum:{cid}={}", v.value),
                        Kind::EnumValue,
                        "service model (enum value)",
                    ));
                }
            }
            if traits.pattern.is_some() {
                out.push(item(
                    op,
                    format!("constraint:{cid}.pattern"),
                    Kind::Constraint,
                    "service model (pattern)",
                ));
            }
            length(out, "characters");
        }
        ShapeKind::Number(_) => {
            if let Some(range) = traits.range {
                for (bound, name) in [(range.min, "min"), (range.max, "max")] {
                    if bound.is_some() {
                        out.push(item(
                            op,
                            format!("constraint:{cid}.range.{name}"),
                            Kind::Constraint,
                            &format!("service model (range {name})"),
                        ));
                    }
                }
            }
        }
        ShapeKind::List(inner) => {
            length(out, "list size");
            if !on_path.contains(&inner.target) {
                on_path.push(inner.target.clone());
                member_items(model, op, inner, &format!("{cid}[]"), false, on_path, out);
                on_path.pop();
            }
        }
        ShapeKind::Map { .. } => length(out, "map size"),
        ShapeKind::Structure(members) => {
            for inner in members {
                if on_path.contains(&inner.target) {
                    continue;
                }
                on_path.push(inner.target.clone());
                member_items(
                    model,
                    op,
                    inner,
                    &format!("{cid}.{}", inner.name),
                    inner.required,
                    on_path,
                    out,
                );
                on_path.pop();
            }
        }
        _ => {}
    }
}
