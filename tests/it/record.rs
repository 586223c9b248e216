//! Recording (issue #5): `conform::record` and `conform record` against a local stand-in for
//! AWS that checks signatures. What is written loads back and replays; the modes and `--force`
//! decide what is replaced; no credential ever reaches a file or the terminal; an interrupted
//! run leaves only whole files. Nothing here talks to AWS.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conform::aws::SigV4Signer;
use conform::case::{Suite, TargetKind, load_suite};
use conform::http::{Client, ClientOptions};
use conform::record::{
    KeepReason, NotRecorded, RecordEvent, RecordMode, RecordOptions, RecordStatus, RecordSummary,
    RetryPolicy, record,
};
use conform::recording::{RecordingProvenance, load_recording, load_recordings};
use conform::replay::{Replay, ReplayServer};
use conform::runner::{Outcome, RunOptions, Target, run_cases};

use crate::support_sigv4::{Behaviour, Keys, Stale, StandIn};

/// An account id no AWS example uses, so that masking has something to mask.
const ACCOUNT: &str = "210987654321";

fn template_arn() -> String {
    format!("arn:aws:inspector:us-west-2:{ACCOUNT}:target/0-abcdEFGH/template/0-ijklMNOP")
}

/// A suite.yaml for the test cases; its `model:` gives `--sign` the signing name.
fn suite_yaml() -> String {
    let model = crate::support::root().join("cases/inspector/model/inspector-2016-02-16.json");
    format!(
        "target_prefix: InspectorService\nmodel: {:?}\nvars: {{}}\n",
        model.display().to_string()
    )
}

fn start_ok(name: &str, run_name: &str, signature: &str) -> String {
    format!(
        r#"name: {name}
source: test
provenance: protocol
request:
  body:
    assessmentRunName: {run_name}
    assessmentTemplateArn: '{{{{template_arn}}}}'
  signature: {signature}
expect:
  status: 200
  headers: {{ content-type: application/x-amz-json-1.1, x-amzn-requestid: {{ matches: uuid }} }}
  body:
    assessmentRunArn: {{ regex: '^{{{{template_arn}}}}/run/0-[A-Za-z0-9]{{8}}$' }}
"#
    )
}

fn rejected(name: &str, signature: &str, error: &str) -> String {
    format!(
        r#"name: {name}
source: test
provenance: protocol
request:
  body:
    assessmentRunName: rejected
    assessmentTemplateArn: '{{{{template_arn}}}}'
  signature: {signature}
expect:
  status: 403
  error: {{ type: {error} }}
"#
    )
}

/// The stand-in answers 400 InvalidInputException; this case expects a 200.
const EXPECTS_WHAT_IT_DOES_NOT_GET: &str = r#"name: missing template expecting success
source: test
provenance: protocol
request:
  body: {}
expect:
  status: 200
"#;

const MISSING_TEMPLATE: &str = r#"name: missing template
source: test
provenance: protocol
request:
  body: {}
expect:
  status: 400
  error: { type: InvalidInputException }
"#;

/// A cases folder: `<root>/cases/suite.yaml` and `<root>/cases/inspector/StartAssessmentRun/*`.
fn write_cases(root: &Path, files: &[(&str, String)]) -> PathBuf {
    let cases = root.join("cases");
    let dir = cases.join("inspector/StartAssessmentRun");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(cases.join("suite.yaml"), suite_yaml()).unwrap();
    std::fs::write(
        cases.join("inspector/suite.yaml"),
        format!("vars:\n  template_arn: '{}'\n", template_arn()),
    )
    .unwrap();
    for (stem, text) in files {
        std::fs::write(dir.join(format!("{stem}.yaml")), text).unwrap();
    }
    cases
}

fn standard_cases(root: &Path) -> PathBuf {
    write_cases(
        root,
        &[
            ("start_ok", start_ok("start ok", "run-1", "normal")),
            ("missing_template", MISSING_TEMPLATE.to_owned()),
            ("expects_success", EXPECTS_WHAT_IT_DOES_NOT_GET.to_owned()),
        ],
    )
}

fn load(cases: &Path) -> Suite {
    load_suite(&[cases.to_owned()], &Default::default()).expect("the test cases load")
}

fn signed_target(stand_in: &StandIn, kind: TargetKind) -> (Target, SigV4Signer) {
    let keys = &stand_in.keys;
    let make = || {
        SigV4Signer::from_credentials(
            &conform::aws::AwsService::load(
                &crate::support::root().join("cases/inspector/model/inspector-2016-02-16.json"),
            )
            .unwrap(),
            &keys.access_key_id,
            &keys.secret_access_key,
            keys.session_token.clone(),
            &keys.region,
        )
    };
    let client = Client::new(
        &stand_in.uri(),
        Some(Arc::new(make())),
        ClientOptions::default(),
    )
    .unwrap();
    (Target { kind, client }, make())
}

fn options(out: &Path, mode: RecordMode, signer: &SigV4Signer) -> RecordOptions {
    RecordOptions {
        out: out.to_owned(),
        mode,
        region: Some("us-west-2".into()),
        run: RunOptions {
            jobs: 1,
            ..RunOptions::default()
        },
        retry: RetryPolicy {
            base_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        },
        scrubber: Some(signer.scrubber()),
        ..RecordOptions::default()
    }
}

async fn record_all(
    suite: &Suite,
    cases: &Path,
    target: &Target,
    options: &RecordOptions,
) -> (RecordSummary, Vec<RecordEvent>) {
    let events = Mutex::new(Vec::new());
    let selected: Vec<usize> = (0..suite.cases.len()).collect();
    let summary = record(&suite.cases, &selected, cases, target, options, |e| {
        events.lock().unwrap().push(e)
    })
    .await;
    (summary, events.into_inner().unwrap())
}

fn status_of<'a>(summary: &'a RecordSummary, name: &str) -> &'a RecordStatus {
    &summary
        .cases
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
        .status
}

fn recording_file(out: &Path, stem: &str) -> PathBuf {
    out.join(format!("inspector/StartAssessmentRun/{stem}.yaml"))
}

#[tokio::test]
async fn records_into_an_empty_folder_that_loads_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let cases = standard_cases(dir.path());
    let out = dir.path().join("recordings");
    let stand_in = StandIn::start(Keys::temporary()).await;
    let (target, signer) = signed_target(&stand_in, TargetKind::Signed);
    let suite = load(&cases);

    let (summary, events) = record_all(
        &suite,
        &cases,
        &target,
        &options(&out, RecordMode::New, &signer),
    )
    .await;
    assert_eq!(status_of(&summary, "start ok"), &RecordStatus::Written);
    assert_eq!(
        status_of(&summary, "missing template"),
        &RecordStatus::Written
    );
    assert_eq!(
        status_of(&summary, "missing template expecting success"),
        &RecordStatus::NotRecorded(NotRecorded::Failed { step: 0 })
    );
    assert!(summary.has_problems());
    assert!(matches!(
        events.first(),
        Some(RecordEvent::Started { total: 3 })
    ));
    let finished: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            RecordEvent::Finished { remaining, .. } => Some(*remaining),
            _ => None,
        })
        .collect();
    assert_eq!(finished, [2, 1, 0]);

    let recordings = load_recordings(&out).expect("what was written loads");
    assert_eq!(recordings.len(), 2);
    let ok = load_recording(&recording_file(&out, "start_ok")).unwrap();
    assert_eq!(ok.provenance, RecordingProvenance::Recorded);
    let from = ok.recorded.as_ref().unwrap();
    assert_eq!(from.endpoint, stand_in.uri());
    assert_eq!(from.region.as_deref(), Some("us-west-2"));
    assert!(!from.aws);
    assert!(
        from.date.ends_with('Z') && from.date.len() == 20,
        "{}",
        from.date
    );
    assert_eq!(from.conform_version, env!("CARGO_PKG_VERSION"));
    assert!(ok.source.contains(&stand_in.uri()));
    let request = &ok.exchanges[0].request;
    let names: Vec<&str> = request.headers.keys().map(String::as_str).collect();
    assert_eq!(names, ["content-type", "x-amz-target"]);
    assert_eq!(
        request.body.as_ref().unwrap()["assessmentTemplateArn"],
        template_arn()
    );
    let response = &ok.exchanges[0].response;
    assert_eq!(response.status, 200);
    assert!(response.headers.contains_key("x-amzn-requestid"));

    // What was recorded answers the same cases again, through the replay server.
    let replay = Replay::new(&recordings).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = ReplayServer::start(replay, listener, None).await;
    let replay_target = Target {
        kind: TargetKind::Replay,
        client: Client::new(&server.uri(), None, ClientOptions::default()).unwrap(),
    };
    let recorded: Vec<usize> = (0..suite.cases.len())
        .filter(|&i| suite.cases[i].name != "missing template expecting success")
        .collect();
    let results = run_cases(
        &suite.cases,
        &recorded,
        &replay_target,
        &RunOptions::default(),
        |_, _| {},
    )
    .await;
    for result in results {
        assert!(
            matches!(result.outcome, Outcome::Passed),
            "{}: {:?}",
            suite.cases[result.index].name,
            result.outcome
        );
    }
}

#[tokio::test]
async fn record_failures_records_what_the_endpoint_really_said() {
    let dir = tempfile::tempdir().unwrap();
    let cases = standard_cases(dir.path());
    let out = dir.path().join("recordings");
    let stand_in = StandIn::start(Keys::test()).await;
    let (target, signer) = signed_target(&stand_in, TargetKind::Signed);
    let suite = load(&cases);
    let options = RecordOptions {
        record_failures: true,
        ..options(&out, RecordMode::New, &signer)
    };
    let (summary, _) = record_all(&suite, &cases, &target, &options).await;
    assert!(!summary.has_problems());
    assert_eq!(summary.written().count(), 3);
    let failed = load_recording(&recording_file(&out, "expects_success")).unwrap();
    assert_eq!(failed.exchanges[0].response.status, 400);
    assert!(
        failed
            .note
            .as_deref()
            .unwrap()
            .contains("--record-failures")
    );
}

#[tokio::test]
async fn mode_none_writes_nothing_and_mode_new_keeps_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let cases = standard_cases(dir.path());
    let out = dir.path().join("recordings");
    let stand_in = StandIn::start(Keys::test()).await;
    let (target, signer) = signed_target(&stand_in, TargetKind::Signed);
    let suite = load(&cases);

    let (summary, _) = record_all(
        &suite,
        &cases,
        &target,
        &options(&out, RecordMode::None, &signer),
    )
    .await;
    assert!(!out.exists(), "--mode none wrote something");
    assert_eq!(
        status_of(&summary, "start ok"),
        &RecordStatus::NotRecorded(NotRecorded::DryRun)
    );
    assert_eq!(stand_in.requests(), 3, "--mode none still runs every case");

    record_all(
        &suite,
        &cases,
        &target,
        &options(&out, RecordMode::New, &signer),
    )
    .await;
    let file = recording_file(&out, "start_ok");
    let first = std::fs::read_to_string(&file).unwrap();
    let before = stand_in.requests();
    let (summary, _) = record_all(
        &suite,
        &cases,
        &target,
        &options(&out, RecordMode::New, &signer),
    )
    .await;
    assert_eq!(
        status_of(&summary, "start ok"),
        &RecordStatus::KeptExisting(KeepReason::Exists)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
    // Only the case with no recording (it failed before) ran again.
    assert_eq!(stand_in.requests(), before + 1);

    // --mode all records again: the stand-in numbers its runs, so the answer differs.
    let (summary, _) = record_all(
        &suite,
        &cases,
        &target,
        &options(&out, RecordMode::All, &signer),
    )
    .await;
    assert_eq!(status_of(&summary, "start ok"), &RecordStatus::Written);
    assert_ne!(std::fs::read_to_string(&file).unwrap(), first);
}

#[tokio::test]
async fn a_recording_from_aws_is_replaced_only_from_aws_or_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let cases = standard_cases(dir.path());
    let out = dir.path().join("recordings");
    let stand_in = StandIn::start(Keys::test()).await;
    let (aws_target, signer) = signed_target(&stand_in, TargetKind::Aws);
    let (other_target, _) = signed_target(&stand_in, TargetKind::Signed);
    let suite = load(&cases);
    let file = recording_file(&out, "start_ok");

    let from_aws = RecordOptions {
        aws: true,
        ..options(&out, RecordMode::All, &signer)
    };
    record_all(&suite, &cases, &aws_target, &from_aws).await;
    let recorded = std::fs::read_to_string(&file).unwrap();
    assert!(load_recording(&file).unwrap().recorded.unwrap().aws);

    let before = stand_in.requests();
    let (summary, _) = record_all(
        &suite,
        &cases,
        &other_target,
        &options(&out, RecordMode::All, &signer),
    )
    .await;
    assert!(matches!(
        status_of(&summary, "start ok"),
        RecordStatus::KeptExisting(KeepReason::FromAws { .. })
    ));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), recorded);
    // Kept files are not even asked for again; only the unrecorded failing case ran.
    assert_eq!(stand_in.requests(), before + 1);

    // From AWS again: replaced.
    let (summary, _) = record_all(&suite, &cases, &aws_target, &from_aws).await;
    assert_eq!(status_of(&summary, "start ok"), &RecordStatus::Written);

    let forced = RecordOptions {
        force: true,
        ..options(&out, RecordMode::All, &signer)
    };
    let (summary, _) = record_all(&suite, &cases, &other_target, &forced).await;
    assert_eq!(status_of(&summary, "start ok"), &RecordStatus::Written);
    assert!(!load_recording(&file).unwrap().recorded.unwrap().aws);
}

#[tokio::test]
async fn a_transport_error_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let cases = standard_cases(dir.path());
    let out = dir.path().join("recordings");
    let stand_in = StandIn::start(Keys::test()).await;
    let (target, signer) = signed_target(&stand_in, TargetKind::Signed);
    let suite = load(&cases);
    record_all(
        &suite,
        &cases,
        &target,
        &options(&out, RecordMode::All, &signer),
    )
    .await;
    let file = recording_file(&out, "start_ok");
    let recorded = std::fs::read_to_string(&file).unwrap();

    // A port nothing listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let refused = Target {
        kind: TargetKind::Endpoint,
        client: Client::new(&closed, None, ClientOptions::default()).unwrap(),
    };
    let (summary, _) = record_all(
        &suite,
        &cases,
        &refused,
        &options(&out, RecordMode::All, &signer),
    )
    .await;
    assert!(matches!(
        status_of(&summary, "start ok"),
        RecordStatus::NotRecorded(NotRecorded::Errored { .. })
    ));
    assert!(summary.has_problems());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), recorded);
}

#[tokio::test]
async fn throttled_cases_are_retried_with_events() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write_cases(
        dir.path(),
        &[("start_ok", start_ok("start ok", "run-1", "normal"))],
    );
    let out = dir.path().join("recordings");
    let stand_in = StandIn::start_with(
        Keys::test(),
        Behaviour {
            throttle_first: 2,
            ..Behaviour::default()
        },
    )
    .await;
    let (target, signer) = signed_target(&stand_in, TargetKind::Signed);
    let suite = load(&cases);
    let (summary, events) = record_all(
        &suite,
        &cases,
        &target,
        &options(&out, RecordMode::New, &signer),
    )
    .await;
    assert_eq!(status_of(&summary, "start ok"), &RecordStatus::Written);
    assert_eq!(summary.cases[0].attempts, 3);
    let retries: Vec<(u32, String)> = events
        .iter()
        .filter_map(|e| match e {
            RecordEvent::Retry {
                attempt, reason, ..
            } => Some((*attempt, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        retries,
        [
            (2, "ThrottlingException".to_owned()),
            (3, "ThrottlingException".to_owned())
        ]
    );
    // The throttled answers are not what was recorded.
    let recording = load_recording(&recording_file(&out, "start_ok")).unwrap();
    assert_eq!(recording.exchanges.len(), 1);
    assert_eq!(recording.exchanges[0].response.status, 200);
}

#[tokio::test]
async fn retries_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write_cases(
        dir.path(),
        &[("start_ok", start_ok("start ok", "run-1", "normal"))],
    );
    let out = dir.path().join("recordings");
    let stand_in = StandIn::start_with(
        Keys::test(),
        Behaviour {
            throttle_first: usize::MAX,
            ..Behaviour::default()
        },
    )
    .await;
    let (target, signer) = signed_target(&stand_in, TargetKind::Signed);
    let suite = load(&cases);
    let (summary, _) = record_all(
        &suite,
        &cases,
        &target,
        &options(&out, RecordMode::New, &signer),
    )
    .await;
    assert_eq!(summary.cases[0].attempts, 5);
    assert_eq!(stand_in.requests(), 5);
    assert_eq!(
        status_of(&summary, "start ok"),
        &RecordStatus::NotRecorded(NotRecorded::Failed { step: 0 })
    );
}

#[tokio::test]
async fn masked_accounts_and_quoted_secrets_stay_out_of_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write_cases(
        dir.path(),
        &[
            ("start_ok", start_ok("start ok", "run-1", "normal")),
            (
                "corrupt",
                rejected("corrupt", "corrupt", "InvalidSignatureException"),
            ),
        ],
    );
    let out = dir.path().join("recordings");
    let keys = Keys::temporary();
    let stand_in = StandIn::start(keys.clone()).await;
    let (target, signer) = signed_target(&stand_in, TargetKind::Signed);
    let suite = load(&cases);
    let options = RecordOptions {
        mask_account: true,
        ..options(&out, RecordMode::New, &signer)
    };
    let (summary, _) = record_all(&suite, &cases, &target, &options).await;
    assert_eq!(summary.written().count(), 2, "{summary:#?}");

    let ok = std::fs::read_to_string(recording_file(&out, "start_ok")).unwrap();
    assert!(!ok.contains(ACCOUNT), "{ok}");
    assert!(
        ok.contains(
            "arn:aws:inspector:us-west-2:111111111111:target/0-abcdEFGH/template/0-ijklMNOP"
        ),
        "{ok}"
    );
    // The stand-in quotes the session token back in its signature error, as some AWS
    // services quote the canonical request.
    let corrupt = std::fs::read_to_string(recording_file(&out, "corrupt")).unwrap();
    let token = keys.session_token.as_deref().unwrap();
    assert!(
        corrupt.contains("x-amz-security-token:<redacted>"),
        "{corrupt}"
    );
    for text in [&ok, &corrupt] {
        assert!(!text.contains(token));
        assert!(!text.contains(&keys.secret_access_key));
        assert!(!text.contains(&keys.access_key_id));
    }
    load_recordings(&out).expect("masked recordings still load");
}

// ---- the binary ----

/// Credentials distinctive enough that finding any of them anywhere is a leak.
const LEAK_KEY: &str = "AKIDLEAKCHECKKEY7Q3Z";
const LEAK_SECRET: &str = "leakCheckSecretZq8Xv2Lw5Nr7Tp1Ks4Hm6Jd9Fb";
const LEAK_TOKEN: &str = "leakCheckSessionTokenYc3Vb8Nw2Qm5Rt7Zp1Xk4Ls6Jh9Gd0";
/// The stale temporary credentials `signature: expired-token` signs with.
const LEAK_STALE_KEY: &str = "ASIALEAKSTALEKEY4W8R";
const LEAK_STALE_SECRET: &str = "leakStaleSecretPq4Zr8Nv3Kw6Ty1Bm5Xj7Hc2Fd";
const LEAK_STALE_TOKEN: &str = "leakStaleSessionTokenGz6Wp2Rk8Vn4Mt1Qy7Ls3Hb5Jd0Xc";
const LEAKS: [&str; 6] = [
    LEAK_KEY,
    LEAK_SECRET,
    LEAK_TOKEN,
    LEAK_STALE_KEY,
    LEAK_STALE_SECRET,
    LEAK_STALE_TOKEN,
];

fn leak_keys() -> Keys {
    Keys {
        access_key_id: LEAK_KEY.into(),
        secret_access_key: LEAK_SECRET.into(),
        session_token: Some(LEAK_TOKEN.into()),
        region: "us-west-2".into(),
        expired: Some(Stale {
            access_key_id: LEAK_STALE_KEY.into(),
            secret_access_key: LEAK_STALE_SECRET.into(),
            session_token: LEAK_STALE_TOKEN.into(),
        }),
    }
}

/// The binary with the leak credentials in its environment and no other AWS configuration
/// (no profile files, no instance metadata), so the environment is the only source.
fn conform_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conform"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .env("AWS_ACCESS_KEY_ID", LEAK_KEY)
        .env("AWS_SECRET_ACCESS_KEY", LEAK_SECRET)
        .env("AWS_SESSION_TOKEN", LEAK_TOKEN)
        .env("CONFORM_EXPIRED_ACCESS_KEY_ID", LEAK_STALE_KEY)
        .env("CONFORM_EXPIRED_SECRET_ACCESS_KEY", LEAK_STALE_SECRET)
        .env("CONFORM_EXPIRED_SESSION_TOKEN", LEAK_STALE_TOKEN)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    command
}

async fn run_conform(dir: &Path, args: &[&str]) -> Output {
    let mut command = conform_command(dir, args);
    tokio::task::spawn_blocking(move || command.output().expect("the conform binary runs"))
        .await
        .unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn no_credential_reaches_a_file_or_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write_cases(
        dir.path(),
        &[
            ("start_ok", start_ok("start ok", "run-1", "normal")),
            (
                "corrupt",
                rejected("corrupt", "corrupt", "InvalidSignatureException"),
            ),
            (
                "expired",
                rejected("expired", "expired", "InvalidSignatureException"),
            ),
            (
                "unknown_key",
                rejected("unknown key", "unknown-key", "UnrecognizedClientException"),
            ),
            (
                "unsigned",
                rejected("unsigned", "none", "MissingAuthenticationTokenException"),
            ),
            (
                "wrong_region",
                rejected("wrong region", "wrong-region", "InvalidSignatureException"),
            ),
            (
                "wrong_service",
                rejected(
                    "wrong service",
                    "wrong-service",
                    "InvalidSignatureException",
                ),
            ),
            (
                "expired_token",
                rejected("expired token", "expired-token", "ExpiredTokenException"),
            ),
            ("expects_success", EXPECTS_WHAT_IT_DOES_NOT_GET.to_owned()),
        ],
    );
    let stand_in = StandIn::start(leak_keys()).await;
    let uri = stand_in.uri();
    let cases_arg = cases.to_string_lossy().into_owned();
    let mut printed = String::new();
    let sign: [&str; 6] = [
        "--endpoint-url",
        &uri,
        "--sign",
        "--region",
        "us-west-2",
        "--jobs=1",
    ];
    let runs: [&[&str]; 3] = [
        &[
            "record",
            "--out",
            "recordings",
            "--mode",
            "all",
            "--record-failures",
        ],
        &["record", "--out", "recordings", "--mode", "none"],
        &["run", "--json", "report.json", "--junit", "report.xml"],
    ];
    for (i, command) in runs.into_iter().enumerate() {
        let mut args = vec![command[0], &cases_arg];
        args.extend_from_slice(&command[1..]);
        args.extend_from_slice(&sign);
        let output = run_conform(dir.path(), &args).await;
        printed.push_str(&String::from_utf8_lossy(&output.stdout));
        printed.push_str(&String::from_utf8_lossy(&output.stderr));
        // With --mode none (and in `run`) the failing case makes the exit code 1.
        let expected = if i == 0 { 0 } else { 1 };
        assert_eq!(output.status.code(), Some(expected), "{printed}");
    }
    // The environment's credentials were used: the stand-in accepted signed requests, and
    // every fault case got the answer it expects (only `expects_success` failed).
    assert!(stand_in.accepted() >= 2, "{printed}");
    assert!(
        printed.contains("8 passed, 1 failed"),
        "every fault was made as asked:\n{printed}"
    );
    let written = files_under(&dir.path().join("recordings"));
    assert_eq!(written.len(), 9, "{printed}");
    assert!(dir.path().join("report.json").exists() && dir.path().join("report.xml").exists());
    for file in files_under(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in LEAKS {
            assert!(
                !text.contains(secret),
                "{} holds a credential",
                file.display()
            );
        }
        // The run id is no part of a recording or report.
        assert!(
            !text.to_ascii_lowercase().contains("x-conform-run-id"),
            "{} holds the run id header",
            file.display()
        );
    }
    for secret in LEAKS {
        assert!(
            !printed.contains(secret),
            "printed a credential:\n{printed}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_modes_and_force() {
    let dir = tempfile::tempdir().unwrap();
    let cases = standard_cases(dir.path());
    let stand_in = StandIn::start(leak_keys()).await;
    let uri = stand_in.uri();
    let cases_arg = cases.to_string_lossy().into_owned();
    let record = |target: &'static [&'static str], mode: &'static str, force: bool| {
        let mut args: Vec<String> = [
            "record",
            &cases_arg,
            "--endpoint-url",
            &uri,
            "--region",
            "us-west-2",
            "--mode",
            mode,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(target.iter().map(|s| s.to_string()));
        if force {
            args.push("--force".into());
        }
        let dir = dir.path().to_owned();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_conform(&dir, &args).await
        }
    };
    let stdout = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let out = dir.path().join("recordings");

    let o = record(&["--sign"], "none", false).await;
    assert_eq!(o.status.code(), Some(1), "a failing case: {}", stdout(&o));
    assert!(!out.exists());
    assert!(stdout(&o).ends_with("0 written, 0 kept, 3 not recorded (--mode none: nothing written); of the cases run: 2 passed, 1 failed, 0 skipped\n"), "{}", stdout(&o));

    // "Real AWS" here is the stand-in reached with --aws --endpoint-url.
    let o = record(&["--aws"], "new", false).await;
    assert!(
        stdout(&o).contains("2 written, 0 kept, 1 not recorded"),
        "{}",
        stdout(&o)
    );
    let file = recording_file(&out, "start_ok");
    assert!(load_recording(&file).unwrap().recorded.unwrap().aws);

    let o = record(&["--sign"], "new", false).await;
    assert!(
        stdout(&o).contains("0 written, 2 kept, 1 not recorded"),
        "{}",
        stdout(&o)
    );

    let o = record(&["--sign"], "all", false).await;
    assert!(
        stdout(&o).contains("0 written, 2 kept, 1 not recorded"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("recorded against real AWS"),
        "{}",
        stdout(&o)
    );
    assert!(load_recording(&file).unwrap().recorded.unwrap().aws);

    let o = record(&["--sign"], "all", true).await;
    assert!(
        stdout(&o).contains("2 written, 0 kept, 1 not recorded"),
        "{}",
        stdout(&o)
    );
    assert!(!load_recording(&file).unwrap().recorded.unwrap().aws);

    // No target at all is a usage error.
    let o = run_conform(dir.path(), &["record", &cases_arg]).await;
    assert_eq!(o.status.code(), Some(2));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_leaves_only_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("start_{i:02}"),
                start_ok(&format!("start {i:02}"), &format!("run-{i}"), "normal"),
            )
        })
        .collect();
    let files: Vec<(&str, String)> = many.iter().map(|(s, t)| (s.as_str(), t.clone())).collect();
    let cases = write_cases(dir.path(), &files);
    let out = dir.path().join("recordings");
    let stand_in = StandIn::start_with(
        leak_keys(),
        Behaviour {
            delay: Duration::from_millis(100),
            ..Behaviour::default()
        },
    )
    .await;
    let uri = stand_in.uri();
    let cases_arg = cases.to_string_lossy().into_owned();

    for signal in ["TERM", "INT", "KILL"] {
        let _ = std::fs::remove_dir_all(&out);
        let mut child = conform_command(
            dir.path(),
            &[
                "record",
                &cases_arg,
                "--endpoint-url",
                &uri,
                "--sign",
                "--region",
                "us-west-2",
            ],
        )
        .stdout(Stdio::null())
        // Progress is a line per case: far less than a pipe holds, so nobody needs to read it.
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        // Wait until a few files are written, then interrupt mid-run.
        let started = Instant::now();
        while yaml_files(&out).len() < 3 {
            if let Some(status) = child.try_wait().unwrap() {
                let mut stderr = String::new();
                std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
                    .unwrap();
                panic!("conform ended early ({status}):\n{stderr}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "nothing recorded"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let killed = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        if signal != "KILL" {
            assert_eq!(status.code(), Some(130), "SIG{signal}");
        }

        let written = yaml_files(&out);
        assert!(
            written.len() < 40,
            "SIG{signal} came too late to test anything"
        );
        for file in &written {
            load_recording(file).unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
        }
        load_recordings(&out).expect("the folder loads");
        // SIGKILL can strike between creating a temporary file and renaming it; only the
        // signals conform can handle promise that none is left.
        if signal != "KILL" {
            let temporary: Vec<PathBuf> = files_under(&out)
                .into_iter()
                .filter(|f| f.to_string_lossy().ends_with(".tmp"))
                .collect();
            assert!(temporary.is_empty(), "SIG{signal} left {temporary:?}");
        }
    }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
        .collect()
}

/// Every `conform run` and `conform record` invocation sends its own run id to an endpoint,
/// and none to real AWS (`--aws`, here pointed at the stand-in with `--endpoint-url`).
#[tokio::test(flavor = "multi_thread")]
async fn each_invocation_has_a_run_id_and_aws_gets_none() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write_cases(
        dir.path(),
        &[("start_ok", start_ok("start ok", "run-1", "normal"))],
    );
    let stand_in = StandIn::start(leak_keys()).await;
    let uri = stand_in.uri();
    let cases_arg = cases.to_string_lossy().into_owned();
    let target = ["--endpoint-url", &uri, "--region", "us-west-2"];
    let invocations: [&[&str]; 4] = [
        &["run", "--sign"],
        &["run", "--sign"],
        &["record", "--sign", "--mode", "none"],
        &["run", "--aws"],
    ];
    for invocation in invocations {
        let mut args = vec![invocation[0], &cases_arg];
        args.extend_from_slice(&invocation[1..]);
        args.extend_from_slice(&target);
        let output = run_conform(dir.path(), &args).await;
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let ids: Vec<Option<String>> = stand_in
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.headers
                .get("x-conform-run-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    let uuid =
        regex::Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
            .unwrap();
    for id in &ids[..3] {
        assert!(id.as_deref().is_some_and(|i| uuid.is_match(i)), "{ids:?}");
    }
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "{ids:?}"
    );
    assert_eq!(ids[3], None, "real AWS was sent a run id");
}
