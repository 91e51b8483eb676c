//! A small blocking HTTP client (ureq) that talks to a started emulator over loopback.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use kvcerts_emulator::Emulator;
use serde_json::Value;

/// API version used by the tests.
pub const API: &str = "7.5";

/// A started emulator with short delays.
pub fn start() -> Emulator {
    Emulator::builder().create_delay(Duration::from_millis(0)).start().expect("emulator starts")
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body parsed as JSON (`Null` when empty or not JSON).
    pub json: Value,
    /// Raw body text.
    pub text: String,
}

impl Resp {
    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A client for one emulator.
pub struct Client {
    agent: ureq::Agent,
    /// The vault URL.
    pub base: String,
    /// Sent as bearer token; `None` sends no `Authorization`.
    pub token: Option<String>,
}

impl Client {
    /// A client that trusts the emulator's CA.
    pub fn new(emu: &Emulator) -> Client {
        let mut cfg =
            ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30)));
        if let Some(pem) = emu.ca_pem() {
            let cert = ureq::tls::Certificate::from_pem(pem.as_bytes()).expect("CA PEM");
            let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&[cert])).build();
            cfg = cfg.tls_config(tls);
        }
        Client { agent: cfg.build().into(), base: emu.vault_url().to_string(), token: Some("test-token".into()) }
    }

    /// Sends a request; `path` may carry a query; `api-version` is added unless present.
    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let url = if path.starts_with("http") { path.to_string() } else { format!("{}{}", self.base, path) };
        let url = if url.contains("api-version=") {
            url
        } else if url.contains('?') {
            format!("{url}&api-version={API}")
        } else {
            format!("{url}?api-version={API}")
        };
        self.raw(method, &url, body.map(|b| b.to_string().into_bytes()))
            .expect("request succeeds at the transport level")
    }

    /// Sends a request to an exact URL; returns the transport error, if any.
    pub fn raw(&self, method: &str, url: &str, body: Option<Vec<u8>>) -> Result<Resp, ureq::Error> {
        let mut b = ureq::http::Request::builder().method(method).uri(url);
        if let Some(t) = &self.token {
            b = b.header("Authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            b = b.header("Content-Type", "application/json");
        }
        let req = b.body(body.unwrap_or_default()).expect("request builds");
        let mut resp = self.agent.run(req)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let text = resp.body_mut().read_to_string()?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Resp { status, headers, json, text })
    }

    /// GET.
    pub fn get(&self, path: &str) -> Resp {
        self.send("GET", path, None)
    }

    /// Creates a certificate and waits until its operation leaves `inProgress`.
    pub fn create_and_wait(&self, name: &str, policy: Value) -> Value {
        let r =
            self.send("POST", &format!("/certificates/{name}/create"), Some(&serde_json::json!({ "policy": policy })));
        assert_eq!(r.status, 202, "{}", r.text);
        self.wait_operation(name)
    }

    /// Polls `/pending` until it is not `inProgress` (at most 20 s).
    pub fn wait_operation(&self, name: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = self.get(&format!("/certificates/{name}/pending"));
            assert_eq!(r.status, 200, "{}", r.text);
            if r.json["status"] != "inProgress" {
                return r.json;
            }
            assert!(Instant::now() < deadline, "operation did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A self-signed policy with an EC P-256 key (fast to generate).
pub fn ec_policy(subject: &str) -> Value {
    serde_json::json!({
        "key_props": { "kty": "EC", "crv": "P-256", "exportable": true },
        "x509_props": { "subject": subject },
        "issuer": { "name": "Self" }
    })
}
