//! Backup and restore: a backup is an opaque, encrypted blob of every version of a
//! certificate (with its key and policy) that only Key Vault can read; it restores into a vault
//! of the same subscription and geography.
//!
//! `cargo run --example backup_restore` (set `KEYVAULT_URL` to use a real vault).

#[path = "common/mod.rs"]
mod common;

use common::step;
use kvcerts_core::models::CertificatePolicy;
use kvcerts_core::ErrorKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::Target::from_env()?;
    let client = target.blocking_client()?;
    let name = common::unique_name("backup");

    step(format!("create '{name}'"));
    let policy = CertificatePolicy::new("Self", "CN=backup.example");
    let original = client.begin_create_certificate(&name, &policy, &Default::default())?.wait_for_certificate()?;
    println!("done (thumbprint {})", original.x509_thumbprint_hex().unwrap_or_default());

    // The backup: keep these bytes somewhere safe (a file, a blob container, ...).
    step("back it up");
    let backup = client.backup_certificate(&name)?;
    println!("done ({} bytes)", backup.len());

    // A restore needs the name to be free: delete the certificate and purge it (with soft
    // delete, a deleted certificate still holds its name).
    step("delete and purge it");
    common::delete_and_purge(&client, &name)?;
    println!("done (get now fails with {:?})", client.get_certificate(&name).err().map(|e| e.kind()));

    // Restore: the same certificate comes back, with the same versions and thumbprint. Right
    // after a purge a real vault may still hold the name for a few seconds (409 Conflict).
    step("restore the backup");
    let mut attempts = 0;
    let restored = loop {
        match client.restore_certificate_backup(&backup) {
            Err(e) if e.kind() == ErrorKind::Conflict && attempts < 15 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_secs(2));
            }
            result => break result?,
        }
    };
    println!(
        "done ('{}', thumbprint {})",
        restored.name().unwrap_or_default(),
        restored.x509_thumbprint_hex().unwrap_or_default()
    );
    if restored.x509_thumbprint != original.x509_thumbprint {
        return Err("the restored certificate differs from the original".into());
    }

    // Restoring over an existing certificate is a conflict.
    step("restore it again while it exists");
    match client.restore_certificate_backup(&backup) {
        Err(e) if e.kind() == ErrorKind::Conflict => println!("refused as expected: {:?}", e.conflict_reason()),
        Err(e) => return Err(e.into()),
        Ok(_) => println!("accepted"),
    }

    step("clean up");
    common::delete_and_purge(&client, &name)?;
    println!("done");
    Ok(())
}
