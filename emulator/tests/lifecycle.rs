//! Create → poll → completed with a real certificate; versions, properties, policy, secrets,
//! soft delete with visibility delays, recover, purge, backup and restore.

mod common;

use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::{ec_policy, start, Client};
use kvcerts_emulator::Emulator;
use serde_json::json;
use sha1::{Digest, Sha1};
use x509_parser::prelude::FromDer;

#[test]
fn create_self_signed_rsa_polls_to_completed_with_a_real_certificate() {
    let emu = Emulator::builder().create_delay(Duration::from_millis(300)).start().unwrap();
    let c = Client::new(&emu);
    let policy = json!({
        "key_props": { "kty": "RSA", "key_size": 2048, "exportable": true, "reuse_key": false },
        "secret_props": { "contentType": "application/x-pem-file" },
        "x509_props": {
            "subject": "CN=emulator, O=kvcerts",
            "sans": {
                "dns_names": ["www.example.com"],
                "emails": ["admin@example.com"],
                "upns": ["user@example.com"],
                "uris": ["https://example.com/x"],
                "ipAddresses": ["10.1.2.3"]
            },
            "ekus": ["1.3.6.1.5.5.7.3.1"],
            "key_usage": ["digitalSignature", "keyEncipherment"],
            "validity_months": 24
        },
        "issuer": { "name": "Self" }
    });
    let r = c.send("POST", "/certificates/rsa1/create", Some(&json!({ "policy": policy, "tags": {"team": "a"} })));
    assert_eq!(r.status, 202, "{}", r.text);
    let location = r.header("location").unwrap();
    assert!(location.starts_with(&format!("{}/certificates/rsa1/pending?api-version=", c.base)));
    assert!(location.contains("&request_id="));
    assert!(r.header("retry-after").is_some());
    assert_eq!(r.json["status"], "inProgress");
    assert_eq!(r.json["issuer"]["name"], "Self");
    assert_eq!(r.json["cancellation_requested"], false);
    assert_eq!(r.json["request_id"].as_str().unwrap().len(), 32);
    let csr = STANDARD.decode(r.json["csr"].as_str().unwrap()).unwrap();
    assert!(x509_parser::certification_request::X509CertificationRequest::from_der(&csr).is_ok());

    // Not there yet.
    assert_eq!(c.get("/certificates/rsa1").status, 404);
    let pending = c.get("/certificates/rsa1/pending");
    assert_eq!(pending.json["status"], "inProgress");
    assert!(pending.header("retry-after").is_some());

    let op = c.wait_operation("rsa1");
    assert_eq!(op["status"], "completed");
    assert_eq!(op["target"], format!("{}/certificates/rsa1", c.base));
    assert!(op.get("status_details").is_none());

    let cert = c.get("/certificates/rsa1");
    assert_eq!(cert.status, 200);
    let b = &cert.json;
    let id = b["id"].as_str().unwrap();
    let version = id.rsplit('/').next().unwrap();
    assert_eq!(version.len(), 32);
    assert!(version.bytes().all(|x| x.is_ascii_hexdigit()));
    assert_eq!(b["kid"], format!("{}/keys/rsa1/{version}", c.base));
    assert_eq!(b["sid"], format!("{}/secrets/rsa1/{version}", c.base));
    assert_eq!(b["tags"], json!({"team": "a"}));
    assert_eq!(b["pending"]["id"], format!("{}/certificates/rsa1/pending", c.base));
    assert_eq!(b["policy"]["id"], format!("{}/certificates/rsa1/policy", c.base));
    assert_eq!(b["policy"]["x509_props"]["validity_months"], 24);
    assert_eq!(b["attributes"]["recoveryLevel"], "Recoverable+Purgeable");
    let der = STANDARD.decode(b["cer"].as_str().unwrap()).unwrap();
    assert_eq!(b["x5t"].as_str().unwrap(), URL_SAFE_NO_PAD.encode(Sha1::digest(&der)));
    let (_, x) = x509_parser::certificate::X509Certificate::from_der(&der).unwrap();
    assert_eq!(x.subject().to_string(), "CN=emulator, O=kvcerts");
    assert_eq!(x.validity().not_before.timestamp(), b["attributes"]["nbf"].as_i64().unwrap());
    assert_eq!(x.validity().not_after.timestamp(), b["attributes"]["exp"].as_i64().unwrap());
    let san = x.subject_alternative_name().unwrap().unwrap();
    assert_eq!(san.value.general_names.len(), 5);
    assert!(x.extended_key_usage().unwrap().unwrap().value.server_auth);
    assert!(x.key_usage().unwrap().unwrap().value.key_encipherment());
    match x.public_key().parsed().unwrap() {
        x509_parser::public_key::PublicKey::RSA(k) => assert_eq!(k.key_size(), 2048),
        other => panic!("unexpected key {other:?}"),
    }

    // Versioned get: x509 facts, no policy.
    let v = c.get(&format!("/certificates/rsa1/{version}"));
    assert_eq!(v.status, 200);
    assert!(v.json.get("policy").is_none());
    assert_eq!(v.json["subject"], "CN=emulator, O=kvcerts");
    assert!(v.json["serialnumber"].as_str().is_some());
    assert_eq!(c.get("/certificates/rsa1/").json["id"], b["id"]);
    assert_eq!(c.get("/certificates/rsa1/00000000000000000000000000000000").status, 404);

    // The secret is PEM with the key.
    let s = c.get(&format!("/secrets/rsa1/{version}"));
    assert_eq!(s.status, 200);
    assert_eq!(s.json["contentType"], "application/x-pem-file");
    assert_eq!(s.json["managed"], true);
    assert_eq!(s.json["kid"], b["kid"]);
    let pem = s.json["value"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
    // Converted to PKCS#12 on request.
    let s = c.get(&format!("/secrets/rsa1/{version}?outContentType=application/x-pkcs12"));
    assert_eq!(s.json["contentType"], "application/x-pkcs12");
    let p12 = STANDARD.decode(s.json["value"].as_str().unwrap()).unwrap();
    let bundle = kvcerts_emulator::x509::parse_pkcs12(&p12, "").unwrap();
    assert!(bundle.key.is_some());
    assert_eq!(bundle.certs[0], der);
}

#[test]
fn ec_certificates_versions_update_and_policy() {
    let emu = start();
    let c = Client::new(&emu);
    for crv in ["P-256", "P-384"] {
        let name = format!("ec-{}", &crv[2..]);
        let policy = json!({
            "key_props": { "kty": "EC", "crv": crv },
            "x509_props": { "subject": "CN=ec" },
            "issuer": { "name": "Self" }
        });
        assert_eq!(c.create_and_wait(&name, policy)["status"], "completed");
        let b = c.get(&format!("/certificates/{name}")).json;
        assert_eq!(b["policy"]["key_props"]["crv"], crv);
        assert_eq!(b["policy"]["key_props"]["kty"], "EC");
    }
    // A curve Key Vault does not have is refused (P-521 and P-256K: tests/ec_curves.rs).
    let r = c.send(
        "POST",
        "/certificates/ec192/create",
        Some(&json!({"policy": {"key_props": {"kty": "EC", "crv": "P-192"}, "x509_props": {"subject": "CN=x"}, "issuer": {"name": "Self"}}})),
    );
    assert_eq!(r.status, 400);

    // A second create adds a version and reuses the stored policy when none is sent.
    let r = c.send("POST", "/certificates/ec-256/create", Some(&json!({})));
    assert_eq!(r.status, 202, "{}", r.text);
    c.wait_operation("ec-256");
    let versions = c.get("/certificates/ec-256/versions");
    assert_eq!(versions.json["value"].as_array().unwrap().len(), 2);
    let first = versions.json["value"][0]["id"].as_str().unwrap().to_string();

    // Update properties of the first version.
    let version = first.rsplit('/').next().unwrap();
    let r = c.send(
        "PATCH",
        &format!("/certificates/ec-256/{version}"),
        Some(&json!({"attributes": {"enabled": false}, "tags": {"k": "v"}})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["attributes"]["enabled"], false);
    assert_eq!(r.json["tags"], json!({"k": "v"}));
    assert!(r.json.get("policy").is_none());
    // Its secret is now forbidden.
    let s = c.get(&format!("/secrets/ec-256/{version}"));
    assert_eq!(s.status, 403);
    assert_eq!(s.json["error"]["code"], "Forbidden");

    // Policy get and update.
    let p = c.get("/certificates/ec-256/policy");
    assert_eq!(p.status, 200);
    assert_eq!(p.json["x509_props"]["subject"], "CN=ec");
    let p = c.send(
        "PATCH",
        "/certificates/ec-256/policy",
        Some(&json!({"x509_props": {"subject": "CN=twa", "validity_months": 8}})),
    );
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.json["x509_props"]["subject"], "CN=twa");
    assert_eq!(p.json["x509_props"]["validity_months"], 8);
    assert_eq!(p.json["key_props"]["crv"], "P-256");
}

#[test]
fn non_exportable_secret_has_no_key() {
    let emu = start();
    let c = Client::new(&emu);
    let policy = json!({
        "key_props": { "kty": "EC", "exportable": false },
        "secret_props": { "contentType": "application/x-pem-file" },
        "x509_props": { "subject": "CN=default", "key_usage": ["dataEncipherment"] },
        "issuer": { "name": "Self", "cert_transparency": false }
    });
    c.create_and_wait("noexport", policy);
    let s = c.get("/secrets/noexport");
    let pem = s.json["value"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(!pem.contains("PRIVATE KEY"));
    let b = c.get("/certificates/noexport").json;
    assert_eq!(b["policy"]["issuer"], json!({"name": "Self", "cert_transparency": false}));
    assert_eq!(b["policy"]["x509_props"]["key_usage"], json!(["dataEncipherment"]));
}

fn wait_status(c: &Client, path: &str, status: u16) -> Duration {
    let start = Instant::now();
    loop {
        if c.get(path).status == status {
            return start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{path} never returned {status}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn soft_delete_recover_purge_with_delays() {
    let emu = Emulator::builder()
        .create_delay(Duration::ZERO)
        .delete_delay(Duration::from_millis(300))
        .recover_delay(Duration::from_millis(300))
        .start()
        .unwrap();
    let c = Client::new(&emu);
    c.create_and_wait("sd", ec_policy("CN=sd"));
    let d = c.send("DELETE", "/certificates/sd", None);
    assert_eq!(d.status, 200);
    assert_eq!(d.json["recoveryId"], format!("{}/deletedcertificates/sd", c.base));
    let deleted = d.json["deletedDate"].as_i64().unwrap();
    assert_eq!(d.json["scheduledPurgeDate"].as_i64().unwrap(), deleted + 90 * 86_400);
    assert!(d.json["policy"].is_object());
    assert_eq!(c.get("/certificates/sd").status, 404);

    // Deleted but not yet visible: 404, and the name is being deleted.
    let r = c.get("/deletedcertificates/sd");
    assert_eq!(r.status, 404);
    assert_eq!(r.json["error"]["message"], "Deleted Certificate not found: sd");
    let r = c.send("POST", "/certificates/sd/create", Some(&json!({"policy": ec_policy("CN=sd")})));
    assert_eq!(r.status, 409);
    let waited = wait_status(&c, "/deletedcertificates/sd", 200);
    assert!(waited >= Duration::from_millis(150), "{waited:?}");

    // Deleted and recoverable: create and import conflict.
    let r = c.send("POST", "/certificates/sd/create", Some(&json!({"policy": ec_policy("CN=sd")})));
    assert_eq!(r.status, 409);
    assert_eq!(r.json["error"]["code"], "Conflict");
    assert_eq!(r.json["error"]["innererror"]["code"], "ObjectIsDeletedButRecoverable");
    let list = c.get("/deletedcertificates");
    assert_eq!(list.json["value"][0]["recoveryId"], d.json["recoveryId"]);
    assert_eq!(list.json["value"][0]["id"], format!("{}/certificates/sd", c.base));

    // Recover: 200 at once, visible after the delay.
    let r = c.send("POST", "/deletedcertificates/sd/recover", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json["id"], d.json["id"]);
    assert_eq!(c.get("/certificates/sd").status, 404);
    wait_status(&c, "/certificates/sd", 200);

    // Delete again and purge.
    assert_eq!(c.send("DELETE", "/certificates/sd", None).status, 200);
    wait_status(&c, "/deletedcertificates/sd", 200);
    let p = c.send("DELETE", "/deletedcertificates/sd", None);
    assert_eq!(p.status, 204);
    assert!(p.text.is_empty());
    assert_eq!(c.get("/deletedcertificates/sd").status, 404);
    // The name is free again.
    assert_eq!(c.create_and_wait("sd", ec_policy("CN=sd"))["status"], "completed");
}

#[test]
fn hard_delete_when_soft_delete_is_off() {
    let emu = Emulator::builder().create_delay(Duration::ZERO).soft_delete(false).start().unwrap();
    let c = Client::new(&emu);
    c.create_and_wait("hd", ec_policy("CN=hd"));
    let b = c.get("/certificates/hd").json;
    assert_eq!(b["attributes"]["recoveryLevel"], "Purgeable");
    let d = c.send("DELETE", "/certificates/hd", None);
    assert_eq!(d.status, 200);
    assert!(d.json.get("recoveryId").is_none());
    assert_eq!(c.get("/deletedcertificates/hd").status, 400);
    assert_eq!(c.create_and_wait("hd", ec_policy("CN=hd"))["status"], "completed");
}

#[test]
fn backup_and_restore_every_version() {
    let emu = start();
    let c = Client::new(&emu);
    c.create_and_wait("bk", ec_policy("CN=bk"));
    c.send("POST", "/certificates/bk/create", Some(&json!({})));
    c.wait_operation("bk");
    let before = c.get("/certificates/bk").json;
    let backup = c.send("POST", "/certificates/bk/backup", None);
    assert_eq!(backup.status, 200);
    let blob = backup.json["value"].as_str().unwrap().to_string();
    assert!(!blob.contains('+') && !blob.contains('/') && !blob.contains('='));

    // Restore onto an existing name conflicts.
    let r = c.send("POST", "/certificates/restore", Some(&json!({"value": blob})));
    assert_eq!(r.status, 409);

    c.send("DELETE", "/certificates/bk", None);
    let r = c.send("POST", "/certificates/restore", Some(&json!({"value": blob})));
    assert_eq!(r.status, 409, "deleted but recoverable");
    assert_eq!(c.send("DELETE", "/deletedcertificates/bk", None).status, 204);
    let r = c.send("POST", "/certificates/restore", Some(&json!({"value": blob})));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["id"], before["id"]);
    assert_eq!(r.json["cer"], before["cer"]);
    assert_eq!(c.get("/certificates/bk/versions").json["value"].as_array().unwrap().len(), 2);
    let r = c.send("POST", "/certificates/restore", Some(&json!({"value": "bm90IGEgYmFja3Vw"})));
    assert_eq!(r.status, 400);
}
