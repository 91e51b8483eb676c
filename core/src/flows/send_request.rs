//! The raw escape hatch: any `http::Request` sent through the same authentication and retry
//! flow as the built-in operations (like the Python SDK's `send_request`).

use http::{Request, Response};

use super::exchange::Engine;
use super::retry::RetryOptions;
use super::step::{Input, Now, Step};
use super::Flow;
use crate::auth::Session;

/// Sends a request you built (absolute `https://` URL of a vault) with challenge
/// authentication and retries; finishes with the final response whatever its status (a 404 is
/// `Ok` here: inspect the status yourself, or use [`crate::response::service_error`]).
///
/// Whether the request is retried after it may have reached the service follows its method
/// ([`is_idempotent`](super::is_idempotent)); [`SendRequest::with_idempotency`] overrides it.
///
/// ```
/// use kvcerts_core::auth::Session;
/// use kvcerts_core::flows::{RetryOptions, SendRequest};
///
/// let request = http::Request::get("https://myvault.vault.azure.net/certificates?api-version=7.5&maxresults=1")
///     .body(Vec::new())
///     .unwrap();
/// let flow = SendRequest::new(&Session::default(), request, &RetryOptions::default());
/// # drop(flow);
/// ```
pub struct SendRequest {
    engine: Engine,
}

impl SendRequest {
    /// Sends `request` through `session`'s authentication with `retry`.
    pub fn new(session: &Session, request: Request<Vec<u8>>, retry: &RetryOptions) -> Self {
        SendRequest { engine: Engine::new(session, request, retry) }
    }

    /// Like [`SendRequest::new`], saying whether the request may be sent twice safely.
    pub fn with_idempotency(
        session: &Session,
        request: Request<Vec<u8>>,
        retry: &RetryOptions,
        idempotent: bool,
    ) -> Self {
        SendRequest { engine: Engine::with_idempotency(session, request, retry, idempotent) }
    }

    /// The request (without authentication).
    pub fn request(&self) -> &Request<Vec<u8>> {
        self.engine.request()
    }

    /// The most steps this flow takes with a driver that answers every step.
    pub fn max_steps(&self) -> u32 {
        self.engine.max_steps()
    }
}

impl Flow for SendRequest {
    type Output = Response<Vec<u8>>;

    fn step(&mut self, now: Now, input: Option<Input>) -> Step<Response<Vec<u8>>> {
        self.engine.step(now, input)
    }
}

impl std::fmt::Debug for SendRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendRequest")
            .field("method", self.engine.request().method())
            .field("uri", self.engine.request().uri())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::scenario::{response, unauthorized, Driver};

    #[test]
    fn raw_request_gets_the_same_authentication() {
        let session = Session::default();
        let request = Request::put("https://myvault.vault.azure.net/certificates/contacts?api-version=7.4")
            .header("content-type", "application/json")
            .body(br#"{"contacts":[{"email":"a@b.c"}]}"#.to_vec())
            .unwrap();
        let mut flow = SendRequest::new(&session, request, &RetryOptions::default());
        let mut d = Driver::new([unauthorized().into(), response(404, &[], "{}").into()]);
        let r = d.run(&mut flow).unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(d.kinds(), ["Send", "GetToken", "Send", "Done"]);
        assert!(d.sent[0].body().is_empty());
        assert!(!d.sent[1].body().is_empty());
    }
}
