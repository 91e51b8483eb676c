//! What every example shares: where the vault is, and a client for it.
//!
//! - `KEYVAULT_URL` unset (the default): an embedded emulator (`kvcerts-emulator`) is started on
//!   a free port of 127.0.0.1, over HTTPS with its own test CA, which the client trusts. Any
//!   token is accepted, so a fixed one is used. Operations complete within ~100 ms and the
//!   client polls every 50 ms (at most 100 ms apart), so each example takes a few seconds at most.
//! - `KEYVAULT_URL=https://myvault.vault.azure.net`: that vault, with `DefaultAzureCredential`
//!   (environment, workload identity, managed identity, then the Azure CLI) and default
//!   options. The examples use unique names and delete and purge what they create.
//!
//! Each example includes this file with `#[path = "common/mod.rs"] mod common;`.

#![allow(dead_code)] // not every example uses every helper

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kvcerts_core::flows::PollOptions;
use kvcerts_core::ErrorKind;
use kvcerts_emulator::{Emulator, EmulatorBuilder};

/// How the client polls long-running operations on the emulator: every 50 ms, and never
/// waits longer than 100 ms even when the emulator's `Retry-After` (whole seconds) says so.
pub fn emulator_polling() -> PollOptions {
    PollOptions::create().interval(Duration::from_millis(50)).max_interval(Duration::from_millis(100))
}

/// Any token will do for the emulator.
pub const EMULATOR_TOKEN: &str = "emulator-token";

/// The vault the example talks to. Keep it alive as long as the client: dropping it stops the
/// embedded emulator.
pub struct Target {
    /// The vault URL.
    pub url: String,
    emulator: Option<Emulator>,
}

/// The emulator settings the examples use: operations finish after 100 ms, not minutes.
pub fn emulator_builder() -> EmulatorBuilder {
    Emulator::builder()
        .create_delay(Duration::from_millis(100))
        .delete_delay(Duration::from_millis(100))
        .recover_delay(Duration::from_millis(100))
}

/// The real vault's URL, when `KEYVAULT_URL` is set (and not empty).
pub fn keyvault_url() -> Option<String> {
    std::env::var("KEYVAULT_URL").ok().filter(|url| !url.trim().is_empty())
}

impl Target {
    /// `KEYVAULT_URL`, or a freshly started emulator.
    pub fn from_env() -> Result<Target, Box<dyn std::error::Error>> {
        let target = match keyvault_url() {
            Some(url) => Target { url, emulator: None },
            None => {
                let emulator = emulator_builder().start()?;
                Target { url: emulator.vault_url().to_owned(), emulator: Some(emulator) }
            }
        };
        match target.emulator {
            Some(_) => println!("vault: embedded emulator at {} (set KEYVAULT_URL to use a real vault)", target.url),
            None => println!("vault: {} (DefaultAzureCredential)", target.url),
        }
        Ok(target)
    }

    /// Whether this is the embedded emulator.
    pub fn is_emulator(&self) -> bool {
        self.emulator.is_some()
    }

    /// The embedded emulator (for its request counters), when it is the target.
    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref()
    }

    /// The emulator's CA certificate (PEM), which clients must trust.
    pub fn ca_pem(&self) -> Option<&str> {
        self.emulator.as_ref().and_then(|e| e.ca_pem())
    }

    /// A blocking client: `DefaultAzureCredential` and default options for a real vault;
    /// a fixed token, the emulator's CA and short polls for the emulator.
    pub fn blocking_client(&self) -> Result<kvcerts_ureq::CertificateClient, kvcerts_core::Error> {
        use kvcerts_ureq::{CertificateClient, DefaultAzureCredential, StaticTokenCredential};
        let Some(ca_pem) = self.ca_pem() else {
            return CertificateClient::new(&self.url, Arc::new(DefaultAzureCredential::new()));
        };
        CertificateClient::builder(&self.url, Arc::new(StaticTokenCredential::new(EMULATOR_TOKEN)))
            .add_root_certificate_pem(ca_pem.as_bytes().to_vec())
            // The emulator's challenge names https://vault.azure.net, not 127.0.0.1.
            .verify_challenge_resource(false)
            .create_polling(emulator_polling())
            .delete_recover_polling(emulator_polling())
            .build()
    }

    /// An async client on tokio (call inside a tokio runtime), configured like
    /// [`Target::blocking_client`].
    #[cfg(feature = "async")]
    pub fn async_client(&self) -> Result<kvcerts_hyper::CertificateClient, kvcerts_core::Error> {
        use kvcerts_hyper::{DefaultAzureCredential, StaticTokenCredential, TokenCredential};
        let credential: Arc<dyn TokenCredential> = if self.is_emulator() {
            Arc::new(StaticTokenCredential::new(EMULATOR_TOKEN))
        } else {
            Arc::new(DefaultAzureCredential::new())
        };
        self.async_builder(credential).build()
    }

    /// An async client builder with `credential`, plus the emulator's settings when this is
    /// the emulator (for clients on another runtime: add `.runtime(...)`).
    #[cfg(feature = "async")]
    pub fn async_builder(&self, credential: Arc<dyn kvcerts_hyper::TokenCredential>) -> kvcerts_hyper::ClientBuilder {
        let builder = kvcerts_hyper::CertificateClient::builder(&self.url, credential);
        match self.ca_pem() {
            Some(ca_pem) => builder
                .add_root_certificate_pem(ca_pem.as_bytes().to_vec())
                .verify_challenge_resource(false)
                .create_polling(emulator_polling())
                .delete_recover_polling(emulator_polling()),
            None => builder,
        }
    }
}

/// A name no other run uses: `prefix-` and the time in milliseconds, in hex.
pub fn unique_name(prefix: &str) -> String {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    format!("{prefix}-{millis:x}")
}

/// Deletes a certificate, waits until the deletion completes, and purges it, so the name can
/// be used again at once. A certificate that is already gone is fine.
pub fn delete_and_purge(client: &kvcerts_ureq::CertificateClient, name: &str) -> Result<(), kvcerts_core::Error> {
    match client.begin_delete_certificate(name)?.wait() {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    match client.purge_deleted_certificate(name) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `2025-01-31 13:45:07`: a timestamp to the second, in UTC.
pub fn timestamp(t: Option<time::OffsetDateTime>) -> String {
    match t.map(|t| t.to_offset(time::UtcOffset::UTC)) {
        Some(t) => format!("{} {:02}:{:02}:{:02}", t.date(), t.hour(), t.minute(), t.second()),
        None => "-".into(),
    }
}

/// `2025-01-31`: the date part of a timestamp.
pub fn date(t: Option<time::OffsetDateTime>) -> String {
    match t {
        Some(t) => t.date().to_string(),
        None => "-".into(),
    }
}

/// Prints `text … ` without a newline (and flushes), so the reader sees the step before it
/// runs; the example finishes the line with `println!("done …")`.
pub fn step(text: impl std::fmt::Display) {
    print!("{text} … ");
    let _ = std::io::stdout().flush();
}
