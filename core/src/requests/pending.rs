//! The pending certificate operation: get, cancel, delete.

use http::Method;

use super::json_body;
use crate::call::Call;
use crate::error::Error;
use crate::models::{CertificateOperation, CertificateOperationUpdateParameters};
use crate::names::validate_certificate_name;
use crate::operation::Operation;
use crate::response;
use crate::vault::Vault;

impl Vault {
    /// `GET /certificates/{name}/pending`: the state of the certificate's creation.
    pub fn get_certificate_operation(&self, name: &str) -> Result<Call<CertificateOperation>, Error> {
        validate_certificate_name(name)?;
        let request = self.request(Method::GET, &["certificates", name, "pending"], &[], None)?;
        Ok(Call::new(request, Operation::GetCertificateOperation, response::json))
    }

    /// `PATCH /certificates/{name}/pending` with `cancellation_requested: true`.
    pub fn cancel_certificate_operation(&self, name: &str) -> Result<Call<CertificateOperation>, Error> {
        validate_certificate_name(name)?;
        let body =
            json_body("operation update", &CertificateOperationUpdateParameters { cancellation_requested: true })?;
        let request = self.request(Method::PATCH, &["certificates", name, "pending"], &[], Some(body))?;
        Ok(Call::new(request, Operation::CancelCertificateOperation, response::json))
    }

    /// `DELETE /certificates/{name}/pending`: deletes the operation (and stops it).
    pub fn delete_certificate_operation(&self, name: &str) -> Result<Call<CertificateOperation>, Error> {
        validate_certificate_name(name)?;
        let request = self.request(Method::DELETE, &["certificates", name, "pending"], &[], None)?;
        Ok(Call::new(request, Operation::DeleteCertificateOperation, response::json))
    }
}
