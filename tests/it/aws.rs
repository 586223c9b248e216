//! Signing (issue #5): conform's SigV4 signer against a local stand-in for AWS that checks
//! signatures as AWS does. Good signatures pass; each deliberate fault a case can ask for is
//! rejected the way AWS rejects it. Nothing here talks to AWS.
//!
//! The scope and token faults (`wrong-region`, `wrong-service`, `expired-token`) are checked
//! against the stand-in, whose answers are a test double's: what they show is that conform
//! made exactly the fault asked for, not what AWS answers to it.

use std::sync::Arc;

use aws_credential_types::Credentials;
use aws_sdk_inspector::config::retry::RetryConfig;
use aws_sdk_inspector::config::{BehaviorVersion, Region};
use aws_sdk_inspector::error::ProvideErrorMetadata;
use conform::aws::{
    AwsService, SigV4Signer, UNKNOWN_ACCESS_KEY_ID, wrong_region_for, wrong_signing_name_for,
};
use conform::case::SignatureMode;
use conform::exchange::RUN_ID_HEADER;
use conform::exchange::{Request, Response};
use conform::http::{Client, ClientOptions, SignError, Signer, TransportError};
use conform::matching::read_error_type;

use crate::support_sigv4::{Keys, Stale, StandIn};

const TEMPLATE_ARN: &str =
    "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T";

fn start_request() -> Request {
    Request {
        method: "POST".into(),
        path: "/".into(),
        headers: [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "InspectorService.StartAssessmentRun"),
        ]
        .into_iter()
        .collect(),
        body: format!(
            r#"{{"assessmentRunName":"examplerun","assessmentTemplateArn":"{TEMPLATE_ARN}"}}"#
        )
        .into_bytes(),
    }
}

/// Inspector Classic's signing name and endpoints, from the data beside its model.
fn inspector() -> AwsService {
    AwsService::load(
        &crate::support::root().join("cases/inspector/model/inspector-2016-02-16.json"),
    )
    .unwrap()
}

fn signer_for(keys: &Keys) -> SigV4Signer {
    SigV4Signer::from_credentials(
        &inspector(),
        &keys.access_key_id,
        &keys.secret_access_key,
        keys.session_token.clone(),
        &keys.region,
    )
}

async fn send(stand_in: &StandIn, signer: impl Signer + 'static, mode: SignatureMode) -> Response {
    let client = Client::new(
        &stand_in.uri(),
        Some(Arc::new(signer)),
        ClientOptions::default(),
    )
    .unwrap();
    let (_, response) = client
        .send(start_request(), mode, std::time::Duration::from_secs(10))
        .await;
    response.expect("the stand-in answers")
}

/// A signer that also holds the stale credentials the stand-in knows as expired.
fn signer_with_stale(keys: &Keys) -> SigV4Signer {
    let stale = keys.expired.clone().unwrap_or_else(Stale::test);
    signer_for(keys).with_expired_credentials(
        stale.access_key_id,
        stale.secret_access_key,
        stale.session_token,
    )
}

/// Status and error type (as botocore and the SDKs both read it).
fn verdict(response: &Response) -> (u16, Option<String>) {
    let readings = read_error_type(&response.headers, response.json().as_ref());
    assert_eq!(
        readings.botocore, readings.sdk,
        "one error type for every client"
    );
    (response.status, readings.botocore)
}

#[tokio::test]
async fn good_signatures_pass_and_each_fault_is_rejected() {
    for keys in [Keys::test(), Keys::temporary()] {
        let stand_in = StandIn::start(keys.clone()).await;
        let expected = [
            (SignatureMode::Normal, 200, None),
            (
                SignatureMode::None,
                403,
                Some("MissingAuthenticationTokenException"),
            ),
            (
                SignatureMode::Corrupt,
                403,
                Some("InvalidSignatureException"),
            ),
            (
                SignatureMode::Expired,
                403,
                Some("InvalidSignatureException"),
            ),
            (
                SignatureMode::UnknownKey,
                403,
                Some("UnrecognizedClientException"),
            ),
        ];
        for (mode, status, kind) in expected {
            let response = send(&stand_in, signer_for(&keys), mode).await;
            assert_eq!(
                verdict(&response),
                (status, kind.map(str::to_owned)),
                "{mode:?} with a session token: {}",
                keys.session_token.is_some()
            );
            if mode == SignatureMode::Expired {
                let body = String::from_utf8_lossy(&response.body).into_owned();
                assert!(body.contains("Signature expired"), "{body}");
            }
        }
        assert_eq!(stand_in.accepted(), 1);
    }
}

#[tokio::test]
async fn wrong_secret_region_or_missing_token_is_rejected() {
    let keys = Keys::temporary();
    let stand_in = StandIn::start(keys.clone()).await;
    let wrong_secret = SigV4Signer::from_credentials(
        &inspector(),
        &keys.access_key_id,
        "anotherSecretKey0123456789abcdefghijklmn",
        keys.session_token.clone(),
        "us-west-2",
    );
    let wrong_region = Keys {
        region: "us-east-1".into(),
        ..keys.clone()
    };
    let no_token = Keys {
        session_token: None,
        ..keys.clone()
    };
    let cases: [(SigV4Signer, &str); 3] = [
        (wrong_secret, "InvalidSignatureException"),
        (signer_for(&wrong_region), "InvalidSignatureException"),
        (signer_for(&no_token), "UnrecognizedClientException"),
    ];
    for (signer, kind) in cases {
        let response = send(&stand_in, signer, SignatureMode::Normal).await;
        assert_eq!(verdict(&response), (403, Some(kind.to_owned())));
    }
    assert_eq!(stand_in.accepted(), 0);
}

/// Signs, then changes the request: what was sent is no longer what was signed.
struct ThenChange<F>(SigV4Signer, F);

impl<F: Fn(&mut Request) + Send + Sync> Signer for ThenChange<F> {
    fn sign(&self, request: &mut Request, url: &str, mode: SignatureMode) -> Result<(), SignError> {
        self.0.sign(request, url, mode)?;
        (self.1)(request);
        Ok(())
    }
}

#[tokio::test]
async fn the_stand_in_checks_the_body_and_the_signed_headers() {
    let keys = Keys::test();
    let stand_in = StandIn::start(keys.clone()).await;

    let tampered = ThenChange(signer_for(&keys), |r: &mut Request| r.body.push(b' '));
    let response = send(&stand_in, tampered, SignatureMode::Normal).await;
    assert_eq!(
        verdict(&response),
        (403, Some("InvalidSignatureException".into()))
    );

    // x-amz-target sent but not signed: signed without it, added afterwards.
    struct TargetAfter(SigV4Signer);
    impl Signer for TargetAfter {
        fn sign(
            &self,
            request: &mut Request,
            url: &str,
            mode: SignatureMode,
        ) -> Result<(), SignError> {
            let target = request.headers.get("x-amz-target").map(str::to_owned);
            request.headers.remove("x-amz-target");
            self.0.sign(request, url, mode)?;
            if let Some(t) = target {
                request.headers.set("x-amz-target", t);
            }
            Ok(())
        }
    }
    let response = send(
        &stand_in,
        TargetAfter(signer_for(&keys)),
        SignatureMode::Normal,
    )
    .await;
    assert_eq!(
        verdict(&response),
        (403, Some("InvalidSignatureException".into()))
    );
    let body = String::from_utf8_lossy(&response.body).into_owned();
    assert!(
        body.contains("'x-amz-target' must be a signed header"),
        "{body}"
    );
    assert_eq!(stand_in.accepted(), 0);
}

/// The stand-in is only worth something if it accepts what AWS's own SDK sends.
#[tokio::test]
async fn the_official_sdk_passes_the_stand_in() {
    let keys = Keys::temporary();
    let stand_in = StandIn::start(keys.clone()).await;
    let sdk = |secret: &str| {
        let config = aws_sdk_inspector::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(keys.region.clone()))
            .credentials_provider(Credentials::new(
                &keys.access_key_id,
                secret,
                keys.session_token.clone(),
                None,
                "test",
            ))
            .endpoint_url(stand_in.uri())
            .retry_config(RetryConfig::disabled())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_inspector::Client::from_conf(config)
    };
    let output = sdk(&keys.secret_access_key)
        .start_assessment_run()
        .assessment_template_arn(TEMPLATE_ARN)
        .assessment_run_name("examplerun")
        .send()
        .await
        .expect("a correctly signed SDK request passes");
    assert!(output.assessment_run_arn().starts_with(TEMPLATE_ARN));

    let error = sdk("notTheSecret0123456789abcdefghijklmnopqr")
        .start_assessment_run()
        .assessment_template_arn(TEMPLATE_ARN)
        .send()
        .await
        .expect_err("a wrongly signed SDK request fails");
    assert_eq!(error.code(), Some("InvalidSignatureException"));
}

#[test]
fn endpoints_and_the_unknown_key_are_public() {
    assert_eq!(
        inspector().endpoint_for("fips-us-west-2", false).unwrap(),
        "https://inspector-fips.us-west-2.amazonaws.com"
    );
    assert!(inspector().endpoint_for("mars-north-1", false).is_err());
    assert!(UNKNOWN_ACCESS_KEY_ID.starts_with("AKIA") && UNKNOWN_ACCESS_KEY_ID.len() == 20);
}

#[test]
fn a_signer_shows_no_secret() {
    let keys = Keys::temporary();
    let shown = format!("{:?}", signer_for(&keys));
    assert!(!shown.contains(&keys.secret_access_key));
    assert!(!shown.contains(keys.session_token.as_deref().unwrap()));
}

/// The three scope and token faults: each reaches the stand-in and is refused for its own
/// reason, with and without a session token of the signer's own.
#[tokio::test]
async fn wrong_region_wrong_service_and_expired_token_are_each_detected() {
    for keys in [Keys::test(), Keys::temporary()] {
        let stand_in = StandIn::start(keys.clone()).await;
        let expected = [
            (
                SignatureMode::WrongRegion,
                "InvalidSignatureException",
                format!(
                    "scoped to a valid region, not '{}'",
                    wrong_region_for(&keys.region)
                ),
            ),
            (
                SignatureMode::WrongService,
                "InvalidSignatureException",
                format!(
                    "correct service: 'inspector', not '{}'",
                    wrong_signing_name_for("inspector")
                ),
            ),
            (
                SignatureMode::ExpiredToken,
                "ExpiredTokenException",
                "security token included in the request is expired".to_owned(),
            ),
        ];
        for (mode, kind, says) in expected {
            let response = send(&stand_in, signer_with_stale(&keys), mode).await;
            assert_eq!(
                verdict(&response),
                (403, Some(kind.to_owned())),
                "{mode:?}, session token: {}",
                keys.session_token.is_some()
            );
            let body = String::from_utf8_lossy(&response.body).into_owned();
            assert!(body.contains(&says), "{mode:?}: {body}");
        }
        // Good signatures from the same signer still pass: each fault is the mode's alone.
        let response = send(&stand_in, signer_with_stale(&keys), SignatureMode::Normal).await;
        assert_eq!(verdict(&response), (200, None));
        assert_eq!(stand_in.accepted(), 1);
        assert_eq!(stand_in.requests(), 4);
    }
}

/// The stale credentials are what makes `expired-token`: a stand-in that does not know them
/// as expired sees an unrecognised key, and without them nothing is sent at all.
#[tokio::test]
async fn expired_token_needs_the_stale_credentials() {
    let keys = Keys {
        expired: None,
        ..Keys::temporary()
    };
    let stand_in = StandIn::start(keys.clone()).await;
    let response = send(
        &stand_in,
        signer_with_stale(&keys),
        SignatureMode::ExpiredToken,
    )
    .await;
    assert_eq!(
        verdict(&response),
        (403, Some("UnrecognizedClientException".into()))
    );

    let client = Client::new(
        &stand_in.uri(),
        Some(Arc::new(signer_for(&keys))),
        ClientOptions::default(),
    )
    .unwrap();
    // The runner asks first and skips such a step with this reason.
    let reason = client
        .unavailable(SignatureMode::ExpiredToken)
        .expect("expired-token is unavailable without stale credentials");
    assert!(reason.contains("CONFORM_EXPIRED_SESSION_TOKEN"), "{reason}");
    assert_eq!(client.unavailable(SignatureMode::Corrupt), None);
    let (sent, result) = client
        .send(
            start_request(),
            SignatureMode::ExpiredToken,
            std::time::Duration::from_secs(10),
        )
        .await;
    let Err(TransportError::Sign(e)) = result else {
        panic!("signing without stale credentials must fail: {result:?}");
    };
    let message = e.to_string();
    assert!(
        message.contains("CONFORM_EXPIRED_SESSION_TOKEN"),
        "{message}"
    );
    for secret in [
        keys.secret_access_key.as_str(),
        keys.session_token.as_deref().unwrap(),
    ] {
        assert!(!message.contains(secret), "{message}");
    }
    assert!(sent.headers.get("authorization").is_none());
    assert_eq!(
        stand_in.requests(),
        1,
        "nothing was sent for the unsigned request"
    );
}

/// Every request carries the client's run id, unsigned: the stand-in, which checks
/// signatures, accepts it, and a client built for real AWS sends none.
#[tokio::test]
async fn the_run_id_travels_unsigned_and_never_to_aws() {
    let keys = Keys::temporary();
    let stand_in = StandIn::start(keys.clone()).await;
    let signed = Client::new(
        &stand_in.uri(),
        Some(Arc::new(signer_for(&keys))),
        ClientOptions::default(),
    )
    .unwrap();
    let run_id = signed
        .run_id()
        .expect("a fresh client has a run id")
        .to_owned();
    let for_aws = signed.clone().without_run_id();
    assert_eq!(for_aws.run_id(), None);
    for client in [&signed, &for_aws] {
        let mut request = start_request();
        // Whatever a request carried, the client decides.
        request.headers.set(RUN_ID_HEADER, "from-the-case");
        let (sent, response) = client
            .send(
                request,
                SignatureMode::Normal,
                std::time::Duration::from_secs(10),
            )
            .await;
        assert_eq!(verdict(&response.unwrap()), (200, None));
        assert_eq!(sent.headers.get(RUN_ID_HEADER), client.run_id());
        let auth = sent.headers.get("authorization").unwrap();
        assert!(!auth.contains(RUN_ID_HEADER), "{auth}");
    }
    let received = stand_in.server.received_requests().await.unwrap();
    let ids: Vec<Option<String>> = received
        .iter()
        .map(|r| {
            r.headers
                .get(RUN_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(ids, [Some(run_id), None]);
    // Two invocations, two runs.
    let other = Client::new(&stand_in.uri(), None, ClientOptions::default()).unwrap();
    assert_ne!(other.run_id(), signed.run_id());
}
