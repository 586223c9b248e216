//! Snapshots: the normalised full response of every case, locked so that any drift shows.
//! `normalise` is shared by `cargo test` (insta) and the binary (`--snapshots`).

mod normalise;
mod store;

pub use normalise::{Tokens, UNLOCKED_RESPONSE_HEADERS, document};
pub use store::{
    SnapFile, SnapshotCheck, SnapshotInfo, WriteMode, accept, check, pending, reject, snapshot_path,
};
