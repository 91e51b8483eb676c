//! A local Azure Key Vault **certificates** service for tests and examples.
//!
//! `kvcerts-emulator` speaks the Key Vault certificates REST API (the 27 certificate
//! operations plus `GET /secrets/{name}/{version}`) over HTTPS with a generated test CA, or
//! over plain HTTP. It answers like the service does (status codes, headers, JSON shapes,
//! error bodies, the bearer challenge) and issues real X.509 certificates: self-signed ones per
//! the policy, CSRs for out-of-band issuers completed by merge, imports of PEM and PKCS#12.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! let emu = kvcerts_emulator::Emulator::builder()
//!     .create_delay(Duration::from_millis(50))
//!     .start()
//!     .expect("emulator starts");
//! println!("vault at {}", emu.vault_url());
//! let _ca_pem: Option<&str> = emu.ca_pem(); // trust this in the client
//! // ... run the client against emu.vault_url() ...
//! let _requests = emu.stats().total_requests;
//! emu.shutdown();
//! ```
//!
//! # Behaviour
//!
//! - **Auth**: a request without `Authorization: Bearer <token>` gets 401 with
//!   `WWW-Authenticate: Bearer authorization="https://login.windows.net/{tenant}",
//!   resource="https://vault.azure.net"` and the service's `Unauthorized` body. Any token is
//!   accepted unless [`EmulatorBuilder::required_token`] is set.
//! - **api-version** is required on every vault route (400 `BadParameter` otherwise); any value
//!   is accepted.
//! - **Create** with issuer `Self` answers 202 with the operation (`inProgress`, a real CSR),
//!   `Location` and `Retry-After`; after [`EmulatorBuilder::create_delay`] the operation is
//!   `completed` and the certificate exists. Issuer `Unknown` stays `inProgress` until
//!   `POST …/pending/merge` with a certificate for the operation's key. Other issuer names fail
//!   after the delay (the emulator does not contact CAs).
//! - **Soft delete**: a deleted certificate appears under `/deletedcertificates` after
//!   [`EmulatorBuilder::delete_delay`] (404 before); a recovered one reappears after
//!   [`EmulatorBuilder::recover_delay`].
//! - **Ids** use the configured host name when one is set ([`EmulatorBuilder::host_name`]),
//!   otherwise the authority the client used (`Host`), so ids and `nextLink`s always point
//!   back at the URL the client called.
//!
//! # Admin endpoints (no auth, never faulted)
//!
//! - `GET /_emulator/stats` → [`StatsSnapshot`] as JSON:
//!   `{"connections":3,"challenges":1,"totalRequests":9,"faultsInjected":0,
//!     "routes":{"CreateCertificate":{"202":1,"401":1},"GetCertificateOperation":{"200":2}}}`.
//!   `DELETE /_emulator/stats` resets the counters.
//! - `GET /_emulator/faults` → the current [`FaultConfig`]; `POST /_emulator/faults` with a
//!   [`FaultConfig`] JSON body replaces it (400 on unknown fields or bad ranges), e.g.
//!   `{"throttleEvery":3,"retryAfterSecs":0}`, `{"errorRate":0.2,"errorStatus":500,"seed":7}`,
//!   `{"dropEvery":2,"routes":["GetCertificate"]}`, `{"delayMs":250}`;
//!   `DELETE /_emulator/faults` turns faults off.
//! - `GET /_emulator/health` → `{"status":"ok"}`.

#![warn(missing_docs)]

pub mod api_error;
pub mod app;
pub mod body;
pub mod faults;
pub mod ids;
pub mod model;
pub mod persist;
pub mod policy;
pub mod routes;
pub mod server;
pub mod stats;
pub mod store;
pub mod tls;
pub mod views;
pub mod x509;

mod emulator;

pub use emulator::{Emulator, EmulatorBuilder, StartError};
pub use faults::{FaultConfig, Faults};
pub use stats::StatsSnapshot;
