//! What can go wrong while generating: typed, so the CLI can map each to an exit code and a
//! message that says where and what.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The model file could not be loaded (not a model, unsupported protocol, ...), or
    /// `--operation NAME` names no operation of it (with a did-you-mean).
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// `--examples FILE` could not be read or is not botocore's examples-1.json format.
    /// The message names the file (and line:column for JSON errors).
    #[error("{message}")]
    Examples { file: PathBuf, message: String },
    /// Reading or writing the output folders failed.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A generated document could not be rendered (a bug, not bad input).
    #[error("cannot render {}: {message}", path.display())]
    Render { path: PathBuf, message: String },
}
