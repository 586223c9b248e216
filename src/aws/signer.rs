//! SigV4 signing of conform's requests, done by the `aws-sigv4` crate, with credentials from
//! the standard AWS chain (environment, shared config and credentials files, SSO, web
//! identity, container and instance metadata) loaded by `aws-config`.
//!
//! What is signed is fixed and small, like botocore's requests: `host`, `x-amz-date`,
//! `x-amz-target`, `content-type` and, with temporary credentials, `x-amz-security-token`.
//! The deliberate faults a case asks for are made here too, so that each one differs from a
//! good signature in exactly one way:
//!
//! - `none`: no `Authorization` (and no `x-amz-date`) at all;
//! - `corrupt`: a good signature with its last hex digit changed;
//! - `expired`: signed with a date [`EXPIRED_SIGNATURE_AGE`] in the past;
//! - `unknown-key`: signed with [`UNKNOWN_ACCESS_KEY_ID`], a made-up key, and no session token;
//! - `wrong-region`: signed with the signer's credentials, for a credential scope naming
//!   another region than the endpoint's ([`wrong_region_for`]: `us-east-1`, or `us-west-2`
//!   when the endpoint is in `us-east-1`; in GovCloud the other GovCloud region), so that the
//!   scope names a real region, only not this endpoint's;
//! - `wrong-service`: signed with the signer's credentials for another real service's signing
//!   name ([`wrong_signing_name_for`]: `sts`, or `iam` for STS itself);
//! - `expired-token`: signed (correctly, with the current date) with *stale temporary
//!   credentials the user supplies*: an access key id, secret access key and session token that
//!   were issued by STS and have since expired, given in `CONFORM_EXPIRED_ACCESS_KEY_ID`,
//!   `CONFORM_EXPIRED_SECRET_ACCESS_KEY` and `CONFORM_EXPIRED_SESSION_TOKEN` (for example from
//!   `aws sts get-session-token --duration-seconds 900`, kept until they expire). conform
//!   cannot make an expired token itself: a token is opaque and only its issuer knows when it
//!   expires, so a made-up one would test an *unrecognised* token instead. Nor can conform
//!   check that the supplied token has expired: that is the user's word, and a case using this
//!   mode must say so. Without them, signing in this mode fails with a message saying what to
//!   set, the runner skips the case with that reason, and nothing is sent.
//!
//! Nothing here prints or logs. Secrets live only inside [`SigV4Signer`] (whose `Debug` hides
//! them) and in the headers of the request being sent, which the runner redacts before anyone
//! sees it.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use crate::http::describe;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use super::endpoints::AwsService;
use super::error::AwsError;
use crate::case::SignatureMode;
use crate::exchange::{REDACTED, Request};
use crate::http::{SignError, Signer};

/// The access key id `signature: unknown-key` signs with: shaped like a real one (AKIA + 16),
/// owned by no account (it ends in CONFORM, as AWS's documentation example ends in EXAMPLE).
pub const UNKNOWN_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7CONFORM";
const UNKNOWN_SECRET_ACCESS_KEY: &str = "conformUnknownKeyNotASecretNotARealKey00";

/// How far in the past `signature: expired` dates its signature. AWS rejects a signature more
/// than 5 minutes off (InvalidSignatureException, "Signature expired") and its common errors
/// give RequestExpired for more than 15 minutes: 30 minutes is outside both.
pub const EXPIRED_SIGNATURE_AGE: Duration = Duration::from_secs(30 * 60);

/// The signing name `signature: wrong-service` signs for: a real service's (STS, which every
/// partition has), or IAM's when the service under test is STS itself.
pub fn wrong_signing_name_for(signing_name: &str) -> &'static str {
    if signing_name == "sts" { "iam" } else { "sts" }
}

/// The environment variables `signature: expired-token` takes its stale credentials from.
pub const EXPIRED_ACCESS_KEY_ID_VAR: &str = "CONFORM_EXPIRED_ACCESS_KEY_ID";
pub const EXPIRED_SECRET_ACCESS_KEY_VAR: &str = "CONFORM_EXPIRED_SECRET_ACCESS_KEY";
pub const EXPIRED_SESSION_TOKEN_VAR: &str = "CONFORM_EXPIRED_SESSION_TOKEN";

/// The region `signature: wrong-region` scopes its signature to, for a signer of `region`:
/// another region of the same partition that has Inspector Classic.
pub fn wrong_region_for(region: &str) -> &'static str {
    let candidates: [&'static str; 2] = if region.starts_with("us-gov-") {
        ["us-gov-west-1", "us-gov-east-1"]
    } else {
        ["us-east-1", "us-west-2"]
    };
    if candidates[0] == region {
        candidates[1]
    } else {
        candidates[0]
    }
}

/// Temporary credentials are replaced this long before they expire, so that a request signed
/// just before expiry does not arrive just after it.
const REFRESH_AHEAD: Duration = Duration::from_secs(5 * 60);

/// After a failed refresh (or one that gave back the same soon-expiring credentials), wait this
/// long before asking the provider again.
const RETRY_REFRESH_AFTER: Duration = Duration::from_secs(10);

/// The request headers conform passes to the signer. `x-amz-date` and `x-amz-security-token`
/// are added (and signed) by `aws-sigv4` itself.
const HEADERS_TO_SIGN: &[&str] = &["host", "content-type", "x-amz-target"];

/// Signs requests for one service (its signing name from the model) in one region.
///
/// Credentials that expire (SSO, web identity, assumed roles, instance roles) are refreshed in
/// the background before they expire; signing itself never waits on the network.
pub struct SigV4Signer {
    /// The credential-scope region (a `fips-*` pseudo-region is already mapped).
    region: String,
    /// The SigV4 signing name (service model: `aws.auth#sigv4` / `signingName`).
    signing_name: String,
    shared: Arc<Shared>,
    /// The background refresh, stopped when the signer is dropped.
    refresher: Option<tokio::task::AbortHandle>,
    /// Stale temporary credentials for `signature: expired-token`, when the user gave some.
    expired: Option<Credentials>,
}

struct Shared {
    state: RwLock<State>,
    /// Wakes the refresher early when a signing notices the credentials are about to expire.
    wake: tokio::sync::Notify,
    scrubber: SecretScrubber,
}

struct State {
    credentials: Credentials,
    /// Why the last refresh failed (scrubbed of every known secret), for the error a signing
    /// with expired credentials reports.
    refresh_error: Option<String>,
}

impl SigV4Signer {
    /// A signer with fixed credentials (tests, and callers that resolved credentials
    /// themselves). `region` may be a `fips-*` pseudo-region; it is signed for the region it
    /// stands for.
    pub fn from_credentials(
        service: &AwsService,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
        region: impl AsRef<str>,
    ) -> SigV4Signer {
        let credentials = Credentials::new(
            access_key_id,
            secret_access_key,
            session_token,
            None,
            "conform-static",
        );
        SigV4Signer {
            region: service.signing_region(region.as_ref()).to_owned(),
            signing_name: service.signing_name.clone(),
            shared: Shared::new(credentials),
            refresher: None,
            expired: None,
        }
    }

    /// The same signer, with stale temporary credentials (whose session token has expired) for
    /// `signature: expired-token`. Its scrubber learns them too.
    pub fn with_expired_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: impl Into<String>,
    ) -> SigV4Signer {
        let credentials = Credentials::new(
            access_key_id,
            secret_access_key,
            Some(session_token.into()),
            None,
            "conform-expired-token",
        );
        self.shared.scrubber.remember(&credentials);
        self.expired = Some(credentials);
        self
    }

    /// Whether `signature: expired-token` can be signed (stale credentials were given).
    pub fn has_expired_credentials(&self) -> bool {
        self.expired.is_some()
    }

    /// The region signatures are scoped to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Something that removes this signer's secrets (access key id, secret access key, session
    /// token, including those of credentials it held earlier) from text. It stays current as
    /// credentials are refreshed.
    pub fn scrubber(&self) -> SecretScrubber {
        self.shared.scrubber.clone()
    }

    /// The credentials to sign with now, waking the refresher when they are about to expire.
    fn credentials(&self, now: SystemTime) -> Result<Credentials, SignError> {
        let state = self
            .shared
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(expiry) = state.credentials.expiry() {
            if expiry <= now + REFRESH_AHEAD {
                self.shared.wake.notify_one();
            }
            if expiry <= now {
                let why = state
                    .refresh_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_else(|| {
                        if self.refresher.is_some() {
                            " (a refresh is under way; try again)".to_owned()
                        } else {
                            " (these credentials are never refreshed)".to_owned()
                        }
                    });
                return Err(SignError(format!(
                    "the AWS credentials expired and could not be refreshed{why}"
                )));
            }
        }
        Ok(state.credentials.clone())
    }
}

impl Signer for SigV4Signer {
    fn unavailable(&self, mode: SignatureMode) -> Option<String> {
        (mode == SignatureMode::ExpiredToken && self.expired.is_none()).then(|| {
            format!(
                "`signature: expired-token` needs temporary credentials that have expired: set \
                 {EXPIRED_ACCESS_KEY_ID_VAR}, {EXPIRED_SECRET_ACCESS_KEY_VAR} and \
                 {EXPIRED_SESSION_TOKEN_VAR} to run it"
            )
        })
    }

    fn sign(&self, request: &mut Request, url: &str, mode: SignatureMode) -> Result<(), SignError> {
        // Whatever the mode, no Authorization from elsewhere travels with the request.
        request.headers.remove("authorization");
        let now = SystemTime::now();
        let (mut region, mut name) = (self.region.as_str(), self.signing_name.as_str());
        let (credentials, time) = match mode {
            SignatureMode::None => return Ok(()),
            SignatureMode::Normal | SignatureMode::Corrupt => (self.credentials(now)?, now),
            SignatureMode::Expired => (
                self.credentials(now)?,
                now.checked_sub(EXPIRED_SIGNATURE_AGE).unwrap_or(now),
            ),
            // No session token either: the made-up key has none, and a real token next to it
            // would only confuse the service's answer.
            SignatureMode::UnknownKey => (unknown_credentials(), now),
            SignatureMode::WrongRegion => {
                region = wrong_region_for(&self.region);
                (self.credentials(now)?, now)
            }
            SignatureMode::WrongService => {
                name = wrong_signing_name_for(&self.signing_name);
                (self.credentials(now)?, now)
            }
            SignatureMode::ExpiredToken => match &self.expired {
                Some(stale) => (stale.clone(), now),
                None => {
                    return Err(SignError(format!(
                        "`signature: expired-token` signs with temporary credentials that have \
                         expired, and none were given: set {EXPIRED_ACCESS_KEY_ID_VAR}, \
                         {EXPIRED_SECRET_ACCESS_KEY_VAR} and {EXPIRED_SESSION_TOKEN_VAR} (for \
                         example from `aws sts get-session-token --duration-seconds 900`, once \
                         they have expired)"
                    )));
                }
            },
        };
        sign_request(request, url, region, name, credentials, time)?;
        if mode == SignatureMode::Corrupt {
            spoil_signature(request);
        }
        Ok(())
    }
}

impl fmt::Debug for SigV4Signer {
    // Never the credentials: only what helps tell signers apart.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self
            .shared
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("SigV4Signer")
            .field("region", &self.region)
            .field("signing_name", &self.signing_name)
            .field("temporary", &state.credentials.session_token().is_some())
            .field("expiry", &state.credentials.expiry())
            .field("refreshing", &self.refresher.is_some())
            .field("expired_credentials", &self.expired.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for SigV4Signer {
    fn drop(&mut self) {
        if let Some(refresher) = &self.refresher {
            refresher.abort();
        }
    }
}

impl Shared {
    fn new(credentials: Credentials) -> Arc<Shared> {
        let scrubber = SecretScrubber::default();
        scrubber.remember(&credentials);
        Arc::new(Shared {
            state: RwLock::new(State {
                credentials,
                refresh_error: None,
            }),
            wake: tokio::sync::Notify::new(),
            scrubber,
        })
    }

    fn expiry(&self) -> Option<SystemTime> {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .credentials
            .expiry()
    }

    fn store(&self, credentials: Credentials) {
        // Remember the new secrets before they can be used, so that no text that might
        // carry them is ever scrubbed without them.
        self.scrubber.remember(&credentials);
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.credentials = credentials;
        state.refresh_error = None;
    }

    fn fail(&self, error: &CredentialsError) {
        let message = self.scrubber.scrub(&describe(error));
        self.state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .refresh_error = Some(message);
    }
}

/// Loads credentials from the standard chain (with `profile`, that shared-config profile) and
/// returns a signer for `region`. Fails when no credentials can be found, so that a live run
/// stops before its first request rather than sending unsigned ones.
pub async fn load_signer(
    service: &AwsService,
    region: &str,
    profile: Option<&str>,
) -> Result<SigV4Signer, AwsError> {
    let region = region.trim();
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(AwsError::InvalidRegion(region.to_owned()));
    }
    let scope = service.signing_region(region).to_owned();
    let for_profile = profile
        .map(|p| format!(" for profile `{p}`"))
        .unwrap_or_default();
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(scope.clone()));
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    let expired = expired_credentials_from(|name| std::env::var(name).ok())?;
    let config = loader.load().await;
    let provider = config
        .credentials_provider()
        .ok_or_else(|| AwsError::NoCredentials {
            for_profile: for_profile.clone(),
            reason: "no credentials provider is configured".into(),
        })?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| credentials_error(&e, for_profile))?;
    let signer =
        SigV4Signer::with_provider(credentials, provider, scope, service.signing_name.clone());
    Ok(match expired {
        Some((key, secret, token)) => signer.with_expired_credentials(key, secret, token),
        None => signer,
    })
}

/// The stale credentials for `signature: expired-token` from the `CONFORM_EXPIRED_*`
/// variables `lookup` reads: all three or none (empty counts as unset).
pub fn expired_credentials_from(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<(String, String, String)>, AwsError> {
    let names = [
        EXPIRED_ACCESS_KEY_ID_VAR,
        EXPIRED_SECRET_ACCESS_KEY_VAR,
        EXPIRED_SESSION_TOKEN_VAR,
    ];
    let values: Vec<Option<String>> = names
        .iter()
        .map(|n| lookup(n).filter(|v| !v.trim().is_empty()))
        .collect();
    match &values[..] {
        [Some(key), Some(secret), Some(token)] => {
            Ok(Some((key.clone(), secret.clone(), token.clone())))
        }
        [None, None, None] => Ok(None),
        _ => {
            let missing: Vec<&str> = names
                .iter()
                .zip(&values)
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| *n)
                .collect();
            Err(AwsError::IncompleteExpiredCredentials {
                missing: missing.join(", "),
            })
        }
    }
}

impl SigV4Signer {
    /// A signer that starts with `credentials` and, when they expire, gets new ones from
    /// `provider` in the background. Must be called inside a Tokio runtime.
    fn with_provider(
        credentials: Credentials,
        provider: SharedCredentialsProvider,
        region: String,
        signing_name: String,
    ) -> SigV4Signer {
        let refreshes = credentials.expiry().is_some();
        let shared = Shared::new(credentials);
        // Credentials without an expiry (access keys) never need refreshing.
        let refresher =
            refreshes.then(|| tokio::spawn(refresh(shared.clone(), provider)).abort_handle());
        SigV4Signer {
            region,
            signing_name,
            shared,
            refresher,
            expired: None,
        }
    }
}

/// Keeps temporary credentials fresh: sleeps until [`REFRESH_AHEAD`] before they expire (or
/// until a signing says they are about to), then asks the provider for new ones.
async fn refresh(shared: Arc<Shared>, provider: SharedCredentialsProvider) {
    loop {
        let Some(expiry) = shared.expiry() else {
            return;
        };
        let due = expiry.checked_sub(REFRESH_AHEAD).unwrap_or(expiry);
        if let Ok(wait) = due.duration_since(SystemTime::now()) {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shared.wake.notified() => {}
            }
            // Woken early by a stale notification, or on time: look again before refreshing.
            continue;
        }
        match provider.provide_credentials().await {
            Ok(credentials) => shared.store(credentials),
            Err(e) => shared.fail(&e),
        }
        let still_due = shared
            .expiry()
            .is_some_and(|e| e <= SystemTime::now() + REFRESH_AHEAD);
        if still_due {
            tokio::time::sleep(RETRY_REFRESH_AFTER).await;
        }
    }
}

fn credentials_error(error: &CredentialsError, for_profile: String) -> AwsError {
    let reason = describe(error);
    if matches!(error, CredentialsError::CredentialsNotLoaded(_)) {
        AwsError::NoCredentials {
            for_profile,
            reason: format!(
                "{reason} (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a profile with \
                 --profile or AWS_PROFILE; for an SSO profile run `aws sso login` first)"
            ),
        }
    } else {
        AwsError::Credentials {
            for_profile,
            reason,
        }
    }
}

fn unknown_credentials() -> Credentials {
    Credentials::new(
        UNKNOWN_ACCESS_KEY_ID,
        UNKNOWN_SECRET_ACCESS_KEY,
        None,
        None,
        "conform-unknown-key",
    )
}

/// Signs `request` for `url` with `aws-sigv4` (credential scope `region`/`name`) and puts
/// `authorization`, `x-amz-date` and (with a session token) `x-amz-security-token` into it.
fn sign_request(
    request: &mut Request,
    url: &str,
    region: &str,
    name: &str,
    credentials: Credentials,
    time: SystemTime,
) -> Result<(), SignError> {
    // Values left from elsewhere must not travel next to (or be signed instead of) the new ones.
    request.headers.remove("x-amz-date");
    request.headers.remove("x-amz-security-token");
    // aws-sigv4 takes the host from the URL and panics when it has none: check first.
    let uri: http::Uri = url
        .parse()
        .map_err(|_| SignError(format!("{url:?} is not a URL that can be signed")))?;
    if uri.host().is_none() {
        return Err(SignError(format!("{url:?} has no host to sign for")));
    }
    let identity = Identity::from(credentials);
    let params: aws_sigv4::http_request::SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(name)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| SignError(e.to_string()))?
        .into();
    let headers = request
        .headers
        .iter()
        .filter(|(name, _)| HEADERS_TO_SIGN.contains(name));
    let signable = SignableRequest::new(
        &request.method,
        url,
        headers,
        SignableBody::Bytes(&request.body),
    )
    .map_err(|e| SignError(describe(&e)))?;
    let (instructions, _signature) = aws_sigv4::http_request::sign(signable, &params)
        .map_err(|e| SignError(describe(&e)))?
        .into_parts();
    let (headers, _query) = instructions.into_parts();
    for header in headers {
        request.headers.set(header.name(), header.value());
    }
    Ok(())
}

/// Changes the last hex digit of the signature: a well-formed Authorization that no key
/// produced.
fn spoil_signature(request: &mut Request) {
    if let Some(value) = request.headers.get("authorization") {
        let mut value = value.to_owned();
        if let Some(last) = value.pop() {
            value.push(if last == '0' { '1' } else { '0' });
        }
        request.headers.set("authorization", value);
    }
}

/// Replaces every secret a signer has held by `<redacted>` in text that might carry one (an
/// endpoint's error message quoting a canonical request, a credential process's stderr).
/// Cheap to clone; clones share what they know.
#[derive(Clone, Default)]
pub struct SecretScrubber {
    values: Arc<Mutex<Vec<String>>>,
}

impl SecretScrubber {
    /// Values shorter than this are not scrubbed: no real key, secret or token is this short,
    /// and replacing a short string everywhere would mangle ordinary text.
    const MIN_LEN: usize = 8;

    fn remember(&self, credentials: &Credentials) {
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        let new = [
            Some(credentials.access_key_id()),
            Some(credentials.secret_access_key()),
            credentials.session_token(),
        ];
        for value in new.into_iter().flatten() {
            if value.len() >= Self::MIN_LEN && !values.iter().any(|v| v == value) {
                values.push(value.to_owned());
            }
        }
        // Longest first, so that a secret containing another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// `text` with every known secret replaced by `<redacted>`.
    pub fn scrub(&self, text: &str) -> String {
        let values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = text.to_owned();
        for value in values.iter() {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), REDACTED);
            }
        }
        out
    }

    /// True when `text` holds a known secret.
    pub fn finds_secret_in(&self, text: &str) -> bool {
        let values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values.iter().any(|v| text.contains(v.as_str()))
    }
}

impl fmt::Debug for SecretScrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self
            .values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        write!(f, "SecretScrubber {{ {n} values }}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::endpoints::tests::inspector;
    use crate::exchange::Headers;

    const KEY: &str = "AKIDCONFORMUNITTEST1";
    const SECRET: &str = "unitTestSecretKeyValue0123456789abcdefgh";
    const TOKEN: &str = "unitTestSessionTokenValue0123456789";

    fn request() -> Request {
        Request {
            method: "POST".into(),
            path: "/".into(),
            headers: [
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "InspectorService.StartAssessmentRun"),
                ("user-agent", "conform-test"),
            ]
            .into_iter()
            .collect::<Headers>(),
            body: br#"{"assessmentTemplateArn":"arn"}"#.to_vec(),
        }
    }

    fn signed(mode: SignatureMode, token: Option<&str>) -> Request {
        let signer = SigV4Signer::from_credentials(
            &inspector(),
            KEY,
            SECRET,
            token.map(str::to_owned),
            "us-west-2",
        );
        let mut r = request();
        signer
            .sign(&mut r, "https://inspector.us-west-2.amazonaws.com/", mode)
            .unwrap();
        r
    }

    fn field<'a>(authorization: &'a str, name: &str) -> &'a str {
        authorization
            .split(", ")
            .map(|p| p.trim_start_matches("AWS4-HMAC-SHA256 "))
            .find_map(|p| p.strip_prefix(name))
            .unwrap()
    }

    #[test]
    fn signs_exactly_the_listed_headers() {
        let r = signed(SignatureMode::Normal, None);
        let auth = r.headers.get("authorization").unwrap();
        assert_eq!(
            field(auth, "SignedHeaders="),
            "content-type;host;x-amz-date;x-amz-target"
        );
        assert!(field(auth, "Credential=").starts_with(&format!("{KEY}/")));
        assert!(field(auth, "Credential=").ends_with("/us-west-2/inspector/aws4_request"));
        assert!(r.headers.get("x-amz-date").is_some());
        assert!(r.headers.get("x-amz-security-token").is_none());

        let r = signed(SignatureMode::Normal, Some(TOKEN));
        let auth = r.headers.get("authorization").unwrap();
        assert_eq!(
            field(auth, "SignedHeaders="),
            "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        );
        assert_eq!(r.headers.get("x-amz-security-token"), Some(TOKEN));
    }

    #[test]
    fn faults_differ_from_a_good_signature_in_one_way() {
        let none = signed(SignatureMode::None, Some(TOKEN));
        assert!(none.headers.get("authorization").is_none());
        assert!(none.headers.get("x-amz-date").is_none());

        let good = signed(SignatureMode::Normal, None);
        let corrupt = signed(SignatureMode::Corrupt, None);
        let (g, c) = (
            good.headers.get("authorization").unwrap(),
            corrupt.headers.get("authorization").unwrap(),
        );
        let (gs, cs) = (field(g, "Signature="), field(c, "Signature="));
        assert_eq!(cs.len(), 64);
        assert!(cs.chars().all(|c| c.is_ascii_hexdigit()));
        // Signed in the same second, the two differ only in the spoilt digit.
        if good.headers.get("x-amz-date") == corrupt.headers.get("x-amz-date") {
            assert_eq!(gs[..63], cs[..63]);
            assert_ne!(gs, cs);
        }

        let expired = signed(SignatureMode::Expired, None);
        let date = expired.headers.get("x-amz-date").unwrap();
        let good_date = good.headers.get("x-amz-date").unwrap();
        assert_ne!(date, good_date);

        let unknown = signed(SignatureMode::UnknownKey, Some(TOKEN));
        let auth = unknown.headers.get("authorization").unwrap();
        assert!(field(auth, "Credential=").starts_with(UNKNOWN_ACCESS_KEY_ID));
        assert!(unknown.headers.get("x-amz-security-token").is_none());
    }

    #[test]
    fn scope_faults_change_only_the_scope() {
        let good = signed(SignatureMode::Normal, Some(TOKEN));
        let scope = |r: &Request| {
            let auth = r.headers.get("authorization").unwrap().to_owned();
            let credential = field(&auth, "Credential=").to_owned();
            let parts: Vec<String> = credential.split('/').map(str::to_owned).collect();
            (parts, field(&auth, "SignedHeaders=").to_owned())
        };
        let (good_scope, good_signed) = scope(&good);
        let region = signed(SignatureMode::WrongRegion, Some(TOKEN));
        let (region_scope, region_signed) = scope(&region);
        // key / date / region / service / aws4_request
        assert_eq!(region_scope[2], "us-east-1");
        assert_eq!(region_scope[3], "inspector");
        assert_eq!(region_scope[0], KEY);
        assert_eq!(region_signed, good_signed);
        assert_eq!(region.headers.get("x-amz-security-token"), Some(TOKEN));

        let service = signed(SignatureMode::WrongService, Some(TOKEN));
        let (service_scope, _) = scope(&service);
        assert_eq!(service_scope[2], good_scope[2]);
        assert_eq!(service_scope[3], wrong_signing_name_for("inspector"));

        assert_eq!(wrong_region_for("us-west-2"), "us-east-1");
        assert_eq!(wrong_region_for("us-east-1"), "us-west-2");
        assert_eq!(wrong_region_for("us-gov-west-1"), "us-gov-east-1");
        assert_eq!(wrong_region_for("us-gov-east-1"), "us-gov-west-1");
    }

    const STALE_KEY: &str = "ASIASTALEUNITTEST001";
    const STALE_SECRET: &str = "staleUnitTestSecretKey0123456789abcdefgh";
    const STALE_TOKEN: &str = "staleUnitTestSessionTokenValue0123456789";

    #[test]
    fn expired_token_signs_with_the_stale_credentials_given() {
        let signer = SigV4Signer::from_credentials(
            &inspector(),
            KEY,
            SECRET,
            Some(TOKEN.into()),
            "us-west-2",
        );
        let mut r = request();
        let err = signer
            .sign(
                &mut r,
                "https://inspector.us-west-2.amazonaws.com/",
                SignatureMode::ExpiredToken,
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains(EXPIRED_SESSION_TOKEN_VAR), "{err}");
        assert!(!err.contains(SECRET) && !err.contains(TOKEN) && !err.contains(KEY));
        // Nothing was signed: the request goes nowhere with someone else's signature.
        assert!(r.headers.get("authorization").is_none());

        let signer = signer.with_expired_credentials(STALE_KEY, STALE_SECRET, STALE_TOKEN);
        assert!(signer.has_expired_credentials());
        let mut r = request();
        signer
            .sign(
                &mut r,
                "https://inspector.us-west-2.amazonaws.com/",
                SignatureMode::ExpiredToken,
            )
            .unwrap();
        let auth = r.headers.get("authorization").unwrap();
        assert!(field(auth, "Credential=").starts_with(&format!("{STALE_KEY}/")));
        assert!(field(auth, "Credential=").ends_with("/us-west-2/inspector/aws4_request"));
        assert_eq!(r.headers.get("x-amz-security-token"), Some(STALE_TOKEN));
        // The current date: only the token is stale.
        assert!(r.headers.get("x-amz-date").is_some());
        let shown = format!("{signer:?}");
        assert!(!shown.contains(STALE_SECRET) && !shown.contains(STALE_TOKEN));
        assert_eq!(
            signer
                .scrubber()
                .scrub(&format!("{STALE_KEY} {STALE_SECRET} {STALE_TOKEN}")),
            "<redacted> <redacted> <redacted>"
        );
    }

    #[test]
    fn stale_credentials_come_all_three_or_none() {
        let env = |set: &[(&'static str, &'static str)]| {
            let set = set.to_vec();
            move |name: &str| {
                set.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(expired_credentials_from(env(&[])).unwrap(), None);
        let all = env(&[
            (EXPIRED_ACCESS_KEY_ID_VAR, STALE_KEY),
            (EXPIRED_SECRET_ACCESS_KEY_VAR, STALE_SECRET),
            (EXPIRED_SESSION_TOKEN_VAR, STALE_TOKEN),
        ]);
        assert_eq!(
            expired_credentials_from(all).unwrap(),
            Some((STALE_KEY.into(), STALE_SECRET.into(), STALE_TOKEN.into()))
        );
        let partial = env(&[
            (EXPIRED_ACCESS_KEY_ID_VAR, STALE_KEY),
            (EXPIRED_SECRET_ACCESS_KEY_VAR, STALE_SECRET),
            (EXPIRED_SESSION_TOKEN_VAR, " "),
        ]);
        let err = expired_credentials_from(partial).unwrap_err().to_string();
        assert!(
            err.contains("missing: CONFORM_EXPIRED_SESSION_TOKEN"),
            "{err}"
        );
        assert!(!err.contains(STALE_SECRET) && !err.contains(STALE_KEY));
    }

    #[test]
    fn pseudo_regions_sign_for_their_scope() {
        let signer =
            SigV4Signer::from_credentials(&inspector(), KEY, SECRET, None, "fips-us-gov-west-1");
        assert_eq!(signer.region(), "us-gov-west-1");
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let signer = SigV4Signer::from_credentials(
            &inspector(),
            KEY,
            SECRET,
            Some(TOKEN.to_owned()),
            "us-west-2",
        );
        let shown = format!("{signer:?} {:?}", signer.scrubber());
        assert!(!shown.contains(SECRET) && !shown.contains(TOKEN) && !shown.contains(KEY));
    }

    #[test]
    fn scrubber_removes_every_secret() {
        let signer = SigV4Signer::from_credentials(
            &inspector(),
            KEY,
            SECRET,
            Some(TOKEN.to_owned()),
            "us-west-2",
        );
        let text = format!("x-amz-security-token:{TOKEN}\nCredential={KEY}/x {SECRET}");
        let scrubbed = signer.scrubber().scrub(&text);
        assert!(!signer.scrubber().finds_secret_in(&scrubbed));
        assert_eq!(
            scrubbed,
            "x-amz-security-token:<redacted>\nCredential=<redacted>/x <redacted>"
        );
    }

    #[test]
    fn expired_static_credentials_are_an_error_without_secrets() {
        let credentials = Credentials::new(
            KEY,
            SECRET,
            Some(TOKEN.into()),
            Some(SystemTime::now() - Duration::from_secs(60)),
            "test",
        );
        let signer = SigV4Signer {
            signing_name: "inspector".into(),
            region: "us-west-2".into(),
            shared: Shared::new(credentials),
            refresher: None,
            expired: None,
        };
        let mut r = request();
        let err = signer
            .sign(
                &mut r,
                "https://inspector.us-west-2.amazonaws.com/",
                SignatureMode::Normal,
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("expired"), "{err}");
        assert!(!err.contains(SECRET) && !err.contains(TOKEN));
    }

    /// Hands out the credentials (or errors) it is given, one per call, the last one forever.
    #[derive(Debug)]
    struct Sequence(Mutex<Vec<Result<Credentials, String>>>);

    impl ProvideCredentials for Sequence {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let mut next = self.0.lock().unwrap();
            let item = if next.len() > 1 {
                next.remove(0)
            } else {
                next[0].clone()
            };
            aws_credential_types::provider::future::ProvideCredentials::ready(
                item.map_err(CredentialsError::provider_error),
            )
        }
    }

    fn expiring(key: &str, secret: &str, in_secs: i64) -> Credentials {
        let now = SystemTime::now();
        let expiry = if in_secs >= 0 {
            now + Duration::from_secs(in_secs as u64)
        } else {
            now - Duration::from_secs((-in_secs) as u64)
        };
        Credentials::new(key, secret, Some(TOKEN.into()), Some(expiry), "test")
    }

    fn signed_key(signer: &SigV4Signer) -> Option<String> {
        let mut r = request();
        signer
            .sign(
                &mut r,
                "https://inspector.us-west-2.amazonaws.com/",
                SignatureMode::Normal,
            )
            .ok()?;
        let auth = r.headers.get("authorization")?.to_owned();
        Some(field(&auth, "Credential=").split('/').next()?.to_owned())
    }

    #[tokio::test]
    async fn credentials_about_to_expire_are_refreshed_in_the_background() {
        let fresh = expiring("AKIDREFRESHEDKEY0001", SECRET, 3600);
        let provider = SharedCredentialsProvider::new(Sequence(Mutex::new(vec![Ok(fresh)])));
        // Within the refresh window from the start: the refresher asks at once.
        let signer = SigV4Signer::with_provider(
            expiring(KEY, SECRET, 60),
            provider,
            "us-west-2".into(),
            "inspector".into(),
        );
        assert_eq!(signed_key(&signer).as_deref(), Some(KEY));
        let started = std::time::Instant::now();
        while signed_key(&signer).as_deref() != Some("AKIDREFRESHEDKEY0001") {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "never refreshed"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Both keys are known to the scrubber.
        let scrubbed = signer
            .scrubber()
            .scrub("AKIDREFRESHEDKEY0001 AKIDCONFORMUNITTEST1");
        assert_eq!(scrubbed, "<redacted> <redacted>");
    }

    #[tokio::test]
    async fn a_failed_refresh_is_reported_without_secrets() {
        let leaky = format!("credential process said: secret {SECRET}");
        let provider = SharedCredentialsProvider::new(Sequence(Mutex::new(vec![Err(leaky)])));
        let signer = SigV4Signer::with_provider(
            expiring(KEY, SECRET, -1),
            provider,
            "us-west-2".into(),
            "inspector".into(),
        );
        let started = std::time::Instant::now();
        let message = loop {
            let mut r = request();
            let err = signer
                .sign(
                    &mut r,
                    "https://inspector.us-west-2.amazonaws.com/",
                    SignatureMode::Normal,
                )
                .unwrap_err()
                .to_string();
            if err.contains("credential process said") {
                break err;
            }
            assert!(started.elapsed() < Duration::from_secs(5), "{err}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        assert!(!message.contains(SECRET), "{message}");
        assert!(message.contains("<redacted>"), "{message}");
    }

    #[test]
    fn a_url_without_host_is_an_error_not_a_panic() {
        let signer = SigV4Signer::from_credentials(&inspector(), KEY, SECRET, None, "us-west-2");
        let mut r = request();
        assert!(
            signer
                .sign(&mut r, "/relative", SignatureMode::Normal)
                .is_err()
        );
    }
}
