//! Import (PEM text, base64 PEM, PKCS#12 with and without password, and their errors), the
//! Unknown-issuer flow (CSR → merge), cancellation and deleting an operation.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{ec_policy, start, Client};
use rcgen::{CertificateParams, DistinguishedName, DnType, Issuer, KeyPair, PKCS_ECDSA_P256_SHA256};
use serde_json::json;
use x509_parser::prelude::FromDer;

/// A self-signed certificate and its PKCS#8 key, made by the test.
fn make_cert(cn: &str) -> (Vec<u8>, KeyPair) {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::new(vec![format!("{cn}.example")]).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    let cert = params.self_signed(&key).unwrap();
    (cert.der().to_vec(), key)
}

fn pem(der: &[u8], key: &KeyPair) -> String {
    kvcerts_emulator::x509::secret_pem(&[der.to_vec()], Some(&key.serialize_der()))
}

#[test]
fn import_pem_text_and_base64() {
    let emu = start();
    let c = Client::new(&emu);
    let (der, key) = make_cert("imp");
    let text = pem(&der, &key);
    let r = c.send(
        "POST",
        "/certificates/imp1/import",
        Some(
            &json!({"value": text, "policy": {"secret_props": {"contentType": "application/x-pem-file"}}, "tags": {}}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["cer"], STANDARD.encode(&der));
    assert_eq!(r.json["tags"], json!({}));
    let p = &r.json["policy"];
    assert_eq!(p["x509_props"]["subject"], "CN=imp");
    assert_eq!(p["x509_props"]["sans"]["dns_names"], json!(["imp.example"]));
    assert_eq!(p["key_props"]["kty"], "EC");
    assert_eq!(p["issuer"]["name"], "Unknown");
    assert_eq!(p["lifetime_actions"], json!([]));
    assert!(r.json.get("pending").is_none());
    let s = c.get("/secrets/imp1");
    assert_eq!(s.json["contentType"], "application/x-pem-file");
    assert!(s.json["value"].as_str().unwrap().contains("BEGIN PRIVATE KEY"));

    let r = c.send("POST", "/certificates/imp2/import", Some(&json!({"value": STANDARD.encode(text.as_bytes())})));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["policy"]["secret_props"]["contentType"], "application/x-pem-file");
    // A second import adds a version.
    let r = c.send("POST", "/certificates/imp2/import", Some(&json!({"value": text})));
    assert_eq!(r.status, 200);
    assert_eq!(c.get("/certificates/imp2/versions").json["value"].as_array().unwrap().len(), 2);
}

#[test]
fn import_pkcs12_with_and_without_password() {
    let emu = start();
    let c = Client::new(&emu);
    let (der, key) = make_cert("p12");
    let p12 = kvcerts_emulator::x509::secret_pkcs12(std::slice::from_ref(&der), Some(&key.serialize_der())).unwrap();
    let r = c.send("POST", "/certificates/p12a/import", Some(&json!({"value": STANDARD.encode(&p12)})));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["policy"]["secret_props"]["contentType"], "application/x-pkcs12");
    assert_eq!(r.json["cer"], STANDARD.encode(&der));

    // With a password (written by p12-keystore with AES, as current tools do).
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        "k",
        p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(
            b"id".to_vec(),
            p12_keystore::PrivateKey::from_der(&key.serialize_der()).unwrap(),
            [p12_keystore::Certificate::from_der(&der).unwrap()],
        )),
    );
    let p12 = store.writer("s3cret").write().unwrap();
    let r =
        c.send("POST", "/certificates/p12b/import", Some(&json!({"value": STANDARD.encode(&p12), "pwd": "s3cret"})));
    assert_eq!(r.status, 200, "{}", r.text);
    let r = c.send("POST", "/certificates/p12c/import", Some(&json!({"value": STANDARD.encode(&p12), "pwd": "wrong"})));
    assert_eq!(r.status, 400);
    assert_eq!(r.json["error"]["code"], "BadParameter");
}

#[test]
fn import_errors_are_bad_parameter() {
    let emu = start();
    let c = Client::new(&emu);
    let (der, key) = make_cert("bad");
    let cert_only = kvcerts_emulator::x509::secret_pem(std::slice::from_ref(&der), None);
    let r = c.send("POST", "/certificates/bad1/import", Some(&json!({"value": cert_only})));
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json["error"]["message"],
        "Private key is not specified in the specified X.509 PEM certificate content. Please specify private key in the X.509 PEM certificate content."
    );
    let pkcs1ish = format!("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n{cert_only}");
    let r = c.send("POST", "/certificates/bad2/import", Some(&json!({"value": pkcs1ish})));
    assert_eq!(r.status, 400);
    let (_, other_key) = make_cert("other");
    let mismatched = pem(&der, &other_key);
    let r = c.send("POST", "/certificates/bad3/import", Some(&json!({"value": mismatched})));
    assert_eq!(r.status, 400);
    let r = c.send("POST", "/certificates/bad4/import", Some(&json!({"value": "!!!not base64!!!"})));
    assert_eq!(r.status, 400);
    let r = c.send("POST", "/certificates/bad5/import", Some(&json!({})));
    assert_eq!(r.status, 400);
    let _ = key;
}

#[test]
fn unknown_issuer_waits_for_merge() {
    let emu = start();
    let c = Client::new(&emu);
    let r = c.send(
        "POST",
        "/certificates/mrg/create",
        Some(&json!({"policy": {"key_props": {"kty": "EC"}, "secret_props": {"contentType": "application/x-pkcs12"}, "x509_props": {"subject": "CN=Azure SDK"}, "issuer": {"name": "Unknown", "cert_transparency": false}}})),
    );
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.json["status_details"], "Pending certificate created. Please Perform Merge to complete the request.");
    std::thread::sleep(std::time::Duration::from_millis(50));
    let op = c.get("/certificates/mrg/pending");
    assert_eq!(op.json["status"], "inProgress");
    let csr_der = STANDARD.decode(op.json["csr"].as_str().unwrap()).unwrap();
    let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(&csr_der).unwrap();
    assert_eq!(csr.certification_request_info.subject.to_string(), "CN=Azure SDK");
    let spki = rcgen::SubjectPublicKeyInfo::from_der(csr.certification_request_info.subject_pki.raw).unwrap();

    // A CA signs the CSR's key.
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut leaf = CertificateParams::new(vec!["merged.example".to_string()]).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Azure SDK");
    leaf.distinguished_name = dn;
    let leaf_cert = leaf.signed_by(&spki, &issuer).unwrap();

    // The wrong key is refused.
    let (wrong, _) = make_cert("wrong");
    let r = c.send("POST", "/certificates/mrg/pending/merge", Some(&json!({"x5c": [STANDARD.encode(&wrong)]})));
    assert_eq!(r.status, 400);
    assert_eq!(r.json["error"]["message"], "Public key from x509 certificate and key of this instance doesn't match");

    let r = c.send(
        "POST",
        "/certificates/mrg/pending/merge",
        Some(&json!({"x5c": [STANDARD.encode(leaf_cert.der()), STANDARD.encode(ca_cert.der())]})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("location"), Some(format!("{}/certificates/mrg?api-version={}", c.base, common::API).as_str()));
    assert_eq!(r.json["cer"], STANDARD.encode(leaf_cert.der()));
    assert_eq!(r.json["policy"]["lifetime_actions"][0]["action"]["action_type"], "EmailContacts");
    let op = c.get("/certificates/mrg/pending");
    assert_eq!(op.json["status"], "completed");
    assert_eq!(op.json["target"], format!("{}/certificates/mrg", c.base));
    // The PKCS#12 secret carries the whole chain and the key.
    let s = c.get("/secrets/mrg");
    let p12 = STANDARD.decode(s.json["value"].as_str().unwrap()).unwrap();
    let b = kvcerts_emulator::x509::parse_pkcs12(&p12, "").unwrap();
    assert_eq!(b.certs.len(), 2);
    assert!(b.key.is_some());
}

#[test]
fn cancel_then_delete_operation() {
    let emu = kvcerts_emulator::Emulator::builder().create_delay(std::time::Duration::from_secs(30)).start().unwrap();
    let c = Client::new(&emu);
    let r = c.send("POST", "/certificates/cx/create", Some(&json!({"policy": ec_policy("CN=default")})));
    assert_eq!(r.status, 202);
    let r = c.send("PATCH", "/certificates/cx/pending", Some(&json!({"cancellation_requested": true})));
    assert_eq!(r.status, 200);
    assert_eq!(r.json["cancellation_requested"], true);
    assert_eq!(r.json["status"], "inProgress");
    assert!(r.header("retry-after").is_none(), "the service sends no Retry-After on a cancel");
    let r = c.get("/certificates/cx/pending");
    assert_eq!(r.json["status"], "cancelled");
    assert!(r.json.get("status_details").is_none());
    let r = c.send("DELETE", "/certificates/cx/pending", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "cancelled");
    let r = c.get("/certificates/cx/pending");
    assert_eq!(r.status, 404);
    assert_eq!(r.json["error"]["code"], "PendingCertificateNotFound");
    assert_eq!(c.get("/certificates/cx").status, 404);
}

#[test]
fn named_issuer_operation_fails_and_conflicting_create() {
    let emu = start();
    let c = Client::new(&emu);
    let r = c.send(
        "PUT",
        "/certificates/issuers/digi",
        Some(&json!({"provider": "DigiCert", "credentials": {"account_id": "test", "pwd": "test"}, "org_details": {"id": "test"}})),
    );
    assert_eq!(r.status, 200);
    let r = c.send(
        "POST",
        "/certificates/viaissuer/create",
        Some(&json!({"policy": {"key_props": {"kty": "EC"}, "x509_props": {"subject": "CN=default"}, "issuer": {"name": "digi"}}})),
    );
    assert_eq!(r.status, 202);
    let op = c.wait_operation("viaissuer");
    assert_eq!(op["status"], "failed");
    assert_eq!(op["error"]["code"], "Request rejected");

    // A create while another is in progress conflicts.
    let r = c.send(
        "POST",
        "/certificates/unk/create",
        Some(&json!({"policy": {"key_props": {"kty": "EC"}, "x509_props": {"subject": "CN=u"}}})),
    );
    assert_eq!(r.status, 202);
    assert_eq!(r.json["issuer"]["name"], "Unknown");
    let r = c.send(
        "POST",
        "/certificates/unk/create",
        Some(&json!({"policy": {"key_props": {"kty": "EC"}, "x509_props": {"subject": "CN=u"}}})),
    );
    assert_eq!(r.status, 409);
}
