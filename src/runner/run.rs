//! Running cases against a target: render each step's request, send it, evaluate the
//! response, capture variables. Never prints: results go back to the caller in suite order,
//! through a callback as each case finishes and in the returned list.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};

use crate::case::{Alternative, Case, Provenance, TargetKind};
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
    /// Whether each result keeps its steps' requests and responses (`CaseResult::exchanges`):
    /// snapshots and the recorder read them; a plain run has no use for a copy per case.
    pub keep_exchanges: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            jobs: 8,
            timeout: Duration::from_secs(10),
            vars: Vars::new(),
            keep_exchanges: true,
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
    /// Every firm expectation held, but the answer differs from a labelled guess (a `guess:`,
    /// or the `expect` of an `inferred` case). Not a failure unless `--strict-inferred`.
    /// When several steps differ, this is the first; later steps still ran.
    Differs {
        step: usize,
        mismatches: Vec<Mismatch>,
        diff: String,
        /// Why the expectation is a guess, as the case says.
        why: String,
    },
    /// No answer could be had or used (refused, timeout, too large, capture failed, ...).
    Errored {
        step: usize,
        message: String,
    },
    Skipped {
        reason: String,
    },
    /// A failure the ledger of known divergences lists (`crate::ledger`): shown with its why,
    /// not a failure of the run.
    Known {
        step: usize,
        mismatches: Vec<Mismatch>,
        diff: String,
        /// Why the endpoint is known to differ, as the ledger says.
        why: String,
        /// `file:line` of the ledger entry.
        at: String,
    },
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Passed => "PASS",
            Outcome::Failed { .. } => "FAIL",
            Outcome::Differs { .. } => "DIFFERS",
            Outcome::Errored { .. } => "ERROR",
            Outcome::Skipped { .. } => "SKIP",
            Outcome::Known { .. } => "KNOWN",
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

/// A harmless difference seen in a step's response (see `matching::Verdict::notes`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Note {
    /// 0-based step index.
    pub step: usize,
    pub path: String,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct CaseResult {
    /// Index of the case in the suite.
    pub index: usize,
    pub outcome: Outcome,
    /// Harmless differences of the steps whose firm expectations held (empty for a step
    /// that failed: its mismatches say more).
    pub notes: Vec<Note>,
    pub duration: Duration,
    /// Each step's request and response, when `RunOptions::keep_exchanges` (else empty).
    pub exchanges: Vec<StepExchange>,
}

/// Which verdicts fail a run besides failures and errors: `--strict-inferred` makes a
/// difference from a labelled guess a failure, `--strict` a harmless difference (a note).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Strictness {
    pub inferred: bool,
    pub notes: bool,
}

/// How a result counts under a `Strictness`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement {
    Passed,
    Failed,
    Errored,
    Skipped,
}

impl CaseResult {
    pub fn judge(&self, strict: Strictness) -> Judgement {
        match self.outcome {
            Outcome::Failed { .. } => Judgement::Failed,
            Outcome::Errored { .. } => Judgement::Errored,
            Outcome::Skipped { .. } => Judgement::Skipped,
            // Listed in the ledger: the run knows it and does not fail on it.
            Outcome::Known { .. } => Judgement::Passed,
            Outcome::Differs { .. } if strict.inferred => Judgement::Failed,
            Outcome::Passed | Outcome::Differs { .. } if strict.notes && !self.notes.is_empty() => {
                Judgement::Failed
            }
            Outcome::Passed | Outcome::Differs { .. } => Judgement::Passed,
        }
    }
}

/// Counts for the last lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Judged passed (including differences from guesses and notes, unless strict).
    pub passed: usize,
    /// Judged failed: failures, and under the strict flags differences and notes.
    pub failed: usize,
    pub errored: usize,
    pub skipped: usize,
    /// Cases that differ from a labelled guess (whatever they are judged).
    pub differs: usize,
    /// Cases that did not fail or error and show harmless differences (notes).
    pub with_notes: usize,
    /// Failures the ledger lists (judged passed).
    pub known: usize,
}

impl Summary {
    /// Counts with no strict flag.
    pub fn of(results: &[CaseResult]) -> Summary {
        Summary::judged(results, Strictness::default())
    }

    pub fn judged(results: &[CaseResult], strict: Strictness) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.judge(strict) {
                Judgement::Passed => s.passed += 1,
                Judgement::Failed => s.failed += 1,
                Judgement::Errored => s.errored += 1,
                Judgement::Skipped => s.skipped += 1,
            }
            if matches!(r.outcome, Outcome::Differs { .. }) {
                s.differs += 1;
            }
            if matches!(r.outcome, Outcome::Known { .. }) {
                s.known += 1;
            }
            if matches!(r.outcome, Outcome::Passed | Outcome::Differs { .. }) && !r.notes.is_empty()
            {
                s.with_notes += 1;
            }
        }
        s
    }

    pub fn all_passed(&self) -> bool {
        self.failed == 0 && self.errored == 0
    }
}

/// What a caller is told while a run goes: each result in suite order, and the moments when
/// no further result is ready yet. A closure `FnMut(&Case, &CaseResult)` is one.
pub trait Progress {
    /// A case finished, and every case before it too.
    fn result(&mut self, case: &Case, result: &CaseResult);
    /// No further result is ready yet, nor came within `FLUSH_GRACE`: the moment to flush what
    /// was printed, so that output is written in batches yet never held back for longer.
    fn waiting(&mut self) {}
}

/// How long the runner waits for the next result before it tells `Progress::waiting`.
pub const FLUSH_GRACE: Duration = Duration::from_millis(5);

impl<F: FnMut(&Case, &CaseResult)> Progress for F {
    fn result(&mut self, case: &Case, result: &CaseResult) {
        self(case, result)
    }
}

/// Runs the selected cases (`selected` are indices into `cases`) and returns their results
/// in that order; `on_result` sees each one as soon as it and all before it are done. A copy of
/// `cases` is shared with the runtime's workers: `run_cases_shared` takes one already shared.
pub async fn run_cases(
    cases: &[Case],
    selected: &[usize],
    target: &Target,
    options: &RunOptions,
    on_result: impl FnMut(&Case, &CaseResult),
) -> Vec<CaseResult> {
    run_cases_shared(
        Arc::from(cases.to_vec()),
        selected,
        target,
        options,
        on_result,
    )
    .await
}

/// `run_cases` over cases already shared. Each case runs as a task of its own, so that checking
/// answers (model validation, expectations, guesses) spreads over every worker of the runtime
/// rather than the one that polls the results; at most `jobs` are in flight.
pub async fn run_cases_shared(
    cases: Arc<[Case]>,
    selected: &[usize],
    target: &Target,
    options: &RunOptions,
    mut progress: impl Progress,
) -> Vec<CaseResult> {
    let jobs = options.jobs.max(1);
    let target = Arc::new(target.clone());
    let options = Arc::new(options.clone());
    let mut stream = futures::stream::iter(selected.iter().copied())
        .map(|index| {
            let (cases, target, options) = (cases.clone(), target.clone(), options.clone());
            tokio::spawn(async move { run_case(&cases[index], index, &target, &options).await })
        })
        .buffered(jobs);
    let mut results = Vec::with_capacity(selected.len());
    loop {
        let next = match stream.next().now_or_never() {
            Some(next) => next,
            // A result due within `FLUSH_GRACE` is waited for before `waiting` (which flushes
            // the output): on a fast endpoint, flushing whenever no result was ready cost a
            // write for every other case. Polling `next` again loses nothing.
            None => match tokio::time::timeout(FLUSH_GRACE, stream.next()).await {
                Ok(next) => next,
                Err(_) => {
                    progress.waiting();
                    stream.next().await
                }
            },
        };
        let Some(joined) = next else { break };
        // A case's task only ends early if it panicked: that is a bug, and shown as one.
        let result = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        progress.result(&cases[result.index], &result);
        results.push(result);
    }
    progress.waiting();
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
    let mut notes = Vec::new();
    let outcome = match case.skip_reason(target.kind) {
        Some(reason) => Outcome::Skipped {
            reason: reason.to_owned(),
        },
        None => run_steps(case, target, options, &mut exchanges, &mut notes).await,
    };
    if matches!(outcome, Outcome::Failed { .. } | Outcome::Errored { .. }) {
        // A case that failed is judged on its failure; harmless differences of its earlier
        // steps would only blur that.
        notes.clear();
    }
    CaseResult {
        index,
        outcome,
        notes,
        duration: started.elapsed(),
        exchanges,
    }
}

/// The result of checking one response against a list of alternatives.
enum Checked {
    /// One alternative passed; its notes.
    Passed(Vec<Mismatch>),
    /// None passed: the verdict of the closest one.
    Missed(Verdict),
}

fn check_alternatives(
    alternatives: &[Alternative],
    vars: &Vars,
    observed: &Observed<'_>,
) -> Result<Checked, crate::matching::ResolveError> {
    let mut closest: Option<Verdict> = None;
    for alternative in alternatives {
        let verdict = if alternative.uses_vars {
            evaluate(&alternative.expect.resolve(vars)?, observed)
        } else {
            evaluate(&alternative.expect, observed)
        };
        if verdict.passed() {
            return Ok(Checked::Passed(verdict.notes));
        }
        if closest
            .as_ref()
            .is_none_or(|c| verdict.mismatches.len() < c.mismatches.len())
        {
            closest = Some(verdict);
        }
    }
    Ok(match closest {
        Some(v) => Checked::Missed(v),
        // No alternative at all: nothing was expected, so nothing can differ.
        None => Checked::Passed(Vec::new()),
    })
}

async fn run_steps(
    case: &Case,
    target: &Target,
    options: &RunOptions,
    exchanges: &mut Vec<StepExchange>,
    notes: &mut Vec<Note>,
) -> Outcome {
    // The first difference from a labelled guess; later steps still run, since the firm part
    // of the step passed.
    let mut differs: Option<Outcome> = None;
    let inferred = case.provenance == Provenance::Inferred;
    // The case's own variables as they are, copied only when the command line adds some or a
    // capture does.
    let mut vars: std::borrow::Cow<'_, Vars> = if options.vars.is_empty() {
        std::borrow::Cow::Borrowed(&*case.vars)
    } else {
        let mut v = Vars::clone(&case.vars);
        v.extend(options.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        std::borrow::Cow::Owned(v)
    };
    for (step_index, step) in case.steps.iter().enumerate() {
        let errored = |message: String| Outcome::Errored {
            step: step_index,
            message,
        };
        if let Some(reason) = target.client.unavailable(step.request.signature) {
            return Outcome::Skipped { reason };
        }
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
                if options.keep_exchanges {
                    exchanges.push(StepExchange {
                        step: step_index,
                        request: sent.redacted(),
                        response: None,
                    });
                }
                return errored(e.to_string());
            }
        };
        if options.keep_exchanges {
            exchanges.push(StepExchange {
                step: step_index,
                request: sent.redacted(),
                response: Some(response.clone()),
            });
        }

        // Validation against the suite's model: violations fail the step whatever the case
        // expects (the model is their source); what it notes is a harmless difference.
        let (violations, model_notes) = match &case.model {
            Some(model) => model_check(model, &sent, &response),
            None => (Vec::new(), Vec::new()),
        };
        let observed = Observed {
            start: Start::Status(response.status),
            headers: &response.headers,
            body: &response.body,
        };
        // An `inferred` case has no firm part: its `expect` is its guess, with its `why`.
        let (firm, guess_layers): (&[Alternative], Vec<(&[Alternative], &str)>) = if inferred {
            let why = case.why.as_deref().unwrap_or("the case is inferred");
            let mut layers = vec![(step.expect.as_slice(), why)];
            layers.extend(
                step.guess
                    .iter()
                    .map(|g| (g.expect.as_slice(), g.why.as_str())),
            );
            (&[], layers)
        } else {
            let layers = step
                .guess
                .iter()
                .map(|g| (g.expect.as_slice(), g.why.as_str()))
                .collect();
            (step.expect.as_slice(), layers)
        };
        let resolve_error = |e: crate::matching::ResolveError| errored(e.to_string());
        let mut step_notes = match check_alternatives(firm, &vars, &observed) {
            Ok(Checked::Passed(n)) => n,
            Ok(Checked::Missed(verdict)) => {
                let diff = verdict.diff();
                let mut mismatches = verdict.mismatches;
                mismatches.extend(violations);
                return Outcome::Failed {
                    step: step_index,
                    diff,
                    mismatches,
                };
            }
            Err(e) => return resolve_error(e),
        };
        if !violations.is_empty() {
            return Outcome::Failed {
                step: step_index,
                diff: String::new(),
                mismatches: violations,
            };
        }
        for n in model_notes {
            if !step_notes.iter().any(|m| m.path == n.path) {
                step_notes.push(n);
            }
        }
        // Each guess is checked only while the ones before it held: a guess that differed
        // says enough about this step.
        let mut step_differs = false;
        for (alternatives, why) in guess_layers {
            match check_alternatives(alternatives, &vars, &observed) {
                Ok(Checked::Passed(n)) => step_notes.extend(n),
                Ok(Checked::Missed(verdict)) => {
                    step_differs = true;
                    differs.get_or_insert(Outcome::Differs {
                        step: step_index,
                        diff: verdict.diff(),
                        mismatches: verdict.mismatches,
                        why: why.to_owned(),
                    });
                    break;
                }
                Err(e) => return resolve_error(e),
            }
        }
        for n in step_notes {
            let note = Note {
                step: step_index,
                path: n.path,
                message: n.message,
            };
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        for capture in &step.capture {
            match capture.from.extract(&response) {
                Some(value) => {
                    vars.to_mut().insert(capture.name.clone(), value);
                }
                // The answer differed from the guess, so what the later steps need may
                // well be missing: the case stands as a difference from a guess, not an error.
                None if step_differs => {
                    if let Some(Outcome::Differs { mismatches, .. }) = &mut differs {
                        mismatches.push(Mismatch {
                            path: format!("capture {}", capture.name),
                            message: format!(
                                "found nothing at {} in the response, so the later steps did not run",
                                capture.expression
                            ),
                        });
                    }
                    return differs.expect("set when the step differed");
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
    differs.unwrap_or(Outcome::Passed)
}

/// The model's violations for one exchange as mismatches (marked `modeled`: the service model
/// is their source), and what it notes (members the shape lacks) as harmless differences.
fn model_check(
    model: &crate::model::Model,
    request: &Request,
    response: &Response,
) -> (Vec<Mismatch>, Vec<Mismatch>) {
    let v = crate::model::validate_exchange(model, request, response);
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for f in v.findings {
        if f.severity == crate::model::Severity::Note {
            notes.push(Mismatch {
                path: f.path.clone(),
                message: format!("{} (service model)", f.message),
            });
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
    (out, notes)
}
