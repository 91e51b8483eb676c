//! Both clients under faults, over loopback: throttling storms, 5xx bursts, dropped
//! connections, truncated and slow answers, oversized bodies, and the security refusals
//! (a challenge for another resource, a redirect or a `nextLink` to another host).
//!
//! Faults come from the emulator's fault injection (HTTPS, `FaultConfig`) where it has them,
//! and from a small plain-HTTP loopback server ([`MiniServer`]) where it does not: it answers
//! each request from a closure, counts requests as they *arrive* (so a request the client gave
//! up on still counts), and records the `Authorization` header each one carried.
//!
//! Every test runs the blocking (`kvcerts-ureq`) and the async (`kvcerts-hyper` on a tokio
//! current-thread runtime) client through the same [`Client`] wrapper. No test asserts an
//! upper bound on time; the one lower bound checked is that a client waited at least as long
//! as the service's `Retry-After` asked.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kvcerts_core::flows::{CreateOutcome, RetryOptions};
use kvcerts_core::models::{CertificateOperation, CertificatePolicy, KeyVaultCertificate};
use kvcerts_core::{Error, ErrorKind, ImportCertificateOptions};
use kvcerts_emulator::{Emulator, FaultConfig};

const TOKEN: &str = "fault-test-token";

// ---------------------------------------------------------------------------------------------
// One wrapper over both clients
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Ureq,
    Hyper,
}

const TRANSPORTS: [Transport; 2] = [Transport::Ureq, Transport::Hyper];

/// What a test changes in the client configuration.
#[derive(Clone)]
struct Options {
    url: String,
    ca_pem: Option<String>,
    retry: RetryOptions,
    read_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    max_response_size: Option<u64>,
    verify_challenge_resource: bool,
}

impl Options {
    /// Against an HTTPS emulator: trust its CA, no resource check (its host is 127.0.0.1),
    /// quick retries.
    fn emulator(emu: &Emulator) -> Self {
        Options {
            url: emu.vault_url().to_owned(),
            ca_pem: emu.ca_pem().map(str::to_owned),
            retry: quick_retry(3),
            read_timeout: None,
            connect_timeout: None,
            max_response_size: None,
            verify_challenge_resource: false,
        }
    }

    /// Against a plain-HTTP [`MiniServer`] on loopback.
    fn mini(server: &MiniServer) -> Self {
        Options {
            url: server.url(),
            ca_pem: None,
            retry: quick_retry(3),
            read_timeout: None,
            connect_timeout: None,
            max_response_size: None,
            verify_challenge_resource: false,
        }
    }

    fn retry(mut self, retry: RetryOptions) -> Self {
        self.retry = retry;
        self
    }

    /// Both timeouts: the async client waits for response headers up to `connect_timeout +
    /// read_timeout` (a pooled request may have to connect first), so a read-timeout test
    /// shortens both.
    fn timeouts(mut self, connect: Duration, read: Duration) -> Self {
        self.connect_timeout = Some(connect);
        self.read_timeout = Some(read);
        self
    }

    fn max_response_size(mut self, bytes: u64) -> Self {
        self.max_response_size = Some(bytes);
        self
    }

    fn verify_challenge_resource(mut self, verify: bool) -> Self {
        self.verify_challenge_resource = verify;
        self
    }
}

/// Retries with short backoff (20 ms, doubling), so the tests stay fast.
fn quick_retry(max_retries: u32) -> RetryOptions {
    RetryOptions::default()
        .max_retries(max_retries)
        .base_delay(Duration::from_millis(20))
        .max_delay(Duration::from_secs(5))
        .max_elapsed(Duration::from_secs(30))
}

/// The blocking client, or the async one with the runtime that drives it (the client is
/// declared first, so it is dropped before its runtime).
enum Client {
    Ureq(kvcerts_ureq::CertificateClient),
    Hyper(kvcerts_hyper::CertificateClient, tokio::runtime::Runtime),
}

/// Applies `Options` to either client's builder (the two builders share their method names).
macro_rules! configure {
    ($builder:expr, $o:expr) => {{
        let o: &Options = $o;
        let mut b = $builder
            .retry(o.retry.clone())
            .poll_interval(Duration::from_millis(10))
            .verify_challenge_resource(o.verify_challenge_resource)
            .allow_insecure_loopback(o.url.starts_with("http://"));
        if let Some(pem) = &o.ca_pem {
            b = b.add_root_certificate_pem(pem.as_bytes().to_vec());
        }
        if let Some(t) = o.read_timeout {
            b = b.read_timeout(t);
        }
        if let Some(t) = o.connect_timeout {
            b = b.connect_timeout(t);
        }
        if let Some(n) = o.max_response_size {
            b = b.max_response_size(n);
        }
        b
    }};
}

impl Client {
    fn new(transport: Transport, o: &Options) -> Client {
        match transport {
            Transport::Ureq => {
                let credential = Arc::new(kvcerts_ureq::StaticTokenCredential::new(TOKEN));
                let b = configure!(kvcerts_ureq::CertificateClient::builder(&o.url, credential), o);
                Client::Ureq(b.build().expect("blocking client"))
            }
            Transport::Hyper => {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                let _entered = runtime.enter();
                let credential = Arc::new(kvcerts_hyper::StaticTokenCredential::new(TOKEN));
                let b = configure!(kvcerts_hyper::CertificateClient::builder(&o.url, credential), o);
                let client = b.build().expect("async client");
                drop(_entered);
                Client::Hyper(client, runtime)
            }
        }
    }

    fn get(&self, name: &str) -> Result<KeyVaultCertificate, Error> {
        match self {
            Client::Ureq(c) => c.get_certificate(name),
            Client::Hyper(c, rt) => rt.block_on(c.get_certificate(name)),
        }
    }

    fn list_names(&self) -> Result<Vec<String>, Error> {
        match self {
            Client::Ureq(c) => c
                .list_properties_of_certificates(&Default::default())?
                .map(|item| item.map(|p| p.name().unwrap_or_default()))
                .collect(),
            Client::Hyper(c, rt) => rt.block_on(async {
                let mut pager = c.list_properties_of_certificates(&Default::default())?;
                let mut names = Vec::new();
                while let Some(item) = pager.next().await {
                    names.push(item?.name().unwrap_or_default());
                }
                Ok(names)
            }),
        }
    }

    /// Creates a certificate and polls to the end.
    fn create(&self, name: &str, policy: &CertificatePolicy) -> Result<CreateOutcome, Error> {
        match self {
            Client::Ureq(c) => c.begin_create_certificate(name, policy, &Default::default())?.wait(),
            Client::Hyper(c, rt) => rt.block_on(c.begin_create_certificate(name, policy, &Default::default())?.wait()),
        }
    }

    /// Sends the create request only (one round of the poller), for a pending certificate.
    fn create_pending(&self, name: &str, policy: &CertificatePolicy) -> Result<(), Error> {
        match self {
            Client::Ureq(c) => {
                let mut poller = c.begin_create_certificate(name, policy, &Default::default())?;
                match poller.poll() {
                    Some(Err(e)) => Err(e.clone()),
                    _ => Ok(()),
                }
            }
            Client::Hyper(c, rt) => rt.block_on(async {
                let mut poller = c.begin_create_certificate(name, policy, &Default::default())?;
                match poller.poll().await {
                    Some(Err(e)) => Err(e.clone()),
                    _ => Ok(()),
                }
            }),
        }
    }

    fn operation(&self, name: &str) -> Result<CertificateOperation, Error> {
        match self {
            Client::Ureq(c) => c.get_certificate_operation(name),
            Client::Hyper(c, rt) => rt.block_on(c.get_certificate_operation(name)),
        }
    }

    fn import(&self, name: &str, pem: &[u8]) -> Result<KeyVaultCertificate, Error> {
        let options = ImportCertificateOptions::default();
        match self {
            Client::Ureq(c) => c.import_certificate(name, pem, &options),
            Client::Hyper(c, rt) => rt.block_on(c.import_certificate(name, pem, &options)),
        }
    }

    fn merge(&self, name: &str, chain: &[Vec<u8>]) -> Result<KeyVaultCertificate, Error> {
        match self {
            Client::Ureq(c) => c.merge_certificate(name, chain, &Default::default()),
            Client::Hyper(c, rt) => rt.block_on(c.merge_certificate(name, chain, &Default::default())),
        }
    }

    fn backup(&self, name: &str) -> Result<Vec<u8>, Error> {
        match self {
            Client::Ureq(c) => c.backup_certificate(name),
            Client::Hyper(c, rt) => rt.block_on(c.backup_certificate(name)),
        }
    }

    fn restore(&self, backup: &[u8]) -> Result<KeyVaultCertificate, Error> {
        match self {
            Client::Ureq(c) => c.restore_certificate_backup(backup),
            Client::Hyper(c, rt) => rt.block_on(c.restore_certificate_backup(backup)),
        }
    }

    fn delete(&self, name: &str) -> Result<(), Error> {
        match self {
            Client::Ureq(c) => c.begin_delete_certificate(name)?.wait().map(drop),
            Client::Hyper(c, rt) => rt.block_on(async { c.begin_delete_certificate(name)?.wait().await.map(drop) }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Emulator helpers
// ---------------------------------------------------------------------------------------------

/// An HTTPS emulator whose `Self` creates complete at once.
fn emulator() -> Emulator {
    Emulator::builder().create_delay(Duration::ZERO).start().expect("emulator")
}

fn self_signed_policy(name: &str) -> CertificatePolicy {
    CertificatePolicy::new("Self", format!("CN={name}.example"))
}

/// An emulator holding one completed certificate `name`, with clean counters.
fn emulator_with(transport: Transport, name: &str) -> Emulator {
    let emu = emulator();
    let client = Client::new(transport, &Options::emulator(&emu));
    match client.create(name, &self_signed_policy(name)).expect("setup create") {
        CreateOutcome::Completed(_) => {}
        other => panic!("setup create ended {other:?}"),
    }
    emu.reset_stats();
    emu
}

/// Routes restricted fault config.
fn on_routes(routes: &[&str], config: FaultConfig) -> FaultConfig {
    FaultConfig { routes: Some(routes.iter().map(|r| r.to_string()).collect()), ..config }
}

/// Runs `f` while the emulator injects `config`, turning faults off as soon as `n` faults were
/// injected: a storm of exactly `n` faulted answers, whatever the timing.
fn storm<R>(emu: &Emulator, config: FaultConfig, n: u64, f: impl FnOnce() -> R) -> R {
    emu.reset_stats();
    emu.faults().set(config);
    let done = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if emu.stats().faults_injected >= n {
                    emu.faults().clear();
                    return;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let result = f();
        done.store(true, Ordering::SeqCst);
        result
    });
    emu.faults().clear();
    result
}

/// A self-signed certificate with its PKCS#8 key, as PEM.
fn import_pem(cn: &str) -> Vec<u8> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let params = rcgen::CertificateParams::new(vec![format!("{cn}.example")]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    format!("{}{}", cert.pem(), key.serialize_pem()).into_bytes()
}

/// Signs the CSR of a pending certificate with a throw-away CA: the chain to merge.
fn sign_csr(csr_der: &[u8]) -> Vec<Vec<u8>> {
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let csr = rcgen::CertificateSigningRequestParams::from_der(&csr_der.to_vec().into()).expect("emulator CSR");
    let leaf = csr.signed_by(&issuer).unwrap();
    vec![leaf.der().to_vec(), ca_cert.der().to_vec()]
}

fn assert_kind<T: std::fmt::Debug>(result: Result<T, Error>, kind: ErrorKind, what: impl std::fmt::Display) -> Error {
    match result {
        Ok(v) => panic!("{what}: expected a {kind:?} error, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "{what}: {e}");
            e
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A tiny loopback HTTP/1.1 server for the faults the emulator does not have
// ---------------------------------------------------------------------------------------------

/// One request as it arrived.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    authorization: Option<String>,
}

/// What to answer: bytes to write (status line, headers, body), then close the connection,
/// optionally after a pause.
struct Answer {
    delay: Duration,
    bytes: Vec<u8>,
}

impl Answer {
    fn now(bytes: Vec<u8>) -> Answer {
        Answer { delay: Duration::ZERO, bytes }
    }
}

type Handler = dyn Fn(&Seen) -> Answer + Send + Sync;

/// A plain-HTTP server on 127.0.0.1 that answers every request from a closure, one request per
/// connection (`Connection: close`), and remembers every request and connection.
struct MiniServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MiniServer {
    fn start(handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> MiniServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (s, c, st) = (seen.clone(), connections.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                let (s, handler) = (s.clone(), handler.clone());
                std::thread::spawn(move || serve_one(stream, &s, &*handler));
            }
        });
        MiniServer { addr, seen, connections, stop, thread: Some(thread) }
    }

    /// A server that must never be contacted: it answers 500 and counts connections.
    fn trap() -> MiniServer {
        MiniServer::start(|_| Answer::now(response("500 Internal Server Error", &[], b"")))
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests that arrived for `method` and a target starting with `prefix`.
    fn count(&self, method: &str, prefix: &str) -> usize {
        self.seen().iter().filter(|s| s.method == method && s.target.starts_with(prefix)).count()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for MiniServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(stream: TcpStream, seen: &Mutex<Vec<Seen>>, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut authorization = None;
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            return;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "authorization" => authorization = Some(value.trim().to_owned()),
                "content-length" => length = value.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = Seen { method, target, authorization };
    seen.lock().unwrap().push(request.clone());
    let answer = handler(&request);
    std::thread::sleep(answer.delay);
    let mut stream = stream;
    let _ = stream.write_all(&answer.bytes);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// A whole HTTP/1.1 response with `Content-Length` and `Connection: close`.
fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The Key Vault bearer challenge, for a request without a token.
fn challenge() -> Vec<u8> {
    let www = r#"Bearer authorization="https://login.windows.net/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net""#;
    let body = br#"{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}"#;
    response("401 Unauthorized", &[("WWW-Authenticate", www), ("Content-Type", "application/json")], body)
}

fn json_ok(body: &str) -> Vec<u8> {
    response("200 OK", &[("Content-Type", "application/json; charset=utf-8")], body.as_bytes())
}

/// A minimal certificate bundle served by the mini server.
fn bundle(base: &str, name: &str) -> String {
    format!(
        r#"{{"id":"{base}/certificates/{name}/0123456789abcdef0123456789abcdef","attributes":{{"enabled":true,"created":1700000000,"updated":1700000000,"recoveryLevel":"Recoverable+Purgeable"}}}}"#
    )
}

/// Every token that reached `server` is the test's, and every request with one went to it.
fn assert_tokens_only_to(server: &MiniServer) {
    for s in server.seen() {
        if let Some(a) = &s.authorization {
            assert_eq!(a, &format!("Bearer {TOKEN}"), "{s:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Throttling
// ---------------------------------------------------------------------------------------------

#[test]
fn throttling_storm_is_waited_out_as_long_as_the_service_asks() {
    for transport in TRANSPORTS {
        let emu = emulator_with(transport, "c");
        let client = Client::new(transport, &Options::emulator(&emu).retry(quick_retry(5)));
        client.get("c").expect("warm up: challenge and token");
        // Every GetCertificate answered 429 with `Retry-After: 1` until two were sent.
        let throttle = on_routes(
            &["GetCertificate"],
            FaultConfig { throttle_rate: Some(1.0), retry_after_secs: Some(1), ..Default::default() },
        );
        let started = Instant::now();
        let certificate = storm(&emu, throttle, 2, || client.get("c")).unwrap_or_else(|e| panic!("{transport:?}: {e}"));
        let elapsed = started.elapsed();
        assert_eq!(certificate.name().as_deref(), Some("c"));
        let stats = emu.stats();
        assert_eq!(stats.count("GetCertificate", 429), 2, "{transport:?}: {stats:?}");
        assert_eq!(stats.count("GetCertificate", 200), 1, "{transport:?}: {stats:?}");
        // Behaviour, not speed: the client waited at least the two seconds asked for.
        assert!(elapsed >= Duration::from_secs(2), "{transport:?}: retried after {elapsed:?}");
    }
}

#[test]
fn throttling_past_the_retry_budget_is_a_throttled_error() {
    for transport in TRANSPORTS {
        let emu = emulator_with(transport, "c");
        let always = |secs| {
            on_routes(
                &["GetCertificate"],
                FaultConfig { throttle_rate: Some(1.0), retry_after_secs: Some(secs), ..Default::default() },
            )
        };

        // Retries run out: 1 + 2 attempts, then the 429 comes back as a typed error.
        let client = Client::new(transport, &Options::emulator(&emu).retry(quick_retry(2)));
        client.get("c").unwrap();
        emu.reset_stats();
        emu.faults().set(always(0));
        let e = assert_kind(client.get("c"), ErrorKind::Throttled, format!("{transport:?}: budget exhausted"));
        assert_eq!(e.status().map(|s| s.as_u16()), Some(429));
        assert_eq!(emu.stats().count("GetCertificate", 429), 3, "{transport:?}");

        // The service asks for more than `max_delay`: no retry at all, and the error says how
        // long the service asked to wait.
        emu.reset_stats();
        emu.faults().set(always(30));
        let e =
            assert_kind(client.get("c"), ErrorKind::Throttled, format!("{transport:?}: Retry-After above max_delay"));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(30)), "{transport:?}");
        assert_eq!(emu.stats().route_total("GetCertificate"), 1, "{transport:?}");

        // No retries configured: the first 429 is the answer.
        let once = Client::new(transport, &Options::emulator(&emu).retry(RetryOptions::disabled()));
        emu.faults().clear();
        once.get("c").unwrap();
        emu.reset_stats();
        emu.faults().set(always(0));
        assert_kind(once.get("c"), ErrorKind::Throttled, format!("{transport:?}: retries disabled"));
        assert_eq!(emu.stats().route_total("GetCertificate"), 1, "{transport:?}");
        emu.faults().clear();
    }
}

// ---------------------------------------------------------------------------------------------
// 5xx, dropped connections, truncated and slow answers
// ---------------------------------------------------------------------------------------------

#[test]
fn server_error_bursts_on_reads_are_retried() {
    for transport in TRANSPORTS {
        let emu = emulator_with(transport, "c");
        let client = Client::new(transport, &Options::emulator(&emu).retry(quick_retry(10)));
        client.get("c").unwrap();
        for status in [500, 502, 503, 504] {
            let burst = on_routes(
                &["GetCertificate", "ListCertificates"],
                FaultConfig { error_rate: Some(1.0), error_status: Some(status), ..Default::default() },
            );
            let certificate = storm(&emu, burst.clone(), 3, || client.get("c"))
                .unwrap_or_else(|e| panic!("{transport:?} {status}: {e}"));
            assert_eq!(certificate.name().as_deref(), Some("c"));
            let stats = emu.stats();
            assert_eq!(stats.count("GetCertificate", status), 3, "{transport:?}: {stats:?}");
            assert_eq!(stats.count("GetCertificate", 200), 1, "{transport:?}: {stats:?}");

            let names = storm(&emu, burst, 2, || client.list_names()).unwrap();
            assert_eq!(names, ["c"], "{transport:?} {status}");
        }
    }
}

#[test]
fn server_errors_on_reads_past_the_budget_are_service_errors() {
    for transport in TRANSPORTS {
        let emu = emulator_with(transport, "c");
        let client = Client::new(transport, &Options::emulator(&emu).retry(quick_retry(2)));
        client.get("c").unwrap();
        emu.reset_stats();
        emu.faults().set(on_routes(
            &["GetCertificate"],
            FaultConfig { error_rate: Some(1.0), error_status: Some(500), ..Default::default() },
        ));
        let e = assert_kind(client.get("c"), ErrorKind::Service, format!("{transport:?}: 500 storm"));
        assert_eq!(e.status().map(|s| s.as_u16()), Some(500));
        assert_eq!(emu.stats().count("GetCertificate", 500), 3, "{transport:?}");
        emu.faults().clear();
    }
}

#[test]
fn dropped_connections_mid_response_on_reads_are_retried() {
    for transport in TRANSPORTS {
        let emu = emulator_with(transport, "c");
        let client = Client::new(transport, &Options::emulator(&emu).retry(quick_retry(10)));
        client.get("c").unwrap();
        // The emulator sends the headers (with the full Content-Length) and half the body, then
        // aborts the connection.
        let drop = on_routes(&["GetCertificate"], FaultConfig { drop_rate: Some(1.0), ..Default::default() });
        let certificate =
            storm(&emu, drop.clone(), 3, || client.get("c")).unwrap_or_else(|e| panic!("{transport:?}: {e}"));
        assert_eq!(certificate.name().as_deref(), Some("c"));
        assert_eq!(emu.stats().count("GetCertificate", 200), 4, "{transport:?}: 3 cut short, then the whole one");

        // Every answer cut short: a transport error once the retries are used up.
        let few = Client::new(transport, &Options::emulator(&emu).retry(quick_retry(1)));
        emu.faults().clear();
        few.get("c").unwrap();
        emu.reset_stats();
        emu.faults().set(drop);
        let e = assert_kind(few.get("c"), ErrorKind::Transport, format!("{transport:?}: every response cut short"));
        assert!(matches!(e, Error::Transport { request_sent: true, .. }), "{e:?}");
        assert_eq!(emu.stats().route_total("GetCertificate"), 2, "{transport:?}");
        emu.faults().clear();
    }
}

#[test]
fn non_idempotent_requests_are_never_sent_twice() {
    for transport in TRANSPORTS {
        let emu = Emulator::builder().create_delay(Duration::ZERO).soft_delete(false).start().expect("emulator");
        let client = Client::new(transport, &Options::emulator(&emu).retry(quick_retry(5)));
        // Material: a pending (issuer Unknown) certificate to merge and a backup to restore.
        client.create_pending("pending", &CertificatePolicy::new("Unknown", "CN=pending.example")).unwrap();
        let csr = client.operation("pending").unwrap().csr.expect("a CSR");
        let chain = sign_csr(&csr);
        client.create("gone", &self_signed_policy("gone")).unwrap();
        let backup = client.backup("gone").unwrap();
        client.delete("gone").unwrap();
        assert_kind(client.get("gone"), ErrorKind::NotFound, format!("{transport:?}: deleted (soft delete off)"));

        type Op<'a> = (&'a str, Box<dyn Fn(&Client) -> Result<(), Error> + 'a>);
        let ops: Vec<Op> = vec![
            ("CreateCertificate", Box::new(|c| c.create("created", &self_signed_policy("created")).map(drop))),
            ("ImportCertificate", Box::new(|c| c.import("imported", &import_pem("imported")).map(drop))),
            ("MergeCertificate", Box::new(|c| c.merge("pending", &chain).map(drop))),
            ("RestoreCertificate", Box::new(|c| c.restore(&backup).map(drop))),
        ];

        // 500, 502 and 504 may come after the service acted: the error comes back as is.
        for (route, op) in &ops {
            for status in [500, 502, 504] {
                emu.reset_stats();
                emu.faults().set(on_routes(
                    &[route],
                    FaultConfig { error_rate: Some(1.0), error_status: Some(status), ..Default::default() },
                ));
                let e = assert_kind(op(&client), ErrorKind::Service, format!("{transport:?}: {route}"));
                assert_eq!(e.status().map(|s| s.as_u16()), Some(status));
                assert_eq!(emu.stats().route_total(route), 1, "{transport:?} {route} {status}: sent twice");
            }
        }

        // The service acted, then the connection dropped mid-response: not resent, and the
        // service did act (the certificate is there).
        for (route, op) in &ops {
            emu.reset_stats();
            emu.faults().set(on_routes(&[route], FaultConfig { drop_rate: Some(1.0), ..Default::default() }));
            let e = assert_kind(op(&client), ErrorKind::Transport, format!("{transport:?}: {route}"));
            assert!(matches!(e, Error::Transport { request_sent: true, .. }), "{route}: {e:?}");
            assert_eq!(emu.stats().route_total(route), 1, "{transport:?} {route}: sent twice");
        }
        emu.faults().clear();
        for name in ["created", "imported", "pending", "gone"] {
            let certificate = client.get(name).unwrap_or_else(|e| panic!("{transport:?} {name}: {e}"));
            assert!(certificate.cer.is_some(), "{transport:?} {name}");
        }
    }
}

#[test]
fn slow_answers_past_the_read_timeout() {
    for transport in TRANSPORTS {
        // A server that takes 1.5 s to answer, with a 200 ms read timeout. It counts requests
        // as they arrive, so a request the client gave up on still counts.
        let server = MiniServer::start(|req| match &req.authorization {
            None => Answer::now(challenge()),
            Some(_) => Answer {
                delay: Duration::from_millis(1500),
                bytes: json_ok(r#"{"id":"http://127.0.0.1/certificates/x/pending","status":"inProgress"}"#),
            },
        });
        let client = Client::new(
            transport,
            &Options::mini(&server)
                .retry(quick_retry(2))
                .timeouts(Duration::from_millis(300), Duration::from_millis(200)),
        );

        // A read: retried, then a timeout error.
        let e = assert_kind(client.get("slow"), ErrorKind::Transport, format!("{transport:?}: slow GET"));
        assert!(e.to_string().contains("timeout") || e.to_string().contains("timed out"), "{transport:?}: {e}");
        let gets = server.seen().iter().filter(|s| s.method == "GET" && s.authorization.is_some()).count();
        assert_eq!(gets, 3, "{transport:?}: one attempt and two retries");

        // A create: it may have reached the service, so it is not resent.
        let e = assert_kind(
            client.create("slow", &self_signed_policy("slow")),
            ErrorKind::Transport,
            format!("{transport:?}: slow create"),
        );
        assert!(matches!(e, Error::Transport { request_sent: true, .. }), "{e:?}");
        let creates = server.seen().iter().filter(|s| s.method == "POST" && s.authorization.is_some()).count();
        assert_eq!(creates, 1, "{transport:?}: the create was sent twice");
        assert_tokens_only_to(&server);
    }
}

#[test]
fn slow_emulator_answers_time_out_and_the_client_recovers() {
    for transport in TRANSPORTS {
        let emu = emulator_with(transport, "c");
        let client = Client::new(
            transport,
            &Options::emulator(&emu)
                .retry(quick_retry(1))
                .timeouts(Duration::from_millis(300), Duration::from_millis(200)),
        );
        client.get("c").unwrap();
        emu.faults().set(on_routes(&["GetCertificate"], FaultConfig { delay_ms: Some(1000), ..Default::default() }));
        assert_kind(client.get("c"), ErrorKind::Transport, format!("{transport:?}: slow emulator"));
        emu.faults().clear();
        // The timed-out connections are not reused: the next call works.
        assert_eq!(client.get("c").unwrap().name().as_deref(), Some("c"));
    }
}

#[test]
fn truncated_json_with_a_matching_length_is_an_unexpected_response() {
    for transport in TRANSPORTS {
        let server = MiniServer::start(|req| match &req.authorization {
            None => Answer::now(challenge()),
            Some(_) => Answer::now(json_ok(r#"{"id":"http://127.0.0.1/certificates/t/0123","attributes":{"enab"#)),
        });
        let client = Client::new(transport, &Options::mini(&server));
        let e = assert_kind(client.get("t"), ErrorKind::UnexpectedResponse, format!("{transport:?}: truncated JSON"));
        assert_eq!(e.status().map(|s| s.as_u16()), Some(200));
        assert_eq!(server.count("GET", "/certificates/t"), 2, "{transport:?}: the probe and one authenticated GET");
    }
}

// ---------------------------------------------------------------------------------------------
// Oversized bodies and where tokens may go
// ---------------------------------------------------------------------------------------------

#[test]
fn a_body_larger_than_max_response_size_is_refused_and_not_retried() {
    for transport in TRANSPORTS {
        // From the emulator (with a Content-Length): a certificate bundle is a few KiB.
        let emu = emulator_with(transport, "c");
        let client = Client::new(transport, &Options::emulator(&emu).max_response_size(512));
        let e = client.get("c").expect_err("a bundle over 512 bytes");
        assert!(matches!(e.kind(), ErrorKind::Transport | ErrorKind::UnexpectedResponse), "{transport:?}: {e}");
        assert!(e.to_string().contains("max_response_size"), "{transport:?}: {e}");
        assert_eq!(emu.stats().count("GetCertificate", 200), 1, "{transport:?}: retried");

        // From a server that streams 8 MiB with no length (the body ends when the connection
        // closes): the client stops at its limit.
        let server = MiniServer::start(|req| match &req.authorization {
            None => Answer::now(challenge()),
            Some(_) => {
                let mut bytes =
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".to_vec();
                bytes.extend_from_slice(b"{\"value\":\"");
                bytes.resize(bytes.len() + 8 * 1024 * 1024, b'A');
                Answer::now(bytes)
            }
        });
        let client = Client::new(transport, &Options::mini(&server).max_response_size(64 * 1024));
        let e = client.get("huge").expect_err("8 MiB over a 64 KiB limit");
        assert!(matches!(e.kind(), ErrorKind::Transport | ErrorKind::UnexpectedResponse), "{transport:?}: {e}");
        let authenticated = server.seen().iter().filter(|s| s.authorization.is_some()).count();
        assert_eq!(authenticated, 1, "{transport:?}: retried");
    }
}

#[test]
fn bodies_are_read_whole_whatever_content_length_announces() {
    for transport in TRANSPORTS {
        // 3 MiB under the default 16 MiB limit, past the 1 MiB a `Content-Length` reserves up
        // front: the body grows as it arrives and the bundle (with a large unknown field) parses.
        let server = MiniServer::start(|req| match &req.authorization {
            None => Answer::now(challenge()),
            Some(_) => {
                let mut body = bundle("http://127.0.0.1", "big");
                body.pop();
                body.push_str(&format!(r#","padding":"{}"}}"#, "A".repeat(3 * 1024 * 1024)));
                Answer::now(json_ok(&body))
            }
        });
        let client = Client::new(transport, &Options::mini(&server));
        assert_eq!(client.get("big").unwrap().name().as_deref(), Some("big"), "{transport:?}");

        // A `Content-Length` of 10 MiB (under the limit) with 20 bytes sent before the server
        // closes: a typed error, not a hang, a panic or a short body taken as whole.
        let server = MiniServer::start(|req| {
            match &req.authorization {
            None => Answer::now(challenge()),
            Some(_) => Answer::now(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\nConnection: close\r\n\r\n{\"id\":\"http://127.0.0.1"
                    .to_vec(),
            ),
        }
        });
        let client = Client::new(transport, &Options::mini(&server));
        let e = client.get("short").expect_err("20 of 10 MiB announced");
        assert!(matches!(e.kind(), ErrorKind::Transport | ErrorKind::UnexpectedResponse), "{transport:?}: {e}");
    }
}

#[test]
fn a_challenge_for_another_resource_gets_no_token() {
    for transport in TRANSPORTS {
        let emu = Emulator::builder()
            .create_delay(Duration::ZERO)
            .challenge_resource("https://vault.evil.example")
            .start()
            .expect("emulator");
        let client = Client::new(transport, &Options::emulator(&emu).verify_challenge_resource(true));
        assert_kind(client.get("c"), ErrorKind::Security, format!("{transport:?}: foreign resource on get"));
        assert_kind(
            client.create("c", &self_signed_policy("c")),
            ErrorKind::Security,
            format!("{transport:?}: foreign resource on create"),
        );
        assert_kind(client.list_names(), ErrorKind::Security, format!("{transport:?}: foreign resource on list"));
        let stats = emu.stats();
        // Only unauthenticated probes arrived: every request was answered with the challenge.
        assert_eq!(stats.status_total(401), stats.total_requests, "{transport:?}: {stats:?}");
        assert_eq!(stats.challenges, stats.total_requests, "{transport:?}: {stats:?}");
        assert!(stats.total_requests >= 1);
    }
}

#[test]
fn a_redirect_to_another_host_is_not_followed() {
    for transport in TRANSPORTS {
        let trap = MiniServer::trap();
        let location = format!("{}/certificates/r?api-version=7.5", trap.url());
        let server = MiniServer::start(move |req| match &req.authorization {
            None => Answer::now(challenge()),
            Some(_) => Answer::now(response("307 Temporary Redirect", &[("Location", &location)], b"")),
        });
        let client = Client::new(transport, &Options::mini(&server));
        let e = client.get("r").expect_err("a redirect is not a certificate");
        assert_eq!(e.status().map(|s| s.as_u16()), Some(307), "{transport:?}: {e}");
        assert!(matches!(e.kind(), ErrorKind::Service | ErrorKind::UnexpectedResponse), "{transport:?}: {e}");
        assert_eq!(trap.connections(), 0, "{transport:?}: the redirect was followed");
        assert_tokens_only_to(&server);
    }
}

#[test]
fn a_next_link_to_another_host_gets_no_token() {
    for transport in TRANSPORTS {
        for foreign in ["trap", "https://vault.evil.example", "http://127.0.0.1.evil.example"] {
            let trap = MiniServer::trap();
            let base = if foreign == "trap" { trap.url() } else { foreign.to_owned() };
            let next = format!("{base}/certificates?api-version=7.5&$skiptoken=abc&maxresults=1");
            let server = MiniServer::start(move |req| {
                let page = format!(
                    r#"{{"value":[{{"id":"http://127.0.0.1/certificates/one","attributes":{{"enabled":true}}}}],"nextLink":"{next}"}}"#
                );
                match &req.authorization {
                    None => Answer::now(challenge()),
                    Some(_) if req.target.starts_with("/certificates?") => Answer::now(json_ok(&page)),
                    Some(_) => Answer::now(response("404 Not Found", &[], b"")),
                }
            });
            let client = Client::new(transport, &Options::mini(&server));
            let e = assert_kind(client.list_names(), ErrorKind::Security, format!("{transport:?}: {foreign}"));
            assert!(e.to_string().contains("outside the vault"), "{transport:?}: {e}");
            assert_eq!(trap.connections(), 0, "{transport:?}: the token followed the nextLink");
            assert_eq!(server.count("GET", "/certificates?"), 2, "{transport:?}: probe and first page");
            assert_tokens_only_to(&server);
        }
    }
}

/// The baseline for the tests above: both clients get a certificate from the mini server.
#[test]
fn mini_server_serves_a_certificate() {
    for transport in TRANSPORTS {
        let server = MiniServer::start(|req| match &req.authorization {
            None => Answer::now(challenge()),
            Some(_) => Answer::now(json_ok(&bundle("http://127.0.0.1", "m"))),
        });
        let client = Client::new(transport, &Options::mini(&server));
        assert_eq!(client.get("m").unwrap().name().as_deref(), Some("m"), "{transport:?}");
        assert_tokens_only_to(&server);
    }
}
