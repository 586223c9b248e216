//! A local stand-in for AWS that checks SigV4 the way AWS does, for tests that sign.
//!
//! Each request's signature is recomputed with `aws-sigv4` from known test credentials (never
//! by hand); a request with no, a wrong, a stale or an unknown signature, a credential scope
//! naming another region or service, or a session token the stand-in knows as expired is
//! rejected with 403 and an awsJson1_1 error body (`__type`, `message`). A valid
//! StartAssessmentRun gets a 200 with an `assessmentRunArn`. It binds 127.0.0.1:0 and never
//! talks to AWS.
//!
//! Its answers are a test double's: error types and messages follow AWS's common errors where
//! those name one (ExpiredTokenException, InvalidSignatureException, ...), but nothing here is
//! evidence of what AWS answers; it only lets tests see that conform produced each fault.

#![allow(dead_code)] // each test module uses a different part of it

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::date_time::{DateTime, Format};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What awsJson1_1 answers carry (wiremock's own body setters would say text/plain).
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// How far a request's date may be from the server's clock (AWS allows 5 minutes).
pub const ALLOWED_SKEW: Duration = Duration::from_secs(5 * 60);

/// The headers every request must have signed (plus `x-amz-security-token` when it is sent).
pub const REQUIRED_SIGNED: &[&str] = &["content-type", "host", "x-amz-date", "x-amz-target"];

/// The credentials the stand-in knows, and the region it is in.
#[derive(Clone, Debug)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
    /// Temporary credentials the stand-in knows were issued and have expired: a request
    /// correctly signed with them is refused as ExpiredTokenException.
    pub expired: Option<Stale>,
}

/// An access key id, secret and session token whose token has expired.
#[derive(Clone, Debug)]
pub struct Stale {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl Stale {
    pub fn test() -> Stale {
        Stale {
            access_key_id: "ASIASTANDINSTALEKEY1".into(),
            secret_access_key: "standInStaleSecretKey0123456789abcdefghi".into(),
            session_token: "standInStaleSessionToken0123456789".into(),
        }
    }
}

impl Keys {
    /// Plain test credentials.
    pub fn test() -> Keys {
        Keys {
            access_key_id: "AKIDSTANDINTESTKEY01".into(),
            secret_access_key: "standInTestSecretKey0123456789abcdefghij".into(),
            session_token: None,
            region: "us-west-2".into(),
            expired: Some(Stale::test()),
        }
    }

    /// Temporary test credentials (with a session token).
    pub fn temporary() -> Keys {
        Keys {
            session_token: Some("standInTestSessionToken0123456789".into()),
            ..Keys::test()
        }
    }
}

/// How the stand-in behaves besides checking signatures.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Every answer waits this long (a slow endpoint).
    pub delay: Duration,
    /// The first this many valid requests are answered 400 ThrottlingException.
    pub throttle_first: usize,
}

#[derive(Default)]
struct Counters {
    requests: AtomicUsize,
    accepted: AtomicUsize,
    throttled: AtomicUsize,
}

pub struct StandIn {
    pub server: MockServer,
    pub keys: Keys,
    counters: Arc<Counters>,
}

impl StandIn {
    pub async fn start(keys: Keys) -> StandIn {
        StandIn::start_with(keys, Behaviour::default()).await
    }

    pub async fn start_with(keys: Keys, behaviour: Behaviour) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let server = MockServer::builder().listener(listener).start().await;
        let counters = Arc::new(Counters::default());
        Mock::given(any())
            .respond_with(Verifier {
                keys: keys.clone(),
                behaviour,
                counters: counters.clone(),
            })
            .mount(&server)
            .await;
        StandIn {
            server,
            keys,
            counters,
        }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Requests received, valid or not.
    pub fn requests(&self) -> usize {
        self.counters.requests.load(Ordering::SeqCst)
    }

    /// Requests whose signature was valid.
    pub fn accepted(&self) -> usize {
        self.counters.accepted.load(Ordering::SeqCst)
    }
}

struct Verifier {
    keys: Keys,
    behaviour: Behaviour,
    counters: Arc<Counters>,
}

/// Why a request is refused: status, error type, message.
type Rejection = (u16, &'static str, String);

impl Respond for Verifier {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.counters.requests.fetch_add(1, Ordering::SeqCst);
        let template = match self.check(request) {
            Err((status, kind, message)) => error(status, kind, &message),
            Ok(()) => {
                self.counters.accepted.fetch_add(1, Ordering::SeqCst);
                self.answer(request)
            }
        };
        template.set_delay(self.behaviour.delay)
    }
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

fn error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-amzn-requestid", request_id())
        .set_body_raw(
            json!({ "__type": kind, "message": message }).to_string(),
            CONTENT_TYPE,
        )
}

fn request_id() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// `20260101T000000Z` as a time.
pub fn parse_amz_date(text: &str) -> Option<SystemTime> {
    if text.len() != 16 || !text.is_ascii() {
        return None;
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &text[0..4],
        &text[4..6],
        &text[6..8],
        &text[9..11],
        &text[11..13],
        &text[13..15]
    );
    let parsed = DateTime::from_str(&rfc3339, Format::DateTime).ok()?;
    SystemTime::try_from(parsed).ok()
}

impl Verifier {
    fn check(&self, request: &Request) -> Result<(), Rejection> {
        let incomplete = |what: &str| {
            (
                403,
                "IncompleteSignatureException",
                format!("Authorization header requires {what}"),
            )
        };
        let Some(authorization) = header(request, "authorization") else {
            return Err((
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".into(),
            ));
        };
        let fields = authorization
            .strip_prefix("AWS4-HMAC-SHA256 ")
            .ok_or_else(|| incomplete("the AWS4-HMAC-SHA256 algorithm"))?;
        let field = |name: &str| {
            fields
                .split(',')
                .map(str::trim)
                .find_map(|f| f.strip_prefix(name))
        };
        let credential =
            field("Credential=").ok_or_else(|| incomplete("a 'Credential' parameter"))?;
        let signed_headers =
            field("SignedHeaders=").ok_or_else(|| incomplete("a 'SignedHeaders' parameter"))?;
        let signature = field("Signature=").ok_or_else(|| incomplete("a 'Signature' parameter"))?;
        let scope: Vec<&str> = credential.split('/').collect();
        let [key_id, date, region, service, terminator] = scope[..] else {
            return Err(incomplete("a well-formed 'Credential' parameter"));
        };

        let unrecognised = || {
            (
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".to_owned(),
            )
        };
        let token = header(request, "x-amz-security-token");
        // The stale credentials are known, so their signature is checked like any other; the
        // expiry is reported only for a request that is otherwise right.
        let stale = self
            .keys
            .expired
            .as_ref()
            .filter(|s| key_id == s.access_key_id && token == Some(s.session_token.as_str()));
        let secret = match stale {
            Some(s) => &s.secret_access_key,
            None if key_id == self.keys.access_key_id
                && token == self.keys.session_token.as_deref() =>
            {
                &self.keys.secret_access_key
            }
            None => return Err(unrecognised()),
        };

        let invalid = |message: String| (403, "InvalidSignatureException", message);
        let amz_date =
            header(request, "x-amz-date").ok_or_else(|| incomplete("an X-Amz-Date header"))?;
        let time =
            parse_amz_date(amz_date).ok_or_else(|| incomplete("a valid X-Amz-Date header"))?;
        let now = SystemTime::now();
        let skew = now
            .duration_since(time)
            .or_else(|_| time.duration_since(now))
            .unwrap_or_default();
        if skew > ALLOWED_SKEW {
            return Err(invalid(format!(
                "Signature expired: {amz_date} is now earlier or later than the 5 minutes allowed"
            )));
        }
        if region != self.keys.region {
            return Err(invalid(format!(
                "Credential should be scoped to a valid region, not '{region}'."
            )));
        }
        if service != "inspector" {
            return Err(invalid(format!(
                "Credential should be scoped to correct service: 'inspector', not '{service}'."
            )));
        }
        if date != &amz_date[..8] || terminator != "aws4_request" {
            return Err(invalid(format!(
                "Credential should be scoped to a valid region and service: {date}/{region}/{service}"
            )));
        }
        let signed: Vec<&str> = signed_headers.split(';').collect();
        let mut required: Vec<&str> = REQUIRED_SIGNED.to_vec();
        if token.is_some() {
            required.push("x-amz-security-token");
        }
        if let Some(missing) = required.iter().find(|h| !signed.contains(h)) {
            return Err(invalid(format!("'{missing}' must be a signed header")));
        }

        let expected = self.recompute(request, &signed, time, key_id, secret, token)?;
        if expected != signature {
            // Some AWS services quote the canonical request back, session token included: the
            // stand-in does too, so that tests see a recorder keep it out of what it writes.
            return Err(invalid(format!(
                "The request signature we calculated does not match the signature you provided. \
                 The Canonical String for this request should have been 'POST\n/\n\n\
                 x-amz-security-token:{}\n{signed_headers}'",
                token.unwrap_or("")
            )));
        }
        if stale.is_some() {
            return Err((
                403,
                "ExpiredTokenException",
                "The security token included in the request is expired".into(),
            ));
        }
        Ok(())
    }

    /// The signature the stand-in's own credentials give for the headers the request says it
    /// signed.
    fn recompute(
        &self,
        request: &Request,
        signed: &[&str],
        time: SystemTime,
        key_id: &str,
        secret: &str,
        token: Option<&str>,
    ) -> Result<String, Rejection> {
        let bad = |m: String| (403, "InvalidSignatureException", m);
        // x-amz-date and x-amz-security-token are added by aws-sigv4 itself.
        let mut headers = Vec::new();
        for name in signed {
            if matches!(*name, "x-amz-date" | "x-amz-security-token") {
                continue;
            }
            for value in request.headers.get_all(*name) {
                let value = value
                    .to_str()
                    .map_err(|_| bad(format!("header {name} is not text")))?;
                headers.push((*name, value));
            }
        }
        let host = header(request, "host").ok_or_else(|| bad("no Host header".into()))?;
        let path = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        let url = format!("http://{host}{path}");
        let signable = SignableRequest::new(
            request.method.as_str(),
            url,
            headers.into_iter(),
            SignableBody::Bytes(&request.body),
        )
        .map_err(|e| bad(format!("cannot canonicalise the request: {e}")))?;
        let identity: Identity =
            Credentials::new(key_id, secret, token.map(str::to_owned), None, "stand-in").into();
        // Honour whatever the client chose to sign (SDKs sign user agents and lengths too).
        let mut settings = SigningSettings::default();
        settings.excluded_headers = None;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.keys.region)
            .name("inspector")
            .time(time)
            .settings(settings)
            .build()
            .map_err(|e| bad(e.to_string()))?
            .into();
        let (_, signature) = aws_sigv4::http_request::sign(signable, &params)
            .map_err(|e| bad(format!("cannot sign: {e}")))?
            .into_parts();
        Ok(signature)
    }

    fn answer(&self, request: &Request) -> ResponseTemplate {
        if self.counters.throttled.fetch_add(1, Ordering::SeqCst) < self.behaviour.throttle_first {
            return error(400, "ThrottlingException", "Rate exceeded");
        }
        if header(request, "x-amz-target") != Some("InspectorService.StartAssessmentRun") {
            return error(400, "UnknownOperationException", "");
        }
        let body: Option<Value> = serde_json::from_slice(&request.body).ok();
        let arn = body
            .as_ref()
            .and_then(|b| b.get("assessmentTemplateArn"))
            .and_then(Value::as_str);
        match arn {
            Some(arn) if !arn.is_empty() && arn.len() <= 300 => {
                let n = self.counters.accepted.load(Ordering::SeqCst);
                ResponseTemplate::new(200)
                    .insert_header("x-amzn-requestid", request_id())
                    .set_body_raw(
                        json!({ "assessmentRunArn": format!("{arn}/run/0-run{n:05}") }).to_string(),
                        CONTENT_TYPE,
                    )
            }
            // With every member the model requires of InvalidInputException, so that a suite
            // validated against the model accepts it.
            _ => ResponseTemplate::new(400)
                .insert_header("x-amzn-requestid", request_id())
                .set_body_raw(
                    json!({
                        "__type": "InvalidInputException",
                        "message": "assessmentTemplateArn is required",
                        "errorCode": "INVALID_ASSESSMENT_TEMPLATE_ARN",
                        "canRetry": false
                    })
                    .to_string(),
                    CONTENT_TYPE,
                ),
        }
    }
}
