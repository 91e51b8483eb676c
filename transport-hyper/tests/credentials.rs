//! Credentials: the Azure CLI runs without blocking the executor; the chain sticks with the
//! first credential that works.

#![cfg(all(unix, feature = "tokio"))]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kvcerts_core::auth::TokenRequest;
use kvcerts_hyper::{AzureCliCredential, DefaultAzureCredential, StaticTokenCredential, TokenCredential};

fn fake_az(name: &str, script: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kvcerts-hyper-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("az");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn request() -> TokenRequest {
    TokenRequest::new(vec!["https://vault.azure.net/.default".into()])
}

#[tokio::test(flavor = "current_thread")]
async fn azure_cli_runs_without_blocking_the_executor() {
    let az =
        fake_az("ok", r#"sleep 0.4; echo '{"accessToken":"cli-token","expires_on":4102444800,"tokenType":"Bearer"}'"#);
    let credential = AzureCliCredential::new().program(az);
    let ticks = Arc::new(AtomicUsize::new(0));
    let counter = ticks.clone();
    // On this single-threaded runtime, the ticker only runs if get_token yields.
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let token = credential.get_token(&request()).await.unwrap();
    ticker.abort();
    assert_eq!(token.secret(), "cli-token");
    assert!(ticks.load(Ordering::SeqCst) >= 5, "the executor kept running: {} ticks", ticks.load(Ordering::SeqCst));
}

#[tokio::test]
async fn azure_cli_errors_and_timeout_read_like_the_blocking_client() {
    let not_logged_in = fake_az("login", "echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1");
    let error = AzureCliCredential::new().program(not_logged_in).get_token(&request()).await.unwrap_err();
    assert!(error.to_string().contains("run `az login`"), "{error}");

    let slow = fake_az("slow", "sleep 5");
    let error = AzureCliCredential::new()
        .program(slow)
        .timeout(Duration::from_millis(200))
        .get_token(&request())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("did not answer within"), "{error}");

    let missing = AzureCliCredential::new().program("/nonexistent/az").get_token(&request()).await.unwrap_err();
    assert!(missing.to_string().contains("was not found"), "{missing}");
}

#[tokio::test]
async fn the_default_chain_has_every_default_link_in_order() {
    assert_eq!(
        format!("{:?}", DefaultAzureCredential::new()),
        r#"DefaultAzureCredential { links: ["EnvironmentCredential", "WorkloadIdentityCredential", "ManagedIdentityCredential", "AzureCliCredential"] }"#
    );
}

#[tokio::test]
async fn the_chain_uses_the_first_credential_that_works() {
    let broken = AzureCliCredential::new().program("/nonexistent/az");
    let chain = DefaultAzureCredential::from_chain(vec![
        ("AzureCliCredential", Box::new(broken)),
        ("StaticTokenCredential", Box::new(StaticTokenCredential::new("static"))),
    ]);
    assert_eq!(chain.get_token(&request()).await.unwrap().secret(), "static");
    assert_eq!(chain.get_token(&request()).await.unwrap().secret(), "static");

    let all_broken = DefaultAzureCredential::from_chain(vec![(
        "AzureCliCredential",
        Box::new(AzureCliCredential::new().program("/nonexistent/az")),
    )]);
    let error = all_broken.get_token(&request()).await.unwrap_err();
    assert!(error.to_string().contains("no credential in the chain gave a token"), "{error}");
}
