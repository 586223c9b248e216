//! Does an example value meet the model? The generator takes a documented example as its
//! valid request (or response) only when it does; otherwise it builds one from the model.
//!
//! This is a yes/no check for that one decision, not the response validator (which names
//! paths and traits for users): it answers with the first reason an example is unusable.

use regex::Regex;
use serde_json::Value;

use crate::model::{Member, Model, ShapeKind, TimestampFormat};

/// `Ok` when `value` is a valid value of the structure `shape_id` (`None`: no input/output,
/// which only `{}` or nothing fits).
pub fn structure_fits(model: &Model, shape_id: Option<&str>, value: &Value) -> Result<(), String> {
    let Some(shape) = shape_id.and_then(|id| model.shape(id)) else {
        return match value {
            Value::Object(m) if m.is_empty() => Ok(()),
            Value::Null => Ok(()),
            _ => Err("the operation takes no members".into()),
        };
    };
    members_fit(model, shape.members(), value, "$", 0)
}

fn members_fit(
    model: &Model,
    members: &[Member],
    value: &Value,
    at: &str,
    depth: usize,
) -> Result<(), String> {
    let Value::Object(map) = value else {
        return Err(format!("{at} is not an object"));
    };
    for m in members {
        match map.get(&m.name) {
            Some(v) => member_fits(model, m, v, &format!("{at}.{}", m.name), depth + 1)?,
            None if m.required => return Err(format!("{at}.{} is required", m.name)),
            None => {}
        }
    }
    if let Some(k) = map.keys().find(|k| !members.iter().any(|m| &m.name == *k)) {
        return Err(format!("{at}.{k} is not a member"));
    }
    Ok(())
}

fn member_fits(
    model: &Model,
    member: &Member,
    value: &Value,
    at: &str,
    depth: usize,
) -> Result<(), String> {
    if depth > 64 {
        return Err(format!("{at} nests too deep"));
    }
    let traits = model.effective_traits(member);
    let Some(shape) = model.target(member) else {
        return Err(format!("{at}: unknown shape {}", member.target));
    };
    let count = match (&shape.kind, value) {
        (ShapeKind::Structure(ms), _) => return members_fit(model, ms, value, at, depth),
        (ShapeKind::Union(ms), Value::Object(map)) if map.len() == 1 => {
            return members_fit(model, ms, value, at, depth);
        }
        (ShapeKind::List(item), Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                member_fits(model, item, v, &format!("{at}[{i}]"), depth + 1)?;
            }
            Some(items.len() as u64)
        }
        (ShapeKind::Map { key, value: val }, Value::Object(map)) => {
            for (k, v) in map {
                member_fits(
                    model,
                    key,
                    &Value::String(k.clone()),
                    &format!("{at}.<key>"),
                    depth,
                )?;
                member_fits(model, val, v, &format!("{at}.{k}"), depth + 1)?;
            }
            Some(map.len() as u64)
        }
        (ShapeKind::String, Value::String(s)) => {
            if let Some(values) = &traits.enum_values
                && !values.iter().any(|e| &e.value == s)
            {
                return Err(format!("{at} is not in the enum"));
            }
            if let Some(p) = &traits.pattern
                && !Regex::new(p).is_ok_and(|re| re.is_match(s))
            {
                return Err(format!("{at} does not match the pattern"));
            }
            Some(s.chars().count() as u64)
        }
        (ShapeKind::Number(kind), Value::Number(n)) => {
            if kind.is_integral() && !(n.is_i64() || n.is_u64()) {
                return Err(format!("{at} is not whole"));
            }
            let v = n.as_f64().unwrap_or(f64::NAN);
            let range = traits.range.unwrap_or_default();
            if range.min.is_some_and(|lo| v < lo) || range.max.is_some_and(|hi| v > hi) {
                return Err(format!("{at} is out of range"));
            }
            None
        }
        (ShapeKind::Boolean, Value::Bool(_)) => None,
        (ShapeKind::Blob, Value::String(_)) => None,
        (ShapeKind::Timestamp, Value::Number(_))
            if !matches!(
                traits.timestamp_format,
                Some(TimestampFormat::DateTime | TimestampFormat::HttpDate)
            ) =>
        {
            None
        }
        (ShapeKind::Timestamp, Value::String(_))
            if matches!(
                traits.timestamp_format,
                Some(TimestampFormat::DateTime | TimestampFormat::HttpDate)
            ) =>
        {
            None
        }
        (ShapeKind::Document, _) => None,
        _ => {
            return Err(format!(
                "{at} has the wrong JSON type for a {}",
                shape.kind.name()
            ));
        }
    };
    if let (Some(n), Some(len)) = (count, traits.length) {
        if len.min.is_some_and(|lo| n < lo) || len.max.is_some_and(|hi| n > hi) {
            return Err(format!("{at} has length {n}, outside the length trait"));
        }
    }
    Ok(())
}
