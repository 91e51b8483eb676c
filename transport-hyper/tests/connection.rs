//! Connection options: connect and read timeouts, and the `CONNECT` proxy.

#![cfg(feature = "tokio")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kvcerts_core::flows::RetryOptions;
use kvcerts_core::models::CertificatePolicy;
use kvcerts_core::ErrorKind;
use kvcerts_emulator::{Emulator, FaultConfig};
use kvcerts_hyper::{BoxFuture, CertificateClient, Connect, Runtime, StaticTokenCredential, Stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn builder(emulator: &Emulator) -> kvcerts_hyper::ClientBuilder {
    CertificateClient::builder(emulator.vault_url(), Arc::new(StaticTokenCredential::new("t")))
        .add_root_certificate_pem(emulator.ca_pem().unwrap().as_bytes().to_vec())
        .verify_challenge_resource(false)
        .poll_interval(Duration::from_millis(20))
}

/// A connector that never connects, counting its attempts.
struct Hanging(Arc<AtomicUsize>);

impl Connect for Hanging {
    fn connect(&self, _host: &str, _port: u16) -> BoxFuture<'static, std::io::Result<Box<dyn Stream>>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn connect_timeout_is_a_timeout_before_sending_and_is_retried() {
    let emulator = Emulator::builder().start().expect("emulator");
    let attempts = Arc::new(AtomicUsize::new(0));
    let timer = |deadline: Instant| -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)))
    };
    let spawner = |task: BoxFuture<'static, ()>| {
        tokio::spawn(task);
    };
    let runtime = Runtime::new(timer, spawner, Hanging(attempts.clone()));
    let client = builder(&emulator)
        .runtime(runtime)
        .connect_timeout(Duration::from_millis(50))
        .retry(RetryOptions::default().max_retries(2).base_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
    let error = client.get_certificate("c").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(error.to_string().contains("timeout"), "{error}");
    assert!(error.to_string().contains("connecting took longer than 50 ms"), "{error}");
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "a connect timeout is retried (nothing was sent)");
}

#[tokio::test]
async fn read_timeout_gives_up_on_a_slow_answer() {
    let emulator = Emulator::builder().start().expect("emulator");
    // The response headers may take connect_timeout + read_timeout (a new connection may be
    // opened for the request first).
    let client = builder(&emulator)
        .connect_timeout(Duration::from_millis(100))
        .read_timeout(Duration::from_millis(100))
        .retry(RetryOptions::disabled());
    let client = client.build().unwrap();
    client.get_contacts().await.ok(); // learn the challenge, open the connection
    emulator.faults().set(FaultConfig { delay_ms: Some(1000), ..Default::default() });
    let started = Instant::now();
    let error = client.get_certificate("c").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(900), "{:?}", started.elapsed());
    assert!(error.to_string().contains("timeout"), "{error}");
}

/// A one-purpose HTTP `CONNECT` proxy on loopback: records each request head and tunnels.
async fn start_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://user:pa55@{}", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                    if inbound.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
                seen.lock().unwrap().push(head);
                let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else { return };
                inbound.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    (url, heads)
}

#[tokio::test]
async fn requests_go_through_the_connect_proxy() {
    let emulator = Emulator::builder().start().expect("emulator");
    let (proxy, heads) = start_proxy().await;
    let client = builder(&emulator).proxy(proxy).build().unwrap();
    let created = client
        .begin_create_certificate("proxied", &CertificatePolicy::new("Self", "CN=proxied"), &Default::default())
        .unwrap()
        .wait_for_certificate()
        .await
        .unwrap();
    assert_eq!(created.name().as_deref(), Some("proxied"));
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "one tunnel, pooled: {heads:?}");
    let port = emulator.local_addr().port();
    assert!(heads[0].starts_with(&format!("CONNECT 127.0.0.1:{port} HTTP/1.1")), "{}", heads[0]);
    // base64("user:pa55")
    assert!(heads[0].to_ascii_lowercase().contains("proxy-authorization: basic dxnlcjpwytu1"), "{}", heads[0]);
}

#[tokio::test]
async fn bad_options_are_clear_errors() {
    let emulator = Emulator::builder().start().expect("emulator");
    let error = builder(&emulator).proxy("socks5://127.0.0.1:1").build().unwrap_err();
    assert!(error.to_string().contains("only http:// proxies"), "{error}");
    let error = builder(&emulator).add_root_certificate_pem(b"not a pem".to_vec()).build().unwrap_err();
    assert!(error.to_string().contains("no CERTIFICATE block"), "{error}");
    let error = builder(&emulator).replace_root_certificates(true).build();
    assert!(error.is_ok(), "the emulator's root was given");
    let no_roots = CertificateClient::builder(emulator.vault_url(), Arc::new(StaticTokenCredential::new("t")))
        .replace_root_certificates(true)
        .build()
        .unwrap_err();
    assert!(no_roots.to_string().contains("no trusted root certificates"), "{no_roots}");
}

#[test]
fn building_outside_a_tokio_runtime_says_what_to_do() {
    let error = CertificateClient::new("https://myvault.vault.azure.net", Arc::new(StaticTokenCredential::new("t")))
        .unwrap_err();
    assert!(error.to_string().contains("not inside a tokio runtime"), "{error}");
}

#[tokio::test]
async fn plain_http_to_a_loopback_emulator_when_allowed() {
    let emulator = Emulator::builder().tls(false).start().expect("emulator");
    let client = CertificateClient::builder(emulator.vault_url(), Arc::new(StaticTokenCredential::new("t")))
        .verify_challenge_resource(false)
        .allow_insecure_loopback(true)
        .build()
        .unwrap();
    let contacts = client.get_contacts().await;
    assert!(contacts.is_ok() || contacts.as_ref().unwrap_err().kind() == ErrorKind::NotFound, "{contacts:?}");
    assert_eq!(emulator.stats().challenges, 1);
}
