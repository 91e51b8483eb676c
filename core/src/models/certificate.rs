//! Certificates, their properties and deleted certificates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::encoding::{base64_standard, base64_url, unix_time};
use super::enums::{CertificateContentType, DeletionRecoveryLevel};
use super::policy::CertificatePolicy;
use crate::identifier::KeyVaultCertificateIdentifier;

/// The accessors every model with an `id` and certificate `attributes` has.
macro_rules! id_and_attribute_accessors {
    () => {
        /// The parsed `id`: vault URL, name and version.
        pub fn identifier(&self) -> Option<KeyVaultCertificateIdentifier> {
            self.id.as_deref().and_then(|id| KeyVaultCertificateIdentifier::parse(id).ok())
        }

        /// The certificate's name, from its id.
        pub fn name(&self) -> Option<String> {
            self.identifier().map(|i| i.name().to_owned())
        }

        /// The version, from its id (list items of the latest versions carry none).
        pub fn version(&self) -> Option<String> {
            self.identifier().and_then(|i| i.version().map(str::to_owned))
        }

        /// Whether the certificate is enabled (`None` when the service did not say).
        pub fn enabled(&self) -> Option<bool> {
            self.attributes.as_ref().and_then(|a| a.enabled)
        }

        /// When the certificate expires.
        pub fn expires_on(&self) -> Option<OffsetDateTime> {
            self.attributes.as_ref().and_then(|a| a.expires_on)
        }
    };
}

/// Management attributes of a certificate (`attributes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateAttributes {
    /// Whether the certificate is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Not valid before (`nbf`).
    #[serde(rename = "nbf", default, with = "unix_time", skip_serializing_if = "Option::is_none")]
    pub not_before: Option<OffsetDateTime>,
    /// Expiry (`exp`).
    #[serde(rename = "exp", default, with = "unix_time", skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<OffsetDateTime>,
    /// Creation time (read only).
    #[serde(rename = "created", default, with = "unix_time", skip_serializing_if = "Option::is_none")]
    pub created_on: Option<OffsetDateTime>,
    /// Last update time (read only).
    #[serde(rename = "updated", default, with = "unix_time", skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<OffsetDateTime>,
    /// Days a deleted certificate is retained (read only).
    #[serde(rename = "recoverableDays", skip_serializing_if = "Option::is_none")]
    pub recoverable_days: Option<i32>,
    /// The deletion recovery level in effect (read only).
    #[serde(rename = "recoveryLevel", skip_serializing_if = "Option::is_none")]
    pub recovery_level: Option<DeletionRecoveryLevel>,
}

impl CertificateAttributes {
    /// Attributes with only `enabled` set.
    pub fn enabled(enabled: bool) -> Self {
        CertificateAttributes { enabled: Some(enabled), ..Default::default() }
    }
}

/// A reference to a certificate's pending operation (`pending`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingOperationRef {
    /// The operation's URL (`…/certificates/{name}/pending`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A certificate with its attributes and, for the latest version, its policy
/// (the service's `CertificateBundle`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyVaultCertificate {
    /// The certificate id, `https://{vault}/certificates/{name}/{version}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The id of the certificate's key (`kid`).
    #[serde(rename = "kid", skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The id of the certificate's secret (`sid`), which holds the private key.
    #[serde(rename = "sid", skip_serializing_if = "Option::is_none")]
    pub secret_id: Option<String>,
    /// SHA-1 thumbprint of the DER certificate (`x5t`).
    #[serde(rename = "x5t", default, with = "base64_url", skip_serializing_if = "Option::is_none")]
    pub x509_thumbprint: Option<Vec<u8>>,
    /// The management policy (present on the latest version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<CertificatePolicy>,
    /// The DER-encoded X.509 certificate (`cer`).
    #[serde(default, with = "base64_standard", skip_serializing_if = "Option::is_none")]
    pub cer: Option<Vec<u8>>,
    /// The content type of the certificate's secret.
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    pub content_type: Option<CertificateContentType>,
    /// The attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    /// Application-specific metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Whether the chain order given at import is preserved.
    #[serde(rename = "preserveCertOrder", skip_serializing_if = "Option::is_none")]
    pub preserve_order: Option<bool>,
    /// The pending operation, when one exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingOperationRef>,
    /// The subject name (sent by some service versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The issuer's distinguished name (sent by some service versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The serial number in hex (sent by some service versions).
    #[serde(rename = "serialnumber", skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
}

impl KeyVaultCertificate {
    id_and_attribute_accessors!();

    /// The thumbprint as upper-case hex, as portals show it.
    pub fn x509_thumbprint_hex(&self) -> Option<String> {
        self.x509_thumbprint.as_deref().map(hex_upper)
    }

    /// The properties of this certificate, as list operations return them.
    pub fn properties(&self) -> CertificateProperties {
        CertificateProperties {
            id: self.id.clone(),
            attributes: self.attributes.clone(),
            tags: self.tags.clone(),
            x509_thumbprint: self.x509_thumbprint.clone(),
            subject: self.subject.clone(),
            preserve_order: self.preserve_order,
        }
    }
}

/// A certificate's metadata without the certificate itself (the service's `CertificateItem`,
/// returned by list operations).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateProperties {
    /// The certificate id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    /// Application-specific metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// SHA-1 thumbprint (`x5t`).
    #[serde(rename = "x5t", default, with = "base64_url", skip_serializing_if = "Option::is_none")]
    pub x509_thumbprint: Option<Vec<u8>>,
    /// The subject name (sent by some service versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Whether the chain order is preserved.
    #[serde(rename = "preserveCertOrder", skip_serializing_if = "Option::is_none")]
    pub preserve_order: Option<bool>,
}

impl CertificateProperties {
    id_and_attribute_accessors!();
}

/// A deleted certificate (the service's `DeletedCertificateBundle`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeletedCertificate {
    /// The certificate as it was when deleted.
    #[serde(flatten)]
    pub certificate: KeyVaultCertificate,
    /// The URL to recover or purge it (`…/deletedcertificates/{name}`); absent on vaults
    /// without soft-delete.
    #[serde(rename = "recoveryId", skip_serializing_if = "Option::is_none")]
    pub recovery_id: Option<String>,
    /// When it will be purged.
    #[serde(rename = "scheduledPurgeDate", default, with = "unix_time", skip_serializing_if = "Option::is_none")]
    pub scheduled_purge_date: Option<OffsetDateTime>,
    /// When it was deleted.
    #[serde(rename = "deletedDate", default, with = "unix_time", skip_serializing_if = "Option::is_none")]
    pub deleted_on: Option<OffsetDateTime>,
}

/// Reads a deleted type from its base type and the deletion fields in one pass
/// ([`super::deletion`]); writing goes through `#[serde(flatten)]`, which costs nothing extra.
macro_rules! deserialize_deleted {
    ($deleted:ident { $base:ident: $base_type:ty }) => {
        impl<'de> Deserialize<'de> for $deleted {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let ($base, fields) = super::deletion::deserialize::<D, $base_type>(d)?;
                Ok($deleted {
                    $base,
                    recovery_id: fields.recovery_id,
                    scheduled_purge_date: fields.scheduled_purge_date,
                    deleted_on: fields.deleted_on,
                })
            }
        }
    };
}

deserialize_deleted!(DeletedCertificate { certificate: KeyVaultCertificate });
deserialize_deleted!(DeletedCertificateProperties { properties: CertificateProperties });

impl DeletedCertificate {
    /// The certificate's name.
    pub fn name(&self) -> Option<String> {
        self.certificate.name().or_else(|| {
            self.recovery_id
                .as_deref()
                .and_then(|id| KeyVaultCertificateIdentifier::parse(id).ok())
                .map(|i| i.name().to_owned())
        })
    }
}

/// A deleted certificate's metadata (the service's `DeletedCertificateItem`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeletedCertificateProperties {
    /// The certificate's properties as they were when deleted.
    #[serde(flatten)]
    pub properties: CertificateProperties,
    /// The URL to recover or purge it.
    #[serde(rename = "recoveryId", skip_serializing_if = "Option::is_none")]
    pub recovery_id: Option<String>,
    /// When it will be purged.
    #[serde(rename = "scheduledPurgeDate", default, with = "unix_time", skip_serializing_if = "Option::is_none")]
    pub scheduled_purge_date: Option<OffsetDateTime>,
    /// When it was deleted.
    #[serde(rename = "deletedDate", default, with = "unix_time", skip_serializing_if = "Option::is_none")]
    pub deleted_on: Option<OffsetDateTime>,
}

/// The result of a backup: an opaque blob only Key Vault can read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateBackup {
    /// The backup blob (`value`, base64url on the wire).
    #[serde(default, with = "base64_url", skip_serializing_if = "Option::is_none")]
    pub value: Option<Vec<u8>>,
}

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0xf) as usize] as char);
    }
    out
}
