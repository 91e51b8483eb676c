//! The async client on an executor that is not tokio: `async-executor` with `async-io`'s
//! reactor and timer. The client needs three small things from a runtime — how to sleep, how
//! to run a background task, how to open a TCP connection — given as a `Runtime`; TLS, HTTP/2,
//! pooling, retries, authentication, polling and paging work unchanged.
//!
//! `cargo run --example async_other_runtime` (set `KEYVAULT_URL` to use a real vault).

#[path = "common/async_io.rs"]
mod async_io_runtime;
#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;

use async_executor::Executor;
use async_io_runtime::async_io_runtime;
use kvcerts_core::auth::environment;
use kvcerts_core::models::CertificatePolicy;
use kvcerts_hyper::{
    AzureCliCredential, ClientSecretCredential, ConnectionOptions, DefaultAzureCredential, ManagedIdentityCredential,
    Runtime, StaticTokenCredential, TokenCredential, WorkloadIdentityCredential,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::Target::from_env()?;
    // The executor runs the client's background tasks (hyper's connections) while `block_on`
    // drives the example.
    let executor = Arc::new(Executor::new());
    let runtime = async_io_runtime(executor.clone());
    async_io::block_on(executor.run(run(&target, runtime)))
}

async fn run(target: &common::Target, runtime: Runtime) -> Result<(), Box<dyn std::error::Error>> {
    let client = target.async_builder(credential(target, &runtime)).runtime(runtime).build()?;
    let name = common::unique_name("other-runtime");

    common::step(format!("create '{name}'"));
    let policy = CertificatePolicy::new("Self", "CN=other-runtime.example");
    let created = client.begin_create_certificate(&name, &policy, &Default::default())?.wait_for_certificate().await?;
    println!("done (thumbprint {})", created.x509_thumbprint_hex().unwrap_or_default());

    // Two calls in flight at once, joined with futures-lite: no tokio anywhere.
    let (certificate, policy) =
        futures_lite::future::zip(client.get_certificate(&name), client.get_certificate_policy(&name)).await;
    println!("get: version {}, policy subject {:?}", certificate?.version().unwrap_or_default(), policy?.subject());

    let mut pager = client.list_properties_of_certificates(&Default::default())?;
    let mut count = 0;
    while let Some(item) = pager.next().await {
        item?;
        count += 1;
    }
    println!("listed {count} certificate(s)");

    common::step("delete and purge");
    client.begin_delete_certificate(&name)?.wait().await?;
    client.purge_deleted_certificate(&name).await?;
    println!("done");
    Ok(())
}

/// A fixed token for the emulator. For a real vault, `DefaultAzureCredential`'s chain with its
/// HTTP-based credentials on this runtime (`DefaultAzureCredential::new()` would use tokio).
fn credential(target: &common::Target, runtime: &Runtime) -> Arc<dyn TokenCredential> {
    if target.is_emulator() {
        return Arc::new(StaticTokenCredential::new(common::EMULATOR_TOKEN));
    }
    let connection = ConnectionOptions { runtime: Some(runtime.clone()), ..Default::default() };
    let env = |key: &str| std::env::var(key).ok();
    let mut chain: Vec<(&'static str, Box<dyn TokenCredential>)> = Vec::new();
    if let Ok(c) =
        environment::client_secret_from_env(env).and_then(|c| ClientSecretCredential::from_core(c, &connection))
    {
        chain.push(("EnvironmentCredential", Box::new(c)));
    }
    if let Ok((c, file)) = environment::workload_identity_from_env(env) {
        if let Ok(c) = WorkloadIdentityCredential::from_core(c, file, &connection) {
            chain.push(("WorkloadIdentityCredential", Box::new(c)));
        }
    }
    if let Ok(c) = ManagedIdentityCredential::from_core(environment::managed_identity_from_env(env), &connection) {
        chain.push(("ManagedIdentityCredential", Box::new(c)));
    }
    chain.push(("AzureCliCredential", Box::new(AzureCliCredential::new())));
    Arc::new(DefaultAzureCredential::from_chain(chain))
}
