//! Values for shapes: a deterministic valid value for any shape (no randomness, no clock, so
//! regenerating gives identical bytes), strings of an exact length in Unicode scalar values
//! (as Smithy's `length` trait counts them), and a value of the wrong JSON type.
//!
//! Recursive shapes end: below [`MAX_DEPTH`] nested levels optional members are left out,
//! lists and maps get their minimum size, and at [`HARD_DEPTH`] even required members stop
//! (the value is then `{}` / `[]`, which the case descriptions never claim to be valid).

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::model::{Member, Model, NumberKind, ShapeKind, TimestampFormat, Traits};

/// Below this depth only required members are filled in.
pub const MAX_DEPTH: usize = 4;
/// At this depth generation stops whatever the model requires (recursive required members).
pub const HARD_DEPTH: usize = 12;

/// A fixed instant for timestamps: 2016-02-16T00:00:00Z, the API version's date.
pub const TIMESTAMP_EPOCH: i64 = 1_455_580_800;

/// What a generated value is for: requests hold required members only (plus examples);
/// responses hold every member down to [`MAX_DEPTH`], so SDKs have something to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    Required,
    All,
}

/// A string of exactly `n` Unicode scalar values, starting with `seed` (cut or padded with
/// digits, so every length looks different from its neighbours).
pub fn string_of_length(seed: &str, n: usize) -> String {
    let mut out: String = seed.chars().take(n).collect();
    let mut i = 0usize;
    while out.chars().count() < n {
        out.push(char::from(b'0' + (i % 10) as u8));
        i += 1;
    }
    out
}

/// The JSON type name a value of this shape has on the awsJson wire.
pub fn json_type(model: &Model, member: &Member) -> &'static str {
    let traits = model.effective_traits(member);
    match model.target(member).map(|s| &s.kind) {
        Some(ShapeKind::Structure(_) | ShapeKind::Union(_) | ShapeKind::Map { .. }) => "object",
        Some(ShapeKind::List(_)) => "array",
        Some(ShapeKind::String | ShapeKind::Blob) => "string",
        Some(ShapeKind::Number(n)) if n.is_integral() => "integer",
        Some(ShapeKind::Number(_)) => "number",
        Some(ShapeKind::Boolean) => "boolean",
        Some(ShapeKind::Timestamp) => match traits.timestamp_format {
            Some(TimestampFormat::DateTime | TimestampFormat::HttpDate) => "string",
            _ => "number",
        },
        Some(ShapeKind::Document | ShapeKind::Unit) | None => "any",
    }
}

/// A value of another JSON type than the member's (for the wrong-type cases), or `None` for
/// a document, which takes any JSON.
pub fn wrong_type(model: &Model, member: &Member) -> Option<Value> {
    Some(match json_type(model, member) {
        "string" => json!(12345),
        "integer" | "number" => json!("12345"),
        "boolean" => json!("true"),
        "array" => json!({"conform": "not a list"}),
        "object" => json!("not an object"),
        _ => return None,
    })
}

/// Builds valid values for one model.
pub struct Synth<'m> {
    pub model: &'m Model,
}

impl<'m> Synth<'m> {
    pub fn new(model: &'m Model) -> Self {
        Self { model }
    }

    /// A valid value for a member (its target shape, with the member's traits applied).
    pub fn member_value(&self, member: &Member, depth: usize, fill: Fill) -> Value {
        let traits = self.model.effective_traits(member);
        let Some(shape) = self.model.target(member) else {
            return Value::Null;
        };
        match &shape.kind {
            ShapeKind::Structure(members) => self.structure(members, depth, fill),
            ShapeKind::Union(members) => {
                // A union holds exactly one member: the first.
                let mut map = Map::new();
                if let Some(m) = members.first().filter(|_| depth < HARD_DEPTH) {
                    map.insert(m.name.clone(), self.member_value(m, depth + 1, fill));
                }
                Value::Object(map)
            }
            ShapeKind::List(item) => {
                let n = self.collection_size(&traits, depth);
                Value::Array(
                    (0..n)
                        .map(|i| self.item_value(item, depth + 1, fill, i))
                        .collect(),
                )
            }
            ShapeKind::Map { key, value } => {
                let n = self.collection_size(&traits, depth);
                let mut map = Map::new();
                for i in 0..n {
                    let k = self.key_value(key, i);
                    map.insert(k, self.member_value(value, depth + 1, fill));
                }
                Value::Object(map)
            }
            ShapeKind::String => Value::String(self.string(&member.name, &traits, 0)),
            ShapeKind::Number(kind) => number(*kind, &traits),
            ShapeKind::Boolean => Value::Bool(false),
            ShapeKind::Blob => Value::String("Y29uZm9ybQ==".into()),
            ShapeKind::Timestamp => match traits.timestamp_format {
                Some(TimestampFormat::DateTime) => json!("2016-02-16T00:00:00Z"),
                Some(TimestampFormat::HttpDate) => json!("Tue, 16 Feb 2016 00:00:00 GMT"),
                _ => json!(TIMESTAMP_EPOCH),
            },
            ShapeKind::Document => json!({}),
            ShapeKind::Unit => json!({}),
        }
    }

    /// A structure with its required members (and, for [`Fill::All`] above [`MAX_DEPTH`],
    /// its optional ones).
    pub fn structure(&self, members: &[Member], depth: usize, fill: Fill) -> Value {
        let mut map = Map::new();
        if depth >= HARD_DEPTH {
            return Value::Object(map);
        }
        for m in members {
            let wanted = m.required || (fill == Fill::All && depth < MAX_DEPTH);
            if wanted {
                map.insert(m.name.clone(), self.member_value(m, depth + 1, fill));
            }
        }
        Value::Object(map)
    }

    /// The value of the structure shape `id` (an operation's input or output, an error).
    pub fn shape_value(&self, id: Option<&str>, fill: Fill) -> Value {
        match id.and_then(|id| self.model.shape(id)) {
            Some(shape) => self.structure(shape.members(), 0, fill),
            None => json!({}),
        }
    }

    /// The `i`-th item of a list: items differ where their shape allows, so a list past its
    /// size limit is not also a list of duplicates.
    pub fn item_value(&self, item: &Member, depth: usize, fill: Fill, i: usize) -> Value {
        let traits = self.model.effective_traits(item);
        match self.model.target(item).map(|s| &s.kind) {
            Some(ShapeKind::String) if traits.enum_values.is_none() => {
                Value::String(self.string(&item.name, &traits, i))
            }
            _ => self.member_value(item, depth, fill),
        }
    }

    /// The `i`-th key of a map, distinct for every `i`.
    pub fn key_value(&self, key: &Member, i: usize) -> String {
        let traits = self.model.effective_traits(key);
        match &traits.enum_values {
            Some(values) if !values.is_empty() => values[i % values.len()].value.clone(),
            _ => self.string("key", &traits, i),
        }
    }

    /// How many items a generated list or map gets: its minimum, at least one while the
    /// depth allows (an empty list says little), never more than its maximum.
    fn collection_size(&self, traits: &Traits, depth: usize) -> usize {
        let min = traits.length.and_then(|l| l.min).unwrap_or(0) as usize;
        let max = traits.length.and_then(|l| l.max).map(|m| m as usize);
        let wanted = if depth < MAX_DEPTH { min.max(1) } else { min };
        if depth >= HARD_DEPTH {
            return 0;
        }
        max.map_or(wanted, |m| wanted.min(m))
    }

    /// A string meeting the traits: the first enum value, else a value matching the pattern,
    /// else `conform-<name>` fitted to the length (with the index `i` to keep items apart).
    pub fn string(&self, name: &str, traits: &Traits, i: usize) -> String {
        if let Some(values) = traits.enum_values.as_ref().filter(|v| !v.is_empty()) {
            return values[i % values.len()].value.clone();
        }
        if let Some(pattern) = &traits.pattern {
            let min = traits.length.and_then(|l| l.min).unwrap_or(0) as usize;
            let max = traits.length.and_then(|l| l.max).unwrap_or(4096) as usize;
            if let Some(found) = pattern_value(pattern, i, min, max) {
                return found;
            }
        }
        let seed = if i == 0 {
            format!("conform-{name}")
        } else {
            format!("conform-{name}-{i}")
        };
        fit_length(&seed, traits)
    }
}

/// `seed` cut or padded to the `length` trait.
pub fn fit_length(seed: &str, traits: &Traits) -> String {
    let n = seed.chars().count() as u64;
    let min = traits.length.and_then(|l| l.min).unwrap_or(0);
    let max = traits.length.and_then(|l| l.max).unwrap_or(u64::MAX);
    string_of_length(seed, n.clamp(min, max.max(min)) as usize)
}

/// A number meeting the `range` trait: 1 when allowed (a count of one reads naturally), else
/// the nearest bound.
fn number(kind: NumberKind, traits: &Traits) -> Value {
    let min = traits.range.and_then(|r| r.min);
    let max = traits.range.and_then(|r| r.max);
    let mut v = 1.0f64;
    if let Some(lo) = min
        && v < lo
    {
        v = lo;
    }
    if let Some(hi) = max
        && v > hi
    {
        v = hi;
    }
    number_value(kind, v)
}

/// A JSON number of the kind: whole for integral kinds.
pub fn number_value(kind: NumberKind, v: f64) -> Value {
    if kind.is_integral() {
        json!(v.round() as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

/// A string matching a pattern and holding `min..=max` characters, built from the pattern
/// itself (literals kept, each class's first letter or digit, each open repetition repeated
/// as often as the length needs), or `None` when no such string is found.
pub fn pattern_value(pattern: &str, i: usize, min: usize, max: usize) -> Option<String> {
    let re = Regex::new(pattern).ok()?;
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let fits = |s: &str| {
        let n = s.chars().count();
        n >= min && n <= max && re.is_match(s)
    };
    // One to 64 rounds of each open repetition: enough for any length trait a pattern meets.
    for reps in 1..=64usize {
        let mut out = String::new();
        build(&hir, reps, i, &mut out);
        if fits(&out) {
            return Some(out);
        }
        if out.chars().count() > max {
            break;
        }
    }
    None
}

fn build(hir: &regex_syntax::hir::Hir, reps: usize, i: usize, out: &mut String) {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.push_str(&String::from_utf8_lossy(&lit.0)),
        HirKind::Class(Class::Unicode(class)) => {
            let chars = class.ranges().iter().flat_map(|r| r.start()..=r.end());
            let mut alnum = chars
                .clone()
                .filter(char::is_ascii_alphanumeric)
                .take(i + 1);
            let pick = alnum
                .clone()
                .nth(i)
                .or_else(|| alnum.next())
                .or_else(|| class.ranges().first().map(|r| r.start()));
            out.extend(pick);
        }
        HirKind::Class(Class::Bytes(class)) => {
            out.extend(class.ranges().first().map(|r| char::from(r.start())));
        }
        HirKind::Repetition(rep) => {
            let lo = rep.min as usize;
            let n = match rep.max {
                Some(hi) if hi as usize == lo => lo,
                Some(hi) => reps.clamp(lo, hi as usize),
                None => reps.max(lo),
            };
            for _ in 0..n {
                build(&rep.sub, reps, i, out);
            }
        }
        HirKind::Capture(cap) => build(&cap.sub, reps, i, out),
        HirKind::Concat(parts) => parts.iter().for_each(|p| build(p, reps, i, out)),
        HirKind::Alternation(alts) => {
            if let Some(first) = alts.first() {
                build(first, reps, i, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_have_the_exact_length_in_scalar_values() {
        assert_eq!(string_of_length("conform", 3), "con");
        assert_eq!(string_of_length("ab", 5), "ab012");
        assert_eq!(string_of_length("é", 2).chars().count(), 2);
        assert_eq!(string_of_length("x", 0), "");
    }

    #[test]
    fn patterns_are_met_within_the_length() {
        let uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
        assert_eq!(
            pattern_value(uuid, 0, 0, 100).unwrap(),
            "00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(pattern_value("^n-[0-9]+$", 0, 3, 16).unwrap(), "n-0");
        assert_eq!(pattern_value("^n-[0-9]+$", 0, 5, 16).unwrap(), "n-000");
        assert_eq!(pattern_value("^n-[0-9]+$", 1, 3, 16).unwrap(), "n-1");
        assert_eq!(pattern_value("^(ab|cd)$", 0, 0, 9).unwrap(), "ab");
        assert_eq!(pattern_value("^zzz$", 0, 0, 2), None);
    }
}
