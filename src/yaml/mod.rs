//! YAML reading shared by case files, recordings, ledgers and service files, and YAML writing
//! for recordings and snapshots. Nothing else in conform names the YAML crate.

mod parse;
pub mod subset;
mod subset_de;

pub use parse::{parse, to_string};
pub use subset_de::from_node;
