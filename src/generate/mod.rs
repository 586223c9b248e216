//! `conform generate`: case files and modeled recordings for every operation of a service
//! model. Built on [`crate::model`] (it never reads a model file itself). Pure apart from
//! reading the output folders and, in [`write`], writing them atomically.
//!
//! [`plan`] decides what goes where, [`cases`] builds one operation's cases, [`values`] the
//! valid and invalid values, [`expect`] the expectations (and the one place a guess is
//! written), [`write`] compares with the disk and writes.

pub mod cases;
mod error;
pub mod examples;
pub mod expect;
pub mod plan;
pub mod values;
pub mod write;

pub use cases::FAULT_HEADER;
pub use error::GenerateError;
pub use examples::ExampleSet;
pub use plan::{Generated, Options, Overlap, plan};
pub use write::{Drift, Plan, apply, drift, is_generated};
