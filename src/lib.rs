//! conform: tells you how faithfully an HTTP endpoint speaks an AWS JSON API.
//!
//! Data flows one way: case files → [`case`] → [`runner`] → [`http`] → [`exchange`] →
//! [`matching`] → [`report`]. The replay server ([`replay`]) answers from [`recording`]s with
//! the same [`matching`] code the runner uses. Only the binary's `cli` module knows about
//! command-line flags, colour and exit codes.

pub mod aws;
pub mod case;
pub mod compare;
pub mod coverage;
pub mod diff;
pub mod exchange;
pub mod export;
pub mod generate;
pub mod http;
pub mod ledger;
pub mod matching;
pub mod model;
pub mod parallel;
pub mod parsed_cache;
pub mod proxy;
pub mod record;
pub mod recording;
pub mod replay;
pub mod report;
pub mod runner;
pub mod snapshot;
pub mod vars;
pub mod yaml;
