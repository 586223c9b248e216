//! The coverage table: every input member, constraint, declared error and fitting `errorCode`
//! of an operation (from the service model), plus the protocol's edges, each with the cases that
//! cover it (from their `covers:` lists). Gaps show as gaps. Pure: the caller reads the files.
//!
//! A case *forces* what its firm expectations check (`covers: [error:X]`), and only *offers* what
//! it checks in a labelled guess (`covers: ['guess:error:X']`): a case that aims a request at
//! NoSuchEntityException but accepts any 4xx firmly must not be counted as proof that an endpoint
//! answers NoSuchEntityException. The table keeps the two apart.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::case::Suite;

/// The prefix of a `covers:` id that the case checks only in its guess.
pub const GUESS_PREFIX: &str = "guess:";

/// One thing the suite should cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The id cases name in `covers:`, e.g. `error:NoSuchEntityException`.
    pub id: String,
    /// Where the item comes from.
    pub source: &'static str,
    /// Whether a gap fails the coverage test. `errorCode` values are PROTOCOL-NOTES' reading of
    /// which enum values fit the operation; one no request can be made to draw on purpose stays
    /// a visible gap instead.
    pub required: bool,
}

/// The `errorCode` values that fit StartAssessmentRun: the model's enums list every code of the
/// whole service; PROTOCOL-NOTES.md ("Its errors") names the ones this operation can return.
pub const FITTING_ERROR_CODES: &[&str] = &[
    "INVALID_ASSESSMENT_TEMPLATE_ARN",
    "ASSESSMENT_TEMPLATE_DOES_NOT_EXIST",
    "ACCESS_DENIED_TO_ASSESSMENT_TEMPLATE",
    "ASSESSMENT_RUN_LIMIT_EXCEEDED",
    "ROLE_DOES_NOT_EXIST_OR_INVALID_TRUST_RELATIONSHIP",
    "ROLE_DOES_NOT_HAVE_CORRECT_POLICY",
];

/// The awsJson1_1 edges every operation's suite should probe (Smithy awsJson1_1 spec and
/// protocol tests; AWS common errors).
pub const PROTOCOL_EDGES: &[&str] = &[
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
];

/// JSON text the protocol's bodies may hold (JSON as awsJson1_1 bodies use it).
pub const JSON_EDGES: &[&str] = &[
    "json:escapes",
    "json:surrogate-pair",
    "json:lone-surrogate",
    "json:invalid-utf8",
    "json:duplicate-keys",
];

/// SigV4 faults (the signing modes of `signature:`).
pub const SIGNING_EDGES: &[&str] = &[
    "signing:none",
    "signing:corrupt",
    "signing:expired",
    "signing:unknown-key",
    "signing:wrong-region",
    "signing:wrong-service",
    "signing:expired-token",
];

/// JSON types sent in place of a string member.
const WRONG_TYPES: &[&str] = &["number", "boolean", "array", "object"];

/// What needs two calls in order: (id, source).
const STATE: &[(&str, &str)] = &[
    (
        "state:duplicate-run-name",
        "API reference (run name unique per template)",
    ),
    (
        "state:distinct-run-arns",
        "API reference (the ARN of the run started)",
    ),
    (
        "state:same-name-second-template",
        "API reference (run name unique per template)",
    ),
];

fn item(id: String, source: &'static str) -> Item {
    Item {
        id,
        source,
        required: true,
    }
}

/// The items for the operation described by a model extract (the JSON in `cases/models/`).
pub fn items(model: &Value) -> Vec<Item> {
    let mut out = vec![item("documented:sample-exchange".into(), "API reference")];
    let shapes = &model["shapes"];
    let input = model["operation"]["input"].as_str().unwrap_or_default();
    let output = model["operation"]["output"].as_str().unwrap_or_default();
    let input_shape = &shapes[input];
    let required: Vec<&str> = input_shape["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(members) = input_shape["members"].as_object() {
        for (name, member) in members {
            out.push(item(format!("member:{name}"), "service model"));
            let target = &shapes[member["shape"].as_str().unwrap_or_default()];
            if target.get("min").is_some() {
                out.push(item(
                    format!("constraint:{name}.length.min"),
                    "service model",
                ));
            }
            if target.get("max").is_some() {
                out.push(item(
                    format!("constraint:{name}.length.max"),
                    "service model",
                ));
            }
            if required.contains(&name.as_str()) {
                out.push(item(format!("constraint:{name}.required"), "service model"));
            }
            // Every other JSON type in place of a string: the model types the member.
            if target["type"] == "string" {
                for t in WRONG_TYPES {
                    out.push(item(
                        format!("wrong-type:{name}.{t}"),
                        "service model (member type)",
                    ));
                }
            }
        }
    }
    if let Some(members) = shapes[output]["members"].as_object() {
        for name in members.keys() {
            out.push(item(format!("output:{name}"), "service model"));
        }
    }
    for error in model["errors"].as_array().into_iter().flatten() {
        if let Some(shape) = error["shape"].as_str() {
            out.push(item(format!("error:{shape}"), "service model"));
        }
    }
    for code in FITTING_ERROR_CODES {
        out.push(Item {
            id: format!("errorCode:{code}"),
            source: "service model (enum) + PROTOCOL-NOTES",
            required: false,
        });
    }
    for edge in PROTOCOL_EDGES {
        out.push(item((*edge).into(), "awsJson1_1 spec / AWS common errors"));
    }
    for edge in JSON_EDGES {
        out.push(item((*edge).into(), "awsJson1_1 (JSON bodies)"));
    }
    for edge in SIGNING_EDGES {
        out.push(item((*edge).into(), "SigV4 / AWS common errors"));
    }
    for (id, source) in STATE {
        out.push(item((*id).into(), source));
    }
    out
}

/// Which cases cover one item, and how.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage<'a> {
    /// Cases whose firm expectations check the item.
    pub forced: Vec<&'a str>,
    /// Cases that check it only in a labelled guess.
    pub offered: Vec<&'a str>,
}

/// Case names by covered id (the `guess:` prefix removed).
pub fn covering(suite: &Suite) -> BTreeMap<&str, Coverage<'_>> {
    let mut map: BTreeMap<&str, Coverage<'_>> = BTreeMap::new();
    for case in &suite.cases {
        for id in &case.covers {
            match id.strip_prefix(GUESS_PREFIX) {
                Some(id) => map.entry(id).or_default().offered.push(&case.name),
                None => map.entry(id.as_str()).or_default().forced.push(&case.name),
            }
        }
    }
    map
}

/// Required items no case covers, neither firmly nor in a guess.
pub fn gaps<'a>(items: &'a [Item], suite: &Suite) -> Vec<&'a Item> {
    let map = covering(suite);
    items
        .iter()
        .filter(|i| i.required && !map.contains_key(i.id.as_str()))
        .collect()
}

/// `covers:` ids that name no item (a typo, or an item the table does not know yet), with the
/// case that names them.
pub fn unknown<'a>(items: &[Item], suite: &'a Suite) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    for case in &suite.cases {
        for id in &case.covers {
            let bare = id.strip_prefix(GUESS_PREFIX).unwrap_or(id);
            if !items.iter().any(|i| i.id == bare) {
                out.push((case.name.as_str(), id.as_str()));
            }
        }
    }
    out
}

/// The Markdown table.
pub fn table(items: &[Item], suite: &Suite) -> String {
    let map = covering(suite);
    let mut out =
        String::from("| item | from | forced by | offered by a guess |\n|---|---|---|---|\n");
    let join = |names: &[&str]| names.join("; ");
    for item in items {
        let (forced, offered) = match map.get(item.id.as_str()) {
            Some(c) if c.forced.is_empty() => ("—".to_owned(), join(&c.offered)),
            Some(c) => (join(&c.forced), join(&c.offered)),
            None => ("**gap: no case**".to_owned(), String::new()),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            item.id, item.source, forced, offered
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Case, Provenance};
    use std::path::PathBuf;

    fn case(name: &str, covers: &[&str]) -> Case {
        Case {
            name: name.into(),
            description: None,
            source: "s".into(),
            provenance: Provenance::Modeled,
            why: None,
            tags: vec![],
            covers: covers.iter().map(|c| c.to_string()).collect(),
            skip: Default::default(),
            vars: Default::default(),
            steps: vec![],
            file: PathBuf::from("x.yaml"),
            model: None,
        }
    }

    #[test]
    fn a_guess_offers_and_a_firm_check_forces() {
        let suite = Suite {
            cases: vec![
                case("firm", &["error:A"]),
                case("guessed", &["guess:error:A", "guess:error:B"]),
            ],
        };
        let map = covering(&suite);
        assert_eq!(map["error:A"].forced, vec!["firm"]);
        assert_eq!(map["error:A"].offered, vec!["guessed"]);
        assert!(map["error:B"].forced.is_empty());
        let items = vec![
            item("error:A".into(), "m"),
            item("error:B".into(), "m"),
            item("error:C".into(), "m"),
        ];
        let table = table(&items, &suite);
        assert!(table.contains("| `error:B` | m | — | guessed |"), "{table}");
        assert!(
            table.contains("| `error:C` | m | **gap: no case** |  |"),
            "{table}"
        );
        let gaps: Vec<_> = gaps(&items, &suite).iter().map(|i| i.id.clone()).collect();
        assert_eq!(gaps, vec!["error:C"]);
        assert!(unknown(&items, &suite).is_empty());
    }

    #[test]
    fn unknown_ids_are_named_with_their_case() {
        let suite = Suite {
            cases: vec![case("typo", &["guess:eror:A"])],
        };
        let items = vec![item("error:A".into(), "m")];
        assert_eq!(unknown(&items, &suite), vec![("typo", "guess:eror:A")]);
    }
}
