//! Gets one certificate with a token from the environment and prints its expiry.

use std::sync::Arc;

use kvcerts_ureq::{CertificateClient, StaticTokenCredential};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (vault, name) = match (args.next(), args.next()) {
        (Some(v), Some(n)) => (v, n),
        _ => return Err("usage: minimal-blocking VAULT_URL NAME (token in KVCERTS_TOKEN)".into()),
    };
    let token = std::env::var("KVCERTS_TOKEN")?;
    let client = CertificateClient::new(&vault, Arc::new(StaticTokenCredential::new(token)))?;
    let certificate = client.get_certificate(&name)?;
    println!("{name} expires {:?}", certificate.expires_on());
    Ok(())
}
