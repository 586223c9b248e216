//! The replay server: answers requests from recordings, deciding matches with the same
//! `matching` code that `conform run` uses.

mod index;
mod server;

pub use index::{
    Answer, Entry, MAX_REQUEST_BODY, Miss, NearMiss, Replay, ReplayStats, request_from_parts,
};
pub use server::{MissSink, ReplayServer};
