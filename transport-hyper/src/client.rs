//! [`CertificateClient`]: every certificate operation, driven through the core flows.

use std::sync::Arc;

use kvcerts_core::flows::{Flow, VaultFlows};
use kvcerts_core::{Call, ClientOptions, Error, Vault};

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

    kvcerts_core::client_flow_methods!();

    /// Sends a request you built through the same authentication and retry flow. The URL must
    /// point at this vault.
    pub async fn send_request(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
        let mut flow = self.inner.flows.send_request(request);
        self.drive(&mut flow).await
    }
}
