//! End-to-end: each client, over real loopback sockets (HTTP and HTTPS with a test CA), runs the
//! scenario of every recording against a playback server that serves the real exchanges.

use std::sync::Arc;
use std::time::Duration;

use kvcerts_core::flows::{CreateOutcome, PollOptions, RetryOptions};
use kvcerts_core::models::{
    CertificatePolicy, CertificateProperties, DeletedCertificate, DeletedCertificateProperties, IssuerProperties,
    KeyVaultCertificate,
};
use kvcerts_core::{CreateCertificateOptions, Error, ErrorKind, ListOptions, Operation};
use kvcerts_tests::suite::{run_scenario, Inputs, SuiteClient};
use kvcerts_tests::{recordings_dir, PlaybackOptions, PlaybackServer, Recording};
use serde_json::Value;

struct Ureq(kvcerts_ureq::CertificateClient);

impl SuiteClient for Ureq {
    fn create_and_wait(
        &self,
        name: &str,
        policy: &CertificatePolicy,
        options: &CreateCertificateOptions,
    ) -> Result<CreateOutcome, Error> {
        self.0.begin_create_certificate(name, policy, options)?.wait()
    }
    fn create_without_polling(
        &self,
        name: &str,
        policy: &CertificatePolicy,
        options: &CreateCertificateOptions,
    ) -> Result<String, Error> {
        let mut poller = self.0.begin_create_certificate(name, policy, options)?;
        match poller.poll() {
            Some(Err(e)) => Err(e.clone()),
            _ => Ok(poller.continuation_token()),
        }
    }
    fn resume_create_and_wait(&self, continuation_token: &str) -> Result<CreateOutcome, Error> {
        self.0.resume_create_certificate(continuation_token)?.wait()
    }
    fn delete(&self, name: &str, wait: bool) -> Result<Option<DeletedCertificate>, Error> {
        let mut poller = self.0.begin_delete_certificate(name)?;
        if wait {
            return poller.wait().map(Some);
        }
        match poller.poll() {
            Some(Err(e)) => Err(e.clone()),
            _ => Ok(poller.result().cloned()),
        }
    }
    fn recover(&self, name: &str, wait: bool) -> Result<Option<KeyVaultCertificate>, Error> {
        let mut poller = self.0.begin_recover_deleted_certificate(name)?;
        if wait {
            return poller.wait().map(Some);
        }
        match poller.poll() {
            Some(Err(e)) => Err(e.clone()),
            _ => Ok(poller.result().cloned()),
        }
    }
    fn list_certificates(&self, options: &ListOptions) -> Result<Vec<CertificateProperties>, Error> {
        self.0.list_properties_of_certificates(options)?.collect()
    }
    fn list_versions(&self, name: &str, options: &ListOptions) -> Result<Vec<CertificateProperties>, Error> {
        self.0.list_properties_of_certificate_versions(name, options)?.collect()
    }
    fn list_deleted(&self, options: &ListOptions) -> Result<Vec<DeletedCertificateProperties>, Error> {
        self.0.list_deleted_certificates(options)?.collect()
    }
    fn list_issuers(&self, options: &ListOptions) -> Result<Vec<IssuerProperties>, Error> {
        self.0.list_properties_of_issuers(options)?.collect()
    }
    fn exchange(&self, operation: Operation, inputs: &Inputs) -> Result<Value, Error> {
        kvcerts_tests::suite_exchange!(&self.0, operation, inputs, [])
    }
}

fn ureq_client(server: &PlaybackServer) -> Ureq {
    let mut builder = kvcerts_ureq::CertificateClient::builder(
        server.url(),
        Arc::new(kvcerts_ureq::StaticTokenCredential::new("playback-token")),
    )
    .api_version(api_version(server.recording()))
    .verify_challenge_resource(false)
    .allow_insecure_loopback(true)
    // Recorded answers ask for `Retry-After: 10`; in playback every wait is capped at 1 ms.
    .create_polling(PollOptions::create().interval(Duration::from_millis(1)).max_interval(Duration::from_millis(1)))
    .delete_recover_polling(
        PollOptions::delete_recover().interval(Duration::from_millis(1)).max_interval(Duration::from_millis(1)),
    )
    .retry(RetryOptions::default());
    if let Some(ca) = server.ca_pem() {
        builder = builder.add_root_certificate_pem(ca.into_bytes()).replace_root_certificates(true);
    }
    Ureq(builder.build().expect("client"))
}

/// The api-version the recording was made with.
fn api_version(recording: &Recording) -> kvcerts_core::ApiVersion {
    recording
        .vault_entries()
        .find_map(|e| e.query_pairs().into_iter().find(|(k, _)| k == "api-version").map(|(_, v)| v))
        .and_then(|v| kvcerts_core::ApiVersion::new(v).ok())
        .unwrap_or_default()
}

/// Runs every recording's scenario over `tls`; the failures.
fn run_all(tls: bool, make: impl Fn(&PlaybackServer) -> Box<dyn SuiteClient>) -> (usize, Vec<String>) {
    let recordings = Recording::load_dir(recordings_dir()).expect("recordings");
    let mut failures = Vec::new();
    for recording in &recordings {
        let name = recording.name.clone();
        let server =
            PlaybackServer::start(recording.clone(), PlaybackOptions { tls, serve_challenge: true }).expect("server");
        let client = make(&server);
        for problem in run_scenario(client.as_ref(), recording) {
            failures.push(format!("{name}: {problem}"));
        }
        for mismatch in server.mismatches() {
            failures.push(format!("{name}: server: {mismatch}"));
        }
        if !server.is_exhausted() {
            failures.push(format!("{name}: the scenario stopped before the recording's end"));
        }
    }
    (recordings.len(), failures)
}

fn assert_all(label: &str, (files, failures): (usize, Vec<String>)) {
    for f in &failures {
        eprintln!("FAILED {f}");
    }
    println!("e2e {label}: {files} files, {} failed", failures.len());
    assert!(files > 0);
    assert!(failures.is_empty(), "{} failures", failures.len());
}

#[test]
fn ureq_over_https_replays_every_recording() {
    assert_all("ureq https", run_all(true, |s| Box::new(ureq_client(s))));
}

#[test]
fn ureq_over_http_replays_every_recording() {
    assert_all("ureq http", run_all(false, |s| Box::new(ureq_client(s))));
}

#[test]
fn typed_errors_surface_from_the_service() {
    let recording = Recording::named("cpp-KeyVaultCertificateClientTest.DeleteWrongCertificate").expect("recording");
    let server =
        PlaybackServer::start(recording, PlaybackOptions { tls: true, serve_challenge: true }).expect("server");
    let client = ureq_client(&server);
    let err = client.0.begin_delete_certificate("DeleteWrongCertificate").unwrap().wait().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.code(), Some("CertificateNotFound"));
    assert!(err.request_id().is_some());
    assert!(err.to_string().contains("certificates/delete") || err.status() == Some(http::StatusCode::NOT_FOUND));
}
