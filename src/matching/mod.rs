//! Deciding whether a message (a response the runner got, or a request the replay server got)
//! is what was expected, and saying why not. Pure: no I/O, no async.
//!
//! `conform run` and `conform serve` both decide here, so "case failed" and "no recording
//! matched" mean the same thing and print the same kind of diff.

mod check;
mod error_type;
mod message;
mod pattern;

pub use check::{Mismatch, Mode, check, check_response, expected_view, short};
pub use error_type::{Readings, read as read_error_type, sanitise};
pub use message::{
    BodyExpect, ErrorExpect, MessageExpect, Observed, Start, StartExpect, StatusSpec, Verdict,
    evaluate, evaluate_quick,
};
pub use pattern::{
    JsonType, MATCHER_KEYS, MATCHES_NAMES, Matcher, Pattern, PatternError, RegexPattern,
    ResolveError, Seg, describe, exact_vec, resolve_value,
};
