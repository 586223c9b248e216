//! `conform compare`: replays every recorded request against an endpoint and says, exchange by
//! exchange, how close each answer comes to the recording (`identical`, `equivalent` after
//! normalisation, or `different`, with the JSON paths and a diff), then scores the whole run.
//!
//! The library half: it sends through `http::Client` and returns plain results; it never
//! prints and never picks an exit code (the binary's `cli::compare` does both).

mod fidelity;
mod html;
mod json;
mod junit;
mod normalise;
mod run;

pub use fidelity::{
    Class, CompareReport, Comparison, ExchangeResult, Score, compare, percent, unanswered,
};
pub use html::{escape as escape_html, render as html};
pub use json::render as json;
pub use junit::render as junit;
pub use normalise::{
    Body, COMPARED_HEADERS, Normalised, PRESENCE_ONLY_HEADERS, PRESENT, Tokens,
    VOLATILE_RESPONSE_HEADERS, leaves, normalise, stable_headers,
};
pub use run::{CompareOptions, compare_recordings, request_of, response_of};
