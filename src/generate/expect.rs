//! The expectations generated cases carry: matchers built from a member's type and traits,
//! the error shorthand for a declared error, and the one place that decides how a guess is
//! written ([`guessed`]).

use serde_json::{Map, Value, json};

use crate::model::{Member, Model, Shape, ShapeKind};

use super::values::json_type;

/// How deep member matchers go into lists of structures (an `each` per level).
const MATCHER_DEPTH: usize = 2;

/// A matcher for a member's value by type and constraint: enums as `one_of`, strings and
/// lists with their `length`, patterns as `regex`, everything else by JSON type.
pub fn member_matcher(model: &Model, member: &Member, depth: usize) -> Value {
    let traits = model.effective_traits(member);
    if let Some(values) = traits.enum_values.as_ref().filter(|v| !v.is_empty()) {
        return json!({ "one_of": values.iter().map(|e| e.value.clone()).collect::<Vec<_>>() });
    }
    let ty = json_type(model, member);
    if ty == "any" {
        return json!({ "matches": "any" });
    }
    let mut all = vec![json!({ "type": ty })];
    let sized = matches!(
        model.target(member).map(|s| &s.kind),
        Some(ShapeKind::String | ShapeKind::List(_) | ShapeKind::Map { .. })
    );
    if let Some(len) = traits.length.filter(|_| sized) {
        let mut l = Map::new();
        if let Some(min) = len.min {
            l.insert("min".into(), json!(min));
        }
        if let Some(max) = len.max {
            l.insert("max".into(), json!(max));
        }
        all.push(json!({ "length": l }));
    }
    if let Some(p) = &traits.pattern {
        // Smithy patterns are not anchored, nor is the regex matcher: the same reading.
        all.push(json!({ "regex": p }));
    }
    if let Some(ShapeKind::List(item)) = model.target(member).map(|s| &s.kind)
        && depth < MATCHER_DEPTH
    {
        all.push(json!({ "each": member_matcher(model, item, depth + 1) }));
    }
    if all.len() == 1 {
        all.pop().unwrap_or(Value::Null)
    } else {
        json!({ "all_of": all })
    }
}

/// The required members of a structure, each with its matcher (an output's `body_includes`).
pub fn required_members(model: &Model, shape: Option<&Shape>) -> Map<String, Value> {
    let mut out = Map::new();
    for m in shape.map(Shape::members).unwrap_or_default() {
        if m.required {
            out.insert(m.name.clone(), member_matcher(model, m, 0));
        }
    }
    out
}

/// The error shorthand for a declared error: its type and every required member by type
/// and constraint (an `errorCode` within its enum).
pub fn error_shorthand(model: &Model, shape: &Shape) -> Value {
    let mut e = Map::new();
    e.insert("type".into(), json!(shape.name()));
    for (name, matcher) in required_members(model, Some(shape)) {
        e.insert(name, matcher);
    }
    Value::Object(e)
}

/// What a case says and how sure it is.
#[derive(Clone, Debug)]
pub struct Expectation {
    pub provenance: &'static str,
    pub why: Option<String>,
    pub expect: Value,
    /// The case's `guess:` block (`why` and the alternatives), when a firm `expect` stands
    /// beside it.
    pub guess: Option<Value>,
}

/// A firm expectation: the model fixes it.
pub fn modeled(expect: Value) -> Expectation {
    Expectation {
        provenance: "modeled",
        why: None,
        expect,
        guess: None,
    }
}

/// A guess. The firm part (`firm`, what a source fixes, e.g. "a 4xx status") is already in
/// every alternative; `why` says what no source fixes. Today's case format writes this as an
/// `inferred` case whose whole expectation is `any_of` the alternatives. When the `guess:`
/// block lands, this one function changes: `modeled` with `expect: firm` and
/// `guess: { why, any_of }`.
pub fn guessed(
    firm: Option<Value>,
    firm_text: &str,
    why: &str,
    alternatives: Vec<Value>,
) -> Expectation {
    let alternatives = if alternatives.len() == 1 {
        alternatives.into_iter().next().unwrap_or(Value::Null)
    } else {
        json!({ "any_of": alternatives })
    };
    match firm {
        // What a source fixes is firm (a failure when it does not hold); the rest is the guess.
        Some(firm) => {
            let mut guess = json!({ "why": why });
            if let (Some(g), Value::Object(alts)) = (guess.as_object_mut(), alternatives) {
                g.extend(alts);
            }
            Expectation {
                provenance: "modeled",
                why: None,
                expect: firm,
                guess: Some(guess),
            }
        }
        // Nothing a case can check is fixed: the whole expectation is the guess.
        None => Expectation {
            provenance: "inferred",
            why: Some(format!("{why} What a source does fix: {firm_text}")),
            expect: alternatives,
            guess: None,
        },
    }
}
