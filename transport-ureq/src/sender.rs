//! Sending one request with ureq: TLS roots, timeouts, proxy, response-size limit, and the
//! classification of failures that the core retry flow needs.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use kvcerts_core::flows::{body_capacity, TransportErrorKind, TransportFailure};
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

/// Default cap on a response body: larger bodies are an error, never an out-of-memory.
pub const DEFAULT_MAX_RESPONSE_SIZE: u64 = 16 * 1024 * 1024;

/// How the HTTP connection is set up.
#[derive(Debug, Clone)]
pub struct ConnectionOptions {
    /// Time to open the TCP connection and finish the TLS handshake.
    pub connect_timeout: Duration,
    /// Time to wait for each read (headers or body).
    pub read_timeout: Duration,
    /// An HTTP(S) proxy, e.g. `http://proxy.example:3128`.
    pub proxy: Option<String>,
    /// Largest response body accepted.
    pub max_response_size: u64,
    /// Extra trusted root certificates (PEM), added to the public roots.
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// Trust only `extra_roots_pem`, not the public roots.
    pub replace_roots: bool,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            proxy: None,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            extra_roots_pem: Vec::new(),
            replace_roots: false,
            user_agent: kvcerts_core::USER_AGENT.to_owned(),
        }
    }
}

/// Sends requests over one pooled ureq agent.
#[derive(Clone)]
pub(crate) struct Sender {
    agent: ureq::Agent,
    max_response_size: u64,
}

impl Sender {
    /// Builds the agent: rustls with the public roots (plus or instead of `extra_roots_pem`),
    /// no redirects followed, status codes returned as responses.
    pub(crate) fn new(options: &ConnectionOptions) -> Result<Self, String> {
        let mut roots: Vec<Certificate<'static>> = Vec::new();
        if !options.replace_roots {
            roots.extend(
                webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|der| Certificate::from_der(der).to_owned()),
            );
        }
        for pem in &options.extra_roots_pem {
            let mut found = false;
            for item in ureq::tls::parse_pem(pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(cert)) => {
                        roots.push(cert);
                        found = true;
                    }
                    Ok(_) => {}
                    Err(e) => return Err(format!("a trusted root is not valid PEM: {e}")),
                }
            }
            if !found {
                return Err("a trusted root PEM holds no CERTIFICATE block".into());
            }
        }
        if roots.is_empty() {
            return Err("no trusted root certificates: give at least one when replacing the public roots".into());
        }
        let tls =
            TlsConfig::builder().provider(TlsProvider::Rustls).root_certs(RootCerts::Specific(Arc::new(roots))).build();
        let proxy = match &options.proxy {
            Some(uri) => Some(ureq::Proxy::new(uri).map_err(|e| format!("invalid proxy {uri:?}: {e}"))?),
            None => None,
        };
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .proxy(proxy)
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(options.user_agent.as_str())
            .timeout_connect(Some(options.connect_timeout))
            .timeout_recv_response(Some(options.read_timeout))
            .timeout_recv_body(Some(options.read_timeout))
            .build();
        Ok(Sender { agent: config.new_agent(), max_response_size: options.max_response_size })
    }

    /// Wraps an agent the user already has.
    pub(crate) fn from_agent(agent: ureq::Agent, max_response_size: u64) -> Self {
        Sender { agent, max_response_size }
    }

    /// Sends one request and reads the whole body (up to the limit), so the connection goes
    /// back to the pool.
    pub(crate) fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportFailure> {
        // A GET, HEAD or DELETE without a body goes without one (no `Content-Length: 0`, no
        // forced body); a bodiless POST keeps its `Content-Length: 0`, as servers require.
        let bodiless = request.body().is_empty()
            && matches!(*request.method(), http::Method::GET | http::Method::HEAD | http::Method::DELETE);
        let response =
            if bodiless { self.agent.run(request.map(|_| ())) } else { self.agent.run(request) }.map_err(classify)?;
        let (parts, mut body) = response.into_parts();
        // Not ureq's `read_to_vec`, which grows the body from empty.
        let mut bytes = Vec::with_capacity(body_capacity(body.content_length()));
        let mut reader = body.with_config().limit(self.max_response_size).reader();
        reader.read_to_end(&mut bytes).map_err(|e| match ureq::Error::from(e) {
            ureq::Error::BodyExceedsLimit(limit) => too_large(limit),
            other => {
                let mut failure = classify(other);
                failure.request_sent = true;
                failure
            }
        })?;
        Ok(http::Response::from_parts(parts, bytes))
    }
}

/// Maps a ureq error to what the retry flow needs to know.
fn classify(error: ureq::Error) -> TransportFailure {
    let message = error.to_string();
    let (kind, request_sent) = match &error {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => (TransportErrorKind::Connect, false),
        ureq::Error::Timeout(t) => {
            let before_send = matches!(t, ureq::Timeout::Resolve | ureq::Timeout::Connect);
            (TransportErrorKind::Timeout, !before_send)
        }
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => (TransportErrorKind::Tls, false),
        ureq::Error::Io(io) => classify_io(io),
        ureq::Error::BodyExceedsLimit(limit) => return too_large(*limit),
        _ => (TransportErrorKind::Io, true),
    };
    TransportFailure::new(kind, request_sent, message)
}

fn classify_io(error: &io::Error) -> (TransportErrorKind, bool) {
    if error.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) {
        return (TransportErrorKind::Tls, false);
    }
    match error.kind() {
        io::ErrorKind::ConnectionRefused
        | io::ErrorKind::AddrNotAvailable
        | io::ErrorKind::NotFound
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable => (TransportErrorKind::Connect, false),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => (TransportErrorKind::Timeout, true),
        _ => (TransportErrorKind::Io, true),
    }
}

/// A body over the size limit (never retried by the core flows).
fn too_large(limit: u64) -> TransportFailure {
    TransportFailure::new(
        TransportErrorKind::ResponseTooLarge,
        true,
        format!("the response body is larger than the {limit}-byte limit (max_response_size); it was not read"),
    )
}
