//! Running cases against a target: render each step's request, send it, evaluate the
//! response, capture variables. Never prints: results go back to the caller in suite order,
//! through a callback as each case finishes and in the returned list.

use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::case::{Case, TargetKind};
use crate::exchange::{Request, Response};
use crate::http::Client;
use crate::matching::{Mismatch, Observed, Start, Verdict, evaluate};
use crate::vars::Vars;

/// Where and how a run sends its requests.
#[derive(Clone)]
pub struct Target {
    pub kind: TargetKind,
    pub client: Client,
}

#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Cases in flight at once (steps of one case always run in order).
    pub jobs: usize,
    pub timeout: Duration,
    /// `--vars` and `--var` values; they override suite and case defaults.
    pub vars: Vars,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            jobs: 8,
            timeout: Duration::from_secs(10),
            vars: Vars::new(),
        }
    }
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Passed,
    /// The endpoint answered, but not as expected.
    Failed {
        step: usize,
        mismatches: Vec<Mismatch>,
        diff: String,
    },
    /// No answer could be had or used (refused, timeout, too large, capture failed, ...).
    Errored {
        step: usize,
        message: String,
    },
    Skipped {
        reason: String,
    },
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Passed => "PASS",
            Outcome::Failed { .. } => "FAIL",
            Outcome::Errored { .. } => "ERROR",
            Outcome::Skipped { .. } => "SKIP",
        }
    }
}

/// One exchange of a case, request redacted (no secret ever leaves the runner).
#[derive(Clone, Debug)]
pub struct StepExchange {
    pub step: usize,
    pub request: Request,
    pub response: Option<Response>,
}

#[derive(Clone, Debug)]
pub struct CaseResult {
    /// Index of the case in the suite.
    pub index: usize,
    pub outcome: Outcome,
    pub duration: Duration,
    pub exchanges: Vec<StepExchange>,
    /// What validation against the suite's service model noted (not failures), one line each.
    pub model_notes: Vec<String>,
}

/// Counts for the last line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub errored: usize,
    pub skipped: usize,
}

impl Summary {
    pub fn of(results: &[CaseResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.outcome {
                Outcome::Passed => s.passed += 1,
                Outcome::Failed { .. } => s.failed += 1,
                Outcome::Errored { .. } => s.errored += 1,
                Outcome::Skipped { .. } => s.skipped += 1,
            }
        }
        s
    }

    pub fn all_passed(&self) -> bool {
        self.failed == 0 && self.errored == 0
    }
}

/// Runs the selected cases (`selected` are indices into `cases`) and returns their results
/// in that order; `on_result` sees each one as soon as it and all before it are done.
pub async fn run_cases(
    cases: &[Case],
    selected: &[usize],
    target: &Target,
    options: &RunOptions,
    mut on_result: impl FnMut(&Case, &CaseResult),
) -> Vec<CaseResult> {
    let jobs = options.jobs.max(1);
    let mut stream = futures::stream::iter(selected.iter().copied())
        .map(|index| run_case(&cases[index], index, target, options))
        .buffered(jobs);
    let mut results = Vec::with_capacity(selected.len());
    while let Some(result) = stream.next().await {
        on_result(&cases[result.index], &result);
        results.push(result);
    }
    results
}

pub async fn run_case(
    case: &Case,
    index: usize,
    target: &Target,
    options: &RunOptions,
) -> CaseResult {
    let started = Instant::now();
    let mut exchanges = Vec::new();
    let mut model_notes = Vec::new();
    let outcome = match case.skip_reason(target.kind) {
        Some(reason) => Outcome::Skipped {
            reason: reason.to_owned(),
        },
        None => run_steps(case, target, options, &mut exchanges, &mut model_notes).await,
    };
    CaseResult {
        index,
        outcome,
        duration: started.elapsed(),
        exchanges,
        model_notes,
    }
}

async fn run_steps(
    case: &Case,
    target: &Target,
    options: &RunOptions,
    exchanges: &mut Vec<StepExchange>,
    model_notes: &mut Vec<String>,
) -> Outcome {
    let mut vars = case.vars.clone();
    vars.extend(options.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    for (step_index, step) in case.steps.iter().enumerate() {
        let errored = |message: String| Outcome::Errored {
            step: step_index,
            message,
        };
        let request = match step.request.render(&vars) {
            Ok(r) => r,
            Err(e) => return errored(e.to_string()),
        };
        let (sent, result) = target
            .client
            .send(request, step.request.signature, options.timeout)
            .await;
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                exchanges.push(StepExchange {
                    step: step_index,
                    request: sent.redacted(),
                    response: None,
                });
                return errored(e.to_string());
            }
        };
        exchanges.push(StepExchange {
            step: step_index,
            request: sent.redacted(),
            response: Some(response.clone()),
        });

        // Validation against the suite's model: violations fail the step whatever the case
        // expects; notes are reported.
        let violations = match &case.model {
            Some(model) => model_check(model, &sent, &response, step_index, model_notes),
            None => Vec::new(),
        };
        let observed = Observed {
            start: Start::Status(response.status),
            headers: &response.headers,
            body: &response.body,
        };
        let mut closest: Option<Verdict> = None;
        let mut passed = false;
        for alternative in &step.expect {
            let expect = match alternative.expect.resolve(&vars) {
                Ok(e) => e,
                Err(e) => return errored(e.to_string()),
            };
            let verdict = evaluate(&expect, &observed);
            if verdict.passed() {
                passed = true;
                break;
            }
            if closest
                .as_ref()
                .is_none_or(|c| verdict.mismatches.len() < c.mismatches.len())
            {
                closest = Some(verdict);
            }
        }
        if !passed {
            let verdict = closest.unwrap_or_default();
            let diff = verdict.diff();
            let mut mismatches = verdict.mismatches;
            mismatches.extend(violations);
            return Outcome::Failed {
                step: step_index,
                diff,
                mismatches,
            };
        }
        if !violations.is_empty() {
            return Outcome::Failed {
                step: step_index,
                diff: String::new(),
                mismatches: violations,
            };
        }
        for capture in &step.capture {
            match capture.from.extract(&response) {
                Some(value) => {
                    vars.insert(capture.name.clone(), value);
                }
                None => {
                    return errored(format!(
                        "capture `{}` ({}) found nothing in the response",
                        capture.name, capture.expression
                    ));
                }
            }
        }
    }
    Outcome::Passed
}

/// The model's violations for one exchange as mismatches (marked `modeled`: the service model
/// is their source), its notes pushed to `notes`.
fn model_check(
    model: &crate::model::Model,
    request: &Request,
    response: &Response,
    step: usize,
    notes: &mut Vec<String>,
) -> Vec<Mismatch> {
    let v = crate::model::validate_exchange(model, request, response);
    let mut out = Vec::new();
    for f in v.findings {
        if f.severity == crate::model::Severity::Note {
            notes.push(format!("step {}: {f}", step + 1));
        } else {
            out.push(Mismatch {
                path: f.path.clone(),
                message: format!(
                    "modeled: {} ({}{}), found {}",
                    f.message,
                    f.rule,
                    if f.shape.is_empty() {
                        String::new()
                    } else {
                        format!(" of {}", f.shape)
                    },
                    f.found
                ),
            });
        }
    }
    out
}
