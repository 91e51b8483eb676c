//! A Rust client for the **Azure Key Vault Certificates** REST API.
//!
//! This crate is a small facade over the crates of the workspace:
//!
//! | module | crate | what it is |
//! |---|---|---|
//! | [`core`] | `kvcerts-core` | the sans-IO protocol core: requests, responses, models, typed errors and the multi-step flows (auth, retries, polling, paging) as state machines; bring your own HTTP client |
//! | [`blocking`] | `kvcerts-ureq` | the blocking client (ureq + rustls) |
//! | `nonblocking` | `kvcerts-hyper` | the async client (hyper + rustls), on tokio or any executor; feature `async` (on by default) |
//!
//! For tests and the examples there is also `kvcerts-emulator`, a local Key Vault certificates
//! service (in-process or as a program). Every example in `examples/` runs against it, as a
//! child process, unless `KEYVAULT_URL` is set: start with `cargo run --example quickstart`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use kvcerts::blocking::{CertificateClient, DefaultAzureCredential};
//! use kvcerts::core::models::CertificatePolicy;
//!
//! let client = CertificateClient::new("https://myvault.vault.azure.net", Arc::new(DefaultAzureCredential::new()))?;
//! let policy = CertificatePolicy::new("Self", "CN=web.example");
//! let certificate = client.begin_create_certificate("web", &policy, &Default::default())?.wait_for_certificate()?;
//! println!("created {:?}, expires {:?}", certificate.id, certificate.expires_on());
//! # Ok::<(), kvcerts::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use kvcerts_core as core;
pub use kvcerts_core::Error;
pub use kvcerts_ureq as blocking;

/// The async client (`kvcerts-hyper`).
#[cfg(feature = "async")]
pub use kvcerts_hyper as nonblocking;

/// The README's Rust examples, compiled as doctests so they stay correct.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
