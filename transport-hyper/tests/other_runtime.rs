//! The client on `async-executor` + `async-io`, with no tokio runtime anywhere on the
//! client's side (the emulator runs its own server thread), through the runtime adapter of the
//! workspace's `examples/async_other_runtime.rs`.

#[path = "../../examples/common/async_io.rs"]
mod async_io_runtime;

use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use kvcerts_core::models::CertificatePolicy;
use kvcerts_hyper::{CertificateClient, Runtime, StaticTokenCredential};

/// Creates, reads (two calls in flight), lists and deletes a certificate; the names listed.
async fn scenario(runtime: Runtime, vault_url: &str, ca_pem: &str) -> Result<Vec<String>, kvcerts_hyper::Error> {
    let client = CertificateClient::builder(vault_url, Arc::new(StaticTokenCredential::new("test-token")))
        .runtime(runtime)
        .add_root_certificate_pem(ca_pem.as_bytes().to_vec())
        .verify_challenge_resource(false)
        .poll_interval(Duration::from_millis(50))
        .build()?;
    let policy = CertificatePolicy::new("Self", "CN=other-runtime.example");
    client.begin_create_certificate("other-runtime", &policy, &Default::default())?.wait_for_certificate().await?;
    let (certificate, policy) = futures_lite::future::zip(
        client.get_certificate("other-runtime"),
        client.get_certificate_policy("other-runtime"),
    )
    .await;
    assert!(certificate?.cer.is_some());
    assert_eq!(policy?.subject(), Some("CN=other-runtime.example"));
    let mut names = Vec::new();
    let mut pager = client.list_properties_of_certificates(&Default::default())?;
    while let Some(item) = pager.next().await {
        names.push(item?.name().unwrap_or_default());
    }
    client.begin_delete_certificate("other-runtime")?.wait().await?;
    Ok(names)
}

#[test]
fn runs_on_async_executor_and_async_io() {
    let emulator = kvcerts_emulator::Emulator::builder().start().expect("emulator");
    let executor = Arc::new(Executor::new());
    let runtime = async_io_runtime::async_io_runtime(executor.clone());
    // A plain thread with no tokio context: `tokio::spawn` or a tokio timer would panic here.
    assert!(tokio::runtime::Handle::try_current().is_err());
    let names = async_io::block_on(executor.run(scenario(runtime, emulator.vault_url(), emulator.ca_pem().unwrap())))
        .expect("the scenario runs");
    assert_eq!(names, ["other-runtime"]);
    let stats = emulator.stats();
    assert_eq!(stats.challenges, 1);
    assert_eq!(stats.connections, 1, "calls share one pooled connection: {stats:?}");
}
