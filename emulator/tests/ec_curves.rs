//! The curves ring cannot sign with — P-521 and secp256k1 (`P-256K`) — signed with RustCrypto:
//! self-signed creation, `EC-HSM`, the Unknown issuer's CSR and merge, import, and the secret
//! downloads (PEM with the PKCS#8 key, PKCS#12).

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{start, Client};
use kvcerts_emulator::x509::{self, KeySpec};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, Issuer, KeyPair, PublicKeyData, SignatureAlgorithm, SigningKey,
    PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384,
};
use serde_json::{json, Value};
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const SECP521R1: &str = "1.3.132.0.35";
const SECP256K1: &str = "1.3.132.0.10";
const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
const ECDSA_WITH_SHA512: &str = "1.2.840.10045.4.3.4";

/// The curve OID and signature algorithm OID of a curve name.
fn oids(crv: &str) -> (&'static str, &'static str) {
    match crv {
        "P-521" => (SECP521R1, ECDSA_WITH_SHA512),
        "P-256K" => (SECP256K1, ECDSA_WITH_SHA256),
        _ => unreachable!(),
    }
}

/// Whether `sig` (DER ECDSA-Sig-Value) over `msg` verifies with the SEC1 `point` on `crv`
/// (x509-parser's `verify_signature` knows neither curve).
fn verifies(crv: &str, point: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    use p521::ecdsa::signature::Verifier;
    match crv {
        "P-521" => {
            let vk = p521::ecdsa::VerifyingKey::from_sec1_bytes(point).unwrap();
            vk.verify(msg, &p521::ecdsa::DerSignature::from_bytes(sig).unwrap()).is_ok()
        }
        "P-256K" => {
            let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(point).unwrap();
            vk.verify(msg, &k256::ecdsa::DerSignature::from_bytes(sig).unwrap()).is_ok()
        }
        _ => unreachable!(),
    }
}

/// Checks a self-signed certificate's key is on `crv` and that its signature, with the curve's
/// algorithm, verifies. Returns the certificate's public key point.
fn check_cert(der: &[u8], crv: &str) -> Vec<u8> {
    let (curve, sig_alg) = oids(crv);
    let (rest, cert) = X509Certificate::from_der(der).unwrap();
    assert!(rest.is_empty());
    let spki = cert.public_key();
    assert_eq!(spki.algorithm.algorithm.to_id_string(), EC_PUBLIC_KEY);
    assert_eq!(spki.algorithm.parameters.as_ref().unwrap().as_oid().unwrap().to_id_string(), curve);
    assert_eq!(cert.signature_algorithm.algorithm.to_id_string(), sig_alg);
    assert_eq!(cert.tbs_certificate.signature.algorithm.to_id_string(), sig_alg);
    let point = spki.subject_public_key.data.to_vec();
    assert!(verifies(crv, &point, cert.tbs_certificate.as_ref(), &cert.signature_value.data), "signature of {crv}");
    point
}

/// Checks a PKCS#8 key is on `crv` and returns its public point (uncompressed SEC1).
fn pkcs8_point(pkcs8: &[u8], crv: &str) -> Vec<u8> {
    use p521::pkcs8::der::Decode;
    use p521::pkcs8::DecodePrivateKey;
    let info = p521::pkcs8::PrivateKeyInfoRef::from_der(pkcs8).expect("PKCS#8");
    assert_eq!(info.algorithm.oid.to_string(), EC_PUBLIC_KEY);
    assert_eq!(info.algorithm.parameters_oid().unwrap().to_string(), oids(crv).0);
    match crv {
        "P-521" => p521::ecdsa::SigningKey::from_pkcs8_der(pkcs8)
            .expect("a PKCS#8 P-521 key")
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec(),
        "P-256K" => k256::ecdsa::SigningKey::from_pkcs8_der(pkcs8)
            .expect("a PKCS#8 secp256k1 key")
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec(),
        _ => unreachable!(),
    }
}

fn policy(kty: &str, crv: &str, issuer: &str, content_type: &str) -> Value {
    json!({
        "key_props": { "kty": kty, "crv": crv, "exportable": !kty.ends_with("-HSM") },
        "secret_props": { "contentType": content_type },
        "x509_props": { "subject": "CN=curve, O=kvcerts", "sans": { "dns_names": ["curve.example"] } },
        "issuer": { "name": issuer }
    })
}

#[test]
fn p521_and_p256k_self_signed_with_pem_and_pkcs12_secrets() {
    let emu = start();
    let c = Client::new(&emu);
    for (name, crv, size) in [("ec521", "P-521", 521), ("ec256k", "P-256K", 256)] {
        let op = c.create_and_wait(name, policy("EC", crv, "Self", "application/x-pem-file"));
        assert_eq!(op["status"], "completed", "{op}");
        let b = c.get(&format!("/certificates/{name}")).json;
        assert_eq!(
            b["policy"]["key_props"],
            json!({"kty": "EC", "crv": crv, "key_size": size, "exportable": true, "reuse_key": false})
        );
        let der = STANDARD.decode(b["cer"].as_str().unwrap()).unwrap();
        let point = check_cert(&der, crv);
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        assert_eq!(cert.subject().to_string(), "CN=curve, O=kvcerts");
        assert_eq!(cert.issuer().to_string(), "CN=curve, O=kvcerts");

        // The PEM secret: the PKCS#8 key on the curve, then the certificate.
        let s = c.get(&format!("/secrets/{name}"));
        assert_eq!(s.status, 200, "{}", s.text);
        let blocks = pem::parse_many(s.json["value"].as_str().unwrap()).unwrap();
        assert_eq!(blocks.iter().map(|b| b.tag()).collect::<Vec<_>>(), ["PRIVATE KEY", "CERTIFICATE"]);
        assert_eq!(pkcs8_point(blocks[0].contents(), crv), point);
        assert_eq!(blocks[1].contents(), der.as_slice());

        // And as PKCS#12 on request.
        let s = c.get(&format!("/secrets/{name}?outContentType=application/x-pkcs12"));
        assert_eq!(s.json["contentType"], "application/x-pkcs12");
        let p12 = STANDARD.decode(s.json["value"].as_str().unwrap()).unwrap();
        let bundle = x509::parse_pkcs12(&p12, "").unwrap();
        assert_eq!(bundle.certs, vec![der.clone()]);
        assert_eq!(pkcs8_point(bundle.key.as_deref().unwrap(), crv), point);
    }
    // Still refused: a curve Key Vault does not have.
    let r = c.send(
        "POST",
        "/certificates/ec192/create",
        Some(&json!({"policy": policy("EC", "P-192", "Self", "application/x-pem-file")})),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn ec_hsm_behaves_as_ec() {
    let emu = start();
    let c = Client::new(&emu);
    let op = c.create_and_wait("hsm521", policy("EC-HSM", "P-521", "Self", "application/x-pkcs12"));
    assert_eq!(op["status"], "completed", "{op}");
    let b = c.get("/certificates/hsm521").json;
    let kp = &b["policy"]["key_props"];
    assert_eq!(
        (&kp["kty"], &kp["crv"], &kp["key_size"], &kp["exportable"]),
        (&json!("EC-HSM"), &json!("P-521"), &json!(521), &json!(false))
    );
    check_cert(&STANDARD.decode(b["cer"].as_str().unwrap()).unwrap(), "P-521");
    // Exportable HSM keys are refused as for the other curves.
    let mut p = policy("EC-HSM", "P-256K", "Self", "application/x-pkcs12");
    p["key_props"]["exportable"] = json!(true);
    assert_eq!(c.send("POST", "/certificates/hsm256k/create", Some(&json!({ "policy": p }))).status, 400);
}

/// The CSR's public key, as rcgen sees a key: a P-521 point under a placeholder algorithm
/// (rcgen has no P-521 without aws-lc). [`sign_for_csr`] puts the CSR's real SPKI back.
struct Placeholder {
    point: Vec<u8>,
    spki: Vec<u8>,
}

impl PublicKeyData for Placeholder {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P384_SHA384
    }

    fn subject_public_key_info(&self) -> Vec<u8> {
        self.spki.clone()
    }
}

/// Splits DER contents into whole TLVs.
fn tlvs(mut der: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !der.is_empty() {
        let (header, len) = match der[1] {
            l if l < 0x80 => (2, l as usize),
            l => {
                let n = (l & 0x7f) as usize;
                (2 + n, der[2..2 + n].iter().fold(0usize, |a, b| (a << 8) | *b as usize))
            }
        };
        out.push(&der[..header + len]);
        der = &der[header + len..];
    }
    out
}

fn contents(tlv: &[u8]) -> &[u8] {
    let only = tlvs(tlv);
    assert_eq!(only.len(), 1);
    let header = if tlv[1] < 0x80 { 2 } else { 2 + (tlv[1] & 0x7f) as usize };
    &tlv[header..]
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if body.len() < 0x80 {
        out.push(body.len() as u8);
    } else {
        let len: Vec<u8> = body.len().to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | len.len() as u8);
        out.extend(len);
    }
    out.extend_from_slice(body);
    out
}

/// A P-256 CA issues a certificate for the CSR's P-521 key.
fn sign_for_csr(csr: &X509CertificationRequest, issuer: &Issuer<'_, KeyPair>) -> Vec<u8> {
    let spki = csr.certification_request_info.subject_pki.raw;
    let point = Placeholder {
        point: csr.certification_request_info.subject_pki.subject_public_key.data.to_vec(),
        spki: spki.to_vec(),
    };
    let mut leaf = CertificateParams::new(vec!["merged.example".to_string()]).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "curve");
    leaf.distinguished_name = dn;
    let laid_out = leaf.signed_by(&point, issuer).unwrap();
    let outer = tlvs(contents(laid_out.der()));
    let mut fields: Vec<Vec<u8>> = tlvs(contents(outer[0])).into_iter().map(<[u8]>::to_vec).collect();
    assert_eq!(fields[0][0], 0xa0, "v3");
    fields[6] = spki.to_vec();
    let tbs = tlv(0x30, &fields.concat());
    let mut bits = vec![0];
    bits.extend(issuer.key().sign(&tbs).unwrap());
    tlv(0x30, &[tbs, outer[1].to_vec(), tlv(0x03, &bits)].concat())
}

#[test]
fn unknown_issuer_p521_csr_then_merge() {
    let emu = start();
    let c = Client::new(&emu);
    let r = c.send(
        "POST",
        "/certificates/mrg521/create",
        Some(&json!({ "policy": policy("EC", "P-521", "Unknown", "application/x-pkcs12") })),
    );
    assert_eq!(r.status, 202, "{}", r.text);
    let csr_der = STANDARD.decode(r.json["csr"].as_str().unwrap()).unwrap();
    let (rest, csr) = X509CertificationRequest::from_der(&csr_der).unwrap();
    assert!(rest.is_empty());
    let info = &csr.certification_request_info;
    assert_eq!(info.subject.to_string(), "CN=curve, O=kvcerts");
    assert_eq!(info.subject_pki.algorithm.algorithm.to_id_string(), EC_PUBLIC_KEY);
    assert_eq!(info.subject_pki.algorithm.parameters.as_ref().unwrap().as_oid().unwrap().to_id_string(), SECP521R1);
    assert_eq!(csr.signature_algorithm.algorithm.to_id_string(), ECDSA_WITH_SHA512);
    let point = info.subject_pki.subject_public_key.data.to_vec();
    assert!(verifies("P-521", &point, info.raw, &csr.signature_value.data));
    assert_eq!(c.get("/certificates/mrg521/pending").json["status"], "inProgress");

    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap().der().to_vec();
    let leaf = sign_for_csr(&csr, &Issuer::new(ca_params, ca_key));
    let (_, parsed) = X509Certificate::from_der(&leaf).unwrap();
    assert_eq!(parsed.public_key().subject_public_key.data.as_ref(), point.as_slice());

    let r = c.send(
        "POST",
        "/certificates/mrg521/pending/merge",
        Some(&json!({"x5c": [STANDARD.encode(&leaf), STANDARD.encode(&ca_cert)]})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["policy"]["key_props"]["crv"], "P-521");
    assert_eq!(c.get("/certificates/mrg521/pending").json["status"], "completed");
    let s = c.get("/secrets/mrg521");
    let p12 = STANDARD.decode(s.json["value"].as_str().unwrap()).unwrap();
    let bundle = x509::parse_pkcs12(&p12, "").unwrap();
    assert_eq!(bundle.certs.len(), 2);
    assert_eq!(pkcs8_point(bundle.key.as_deref().unwrap(), "P-521"), point);
}

#[test]
fn import_p256k_pem_and_p521_pkcs12() {
    let emu = start();
    let c = Client::new(&emu);
    let x509_props = kvcerts_emulator::model::X509Props { subject: Some("CN=imported".into()), ..Default::default() };
    for (name, spec, crv, as_pem) in
        [("imp256k", KeySpec::P256K, "P-256K", true), ("imp521", KeySpec::P521, "P-521", false)]
    {
        let key = x509::generate_key(spec).unwrap();
        let der = x509::self_signed(&x509_props, &key, spec, time::OffsetDateTime::now_utc()).unwrap().der;
        let value = if as_pem {
            x509::secret_pem(std::slice::from_ref(&der), Some(&key))
        } else {
            STANDARD.encode(x509::secret_pkcs12(std::slice::from_ref(&der), Some(&key)).unwrap())
        };
        let r = c.send("POST", &format!("/certificates/{name}/import"), Some(&json!({ "value": value })));
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["cer"], STANDARD.encode(&der));
        let kp = &r.json["policy"]["key_props"];
        assert_eq!((&kp["kty"], &kp["crv"]), (&json!("EC"), &json!(crv)));
        let s = c.get(&format!("/secrets/{name}?outContentType=application/x-pem-file"));
        let blocks = pem::parse_many(s.json["value"].as_str().unwrap()).unwrap();
        assert_eq!(blocks[0].tag(), "PRIVATE KEY");
        assert_eq!(blocks[0].contents(), key.as_slice());
        assert_eq!(pkcs8_point(&key, crv), check_cert(&der, crv));
    }
}
