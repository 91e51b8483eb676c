//! Multi-exchange flows as sans-IO state machines: challenge authentication, token refresh,
//! retries, long-running-operation polling and paging.
//!
//! | flow | finishes with | made by |
//! |---|---|---|
//! | [`Exchange<T>`] | `T` (one [`Call`](crate::Call) through auth and retries) | [`VaultFlows::call`] |
//! | [`SendRequest`] | the raw `http::Response` | [`VaultFlows::send_request`] |
//! | [`CreatePoller`] | [`CreateOutcome`] | [`VaultFlows::begin_create_certificate`] |
//! | [`DeletePoller`] | [`DeletedCertificate`](crate::models::DeletedCertificate) | [`VaultFlows::begin_delete_certificate`] |
//! | [`RecoverPoller`] | [`KeyVaultCertificate`](crate::models::KeyVaultCertificate) | [`VaultFlows::begin_recover_deleted_certificate`] |
//! | [`Pager<T>`] | the next [`Page<T>`](crate::models::Page), `None` after the last | [`VaultFlows::list_properties_of_certificates`], … |
//! | [`TokenFlow`](crate::auth::TokenFlow) | an [`AccessToken`](crate::auth::AccessToken) | a credential's `token_flow` |
//!
//! # The driver contract
//!
//! Every flow is a [`Flow`]: call [`Flow::step`] with the current time ([`Now`]) and the answer
//! to the previous [`Step`] (`None` the first time); do what the returned step says; repeat
//! until [`Step::Done`]. Both transports run this same loop:
//!
//! - [`Step::Send`]: send the request (it already carries its `Authorization` header when it
//!   needs one); answer [`Input::Response`] with the full response, or
//!   [`Input::TransportError`] saying whether the request may have been sent (TLS failures are
//!   never retried, connect failures always are).
//! - [`Step::WaitUntil`]: sleep until the deadline (never longer than the flow's configured
//!   maximum), then answer [`Input::Woke`]. Asking again before the deadline returns the same
//!   deadline. [`WaitReason::AuthInProgress`] waits are short polls while another flow sharing
//!   the [`Session`](crate::auth::Session) gets the challenge or the token.
//! - [`Step::GetToken`]: get a token for the scopes, tenant and claims from the credential (for
//!   HTTP-based credentials, drive the credential's [`TokenFlow`](crate::auth::TokenFlow) with
//!   this same loop); answer [`Input::Token`]. This flow owns the fetch: answer it, or drop the
//!   flow. See [`auth::session`](crate::auth::session) for how concurrent flows share it.
//! - [`Step::Done`]: the result.
//!
//! A flow never panics, and stops with [`ErrorKind::Misuse`](crate::ErrorKind::Misuse) on an
//! input that does not answer its last step, or after its step bound (`max_steps`), which
//! follows from its configuration. Nothing here reads a clock or sleeps: virtual time works,
//! as below.
//!
//! ```
//! use std::collections::VecDeque;
//! use std::time::{Duration, Instant};
//!
//! use kvcerts_core::auth::{AccessToken, Session};
//! use kvcerts_core::flows::{CreateOutcome, Flow, Input, Now, Step, VaultFlows};
//! use kvcerts_core::models::CertificatePolicy;
//! use kvcerts_core::Vault;
//!
//! // Canned answers, as a recording would give them.
//! let body = |s: &str| s.as_bytes().to_vec();
//! let mut canned: VecDeque<http::Response<Vec<u8>>> = VecDeque::from([
//!     http::Response::builder().status(401)
//!         .header("www-authenticate", r#"Bearer authorization="https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#)
//!         .body(body(r#"{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}"#)).unwrap(),
//!     http::Response::builder().status(202).header("retry-after", "10")
//!         .body(body(r#"{"id":"https://myvault.vault.azure.net/certificates/web/pending","issuer":{"name":"Self"},"status":"inProgress"}"#)).unwrap(),
//!     http::Response::builder().status(200)
//!         .body(body(r#"{"id":"https://myvault.vault.azure.net/certificates/web/pending","issuer":{"name":"Self"},"status":"completed","target":"https://myvault.vault.azure.net/certificates/web"}"#)).unwrap(),
//!     http::Response::builder().status(200)
//!         .body(body(r#"{"id":"https://myvault.vault.azure.net/certificates/web/0123","attributes":{"enabled":true}}"#)).unwrap(),
//! ]);
//! let mut send = |request: http::Request<Vec<u8>>| {
//!     println!("{} {}", request.method(), request.uri());
//!     Input::Response(canned.pop_front().expect("one answer per request"))
//! };
//! let get_token = |now: Now, scopes: &[String]| {
//!     Ok(AccessToken::new(format!("fake-token-for-{}", scopes.join(" ")), now.utc + Duration::from_secs(3600)))
//! };
//!
//! let flows = VaultFlows::new(Vault::new("https://myvault.vault.azure.net").unwrap(), Session::default());
//! let mut flow = flows
//!     .begin_create_certificate("web", &CertificatePolicy::new("Self", "CN=web"), &Default::default())
//!     .unwrap();
//!
//! // The transport's clock; here virtual time that jumps to every deadline.
//! let mut now = Now::new(Instant::now(), time::macros::datetime!(2024-01-01 0:00 UTC));
//! let mut input = None;
//! let outcome = loop {
//!     match flow.step(now, input.take()) {
//!         Step::Send(request) => input = Some(send(request)),
//!         Step::WaitUntil(deadline, _reason) => {
//!             now = now.advance_to(deadline); // a real transport sleeps until `deadline`
//!             input = Some(Input::Woke);
//!         }
//!         Step::GetToken(request) => input = Some(Input::Token(get_token(now, &request.scopes))),
//!         Step::Done(result) => break result,
//!     }
//! };
//! let CreateOutcome::Completed(certificate) = outcome.unwrap() else { panic!("not completed") };
//! assert_eq!(certificate.version().as_deref(), Some("0123"));
//! ```

mod client;
mod create;
mod delete;
mod exchange;
mod lro;
mod pager;
pub mod poller;
pub mod report;
pub mod retry;
mod send_request;
mod step;

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod scenario;

pub use client::{FlowOptions, VaultFlows};
pub use create::{CreateOutcome, CreatePoller};
pub use delete::{DeletePoller, RecoverPoller};
pub use exchange::Exchange;
pub use pager::Pager;
pub use poller::{PollOptions, PollerStatus};
pub use retry::{is_idempotent, RetryMode, RetryOptions};
pub use send_request::SendRequest;
pub use step::{body_capacity, Input, Now, Step, TransportErrorKind, TransportFailure, WaitReason};

/// A sans-IO state machine driven by the loop in the [module docs](self).
pub trait Flow {
    /// What the flow finishes with.
    type Output;

    /// Feeds the answer to the last step (`None` on the first call, or to ask again) at `now`,
    /// and returns the caller's next duty.
    fn step(&mut self, now: Now, input: Option<Input>) -> Step<Self::Output>;
}
