//! End-to-end: each client, over real loopback sockets (HTTP and HTTPS with a test CA), runs the
//! scenario of every recording against a playback server that serves the real exchanges.

use std::sync::Arc;
use std::time::Duration;

use kvcerts_core::flows::{CreateOutcome, PollOptions};
use kvcerts_core::models::{
    CertificatePolicy, CertificateProperties, DeletedCertificate, DeletedCertificateProperties, IssuerProperties,
    KeyVaultCertificate,
};
use kvcerts_core::{CreateCertificateOptions, Error, ErrorKind, ListOptions, Operation};
use kvcerts_tests::suite::{run_scenario, Inputs, SuiteClient};
use kvcerts_tests::{recordings_dir, PlaybackOptions, PlaybackServer, Recording};
use serde_json::Value;

struct Ureq(kvcerts_ureq::CertificateClient);

impl Ureq {
    /// Runs a block of blocking calls (written as an `async` block so the suite is written once).
    fn run<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        futures_lite::future::block_on(f)
    }
}

struct Hyper(kvcerts_hyper::CertificateClient, tokio::runtime::Runtime);

impl Hyper {
    fn run<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.1.block_on(f)
    }
}

/// The suite's operations for a client type; `[.await]` for the async client. Both clients have
/// the same method names, so this is written once.
macro_rules! suite_client {
    ($ty:ident, [$($aw:tt)*]) => {
        impl SuiteClient for $ty {
            fn create_and_wait(
                &self,
                name: &str,
                policy: &CertificatePolicy,
                options: &CreateCertificateOptions,
            ) -> Result<CreateOutcome, Error> {
                let c = &self.0;
                self.run(async move { c.begin_create_certificate(name, policy, options)?.wait()$($aw)* })
            }
            fn create_without_polling(
                &self,
                name: &str,
                policy: &CertificatePolicy,
                options: &CreateCertificateOptions,
            ) -> Result<String, Error> {
                let c = &self.0;
                self.run(async move {
                    let mut poller = c.begin_create_certificate(name, policy, options)?;
                    match poller.poll()$($aw)* {
                        Some(Err(e)) => Err(e.clone()),
                        _ => Ok(poller.continuation_token()),
                    }
                })
            }
            fn resume_create_and_wait(&self, continuation_token: &str) -> Result<CreateOutcome, Error> {
                let c = &self.0;
                self.run(async move { c.resume_create_certificate(continuation_token)?.wait()$($aw)* })
            }
            fn delete(&self, name: &str, wait: bool) -> Result<Option<DeletedCertificate>, Error> {
                let c = &self.0;
                self.run(async move {
                    let mut poller = c.begin_delete_certificate(name)?;
                    if wait {
                        return poller.wait()$($aw)*.map(Some);
                    }
                    match poller.poll()$($aw)* {
                        Some(Err(e)) => Err(e.clone()),
                        _ => Ok(poller.result().cloned()),
                    }
                })
            }
            fn recover(&self, name: &str, wait: bool) -> Result<Option<KeyVaultCertificate>, Error> {
                let c = &self.0;
                self.run(async move {
                    let mut poller = c.begin_recover_deleted_certificate(name)?;
                    if wait {
                        return poller.wait()$($aw)*.map(Some);
                    }
                    match poller.poll()$($aw)* {
                        Some(Err(e)) => Err(e.clone()),
                        _ => Ok(poller.result().cloned()),
                    }
                })
            }
            fn list_certificates(&self, options: &ListOptions) -> Result<Vec<CertificateProperties>, Error> {
                let c = &self.0;
                self.run(async move {
                    let mut pager = c.list_properties_of_certificates(options)?;
                    let mut items = Vec::new();
                    while let Some(item) = pager.next()$($aw)* {
                        items.push(item?);
                    }
                    Ok(items)
                })
            }
            fn list_versions(&self, name: &str, options: &ListOptions) -> Result<Vec<CertificateProperties>, Error> {
                let c = &self.0;
                self.run(async move {
                    let mut pager = c.list_properties_of_certificate_versions(name, options)?;
                    let mut items = Vec::new();
                    while let Some(item) = pager.next()$($aw)* {
                        items.push(item?);
                    }
                    Ok(items)
                })
            }
            fn list_deleted(&self, options: &ListOptions) -> Result<Vec<DeletedCertificateProperties>, Error> {
                let c = &self.0;
                self.run(async move {
                    let mut pager = c.list_deleted_certificates(options)?;
                    let mut items = Vec::new();
                    while let Some(item) = pager.next()$($aw)* {
                        items.push(item?);
                    }
                    Ok(items)
                })
            }
            fn list_issuers(&self, options: &ListOptions) -> Result<Vec<IssuerProperties>, Error> {
                let c = &self.0;
                self.run(async move {
                    let mut pager = c.list_properties_of_issuers(options)?;
                    let mut items = Vec::new();
                    while let Some(item) = pager.next()$($aw)* {
                        items.push(item?);
                    }
                    Ok(items)
                })
            }
            fn exchange(&self, operation: Operation, inputs: &Inputs) -> Result<Value, Error> {
                let c = &self.0;
                self.run(async move { kvcerts_tests::suite_exchange!(c, operation, inputs, [$($aw)*]) })
            }
        }
    };
}

suite_client!(Ureq, []);
suite_client!(Hyper, [.await]);

/// Polling waits capped at 1 ms: recorded answers ask for `Retry-After: 10`.
fn fast_polling() -> (PollOptions, PollOptions) {
    let ms = Duration::from_millis(1);
    (PollOptions::create().interval(ms).max_interval(ms), PollOptions::delete_recover().interval(ms).max_interval(ms))
}

fn hyper_client(server: &PlaybackServer) -> Hyper {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (create, delete) = fast_polling();
    let client = runtime.block_on(async {
        let mut builder = kvcerts_hyper::CertificateClient::builder(
            server.url(),
            Arc::new(kvcerts_hyper::StaticTokenCredential::new("playback-token")),
        )
        .api_version(api_version(server.recording()))
        .verify_challenge_resource(false)
        .allow_insecure_loopback(true)
        .create_polling(create)
        .delete_recover_polling(delete);
        if let Some(ca) = server.ca_pem() {
            builder = builder.add_root_certificate_pem(ca.into_bytes()).replace_root_certificates(true);
        }
        builder.build().expect("client")
    });
    Hyper(client, runtime)
}

fn ureq_client(server: &PlaybackServer) -> Ureq {
    let mut builder = kvcerts_ureq::CertificateClient::builder(
        server.url(),
        Arc::new(kvcerts_ureq::StaticTokenCredential::new("playback-token")),
    )
    .api_version(api_version(server.recording()))
    .verify_challenge_resource(false)
    .allow_insecure_loopback(true)
    .create_polling(fast_polling().0)
    .delete_recover_polling(fast_polling().1);
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
        let server = PlaybackServer::start(
            recording.clone(),
            PlaybackOptions { tls, serve_challenge: true, ..Default::default() },
        )
        .expect("server");
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
fn hyper_over_https_replays_every_recording() {
    assert_all("hyper https", run_all(true, |s| Box::new(hyper_client(s))));
}

#[test]
fn hyper_over_http_replays_every_recording() {
    assert_all("hyper http", run_all(false, |s| Box::new(hyper_client(s))));
}

#[test]
fn typed_errors_surface_from_the_service() {
    let recording = Recording::named("cpp-KeyVaultCertificateClientTest.DeleteWrongCertificate").expect("recording");
    let server =
        PlaybackServer::start(recording, PlaybackOptions { tls: true, serve_challenge: true, ..Default::default() })
            .expect("server");
    let client = ureq_client(&server);
    let err = client.0.begin_delete_certificate("DeleteWrongCertificate").unwrap().wait().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.code(), Some("CertificateNotFound"));
    assert!(err.request_id().is_some());
    assert!(err.to_string().contains("certificates/delete") || err.status() == Some(http::StatusCode::NOT_FOUND));
}
