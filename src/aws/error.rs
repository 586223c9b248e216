//! The errors of the `aws` module. Their messages name regions, profiles and what to do next;
//! they never carry a secret access key or a session token.

/// Why conform cannot talk to real AWS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    /// No endpoint for a region, or no FIPS one (the message names the service).
    #[error(transparent)]
    Endpoint(#[from] crate::model::EndpointError),
    #[error("no AWS credentials found{for_profile}: {reason}")]
    NoCredentials {
        /// `" for profile `x`"` or empty.
        for_profile: String,
        reason: String,
    },
    #[error("cannot load AWS credentials{for_profile}: {reason}")]
    Credentials { for_profile: String, reason: String },
    #[error(
        "incomplete stale credentials for `signature: expired-token`: set all of \
         CONFORM_EXPIRED_ACCESS_KEY_ID, CONFORM_EXPIRED_SECRET_ACCESS_KEY and \
         CONFORM_EXPIRED_SESSION_TOKEN, or none (missing: {missing})"
    )]
    IncompleteExpiredCredentials { missing: String },
    #[error("invalid AWS region {0:?}: expected a name like us-west-2")]
    InvalidRegion(String),
}
