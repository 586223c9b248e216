//! The replay server: `Replay` behind a wiremock `MockServer`. One catch-all mock hands every
//! request to `Replay::answer`; request recording is off, so a long-running server does not
//! grow with the requests it serves.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

use super::index::{Answer, Miss, Replay, request_from_parts};

/// What the server tells its owner about (the binary prints these; the library never does).
pub type MissSink = Arc<dyn Fn(&Miss) + Send + Sync>;

/// A running replay server. Dropping it stops the server.
pub struct ReplayServer {
    server: MockServer,
    replay: Arc<Replay>,
}

impl ReplayServer {
    /// Serves `replay` on an already bound listener (bind `127.0.0.1:0` for an ephemeral port).
    pub async fn start(
        replay: Replay,
        listener: TcpListener,
        on_miss: Option<MissSink>,
    ) -> ReplayServer {
        let replay = Arc::new(replay);
        let server = MockServer::builder()
            .listener(listener)
            .disable_request_recording()
            .start()
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder {
                replay: replay.clone(),
                on_miss,
            })
            .mount(&server)
            .await;
        ReplayServer { server, replay }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn address(&self) -> SocketAddr {
        *self.server.address()
    }

    pub fn replay(&self) -> &Replay {
        &self.replay
    }
}

struct Responder {
    replay: Arc<Replay>,
    on_miss: Option<MissSink>,
}

impl Respond for Responder {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let path = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        let incoming = request_from_parts(
            request.method.as_str(),
            &path,
            request
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes())),
            request.body.clone(),
        );
        match self.replay.answer(&incoming) {
            Answer::Recorded(entry) => {
                let mut template =
                    ResponseTemplate::new(entry.status).set_body_bytes(entry.body.clone());
                for (name, value) in &entry.headers {
                    // Validated when the recording was loaded.
                    template = template.append_header(name.as_str(), value.as_str());
                }
                template
            }
            Answer::TooLarge(limit) => aws_error(
                413,
                "RequestEntityTooLargeException",
                &format!("conform replay: request body larger than {limit} bytes"),
            ),
            Answer::Miss(miss) => {
                if let Some(sink) = &self.on_miss {
                    sink(&miss);
                }
                aws_error(404, "NoMatchingRecordingException", &miss.message())
            }
        }
    }
}

/// An awsJson1_1-style error that no client mistakes for a recorded answer.
fn aws_error(status: u16, error_type: &str, message: &str) -> ResponseTemplate {
    let body = serde_json::json!({ "__type": error_type, "message": message });
    ResponseTemplate::new(status)
        .set_body_bytes(serde_json::to_vec(&body).unwrap_or_default())
        .insert_header("content-type", "application/x-amz-json-1.1")
        .insert_header("x-amzn-errortype", error_type)
        .insert_header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
}
