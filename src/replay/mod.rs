//! The replay server: answers requests from recordings, deciding matches with the same
//! `matching` code that `conform run` uses. Recorded sequences are answered in turn per run
//! (`x-conform-run-id`), and `/__conform/reset` starts them over.

mod admin;
mod index;
pub(crate) mod server;
mod state;

pub use admin::{ADMIN_PREFIX, AdminAnswer, admin, is_admin_path};
pub use index::{
    Answer, Entry, IndexMemo, MAX_REQUEST_BODY, Miss, NearMiss, PartWaySequence, Replay,
    ReplayStats, request_from_parts,
};
pub use server::{MissSink, PendingReplayServer, ReplayServer};
pub use state::{MAX_RUN_ID_LEN, MAX_RUNS, PartWay, Reset, RunStates, StateStats, valid_run_id};
