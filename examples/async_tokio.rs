//! The async client (`kvcerts-hyper`) on tokio: create, list as a `Stream`, 20 concurrent
//! gets on one client, delete.
//!
//! `cargo run --example async_tokio` (set `KEYVAULT_URL` to use a real vault).

#[path = "common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::time::Instant;

use futures_lite::StreamExt;
use kvcerts_core::models::CertificatePolicy;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::Target::from_env()?;
    // Built inside the tokio runtime, the client (and DefaultAzureCredential) run on it.
    let client = target.async_client()?;
    let name = common::unique_name("async-tokio");

    // Create: the same poller as the blocking client, awaited.
    common::step(format!("create '{name}'"));
    let policy = CertificatePolicy::new("Self", "CN=async-tokio.example");
    let created = client.begin_create_certificate(&name, &policy, &Default::default())?.wait_for_certificate().await?;
    println!("done (thumbprint {})", created.x509_thumbprint_hex().unwrap_or_default());

    // List: the pager is a `Stream` of `Result`s (futures' StreamExt works too; or call
    // `pager.next().await` / `pager.next_page().await` directly).
    let names: Vec<String> = client
        .list_properties_of_certificates(&Default::default())?
        .map(|item| item.map(|c| c.name().unwrap_or_default()))
        .try_collect()
        .await?;
    println!("listed {} certificate(s), ours among them: {}", names.len(), names.contains(&name));

    // 20 gets at once on tokio tasks: clones of the client share its connection pool, the
    // challenge and the token (HTTP/2 multiplexes them when the server offers it).
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (client, name) = (client.clone(), name.clone());
        tasks.spawn(async move { client.get_certificate(&name).await });
    }
    let mut thumbprints = HashSet::new();
    while let Some(joined) = tasks.join_next().await {
        thumbprints.insert(joined??.x509_thumbprint);
    }
    println!(
        "20 concurrent gets in {} ms, {} distinct thumbprint(s)",
        started.elapsed().as_millis(),
        thumbprints.len()
    );
    if target.is_emulator() {
        // The emulator's counters, from its admin endpoint: `send_request` sends any request
        // to the vault through the client (authentication, retries).
        let request = http::Request::get(format!("{}/_emulator/stats", target.url)).body(Vec::new())?;
        let stats: serde_json::Value = serde_json::from_slice(client.send_request(request).await?.body())?;
        println!(
            "   the emulator saw {} connection(s) and sent {} challenge(s) in all",
            stats["connections"], stats["challenges"]
        );
    }

    // Delete (the poller waits until the deletion completes), then purge.
    common::step("delete and purge");
    client.begin_delete_certificate(&name)?.wait().await?;
    client.purge_deleted_certificate(&name).await?;
    println!("done");
    Ok(())
}
