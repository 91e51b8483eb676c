//! Sans-IO protocol core for the Azure Key Vault Certificates REST API.
//!
//! **In scope:** building the `http::Request` of every certificate operation (and the
//! certificate download through the secrets endpoint), parsing `http::Response`s into typed
//! models and typed errors, validating names, URLs, policies and imports, parsing identifiers,
//! and the multi-step flows (challenge authentication, token requests and caching, retries,
//! long-running-operation polling, paging) as state machines.
//!
//! **Out of scope:** sockets, TLS, DNS, timers, threads, processes, files and environment
//! variables. Those belong to the transports (`kvcerts-ureq`, `kvcerts-hyper`) or to you.
//!
//! **Determinism:** nothing in this crate reads a clock, sleeps, performs IO or draws
//! randomness from the OS; time and randomness seeds are inputs. The same inputs always give
//! the same outputs.
//!
//! # A single exchange
//!
//! ```
//! use kvcerts_core::{Vault, ErrorKind};
//!
//! let vault = Vault::new("https://myvault.vault.azure.net").unwrap();
//! let call = vault.get_certificate("web-frontend").unwrap();
//! assert_eq!(call.request().method(), "GET");
//!
//! // Send `call.request()` with any HTTP client (adding authentication), then parse:
//! let response = http::Response::builder()
//!     .status(404)
//!     .header("x-ms-request-id", "2f1c")
//!     .body(br#"{"error":{"code":"CertificateNotFound","message":"A certificate with (name/id) web-frontend was not found in this key vault."}}"#.to_vec())
//!     .unwrap();
//! let err = call.parse(&response).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::NotFound);
//! assert_eq!(err.code(), Some("CertificateNotFound"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api_version;
pub mod auth;
mod call;
mod client_methods;
pub mod client_options;
mod dates;
mod der;
pub mod error;
pub mod flows;
pub mod identifier;
pub mod models;
pub mod names;
pub mod operation;
pub mod pem;
mod pkcs12;
pub mod requests;
pub mod response;
pub mod retry_after;
pub mod vault;

pub use api_version::ApiVersion;
pub use call::{clone_request, Call, ParseFn, ResponseParser};
pub use client_options::ClientOptions;
pub use error::{ConflictReason, Error, ErrorDetail, ErrorKind, ServiceError, UnexpectedResponse};
pub use identifier::{Collection, KeyVaultCertificateIdentifier};
pub use operation::{Operation, RouteParams};
pub use requests::{
    CreateCertificateOptions, ImportCertificateOptions, IssuerOptions, ListOptions, MergeCertificateOptions,
    UpdateCertificatePropertiesOptions,
};
pub use retry_after::RetryAfter;
pub use vault::{Vault, VaultOptions};

/// The `User-Agent` product token transports send: `kvcerts/{version}`.
pub const USER_AGENT: &str = concat!("kvcerts/", env!("CARGO_PKG_VERSION"));
pub use flows::{Flow, Input, Now, Step, VaultFlows};

/// What [`client_flow_methods!`] names from other crates, so that a client using it needs no
/// dependency of its own on them. Not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use serde::de::DeserializeOwned;
}
