//! Tests of the playback server, driven by a small raw HTTP/1.1 client (plain and TLS).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use kvcerts_tests::playback::{rewrite_origin, SYNTHETIC_CHALLENGE, SYNTHETIC_CHALLENGE_BODY};
use kvcerts_tests::{PlaybackOptions, PlaybackServer, Recording};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::{json, Value};

const GET_CERTIFICATE: &str = "cpp-KeyVaultCertificateClientTest.GetCertificate";
const CREATE_CERTIFICATE: &str = "cpp-KeyVaultCertificateClientTest.CreateCertificate";
const DOWNLOAD_PEM_NET: &str = "net-DownloadNonExportableCertificate__application_x-pem-file__";
const RECORDED_ORIGIN: &str = "https://REDACTED.vault.azure.net";

/// Loads a recording by name from `recordings_dir()`, falling back to the shipped ones (these
/// tests are about the server, and need these particular files).
fn recording(name: &str) -> Recording {
    Recording::named(name).unwrap_or_else(|err| panic!("{err}"))
}

fn start(recording: Recording, tls: bool, serve_challenge: bool) -> PlaybackServer {
    PlaybackServer::start(recording, PlaybackOptions { tls, serve_challenge, ..Default::default() })
        .expect("start playback server")
}

/// A response as read by [`Client`].
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A minimal HTTP/1.1 client over any stream: one request at a time, `Content-Length` bodies.
struct Client<S: Read + Write> {
    reader: BufReader<S>,
}

impl Client<TcpStream> {
    fn plain(server: &PlaybackServer) -> Self {
        let stream = TcpStream::connect(server.addr()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Client { reader: BufReader::new(stream) }
    }
}

fn tls_config(ca_pem: Option<&str>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    if let Some(pem) = ca_pem {
        roots.add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

impl Client<StreamOwned<ClientConnection, TcpStream>> {
    fn tls(server: &PlaybackServer, config: Arc<ClientConfig>, name: &str) -> Self {
        let stream = TcpStream::connect(server.addr()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let name = ServerName::try_from(name.to_string()).unwrap();
        let connection = ClientConnection::new(config, name).unwrap();
        Client { reader: BufReader::new(StreamOwned::new(connection, stream)) }
    }
}

impl<S: Read + Write> Client<S> {
    fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        self.try_send(method, target, headers, body).unwrap_or_else(|err| panic!("{method} {target}: {err}"))
    }

    fn try_send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        let mut request = format!("{method} {target} HTTP/1.1\r\nhost: playback\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        let chunked =
            headers.iter().any(|(name, value)| name.eq_ignore_ascii_case("transfer-encoding") && *value == "chunked");
        if !chunked {
            request.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        self.send_raw(&bytes)?;
        self.read_response()
    }

    fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let stream = self.reader.get_mut();
        stream.write_all(bytes)?;
        stream.flush()
    }

    fn read_response(&mut self) -> std::io::Result<Response> {
        let status_line = self.line()?;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = self.line()?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header line");
            headers.push((name.to_string(), value.trim().to_string()));
        }
        let length = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, value)| value.parse().unwrap());
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok(Response { status, headers, body })
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }

    /// Whether the server closed the connection (EOF or reset) before sending anything more.
    fn is_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        !matches!(self.reader.read(&mut byte), Ok(1..))
    }
}

const AUTH: (&str, &str) = ("authorization", "Bearer token");

/// What the server should send for recorded entry `index`: the recorded body with the vault
/// origin rewritten to the server's.
fn expected_body(server: &PlaybackServer, index: usize) -> Vec<u8> {
    let recorded = server.recording().entries[index].response();
    rewrite_origin(recorded.body(), RECORDED_ORIGIN, server.url())
}

fn served(server: &PlaybackServer) -> Vec<Option<usize>> {
    server.log().iter().map(|request| request.served_entry).collect()
}

#[test]
fn replays_get_certificate_in_order() {
    let server = start(recording(GET_CERTIFICATE), false, false);
    assert!(server.url().starts_with("http://127.0.0.1:"));
    assert_eq!(server.ca_pem(), None);
    let mut client = Client::plain(&server);
    let policy = br#"{"policy":{"issuer":{"name":"Self"}}}"#;

    let created = client.send(
        "POST",
        "/certificates/GetCertificate/create?api-version=7.3",
        &[AUTH, ("content-type", "application/json")],
        policy,
    );
    assert_eq!(created.status, 202);
    assert_eq!(created.body, expected_body(&server, 0));
    assert_eq!(created.json()["status"], "inProgress");
    assert_eq!(created.header("retry-after"), Some("10"));
    assert_eq!(created.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(created.header("x-ms-keyvault-region"), Some("westus2"));

    let statuses: Vec<_> = (1..=2)
        .map(|index| {
            let poll = client.send("GET", "/certificates/GetCertificate/pending?api-version=7.3", &[AUTH], b"");
            assert_eq!(poll.status, 200);
            assert_eq!(poll.body, expected_body(&server, index));
            poll.json()["status"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(statuses, ["inProgress", "completed"]);

    let certificate = client.send("GET", "/certificates/GetCertificate?api-version=7.3", &[AUTH], b"");
    assert_eq!(certificate.status, 200);
    assert_eq!(certificate.body, expected_body(&server, 3));
    let id = certificate.json()["id"].as_str().unwrap().to_string();
    assert!(id.starts_with(&format!("{}/certificates/GetCertificate/", server.url())), "{id}");
    assert!(!certificate.text().contains("REDACTED.vault.azure.net"));

    assert_eq!(served(&server), [Some(0), Some(1), Some(2), Some(3)]);
    assert!(server.mismatches().is_empty());
    assert!(server.is_exhausted());
    let log = server.log();
    assert_eq!(log[0].body, policy);
    assert_eq!(log[0].method, http::Method::POST);
    assert_eq!(log[0].path_and_query, "/certificates/GetCertificate/create?api-version=7.3");
    assert_eq!(log[0].headers["content-type"], "application/json");
    assert_eq!(log[3].status, 200);
}

#[test]
fn location_and_next_links_point_back_to_the_server() {
    // The 202's Location header.
    let server = start(recording(GET_CERTIFICATE), false, false);
    let mut client = Client::plain(&server);
    let created = client.send("POST", "/certificates/GetCertificate/create?api-version=7.3", &[AUTH], b"{}");
    let location = created.header("location").unwrap();
    assert!(
        location
            .starts_with(&format!("{}/certificates/GetCertificate/pending?api-version=7.3&request_id=", server.url())),
        "{location}"
    );

    // A paged list whose nextLink is followed.
    let page = |items: Value, next: Value| {
        json!({
            "RequestUri": "",
            "RequestMethod": "GET",
            "RequestHeaders": {},
            "StatusCode": 200,
            "ResponseHeaders": {"Content-Type": "application/json; charset=utf-8", "Content-Length": "1"},
            "ResponseBody": {"value": items, "nextLink": next}
        })
    };
    let mut first = page(
        json!([{"id": "https://REDACTED.vault.azure.net/certificates/a"}]),
        json!("https://REDACTED.vault.azure.net:443/certificates?api-version=7.3&$skiptoken=abc%3D&maxresults=1"),
    );
    first["RequestUri"] = json!("https://REDACTED.vault.azure.net/certificates?api-version=7.3&maxresults=1");
    let mut second = page(json!([{"id": "https://REDACTED.vault.azure.net/certificates/b"}]), Value::Null);
    second["RequestUri"] =
        json!("https://REDACTED.vault.azure.net/certificates?api-version=7.3&$skiptoken=abc%3D&maxresults=1");
    let paged = Recording::parse("paged", json!({"Entries": [first, second]}).to_string().as_bytes()).unwrap();
    let server = start(paged, false, false);
    let mut client = Client::plain(&server);
    // Query order and the api-version value do not matter.
    let page1 = client.send("GET", "/certificates?maxresults=1&api-version=7.4", &[AUTH], b"");
    assert_eq!(page1.status, 200);
    let body = page1.json();
    assert_eq!(body["value"][0]["id"], format!("{}/certificates/a", server.url()));
    let next = body["nextLink"].as_str().unwrap();
    let target = next.strip_prefix(server.url()).unwrap_or_else(|| panic!("{next}"));
    assert_eq!(target, "/certificates?api-version=7.3&$skiptoken=abc%3D&maxresults=1");
    let page2 = client.send("GET", target, &[AUTH], b"");
    assert_eq!(page2.status, 200);
    assert_eq!(page2.json()["value"][0]["id"], format!("{}/certificates/b", server.url()));
    assert_eq!(page2.json()["nextLink"], Value::Null);
    assert_eq!(served(&server), [Some(0), Some(1)]);
    assert!(server.mismatches().is_empty());
}

#[test]
fn extra_polls_are_tolerated() {
    let server = start(recording(GET_CERTIFICATE), false, false);
    let mut client = Client::plain(&server);
    client.send("POST", "/certificates/GetCertificate/create?api-version=7.3", &[AUTH], b"{}");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let poll = client.send("GET", "/certificates/GetCertificate/pending?api-version=7.3", &[AUTH], b"");
        assert_eq!(poll.status, 200);
        statuses.push(poll.json()["status"].as_str().unwrap().to_string());
    }
    assert_eq!(statuses, ["inProgress", "completed", "completed", "completed"]);
    let certificate = client.send("GET", "/certificates/GetCertificate?api-version=7.3", &[AUTH], b"");
    assert_eq!(certificate.status, 200);
    // Asking for the last entry again is served again too.
    let again = client.send("GET", "/certificates/GetCertificate?api-version=7.3", &[AUTH], b"");
    assert_eq!(again.body, certificate.body);
    assert_eq!(served(&server), [Some(0), Some(1), Some(2), Some(2), Some(2), Some(3), Some(3)]);
    assert!(server.mismatches().is_empty());
}

#[test]
fn fewer_polls_are_tolerated() {
    // Entries: POST create, GET pending x2, GET cert, DELETE cert,
    // GET deleted (404), GET deleted (200), GET deleted (200), DELETE deleted (204).
    let server = start(recording(CREATE_CERTIFICATE), false, false);
    let mut client = Client::plain(&server);
    let name = "/certificates/CreateCertificate";
    let deleted = "/deletedcertificates/CreateCertificate?api-version=7.3";
    assert_eq!(client.send("POST", &format!("{name}/create?api-version=7.3"), &[AUTH], b"{}").status, 202);
    for _ in 0..2 {
        client.send("GET", &format!("{name}/pending?api-version=7.3"), &[AUTH], b"");
    }
    assert_eq!(client.send("GET", &format!("{name}?api-version=7.3"), &[AUTH], b"").status, 200);
    assert_eq!(client.send("DELETE", &format!("{name}?api-version=7.3"), &[AUTH], b"").status, 200);
    assert_eq!(client.send("GET", deleted, &[AUTH], b"").status, 404);
    // The recording polled twice more before purging; this client purges at once.
    let purged = client.send("DELETE", deleted, &[AUTH], b"");
    assert_eq!(purged.status, 204);
    assert!(purged.body.is_empty());
    assert_eq!(purged.header("content-length"), None, "204 has no content-length");
    assert_eq!(served(&server), [Some(0), Some(1), Some(2), Some(3), Some(4), Some(5), Some(8)]);
    assert!(server.mismatches().is_empty());
    assert!(server.is_exhausted());
}

#[test]
fn skipping_anything_but_polls_of_the_same_path_is_a_mismatch() {
    let server = start(recording(GET_CERTIFICATE), false, false);
    let mut client = Client::plain(&server);
    client.send("POST", "/certificates/GetCertificate/create?api-version=7.3", &[AUTH], b"{}");
    // Skipping the polls of `/pending` to fetch the certificate is not tolerated.
    let early = client.send("GET", "/certificates/GetCertificate?api-version=7.3", &[AUTH], b"");
    assert_eq!(early.status, 599);
    assert_eq!(server.mismatches().len(), 1);
    assert!(!server.is_exhausted());
}

#[test]
fn a_wrong_request_gets_599_and_is_recorded() {
    let server = start(recording(GET_CERTIFICATE), false, false);
    let mut client = Client::plain(&server);
    let wrong = client.send("DELETE", "/certificates/Other?api-version=7.3", &[AUTH], b"");
    assert_eq!(wrong.status, 599);
    assert_eq!(wrong.header("content-type"), Some("text/plain; charset=utf-8"));
    let text = wrong.text();
    assert!(text.contains("DELETE /certificates/Other?api-version=7.3"), "{text}");
    assert!(text.contains("POST https://REDACTED.vault.azure.net/certificates/GetCertificate/create"), "{text}");
    let mismatches = server.mismatches();
    assert_eq!(mismatches, [text]);

    // A missing query parameter is a mismatch too; the cursor has not moved.
    let no_version = client.send("POST", "/certificates/GetCertificate/create", &[AUTH], b"{}");
    assert_eq!(no_version.status, 599);
    let right = client.send("POST", "/certificates/GetCertificate/create?api-version=7.3", &[AUTH], b"{}");
    assert_eq!(right.status, 202);
    assert_eq!(served(&server), [None, None, Some(0)]);
    assert_eq!(server.log()[0].status.as_u16(), 599);
    assert_eq!(server.mismatches().len(), 2);

    // Past the end of the recording.
    let server = start(recording("cpp-KeyVaultCertificateClientTest.SetContacts"), false, false);
    let mut client = Client::plain(&server);
    client.send("PUT", "/certificates/contacts?api-version=7.3", &[AUTH], b"{}");
    client.send("DELETE", "/certificates/contacts?api-version=7.3", &[AUTH], b"");
    let extra = client.send("GET", "/certificates/contacts?api-version=7.3", &[AUTH], b"");
    assert_eq!(extra.status, 599);
    assert!(extra.text().contains("all 2 entries were served"), "{}", extra.text());
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let server = start(recording(GET_CERTIFICATE), false, false);
    let mut client = Client::plain(&server);
    client.send("POST", "/certificates/GetCertificate/create?api-version=7.3", &[AUTH], b"{}");
    for _ in 0..5 {
        client.send("GET", "/certificates/GetCertificate/pending?api-version=7.3", &[AUTH], b"");
    }
    // Two requests written at once (pipelined) are both answered in order.
    client
        .send_raw(
            b"GET /certificates/GetCertificate?api-version=7.3 HTTP/1.1\r\nhost: x\r\n\r\n\
              GET /certificates/GetCertificate?api-version=7.3 HTTP/1.1\r\nhost: x\r\n\r\n",
        )
        .unwrap();
    assert_eq!(client.read_response().unwrap().status, 200);
    assert_eq!(client.read_response().unwrap().status, 200);
    assert_eq!(server.log().len(), 8);
    assert_eq!(server.connections(), 1);

    // `Connection: close` is honoured.
    let closing =
        client.send("GET", "/certificates/GetCertificate?api-version=7.3", &[AUTH, ("connection", "close")], b"");
    assert_eq!(closing.header("connection"), Some("close"));
    assert!(client.is_closed());

    let _second = Client::plain(&server).send("GET", "/certificates/GetCertificate?api-version=7.3", &[AUTH], b"");
    assert_eq!(server.connections(), 2);
}

#[test]
fn chunked_and_expect_continue_request_bodies_are_read() {
    let server = start(recording(GET_CERTIFICATE), false, false);
    let mut client = Client::plain(&server);
    let created = client.send(
        "POST",
        "/certificates/GetCertificate/create?api-version=7.3",
        &[AUTH, ("transfer-encoding", "chunked")],
        b"5;ext=1\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\ntrailer: x\r\n\r\n",
    );
    assert_eq!(created.status, 202);
    assert_eq!(server.log()[0].body, br#"{"a": 1}"#);

    client
        .send_raw(
            b"GET /certificates/GetCertificate/pending?api-version=7.3 HTTP/1.1\r\n\
              expect: 100-continue\r\ncontent-length: 2\r\n\r\n",
        )
        .unwrap();
    assert_eq!(client.read_response().unwrap().status, 100);
    client.send_raw(b"{}").unwrap();
    assert_eq!(client.read_response().unwrap().status, 200);
    assert_eq!(server.log()[1].body, b"{}");
}

#[test]
fn malformed_requests_get_400_without_disturbing_playback() {
    let server = start(recording(GET_CERTIFICATE), false, false);
    for garbage in [
        &b"NOT HTTP\r\n\r\n"[..],
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nbad header line\r\n\r\n",
        b"POST / HTTP/1.1\r\ncontent-length: nope\r\n\r\n",
        b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
    ] {
        let mut client = Client::plain(&server);
        client.send_raw(garbage).unwrap();
        let response = client.read_response().unwrap();
        assert_eq!(response.status, 400, "{}", String::from_utf8_lossy(garbage));
        assert!(client.is_closed());
    }
    assert!(server.log().is_empty());
    let mut client = Client::plain(&server);
    let created = client.send("POST", "/certificates/GetCertificate/create?api-version=7.3", &[AUTH], b"{}");
    assert_eq!(created.status, 202);
}

#[test]
fn https_works_with_the_generated_ca() {
    let server = start(recording(GET_CERTIFICATE), true, false);
    assert!(server.url().starts_with("https://127.0.0.1:"), "{}", server.url());
    let ca_pem = server.ca_pem().expect("a CA when TLS is on");
    assert!(ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let config = tls_config(Some(&ca_pem));

    // By IP address (the URL's host)...
    let mut client = Client::tls(&server, Arc::clone(&config), "127.0.0.1");
    let created = client.send("POST", "/certificates/GetCertificate/create?api-version=7.3", &[AUTH], b"{}");
    assert_eq!(created.status, 202);
    assert_eq!(created.body, expected_body(&server, 0));
    let location = created.header("location").unwrap();
    assert!(location.starts_with(&format!("{}/certificates/", server.url())), "{location}");
    let poll = client.send("GET", "/certificates/GetCertificate/pending?api-version=7.3", &[AUTH], b"");
    assert_eq!(poll.status, 200);

    // ...and by DNS name.
    let mut by_name = Client::tls(&server, Arc::clone(&config), "localhost");
    let poll = by_name.send("GET", "/certificates/GetCertificate/pending?api-version=7.3", &[AUTH], b"");
    assert_eq!(poll.json()["status"], "completed");
    assert_eq!(by_name.reader.get_ref().conn.alpn_protocol(), Some(&b"http/1.1"[..]));

    // The leaf: CA:FALSE, EKU serverAuth (checked on its DER encoding).
    let leaf = by_name.reader.get_ref().conn.peer_certificates().unwrap()[0].to_vec();
    let contains = |needle: &[u8]| leaf.windows(needle.len()).any(|window| window == needle);
    // basicConstraints (2.5.29.19), critical or not, with an empty SEQUENCE: cA is FALSE.
    assert!(
        contains(&[0x06, 0x03, 0x55, 0x1d, 0x13, 0x04, 0x02, 0x30, 0x00])
            || contains(&[0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x02, 0x30, 0x00]),
        "{leaf:02x?}"
    );
    // extKeyUsage (2.5.29.37) containing id-kp-serverAuth (1.3.6.1.5.5.7.3.1).
    assert!(contains(&[0x06, 0x03, 0x55, 0x1d, 0x25]));
    assert!(contains(&[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]));

    // A name the certificate is not for, and a client that does not trust the CA, fail.
    let mut wrong_name = Client::tls(&server, Arc::clone(&config), "example.com");
    assert!(wrong_name.try_send("GET", "/", &[], b"").is_err());
    let mut untrusting = Client::tls(&server, tls_config(None), "localhost");
    assert!(untrusting.try_send("GET", "/", &[], b"").is_err());

    assert_eq!(served(&server), [Some(0), Some(1), Some(2)]);
    assert_eq!(server.connections(), 4);
}

#[test]
fn synthetic_challenge_for_recordings_without_one() {
    let server = start(recording(GET_CERTIFICATE), false, true);
    let mut client = Client::plain(&server);
    let create = "/certificates/GetCertificate/create?api-version=7.3";
    let probe = client.send("POST", create, &[], b"");
    assert_eq!(probe.status, 401);
    assert_eq!(probe.header("www-authenticate"), Some(SYNTHETIC_CHALLENGE));
    assert_eq!(probe.body, SYNTHETIC_CHALLENGE_BODY.as_bytes());
    assert_eq!(probe.json()["error"]["message"], "AKV10000: Request is missing a Bearer or PoP token.");
    let created = client.send("POST", create, &[AUTH], b"{}");
    assert_eq!(created.status, 202);
    // Only the first unauthenticated request is challenged.
    let poll = client.send("GET", "/certificates/GetCertificate/pending?api-version=7.3", &[], b"");
    assert_eq!(poll.status, 200);
    assert_eq!(served(&server), [None, Some(0), Some(1)]);
    assert!(server.mismatches().is_empty());

    // Without the option, the recording is served as is.
    let server = start(recording(GET_CERTIFICATE), false, false);
    let created = Client::plain(&server).send("POST", create, &[], b"");
    assert_eq!(created.status, 202);
}

#[test]
fn recorded_challenges_are_served_as_recorded() {
    // Its first entry is the challenge; later it GETs `/certificates/{name}/`.
    let recorded = recording(DOWNLOAD_PEM_NET);
    let name = recorded.entries[0].path().split('/').nth(2).unwrap().to_string();
    let recorded_challenge = recorded.entries[0].response_headers["www-authenticate"].clone();
    let server = start(recorded, false, true);
    let mut client = Client::plain(&server);
    let create = format!("/certificates/{name}/create?api-version=7.4");
    let probe = client.send("POST", &create, &[], b"");
    assert_eq!(probe.status, 401);
    assert_eq!(probe.header("www-authenticate").unwrap(), recorded_challenge);
    assert_eq!(client.send("POST", &create, &[AUTH], b"{}").status, 202);
    for _ in 0..2 {
        client.send("GET", &format!("/certificates/{name}/pending?api-version=7.4"), &[AUTH], b"");
    }
    // The recording has `/certificates/{name}` then `/certificates/{name}/`; both match either.
    let latest = client.send("GET", &format!("/certificates/{name}/?api-version=7.4"), &[AUTH], b"");
    assert_eq!(latest.status, 200);
    let latest = client.send("GET", &format!("/certificates/{name}?api-version=7.4"), &[AUTH], b"");
    assert_eq!(latest.status, 200);
    assert_eq!(served(&server), [Some(0), Some(1), Some(2), Some(3), Some(4), Some(5)]);
    assert!(server.mismatches().is_empty());
}

#[test]
fn shutdown_closes_idle_connections_and_stops_listening() {
    let mut server = start(recording(GET_CERTIFICATE), false, false);
    let addr = server.addr();
    let mut idle = Client::plain(&server);
    idle.send("POST", "/certificates/GetCertificate/create?api-version=7.3", &[AUTH], b"{}");
    let _never_spoke = TcpStream::connect(addr).unwrap();
    server.shutdown();
    server.shutdown();
    assert!(idle.is_closed());
    assert_eq!(server.log().len(), 1);

    // Dropping a TLS server with an open connection does not hang either.
    let server = start(recording(GET_CERTIFICATE), true, false);
    let _open = Client::tls(&server, tls_config(server.ca_pem().as_deref()), "localhost");
    drop(server);
}

#[test]
fn concurrent_connections_share_one_cursor() {
    let server = start(recording(GET_CERTIFICATE), false, false);
    Client::plain(&server).send("POST", "/certificates/GetCertificate/create?api-version=7.3", &[AUTH], b"{}");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let addr = server.addr();
            std::thread::spawn(move || {
                let stream = TcpStream::connect(addr).unwrap();
                let mut client = Client { reader: BufReader::new(stream) };
                client.send("GET", "/certificates/GetCertificate/pending?api-version=7.3", &[AUTH], b"").status
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 200);
    }
    assert_eq!(server.connections(), 5);
    assert!(server.mismatches().is_empty());
    let mut polls: Vec<_> = served(&server)[1..].to_vec();
    polls.sort();
    assert_eq!(polls, [Some(1), Some(2), Some(2), Some(2)]);
}
