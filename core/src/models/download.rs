//! A certificate downloaded with its private key (the certificate's secret).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::certificate::CertificateAttributes;
use super::encoding::decode_base64;
use super::enums::CertificateContentType;
use super::secret::SecretString;
use crate::error::Error;
use crate::pem;

/// The certificate's secret: the certificate chain and, when the policy made the key
/// exportable, its private key, as PEM text or base64 PKCS#12 (the service's `SecretBundle`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadedCertificate {
    /// The secret value (PEM text, or base64 PKCS#12). Never printed.
    #[serde(default)]
    pub value: SecretString,
    /// The format of `value`.
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    pub content_type: Option<CertificateContentType>,
    /// The secret id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The key id.
    #[serde(rename = "kid", skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Whether the secret is managed by a certificate (always true here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    /// The attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// A PEM certificate chain and its private key, separated.
#[derive(Clone, PartialEq, Eq)]
pub struct PemCertificateWithKey {
    /// The certificates, leaf first, each as a PEM block.
    pub certificates: Vec<String>,
    /// The private key as a PEM block (`PRIVATE KEY`, PKCS#8).
    pub private_key: SecretString,
}

impl std::fmt::Debug for PemCertificateWithKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemCertificateWithKey")
            .field("certificates", &self.certificates.len())
            .field("private_key", &self.private_key)
            .finish()
    }
}

impl DownloadedCertificate {
    /// Whether the value is PEM (by content type, or by its text when the type is absent).
    pub fn is_pem(&self) -> bool {
        match &self.content_type {
            Some(CertificateContentType::Pem) => true,
            Some(_) => false,
            None => pem::looks_like_pem(self.value.expose_secret().as_bytes()),
        }
    }

    /// Whether the value holds a private key. PEM values are checked exactly; PKCS#12 values
    /// are assumed to hold one when a key bag is present.
    pub fn has_private_key(&self) -> bool {
        if self.is_pem() {
            pem::parse(self.value.expose_secret())
                .map(|blocks| blocks.iter().any(|b| b.label.ends_with("PRIVATE KEY")))
                .unwrap_or(false)
        } else {
            self.pkcs12().map(|der| pkcs12_has_key_bag(&der)).unwrap_or(false)
        }
    }

    /// The PEM chain and key, separated. Fails with a clear error when the value is PKCS#12
    /// (download with `application/x-pem-file` to have the service convert it) or has no key
    /// (the policy's key is not exportable).
    pub fn pem(&self) -> Result<PemCertificateWithKey, Error> {
        if !self.is_pem() {
            return Err(Error::invalid(
                "downloaded certificate",
                "the secret is PKCS#12, not PEM; download with the PEM content type to have the service convert it",
            ));
        }
        let blocks = pem::parse(self.value.expose_secret())
            .map_err(|e| Error::invalid("downloaded certificate", format!("the PEM value is malformed: {e}")))?;
        let mut certificates = Vec::new();
        let mut key = None;
        for block in &blocks {
            if block.label == "CERTIFICATE" {
                certificates.push(pem::encode("CERTIFICATE", &block.der));
            } else if block.label.ends_with("PRIVATE KEY") {
                key = Some(SecretString::new(pem::encode(&block.label, &block.der)));
            }
        }
        let private_key = key.ok_or_else(not_exportable)?;
        Ok(PemCertificateWithKey { certificates, private_key })
    }

    /// The PKCS#12 (PFX) bytes. Fails when the value is PEM or not valid base64.
    pub fn pkcs12(&self) -> Result<Vec<u8>, Error> {
        if self.is_pem() {
            return Err(Error::invalid("downloaded certificate", "the secret is PEM, not PKCS#12"));
        }
        decode_base64(self.value.expose_secret()).map_err(|e| {
            Error::invalid("downloaded certificate", format!("the PKCS#12 value is not valid base64: {e}"))
        })
    }

    /// Checks that the secret carries a private key; the parser of `download_certificate` calls
    /// this so a non-exportable certificate is a clear error, not a certificate without a key.
    pub(crate) fn require_private_key(self) -> Result<Self, Error> {
        if self.has_private_key() {
            Ok(self)
        } else {
            Err(not_exportable())
        }
    }
}

fn not_exportable() -> Error {
    Error::invalid(
        "downloaded certificate",
        "the secret holds no private key: the certificate policy's key is not exportable (key_props.exportable = false), so only the public certificate can be read (get_certificate)",
    )
}

/// Whether PKCS#12 DER contains a key bag or shrouded key bag OID
/// (1.2.840.113549.1.12.10.1.1 / .2). Key Vault writes key bags in unencrypted content, so the
/// OID is visible; an encrypted authSafe would hide it, in which case we assume a key.
fn pkcs12_has_key_bag(der: &[u8]) -> bool {
    const KEY_BAG: [u8; 11] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x01];
    const SHROUDED: [u8; 11] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02];
    const CERT_BAG: [u8; 11] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x03];
    let has = |oid: &[u8]| der.windows(oid.len()).any(|w| w == oid);
    has(&KEY_BAG) || has(&SHROUDED) || !has(&CERT_BAG)
}
