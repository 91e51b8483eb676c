//! Certificate issuers.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::encoding::unix_time;
use super::secret::SecretString;

/// A certificate issuer (the service's `IssuerBundle`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateIssuer {
    /// `https://{vault}/certificates/issuers/{name}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The issuer provider, e.g. `DigiCert`, `GlobalSign`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The account credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<IssuerCredentials>,
    /// The organization (`org_details`).
    #[serde(rename = "org_details", skip_serializing_if = "Option::is_none")]
    pub organization_details: Option<OrganizationDetails>,
    /// The attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<IssuerAttributes>,
}

impl CertificateIssuer {
    /// The issuer's name, from its id.
    pub fn name(&self) -> Option<&str> {
        self.id.as_deref().and_then(|id| id.rsplit('/').next()).filter(|n| !n.is_empty())
    }
}

/// An issuer in a list (the service's `CertificateIssuerItem`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerProperties {
    /// The issuer id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

impl IssuerProperties {
    /// The issuer's name, from its id.
    pub fn name(&self) -> Option<&str> {
        self.id.as_deref().and_then(|id| id.rsplit('/').next()).filter(|n| !n.is_empty())
    }
}

/// The issuer account's credentials. The password is never printed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerCredentials {
    /// The account id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The password (`pwd`); the service never returns it.
    #[serde(rename = "pwd", skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretString>,
}

/// The organization behind an issuer account (`org_details`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationDetails {
    /// The organization id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The administrators.
    #[serde(rename = "admin_details", skip_serializing_if = "Option::is_none")]
    pub admin_contacts: Option<Vec<AdministratorDetails>>,
    /// A postal code the service reports (often 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zip: Option<i64>,
}

/// An administrator of the issuer account (`admin_details`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdministratorDetails {
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Email address (`email`).
    #[serde(rename = "email", skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Attributes of an issuer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerAttributes {
    /// Whether the issuer is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Creation time.
    #[serde(rename = "created", default, with = "unix_time", skip_serializing_if = "Option::is_none")]
    pub created_on: Option<OffsetDateTime>,
    /// Last update time.
    #[serde(rename = "updated", default, with = "unix_time", skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_redacted_but_sent() {
        let c = IssuerCredentials { account_id: Some("acct".into()), password: Some(SecretString::new("p@ss")) };
        assert!(!format!("{c:?}").contains("p@ss"));
        assert_eq!(serde_json::to_value(&c).unwrap(), serde_json::json!({"account_id": "acct", "pwd": "p@ss"}));
    }
}
