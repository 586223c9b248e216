//! The replay server's admin path, in the style of WireMock's `POST /__admin/scenarios/reset`:
//!
//! - `POST /__conform/reset`: every run's sequences (and those of requests without a run id)
//!   start from their first exchange again;
//! - `POST /__conform/reset?run=<id>`: only that run's.
//!
//! Both answer 200 with a small JSON body saying what was cleared. Anything else under
//! `/__conform/` is an awsJson1_1-style error (404 for an unknown path, 400 for a wrong method
//! or query), so no client mistakes it for a recorded answer. Pure: the server renders what
//! this returns.

use serde_json::{Value, json};

use super::index::Replay;
use super::state::valid_run_id;

/// Requests whose path is this, or starts with it and a `/`, are admin requests; no recording
/// is ever consulted for them.
pub const ADMIN_PREFIX: &str = "/__conform";

/// What the server sends back to an admin request.
#[derive(Clone, Debug, PartialEq)]
pub struct AdminAnswer {
    pub status: u16,
    /// `Some` for an error: its `__type` (the body then holds `__type` and `message`).
    pub error_type: Option<&'static str>,
    pub body: Value,
}

/// Whether `path` (without its query) is on the admin path.
pub fn is_admin_path(path: &str) -> bool {
    path == ADMIN_PREFIX
        || path
            .strip_prefix(ADMIN_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Carries out one admin request. `query` is the raw query string, if any.
pub fn admin(replay: &Replay, method: &str, path: &str, query: Option<&str>) -> AdminAnswer {
    if path != "/__conform/reset" {
        return error(
            404,
            "UnknownAdminPathException",
            format!(
                "conform replay: no admin path {path}; the admin paths are POST /__conform/reset \
                 and POST /__conform/reset?run=<id>"
            ),
        );
    }
    if method != "POST" {
        return error(
            400,
            "InvalidAdminRequestException",
            format!("conform replay: /__conform/reset takes POST, not {method}"),
        );
    }
    let mut run = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("run", id)) if run.is_none() => run = Some(id),
            _ => {
                return error(
                    400,
                    "InvalidAdminRequestException",
                    format!(
                        "conform replay: /__conform/reset takes only `run=<id>` (once) in its \
                         query, found `{}`",
                        shorten(pair)
                    ),
                );
            }
        }
    }
    match run {
        None => {
            let reset = replay.reset_all();
            AdminAnswer {
                status: 200,
                error_type: None,
                body: json!({ "reset": "all", "runs": reset.runs, "partWay": reset.part_way }),
            }
        }
        Some(id) if !valid_run_id(id) => error(
            400,
            "InvalidAdminRequestException",
            format!(
                "conform replay: `{}` is not a run id (1 to 128 letters, digits, `-`, `_`, `.`, `:`)",
                shorten(id)
            ),
        ),
        Some(id) => {
            let reset = replay.reset_run(id);
            AdminAnswer {
                status: 200,
                error_type: None,
                body: json!({
                    "reset": id,
                    "found": reset.is_some(),
                    "partWay": reset.map_or(0, |r| r.part_way),
                }),
            }
        }
    }
}

fn error(status: u16, error_type: &'static str, message: String) -> AdminAnswer {
    AdminAnswer {
        status,
        error_type: Some(error_type),
        body: json!({ "__type": error_type, "message": message }),
    }
}

/// At most 64 characters of what a client sent, for a message.
fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(64).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{Headers, RUN_ID_HEADER, Request};
    use crate::recording::Recording;

    /// One recording with a sequence of two exchanges (200, then 400) for one request.
    fn sequence_replay() -> Replay {
        let exchange = |status: u16| {
            json!({
                "request": {
                    "method": "POST", "path": "/",
                    "headers": { "x-amz-target": "S.Op" },
                    "body": { "name": "n" }
                },
                "response": { "status": status, "body": format!("{{\"n\":{status}}}") }
            })
        };
        let mut recording: Recording = serde_json::from_value(json!({
            "provenance": "inferred",
            "source": "unit test",
            "exchanges": [exchange(200), exchange(400)],
        }))
        .unwrap();
        recording.file = "seq.yaml".into();
        Replay::new(&[recording]).unwrap()
    }

    fn status(replay: &Replay, run: Option<&str>) -> u16 {
        let mut headers: Headers = [("x-amz-target", "S.Op")].into_iter().collect();
        if let Some(id) = run {
            headers.append(RUN_ID_HEADER, id);
        }
        let request = Request {
            method: "POST".into(),
            path: "/".into(),
            headers,
            body: br#"{"name":"n"}"#.to_vec(),
        };
        match replay.answer(&request) {
            super::super::Answer::Recorded(entry) => entry.status,
            _ => panic!("the recording answers"),
        }
    }

    #[test]
    fn reset_all_and_reset_one_run() {
        let replay = sequence_replay();
        assert_eq!(status(&replay, Some("a")), 200);
        assert_eq!(status(&replay, Some("b")), 200);
        assert_eq!(status(&replay, None), 200);

        let one = admin(&replay, "POST", "/__conform/reset", Some("run=a"));
        assert_eq!(one.status, 200);
        assert_eq!(
            one.body,
            json!({ "reset": "a", "found": true, "partWay": 1 })
        );
        assert_eq!(status(&replay, Some("a")), 200);
        assert_eq!(status(&replay, Some("b")), 400);

        let unknown = admin(&replay, "POST", "/__conform/reset", Some("run=zzz"));
        assert_eq!(unknown.body["found"], json!(false));

        let all = admin(&replay, "POST", "/__conform/reset", None);
        assert_eq!(all.status, 200);
        // Run a (part-way), run b (back at the start) and the default state (part-way).
        assert_eq!(all.body, json!({ "reset": "all", "runs": 3, "partWay": 2 }));
        assert_eq!(status(&replay, None), 200);
        assert_eq!(status(&replay, Some("a")), 200);
        let left: Vec<String> = replay.part_way().iter().map(|p| p.describe()).collect();
        assert_eq!(
            left,
            [
                "seq.yaml: requests without a run id: 1 of 2 exchanges answered",
                "seq.yaml: run a: 1 of 2 exchanges answered",
            ]
        );
    }

    #[test]
    fn an_invalid_run_id_counts_as_none() {
        let replay = sequence_replay();
        assert_eq!(status(&replay, Some("not a run id")), 200);
        assert_eq!(status(&replay, None), 400);
        assert_eq!(replay.stats().states.runs, 0);
    }

    #[test]
    fn anything_else_under_the_admin_path_is_an_error() {
        let replay = sequence_replay();
        let cases = [
            ("POST", "/__conform/nothing", None, 404),
            ("POST", "/__conform", None, 404),
            ("GET", "/__conform/reset", None, 400),
            ("POST", "/__conform/reset", Some("run=a&run=b"), 400),
            ("POST", "/__conform/reset", Some("scenario=x"), 400),
            ("POST", "/__conform/reset", Some("run="), 400),
            ("POST", "/__conform/reset", Some("run=a%20b"), 400),
        ];
        for (method, path, query, want) in cases {
            let answer = admin(&replay, method, path, query);
            assert_eq!(answer.status, want, "{method} {path} {query:?}");
            assert!(answer.error_type.is_some());
            assert!(
                answer.body["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("conform replay: ")
            );
        }
        assert!(is_admin_path("/__conform/reset") && is_admin_path("/__conform"));
        assert!(!is_admin_path("/__conformx") && !is_admin_path("/"));
    }
}
