//! Case files: their model, loading and checking them, and the errors users read.

mod error;
mod load;
mod locate;
mod model;

pub use error::{CaseError, LoadErrors, did_you_mean, hint_for_serde_message};
pub use load::{DEFAULT_CONTENT_TYPE, SUITE_FILE, load_suite};
pub use locate::{item_positions, locate};
pub use model::*;
