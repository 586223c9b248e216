//! Exporting recordings for other tools: WireMock stub mappings (`conform export --wiremock`),
//! so a team on WireMock standalone serves the same answers `conform serve` gives. Pure apart
//! from [`write_wiremock`].
//!
//! What the replay decides, each mapping decides the same way:
//! - **Request**: method; the path (`urlPath`, or `url` when the recorded path has a query,
//!   since the replay compares the whole request target); `Content-Type` and `X-Amz-Target`
//!   `equalTo` their recorded values, or `absent` when the recording has none (the replay's
//!   identity headers, `recording::IDENTITY_HEADERS`); a JSON body with `equalToJson`, extra
//!   members not ignored (the replay is strict on requests); a raw body with `binaryEqualTo`
//!   (exact bytes), an empty one with `absent` (WireMock reads an empty body as none).
//! - **Response**: status, headers (minus the ones the connection decides), body as text or
//!   `base64Body`.
//! - **Sequences** (one recording's exchanges with the same request) become a scenario: the
//!   first answers in state `Started`, each moves it to the next, and the last moves it back
//!   to `Started`, starting over as the replay does. WireMock keeps one state per scenario
//!   for all clients (the replay keeps one per run id); `POST /__admin/scenarios/reset` is
//!   its `/__conform/reset`.
//! - An exchange the replay never serves (its request repeats an earlier recording's) is left
//!   out, as the replay shadows it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::recording::{IDENTITY_HEADERS, Recording, write_atomically};

/// WireMock's name for a scenario's first state.
pub const STARTED: &str = "Started";

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{file}: exchange {position}: {message}")]
    Recording {
        file: PathBuf,
        position: usize,
        message: String,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} exists and is not a folder")]
    NotAFolder(PathBuf),
}

/// One stub mapping and the file name it goes to under `mappings/`.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub file_name: String,
    pub json: Value,
}

/// Header names as WireMock users write them (WireMock matches them case-insensitively).
fn display_name(header: &str) -> &str {
    match header {
        "content-type" => "Content-Type",
        "x-amz-target" => "X-Amz-Target",
        other => other,
    }
}

/// The stub mappings for `recordings` (in the order `load_recordings` gives them); `root` is
/// the recordings folder, for names.
pub fn wiremock_mappings(
    recordings: &[Recording],
    root: &Path,
) -> Result<Vec<Mapping>, ExportError> {
    let mut mappings = Vec::new();
    // Keys answered by an earlier recording: the replay shadows later ones.
    let mut taken: HashSet<String> = HashSet::new();
    for recording in recordings {
        let relative = recording
            .file
            .strip_prefix(root)
            .unwrap_or(&recording.file)
            .display()
            .to_string()
            .replace('\\', "/");
        // This recording's sequences, in order of first appearance.
        let mut sequences: Vec<(String, Vec<usize>)> = Vec::new();
        let mut own: HashMap<String, usize> = HashMap::new();
        for (i, exchange) in recording.exchanges.iter().enumerate() {
            let key = exchange.request.index_key();
            if let Some(&s) = own.get(&key) {
                sequences[s].1.push(i);
            } else if !taken.contains(&key) {
                own.insert(key.clone(), sequences.len());
                sequences.push((key, vec![i]));
            }
        }
        for (key, exchanges) in &sequences {
            taken.insert(key.clone());
            let scenario = (exchanges.len() > 1).then(|| {
                format!(
                    "{relative} (exchanges {})",
                    exchanges
                        .iter()
                        .map(|i| (i + 1).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
            for (step, &i) in exchanges.iter().enumerate() {
                let mut json = stub(recording, i)?;
                let name = format!("{relative} #{}", i + 1);
                json["name"] = Value::String(name);
                if let Some(scenario) = &scenario {
                    let state = |n: usize| {
                        if n == 0 {
                            STARTED.to_owned()
                        } else {
                            format!("exchange {}", n + 1)
                        }
                    };
                    json["scenarioName"] = Value::String(scenario.clone());
                    json["requiredScenarioState"] = Value::String(state(step));
                    // After the last, the sequence starts over.
                    json["newScenarioState"] = Value::String(state((step + 1) % exchanges.len()));
                }
                let file_name = format!(
                    "{:04}-{}-{}.json",
                    mappings.len() + 1,
                    sanitise(&relative),
                    i + 1
                );
                mappings.push(Mapping { file_name, json });
            }
        }
    }
    Ok(mappings)
}

fn sanitise(name: &str) -> String {
    let cut = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
        .unwrap_or(name);
    cut.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The stub for exchange `i` of `recording` (no name or scenario yet).
fn stub(recording: &Recording, i: usize) -> Result<Value, ExportError> {
    let exchange = &recording.exchanges[i];
    let fail = |message: String| ExportError::Recording {
        file: recording.file.clone(),
        position: i + 1,
        message,
    };
    let r = &exchange.request;
    let mut request = Map::new();
    request.insert(
        "method".into(),
        Value::String(r.method.to_ascii_uppercase()),
    );
    if r.path.contains('?') {
        request.insert("url".into(), Value::String(r.path.clone()));
    } else {
        request.insert("urlPath".into(), Value::String(r.path.clone()));
    }
    let mut headers = Map::new();
    for name in IDENTITY_HEADERS {
        let value = r
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v);
        headers.insert(
            display_name(name).to_owned(),
            match value {
                Some(v) => json!({ "equalTo": v }),
                None => json!({ "absent": true }),
            },
        );
    }
    request.insert("headers".into(), Value::Object(headers));
    let body = match (&r.body, r.raw_bytes()) {
        (Some(value), _) => json!({
            "equalToJson": value,
            "ignoreArrayOrder": false,
            "ignoreExtraElements": false,
        }),
        (None, Some(bytes)) if !bytes.is_empty() => json!({
            "binaryEqualTo": base64::engine::general_purpose::STANDARD.encode(bytes),
        }),
        // WireMock reads an empty body as no body: `equalTo ""` never matches it.
        _ => json!({ "absent": true }),
    };
    request.insert("bodyPatterns".into(), json!([body]));

    let response = &exchange.response;
    let mut out = Map::new();
    out.insert("status".into(), json!(response.status));
    let headers: Map<String, Value> = response
        .served_headers()
        .map(|(n, v)| (n.clone(), Value::String(v.clone())))
        .collect();
    out.insert("headers".into(), Value::Object(headers));
    let bytes = response.body_bytes().map_err(fail)?;
    match String::from_utf8(bytes) {
        Ok(text) => out.insert("body".into(), Value::String(text)),
        Err(e) => out.insert(
            "base64Body".into(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(e.into_bytes())),
        ),
    };
    Ok(json!({ "request": request, "response": out }))
}

/// Writes `mappings` under `dir/mappings/` (each atomically) and an empty `dir/__files/`,
/// the layout `java -jar wiremock-standalone.jar --root-dir DIR` reads. Returns the files.
pub fn write_wiremock(dir: &Path, mappings: &[Mapping]) -> Result<Vec<PathBuf>, ExportError> {
    if dir.exists() && !dir.is_dir() {
        return Err(ExportError::NotAFolder(dir.to_owned()));
    }
    let files_dir = dir.join("__files");
    std::fs::create_dir_all(&files_dir).map_err(|source| ExportError::Write {
        path: files_dir.clone(),
        source,
    })?;
    let mut written = Vec::new();
    for mapping in mappings {
        let path = dir.join("mappings").join(&mapping.file_name);
        let text = serde_json::to_string_pretty(&mapping.json).unwrap_or_default();
        write_atomically(&path, format!("{text}\n").as_bytes()).map_err(|source| {
            ExportError::Write {
                path: path.clone(),
                source,
            }
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{
        HeaderMap, RecordedExchange, RecordedRequest, RecordedResponse, RecordingProvenance,
    };

    fn exchange(body: Option<Value>, raw: Option<&str>, answer: &str) -> RecordedExchange {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-target".to_owned(),
            "InspectorService.StartAssessmentRun".to_owned(),
        );
        let mut response_headers = HeaderMap::new();
        response_headers.insert("content-length".to_owned(), "2".to_owned());
        response_headers.insert("x-amzn-requestid".to_owned(), "r-1".to_owned());
        RecordedExchange {
            request: RecordedRequest {
                method: "POST".into(),
                path: "/".into(),
                headers,
                body,
                raw_body: raw.map(str::to_owned),
                raw_body_base64: None,
            },
            response: RecordedResponse {
                status: 200,
                headers: response_headers,
                body: Some(answer.into()),
                body_base64: None,
            },
        }
    }

    fn recording(file: &str, exchanges: Vec<RecordedExchange>) -> Recording {
        Recording {
            provenance: RecordingProvenance::Inferred,
            source: "test".into(),
            note: Some("test".into()),
            recorded: None,
            exchanges,
            file: PathBuf::from("recs").join(file),
        }
    }

    #[test]
    fn a_sequence_is_a_scenario_that_starts_over() {
        let body = Some(json!({"a": 1}));
        let r = recording(
            "seq.yaml",
            vec![
                exchange(body.clone(), None, "{\"n\":1}"),
                exchange(Some(json!({"other": true})), None, "{}"),
                exchange(body.clone(), None, "{\"n\":2}"),
            ],
        );
        let m = wiremock_mappings(&[r], Path::new("recs")).unwrap();
        assert_eq!(m.len(), 3);
        let seq: Vec<&Value> = m
            .iter()
            .map(|m| &m.json)
            .filter(|j| j.get("scenarioName").is_some())
            .collect();
        assert_eq!(seq.len(), 2);
        assert_eq!(seq[0]["requiredScenarioState"], STARTED);
        assert_eq!(seq[0]["newScenarioState"], "exchange 2");
        assert_eq!(seq[1]["requiredScenarioState"], "exchange 2");
        assert_eq!(seq[1]["newScenarioState"], STARTED);
        assert_eq!(seq[1]["response"]["body"], "{\"n\":2}");
        let single = m
            .iter()
            .find(|m| m.json.get("scenarioName").is_none())
            .unwrap();
        assert_eq!(single.json["name"], "seq.yaml #2");
    }

    #[test]
    fn requests_match_as_strictly_as_the_replay() {
        let r = recording("raw.yaml", vec![exchange(None, Some("not json"), "{}")]);
        let m = wiremock_mappings(&[r], Path::new("recs")).unwrap();
        let request = &m[0].json["request"];
        assert_eq!(request["method"], "POST");
        assert_eq!(request["urlPath"], "/");
        assert_eq!(
            request["headers"]["X-Amz-Target"]["equalTo"],
            "InspectorService.StartAssessmentRun"
        );
        assert_eq!(request["headers"]["Content-Type"]["absent"], true);
        assert_eq!(
            request["bodyPatterns"][0]["binaryEqualTo"],
            base64::engine::general_purpose::STANDARD.encode("not json")
        );
        let response = &m[0].json["response"];
        assert!(response["headers"].get("content-length").is_none());
        assert_eq!(response["headers"]["x-amzn-requestid"], "r-1");
    }

    #[test]
    fn a_shadowed_exchange_is_left_out() {
        let body = Some(json!({"a": 1}));
        let a = recording(
            "a.yaml",
            vec![exchange(body.clone(), None, "{\"from\":\"a\"}")],
        );
        let b = recording("b.yaml", vec![exchange(body, None, "{\"from\":\"b\"}")]);
        let m = wiremock_mappings(&[a, b], Path::new("recs")).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(
            m[0].json["request"]["bodyPatterns"][0]["equalToJson"],
            json!({"a": 1})
        );
        assert_eq!(m[0].json["response"]["body"], "{\"from\":\"a\"}");
    }
}
