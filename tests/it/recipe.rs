//! The command lines the documentation shows (README.md, with its CI recipe
//! emulator authors copy) keep working: each names a subcommand the binary has, every flag it
//! uses appears in that subcommand's `--help`, and the whole line parses. clap has no dry run;
//! a line followed by `--help` parses every argument before it (an unknown flag or a bad value
//! is an error) and then stops, so it runs nothing.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;

/// Every line of a fenced code block, continuation lines (`\`) joined, and every inline code
/// span of the prose.
fn code_lines(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            if let Some(start) = line.strip_suffix('\\') {
                pending.push_str(start);
                pending.push(' ');
            } else {
                pending.push_str(line);
                out.push(std::mem::take(&mut pending));
            }
        } else {
            out.extend(line.split('`').skip(1).step_by(2).map(str::to_owned));
        }
    }
    out
}

/// GitHub expressions get plausible values: a shard number for `matrix.shard`, a word for the
/// rest (they name files, refs and endpoints, never flags).
fn substitute(line: &str) -> String {
    let re = regex::Regex::new(r"\$\{\{\s*([^}]*?)\s*\}\}").unwrap();
    re.replace_all(line, |c: &regex::Captures<'_>| match &c[1] {
        "matrix.shard" => "1".to_owned(),
        _ => "value".to_owned(),
    })
    .into_owned()
}

/// Splits a shell command into words: quotes grouped and removed, no expansion.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// The arguments of every conform invocation in a line: `conform ...`, `path/to/conform ...`
/// or `cargo run [...] -- ...`, one per command of a `&&`/`;`/`|` list; a YAML `run:` prefix,
/// a trailing `&` and a `#` comment are dropped.
fn invocations(line: &str) -> Vec<Vec<String>> {
    let mut line = line.trim().trim_start_matches("- ").trim();
    if let Some(rest) = line.strip_prefix("run:") {
        line = rest.trim();
    }
    let line = match line.find(" #") {
        Some(at) => &line[..at],
        None => line,
    };
    let line = substitute(line);
    let mut out = Vec::new();
    for command in line
        .split("&&")
        .flat_map(|c| c.split(';'))
        .flat_map(|c| c.split('|'))
    {
        let mut w = words(command.trim().trim_end_matches('&'));
        if w.first()
            .is_some_and(|first| first == "conform" || first.ends_with("/conform"))
        {
            w.remove(0);
            out.push(w);
        } else if w.len() > 2 && w[0] == "cargo" && w[1] == "run" {
            let at = w.iter().position(|x| x == "--");
            out.extend(at.map(|at| w.split_off(at + 1)));
        }
    }
    out
}

/// Every conform invocation in the documentation, with where it was found.
fn documented() -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for doc in ["README.md"] {
        let text =
            std::fs::read_to_string(root().join(doc)).unwrap_or_else(|e| panic!("{doc}: {e}"));
        for line in code_lines(&text) {
            for args in invocations(&line) {
                out.push((format!("{doc}: {}", line.trim()), args));
            }
        }
    }
    out
}

#[test]
fn extraction_finds_commands_and_only_commands() {
    let found = invocations(
        "        run: conform run --endpoint-url \"$E\" --junit ../c-${{ matrix.shard }}.xml --shard ${{ matrix.shard }}/3",
    );
    assert_eq!(
        found,
        [[
            "run",
            "--endpoint-url",
            "$E",
            "--junit",
            "../c-1.xml",
            "--shard",
            "1/3"
        ]]
    );
    assert_eq!(
        invocations("target/release/conform serve &   # in the background"),
        [["serve"]]
    );
    assert_eq!(
        invocations("cargo run -- run        # the suite"),
        [["run"]]
    );
    assert!(invocations("cargo install --locked --git https://x/conform conform").is_empty());
    assert!(invocations("cargo test").is_empty());
    assert_eq!(
        code_lines("a `conform list` b\n```sh\nx \\\n  y\n```\n"),
        ["conform list", "x    y"]
    );
}

#[test]
fn every_documented_command_line_parses() {
    let found = documented();
    let recipe: Vec<_> = found
        .iter()
        .filter(|(w, _)| w.starts_with("README.md"))
        .collect();
    // The recipe's two jobs: a sharded run and a comparison.
    assert!(
        recipe
            .iter()
            .any(|(_, a)| a[0] == "run" && a.contains(&"--shard".to_owned())),
        "{recipe:?}"
    );
    assert!(
        recipe
            .iter()
            .any(|(_, a)| a[0] == "compare" && a.contains(&"--min-fidelity".to_owned())),
        "{recipe:?}"
    );
    assert!(found.iter().any(|(w, _)| w.starts_with("README.md")));

    let mut helps: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = BTreeSet::new();
    for (where_, args) in &found {
        let Some(sub) = args.first().filter(|s| !s.starts_with('-')) else {
            problems.insert(format!("{where_}: no subcommand"));
            continue;
        };
        let help = helps.entry(sub.clone()).or_insert_with(|| {
            let out = conform(&[sub, "--help"]);
            if out.status.success() {
                stdout(&out)
            } else {
                String::new()
            }
        });
        if help.is_empty() {
            problems.insert(format!(
                "{where_}: `conform {sub} --help` fails: no such subcommand"
            ));
            continue;
        }
        for arg in &args[1..] {
            let flag = arg.split('=').next().unwrap_or(arg);
            let known = if flag.starts_with("--") {
                help.contains(&format!("{flag} "))
                    || help.contains(&format!("{flag}\n"))
                    || help.contains(&format!("{flag}="))
            } else if flag.starts_with('-') && flag.len() == 2 {
                help.contains(&format!("{flag},"))
            } else {
                true
            };
            if !known {
                problems.insert(format!(
                    "{where_}: `{flag}` is not in `conform {sub} --help`"
                ));
            }
        }
        // The whole line, then --help: clap parses every argument (flags and values) first.
        let mut with_help: Vec<&str> = args.iter().map(String::as_str).collect();
        with_help.push("--help");
        let out = conform(&with_help);
        if !out.status.success() {
            problems.insert(format!(
                "{where_}: does not parse: {}",
                stderr(&out).lines().next().unwrap_or_default()
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
