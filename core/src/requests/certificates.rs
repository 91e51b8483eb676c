//! Certificates: create, get, update, delete, policy, backup, restore, merge, download.

use std::collections::BTreeMap;

use http::{Method, Response};
use time::OffsetDateTime;

use super::json_body;
use crate::call::Call;
use crate::error::Error;
use crate::models::{
    CertificateAttributes, CertificateBackup, CertificateContentType, CertificateOperation, CertificatePolicy,
    CreateCertificateParameters, DeletedCertificate, DownloadedCertificate, KeyVaultCertificate,
    MergeCertificateParameters, RestoreCertificateParameters, UpdateCertificateParameters,
};
use crate::names::{validate_certificate_name, validate_version};
use crate::operation::Operation;
use crate::response;
use crate::vault::Vault;

/// Optional settings for [`Vault::create_certificate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateCertificateOptions {
    /// Whether the certificate is enabled (service default: enabled).
    pub enabled: Option<bool>,
    /// Tags.
    pub tags: Option<BTreeMap<String, String>>,
    /// Whether the chain order is preserved.
    pub preserve_order: Option<bool>,
}

/// What [`Vault::update_certificate_properties`] changes; `None` leaves a property unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateCertificatePropertiesOptions {
    /// Enable or disable the certificate.
    pub enabled: Option<bool>,
    /// Not valid before.
    pub not_before: Option<OffsetDateTime>,
    /// Expiry.
    pub expires_on: Option<OffsetDateTime>,
    /// Replace all tags.
    pub tags: Option<BTreeMap<String, String>>,
}

/// Optional settings for [`Vault::merge_certificate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeCertificateOptions {
    /// Whether the certificate is enabled.
    pub enabled: Option<bool>,
    /// Tags.
    pub tags: Option<BTreeMap<String, String>>,
}

fn enabled_attributes(enabled: Option<bool>) -> Option<CertificateAttributes> {
    enabled.map(CertificateAttributes::enabled)
}

impl Vault {
    /// `POST /certificates/{name}/create`: starts creating a certificate (or a new version).
    /// The answer is the pending [`CertificateOperation`]; `flows::CreatePoller` polls it to
    /// the end. The policy is checked first ([`CertificatePolicy::validate_for_create`]).
    pub fn create_certificate(
        &self,
        name: &str,
        policy: &CertificatePolicy,
        options: &CreateCertificateOptions,
    ) -> Result<Call<CertificateOperation>, Error> {
        validate_certificate_name(name)?;
        policy.validate_for_create()?;
        let body = CreateCertificateParameters {
            policy: Some(policy.clone()),
            attributes: enabled_attributes(options.enabled),
            tags: options.tags.clone(),
            preserve_order: options.preserve_order,
        };
        let body = json_body("create parameters", &body)?;
        let request = self.request(Method::POST, &["certificates", name, "create"], &[], Some(body))?;
        Ok(Call::new(request, Operation::CreateCertificate, response::json))
    }

    /// `GET /certificates/{name}/`: the latest version, with its policy.
    pub fn get_certificate(&self, name: &str) -> Result<Call<KeyVaultCertificate>, Error> {
        validate_certificate_name(name)?;
        let request = self.request(Method::GET, &["certificates", name, ""], &[], None)?;
        Ok(Call::new(request, Operation::GetCertificate, response::certificate))
    }

    /// `GET /certificates/{name}/{version}`: one version (without its policy).
    pub fn get_certificate_version(&self, name: &str, version: &str) -> Result<Call<KeyVaultCertificate>, Error> {
        validate_certificate_name(name)?;
        validate_version(version)?;
        let request = self.request(Method::GET, &["certificates", name, version], &[], None)?;
        Ok(Call::new(request, Operation::GetCertificateVersion, response::certificate))
    }

    /// `PATCH /certificates/{name}/{version}`: changes enabled, validity dates or tags of a
    /// version (the latest when `version` is `None`).
    pub fn update_certificate_properties(
        &self,
        name: &str,
        version: Option<&str>,
        update: &UpdateCertificatePropertiesOptions,
    ) -> Result<Call<KeyVaultCertificate>, Error> {
        validate_certificate_name(name)?;
        if let Some(v) = version {
            validate_version(v)?;
        }
        let attributes =
            (update.enabled.is_some() || update.not_before.is_some() || update.expires_on.is_some()).then(|| {
                CertificateAttributes {
                    enabled: update.enabled,
                    not_before: update.not_before,
                    expires_on: update.expires_on,
                    ..Default::default()
                }
            });
        let body = UpdateCertificateParameters { policy: None, attributes, tags: update.tags.clone() };
        let body = json_body("update parameters", &body)?;
        let request = self.request(Method::PATCH, &["certificates", name, version.unwrap_or("")], &[], Some(body))?;
        Ok(Call::new(request, Operation::UpdateCertificateProperties, response::certificate))
    }

    /// `DELETE /certificates/{name}`: deletes every version. On a soft-delete vault the
    /// certificate stays recoverable; `flows::DeletePoller` waits until the deletion is done.
    pub fn delete_certificate(&self, name: &str) -> Result<Call<DeletedCertificate>, Error> {
        validate_certificate_name(name)?;
        let request = self.request(Method::DELETE, &["certificates", name], &[], None)?;
        Ok(Call::new(request, Operation::DeleteCertificate, response::json))
    }

    /// `GET /certificates/{name}/policy`.
    pub fn get_certificate_policy(&self, name: &str) -> Result<Call<CertificatePolicy>, Error> {
        validate_certificate_name(name)?;
        let request = self.request(Method::GET, &["certificates", name, "policy"], &[], None)?;
        Ok(Call::new(request, Operation::GetCertificatePolicy, response::json))
    }

    /// `PATCH /certificates/{name}/policy`: sets the members of `policy` that are `Some`.
    pub fn update_certificate_policy(
        &self,
        name: &str,
        policy: &CertificatePolicy,
    ) -> Result<Call<CertificatePolicy>, Error> {
        validate_certificate_name(name)?;
        policy.validate()?;
        let mut body = policy.clone();
        body.id = None;
        let body = json_body("certificate policy", &body)?;
        let request = self.request(Method::PATCH, &["certificates", name, "policy"], &[], Some(body))?;
        Ok(Call::new(request, Operation::UpdateCertificatePolicy, response::json))
    }

    /// `POST /certificates/{name}/backup`: an opaque blob of every version.
    pub fn backup_certificate(&self, name: &str) -> Result<Call<Vec<u8>>, Error> {
        validate_certificate_name(name)?;
        let request = self.request(Method::POST, &["certificates", name, "backup"], &[], None)?;
        Ok(Call::new(request, Operation::BackupCertificate, parse_backup))
    }

    /// `POST /certificates/restore`: restores a backup (every version) into this vault.
    pub fn restore_certificate_backup(&self, backup: &[u8]) -> Result<Call<KeyVaultCertificate>, Error> {
        if backup.is_empty() {
            return Err(Error::invalid("certificate backup", "the backup is empty"));
        }
        let body = RestoreCertificateParameters { value: Some(backup.to_vec()) };
        let body = json_body("restore parameters", &body)?;
        let request = self.request(Method::POST, &["certificates", "restore"], &[], Some(body))?;
        Ok(Call::new(request, Operation::RestoreCertificateBackup, response::certificate))
    }

    /// `POST /certificates/{name}/pending/merge`: completes a certificate whose issuer is
    /// `Unknown` with the certificate (and chain) signed by the external CA, DER-encoded.
    pub fn merge_certificate(
        &self,
        name: &str,
        x509_certificates: &[Vec<u8>],
        options: &MergeCertificateOptions,
    ) -> Result<Call<KeyVaultCertificate>, Error> {
        validate_certificate_name(name)?;
        if x509_certificates.is_empty() || x509_certificates.iter().any(Vec::is_empty) {
            return Err(Error::invalid("merge certificates", "give at least one non-empty DER certificate"));
        }
        let body = MergeCertificateParameters {
            x509_certificates: x509_certificates.to_vec(),
            attributes: enabled_attributes(options.enabled),
            tags: options.tags.clone(),
        };
        let body = json_body("merge parameters", &body)?;
        let request = self.request(Method::POST, &["certificates", name, "pending", "merge"], &[], Some(body))?;
        Ok(Call::new(request, Operation::MergeCertificate, response::certificate))
    }

    /// `GET /secrets/{name}/{version}`: the certificate with its private key. With
    /// `out_content_type` the service converts the format (e.g. PKCS#12 to PEM). A certificate
    /// whose key is not exportable is a clear error. Needs the `secrets/get` permission.
    pub fn download_certificate(
        &self,
        name: &str,
        version: Option<&str>,
        out_content_type: Option<&CertificateContentType>,
    ) -> Result<Call<DownloadedCertificate>, Error> {
        validate_certificate_name(name)?;
        if let Some(v) = version {
            validate_version(v)?;
        }
        let query: Vec<(&str, &str)> = out_content_type.map(|ct| ("outContentType", ct.as_str())).into_iter().collect();
        let request = self.request(Method::GET, &["secrets", name, version.unwrap_or("")], &query, None)?;
        Ok(Call::new(request, Operation::DownloadCertificate, parse_download))
    }
}

fn parse_backup(operation: Operation, response: &Response<Vec<u8>>) -> Result<Vec<u8>, Error> {
    let backup: CertificateBackup = response::json(operation, response)?;
    backup
        .value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::unexpected(response.status(), "the backup response has no `value`", response.body()))
}

fn parse_download(operation: Operation, response: &Response<Vec<u8>>) -> Result<DownloadedCertificate, Error> {
    let secret: DownloadedCertificate = response::json(operation, response)?;
    secret.require_private_key()
}
