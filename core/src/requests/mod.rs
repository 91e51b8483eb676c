//! Request builders for every operation, as methods on [`Vault`](crate::Vault).
//!
//! Each method validates its inputs, then returns a [`Call`](crate::Call): the
//! `http::Request` to send and the parser for its response. Names follow the Python SDK;
//! operations that the SDKs wrap in pollers (`begin_*`) are single exchanges here
//! (`create_certificate`, `delete_certificate`, `recover_deleted_certificate`), and the flows
//! in [`crate::flows`] drive them to completion.

mod certificates;
mod contacts;
mod deleted;
mod import;
mod issuers;
mod lists;
mod pending;

use serde::Serialize;

use crate::error::Error;

pub use certificates::{CreateCertificateOptions, MergeCertificateOptions, UpdateCertificatePropertiesOptions};
pub use import::ImportCertificateOptions;
pub use issuers::IssuerOptions;
pub use lists::ListOptions;

/// Serializes a request body.
fn json_body<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::invalid(what, format!("cannot be serialized: {e}")))
}
