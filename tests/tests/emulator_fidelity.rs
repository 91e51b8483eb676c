//! Emulator fidelity: the scenario of every recording in `KVCERTS_RECORDINGS` (default
//! `../shared/recordings`) replayed against a fresh `kvcerts-emulator`, one per recording,
//! started in-process over HTTPS with small create/delete/recover delays.
//!
//! The replay sends the same operations in the same order to the emulator's URL instead of the
//! recorded host, with the recorded names, the recorded query (api-version included), the
//! emulator's versions in place of the recorded ones ([`VersionMap`]) and the emulator's
//! `nextLink`s in place of the recorded ones, and a fixed bearer token (challenge probes go
//! without `Authorization`, as recorded). Request bodies are the recorded ones, or, where the
//! recorder did not capture them, rebuilt by the core from what the service answered
//! ([`kvcerts_tests::rebuild`]).
//!
//! Each answer must have the recorded status code, the same JSON field names as the real
//! service's answer ([`kvcerts_tests::keypaths`]: every key path, arrays merged), and the
//! [`PROTOCOL_HEADERS`] exactly when the recorded answer has them; a challenge's
//! `WWW-Authenticate` must have the recorded parameters. Set `KVCERTS_FIDELITY_VERBOSE=1` to see
//! one line per entry.
//!
//! Prints `emulator fidelity: N files, E entries, F mismatched` and fails when F > 0 (or N = 0).
//!
//! # Tolerances
//!
//! The real service and the emulator take different times to finish work, so:
//!
//! 1. **Fewer polling rounds.** In a run of identical recorded GETs (a polling sequence: `…/pending`
//!    until the operation leaves `inProgress`, `/deletedcertificates/{name}` until it stops
//!    answering 404, `/certificates/{name}` after a recover), when the emulator already answers
//!    what a *later* entry of the run recorded, that later entry is the one compared and the
//!    rounds in between are counted as "polling rounds the emulator did not need".
//! 2. **More polling rounds.** When the emulator answers what an *earlier* entry of the run
//!    recorded, the request is repeated (every [`RETRY_PAUSE`], for at most [`RETRY_BUDGET`])
//!    until it answers the recorded state.
//! 3. **Waits the recorder did not capture.** The .NET tests wait for deletions and recoveries
//!    outside the recording, so a recorded success can follow a delete or recover directly. When
//!    the emulator answers 404 or 409 where the recording has a 2xx, and the certificate was
//!    deleted, recovered, purged or restored earlier in the scenario, the request (which had no
//!    effect) is repeated as in 2. Likewise a `GET …/pending` still `inProgress` where the
//!    recording has a finished operation.
//! 4. **Material that must fit the emulator.** A recorded merge sends a chain certifying the real
//!    service's key, and a recorded restore a blob sealed by the real service: the merge sends a
//!    chain signed (by a local test CA) for the emulator's CSR instead, the restore the backup the
//!    emulator gave earlier in the scenario. An import whose body was not captured imports a
//!    certificate made locally per the policy the service echoed.
//! 5. **Create delay.** A scenario that cancels a certificate operation needs the operation to
//!    still be in progress when the cancel arrives: its emulator gets a 1 s create delay instead
//!    of 100 ms.
//!
//! [`IGNORED_PATHS`] is where JSON fields exempt from the comparison would be listed, each with
//! the input the replay cannot reproduce; it is empty: every field is compared.
//!
//! An entry whose request cannot be reproduced at all is counted and printed as skipped with the
//! reason, separately from mismatches: a body [`plan_body`] cannot rebuild (e.g. a merge before
//! the emulator gave a CSR, a restore before it gave a backup), or the next page of a list whose
//! real vault held more objects than the scenario created. None of the shipped recordings has
//! such an entry.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, Method, StatusCode};
use kvcerts_core::models::encoding::decode_base64;
use kvcerts_core::models::CertificatePolicy;
use kvcerts_core::{ApiVersion, Operation, Vault, VaultOptions};
use kvcerts_emulator::Emulator;
use kvcerts_tests::entry_request::query_value;
use kvcerts_tests::keypaths;
use kvcerts_tests::rebuild::{plan_body, BodySource, Supplies};
use kvcerts_tests::recording::{recordings_dir, Entry, RecordedBody, Recording};
use kvcerts_tests::replay::{poll_run, PollState, VersionMap};
use serde_json::Value;

/// The bearer token sent with every authenticated request (the emulator accepts any).
const TOKEN: &str = "kvcerts-fidelity-token";
/// How long a `Self`-issued create stays in progress in the emulator.
const CREATE_DELAY: Duration = Duration::from_millis(100);
/// The create delay for scenarios that cancel an operation (tolerance 5).
const CANCEL_CREATE_DELAY: Duration = Duration::from_secs(1);
/// How long a deleted certificate stays invisible under `/deletedcertificates`, and a recovered
/// one under `/certificates`.
const SOFT_DELETE_DELAY: Duration = Duration::from_millis(100);
/// Pause between repeats of a request while the emulator catches up (tolerances 2 and 3).
const RETRY_PAUSE: Duration = Duration::from_millis(20);
/// The longest one entry may be repeated while the emulator catches up.
const RETRY_BUDGET: Duration = Duration::from_secs(5);

/// Set to print one line per replayed entry (what was sent, how it was answered).
const VERBOSE_ENV: &str = "KVCERTS_FIDELITY_VERBOSE";

/// Response headers clients act on; an answer must have each exactly when the recorded one
/// does (the values differ by nature: URLs, seconds).
const PROTOCOL_HEADERS: &[&str] = &["location", "retry-after", "www-authenticate", "content-type"];

/// JSON field paths left out of the comparison, with why: differences that follow from inputs
/// the replay cannot reproduce. Empty: every field is compared.
const IGNORED_PATHS: &[(&str, &str)] = &[];

/// Replays every recording; see the module documentation.
#[test]
fn every_recorded_scenario_replays_on_the_emulator() {
    let started = Instant::now();
    let dir = recordings_dir();
    let recordings = Recording::load_dir(&dir).unwrap_or_else(|e| panic!("cannot read recordings in {dir:?}: {e}"));
    let mut total = Report::default();
    for recording in &recordings {
        let report = replay(recording);
        total.merge(report);
    }
    for line in &total.mismatches {
        eprintln!("MISMATCH {line}");
    }
    for line in &total.skipped {
        eprintln!("SKIPPED {line}");
    }
    println!(
        "emulator fidelity: {} files, {} entries, {} mismatched",
        recordings.len(),
        total.entries,
        total.mismatched_entries
    );
    println!(
        "  {} skipped (not reproducible), {} polling rounds the emulator did not need, {} requests repeated \
         while the emulator caught up, {} identity-endpoint entries not replayed; request bodies: {} recorded, \
         {} rebuilt, {} with replaced material; {:.1?}",
        total.skipped.len(),
        total.absorbed,
        total.repeated,
        total.identity,
        total.recorded_bodies,
        total.rebuilt_bodies,
        total.replaced_bodies,
        started.elapsed()
    );
    assert!(!recordings.is_empty(), "no recordings in {dir:?}");
    assert_eq!(total.mismatched_entries, 0, "{} entries do not match the recordings", total.mismatched_entries);
}

/// What replaying recordings found.
#[derive(Debug, Default)]
struct Report {
    /// Vault entries replayed or accounted for (absorbed polling rounds and skips included).
    entries: usize,
    /// Entries whose answer differed.
    mismatched_entries: usize,
    /// One line per difference: file, entry, request, what differs.
    mismatches: Vec<String>,
    /// One line per entry that could not be reproduced, with why.
    skipped: Vec<String>,
    /// Recorded polling rounds the emulator did not need (tolerance 1).
    absorbed: usize,
    /// Requests repeated while the emulator caught up (tolerances 2 and 3).
    repeated: usize,
    /// Entries addressed to identity endpoints, not to the vault.
    identity: usize,
    /// Bodies sent as recorded.
    recorded_bodies: usize,
    /// Bodies rebuilt from the answers.
    rebuilt_bodies: usize,
    /// Recorded bodies with replaced material (tolerance 4).
    replaced_bodies: usize,
}

impl Report {
    /// Adds another recording's findings to these.
    fn merge(&mut self, other: Report) {
        self.entries += other.entries;
        self.mismatched_entries += other.mismatched_entries;
        self.mismatches.extend(other.mismatches);
        self.skipped.extend(other.skipped);
        self.absorbed += other.absorbed;
        self.repeated += other.repeated;
        self.identity += other.identity;
        self.recorded_bodies += other.recorded_bodies;
        self.rebuilt_bodies += other.rebuilt_bodies;
        self.replaced_bodies += other.replaced_bodies;
    }
}

/// Replays one recording against its own emulator.
fn replay(recording: &Recording) -> Report {
    let mut report =
        Report { identity: recording.entries.len() - recording.vault_entries().count(), ..Default::default() };
    let cancels = recording
        .vault_entries()
        .any(|e| matches!(Operation::identify(&e.method, e.path()), Some((Operation::CancelCertificateOperation, _))));
    let emulator = Emulator::builder()
        .tls(true)
        .create_delay(if cancels { CANCEL_CREATE_DELAY } else { CREATE_DELAY })
        .delete_delay(SOFT_DELETE_DELAY)
        .recover_delay(SOFT_DELETE_DELAY)
        .start()
        .unwrap_or_else(|e| panic!("the emulator does not start: {e}"));
    let mut scenario = Scenario {
        file: recording.name.clone(),
        entries: recording.vault_entries().collect(),
        client: Client::new(&emulator),
        versions: VersionMap::new(),
        supplies: EmulatorSupplies::default(),
        next_links: HashMap::new(),
        touched: HashSet::new(),
        report: &mut report,
    };
    scenario.run();
    emulator.shutdown();
    report
}

/// The replay of one recording.
struct Scenario<'r> {
    /// The recording's name, for messages.
    file: String,
    /// Its vault entries, in order.
    entries: Vec<&'r Entry>,
    /// The emulator.
    client: Client,
    /// Recorded → emulator certificate versions.
    versions: VersionMap,
    /// CSRs and backups the emulator gave, and the import/merge material made from them.
    supplies: EmulatorSupplies,
    /// Recorded `nextLink` → the emulator's `nextLink` at the same point of the scenario.
    next_links: HashMap<String, String>,
    /// Certificates (lower-case) deleted, recovered, purged or restored so far (tolerance 3).
    touched: HashSet<String>,
    /// Where the findings go.
    report: &'r mut Report,
}

impl Scenario<'_> {
    /// Replays every vault entry, in order.
    fn run(&mut self) {
        let mut index = 0;
        while index < self.entries.len() {
            index = self.replay_entry(index) + 1;
        }
    }

    /// `file #index METHOD path`, for messages.
    fn describe(&self, index: usize) -> String {
        let entry = self.entries[index];
        format!("{} #{} {} {}", self.file, entry.index, entry.method, entry.path())
    }

    /// Records the problems found with the entry at `index` (nothing when there are none).
    fn mismatch(&mut self, index: usize, problems: Vec<String>) {
        if problems.is_empty() {
            return;
        }
        self.report.mismatched_entries += 1;
        let at = self.describe(index);
        self.report.mismatches.extend(problems.into_iter().map(|p| format!("{at}: {p}")));
    }

    /// Replays the entry at `index`; returns the index of the last entry it accounts for (a
    /// later one when polling rounds were absorbed).
    fn replay_entry(&mut self, index: usize) -> usize {
        let entry = self.entries[index];
        self.report.entries += 1;
        if entry.is_challenge() {
            let (answer, problems) = self.challenge(index);
            self.trace(index, "challenge probe without Authorization", answer.as_ref(), &problems);
            self.mismatch(index, problems);
            return index;
        }
        let Some((operation, params)) = Operation::identify(&entry.method, entry.path()) else {
            self.mismatch(index, vec!["no operation has this method and path".into()]);
            return index;
        };
        if entry.query_pairs().iter().any(|(k, _)| k == "$skiptoken")
            && !self.next_links.contains_key(&entry.uri.to_string())
        {
            // The recorded vault held more than the scenario created (other tests' objects).
            self.skip(index, "a next page the emulator's list does not have (the real vault held more items)".into());
            return index;
        }
        let vault = match self.core_vault(entry) {
            Ok(vault) => vault,
            Err(e) => {
                self.mismatch(index, vec![e]);
                return index;
            }
        };
        let planned =
            match plan_body(&self.entries, index, operation, &params, &vault, &self.versions, &mut self.supplies) {
                Ok(planned) => planned,
                Err(why) => {
                    self.skip(index, why);
                    return index;
                }
            };
        match planned.source {
            BodySource::Recorded => self.report.recorded_bodies += 1,
            BodySource::Rebuilt(_) => self.report.rebuilt_bodies += 1,
            BodySource::Replaced(_) => self.report.replaced_bodies += 1,
            BodySource::None => {}
        }
        let url = self.url_for(entry);
        let name = params.name.as_deref().map(str::to_ascii_lowercase);
        let (answer, matched) = match self.send_until_settled(index, operation, name.as_deref(), &url, planned.body) {
            Ok(result) => result,
            Err(e) => {
                self.mismatch(index, vec![e]);
                return index;
            }
        };
        let absorbed = matched - index;
        self.report.absorbed += absorbed;
        self.report.entries += absorbed;
        let problems = compare(self.entries[matched], &answer, false);
        let how = format!("body {:?}, {absorbed} polling rounds absorbed", planned.source);
        self.trace(matched, &how, Some(&answer), &problems);
        self.mismatch(matched, problems);
        self.learn(self.entries[matched], operation, name.as_deref(), &answer);
        matched
    }

    /// Records that the entry at `index` could not be reproduced, and why.
    fn skip(&mut self, index: usize, why: String) {
        let at = self.describe(index);
        self.report.skipped.push(format!("{at}: not reproducible: {why}"));
    }

    /// With `KVCERTS_FIDELITY_VERBOSE` set, prints one line about a replayed entry.
    fn trace(&self, index: usize, how: &str, answer: Option<&Answer>, problems: &[String]) {
        if std::env::var_os(VERBOSE_ENV).is_none() {
            return;
        }
        let entry = self.entries[index];
        let emulated = answer.map_or_else(
            || "-".to_string(),
            |a| {
                let json = a.json().unwrap_or(Value::Null);
                format!(
                    "{} ({} fields)",
                    PollState::of(entry.path(), a.status, &json),
                    keypaths::key_paths(&json).len()
                )
            },
        );
        let verdict = if problems.is_empty() { "ok" } else { "MISMATCH" };
        eprintln!(
            "{}: recorded {}, emulator {emulated}; {how}: {verdict}",
            self.describe(index),
            PollState::of_entry(entry)
        );
    }

    /// A core [`Vault`] for the emulator with the entry's api-version, to rebuild bodies with.
    fn core_vault(&self, entry: &Entry) -> Result<Vault, String> {
        let api_version = query_value(entry, "api-version").ok_or("the recorded request has no api-version")?;
        let api_version = ApiVersion::new(api_version).map_err(|e| e.to_string())?;
        let options = VaultOptions::default().api_version(api_version).allow_insecure_loopback(true);
        Vault::with_options(&self.client.base, options).map_err(|e| e.to_string())
    }

    /// The emulator URL for a recorded request: the emulator's `nextLink` for a recorded
    /// `nextLink`, else the emulator's origin, the path with versions mapped, the recorded query.
    fn url_for(&self, entry: &Entry) -> String {
        if let Some(link) = self.next_links.get(&entry.uri.to_string()) {
            return link.clone();
        }
        let path = self.versions.rewrite_path(entry.path());
        match entry.uri.query() {
            Some(query) => format!("{}{path}?{query}", self.client.base),
            None => format!("{}{path}", self.client.base),
        }
    }

    /// Sends the request of `entries[index]` until the emulator's answer settles (tolerances 1–3);
    /// returns the answer and the index of the recorded entry to compare it with.
    fn send_until_settled(
        &mut self,
        index: usize,
        operation: Operation,
        name: Option<&str>,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(Answer, usize), String> {
        let entry = self.entries[index];
        let run_end = poll_run(&self.entries, index);
        let run_start = (0..index).rev().take_while(|&k| poll_run(&self.entries, k) >= index).last().unwrap_or(index);
        let expected = PollState::of_entry(entry);
        let deadline = Instant::now() + RETRY_BUDGET;
        loop {
            let answer = self.client.send(&entry.method, url, body.as_deref(), true)?;
            let state = PollState::of(entry.path(), answer.status, &answer.json().unwrap_or(Value::Null));
            if state == expected {
                return Ok((answer, index));
            }
            if let Some(later) = (index + 1..=run_end).find(|&k| PollState::of_entry(self.entries[k]) == state) {
                return Ok((answer, later));
            }
            let earlier_in_run = (run_start..index).any(|k| PollState::of_entry(self.entries[k]) == state);
            let unfinished_operation =
                operation == Operation::GetCertificateOperation && state.in_progress() && !expected.in_progress();
            let soft_delete_pending = matches!(state.status.as_u16(), 404 | 409)
                && expected.status.is_success()
                && match name {
                    Some(name) => self.touched.contains(name),
                    None => !self.touched.is_empty(),
                };
            if (earlier_in_run || unfinished_operation || soft_delete_pending) && Instant::now() < deadline {
                self.report.repeated += 1;
                std::thread::sleep(RETRY_PAUSE);
                continue;
            }
            return Ok((answer, index));
        }
    }

    /// Replays a challenge probe: no `Authorization`, the recorded body; the emulator must
    /// answer 401 with a `WWW-Authenticate` that has the recorded parameters.
    fn challenge(&mut self, index: usize) -> (Option<Answer>, Vec<String>) {
        let entry = self.entries[index];
        let url = self.url_for(entry);
        let body = entry.request_body_bytes().filter(|b| !b.is_empty());
        match self.client.send(&entry.method, &url, body.as_deref(), false) {
            Ok(answer) => {
                let problems = compare(entry, &answer, true);
                (Some(answer), problems)
            }
            Err(e) => (None, vec![e]),
        }
    }

    /// Learns from an answer: versions, CSRs, backups, `nextLink`s, soft-delete transitions.
    fn learn(&mut self, entry: &Entry, operation: Operation, name: Option<&str>, answer: &Answer) {
        let Some(json) = answer.json() else {
            if let Some(name) = name.filter(|_| operation == Operation::PurgeDeletedCertificate) {
                self.touched.insert(name.to_owned());
            }
            return;
        };
        if let RecordedBody::Json(recorded) = &entry.response_body {
            self.versions.learn(recorded, &json);
            let links =
                (recorded.get("nextLink").and_then(Value::as_str), json.get("nextLink").and_then(Value::as_str));
            if let (Some(recorded), Some(emulated)) = links {
                self.next_links.insert(recorded.to_owned(), emulated.to_owned());
            }
        }
        if let (Some(name), Some(csr)) = (name, json.get("csr").and_then(Value::as_str)) {
            if let Ok(der) = decode_base64(csr) {
                self.supplies.csrs.insert(name.to_owned(), der);
            }
        }
        match operation {
            Operation::BackupCertificate if answer.status.is_success() => {
                let blob = json.get("value").and_then(Value::as_str).and_then(|v| decode_base64(v).ok());
                if let (Some(name), Some(blob)) = (name, blob) {
                    self.supplies.backups.push((name.to_owned(), blob));
                }
            }
            Operation::DeleteCertificate
            | Operation::RecoverDeletedCertificate
            | Operation::PurgeDeletedCertificate => {
                if let Some(name) = name {
                    self.touched.insert(name.to_owned());
                }
            }
            Operation::RestoreCertificateBackup => {
                let restored = json.get("id").and_then(Value::as_str).and_then(|id| id.split("/certificates/").nth(1));
                if let Some(restored) = restored.and_then(|rest| rest.split('/').next()) {
                    self.touched.insert(restored.to_ascii_lowercase());
                }
            }
            _ => {}
        }
    }
}

/// Compares the emulator's answer with a recorded one: status, JSON field names (minus
/// [`IGNORED_PATHS`]), and for challenges the `WWW-Authenticate` parameters.
fn compare(entry: &Entry, answer: &Answer, challenge: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if answer.status != entry.status {
        let body = String::from_utf8_lossy(&answer.body);
        problems.push(format!(
            "status: recorded {}, emulator {} ({body:.300})",
            entry.status.as_u16(),
            answer.status.as_u16()
        ));
        return problems;
    }
    for header in PROTOCOL_HEADERS {
        let (recorded, emulated) = (entry.response_headers.contains_key(*header), answer.headers.contains_key(*header));
        if recorded != emulated {
            let (has, lacks) = if recorded { ("recorded", "emulator") } else { ("emulator", "recorded") };
            problems.push(format!("header {header}: the {has} answer has it, the {lacks} one does not"));
        }
    }
    if challenge {
        let params = |headers: &HeaderMap| -> Vec<String> {
            let mut names: Vec<String> = headers
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(',').map(|p| p.trim().trim_start_matches("Bearer").trim().to_owned()))
                .filter_map(|p| p.split_once('=').map(|(k, _)| k.trim().to_ascii_lowercase()))
                .collect();
            names.sort();
            names
        };
        let (recorded, emulated) = (params(&entry.response_headers), params(&answer.headers));
        if recorded != emulated {
            problems.push(format!("WWW-Authenticate parameters: recorded {recorded:?}, emulator {emulated:?}"));
        }
    }
    match (&entry.response_body, answer.json()) {
        (RecordedBody::Json(recorded), Some(emulated)) => {
            let mut diff = keypaths::diff(recorded, &emulated);
            diff.retain_unless(|path| IGNORED_PATHS.iter().any(|(ignored, _)| *ignored == path));
            if !diff.is_empty() {
                problems.push(format!("JSON fields: {diff}"));
            }
        }
        (RecordedBody::Json(_), None) => {
            problems.push(format!("recorded a JSON body, emulator sent {:?}", String::from_utf8_lossy(&answer.body)));
        }
        (RecordedBody::Null | RecordedBody::Absent, _) if !answer.body.is_empty() => {
            problems.push(format!("recorded no body, emulator sent {:.200}", String::from_utf8_lossy(&answer.body)));
        }
        (RecordedBody::Text(_), Some(_)) => problems.push("recorded a text body, emulator sent JSON".into()),
        _ => {}
    }
    problems
}

/// An answer from the emulator, read whole.
#[derive(Debug)]
struct Answer {
    /// The status.
    status: StatusCode,
    /// The headers.
    headers: HeaderMap,
    /// The body bytes.
    body: Vec<u8>,
}

impl Answer {
    /// The body as JSON, when it is JSON.
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A blocking HTTPS client (ureq) that trusts the emulator's CA.
struct Client {
    /// The connection pool, configured to trust the emulator's CA.
    agent: ureq::Agent,
    /// The emulator's vault URL.
    base: String,
}

impl Client {
    /// A client for `emulator` that returns error statuses as answers, not as errors.
    fn new(emulator: &Emulator) -> Client {
        let mut config =
            ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30)));
        if let Some(pem) = emulator.ca_pem() {
            let ca = ureq::tls::Certificate::from_pem(pem.as_bytes()).expect("the emulator's CA is PEM");
            let roots = ureq::tls::RootCerts::new_with_certs(&[ca]);
            config = config.tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build());
        }
        Client { agent: config.build().into(), base: emulator.vault_url().to_string() }
    }

    /// Sends one request; `authorize` adds the bearer token. Transport failures are errors.
    fn send(&self, method: &Method, url: &str, body: Option<&[u8]>, authorize: bool) -> Result<Answer, String> {
        let mut request = ureq::http::Request::builder().method(method.clone()).uri(url);
        if authorize {
            request = request.header("Authorization", format!("Bearer {TOKEN}"));
        }
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request.body(body.unwrap_or_default().to_vec()).map_err(|e| format!("bad request: {e}"))?;
        let mut response = self.agent.run(request).map_err(|e| format!("{method} {url} failed: {e}"))?;
        let body = response.body_mut().read_to_vec().map_err(|e| format!("reading the answer failed: {e}"))?;
        Ok(Answer { status: response.status(), headers: response.headers().clone(), body })
    }
}

/// Material that must fit the emulator's state: CSRs it issued (to sign for merges), backups
/// it gave (to restore), certificates made per an echoed policy (to import).
#[derive(Default)]
struct EmulatorSupplies {
    /// The latest CSR per certificate (lower-case name), DER.
    csrs: HashMap<String, Vec<u8>>,
    /// Backups in the order taken: (lower-case name, blob).
    backups: Vec<(String, Vec<u8>)>,
    /// The local test CA that signs merged certificates: its key and DER certificate.
    ca: Option<(rcgen::CertificateParams, rcgen::KeyPair, Vec<u8>)>,
}

impl EmulatorSupplies {
    /// The local test CA, made on first use.
    fn ca(&mut self) -> Result<&(rcgen::CertificateParams, rcgen::KeyPair, Vec<u8>), String> {
        if self.ca.is_none() {
            let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
            params.distinguished_name.push(rcgen::DnType::CommonName, "kvcerts fidelity merge CA");
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::DigitalSignature];
            let der = params.self_signed(&key).map_err(|e| e.to_string())?.der().to_vec();
            self.ca = Some((params, key, der));
        }
        self.ca.as_ref().ok_or_else(|| "no CA".to_string())
    }
}

impl Supplies for EmulatorSupplies {
    fn import_material(&mut self, _name: &str, policy: &CertificatePolicy) -> Result<Vec<u8>, String> {
        use kvcerts_emulator::x509::{self, KeySpec};
        let policy = serde_json::to_value(policy).map_err(|e| e.to_string())?;
        let kty = policy.pointer("/key_props/kty").and_then(Value::as_str).unwrap_or("RSA");
        let spec = if kty.starts_with("EC") {
            match policy.pointer("/key_props/crv").and_then(Value::as_str) {
                Some("P-384") => KeySpec::P384,
                _ => KeySpec::P256,
            }
        } else {
            KeySpec::Rsa(policy.pointer("/key_props/key_size").and_then(Value::as_u64).unwrap_or(2048) as usize)
        };
        let x509_props: kvcerts_emulator::model::X509Props =
            serde_json::from_value(policy.get("x509_props").cloned().unwrap_or(Value::Null)).unwrap_or_default();
        let key = x509::generate_key(spec)?;
        let certificate = x509::self_signed(&x509_props, &key, spec, time::OffsetDateTime::now_utc())?.der;
        let pem = policy.pointer("/secret_props/contentType").and_then(Value::as_str) == Some("application/x-pem-file");
        if pem {
            Ok(x509::secret_pem(&[certificate], Some(&key)).into_bytes())
        } else {
            x509::secret_pkcs12(&[certificate], Some(&key))
        }
    }

    fn merge_chain(&mut self, name: &str, length: usize) -> Result<Vec<Vec<u8>>, String> {
        let csr = self
            .csrs
            .get(&name.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| format!("the emulator gave no CSR for {name} to sign"))?;
        let csr = rustls::pki_types::CertificateSigningRequestDer::from(csr);
        let request = rcgen::CertificateSigningRequestParams::from_der(&csr)
            .map_err(|e| format!("the emulator's CSR for {name} does not parse: {e}"))?;
        let (params, key, ca_der) = self.ca()?;
        let issuer = rcgen::Issuer::from_params(params, key);
        let leaf = request.signed_by(&issuer).map_err(|e| format!("signing the CSR failed: {e}"))?;
        let mut chain = vec![leaf.der().to_vec(), ca_der.clone()];
        chain.truncate(length.max(1));
        Ok(chain)
    }

    fn backup(&mut self, name: Option<&str>) -> Result<Vec<u8>, String> {
        let found = match name {
            Some(name) => self.backups.iter().rev().find(|(n, _)| n.eq_ignore_ascii_case(name)),
            None => self.backups.last(),
        };
        found.map(|(_, blob)| blob.clone()).ok_or_else(|| "the emulator gave no backup earlier in the scenario".into())
    }
}
