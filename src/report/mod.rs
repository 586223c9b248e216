//! Machine-readable reports made from plain result data: JUnit XML and JSON. No I/O: the
//! binary writes the strings where the user asked.

mod json;
mod junit;

pub use json::render as json;
pub use junit::render as junit;

use crate::case::Case;
use crate::runner::{CaseResult, Strictness};

/// What a report is about: the cases, their results (in run order) and the target.
pub struct RunReport<'a> {
    pub cases: &'a [Case],
    pub results: &'a [CaseResult],
    /// `replay`, `endpoint`, `signed` or `aws`.
    pub target_kind: String,
    /// The endpoint URL (never carries credentials).
    pub endpoint: String,
    /// Which differences fail the run (`--strict-inferred`, `--strict`).
    pub strict: Strictness,
}
