//! The coverage table in cases/README.md is generated from the model and the suite; these tests
//! keep it true and fail when a declared error or constraint has no case.

use conform::case::load_suite;
use conform::coverage;

use crate::support::root;

fn load() -> (Vec<coverage::Item>, conform::case::Suite) {
    let model: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("cases/models/inspector-2016-02-16-StartAssessmentRun.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // The model above is StartAssessmentRun's alone and coverage ids name no operation: the
    // generated cases of the other 36 operations (same member and error names) stay out.
    let suite = load_suite(
        &[root().join("cases/inspector/StartAssessmentRun")],
        &Default::default(),
    )
    .expect("the suite loads");
    (coverage::items(&model), suite)
}

#[test]
fn every_declared_error_constraint_and_edge_has_a_case() {
    let (items, suite) = load();
    assert!(items.iter().filter(|i| i.id.starts_with("error:")).count() == 8);
    let gaps: Vec<_> = coverage::gaps(&items, &suite)
        .into_iter()
        .map(|i| i.id.clone())
        .collect();
    assert!(gaps.is_empty(), "uncovered: {gaps:?}");
    let unknown = coverage::unknown(&items, &suite);
    assert!(
        unknown.is_empty(),
        "covers: ids that name no item: {unknown:?}"
    );
    assert!(suite.cases.len() >= 60);
}

// Guards issue 10, item 10: a case may credit itself only with what its firm part checks. A
// case with `provenance: inferred` has no firm part, so everything it covers is a guess (a
// `member:` id only says which member the request sends).
#[test]
fn inferred_cases_force_nothing() {
    let (_, suite) = load();
    let mut wrong = Vec::new();
    for case in &suite.cases {
        if case.provenance != conform::case::Provenance::Inferred {
            continue;
        }
        for id in &case.covers {
            if !id.starts_with(coverage::GUESS_PREFIX) && !id.starts_with("member:") {
                wrong.push(format!("{}: {id}", case.name));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "inferred cases credited with firm coverage: {wrong:#?}"
    );
}

// Guards issue 10, item 10: no case forces ROLE_DOES_NOT_HAVE_CORRECT_POLICY (the broken-role
// case accepts either value of the enum), so the table must not say one does.
#[test]
fn an_error_code_no_case_forces_is_not_credited_as_forced() {
    let (_, suite) = load();
    let map = coverage::covering(&suite);
    let policy = &map["errorCode:ROLE_DOES_NOT_HAVE_CORRECT_POLICY"];
    assert!(policy.forced.is_empty(), "{policy:?}");
    assert!(!policy.offered.is_empty(), "{policy:?}");
}

/// Set CONFORM_UPDATE_COVERAGE=1 to rewrite the table after changing the suite.
#[test]
fn the_readme_table_is_current() {
    let (items, suite) = load();
    let table = coverage::table(&items, &suite);
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
                "cases/README.md's coverage table is out of date; run CONFORM_UPDATE_COVERAGE=1 cargo test coverage\n{}",
                conform::diff::unified(&text[start..stop], &table)
            );
        }
    }
}

// Keeps the counts the READMEs state true: the replay answers every case, none is skipped.
#[test]
fn the_readmes_state_the_suite_size() {
    let (_, suite) = load();
    let hand_written = suite
        .cases
        .iter()
        .filter(|c| !conform::generate::is_generated(&std::fs::read(&c.file).unwrap()))
        .count();
    let whole = load_suite(&[root().join("cases")], &Default::default())
        .expect("the whole suite loads")
        .cases
        .len();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("ends with `{whole} passed, 0 failed, 0 skipped`")),
        "README.md does not say the suite has {whole} cases"
    );
    let cases = std::fs::read_to_string(root().join("cases/README.md")).unwrap();
    assert!(
        cases.starts_with(&format!(
            "# The conform suite: Amazon Inspector Classic\n\n{whole} cases: {hand_written} hand-written for StartAssessmentRun"
        )),
        "cases/README.md does not say the suite has {whole} cases, {hand_written} of them hand-written"
    );
}
