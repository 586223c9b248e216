//! The generated ACM and SQS suites against a real emulator, moto_server, with the ledgers of
//! known divergences beside them: green as they are, red naming a divergence whose entry is
//! dropped, red with "remove it from the ledger" when a proxy fixes one of moto's divergences. Needs `CONFORM_MOTO_URL` (`.ci/run` starts moto with
//! `tests/moto/start.sh` and sets it); without it the tests say so and return, except under CI,
//! where a missing moto is a failure: a test that silently passes without moto tests nothing.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

fn moto_url(test: &str) -> Option<String> {
    match std::env::var("CONFORM_MOTO_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let in_ci =
                std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            assert!(
                !in_ci,
                "{test}: CI is set but CONFORM_MOTO_URL is not; start moto with tests/moto/start.sh"
            );
            eprintln!(
                "SKIPPED {test}: set CONFORM_MOTO_URL=$(tests/moto/start.sh) to run it against moto"
            );
            None
        }
    }
}

/// `conform run SUITE` against moto, signed with fake credentials (moto routes by the service
/// in the signature's scope and checks no signature), from `dir`.
/// moto is emptied first (`tests/moto/reset.sh`), and cases run one at a time: the verdicts, and
/// so the ledger, do not depend on what ran before.
fn run_against_moto(dir: &Path, url: &str, suite: &str, extra: &[&str]) -> Output {
    let reset = Command::new(root().join("tests/moto/reset.sh"))
        .arg(url)
        .status()
        .expect("tests/moto/reset.sh runs");
    assert!(reset.success(), "cannot reset moto at {url}");
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args([
            "run",
            suite,
            "--endpoint-url",
            url,
            "--sign",
            "--region",
            "us-east-1",
        ])
        .args(["--jobs", "1", "--color", "never"])
        .args(extra)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the conform binary runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn acm_and_sqs_against_moto_green_with_their_ledgers_red_without_an_entry() {
    let Some(url) =
        moto_url("acm_and_sqs_against_moto_green_with_their_ledgers_red_without_an_entry")
    else {
        return;
    };
    for suite in ["cases/acm", "cases/sqs"] {
        let out = run_against_moto(&root(), &url, suite, &[]);
        let text = stdout(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{suite}:\n{text}\n{}",
            stderr(&out)
        );
        // The ledger is in use: its known divergences show as such, none fails.
        assert!(text.contains("KNOWN  "), "{suite}:\n{text}");
        let last = text.lines().last().unwrap_or_default();
        assert!(last.contains(" passed, 0 failed, "), "{suite}: {last}");
    }

    // One test, not two: both share one moto, whose state a parallel test would disturb.
    // Removing a ledger entry turns the run red, naming that divergence.
    for suite in ["acm", "sqs"] {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&root().join("cases").join(suite), &dir.path().join(suite));
        let ledger_file = dir.path().join(suite).join("known-divergences.yaml");
        let ledger = std::fs::read_to_string(&ledger_file).unwrap();
        // Drop the first entry; keep the others.
        let mut doc: serde_json::Value = serde_yaml_ng::from_str(&ledger).unwrap();
        let entries = doc["divergences"].as_array_mut().unwrap();
        assert!(
            !entries.is_empty(),
            "{suite}: the ledger lists a divergence"
        );
        let first = entries.remove(0);
        let dropped = first["case"].as_str().unwrap().to_owned();
        let kept = serde_yaml_ng::to_string(&doc).unwrap();
        std::fs::write(&ledger_file, kept).unwrap();
        let out = run_against_moto(dir.path(), &url, suite, &[]);
        let text = stdout(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{suite} without `{dropped}`:\n{text}"
        );
        let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL ")).collect();
        assert_eq!(
            failed.len(),
            1,
            "{suite}: only the dropped entry fails:\n{text}"
        );
        assert!(
            failed[0].contains(&dropped),
            "{suite}: {failed:?} should name `{dropped}`"
        );
        let last = text.lines().last().unwrap_or_default();
        assert!(last.contains(" passed, 1 failed, "), "{suite}: {last}");
    }

    // One divergence fixed: a proxy in front of moto gives ACM's answers the awsJson1_1
    // Content-Type. The ledger lists only `header content-type` for the valid ListCertificates
    // request, so that case now passes, and fails with "remove it from the ledger".
    let fixed = start_rewriting_proxy(url.clone(), fix_content_type).await;
    let case = "ListCertificates: a valid request is answered with 200";
    let out = run_against_moto(&root(), &fixed, "cases/acm", &["--filter", case]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert!(text.contains(&format!("FAIL   {case}")), "{text}");
    assert!(
        text.contains("no longer occurs (the case passes): remove it from the ledger"),
        "{text}"
    );
}

/// ACM's Content-Type as awsJson1_1 says it (moto answers text/html or application/json),
/// everything else as moto sent it.
fn fix_content_type(
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) -> (Vec<(String, String)>, Vec<u8>) {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "content-type" | "content-length" | "connection" | "transfer-encoding"
            )
        })
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    out.push(("content-type".into(), "application/x-amz-json-1.1".into()));
    (out, body.to_vec())
}
