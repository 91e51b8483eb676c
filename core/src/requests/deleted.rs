//! Deleted certificates: get, purge, recover.

use http::Method;

use crate::call::Call;
use crate::error::Error;
use crate::models::{DeletedCertificate, KeyVaultCertificate};
use crate::names::validate_certificate_name;
use crate::operation::Operation;
use crate::response;
use crate::vault::Vault;

impl Vault {
    /// `GET /deletedcertificates/{name}`.
    pub fn get_deleted_certificate(&self, name: &str) -> Result<Call<DeletedCertificate>, Error> {
        validate_certificate_name(name)?;
        let request = self.request(Method::GET, &["deletedcertificates", name], &[], None)?;
        Ok(Call::new(request, Operation::GetDeletedCertificate, response::json))
    }

    /// `DELETE /deletedcertificates/{name}`: deletes for good (204).
    pub fn purge_deleted_certificate(&self, name: &str) -> Result<Call<()>, Error> {
        validate_certificate_name(name)?;
        let request = self.request(Method::DELETE, &["deletedcertificates", name], &[], None)?;
        Ok(Call::new(request, Operation::PurgeDeletedCertificate, response::empty))
    }

    /// `POST /deletedcertificates/{name}/recover`: starts recovering a deleted certificate;
    /// `flows::RecoverPoller` waits until it is readable again.
    pub fn recover_deleted_certificate(&self, name: &str) -> Result<Call<KeyVaultCertificate>, Error> {
        validate_certificate_name(name)?;
        let request = self.request(Method::POST, &["deletedcertificates", name, "recover"], &[], None)?;
        Ok(Call::new(request, Operation::RecoverDeletedCertificate, response::certificate))
    }
}
