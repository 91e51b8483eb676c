//! List operations: the first page of each list, and following a `nextLink`.

use http::{Method, Response};

use crate::call::Call;
use crate::error::Error;
use crate::models::{CertificateProperties, DeletedCertificateProperties, IssuerProperties, Page};
use crate::names::validate_certificate_name;
use crate::operation::Operation;
use crate::response;
use crate::vault::Vault;

/// Largest page the service serves.
pub const MAX_PAGE_SIZE: u32 = 25;

/// Options for list operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Items per page (`maxresults`, 1–25; the service default is 25).
    pub max_page_size: Option<u32>,
    /// Include certificates whose creation has not finished (`includePending`; certificates and
    /// deleted certificates only).
    pub include_pending: Option<bool>,
}

impl ListOptions {
    /// Sets the page size.
    pub fn max_page_size(mut self, size: u32) -> Self {
        self.max_page_size = Some(size);
        self
    }

    /// Sets `includePending`.
    pub fn include_pending(mut self, include: bool) -> Self {
        self.include_pending = Some(include);
        self
    }

    fn query(&self, allow_pending: bool) -> Result<Vec<(&'static str, String)>, Error> {
        let mut query = Vec::new();
        if let Some(size) = self.max_page_size {
            if !(1..=MAX_PAGE_SIZE).contains(&size) {
                return Err(Error::invalid("page size", format!("maxresults must be 1-{MAX_PAGE_SIZE}, not {size}")));
            }
            query.push(("maxresults", size.to_string()));
        }
        if let Some(include) = self.include_pending {
            if !allow_pending {
                return Err(Error::invalid(
                    "list options",
                    "includePending applies only to certificates and deleted certificates",
                ));
            }
            query.push(("includePending", include.to_string()));
        }
        Ok(query)
    }
}

fn borrowed<'a>(query: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    query.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Which list a page belongs to, so a `nextLink` is parsed as the right item type.
pub(crate) fn list_page<T: serde::de::DeserializeOwned>(
    operation: Operation,
    response: &Response<Vec<u8>>,
) -> Result<Page<T>, Error> {
    response::json(operation, response)
}

impl Vault {
    /// `GET /certificates`: the first page of the vault's certificates (latest versions).
    pub fn list_properties_of_certificates(
        &self,
        options: &ListOptions,
    ) -> Result<Call<Page<CertificateProperties>>, Error> {
        let query = options.query(true)?;
        let request = self.request(Method::GET, &["certificates"], &borrowed(&query), None)?;
        Ok(Call::new(request, Operation::ListPropertiesOfCertificates, list_page))
    }

    /// `GET /certificates/{name}/versions`: the first page of a certificate's versions.
    pub fn list_properties_of_certificate_versions(
        &self,
        name: &str,
        options: &ListOptions,
    ) -> Result<Call<Page<CertificateProperties>>, Error> {
        validate_certificate_name(name)?;
        let query = options.query(false)?;
        let request = self.request(Method::GET, &["certificates", name, "versions"], &borrowed(&query), None)?;
        Ok(Call::new(request, Operation::ListPropertiesOfCertificateVersions, list_page))
    }

    /// `GET /deletedcertificates`: the first page of deleted certificates.
    pub fn list_deleted_certificates(
        &self,
        options: &ListOptions,
    ) -> Result<Call<Page<DeletedCertificateProperties>>, Error> {
        let query = options.query(true)?;
        let request = self.request(Method::GET, &["deletedcertificates"], &borrowed(&query), None)?;
        Ok(Call::new(request, Operation::ListDeletedCertificates, list_page))
    }

    /// `GET /certificates/issuers`: the first page of issuers.
    pub fn list_properties_of_issuers(&self, options: &ListOptions) -> Result<Call<Page<IssuerProperties>>, Error> {
        let query = options.query(false)?;
        let request = self.request(Method::GET, &["certificates", "issuers"], &borrowed(&query), None)?;
        Ok(Call::new(request, Operation::ListPropertiesOfIssuers, list_page))
    }

    /// The next page of a list, from the previous page's `nextLink`, exactly as given. A link
    /// to another host (or scheme or port) is refused: the token would follow it.
    pub fn next_page<T: serde::de::DeserializeOwned>(
        &self,
        operation: Operation,
        next_link: &str,
    ) -> Result<Call<Page<T>>, Error> {
        let request = self.request_to_link(next_link)?;
        Ok(Call::new(request, operation, list_page))
    }
}
