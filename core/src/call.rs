//! A single exchange: one request and the parser for its response.

use std::fmt;

use http::{Request, Response};

use crate::error::Error;
use crate::operation::Operation;

/// Parses the response of one operation into `T` or a typed [`Error`].
pub type ParseFn<T> = fn(Operation, &Response<Vec<u8>>) -> Result<T, Error>;

/// One request to send and the parser for its response.
///
/// ```
/// use kvcerts_core::{models::CertificateContacts, Vault};
/// let vault = Vault::new("https://myvault.vault.azure.net").unwrap();
/// let call = vault.get_contacts().unwrap();
/// // … send `call.request()` with any HTTP client, then:
/// let response = http::Response::builder()
///     .status(200)
///     .body(br#"{"id":"https://myvault.vault.azure.net/certificates/contacts","contacts":[{"email":"a@b.c"}]}"#.to_vec())
///     .unwrap();
/// let contacts: CertificateContacts = call.parse(&response).unwrap();
/// assert_eq!(contacts.contacts[0].email.as_deref(), Some("a@b.c"));
/// ```
#[must_use = "a Call does nothing until its request is sent"]
pub struct Call<T> {
    request: Request<Vec<u8>>,
    parser: ResponseParser<T>,
}

/// The response half of a [`Call`], kept when the request is handed to a transport.
pub struct ResponseParser<T> {
    operation: Operation,
    parse: ParseFn<T>,
}

impl<T> Clone for ResponseParser<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ResponseParser<T> {}

impl<T> fmt::Debug for ResponseParser<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseParser").field("operation", &self.operation).finish()
    }
}

impl<T> ResponseParser<T> {
    /// A parser for `operation`.
    pub fn new(operation: Operation, parse: ParseFn<T>) -> Self {
        ResponseParser { operation, parse }
    }

    /// The operation whose response this parses.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// Parses a response: the model on success, a typed error otherwise.
    pub fn parse(&self, response: &Response<Vec<u8>>) -> Result<T, Error> {
        (self.parse)(self.operation, response)
    }
}

impl<T> Call<T> {
    pub(crate) fn new(request: Request<Vec<u8>>, operation: Operation, parse: ParseFn<T>) -> Self {
        Call { request, parser: ResponseParser { operation, parse } }
    }

    /// The request to send.
    pub fn request(&self) -> &Request<Vec<u8>> {
        &self.request
    }

    /// The request, mutably (e.g. to add headers).
    pub fn request_mut(&mut self) -> &mut Request<Vec<u8>> {
        &mut self.request
    }

    /// Which operation this is.
    pub fn operation(&self) -> Operation {
        self.parser.operation
    }

    /// Parses the response to [`Call::request`].
    pub fn parse(&self, response: &Response<Vec<u8>>) -> Result<T, Error> {
        self.parser.parse(response)
    }

    /// The request and the parser, for transports that move the request.
    pub fn into_parts(self) -> (Request<Vec<u8>>, ResponseParser<T>) {
        (self.request, self.parser)
    }
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body may carry secrets (import passwords, issuer passwords): never print it.
        f.debug_struct("Call")
            .field("operation", &self.parser.operation)
            .field("method", self.request.method())
            .field("uri", self.request.uri())
            .field("body_len", &self.request.body().len())
            .finish()
    }
}

/// Copies a request (method, URI, version, headers, body); `http::Request` is not `Clone`
/// because of its extensions, which core never uses.
pub fn clone_request(request: &Request<Vec<u8>>) -> Request<Vec<u8>> {
    copy_request(request, 0)
}

/// [`clone_request`] with room for `more_headers` headers beyond the original's, so adding
/// them (e.g. `Authorization`) does not grow the header map again.
pub(crate) fn copy_request(request: &Request<Vec<u8>>, more_headers: usize) -> Request<Vec<u8>> {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    if more_headers == 0 {
        *copy.headers_mut() = request.headers().clone();
    } else {
        let headers = copy.headers_mut();
        headers.reserve(request.headers().len() + more_headers);
        headers.extend(request.headers().iter().map(|(name, value)| (name.clone(), value.clone())));
    }
    copy
}
