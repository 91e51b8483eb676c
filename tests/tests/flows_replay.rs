//! Every recording driven through the complete core flows (challenge, token, operation, polls,
//! final GET, pages) in virtual time: the requests the flows emit must match the recorded ones
//! in order (poll counts may differ), and each flow's result must be the one the recording
//! implies.
//!
//! Recordings that start without a 401 are replayed with a pre-seeded challenge. Prints
//! `flows: N files replayed, F failed` and fails when F > 0 or N = 0.

use std::time::{Duration, Instant};

use kvcerts_core::auth::{AccessToken, Challenge, Session, SessionOptions};
use kvcerts_core::flows::{CreateOutcome, Flow, FlowOptions, Input, Now, PollOptions, Step, VaultFlows};
use kvcerts_core::models::{
    CertificateProperties, CreateCertificateParameters, DeletedCertificate, DeletedCertificateProperties,
    IssuerProperties, KeyVaultCertificate, Page,
};
use kvcerts_core::{CreateCertificateOptions, Error, ListOptions, Operation};
use kvcerts_tests::entry_request::{compare_requests, query_value, rebuild_request, recorded_body, vault_for};
use kvcerts_tests::recording::{recordings_dir, Entry, RecordedBody, Recording};
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::macros::datetime;

#[test]
fn every_recording_replays_through_the_flows() {
    let dir = recordings_dir();
    let recordings = Recording::load_dir(&dir).unwrap_or_else(|e| panic!("cannot read recordings in {dir:?}: {e}"));
    let mut failed = 0;
    let mut used = Vec::new();
    for recording in &recordings {
        match replay_recording(recording) {
            Ok(kinds) => used.extend(kinds),
            Err(problems) => {
                failed += 1;
                for p in problems {
                    eprintln!("FAILED {}: {p}", recording.name);
                }
            }
        }
    }
    let count = |kind: Used| used.iter().filter(|u| **u == kind).count();
    println!(
        "flows: {} files replayed, {failed} failed ({} create pollers, {} delete pollers, {} recover pollers, {} pagers, {} single exchanges)",
        recordings.len(),
        count(Used::CreatePoller),
        count(Used::DeletePoller),
        count(Used::RecoverPoller),
        count(Used::Pager),
        count(Used::Exchange),
    );
    assert!(!recordings.is_empty(), "no recordings in {dir:?}");
    assert_eq!(failed, 0, "{failed} recordings do not replay");
}

/// Which flow replayed a part of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Used {
    CreatePoller,
    DeletePoller,
    RecoverPoller,
    Pager,
    Exchange,
}

/// Serves recorded responses to the requests a flow sends, in order.
#[derive(Clone)]
struct Replay<'a> {
    entries: Vec<&'a Entry>,
    cursor: usize,
    last_served: Option<usize>,
    now: Now,
    tokens_asked: u32,
}

impl<'a> Replay<'a> {
    fn new(recording: &'a Recording) -> Self {
        Replay {
            entries: recording.vault_entries().collect(),
            cursor: 0,
            last_served: None,
            now: Now::new(Instant::now(), datetime!(2022-09-20 17:55:28 UTC)),
            tokens_asked: 0,
        }
    }

    fn done(&self) -> bool {
        self.cursor >= self.entries.len()
    }

    fn matches(&self, index: usize, request: &http::Request<Vec<u8>>) -> bool {
        let entry = self.entries[index];
        let trim = |p: &str| p.trim_end_matches('/').to_owned();
        entry.method == request.method() && trim(entry.uri.path()) == trim(request.uri().path())
    }

    /// The recorded response to `request`, or what went wrong.
    fn serve(&mut self, request: &http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, String> {
        let index = if self.cursor < self.entries.len() && self.matches(self.cursor, request) {
            self.cursor
        } else if self.last_served.is_some_and(|i| self.matches(i, request) && request.method() == http::Method::GET) {
            // One poll more than the recording: answer like the last poll.
            return Ok(self.entries[self.last_served.unwrap_or_default()].response());
        } else if let Some(i) = (self.cursor..self.entries.len()).find(|&i| self.matches(i, request)).filter(|&i| {
            // Fewer polls than the recording: only repeated GETs of the same path may be skipped.
            self.entries[self.cursor..i].iter().all(|e| e.method == http::Method::GET && self.matches_path(e, request))
        }) {
            i
        } else {
            let expected =
                self.entries.get(self.cursor).map(|e| format!("{} {}", e.method, e.uri)).unwrap_or("nothing".into());
            return Err(format!("sent {} {}, the recording has {expected} next", request.method(), request.uri()));
        };
        let entry = self.entries[index];
        let mut problems = compare_requests(entry, request);
        if entry.is_challenge() {
            if request.headers().contains_key(http::header::AUTHORIZATION) {
                problems.push("the challenge probe carried a token".into());
            }
            if !request.body().is_empty() {
                problems.push("the challenge probe carried the body".into());
            }
        } else if !request.headers().contains_key(http::header::AUTHORIZATION) && self.entries[0].is_challenge() {
            problems.push("an authenticated request went without a token".into());
        }
        // Rebuilt bodies for operations whose body the flow makes itself are compared by the
        // rebuild test (conformance); here the request line must match.
        problems.retain(|p| !p.starts_with("body:") || entry.is_challenge());
        if !problems.is_empty() {
            return Err(format!("entry {}: {}", entry.index, problems.join("; ")));
        }
        self.cursor = index + 1;
        self.last_served = Some(index);
        Ok(entry.response())
    }

    fn matches_path(&self, entry: &Entry, request: &http::Request<Vec<u8>>) -> bool {
        entry.uri.path().trim_end_matches('/') == request.uri().path().trim_end_matches('/')
    }

    /// Drives `flow` to its end against the recording, in virtual time.
    fn drive<F: Flow>(&mut self, flow: &mut F) -> Result<Result<F::Output, Error>, String> {
        let mut input = None;
        for _ in 0..10_000 {
            match flow.step(self.now, input.take()) {
                Step::Send(request) => input = Some(Input::Response(self.serve(&request)?)),
                Step::WaitUntil(at, _) => {
                    self.now = self.now.advance_to(at);
                    input = Some(Input::Woke);
                }
                Step::GetToken(_) => {
                    self.tokens_asked += 1;
                    let token = AccessToken::new("replay-token", self.now.utc + Duration::from_secs(3600));
                    input = Some(Input::Token(Ok(token)));
                }
                Step::Done(result) => return Ok(result),
            }
        }
        Err("the flow did not finish within 10,000 steps".into())
    }

    /// The last served entry.
    fn last(&self) -> Option<&'a Entry> {
        self.last_served.map(|i| self.entries[i])
    }
}

fn parse<T: DeserializeOwned>(entry: &Entry) -> Result<T, String> {
    match &entry.response_body {
        RecordedBody::Json(v) => serde_json::from_value(v.clone()).map_err(|e| format!("recorded body: {e}")),
        _ => Err("the recorded response has no JSON body".into()),
    }
}

fn same<T: serde::Serialize>(what: &str, got: &T, entry: &Entry) -> Result<(), String> {
    let got = serde_json::to_value(got).map_err(|e| e.to_string())?;
    let expected: Value = match &entry.response_body {
        RecordedBody::Json(v) => v.clone(),
        _ => Value::Null,
    };
    // The model drops nothing the conformance test knows; compare what both carry.
    let mut lost = Vec::new();
    compare(&expected, &got, "", &mut lost);
    if lost.is_empty() {
        Ok(())
    } else {
        Err(format!("{what} differs from entry {}: {}", entry.index, lost.join(", ")))
    }
}

fn compare(expected: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match (expected, got) {
        (Value::Null, _) => {}
        (Value::Object(e), Value::Object(g)) => {
            for (k, v) in e {
                compare(v, g.get(k).unwrap_or(&Value::Null), &format!("{path}.{k}"), out)
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        _ => out.push(path.to_owned()),
    }
}

/// The result a finished flow must have, given the last entry it was served: an error with the
/// recorded status, or the model the recorded body implies.
fn check_error<T>(result: &Result<T, Error>, replay: &Replay) -> Result<bool, String> {
    match (result, replay.last()) {
        (Err(e), Some(last)) => {
            if e.status() == Some(last.status) {
                Ok(true)
            } else {
                Err(format!("the flow failed with {e}, but the recording's last answer was {}", last.status))
            }
        }
        (Err(e), None) => Err(format!("the flow failed before any answer: {e}")),
        (Ok(_), Some(last)) if !last.status.is_success() && last.status != http::StatusCode::NOT_FOUND => {
            Err(format!("the flow succeeded, but the recording ended with {}", last.status))
        }
        _ => Ok(false),
    }
}

/// Replays one recording; which flows replayed it, in order.
fn replay_recording(recording: &Recording) -> Result<Vec<Used>, Vec<String>> {
    let mut replay = Replay::new(recording);
    let Some(first) = replay.entries.first().copied() else {
        return Ok(Vec::new());
    };
    let vault = vault_for(first).map_err(|e| vec![e])?;
    let preseed = !first.is_challenge();
    // A fresh client's flows: the session caches nothing yet (but the pre-seeded challenge).
    let fresh = || -> Result<VaultFlows, String> {
        let session = Session::new(SessionOptions::default());
        if preseed {
            let tenant = Some("00000000-0000-0000-0000-000000000000".to_owned());
            let challenge = Challenge::new("https://vault.azure.net/.default", tenant);
            session.preseed_challenge(vault.url(), challenge).map_err(|e| e.to_string())?;
        }
        let polling = PollOptions::create().interval(Duration::from_secs(1));
        let options = FlowOptions::default().create_polling(polling.clone()).delete_recover_polling(polling);
        Ok(VaultFlows::with_options(vault.clone(), session, options))
    };
    let mut flows = fresh().map_err(|e| vec![e])?;
    let mut used = Vec::new();
    let mut problems = Vec::new();
    while !replay.done() {
        match replay_next(&mut flows, &fresh, &mut replay) {
            Ok(kind) => used.push(kind),
            Err(problem) => {
                problems.push(problem);
                // Skip the entry that could not be replayed and go on, to report everything.
                replay.cursor += 1;
            }
        }
    }
    if first.is_challenge() && replay.tokens_asked != 1 {
        problems.push(format!("the credential was asked {} times, once expected", replay.tokens_asked));
    }
    if problems.is_empty() {
        Ok(used)
    } else {
        Err(problems)
    }
}

/// Replays the flow that starts at the cursor. A poller or pager is tried first on a copy of
/// the replay; when the recording did not use the operation that way (e.g. it cancelled the
/// creation instead of polling it), the entry is replayed as a single exchange.
fn replay_next(
    flows: &mut VaultFlows,
    fresh: &dyn Fn() -> Result<VaultFlows, String>,
    replay: &mut Replay,
) -> Result<Used, String> {
    let entry = replay.entries[replay.cursor];
    let (operation, params) = Operation::identify(&entry.method, entry.uri.path())
        .ok_or_else(|| format!("entry {}: unknown operation", entry.index))?;
    let name = params.name.clone().unwrap_or_default();
    let mut attempt = replay.clone();
    let tried = match operation {
        Operation::CreateCertificate => {
            // The body of the real request (after the probe), when it was recorded.
            let body_entry =
                replay.entries.get(replay.cursor + usize::from(entry.is_challenge())).copied().unwrap_or(entry);
            let body: CreateCertificateParameters = recorded_body(body_entry)?.unwrap_or_default();
            let options = CreateCertificateOptions {
                enabled: body.attributes.as_ref().and_then(|a| a.enabled),
                tags: body.tags.clone(),
                preserve_order: body.preserve_order,
            };
            let policy = body.policy.unwrap_or_default();
            let mut flow = flows.begin_create_certificate(&name, &policy, &options).map_err(|e| e.to_string())?;
            Some((Used::CreatePoller, attempt.drive(&mut flow).and_then(|result| check_create(result, &attempt))))
        }
        Operation::DeleteCertificate => {
            let mut flow = flows.begin_delete_certificate(&name).map_err(|e| e.to_string())?;
            let start = attempt.cursor + usize::from(entry.is_challenge());
            let result = attempt.drive(&mut flow).and_then(|r| check_started::<DeletedCertificate>(r, &attempt, start));
            Some((Used::DeletePoller, result))
        }
        Operation::RecoverDeletedCertificate => {
            let mut flow = flows.begin_recover_deleted_certificate(&name).map_err(|e| e.to_string())?;
            let start = attempt.cursor + usize::from(entry.is_challenge());
            let result =
                attempt.drive(&mut flow).and_then(|r| check_started::<KeyVaultCertificate>(r, &attempt, start));
            Some((Used::RecoverPoller, result))
        }
        Operation::ListPropertiesOfCertificates
        | Operation::ListPropertiesOfCertificateVersions
        | Operation::ListDeletedCertificates
        | Operation::ListPropertiesOfIssuers
            if query_value(entry, "$skiptoken").is_none() =>
        {
            Some((Used::Pager, replay_pages(flows, &mut attempt, operation, &name, entry)))
        }
        _ => None,
    };
    match tried {
        Some((kind, Ok(()))) => {
            *replay = attempt;
            return Ok(kind);
        }
        // The attempt is discarded; if it authenticated, so is what the session learned, since
        // the recording authenticates in the exchange that follows.
        Some((_, Err(_))) if attempt.tokens_asked > replay.tokens_asked => *flows = fresh()?,
        Some(_) | None => {}
    }
    // A single exchange: the rebuilt request through authentication and retries.
    let start = replay.cursor + usize::from(entry.is_challenge());
    let target = replay.entries.get(start).copied().unwrap_or(entry);
    let request = rebuild_request(target, operation, &params)?;
    let mut flow = flows.send_request(request);
    let response = replay.drive(&mut flow)?.map_err(|e| format!("entry {}: {e}", target.index))?;
    let last = replay.last().ok_or("nothing was served")?;
    if response.status() != last.status {
        return Err(format!("entry {}: got {}, recorded {}", last.index, response.status(), last.status));
    }
    Ok(Used::Exchange)
}

fn check_create(result: Result<CreateOutcome, Error>, replay: &Replay) -> Result<(), String> {
    if check_error(&result, replay)? {
        return Ok(());
    }
    let last = replay.last().ok_or("nothing was served")?;
    match result.map_err(|e| e.to_string())? {
        CreateOutcome::Completed(certificate) => same("the created certificate", &*certificate, last),
        CreateOutcome::Failed(op) | CreateOutcome::Cancelled(op) | CreateOutcome::AwaitingMerge(op) => {
            same("the final operation", &*op, last)
        }
        CreateOutcome::Deleted if last.status == http::StatusCode::NOT_FOUND => Ok(()),
        other => Err(format!("unexpected outcome {other:?}")),
    }
}

/// For delete and recover: the result is the starting request's answer.
fn check_started<T: DeserializeOwned + serde::Serialize>(
    result: Result<T, Error>,
    replay: &Replay,
    start: usize,
) -> Result<(), String> {
    if check_error(&result, replay)? {
        return Ok(());
    }
    let first = replay.entries.get(start).ok_or("no starting entry")?;
    let got = result.map_err(|e| e.to_string())?;
    parse::<T>(first)?;
    same("the poller's result", &got, first)
}

fn replay_pages(
    flows: &VaultFlows,
    replay: &mut Replay,
    operation: Operation,
    name: &str,
    entry: &Entry,
) -> Result<(), String> {
    let options = ListOptions {
        max_page_size: query_value(entry, "maxresults").and_then(|s| s.parse().ok()),
        include_pending: query_value(entry, "includePending").map(|v| v == "true"),
    };
    fn pages<T: DeserializeOwned + serde::Serialize>(
        mut pager: kvcerts_core::flows::Pager<T>,
        replay: &mut Replay,
    ) -> Result<(), String> {
        loop {
            let before = replay.cursor;
            match replay.drive(&mut pager)? {
                Ok(Some(page)) => same::<Page<T>>("a page", &page, replay.entries[replay.cursor - 1])?,
                Ok(None) => return Ok(()),
                Err(e) => return if check_error::<()>(&Err(e), replay)? { Ok(()) } else { Err("list failed".into()) },
            }
            if replay.cursor == before {
                return Err("a page was served twice".into());
            }
        }
    }
    let e = |e: Error| e.to_string();
    match operation {
        Operation::ListPropertiesOfCertificates => {
            pages::<CertificateProperties>(flows.list_properties_of_certificates(&options).map_err(e)?, replay)
        }
        Operation::ListPropertiesOfCertificateVersions => pages::<CertificateProperties>(
            flows.list_properties_of_certificate_versions(name, &options).map_err(e)?,
            replay,
        ),
        Operation::ListDeletedCertificates => {
            pages::<DeletedCertificateProperties>(flows.list_deleted_certificates(&options).map_err(e)?, replay)
        }
        _ => pages::<IssuerProperties>(flows.list_properties_of_issuers(&options).map_err(e)?, replay),
    }
}

// ---- the replay check itself can fail --------------------------------------------------------

fn load(name: &str) -> Recording {
    Recording::named(name).expect("recording")
}

fn mutate(recording: &Recording, f: impl Fn(&mut Value)) -> Recording {
    let mut json: Value = serde_json::from_slice(&std::fs::read(&recording.path).expect("read")).expect("json");
    f(&mut json);
    Recording::parse(&recording.name, json.to_string().as_bytes()).expect("mutated recording")
}

#[test]
fn a_request_the_recording_does_not_have_fails_the_replay() {
    let recording = load("cpp-KeyVaultCertificateClientTest.CreateCertificate");
    let used = replay_recording(&recording).expect("replays");
    assert_eq!(used.iter().filter(|u| **u == Used::CreatePoller).count(), 1, "{used:?}");
    assert!(used.contains(&Used::DeletePoller), "{used:?}");
    // The test fetched another certificate after polling: the create poller's final GET no
    // longer matches.
    let mutated = mutate(&recording, |json| {
        for entry in json["Entries"].as_array_mut().expect("entries") {
            let uri = entry["RequestUri"].as_str().unwrap_or_default().to_owned();
            if entry["RequestMethod"] == "GET" && uri.contains("/certificates/CreateCertificate?") {
                entry["RequestUri"] =
                    Value::String(uri.replace("/certificates/CreateCertificate?", "/certificates/Other?"));
            }
        }
    });
    // The poller cannot replay it any more; only single exchanges can.
    let used = replay_recording(&mutated).expect("single exchanges replay it");
    assert!(!used.contains(&Used::CreatePoller), "{used:?}");
}

#[test]
fn a_challenge_for_another_resource_sends_no_token() {
    let recording = load("net-VerifyDeleteRecoverPurge");
    let used = replay_recording(&recording).expect("replays");
    // This recorder did not record deletion polls, so only the creation runs as a poller.
    assert_eq!(used.first(), Some(&Used::CreatePoller), "{used:?}");
    let mutated = mutate(&recording, |json| {
        let entry = &mut json["Entries"][0];
        let headers = entry["ResponseHeaders"].as_object_mut().expect("headers");
        let key = headers.keys().find(|k| k.eq_ignore_ascii_case("www-authenticate")).cloned().expect("challenge");
        headers[&key] = Value::String(
            "Bearer authorization=\"https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47\", resource=\"https://vault.evil.example\"".into(),
        );
    });
    let problems = replay_recording(&mutated).expect_err("must not replay");
    assert!(problems.iter().any(|p| p.contains("not a subdomain")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("asked 0 times")), "{problems:?}");
}
