//! Why a model or an endpoints file could not be used. Every message names the file and where in
//! it (a JSON pointer, a shape id, or line:column for JSON syntax), and reads after "failed to
//! load the model: ...". Loading never writes anything, so an error leaves nothing behind.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}: not a gzip file (the name ends in .gz): {source}", path.display())]
    Gzip {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}:{line}:{column}: not JSON: {message}", path.display())]
    NotJson {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error(
        "{}: not a service model: {why} (expected a Smithy JSON AST with \"smithy\" and \"shapes\", or a botocore service-2.json with \"metadata\", \"operations\" and \"shapes\")",
        path.display()
    )]
    NotAModel { path: PathBuf, why: String },

    #[error(
        "{}: {pointer}: protocol `{protocol}` is not supported: conform speaks awsJson1_0 and awsJson1_1 only",
        path.display()
    )]
    UnsupportedProtocol {
        path: PathBuf,
        pointer: String,
        protocol: String,
    },

    #[error("{}: {pointer}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        pointer: String,
        message: String,
    },

    #[error("{}: {pointer}: shape `{target}` does not exist in the model{hint}", path.display())]
    UnknownShape {
        path: PathBuf,
        pointer: String,
        target: String,
        hint: String,
    },

    #[error("{}: no operation `{name}` in the model{hint}", path.display())]
    UnknownOperation {
        path: PathBuf,
        name: String,
        hint: String,
    },
}

/// A JSON pointer (RFC 6901) from plain segments: `/shapes/ns#A/members/b`, with `~` and `/`
/// escaped.
pub(crate) fn pointer<'a>(segments: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for s in segments {
        out.push('/');
        out.push_str(&s.replace('~', "~0").replace('/', "~1"));
    }
    out
}
