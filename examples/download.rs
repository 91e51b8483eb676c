//! Download a certificate with its private key (through the certificate's secret, which needs
//! the `secrets/get` permission), as PEM or PKCS#12.
//!
//! `cargo run --example download` (set `KEYVAULT_URL` to use a real vault).

#[path = "common/mod.rs"]
mod common;

use common::step;
use kvcerts_core::models::{CertificateContentType, CertificatePolicy, KeyProperties, SecretProperties};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::Target::from_env()?;
    let client = target.blocking_client()?;
    let name = common::unique_name("download");

    // Only a certificate whose policy makes the key exportable can be downloaded with its key;
    // the content type decides how the vault stores it (PEM here, PKCS#12 by default).
    step(format!("create '{name}' (exportable key, stored as PEM)"));
    let mut policy = CertificatePolicy::new("Self", "CN=download.example");
    policy.key_properties = Some(KeyProperties { exportable: Some(true), ..Default::default() });
    policy.secret_properties = Some(SecretProperties { content_type: Some(CertificateContentType::Pem) });
    client.begin_create_certificate(&name, &policy, &Default::default())?.wait_for_certificate()?;
    println!("done");

    // As stored (PEM): split into the certificate chain and the PKCS#8 key. The value is a
    // `SecretString`: `Debug` never prints the key.
    step("download as stored");
    let downloaded = client.download_certificate(&name, None, None)?;
    let pem = downloaded.pem()?;
    println!("done ({:?}, has a private key: {})", downloaded.content_type, downloaded.has_private_key());
    let leaf = pem.certificates.first().map_or("", |c| first_line(c));
    println!("   chain         {} certificate(s), leaf starts {leaf:?}", pem.certificates.len());
    println!(
        "   private key   {:?} ({} characters)",
        first_line(pem.private_key.expose_secret()),
        pem.private_key.expose_secret().len()
    );

    // Converted by the service: ask for PKCS#12 (a .pfx file's bytes, no password).
    step("download as PKCS#12");
    let downloaded = client.download_certificate(&name, None, Some(&CertificateContentType::Pkcs12))?;
    let pfx = downloaded.pkcs12()?;
    println!("done ({:?}, {} bytes)", downloaded.content_type, pfx.len());
    // e.g. std::fs::write("download.pfx", &pfx)?;

    step("clean up");
    common::delete_and_purge(&client, &name)?;
    println!("done");
    Ok(())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
