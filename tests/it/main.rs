//! One integration test binary (as ripgrep does), one module per area. Every server a test
//! talks to is started by the test on 127.0.0.1:0.

mod aws;
mod cli;
mod compare;
mod coverage;
mod export;
mod faults;
mod generate;
mod harmless;
mod ledger;
mod model;
mod moto;
mod props;
mod proxy;
mod recipe;
mod record;
mod replay_memo;
mod replay_state;
mod sdk;
mod sdk_all;
mod suite_snapshots;
mod support;
mod support_sigv4;
mod truth;
mod verdicts;
mod yaml_subset;
