//! Logging: one debug line per request with method, URL, status, duration, request id and
//! attempt; never a token, an Authorization header or a secret value.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kvcerts_core::models::{CertificateContentType, CertificatePolicy, KeyProperties, SecretProperties};
use kvcerts_emulator::Emulator;
use kvcerts_ureq::{CertificateClient, StaticTokenCredential};

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.target().starts_with("kvcerts") {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).push(format!("{} {}", record.level(), record.args()));
        }
    }
    fn flush(&self) {}
}

#[test]
fn logs_name_each_request_and_hide_secrets() {
    let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
    log::set_logger(capture).expect("logger");
    log::set_max_level(log::LevelFilter::Trace);

    let emulator = Emulator::builder().create_delay(Duration::from_millis(50)).start().expect("emulator");
    let client =
        CertificateClient::builder(emulator.vault_url(), Arc::new(StaticTokenCredential::new("tok-SECRET-123")))
            .add_root_certificate_pem(emulator.ca_pem().expect("ca").as_bytes().to_vec())
            .verify_challenge_resource(false)
            .poll_interval(Duration::from_millis(20))
            .build()
            .expect("client");
    let mut policy = CertificatePolicy::new("Self", "CN=logging.example");
    policy.key_properties = Some(KeyProperties { exportable: Some(true), ..Default::default() });
    policy.secret_properties = Some(SecretProperties { content_type: Some(CertificateContentType::Pem) });
    client.begin_create_certificate("logging", &policy, &Default::default()).unwrap().wait().unwrap();
    let secret = client.download_certificate("logging", None, None).unwrap();
    let key_pem = secret.pem().unwrap().private_key;
    let _ =
        client.list_properties_of_certificates(&kvcerts_core::ListOptions::default().max_page_size(1)).unwrap().count();

    let lines = capture.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let requests: Vec<&String> = lines.iter().filter(|l| l.starts_with("DEBUG ") && l.contains(" -> ")).collect();
    assert!(requests
        .iter()
        .any(|l| l.contains("POST https://") && l.contains("/certificates/logging/create?api-version=")));
    assert!(requests.iter().all(|l| l.contains("x-ms-request-id: ") && l.contains("attempt ")), "{requests:#?}");
    assert!(requests.iter().any(|l| l.contains("-> 401 ")), "the challenge probe is logged");
    for line in &lines {
        assert!(!line.contains("tok-SECRET-123"), "token in a log line: {line}");
        assert!(!line.to_ascii_lowercase().contains("authorization"), "authorization in a log line: {line}");
        assert!(!line.contains(key_pem.expose_secret().lines().nth(1).unwrap_or("-----")), "key in a log line: {line}");
    }
}
