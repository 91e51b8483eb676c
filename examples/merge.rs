//! Certificates signed by a CA outside Key Vault: create with issuer `Unknown`, take the CSR
//! (the private key never leaves the vault), have the CA sign it, then merge the signed
//! certificate and its chain. Here the "CA" is a local one made with rcgen.
//!
//! `cargo run --example merge` (set `KEYVAULT_URL` to use a real vault).

#[path = "common/mod.rs"]
mod common;

use common::step;
use kvcerts_core::flows::CreateOutcome;
use kvcerts_core::models::CertificatePolicy;
use rcgen::{BasicConstraints, CertificateParams, CertificateSigningRequestParams, DnType, IsCa, Issuer, KeyPair};
use time::{Duration, OffsetDateTime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::Target::from_env()?;
    let client = target.blocking_client()?;
    let name = common::unique_name("merge");

    // 1. Create with issuer "Unknown": the vault makes the key pair and a CSR, and the
    //    operation stays in progress until a merge. `wait()` (not `wait_for_certificate()`)
    //    returns every outcome; this one is AwaitingMerge, with the CSR.
    step(format!("1. create '{name}' with issuer Unknown"));
    let policy = CertificatePolicy::new("Unknown", "CN=merge.example");
    let outcome = client.begin_create_certificate(&name, &policy, &Default::default())?.wait()?;
    let CreateOutcome::AwaitingMerge(operation) = outcome else {
        return Err(format!("expected a certificate awaiting a merge, got {outcome:?}").into());
    };
    let csr_pem = operation.csr_pem().ok_or("the operation has no CSR")?;
    println!("done (operation {:?}, CSR of {} bytes)", operation.status, operation.csr.as_ref().map_or(0, Vec::len));

    // 2. The CA: a self-signed root, made locally for the example.
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name.push(DnType::CommonName, "Example Merge CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_certificate = ca_params.self_signed(&ca_key)?;
    let ca = Issuer::new(ca_params, ca_key);

    // 3. The CA signs the CSR: subject and public key come from the CSR, validity from the CA.
    step("2. sign the CSR with the local CA");
    let mut request = CertificateSigningRequestParams::from_pem(&csr_pem)?;
    request.params.not_before = OffsetDateTime::now_utc() - Duration::hours(1);
    request.params.not_after = OffsetDateTime::now_utc() + Duration::days(365);
    let signed = request.signed_by(&ca)?;
    println!("done");

    // 4. Merge: the signed certificate first, then the chain up to the root (DER).
    step("3. merge the signed certificate and the CA");
    let chain = [signed.der().to_vec(), ca_certificate.der().to_vec()];
    let merged = client.merge_certificate(&name, &chain, &Default::default())?;
    println!("done");

    // The certificate is complete: the operation is finished, the certificate readable.
    let certificate = client.get_certificate(&name)?;
    let operation = client.get_certificate_operation(&name)?;
    println!("   id            {}", merged.id.as_deref().unwrap_or("-"));
    println!("   thumbprint    {}", certificate.x509_thumbprint_hex().unwrap_or_default());
    println!("   as signed     {}", certificate.cer.as_deref() == Some(signed.der().as_ref()));
    println!("   expires       {}", common::date(certificate.expires_on()));
    println!("   operation     {:?}", operation.status);

    step("4. clean up");
    common::delete_and_purge(&client, &name)?;
    println!("done");
    Ok(())
}
