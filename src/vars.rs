//! `{{name}}` variables in case files: finding them, and filling them in.
//!
//! Pure string work, no I/O. Which names exist is decided by the case loader (at check time)
//! and the runner (at run time, after captures); this module only substitutes.

use std::collections::BTreeMap;

/// Variable values by name. A `BTreeMap` so that anything printed from it is in a stable order.
pub type Vars = BTreeMap<String, String>;

/// A variable a template uses that has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undefined variable `{name}`")]
pub struct UndefinedVar {
    pub name: String,
}

/// The names a template refers to, in order of appearance (repeats included).
pub fn names(template: &str) -> impl Iterator<Item = &str> {
    let mut rest = template;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("{{")?;
            let after = &rest[start + 2..];
            let end = after.find("}}")?;
            let name = after[..end].trim();
            rest = &after[end + 2..];
            if is_name(name) {
                return Some(name);
            }
        }
    })
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// True when the template has at least one variable in it.
pub fn has_vars(template: &str) -> bool {
    names(template).next().is_some()
}

/// Fills in every `{{name}}`. With `escape`, values are regex-escaped, so that a variable
/// substituted into a `regex:` matcher matches its value literally (ARNs contain `.`-free
/// text today, but a user's variable might not).
pub fn substitute(template: &str, vars: &Vars, escape: bool) -> Result<String, UndefinedVar> {
    if !template.contains("{{") {
        return Ok(template.to_owned());
    }
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !is_name(name) {
            // Not a variable (for example a regex `{{2}}`-like text): keep it as written.
            out.push_str(&rest[..start + 2]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..start]);
        let value = vars.get(name).ok_or_else(|| UndefinedVar {
            name: name.to_owned(),
        })?;
        if escape {
            out.push_str(&regex::escape(value));
        } else {
            out.push_str(value);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitutes_and_escapes() {
        let v = vars(&[("arn", "a.b"), ("n", "x")]);
        assert_eq!(
            substitute("^{{arn}}/{{ n }}$", &v, false).unwrap(),
            "^a.b/x$"
        );
        assert_eq!(substitute("^{{arn}}$", &v, true).unwrap(), "^a\\.b$");
        assert_eq!(substitute("plain", &v, false).unwrap(), "plain");
    }

    #[test]
    fn reports_undefined_names() {
        let err = substitute("{{nope}}", &Vars::new(), false).unwrap_err();
        assert_eq!(err.name, "nope");
        assert_eq!(
            names("{{a}} and {{b}} {{ }}").collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn keeps_text_that_is_not_a_variable() {
        assert_eq!(
            substitute("a{{ x y }}b", &Vars::new(), false).unwrap(),
            "a{{ x y }}b"
        );
        assert_eq!(substitute("a{{b", &Vars::new(), false).unwrap(), "a{{b");
    }
}
