//! The whole suite through insta: each case's full response (status, the headers that matter,
//! body), normalised by `conform::snapshot::document` and locked. The target is the built-in
//! replay of recordings/, or `CONFORM_ENDPOINT=URL` (snapshots named after
//! `CONFORM_TARGET_NAME`, default `endpoint`), so an emulator's snapshots never overwrite the
//! replay's. Review changes with `cargo insta review`.

use std::net::TcpListener;
use std::time::Duration;

use conform::case::{TargetKind, load_suite};
use conform::http::{Client, ClientOptions};
use conform::replay::ReplayServer;
use conform::runner::{Outcome, RunOptions, Target, run_case};

use crate::support::root;

#[test]
fn every_case_response_is_locked() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (target, name, _server) = runtime.block_on(async {
        match std::env::var("CONFORM_ENDPOINT") {
            Ok(url) => {
                let name =
                    std::env::var("CONFORM_TARGET_NAME").unwrap_or_else(|_| "endpoint".into());
                let client = Client::new(&url, None, ClientOptions::default()).unwrap();
                (
                    Target {
                        kind: TargetKind::Endpoint,
                        client,
                    },
                    name,
                    None,
                )
            }
            Err(_) => {
                let recordings =
                    conform::recording::load_recordings(&root().join("recordings")).unwrap();
                let replay = conform::replay::Replay::new(&recordings).unwrap();
                let server =
                    ReplayServer::start(replay, TcpListener::bind("127.0.0.1:0").unwrap(), None)
                        .await;
                let client = Client::new(&server.uri(), None, ClientOptions::default()).unwrap();
                (
                    Target {
                        kind: TargetKind::Replay,
                        client,
                    },
                    "replay".to_owned(),
                    Some(server),
                )
            }
        }
    });
    let options = RunOptions {
        jobs: 1,
        timeout: Duration::from_secs(10),
        vars: Default::default(),
    };
    insta::glob!("../../cases", "inspector/**/*.yaml", |path| {
        if path.file_name().is_some_and(|n| n == "suite.yaml") {
            return;
        }
        let suite = load_suite(&[path.to_owned()], &Default::default()).expect("the case loads");
        let case = &suite.cases[0];
        let result = runtime.block_on(run_case(case, 0, &target, &options));
        if matches!(result.outcome, Outcome::Skipped { .. }) {
            return;
        }
        let document = conform::snapshot::document(&result.exchanges);
        insta::assert_yaml_snapshot!(name.as_str(), document);
    });
}
