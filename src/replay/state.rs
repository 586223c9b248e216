//! Where each run is in each recorded sequence (several exchanges with the same request,
//! answered in turn).
//!
//! One global position per sequence would let a run cut short leave a sequence part-way, and
//! the next run against the same server would then get the second answer to its first request.
//! So positions are kept per run id (the `x-conform-run-id` header conform sends); requests
//! without one share a default state. Only positions of sequences with more than one exchange
//! are stored, and only while part-way (a position back at the start is dropped), so a run's
//! state is a handful of numbers.
//!
//! Run ids come from clients, so their number is bounded: at most `capacity` run states, the
//! least recently used evicted first. Pure and synchronous; one mutex, taken only for requests
//! that hit a sequence of more than one exchange.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

/// How many run states are kept before the least recently used is evicted.
pub const MAX_RUNS: usize = 1024;

/// The longest run id accepted (a UUID is 36 characters).
pub const MAX_RUN_ID_LEN: usize = 128;

/// Whether `id` is a run id the replay accepts: 1 to [`MAX_RUN_ID_LEN`] characters of ASCII
/// letters, digits, `-`, `_`, `.` and `:`. Anything else is refused, so that what the server
/// stores and prints at shutdown is always short, printable text.
pub fn valid_run_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_RUN_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A sequence some run left part-way: `answered` of its `total` exchanges served in the
/// current round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartWay {
    /// `None` for requests that carried no run id.
    pub run: Option<String>,
    pub sequence: usize,
    pub answered: usize,
    pub total: usize,
}

/// What a reset cleared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reset {
    /// Run states dropped (the default state counts when it held a position).
    pub runs: usize,
    /// Sequences that were part-way in them.
    pub part_way: usize,
}

/// Sequence positions per run, bounded.
#[derive(Debug)]
pub struct RunStates {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    default: Positions,
    runs: HashMap<String, Tracked>,
    /// Last use → run id: the first entry is the least recently used.
    order: BTreeMap<u64, String>,
    tick: u64,
    evicted: u64,
    evicted_part_way: u64,
}

#[derive(Debug, Default)]
struct Tracked {
    positions: Positions,
    last_used: u64,
}

/// Sequence index → exchanges answered in the current round (never 0: such entries are
/// removed). Sequences of length 1 are never stored.
type Positions = HashMap<usize, usize>;

/// Counters for the shutdown report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateStats {
    /// Run states held now.
    pub runs: usize,
    /// Run states evicted to stay within the capacity, and how many of them were part-way.
    pub evicted: u64,
    pub evicted_part_way: u64,
}

impl Default for RunStates {
    fn default() -> Self {
        RunStates::new(MAX_RUNS)
    }
}

impl RunStates {
    /// At most `capacity` run states (at least 1) besides the default one.
    pub fn new(capacity: usize) -> RunStates {
        RunStates {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves only counters behind: go on.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The 0-based exchange of sequence `sequence` (of `total` exchanges) that `run` gets now,
    /// and the step to the next one. After the last exchange the sequence starts over, so the
    /// suite can run again and again under one run id too.
    pub fn take(&self, run: Option<&str>, sequence: usize, total: usize) -> usize {
        if total <= 1 {
            return 0;
        }
        let mut inner = self.lock();
        let positions = match run {
            None => &mut inner.default,
            Some(id) => inner.touch(id, self.capacity),
        };
        let position = positions.get(&sequence).copied().unwrap_or(0) % total;
        let next = position + 1;
        if next == total {
            positions.remove(&sequence);
        } else {
            positions.insert(sequence, next);
        }
        position
    }

    /// Forgets every run's positions, the default state's too.
    pub fn reset_all(&self) -> Reset {
        let mut inner = self.lock();
        let mut reset = Reset {
            runs: inner.runs.len() + usize::from(!inner.default.is_empty()),
            part_way: inner.default.len(),
        };
        reset.part_way += inner
            .runs
            .values()
            .map(|t| t.positions.len())
            .sum::<usize>();
        inner.default.clear();
        inner.runs.clear();
        inner.order.clear();
        reset
    }

    /// Forgets one run's positions; `None` when the server holds no state for it.
    pub fn reset_run(&self, id: &str) -> Option<Reset> {
        let mut inner = self.lock();
        let tracked = inner.runs.remove(id)?;
        inner.order.remove(&tracked.last_used);
        Some(Reset {
            runs: 1,
            part_way: tracked.positions.len(),
        })
    }

    /// Every sequence left part-way, the default state's first, then by run id and sequence.
    pub fn part_way(&self, total_of: impl Fn(usize) -> usize) -> Vec<PartWay> {
        let inner = self.lock();
        let mut out = Vec::new();
        let mut add = |run: Option<&String>, positions: &Positions| {
            for (&sequence, &answered) in positions {
                out.push(PartWay {
                    run: run.cloned(),
                    sequence,
                    answered,
                    total: total_of(sequence),
                });
            }
        };
        add(None, &inner.default);
        for (id, tracked) in &inner.runs {
            add(Some(id), &tracked.positions);
        }
        out.sort_by(|a, b| (&a.run, a.sequence).cmp(&(&b.run, b.sequence)));
        out
    }

    pub fn stats(&self) -> StateStats {
        let inner = self.lock();
        StateStats {
            runs: inner.runs.len(),
            evicted: inner.evicted,
            evicted_part_way: inner.evicted_part_way,
        }
    }
}

impl Inner {
    /// The positions of run `id`, marked as used now; a new run evicts the least recently
    /// used one when the states are full.
    fn touch(&mut self, id: &str, capacity: usize) -> &mut Positions {
        self.tick += 1;
        let tick = self.tick;
        if let Some(tracked) = self.runs.get_mut(id) {
            self.order.remove(&tracked.last_used);
            tracked.last_used = tick;
        } else {
            while self.runs.len() >= capacity {
                let Some((_, oldest)) = self.order.pop_first() else {
                    break;
                };
                if let Some(evicted) = self.runs.remove(&oldest) {
                    self.evicted += 1;
                    if !evicted.positions.is_empty() {
                        self.evicted_part_way += 1;
                    }
                }
            }
            self.runs.insert(
                id.to_owned(),
                Tracked {
                    positions: Positions::new(),
                    last_used: tick,
                },
            );
        }
        self.order.insert(tick, id.to_owned());
        &mut self
            .runs
            .get_mut(id)
            .expect("the run was just found or inserted")
            .positions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_run_has_its_own_positions() {
        let states = RunStates::default();
        // Run a is cut short after the first exchange of a two-exchange sequence.
        assert_eq!(states.take(Some("a"), 7, 2), 0);
        // Run b starts at the beginning, whatever a left behind.
        assert_eq!(states.take(Some("b"), 7, 2), 0);
        assert_eq!(states.take(Some("b"), 7, 2), 1);
        // And starts over after the last exchange.
        assert_eq!(states.take(Some("b"), 7, 2), 0);
        assert_eq!(states.take(Some("a"), 7, 2), 1);
        // Another sequence of run a is independent of sequence 7.
        assert_eq!(states.take(Some("a"), 8, 3), 0);
        assert_eq!(states.take(Some("a"), 8, 3), 1);
    }

    #[test]
    fn requests_without_a_run_id_share_the_default_state() {
        let states = RunStates::default();
        assert_eq!(states.take(None, 0, 2), 0);
        assert_eq!(states.take(Some("x"), 0, 2), 0);
        assert_eq!(states.take(None, 0, 2), 1);
        assert_eq!(states.take(None, 0, 2), 0);
        // Sequences of one exchange never create state.
        assert_eq!(states.take(Some("y"), 3, 1), 0);
        assert_eq!(states.stats().runs, 1);
    }

    #[test]
    fn part_way_sequences_are_listed_and_finished_ones_are_not() {
        let states = RunStates::default();
        states.take(Some("b"), 1, 2);
        states.take(None, 2, 3);
        states.take(None, 2, 3);
        states.take(Some("c"), 1, 2);
        states.take(Some("c"), 1, 2);
        let totals = |s: usize| if s == 1 { 2 } else { 3 };
        assert_eq!(
            states.part_way(totals),
            vec![
                PartWay {
                    run: None,
                    sequence: 2,
                    answered: 2,
                    total: 3
                },
                PartWay {
                    run: Some("b".into()),
                    sequence: 1,
                    answered: 1,
                    total: 2
                },
            ]
        );
    }

    #[test]
    fn the_least_recently_used_run_is_evicted() {
        let states = RunStates::new(2);
        states.take(Some("old"), 0, 2);
        states.take(Some("mid"), 0, 2);
        // Using "old" again makes "mid" the least recently used.
        states.take(Some("old"), 1, 2);
        states.take(Some("new"), 0, 2);
        let stats = states.stats();
        assert_eq!(
            (stats.runs, stats.evicted, stats.evicted_part_way),
            (2, 1, 1)
        );
        // "mid" starts afresh; "old" kept its position.
        assert_eq!(states.take(Some("old"), 0, 2), 1);
        assert_eq!(states.take(Some("mid"), 0, 2), 0);
        assert_eq!(states.stats().evicted, 2);
    }

    #[test]
    fn a_flood_of_run_ids_stays_within_the_capacity() {
        let states = RunStates::new(16);
        for i in 0..10_000 {
            states.take(Some(&format!("run-{i}")), i % 5, 2);
        }
        let stats = states.stats();
        assert_eq!(stats.runs, 16);
        assert_eq!(stats.evicted, 10_000 - 16);
        let inner = states.lock();
        assert_eq!(inner.order.len(), 16);
    }

    #[test]
    fn reset_forgets_one_run_or_all() {
        let states = RunStates::default();
        states.take(Some("a"), 0, 2);
        states.take(Some("b"), 0, 2);
        states.take(None, 0, 2);
        assert_eq!(
            states.reset_run("a"),
            Some(Reset {
                runs: 1,
                part_way: 1
            })
        );
        assert_eq!(states.reset_run("a"), None);
        assert_eq!(states.take(Some("a"), 0, 2), 0);
        assert_eq!(
            states.reset_all(),
            Reset {
                runs: 3,
                part_way: 3
            }
        );
        assert!(states.part_way(|_| 2).is_empty());
        assert_eq!(states.take(None, 0, 2), 0);
        assert_eq!(states.take(Some("b"), 0, 2), 0);
    }

    #[test]
    fn run_ids_are_short_printable_text() {
        assert!(valid_run_id("5f0c2c5e-1d2b-4c8e-9a51-0d6a3c1e7b42"));
        assert!(valid_run_id("ci:job_7.2"));
        assert!(!valid_run_id(""));
        assert!(!valid_run_id("with space"));
        assert!(!valid_run_id("new\nline"));
        assert!(!valid_run_id(&"a".repeat(MAX_RUN_ID_LEN + 1)));
    }
}
