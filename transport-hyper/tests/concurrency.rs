//! Many calls in flight on one client share its connection pool, its challenge and its token.

#![cfg(feature = "tokio")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kvcerts_core::auth::{AccessToken, TokenRequest};
use kvcerts_core::models::CertificatePolicy;
use kvcerts_emulator::Emulator;
use kvcerts_hyper::{BoxFuture, CertificateClient, Error, StaticTokenCredential, TokenCredential};

/// Counts the token requests and takes a while to answer, like a real identity endpoint.
#[derive(Default)]
struct CountingCredential {
    calls: AtomicUsize,
}

impl TokenCredential for CountingCredential {
    fn get_token<'a>(&'a self, _request: &'a TokenRequest) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(AccessToken::new("counted-token", time::OffsetDateTime::now_utc() + time::Duration::hours(1)))
        })
    }
}

fn builder(emulator: &Emulator, credential: Arc<dyn TokenCredential>) -> kvcerts_hyper::ClientBuilder {
    CertificateClient::builder(emulator.vault_url(), credential)
        .add_root_certificate_pem(emulator.ca_pem().unwrap().as_bytes().to_vec())
        .verify_challenge_resource(false)
        .poll_interval(Duration::from_millis(20))
}

#[test]
fn client_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<CertificateClient>();
}

/// Type-checked, never run: every future the client gives out is `Send`, so it can be spawned
/// on a multi-threaded executor.
#[allow(dead_code, clippy::let_underscore_future)]
fn futures_are_send(client: &CertificateClient, policy: &CertificatePolicy) {
    fn send<T: Send>(_: T) {}
    send(client.get_certificate("x"));
    send(client.import_certificate("x", b"", &Default::default()));
    send(client.send_request(http::Request::new(Vec::new())));
    let mut poller = client.begin_create_certificate("x", policy, &Default::default()).unwrap();
    send(poller.poll());
    send(poller.wait_for_certificate());
    let mut deleting = client.begin_delete_certificate("x").unwrap();
    send(deleting.poll());
    send(deleting.wait());
    let mut pager = client.list_properties_of_certificates(&Default::default()).unwrap();
    send(pager.next_page());
    send(pager.next());
    send(pager);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_calls_cost_one_challenge_and_one_token() {
    let emulator = Emulator::builder().start().expect("emulator");
    let setup = builder(&emulator, Arc::new(StaticTokenCredential::new("setup"))).build().unwrap();
    setup
        .begin_create_certificate("shared", &CertificatePolicy::new("Self", "CN=shared"), &Default::default())
        .unwrap()
        .wait_for_certificate()
        .await
        .unwrap();
    emulator.reset_stats();

    let credential = Arc::new(CountingCredential::default());
    let client = builder(&emulator, credential.clone()).build().unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_certificate("shared").await })
        })
        .collect();
    for task in tasks {
        let certificate = task.await.expect("task").expect("get_certificate");
        assert_eq!(certificate.name().as_deref(), Some("shared"));
    }

    let stats = emulator.stats();
    assert_eq!(stats.challenges, 1, "one challenge probe for 50 calls: {stats:?}");
    assert_eq!(credential.calls.load(Ordering::SeqCst), 1, "one token request for 50 calls");
    assert_eq!(stats.count("GetCertificate", 200), 50, "{stats:?}");
    // HTTP/2 (ALPN) multiplexes the calls; the pool may open a few connections while the
    // first handshakes, never one per call.
    assert!(stats.connections <= 5, "the calls share pooled connections: {stats:?}");

    let response =
        client.send_request(client.vault().get_certificate("shared").unwrap().request().clone()).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2, "HTTP/2 negotiated by ALPN");
}
