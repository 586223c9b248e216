use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;
use crate::case::Case;

/// A small awsJson1_1 model: one operation with a required string of length 1..5, an
/// optional enum, a list of 1..3 strings, and two declared errors, one with an errorCode.
fn model() -> Model {
    let shapes = json!({
        "ex#Svc": {"type": "service", "version": "2020-01-01", "operations": [{"target": "ex#Put"}],
                   "traits": {"aws.protocols#awsJson1_1": {}, "aws.api#service": {"sdkId": "Ex", "endpointPrefix": "ex"},
                              "aws.auth#sigv4": {"name": "ex"}}},
        "ex#Put": {"type": "operation", "input": {"target": "ex#PutIn"}, "output": {"target": "ex#PutOut"},
                   "errors": [{"target": "ex#Bad"}, {"target": "ex#Boom"}]},
        "ex#PutIn": {"type": "structure", "members": {
            "name": {"target": "ex#Name", "traits": {"smithy.api#required": {}}},
            "color": {"target": "ex#Color"},
            "tags": {"target": "ex#Tags"}}},
        "ex#PutOut": {"type": "structure", "members": {"id": {"target": "smithy.api#String", "traits": {"smithy.api#required": {}}}}},
        "ex#Name": {"type": "string", "traits": {"smithy.api#length": {"min": 1, "max": 5}}},
        "ex#Color": {"type": "enum", "members": {"RED": {"target": "smithy.api#Unit"}, "BLUE": {"target": "smithy.api#Unit"}}},
        "ex#Tags": {"type": "list", "member": {"target": "ex#Name"}, "traits": {"smithy.api#length": {"min": 1, "max": 3}}},
        "ex#Bad": {"type": "structure", "traits": {"smithy.api#error": "client"},
                   "members": {"errorCode": {"target": "ex#Code", "traits": {"smithy.api#required": {}}}}},
        "ex#Code": {"type": "enum", "members": {"NOPE": {"target": "smithy.api#Unit"}, "NEVER": {"target": "smithy.api#Unit"}}},
        "ex#Boom": {"type": "structure", "traits": {"smithy.api#error": "server"}, "members": {}}
    });
    let bytes = serde_json::to_vec(&json!({"smithy": "2.0", "shapes": shapes})).unwrap();
    crate::model::parse_model(Path::new("models/ex.json"), &bytes).unwrap()
}

fn case(op: &str, name: &str, covers: &[&str]) -> Case {
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
        file: PathBuf::from(format!("cases/ex/{op}/{name}.yaml")),
        model: None,
    }
}

fn ids(items: &ServiceItems) -> Vec<&str> {
    items.operations["Put"]
        .iter()
        .map(|i| i.id.as_str())
        .collect()
}

#[test]
fn items_come_from_the_model() {
    let m = model();
    let items = service_items(&m, &Extras::default()).unwrap();
    assert_eq!(
        ids(&items),
        [
            "member:color",
            "wrong-type:color",
            "constraint:color.enum",
            "enum:color=BLUE",
            "enum:color=RED",
            "member:name",
            "constraint:name.required",
            "wrong-type:name",
            "constraint:name.length.min",
            "constraint:name.length.max",
            "member:tags",
            "wrong-type:tags",
            "constraint:tags.length.min",
            "constraint:tags.length.max",
            "wrong-type:tags[]",
            "constraint:tags[].length.min",
            "constraint:tags[].length.max",
            "output:id",
            "error:Bad",
            "error:Boom",
            "errorCode:NEVER",
            "errorCode:NOPE",
        ]
    );
}

#[test]
fn a_guess_offers_a_firm_check_forces_and_gaps_show() {
    let m = model();
    let items = service_items(&m, &Extras::default()).unwrap();
    let cases = [
        case("Put", "firm", &["error:Bad", "wrong-type:name.number"]),
        case("Put", "guessed", &["guess:error:Bad", "guess:error:Boom"]),
    ];
    let refs: Vec<&Case> = cases.iter().collect();
    let (r, unknown) = service_report(&m, &items, &refs);
    assert!(unknown.is_empty(), "{unknown:?}");
    let op = &r.operations[0];
    let get = |id: &str| op.items.iter().find(|i| i.id == id).unwrap();
    assert_eq!(get("error:Bad").status, Status::Forced);
    assert_eq!(get("error:Bad").offered_by, ["guessed"]);
    assert_eq!(get("error:Boom").status, Status::Offered);
    assert_eq!(get("wrong-type:name").forced_by, ["firm"]);
    assert_eq!(get("member:name").status, Status::Gap);
    let t = op.totals;
    assert_eq!(t.items, 22);
    assert_eq!((t.forced, t.offered), (2, 1));
    assert_eq!(t.covered + t.gaps, t.items);
    assert_eq!(t.known_gaps + t.open_values + t.unexplained_gaps, t.gaps);
    // Four errorCode/enum values open; the other 15 gaps need a case or a why.
    assert_eq!((t.open_values, t.unexplained_gaps), (4, 15));
    let md = markdown(&Report {
        totals: r.totals,
        services: vec![r.clone()],
    });
    assert!(md.contains("| Put | 2 | 22 | 2 | 1 | 19 | 0 | 4 |"), "{md}");
}

#[test]
fn ids_are_per_operation_and_unknown_ids_are_named() {
    let m = model();
    let items = service_items(&m, &Extras::default()).unwrap();
    let cases = [
        // The member exists in Put, not in an operation of that name.
        case("Get", "elsewhere", &["member:name"]),
        case(
            "Put",
            "typo",
            &[
                "guess:eror:Bad",
                "wrong-type:name.string",
                "wrong-type:name.text",
            ],
        ),
    ];
    let refs: Vec<&Case> = cases.iter().collect();
    let (_, unknown) = service_report(&m, &items, &refs);
    let got: Vec<(&str, &str)> = unknown
        .iter()
        .map(|u| (u.case.as_str(), u.id.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("elsewhere", "member:name"),
            ("typo", "guess:eror:Bad"),
            // A string member sent as a string is not of the wrong type.
            ("typo", "wrong-type:name.string"),
            ("typo", "wrong-type:name.text"),
        ]
    );
    assert!(
        unknown[0].hint.contains("names no operation"),
        "{}",
        unknown[0]
    );
    assert!(
        unknown[1].hint.contains("did you mean `error:Bad`?"),
        "{}",
        unknown[1]
    );
}

#[test]
fn extras_add_items_fitting_codes_and_known_gaps() {
    let m = model();
    let text = r#"{"operations": {"Put": {"detailed": true, "edges": ["json"],
        "errorCodes": {"source": "notes", "values": ["NOPE"]},
        "items": [{"id": "state:twice", "source": "reference"}]}},
      "knownGaps": [{"operation": "Put", "id": "errorCode:NOPE", "why": "cannot be drawn"}]}"#;
    let extras = parse_extras(Path::new("coverage.json"), text).unwrap();
    let items = service_items(&m, &extras).unwrap();
    let ids = ids(&items);
    assert!(ids.contains(&"errorCode:NOPE") && !ids.contains(&"errorCode:NEVER"));
    assert!(ids.contains(&"json:lone-surrogate") && ids.contains(&"state:twice"));
    assert_eq!(items.detailed, ["Put"]);
    let gap = items.operations["Put"]
        .iter()
        .find(|i| i.id == "errorCode:NOPE")
        .unwrap();
    assert_eq!(gap.known_gap.as_deref(), Some("cannot be drawn"));

    for (bad, expect) in [
        (r#"{"operations": {"Putt": {}}}"#, "did you mean `Put`?"),
        (
            r#"{"operations": {"Put": {"edges": ["xml"]}}}"#,
            "no edge group `xml`",
        ),
        (
            r#"{"operations": {"Put": {"errorCodes": {"source": "s", "values": ["X"]}}}}"#,
            "`X` is no errorCode value",
        ),
        (
            r#"{"knownGaps": [{"operation": "Put", "id": "member:nope", "why": "w"}]}"#,
            "`member:nope` is no item of Put",
        ),
    ] {
        let extras = parse_extras(Path::new("coverage.json"), bad).unwrap();
        let e = service_items(&m, &extras).unwrap_err().to_string();
        assert!(e.contains(expect) && e.contains("coverage.json"), "{e}");
    }
    let e = parse_extras(Path::new("coverage.json"), "{\n  \"operation\": {}\n}")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("coverage.json:2:"), "{e}");
    assert!(e.contains("unknown field `operation`"), "{e}");
}
