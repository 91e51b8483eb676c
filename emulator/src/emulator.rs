//! The public entry point: [`EmulatorBuilder`] configures, [`Emulator`] runs the server on its
//! own thread with its own tokio runtime, so it works from sync and async code alike.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

use crate::app::{App, AuthSettings};
use crate::faults::{FaultConfig, Faults};
use crate::stats::StatsSnapshot;
use crate::store::{Settings, Vault};

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The test CA or server certificate could not be generated.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// The runtime or server thread could not start.
    #[error("cannot start the server: {0}")]
    Runtime(std::io::Error),
    /// The state file could not be read.
    #[error("cannot read the state file {path}: {source}")]
    State {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Configures an [`Emulator`]. Create with [`Emulator::builder`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    tls: bool,
    bind: IpAddr,
    port: u16,
    host_name: Option<String>,
    settings: Settings,
    auth: AuthSettings,
    faults: FaultConfig,
    state_file: Option<PathBuf>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            tls: true,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            host_name: None,
            settings: Settings::default(),
            auth: AuthSettings {
                resource: "https://vault.azure.net".into(),
                tenant_id: "00000000-0000-0000-0000-000000000000".into(),
                authority: "https://login.windows.net".into(),
                required_token: None,
            },
            faults: FaultConfig::default(),
            state_file: None,
        }
    }
}

impl EmulatorBuilder {
    /// HTTPS with a generated test CA (`true`, the default) or plain HTTP.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Port to listen on; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Address to listen on (default `127.0.0.1`).
    pub fn bind(mut self, addr: impl Into<IpAddr>) -> Self {
        self.bind = addr.into();
        self
    }

    /// Host name for the server certificate (an extra SAN beside `localhost`, `127.0.0.1` and
    /// `::1`), for [`Emulator::vault_url`], and for the ids and `nextLink`s the emulator sends.
    pub fn host_name(mut self, name: impl Into<String>) -> Self {
        let n = name.into();
        self.host_name = (!n.is_empty()).then_some(n);
        self
    }

    /// How long a create with issuer `Self` stays `inProgress` (default 1 s).
    pub fn create_delay(mut self, d: Duration) -> Self {
        self.settings.create_delay = d;
        self
    }

    /// How long after a delete the certificate stays invisible under `/deletedcertificates`
    /// (404) (default 0).
    pub fn delete_delay(mut self, d: Duration) -> Self {
        self.settings.delete_delay = d;
        self
    }

    /// How long after a recover the certificate stays invisible under `/certificates` (404)
    /// (default 0).
    pub fn recover_delay(mut self, d: Duration) -> Self {
        self.settings.recover_delay = d;
        self
    }

    /// The `resource` of the 401 challenge (default `https://vault.azure.net`).
    pub fn challenge_resource(mut self, resource: impl Into<String>) -> Self {
        self.auth.resource = resource.into();
        self
    }

    /// The tenant in the challenge's `authorization` URI (default all zeros).
    pub fn tenant_id(mut self, tenant: impl Into<String>) -> Self {
        self.auth.tenant_id = tenant.into();
        self
    }

    /// The authority host of the challenge's `authorization` URI (default
    /// `https://login.windows.net`).
    pub fn authority(mut self, authority: impl Into<String>) -> Self {
        self.auth.authority = authority.into();
        self
    }

    /// Accept only this bearer token (`Some`), or any token (`None`, the default).
    pub fn required_token(mut self, token: Option<String>) -> Self {
        self.auth.required_token = token;
        self
    }

    /// Soft delete on (default) or off. With it off, a delete removes the certificate at once
    /// and `/deletedcertificates` routes answer 400.
    pub fn soft_delete(mut self, on: bool) -> Self {
        self.settings.soft_delete = on;
        self
    }

    /// Days a deleted certificate is retained, for `scheduledPurgeDate` (default 90).
    pub fn recoverable_days(mut self, days: i64) -> Self {
        self.settings.recoverable_days = days;
        self
    }

    /// Initial fault injection (change it later with [`Emulator::faults`]).
    pub fn faults(mut self, config: FaultConfig) -> Self {
        self.faults = config;
        self
    }

    /// Load the vault from this file at start (if it exists) and write it back, atomically,
    /// after every successful change.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Starts the server and returns once it accepts connections (within milliseconds).
    /// Safe to call from inside a tokio runtime: the server runs on its own runtime and thread.
    pub fn start(self) -> Result<Emulator, StartError> {
        let addr = SocketAddr::new(self.bind, self.port);
        let listener = std::net::TcpListener::bind(addr).map_err(|source| StartError::Bind { addr, source })?;
        let local = listener.local_addr().map_err(|source| StartError::Bind { addr, source })?;
        listener.set_nonblocking(true).map_err(StartError::Runtime)?;
        let port = local.port();
        let host_for_url = match (&self.host_name, local.ip()) {
            (Some(h), _) => h.clone(),
            (None, ip) if ip.is_unspecified() => "127.0.0.1".to_string(),
            (None, IpAddr::V6(ip)) => format!("[{ip}]"),
            (None, ip) => ip.to_string(),
        };
        let scheme = if self.tls { "https" } else { "http" };
        let authority = format!("{host_for_url}:{port}");
        let vault_url = format!("{scheme}://{authority}");

        let pki = if self.tls {
            let names: Vec<String> = self.host_name.iter().cloned().collect();
            Some(crate::tls::generate(&names).map_err(StartError::Tls)?)
        } else {
            None
        };
        let vault = match &self.state_file {
            Some(path) => {
                crate::persist::load(path).map_err(|source| StartError::State { path: path.clone(), source })?
            }
            None => Vault::default(),
        };
        let faults = Faults::new(self.faults.clone());
        let app = Arc::new(App::new(
            vault,
            self.settings.clone(),
            self.auth.clone(),
            faults.clone(),
            self.host_name.as_ref().map(|_| authority.clone()),
            authority.clone(),
            scheme,
            self.state_file.clone(),
        ));
        let ca_pem = pki.as_ref().map(|p| p.ca_pem.clone());
        let acceptor = pki.map(|p| tokio_rustls::TlsAcceptor::from(p.server_config));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), std::io::Error>>();
        let server_app = app.clone();
        let thread = std::thread::Builder::new()
            .name("kvcerts-emulator".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("kvcerts-emulator-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    crate::server::run(listener, server_app, acceptor, shutdown_rx).await;
                });
                rt.shutdown_timeout(Duration::from_millis(200));
            })
            .map_err(StartError::Runtime)?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(StartError::Runtime(e)),
            Err(_) => return Err(StartError::Runtime(std::io::Error::other("server thread exited"))),
        }
        Ok(Emulator {
            vault_url,
            local_addr: local,
            ca_pem,
            app,
            faults,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }
}

/// A running emulator. Stops on [`Emulator::shutdown`] or when dropped.
#[derive(Debug)]
pub struct Emulator {
    vault_url: String,
    local_addr: SocketAddr,
    ca_pem: Option<String>,
    app: Arc<App>,
    faults: Faults,
    shutdown: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// A builder with the defaults (TLS on, `127.0.0.1`, free port, 1 s create delay).
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The vault URL, e.g. `https://127.0.0.1:54321` (no trailing slash).
    pub fn vault_url(&self) -> &str {
        &self.vault_url
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// PEM of the test CA that signed the server certificate (`None` without TLS).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.app.stats.snapshot()
    }

    /// Resets the counters to zero.
    pub fn reset_stats(&self) {
        self.app.stats.reset();
    }

    /// The fault-injection handle (the same state as `/_emulator/faults`).
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}
