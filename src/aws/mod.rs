//! Real AWS: where a service lives (its endpoints, region by region, from the data beside its
//! model) and signing requests with SigV4 through the `aws-sigv4` crate, from credentials the standard AWS chain
//! provides.
//!
//! This module must never compute a signature by hand, and never print, log or put into an
//! error message a secret access key or a session token: [`SigV4Signer`]'s `Debug` shows
//! neither, and [`SecretScrubber`] removes them from any text that might carry them.

mod endpoints;
mod error;
mod signer;

pub use endpoints::{AwsService, Endpoint};
pub use error::AwsError;
pub use signer::{
    EXPIRED_ACCESS_KEY_ID_VAR, EXPIRED_SECRET_ACCESS_KEY_VAR, EXPIRED_SESSION_TOKEN_VAR,
    EXPIRED_SIGNATURE_AGE, SecretScrubber, SigV4Signer, UNKNOWN_ACCESS_KEY_ID,
    expired_credentials_from, load_signer, wrong_region_for, wrong_signing_name_for,
};
