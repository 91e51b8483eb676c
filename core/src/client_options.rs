//! What every client is configured with, whatever its transport: one definition, so the
//! blocking and the async client cannot drift apart.

use std::time::Duration;

use crate::api_version::ApiVersion;
use crate::auth::{Challenge, Session, SessionOptions};
use crate::error::Error;
use crate::flows::{FlowOptions, PollOptions, RetryOptions, VaultFlows};
use crate::vault::{Vault, VaultOptions};

/// The transport-independent options of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// The REST api-version (default: the newest).
    pub api_version: ApiVersion,
    /// Retry behaviour.
    pub retry: RetryOptions,
    /// Polling of certificate creation.
    pub create_polling: PollOptions,
    /// Polling of deletion and recovery.
    pub delete_recover_polling: PollOptions,
    /// Check that the vault host belongs to the challenge's resource before sending a token.
    pub verify_challenge_resource: bool,
    /// Allow `http://` to a loopback host (a local emulator).
    pub allow_insecure_loopback: bool,
    /// A pre-seeded challenge, so the first call takes one round trip.
    pub challenge: Option<Challenge>,
    /// Seed of the `x-ms-client-request-id` every request then carries (see
    /// [`SessionOptions::client_request_id_seed`]); `None` (the default) sends none. The
    /// clients' `client_request_ids(true)` sets a random one.
    pub client_request_id_seed: Option<u64>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            api_version: ApiVersion::default(),
            retry: RetryOptions::default(),
            create_polling: PollOptions::create(),
            delete_recover_polling: PollOptions::delete_recover(),
            verify_challenge_resource: true,
            allow_insecure_loopback: false,
            challenge: None,
            client_request_id_seed: None,
        }
    }
}

impl ClientOptions {
    /// Validates the vault URL and builds the flows of a client: the request factory and a
    /// fresh session (challenge and token cache) shared by every call.
    pub fn flows(&self, vault_url: &str) -> Result<VaultFlows, Error> {
        let vault_options = VaultOptions::default()
            .api_version(self.api_version.clone())
            .allow_insecure_loopback(self.allow_insecure_loopback);
        let vault = Vault::with_options(vault_url, vault_options)?;
        let mut session_options = SessionOptions::default()
            .verify_challenge_resource(self.verify_challenge_resource)
            .allow_insecure_loopback(self.allow_insecure_loopback);
        session_options.client_request_id_seed = self.client_request_id_seed;
        let session = Session::new(session_options);
        if let Some(challenge) = &self.challenge {
            session.preseed_challenge(vault.url(), challenge.clone())?;
        }
        let options = FlowOptions::default()
            .retry(self.retry.clone())
            .create_polling(self.create_polling.clone())
            .delete_recover_polling(self.delete_recover_polling.clone());
        Ok(VaultFlows::with_options(vault, session, options))
    }

    /// Sets every poll interval at once.
    pub fn set_poll_interval(&mut self, interval: Duration) {
        self.create_polling = self.create_polling.clone().interval(interval);
        self.delete_recover_polling = self.delete_recover_polling.clone().interval(interval);
    }
}

/// Defines the option setters every client builder offers. The builder must have the fields
/// `options: kvcerts_core::ClientOptions` and `connection` (the transport's connection options,
/// with `connect_timeout`, `read_timeout`, `user_agent`, `extra_roots_pem`, `replace_roots`,
/// `proxy` and `max_response_size`). Invoke inside the builder's `impl` block.
#[macro_export]
macro_rules! client_builder_methods {
    () => {
        /// The REST api-version (default: the newest).
        pub fn api_version(mut self, version: $crate::ApiVersion) -> Self {
            self.options.api_version = version;
            self
        }

        /// Retry behaviour (default: [`RetryOptions::default`](kvcerts_core::flows::RetryOptions));
        /// `RetryOptions::disabled()` turns retries off.
        pub fn retry(mut self, retry: $crate::flows::RetryOptions) -> Self {
            self.options.retry = retry;
            self
        }

        /// Polling of certificate creation (default: `Retry-After`, else every 5 s).
        pub fn create_polling(mut self, polling: $crate::flows::PollOptions) -> Self {
            self.options.create_polling = polling;
            self
        }

        /// Polling of deletion and recovery (default: every 2 s).
        pub fn delete_recover_polling(mut self, polling: $crate::flows::PollOptions) -> Self {
            self.options.delete_recover_polling = polling;
            self
        }

        /// Sets every poll interval at once (e.g. short intervals against the emulator).
        pub fn poll_interval(mut self, interval: std::time::Duration) -> Self {
            self.options.set_poll_interval(interval);
            self
        }

        /// Sends an `x-ms-client-request-id` with every request, the same on each of its
        /// attempts: the service echoes it and logs it, and the debug log line of each exchange
        /// shows it, so a request that got no answer (no `x-ms-request-id`) can still be traced.
        /// Off by default: the header and its echo cost about 1 % of a call's CPU.
        pub fn client_request_ids(mut self, enabled: bool) -> Self {
            // A seed from std's hash keys, which are random per process (no extra crate).
            self.options.client_request_id_seed =
                enabled.then(|| std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), 0u8));
            self
        }

        /// Whether to check that the vault host belongs to the challenge's resource before
        /// sending a token (default on; turn off only for an emulator).
        pub fn verify_challenge_resource(mut self, verify: bool) -> Self {
            self.options.verify_challenge_resource = verify;
            self
        }

        /// Allows `http://` to a loopback host (for a local emulator); tokens then travel in
        /// clear text on the loopback interface only.
        pub fn allow_insecure_loopback(mut self, allow: bool) -> Self {
            self.options.allow_insecure_loopback = allow;
            self
        }

        /// Pre-seeds the challenge (tenant and scope), so the first call takes one round trip.
        pub fn challenge(mut self, challenge: $crate::auth::Challenge) -> Self {
            self.options.challenge = Some(challenge);
            self
        }

        /// Time to connect (TCP and TLS); default 10 s.
        pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.connection.connect_timeout = timeout;
            self
        }

        /// Time to wait for each read; default 60 s.
        pub fn read_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.connection.read_timeout = timeout;
            self
        }

        /// Appends `suffix` to the `User-Agent` header.
        pub fn user_agent_suffix(mut self, suffix: &str) -> Self {
            self.connection.user_agent = format!("{} {suffix}", $crate::USER_AGENT);
            self
        }

        /// Trusts this root certificate (PEM) in addition to the public roots.
        pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
            self.connection.extra_roots_pem.push(pem.into());
            self
        }

        /// Trusts only the roots given with `add_root_certificate_pem`.
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
    };
}
