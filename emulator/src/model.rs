//! Wire models that the emulator reads from request bodies and stores.
//!
//! Field names follow the Key Vault wire format (`key_props`, `secret_props`, `contentType`, …).
//! Every field is optional so that partial documents (policy updates) parse; defaults are applied
//! by [`crate::policy`]. Unknown fields are ignored, as the service does.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A certificate policy (`CertificatePolicy`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Policy {
    /// Key properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_props: Option<KeyProps>,
    /// Secret properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_props: Option<SecretProps>,
    /// X.509 properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x509_props: Option<X509Props>,
    /// Lifetime actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_actions: Option<Vec<LifetimeAction>>,
    /// Issuer parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerParams>,
    /// Policy attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<PolicyAttributes>,
}

/// Key properties of a policy (`KeyProperties`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct KeyProps {
    /// Whether the private key can be exported with the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exportable: Option<bool>,
    /// Key type: `RSA`, `RSA-HSM`, `EC`, `EC-HSM`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kty: Option<String>,
    /// Key size in bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_size: Option<u32>,
    /// Whether renewals reuse the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_key: Option<bool>,
    /// Elliptic curve name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
}

/// Secret properties of a policy (`SecretProperties`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SecretProps {
    /// `application/x-pkcs12` or `application/x-pem-file`.
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// X.509 properties of a policy (`X509CertificateProperties`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct X509Props {
    /// X.500 distinguished name of the subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Subject alternative names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sans: Option<Sans>,
    /// Extended key usage OIDs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ekus: Option<Vec<String>>,
    /// Key usage names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<Vec<String>>,
    /// Validity in months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_months: Option<u32>,
    /// Basic constraints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_constraints: Option<BasicConstraints>,
}

/// Subject alternative names (`SubjectAlternativeNames`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Sans {
    /// RFC 822 e-mail addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    /// DNS names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<Vec<String>>,
    /// User principal names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upns: Option<Vec<String>>,
    /// URIs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uris: Option<Vec<String>>,
    /// IP addresses.
    #[serde(rename = "ipAddresses", skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Vec<String>>,
}

impl Sans {
    /// True when no name of any kind is present.
    pub fn is_empty(&self) -> bool {
        [&self.emails, &self.dns_names, &self.upns, &self.uris, &self.ip_addresses]
            .iter()
            .all(|v| v.as_ref().is_none_or(|v| v.is_empty()))
    }
}

/// Basic constraints of the certificate.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BasicConstraints {
    /// Whether the certificate is a CA.
    #[serde(default)]
    pub ca: bool,
}

/// One lifetime action.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LifetimeAction {
    /// When the action triggers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// What happens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
}

/// Lifetime action trigger.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Trigger {
    /// Percentage of lifetime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_percentage: Option<i64>,
    /// Days before expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_before_expiry: Option<i64>,
}

/// Lifetime action type.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Action {
    /// `EmailContacts` or `AutoRenew`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
}

/// Issuer parameters (`IssuerParameters`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IssuerParams {
    /// `Self`, `Unknown` or the name of an issuer object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Certificate type for the issuer provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cty: Option<String>,
    /// Certificate transparency flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_transparency: Option<bool>,
}

/// Policy attributes (enabled, created, updated).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PolicyAttributes {
    /// Whether lifetime management is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Creation time, Unix seconds (read-only on the wire).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// Update time, Unix seconds (read-only on the wire).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<i64>,
}

/// Writable certificate attributes sent by clients.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AttributesIn {
    /// Enabled flag.
    pub enabled: Option<bool>,
    /// Not-before, Unix seconds.
    pub nbf: Option<i64>,
    /// Expiry, Unix seconds.
    pub exp: Option<i64>,
}

/// Tags as sent on the wire.
pub type Tags = Map<String, Value>;

/// Body of `POST /certificates/{name}/create`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateParams {
    /// Policy.
    pub policy: Option<Policy>,
    /// Attributes for the new version.
    pub attributes: Option<AttributesIn>,
    /// Tags for the new version.
    pub tags: Option<Tags>,
}

/// Body of `POST /certificates/{name}/import`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImportParams {
    /// PEM text, base64 of PEM, or base64 PKCS#12.
    pub value: Option<String>,
    /// PKCS#12 password.
    pub pwd: Option<String>,
    /// Policy.
    pub policy: Option<Policy>,
    /// Attributes.
    pub attributes: Option<AttributesIn>,
    /// Tags.
    pub tags: Option<Tags>,
}

/// Body of `PATCH /certificates/{name}/{version}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UpdateParams {
    /// Policy update.
    pub policy: Option<Value>,
    /// Attributes.
    pub attributes: Option<AttributesIn>,
    /// Tags (replace).
    pub tags: Option<Tags>,
}

/// Body of `POST /certificates/{name}/pending/merge`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MergeParams {
    /// Base64 DER certificates, leaf first.
    pub x5c: Option<Vec<String>>,
    /// Attributes.
    pub attributes: Option<AttributesIn>,
    /// Tags.
    pub tags: Option<Tags>,
}

/// Body of `PATCH /certificates/{name}/pending`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OperationUpdate {
    /// Must be `true` to cancel.
    pub cancellation_requested: Option<bool>,
}

/// Body of `POST /certificates/restore`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RestoreParams {
    /// Base64url backup blob.
    pub value: Option<String>,
}

/// One certificate contact.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Contact {
    /// E-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Body of `PUT /certificates/contacts`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactsIn {
    /// The contacts.
    pub contacts: Option<Vec<Contact>>,
}

/// Issuer credentials.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IssuerCredentials {
    /// Account id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Password (never echoed back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pwd: Option<String>,
}

/// Organization administrator.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AdminDetails {
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Organization details of an issuer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OrgDetails {
    /// Organization id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Administrators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_details: Option<Vec<AdminDetails>>,
}

/// Issuer attributes as sent by clients.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IssuerAttributesIn {
    /// Enabled flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Body of `PUT`/`PATCH /certificates/issuers/{name}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IssuerIn {
    /// Provider name.
    pub provider: Option<String>,
    /// Credentials.
    pub credentials: Option<IssuerCredentials>,
    /// Organization details.
    pub org_details: Option<OrgDetails>,
    /// Attributes.
    pub attributes: Option<IssuerAttributesIn>,
}
