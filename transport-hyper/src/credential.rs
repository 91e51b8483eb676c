//! Credentials: where tokens come from.
//!
//! HTTP-based credentials run the token requests `kvcerts-core` builds and parses, on this
//! crate's async client; the Azure CLI credential runs `az` as a process on a helper thread,
//! so it never blocks the executor. Implement [`TokenCredential`] to plug in your own.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kvcerts_core::auth::{self, AccessToken, ChainStep, TokenRequest, UserAssignedId};
use kvcerts_core::flows::RetryOptions;
use kvcerts_core::models::SecretString;
use kvcerts_core::Error;
use time::OffsetDateTime;

use crate::driver::{Driver, DEFAULT_CREDENTIAL_TIMEOUT};
use crate::runtime::BoxFuture;
use crate::sender::{ConnectionOptions, Sender};

/// A source of access tokens.
///
/// The method returns a boxed future so the trait can be used as `Arc<dyn TokenCredential>`;
/// implement it with `Box::pin(async move { ... })`:
///
/// ```
/// use kvcerts_core::auth::{AccessToken, TokenRequest};
/// use kvcerts_hyper::{BoxFuture, Error, TokenCredential};
///
/// struct FromMySecretStore;
///
/// impl TokenCredential for FromMySecretStore {
///     fn get_token<'a>(&'a self, _request: &'a TokenRequest) -> BoxFuture<'a, Result<AccessToken, Error>> {
///         Box::pin(async move {
///             let expires_on = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
///             Ok(AccessToken::new("token from somewhere", expires_on))
///         })
///     }
/// }
/// ```
pub trait TokenCredential: Send + Sync {
    /// A token for `request` (scopes, tenant, CAE claims). Called only when the client's token
    /// cache has no fresh token, so it need not cache; concurrent calls of one client share one
    /// fetch.
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> BoxFuture<'a, Result<AccessToken, Error>>;
}

/// A fixed token, for tests and custom token sources. `Debug` never shows it.
#[derive(Clone)]
pub struct StaticTokenCredential {
    token: SecretString,
    expires_on: OffsetDateTime,
}

impl std::fmt::Debug for StaticTokenCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticTokenCredential")
            .field("token", &"[redacted]")
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

impl StaticTokenCredential {
    /// A token that never expires (as far as the client knows).
    pub fn new(token: impl Into<SecretString>) -> Self {
        StaticTokenCredential {
            token: token.into(),
            expires_on: OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT),
        }
    }

    /// A token that expires at `expires_on`.
    pub fn with_expiry(token: impl Into<SecretString>, expires_on: OffsetDateTime) -> Self {
        StaticTokenCredential { token: token.into(), expires_on }
    }
}

impl TokenCredential for StaticTokenCredential {
    fn get_token<'a>(&'a self, _request: &'a TokenRequest) -> BoxFuture<'a, Result<AccessToken, Error>> {
        let token = AccessToken::new(self.token.clone(), self.expires_on);
        Box::pin(async move { Ok(token) })
    }
}

/// Runs the core token flows of HTTP-based credentials with its own connection pool.
#[derive(Clone)]
struct TokenSender {
    driver: Arc<Driver>,
    retry: RetryOptions,
}

impl TokenSender {
    fn new(connection: &ConnectionOptions) -> Result<Self, Error> {
        let sender = Sender::new(connection).map_err(|e| match e {
            Error::InvalidInput { reason, .. } => Error::InvalidInput { what: "credential options", reason },
            other => other,
        })?;
        // The token flows never ask for a token, so the credential of this driver is unused.
        let driver = Driver::new(sender, Arc::new(StaticTokenCredential::new("")));
        Ok(TokenSender { driver: Arc::new(driver), retry: RetryOptions::default() })
    }

    async fn run(&self, mut flow: auth::TokenFlow) -> Result<AccessToken, Error> {
        self.driver.run(&mut flow).await
    }
}

/// A service principal with a client secret (Microsoft Entra ID client-credentials flow).
#[derive(Clone)]
pub struct ClientSecretCredential {
    core: auth::ClientSecretCredential,
    sender: TokenSender,
}

impl std::fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecretCredential").field("core", &self.core).finish()
    }
}

impl ClientSecretCredential {
    /// A credential for `client_id` in `tenant_id` with `client_secret`, on the default
    /// runtime.
    pub fn new(tenant_id: &str, client_id: &str, client_secret: impl Into<SecretString>) -> Result<Self, Error> {
        Self::from_core(
            auth::ClientSecretCredential::new(tenant_id, client_id, client_secret),
            &ConnectionOptions::default(),
        )
    }

    /// Wraps a configured core credential (authority host, allowed tenants), sending its token
    /// requests with `connection` options (e.g. extra roots for a test token endpoint, or the
    /// runtime).
    pub fn from_core(core: auth::ClientSecretCredential, connection: &ConnectionOptions) -> Result<Self, Error> {
        Ok(ClientSecretCredential { core, sender: TokenSender::new(connection)? })
    }
}

impl TokenCredential for ClientSecretCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(async move { self.sender.run(self.core.token_flow(request, &self.sender.retry)?).await })
    }
}

/// A managed identity: IMDS on VMs, or the App Service/Functions identity endpoint.
#[derive(Clone)]
pub struct ManagedIdentityCredential {
    core: auth::ManagedIdentityCredential,
    sender: TokenSender,
}

impl std::fmt::Debug for ManagedIdentityCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedIdentityCredential").field("core", &self.core).finish()
    }
}

impl ManagedIdentityCredential {
    /// The system-assigned identity, or a user-assigned one; the endpoint is chosen from the
    /// environment (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER` for App Service, else IMDS).
    pub fn new(user_assigned: Option<UserAssignedId>) -> Result<Self, Error> {
        let core = auth::ManagedIdentityCredential::from_environment(|k| std::env::var(k).ok(), user_assigned);
        Self::from_core(core, &ConnectionOptions::default())
    }

    /// Wraps a configured core credential.
    pub fn from_core(core: auth::ManagedIdentityCredential, connection: &ConnectionOptions) -> Result<Self, Error> {
        let mut connection = connection.clone();
        // IMDS answers quickly or not at all: do not wait long for a VM endpoint that is absent.
        connection.connect_timeout = connection.connect_timeout.min(Duration::from_secs(2));
        Ok(ManagedIdentityCredential { core, sender: TokenSender::new(&connection)? })
    }
}

impl TokenCredential for ManagedIdentityCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(async move { self.sender.run(self.core.token_flow(request)?).await })
    }
}

/// Workload identity (e.g. AKS): a federated token read from a file on every request.
#[derive(Clone)]
pub struct WorkloadIdentityCredential {
    core: auth::WorkloadIdentityCredential,
    token_file: PathBuf,
    sender: TokenSender,
}

impl std::fmt::Debug for WorkloadIdentityCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkloadIdentityCredential")
            .field("core", &self.core)
            .field("token_file", &self.token_file)
            .finish()
    }
}

impl WorkloadIdentityCredential {
    /// From `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_FEDERATED_TOKEN_FILE` (and
    /// `AZURE_AUTHORITY_HOST` when set).
    pub fn from_env() -> Result<Self, Error> {
        let (core, file) = auth::environment::workload_identity_from_env(|k| std::env::var(k).ok())?;
        Self::from_core(core, file, &ConnectionOptions::default())
    }

    /// Wraps a configured core credential reading its assertion from `token_file`.
    pub fn from_core(
        core: auth::WorkloadIdentityCredential,
        token_file: impl Into<PathBuf>,
        connection: &ConnectionOptions,
    ) -> Result<Self, Error> {
        Ok(WorkloadIdentityCredential { core, token_file: token_file.into(), sender: TokenSender::new(connection)? })
    }
}

impl TokenCredential for WorkloadIdentityCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(async move {
            // A small local file (a projected service-account token): read in place.
            let assertion = std::fs::read_to_string(&self.token_file).map_err(|e| {
                Error::Authentication(format!(
                    "cannot read the federated token file {}: {e}",
                    self.token_file.display()
                ))
            })?;
            let assertion = SecretString::new(assertion.trim().to_owned());
            self.sender.run(self.core.token_flow(request, &assertion, &self.sender.retry)?).await
        })
    }
}

/// A service principal from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`
/// (and `AZURE_AUTHORITY_HOST` when set).
#[derive(Debug, Clone)]
pub struct EnvironmentCredential {
    inner: ClientSecretCredential,
}

impl EnvironmentCredential {
    /// Reads the environment; an error names the missing variable.
    pub fn new() -> Result<Self, Error> {
        let core = auth::environment::client_secret_from_env(|k| std::env::var(k).ok())?;
        Ok(EnvironmentCredential { inner: ClientSecretCredential::from_core(core, &ConnectionOptions::default())? })
    }
}

impl TokenCredential for EnvironmentCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> BoxFuture<'a, Result<AccessToken, Error>> {
        self.inner.get_token(request)
    }
}

/// The Azure CLI's login: runs `az account get-access-token` on a helper thread, so the
/// executor is never blocked.
#[derive(Debug, Clone)]
pub struct AzureCliCredential {
    timeout: Duration,
    program: Option<PathBuf>,
}

impl Default for AzureCliCredential {
    fn default() -> Self {
        AzureCliCredential { timeout: DEFAULT_CREDENTIAL_TIMEOUT, program: None }
    }
}

impl AzureCliCredential {
    /// The CLI found on `PATH`, with a 30 s timeout.
    pub fn new() -> Self {
        AzureCliCredential::default()
    }

    /// How long `az` may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs this program instead of `az` from `PATH`.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = Some(program.into());
        self
    }
}

impl TokenCredential for AzureCliCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(async move {
            let command = auth::azure_cli::azure_cli_command(request)?;
            let (tx, rx) = futures_channel::oneshot::channel();
            let this = self.clone();
            // The process runs (and is killed at the timeout) on its own thread; if this future
            // is dropped, the thread still finishes within the timeout and its answer is dropped.
            std::thread::Builder::new()
                .name("kvcerts-azure-cli".into())
                .spawn(move || {
                    let _ = tx.send(this.run_blocking(command));
                })
                .map_err(|e| Error::Authentication(format!("cannot start a thread for the Azure CLI: {e}")))?;
            rx.await.unwrap_or_else(|_| Err(Error::Authentication("the Azure CLI thread stopped unexpectedly".into())))
        })
    }
}

impl AzureCliCredential {
    /// Runs the command with the timeout (same behaviour and messages as `kvcerts-ureq`).
    fn run_blocking(&self, command: auth::azure_cli::AzureCliCommand) -> Result<AccessToken, Error> {
        let run = command.invocation(self.program.as_deref(), cfg!(windows));
        let mut child = Command::new(&run.program)
            .args(&run.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| auth::azure_cli::start_failed(&run.shown, e.kind() == std::io::ErrorKind::NotFound, &e))?;
        let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
        let out_reader = std::thread::spawn(move || read_all(stdout.as_mut()));
        let err_reader = std::thread::spawn(move || read_all(stderr.as_mut()));
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(auth::azure_cli::timed_out(self.timeout));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(auth::azure_cli::wait_failed(&e)),
            }
        };
        let stdout = out_reader.join().unwrap_or_default();
        let stderr = err_reader.join().unwrap_or_default();
        auth::azure_cli::parse_azure_cli_output(status.success(), &stdout, &stderr, OffsetDateTime::now_utc())
    }
}

fn read_all(stream: Option<&mut impl Read>) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(stream) = stream {
        let _ = stream.take(auth::azure_cli::MAX_OUTPUT).read_to_end(&mut out);
    }
    out
}

/// Tries, in order: [`EnvironmentCredential`], [`WorkloadIdentityCredential`],
/// [`ManagedIdentityCredential`], [`AzureCliCredential`]; uses the first that gives a token and
/// sticks with it. When all fail, the error lists why each one did.
pub struct DefaultAzureCredential {
    chain: auth::CredentialChain<Box<dyn TokenCredential>>,
}

impl std::fmt::Debug for DefaultAzureCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DefaultAzureCredential").field("links", &self.chain.names()).finish()
    }
}

impl DefaultAzureCredential {
    /// The chain, configured from the environment (on the default runtime: with the `tokio`
    /// feature, call this inside a tokio runtime).
    pub fn new() -> Self {
        DefaultAzureCredential { chain: kvcerts_core::default_credential_chain!(|name| std::env::var(name).ok()) }
    }

    /// A chain of your own credentials, tried in order.
    pub fn from_chain(links: Vec<(&'static str, Box<dyn TokenCredential>)>) -> Self {
        DefaultAzureCredential { chain: auth::CredentialChain::new(links.into_iter().map(|(n, c)| (n, Ok(c)))) }
    }
}

impl Default for DefaultAzureCredential {
    fn default() -> Self {
        DefaultAzureCredential::new()
    }
}

impl TokenCredential for DefaultAzureCredential {
    fn get_token<'a>(&'a self, request: &'a TokenRequest) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(async move {
            let mut run = self.chain.run();
            let mut step = run.start();
            loop {
                match step {
                    ChainStep::Try(credential) => step = run.answer(credential.get_token(request).await),
                    ChainStep::Done(result) => return result,
                }
            }
        })
    }
}
