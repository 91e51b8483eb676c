//! Blocking Azure Key Vault Certificates client on ureq.
//!
//! A thin driver over the flows of [`kvcerts_core`]: it sends the requests they build, sleeps
//! when they ask, and gets tokens from a [`TokenCredential`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use kvcerts_ureq::{CertificateClient, DefaultAzureCredential};
//! use kvcerts_core::models::CertificatePolicy;
//!
//! let client = CertificateClient::new("https://myvault.vault.azure.net", Arc::new(DefaultAzureCredential::new()))?;
//! let certificate = client
//!     .begin_create_certificate("web", &CertificatePolicy::default(), &Default::default())?
//!     .wait_for_certificate()?;
//! println!("created {:?}", certificate.id);
//! for item in client.list_properties_of_certificates(&Default::default())? {
//!     println!("{:?}", item?.name());
//! }
//! # Ok::<(), kvcerts_core::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod credential;
mod driver;
mod pager;
mod poller;
mod sender;

pub use client::{CertificateClient, ClientBuilder};
pub use credential::{
    AzureCliCredential, ClientSecretCredential, DefaultAzureCredential, EnvironmentCredential,
    ManagedIdentityCredential, StaticTokenCredential, TokenCredential, WorkloadIdentityCredential,
};
pub use kvcerts_core::Error;
pub use pager::ItemPager;
pub use poller::{CreateCertificatePoller, DeleteCertificatePoller, RecoverDeletedCertificatePoller};
pub use sender::{ConnectionOptions, DEFAULT_MAX_RESPONSE_SIZE};
