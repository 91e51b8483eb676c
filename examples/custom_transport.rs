//! Drive `kvcerts-core` with your own HTTP client: the core builds every request and parses
//! every response, and its flows (challenge authentication, retries, polling, paging) tell
//! the driver what to do next. This example's driver is the loop of the `kvcerts_core::flows`
//! docs, a minimal HTTP/1.1 client on `std::net::TcpStream`, and a fixed token.
//!
//! It speaks plain HTTP, so it runs against the emulator started without TLS
//! (a real vault needs HTTPS: use `kvcerts-ureq` or `kvcerts-hyper`, or add TLS here).
//!
//! `cargo run --example custom_transport`

#[path = "common/mod.rs"]
mod common;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kvcerts_core::auth::AccessToken;
use kvcerts_core::flows::{Flow, Input, Now, Step, TransportErrorKind, TransportFailure};
use kvcerts_core::models::CertificatePolicy;
use kvcerts_core::ClientOptions;
use time::OffsetDateTime;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if common::keyvault_url().is_some() {
        println!("custom_transport speaks plain HTTP and runs only against the emulator; unset KEYVAULT_URL");
        return Ok(());
    }
    let emulator = common::EmulatorProcess::start(false)?;
    println!("vault: emulator at {} (plain HTTP)", emulator.vault_url());

    // The flows of one client: the request factory plus a session (challenge and token cache)
    // shared by every flow. Plain HTTP is allowed only to a loopback host, and only when asked.
    let options = ClientOptions {
        allow_insecure_loopback: true,
        verify_challenge_resource: false, // the emulator's challenge names vault.azure.net
        create_polling: common::emulator_polling(),
        delete_recover_polling: common::emulator_polling(),
        // Each request carries an `x-ms-client-request-id` made from this seed (core reads no
        // randomness; std's hash keys are random per process).
        client_request_id_seed: Some(BuildHasher::hash_one(&RandomState::new(), 0u8)),
        ..ClientOptions::default()
    };
    let flows = options.flows(emulator.vault_url())?;
    let vault = flows.vault(); // builds single requests: `vault.get_certificate(name)` is a Call
    let name = "custom-transport";

    // Each flow runs to its end in `drive`. The transcript shows the requests: the first one
    // is answered 401 with the challenge, then it is sent again with the token.
    println!("\ncreate (a poller: create, poll the operation, get the certificate)");
    let policy = CertificatePolicy::new("Self", "CN=custom-transport.example");
    let created =
        drive(&mut flows.begin_create_certificate(name, &policy, &Default::default())?)?.into_certificate()?;
    println!("  -> thumbprint {}", created.x509_thumbprint_hex().unwrap_or_default());

    println!("\nget (one exchange: a Call through authentication and retries)");
    let fetched = drive(&mut flows.call(vault.get_certificate(name)?))?;
    println!("  -> subject {:?}", fetched.policy.as_ref().and_then(|p| p.subject()));

    println!("\nlist (a pager: each drive returns the next page, None after the last)");
    let mut pager = flows.list_properties_of_certificates(&Default::default())?;
    while let Some(page) = drive(&mut pager)? {
        let names: Vec<String> = page.value.iter().filter_map(|c| c.name()).collect();
        println!("  -> page {names:?}");
    }

    println!("\ndelete (a poller: delete, then poll until the deleted certificate is visible) and purge");
    drive(&mut flows.begin_delete_certificate(name)?)?;
    drive(&mut flows.call(vault.purge_deleted_certificate(name)?))?;
    println!("  -> done");
    Ok(())
}

/// The driver loop: call `step` with the time and the answer to the last step, do what the
/// returned step says, until `Done`.
fn drive<F: Flow>(flow: &mut F) -> Result<F::Output, kvcerts_core::Error> {
    let mut input = None;
    loop {
        let now = Now::new(Instant::now(), OffsetDateTime::now_utc());
        match flow.step(now, input.take()) {
            Step::Send(request) => input = Some(send(request)),
            Step::WaitUntil(deadline, _reason) => {
                std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                input = Some(Input::Woke);
            }
            // A fixed token: the emulator accepts any. A real program asks its credential for
            // `request.scopes` in `request.tenant_id`.
            Step::GetToken(_request) => {
                let token = AccessToken::new("custom-transport-token", now.utc + time::Duration::hours(1));
                input = Some(Input::Token(Ok(token)));
            }
            Step::Done(result) => return result,
        }
    }
}

/// Sends one request; transport failures go back to the flow, which decides about retries.
fn send(request: http::Request<Vec<u8>>) -> Input {
    let uri = request.uri().clone();
    let target = (uri.host().unwrap_or_default(), uri.port_u16().unwrap_or(80));
    let result = match TcpStream::connect(target) {
        // Nothing was sent: the flow may retry any request.
        Err(e) => Err(TransportFailure::new(TransportErrorKind::Connect, false, e.to_string())),
        Ok(stream) => exchange(stream, &request).map_err(|e| {
            let kind = match e.kind() {
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportErrorKind::Timeout,
                _ => TransportErrorKind::Io,
            };
            TransportFailure::new(kind, true, e.to_string())
        }),
    };
    match result {
        Ok(response) => {
            println!("  {:<6} {:<50} {}", request.method().as_str(), uri.path(), response.status());
            Input::Response(response)
        }
        Err(failure) => Input::TransportError(failure),
    }
}

/// A minimal HTTP/1.1 exchange: one connection per request (`Connection: close`), so the
/// response body is everything until the server closes (chunked bodies are decoded).
fn exchange(mut stream: TcpStream, request: &http::Request<Vec<u8>>) -> io::Result<http::Response<Vec<u8>>> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let uri = request.uri();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        request.method(),
        uri.path_and_query().map_or("/", |p| p.as_str()),
        uri.authority().map_or("", |a| a.as_str()),
        request.body().len(),
    );
    // The flow's headers: Accept, Content-Type, Authorization, x-ms-client-request-id.
    for (name, value) in request.headers() {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().map_err(io::Error::other)?));
    }
    stream.write_all(format!("{head}\r\n").as_bytes())?;
    stream.write_all(request.body())?;

    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?; // "HTTP/1.1 200 OK"
    let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("status line", &line))?;
    let mut response = http::Response::builder().status(status);
    let mut chunked = false;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let Some((name, value)) = line.trim_end().split_once(':') else { break }; // the empty line
        chunked |= name.eq_ignore_ascii_case("transfer-encoding") && value.trim().eq_ignore_ascii_case("chunked");
        response = response.header(name.trim(), value.trim());
    }
    let mut body = Vec::new();
    reader.read_to_end(&mut body)?;
    if chunked {
        body = dechunk(&body)?;
    }
    response.body(body).map_err(io::Error::other)
}

/// Decodes `Transfer-Encoding: chunked`: hex size, CRLF, data, CRLF, ..., a zero size.
fn dechunk(mut data: &[u8]) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let end = data.windows(2).position(|w| w == b"\r\n").ok_or_else(|| bad("chunk", ""))?;
        let size = std::str::from_utf8(&data[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok());
        let size = size.ok_or_else(|| bad("chunk size", ""))?;
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(data.get(end + 2..end + 2 + size).ok_or_else(|| bad("chunk", "truncated"))?);
        data = data.get(end + 4 + size..).ok_or_else(|| bad("chunk", "truncated"))?;
    }
}

fn bad(what: &str, got: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("malformed HTTP {what}: {got:?}"))
}
