//! [`CertificateClient`]: every certificate operation, driven through the core flows.

use std::sync::Arc;
use std::time::Duration;

use kvcerts_core::auth::{Challenge, Session, SessionOptions};
use kvcerts_core::flows::{Flow, FlowOptions, PollOptions, RetryOptions, VaultFlows};
use kvcerts_core::models::{CertificatePolicy, CertificateProperties, DeletedCertificateProperties, IssuerProperties};
use kvcerts_core::{ApiVersion, Call, CreateCertificateOptions, Error, ListOptions, Vault, VaultOptions};

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
    api_version: ApiVersion,
    retry: RetryOptions,
    create_polling: PollOptions,
    delete_recover_polling: PollOptions,
    connection: ConnectionOptions,
    verify_challenge_resource: bool,
    allow_insecure_loopback: bool,
    challenge: Option<Challenge>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("vault_url", &self.vault_url)
            .field("api_version", &self.api_version)
            .field("verify_challenge_resource", &self.verify_challenge_resource)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The REST api-version (default: the newest).
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        self
    }

    /// Retry behaviour (default: [`RetryOptions::default`]); `RetryOptions::disabled()` turns
    /// retries off.
    pub fn retry(mut self, retry: RetryOptions) -> Self {
        self.retry = retry;
        self
    }

    /// Polling of certificate creation (default: `Retry-After`, else every 5 s).
    pub fn create_polling(mut self, polling: PollOptions) -> Self {
        self.create_polling = polling;
        self
    }

    /// Polling of deletion and recovery (default: every 2 s).
    pub fn delete_recover_polling(mut self, polling: PollOptions) -> Self {
        self.delete_recover_polling = polling;
        self
    }

    /// Sets every poll interval at once (e.g. short intervals against the emulator).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.create_polling = self.create_polling.interval(interval);
        self.delete_recover_polling = self.delete_recover_polling.interval(interval);
        self
    }

    /// Time to connect (TCP and TLS); default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connection.connect_timeout = timeout;
        self
    }

    /// Time to wait for the response headers and for each read of the body; default 60 s.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.connection.read_timeout = timeout;
        self
    }

    /// Appends `suffix` to the `User-Agent` header.
    pub fn user_agent_suffix(mut self, suffix: &str) -> Self {
        self.connection.user_agent = format!("{} {suffix}", kvcerts_core::USER_AGENT);
        self
    }

    /// Whether to check that the vault host belongs to the challenge's resource before sending a
    /// token (default on; turn off only for an emulator).
    pub fn verify_challenge_resource(mut self, verify: bool) -> Self {
        self.verify_challenge_resource = verify;
        self
    }

    /// Allows `http://` to a loopback host (for a local emulator); tokens then travel in clear
    /// text on the loopback interface only.
    pub fn allow_insecure_loopback(mut self, allow: bool) -> Self {
        self.allow_insecure_loopback = allow;
        self
    }

    /// Pre-seeds the challenge (tenant and scope), so the first call takes one round trip.
    pub fn challenge(mut self, challenge: Challenge) -> Self {
        self.challenge = Some(challenge);
        self
    }

    /// Trusts this root certificate (PEM) in addition to the public roots.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.connection.extra_roots_pem.push(pem.into());
        self
    }

    /// Trusts only the roots given with [`ClientBuilder::add_root_certificate_pem`].
    pub fn replace_root_certificates(mut self, replace: bool) -> Self {
        self.connection.replace_roots = replace;
        self
    }

    /// Sends through this HTTP(S) proxy.
    pub fn proxy(mut self, proxy_url: impl Into<String>) -> Self {
        self.connection.proxy = Some(proxy_url.into());
        self
    }

    /// Largest response body accepted (default 16 MiB); larger bodies are an error.
    pub fn max_response_size(mut self, bytes: u64) -> Self {
        self.connection.max_response_size = bytes;
        self
    }

    /// Runs on this runtime (timer, spawner, TCP connector) instead of the default
    /// ([`Runtime::tokio`] with the `tokio` feature). See the [`runtime`](crate::runtime) module.
    pub fn runtime(mut self, runtime: Runtime) -> Self {
        self.connection.runtime = Some(runtime);
        self
    }

    /// Validates everything and builds the client.
    pub fn build(self) -> Result<CertificateClient, Error> {
        let vault_options =
            VaultOptions::default().api_version(self.api_version).allow_insecure_loopback(self.allow_insecure_loopback);
        let vault = Vault::with_options(&self.vault_url, vault_options)?;
        let session = Session::new(
            SessionOptions::default()
                .verify_challenge_resource(self.verify_challenge_resource)
                .allow_insecure_loopback(self.allow_insecure_loopback),
        );
        if let Some(challenge) = self.challenge {
            session.preseed_challenge(vault.url(), challenge)?;
        }
        let sender = Sender::new(&self.connection)?;
        let options = FlowOptions::default()
            .retry(self.retry)
            .create_polling(self.create_polling)
            .delete_recover_polling(self.delete_recover_polling);
        let flows = VaultFlows::with_options(vault, session, options);
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
            api_version: ApiVersion::default(),
            retry: RetryOptions::default(),
            create_polling: PollOptions::create(),
            delete_recover_polling: PollOptions::delete_recover(),
            connection: ConnectionOptions::default(),
            verify_challenge_resource: true,
            allow_insecure_loopback: false,
            challenge: None,
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
