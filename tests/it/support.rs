//! Helpers shared by the integration tests: running the built binary, starting stubs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// Runs the conform binary in the project folder, with no colour.
pub fn conform(args: &[&str]) -> Output {
    conform_in(&root(), args)
}

pub fn conform_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("AWS_REGION")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the conform binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Timings vary; tests compare text without them.
pub fn without_timings(text: &str) -> String {
    let re = regex::Regex::new(r"\(\d+(\.\d+)? ms\)").unwrap();
    re.replace_all(text, "(<ms>)").into_owned()
}

/// Copies a folder tree (recordings to mutate in a test).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
