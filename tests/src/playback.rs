//! A loopback HTTP/1.1 (plain or TLS) server that replays the responses of one [`Recording`].
//!
//! It is meant for end-to-end tests of the real clients: point a client at
//! [`PlaybackServer::url`], trust [`PlaybackServer::ca_pem`] when TLS is on, run the scenario the
//! recording was made with, then check [`PlaybackServer::mismatches`] (and, if wanted,
//! [`PlaybackServer::log`]).
//!
//! # Matching
//!
//! The server keeps a cursor into the recording's vault entries (entries addressed to identity
//! endpoints are skipped). A request *matches* an entry when the methods are equal, the
//! percent-decoded paths are equal after dropping one trailing `/` (so `/certificates/{name}/`
//! matches `/certificates/{name}`), and the query pairs are equal as a multiset, except that the
//! value of `api-version` is ignored (its presence is not). For each request, in order:
//!
//! 1. if it matches the entry at the cursor, that entry is served and the cursor advances;
//! 2. else if it matches the entry served last, that entry is served again (the client polled
//!    once more than the recording did);
//! 3. else if a later entry matches and every vault entry skipped over is a `GET` of the same
//!    path as the request, the server skips to it and serves it (the client polled fewer times);
//! 4. else the server answers `599` with a text body saying what was expected and what came,
//!    and records the mismatch ([`PlaybackServer::mismatches`]).
//!
//! With [`PlaybackOptions::serve_challenge`], a recording that does not begin with a bearer
//! challenge gets a synthetic one: the first request without an `Authorization` header is
//! answered with a `401` and the challenge recorded by the real service (tenant zeroed), without
//! moving the cursor.
//!
//! # Responses
//!
//! A served entry is answered with its recorded status, headers (without `content-length`,
//! `transfer-encoding`, `connection` and `keep-alive`; a correct `content-length` is set) and
//! body. Every occurrence of the recorded vault origin (e.g. `https://REDACTED.vault.azure.net`)
//! in header values and in the body is replaced by the server's own origin, so `nextLink`s,
//! `Location`s and ids point back to the server.
//!
//! # Example
//!
//! ```
//! use kvcerts_tests::{PlaybackOptions, PlaybackServer, Recording};
//!
//! let recording = Recording::parse(
//!     "example",
//!     br#"{"Entries": [{
//!         "RequestUri": "https://REDACTED.vault.azure.net/certificates/contacts?api-version=7.3",
//!         "RequestMethod": "GET",
//!         "StatusCode": 200,
//!         "ResponseBody": {"id": "https://REDACTED.vault.azure.net/certificates/contacts"}
//!     }]}"#,
//! )?;
//! let server = PlaybackServer::start(recording, PlaybackOptions::default())?;
//! // Run the client under test against `server.url()`; here, a raw request.
//! # use std::io::{Read, Write};
//! let mut stream = std::net::TcpStream::connect(server.addr())?;
//! stream.write_all(b"GET /certificates/contacts?api-version=7.4 HTTP/1.1\r\nconnection: close\r\n\r\n")?;
//! let mut response = String::new();
//! stream.read_to_string(&mut response)?;
//! assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(response.contains(&format!(r#"{{"id":"{}/certificates/contacts"}}"#, server.url())));
//! assert!(server.mismatches().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

use http::header::{
    HeaderName, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, TRANSFER_ENCODING, WWW_AUTHENTICATE,
};
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use percent_encoding::percent_decode_str;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::recording::{query_pairs, Entry, Recording};

/// The `WWW-Authenticate` value of the synthetic challenge.
pub const SYNTHETIC_CHALLENGE: &str = "Bearer authorization=\"https://login.windows.net/00000000-0000-0000-0000-000000000000\", resource=\"https://vault.azure.net\"";

/// The body of the synthetic challenge.
pub const SYNTHETIC_CHALLENGE_BODY: &str =
    r#"{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}"#;

/// The status answered to a request that does not fit the recording.
pub const MISMATCH_STATUS: u16 = 599;

const MAX_LINE: usize = 64 * 1024;
const MAX_HEADERS: usize = 256;
const MAX_BODY: usize = 64 * 1024 * 1024;

/// How a [`PlaybackServer`] is run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlaybackOptions {
    /// Serve HTTPS with a freshly generated test CA (see [`PlaybackServer::ca_pem`]) instead of
    /// plain HTTP.
    pub tls: bool,
    /// If the recording does not start with a bearer challenge, answer the first request that
    /// has no `Authorization` header with a synthetic `401` challenge
    /// ([`SYNTHETIC_CHALLENGE`], [`SYNTHETIC_CHALLENGE_BODY`]).
    pub serve_challenge: bool,
    /// Also serve the entries addressed to identity (token) endpoints, for credential tests.
    pub serve_identity: bool,
}

/// One request the server received, and what it answered.
#[derive(Debug, Clone)]
pub struct ServedRequest {
    /// The request method.
    pub method: Method,
    /// The request target as sent (path and query).
    pub path_and_query: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The request body (de-chunked).
    pub body: Vec<u8>,
    /// The index of the recorded entry that was served, or `None` for a synthetic challenge or
    /// a mismatch.
    pub served_entry: Option<usize>,
    /// The status answered.
    pub status: StatusCode,
}

/// A running playback server. Stops on [`PlaybackServer::shutdown`] or when dropped.
#[derive(Debug)]
pub struct PlaybackServer {
    addr: SocketAddr,
    url: String,
    ca_pem: Option<String>,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl PlaybackServer {
    /// Binds `127.0.0.1` on a free port and starts serving `recording`.
    pub fn start(recording: Recording, options: PlaybackOptions) -> io::Result<PlaybackServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let (tls, ca_pem) = if options.tls {
            let (config, ca_pem) = test_tls_config()?;
            (Some(config), Some(ca_pem))
        } else {
            (None, None)
        };
        let scheme = if options.tls { "https" } else { "http" };
        let url = format!("{scheme}://{addr}");
        let keys = recording
            .entries
            .iter()
            .map(|entry| (entry.is_vault() || options.serve_identity).then(|| RequestKey::of_entry(entry)))
            .collect();
        let shared = Arc::new(Shared {
            recorded_origin: recording.vault_origin(),
            origin: url.clone(),
            keys,
            state: Mutex::new(State {
                cursor: 0,
                last: None,
                challenge_pending: options.serve_challenge && !recording.starts_with_challenge(),
                log: Vec::new(),
                mismatches: Vec::new(),
            }),
            recording,
            tls,
            stop: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            open: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name(format!("playback-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_shared))?;
        Ok(PlaybackServer { addr, url, ca_pem, shared, accept_thread: Some(accept_thread) })
    }

    /// The server's origin, e.g. `https://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The PEM of the test CA that signed the server's certificate (SANs `localhost` and
    /// `127.0.0.1`), when TLS is on.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The recording being replayed.
    pub fn recording(&self) -> &Recording {
        &self.shared.recording
    }

    /// How many TCP connections the server has accepted.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Every request received so far, in the order they were answered.
    pub fn log(&self) -> Vec<ServedRequest> {
        self.shared.state().log.clone()
    }

    /// A description of every request that did not fit the recording (answered with `599`).
    pub fn mismatches(&self) -> Vec<String> {
        self.shared.state().mismatches.clone()
    }

    /// Whether the cursor has moved past the last vault entry, i.e. the client went through the
    /// whole recorded scenario (entries skipped over by tolerated missing polls count as done).
    pub fn is_exhausted(&self) -> bool {
        let cursor = self.shared.state().cursor;
        self.shared.keys.iter().skip(cursor).all(Option::is_none)
    }

    /// Stops accepting, closes every open connection and waits for the server threads.
    /// Idempotent; also done on drop.
    pub fn shutdown(&mut self) {
        let Some(accept_thread) = self.accept_thread.take() else {
            return;
        };
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept(); the loop sees `stop` and exits.
        let _ = TcpStream::connect(self.addr);
        let _ = accept_thread.join();
        let open = std::mem::take(&mut *lock(&self.shared.open));
        for (stream, _) in &open {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for (_, handle) in open {
            let _ = handle.join();
        }
    }
}

impl Drop for PlaybackServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// State shared by the server's threads.
#[derive(Debug)]
struct Shared {
    recording: Recording,
    /// Matching key of each entry; `None` for entries that are not vault entries.
    keys: Vec<Option<RequestKey>>,
    recorded_origin: Option<String>,
    origin: String,
    tls: Option<Arc<ServerConfig>>,
    stop: AtomicBool,
    connections: AtomicUsize,
    state: Mutex<State>,
    /// A handle on each connection's socket (to close it on shutdown) and its thread.
    open: Mutex<Vec<(TcpStream, JoinHandle<()>)>>,
}

#[derive(Debug)]
struct State {
    /// Index of the next expected entry.
    cursor: usize,
    /// Index of the entry served last.
    last: Option<usize>,
    challenge_pending: bool,
    log: Vec<ServedRequest>,
    mismatches: Vec<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Chooses and builds the answer to one request, and logs it.
    fn respond(&self, request: &Request) -> Reply {
        let mut state = self.state();
        let (reply, served_entry) = if state.challenge_pending && !request.headers.contains_key(AUTHORIZATION) {
            state.challenge_pending = false;
            (synthetic_challenge(), None)
        } else {
            match self.select(&mut state, &RequestKey::of_request(request)) {
                Ok(index) => (self.entry_reply(&self.recording.entries[index]), Some(index)),
                Err(expected) => {
                    let message = format!(
                        "{}: request {} `{} {}` does not fit the recording: expected {expected}",
                        self.recording.name,
                        state.log.len(),
                        request.method,
                        request.target
                    );
                    state.mismatches.push(message.clone());
                    (mismatch_reply(message), None)
                }
            }
        };
        state.log.push(ServedRequest {
            method: request.method.clone(),
            path_and_query: request.target.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
            served_entry,
            status: reply.status,
        });
        reply
    }

    /// Picks the entry to serve (see the module docs), or describes what was expected.
    fn select(&self, state: &mut State, key: &RequestKey) -> Result<usize, String> {
        let keys = &self.keys;
        while state.cursor < keys.len() && keys[state.cursor].is_none() {
            state.cursor += 1;
        }
        let matches = |index: usize| keys[index].as_ref() == Some(key);
        let serve = |state: &mut State, index: usize| {
            state.last = Some(index);
            state.cursor = index + 1;
            Ok(index)
        };
        if state.cursor < keys.len() && matches(state.cursor) {
            return serve(state, state.cursor);
        }
        if let Some(last) = state.last {
            if matches(last) {
                return Ok(last);
            }
        }
        for (index, entry_key) in keys.iter().enumerate().skip(state.cursor) {
            match entry_key {
                None => continue,
                Some(_) if matches(index) => return serve(state, index),
                Some(skipped) if skipped.method == Method::GET && skipped.path == key.path => {}
                Some(_) => break,
            }
        }
        Err(match self.recording.entries.get(state.cursor) {
            Some(entry) => format!("entry {} `{} {}`", entry.index, entry.method, entry.uri),
            None => format!("nothing (all {} entries were served)", self.recording.entries.len()),
        })
    }

    /// The recorded response of `entry`, rewritten to point at this server.
    fn entry_reply(&self, entry: &Entry) -> Reply {
        let mut headers = HeaderMap::new();
        for (name, value) in &entry.response_headers {
            if is_framing_header(name) {
                continue;
            }
            let rewritten = HeaderValue::from_bytes(&self.rewrite(value.as_bytes())).unwrap_or_else(|_| value.clone());
            headers.append(name.clone(), rewritten);
        }
        Reply { status: entry.status, headers, body: self.rewrite(&entry.response_body.to_bytes()) }
    }

    fn rewrite(&self, bytes: &[u8]) -> Vec<u8> {
        match &self.recorded_origin {
            Some(from) => rewrite_origin(bytes, from, &self.origin),
            None => bytes.to_vec(),
        }
    }
}

fn is_framing_header(name: &HeaderName) -> bool {
    name == CONTENT_LENGTH || name == TRANSFER_ENCODING || name == CONNECTION || name.as_str() == "keep-alive"
}

/// Replaces each occurrence of the origin `from` (followed by an optional explicit default port
/// `:443` / `:80`) with `to`, unless the match is only the start of a longer host name.
pub fn rewrite_origin(input: &[u8], from: &str, to: &str) -> Vec<u8> {
    let from = from.as_bytes();
    if from.is_empty() {
        return input.to_vec();
    }
    let default_port: &[u8] = if from.starts_with(b"https:") { b":443" } else { b":80" };
    let mut output = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = find(rest, from) {
        let mut after = &rest[at + from.len()..];
        let explicit_default_port =
            after.starts_with(default_port) && !after.get(default_port.len()).is_some_and(u8::is_ascii_digit);
        // Another host (`…azure.net.example`, `…azure.net-x`) or another port (`…azure.net:8443`).
        let other_origin = match after.first() {
            Some(&byte) if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' => true,
            Some(b'.') => after.get(1).is_some_and(u8::is_ascii_alphanumeric),
            Some(b':') => !explicit_default_port,
            _ => false,
        };
        if other_origin {
            output.extend_from_slice(&rest[..at + from.len()]);
        } else {
            output.extend_from_slice(&rest[..at]);
            output.extend_from_slice(to.as_bytes());
            if explicit_default_port {
                after = &after[default_port.len()..];
            }
        }
        rest = after;
    }
    output.extend_from_slice(rest);
    output
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// What a request is matched on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RequestKey {
    method: Method,
    /// Percent-decoded path without a trailing `/`.
    path: String,
    /// Sorted query pairs, with the value of `api-version` blanked.
    query: Vec<(String, String)>,
}

impl RequestKey {
    fn new(method: &Method, path: &str, query: &str) -> RequestKey {
        let path = percent_decode_str(path).decode_utf8_lossy();
        let path = match path.strip_suffix('/') {
            Some(trimmed) if !trimmed.is_empty() => trimmed.to_string(),
            _ => path.into_owned(),
        };
        let mut query = query_pairs(query);
        for (name, value) in &mut query {
            if name == "api-version" {
                value.clear();
            }
        }
        query.sort();
        RequestKey { method: method.clone(), path, query }
    }

    fn of_entry(entry: &Entry) -> RequestKey {
        RequestKey::new(&entry.method, entry.uri.path(), entry.uri.query().unwrap_or(""))
    }

    fn of_request(request: &Request) -> RequestKey {
        let (path, query) = request.target.split_once('?').unwrap_or((&request.target, ""));
        RequestKey::new(&request.method, path, query)
    }
}

/// A response to send.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn synthetic_challenge() -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(SYNTHETIC_CHALLENGE));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    Reply { status: StatusCode::UNAUTHORIZED, headers, body: SYNTHETIC_CHALLENGE_BODY.as_bytes().to_vec() }
}

fn mismatch_reply(message: String) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    Reply {
        status: StatusCode::from_u16(MISMATCH_STATUS).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers,
        body: message.into_bytes(),
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(_) => {
                // E.g. out of file descriptors: do not spin.
                thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
        };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        let _ = stream.set_nodelay(true);
        let Ok(handle_on_socket) = stream.try_clone() else {
            continue;
        };
        let connection_shared = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name("playback-connection".into())
            .spawn(move || serve_connection(stream, &connection_shared));
        if let Ok(thread) = spawned {
            let mut open = lock(&shared.open);
            open.retain(|(_, thread)| !thread.is_finished());
            open.push((handle_on_socket, thread));
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    match &shared.tls {
        Some(config) => {
            let Ok(connection) = ServerConnection::new(Arc::clone(config)) else {
                return;
            };
            let mut tls = StreamOwned::new(connection, stream);
            serve_http(&mut tls, shared);
            tls.conn.send_close_notify();
            let _ = tls.flush();
            // The accept loop holds a duplicate of the socket: closing ours would not end the
            // connection, so shut it down explicitly.
            let _ = tls.sock.shutdown(Shutdown::Both);
        }
        None => {
            let mut stream = stream;
            serve_http(&mut stream, shared);
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// Serves requests on one connection until the client closes it, asks to close it, or sends
/// something that is not HTTP/1.x.
fn serve_http<S: Read + Write>(stream: &mut S, shared: &Shared) {
    let mut reader = BufReader::new(stream);
    loop {
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(err) => {
                if err.kind() == io::ErrorKind::InvalidData {
                    let reply = Reply {
                        status: StatusCode::BAD_REQUEST,
                        headers: HeaderMap::new(),
                        body: format!("bad request: {err}").into_bytes(),
                    };
                    let _ = write_reply(reader.get_mut(), &reply, false, true);
                }
                return;
            }
        };
        let reply = shared.respond(&request);
        let close = request.close;
        let head = request.method == Method::HEAD;
        if write_reply(reader.get_mut(), &reply, head, close).is_err() || close {
            return;
        }
    }
}

/// A parsed request.
#[derive(Debug)]
struct Request {
    method: Method,
    target: String,
    headers: HeaderMap,
    body: Vec<u8>,
    /// Whether the connection is to be closed after the response.
    close: bool,
}

fn bad(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Reads one line (without its `\r\n`). `None` at a clean end of stream.
fn read_line<R: BufRead>(reader: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let read = reader.by_ref().take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(if line.len() > MAX_LINE {
            bad("line too long")
        } else {
            io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed mid-line")
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

fn read_request<S: Read + Write>(reader: &mut BufReader<S>) -> io::Result<Option<Request>> {
    // Tolerate empty lines before a request line (RFC 9112 section 2.2).
    let line = loop {
        match read_line(reader)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let line = String::from_utf8(line).map_err(|_| bad("request line is not UTF-8"))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(format!("malformed request line {line:?}")));
    };
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| bad("invalid method"))?;
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(bad(format!("unsupported version {version:?}"))),
    };
    let target = parse_target(target)?;

    let mut headers = HeaderMap::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| bad("connection closed in headers"))?;
        if line.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(bad("too many headers"));
        }
        let colon = line.iter().position(|&byte| byte == b':').ok_or_else(|| bad("header line without a colon"))?;
        let name = HeaderName::from_bytes(&line[..colon]).map_err(|_| bad("invalid header name"))?;
        let value = line[colon + 1..].trim_ascii();
        let value = HeaderValue::from_bytes(value).map_err(|_| bad("invalid header value"))?;
        headers.append(name, value);
    }

    let connection_tokens = header_tokens(&headers, &CONNECTION);
    let close = if http10 {
        !connection_tokens.iter().any(|token| token == "keep-alive")
    } else {
        connection_tokens.iter().any(|token| token == "close")
    };

    if header_tokens(&headers, &EXPECT).iter().any(|token| token == "100-continue") && !http10 {
        let stream = reader.get_mut();
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        stream.flush()?;
    }

    let chunked = header_tokens(&headers, &TRANSFER_ENCODING).last().is_some_and(|coding| coding == "chunked");
    let body = if chunked {
        read_chunked(reader)?
    } else if headers.contains_key(TRANSFER_ENCODING) {
        return Err(bad("unsupported transfer-encoding"));
    } else {
        match content_length(&headers)? {
            Some(length) => {
                let mut body = vec![0; length];
                reader.read_exact(&mut body)?;
                body
            }
            None => Vec::new(),
        }
    };

    Ok(Some(Request { method, target, headers, body, close }))
}

/// Accepts an origin-form target (`/path?query`), an absolute-form one (`http://host/path`,
/// reduced to its path and query) or `*`.
fn parse_target(target: &str) -> io::Result<String> {
    if target == "*" {
        return Ok(target.to_string());
    }
    if target.starts_with('/') {
        return PathAndQuery::from_str(target)
            .map(|path_and_query| path_and_query.as_str().to_string())
            .map_err(|_| bad("invalid request target"));
    }
    let uri = Uri::from_str(target).map_err(|_| bad("invalid request target"))?;
    Ok(uri.path_and_query().map_or_else(|| "/".to_string(), |path_and_query| path_and_query.as_str().to_string()))
}

/// The lower-cased, comma-separated tokens of every value of a header.
fn header_tokens(headers: &HeaderMap, name: &HeaderName) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .filter(|token| !token.is_empty())
        .collect()
}

fn content_length(headers: &HeaderMap) -> io::Result<Option<usize>> {
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let parsed = value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<usize>().ok())
            .ok_or_else(|| bad("invalid content-length"))?;
        if length.is_some_and(|previous| previous != parsed) {
            return Err(bad("conflicting content-length headers"));
        }
        length = Some(parsed);
    }
    if length.is_some_and(|length| length > MAX_BODY) {
        return Err(bad("body too large"));
    }
    Ok(length)
}

fn read_chunked<R: BufRead>(reader: &mut R) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| bad("connection closed in a chunk"))?;
        let size = line.split(|&byte| byte == b';').next().unwrap_or(&[]);
        let size = std::str::from_utf8(size)
            .ok()
            .and_then(|size| usize::from_str_radix(size.trim(), 16).ok())
            .ok_or_else(|| bad("invalid chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(reader)?.ok_or_else(|| bad("connection closed in trailers"))?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(bad("body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        if !read_line(reader)?.is_some_and(|line| line.is_empty()) {
            return Err(bad("chunk not followed by CRLF"));
        }
    }
}

fn write_reply<W: Write>(stream: &mut W, reply: &Reply, head: bool, close: bool) -> io::Result<()> {
    let code = reply.status.as_u16();
    let reason = match code {
        MISMATCH_STATUS => "Playback Mismatch",
        _ => reply.status.canonical_reason().unwrap_or("Unknown"),
    };
    let mut out = format!("HTTP/1.1 {code} {reason}\r\n").into_bytes();
    for (name, value) in &reply.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // 1xx, 204 and 304 responses have neither a body nor a content-length.
    let bodiless = reply.status.is_informational()
        || reply.status == StatusCode::NO_CONTENT
        || reply.status == StatusCode::NOT_MODIFIED;
    if !bodiless {
        out.extend_from_slice(format!("content-length: {}\r\n", reply.body.len()).as_bytes());
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !bodiless && !head {
        out.extend_from_slice(&reply.body);
    }
    stream.write_all(&out)?;
    stream.flush()
}

/// Generates a test CA and a leaf certificate for `localhost` / `127.0.0.1` signed by it, and
/// returns a server configuration using the leaf, plus the CA's PEM.
fn test_tls_config() -> io::Result<(Arc<ServerConfig>, String)> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };

    let ca_key = KeyPair::generate().map_err(io::Error::other)?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = rcgen::DistinguishedName::new();
    ca_params.distinguished_name.push(DnType::CommonName, "kvcerts playback test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca_params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    ca_params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(io::Error::other)?;

    let leaf_key = KeyPair::generate().map_err(io::Error::other)?;
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).map_err(io::Error::other)?;
    leaf_params.distinguished_name = rcgen::DistinguishedName::new();
    leaf_params.distinguished_name.push(DnType::CommonName, "localhost");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    leaf_params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(io::Error::other)?;

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .map_err(io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), ca.pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_origin_occurrences_only() {
        let from = "https://REDACTED.vault.azure.net";
        let to = "http://127.0.0.1:1234";
        let input = br#"{"id":"https://REDACTED.vault.azure.net/certificates/a","x":"https://REDACTED.vault.azure.net:443/b","y":"https://REDACTED.vault.azure.net.evil.com/","z":"https://REDACTED.vault.azure.net:4430/"}"#;
        let output = String::from_utf8(rewrite_origin(input, from, to)).unwrap();
        assert_eq!(
            output,
            r#"{"id":"http://127.0.0.1:1234/certificates/a","x":"http://127.0.0.1:1234/b","y":"https://REDACTED.vault.azure.net.evil.com/","z":"https://REDACTED.vault.azure.net:4430/"}"#
        );
        assert_eq!(rewrite_origin(b"", from, to), b"");
        assert_eq!(rewrite_origin(from.as_bytes(), from, to), to.as_bytes());
    }

    #[test]
    fn keys_normalize_trailing_slash_and_api_version() {
        let get = Method::GET;
        assert_eq!(
            RequestKey::new(&get, "/certificates/a/", "api-version=7.4-preview.1"),
            RequestKey::new(&get, "/certificates/a", "api-version=7.3")
        );
        assert_ne!(
            RequestKey::new(&get, "/certificates/a", ""),
            RequestKey::new(&get, "/certificates/a", "api-version=7.3")
        );
        assert_eq!(
            RequestKey::new(&get, "/certificates", "maxresults=2&api-version=7.3"),
            RequestKey::new(&get, "/certificates", "api-version=7.4&maxresults=2")
        );
        assert_eq!(RequestKey::new(&get, "/", "").path, "/");
    }
}
