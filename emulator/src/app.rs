//! The state every request handler sees: the vault, its settings, auth settings, statistics,
//! faults and the optional state file.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::faults::Faults;
use crate::stats::Stats;
use crate::store::{Settings, Vault};

/// What the bearer challenge says and which token is accepted.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `resource` of the challenge.
    pub resource: String,
    /// Tenant in the challenge's `authorization` URI.
    pub tenant_id: String,
    /// Authority host of the challenge's `authorization` URI.
    pub authority: String,
    /// Only this token is accepted, when set; any bearer token otherwise.
    pub required_token: Option<String>,
}

impl AuthSettings {
    /// The `WWW-Authenticate` header value.
    pub fn challenge(&self) -> String {
        format!(
            "Bearer authorization=\"{}/{}\", resource=\"{}\"",
            self.authority.trim_end_matches('/'),
            self.tenant_id,
            self.resource
        )
    }
}

/// Shared server state.
#[derive(Debug)]
pub struct App {
    vault: Mutex<Vault>,
    /// Timing and soft-delete settings.
    pub settings: Settings,
    /// Challenge settings.
    pub auth: AuthSettings,
    /// Counters.
    pub stats: Stats,
    /// Fault injection.
    pub faults: Faults,
    /// Host (and port) used in ids and `nextLink`s when set; the request's `Host` otherwise.
    pub public_authority: Option<String>,
    /// The authority of the listening socket, the last resort for ids.
    pub local_authority: String,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// Where the vault is persisted, if anywhere.
    pub state_file: Option<PathBuf>,
    /// `x-ms-keyvault-service-version` header value.
    pub service_version: &'static str,
}

impl App {
    /// Creates the shared state.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        vault: Vault,
        settings: Settings,
        auth: AuthSettings,
        faults: Faults,
        public_authority: Option<String>,
        local_authority: String,
        scheme: &'static str,
        state_file: Option<PathBuf>,
    ) -> Self {
        App {
            vault: Mutex::new(vault),
            settings,
            auth,
            stats: Stats::default(),
            faults,
            public_authority,
            local_authority,
            scheme,
            state_file,
            service_version: "1.9.0.0-kvcerts-emulator",
        }
    }

    /// Locks the vault and applies whatever became due.
    pub fn vault(&self) -> MutexGuard<'_, Vault> {
        let mut v = self.vault.lock().unwrap_or_else(|e| e.into_inner());
        v.settle(Instant::now());
        v
    }

    /// Writes the state file, if one is configured (temp file + rename).
    pub fn persist(&self) {
        if let Some(path) = &self.state_file {
            let snapshot = self.vault().clone();
            if let Err(e) = crate::persist::save(path, &snapshot) {
                eprintln!("kvcerts-emulator: cannot write state file {}: {e}", path.display());
            }
        }
    }
}
