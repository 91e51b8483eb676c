//! Import a certificate made elsewhere, with its private key: once as PEM (certificate plus
//! PKCS#8 key), once as PKCS#12 (PFX).
//!
//! `cargo run --example import` (set `KEYVAULT_URL` to use a real vault).

#[path = "common/mod.rs"]
mod common;

use common::step;
use kvcerts_core::models::KeyVaultCertificate;
use kvcerts_core::ImportCertificateOptions;
use rcgen::{CertificateParams, DnType, KeyPair};
use time::{Duration, OffsetDateTime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::Target::from_env()?;
    let client = target.blocking_client()?;

    // A certificate and key made locally with rcgen (in real life: from your CA, openssl, ...).
    let key = KeyPair::generate()?; // ECDSA P-256
    let mut params = CertificateParams::new(vec!["import.example".to_owned()])?;
    params.distinguished_name.push(DnType::CommonName, "import.example");
    params.not_before = OffsetDateTime::now_utc() - Duration::hours(1);
    params.not_after = OffsetDateTime::now_utc() + Duration::days(90);
    let certificate = params.self_signed(&key)?;
    let der = certificate.der().to_vec();

    // 1. PEM: the certificate and a PKCS#8 key ("PRIVATE KEY") in one text. kvcerts sets the
    //    policy's content type to PEM for you, and converts PKCS#1 ("RSA PRIVATE KEY") and SEC1
    //    ("EC PRIVATE KEY") keys to PKCS#8.
    let pem = format!("{}{}", certificate.pem(), key.serialize_pem());
    let pem_name = common::unique_name("import-pem");
    step(format!("import PEM as '{pem_name}'"));
    let imported = client.import_certificate(&pem_name, pem.as_bytes(), &ImportCertificateOptions::default())?;
    println!("done");
    show(&imported, &der);

    // 2. PKCS#12: the bytes of a .pfx file. This one is made with the p12-keystore crate (no
    //    password); for a password-protected file, set `ImportCertificateOptions::password`.
    let pfx = pkcs12(&der, &key.serialize_der())?;
    let pfx_name = common::unique_name("import-pfx");
    step(format!("import PKCS#12 ({} bytes) as '{pfx_name}'", pfx.len()));
    let imported = client.import_certificate(&pfx_name, &pfx, &ImportCertificateOptions::default())?;
    println!("done");
    show(&imported, &der);

    // Mistakes are caught before anything is sent: here, a PEM without its key.
    let error = client
        .import_certificate("no-key", certificate.pem().as_bytes(), &Default::default())
        .err()
        .ok_or("a PEM without a key was accepted")?;
    println!("import without a key -> {:?}: {error}", error.kind());

    step("clean up");
    common::delete_and_purge(&client, &pem_name)?;
    common::delete_and_purge(&client, &pfx_name)?;
    println!("done");
    Ok(())
}

/// A PKCS#12 file without a password holding `certificate` (DER) and its PKCS#8 `key`, with
/// the widely readable algorithms (3DES, SHA-1 MAC) that Key Vault itself uses for PFX secrets.
fn pkcs12(certificate: &[u8], key: &[u8]) -> p12_keystore::Result<Vec<u8>> {
    use p12_keystore::{
        Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey, PrivateKeyChain,
    };
    let chain = PrivateKeyChain::new("import", PrivateKey::from_der(key)?, [Certificate::from_der(certificate)?]);
    let mut store = KeyStore::new();
    store.add_entry("certificate", KeyStoreEntry::PrivateKeyChain(chain));
    store
        .writer("")
        .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
        .encryption_iterations(2048)
        .mac_algorithm(MacAlgorithm::HmacSha1)
        .mac_iterations(2048)
        .write()
}

/// What the vault made of an import.
fn show(imported: &KeyVaultCertificate, local_der: &[u8]) {
    let policy = imported.policy.as_ref();
    println!("   thumbprint    {}", imported.x509_thumbprint_hex().unwrap_or_default());
    println!("   same DER      {}", imported.cer.as_deref() == Some(local_der));
    println!("   expires       {}", common::date(imported.expires_on()));
    println!("   content type  {:?}", policy.and_then(|p| p.content_type()));
    println!("   key type      {:?}", policy.and_then(|p| p.key_properties.as_ref()).and_then(|k| k.key_type.as_ref()));
}
