//! Replays that build each entry when it is first used answer as the replay built whole does:
//! the one started from the memo of its index (`Replay::from_memo`), which `conform run` and
//! `serve` use only while the recordings are the ones it was made from, and the one keeping
//! the recordings it was built from (`Replay::new_shared`, a start without the memo), also
//! given the keys its loader worked out (`Replay::new_shared_keyed`).
//!
//! And the server `conform serve` starts before its replay is built (`ReplayServer::pending`):
//! a client that connects meanwhile waits, and is answered once the replay is given.

use std::path::Path;
use std::sync::Arc;

use conform::recording::Folder;
use conform::replay::{Answer, IndexMemo, Replay, ReplayServer};

use crate::props::recorded_requests;
use crate::support::{conform_in, copy_tree, root, stderr, stdout, without_timings};

/// What a client would see of an answer: status, headers and body, or the miss report.
fn seen(answer: Answer<'_>) -> String {
    match answer {
        Answer::Recorded(e) => format!(
            "{} {} {:?} {}",
            e.label(),
            e.status,
            e.headers,
            String::from_utf8_lossy(&e.body)
        ),
        Answer::Miss(miss) => miss.report(),
        Answer::TooLarge(n) => format!("too large: {n}"),
    }
}

/// A copy of the project's recordings without the caches and memos other tests' runs left
/// there.
fn copy_recordings(to: &Path) {
    copy_tree(&root().join("recordings"), to);
    for entry in std::fs::read_dir(to).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(".conform-cache")
        {
            std::fs::remove_file(path).unwrap();
        }
    }
}

/// A copy of the project's recordings whose cache holds every file (written, then read back
/// whole): files changed less than two seconds ago are never taken from the cache.
fn cached_copy(to: &Path) -> Folder {
    copy_recordings(to);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    Folder::open(to).load().expect("the recordings load");
    let folder = Folder::open(to);
    assert!(folder.unchanged().is_some(), "{folder:?}");
    folder
}

#[test]
fn the_replay_from_its_memo_answers_as_the_whole_replay() {
    let dir = tempfile::tempdir().unwrap();
    let folder = cached_copy(dir.path());
    let (recordings, unchanged) = folder.load().unwrap();
    assert!(unchanged.is_some());
    let whole = Replay::new(&recordings).unwrap();
    let memo = whole.memo(&folder).expect("a memo of the folder's replay");
    // Through its JSON, as a later start reads it.
    let memo: IndexMemo = serde_json::from_slice(&serde_json::to_vec(&memo).unwrap()).unwrap();
    let lazy = Replay::from_memo(memo, Arc::new(folder.in_memory())).expect("the memo fits");
    answers_alike(&lazy, &whole, &recordings);
}

#[test]
fn the_replay_keeping_its_recordings_answers_as_the_whole_replay() {
    let dir = tempfile::tempdir().unwrap();
    copy_recordings(dir.path());
    let (recordings, _) = Folder::open(dir.path()).load().unwrap();
    let whole = Replay::new(&recordings).unwrap();
    let lazy = Replay::new_shared(Arc::new(recordings.clone())).unwrap();
    answers_alike(&lazy, &whole, &recordings);
}

/// The keys the loader works out as it reads each recording (`Folder::open_to_index`) are the
/// ones the replay would work out itself, in order, whether the files were read during the walk
/// (no cache) or taken from the cache; and a replay given them answers as the whole replay.
#[test]
fn the_replay_given_the_loaders_keys_answers_as_the_whole_replay() {
    let cold = tempfile::tempdir().unwrap();
    copy_recordings(cold.path());
    let warm = tempfile::tempdir().unwrap();
    cached_copy(warm.path());
    for dir in [cold.path(), warm.path()] {
        let folder = Folder::open_to_index(dir);
        let (recordings, keys, _) = folder.load_keyed().unwrap();
        let keys = keys.expect("a folder opened to index gives the keys");
        let expected: Vec<_> = recordings
            .iter()
            .flat_map(|r| r.exchanges.iter().map(|x| x.request.keys()))
            .collect();
        assert!(expected.len() > 300, "{}", expected.len());
        assert_eq!(keys, expected);
        let whole = Replay::new(&recordings).unwrap();
        let keyed = Replay::new_shared_keyed(Arc::new(recordings.clone()), Some(keys)).unwrap();
        answers_alike(&keyed, &whole, &recordings);
        // A folder not opened to index gives no keys.
        assert!(Folder::open(dir).load_keyed().unwrap().1.is_none());
    }
}

/// Keys of another count than the recordings' exchanges (one short) are not used: the replay
/// works them out again and answers as the whole replay.
#[test]
fn keys_that_do_not_fit_the_recordings_are_worked_out_again() {
    let dir = tempfile::tempdir().unwrap();
    copy_recordings(dir.path());
    let (recordings, keys, _) = Folder::open_to_index(dir.path()).load_keyed().unwrap();
    let mut keys = keys.unwrap();
    keys.pop();
    let whole = Replay::new(&recordings).unwrap();
    let keyed = Replay::new_shared_keyed(Arc::new(recordings.clone()), Some(keys)).unwrap();
    answers_alike(&keyed, &whole, &recordings);
}

/// A recording whose body cannot be served refuses the replay built lazily, as it does the
/// one built whole: the entry it would be built into later is not left to fail then.
#[test]
fn a_body_that_cannot_be_served_refuses_the_lazy_replay_too() {
    let dir = tempfile::tempdir().unwrap();
    copy_recordings(dir.path());
    let (mut recordings, _) = Folder::open(dir.path()).load().unwrap();
    let response = &mut recordings[0].exchanges[0].response;
    response.body = None;
    response.body_base64 = Some("not base64!".into());
    let whole = Replay::new(&recordings).unwrap_err();
    let lazy = Replay::new_shared(Arc::new(recordings)).unwrap_err();
    assert_eq!(lazy, whole);
    assert!(lazy.contains("`body_base64` is not valid base64"), "{lazy}");
}

/// `lazy` and `whole` answer every recorded request (twice: a sequence's second answer) and a
/// request nothing matches (the near-miss report) alike, and count the same.
fn answers_alike(lazy: &Replay, whole: &Replay, recordings: &[conform::recording::Recording]) {
    assert_eq!(lazy.exchange_count(), whole.exchange_count());
    assert_eq!(lazy.shadowed, whole.shadowed);
    assert_eq!(lazy.stats().unused, whole.stats().unused);

    let requests = recorded_requests(recordings);
    assert!(requests.len() > 300, "{}", requests.len());
    // Every recorded request twice (a sequence's second answer), a run of its own, and a
    // request changed so that nothing matches it (the near-miss report).
    for round in 0..2 {
        for (parts, _) in &requests {
            let request = parts.request();
            assert_eq!(
                seen(lazy.answer(&request)),
                seen(whole.answer(&request)),
                "round {round}: {} {}",
                parts.method,
                parts.path
            );
        }
    }
    let (mut changed, _) = requests[0].clone();
    changed.body = br#"{"assessmentTemplateArn":"arn:aws:inspector:us-west-2:1:target/0-x/template/0-y","assessmentRunName":"nothing like it"}"#.to_vec();
    changed
        .headers
        .push(("x-conform-run".into(), b"memo-test".to_vec()));
    let request = changed.request();
    let answer = seen(whole.answer(&request));
    assert!(answer.contains("no recording matches"), "{answer}");
    assert_eq!(seen(lazy.answer(&request)), answer);

    let (l, w) = (lazy.stats(), whole.stats());
    assert_eq!(
        (l.served, l.missed, l.unused, l.missed_requests),
        (w.served, w.missed, w.unused, w.missed_requests)
    );
    assert_eq!(format!("{:?}", l.part_way), format!("{:?}", w.part_way));
}

#[test]
fn an_exchange_the_cache_no_longer_holds_answers_an_aws_style_500() {
    let dir = tempfile::tempdir().unwrap();
    let folder = cached_copy(dir.path());
    let (recordings, _) = folder.load().unwrap();
    let memo = Replay::new(&recordings).unwrap().memo(&folder).unwrap();
    // The cache is gone: the memo still fits the files, but no exchange can be read back.
    std::fs::remove_file(dir.path().join(".conform-cache")).unwrap();
    let emptied = Folder::open(dir.path());
    assert!(emptied.unchanged().is_none());
    let lazy = Replay::from_memo(memo, Arc::new(emptied)).unwrap();
    let (parts, file) = &recorded_requests(&recordings)[0];
    match lazy.answer(&parts.request()) {
        Answer::Recorded(e) => {
            assert_eq!(e.status, 500);
            let body: serde_json::Value = serde_json::from_slice(&e.body).unwrap();
            assert_eq!(body["__type"], "ReplayRecordingUnreadable");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(&file.display().to_string()), "{message}");
            assert!(message.contains("restart the server"), "{message}");
        }
        _ => panic!("expected the unreadable exchange's 500"),
    }
    // A memo of other files does not fit.
    let other = tempfile::tempdir().unwrap();
    let memo = Replay::new(&recordings).unwrap().memo(&folder).unwrap();
    assert!(Replay::from_memo(memo, Arc::new(Folder::open(other.path()))).is_none());
}

/// `conform run` on the built-in replay: the second start writes the memo, the third starts
/// from it, all three report the same; a recording changed after that is served as it is now.
#[test]
fn run_starts_from_the_memo_and_sees_a_changed_recording() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("cases"), &dir.path().join("cases"));
    copy_recordings(&dir.path().join("recordings"));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let memo = dir.path().join("recordings/.conform-cache.replay");
    let port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let run = || {
        let out = conform_in(dir.path(), &["run", "--color", "never"]);
        let err = port
            .replace_all(&stderr(&out), "127.0.0.1:<port>")
            .into_owned();
        (out.status.code(), without_timings(&stdout(&out)), err)
    };
    let first = run();
    assert_eq!(first.0, Some(0), "{}\n{}", first.1, first.2);
    assert!(!memo.exists());
    let second = run();
    assert!(memo.exists());
    let third = run();
    // (Not assert_eq: a thousand lines each.)
    assert!(
        second == first,
        "the second run differs:\n{}\n{}",
        second.1,
        second.2
    );
    assert!(
        third == first,
        "the third run differs:\n{}\n{}",
        third.1,
        third.2
    );

    // The documented sample's answer changed: the run sees the new answer.
    let sample = dir
        .path()
        .join("recordings/inspector/StartAssessmentRun/documented_sample_exchange.yaml");
    let text = std::fs::read_to_string(&sample).unwrap();
    let changed = text.replace("assessmentRunArn", "assessmentRunArm");
    assert_ne!(changed, text);
    std::fs::write(&sample, changed).unwrap();
    let after = run();
    assert_eq!(after.0, Some(1), "{}\n{}", after.1, after.2);
    assert!(after.1.contains("assessmentRunArm"), "{}", after.1);
}

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The documented sample request, whole.
fn sample_request() -> Vec<u8> {
    let body = r#"{"assessmentRunName":"examplerun","assessmentTemplateArn":"arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T"}"#;
    format!(
        "POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-amz-json-1.1\r\nx-amz-target: InspectorService.StartAssessmentRun\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn a_client_that_connects_before_the_replay_is_ready_waits_for_its_answer() {
    use std::io::{Read as _, Write as _};
    let pending =
        ReplayServer::pending(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), None).unwrap();
    let mut client = std::net::TcpStream::connect(pending.address()).unwrap();
    client.write_all(&sample_request()).unwrap();
    // Nothing is accepted, so nothing is answered, while there is no replay.
    client
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0; 1];
    let early = client.read(&mut byte);
    assert!(
        early.as_ref().is_err_and(|e| matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )),
        "answered before the replay was ready: {early:?}"
    );
    let recordings = conform::recording::load_recordings(&root().join("recordings")).unwrap();
    let _server = pending.serve(Replay::new(&recordings).unwrap()).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut answer = String::new();
    client.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with("/template/0-it5r2S4T/run/0-jOoroxyY\"}"),
        "{answer}"
    );
}

#[test]
fn a_pending_server_dropped_without_a_replay_closes_its_waiting_connections() {
    use std::io::{Read as _, Write as _};
    let pending =
        ReplayServer::pending(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), None).unwrap();
    let address = pending.address();
    let mut client = std::net::TcpStream::connect(address).unwrap();
    client.write_all(&sample_request()).unwrap();
    drop(pending);
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut answer = Vec::new();
    // Closed or reset, never answered, and never left hanging.
    let read = client.read_to_end(&mut answer);
    let closed = match &read {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(
        answer.is_empty() && closed,
        "{read:?}: {}",
        String::from_utf8_lossy(&answer)
    );
}
