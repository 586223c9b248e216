//! Coverage per operation: the table in cases/README.md is generated from the model and the
//! whole suite, and these tests keep it true; they fail when a declared error or constraint of
//! any operation has no case and is not a known gap with why, when a `covers:` id names
//! nothing, and they drive `conform coverage` (text, `--json`, broken input).

use std::path::Path;

use conform::case::load_suite;
use conform::coverage::{self, Kind, Report, Status};

use crate::support::{conform, conform_in, root, stderr, stdout};

/// The Inspector Classic suite: the one this project covers whole. (The ACM and SQS suites under
/// cases/ exist to run against moto and cover six operations each; `conform coverage cases/acm`
/// shows their gaps.)
fn suite() -> conform::case::Suite {
    load_suite(&[root().join("cases/inspector")], &Default::default()).expect("the suite loads")
}

fn report() -> Report {
    coverage::report(&suite()).expect("coverage of the suite")
}

fn operation<'a>(r: &'a Report, name: &str) -> &'a coverage::OperationReport {
    r.services[0]
        .operations
        .iter()
        .find(|o| o.operation == name)
        .unwrap()
}

#[test]
fn every_declared_error_and_constraint_of_every_operation_has_a_case_or_a_why() {
    let r = report();
    assert_eq!(r.services.len(), 1);
    assert_eq!(r.services[0].operations.len(), 37);
    let mut unexplained = Vec::new();
    let mut stale = Vec::new();
    for op in &r.services[0].operations {
        for item in &op.items {
            if item.status == Status::Gap && item.required && item.known_gap.is_none() {
                unexplained.push(format!("{}: {}", op.operation, item.id));
            }
        }
        stale.extend(
            op.stale_known_gaps
                .iter()
                .map(|id| format!("{}: {id}", op.operation)),
        );
    }
    assert!(
        unexplained.is_empty(),
        "uncovered, and not a known gap in cases/inspector/model/coverage.json: {unexplained:#?}"
    );
    assert!(
        stale.is_empty(),
        "known gaps that a case covers now (remove them from coverage.json): {stale:#?}"
    );
    assert_eq!(r.totals.unexplained_gaps, 0);
    // Every declared error of every operation is an item, and each has a case.
    let sar = operation(&r, "StartAssessmentRun");
    let errors: Vec<_> = sar.items.iter().filter(|i| i.kind == Kind::Error).collect();
    assert_eq!(errors.len(), 8);
    for op in &r.services[0].operations {
        for item in op.items.iter().filter(|i| i.kind == Kind::Error) {
            assert_ne!(item.status, Status::Gap, "{}: {}", op.operation, item.id);
        }
    }
    // The known gap of today stays listed with its why.
    let limit = sar
        .items
        .iter()
        .find(|i| i.id == "errorCode:ASSESSMENT_RUN_LIMIT_EXCEEDED")
        .unwrap();
    assert_eq!(limit.status, Status::Gap);
    assert!(limit.known_gap.as_deref().unwrap().contains("500"));
    // StartAssessmentRun keeps its extras.
    for id in [
        "documented:sample-exchange",
        "protocol:body-too-large",
        "json:duplicate-keys",
        "signing:expired-token",
        "state:duplicate-run-name",
    ] {
        let item = sar.items.iter().find(|i| i.id == id).unwrap();
        assert_eq!(item.kind, Kind::Extra);
        assert_ne!(item.status, Status::Gap, "{id}");
    }
    assert!(sar.cases >= 60);
}

// Ids are qualified by the case's folder: the generated cases of other operations name the
// same members and errors, and must not count for StartAssessmentRun.
#[test]
fn a_case_covers_only_its_own_operations_items() {
    let r = report();
    let sar = operation(&r, "StartAssessmentRun");
    let run_arn = sar
        .items
        .iter()
        .find(|i| i.id == "error:NoSuchEntityException")
        .unwrap();
    for name in run_arn.forced_by.iter().chain(&run_arn.offered_by) {
        assert!(!name.starts_with("DescribeAssessmentRuns"), "{name}");
    }
    let add = operation(&r, "AddAttributesToFindings");
    let forced: Vec<&str> = add
        .items
        .iter()
        .flat_map(|i| &i.forced_by)
        .map(String::as_str)
        .collect();
    assert!(!forced.is_empty());
    assert!(
        forced
            .iter()
            .all(|n| n.starts_with("AddAttributesToFindings: ")),
        "{forced:?}"
    );
}

// Guards issue 10, item 10: a case may credit itself only with what its firm part checks. A
// case with `provenance: inferred` has no firm part, so everything it covers is a guess (a
// `member:` id only says which member the request sends).
#[test]
fn inferred_cases_force_nothing() {
    let suite = suite();
    let mut wrong = Vec::new();
    let mut inferred = 0;
    for case in &suite.cases {
        if case.provenance != conform::case::Provenance::Inferred {
            continue;
        }
        inferred += 1;
        for id in &case.covers {
            if !id.starts_with(coverage::GUESS_PREFIX) && !id.starts_with("member:") {
                wrong.push(format!("{}: {id}", case.file.display()));
            }
        }
    }
    assert!(inferred > 100, "{inferred}");
    assert!(
        wrong.is_empty(),
        "inferred cases credited with firm coverage: {wrong:#?}"
    );
}

// Guards issue 10, item 10: no case forces ROLE_DOES_NOT_HAVE_CORRECT_POLICY (the broken-role
// case accepts either value of the enum), so the table must not say one does.
#[test]
fn an_error_code_no_case_forces_is_not_credited_as_forced() {
    let r = report();
    let policy = operation(&r, "StartAssessmentRun")
        .items
        .iter()
        .find(|i| i.id == "errorCode:ROLE_DOES_NOT_HAVE_CORRECT_POLICY")
        .unwrap();
    assert!(policy.forced_by.is_empty(), "{policy:?}");
    assert!(!policy.offered_by.is_empty(), "{policy:?}");
    assert_eq!(policy.status, Status::Offered);
}

/// Set CONFORM_UPDATE_COVERAGE=1 to rewrite the tables after changing the suite.
#[test]
fn the_readme_table_is_current() {
    let table = coverage::markdown(&report());
    assert!(table.contains("| StartAssessmentRun | "), "{table}");
    assert!(table.contains("| `state:duplicate-run-name` |"), "{table}");
    let path = root().join("cases/README.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- coverage:begin -->\n", "<!-- coverage:end -->");
    let start = text.find(begin).expect("begin marker") + begin.len();
    let stop = text.find(end).expect("end marker");
    if text[start..stop] != table {
        if std::env::var_os("CONFORM_UPDATE_COVERAGE").is_some() {
            std::fs::write(&path, format!("{}{table}{}", &text[..start], &text[stop..])).unwrap();
        } else {
            panic!(
                "cases/README.md's coverage table is out of date; run CONFORM_UPDATE_COVERAGE=1 cargo test --test it coverage::\n{}",
                conform::diff::unified(&text[start..stop], &table)
            );
        }
    }
}

// Keeps the counts the READMEs state true: the replay answers every case, none is skipped.
#[test]
fn the_readmes_state_the_suite_size() {
    let suite = suite();
    let inspector = suite.cases.len();
    let whole = load_suite(&[root().join("cases")], &Default::default())
        .expect("the whole suite loads")
        .cases
        .len();
    let hand_written = suite
        .cases
        .iter()
        .filter(|c| !conform::generate::is_generated(&std::fs::read(&c.file).unwrap()))
        .count();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("ends with `{whole} passed, 0 failed, 0 skipped`")),
        "README.md does not say the suite has {whole} cases"
    );
    assert!(
        readme.contains("conform coverage"),
        "README.md does not list `conform coverage`"
    );
    let cases = std::fs::read_to_string(root().join("cases/README.md")).unwrap();
    assert!(
        cases.starts_with(&format!(
            "# The conform suite: Amazon Inspector Classic\n\n{inspector} cases: {hand_written} hand-written for StartAssessmentRun"
        )),
        "cases/README.md does not say the Inspector suite has {inspector} cases, {hand_written} of them hand-written"
    );
}

#[test]
fn json_parses_and_its_totals_add_up() {
    let out = conform(&["coverage", "cases/inspector", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("--json is JSON");
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k}: {v}"));
    let mut sum = [0u64; 4];
    for service in v["services"].as_array().unwrap() {
        assert!(service["model"].as_str().unwrap().ends_with(".json"));
        let ops = service["operations"].as_array().unwrap();
        assert_eq!(ops.len(), 37);
        for op in ops {
            let t = &op["totals"];
            let items = op["items"].as_array().unwrap();
            let count = |s: &str| items.iter().filter(|i| i["status"] == s).count() as u64;
            assert_eq!(n(t, "items"), items.len() as u64);
            assert_eq!(n(t, "forced"), count("forced"));
            assert_eq!(n(t, "offered"), count("offered"));
            assert_eq!(n(t, "gaps"), count("gap"));
            assert_eq!(n(t, "covered"), n(t, "forced") + n(t, "offered"));
            assert_eq!(n(t, "items"), n(t, "covered") + n(t, "gaps"));
            assert_eq!(
                n(t, "gaps"),
                n(t, "known_gaps") + n(t, "open_values") + n(t, "unexplained_gaps")
            );
            for item in items {
                for key in [
                    "id",
                    "kind",
                    "source",
                    "required",
                    "status",
                    "forced_by",
                    "offered_by",
                ] {
                    assert!(item.get(key).is_some(), "{key} missing in {item}");
                }
            }
            for (i, k) in ["items", "covered", "forced", "gaps"].iter().enumerate() {
                sum[i] += n(t, k);
            }
        }
    }
    for (i, k) in ["items", "covered", "forced", "gaps"].iter().enumerate() {
        assert_eq!(n(&v["totals"], k), sum[i], "{k}");
    }
}

#[test]
fn text_has_a_table_per_operation_and_totals() {
    let out = conform(&["coverage", "cases/inspector"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("\nListTagsForResource ("), "{text}");
    assert!(text.contains("  GAP      errorCode:ASSESSMENT_RUN_LIMIT_EXCEEDED"));
    assert!(text.contains("known gap: the only documented limit"));
    assert!(text.contains("Totals, Inspector ("));
    let r = report();
    let last = text.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "{} items, {} covered ({} forced, {} offered only by a guess), {} gaps ({} known, {} errorCode/enum values open, 0 unexplained)",
            r.totals.items,
            r.totals.covered,
            r.totals.forced,
            r.totals.offered,
            r.totals.gaps,
            r.totals.known_gaps,
            r.totals.open_values
        )
    );
}

/// A one-operation suite in a temporary folder: suite.yaml naming `model` (copied in), and
/// `cases` as (folder, file, text).
fn temp_suite(model: &[u8], cases: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.json"), model).unwrap();
    std::fs::write(
        dir.path().join("suite.yaml"),
        "model: model.json\nvars: {}\n",
    )
    .unwrap();
    for (folder, file, text) in cases {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        std::fs::write(dir.path().join(folder).join(file), text).unwrap();
    }
    dir
}

fn inspector_model() -> Vec<u8> {
    std::fs::read(root().join("cases/inspector/model/inspector-2016-02-16.json")).unwrap()
}

const CASE: &str = "name: probe\nsource: test\nprovenance: modeled\ncovers:\n  - member:assessmentRunName\n  - COVER\nrequest:\n  body: {}\nexpect:\n  status: 200\n";

fn run_in(dir: &Path) -> std::process::Output {
    conform_in(dir, &["coverage", "."])
}

#[test]
fn unknown_covers_ids_are_errors_with_their_place() {
    // A typo, and an id of StartAssessmentRun named by a case of another operation.
    let dir = temp_suite(
        &inspector_model(),
        &[
            (
                "StartAssessmentRun",
                "typo.yaml",
                &CASE.replace("COVER", "'guess:error:NoSuchEntityExceptio'"),
            ),
            (
                "AddAttributesToFindings",
                "other.yaml",
                &CASE
                    .replace("COVER", "error:InternalException")
                    .replace("probe", "other"),
            ),
        ],
    );
    let out = run_in(dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("typo.yaml:6:6: case \"probe\": covers id `guess:error:NoSuchEntityExceptio` names no item of StartAssessmentRun; did you mean `error:NoSuchEntityException`?"),
        "{err}"
    );
    assert!(
        err.contains("other.yaml:5:5: case \"other\": covers id `member:assessmentRunName` names no item of AddAttributesToFindings"),
        "{err}"
    );
    assert!(!err.contains("error:InternalException"), "{err}");
    assert!(err.contains("2 `covers:` ids name no item"), "{err}");
    // The same cases with ids that exist: a report, exit 0.
    let dir = temp_suite(
        &inspector_model(),
        &[(
            "StartAssessmentRun",
            "ok.yaml",
            &CASE.replace("COVER", "'wrong-type:assessmentRunName.boolean'"),
        )],
    );
    let out = run_in(dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("  forced   wrong-type:assessmentRunName "),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_broken_model_suite_or_coverage_file_is_exit_2_with_where() {
    let case = [(
        "StartAssessmentRun",
        "c.yaml",
        CASE.replace("COVER", "member:assessmentTemplateArn"),
    )];
    let cases: Vec<(&str, &str, &str)> =
        case.iter().map(|(a, b, c)| (*a, *b, c.as_str())).collect();

    let dir = temp_suite(b"{\n  \"smithy\": ", &cases);
    let out = run_in(dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("suite.yaml") && err.contains("model.json:2:"),
        "{err}"
    );

    let dir = temp_suite(
        &inspector_model(),
        &[("StartAssessmentRun", "c.yaml", "name: [unclosed\n")],
    );
    let out = run_in(dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("c.yaml:1:"), "{err}");
    assert!(err.contains("no coverage computed"), "{err}");

    let dir = temp_suite(&inspector_model(), &cases);
    std::fs::write(
        dir.path().join("coverage.json"),
        "{\n  \"operations\": {\"StartAssesmentRun\": {}}\n}\n",
    )
    .unwrap();
    let out = run_in(dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("coverage.json: operations:"), "{err}");
    assert!(err.contains("did you mean `StartAssessmentRun`?"), "{err}");
    std::fs::write(
        dir.path().join("coverage.json"),
        "{\n  \"knownGaps\": 3\n}\n",
    )
    .unwrap();
    let out = run_in(dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("coverage.json:2:"),
        "{}",
        stderr(&out)
    );

    // A suite without a model cannot say what its operations hold.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("suite.yaml"), "target_prefix: Svc\n").unwrap();
    std::fs::create_dir_all(dir.path().join("Op")).unwrap();
    std::fs::write(
        dir.path().join("Op/c.yaml"),
        CASE.replace("COVER", "member:x"),
    )
    .unwrap();
    let out = run_in(dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("names no service model"),
        "{}",
        stderr(&out)
    );
}

// An enum value is covered by a case that sends it where a 2xx is expected: forced when the
// firm part expects only a 2xx, offered when a 2xx is only a guess, nothing when a 4xx is due.
#[test]
fn enum_values_are_covered_by_the_requests_that_send_them() {
    let case = |name: &str, format: &str, tail: &str| {
        format!(
            "name: {name}\nsource: test\n{tail}request:\n  body:\n    assessmentRunArn: arn:aws:x\n    reportFileFormat: {format}\n    reportType: FINDING\n"
        )
    };
    let firm = case("firm", "PDF", "provenance: modeled\n") + "expect:\n  status: 200\n";
    let guessed = case("guessed", "HTML", "provenance: inferred\nwhy: a test\n")
        + "expect:\n  any_of:\n  - status: 200\n  - status: 400\n";
    let refused = case("refused", "PDF", "provenance: modeled\n") + "expect:\n  status: 4xx\n";
    let dir = temp_suite(
        &inspector_model(),
        &[
            ("GetAssessmentReport", "firm.yaml", &firm),
            ("GetAssessmentReport", "guessed.yaml", &guessed),
            ("GetAssessmentReport", "refused.yaml", &refused),
        ],
    );
    let out = conform_in(dir.path(), &["coverage", ".", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let op = v["services"][0]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["operation"] == "GetAssessmentReport")
        .unwrap();
    let item = |id: &str| {
        op["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id}"))
            .clone()
    };
    let pdf = item("enum:reportFileFormat=PDF");
    assert_eq!(pdf["status"], "forced");
    assert_eq!(pdf["forced_by"], serde_json::json!(["firm"]));
    assert_eq!(pdf["kind"], "enum-value");
    let html = item("enum:reportFileFormat=HTML");
    assert_eq!(html["status"], "offered");
    assert_eq!(html["offered_by"], serde_json::json!(["guessed"]));
    assert_eq!(
        item("enum:reportType=FINDING")["forced_by"],
        serde_json::json!(["firm"])
    );
}
