//! Certificate operations: the state of a pending creation.

use serde::{Deserialize, Serialize};

use super::encoding::base64_standard;
use super::enums::CertificateOperationStatus;
use super::policy::{IssuerParameters, ISSUER_UNKNOWN};

/// The state of a certificate's creation (`…/certificates/{name}/pending`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateOperation {
    /// `https://{vault}/certificates/{name}/pending`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The issuer.
    #[serde(rename = "issuer", skip_serializing_if = "Option::is_none")]
    pub issuer_parameters: Option<IssuerParameters>,
    /// The PKCS#10 certificate signing request (DER).
    #[serde(default, with = "base64_standard", skip_serializing_if = "Option::is_none")]
    pub csr: Option<Vec<u8>>,
    /// Whether cancellation was requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_requested: Option<bool>,
    /// `inProgress`, `completed`, `failed`, `cancelled`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CertificateOperationStatus>,
    /// Details of the status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<String>,
    /// Why the operation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<OperationError>,
    /// The resulting certificate's URL, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Whether the chain order is preserved.
    #[serde(rename = "preserveCertOrder", skip_serializing_if = "Option::is_none")]
    pub preserve_order: Option<bool>,
    /// The request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl CertificateOperation {
    /// The issuer name.
    pub fn issuer_name(&self) -> Option<&str> {
        self.issuer_parameters.as_ref().and_then(|i| i.name.as_deref())
    }

    /// Whether the operation is still running.
    pub fn is_in_progress(&self) -> bool {
        self.status.as_ref().is_some_and(CertificateOperationStatus::is_in_progress)
    }

    /// Whether the certificate waits for a merge (issuer `Unknown`, still in progress): polling
    /// will not finish it; sign the CSR and call `merge_certificate`.
    pub fn is_awaiting_merge(&self) -> bool {
        self.is_in_progress() && self.issuer_name().is_some_and(|n| n.eq_ignore_ascii_case(ISSUER_UNKNOWN))
    }

    /// The CSR as PEM text (`-----BEGIN CERTIFICATE REQUEST-----`).
    pub fn csr_pem(&self) -> Option<String> {
        self.csr.as_deref().map(|der| crate::pem::encode("CERTIFICATE REQUEST", der))
    }
}

/// An error reported inside a certificate operation (`error`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationError {
    /// The error code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A more specific error.
    #[serde(rename = "innererror", skip_serializing_if = "Option::is_none")]
    pub inner_error: Option<Box<OperationError>>,
}
