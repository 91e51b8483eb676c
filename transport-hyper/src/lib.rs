//! Async Azure Key Vault Certificates client on hyper.
//!
//! A thin async driver over the flows of [`kvcerts_core`], the same flows the blocking
//! `kvcerts-ureq` client drives: it sends the requests they build (hyper-util's pooled client,
//! rustls, HTTP/1.1 and HTTP/2 by ALPN), sleeps when they ask, and gets tokens from a
//! [`TokenCredential`]. Same operations, names and options as the blocking client, with
//! `async` methods; pollers have async `poll`/`wait`, pagers are a
//! [`Stream`](futures_core::Stream) with async `next`/`next_page`.
//!
//! Runs on tokio out of the box (the default `tokio` feature). On any other executor, give a
//! [`Runtime`] (a [`Timer`], a [`Spawn`] and a [`Connect`]); see the [`runtime`] module and
//! the workspace's `examples/async_other_runtime.rs` (async-executor with async-io).
//!
//! ```no_run
//! use std::sync::Arc;
//! use kvcerts_hyper::{CertificateClient, DefaultAzureCredential};
//! use kvcerts_core::models::CertificatePolicy;
//!
//! # async fn run() -> Result<(), kvcerts_core::Error> {
//! let client = CertificateClient::new("https://myvault.vault.azure.net", Arc::new(DefaultAzureCredential::new()))?;
//! let certificate = client
//!     .begin_create_certificate("web", &CertificatePolicy::default(), &Default::default())?
//!     .wait_for_certificate()
//!     .await?;
//! println!("created {:?}", certificate.id);
//! let mut certificates = client.list_properties_of_certificates(&Default::default())?;
//! while let Some(item) = certificates.next().await {
//!     println!("{:?}", item?.name());
//! }
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod credential;
mod driver;
mod pager;
mod poller;
pub mod runtime;
mod sender;

pub use client::{CertificateClient, ClientBuilder};
pub use credential::{
    AzureCliCredential, ClientSecretCredential, DefaultAzureCredential, EnvironmentCredential,
    ManagedIdentityCredential, StaticTokenCredential, TokenCredential, WorkloadIdentityCredential,
};
pub use kvcerts_core::Error;
pub use pager::ItemPager;
pub use poller::{CreateCertificatePoller, DeleteCertificatePoller, RecoverDeletedCertificatePoller};
pub use runtime::{BoxFuture, Connect, FuturesIo, Runtime, Spawn, Stream, Timer};
pub use sender::{ConnectionOptions, DEFAULT_MAX_RESPONSE_SIZE};
