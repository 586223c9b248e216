//! Recordings: the format (defined once), reading and atomic writing.

mod model;
mod store;

pub use model::*;
pub use store::{
    BATCH, Created, Folder, Syncer, Unchanged, create_recording_later, load_recording,
    load_recordings, load_recordings_noting, sync_file_system, write_atomically,
    write_atomically_unsynced, write_recording, write_recording_later,
};
