//! Request bodies, with the service's wire names. Builders in [`crate::requests`] fill these;
//! they are public so recorded or hand-written bodies can be parsed and inspected.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::certificate::CertificateAttributes;
use super::encoding::{base64_standard_list, base64_url};
use super::policy::CertificatePolicy;
use super::secret::SecretString;

/// Body of `POST /certificates/{name}/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateCertificateParameters {
    /// The policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<CertificatePolicy>,
    /// The attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Whether the chain order is preserved.
    #[serde(rename = "preserveCertOrder", skip_serializing_if = "Option::is_none")]
    pub preserve_order: Option<bool>,
}

/// Body of `POST /certificates/{name}/import`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCertificateParameters {
    /// The certificate with its private key: base64 of the PEM text or PKCS#12 bytes.
    pub value: SecretString,
    /// The PKCS#12 password.
    #[serde(rename = "pwd", skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretString>,
    /// The policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<CertificatePolicy>,
    /// The attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Whether the chain order is preserved.
    #[serde(rename = "preserveCertOrder", skip_serializing_if = "Option::is_none")]
    pub preserve_order: Option<bool>,
}

/// Body of `PATCH /certificates/{name}/{version}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateCertificateParameters {
    /// A policy to set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<CertificatePolicy>,
    /// Attributes to set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    /// Tags (replace all tags).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// Body of `POST /certificates/{name}/pending/merge`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeCertificateParameters {
    /// The signed certificate and its chain, DER.
    #[serde(rename = "x5c", with = "base64_standard_list")]
    pub x509_certificates: Vec<Vec<u8>>,
    /// Attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// Body of `POST /certificates/restore`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreCertificateParameters {
    /// The backup blob (base64url on the wire).
    #[serde(default, with = "base64_url")]
    pub value: Option<Vec<u8>>,
}

/// Body of `PATCH /certificates/{name}/pending`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateOperationUpdateParameters {
    /// `true` to request cancellation.
    pub cancellation_requested: bool,
}
