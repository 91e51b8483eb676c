//! Certificate contacts: who is emailed about certificate events.

use serde::{Deserialize, Serialize};

/// The vault's certificate contacts (the service's `Contacts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateContacts {
    /// `https://{vault}/certificates/contacts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The contacts.
    #[serde(default)]
    pub contacts: Vec<CertificateContact>,
}

/// One contact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateContact {
    /// Email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl CertificateContact {
    /// A contact with an email address, and optionally a name and phone.
    pub fn new(email: impl Into<String>, name: Option<String>, phone: Option<String>) -> Self {
        CertificateContact { email: Some(email.into()), name, phone }
    }
}
