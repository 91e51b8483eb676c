//! The bearer challenge, required api-version, invalid names, not-found errors and headers.

mod common;

use common::{start, Client, API};
use serde_json::json;

#[test]
fn missing_token_gets_the_key_vault_challenge() {
    let emu = start();
    let mut c = Client::new(&emu);
    c.token = None;
    let r = c.send("POST", "/certificates/abc/create", None);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer authorization=\"https://login.windows.net/00000000-0000-0000-0000-000000000000\", resource=\"https://vault.azure.net\"")
    );
    assert_eq!(
        r.json,
        json!({"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}})
    );
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
    let s = emu.stats();
    assert_eq!(s.challenges, 1);
    assert_eq!(s.count("CreateCertificate", 401), 1);
}

#[test]
fn challenge_is_configurable_and_required_token_enforced() {
    let emu = kvcerts_emulator::Emulator::builder()
        .tls(false)
        .challenge_resource("https://vault.example")
        .tenant_id("tenant-1")
        .required_token(Some("secret".into()))
        .start()
        .unwrap();
    assert!(emu.vault_url().starts_with("http://127.0.0.1:"));
    assert!(emu.ca_pem().is_none());
    let mut c = Client::new(&emu);
    let r = c.get("/certificates");
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer authorization=\"https://login.windows.net/tenant-1\", resource=\"https://vault.example\"")
    );
    c.token = Some("secret".into());
    assert_eq!(c.get("/certificates").status, 200);
}

#[test]
fn api_version_is_required_and_any_value_accepted() {
    let emu = start();
    let c = Client::new(&emu);
    let r = c.raw("GET", &format!("{}/certificates", c.base), None).unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.json["error"]["code"], "BadParameter");
    let r = c.get("/certificates?api-version=7.4-preview.1");
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"value": [], "nextLink": null}));
}

#[test]
fn invalid_names_and_not_found() {
    let emu = start();
    let c = Client::new(&emu);
    let r = c.get("/certificates/bad_name");
    assert_eq!(r.status, 400);
    assert_eq!(r.json["error"]["code"], "BadParameter");
    let long = "a".repeat(128);
    assert_eq!(c.get(&format!("/certificates/{long}")).status, 400);

    let r = c.send("DELETE", "/certificates/DeleteWrongCertificate", None);
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json,
        json!({"error":{"code":"CertificateNotFound","message":"A certificate with (name/id) DeleteWrongCertificate was not found in this key vault. If you recently deleted this certificate you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"}})
    );
    let r = c.send("POST", "/deletedcertificates/DeleteWrongCertificate/recover", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.json["error"]["code"], "CertificateNotFound");
    let r = c.get("/deletedcertificates/nothing");
    assert_eq!(
        r.json,
        json!({"error":{"code":"CertificateNotFound","message":"Deleted Certificate not found: nothing"}})
    );
    let r = c.get("/certificates/nothing/versions");
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"value": [], "nextLink": null}));
    assert_eq!(c.get("/keys/x").status, 404);
    assert_eq!(c.send("PUT", "/certificates", Some(&json!({}))).status, 405);
}

#[test]
fn common_headers_and_client_request_id() {
    let emu = start();
    let c = Client::new(&emu);
    let r = c.get("/certificates");
    let id = r.header("x-ms-request-id").unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(id.matches('-').count(), 4);
    assert!(r.header("x-ms-keyvault-service-version").is_some());
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));

    let req_url = format!("{}/certificates?api-version={API}", c.base);
    let agent_resp = {
        let mut cfg = ureq::Agent::config_builder().http_status_as_error(false);
        let cert = ureq::tls::Certificate::from_pem(emu.ca_pem().unwrap().as_bytes()).unwrap();
        cfg = cfg.tls_config(
            ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&[cert])).build(),
        );
        let agent: ureq::Agent = cfg.build().into();
        agent
            .get(&req_url)
            .header("Authorization", "Bearer t")
            .header("x-ms-client-request-id", "abc-123")
            .call()
            .unwrap()
    };
    assert_eq!(agent_resp.headers().get("x-ms-client-request-id").and_then(|v| v.to_str().ok()), Some("abc-123"));
}

#[test]
fn bad_json_bodies_are_400_not_panics() {
    let emu = start();
    let c = Client::new(&emu);
    for (method, path) in [
        ("POST", "/certificates/x/create"),
        ("POST", "/certificates/x/import"),
        ("PATCH", "/certificates/x/policy"),
        ("PUT", "/certificates/contacts"),
        ("PUT", "/certificates/issuers/i1"),
        ("POST", "/certificates/restore"),
    ] {
        let r = c.raw(method, &format!("{}{}?api-version={API}", c.base, path), Some(b"{not json".to_vec())).unwrap();
        assert_eq!(r.status, 400, "{method} {path}: {}", r.text);
        assert_eq!(r.json["error"]["code"], "BadParameter");
        let r = c.send(method, path, Some(&json!({"policy": 5, "value": 7, "contacts": "x", "provider": 1})));
        assert!(r.status == 400 || r.status == 404, "{method} {path}: {}", r.text);
    }
    let r = c.send(
        "POST",
        "/certificates/x/create",
        Some(&json!({"policy": {"x509_props": {"subject": "Self", "key_usage": ["invalid"]}, "issuer": {"name": "invalid"}}})),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json,
        json!({"error":{"code":"BadParameter","message":"Property policy.x509_props has invalid value. Invalid X.500 distinguished name\r\n"}})
    );
}

#[test]
fn starts_inside_a_tokio_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let emu = rt.block_on(async { common::start() });
    let c = Client::new(&emu);
    assert_eq!(c.get("/certificates").status, 200);
    rt.block_on(async move { drop(emu) });
}

#[test]
fn host_name_is_used_in_ids_and_url() {
    let emu = kvcerts_emulator::Emulator::builder()
        .host_name("localhost")
        .create_delay(std::time::Duration::ZERO)
        .start()
        .unwrap();
    assert!(emu.vault_url().starts_with("https://localhost:"));
    let c = Client::new(&emu);
    let op = c.create_and_wait("h1", common::ec_policy("CN=h1"));
    assert_eq!(op["status"], "completed");
    let r = c.get("/certificates/h1");
    assert!(r.json["id"].as_str().unwrap().starts_with(&format!("{}/certificates/h1/", emu.vault_url())));
}
