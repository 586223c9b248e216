//! The coverage table: every input member, constraint, declared error and fitting `errorCode`
//! of an operation (from the service model), plus the protocol's edges, each with the cases that
//! cover it (from their `covers:` lists). Gaps show as gaps. Pure: the caller reads the files.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::case::Suite;

/// One thing the suite should cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The id cases name in `covers:`, e.g. `error:NoSuchEntityException`.
    pub id: String,
    /// Where the item comes from.
    pub source: &'static str,
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
    "protocol:missing-target",
    "protocol:unknown-operation",
    "protocol:method",
    "protocol:unknown-member",
    "signing:none",
    "signing:corrupt",
    "signing:expired",
    "signing:unknown-key",
];

/// The items for the operation described by a model extract (the JSON in `cases/models/`).
pub fn items(model: &Value) -> Vec<Item> {
    let mut out = vec![Item {
        id: "documented:sample-exchange".into(),
        source: "API reference",
    }];
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
            out.push(Item {
                id: format!("member:{name}"),
                source: "service model",
            });
            let target = &shapes[member["shape"].as_str().unwrap_or_default()];
            if target.get("min").is_some() {
                out.push(Item {
                    id: format!("constraint:{name}.length.min"),
                    source: "service model",
                });
            }
            if target.get("max").is_some() {
                out.push(Item {
                    id: format!("constraint:{name}.length.max"),
                    source: "service model",
                });
            }
            if required.contains(&name.as_str()) {
                out.push(Item {
                    id: format!("constraint:{name}.required"),
                    source: "service model",
                });
            }
        }
    }
    if let Some(members) = shapes[output]["members"].as_object() {
        for name in members.keys() {
            out.push(Item {
                id: format!("output:{name}"),
                source: "service model",
            });
        }
    }
    for error in model["errors"].as_array().into_iter().flatten() {
        if let Some(shape) = error["shape"].as_str() {
            out.push(Item {
                id: format!("error:{shape}"),
                source: "service model",
            });
        }
    }
    for code in FITTING_ERROR_CODES {
        out.push(Item {
            id: format!("errorCode:{code}"),
            source: "service model (enum) + PROTOCOL-NOTES",
        });
    }
    for edge in PROTOCOL_EDGES {
        out.push(Item {
            id: (*edge).into(),
            source: "awsJson1_1 spec / AWS common errors",
        });
    }
    out.push(Item {
        id: "state:duplicate-run-name".into(),
        source: "API reference (unique run name)",
    });
    out
}

/// Case names by covered id.
pub fn covering(suite: &Suite) -> BTreeMap<&str, Vec<&str>> {
    let mut map: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for case in &suite.cases {
        for id in &case.covers {
            map.entry(id.as_str()).or_default().push(case.name.as_str());
        }
    }
    map
}

/// Items no case covers.
pub fn gaps<'a>(items: &'a [Item], suite: &Suite) -> Vec<&'a Item> {
    let map = covering(suite);
    items
        .iter()
        .filter(|i| !map.contains_key(i.id.as_str()))
        .collect()
}

/// The Markdown table.
pub fn table(items: &[Item], suite: &Suite) -> String {
    let map = covering(suite);
    let mut out = String::from("| item | from | covered by |\n|---|---|---|\n");
    for item in items {
        let cases = match map.get(item.id.as_str()) {
            Some(names) => names
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            None => "**gap: no case**".into(),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            item.id, item.source, cases
        ));
    }
    out
}
