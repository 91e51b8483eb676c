//! Certificate issuers: create, update, get, delete.

use http::Method;

use super::json_body;
use crate::call::Call;
use crate::error::Error;
use crate::models::{
    AdministratorDetails, CertificateIssuer, IssuerAttributes, IssuerCredentials, OrganizationDetails, SecretString,
};
use crate::names::validate_issuer_name;
use crate::operation::Operation;
use crate::response;
use crate::vault::Vault;

/// The optional parts of an issuer, for [`Vault::create_issuer`] and [`Vault::update_issuer`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuerOptions {
    /// The account id at the provider.
    pub account_id: Option<String>,
    /// The account password (never printed).
    pub password: Option<SecretString>,
    /// The organization id.
    pub organization_id: Option<String>,
    /// The organization's administrators.
    pub admin_contacts: Option<Vec<AdministratorDetails>>,
    /// Whether the issuer is enabled.
    pub enabled: Option<bool>,
}

impl IssuerOptions {
    fn to_issuer(&self, provider: Option<&str>) -> CertificateIssuer {
        let credentials = (self.account_id.is_some() || self.password.is_some())
            .then(|| IssuerCredentials { account_id: self.account_id.clone(), password: self.password.clone() });
        let organization_details =
            (self.organization_id.is_some() || self.admin_contacts.is_some()).then(|| OrganizationDetails {
                id: self.organization_id.clone(),
                admin_contacts: self.admin_contacts.clone(),
                zip: None,
            });
        CertificateIssuer {
            id: None,
            provider: provider.map(str::to_owned),
            credentials,
            organization_details,
            attributes: self.enabled.map(|enabled| IssuerAttributes { enabled: Some(enabled), ..Default::default() }),
        }
    }
}

impl Vault {
    /// `PUT /certificates/issuers/{name}`: creates or replaces an issuer.
    pub fn create_issuer(
        &self,
        name: &str,
        provider: &str,
        options: &IssuerOptions,
    ) -> Result<Call<CertificateIssuer>, Error> {
        validate_issuer_name(name)?;
        if provider.trim().is_empty() {
            return Err(Error::invalid("issuer provider", "the provider is empty (e.g. DigiCert, GlobalSign)"));
        }
        let body = json_body("issuer", &options.to_issuer(Some(provider)))?;
        let request = self.request(Method::PUT, &["certificates", "issuers", name], &[], Some(body))?;
        Ok(Call::new(request, Operation::CreateIssuer, response::json))
    }

    /// `PATCH /certificates/issuers/{name}`: changes the parts that are `Some`.
    pub fn update_issuer(
        &self,
        name: &str,
        provider: Option<&str>,
        options: &IssuerOptions,
    ) -> Result<Call<CertificateIssuer>, Error> {
        validate_issuer_name(name)?;
        let body = json_body("issuer", &options.to_issuer(provider))?;
        let request = self.request(Method::PATCH, &["certificates", "issuers", name], &[], Some(body))?;
        Ok(Call::new(request, Operation::UpdateIssuer, response::json))
    }

    /// `GET /certificates/issuers/{name}`.
    pub fn get_issuer(&self, name: &str) -> Result<Call<CertificateIssuer>, Error> {
        validate_issuer_name(name)?;
        let request = self.request(Method::GET, &["certificates", "issuers", name], &[], None)?;
        Ok(Call::new(request, Operation::GetIssuer, response::json))
    }

    /// `DELETE /certificates/issuers/{name}`.
    pub fn delete_issuer(&self, name: &str) -> Result<Call<CertificateIssuer>, Error> {
        validate_issuer_name(name)?;
        let request = self.request(Method::DELETE, &["certificates", "issuers", name], &[], None)?;
        Ok(Call::new(request, Operation::DeleteIssuer, response::json))
    }
}
