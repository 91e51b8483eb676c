//! Certificate contacts: the people Key Vault emails about certificate lifecycle events (for
//! example, a certificate about to expire). One list per vault: set replaces it.
//!
//! `cargo run --example contacts` (set `KEYVAULT_URL` to use a real vault; its contacts are
//! put back as they were at the end).

#[path = "common/mod.rs"]
mod common;

use common::step;
use kvcerts_core::models::CertificateContact;
use kvcerts_core::ErrorKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::Target::from_env()?;
    let client = target.blocking_client()?;

    // A vault without contacts answers 404: that is a typed NotFound, not a failure.
    let before = match client.get_contacts() {
        Ok(contacts) => contacts.contacts,
        Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    println!("contacts before: {}", before.len());

    // Set: replaces the whole list. An email is required; name and phone are optional.
    step("set two contacts");
    let ours = [
        CertificateContact::new("pki-team@example.com", Some("PKI team".into()), None),
        CertificateContact::new("oncall@example.com", None, Some("555-0199".into())),
    ];
    let set = client.set_contacts(&ours)?;
    println!("done ({} contacts)", set.contacts.len());

    // Get: the list as stored.
    for contact in client.get_contacts()?.contacts {
        println!(
            "  {:<24} name {:<10} phone {}",
            contact.email.as_deref().unwrap_or("-"),
            contact.name.as_deref().unwrap_or("-"),
            contact.phone.as_deref().unwrap_or("-"),
        );
    }

    // Delete: removes them all (and returns what was removed).
    step("delete the contacts");
    let removed = client.delete_contacts()?;
    println!("done ({} removed)", removed.contacts.len());

    // Put back what the vault had before.
    if !before.is_empty() {
        step("restore the previous contacts");
        client.set_contacts(&before)?;
        println!("done");
    }
    Ok(())
}
