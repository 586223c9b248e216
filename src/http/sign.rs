//! The signing hook. conform never computes a signature itself: implementations use the
//! `aws-sigv4` crate (see `crate::aws`).

use crate::case::SignatureMode;
use crate::exchange::Request;

/// Signs a request just before it is sent. `url` is the full URL it goes to (its host is part
/// of what SigV4 signs).
pub trait Signer: Send + Sync {
    fn sign(&self, request: &mut Request, url: &str, mode: SignatureMode) -> Result<(), SignError>;

    /// Why this signer cannot produce `mode` at all (it lacks what the mode needs), if it
    /// cannot. The runner skips such a step with this reason instead of sending it.
    fn unavailable(&self, _mode: SignatureMode) -> Option<String> {
        None
    }
}

/// Why a request could not be signed. Never carries a credential.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot sign the request: {0}")]
pub struct SignError(pub String);
