//! [`CertificateClient`]: every certificate operation, driven through the core flows.

use std::sync::Arc;

use kvcerts_core::flows::{Flow, VaultFlows};
use kvcerts_core::{Call, ClientOptions, Error, Vault};

use crate::credential::TokenCredential;
use crate::driver::Driver;
use crate::pager::ItemPager;
use crate::poller::{CreateCertificatePoller, DeleteCertificatePoller, RecoverDeletedCertificatePoller};
use crate::sender::{ConnectionOptions, Sender};

/// Options for a [`CertificateClient`]; build one with [`CertificateClient::builder`].
#[derive(Clone)]
pub struct ClientBuilder {
    vault_url: String,
    credential: Arc<dyn TokenCredential>,
    options: ClientOptions,
    connection: ConnectionOptions,
    agent: Option<ureq::Agent>,
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

    /// Uses an existing agent (its TLS, proxy and timeout settings) instead of building one.
    /// The agent should not follow redirects and should return error statuses as responses
    /// (`http_status_as_error(false)`), or errors lose their service details.
    pub fn agent(mut self, agent: ureq::Agent) -> Self {
        self.agent = Some(agent);
        self
    }

    /// Validates everything and builds the client.
    pub fn build(self) -> Result<CertificateClient, Error> {
        let flows = self.options.flows(&self.vault_url)?;
        let sender = match self.agent {
            Some(agent) => Sender::from_agent(agent, self.connection.max_response_size),
            None => Sender::new(&self.connection)
                .map_err(|reason| Error::InvalidInput { what: "client options", reason })?,
        };
        Ok(CertificateClient { inner: Arc::new(Inner { flows, driver: Driver::new(sender, self.credential) }) })
    }
}

struct Inner {
    flows: VaultFlows,
    driver: Driver,
}

/// A blocking client for one vault's certificates.
///
/// `Send + Sync + Clone`: clones share the connection pool, the challenge and the token cache.
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
            agent: None,
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

    pub(crate) fn drive<F: Flow>(&self, flow: &mut F) -> Result<F::Output, Error> {
        self.inner.driver.run(flow)
    }

    pub(crate) fn drive_step<F: Flow>(&self, flow: &mut F) -> Option<Result<F::Output, Error>> {
        self.inner.driver.run_until_wait(flow)
    }

    /// Sends one call through authentication and retries.
    fn call<T>(&self, call: Call<T>) -> Result<T, Error> {
        let mut exchange = self.inner.flows.call(call);
        self.drive(&mut exchange)
    }

    kvcerts_core::client_methods!(blocking);

    kvcerts_core::client_flow_methods!();

    /// Sends a request you built through the same authentication and retry flow. The URL must
    /// point at this vault.
    pub fn send_request(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
        let mut flow = self.inner.flows.send_request(request);
        self.drive(&mut flow)
    }
}
