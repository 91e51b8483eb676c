//! Certificate contacts: set, get, delete.

use http::Method;

use super::json_body;
use crate::call::Call;
use crate::error::Error;
use crate::models::{CertificateContact, CertificateContacts};
use crate::operation::Operation;
use crate::response;
use crate::vault::Vault;

impl Vault {
    /// `PUT /certificates/contacts`: replaces the vault's certificate contacts.
    pub fn set_contacts(&self, contacts: &[CertificateContact]) -> Result<Call<CertificateContacts>, Error> {
        if let Some(i) = contacts.iter().position(|c| c.email.as_deref().is_none_or(|e| !e.contains('@'))) {
            return Err(Error::invalid("certificate contacts", format!("contact {i} needs an email address")));
        }
        let body = CertificateContacts { id: None, contacts: contacts.to_vec() };
        let body = json_body("certificate contacts", &body)?;
        let request = self.request(Method::PUT, &["certificates", "contacts"], &[], Some(body))?;
        Ok(Call::new(request, Operation::SetContacts, response::json))
    }

    /// `GET /certificates/contacts`.
    pub fn get_contacts(&self) -> Result<Call<CertificateContacts>, Error> {
        let request = self.request(Method::GET, &["certificates", "contacts"], &[], None)?;
        Ok(Call::new(request, Operation::GetContacts, response::json))
    }

    /// `DELETE /certificates/contacts`: removes every contact; answers the removed ones.
    pub fn delete_contacts(&self) -> Result<Call<CertificateContacts>, Error> {
        let request = self.request(Method::DELETE, &["certificates", "contacts"], &[], None)?;
        Ok(Call::new(request, Operation::DeleteContacts, response::json))
    }
}
