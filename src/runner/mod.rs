//! The runner: selects cases, runs them against a target, and hands back results. It never
//! prints and never exits; the binary's reporters decide what a person sees.

mod run;
mod select;

pub use run::{
    CaseResult, Judgement, Note, Outcome, Progress, RunOptions, StepExchange, Strictness, Summary,
    Target, run_case, run_cases, run_cases_shared,
};
pub use select::{Selection, parse_shard};

#[cfg(test)]
pub(crate) mod tests {
    use crate::case::*;

    /// A minimal case for selection tests.
    pub fn case(name: &str) -> Case {
        Case {
            name: name.into(),
            description: None,
            source: "test".into(),
            provenance: Provenance::Inferred,
            why: None,
            tags: vec![],
            covers: vec![],
            skip: Default::default(),
            vars: Default::default(),
            steps: vec![],
            file: "x.yaml".into(),
            model: None,
        }
    }
}
