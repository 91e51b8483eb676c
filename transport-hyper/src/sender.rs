//! Sending one request with hyper-util's pooled client: TLS (rustls, HTTP/1.1 and HTTP/2 by
//! ALPN), roots, timeouts, proxy, the response-size limit, and the classification of failures
//! that the core retry flow needs.

use std::error::Error as StdError;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_LENGTH, USER_AGENT};
use http::Uri;
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use kvcerts_core::flows::{body_capacity, TransportErrorKind, TransportFailure};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::runtime::{BoxFuture, HyperExecutor, HyperTimer, Runtime, Stream};

/// Default cap on a response body: larger bodies are an error, never an out-of-memory.
pub const DEFAULT_MAX_RESPONSE_SIZE: u64 = 16 * 1024 * 1024;

type BoxError = Box<dyn StdError + Send + Sync>;

/// How the HTTP connection is set up.
#[derive(Debug, Clone)]
pub struct ConnectionOptions {
    /// Time to open the TCP connection and finish the TLS handshake.
    pub connect_timeout: Duration,
    /// Time to wait for the response headers once connected (the headers are awaited for at
    /// most `connect_timeout + read_timeout`, as the pool may connect first), and for each read
    /// of the body.
    pub read_timeout: Duration,
    /// An HTTP proxy, e.g. `http://proxy.example:3128` (requests are tunnelled with
    /// `CONNECT`; `user:password@` in the URL becomes `Proxy-Authorization: Basic`).
    pub proxy: Option<String>,
    /// Largest response body accepted.
    pub max_response_size: u64,
    /// Extra trusted root certificates (PEM), added to the public roots.
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// Trust only `extra_roots_pem`, not the public roots.
    pub replace_roots: bool,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The runtime to run on; `None`: [`Runtime::tokio`] with the `tokio` feature.
    pub runtime: Option<Runtime>,
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
            runtime: None,
        }
    }
}

/// Sends requests over one pooled hyper client.
#[derive(Clone)]
pub(crate) struct Sender {
    client: Client<Connector, Full<Bytes>>,
    runtime: Runtime,
    read_timeout: Duration,
    connect_timeout: Duration,
    max_response_size: u64,
    user_agent: HeaderValue,
}

impl Sender {
    /// Builds the client: rustls with the public roots (plus or instead of `extra_roots_pem`),
    /// ALPN for HTTP/2 and HTTP/1.1, plain http allowed (the core flows refuse to send tokens
    /// over it except to a loopback emulator), no redirects followed.
    pub(crate) fn new(options: &ConnectionOptions) -> Result<Self, kvcerts_core::Error> {
        let invalid = |reason: String| kvcerts_core::Error::InvalidInput { what: "client options", reason };
        let runtime = match &options.runtime {
            Some(runtime) => runtime.clone(),
            None => Runtime::default_runtime()?,
        };
        let tls = tls_config(options).map_err(invalid)?;
        let tcp = TcpConnector { runtime: runtime.clone() };
        let transport = match &options.proxy {
            None => Transport::Direct(tcp),
            Some(url) => Transport::Proxied(proxy_tunnel(url, tcp).map_err(invalid)?),
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(transport);
        let connector = Connector { https, runtime: runtime.clone(), timeout: options.connect_timeout };
        let client = Client::builder(HyperExecutor(runtime.spawner.clone()))
            .pool_timer(HyperTimer(runtime.timer.clone()))
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        let user_agent = HeaderValue::from_str(&options.user_agent)
            .map_err(|_| invalid(format!("the user agent {:?} is not a valid header value", options.user_agent)))?;
        Ok(Sender {
            client,
            runtime,
            read_timeout: options.read_timeout,
            connect_timeout: options.connect_timeout,
            max_response_size: options.max_response_size,
            user_agent,
        })
    }

    /// The runtime this sender runs on.
    pub(crate) fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Sends one request and reads the whole body (up to the limit), so the connection goes
    /// back to the pool. Dropping the future cancels the request: hyper closes an HTTP/1.1
    /// connection with a request in flight (never pooling it) and resets an HTTP/2 stream.
    pub(crate) async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportFailure> {
        let (parts, body) = request.into_parts();
        let mut request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        if !request.headers().contains_key(USER_AGENT) {
            request.headers_mut().insert(USER_AGENT, self.user_agent.clone());
        }
        let limit = self.connect_timeout + self.read_timeout;
        let response = match self.runtime.timeout(limit, self.client.request(request)).await {
            None => return Err(timed_out("waiting for the response headers", limit)),
            Some(Err(e)) => return Err(classify(&e)),
            Some(Ok(response)) => response,
        };
        let (parts, mut body) = response.into_parts();
        let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_response_size) {
            return Err(too_large(self.max_response_size));
        }
        let mut bytes = Vec::with_capacity(body_capacity(declared));
        loop {
            let frame = match self.runtime.timeout(self.read_timeout, body.frame()).await {
                None => return Err(timed_out("reading the response body", self.read_timeout)),
                Some(None) => break,
                Some(Some(Err(e))) => {
                    return Err(TransportFailure::new(TransportErrorKind::Io, true, chain_message(&e)));
                }
                Some(Some(Ok(frame))) => frame,
            };
            if let Ok(data) = frame.into_data() {
                if bytes.len() as u64 + data.len() as u64 > self.max_response_size {
                    return Err(too_large(self.max_response_size));
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(http::Response::from_parts(parts, bytes))
    }
}

fn tls_config(options: &ConnectionOptions) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    if !options.replace_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for pem in &options.extra_roots_pem {
        let mut found = false;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("a trusted root is not valid PEM: {e}"))?;
            roots.add(cert).map_err(|e| format!("a trusted root is not a usable certificate: {e}"))?;
            found = true;
        }
        if !found {
            return Err("a trusted root PEM holds no CERTIFICATE block".into());
        }
    }
    if roots.is_empty() {
        return Err("no trusted root certificates: give at least one when replacing the public roots".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn proxy_tunnel(url: &str, tcp: TcpConnector) -> Result<Tunnel<TcpConnector>, String> {
    let with_scheme = if url.contains("://") { url.to_owned() } else { format!("http://{url}") };
    let uri: Uri = with_scheme.parse().map_err(|e| format!("invalid proxy {url:?}: {e}"))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(format!("invalid proxy {url:?}: only http:// proxies are supported"));
    }
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let userinfo = authority.rsplit_once('@').map(|(user, _)| user.to_owned());
    let mut tunnel = Tunnel::new(uri, tcp);
    if let Some(userinfo) = userinfo {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(userinfo);
        let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
            .map_err(|_| format!("invalid proxy {url:?}: bad credentials"))?;
        value.set_sensitive(true);
        tunnel = tunnel.with_auth(value);
    }
    Ok(tunnel)
}

/// A connected stream, as hyper-util's pool wants it.
pub(crate) struct Conn(Box<dyn Stream>);

impl Connection for Conn {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_shutdown(cx)
    }
}

/// Opens TCP connections through the runtime's [`Connect`](crate::Connect).
#[derive(Clone)]
pub(crate) struct TcpConnector {
    runtime: Runtime,
}

impl tower_service::Service<Uri> for TcpConnector {
    type Response = Conn;
    type Error = io::Error;
    type Future = BoxFuture<'static, io::Result<Conn>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connector = self.runtime.connector.clone();
        Box::pin(async move {
            let host = uri.host().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no host in URL"))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
            connector.connect(host, port).await.map(Conn)
        })
    }
}

/// Direct, or through a `CONNECT` tunnel.
#[derive(Clone)]
pub(crate) enum Transport {
    Direct(TcpConnector),
    Proxied(Tunnel<TcpConnector>),
}

impl tower_service::Service<Uri> for Transport {
    type Response = Conn;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Conn, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self {
            Transport::Direct(c) => c.poll_ready(cx).map_err(Into::into),
            Transport::Proxied(t) => t.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        match self {
            Transport::Direct(c) => {
                let future = c.call(uri);
                Box::pin(async move { future.await.map_err(Into::into) })
            }
            Transport::Proxied(t) => {
                let future = t.call(uri);
                Box::pin(async move { future.await.map_err(Into::into) })
            }
        }
    }
}

/// TCP (or tunnel) plus TLS within the connect timeout.
#[derive(Clone)]
pub(crate) struct Connector {
    https: HttpsConnector<Transport>,
    runtime: Runtime,
    timeout: Duration,
}

/// The connect timeout passed (found again in the error chain to classify it).
#[derive(Debug)]
struct ConnectTimeout(Duration);

impl std::fmt::Display for ConnectTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connecting took longer than {} ms", self.0.as_millis())
    }
}

impl StdError for ConnectTimeout {}

impl tower_service::Service<Uri> for Connector {
    type Response = MaybeHttpsStream<Conn>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<MaybeHttpsStream<Conn>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.https.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.https.call(uri);
        let runtime = self.runtime.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            match runtime.timeout(timeout, connecting).await {
                Some(result) => result,
                None => Err(Box::new(ConnectTimeout(timeout)) as BoxError),
            }
        })
    }
}

/// Every message of an error's source chain, joined.
fn chain_message(error: &(dyn StdError + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = e.source();
    }
    message
}

/// Whether the chain holds an error of type `E`, also inside (nested) `io::Error`s, whose
/// `source` skips their payload.
fn chain_has<E: StdError + 'static>(error: &(dyn StdError + 'static)) -> bool {
    if error.is::<E>() {
        return true;
    }
    let payload = error.downcast_ref::<io::Error>().and_then(|io| io.get_ref());
    if payload.is_some_and(|inner| chain_has::<E>(inner)) {
        return true;
    }
    error.source().is_some_and(chain_has::<E>)
}

/// Maps a hyper-util client error to what the retry flow needs to know.
fn classify(error: &hyper_util::client::legacy::Error) -> TransportFailure {
    let message = chain_message(error);
    let (kind, request_sent) = if chain_has::<rustls::Error>(error) {
        (TransportErrorKind::Tls, false)
    } else if error.is_connect() {
        if chain_has::<ConnectTimeout>(error) {
            (TransportErrorKind::Timeout, false)
        } else {
            (TransportErrorKind::Connect, false)
        }
    } else {
        (TransportErrorKind::Io, true)
    };
    TransportFailure::new(kind, request_sent, message)
}

fn timed_out(what: &str, limit: Duration) -> TransportFailure {
    TransportFailure::new(
        TransportErrorKind::Timeout,
        true,
        format!("{what} took longer than {} ms (read_timeout)", limit.as_millis()),
    )
}

/// A body over the size limit (never retried by the core flows).
fn too_large(limit: u64) -> TransportFailure {
    TransportFailure::new(
        TransportErrorKind::ResponseTooLarge,
        true,
        format!("the response body is larger than the {limit}-byte limit (max_response_size); it was not read"),
    )
}
