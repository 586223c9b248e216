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
    assert!(suite.cases.len() >= 40);
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
