//! [`CertificateClient`]: every certificate operation, driven through the core flows.

use std::sync::Arc;

use kvcerts_core::flows::{Flow, VaultFlows};
use kvcerts_core::models::{CertificatePolicy, CertificateProperties, DeletedCertificateProperties, IssuerProperties};
use kvcerts_core::{Call, ClientOptions, CreateCertificateOptions, Error, ListOptions, Vault};

use crate::credential::TokenCredential;
use crate::driver::Driver;
use crate::pager::ItemPager;
use crate::poller::{CreateCertificatePoller, DeleteCertificatePoller, RecoverDeletedCertificatePoller};
use crate::runtime::Runtime;
use crate::sender::{ConnectionOptions, Sender};

/// Options for a [`CertificateClient`]; build one with [`CertificateClient::builder`].
#[derive(Clone)]
pub struct ClientBuilder {
    vault_url: String,
    credential: Arc<dyn TokenCredential>,
    options: ClientOptions,
    connection: ConnectionOptions,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("vault_url", &self.vault_url)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    kvcerts_core::client_builder_methods!();

    /// Runs on this runtime (timer, spawner, TCP connector) instead of the default
    /// ([`Runtime::tokio`] with the `tokio` feature). See the [`runtime`](crate::runtime) module.
    pub fn runtime(mut self, runtime: Runtime) -> Self {
        self.connection.runtime = Some(runtime);
        self
    }

    /// Validates everything and builds the client.
    pub fn build(self) -> Result<CertificateClient, Error> {
        let flows = self.options.flows(&self.vault_url)?;
        let sender = Sender::new(&self.connection)?;
        Ok(CertificateClient { inner: Arc::new(Inner { flows, driver: Driver::new(sender, self.credential) }) })
    }
}

struct Inner {
    flows: VaultFlows,
    driver: Driver,
}

/// An async client for one vault's certificates.
///
/// `Send + Sync + Clone`: clones share the connection pool, the challenge and the token cache,
/// and any number of calls may be in flight at once (50 calls started together on a fresh
/// client cost one challenge round trip and one token request). Every future is `Send`;
/// dropping one cancels its call (the request in flight is abandoned and its connection not
/// reused; a challenge probe or token fetch it owned is released for the next caller).
#[derive(Clone)]
pub struct CertificateClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for CertificateClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateClient").field("vault_url", &self.vault_url()).finish_non_exhaustive()
    }
}

impl CertificateClient {
    /// A client with default options.
    pub fn new(vault_url: &str, credential: Arc<dyn TokenCredential>) -> Result<Self, Error> {
        CertificateClient::builder(vault_url, credential).build()
    }

    /// A builder for a client with options.
    pub fn builder(vault_url: &str, credential: Arc<dyn TokenCredential>) -> ClientBuilder {
        ClientBuilder {
            vault_url: vault_url.to_owned(),
            credential,
            options: ClientOptions::default(),
            connection: ConnectionOptions::default(),
        }
    }

    /// The vault URL.
    pub fn vault_url(&self) -> &str {
        self.inner.flows.vault().url()
    }

    /// The request factory, for building requests by hand.
    pub fn vault(&self) -> &Vault {
        self.inner.flows.vault()
    }

    pub(crate) async fn drive<F: Flow>(&self, flow: &mut F) -> Result<F::Output, Error> {
        self.inner.driver.run(flow).await
    }

    pub(crate) async fn drive_step<F: Flow>(&self, flow: &mut F) -> Option<Result<F::Output, Error>> {
        self.inner.driver.run_until_wait(flow).await
    }

    /// Sends one call through authentication and retries.
    async fn call<T>(&self, call: Call<T>) -> Result<T, Error> {
        let mut exchange = self.inner.flows.call(call);
        self.drive(&mut exchange).await
    }

    kvcerts_core::client_methods!(async);

    /// Starts creating a certificate; the poller follows it to the end.
    pub fn begin_create_certificate(
        &self,
        name: &str,
        policy: &CertificatePolicy,
        options: &CreateCertificateOptions,
    ) -> Result<CreateCertificatePoller, Error> {
        let flow = self.inner.flows.begin_create_certificate(name, policy, options)?;
        Ok(CreateCertificatePoller::new(self.clone(), flow))
    }

    /// Resumes a creation poller from its continuation token.
    pub fn resume_create_certificate(&self, continuation_token: &str) -> Result<CreateCertificatePoller, Error> {
        let flow = self.inner.flows.resume_create_certificate(continuation_token)?;
        Ok(CreateCertificatePoller::new(self.clone(), flow))
    }

    /// Deletes a certificate; the poller waits until the deletion is complete.
    pub fn begin_delete_certificate(&self, name: &str) -> Result<DeleteCertificatePoller, Error> {
        let flow = self.inner.flows.begin_delete_certificate(name)?;
        Ok(DeleteCertificatePoller::new(self.clone(), flow))
    }

    /// Resumes a deletion poller from its continuation token.
    pub fn resume_delete_certificate(&self, continuation_token: &str) -> Result<DeleteCertificatePoller, Error> {
        let flow = self.inner.flows.resume_delete_certificate(continuation_token)?;
        Ok(DeleteCertificatePoller::new(self.clone(), flow))
    }

    /// Recovers a deleted certificate; the poller waits until it is readable again.
    pub fn begin_recover_deleted_certificate(&self, name: &str) -> Result<RecoverDeletedCertificatePoller, Error> {
        let flow = self.inner.flows.begin_recover_deleted_certificate(name)?;
        Ok(RecoverDeletedCertificatePoller::new(self.clone(), flow))
    }

    /// Resumes a recovery poller from its continuation token.
    pub fn resume_recover_deleted_certificate(
        &self,
        continuation_token: &str,
    ) -> Result<RecoverDeletedCertificatePoller, Error> {
        let flow = self.inner.flows.resume_recover_deleted_certificate(continuation_token)?;
        Ok(RecoverDeletedCertificatePoller::new(self.clone(), flow))
    }

    /// The vault's certificates (latest versions), fetched page by page as you consume the stream.
    pub fn list_properties_of_certificates(
        &self,
        options: &ListOptions,
    ) -> Result<ItemPager<CertificateProperties>, Error> {
        Ok(ItemPager::new(self.clone(), self.inner.flows.list_properties_of_certificates(options)?))
    }

    /// A certificate's versions.
    pub fn list_properties_of_certificate_versions(
        &self,
        name: &str,
        options: &ListOptions,
    ) -> Result<ItemPager<CertificateProperties>, Error> {
        Ok(ItemPager::new(self.clone(), self.inner.flows.list_properties_of_certificate_versions(name, options)?))
    }

    /// The deleted certificates.
    pub fn list_deleted_certificates(
        &self,
        options: &ListOptions,
    ) -> Result<ItemPager<DeletedCertificateProperties>, Error> {
        Ok(ItemPager::new(self.clone(), self.inner.flows.list_deleted_certificates(options)?))
    }

    /// The issuers.
    pub fn list_properties_of_issuers(&self, options: &ListOptions) -> Result<ItemPager<IssuerProperties>, Error> {
        Ok(ItemPager::new(self.clone(), self.inner.flows.list_properties_of_issuers(options)?))
    }

    /// Sends a request you built through the same authentication and retry flow. The URL must
    /// point at this vault.
    pub async fn send_request(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
        let mut flow = self.inner.flows.send_request(request);
        self.drive(&mut flow).await
    }
}
