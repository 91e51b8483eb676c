//! [`VaultFlows`]: one vault, one session and the flow options, with a method per operation
//! named as in the Python SDK. This is what a transport wraps.

use http::Request;

use super::create::CreatePoller;
use super::delete::{DeletePoller, RecoverPoller};
use super::exchange::Exchange;
use super::pager::Pager;
use super::poller::PollOptions;
use super::retry::RetryOptions;
use super::send_request::SendRequest;
use crate::auth::Session;
use crate::call::Call;
use crate::error::Error;
use crate::models::{CertificatePolicy, CertificateProperties, DeletedCertificateProperties, IssuerProperties};
use crate::operation::Operation;
use crate::requests::{CreateCertificateOptions, ListOptions};
use crate::vault::Vault;

/// The options of every flow a [`VaultFlows`] makes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlowOptions {
    /// Retries of every request ([`RetryOptions::default`]).
    pub retry: RetryOptions,
    /// Polling of certificate creation ([`PollOptions::create`]).
    pub create_polling: PollOptions,
    /// Polling of deletion and recovery ([`PollOptions::delete_recover`]).
    pub delete_recover_polling: PollOptions,
}

impl Default for FlowOptions {
    fn default() -> Self {
        FlowOptions::with_defaults()
    }
}

impl FlowOptions {
    /// Sets the retry options.
    pub fn retry(mut self, retry: RetryOptions) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the polling of certificate creation.
    pub fn create_polling(mut self, polling: PollOptions) -> Self {
        self.create_polling = polling;
        self
    }

    /// Sets the polling of deletion and recovery.
    pub fn delete_recover_polling(mut self, polling: PollOptions) -> Self {
        self.delete_recover_polling = polling;
        self
    }

    fn with_defaults() -> Self {
        FlowOptions {
            retry: RetryOptions::default(),
            create_polling: PollOptions::create(),
            delete_recover_polling: PollOptions::delete_recover(),
        }
    }
}

/// A vault, the session shared by its calls, and the flow options: makes the flow of every
/// operation. Cheap to clone; clones share the session.
///
/// ```
/// use kvcerts_core::auth::Session;
/// use kvcerts_core::flows::{FlowOptions, VaultFlows};
/// use kvcerts_core::Vault;
///
/// let flows = VaultFlows::new(Vault::new("https://myvault.vault.azure.net").unwrap(), Session::default());
/// let get = flows.call(flows.vault().get_certificate("web").unwrap());
/// let pager = flows.list_properties_of_certificates(&Default::default()).unwrap();
/// # drop((get, pager));
/// ```
#[derive(Debug, Clone)]
pub struct VaultFlows {
    vault: Vault,
    session: Session,
    options: FlowOptions,
}

impl VaultFlows {
    /// Flows for `vault` with the default options.
    pub fn new(vault: Vault, session: Session) -> Self {
        VaultFlows { vault, session, options: FlowOptions::with_defaults() }
    }

    /// Flows for `vault` with `options`.
    pub fn with_options(vault: Vault, session: Session, options: FlowOptions) -> Self {
        VaultFlows { vault, session, options }
    }

    /// The vault (the request factory for single calls).
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The shared session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The options.
    pub fn options(&self) -> &FlowOptions {
        &self.options
    }

    /// Any single call (`get_certificate`, `import_certificate`, …) through authentication and
    /// retries.
    pub fn call<T>(&self, call: Call<T>) -> Exchange<T> {
        Exchange::new(&self.session, call, &self.options.retry)
    }

    /// The raw escape hatch: a request you built, with the same authentication and retries.
    pub fn send_request(&self, request: Request<Vec<u8>>) -> SendRequest {
        SendRequest::new(&self.session, request, &self.options.retry)
    }

    /// `begin_create_certificate`.
    pub fn begin_create_certificate(
        &self,
        name: &str,
        policy: &CertificatePolicy,
        options: &CreateCertificateOptions,
    ) -> Result<CreatePoller, Error> {
        CreatePoller::begin(
            &self.session,
            &self.vault,
            name,
            policy,
            options,
            &self.options.retry,
            &self.options.create_polling,
        )
    }

    /// Resumes a creation poller from its continuation token.
    pub fn resume_create_certificate(&self, continuation_token: &str) -> Result<CreatePoller, Error> {
        CreatePoller::resume(
            &self.session,
            &self.vault,
            continuation_token,
            &self.options.retry,
            &self.options.create_polling,
        )
    }

    /// `begin_delete_certificate`.
    pub fn begin_delete_certificate(&self, name: &str) -> Result<DeletePoller, Error> {
        DeletePoller::begin(&self.session, &self.vault, name, &self.options.retry, &self.options.delete_recover_polling)
    }

    /// Resumes a deletion poller from its continuation token.
    pub fn resume_delete_certificate(&self, continuation_token: &str) -> Result<DeletePoller, Error> {
        DeletePoller::resume(
            &self.session,
            &self.vault,
            continuation_token,
            &self.options.retry,
            &self.options.delete_recover_polling,
        )
    }

    /// `begin_recover_deleted_certificate`.
    pub fn begin_recover_deleted_certificate(&self, name: &str) -> Result<RecoverPoller, Error> {
        RecoverPoller::begin(
            &self.session,
            &self.vault,
            name,
            &self.options.retry,
            &self.options.delete_recover_polling,
        )
    }

    /// Resumes a recovery poller from its continuation token.
    pub fn resume_recover_deleted_certificate(&self, continuation_token: &str) -> Result<RecoverPoller, Error> {
        RecoverPoller::resume(
            &self.session,
            &self.vault,
            continuation_token,
            &self.options.retry,
            &self.options.delete_recover_polling,
        )
    }

    /// `list_properties_of_certificates`.
    pub fn list_properties_of_certificates(
        &self,
        options: &ListOptions,
    ) -> Result<Pager<CertificateProperties>, Error> {
        Pager::list_properties_of_certificates(&self.session, &self.vault, options, &self.options.retry)
    }

    /// `list_properties_of_certificate_versions`.
    pub fn list_properties_of_certificate_versions(
        &self,
        name: &str,
        options: &ListOptions,
    ) -> Result<Pager<CertificateProperties>, Error> {
        Pager::list_properties_of_certificate_versions(&self.session, &self.vault, name, options, &self.options.retry)
    }

    /// `list_deleted_certificates`.
    pub fn list_deleted_certificates(
        &self,
        options: &ListOptions,
    ) -> Result<Pager<DeletedCertificateProperties>, Error> {
        Pager::list_deleted_certificates(&self.session, &self.vault, options, &self.options.retry)
    }

    /// `list_properties_of_issuers`.
    pub fn list_properties_of_issuers(&self, options: &ListOptions) -> Result<Pager<IssuerProperties>, Error> {
        Pager::list_properties_of_issuers(&self.session, &self.vault, options, &self.options.retry)
    }

    /// Resumes the list `operation` from a link saved with [`Pager::continuation`]; see
    /// [`Pager::resume`] for what is refused.
    pub fn resume_list<T: serde::de::DeserializeOwned>(
        &self,
        operation: Operation,
        continuation: &str,
    ) -> Result<Pager<T>, Error> {
        Pager::resume(&self.session, &self.vault, operation, continuation, &self.options.retry)
    }

    /// A poller for the creation of `name` started elsewhere (by another process, the portal
    /// or the Azure CLI), without its continuation token: the first step polls at once. A name
    /// with no creation on record ends in [`CreateOutcome::Deleted`](super::CreateOutcome::Deleted)
    /// (the service answers 404).
    pub fn create_certificate_poller(&self, name: &str) -> Result<CreatePoller, Error> {
        CreatePoller::for_certificate(
            &self.session,
            &self.vault,
            name,
            &self.options.retry,
            &self.options.create_polling,
        )
    }
}
