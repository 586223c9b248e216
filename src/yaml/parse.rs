//! Reading a YAML file into a type: the block-style subset reader first ([`super::subset`],
//! about a seventh of libyaml's instructions a byte), then serde_yaml_ng (the maintained fork of the archived serde_yaml),
//! the reference, for every file the subset reader declines or does not give the type from.
//! Errors always come from serde_yaml_ng with serde_path_to_error, so every error has a path, a
//! line and a column.

use std::path::Path;

use serde::de;

use crate::case::{CaseError, hint_for_serde_message, locate};
use crate::matching::Seg;

/// Deserialises YAML into `T`, turning any error into one with a location and a hint.
pub fn parse<T: de::DeserializeOwned>(
    file: &Path,
    source: &str,
    what: &str,
) -> Result<T, CaseError> {
    // Nearly every file is within the subset and valid: read it so first. A file outside the
    // subset, or one the type refuses, is read by serde_yaml_ng, which gives the same value or
    // the error with its location.
    if let Some(node) = super::subset::read(source)
        && let Ok(value) = super::subset_de::from_node(node)
    {
        return Ok(value);
    }
    // Tracking the path costs an allocation per key: parse plainly first, and only a file that
    // fails is read again with its path tracked.
    if let Ok(value) = serde_yaml_ng::from_str(source) {
        return Ok(value);
    }
    let deserializer = serde_yaml_ng::Deserializer::from_str(source);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().clone();
        let inner = e.into_inner();
        let raw_message = inner.to_string();
        // serde_yaml_ng appends " at line L column C"; the location goes in our own line.
        let message = match raw_message.find(" at line ") {
            Some(i) => raw_message[..i].to_owned(),
            None => raw_message.clone(),
        };
        let location = inner
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or_else(|| locate(source, &segs_of(&path)));
        let shown_path = path.to_string();
        // serde_yaml_ng starts its message with the path too; say it once, at the end.
        let message = message
            .strip_prefix(&format!("{shown_path}: "))
            .map(str::to_owned)
            .unwrap_or(message);
        let message = if shown_path == "." || shown_path.is_empty() {
            format!("invalid YAML: {message}")
        } else {
            format!("invalid {what}: {message} (at `{shown_path}`)")
        };
        CaseError::at(
            file,
            source,
            location,
            message,
            hint_for_serde_message(&raw_message),
        )
    })
}

fn segs_of(path: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect()
}

/// YAML text for a value (used to write recordings and snapshots).
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, String> {
    serde_yaml_ng::to_string(value).map_err(|e| e.to_string())
}
