//! The block-style subset reader (`conform::yaml::subset`) against serde_yaml_ng, the reference:
//! whatever the subset reader reads, serde_yaml_ng reads as the same value (in document order,
//! with the same scalar types), and as the same typed recording; whatever serde_yaml_ng refuses,
//! the subset reader declines. Checked on every YAML file in the repository, on documents
//! conform writes, and on mutations of both.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use conform::recording::Recording;
use conform::yaml::{from_node, subset};

use crate::support::root;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            yaml_files(&path, out);
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
}

fn corpus() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for dir in [
        "cases",
        "recordings",
        "tests",
        "examples",
        "targets",
        "docs",
    ] {
        yaml_files(&root().join(dir), &mut files);
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|f| std::fs::read_to_string(&f).ok().map(|t| (f, t)))
        .collect()
}

/// The subset reader and serde_yaml_ng agree on `text`: `Ok(true)` when the subset read it,
/// `Ok(false)` when it declined; `Err` says how they differ.
fn agree(text: &str) -> Result<bool, String> {
    let Some(node) = subset::read(text) else {
        return Ok(false);
    };
    let ours: serde_yaml_ng::Value =
        from_node(node).map_err(|e| format!("the subset read a tree serde refused: {e}"))?;
    let reference: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)
        .map_err(|e| format!("the subset read what serde_yaml_ng refuses ({e}): {ours:?}"))?;
    if !same(&ours, &reference) {
        return Err(format!(
            "different values:\n subset: {ours:?}\n serde_yaml_ng: {reference:?}"
        ));
    }
    // Typed, where the text is a recording: the same recording either way (or refused both
    // ways by the type).
    let typed_ours = subset::read(text).and_then(|n| from_node::<Recording>(n).ok());
    let typed_reference = serde_yaml_ng::from_str::<Recording>(text).ok();
    match (typed_ours, typed_reference) {
        (Some(a), Some(b)) => {
            let (a, b) = (format!("{a:?}"), format!("{b:?}"));
            if a != b {
                return Err(format!(
                    "different recordings:\n subset: {a}\n serde_yaml_ng: {b}"
                ));
            }
        }
        (Some(a), None) => return Err(format!("only the subset read a recording: {a:?}")),
        _ => {}
    }
    Ok(true)
}

/// Equal values, mappings in the same order (serde_yaml_ng's `Mapping` compares as an ordered
/// map, which is what is wanted; `NaN` never appears, floats being outside the subset).
fn same(a: &serde_yaml_ng::Value, b: &serde_yaml_ng::Value) -> bool {
    use serde_yaml_ng::Value as V;
    match (a, b) {
        (V::Mapping(x), V::Mapping(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((ka, va), (kb, vb))| same(ka, kb) && same(va, vb))
        }
        (V::Sequence(x), V::Sequence(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

#[test]
fn every_yaml_file_in_the_repository_reads_the_same_either_way() {
    let corpus = corpus();
    assert!(
        corpus.len() > 1000,
        "only {} YAML files found",
        corpus.len()
    );
    let mut read = 0;
    let mut declined = Vec::new();
    for (file, text) in &corpus {
        match agree(text) {
            Ok(true) => read += 1,
            Ok(false) => declined.push(file.strip_prefix(root()).unwrap_or(file).to_owned()),
            Err(e) => panic!("{}: {e}", file.display()),
        }
    }
    // Every recording is within the subset: they are what a replay's start reads.
    let recordings: Vec<_> = declined
        .iter()
        .filter(|f| f.starts_with("recordings"))
        .collect();
    assert!(
        recordings.is_empty(),
        "recordings outside the subset: {recordings:?}"
    );
    eprintln!(
        "subset reader: {read} of {} files read; declined: {declined:?}",
        corpus.len(),
    );
}

#[test]
fn what_conform_writes_is_within_the_subset() {
    for (file, text) in corpus() {
        if !file.starts_with(root().join("recordings")) {
            continue;
        }
        // service.yaml files sit beside the recordings.
        let Ok(recording) = serde_yaml_ng::from_str::<Recording>(&text) else {
            continue;
        };
        let written = conform::yaml::to_string(&recording).unwrap();
        assert_eq!(
            agree(&written),
            Ok(true),
            "{} written again:\n{written}",
            file.display()
        );
    }
}

/// 3,000 cases, or `PROPTEST_CASES` (`PROPTEST_CASES=150000` for a long run); no regression
/// files written into the work tree.
fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    TestRunner::new(Config {
        failure_persistence: None,
        ..Config::with_cases(cases)
    })
}

/// Characters that carry meaning in YAML, for mutations.
const SIGNIFICANT: &[&str] = &[
    " ", "  ", "\n", ":", ": ", "-", "- ", "#", " #", "'", "''", "\"", "\\", "|", ">", "|-", ">+",
    "{", "}", "[", "]", ",", "&a", "*a", "!t", "?", "%", "@", "~", "0", "1.5", "0x1", "-1", "07",
    "null", "true", "False", "<<", "---", "...", "\t", "\r", "é", "\u{85}", "\u{2028}", "\\u00e9",
    "\\x41", "\\N", "\\\n", "\n  ", "\n    ", "\n- ", "\n  - ", "\n\n",
];

#[test]
fn mutations_read_the_same_either_way_or_are_declined() {
    let corpus = corpus();
    let mut runner = runner();
    let strategy = (
        0..corpus.len(),
        proptest::collection::vec(
            (
                any::<proptest::sample::Index>(),
                0usize..4,
                0..SIGNIFICANT.len(),
            ),
            1..4,
        ),
    );
    runner
        .run(&strategy, |(file, edits)| {
            let mut text = corpus[file].1.clone();
            for (at, kind, what) in edits {
                let boundaries: Vec<usize> = (0..=text.len())
                    .filter(|&i| text.is_char_boundary(i))
                    .collect();
                let i = boundaries[at.index(boundaries.len())];
                let next = boundaries
                    .iter()
                    .copied()
                    .find(|&j| j > i)
                    .unwrap_or(text.len());
                match kind {
                    0 => text.insert_str(i, SIGNIFICANT[what]),
                    1 => text.replace_range(i..next, ""),
                    2 => text.replace_range(i..next, SIGNIFICANT[what]),
                    _ => {
                        // Re-indent the line holding i by one space either way.
                        let start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                        if what % 2 == 0 {
                            text.insert(start, ' ');
                        } else if text[start..].starts_with(' ') {
                            text.remove(start);
                        }
                    }
                }
            }
            agree(&text)
                .map(|_| ())
                .map_err(|e| TestCaseError::fail(format!("{e}\n--- input:\n{text}")))
        })
        .unwrap();
}

/// Documents built from pieces the subset reader must get exactly right: block scalars with
/// every chomping and empty lines, quoted scalars with escapes, plain scalars of every type,
/// nested and indentless sequences, flow collections, comments.
fn document() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("plain words".to_owned()),
        Just("x-amz-json-1.1".to_owned()),
        Just("'it''s'".to_owned()),
        Just("\"tab\\tand \\u00e9 \\\" \\\\\"".to_owned()),
        Just("200".to_owned()),
        Just("-7".to_owned()),
        Just("0".to_owned()),
        Just("~".to_owned()),
        Just("".to_owned()),
        Just("True".to_owned()),
        Just("null".to_owned()),
        Just("a #comment".to_owned()),
        Just("http://x/y?z=1".to_owned()),
        Just("{ a: b, 'c': [1, x, \"y\"] }".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        "[a-z][a-z0-9 .:/-]{0,12}",
    ];
    let block = (
        prop_oneof![
            Just("|"),
            Just("|-"),
            Just("|+"),
            Just(">"),
            Just(">-"),
            Just(">+")
        ],
        proptest::collection::vec(
            prop_oneof![
                Just(""),
                Just("line"),
                Just("two words"),
                Just("  more"),
                Just("# not a comment")
            ],
            1..6,
        ),
    )
        .prop_map(|(header, lines)| (header.to_owned(), lines));
    let leaf = prop_oneof![
        scalar.prop_map(Shape::Scalar),
        block.prop_map(|(h, l)| Shape::Block(h, l)),
    ];
    let shape = leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(("[a-c]{1,2}", inner.clone()), 1..4).prop_map(Shape::Map),
            (proptest::collection::vec(inner, 1..4), any::<bool>())
                .prop_map(|(items, indentless)| Shape::Seq(items, indentless)),
        ]
    });
    (shape, 0usize..3).prop_map(|(shape, comments)| {
        let mut out = String::new();
        for _ in 0..comments {
            out.push_str("# a comment\n\n");
        }
        match shape {
            Shape::Map(_) | Shape::Seq(..) => shape.write(0, &mut out),
            other => Shape::Map(vec![("k".into(), other)]).write(0, &mut out),
        }
        out
    })
}

#[derive(Clone, Debug)]
enum Shape {
    Scalar(String),
    Block(String, Vec<&'static str>),
    Map(Vec<(String, Shape)>),
    /// Items, and whether a mapping's value is written indentless.
    Seq(Vec<Shape>, bool),
}

impl Shape {
    /// Writes the node as the value after `key:` or `-` at column `indent` (the text before it
    /// is already written, ending without a line break), or as a whole document at `indent` 0.
    fn write(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match self {
            Shape::Map(entries) => {
                for (k, v) in entries {
                    out.push_str(&pad);
                    out.push_str(k);
                    out.push(':');
                    v.write_value(indent, out);
                }
            }
            Shape::Seq(items, _) => {
                for item in items {
                    out.push_str(&pad);
                    out.push('-');
                    item.write_value(indent, out);
                }
            }
            _ => unreachable!(),
        }
    }

    fn write_value(&self, indent: usize, out: &mut String) {
        match self {
            Shape::Scalar(s) => {
                if !s.is_empty() {
                    out.push(' ');
                    out.push_str(s);
                }
                out.push('\n');
            }
            Shape::Block(header, lines) => {
                out.push(' ');
                out.push_str(header);
                out.push('\n');
                for line in lines {
                    if !line.is_empty() {
                        out.push_str(&" ".repeat(indent + 2));
                        out.push_str(line);
                    }
                    out.push('\n');
                }
            }
            Shape::Map(_) => {
                out.push('\n');
                self.write(indent + 2, out);
            }
            Shape::Seq(_, indentless) => {
                out.push('\n');
                self.write(if *indentless { indent } else { indent + 2 }, out);
            }
        }
    }
}

#[test]
fn generated_documents_read_the_same_either_way() {
    let mut runner = runner();
    runner
        .run(&document(), |text| {
            agree(&text)
                .map(|_| ())
                .map_err(|e| TestCaseError::fail(format!("{e}\n--- input:\n{text}")))
        })
        .unwrap();
}
