//! The life of a certificate with the blocking client: create → get → update properties →
//! list → delete → recover → purge.
//!
//! ```text
//! cargo run --example quickstart                                           # local emulator
//! KEYVAULT_URL=https://myvault.vault.azure.net cargo run --example quickstart   # a real vault
//! ```

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use common::step;
use kvcerts_core::models::{CertificatePolicy, SubjectAlternativeNames, X509CertificateProperties};
use kvcerts_core::UpdateCertificatePropertiesOptions;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The local emulator (a child process), or the vault named by KEYVAULT_URL (see common/mod.rs).
    let target = common::Target::from_env()?;
    let client = target.blocking_client()?;
    let name = common::unique_name("quickstart");

    // 1. Create: a self-signed certificate. `begin_create_certificate` starts a long-running
    //    operation; `wait_for_certificate` polls it until the certificate exists.
    step(format!("1. create certificate '{name}'"));
    let policy = CertificatePolicy {
        x509_properties: Some(X509CertificateProperties {
            subject: Some("CN=quickstart.example".into()),
            subject_alternative_names: Some(SubjectAlternativeNames::dns(["quickstart.example"])),
            validity_in_months: Some(12),
            ..Default::default()
        }),
        ..CertificatePolicy::default() // issuer "Self"; key, content type, ... chosen by the service
    };
    let created = client.begin_create_certificate(&name, &policy, &Default::default())?.wait_for_certificate()?;
    println!("done (thumbprint {})", created.x509_thumbprint_hex().unwrap_or_default());

    // 2. Get: the latest version, with its policy.
    step("2. get the certificate");
    let fetched = client.get_certificate(&name)?;
    println!(
        "done (version {}, subject {}, expires {})",
        fetched.version().unwrap_or_default(),
        fetched.policy.as_ref().and_then(|p| p.subject()).unwrap_or("?"),
        common::date(fetched.expires_on()),
    );

    // 3. Update properties: tags (and enabled, not_before, expires_on) of a version;
    //    `None` means the latest version.
    step("3. update properties (tag owner=quickstart)");
    let update = UpdateCertificatePropertiesOptions {
        tags: Some(BTreeMap::from([("owner".to_owned(), "quickstart".to_owned())])),
        ..Default::default()
    };
    let updated = client.update_certificate_properties(&name, None, &update)?;
    println!("done (tags {:?})", updated.tags.unwrap_or_default());

    // 4. List: the pager fetches pages lazily as you iterate; each item is a Result.
    step("4. list certificates");
    let mut names = Vec::new();
    for item in client.list_properties_of_certificates(&Default::default())? {
        names.push(item?.name().unwrap_or_default());
    }
    println!("done ({} in the vault, ours among them: {})", names.len(), names.contains(&name));

    // 5. Delete: with soft delete the certificate becomes a deleted certificate, recoverable
    //    until its scheduled purge date. The poller waits until the deletion completes.
    step("5. delete");
    let deleted = client.begin_delete_certificate(&name)?.wait()?;
    println!("done (recoverable until {})", common::date(deleted.scheduled_purge_date));

    // 6. Recover: back to a normal certificate, same versions and thumbprint.
    step("6. recover");
    let recovered = client.begin_recover_deleted_certificate(&name)?.wait()?;
    println!("done (thumbprint {})", recovered.x509_thumbprint_hex().unwrap_or_default());

    // 7. Purge: delete again, then remove the deleted certificate for good.
    step("7. delete and purge");
    client.begin_delete_certificate(&name)?.wait()?;
    client.purge_deleted_certificate(&name)?;
    println!("done");
    Ok(())
}
