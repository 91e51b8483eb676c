//! Dropping a future cancels its call cleanly: no stuck single-flight state, no leaked
//! connection, and pagers and pollers pick up where they were.

#![cfg(feature = "tokio")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kvcerts_core::auth::{AccessToken, TokenRequest};
use kvcerts_core::models::CertificatePolicy;
use kvcerts_core::ErrorKind;
use kvcerts_emulator::{Emulator, FaultConfig};
use kvcerts_hyper::{BoxFuture, CertificateClient, Error, StaticTokenCredential, TokenCredential};
use tokio::time::timeout;

/// Slow to answer (the first call slower), counting its calls.
struct SlowCredential {
    calls: AtomicUsize,
    first_delay: Duration,
}

impl TokenCredential for SlowCredential {
    fn get_token<'a>(&'a self, _request: &'a TokenRequest) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let delay = if n == 0 { self.first_delay } else { Duration::from_millis(10) };
            tokio::time::sleep(delay).await;
            Ok(AccessToken::new("slow-token", time::OffsetDateTime::now_utc() + time::Duration::hours(1)))
        })
    }
}

fn builder(emulator: &Emulator, credential: Arc<dyn TokenCredential>) -> kvcerts_hyper::ClientBuilder {
    CertificateClient::builder(emulator.vault_url(), credential)
        .add_root_certificate_pem(emulator.ca_pem().unwrap().as_bytes().to_vec())
        .verify_challenge_resource(false)
        .poll_interval(Duration::from_millis(20))
}

async fn create(client: &CertificateClient, name: &str) {
    client
        .begin_create_certificate(name, &CertificatePolicy::new("Self", format!("CN={name}")), &Default::default())
        .unwrap()
        .wait_for_certificate()
        .await
        .unwrap();
}

#[tokio::test]
async fn dropping_a_call_that_owns_the_token_fetch_releases_it() {
    let emulator = Emulator::builder().start().expect("emulator");
    create(&builder(&emulator, Arc::new(StaticTokenCredential::new("setup"))).build().unwrap(), "c").await;
    emulator.reset_stats();

    let credential = Arc::new(SlowCredential { calls: AtomicUsize::new(0), first_delay: Duration::from_secs(30) });
    let client = builder(&emulator, credential.clone()).build().unwrap();
    // The first call probes, then owns the token fetch, which hangs: give up on it.
    assert!(timeout(Duration::from_millis(500), client.get_certificate("c")).await.is_err());
    assert_eq!(credential.calls.load(Ordering::SeqCst), 1, "the dropped call was fetching the token");

    // The next call does not wait for the abandoned fetch (the session's 60 s takeover): the
    // dropped flow released it.
    let started = Instant::now();
    let certificate = timeout(Duration::from_secs(5), client.get_certificate("c")).await.expect("not stuck");
    assert_eq!(certificate.unwrap().name().as_deref(), Some("c"));
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert_eq!(credential.calls.load(Ordering::SeqCst), 2);
    assert_eq!(emulator.stats().challenges, 1, "the challenge learnt by the dropped call is kept");
}

#[tokio::test]
async fn dropping_a_call_that_owns_the_challenge_probe_releases_it() {
    let emulator = Emulator::builder().start().expect("emulator");
    create(&builder(&emulator, Arc::new(StaticTokenCredential::new("setup"))).build().unwrap(), "c").await;
    // Every response (the 401 probe included) takes 400 ms.
    emulator.faults().set(FaultConfig { delay_ms: Some(400), ..Default::default() });
    let client = builder(&emulator, Arc::new(StaticTokenCredential::new("t"))).build().unwrap();
    assert!(timeout(Duration::from_millis(100), client.get_certificate("c")).await.is_err());
    emulator.faults().set(FaultConfig::default());

    let started = Instant::now();
    let certificate = timeout(Duration::from_secs(5), client.get_certificate("c")).await.expect("not stuck");
    assert!(certificate.is_ok());
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[cfg(target_os = "linux")]
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

#[tokio::test]
async fn cancelled_requests_leak_no_connection() {
    let emulator = Emulator::builder().start().expect("emulator");
    let client = builder(&emulator, Arc::new(StaticTokenCredential::new("t"))).build().unwrap();
    create(&client, "c").await;
    client.get_certificate("c").await.unwrap();
    #[cfg(target_os = "linux")]
    let before = open_fds();

    emulator.faults().set(FaultConfig { delay_ms: Some(300), ..Default::default() });
    for _ in 0..20 {
        assert!(timeout(Duration::from_millis(30), client.get_certificate("c")).await.is_err());
    }
    emulator.faults().set(FaultConfig::default());
    for _ in 0..5 {
        client.get_certificate("c").await.expect("the client still works");
    }
    // Let the server finish the delayed answers to the cancelled requests.
    tokio::time::sleep(Duration::from_millis(500)).await;
    #[cfg(target_os = "linux")]
    {
        let after = open_fds();
        assert!(after <= before + 2, "file descriptors grew from {before} to {after}");
    }
    let stats = emulator.stats();
    assert!(stats.connections <= 3, "cancelled HTTP/2 streams do not cost connections: {stats:?}");
}

#[tokio::test]
async fn a_pager_resumes_the_page_request_a_dropped_next_left() {
    let emulator = Emulator::builder().start().expect("emulator");
    let client = builder(&emulator, Arc::new(StaticTokenCredential::new("t"))).build().unwrap();
    for name in ["a", "b", "c"] {
        create(&client, name).await;
    }
    let options = kvcerts_core::ListOptions { max_page_size: Some(1), ..Default::default() };
    let mut pager = client.list_properties_of_certificates(&options).unwrap();
    assert!(pager.next().await.unwrap().is_ok());
    emulator.faults().set(FaultConfig { delay_ms: Some(300), ..Default::default() });
    assert!(timeout(Duration::from_millis(50), pager.next()).await.is_err());
    emulator.faults().set(FaultConfig::default());
    let mut rest = Vec::new();
    while let Some(item) = pager.next().await {
        rest.push(item.unwrap().name().unwrap());
    }
    assert_eq!(rest.len(), 2, "no page lost or repeated: {rest:?}");
    assert_eq!(pager.pages(), 3);
}

#[tokio::test]
async fn a_poller_goes_on_after_a_dropped_poll() {
    let emulator = Emulator::builder().create_delay(Duration::from_millis(300)).start().expect("emulator");
    let client = builder(&emulator, Arc::new(StaticTokenCredential::new("t"))).build().unwrap();
    let mut poller =
        client.begin_create_certificate("p", &CertificatePolicy::new("Self", "CN=p"), &Default::default()).unwrap();
    assert!(poller.poll().await.is_none(), "created, still in progress");
    emulator.faults().set(FaultConfig { delay_ms: Some(300), ..Default::default() });
    assert!(timeout(Duration::from_millis(50), poller.poll()).await.is_err(), "a poll dropped mid-flight");
    emulator.faults().set(FaultConfig::default());
    let certificate = poller.wait_for_certificate().await.unwrap();
    assert_eq!(certificate.name().as_deref(), Some("p"));
    assert_eq!(emulator.stats().count("CreateCertificate", 202), 1, "the create was sent once");
}

#[tokio::test]
async fn responses_over_the_size_limit_are_refused() {
    let emulator = Emulator::builder().start().expect("emulator");
    let setup = builder(&emulator, Arc::new(StaticTokenCredential::new("t"))).build().unwrap();
    create(&setup, "big").await;
    let client = builder(&emulator, Arc::new(StaticTokenCredential::new("t"))).max_response_size(200).build().unwrap();
    let error = client.get_certificate("big").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(error.to_string().contains("max_response_size"), "{error}");
}

#[tokio::test]
async fn tls_failures_are_not_retried() {
    let emulator = Emulator::builder().start().expect("emulator");
    // The emulator's CA is not trusted.
    let client = CertificateClient::builder(emulator.vault_url(), Arc::new(StaticTokenCredential::new("t")))
        .verify_challenge_resource(false)
        .build()
        .unwrap();
    let error = client.get_certificate("c").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(error.to_string().contains("tls"), "{error}");
    let stats = emulator.stats();
    assert_eq!(stats.total_requests, 0);
    assert_eq!(stats.connections, 1, "a TLS failure is not retried: {stats:?}");
}
